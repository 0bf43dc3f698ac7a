"""Walk music folders: supported files only (other audio named), hidden ones skipped, symlink loops never followed,
the kernel's trees (/proc, /sys, /dev) never entered."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop.core.formats import is_supported, unread_audio_kind
from desktop.core.safe_write import is_temp_copy

# The kernel's and the devices' trees hold no music, and /proc/<pid>/cwd and /root lead back into the whole disk:
# a scan of "/" walked everything again under /proc and put those paths in the library. (/run/media is where
# removable drives are mounted on several systems: walked as any folder.)
SYSTEM_TREES = tuple(Path(p) for p in ("/proc", "/sys", "/dev")) if os.name == "posix" else ()


# A named pipe, device or socket under a music name: opening one to read its tags waits for a writer that never comes.
NOT_A_REGULAR_FILE = "not a regular file (a named pipe, device or socket): there is no recording in it to read"


def system_tree(path: Path) -> Path | None:
    """The kernel tree `path` lies in, as written or through its symlinks, if any."""
    for where in (Path(os.path.abspath(path)), Path(os.path.realpath(path))):
        if tree := next((tree for tree in SYSTEM_TREES if where == tree or tree in where.parents), None):
            return tree
    return None


# SQLite keeps signed 64-bit integers; a file system keeps times to 2446 (ext4) or later, past 2262 in nanoseconds
INT64_SPAN = 1 << 64


def _stored(ns: int) -> int:
    return (ns + INT64_SPAN // 2) % INT64_SPAN - INT64_SPAN // 2


def modified_stamp(st: os.stat_result) -> int:
    """The file's modification time in nanoseconds, as stored: wrapped into SQLite's integer range, so a clock set
    centuries ahead (a camera's, an archive's) is still a time that tells a change, not an overflow that stops a scan."""
    return _stored(st.st_mtime_ns)


def changed_stamp(st: os.stat_result) -> int:
    """The file's change time (of its inode: any write, even one that put its modification time back) as stored."""
    return _stored(st.st_ctime_ns) or 1  # 0 is a stored track's "not known yet"


@dataclass(frozen=True)
class FoundFile:
    """A music file and the stat figures that tell whether it changed."""

    path: Path
    size: int
    mtime_ns: int  # as stored (modified_stamp)
    ctime_ns: int  # as stored (changed_stamp)

    @classmethod
    def of(cls, path: Path, st: os.stat_result) -> FoundFile:
        """The file at `path` as `st` found it."""
        return cls(path, st.st_size, modified_stamp(st), changed_stamp(st))


@dataclass(frozen=True)
class ScanProblem:
    """A folder or file that could not be read, and why."""

    path: Path
    reason: str
    # Only its analysis failed (its audio did not decode), in an earlier scan: its tags were read, so its genre can
    # still be set by hand.
    analysis_only: bool = False
    # Not looked in (a folder unreadable for now, a link to one on a drive not connected): what the library holds
    # there is not known gone, and stays as it is.
    unwalked: bool = False
    # On a drive not connected, as far as can be told (a link to a folder or a song not there now, a track the library
    # knows in a music folder gone or emptied): no fault of the file's; a track's genre can still be recorded by hand.
    away: bool = False


NO_SUCH_PATH = "no such file or folder"  # a folder or file to scan, named by the listener, not there


def printable(path: str | Path) -> Path:
    """A path safe to print and store: undecodable bytes of a file name shown as \\xNN escapes."""
    return Path(os.fsencode(path).decode("utf-8", "backslashreplace"))


def root_prefix(root: Path) -> str:
    """The start every path under `root` has (a separator at its end: /m/Rock is not under /m/Ro)."""
    return str(root).rstrip(os.sep) + os.sep


def within(roots: Iterable[str | Path]) -> Callable[[str], bool]:
    """A test of a stored path: is it one of `roots` (a file named on its own) or under one of them?

    Roots are taken as a scan takes them (~ expanded, made absolute, symlinks not followed), so the test
    agrees with the paths that scan stored. Case matters, as on the file system.
    """
    absolute = [Path(r).expanduser().absolute() for r in roots]
    exact, prefixes = {str(r) for r in absolute}, tuple(root_prefix(r) for r in absolute)
    return lambda path: path in exact or path.startswith(prefixes)


def holding_root(path: str, roots: Iterable[str]) -> str | None:
    """The innermost of `roots` (stored folder paths) that holds the stored path `path`; None where none does."""
    return max((r for r in roots if path.startswith(root_prefix(Path(r)))), key=len, default=None)


def identity(st: os.stat_result) -> tuple[int, int] | None:
    """The device and inode that tell a file or folder from every other; None where the system gives none (an inode
    of 0: every file of Windows' scandir, some network and FUSE file systems), so that nothing passes for another."""
    return (st.st_dev, st.st_ino) if st.st_ino else None


