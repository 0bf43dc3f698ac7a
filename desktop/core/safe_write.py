"""Replace a file safely: modify a locked temporary copy, verify its audio, swap it in atomically.

The temporary copy is named `.NAME.genre-tagger-tmp.EXT` beside its file and is locked (flock)
while a write holds it. A process killed mid-write leaves the copy behind, unlocked; the next
scan of that folder removes exactly such copies (`remove_if_stale`) and nothing else. On a file
system without locks (some network shares) a copy counts as left behind once untouched for ten minutes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path

from desktop.core.errors import AudioDecodeError, TagWriteError
from desktop.core.fingerprint import audio_hash
from desktop.core.paths import NAME_MAX, on_read_only_mount, spelled_as_on_disk

TEMP_MARK = ".genre-tagger-tmp"
# Our own copies only: a leading dot, any name, the mark, then the original's extension.
TEMP_NAME = re.compile(r"^\..+" + re.escape(TEMP_MARK) + r"\.[A-Za-z0-9]{1,8}$")
# What a file system without locks or syncs answers (SMB/CIFS shares of some servers, NFS mounted `nolock`,
# some FUSE mounts): music on a NAS is common, so a write goes on without them rather than failing every file.
NOT_SUPPORTED = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOLCK, errno.ENOSYS, errno.EINVAL})
# Where copies cannot be locked, one untouched this long belongs to no live write: a write changes its copy
# within seconds of making it.
STALE_UNLOCKABLE_S = 600


def temp_copy_path(path: Path) -> Path:
    """The hidden copy beside `path`; a long name is shortened to a hash so it still fits."""
    name = f".{path.stem}{TEMP_MARK}{path.suffix}"
    if len(os.fsencode(name)) > NAME_MAX:
        name = f".{hashlib.sha1(os.fsencode(path.name)).hexdigest()[:16]}{TEMP_MARK}{path.suffix}"
    return path.with_name(name)


def is_temp_copy(name: str) -> bool:
    """True for the name of one of our temporary copies."""
    return bool(TEMP_NAME.match(name))


def lock_copy(fh, wait: bool = True) -> bool:
    """Lock an open temporary copy (flock); False where the file system has no locks.

    Raises BlockingIOError when `wait` is False and a live write holds the lock.
    """
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        raise
    except OSError as exc:
        if exc.errno in NOT_SUPPORTED:
            return False
        raise


def sync_file(fh) -> None:
    """Flush an open file to the disk; a file system that cannot (some network shares) is passed over."""
    try:
        os.fsync(fh.fileno())
    except OSError as exc:
        if exc.errno not in NOT_SUPPORTED:
            raise


def _recent(st: os.stat_result) -> bool:
    """Touched within STALE_UNLOCKABLE_S: perhaps a live write's. By its change time, not its modification time,
    which a copy takes from the original (copy2)."""
    return time.time() - st.st_ctime < STALE_UNLOCKABLE_S


def remove_if_stale(path: Path) -> bool:
    """Delete one temporary copy unless a live write holds its lock (unlocked file systems: unless it is recent)."""
    try:
        with open(path, "rb") as fh:
            # Cannot tell a live write from a dead one: only an old copy is surely dead.
            if not lock_copy(fh, wait=False) and _recent(os.fstat(fh.fileno())):
                return False
            path.unlink()
        return True
    except OSError:  # held by a write in progress (BlockingIOError), or already gone: leave it
        return False


def remove_old_leftover(path: Path) -> bool:
    """Delete a temporary file an earlier version's killed write left (no lock, its own name) once surely dead.

    Such a file was never locked, so only its age tells: an earlier version still running writes it within
    seconds, and one untouched for ten minutes belongs to no live write."""
    try:
        if _recent(path.stat()):
            return False
        path.unlink()
        return True
    except OSError:  # already gone, or not ours to remove: leave it
        return False


def write_target(path: Path) -> Path:
    """The file a write really changes: a symlink is followed to its target, so the target is tagged."""
    return Path(os.path.realpath(path))


def _check_writable(path: Path, st: os.stat_result) -> None:
    if on_read_only_mount(path):  # said as such: "file is read-only" sent listeners to its permissions, which were fine
        raise TagWriteError(path, "file is on a read-only file system (a locked SD card, a disk mounted read-only, or a "
                                  "Windows disk left hibernated); nothing written")
    # The mode bits count too: root may write anything, but a file marked read-only stays so.
    if not os.access(path, os.W_OK) or not st.st_mode & stat.S_IWUSR:
        raise TagWriteError(path, "file is read-only; not forcing a write")
    if not os.access(path.parent, os.W_OK):
        raise TagWriteError(path, "folder is read-only; cannot write safely")
    if st.st_nlink > 1:
        # Replacing the file would leave its other names pointing at the old, untagged copy.
        raise TagWriteError(path, f"file has {st.st_nlink} hard links; writing would separate them, so it is left as it is")
    if st.st_uid != os.geteuid() and os.geteuid() != 0:
        raise TagWriteError(path, "file belongs to another user; writing would change its owner, so it is left as it is")


def stat_before_reading(path: Path) -> os.stat_result | None:
    """A file's stat taken before its tags are read for a write (see safe_modify's `unchanged_since`); None where there
    is none to take (the read then says why)."""
    try:
        return os.stat(path)
    except OSError:
        return None


def _identity(st: os.stat_result) -> tuple[int, ...]:
    """What another program's write or replacement of a file changes: its inode, size, modification and change times."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _changed_by_another(path: Path, when: str) -> TagWriteError:
    """The refusal of a write over a file another program wrote `when` ("since its tags were read")."""
    return TagWriteError(path, f"the file changed {when} (another program wrote to it?); nothing written, its change kept")


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot sync a folder; the data is synced already
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def safe_modify(path: Path, modify: Callable[[Path], None], check_readable: Callable[[Path], object],
                keep_times: bool = False, unchanged_since: os.stat_result | None = None) -> None:
    """Apply `modify` to a temporary copy, verify the audio is unchanged, then swap it in atomically.

    Owner, group and mode are kept, and with `keep_times` the access and modification times; a symlink is written
    through to its target. `check_readable` is called on the original first (unreadable tags: nothing is copied).
    Nothing is written where the file changed since `unchanged_since` (its stat when the caller read its tags) or
    while it was copied and tagged: another program wrote it, and its change stays.
    """
    path = write_target(Path(path))
    # As its folders list it: the copy put in place under another spelling (song.flac for Song.flac, on a
    # case-insensitive file system) renamed the listener's file.
    path = Path(spelled_as_on_disk(str(path)))
    try:
        st = path.stat()
    except OSError as exc:
        raise TagWriteError(path, "file not found" if isinstance(exc, FileNotFoundError) else f"cannot read ({exc.strerror})") from exc
    if not stat.S_ISREG(st.st_mode):
        raise TagWriteError(path, "not a regular file")
    if unchanged_since is not None and _identity(st) != _identity(unchanged_since):
        raise _changed_by_another(path, "since its tags were read")
    _check_writable(path, st)
    check_readable(path)
    try:
        before = audio_hash(path, full=True)
    except AudioDecodeError as exc:
        raise TagWriteError(path, exc.reason) from exc
    tmp = temp_copy_path(path)
    remove_if_stale(tmp)
    try:
        with open(tmp, "xb") as lock:  # exclusive create: another write of this file is under way otherwise
            lock_copy(lock)  # without locks, the exclusive create alone keeps two writes of this file apart
            try:
                shutil.copy2(path, tmp)  # bytes, mode and times
                with contextlib.suppress(PermissionError):  # only root can give a file away; then it is ours anyway
                    os.chown(tmp, st.st_uid, st.st_gid)
                modify(tmp)
                if audio_hash(tmp, full=True) != before:
                    raise TagWriteError(path, "tag write would change the audio data; file left untouched")
                if keep_times:  # on the copy, before it replaces the file: the file never shows the write's time
                    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
                with open(tmp, "rb+") as fh:
                    sync_file(fh)
                if _identity(path.stat()) != _identity(st):
                    # Another program wrote it since it was copied (a tagger, a player counting plays, a sync): the
                    # copy would put its change out of the file for good.
                    raise _changed_by_another(path, "while its tags were being written")
                os.replace(tmp, path)
                _fsync_folder(path.parent)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
    except FileExistsError as exc:
        raise TagWriteError(path, "another write of this file is under way; try again") from exc
    except TagWriteError:
        raise
    except OSError as exc:  # the OS's reason, without the two paths it repeats (the copy is gone again)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise TagWriteError(path, f"cannot write tags ({exc.strerror}: no room for the safe copy of the file; "
                                      "the file is untouched)") from exc
        raise TagWriteError(path, f"cannot write tags ({exc.strerror or exc}; the file is untouched)") from exc
    except Exception as exc:  # mutagen raises many types; the original is intact either way
        raise TagWriteError(path, f"cannot write tags ({type(exc).__name__}: {exc})") from exc


def atomic_write(path: Path, produce: Callable[[Path], None]) -> None:
    """Have `produce` write a temporary file beside `path`, then swap it in: a crash leaves the old file whole.

    The temporary file is ours alone (made new, locked while written), and the copies of this kind that killed writes
    left beside `path` are removed first: a playlist or a map written outside the music folders, which no scan
    walks, would otherwise keep them for good. Two writes of one file at once: the second is refused (EBUSY)."""
    if path.suffix:
        for left in path.parent.glob(f".*{TEMP_MARK}{path.suffix}"):
            if is_temp_copy(left.name):
                remove_if_stale(left)
    tmp = temp_copy_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:  # a live write of the same file holds it (a dead one's was removed above)
        raise OSError(errno.EBUSY, f"another write of {path.name} is under way", str(path)) from None
    try:
        with os.fdopen(fd, "wb") as held:
            lock_copy(held)  # until swapped in: a cleanup in another process leaves it alone
            produce(tmp)
            with open(tmp, "rb") as fh:
                sync_file(fh)
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    """Write a small text file (a playlist, a map page) through a temporary file."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
