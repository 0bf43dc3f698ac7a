"""The library as a 2-D map: one point per analysed track, placed by its stored embedding.

UMAP when the `umap` package is installed, else PCA (two leading components of the embeddings,
computed from their 256 x 256 covariance: 100,000 tracks in well under a second). The layout is
cached beside the database and recomputed when the analysed tracks or their model change.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desktop.core.analysis import DEFAULT_THRESHOLD
from desktop.core.genre_names import display_names, first_named, genre_key
from desktop.core.safe_write import atomic_write, remove_old_leftover
from desktop.store import queries
from desktop.store.lock import database_path
from desktop.store.schema import Analysis, Track

log = logging.getLogger(__name__)
UNCERTAIN = "Uncertain"
NO_TAG = "No genre tag"
NO_GENRE = "No genre"  # none predicted, set or tagged: unlike every genre learned from the library, no music…
GREY = frozenset({UNCERTAIN, NO_TAG, NO_GENRE})  # the keys that are not a genre: drawn grey, listed last


@dataclass
class LibraryMap:
    """Points of the map: parallel arrays, one entry per track."""

    track_ids: np.ndarray  # [n] int
    xy: np.ndarray  # [n, 2] float32 in [0, 1]
    genre: list[str]  # confident genre, or UNCERTAIN, or NO_GENRE
    file_genre: list[str]  # the file's own tag ('' when none)
    title: list[str]
    artist: list[str]
    source: list[str]  # "correction", "prediction", "uncertain" or "its tag"; with no genre, why (the track's error)
    review: np.ndarray  # [n] bool: needs review (uncertain, tag disagrees, album check)
    method: str = "pca"

    def __len__(self) -> int:
        return len(self.track_ids)

    def genres(self) -> list[str]:
        """Genres on the map, most tracks first."""
        counts: dict[str, int] = {}
        for g in self.genre:
            counts[g] = counts.get(g, 0) + 1
        return sorted(counts, key=lambda g: (-counts[g], g))

    def colour_keys(self, by_file_tag: bool = False) -> list[str]:
        """One colour name per point: its genre, or the genre its file's tag names.

        File tags are read as a listener means them: the first genre named ("Unknown; Rock" is Rock),
        spelling variants as one (the library's most used spelling), a placeholder like no tag.
        """
        if not by_file_tag:
            return list(self.genre)
        named = [first_named(f) for f in self.file_genre]
        shown = display_names(n for n in named if n)
        return [shown[genre_key(n)] if n else NO_TAG for n in named]


# Changed with layout_2d, so a layout cached by an earlier version is drawn again (2: copies at the middle)
LAYOUT_VERSION = b"layout 2"


def layout_2d(x: np.ndarray) -> tuple[np.ndarray, str]:
    """Positions [n, 2] in [0, 1] for embeddings x [n, dim], and the method used."""
    if len(x) == 0:
        return np.zeros((0, 2), np.float32), "none"
    try:
        import umap  # optional: not a dependency of the app

        xy, method = umap.UMAP(n_components=2, random_state=0).fit_transform(x), "umap"
    except ImportError:
        z = x - x.mean(0)  # [n, dim]
        eigval, eigvec = np.linalg.eigh(z.T @ z)  # ascending
        xy, method = z @ eigvec[:, ::-1][:, :2], "pca"  # [n, 2]
    xy = np.asarray(xy, np.float64)  # [n, 2]
    span = np.ptp(xy, axis=0)  # [2]
    # Copies of one recording differ only by rounding, which scaled to the canvas flung them to two corners: a way
    # they do not spread (or one track alone) is drawn at the middle.
    flat = span <= 1e-4 * (float(np.abs(x).max()) + 1e-12)  # [2]
    out = (xy - xy.min(0)) / np.where(flat, 1.0, span)  # [n, 2]
    out[:, flat] = 0.5
    return out.astype(np.float32), method


def _cache_file(sessions: sessionmaker[Session]) -> Path | None:
    db = database_path(sessions)
    return None if db is None else db.with_name(db.name + ".map.npz")


def compute_map(sessions: sessionmaker[Session], threshold: float = DEFAULT_THRESHOLD) -> LibraryMap:
    """The map of every present, analysed track (layout from the cache when nothing changed)."""
    with sessions() as s:
        # Without the embeddings: they are read only when the cached layout is out of date.
        rows = s.execute(select(Track.id, Track.title, Track.artist, Track.file_genre, Track.genre, Track.confidence,
                                Track.corrected_genre, Track.predicted_genre, Track.error, Analysis.id.label("analysis_id"))
                         .join(Analysis, Analysis.track_id == Track.id)
                         .where(Track.missing.is_(False), Analysis.embedding.is_not(None),
                                Analysis.audio_hash == Track.audio_hash)
                         .order_by(Track.id, Analysis.created_at.desc(), Analysis.id.desc())).all()
        flagged = queries.album_disagreements(s, threshold)
        latest, seen = [], set()
        for row in rows:  # the newest analysis of each track
            if row.id not in seen:
                seen.add(row.id)
                latest.append(row)
        ids = np.array([r.id for r in latest], int)
        signature = hashlib.sha1(LAYOUT_VERSION + np.array([[r.id, r.analysis_id] for r in latest], np.int64).tobytes()
                                 ).hexdigest()
        xy, method = _cached_layout(sessions, signature)
        if xy is None:
            blobs = dict(s.execute(select(Analysis.id, Analysis.embedding).where(Analysis.embedding.is_not(None))).all())
            x = (np.stack([np.frombuffer(blobs[r.analysis_id], "<f4") for r in latest]) if latest
                 else np.zeros((0, 1), np.float32))
            xy, method = layout_2d(x)
            _store_layout(sessions, signature, xy, method)
    genre, source, review = [], [], np.zeros(len(latest), bool)
    for n, r in enumerate(latest):
        uncertain = not r.corrected_genre and queries.is_uncertain(r.confidence, threshold)
        # Apart from the uncertain, as the sidebar and list --counts count them (they were "Uncertain" here).
        genre.append(UNCERTAIN if uncertain else r.genre or NO_GENRE)
        source.append("correction" if r.corrected_genre else "uncertain" if uncertain else "prediction" if r.predicted_genre
                      else "its tag" if r.genre else r.error or "not predicted")  # its tag: nothing predicted (unlike…)
        review[n] = r.id in flagged or queries.row_needs_review(r.file_genre or "", r.predicted_genre, r.confidence,
                                                                 bool(r.corrected_genre), threshold)
    return LibraryMap(ids, xy, genre, [r.file_genre or "" for r in latest], [r.title or "" for r in latest],
                      [r.artist or "" for r in latest], source, review, method)


def _cached_layout(sessions, signature: str) -> tuple[np.ndarray | None, str]:
    path = _cache_file(sessions)
    if path is None or not path.is_file():
        return None, ""
    try:
        with np.load(path) as data:
            if str(data["signature"]) == signature:
                return data["xy"], str(data["method"])
    except (OSError, ValueError, KeyError) as exc:  # a damaged cache is only recomputed
        log.warning("map cache %s unreadable (%s); recomputing", path, exc)
    return None, ""


def _store_layout(sessions, signature: str, xy: np.ndarray, method: str) -> None:
    path = _cache_file(sessions)
    if path is None:
        return
    remove_old_leftover(path.with_name(path.name + ".partial.npz"))  # what an earlier build's killed save left
    try:  # a copy swapped in whole (the next save sweeps one a killed save left)
        atomic_write(path, lambda tmp: np.savez(tmp, signature=signature, xy=xy, method=method))
    except OSError as exc:  # a read-only folder: the map still works, uncached
        log.warning("cannot cache the map at %s: %s", path, exc)
