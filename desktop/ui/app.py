"""Start the GUI: `genre-tagger-gui` or `python -m desktop`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop import __version__


def parse_args(argv):
    """--db, --settings, --folder, --model, --self-test; --version and --help say where data lives."""
    from desktop.core.paths import locations_text, named_path

    parser = argparse.ArgumentParser(prog="genre-tagger-gui", description="Genre Tagger, the desktop application.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=locations_text())
    parser.add_argument("--version", action="version", version=f"genre-tagger {__version__}\n{locations_text()}")
    parser.add_argument("--db", type=named_path, help="library database file")
    parser.add_argument("--settings", type=named_path, help="settings file (INI) instead of the default one")
    parser.add_argument("--folder", action="append", default=[], type=named_path, help="add a music folder (repeatable)")
    parser.add_argument("--model", type=named_path, help="ONNX genre model to use")
    parser.add_argument("--self-test", action="store_true",
                        help="no window: load the model, analyse a generated file, print its genre, exit 0 when it works")
    return parser.parse_args(argv)


def folders_given(paths: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The --folder paths as the settings keep them (absolute: `--folder Music` was kept as "Music" and meant another
    folder wherever the window was opened next), and those that are no folder, each with why."""
    folders, refused = [], []
    for given in paths:
        path = Path(given).expanduser().absolute()
        if path.is_dir():
            folders.append(str(path))
        else:
            refused.append((str(path), "not a folder; --folder takes a music folder" if path.exists() else "no such folder"))
    return folders, refused


def looks_like_ini(head: bytes) -> bool:
    """Whether a file's first bytes could be an INI settings file (empty, or text opening a section or a key)."""
    if b"\0" in head:
        return False
    lines = [line.strip() for line in head.decode("utf-8", errors="replace").splitlines() if line.strip()]
    return not lines or lines[0][0] in "[;#" or "=" in lines[0]


def check_settings_file(path: str) -> None:
    """Refuse a --settings file that is music or not settings: Qt would rewrite it as INI when saving."""
    from desktop.core.output_files import check_output

    check_output(Path(path), "settings file", (), looks_like_ini, force=False, force_hint="")


def install_error_hook(window) -> None:
    """A bug of ours on the GUI thread: logged with its traceback and named in the Problems panel (a file the system
    refused, in a check not foreseen: the file and the system's reason; the library database failing: its file and
    SQLite's reason).

    PySide hands an exception raised in a slot to sys.excepthook, which printed it to a terminal the
    listener never sees; the click just did nothing.
    """
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from desktop.core.errors import refused_file
    from desktop.core.paths import log_dir
    from desktop.store.database import database_failure
    from desktop.store.lock import database_path

    log = logging.getLogger("desktop.ui")

    def hook(kind, value, traceback):
        if issubclass(kind, KeyboardInterrupt):  # Ctrl+C in the terminal that started the app: not a bug
            sys.__excepthook__(kind, value, traceback)
            return
        refused = refused_file(value)  # the system refused a file: said as the CLI says it
        failed = isinstance(value, SQLAlchemyError)  # the library's disk full, its file damaged: no bug, no SQL shown
        log.log(logging.WARNING if refused or failed else logging.ERROR,
                "the library database failed" if failed else "a file refused" if refused else "internal error",
                exc_info=(kind, value, traceback))
        try:
            if failed:
                db = database_path(window.sessions)
                window.report_problem(str(db or "library"), database_failure(value, db))
            elif refused:  # the Problems panel joins the file and the reason itself
                window.report_problem(str(value.filename), value.strerror or str(value))
            else:
                window.report_problem("internal error", f"{kind.__name__}: {value}; the details are in the log "
                                                        f"({log_dir()}); please report it")
        except Exception:  # noqa: BLE001 (the window may be gone; the log has it)
            pass

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    """Open the main window; rescan remembered folders in the background."""
    from desktop.core.standard_streams import ensure_standard_streams

    ensure_standard_streams()
    if argv is None:  # the app itself, not a test calling in
        from desktop.core.utf8_mode import restart_in_utf8_mode

        restart_in_utf8_mode()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from desktop.core.logs import setup_logging
    from desktop.core.paths import database_file, log_dir, settings_file

    setup_logging(log_dir())
    if args.self_test:  # before Qt is imported: works on a machine with no display at all
        from desktop.services.selftest import self_test

        return self_test(args.model)
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.core.errors import GenreTaggerError
    from desktop.store.database import open_database
    from desktop.ui.app_settings import AppSettings
    from desktop.ui.main_window import MainWindow
    from desktop.ui.workers import finish_jobs

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("genre-tagger")
    app.setOrganizationName("genre-tagger")
    app.setDesktopFileName("genre-tagger")
    try:
        if args.settings:
            check_settings_file(args.settings)
        sessions = open_database(database_file(args.db), read_only=True)  # on read-only media: browsed, not changed
    except GenreTaggerError as exc:
        QMessageBox.critical(None, "Genre Tagger", str(exc))
        return 2
    store = QSettings(str(args.settings or settings_file()), QSettings.Format.IniFormat)
    settings = AppSettings(store)
    folders, refused = folders_given(args.folder)
    if settings.unreadable:  # a folder in its place, or a `sudo` run's file: said, not taken for a first start
        refused.insert(0, (store.fileName(), settings.unreadable))
    if args.model:  # kept in the settings: the same file from any folder, and never one that is not there
        model = Path(args.model).expanduser().absolute()
        if model.is_file():
            settings.model_path = str(model)
        else:
            refused.append((str(model), "no such model file; the model Settings names is used"))
    window = MainWindow(sessions, settings)
    install_error_hook(window)
    window.show()
    for path, reason in refused:
        window.report_problem(path, reason)
    if folders:
        QTimer.singleShot(0, lambda: window.add_folders(folders))  # a read-only library refuses, saying why
    elif window.read_only:
        pass  # nothing to scan or ask for: the status bar says the library is read-only
    elif not settings.folders:
        QTimer.singleShot(0, window.scan_or_ask)  # first run: the library's folders, or ask for the music folder
    else:
        QTimer.singleShot(0, window.start_scan)  # opens from the database at once, rescans behind
    code = app.exec()
    finish_jobs()  # a job still running when the window closed ends before the process does
    return code


if __name__ == "__main__":
    sys.exit(main())
