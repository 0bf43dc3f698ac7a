"""The files behind the table's rows, outside the app: their folder in the file manager, their paths on the clipboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication


def show_in_folder(path: str) -> str | None:
    """Open the file manager at the folder holding `path`; the reason when it cannot (None when it opened)."""
    folder = Path(path).parent
    if not folder.is_dir():
        return "its folder is not there (moved, deleted, or on a drive not mounted)"
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return "no file manager could be started to show its folder"
    return None


def copy_paths(paths: list[str]) -> None:
    """Put the paths on the clipboard, one per line (as a file manager or a terminal takes them)."""
    QGuiApplication.clipboard().setText("\n".join(paths))
