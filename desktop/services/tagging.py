"""The one place tags are written: plan, journal the old value, write safely, undo, recover."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from desktop.core.analysis import top_genres
from desktop.core.errors import GenreTaggerError, TagWriteError
from desktop.core.genre_names import names_a_genre, shown_genre, tag_genres, typed_genres
from desktop.core.genres import join_genres, same_genres, split_genres
from desktop.core.provenance import by_hand as field_by_hand
from desktop.core.provenance import predicted as field_predicted
from desktop.core.safe_write import stat_before_reading
from desktop.core.scan import changed_stamp, holding_root, modified_stamp, within
from desktop.core.tags import read_tags, write_genres
from desktop.services.album_genres import (
    AlbumGenre,
    album_genres_on,
    folder_album_genres,
    settle_albums,
)
from desktop.services.labels import our_writes
from desktop.services.library import current_genre, settle_tag_genres, unplugged_now
from desktop.services.settings import TaggingSettings
from desktop.store import queries
from desktop.store.lock import writer_lock
from desktop.store.schema import (
    NOT_WRITTEN,
    WRITTEN,
    Correction,
    JournalEntry,
    Track,
    WriteBatch,
    utcnow,
)


@dataclass(frozen=True)
class PlannedChange:
    """A tag change to show before writing: old -> new for one file."""

    track_id: int
    path: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    provenance: str = ""
    policy: str = "replace"  # applied again at write time, to what the file says then
    confidence: float | None = None  # the prediction's; None where the genre was set by hand


def hold_back(changes: list[PlannedChange], folders: list[str]) -> tuple[list[PlannedChange], list[PlannedChange]]:
    """(changes to make, changes held back): a predicted genre for a track in one of `folders` (they look like
    spoken word) waits for the listener's word on them; a genre set by hand does not."""
    undecided, kept, held = within(folders), [], []
    for change in changes:
        (held if change.confidence is not None and undecided(change.path) else kept).append(change)
    return kept, held


@dataclass
class WriteResult:
    """What a batch of writes did."""

    batch_id: int | None
    written: list[PlannedChange] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why nothing was written)
    left: list[PlannedChange] = field(default_factory=list)  # not tried: the write was cancelled before them


@dataclass
class UndoResult:
    """What an undo restored and where it refused."""

    batch_id: int | None
    description: str = ""
    restored: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    corrections: int = 0  # genres set by hand that this undo took back (their batch wrote them)
    left: int = 0  # files not restored yet: the undo was cancelled before them (undo again to go on)

    @property
    def complete(self) -> bool:
        """Every file restored; else (refused or left) the batch stays undoable for the rest."""
        return not self.refused and not self.left


log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (files done, files in all), after each file


class Cancel(Protocol):
    """A flag another thread sets to stop a write or an undo after the file in hand (threading.Event)."""

    def is_set(self) -> bool: ...


def one_by_one(items: list, progress: Progress | None, cancel: Cancel | None) -> Iterator:
    """The items in turn, `progress(done, total)` after each, none more once `cancel` is set."""
    for done, item in enumerate(items):
        if cancel is not None and cancel.is_set():
            return
        yield item
        if progress is not None:
            progress(done + 1, len(items))


def tracks_of(s: Session, paths: list[str]) -> list[tuple[str, Track | None]]:
    """Each path as given, with the track stored under it (its absolute form) or under another name of the same file
    (a symlink to it), or None where the library has none."""
    absolute = [str(Path(p).expanduser().absolute()) for p in paths]
    found = queries.tracks_by_paths(s, absolute)
    return [(p, found.get(a) or queries.track_by_real_path(s, a)) for p, a in zip(paths, absolute, strict=True)]


class NothingToUndo(GenreTaggerError):
    """No batch of writes is left to undo."""


class KeptGenres(NamedTuple):
    """What keep_file_genres did: (path, genre) of the tracks whose tag's genre is now set by hand, the paths whose
    tag names no genre (none, or a placeholder such as Unknown), and those the library does not know."""

    kept: list[tuple[str, str]]
    no_genre: list[str]
    unknown: list[str]


class TrackNotInLibrary(GenreTaggerError):
    """A file the library does not know."""


