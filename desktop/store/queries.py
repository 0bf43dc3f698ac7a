"""Queries the CLI and the GUI share; all single-table and indexed for large libraries."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from desktop.store.schema import Track

REVIEW_STATUSES = ("uncertain",)


def genre_counts(session: Session) -> list[tuple[str, int]]:
    """(genre, number of tracks) for every genre, largest first."""
    rows = session.execute(
        select(Track.genre, func.count()).where(Track.genre.is_not(None), Track.missing.is_(False))
        .group_by(Track.genre).order_by(func.count().desc(), Track.genre)
    )
    return [(g, n) for g, n in rows]


def tracks_by_genre(session: Session, genre: str | None = None, limit: int | None = None) -> list[Track]:
    """Present tracks, of one genre when given, ordered by artist, album, title."""
    q = select(Track).where(Track.missing.is_(False))
    if genre is not None:
        q = q.where(Track.genre == genre)
    q = q.order_by(Track.artist, Track.album, Track.title, Track.path)
    return list(session.scalars(q.limit(limit) if limit else q))


def search_tracks(session: Session, text: str, limit: int = 1000) -> list[Track]:
    """Tracks whose title, artist, album, path or genre contains `text` (case-insensitive)."""
    like = f"%{text}%"
    cols = (Track.title, Track.artist, Track.album, Track.path, Track.genre)
    q = select(Track).where(Track.missing.is_(False), or_(*(c.ilike(like) for c in cols))).order_by(Track.path).limit(limit)
    return list(session.scalars(q))


def needs_review(session: Session, limit: int | None = None) -> list[Track]:
    """Uncertain tracks, and tracks whose file tag disagrees with the prediction."""
    disagree = (Track.file_genre != "") & (Track.predicted_genre.is_not(None)) & (Track.file_genre != Track.predicted_genre)
    q = (select(Track).where(Track.missing.is_(False), Track.corrected_genre.is_(None),
                             or_(Track.status.in_(REVIEW_STATUSES), disagree)).order_by(Track.path))
    return list(session.scalars(q.limit(limit) if limit else q))


def track_by_path(session: Session, path: str) -> Track | None:
    """The track stored under an absolute path."""
    return session.scalar(select(Track).where(Track.path == path))
