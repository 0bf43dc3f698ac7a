"""The one place tags are written: plan, journal the old value, write safely, undo."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desktop.core.analysis import top_genres
from desktop.core.errors import GenreTaggerError, TagWriteError
from desktop.core.tags import read_tags, write_genres
from desktop.services.settings import TaggingSettings
from desktop.store.schema import Analysis, Correction, JournalEntry, Track, WriteBatch, utcnow


@dataclass(frozen=True)
class PlannedChange:
    """A tag change to show before writing: old -> new for one file."""

    track_id: int
    path: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    provenance: str = ""


@dataclass
class WriteResult:
    """What a batch of writes did."""

    batch_id: int | None
    written: list[PlannedChange] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


@dataclass
class UndoResult:
    """What an undo restored and where it refused."""

    batch_id: int | None
    restored: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


class NothingToUndo(GenreTaggerError):
    """No batch of writes is left to undo."""


class TrackNotInLibrary(GenreTaggerError):
    """A file the library does not know."""


def split_genres(text: str) -> tuple[str, ...]:
    """The database keeps a file's genres '; '-joined."""
    return tuple(g for g in (p.strip() for p in text.split(";")) if g)


class TagService:
    """Plans and applies genre writes; every write is journalled before it happens."""

    def __init__(self, sessions: sessionmaker[Session], settings: TaggingSettings = TaggingSettings()):
        self.sessions, self.settings = sessions, settings
        self.options = settings.tag_options()

    # ---- planning ---------------------------------------------------------------------------
    def desired_genres(self, s: Session, track: Track) -> tuple[str, ...] | None:
        """What the file should say: the correction, else the confident prediction, else nothing."""
        if track.corrected_genre:
            return (track.corrected_genre,)
        if track.status not in ("analysed", "written") or not track.predicted_genre:
            return None  # uncertain, too short, errors: no forced guess
        if not self.settings.multi_genre:
            return (track.predicted_genre,)
        analysis = s.scalar(select(Analysis).where(Analysis.track_id == track.id).order_by(Analysis.created_at.desc()))
        if analysis is None or not analysis.probabilities:
            return (track.predicted_genre,)
        return tuple(top_genres(np.array(analysis.probabilities), tuple(analysis.labels), self.settings.multi_max,
                                self.settings.multi_threshold))

    def plan(self, track_ids: list[int] | None = None, policy: str | None = None) -> list[PlannedChange]:
        """Changes the policy allows, for the given tracks (default: the whole library)."""
        policy = policy or self.settings.policy
        if policy == "never":
            return []
        changes = []
        with self.sessions() as s:
            q = select(Track).where(Track.missing.is_(False), Track.genre.is_not(None)).order_by(Track.path)
            if track_ids is not None:
                q = q.where(Track.id.in_(track_ids))
            for track in s.scalars(q):
                new = self.desired_genres(s, track)
                old = split_genres(track.file_genre)
                if new is None or tuple(old) == tuple(new):
                    continue
                if policy == "fill" and old and not track.corrected_genre:
                    continue
                provenance = "corrected by hand" if track.corrected_genre else f"{track.predicted_genre} {track.confidence:.2f}"
                changes.append(PlannedChange(track.id, track.path, old, new, provenance))
        return changes

    # ---- writing ----------------------------------------------------------------------------
    def apply(self, changes: list[PlannedChange], description: str) -> WriteResult:
        """Write the changes as one batch; each old value is journalled before its file is touched."""
        if not changes:
            return WriteResult(None)
        with self.sessions() as s:
            batch = WriteBatch(description=description)
            s.add(batch)
            s.commit()
            result = WriteResult(batch.id)
            for change in changes:
                self._write_one(s, batch, change, result)
        return result

    def _write_one(self, s: Session, batch: WriteBatch, change: PlannedChange, result: WriteResult) -> None:
        path = Path(change.path)
        try:
            old = read_tags(path, self.options).genres  # the file's truth, not the database's memory
        except GenreTaggerError as exc:
            result.failed.append((change.path, exc.reason))
            return
        entry = JournalEntry(batch_id=batch.id, track_id=change.track_id, path=change.path, old_genres=list(old), new_genres=list(change.new))
        s.add(entry)
        s.commit()  # the journal row exists before the file changes
        try:
            write_genres(path, list(change.new), self.options, provenance=f"Genre Tagger: {change.provenance}")
        except TagWriteError as exc:
            entry.state, entry.error = "failed", exc.reason
            s.commit()
            result.failed.append((change.path, exc.reason))
            return
        st = path.stat()
        entry.state, entry.size_after, entry.mtime_ns_after = "written", st.st_size, st.st_mtime_ns
        track = s.get(Track, change.track_id)
        if track is not None:
            track.file_genre, track.size, track.mtime_ns = "; ".join(change.new), st.st_size, st.st_mtime_ns
            track.status = "corrected" if track.corrected_genre else "written"
        s.commit()
        result.written.append(PlannedChange(change.track_id, change.path, tuple(old), change.new, change.provenance))

    # ---- corrections ------------------------------------------------------------------------
    def correct(self, paths: list[str], genre: str, source: str = "cli", write: bool = True) -> WriteResult:
        """Record a hand correction for tracks, protect it, and write it (journalled) unless told not to."""
        genre = genre.strip()
        if not genre:
            raise ValueError("a genre cannot be empty")
        ids = []
        with self.sessions() as s:
            for p in paths:
                track = s.scalar(select(Track).where(Track.path == str(Path(p).expanduser().absolute())))
                if track is None:
                    raise TrackNotInLibrary(p, "not in the library; scan its folder first")
                s.add(Correction(track_id=track.id, genre=genre, source=source))
                track.corrected_genre, track.genre, track.status = genre, genre, "corrected"
                ids.append(track.id)
            s.commit()
        if not write:
            return WriteResult(None)
        return self.apply(self.plan(ids, policy="replace"), f"correction: {genre}")

    # ---- undo -------------------------------------------------------------------------------
    def batches(self, limit: int = 20) -> list[WriteBatch]:
        """The newest write batches, newest first."""
        with self.sessions() as s:
            return list(s.scalars(select(WriteBatch).order_by(WriteBatch.id.desc()).limit(limit)))

    def undo(self, batch_id: int | None = None) -> UndoResult:
        """Restore the old genres of a batch (default: the newest not yet undone).

        A file that changed since the write (size or modification time differ from what the
        journal recorded) is refused, so another program's later edit is never clobbered.
        """
        with self.sessions() as s:
            q = select(WriteBatch).where(WriteBatch.undone_at.is_(None)).order_by(WriteBatch.id.desc())
            batch = s.get(WriteBatch, batch_id) if batch_id is not None else s.scalar(q.limit(1))
            if batch is None:
                raise NothingToUndo(None, f"no write batch {batch_id}" if batch_id else "nothing to undo")
            if batch.undone_at is not None:
                raise NothingToUndo(None, f"batch {batch.id} was already undone")
            result = UndoResult(batch.id)
            for entry in reversed([e for e in batch.entries if e.state == "written"]):
                self._undo_one(s, entry, result)
            batch.undone_at = utcnow()
            s.commit()
            return result

    def _undo_one(self, s: Session, entry: JournalEntry, result: UndoResult) -> None:
        path = Path(entry.path)
        try:
            st = path.stat()
        except OSError:
            result.refused.append((entry.path, "file no longer exists"))
            return
        if (st.st_size, st.st_mtime_ns) != (entry.size_after, entry.mtime_ns_after):
            result.refused.append((entry.path, "file changed since the write; not undone"))
            return
        try:
            write_genres(path, list(entry.old_genres), self.options, provenance="")
        except TagWriteError as exc:
            result.refused.append((entry.path, exc.reason))
            return
        entry.state = "undone"
        st = path.stat()
        track = s.get(Track, entry.track_id) if entry.track_id else None
        if track is not None:
            track.file_genre, track.size, track.mtime_ns = "; ".join(entry.old_genres), st.st_size, st.st_mtime_ns
            if track.status == "written":
                track.status = "analysed"
        s.commit()
        result.restored.append(entry.path)
