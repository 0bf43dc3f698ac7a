"""Background jobs: they return data through signals and never touch widgets."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal

from desktop.core.errors import GenreTaggerError
from desktop.services.scanning import ScanReport, scan_library

log = logging.getLogger(__name__)


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
            log.warning("%s job: %s", self.name, exc)
            self.failed.emit(str(exc))
        except Exception as exc:  # a worker must never die silently: the window shows the reason, the log the traceback
            log.exception("%s job failed", self.name)
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


def scan_function(sessions, settings, analyzer_factory, roots: list[str]):
    """A job function: the scan use case (desktop.services.scanning), reporting progress to the window."""

    def run(report, cancel) -> ScanReport:
        return scan_library(sessions, roots, settings, analyzer_factory, lambda p: report(p.done, p.total), cancel)

    return run