def folder_identity(folder: str | Path, st: os.stat_result) -> tuple:
    """What tells a folder from every other, so that a symlink back into one walked is not followed: its inode, else
    its real path (a folder has no hard links, and folders are few enough to resolve each)."""
    return identity(st) or ("real path", os.path.realpath(folder))


def renamed_in_case(old: str | Path, new: str | Path) -> bool:
    """Whether `old` is `new` before a rename in case only (`Jazz/song.flac`, now `jazz/Song.flac`) on a file system
    blind to case (FAT and exFAT drives, macOS's, Windows'), where the old name still opens the file: a part of it
    that differs is no longer in its folder's listing. On a file system that tells case, both are listed."""
    old, new = Path(old), Path(new)
    if old == new or len(old.parts) != len(new.parts) or _folded(old) != _folded(new):
        return False
    for depth, (was, now) in enumerate(zip(old.parts, new.parts, strict=True)):
        if was != now:
            try:
                if was not in os.listdir(Path(*old.parts[:depth])):
                    return True
            except OSError:
                return False
    return False


def _folded(path: Path) -> str:
    return unicodedata.normalize("NFC", str(path)).casefold()


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when two paths name one file on disk (through a symlinked folder, or a hard link)."""
    try:
        known = identity(os.stat(a))
        return known is not None and known == identity(os.stat(b))
    except OSError:
        return False


def _valid_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
        return True
    except UnicodeEncodeError:  # bytes that are not UTF-8, kept by Python as surrogate escapes
        return False


def walk_music(roots: Iterable[str | Path], on_problem: Callable[[ScanProblem], None],
               on_leftover: Callable[[Path], None] | None = None, left_out: Iterable[str | Path] = ()) -> Iterator[FoundFile]:
    """Yield supported files under `roots` in a stable order; report problems and carry on.

    `on_leftover` hears of each temporary copy a killed tag write left behind (ours, by exact name).
    `left_out`: folders the listener left out of the library (audiobooks, podcasts), not walked; a root in one is
    named as a problem.
    """
    yield from _walk_roots(list(roots), on_problem, on_leftover, list(left_out))


class _Walked:
    """What a walk has met, each folder and file once by device and inode; the symlinks to files, kept for its end so
    that a file the walk meets by its own name too is known by that, not by a link met first (a "Best of" folder)."""

    def __init__(self):
        self.seen: set[tuple] = set()
        self.linked: list[tuple[os.stat_result, FoundFile]] = []

    def first_time(self, st: os.stat_result) -> bool:
        """Whether the file `st` is of is met for the first time (then it is met); always where the system gives no
        inode to tell it by (then a link to a file met is a second track, as a hard link is)."""
        key = identity(st)
        return key is None or self.first_time_of(key)

    def first_time_of(self, key: tuple) -> bool:
        """Whether the file or folder `key` (its identity) is met for the first time (then it is met)."""
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


def _walk_roots(roots: list, on_problem, on_leftover, left_out: list) -> Iterator[FoundFile]:
    walked = _Walked()
    skipped = within(left_out)
    for root in roots:
        root = Path(root).expanduser()
        if reason := left_out_reason(root, left_out):
            on_problem(ScanProblem(printable(root), reason))
            continue
        if root.is_file():  # one file named on its own (`scan song.flac`)
            yield from _root_file(root.absolute(), walked, on_problem)
            continue
        if not root.is_dir():
            on_problem(ScanProblem(printable(root), "not a folder or a file" if root.exists() else NO_SUCH_PATH))
            continue
        if tree := system_tree(root):
            on_problem(ScanProblem(printable(root), f"is in {tree}, the system's own files, not music; not walked"))
            continue
        yield from _walk(root.absolute(), walked, on_problem, on_leftover, skipped)
    # A file by two names (a symlink to it, a hard link) is one track: a link's name only where the walk met no other.
    yield from (found for st, found in walked.linked if walked.first_time(st))


def left_out_holder(path: str | Path, left_out: Iterable[str | Path]) -> Path | None:
    """The folder left out of the library that is `path` or holds it; None where there is none."""
    path = str(Path(path).expanduser().absolute())
    return next((Path(f).expanduser().absolute() for f in left_out if within([f])(path)), None)


def left_out_reason(path: str | Path, left_out: Iterable[str | Path]) -> str | None:
    """Why `path` is not scanned where it is (or is in) a folder left out of the library; None where it is not."""
    path = Path(path).expanduser().absolute()
    holder = left_out_holder(path, left_out)
    if holder is None:
        return None
    where = "is left out of the library" if holder == path else f"is in {holder}, left out of the library"
    return f"{where}: not scanned (Settings, or `genre-tagger folders --take-back`, takes it back)"


def _root_file(path: Path, walked: _Walked, on_problem) -> Iterator[FoundFile]:
    try:
        if not _valid_name(path):
            on_problem(ScanProblem(printable(path), "the name is not valid UTF-8; rename it to scan it"))
        elif is_temp_copy(path.name):
            on_problem(ScanProblem(path, "a copy an interrupted tag write left behind, not music (a scan of its folder removes it)"))
        elif found := _music_file(path, path.stat, on_problem):
            if walked.first_time(path.stat()):  # named with a folder that holds it too (`scan song.flac .`): found once
                yield found
        elif not unread_audio_kind(path):
            on_problem(ScanProblem(path, f"not a music file (unsupported file type {path.suffix or 'without an extension'})"))
    except OSError as exc:
        on_problem(ScanProblem(printable(path), f"cannot read ({exc.strerror or exc})"))


def _music_file(path: Path, stat_of: Callable[[], os.stat_result], on_problem) -> FoundFile | None:
    """A supported, readable file as found; None otherwise (audio of a kind not read is named)."""
    if is_supported(path):
        if not os.access(path, os.R_OK):
            on_problem(ScanProblem(path, "file is not readable (permission denied)"))
            return None
        st = stat_of()
        return FoundFile.of(path, st)
    if kind := unread_audio_kind(path):
        on_problem(ScanProblem(path, f"{kind} files are not read by Genre Tagger (not analysed or tagged)"))
    return None


def _leads_to_system_tree(entry: os.DirEntry, path: Path) -> bool:
    """A subfolder that is (or links into) the kernel's trees; realpath only where it can lead there."""
    return (path in SYSTEM_TREES or entry.is_symlink()) and system_tree(path) is not None


