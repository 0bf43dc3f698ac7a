"""One writing process at a time per library: an advisory lock file beside the database."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from desktop.core.errors import GenreTaggerError


class LibraryBusy(GenreTaggerError):
    """Another process is scanning, writing or undoing in the same library."""


class LibraryUnlockable(GenreTaggerError):
    """The library's folder cannot lock files (some network shares), so one writer at a time cannot be kept."""


# lock file -> [descriptor, holders]. Threads of one process (the GUI's scan and write jobs) share
# the lock; another process is refused. flock would refuse a second descriptor even in-process.
_held: dict[Path, list[int]] = {}
_guard = threading.Lock()


def database_path(sessions: sessionmaker[Session]) -> Path | None:
    """The database file behind a session factory; None for an in-memory database."""
    if "path" in sessions.kw.get("info", {}):  # opened read-only (database.open_read_only): no file name in its URL
        return sessions.kw["info"]["path"]
    name = sessions.kw["bind"].url.database
    return None if not name or name == ":memory:" else Path(name)


def _acquire(lock_path: Path, db: Path) -> None:
    with _guard:
        if lock_path in _held:
            _held[lock_path][1] += 1
            return
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LibraryBusy(lock_path, f"cannot open the library's lock file ({exc.strerror})") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise LibraryBusy(db, "another Genre Tagger scan, write or undo is running on this library; "
                                  "try again when it has finished") from exc
        except OSError as exc:  # a network share without locks: saying "busy" would keep the listener waiting for ever
            os.close(fd)
            raise LibraryUnlockable(db, f"its folder cannot lock files ({exc.strerror}), and two programs writing the library "
                                  "at once would damage it; keep the library on a local disk (--db)") from exc
        _held[lock_path] = [fd, 1]


def _release(lock_path: Path) -> None:
    with _guard:
        entry = _held[lock_path]
        entry[1] -= 1
        if entry[1] == 0:
            os.close(entry[0])  # closing releases the lock
            del _held[lock_path]


@contextlib.contextmanager
def writer_lock(sessions: sessionmaker[Session]) -> Iterator[None]:
    """Hold the library's writer lock for the block, or raise LibraryBusy at once.

    The lock dies with its process (kill -9 included), so a crashed scan never blocks the next one.
    """
    db = database_path(sessions)
    if db is None:
        yield
        return
    lock_path = db.with_name(db.name + ".lock")
    _acquire(lock_path, db)
    try:
        yield
    finally:
        _release(lock_path)
