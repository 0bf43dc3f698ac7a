"""Watch the music folders while the window is open: music files or folders that come, go or are renamed ask for
a scan once copying is over. Tag writes do not: ours rename a hidden copy over the file, other taggers write in
place, and neither changes the names a scan looks at."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from desktop.core.folder_changes import SETTLE_S, holds_anything, written_within
from desktop.core.scan import music_names, within
from desktop.ui.workers import Job, background

log = logging.getLogger(__name__)

QUIET_MS = 3000  # a copied album adds a file every second or two: one scan once it is in, not one per file
MAX_FOLDERS = 20_000  # inotify watches are one budget per user, shared with the file manager and editors
RETURN_LOOK_MS = 5000  # how often a music folder not there (a drive not connected) is looked for


class FolderWatch(QObject):
    """Emits `changed(folders)` once the music under the watched folders came, went or was renamed, and settled."""

    changed = Signal(list)  # the folders whose music changed, in the order heard

    def __init__(self, parent=None, quiet_ms: int = QUIET_MS, settle_s: float = SETTLE_S):
        super().__init__(parent)
        self.settle_s = settle_s
        self.unwatched = 0  # folders left out: past MAX_FOLDERS or the system's limit
        self._names: dict[str, frozenset[str]] = {}  # watched folder -> the names in it a scan looks at
        self._pending: list[str] = []  # folders changed since the last `changed`
        self._left_out = within(())  # folders left out of the library: not watched
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._folder_changed)
        self.quiet_timer = QTimer(self, singleShot=True, interval=quiet_ms, timeout=self._quiet_over)

    def watch(self, folders: dict[str, frozenset[str]], limit: int | None = None, left_out: Iterable[str] = ()) -> None:
        """Watch these folders (as `music_folder_names` gives them, nearest first) instead of any before, at most
        `limit` (MAX_FOLDERS); a new subfolder is watched as it comes, unless it is `left_out` of the library.

        Changes heard and not yet reported stay: they came while these folders were listed."""
        limit = limit or MAX_FOLDERS
        self._left_out = within(left_out)
        wanted = list(folders)[:limit]
        watched = set(self._watcher.directories())
        if gone := list(watched.difference(wanted)):
            self._watcher.removePaths(gone)
        new = [folder for folder in wanted if folder not in watched]
        failed = set(self._watcher.addPaths(new)) if new else set()
        self._names = {folder: folders[folder] for folder in wanted if folder not in failed}
        # A folder gone since it was listed (renamed, a drive unplugged meanwhile) is nothing to watch, and no sign of
        # the system's limit: "watching 0 folders; 2 more are not watched (past 20,000, …)" was said of two.
        went = sum(1 for folder in failed if not os.path.isdir(folder))
        self.unwatched = len(folders) - len(self._names) - went
        if self.unwatched:
            log.warning("watching %d music folders for changes; %d more are not watched (limit %d, or the "
                        "system's: fs.inotify.max_user_watches)", len(self._names), self.unwatched, limit)

    def stop(self) -> None:
        """Watch nothing; forget changes not yet reported."""
        if watched := self._watcher.directories():
            self._watcher.removePaths(watched)
        self._names, self._pending = {}, []
        self.quiet_timer.stop()

    def watching(self) -> int:
        """How many folders are watched (a folder deleted or unmounted is no longer)."""
        return len(self._watcher.directories())

    def _folder_changed(self, folder: str) -> None:
        before = self._names.get(folder)
        if before is None:
            return
        try:
            names, subfolders = music_names(folder, self._left_out)
        except OSError:  # the folder went (or its drive): the scan says what became of its tracks
            del self._names[folder]
            if folder in self._watcher.directories():
                self._watcher.removePath(folder)
            self._note(folder)
            return
        if names == before:  # a tag write's copy renamed over its file, a cover image, a playlist
            return
        self._names[folder] = names
        for sub in map(str, subfolders):  # a new folder is watched at once, for the files copied into it next
            if sub not in self._names and len(self._names) < MAX_FOLDERS:
                try:
                    sub_names, _ = music_names(sub, self._left_out)
                except OSError:
                    continue
                if self._watcher.addPath(sub):
                    self._names[sub] = sub_names
        self._note(folder)

    def _note(self, folder: str) -> None:
        if folder not in self._pending:
            self._pending.append(folder)
        self.quiet_timer.start()  # (re)started: the scan waits for the last change

    def _quiet_over(self) -> None:
        if self._still_copying():  # a music file in a changed folder was written a moment ago
            self.quiet_timer.start()
            return
        folders, self._pending = self._pending, []
        self.changed.emit(folders)

    def _still_copying(self) -> bool:
        return written_within({folder: self._names.get(folder, frozenset()) for folder in self._pending}, self.settle_s)


class ReturnWatch(QObject):
    """Emits `back(folders)` once music folders that went or emptied (a drive not connected, a share not mounted)
    hold anything again. Looked at every few seconds, off the GUI thread (a share that hangs must not hang the
    window): a drive mounted where no folder is watched is heard by no QFileSystemWatcher."""

    back = Signal(list)  # the folders there again

    def __init__(self, parent=None, interval_ms: int = RETURN_LOOK_MS):
        super().__init__(parent)
        self._away: list[str] = []
        self._job: Job | None = None
        self.timer = QTimer(self, interval=interval_ms, timeout=self._look)

    def wait_for(self, folders: Iterable[str]) -> None:
        """Look for exactly these folders from now on (none: stop looking)."""
        self._away = list(dict.fromkeys(folders))
        if not self._away:
            self.timer.stop()
        elif not self.timer.isActive():
            self.timer.start()

    def waiting(self) -> list[str]:
        """The folders looked for."""
        return list(self._away)

    def _look(self) -> None:
        if self._job is not None:  # the last look still hangs (a share not answering): not one more on top
            return
        away = list(self._away)
        self._job = background(lambda: [folder for folder in away if holds_anything(folder)], "drives",
                               self._looked, self._look_failed)

    def _looked(self, there: list[str]) -> None:
        self._job = None
        back = [folder for folder in there if folder in self._away]  # not given up on meanwhile
        if back:
            self.wait_for([folder for folder in self._away if folder not in back])
            self.back.emit(back)

    def _look_failed(self, message: str) -> None:
        self._job = None
        log.warning("looking for music folders not there: %s", message)
