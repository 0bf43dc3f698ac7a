"""The files behind the table's rows, outside the app: shown in the file manager, their paths on the clipboard."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

log = logging.getLogger(__name__)

# freedesktop's file manager interface (Nautilus, Dolphin, Nemo, Caja, Thunar...): service, object and interface.
FILE_MANAGER = ("org.freedesktop.FileManager1", "/org/freedesktop/FileManager1", "org.freedesktop.FileManager1")
FILE_MANAGER_TIMEOUT_MS = 10_000  # a file manager started for the call may take seconds to answer


def session_bus():
    """The desktop session's D-Bus (a QDBusConnection, not connected where there is none); None off Linux/BSD."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    from PySide6.QtDBus import QDBusConnection  # imported here: D-Bus is a Linux/BSD desktop's

    return QDBusConnection.sessionBus()


def show_in_folder(path: str, on_problem: Callable[[str], None], parent: QObject | None = None) -> None:
    """Show the file selected in the file manager, else open its folder; why neither could goes to `on_problem`.

    The file manager answers later; `parent` (the window) gone by then, its answer is not waited for.
    """
    file = Path(path)
    if not file.parent.is_dir():
        on_problem("its folder is not there (moved, deleted, or on a drive not mounted)")
        return
    bus = session_bus()
    if not file.is_file() or not _file_manager_on(bus):
        _open_folder(file.parent, on_problem)
        return
    from PySide6.QtDBus import QDBusMessage, QDBusPendingCallWatcher

    service, object_path, interface = FILE_MANAGER
    call = QDBusMessage.createMethodCall(service, object_path, interface, "ShowItems")
    call.setArguments([[QUrl.fromLocalFile(str(file)).toString()], ""])  # (as uris, s startup id)
    # Asynchronous: a file manager started by the call must not freeze the window while it starts.
    watcher = QDBusPendingCallWatcher(bus.asyncCall(call, FILE_MANAGER_TIMEOUT_MS), parent or QCoreApplication.instance())

    def answered(done) -> None:
        if done.isError():  # e.g. it crashed, or does not really implement ShowItems: the folder, as before
            log.info("file manager could not show %s (%s); opening its folder", path, done.error().message())
            _open_folder(file.parent, on_problem)
        done.deleteLater()

    watcher.finished.connect(answered)


def _file_manager_on(bus) -> bool:
    """Whether the session has a file manager answering FileManager1, running or started on demand."""
    if bus is None or not bus.isConnected():
        return False
    names = bus.interface()
    service = FILE_MANAGER[0]
    return bool(names.isServiceRegistered(service).value()) or service in (names.activatableServiceNames().value() or [])


def _open_folder(folder: Path, on_problem: Callable[[str], None]) -> None:
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        on_problem("no file manager could be started to show its folder")


def copy_paths(paths: list[str]) -> None:
    """Put the paths on the clipboard, one per line (as a file manager or a terminal takes them)."""
    QGuiApplication.clipboard().setText("\n".join(paths))
