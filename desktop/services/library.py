"""Keep the database in step with the music folders, and analyse what is new or changed."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

import numpy as np
from sqlalchemy import and_, bindparam, exists, func, or_, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from desktop.core.analysis import ERROR, NEW, UNLIKE, Analyzer, TrackAnalysis
from desktop.core.errors import GenreTaggerError
from desktop.core.fingerprint import audio_hash
from desktop.core.folder_changes import holds_anything
from desktop.core.formats import FORMATS, format_of
from desktop.core.genre_names import genre_key, shown_genre, standard_spelling, tag_genres
from desktop.core.genres import join_genres
from desktop.core.paths import unreadable_now
from desktop.core.safe_write import remove_if_stale
from desktop.core.scan import (
    NOT_A_REGULAR_FILE,
    FoundFile,
    ScanProblem,
    holding_root,
    left_out_reason,
    renamed_in_case,
    root_prefix,
    same_file,
    walk_music,
    within,
)
from desktop.core.spoken_word import SpokenFolder, spoken_folders
from desktop.core.tags import TAG_READER_VERSION, TagOptions, read_tags
from desktop.store import queries
from desktop.store.lock import writer_lock
from desktop.store.queries import genre_merges
from desktop.store.schema import Analysis, Correction, JournalEntry, Meta, Track

COMMIT_EVERY = 200
READ_WHOLE_NEXT = -1  # a track's stored size no file has: the next walk reads its file whole, as a changed one
TAGS_READ_UPTO = "tag_reader_upto"  # meta key: the last track id a cancelled reading again got to
TAGS_READ_BY = "tag_reader"  # meta key: the TAG_READER_VERSION the library's stored tags were read by
# What reading a file's tags again can change of its track (_read_tags_again counts the tracks it changed).
read_again = attrgetter("file_genre", "artist", "album", "album_artist", "compilation", "track_number", "disc_number",
                        "year", "media_kind", "tag_provenance")
FOLDERS = queries.LIBRARY_FOLDERS
LEFT_OUT = queries.LEFT_OUT_FOLDERS
# meta key: music folders a folder left out took out of the library's record (JSON list); taken back, it records them
# again, so the `genre-tagger scan` it suggests walks them ("folders --leave-out ~/Music" then "--take-back ~/Music"
# left no music folder at all)
MUSIC_LEFT_OUT = "music_folders_left_out"
KEPT_AS_MUSIC = "kept_as_music"  # meta key: folders that look like spoken word the listener said are music (JSON list)


def outermost(folders: Iterable[str]) -> list[str]:
    """The folders not inside another of them, sorted (a scan of ~/Music/New adds nothing to ~/Music's)."""
    kept: list[str] = []
    for folder in sorted(set(folders), key=len):  # an outer folder is shorter than any inside it
        if not within(kept)(folder):
            kept.append(folder)
    return sorted(kept)


class NotAFolder(GenreTaggerError):
    """A folder to leave out or keep as music that is not one, or not in the library's folders."""


def take_read_only_tags(track: Track, tags) -> None:
    """Store the tags only read, never written: album artist, compilation flag, track and disc numbers, year, media
    kind."""
    track.album_artist, track.compilation = tags.album_artist, tags.compilation
    track.track_number, track.disc_number, track.year = tags.track_number, tags.disc_number, tags.year
    track.media_kind = tags.media_kind


@dataclass
class LeftOutChange:
    """What a change to the folders left out did."""

    left_out: list[str] = field(default_factory=list)  # folders newly left out
    taken_back: list[str] = field(default_factory=list)  # folders walked again from the next scan
    tracks: int = 0  # tracks that left the library with the folders newly left out
    music_folders_out: list[str] = field(default_factory=list)  # music folders (or inside) that left with them
    music_folders_back: list[str] = field(default_factory=list)  # music folders recorded again with those taken back


@dataclass
class SyncReport:
    """What a walk of the folders found."""

    found: int = 0
    new: int = 0
    changed: int = 0
    moved: int = 0
    retagged: int = 0
    returned: int = 0  # missing before (a drive not mounted, a folder moved away) and back, audio unchanged
    unchanged: int = 0
    unreadable: int = 0  # found, and failed to read (each among the problems); unchanged since it failed: unchanged
    missing: int = 0
    cleaned: int = 0  # temporary copies left by a killed tag write, removed
    reread: int = 0  # unchanged files whose tags a newer reader found more in (once per TAG_READER_VERSION)
    merged: int = 0  # tracks the library held twice (one file by two names) made one, with both histories
    unplugged: list[str] = field(default_factory=list)  # music folders gone or empty, not walked: their tracks left
    problems: list[ScanProblem] = field(default_factory=list)

    def reached(self, roots: Iterable[str | Path]) -> list[str | Path]:
        """`roots` less those not walked, on a drive not connected (`unplugged`): nothing there to analyse or write."""
        return [r for r in roots if str(Path(r).expanduser().absolute()) not in self.unplugged]


@dataclass(frozen=True)
class SyncProgress:
    """How far a scan's walk is, before any analysis: the files looked at so far (their total is not known
    until the walk ends), or, once after an update, the tracks whose tags are read again (of `total`)."""

    done: int
    total: int | None = None  # set only while tags are read again
    rate: float = 0.0  # per second, since this stage began


class Throttled:
    """Calls `report(SyncProgress)` at most every `every` seconds (a walk finds hundreds of files a second;
    a face needs a few updates a second), always for the first."""

    def __init__(self, report: Callable[[SyncProgress], None] | None, every: float = 0.25):
        self.report, self.every = report, every
        self.started = time.monotonic()
        self.last = -every

    def __call__(self, done: int, total: int | None = None) -> None:
        """Report `done` (of `total`) if it is time to."""
        now = time.monotonic()
        if self.report is None or now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.started
        self.report(SyncProgress(done, total, done / elapsed if elapsed >= 1 else 0.0))  # no rate from a moment


@dataclass
class AnalysisProgress:
    """Progress of an analysis run, for a progress bar."""

    done: int
    total: int
    last: TrackAnalysis


def library_genre(corrected: str | None, predicted: str | None, file_genre: str | None,
                  merged: dict[str, str] | None = None) -> str | None:
    """The genre the library shows: the hand correction, else the prediction, else what the file's own tag names
    (a track the model could not hear, too short or quiet to tell, unlike every learned genre, or not analysed
    yet) under the listener's merges (`merged`, queries.genre_merges), so a copy-protected track tagged Jazz is still
    among Jazz; the tag is never written back."""
    return corrected or predicted or tag_genres(file_genre, merged)


def settle_tag_genres(s: Session) -> int:
    """Give every track with neither a correction nor a prediction its tag's genre under the listener's merges
    now (a merge made or taken back since, a path that set it without them); how many tracks changed."""
    merged = genre_merges(s)
    rows = s.execute(select(Track.id, Track.file_genre, Track.genre)
                     .where(Track.corrected_genre.is_(None), Track.predicted_genre.is_(None)))
    updates = [{"id": track_id, "genre": genre} for track_id, tag, shown in rows
               if (genre := library_genre(None, None, tag, merged)) != shown]
    if updates:
        s.execute(update(Track), updates)
    return len(updates)


def current_genre(track: Track) -> str | None:
    """library_genre of a track as it stands."""
    return library_genre(track.corrected_genre, track.predicted_genre, track.file_genre)


def verdict_values(status: str, top_genre: str | None, confidence: float, error: str | None,
                   corrected: str | None, file_genre: str | None, merged: dict[str, str] | None = None) -> dict:
    """The track columns an analysis verdict sets (one rule, for a scan and for a re-prediction); `merged`: the
    listener's merges (queries.genre_merges), for a genre from the file's tag."""
    if status == UNLIKE:  # closest genre kept in the analysis; the track itself gets none forced on it
        error = f"unlike every genre learned from your library (closest: {top_genre} {confidence:.2f})"
        top_genre = None
    return {"predicted_genre": top_genre, "confidence": confidence if top_genre else None,
            "genre": library_genre(corrected, top_genre, file_genre, merged), "error": error, "verdict": status}


def store_verdict(track: Track, status: str, top_genre: str | None, confidence: float, error: str | None) -> None:
    """Copy an analysis verdict onto its track."""
    for column, value in verdict_values(status, top_genre, confidence, error, track.corrected_genre,
                                        track.file_genre).items():
        setattr(track, column, value)


def respell_predictions(s: Session, spellings: dict[str, str]) -> int:
    """Show stored predictions as the library shows their genre now; how many tracks changed.

    A prediction keeps the spelling of the day it was made: the model's own label ('hiphop') before
    labels were shown as taggers spell them, or a spelling the library's tags have since moved away from.
    """
    changed = 0
    for old, new in _respelt(s, spellings).items():
        if new != old:
            s.execute(update(Track).where(Track.predicted_genre == old, Track.corrected_genre.is_not(None))
                      .values(predicted_genre=new))  # a corrected track shows its correction
            changed += s.execute(update(Track).where(Track.predicted_genre == old, Track.corrected_genre.is_(None))
                                 .values(predicted_genre=new, genre=new)).rowcount
    return changed


def _respelt(s: Session, spellings: dict[str, str]) -> dict[str, str]:
    """Each stored prediction -> how it shows now: its model's label as the library spells it (a label in another
    language as its model wrote it), or where its label is not known, the library's spelling or the English one."""
    labels: dict[str, set[str]] = {}
    pairs = s.execute(select(Track.predicted_genre, Analysis.top_genre).distinct()
                      .join(Analysis, and_(Analysis.track_id == Track.id, Analysis.audio_hash == Track.audio_hash))
                      .where(Track.predicted_genre.is_not(None), Analysis.top_genre.is_not(None)))
    for shown, label in pairs:
        if genre_key(label) == genre_key(shown):  # the label it was shown from (one track may have several models')
            labels.setdefault(shown, set()).add(label)
    out = {}
    for old in s.scalars(select(Track.predicted_genre).where(Track.predicted_genre.is_not(None)).distinct()).all():
        from_label = labels.get(old, set())
        out[old] = (shown_genre(next(iter(from_label)), spellings) if len(from_label) == 1
                    else spellings.get(genre_key(old)) or standard_spelling(old))
    return out


def unplugged_now(s: Session) -> list[str]:
    """The library's music folders not there now, or empty, that hold tracks in view: on a drive not connected."""
    return [str(f) for f in Library._unplugged(s, [Path(f) for f in Library._recorded_folders(s)])]


@dataclass(frozen=True, slots=True)  # one for each track of the folders a scan walks
class KnownFile:
    """What a walk needs of a track to pass over its file unchanged: read for every track in one query, where a
    query per file walked was half of a rescan's time (5 of 10 s for 30,000 unchanged files)."""

    size: int
    mtime_ns: int
    ctime_ns: int  # 0: not known yet (kept since schema version 12): read from the file by the next walk
    missing: bool
    verdict: str
    hashed: bool  # its audio was read once: a file never read is read again by every scan
    error: str | None

    @classmethod
    def of(cls, track: Track) -> KnownFile:
        """What the walk needs of a track read whole (a file the one query did not settle)."""
        return cls(track.size, track.mtime_ns, track.ctime_ns, track.missing, track.verdict, bool(track.audio_hash),
                   track.error)

    def as_seen(self, found: FoundFile) -> bool:
        """The file is present and as the library last saw it (size, modification and change times; a change time not
        known yet is taken as seen)."""
        return self.same_times(found) and self.ctime_ns in (0, found.ctime_ns)

    def same_times(self, found: FoundFile) -> bool:
        """The file is present with the size and modification time the library last saw (its change time aside)."""
        return (self.size, self.mtime_ns) == (found.size, found.mtime_ns) and not self.missing

    @property
    def never_read(self) -> bool:
        """It could not even be read (no audio hash): read again by every scan, as reading is cheap and a newer version
        may read what an older one could not (Opus saved as .ogg was unreadable before Ogg files were known by their
        codec). Files that failed later, in analysis, are not retried while unchanged."""
        return self.verdict == ERROR and not self.hashed

    def unchanged(self, found: FoundFile) -> bool:
        """The file is as the library last saw it, and was read: nothing to read again."""
        return self.as_seen(found) and not self.never_read


class Library:
    """Sync folders to tracks and store analyses; the scan service of both faces."""

    def __init__(self, sessions: sessionmaker[Session], tag_options: TagOptions = TagOptions()):
        self.sessions = sessions
        self.tag_options = tag_options

    # ---- sync -------------------------------------------------------------------------------
    def sync(self, roots: Iterable[str | Path], cancel: threading.Event | None = None,
             on_problem: Callable[[ScanProblem], None] | None = None,
             progress: Callable[[SyncProgress], None] | None = None) -> SyncReport:
        """Walk `roots`: add new files, notice changed and moved ones, mark vanished ones missing.
        `progress` hears how far it is a few times a second (a first scan of a large library hashes every file)."""
        cancel = cancel or threading.Event()
        report = SyncReport()
        roots = [Path(r).expanduser().absolute() for r in roots]

        def problem(p: ScanProblem):
            report.problems.append(p)
            if on_problem:
                on_problem(p)

        def leftover(path: Path):
            report.cleaned += remove_if_stale(path)

        seen: set[str] = set()
        renamed: list[Callable[[], None]] = []  # new files of a known track's audio by another name: taken in last
        with writer_lock(self.sessions), self.sessions() as s:
            left_out = self._left_out(s)
            # A file named on its own is not a library folder, nor is a folder left out (the walk says so).
            self._record_folders(s, add=[str(r) for r in roots if r.is_dir() and not within(left_out)(str(r))])
            report.reread = self._read_tags_again(s, cancel, Throttled(progress))
            report.unplugged = [str(r) for r in self._unplugged(s, roots)]
            roots = report.reached(roots)
            known = self._known_files(s, roots)
            times_unknown = [path for path, was in known.items() if not was.ctime_ns]
            looked_at = Throttled(progress)
            for n, found in enumerate(walk_music(roots, problem, leftover, left_out), start=1):
                if cancel.is_set():
                    break
                looked_at(n)
                seen.add(str(found.path))
                self._sync_file(s, found, report, problem, seen, known, renamed.append)
                if n % COMMIT_EVERY == 0:
                    s.commit()
            for take_in in renamed if not cancel.is_set() else ():
                take_in()
            self._keep_change_times(s, known, times_unknown)
            s.commit()
            if not cancel.is_set():
                # Twins first: a second name the walk now passes over is folded into the first, not left as missing.
                report.merged = self._merge_twins(s, seen)
                # What the walk could not look in is not known gone: a folder unreadable now, a link to a NAS.
                unwalked = within([p.path for p in report.problems if p.unwalked])
                report.missing = self._mark_missing(s, roots, seen=seen, kept=unwalked)
                s.commit()
        report.found = len(seen)
        return report

    def sync_files(self, paths: Iterable[str | Path]) -> SyncReport:
        """Sync individual files (for `set FILE GENRE` on a file not scanned yet)."""
        report = SyncReport()
        with writer_lock(self.sessions), self.sessions() as s:
            left_out = self._left_out(s)
            unplugged = functools.cache(lambda: [Path(f) for f in unplugged_now(s)])
            for path in paths:
                path = Path(path).expanduser().absolute()
                if reason := left_out_reason(path, left_out):  # `set` would have brought it back into the library
                    report.problems.append(ScanProblem(path, reason))
                    continue
                try:
                    st = path.stat()
                    if not stat.S_ISREG(st.st_mode):  # read, a pipe would hang `set` for good, and a device is no file
                        report.problems.append(ScanProblem(path, NOT_A_REGULAR_FILE))
                        continue
                    format_of(path)
                except FileNotFoundError:
                    report.problems.append(self._not_found(s, path, unplugged))
                    continue
                except (OSError, GenreTaggerError) as exc:
                    reason = exc.reason if isinstance(exc, GenreTaggerError) else f"cannot read ({exc.strerror or exc})"
                    report.problems.append(ScanProblem(path, reason))
                    continue
                if queries.track_by_path(s, str(path)) is None and queries.track_by_real_path(s, str(path)):
                    continue  # known by its own name (`set` on a symlink to a song): that track it is, not renamed
                self._sync_file(s, FoundFile.of(path, st), report, report.problems.append)
            s.commit()
        return report

    @staticmethod
    def _not_found(s: Session, path: Path, unplugged: Callable[[], list[Path]]) -> ScanProblem:
        """A file named that is not there: on a drive not connected (one of the library's music folders gone or
        emptied at once, see _unplugged), said so, and `away` where the library knows it; else not found."""
        drive = holding_root(str(path), [str(r) for r in unplugged()])
        if drive is None:
            return ScanProblem(path, "file not found")
        return ScanProblem(path, f"on a drive not connected ({drive}): connect it and try again",
                           away=queries.track_by_path(s, str(path)) is not None)

    @staticmethod
    def _known_files(s: Session, roots: list[Path]) -> dict[str, KnownFile]:
        """The files the walk of `roots` may find, as the library last saw them, by path (those of other folders are not
        read: a scan of one album in a library of 100,000 tracks)."""
        known = {}
        for root in roots:
            prefix = root_prefix(root)
            rows = s.execute(select(Track.path, Track.size, Track.mtime_ns, Track.ctime_ns, Track.missing, Track.verdict,
                                    Track.audio_hash != "", Track.error)
                             .where(or_(Track.path == str(root), Track.path.startswith(prefix, autoescape=True))))
            known.update((path, KnownFile(*rest)) for path, *rest in rows)  # a path LIKE let in by case is never walked
        return known

    @staticmethod
    def _keep_change_times(s: Session, known: dict[str, KnownFile], paths: list[str]) -> None:
        """Keep the change times the walk took in for files it passed over (`paths`: those the library knew none of),
        in one statement: a query per file made the first rescan after the update 16 s for 20,000 files."""
        rows = [{"at": path, "ctime": was.ctime_ns} for path in paths if (was := known.get(path)) and was.ctime_ns]
        if rows:  # the change mark and time stay: nothing the window shows changed
            s.connection().execute(update(Track.__table__).where(Track.__table__.c.path == bindparam("at"))
                                   .values(ctime_ns=bindparam("ctime"), change_mark=Track.change_mark,
                                           updated_at=Track.updated_at), rows)

    def _sync_file(self, s: Session, found: FoundFile, report: SyncReport, problem, seen: set[str] = frozenset(),
                   known: dict[str, KnownFile] | None = None,
                   later: Callable[[Callable[[], None]], None] | None = None) -> None:
        path = str(found.path)
        if known is not None and (was := known.get(path)) is not None and was.unchanged(found):
            if not was.ctime_ns:  # a library from before version 12 kept none: taken in after the walk
                known[path] = dataclasses.replace(was, ctime_ns=found.ctime_ns)
            self._passed_over(found, was.verdict, was.error, report, problem)  # the track itself is not read
            return
        track = s.scalar(select(Track).where(Track.path == path))
        was = KnownFile.of(track) if track else None
        unchanged, never_read = bool(was and was.as_seen(found)), bool(was and was.never_read)
        if unchanged and not never_read:
            track.ctime_ns = found.ctime_ns  # known from now on (a library kept none before version 12)
            self._passed_over(found, track.verdict, track.error, report, problem)
            return
        digest, retagged = None, False
        try:
            digest = audio_hash(found.path)
            tags = read_tags(found.path, self.tag_options)
        except GenreTaggerError as exc:
            if unchanged:
                report.unchanged += 1
            else:  # counted: "62 files: 0 new, … 60 unchanged" left two out of every number
                report.unreadable += 1
            if track is not None and track.audio_hash and (unread := unreadable_now(found.path)):
                # Its drive or share dropped mid-scan: nothing said of the file, left as it was for the next walk to
                # read (kept as failed, it stayed so, back unchanged).
                problem(ScanProblem(found.path, f"could not be read ({unread}); it is read at the next scan"))
                return
            if track is not None and digest == track.audio_hash:
                # Only its tags fail: its audio's verdict stands, and each walk reads it again until they read (a
                # tagger mends them). Kept as failed, it stayed so once mended, the audio being the same.
                problem(ScanProblem(found.path, exc.reason))
                track.size, track.mtime_ns, track.missing = READ_WHOLE_NEXT, found.mtime_ns, False
                return
            same = unchanged and exc.reason == track.error
            problem(ScanProblem(found.path, f"{exc.reason} (unchanged since it failed)" if same else exc.reason))
            if track is None:
                track = self._new_track(s, found, digest="")
            # A known audio that is no longer the file's (or would not read): read whole by each walk, as a file never
            # read is, until it reads. Passed over, it was taken for one whose analysis failed: `set` took it, recorded
            # a correction and failed at the write in the tag library's words.
            track.size = READ_WHOLE_NEXT if track.audio_hash else found.size
            track.mtime_ns, track.ctime_ns = found.mtime_ns, found.ctime_ns
            track.verdict, track.error, track.missing = ERROR, exc.reason, False
            return
        if track is None:
            moved = self._find_moved(s, digest, found.path, seen)
            if moved is not None and later is not None and Path(moved.path).name != found.path.name:
                # Taken in after the walk: a file of its old name found meanwhile is the one moved, this one a copy
                # (an album moved and copied at once gave its corrections to the copy, whichever the walk met first).
                later(lambda: self._take_in(s, found, digest, tags, report, seen, known))
                return
            track = self._moved_or_new(s, found, digest, moved, report, known)
        elif never_read:
            track.audio_hash, track.verdict, track.error = digest, NEW, None  # first read of a file that failed before
            report.new += 1
        elif track.audio_hash == digest:
            if track.missing:
                report.returned += 1  # back where it was: nothing to analyse again
            else:
                retagged = True  # only tags changed (ours or another program's): no re-analysis
            if track.verdict == ERROR:
                self._failed_again_or_not(s, track)
        else:
            track.audio_hash, track.verdict, track.predicted_genre, track.confidence = digest, NEW, None, None
            track.genre = current_genre(track)
            report.changed += 1
        tags_changed = self._as_read(track, found, tags)
        if retagged:
            # Only touched (its change time moved: chmod, a backup putting its access time back), it was read in case
            # a tagger kept its time; nothing new read, it is unchanged.
            if tags_changed or not was.same_times(found):
                report.retagged += 1
            else:
                report.unchanged += 1

    @staticmethod
    def _failed_again_or_not(s: Session, track: Track) -> None:
        """A failed track read again with the same audio: its analysis's failure stands (a copy-protected file
        retagged), the walk's is over and it is analysed again (a file whose audio would not read, as a tagger broke
        its block list, mended to the same audio: it stayed "error" for good, its analysis never looked at again)."""
        failed = s.scalar(select(Analysis).where(Analysis.track_id == track.id, Analysis.audio_hash == track.audio_hash,
                                                 Analysis.status == ERROR).limit(1))
        track.verdict, track.error = (ERROR, failed.error) if failed is not None else (NEW, None)

    def _take_in(self, s: Session, found: FoundFile, digest: str, tags, report: SyncReport, seen: set[str],
                 known: dict[str, KnownFile] | None) -> None:
        """A new file of a known track's audio by another name, read in the walk: the track of its audio whose file
        is gone takes it (unless a file of that track's own name took it meanwhile), else it is a new track."""
        moved = self._find_moved(s, digest, found.path, seen)
        self._as_read(self._moved_or_new(s, found, digest, moved, report, known), found, tags)

    @staticmethod
    def _moved_or_new(s: Session, found: FoundFile, digest: str, moved: Track | None, report: SyncReport,
                      known: dict[str, KnownFile] | None) -> Track:
        """The track a new file is: `moved` (found by its audio) under its new name, else a new track."""
        if moved is None:
            report.new += 1
            return Library._new_track(s, found, digest)
        if known is not None:  # its old name, should the walk come to it, is no longer this track's
            known.pop(moved.path, None)
        moved.path, moved.folder = str(found.path), str(found.path.parent)
        report.moved += 1
        return moved

    @staticmethod
    def _new_track(s: Session, found: FoundFile, digest: str) -> Track:
        """A new track for a file found, added to the session (`digest` "": its audio could not be read)."""
        track = Track(path=str(found.path), folder=str(found.path.parent), format=found.path.suffix.lower().lstrip("."),
                      audio_hash=digest, verdict=NEW)
        s.add(track)
        return track

    @staticmethod
    def _as_read(track: Track, found: FoundFile, tags) -> bool:
        """Give a track its file's size, times and tags as just read; True when the tags differ from what it held."""
        before = (track.title, *read_again(track))
        track.size, track.mtime_ns, track.ctime_ns, track.missing = found.size, found.mtime_ns, found.ctime_ns, False
        track.file_genre, track.tag_provenance = join_genres(tags.genres), tags.provenance
        track.title, track.artist, track.album = tags.title or found.path.stem, tags.artist, tags.album
        take_read_only_tags(track, tags)
        track.genre = current_genre(track)  # a track without a prediction shows its tag's genre, as it is now
        return (track.title, *read_again(track)) != before

    @staticmethod
    def _passed_over(found: FoundFile, verdict: str, error: str | None, report: SyncReport, problem) -> None:
        """An unchanged file, counted; one that failed in analysis is named again, as every scan does."""
        report.unchanged += 1
        if verdict == ERROR and error:
            problem(ScanProblem(found.path, f"{error} (unchanged since it failed)", analysis_only=True))

    def _read_tags_again(self, s: Session, cancel: threading.Event, progress: Throttled) -> int:
        """Once per TAG_READER_VERSION, read again the tags of present, unchanged files an older reader read short:
        a scan skips unchanged files, so what only a newer reader finds (a genre in a second tag, an album artist)
        was never shown, counted or learned from. Returns how many tracks gained something."""
        read_by = s.get(Meta, TAGS_READ_BY)
        done = 1 if read_by is None else int(read_by.value)  # the reader version the stored tags come from
        if done >= TAG_READER_VERSION:
            return 0
        second_tag = sorted({ext.lstrip(".") for ext, fmt in FORMATS.items() if fmt.second_tag})
        short = {  # reader version -> the tracks an older reader read short
            2: and_(Track.format.in_(second_tag), or_(Track.file_genre == "", Track.artist == "", Track.album == "")),
            3: Track.album != "",  # album artist and compilation flag: only an album's tracks need them
            4: true(),  # track and disc numbers, the year, iTunes' media kind: every track
            5: Track.file_genre != "",  # the GENRE_TAGGER field: it only counts beside a genre
        }
        upto = s.get(Meta, TAGS_READ_UPTO)
        last = int(upto.value) if upto is not None else 0  # a cancelled scan's reading goes on where it stopped
        tracks = s.scalars(select(Track).where(Track.missing.is_(False), Track.audio_hash != "", Track.id > last,
                                               or_(*(rule for version, rule in short.items()
                                                     if done < version <= TAG_READER_VERSION)))
                           .order_by(Track.id)).all()
        gained = 0
        for n, track in enumerate(tracks):
            progress(n, len(tracks))
            if cancel.is_set():
                s.merge(Meta(key=TAGS_READ_UPTO, value=str(last)))  # not marked done: the next scan goes on from here
                return gained
            last = track.id
            try:
                st = os.stat(track.path)
                if not KnownFile.of(track).as_seen(FoundFile.of(Path(track.path), st)):
                    continue  # changed (or only touched): the walk reads it whole
                tags = read_tags(track.path, self.tag_options)
            except (OSError, GenreTaggerError):
                # Its drive dropped meanwhile, or its tags are damaged: the next walk reads it whole (and names what
                # is wrong with it), where it had passed over it unchanged and never read what this reader reads.
                track.size = READ_WHOLE_NEXT
                continue
            before = read_again(track)
            track.file_genre = track.file_genre or join_genres(tags.genres)  # only what was missing is filled in
            track.artist, track.album = track.artist or tags.artist, track.album or tags.album
            take_read_only_tags(track, tags)  # never read before (reader 3: album artist, compilation; 4: the rest)
            track.tag_provenance = track.tag_provenance or tags.provenance  # reader 5
            track.genre = current_genre(track)
            gained += read_again(track) != before
        s.merge(Meta(key=TAGS_READ_BY, value=str(TAG_READER_VERSION)))
        if upto is not None:
            s.delete(upto)
        s.commit()
        return gained

    @staticmethod
    def _find_moved(s: Session, digest: str, path: Path, seen: set[str]) -> Track | None:
        """A known track with the same audio whose old file is gone (moved or renamed), or that is this
        very file by another path not walked in this scan (a symlinked folder scanned by its other name:
        without this, every track of it was in the library twice), or by its name before a rename in case only."""
        for candidate in s.scalars(select(Track).where(Track.audio_hash == digest)):
            if candidate.missing or not os.path.exists(candidate.path):
                return candidate
            if candidate.path not in seen and (same_file(candidate.path, path) or renamed_in_case(candidate.path, path)):
                return candidate
        return None

    @staticmethod
    def _merge_twins(s: Session, seen: set[str]) -> int:
        """Fold into each walked track any other present track that is the same file by a name not walked: a
        symlinked folder scanned by both its names before scans told them apart left every track in twice."""
        merged = 0
        twins = (select(Track.audio_hash).where(Track.missing.is_(False), Track.audio_hash != "")
                 .group_by(Track.audio_hash).having(func.count() > 1))
        for digest in s.scalars(twins).all():  # copies of one recording on purpose are the rest, told apart by stat
            tracks = list(s.scalars(select(Track).where(Track.audio_hash == digest, Track.missing.is_(False))
                                    .order_by(Track.id)))
            for keep in [t for t in tracks if t.path in seen]:
                for other in [t for t in tracks if t.path not in seen]:
                    if same_file(keep.path, other.path):
                        Library._fold_into(s, keep, other)
                        tracks.remove(other)
                        merged += 1
        return merged

    @staticmethod
    def _fold_into(s: Session, keep: Track, other: Track) -> None:
        """Give `keep` the history of `other`, the same file by another name, and delete `other`."""
        newest = dict(s.execute(select(Correction.track_id, func.max(Correction.id))
                                .where(Correction.track_id.in_([keep.id, other.id])).group_by(Correction.track_id)).all())
        if other.corrected_genre and newest.get(other.id, 0) > newest.get(keep.id, 0):  # the newer word wins
            keep.corrected_genre = keep.genre = other.corrected_genre
        if other.write_state == "written":  # one file: what was written under either name is in it
            keep.write_state = "written"
        s.execute(update(Correction).where(Correction.track_id == other.id).values(track_id=keep.id))
        s.execute(update(JournalEntry).where(JournalEntry.track_id == other.id).values(track_id=keep.id))
        own = select(Analysis.model_key).where(Analysis.track_id == keep.id).scalar_subquery()
        s.execute(update(Analysis).where(Analysis.track_id == other.id, Analysis.model_key.not_in(own))
                  .values(track_id=keep.id))  # a model's verdict only this name had is kept, not computed again
        s.expire(other, ["analyses"])  # the delete's cascade reads them again: only those not moved go
        s.delete(other)
        s.flush()

    def set_aside(self, roots: Iterable[str | Path], kept: Iterable[str | Path] = ()) -> int:
        """Mark the present tracks under `roots` missing, except those under a `kept` root: a folder taken out
        of the library leaves it, its history kept (added back, its tracks return with their corrections)."""
        roots, kept = [Path(r).expanduser().absolute() for r in roots], [Path(k).expanduser().absolute() for k in kept]
        with writer_lock(self.sessions), self.sessions() as s:
            count = self._mark_missing(s, roots, kept=within(kept))
            # ~/Music taken out, ~/Music/Jazz kept: the record held only ~/Music, so Jazz goes back in by name.
            self._record_folders(s, add=[str(k) for k in kept if k.is_dir()], drop=roots)
            s.commit()
        return count

    def tracks_under(self, folder: str | Path, missing: bool = False) -> int:
        """How many tracks lie under `folder`: present ones, or with `missing` those kept out of view (a folder left
        out, a drive not mounted)."""
        with self.sessions() as s:
            return sum(1 for _ in self._paths_under(s, Path(folder).expanduser().absolute(), missing))

    def paths_under(self, folder: str | Path) -> list[str]:
        """The paths of the tracks in view under `folder`, from the library alone (the folder may not be there now)."""
        with self.sessions() as s:
            return [path for _, path in self._paths_under(s, Path(folder).expanduser().absolute())]

    def unplugged(self) -> list[str]:
        """The library's music folders not there now, or empty, that hold tracks in view: a drive not connected, its
        tracks left as they are (see _unplugged); nothing can be written to them until it is."""
        with self.sessions() as s:
            return unplugged_now(s)

    @staticmethod
    def _unplugged(s: Session, roots: list[Path]) -> list[Path]:
        """The folders to walk that hold tracks in view, in a music folder not there now or emptied at once: a drive
        unplugged or a share not mounted (its mount point left empty) far more often than music deleted. Walked,
        every track of theirs went out of view (the window opened without the drive showed an empty library), and
        learning lost their genres; left as they are, they come back whole with the drive. Settings' Remove, or
        leaving the folder out, takes them out. An album folder emptied in a music folder still there is music
        deleted: its tracks go."""
        recorded = Library._recorded_folders(s)
        return [r for r in roots
                if not holds_anything(holding_root(str(r), recorded) or r) and Library._holds_tracks(s, r)]

    @staticmethod
    def _holds_tracks(s: Session, folder: Path, missing: bool = False) -> bool:
        """Whether tracks in view (with `missing`, kept out of view) lie in `folder`."""
        return next(iter(Library._paths_under(s, folder, missing)), None) is not None

    @staticmethod
    def _paths_under(s: Session, root: Path, missing: bool = False) -> Iterator[tuple[int, str]]:
        """(id, path) of the tracks under `root` (present ones, or with `missing` those kept out of view), no track
        loaded whole: a rescan loaded every track to find the few gone (0.9 s at 30,000)."""
        prefix = root_prefix(root)
        # LIKE narrows (its "_" and "%" escaped); it ignores ASCII case, so Python's startswith decides:
        # scanning ABBA must not touch Abba.
        rows = s.execute(select(Track.id, Track.path).where(Track.path.startswith(prefix, autoescape=True),
                                                            Track.missing.is_(missing)))
        return ((track_id, path) for track_id, path in rows if path.startswith(prefix))

    def why_not_here(self, path: str | Path) -> str:
        """Why a file is not in the library: its folder is left out of it, or it was never scanned."""
        return left_out_reason(path, self.left_out()) or "not in the library; scan its folder first"

    def left_out(self) -> list[str]:
        """The folders left out of the library (audiobooks, podcasts, sound effects): no scan walks them."""
        with self.sessions() as s:
            return self._left_out(s)

    @staticmethod
    def _left_out(s: Session) -> list[str]:
        return queries.meta_folder_list(s, LEFT_OUT)

    def set_left_out(self, folders: Iterable[str | Path]) -> LeftOutChange:
        """Leave exactly `folders` out of the library: the tracks of a folder newly left out leave it now (kept as
        missing with their corrections), one taken back is walked again by the next scan, which brings its tracks
        back. A folder that is (or holds) one of the library's folders takes that out too, until it is taken back.
        Raises NotAFolder for a folder to leave out that is not there, unless tracks in view lie in it (a drive
        not connected, or gone for good: its tracks leave with it)."""
        wanted = [Path(f).expanduser().absolute() for f in folders]
        with writer_lock(self.sessions), self.sessions() as s:
            before = self._left_out(s)
            self._check_leave_out(s, wanted, before)
            now = outermost(str(f) for f in wanted)
            added = [f for f in now if not within(before)(f)]
            tracks = self._mark_missing(s, [Path(f) for f in added])
            out = [f for f in self._recorded_folders(s) if within(added)(f)]
            remembered = sorted({*queries.meta_folder_list(s, MUSIC_LEFT_OUT), *out})
            back = [f for f in remembered if not within(now)(f)]
            self._record_folders(s, add=back, drop=[Path(f) for f in added])
            s.merge(Meta(key=MUSIC_LEFT_OUT, value=json.dumps([f for f in remembered if f not in back])))
            s.merge(Meta(key=LEFT_OUT, value=json.dumps(now)))
            s.commit()
        return LeftOutChange(added, [f for f in before if not within(now)(f)], tracks, out, back)

    def check_leave_out(self, folders: Iterable[str | Path]) -> None:
        """Raise NotAFolder for the first of `folders` that cannot be left out (see set_left_out), so that a typo in
        the third of several leaves none out."""
        with self.sessions() as s:
            self._check_leave_out(s, [Path(f).expanduser().absolute() for f in folders], self._left_out(s))

    @staticmethod
    def _check_leave_out(s: Session, folders: list[Path], before: list[str]) -> None:
        for folder in folders:
            # One left out before, or holding tracks in view, may be on a drive away (or gone for good).
            if str(folder) not in before and not folder.is_dir() and not Library._holds_tracks(s, folder):
                raise NotAFolder(folder, "no such folder" if not folder.exists() else "not a folder")

    def leave_out(self, folder: str | Path) -> LeftOutChange:
        """Leave one more folder out of the library (see set_left_out)."""
        return self.set_left_out([*self.left_out(), folder])

    def take_back(self, folder: str | Path) -> LeftOutChange | None:
        """Walk a left-out folder again from the next scan (what it did); None when it was not left out."""
        folder = str(Path(folder).expanduser().absolute())
        left_out = self.left_out()
        if folder not in left_out:
            return None
        return self.set_left_out([f for f in left_out if f != folder])

    def spoken_word(self) -> list[SpokenFolder]:
        """Folders inside the music folders that look like spoken word (audiobooks, podcasts), neither left out nor
        kept as music yet: the listener is asked about each."""
        with self.sessions() as s:
            tracks = s.execute(select(Track.path, Track.file_genre, Track.media_kind).where(Track.missing.is_(False)))
            return spoken_folders(tracks, self._recorded_folders(s), queries.meta_folder_list(s, KEPT_AS_MUSIC))

    def kept_as_music(self) -> list[str]:
        """The folders that look like spoken word the listener said are music."""
        with self.sessions() as s:
            return queries.meta_folder_list(s, KEPT_AS_MUSIC)

    def keep_as_music(self, folders: Iterable[str | Path]) -> None:
        """The listener says these folders (inside or at the library's music folders) are music: not offered as
        spoken word again. Raises NotAFolder for one that is not a folder, or lies outside them (`/` would have
        silenced every question)."""
        folders = [Path(f).expanduser().absolute() for f in folders]
        # No writer lock: one row only suggestions read, written between a scan's commits like a window's setting.
        with self.sessions() as s:
            music = self._recorded_folders(s)
            for folder in folders:
                if not folder.is_dir():
                    raise NotAFolder(folder, "no such folder" if not folder.exists() else "not a folder")
                if not within(music)(str(folder)):
                    raise NotAFolder(folder, "not in the library's music folders ("
                                             + (", ".join(music) if music else "none yet: scan one first") + ")")
            kept = outermost([*queries.meta_folder_list(s, KEPT_AS_MUSIC), *map(str, folders)])
            s.merge(Meta(key=KEPT_AS_MUSIC, value=json.dumps(kept)))
            s.commit()

    def ask_again(self, folders: Iterable[str | Path]) -> list[str]:
        """Folders kept as music are asked about again (as spoken word, where they still look like it); the ones that
        were kept, in the order given."""
        asked = [str(Path(f).expanduser().absolute()) for f in folders]
        with self.sessions() as s:
            kept = queries.meta_folder_list(s, KEPT_AS_MUSIC)
            s.merge(Meta(key=KEPT_AS_MUSIC, value=json.dumps([f for f in kept if f not in asked])))
            s.commit()
        return [f for f in asked if f in kept]

    def folders(self) -> list[str]:
        """The folders this library's scans walked (from the window or the command line), where they still are."""
        return [folder for folder in self.recorded_folders() if os.path.isdir(folder)]

    def forget_emptied_folders(self) -> list[str]:
        """Take out of the library's record the music folders not there now that hold none of its tracks (their music
        moved elsewhere, say ~/Music renamed ~/Musik and scanned there), and return them: a scan of the library named
        each "a drive not connected?" for good. One holding tracks, in view or missing, is kept (a drive not
        connected; music that may come back)."""
        with writer_lock(self.sessions), self.sessions() as s:
            if emptied := self._emptied(s):
                self._record_folders(s, drop=[Path(f) for f in emptied])
                s.commit()
        return emptied

    def emptied_folders(self) -> list[str]:
        """The music folders `forget_emptied_folders` would take out of the record now."""
        with self.sessions() as s:
            return self._emptied(s)

    @staticmethod
    def _emptied(s: Session) -> list[str]:
        return [folder for folder in Library._recorded_folders(s) if not os.path.lexists(folder)
                and not Library._holds_tracks(s, Path(folder))
                and not Library._holds_tracks(s, Path(folder), missing=True)]

    def recorded_folders(self) -> list[str]:
        """The folders this library's scans walked, also those not there now (a drive not mounted)."""
        with self.sessions() as s:
            return self._recorded_folders(s)

    @staticmethod
    def _recorded_folders(s: Session) -> list[str]:
        return queries.meta_folder_list(s, FOLDERS)  # only a convenience: an unreadable record starts again

    @staticmethod
    def _record_folders(s: Session, add: Iterable[str] = (), drop: Iterable[Path] = ()) -> None:
        """Take the folders under (or at) a folder dropped out of the library's record, then add folders."""
        dropped, add = within(drop), list(add)
        # A folder scanned by another name (a symlink to it) now holds its tracks under the new name: kept once.
        recorded = [f for f in Library._recorded_folders(s) if not dropped(f) and not any(same_file(f, a) for a in add)]
        s.merge(Meta(key=FOLDERS, value=json.dumps(outermost([*recorded, *add]))))

    @staticmethod
    def _mark_missing(s: Session, roots: list[Path], seen: set[str] = frozenset(),
                      kept: Callable[[str], bool] = lambda _path: False) -> int:
        count = 0
        for root in roots:
            gone = [track_id for track_id, path in Library._paths_under(s, root) if path not in seen and not kept(path)]
            for chunk in queries.id_chunks(gone):
                for track in s.scalars(select(Track).where(Track.id.in_(chunk))):
                    track.missing = True
            count += len(gone)
        return count

    # ---- analysis ---------------------------------------------------------------------------
    def pending_analysis(self, model_key: str, under: Iterable[str | Path] | None = None) -> list[tuple[int, str]]:
        """(track id, path) of present tracks with no analysis of their current audio by this model, or still to be
        analysed (a file the walk failed on, mended); with `under`, only those in these folders (or these files)."""
        done = and_(exists().where(Analysis.track_id == Track.id, Analysis.model_key == model_key,
                                   Analysis.audio_hash == Track.audio_hash), Track.verdict != NEW)
        inside = (lambda _path: True) if under is None else within(under)
        with self.sessions() as s:
            rows = s.execute(select(Track.id, Track.path).where(Track.missing.is_(False), Track.audio_hash != "", ~done)
                             .order_by(Track.path))
            return [(i, p) for i, p in rows if inside(p)]

    def analyse(self, analyzer: Analyzer, progress: Callable[[AnalysisProgress], None] | None = None,
                cancel: threading.Event | None = None, under: Iterable[str | Path] | None = None) -> list[TrackAnalysis]:
        """Analyse pending tracks (with `under`: only in these folders or files), storing each result as it
        comes (a killed run resumes later)."""
        key = analyzer.model.info.key
        pending = self.pending_analysis(key, under)
        ids = {p: i for i, p in pending}
        results: list[TrackAnalysis] = []
        with writer_lock(self.sessions), self.sessions() as s:
            spellings = queries.library_spellings(s)  # "classical" is shown as the library's "Classical"
            for result in analyzer.analyse((Path(p) for _, p in pending), cancel=cancel):
                if result.again:  # failed for the moment (the file, or a decoder, was not there): not kept as its verdict
                    result = dataclasses.replace(result, error=f"{result.error}; it is analysed at the next scan")
                else:
                    self._store(s, ids[str(result.path)], key, analyzer.labels, result, spellings)
                results.append(result)
                s.commit()  # per track: a killed scan loses at most the track in hand
                if progress:
                    progress(AnalysisProgress(len(results), len(pending), result))
            respell_predictions(s, spellings)
            s.commit()
        return results

    @staticmethod
    def _store(s: Session, track_id: int, key: str, labels, result: TrackAnalysis, spellings: dict[str, str]) -> None:
        track = s.get(Track, track_id)
        row = s.scalar(select(Analysis).where(Analysis.track_id == track_id, Analysis.model_key == key))
        if row is None:
            row = Analysis(track_id=track_id, model_key=key)
            s.add(row)
        row.audio_hash, row.status, row.top_genre, row.confidence = track.audio_hash, result.status, result.top_genre, result.confidence
        row.labels = list(labels)
        row.probabilities = [] if result.probabilities is None else [round(float(x), 6) for x in result.probabilities]
        row.window_starts = [round(x, 3) for x in result.window_starts]
        row.window_probabilities = [] if result.window_probabilities is None else np.round(result.window_probabilities, 5).tolist()
        row.embedding = None if result.embedding is None else result.embedding.astype("<f4").tobytes()
        row.error = "; ".join(filter(None, (result.error, result.note))) or None  # a part-only analysis says so with it
        track.duration = result.duration or track.duration
        shown = shown_genre(result.top_genre, spellings) if result.top_genre else None
        store_verdict(track, result.status, shown, result.confidence, row.error)