def _walk(folder: Path, walked: _Walked, on_problem, on_leftover, skipped: Callable[[str], bool]) -> Iterator[FoundFile]:
    try:
        if not walked.first_time_of(folder_identity(folder, folder.stat())):  # a symlink back into a folder walked
            return
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        on_problem(ScanProblem(printable(folder), f"cannot read folder ({exc.strerror or exc})", unwalked=True))
        return
    for entry in entries:
        if entry.name.startswith("."):
            if on_leftover is not None and is_temp_copy(entry.name):
                on_leftover(Path(entry.path))
            continue
        path = Path(entry.path)
        try:
            if not _valid_name(path):
                if is_supported(path) or entry.is_dir(follow_symlinks=True):
                    on_problem(ScanProblem(printable(path), "the name is not valid UTF-8; rename it to scan it"))
                continue
            if entry.is_dir(follow_symlinks=True):
                if _leads_to_system_tree(entry, path) or skipped(entry.path):
                    continue
                yield from _walk(path, walked, on_problem, on_leftover, skipped)
            elif entry.is_file(follow_symlinks=True) and (
                    found := _music_file(path, entry.stat, on_problem)):
                st = entry.stat()  # kept by the entry: no second call
                if entry.is_symlink():
                    walked.linked.append((st, found))
                elif walked.first_time(st):  # a second hard link to a file is passed over
                    yield found
            elif entry.is_symlink() and (is_supported(path) or not path.suffix) and not os.path.exists(path):
                # A link to music, or to a folder (no extension), passed over in silence: its tracks went missing.
                on_problem(ScanProblem(printable(path), f"a link to {printable(os.readlink(path))}, which is not there "
                                                        "now (a drive not connected?): not scanned", unwalked=True,
                                       away=True))
        except OSError as exc:  # a file removed during the walk, a link that loops
            on_problem(ScanProblem(printable(path), f"cannot read ({exc.strerror or exc})", unwalked=True))


def music_names(folder: str | Path, left_out: Callable[[str], bool] = lambda _path: False) -> tuple[frozenset[str], list[Path]]:
    """The names in one folder a scan looks at (music files, audio it names as unread, subfolders it walks), and
    those subfolders; hidden names (a tag write's temporary copy) and folders `left_out` (a `within` test) are not
    among them. Raises OSError."""
    names, subfolders = set(), []
    with os.scandir(folder) as it:
        for entry in it:
            path = Path(entry.path)
            if entry.name.startswith(".") or not _valid_name(path):
                continue
            try:
                if entry.is_dir(follow_symlinks=True):
                    if not _leads_to_system_tree(entry, path) and not left_out(entry.path):
                        names.add(entry.name)
                        subfolders.append(path)
                elif is_supported(path) or unread_audio_kind(path):
                    names.add(entry.name)
            except OSError:  # a dangling symlink, an entry removed meanwhile
                continue
    return frozenset(names), sorted(subfolders)