class BatchSummary(NamedTuple):
    """A write batch as the history shows it: the files it changed, and how many of them an undo restored."""

    batch: WriteBatch
    files: int
    restored: int

    def state(self) -> str:
        """'undone', 'partly undone (1 of 3 files)', or '' while all it wrote stands."""
        if self.batch.undone_at is not None:
            return "undone"
        return f"partly undone ({self.restored:,} of {self.files:,} files)" if self.restored else ""


@dataclass
class RecoveryReport:
    """Writes and undos cut short by a crash, settled from what their files say now."""

    completed: list[str] = field(default_factory=list)  # the file holds the new value: kept, undoable
    dropped: list[str] = field(default_factory=list)  # the file holds the old value: nothing happened
    unclear: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): kept as written, undo will refuse safely


class TagService:
    """Plans and applies genre writes; every write is journalled before it happens."""

    def __init__(self, sessions: sessionmaker[Session], settings: TaggingSettings = TaggingSettings()):
        self.sessions, self.settings = sessions, settings
        self.options = settings.tag_options()

    # ---- planning ---------------------------------------------------------------------------
    def desired_genres(self, s: Session, track: Track, spellings: dict[str, str],
                       album: AlbumGenre | None = None) -> tuple[str, ...] | None:
        """What the file should say: the correction, else the confident prediction (several with multi-genre,
        each as the library shows it: `spellings` from queries.library_spellings), else nothing. `album`: the
        genre the track's album shares (album_genres), whose probabilities multi-genre then ranks."""
        if track.corrected_genre:
            return split_genres(track.corrected_genre)
        if not track.predicted_genre or track.confidence is None or track.confidence < self.settings.threshold:
            return None  # uncertain under today's threshold, too short, silent, errors: no forced guess
        if not self.settings.multi_genre:
            return (track.predicted_genre,)
        if album is not None:
            probabilities, labels = album.probabilities, album.labels
        else:
            analysis = queries.latest_analysis(s, track.id)
            if analysis is None or not analysis.probabilities:
                return (track.predicted_genre,)
            probabilities, labels = np.array(analysis.probabilities), tuple(analysis.labels)
        # The analysis keeps the model's own labels ("hiphop"): written as the library shows the genre.
        return tuple(shown_genre(label, spellings) for label in top_genres(
            probabilities, labels, self.settings.multi_max, self.settings.multi_threshold))

    def plan(self, track_ids: list[int] | None = None, policy: str | None = None,
             under: list[str | Path] | None = None) -> list[PlannedChange]:
        """Changes the policy allows, for the given tracks (default: the whole library), or only for files
        under the given folders (or those files themselves): `scan PATH --write` writes only what it scanned."""
        policy = policy or self.settings.policy
        if policy == "never":
            return []
        inside = None if under is None else within(under)
        changes = []
        with self.sessions() as s:
            spellings = queries.library_spellings(s)
            shared: dict[str, dict] = {}  # folder -> its albums' genres, when the library shares them
            per_album = self.settings.multi_genre and album_genres_on(s)  # asked once, not once per folder
            ours = our_writes(s) if policy == "fill" else {}
            q = select(Track).where(Track.missing.is_(False), Track.genre.is_not(None)).order_by(Track.path)
            if track_ids is not None:
                q = q.where(Track.id.in_(track_ids))
            for track in s.scalars(q):
                if inside is not None and not inside(track.path):
                    continue
                album = None
                if per_album and track.album:  # one look per folder, not one per track
                    if track.folder not in shared:
                        shared[track.folder] = folder_album_genres(s, track.folder)
                    album = shared[track.folder].get(track.id)
                new = self.desired_genres(s, track, spellings, album)
                old = split_genres(track.file_genre)
                if new is None or same_genres(old, new):
                    continue
                if (policy == "fill" and names_a_genre(old) and not track.corrected_genre
                        and not (track.id in ours and same_genres(ours[track.id], old))):
                    # fill writes where the file has no genre of the listener's: none, only a placeholder ("Unknown"),
                    # or one this library wrote itself, which a better model (learned since) may now see otherwise
                    continue
                by_hand = bool(track.corrected_genre)
                provenance = field_by_hand() if by_hand else field_predicted(track.predicted_genre, track.confidence)
                changes.append(PlannedChange(track.id, track.path, old, new, provenance, "replace" if by_hand else policy,
                                             None if by_hand else track.confidence))
        return changes

    # ---- writing ----------------------------------------------------------------------------
    def apply(self, changes: list[PlannedChange], description: str, progress: Progress | None = None,
              cancel: Cancel | None = None) -> WriteResult:
        """Write the changes as one batch; each old value is journalled before its file is touched.

        `progress` hears of each file; `cancel` set stops after the file in hand (what is written stays, undoable).
        """
        if not changes:
            return WriteResult(None)
        with writer_lock(self.sessions):
            self.recover_interrupted()
            with self.sessions() as s:
                batch = WriteBatch(description=description)
                s.add(batch)
                s.commit()
                batch_id = batch.id
            result = self._apply(changes, batch_id, progress, cancel)
            self._drop_if_unused(result)
            return result

    def _apply(self, changes: list[PlannedChange], batch_id: int, progress: Progress | None = None,
               cancel: Cancel | None = None) -> WriteResult:
        with self.sessions() as s:
            batch = s.get(WriteBatch, batch_id)
            result = WriteResult(batch.id)
            done = 0
            for change in one_by_one(changes, progress, cancel):
                self._write_one(s, batch, change, result)
                done += 1
            result.left = changes[done:]
        return result

    def _drop_if_unused(self, result: WriteResult) -> None:
        """A batch cancelled before its first file wrote nothing: it is not kept (nor offered to undo)."""
        if result.left and not result.written and not result.failed:
            self._drop_batch(result.batch_id)
            result.batch_id = None

    def _write_one(self, s: Session, batch: WriteBatch, change: PlannedChange, result: WriteResult) -> None:
        path = Path(change.path)
        seen = stat_before_reading(path)
        try:
            now = read_tags(path, self.options)  # the file's truth now, not the plan's memory
        except GenreTaggerError as exc:
            result.failed.append((change.path, exc.reason))
            return
        if same_genres(now.genres, change.new):
            result.skipped.append((change.path, f"already says {join_genres(change.new)}"))
            return
        if change.policy == "fill" and names_a_genre(now.genres) and not same_genres(now.genres, change.old):
            # Another tagger filled it since the plan (kid3 and Mp3tag keep the timestamp). Unchanged since, a genre
            # the plan found is one of our own writes, which fill may write over.
            result.skipped.append((change.path, f"got a genre since planning ({join_genres(now.genres)}); fill keeps it"))
            return
        # The provenance field is written when asked for, and kept true where a file has one already: a genre
        # set by hand under "Genre Tagger: Jazz 0.95" would otherwise carry that claim on.
        options = dataclasses.replace(self.options, write_provenance=self.options.write_provenance or bool(now.provenance))
        entry = JournalEntry(batch_id=batch.id, track_id=change.track_id, path=change.path,
                             old_genres=list(now.raw_genres), new_genres=list(change.new),
                             provenance_written=options.write_provenance, old_provenance=now.provenance or None,
                             old_tag_genres=[list(now.first_tag_genres),
                                             None if now.second_tag_genres is None else list(now.second_tag_genres)])
        s.add(entry)
        s.commit()  # the journal row exists before the file changes
        try:
            write_genres(path, list(change.new), options, provenance=change.provenance,
                         unchanged_since=seen)
        except TagWriteError as exc:
            entry.state, entry.error = "failed", exc.reason
            s.commit()
            log.warning("write: %s: %s", change.path, exc.reason)
            result.failed.append((change.path, exc.reason))
            return
        # What the file says now, as undo will compare it: a reader may not give back what was written (ID3
        # takes "80" or "(12)" for ID3v1 numbers, "Folk" and "Other"), and undo would then refuse for good.
        says, field = self._read_back(path, change.new)
        entry.new_genres = list(says)
        self._settle(s, entry, "written", says, field)
        s.commit()
        log.info("write: %s: %s -> %s (batch %d)", change.path, join_genres(now.genres) or "(none)", join_genres(says), batch.id)
        result.written.append(dataclasses.replace(change, old=now.genres, new=says))

    def _read_back(self, path: Path, meant: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
        """The genres and provenance field a file holds after a write (what was meant and None, should it not be
        readable just now)."""
        try:
            tags = read_tags(path, self.options)
        except GenreTaggerError:
            return tuple(meant), None
        return tags.genres, tags.provenance

    @staticmethod
    def _settle(s: Session, entry: JournalEntry, state: str, genres, provenance: str | None = None) -> None:
        """Record a journal entry's final state and what its file now says, on the entry and the track (its
        provenance field too, where known: None leaves the track's as it was)."""
        entry.state = state
        try:
            st = Path(entry.path).stat()
            entry.size_after, entry.mtime_ns_after = st.st_size, modified_stamp(st)
        except OSError:
            st = None
        if state == "undone" and entry.track_id:  # a correction this write carried goes with it
            TagService._take_back_corrections(s, entry.batch_id, [entry.track_id])
        track = s.get(Track, entry.track_id) if entry.track_id else None
        if track is None:
            return
        track.file_genre = join_genres(genres)
        if provenance is not None:
            track.tag_provenance = provenance
        track.genre = current_genre(track)  # an undone correction of an unheard track: its tag's genre again
        if st is not None:
            track.size, track.mtime_ns, track.ctime_ns = st.st_size, modified_stamp(st), changed_stamp(st)
        track.write_state = WRITTEN if state == "written" else NOT_WRITTEN

    # ---- corrections ------------------------------------------------------------------------
    def correct(self, paths: list[str], genre: str, source: str = "cli", write: bool = True,
                progress: Progress | None = None, cancel: Cancel | None = None) -> WriteResult:
        """Record a hand correction for tracks, protect it, and write it (journalled) unless told not to.

        Cancelled (`cancel` set), the files not written yet are not corrected either.
        """
        genre = typed_genres(genre)  # "Rock; Pop" is two genres; "80" the ID3v1 genre ID3 readers take it for
        ids = []
        with writer_lock(self.sessions):
            self.recover_interrupted()
            with self.sessions() as s:
                # The batch that will write them comes first, so each correction knows it (undo takes it back).
                batch = WriteBatch(description=f"correction: {genre}") if write else None
                s.add_all([batch] if batch else [])
                s.flush()
                for p, track in tracks_of(s, paths):
                    if track is None:
                        raise TrackNotInLibrary(p, "not in the library; scan its folder first")
                    s.add(Correction(track_id=track.id, genre=genre, source=source, batch_id=batch.id if batch else None))
                    track.corrected_genre, track.genre = genre, genre
                    ids.append(track.id)
                self._settle_albums_of(s, ids)  # the rest of an album the listener now mostly named follows
                s.commit()
                batch_id = batch.id if batch else None
            changes = self.plan(ids, policy="replace") if batch_id is not None else []
            if not changes:  # not asked to write, or every file says it already: the corrections stand alone
                self._drop_batch(batch_id)
                return WriteResult(None)
            result = self._apply(changes, batch_id, progress, cancel)
            if result.left:  # cancelled: the genres not written are not set by hand either
                with self.sessions() as s:
                    self._take_back_corrections(s, batch_id, [change.track_id for change in result.left])
                    self._settle_albums_of(s, ids)
                    s.commit()
            self._drop_if_unused(result)
            return result

    def forget_corrections(self, paths: list[str]) -> tuple[list[str], list[str]]:
        """Forget the genres set by hand on these tracks: each shows its prediction again, may be tagged
        automatically, and no longer teaches learning. Files are not touched.

        Returns the paths that had one, and the paths the library does not know.
        """
        forgotten, unknown, ids = [], [], []
        with writer_lock(self.sessions), self.sessions() as s:
            for p, track in tracks_of(s, paths):
                if track is None:
                    unknown.append(p)
                    continue
                if track.corrected_genre is None:
                    continue
                track.corrected_genre = None
                track.genre = current_genre(track)
                forgotten.append(track.path)
                ids.append(track.id)
            # After the loop, 500 a statement: a delete per track, with every track of the loop held in the session,
            # took 84 s for 20,000 (each delete looked through the session's tracks).
            for chunk in queries.id_chunks(ids):
                s.execute(delete(Correction).where(Correction.track_id.in_(chunk)),
                          execution_options={"synchronize_session": False})
            self._settle_albums_of(s, ids)
            s.commit()
        return forgotten, unknown

    def keep_file_genres(self, paths: list[str], source: str = "cli") -> KeptGenres:
        """Take the genre each file's own tag names as its genre set by hand: the tag was right, the prediction
        not. Recorded and protected as any correction (it teaches learning); no file is changed, as each says it
        already (forget_corrections takes it back). The tracks' genres may differ: one step for a mixed selection."""
        kept = KeptGenres([], [], [])
        ids = []
        with writer_lock(self.sessions), self.sessions() as s:
            for p, track in tracks_of(s, paths):
                if track is None:
                    kept.unknown.append(p)
                    continue
                genre = tag_genres(track.file_genre)  # as the tag names it, "Unknown; Rock" as Rock
                if genre is None:
                    kept.no_genre.append(track.path)
                    continue
                s.add(Correction(track_id=track.id, genre=genre, source=source))
                track.corrected_genre, track.genre = genre, genre
                kept.kept.append((track.path, genre))
                ids.append(track.id)
            self._settle_albums_of(s, ids)
            s.commit()
        return kept

    def _settle_albums_of(self, s: Session, track_ids: list[int]) -> None:
        """The albums of these tracks take their genre again (a correction made, forgotten or undone, tags put
        back; nothing while one genre per album is off), and tracks without a prediction their tag's genre under
        the listener's merges."""
        settle_tag_genres(s)
        if not album_genres_on(s):
            return
        folders = {folder for chunk in queries.id_chunks(sorted(set(track_ids)))
                   for folder in s.scalars(select(Track.folder).where(Track.id.in_(chunk)))}
        if folders:
            settle_albums(s, self.settings.threshold, sorted(folders))

    def _drop_batch(self, batch_id: int | None) -> None:
        if batch_id is None:
            return
        with self.sessions() as s:
            s.execute(update(Correction).where(Correction.batch_id == batch_id).values(batch_id=None))
            s.execute(delete(WriteBatch).where(WriteBatch.id == batch_id))
            s.commit()

    @staticmethod
    def _take_back_corrections(s: Session, batch_id: int, track_ids: list[int] | None = None) -> int:
        """Forget the corrections a batch wrote (of these tracks, or all), as its undo restores the files; how many.

        Each track shows its newest correction left (one made later, or before), else its prediction.
        """
        q = select(Correction).where(Correction.batch_id == batch_id)
        if track_ids is None:
            taken = list(s.scalars(q))
        else:
            taken = [c for chunk in queries.id_chunks(track_ids) for c in s.scalars(q.where(Correction.track_id.in_(chunk)))]
        for correction in taken:
            s.delete(correction)
        s.flush()
        for chunk in queries.id_chunks(sorted({c.track_id for c in taken})):
            newest = {}  # track -> its newest correction left
            for tid, genre in s.execute(select(Correction.track_id, Correction.genre).where(Correction.track_id.in_(chunk))
                                        .order_by(Correction.track_id, Correction.id.desc())):
                newest.setdefault(tid, genre)
            for track in s.scalars(select(Track).where(Track.id.in_(chunk))):
                left = newest.get(track.id)
                track.corrected_genre = left
                track.genre = current_genre(track)
        return len(taken)

    # ---- undo -------------------------------------------------------------------------------
    def batches(self, limit: int = 20) -> list[BatchSummary]:
        """The newest write batches, newest first, each with how many files it changed (written or since undone)
        and how many of those are restored (all when undone; some when an undo was stopped or refused)."""
        with self.sessions() as s:
            newest = list(s.scalars(select(WriteBatch).order_by(WriteBatch.id.desc()).limit(limit)))
            counts: dict[int, dict[str, int]] = {}
            for batch_id, state, n in s.execute(select(JournalEntry.batch_id, JournalEntry.state, func.count())
                                                .where(JournalEntry.batch_id.in_([b.id for b in newest]),
                                                       JournalEntry.state.in_(("written", "undone")))
                                                .group_by(JournalEntry.batch_id, JournalEntry.state)):
                counts.setdefault(batch_id, {})[state] = n
        return [BatchSummary(b, sum(counts.get(b.id, {}).values()), counts.get(b.id, {}).get("undone", 0)) for b in newest]

    def undo(self, batch_id: int | None = None, progress: Progress | None = None, cancel: Cancel | None = None) -> UndoResult:
        """Restore the old genres of a batch (default: the newest with writes not yet undone).

        A file is restored only while it still holds what the batch wrote, so undoing batches newest
        first restores each step, and another program's later edit is never clobbered. A batch with
        refused files stays undoable for them; it is marked undone once every write is reverted. Cancelled
        (`cancel` set), it stops after the file in hand and stays undoable for the rest.
        """
        with writer_lock(self.sessions):
            self.recover_interrupted()
            return self._undo(batch_id, progress, cancel)

    @staticmethod
    def _newest_undoable(s: Session) -> WriteBatch | None:
        has_writes = exists().where(JournalEntry.batch_id == WriteBatch.id, JournalEntry.state == "written")
        return s.scalar(select(WriteBatch).where(WriteBatch.undone_at.is_(None), has_writes)
                        .order_by(WriteBatch.id.desc()).limit(1))

    def next_undo(self) -> tuple[str, int] | None:
        """What `undo()` would revert now: the batch's description and how many files it would restore."""
        with self.sessions() as s:
            batch = self._newest_undoable(s)
            if batch is None:
                return None
            files = s.scalar(select(func.count()).select_from(JournalEntry)
                             .where(JournalEntry.batch_id == batch.id, JournalEntry.state == "written"))
            return batch.description, files

    def _undo(self, batch_id: int | None, progress: Progress | None = None, cancel: Cancel | None = None) -> UndoResult:
        with self.sessions() as s:
            if batch_id is None:
                batch = self._newest_undoable(s)
                if batch is None:
                    raise NothingToUndo(None, "nothing to undo")
            else:
                batch = s.get(WriteBatch, batch_id)
                if batch is None:
                    raise NothingToUndo(None, f"no write batch {batch_id}")
                if batch.undone_at is not None:
                    raise NothingToUndo(None, f"batch {batch.id} was already undone")
            entries = [e for e in batch.entries if e.state == "written"]
            if not entries:
                raise NothingToUndo(None, f"batch {batch.id} wrote no file; nothing to undo")
            result = UndoResult(batch.id, batch.description)
            carried = select(func.count()).select_from(Correction).where(Correction.batch_id == batch.id)
            before = s.scalar(carried)
            done, away = 0, functools.cache(lambda: unplugged_now(s))  # looked at once, where a file is not there
            for entry in one_by_one(entries[::-1], progress, cancel):
                self._undo_one(s, entry, result, away)
                done += 1
            result.left = len(entries) - done
            if result.complete:
                batch.undone_at = utcnow()
                self._take_back_corrections(s, batch.id)  # also of files it found already so (nothing to restore)
            result.corrections = before - s.scalar(carried)
            self._settle_albums_of(s, [e.track_id for e in entries if e.track_id])  # tags and corrections back
            s.commit()
            return result

    @staticmethod
    def _later_write(s: Session, entry: JournalEntry) -> int | None:
        """The newest batch that wrote `entry`'s file after it and still stands (not undone), else None."""
        same_file = JournalEntry.path == entry.path
        if entry.track_id is not None:  # by its track: the file may have moved since
            same_file = or_(same_file, JournalEntry.track_id == entry.track_id)
        return s.scalar(select(JournalEntry.batch_id).where(same_file, JournalEntry.id > entry.id,
                                                             JournalEntry.state == "written")
                        .order_by(JournalEntry.id.desc()).limit(1))

    def _undo_one(self, s: Session, entry: JournalEntry, result: UndoResult, away: Callable[[], list[str]]) -> None:
        path = self._where_now(s, entry)
        if not path.exists():
            # A drive not connected is not a file moved away: "scan its new folder" sent the listener looking for one.
            drive = holding_root(str(path), away())
            result.refused.append((entry.path, f"on a drive not connected ({drive}): connect it and undo again" if drive
                                   else "file no longer exists (if it was moved, scan its new folder and undo again)"))
            return
        seen = stat_before_reading(path)
        try:
            now = read_tags(path, self.options).genres
        except GenreTaggerError as exc:
            result.refused.append((entry.path, exc.reason))
            return
        if not same_genres(now, entry.new_genres):
            changed = f"file changed since the write (its genre is now {join_genres(now) or '(none)'})"
            if later := self._later_write(s, entry):
                result.refused.append((entry.path, f"{changed} by a later write (batch {later}); not undone, undo that first"))
            else:  # "undo the later writes first" was said of a tagger's edit too: there were none to undo
                result.refused.append((entry.path, f"{changed}, not by Genre Tagger; not undone, so that change is kept"))
            return
        entry.state = "undoing"
        s.commit()  # a crash from here on is settled by recover_interrupted()
        if entry.provenance_written is None:  # journalled before schema 6: the field is cleared where it is written
            options, provenance = self.options, ""
        else:  # whatever the settings are now: the field as it was before this write, and only if the write set it
            options = dataclasses.replace(self.options, write_provenance=entry.provenance_written)
            provenance = entry.old_provenance or ""
        first, second = list(entry.old_genres), None  # journalled before schema 7: into the first tag
        if entry.old_tag_genres is not None:  # each place gets its own old genres (none: the place is emptied)
            first, second = list(entry.old_tag_genres[0]), list(entry.old_tag_genres[1] or [])
        try:
            write_genres(path, first, options, provenance=provenance, second_genres=second, unchanged_since=seen)
        except TagWriteError as exc:
            entry.state = "written"
            s.commit()
            result.refused.append((entry.path, exc.reason))
            return
        self._settle(s, entry, "undone", entry.old_genres, provenance if options.write_provenance else None)
        s.commit()
        log.info("undo: %s: restored %s", entry.path, join_genres(entry.old_genres) or "(none)")
        result.restored.append(entry.path)

    @staticmethod
    def _where_now(s: Session, entry: JournalEntry) -> Path:
        """The written file's path now: a rescan follows a move or rename by the audio, and so does undo."""
        path = Path(entry.path)
        if path.exists() or entry.track_id is None:
            return path
        track = s.get(Track, entry.track_id)
        if track is None or track.missing or track.path == entry.path or not Path(track.path).exists():
            return path
        entry.path = track.path  # the journal follows the file, so a crash mid-undo is settled where it now is
        return Path(track.path)

    # ---- recovery ---------------------------------------------------------------------------
    def recover_interrupted(self) -> RecoveryReport:
        """Settle journal entries a crash left half-done (call while holding the writer lock).

        A write (`pending`) whose file holds the new genres counts as written, so it can be undone;
        one whose file still holds the old genres is dropped. An undo (`undoing`) likewise becomes
        undone or stays written.
        """
        report = RecoveryReport()
        with writer_lock(self.sessions), self.sessions() as s:
            for entry in s.scalars(select(JournalEntry).where(JournalEntry.state.in_(("pending", "undoing")))):
                target, source = (entry.new_genres, entry.old_genres)
                if entry.state == "undoing":
                    target, source = source, target
                try:
                    tags = read_tags(entry.path, self.options)
                    now, field = tags.genres, tags.provenance
                except GenreTaggerError as exc:
                    now, field, reason = None, None, exc.reason
                if now is not None and same_genres(now, target):
                    self._settle(s, entry, "written" if entry.state == "pending" else "undone", target, field)
                    report.completed.append(entry.path)
                elif now is not None and same_genres(now, source):
                    if entry.state == "pending":
                        entry.state, entry.error = "failed", "interrupted before the file was changed"
                    else:
                        entry.state = "written"
                    report.dropped.append(entry.path)
                else:
                    # Neither value: keep it undoable; undo compares contents and refuses safely.
                    entry.state = "written"
                    report.unclear.append((entry.path, reason if now is None else f"holds {join_genres(now) or '(none)'}"))
                s.commit()
        return report
