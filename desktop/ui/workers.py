"""Background jobs: they return data through signals and never touch widgets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QThread, Signal

from desktop.core.errors import GenreTaggerError


@dataclass
class ScanOutcome:
    """What a background scan reports back to the window."""

    found: int = 0
    analysed: int = 0
    cancelled: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


class Job(QObject):
    """Runs fn(report_progress, cancel_event) on a QThread; emits finished(result) or failed(message)."""

    progress = Signal(int, int, float)  # done, total, tracks per second
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable, name: str = "job"):
        super().__init__()
        self.fn, self.name = fn, name
        self.cancel_event = threading.Event()
        self._started = 0.0

    def cancel(self) -> None:
        """Ask the job to stop at the next track; what is done is kept."""
        self.cancel_event.set()

    def report(self, done: int, total: int) -> None:
        """Called from the job's thread; the signal crosses to the GUI thread."""
        rate = done / max(1e-6, time.monotonic() - self._started)
        self.progress.emit(done, total, rate)

    def run(self) -> None:
        """The thread's entry point."""
        self._started = time.monotonic()
        try:
            result = self.fn(self.report, self.cancel_event)
        except GenreTaggerError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a worker must never die silently: the window shows the reason
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.finished.emit(result)


def start_job(job: Job, parent: QObject) -> QThread:
    """Run a job on a new QThread that ends (and is cleaned up) when the job does."""
    thread = QThread(parent)
    thread.setObjectName(job.name)
    job.moveToThread(thread)
    thread.started.connect(job.run)
    job.finished.connect(thread.quit)
    job.failed.connect(thread.quit)
    thread.finished.connect(job.deleteLater)
    thread.finished.connect(thread.deleteLater)
    thread.start()
    return thread


def scan_function(library_factory, analyzer_factory, roots: list[str]):
    """A job function: sync the folders, then analyse what is pending, reporting progress."""

    def run(report, cancel) -> ScanOutcome:
        library = library_factory()
        outcome = ScanOutcome()
        sync = library.sync(roots, cancel)
        outcome.found = sync.found
        outcome.problems += [(str(p.path), p.reason) for p in sync.problems]
        if cancel.is_set():
            outcome.cancelled = True
            return outcome
        analyzer = analyzer_factory()
        results = library.analyse(analyzer, lambda p: report(p.done, p.total), cancel)
        outcome.analysed = len(results)
        outcome.problems += [(str(r.path), r.error) for r in results if r.status == "error"]
        outcome.cancelled = cancel.is_set()
        return outcome

    return run
