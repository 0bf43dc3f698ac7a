"""The scan use case both faces run: settle interrupted writes, sync the folders, analyse what is new."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from desktop.core.analysis import ERROR, Analyzer, TrackAnalysis
from desktop.core.formats import FORMATS
from desktop.core.scan import ScanProblem, within
from desktop.core.spoken_word import SpokenFolder
from desktop.services.album_genres import settle_albums
from desktop.services.library import (
    AnalysisProgress,
    Library,
    SyncProgress,
    SyncReport,
    settle_tag_genres,
)
from desktop.services.settings import TaggingSettings
from desktop.services.tagging import RecoveryReport, TagService
from desktop.store.lock import writer_lock

log = logging.getLogger(__name__)

UNPLUGGED = "not there now, or empty (a drive not connected?); its tracks are left as they are"


@dataclass
class ScanReport:
    """What one scan did: crash recovery, the folder sync, and the analyses."""

    recovered: RecoveryReport = field(default_factory=RecoveryReport)
    sync: SyncReport = field(default_factory=SyncReport)
    results: list[TrackAnalysis] = field(default_factory=list)
    cancelled: bool = False
    folders: int = 0  # folders (or files) scanned
    set_aside: int = 0  # tracks of folders taken out of the library, now missing
    spoken_word: list[SpokenFolder] = field(default_factory=list)  # folders of the scan to ask about (audiobooks?)

    @property
    def found(self) -> int:
        """Files found in the folders."""
        return self.sync.found

    @property
    def analysed(self) -> int:
        """Tracks analysed in this scan (those that could not be are not: "2 analysed" with one unreadable misled)."""
        return len(self.results) - self.failed

    @property
    def failed(self) -> int:
        """Tracks this scan could not analyse (each among the problems)."""
        return sum(r.status == ERROR for r in self.results)

    @property
    def not_analysed(self) -> int:
        """Files this scan found and could not analyse: unreadable in its walk, or failed in the analysis."""
        return self.sync.unreadable + self.failed

    @property
    def nothing_found(self) -> str | None:
        """What to tell a user whose folders hold no music at all (most likely the wrong folder); else None."""
        if self.found or self.sync.problems or self.sync.unplugged or self.cancelled or not self.folders:
            return None
        return f"no music files found (Genre Tagger reads {' '.join(sorted(FORMATS))})"

    @property
    def problems(self) -> list[tuple[str, str]]:
        """(path, reason) for every file or folder that failed, in the sync or the analysis."""
        return ([(folder, UNPLUGGED) for folder in self.sync.unplugged]
                + [(str(p.path), p.reason) for p in self.sync.problems]
                + [(str(r.path), r.error or "") for r in self.results if r.status == ERROR]
                + [(str(r.path), r.note) for r in self.results if r.note])  # analysed, from part of the file only


def albums_under(roots: list[str | Path]) -> list[Path]:
    """The folders whose albums a scan of `roots` may have changed: each folder, and each file's own folder."""
    paths = [Path(r).expanduser().absolute() for r in roots]
    return [p if p.is_dir() else p.parent for p in paths]


def scan_library(sessions: sessionmaker[Session], roots: Iterable[str | Path], settings: TaggingSettings,
                 analyzer_factory: Callable[[], Analyzer], progress: Callable[[AnalysisProgress], None] | None = None,
                 cancel: threading.Event | None = None,
                 on_problem: Callable[[ScanProblem], None] | None = None, set_aside: Iterable[str | Path] = (),
                 walk_progress: Callable[[SyncProgress], None] | None = None,
                 left_out: Iterable[str | Path] | None = None) -> ScanReport:
    """Run a whole scan under the library's writer lock; the model is loaded only when the sync finishes.
    `set_aside`: folders taken out of the library (their tracks leave it, except under one of `roots`).
    `left_out`: the folders the library leaves out from now on (None: those it left out before).
    `walk_progress` hears how far the walk is before the analysis, whose `progress` has a total."""
    cancel = cancel or threading.Event()
    roots = list(roots)
    report = ScanReport(folders=len(roots))

    def problem(p: ScanProblem) -> None:
        log.warning("scan: %s: %s", p.path, p.reason)
        if on_problem:
            on_problem(p)

    with writer_lock(sessions):
        report.recovered = TagService(sessions, settings).recover_interrupted()
        library = Library(sessions, settings.tag_options())
        report.set_aside = library.set_aside(set_aside, kept=roots) if set_aside else 0
        if left_out is not None:  # a folder chosen in Settings and deleted since has nothing to leave out
            kept = library.left_out()
            left_out = [f for f in left_out if Path(f).is_dir() or str(Path(f).expanduser().absolute()) in kept]
            report.set_aside += library.set_left_out(left_out).tracks
        report.sync = library.sync(roots, cancel, problem, walk_progress)
        if cancel.is_set():
            report.cancelled = True
            return report
        # Only what this scan was asked to look at: `scan song.mp3 --model other.onnx` analysed the whole
        # library with the other model. And could reach: a drive not connected made each file not analysed yet
        # a problem ("could not be read").
        report.results = library.analyse(analyzer_factory(), progress, cancel, under=report.sync.reached(roots))
        report.cancelled = cancel.is_set()
        with sessions() as s:  # what was analysed, or renamed into another album, shows its album's genre
            settle_albums(s, settings.threshold, albums_under(roots))
            settle_tag_genres(s)  # and what could not be, its tag's genre under the listener's merges
            s.commit()
        # Asked about where this scan looked: `scan song.mp3` does not ask about the rest of the library.
        scanned, folders = within(roots), [str(f) for f in albums_under(roots)]
        report.spoken_word = [f for f in library.spoken_word()
                              if scanned(f.path) or any(within([f.path])(folder) for folder in folders)]
    for r in report.results:
        if r.status == ERROR:
            log.warning("analysis: %s: %s", r.path, r.error)
    log.info("scan of %s: %d files, %d analysed%s", ", ".join(map(str, roots)), report.found, report.analysed,
             " (cancelled)" if report.cancelled else "")
    return report
