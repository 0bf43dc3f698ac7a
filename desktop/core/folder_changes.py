"""Notice music that came, went or was renamed under the music folders, and music still being copied in.

`FolderPoll` looks by polling: a folder's modification time changes whenever an entry is added, removed or
renamed, so a look costs one stat per folder and lists again only the folders whose time moved. It hears what
inotify cannot (a network share written by another computer) and needs no Qt.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from desktop.core.scan import folder_identity, music_names, system_tree, within

# A folder changed this recently may change again within its clock's tick (FAT keeps 2 s), unseen by its time:
# it is listed again at the next look, as git does with files changed in the second of its index.
RACY_S = 3.0
SETTLE_S = 5.0  # a music file written this recently may still be being copied into place: wait for it


def written_within(folders: dict[str, frozenset[str]], seconds: float) -> bool:
    """True while a music file of these folders ({folder: its music names}) was written in the last `seconds`:
    it may still be being copied in. A file stamped in the future (a camera's clock) is not."""
    now = time.time()
    for folder, names in folders.items():
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    if entry.name in names and entry.is_file() and -1 < now - entry.stat().st_mtime < seconds:
                        return True
        except OSError:
            continue
    return False


def holds_anything(folder: str | Path) -> bool:
    """True when `folder` is there with anything in it: a music folder that went, or emptied at once, is more
    likely a drive unplugged (its mount point left empty) than music deleted."""
    try:
        with os.scandir(folder) as it:
            return next(it, None) is not None
    except OSError:
        return False


def outside_unplugged(roots: Iterable[str | Path], paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(the roots that went or emptied at once (`holds_anything`), the paths not under them): what a watch scans
    when music changed, leaving an unplugged drive's tracks as they are."""
    gone = [str(Path(root).expanduser().absolute()) for root in roots if not holds_anything(root)]
    under_gone = within(gone)
    return gone, [p for p in paths if not under_gone(str(Path(p).expanduser().absolute()))]


class FolderPoll:
    """The music folders under `roots` (nearest first, at most `limit`) as last seen; `look()` says which changed."""

    def __init__(self, roots: Iterable[str | Path], limit: int | None = None, clock: Callable[[], float] = time.time,
                 left_out: Iterable[str | Path] = ()):
        self.roots = [Path(r).expanduser().absolute() for r in roots]
        self.limit, self.clock = limit, clock
        self.left_out = within(left_out)  # folders left out of the library: a scan does not walk them
        # folder -> (modification time, when it was looked at, its music names, its subfolders)
        self._seen: dict[str, tuple[int, float, frozenset[str], list[Path]]] = {}
        self._looked = False

    def folders(self) -> dict[str, frozenset[str]]:
        """The folders as last seen, with their music names."""
        return {folder: seen[2] for folder, seen in self._seen.items()}

    def look(self, cancel: threading.Event | None = None) -> list[str] | None:
        """The folders whose music names changed since the last look (new and vanished folders too), nearest
        first; none at the first look; None when cancelled (what was seen before stays).

        Folders that cannot be read are left out (the scan names them); a symlink back into a folder seen is not
        followed, as the scan does not.
        """
        now = self.clock()
        seen: dict[str, tuple[int, float, frozenset[str], list[Path]]] = {}
        changed: list[str] = []
        walked: set[tuple] = set()
        # Subfolders come from music_names, which leaves the kernel's trees out; only the roots are checked here.
        queue = deque(root for root in self.roots if not system_tree(root))
        while queue and (self.limit is None or len(seen) < self.limit):
            if cancel is not None and cancel.is_set():
                return None
            folder = queue.popleft()
            key = str(folder)
            try:
                st = folder.stat()
                known = folder_identity(folder, st)
                if not stat.S_ISDIR(st.st_mode) or known in walked:
                    continue
                walked.add(known)
                before = self._seen.get(key)
                if before and before[0] == st.st_mtime_ns and before[1] - st.st_mtime_ns / 1e9 > RACY_S:
                    names, subfolders = before[2], before[3]
                else:
                    names, subfolders = music_names(folder, self.left_out)
                    if self._looked and (before is None or before[2] != names):
                        changed.append(key)
            except OSError:  # gone, or unreadable now: counted below as gone
                continue
            seen[key] = (st.st_mtime_ns, now, names, subfolders)
            queue.extend(subfolders)
        changed += [folder for folder in self._seen if folder not in seen]
        self._seen, self._looked = seen, True
        return changed


def music_folder_names(roots: Iterable[str | Path], limit: int | None = None, cancel: threading.Event | None = None,
                       left_out: Iterable[str | Path] = ()) -> dict[str, frozenset[str]] | None:
    """Every folder a scan walks under `roots` (nearest first, at most `limit`; none `left_out`), with its music
    names; None when cancelled."""
    poll = FolderPoll(roots, limit, left_out=left_out)
    return None if poll.look(cancel) is None else poll.folders()
