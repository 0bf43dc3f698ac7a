"""Background jobs: they return data through signals and never touch widgets."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal
from sqlalchemy.exc import SQLAlchemyError

from desktop.core.errors import GenreTaggerError, refused_file
from desktop.services.scanning import ScanReport, scan_library
from desktop.store.database import database_failure

log = logging.getLogger(__name__)


class Job(QObject):
    """Runs fn(report_progress, cancel_event) on a QThread; emits finished(result) or failed(message)."""

    progress = Signal(int, int, float)  # done, total, tracks per second
    staged = Signal(object)  # anything else a job tells as it goes (a scan's walk: a SyncProgress)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable, name: str = "job"):
        super().__init__()
        self.fn, self.name = fn, name
        self.cancel_event = threading.Event()
        self._started = 0.0
        self.error: Exception | None = None  # what `failed` said, for a slot that tells kinds of failure apart

    def cancel(self) -> None:
        """Ask the job to stop at its next check (a scan's: the next track; a learn's: its next step)."""
        self.cancel_event.set()

    def report(self, done: int, total: int) -> None:
        """Called from the job's thread; the signal crosses to the GUI thread."""
        rate = done / max(1e-6, time.monotonic() - self._started)
        self.progress.emit(done, total, rate)

    def run(self) -> None:
        """The thread's entry point."""
        self._started = time.monotonic()
        try:
            result = self.fn(Reporter(self), self.cancel_event)
        except GenreTaggerError as exc:
            # Stopped as the listener asked (a learn's LearnCancelled) is no problem: the log's warnings are for those.
            log.log(logging.INFO if self.cancel_event.is_set() else logging.WARNING, "%s job: %s", self.name, exc)
            self.error = exc
            self.failed.emit(str(exc))
        except SQLAlchemyError as exc:  # the library's disk full, its file damaged: SQLite's words, not the SQL
            log.warning("%s job: the library database failed", self.name, exc_info=True)
            self.error = exc
            self.failed.emit(database_failure(exc, None))
        except Exception as exc:  # a worker must never die silently: the window shows the reason, the log the traceback
            # A file the system refused, in a check not foreseen, is said as the CLI says it: the file, the system's
            # reason ("…: File name too long", not "OSError: [Errno 36] File name too long: '…'").
            refused = refused_file(exc)
            log.log(logging.WARNING if refused else logging.ERROR, "%s job failed", self.name, exc_info=True)
            self.error = exc
            self.failed.emit(refused or f"{type(exc).__name__}: {exc}")
        else:
            self.finished.emit(result)


class Reporter:
    """What a job function reports through: report(done, total) for its progress bar, report.stage(value)
    for anything else the window shows (both cross to the GUI thread as signals)."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self, done: int, total: int) -> None:
        """Progress: `done` of `total`."""
        self.job.report(done, total)

    def stage(self, value: object) -> None:
        """Tell the window something else (the job's `staged` signal)."""
        self.job.staged.emit(value)


def start_job(job: Job) -> QThread:
    """Run a job on a new QThread that ends (and is cleaned up) when the job does.

    The thread belongs to the application, not to the window or dialog that started it: Qt aborts the
    whole process when a running QThread is destroyed, which closing its window would do.
    """
    thread = QThread(QCoreApplication.instance())
    thread.setObjectName(job.name)
    job.moveToThread(thread)
    thread.started.connect(job.run)
    # Queued to the GUI thread, after the result: the job is deleted only once the window has taken it.
    job.finished.connect(thread.quit)
    job.failed.connect(thread.quit)
    thread.finished.connect(thread.deleteLater)
    # The job is Python's: were the window's reference the last, its finished slot would delete the job
    # from the GUI thread while the job's own thread still unwinds from run() (a rare segfault). The
    # thread holds it instead, until the finished thread itself is deleted (in the GUI thread).
    thread.job = job
    _live_jobs.add(job)
    thread.start()
    return thread


_live_jobs: weakref.WeakSet[Job] = weakref.WeakSet()  # for finish_jobs: jobs that may still be running


def background(fn: Callable[..., object], name: str, finished: Callable, failed: Callable[[str], None],
               also_finished: tuple[Callable, ...] = (), progress: Callable[[int, int, float], None] | None = None) -> Job:
    """Run fn() as a job; `finished(result)` (then each of `also_finished`) or `failed(message)` is called on
    the GUI thread. Every slot is connected before the job starts, so a quick job cannot finish unheard.
    With `progress`, fn is called as fn(report, cancel) and `progress(done, total, rate)` hears its reports.

    Pass bound methods of a window: Qt queues them to the GUI thread. A plain closure would run on the
    worker's thread and touch widgets from there.
    """
    job = Job(fn if progress is not None else lambda _report, _cancel: fn(), name)
    if progress is not None:
        job.progress.connect(progress)
    for slot in (finished, *also_finished):
        job.finished.connect(slot)
    job.failed.connect(failed)
    start_job(job)
    return job


def finish_jobs() -> None:
    """Cancel every running job and wait for its thread (when the application quits).

    A scan stops after the track in hand, a write or an undo after the file in hand (journalled: undoable).
    """
    app = QCoreApplication.instance()
    while app is not None:
        for job in list(_live_jobs):  # again each turn: a result delivered below may start another job
            job.cancel()
        running = [t for t in app.findChildren(QThread) if t.isRunning()]
        if not running:
            return
        app.processEvents()  # delivers the results and the queued quit() that ends each finished job's thread
        running[0].wait(20)


def scan_function(sessions, settings, analyzer_factory, roots: list[str], set_aside: list[str] = (),
                  left_out: list[str] | None = None):
    """A job function: the scan use case (desktop.services.scanning), reporting progress to the window."""

    def run(report, cancel) -> ScanReport:
        return scan_library(sessions, roots, settings, analyzer_factory, lambda p: report(p.done, p.total), cancel,
                            set_aside=set_aside, walk_progress=report.stage, left_out=left_out)

    return run
