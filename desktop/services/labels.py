"""The listener's own words for genres: corrections, and genre tags Genre Tagger did not write itself.

What `learn` learns from and what an album's tags say (one genre per album); never our own predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from desktop.core.genre_names import clean_name, display_names, genre_key
from desktop.core.genres import same_genres, split_genres
from desktop.store.schema import GenreMerge, JournalEntry, Track


@dataclass(frozen=True)
class Label:
    """One trusted example: a track and the genre the listener gave it."""

    track_id: int
    key: str
    source: str  # "correction" or "tag"
    group: str  # artist, else album, else folder: kept on one side of every cross-validation split


def merges(s: Session) -> dict[str, str]:
    """The listener's remembered merges: genre key -> the name it is shown and learned as."""
    return {m.from_key: m.to_name for m in s.scalars(select(GenreMerge))}


def our_writes(s: Session, tracks: ColumnElement[bool] | None = None) -> dict[int, list]:
    """track id -> genres the newest standing write of ours put in its file (never learned from); with
    `tracks` (a condition on Track), only for those tracks."""
    q = (select(JournalEntry.track_id, JournalEntry.new_genres)
         .where(JournalEntry.state == "written", JournalEntry.track_id.is_not(None)).order_by(JournalEntry.id))
    if tracks is not None:
        q = q.join(Track, Track.id == JournalEntry.track_id).where(tracks)
    return {track_id: genres for track_id, genres in s.execute(q)}


def gather_labels(s: Session, tracks: ColumnElement[bool] | None = None) -> tuple[list[Label], dict[str, str]]:
    """Trusted labels (corrections, and tags not written by us) and key -> display name; with `tracks` (a
    condition on Track), only of those tracks (some albums' look, not the whole library's)."""
    ours = our_writes(s, tracks)
    merged = merges(s)
    q = select(Track.id, Track.file_genre, Track.corrected_genre, Track.artist, Track.album, Track.folder).where(Track.missing.is_(False))
    rows = s.execute(q if tracks is None else q.where(tracks))
    labels, names = [], []
    for track_id, file_genre, corrected, artist, album, folder in rows:
        if corrected:
            text, source = corrected, "correction"
        elif file_genre and not (track_id in ours and same_genres(ours[track_id], file_genre)):
            text, source = file_genre, "tag"
        else:
            continue
        first = next((c for c in map(clean_name, split_genres(text)) if c), None)
        if first is None:
            continue  # junk ("Unknown", "Other", numbers): no label
        key = genre_key(first)
        if key in merged:
            first, key = merged[key], genre_key(merged[key])
        names.append(first)
        group = f"artist:{artist.casefold()}" if artist else f"album:{album.casefold()}" if album else f"folder:{folder}"
        labels.append(Label(track_id, key, source, group))
    display = display_names(names)
    display.update({genre_key(v): v for v in merged.values()})
    return labels, display
