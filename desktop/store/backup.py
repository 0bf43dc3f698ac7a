"""Copies of the library beside it: one a day, and one before each conversion to a newer schema.

The library holds what no file does: the undo journal (the genres writes replaced) and the history of
corrections. A damaged database, or a newer version's conversion that an older program cannot read,
must not take them with it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from datetime import datetime
from pathlib import Path

from desktop.core.errors import GenreTaggerError
from desktop.core.paths import library_copy_file, library_copy_files, read_only_uri
from desktop.core.safe_write import atomic_write

log = logging.getLogger(__name__)

BACKUP_EVERY_S = 24 * 3600


class BackupError(GenreTaggerError):
    """A copy of the library could not be made (a full disk, a folder in the way); the older copy stays."""


class LibraryDamaged(GenreTaggerError):
    """The library failed SQLite's integrity check while being copied."""


def make_backup(db: Path, out: Path) -> None:
    """Copy the library to `out` (a consistent snapshot even while another process writes it), checked and swapped
    in whole. Raises LibraryDamaged (the copy already at `out` is kept) or BackupError."""

    def copy_checked(tmp: Path) -> None:  # tmp: new and empty (one a killed copy left is removed by atomic_write)
        # mode=ro: the copy never writes the library (its folder is writable, so SQLite can share the WAL index).
        with contextlib.closing(sqlite3.connect(read_only_uri(db), uri=True, timeout=30)) as src, \
                contextlib.closing(sqlite3.connect(tmp)) as dst:
            src.backup(dst)
            found = [row[0] for row in dst.execute("PRAGMA quick_check")]
        if found != ["ok"]:  # a damaged library must not replace the last good copy
            problems = [line for text in found for line in text.splitlines() if line and not line.startswith("***")]
            raise LibraryDamaged(db, f"SQLite's check found damage ({'; '.join(problems[:3])})")

    try:
        atomic_write(out, copy_checked)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(out, f"cannot copy the library here ({type(exc).__name__}: {exc})") from exc


def daily_backup(db: Path, now: float | None = None) -> bool:
    """Refresh `library.db.backup` when it is a day old or missing; True when a copy was made.

    Raises LibraryDamaged when the library fails the check (then every open checks again until it is mended).
    """
    out = library_copy_file(db)
    now = time.time() if now is None else now
    with contextlib.suppress(FileNotFoundError):
        # A copy dated ahead of now was made while the clock ran fast (a dead clock battery, set right later): old
        if 0 <= now - out.stat().st_mtime < BACKUP_EVERY_S:
            return False
    try:
        make_backup(db, out)
    except BackupError as exc:  # the library itself is fine and still opens; the older copy (if any) stays
        log.warning("cannot back up the library %s: %s", db, exc)
        return False
    return True


def restore_hint(db: Path, without_copy: str = "restore a backup or use a new --db") -> str:
    """What to do with a damaged library: put the newest copy in its place, naming it and its date."""
    copies = [p for p in library_copy_files(db) if p.is_file()]
    if not copies:
        return without_copy
    newest = max(copies, key=lambda p: p.stat().st_mtime)
    when = datetime.fromtimestamp(newest.stat().st_mtime)
    # A -wal file a crash left beside the library would be replayed onto the copy: it must go too.
    return (f"a copy from {when:%Y-%m-%d %H:%M} is at {newest}: put it in the library's place (and delete any "
            f"{db.name}-wal beside it), or use a new --db")
