"""The main window: genre sidebar, library table, track details, progress and errors."""

from __future__ import annotations

import functools
import html
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSignalBlocker,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.core.analysis import ERROR, NEW, NO_MUSIC, TOO_SHORT, UNLIKE, Analyzer, status_words
from desktop.core.errors import GenreTaggerError
from desktop.core.folder_changes import music_folder_names, outside_unplugged
from desktop.core.genre_names import genre_key, shown_genre
from desktop.core.learned_model import is_learned_key
from desktop.core.model import GenreModel, read_model_info
from desktop.core.natural_order import natural_key
from desktop.core.paths import library_copy_file, log_dir
from desktop.core.progress_text import scan_progress, walk_progress
from desktop.core.scan import within
from desktop.core.wording import count, percent
from desktop.services.album_genres import (
    AlbumGenre,
    album_genre_of,
    album_genres_on,
    in_compilation,
    set_album_genres,
)
from desktop.services.labels import LABEL_SOURCES, Teaches, genre_folders_on, what_it_teaches
from desktop.services.learning import (
    LearnCancelled,
    active_model,
    learn,
    lost_model_warning,
    merge_and_rename,
    merges_in_effect,
    readiness,
    relearn_hint,
    set_folder_genres,
    set_genre_folders,
)
from desktop.services.library import Library, SyncProgress
from desktop.services.library_map import compute_map
from desktop.services.models import resolve_model, shipped_model_keys, user_models_dir
from desktop.services.playlists import playlist_file_name, write_genre_playlists, write_m3u8
from desktop.services.tagging import KeptGenres, TagService, UndoResult, WriteResult, hold_back
from desktop.store import queries
from desktop.store.database import is_read_only
from desktop.store.lock import LibraryBusy, database_path
from desktop.store.schema import Track
from desktop.ui.column_fit import ColumnFitter
from desktop.ui.details import DetailsPanel
from desktop.ui.dialogs import (
    SettingsDialog,
    ask_about_spoken_word,
    ask_folder_genres,
    choose_folder_to_leave,
    choose_music_folder,
)
from desktop.ui.file_links import copy_paths, show_in_folder
from desktop.ui.folder_watch import MAX_FOLDERS, FolderWatch
from desktop.ui.hint_table import HintTableView
from desktop.ui.history_dialog import WriteHistoryDialog
from desktop.ui.labels import EllipsisLabel, plain_label
from desktop.ui.learn_dialog import LearnReportDialog
from desktop.ui.map_view import MapView
from desktop.ui.review_dialog import ReviewDialog
from desktop.ui.table_model import (
    ALBUM,
    ARTIST,
    CONFIDENCE,
    FILE_GENRE,
    GENRE,
    GENRE_ROLE,
    SIDEBAR_NAMES,
    STATUS,
    TITLE,
    TRACK_ID_ROLE,
    GenreListModel,
    LibraryFilter,
    LibraryTableModel,
    load_changes,
    load_genre_counts,
    load_rows,
)
from desktop.ui.timeline_fill import TimelineFiller, Wanted
from desktop.ui.workers import Job, background, scan_function, start_job

CHANGE_OVERLAP = timedelta(seconds=5)
WRITE_PROGRESS_AFTER_MS = 400  # a write still running after this shows its progress and Stop
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
UNNAMED_ASKED = 30  # folders named for no genre offered as genres, the largest first (an artist/album library has hundreds)
RELEARN_DELAY_MS = 3000
BUSY_RETRY_MS = 5000  # a scan for music that came, refused while another process has the library, tries again
FOLDERS_HINT = "Edit > Learn From Genre Folders learns from them"  # the window's words for genres --folder-names on
READ_ONLY_WORDS = "This library is read-only where it is: copy it somewhere writable to scan, tag or correct"


def stopped_words(result) -> str:
    """What a write or undo stopped by the listener did and left ('' when it ran to the end, or for other jobs)."""
    if isinstance(result, UndoResult) and result.left:
        return (f"Undo stopped: restored {count(len(result.restored), 'file')}, {count(result.left, 'file')} still to undo "
                "(Undo again goes on)")
    if isinstance(result, WriteResult) and result.left:
        return (f"Stopped: wrote {count(len(result.written), 'file')}, left {count(len(result.left), 'file')} as they were "
                "(Undo takes back what was written)")
    return ""


def kept_words(result: KeptGenres) -> str:
    """What Keep the File's Genre did, for the status bar."""
    kept = (f"Kept the genre its tag says on {count(len(result.kept), 'track')}, as set by hand (Forget Genre Set by "
            "Hand takes it back)" if result.kept else "Nothing kept")
    return kept + (f"; {count(len(result.no_genre), 'track')} left: no genre in the tag (Set Genre… sets one)"
                   if result.no_genre else "")


# Shares of the table's width left after the confidence and status columns have what their words need
# (titles need the most room); followed until the listener sizes a column by hand (ColumnFitter).
COLUMN_SHARES = {TITLE: 3.0, ARTIST: 2.0, ALBUM: 2.0, FILE_GENRE: 1.5, GENRE: 1.5}


def undo_words(description: str, files: int) -> str:
    """A write batch as the Undo action names it: its description, cut to a menu's length, and its file count."""
    short = description if len(description) <= 40 else description[:39] + "…"
    return f"“{short}” ({count(files, 'file')})"


def describe_model(path: str, spellings: dict[str, str] | None = None) -> str:
    """One line about a model file for the settings dialog: its genres as the library spells them."""
    try:
        info = read_model_info(resolve_model(path or None))
    except (GenreTaggerError, ValueError) as exc:
        return f"Cannot use this model: {exc}"
    acc = f", test accuracy {info.metrics['accuracy']:.0%}" if "accuracy" in info.metrics else ""
    return f"{info.key}: {', '.join(shown_genre(label, spellings) for label in info.labels)}{acc}"


# Why a track has no prediction, for the details' "Genre from: its tag (Jazz); …".
UNHEARD = {NEW: "not analysed yet", ERROR: "it could not be analysed", TOO_SHORT: "too short for the model to tell",
           NO_MUSIC: "the model heard no music in it", UNLIKE: "unlike every genre learned from your library"}


def teaches_words(teaches: Teaches) -> str:
    """What a track gives Learn My Genres, in the listener's words ("learns it as Jazz (from its genre tag)")."""
    if teaches.genre:
        return f"Learn My Genres learns it as {teaches.genre} (from {LABEL_SOURCES[teaches.source]})"
    return f"Learn My Genres learns nothing from it ({teaches.why_none})"


def genre_source(track: Track, analysis, album: AlbumGenre | None = None, spellings: dict[str, str] | None = None,
                 compilation: bool = False) -> str:
    """Where a track's genre comes from, in the listener's words (`album`: the genre its album shares;
    `compilation`: albums share one, but this track's is a compilation)."""
    if track.corrected_genre:
        return f"your correction ({track.corrected_genre})"
    if track.predicted_genre and analysis is not None:
        key = analysis.model_key
        model = ("learned from your library" if is_learned_key(key) else
                 f"the shipped model ({key})" if key in shipped_model_keys() else f"the model {key}")
        tag = f"; the file's tag says {track.file_genre}" if track.file_genre else ""
        if album is not None:
            own = (f"{shown_genre(analysis.top_genre, spellings or {})}, {percent(analysis.confidence)}" if analysis.top_genre
                   else status_words(analysis.status))
            if album.tagged:  # the listener named most of the album
                return f"your genre on {album.tagged} of the {album.tracks} tracks of its album (this track alone: {own}){tag}"
            return f"the {album.tracks} tracks of its album, {model}, {percent(track.confidence)} sure (this track alone: {own}){tag}"
        apart = " (its album is a compilation: each of its tracks keeps its own genre)" if compilation else ""
        return f"{model}, {percent(track.confidence)} sure{apart}{tag}"
    if track.genre:  # no prediction: its own tag's genre (services.library.library_genre)
        return f"its tag ({track.genre}); {UNHEARD.get(track.verdict, status_words(track.verdict))}"
    # No genre at all: why ("nothing yet" said the same for a track waiting and one unlike every learned genre).
    why = UNHEARD.get(track.verdict, status_words(track.verdict)) if track.verdict else "nothing yet"
    if track.file_genre:  # a placeholder ("Unknown"): no genre
        return f"none: {why} (its tag says {track.file_genre})"
    return f"none: {why}"


class GenreDelegate(QStyledItemDelegate):
    """In-place genre editing: an editable combo of the model's labels plus free text."""

    def __init__(self, labels_source, parent=None):
        super().__init__(parent)
        self.labels_source = labels_source

    def createEditor(self, parent, option, index):  # noqa: N802
        combo = QComboBox(parent)
        combo.setEditable(True)
        combo.addItems(self.labels_source())
        return combo

    def setEditorData(self, editor, index):  # noqa: N802
        editor.setCurrentText(index.data(Qt.ItemDataRole.EditRole) or "")

    def setModelData(self, editor, model, index):  # noqa: N802
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class MainWindow(QMainWindow):
    """Genre Tagger's window; every file operation runs in a job off the GUI thread."""

    def __init__(self, sessions, settings, parent=None):
        super().__init__(parent)
        self.sessions, self.settings = sessions, settings
        # A library on read-only media (opened by open_read_only): browsed, played and exported, never changed.
        self.read_only = is_read_only(sessions)
        self._spellings: dict[str, str] = {}  # genre key -> the library's spelling; read by refresh()
        self.scan_job: Job | None = None
        self._set_aside: set[str] = set()  # folders taken out in Settings: the next scan takes their tracks out
        self._left_out: list[str] | None = None  # folders to leave out, from Settings, until a scan sets them
        self._ask_later: set[str] = set()  # folders that look like spoken word the listener will decide on later
        self._spoken_found: list = []  # what the last scan found that looks like spoken word, asked about after it
        self._unnamed_found: dict[str, int] = {}  # folders named for no genre it knows, asked about once genre folders are on
        self._setting_aside: list[str] = []  # those the running scan takes out
        self.write_busy = False
        self.write_job: Job | None = None  # held here: a parentless QObject dies with its last reference
        self.learn_job: Job | None = None
        self.albums_job: Job | None = None  # One Genre per Album being turned on or off
        self.folders_job: Job | None = None  # Learn From Genre Folders being turned on or off
        self.playlists_job: Job | None = None  # every genre's playlist being written
        self.plan_job: Job | None = None  # Apply Predicted Genres: the plan, read off the GUI thread
        self.last_learned = ""  # what the last `learn` said, for the status bar and the tests
        # Corrections are labels: a learned library relearns a few seconds after the last one.
        self._relearn_timer = QTimer(self, singleShot=True, interval=RELEARN_DELAY_MS, timeout=self._relearn)
        self.labels: list[str] = []
        self.preview = None  # Play Preview's player, made on first use
        self._playlist_folder = ""  # where the last playlist was saved
        # "scan" -> what runs once the scan is done (a learn asked for meanwhile), "learn" -> likewise
        self._deferred: dict[str, Callable[[], object]] = {}
        self._report_learn = False  # the running learn was asked for by the listener: show its report
        self.learn_report: LearnReportDialog | None = None
        self.learn_problem: QMessageBox | None = None  # why an asked-for learn learned nothing
        self.history_dialog: WriteHistoryDialog | None = None
        self._plan_words: tuple[str, str | None] = ("", None)  # the running plan's "nothing to write" and batch name
        # Music copied into (or taken out of) the folders while the window is open is scanned once copying ends;
        # the folders are listed after each scan, and a change during a scan or a write waits for its end.
        self.folder_watch = FolderWatch(self)
        self.folder_watch.changed.connect(self._music_changed)
        self.watch_job: Job | None = None
        self._list_again = False  # a scan ended while the folders were being listed
        self._told_unwatched = False  # that some folders are not watched (the limit): said once
        self._changed_folder = ""  # where music changed while a scan or a write ran: scanned after it
        self._scanning_for_change = ""  # the running scan's folder where music changed (the watch's scan)
        self.setWindowTitle("Genre Tagger (read-only library)" if self.read_only else "Genre Tagger")
        self.setAcceptDrops(not self.read_only)  # music folders dragged from a file manager
        icon = RESOURCES / "icons" / "genre-tagger.svg"
        if icon.exists():
            self.setWindowIcon(QIcon(str(icon)))
        self._build_models()
        self._build_widgets()
        self._build_actions()
        if self.read_only:
            self._offer_reading_only()
        # Actions on the selected tracks are offered only while tracks are selected (a model reset clears it).
        self.table.selectionModel().selectionChanged.connect(self._update_selection_actions)
        self.proxy.modelReset.connect(self._update_selection_actions)
        self._update_selection_actions()
        self.load_model_labels()
        self.refresh()
        self._restore_layout()

    # ---- construction -----------------------------------------------------------------------
    def _build_models(self):
        self.table_model = LibraryTableModel(self)
        self.table_model.correction_requested.connect(self.correct)
        self.proxy = LibraryFilter(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.set_threshold(self.settings.threshold)
        self.genres = GenreListModel(self)

    def _build_widgets(self):
        self.sidebar = QListView()
        self.sidebar.setModel(self.genres)
        # The current row, not a click: arrow keys choose a genre too (a click alone left keyboard users behind).
        self.sidebar.selectionModel().currentChanged.connect(lambda current, _previous: self._genre_chosen(current))
        self.sidebar.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.sidebar.customContextMenuRequested.connect(self._sidebar_menu)
        self.search = QLineEdit(placeholderText="Search title, artist, album, genre…")
        self.search.textChanged.connect(self.proxy.set_search)
        self.review = QCheckBox("Needs review")
        self.review.toggled.connect(self.update_album_flags)
        self.review.toggled.connect(self.proxy.set_review_only)
        self.table = HintTableView(self.empty_table_hint)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(ARTIST, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setItemDelegateForColumn(GENRE, GenreDelegate(self.genre_choices, self.table))
        self.table.verticalHeader().setVisible(False)
        # Rows as tall as the text needs (the style's default showed a third fewer tracks per screen).
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        # A narrow column's title ends in "…" ("File …"): Qt's headers clip it on both sides by default ("le genr").
        self.table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
        self.column_fitter = ColumnFitter(self.table, COLUMN_SHARES, self._worded_columns, self._column_floors)
        self.table.selectionModel().currentRowChanged.connect(self._show_details)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._table_menu)
        self.details = DetailsPanel()
        self.details_track_id: int | None = None  # the track the details panel shows
        # A learned library's analyses keep no windows: the shown track is heard again for its timeline.
        self.timelines = TimelineFiller(self)
        self.timelines.heard.connect(self._timeline_heard)
        self.timelines.not_heard.connect(self._timeline_not_heard)
        center = QWidget()
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.review)
        cl = QVBoxLayout(center)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addLayout(top)
        cl.addWidget(self.table)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.details)
        self.splitter.setSizes([180, 700, 320])
        self.setCentralWidget(self.splitter)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.progress_label = EllipsisLabel()  # learn's verdict can be longer than the room beside the model's label
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_busy)  # the scan's, or the learn's (never both at once)
        self.cancel_button.hide()
        # A write's own progress (it may run beside a scan): shown once it has run a moment, with Stop.
        self.write_label = plain_label()
        self.write_progress = QProgressBar()
        self.write_progress.setMaximumWidth(200)
        self.write_stop = QPushButton("Stop")
        self.write_stop.setToolTip("Stop after the file in hand; what is written stays, and Undo takes it back")
        self.write_stop.clicked.connect(self.stop_write)
        self._write_widgets = (self.write_label, self.write_progress, self.write_stop)
        for widget in self._write_widgets:
            widget.hide()
        self.model_label = plain_label()
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.progress_label)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)
        for widget in self._write_widgets:
            self.statusBar().addPermanentWidget(widget)
        self.statusBar().messageChanged.connect(self._make_room_for_message)
        self.errors = QListWidget()
        self.errors.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.errors.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction("Copy", self.errors, shortcut=QKeySequence.StandardKey.Copy, triggered=self.copy_problems)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.errors.addActions([copy, QAction("Clear", self.errors, triggered=self.clear_problems)])
        self._problem_items: dict[str, QListWidgetItem] = {}  # path -> its line: one line per file
        dock = QDockWidget("Problems", self)
        dock.setObjectName("problems")
        dock.setWidget(self.errors)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()  # shown when the first problem is reported
        self.errors_dock = dock
        self.map_view = MapView()
        self.map_view.track_clicked.connect(self.show_track)
        self.map_view.tracks_selected.connect(self.set_genre_for_tracks)
        self.map_dock = QDockWidget("Library Map", self)
        self.map_dock.setObjectName("library-map")
        self.map_dock.setWidget(self.map_view)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.map_dock)
        self.map_dock.hide()
        self.map_dock.visibilityChanged.connect(lambda shown: shown and self.update_map())
        self.map_job: Job | None = None
        self._name_for_screen_readers()

    def _name_for_screen_readers(self):
        """Names a screen reader speaks for the parts that have no text of their own (Qt leaves them unnamed)."""
        names = {self.sidebar: ("Genres", "choose a genre to show only its tracks"),
                 self.table: ("Library", "your tracks; double-click a genre to correct it"),
                 self.search: ("Search", "title, artist, album or genre"),
                 self.details: ("Track details", "the selected track's genre probabilities"),
                 self.errors: ("Problems", "files that could not be read or written, and why"),
                 self.map_view: ("Library map", "tracks placed by how they sound, coloured by genre")}
        for widget, (name, description) in names.items():
            widget.setAccessibleName(name)
            widget.setAccessibleDescription(description)

    def _action(self, text, shortcut, slot, toolbar=True, fallback: str = ""):
        """An action; a standard shortcut the platform leaves empty (Preferences, Quit on plain X11) gets `fallback`."""
        action = QAction(text, self)
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(QKeySequence.keyBindings(shortcut) or ([QKeySequence(fallback)] if fallback else []))
        elif shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        if toolbar:
            self.toolbar.addAction(action)
        return action

    def _build_actions(self):
        self.toolbar = self.addToolBar("Main")
        self.toolbar.setObjectName("main-toolbar")
        self.add_folder_action = self._action("Add Folder…", "Ctrl+O", self.add_folder)
        self.scan_action = self._action("Scan", "F5", self.scan_or_ask)
        self.apply_action = self._action("Apply Predicted Genres…", "Ctrl+Return", self.review_and_apply)
        self.set_genre_action = self._action("Set Genre…", "Ctrl+G", self.set_genre_for_selection)
        self.play_action = self._action("Play Preview", "Space", self.play_preview)
        self.apply_selection_action = self._action("Apply Predicted Genre to Selection…", "Ctrl+Shift+Return",
                                                   self.review_and_apply_selection, toolbar=False)
        self.show_folder_action = self._action("Show in Folder", "", self.show_selected_in_folder, toolbar=False)
        self.copy_paths_action = self._action("Copy Path", "Ctrl+Shift+C", self.copy_selected_paths, toolbar=False)
        self.forget_action = self._action("Forget Genre Set by Hand", "", self.forget_selected_corrections, toolbar=False)
        self.keep_action = self._action("Keep the File's Genre", "Ctrl+K", self.keep_selected_file_genres, toolbar=False)
        self.keep_action.setStatusTip("The file's own genre tag was right: each selected track keeps it, as set by hand "
                                      "(protected from automatic tagging; files unchanged)")
        self.leave_out_action = self._action("Leave Out Its Folder…", "", self.leave_out_selected_folder, toolbar=False)
        self.leave_out_action.setStatusTip("Scans skip the folder (audiobooks, podcasts) and its tracks leave the "
                                           "library; Settings takes it back")
        # Offered only while tracks are selected.
        self.selection_actions = (self.set_genre_action, self.play_action, self.apply_selection_action, self.keep_action,
                                  self.show_folder_action, self.copy_paths_action, self.forget_action, self.leave_out_action)
        self.changing_selection_actions = (self.set_genre_action, self.apply_selection_action, self.keep_action,
                                           self.forget_action, self.leave_out_action)
        self.export_action = self._action("Export Playlist…", "Ctrl+E", self.export_playlist)
        self.export_all_action = self._action("Export a Playlist per Genre…", "Ctrl+Shift+E", self.export_genre_playlists,
                                              toolbar=False)
        self.export_all_action.setStatusTip("One playlist for each genre in the sidebar, <genre>.m3u8 in the folder you "
                                            "choose; playlists written there before are replaced")
        self.undo_action = self._action("Undo Last Write", QKeySequence.StandardKey.Undo, self.undo_last, toolbar=False,
                                        fallback="Ctrl+Z")
        self.settings_action = self._action("Settings…", QKeySequence.StandardKey.Preferences, self.open_settings,
                                            fallback="Ctrl+,")
        self.learn_action = self._action("Learn My Genres", "Ctrl+L", self.learn_genres_asked)
        self.album_genres_action = self._action("One Genre per Album", "", self.share_album_genres, toolbar=False)
        self.album_genres_action.setCheckable(True)
        self.album_genres_action.setStatusTip("Every track of an album shows (and is written with) one genre: yours where "
                                              "you tagged half of it, else the one its tracks share; a compilation's "
                                              "tracks keep their own")
        self.genre_folders_action = self._action("Learn From Genre Folders", "", self.learn_from_genre_folders, toolbar=False)
        self.genre_folders_action.setCheckable(True)
        self.genre_folders_action.setStatusTip("A track with no genre of its own is learned as the genre its folder is "
                                               "named for (~/Music/Jazz/…): for a library sorted into genre folders")
        with self.sessions() as s:
            self.album_genres_action.setChecked(album_genres_on(s))
            self.genre_folders_action.setChecked(genre_folders_on(s))
        self.classify_action = self._action("Classify Recording…", "Ctrl+R", self.classify_recording, toolbar=False)
        self.history_action = self._action("Write History…", "Ctrl+H", self.show_write_history, toolbar=False)
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for a in (self.add_folder_action, self.scan_action, self.classify_action, self.export_action,
                  self.export_all_action, self.settings_action):
            file_menu.addAction(a)
        file_menu.addAction(self._action("Quit", QKeySequence.StandardKey.Quit, self.close, toolbar=False, fallback="Ctrl+Q"))
        view_menu = menu.addMenu("&View")
        map_action = self.map_dock.toggleViewAction()
        map_action.setShortcut(QKeySequence("Ctrl+M"))
        view_menu.addAction(map_action)
        view_menu.addAction(self.errors_dock.toggleViewAction())  # once closed, the problems had no way back
        self.find_action = self._action("Find", QKeySequence.StandardKey.Find, self.focus_search, toolbar=False,
                                        fallback="Ctrl+F")
        edit_menu = menu.addMenu("&Edit")
        for a in (self.undo_action, self.history_action, self.find_action, self.copy_paths_action, self.set_genre_action, self.apply_action,
                  self.apply_selection_action, self.keep_action, self.learn_action, self.genre_folders_action,
                  self.album_genres_action):
            edit_menu.addAction(a)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("About Genre Tagger", "", self.show_about, toolbar=False))

    def _offer_reading_only(self):
        """Turn off everything that would change the library; say why where the listener looks."""
        self.table_model.editable = False
        for action in (self.add_folder_action, self.scan_action, self.apply_action, self.learn_action, self.album_genres_action,
                       self.genre_folders_action):
            action.setEnabled(False)
        self.read_only_label = plain_label("Read-only library")
        self.read_only_label.setToolTip(READ_ONLY_WORDS)
        self.statusBar().insertPermanentWidget(0, self.read_only_label)

    def _refused_read_only(self) -> bool:
        """True, and said in the status bar, when the library cannot be changed where it is."""
        if self.read_only:
            self.statusBar().showMessage(READ_ONLY_WORDS, 10000)
        return self.read_only

    def focus_search(self):
        """Ctrl+F: to the search box, its text selected (typing replaces it)."""
        self.search.setFocus()
        self.search.selectAll()

    # ---- state ------------------------------------------------------------------------------
    def refresh(self):
        """Reload the table and the sidebar from the database (fast: one column query each)."""
        self._changes_since = datetime.now(timezone.utc)
        self._update_rows(lambda: self.table_model.set_rows(load_rows(self.sessions)))
        self._update_sidebar()
        self._update_after_rows()

    def _update_rows(self, update: Callable[[], None]) -> None:
        """The library's spellings read again, then `update` the table's rows, the tracks in hand still selected."""
        with self.sessions() as s:
            self._spellings = queries.library_spellings(s)  # model labels in the library's spelling ("Hip-Hop")
        kept = self._remember_selection()  # a reload resets the table; a corrected track leaves a filtered one
        update()
        self._restore_selection(*kept)

    def _update_after_rows(self) -> None:
        """What follows the rows: the undo action's words, the album check (when shown) and the map (when open)."""
        self._update_undo_action()
        if self.review.isChecked():
            self.update_album_flags()
        if self.map_dock.isVisible():
            self.update_map()

    def _update_undo_action(self):
        """Edit > Undo names what it would revert (Undo “correction: Jazz” (3 files)), or is off with nothing to undo."""
        last = self.tag_service().next_undo()
        self.undo_action.setEnabled(last is not None and not self.read_only)
        self.undo_action.setText("Undo Last Write" if last is None else f"Undo {undo_words(*last)}")

    def _update_sidebar(self):
        """New counts in the sidebar, the chosen genre still chosen (a reset dropped it while the table stayed
        filtered); a genre that is gone (renamed, merged, corrected away) gives way to all tracks."""
        chosen = self.proxy.genre
        self.genres.set_counts(*load_genre_counts(self.sessions, self.settings.threshold))
        row = self.genres.row_of(chosen)
        if row is None:
            row = 0
            self.proxy.set_genre(None)
        elif chosen is not None and self.genres.index(row, 0).data(GENRE_ROLE) != chosen:
            self.proxy.set_genre(self.genres.index(row, 0).data(GENRE_ROLE))  # now spelled otherwise
        self.sidebar.setCurrentIndex(self.genres.index(row, 0))

    def empty_table_hint(self) -> str:
        """Why the table shows no track, and what to do about it ('' while it shows some)."""
        if self.proxy.rowCount() > 0:
            return ""
        if self.table_model.rowCount() == 0:
            if self.scan_job is not None:
                return "Scanning… your tracks appear here as they are found."
            if not self.settings.folders:
                return "No music yet. Add Folder… (Ctrl+O) chooses your music folder (or drop one here); nothing is written until you say so."
            return "No music found in your folders yet. Scan (F5) looks again; the Problems panel says what was passed over."
        if self.search.text().strip():
            return f"No track matches “{self.search.text().strip()}”."
        if self.review.isChecked():
            return "Nothing needs review here."
        return "No track here."

    def _remember_selection(self) -> tuple[int | None, list[int], int | None]:
        current = self.table.currentIndex()
        return (self.proxy.index(current.row(), 0).data(TRACK_ID_ROLE) if current.isValid() else None,
                self.selected_track_ids(), current.row() if current.isValid() else None)

    def _restore_selection(self, current_id: int | None, selected_ids: list[int], current_row: int | None = None) -> None:
        """Select these tracks again where the table still shows them; the current one shows its (new) details.

        When none of them is shown any more (corrected under "Needs review" or another genre's filter), the track
        that took the current one's place is selected, so a listener working down the list keeps their place.
        """
        rows = sorted(ix.row() for ix in map(self._shown_index, selected_ids) if ix.isValid())
        current = self._shown_index(current_id) if current_id is not None else QModelIndex()
        if not rows and not current.isValid() and current_row is not None and self.proxy.rowCount():
            current = self.proxy.index(min(current_row, self.proxy.rowCount() - 1), 0)
            current_id, rows = current.data(TRACK_ID_ROLE), [current.row()]
        selection, last = QItemSelection(), self.proxy.columnCount() - 1
        runs = [i for i, row in enumerate(rows) if i == 0 or row != rows[i - 1] + 1] + [len(rows)]
        for begin, end in zip(runs, runs[1:], strict=False):  # one range per run of adjacent rows: a select-all stays one range
            selection.select(self.proxy.index(rows[begin], 0), self.proxy.index(rows[end - 1], last))
        model = self.table.selectionModel()
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if current.isValid():
            model.setCurrentIndex(current, QItemSelectionModel.SelectionFlag.NoUpdate)

    def update_album_flags(self, on: bool = True):
        """The album check, computed when "Needs review" is on (a pass over the library: not on every refresh)."""
        if on:
            with self.sessions() as s:
                self.proxy.set_album_flags(queries.album_disagreements(s, self.settings.threshold))

    def refresh_after_write(self):
        """After a write, an undo or a correction: the rows it changed and the sidebar, not a reload of every row
        (at 100,000 tracks a reload held the window 1.0-1.3 s after each correction; bench_table)."""
        self._update_rows(self.refresh_changes)  # which updates the sidebar too, when rows changed
        self._show_details(self.table.currentIndex())  # the shown track's genre, its source, what it teaches: changed
        self._update_after_rows()

    def refresh_changes(self):
        """During a scan: merge only the rows changed since the last look, then the sidebar counts."""
        # Look back a little: a row stamped just before our last look may have committed just after it.
        since = self._changes_since - CHANGE_OVERLAP
        self._changes_since = datetime.now(timezone.utc)
        changed, gone = load_changes(self.sessions, since)
        if changed or gone:
            self.table_model.merge_rows(changed, gone)
            self._update_sidebar()

    def load_model_labels(self):
        """The genre choices for corrections, and the status bar's note of whose genres scans give; read once per
        model, not on every refresh."""
        try:
            path = self.current_model_path()
            info = read_model_info(path)
        except (GenreTaggerError, ValueError) as exc:
            self.labels = []
            self.model_label.setText("Genres: no usable model")
            self.model_label.setToolTip(str(exc))
            return
        self.labels = list(info.labels)
        # Which genres scans give, always in sight: whether the library's learned ones are in use is not obvious.
        whose = ("learned from your library" if is_learned_key(info.key) else
                 Path(path).name if self.settings.model_path else "the shipped model's")
        self.model_label.setText(f"Genres: {whose} ({len(self.labels)})")
        self.model_label.setToolTip(f"Scans use {path} ({info.key}): {', '.join(self.labels)}")

    def genre_choices(self) -> list[str]:
        """What a correction offers: the library's genres and the model's, each once, as the library spells it
        (the model's bare labels, "hiphop", went into files when picked)."""
        names = [name for name, _ in load_genre_counts(self.sessions, self.settings.threshold)[0] if name not in SIDEBAR_NAMES]
        names += list(self._spellings.values())  # the files' own genre tags and the listener's merges
        names += [shown_genre(label, self._spellings) for label in self.labels]
        once = {genre_key(name): name for name in reversed(names)}  # the library's own spelling wins
        return sorted(once.values(), key=natural_key)

    def learned_model_in_use(self) -> bool:
        """True when scans use the library's learned model (none chosen in Settings): corrections relearn it."""
        return not self.settings.model_path and active_model(self.sessions) is not None

    def current_model_path(self):
        """The model scans use: the one chosen in Settings, else the library's learned one, else the shipped one."""
        return resolve_model(self.settings.model_path or None, active_model(self.sessions))

    def about_text(self) -> str:
        """What Help > About says: the version, the model in use, and where this window's data lives."""
        try:
            info = read_model_info(self.current_model_path())
            model = f"{info.key}, {count(len(info.labels), 'genre')}"
        except (GenreTaggerError, ValueError) as exc:
            model = f"cannot be read ({exc})"
        db = database_path(self.sessions)
        facts = [("Model in use", model), ("Library database", str(db)),
                 ("Its daily copy", str(library_copy_file(db)) if db is not None else "none (in memory)"),
                 ("Settings", self.settings.store.fileName()), ("Your models", str(user_models_dir())), ("Logs", str(log_dir()))]
        return (f"<h3>Genre Tagger {html.escape(__version__)}</h3><p>Tags your music with its genres, offline, and learns "
                "your own genres from your tags and corrections. Every write is journalled and can be undone.</p>"
                + "".join(f"<p><b>{name}:</b><br>{html.escape(value)}</p>" for name, value in facts))

    def show_about(self):
        """Help > About Genre Tagger."""
        QMessageBox.about(self, "About Genre Tagger", self.about_text())

    def report_problem(self, path: str, reason: str):
        """Show a problem in the problems panel (never a crash, never a modal per file)."""
        # Every scan names the files it knows are broken again: one line per file, saying the latest.
        line = f"{path}: {reason}"
        if path in self._problem_items:
            self._problem_items[path].setText(line)
        else:
            self._problem_items[path] = QListWidgetItem(line, self.errors)
        self.errors_dock.show()

    def clear_problems(self):
        """Empty the problems panel (a problem still there is named again by the next scan)."""
        self.errors.clear()
        self._problem_items.clear()

    def copy_problems(self):
        """The selected problems (all when none is selected) to the clipboard, one per line."""
        items = self.errors.selectedItems() or [self.errors.item(i) for i in range(self.errors.count())]
        QApplication.clipboard().setText("\n".join(item.text() for item in items))

    def _genre_chosen(self, index: QModelIndex):
        genre = index.data(GENRE_ROLE) if index.isValid() else None
        if genre != self.proxy.genre:  # a reload choosing the same row again must not filter 100,000 rows again
            self.proxy.set_genre(genre)

    def _sidebar_menu(self, pos):
        genre = self.sidebar.indexAt(pos).data(GENRE_ROLE)
        if not genre or genre in SIDEBAR_NAMES:  # Uncertain, No genre: not genres to merge or rename
            return
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        for text, act in self.genre_actions(genre):
            menu.addAction(text, act)
        menu.exec(self.sidebar.viewport().mapToGlobal(pos))

    def genre_actions(self, genre: str) -> list[tuple[str, Callable[[], None]]]:
        """The sidebar menu of a genre: rename, merge, and take back each genre merged into it."""
        with self.sessions() as s:
            merged_in = [source for source, target in merges_in_effect(s) if genre_key(target) == genre_key(genre)]
        return ([("Rename…", lambda: self.rename_genre(genre)), ("Merge Into…", lambda: self.rename_genre(genre, merge=True))]
                + [(f"Separate {source} Again", functools.partial(self.separate_genre, source)) for source in merged_in])

    def separate_genre(self, genre: str):
        """Take back a merge: `genre` is its own genre again (learned again on the next learn)."""
        if self._refused_read_only():
            return
        try:
            merge_and_rename(self.sessions, genre, genre)
        except GenreTaggerError as exc:
            self.report_problem("genres", exc.reason)
            return
        self.refresh()
        self.statusBar().showMessage(f"{genre} is its own genre again; tracks already shown as the merged genre "
                                     "change when your genres are learned again", 8000)
        if self.learned_model_in_use():
            self._schedule_relearn()

    def rename_genre(self, genre: str, merge: bool = False, target: str | None = None):
        """Remember that `genre` is `target` (asked for when not given): shown and learned so from now on."""
        if self._refused_read_only():
            return
        if target is None:
            choices = [g for g, _ in load_genre_counts(self.sessions, self.settings.threshold)[0] if g != genre and g not in SIDEBAR_NAMES]
            title = "Merge genre" if merge else "Rename genre"
            target, ok = QInputDialog.getItem(self, title, f"{genre} becomes:", choices if merge else [genre], 0, True)
            if not ok or not target.strip():
                return
        try:
            renamed = merge_and_rename(self.sessions, genre, target.strip())
        except GenreTaggerError as exc:
            self.report_problem("genres", exc.reason)
            return
        if self.proxy.genre is not None and genre_key(self.proxy.genre) == genre_key(genre):
            self.proxy.set_genre(target.strip())  # the table keeps showing those tracks, under their new name
        self.refresh()
        self.statusBar().showMessage(f"{genre} is now {target.strip()} ({count(renamed, 'track')}); remembered for learning", 6000)
        if self.learned_model_in_use():
            self._schedule_relearn()

    def selected_track_ids(self) -> list[int]:
        """Ids of the selected rows, in the table's order."""
        return [self.shown_row(row).id for row in self._selected_rows()]

    def shown_row(self, proxy_row: int):
        """The data of a row as the table shows it (filtered)."""
        return self.table_model.row_at(self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row())

    def _show_details(self, current: QModelIndex, _previous=None):
        if not current.isValid():
            return
        track_id = self.details_track_id = self.proxy.index(current.row(), 0).data(TRACK_ID_ROLE)
        with self.sessions() as s:
            track = s.get(Track, track_id)
            analysis = queries.latest_analysis(s, track_id)
            title = track.title or Path(track.path).name
            album_by = (f"{track.album}, album by {track.album_artist}" if track.album and track.album_artist
                        and track.album_artist.casefold() != track.artist.casefold() else track.album)
            who = " — ".join(html.escape(part) for part in (track.artist, album_by) if part)
            heading = f"<b>{html.escape(title)}</b>" + (f"<br>{who}" if who else "") + f"<br><small>{html.escape(track.path)}</small>"
            album = album_genre_of(s, track_id)
            apart = album is None and self.album_genres_action.isChecked() and in_compilation(s, track_id)
            heading += f"<br>Genre from: {html.escape(genre_source(track, analysis, album, self._spellings, apart))}"
            heading += f"<br>{html.escape(teaches_words(what_it_teaches(s, track, self._spellings)))}"
            if track.error:
                heading += f"<br><span style='color:#b00'>{html.escape(track.error)}</span>"
            if analysis is None or not analysis.probabilities:
                self.details.show_track(heading + ("" if track.error else "<br>not analysed yet"), [], [], [], [])
            else:
                labels = [shown_genre(label, self._spellings) for label in analysis.labels]  # as the table shows them
                self.details.show_track(heading, labels, analysis.probabilities, analysis.window_starts,
                                        analysis.window_probabilities)
                # Only learn's re-predictions keep no windows; a track gone from its folder cannot be heard.
                if not analysis.window_probabilities and is_learned_key(analysis.model_key) and not track.missing:
                    self._hear_windows(Wanted(track_id, track.path, analysis.model_key, analysis.audio_hash))

    def _hear_windows(self, wanted: Wanted):
        """Fill the timeline of an analysis that keeps no windows (`learn`'s re-prediction): heard before, or now."""
        heard = self.timelines.timeline(wanted)
        if heard is not None:
            self.details.set_timeline(*heard)
            return
        try:
            model_path = self.current_model_path()
        except (GenreTaggerError, ValueError):
            return  # "no per-window data"; the model's own problem is reported where it is used
        self.details.set_timeline([], [], "listening to the track again for its per-window genres…")
        self.timelines.ask(wanted, model_path, self.settings.tagging().analysis(), self.settings.device)

    def _timeline_heard(self, track_id: int, starts, window_probabilities):
        if track_id == self.details_track_id:
            self.details.set_timeline(starts, window_probabilities)

    def _timeline_not_heard(self, track_id: int, why: str):
        if track_id == self.details_track_id:
            self.details.set_timeline([], [], f"no per-window data: {why}")

    # ---- scanning ---------------------------------------------------------------------------
    def add_folder(self):
        """Choose a music folder, remember it, and scan."""
        folder = choose_music_folder(self)
        if folder:
            self.add_folders([folder])

    def add_folders(self, folders: list[str]):
        """Remember folders and scan them."""
        if self._refused_read_only():
            return
        self.settings.folders = sorted(set(self.settings.folders) | set(folders))
        self.settings.save()
        self.start_scan()

    @staticmethod
    def dropped_folders(mime) -> list[str]:
        """The local folders among what is dragged over the window (files and web links are not taken)."""
        if not mime.hasUrls():
            return []
        paths = (Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile())
        return [str(path) for path in paths if path.is_dir()]

    def dragEnterEvent(self, event):  # noqa: N802 (Qt's name)
        if self.dropped_folders(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event):  # noqa: N802 (Qt's name)
        folders = self.dropped_folders(event.mimeData())
        if folders:  # a folder dropped on the window is added to the library, as Add Folder… does
            event.acceptProposedAction()
            self.add_folders(folders)

    def left_out_folders(self) -> list[str]:
        """The folders left out of the library, as the next scan will leave them."""
        return list(self._left_out) if self._left_out is not None else Library(self.sessions).left_out()

    def folders_removed(self, before: list[str]):
        """Folders no longer in Settings leave the library at the next scan (their tracks kept as missing)."""
        self._set_aside = (self._set_aside | (set(before) - set(self.settings.folders))) - set(self.settings.folders)

    def scan_or_ask(self):
        """Scan the remembered folders; with none yet, the folders this library's scans walked before (the command
        line's too), else ask for one: Scan never does nothing, and a library scanned elsewhere is not asked for."""
        if self.read_only or self.settings.folders or self._set_aside:
            self.start_scan()
            return
        known = Library(self.sessions).folders()
        if not known:
            self.add_folder()
            return
        self.add_folders(known)
        self.statusBar().showMessage(f"Your music folders, from this library's earlier scans: {', '.join(known)}"
                                     " (Settings changes them)", 15000)

    def start_scan(self, *, changed_folder: str = ""):
        """Scan the remembered folders in the background (no-op while one runs; after a learn in progress).
        `changed_folder`: the folder watch asked for it, as music came or went there."""
        if self.read_only:  # asked for at start and after Settings too: said once, by the status bar's label
            return
        if self.scan_job is not None or not (self.settings.folders or self._set_aside):
            return
        if self.learn_job is not None:  # it may make another model active: the scan uses whichever it leaves
            self._deferred["learn"] = self.start_scan
            return
        try:
            model_path = self.current_model_path()
            model = GenreModel(model_path, device=self.settings.device)
        except (GenreTaggerError, ValueError) as exc:
            self.report_problem(str(exc.path) if getattr(exc, "path", None) else "model", getattr(exc, "reason", str(exc)))
            return
        tagging = self.settings.tagging()
        self._setting_aside = sorted(self._set_aside)  # what this scan takes out; more may be removed meanwhile
        self._leaving_out = self._left_out
        fn = scan_function(self.sessions, tagging, lambda: Analyzer(model, tagging.analysis()), list(self.settings.folders),
                           self._setting_aside, self._leaving_out)
        self.scan_job = Job(fn, "scan")
        self._scanning_for_change = changed_folder
        self.scan_job.progress.connect(self._scan_progress)
        self.scan_job.staged.connect(self._walk_progress)
        self.scan_job.finished.connect(self._scan_finished)
        self.scan_job.failed.connect(self._scan_failed)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.table.viewport().update()  # an empty table says a scan is on
        self.progress_label.setText("Looking for music…")
        self._refresh_timer = QTimer(self, interval=1500, timeout=self.refresh_changes)  # the library fills in while it scans
        self._refresh_timer.start()
        start_job(self.scan_job)

    def cancel_scan(self):
        """Stop the scan after the track in hand; what is done is kept."""
        if self.scan_job is not None:
            self.scan_job.cancel()
            self.progress_label.setText("Cancelling…")

    def cancel_busy(self):
        """Cancel: stop the scan after the track in hand, or the learn before it changes anything."""
        if self.scan_job is not None:
            self.cancel_scan()
        elif self.learn_job is not None:
            self.learn_job.cancel()
            self.progress_label.setText("Stopping…")

    def _walk_progress(self, p: SyncProgress):
        if self.scan_job is None or self.scan_job.cancel_event.is_set():
            return  # a report queued before the scan ended or was cancelled must not cover what the window says now
        if p.total is None:
            self.progress.setRange(0, 0)  # busy: how many files there are is known only when the walk ends
        else:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.progress_label.setText(walk_progress(p.done, p.total, p.rate))

    def _scan_progress(self, done: int, total: int, rate: float):
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress_label.setText(scan_progress(done, total, rate))

    def _scan_done(self):
        self.scan_job = None
        self._refresh_timer.stop()
        self.progress.hide()
        self.cancel_button.hide()
        self.refresh()
        self._run_deferred("scan")
        self.watch_folders()
        self._scan_changed_music()

    # ---- watching the folders (new music scanned while the window is open) --------------------
    def watch_folders(self):
        """List the music folders off the GUI thread, then watch them (with the setting on; else watch none)."""
        if self.read_only or not self.settings.watch_folders or not self.settings.folders:
            self.folder_watch.stop()
            return
        if self.watch_job is not None:  # one listing at a time: a second would be dropped with its last reference
            self._list_again = True
            return
        folders = list(self.settings.folders)
        left_out = self.left_out_folders()
        self.watch_job = Job(lambda _report, cancel: (music_folder_names(folders, MAX_FOLDERS + 1, cancel, left_out), left_out),
                             "watch")
        self.watch_job.finished.connect(self._watch_listed)
        self.watch_job.failed.connect(self._watch_failed)
        start_job(self.watch_job)

    def _watch_listed(self, listed: tuple[dict | None, list[str]]):
        folders, left_out = listed
        if folders is not None and self.settings.watch_folders:  # not stopped (quitting), not turned off meanwhile
            self.folder_watch.watch(folders, left_out=left_out)
            unwatched = self.folder_watch.unwatched
            if unwatched and not self._told_unwatched:  # said once a session: the log says it at every listing
                self._told_unwatched = True
                more = "more" if len(folders) > MAX_FOLDERS else f"{unwatched:,} more"  # the listing stopped there
                self.report_problem("watching the music folders",
                                    f"watching {count(self.folder_watch.watching(), 'folder')} for new music; {more} "
                                    f"are not watched (past {MAX_FOLDERS:,}, or the system's limit: "
                                    "fs.inotify.max_user_watches); "
                                    "Scan (F5) finds new music there")
        self._watch_listing_done()

    def _watch_failed(self, message: str):
        self.report_problem("watching the music folders", message)
        self._watch_listing_done()

    def _watch_listing_done(self):
        self.watch_job = None
        if self._list_again:  # a scan ended while the folders were being listed: list them as it left them
            self._list_again = False
            self.watch_folders()

    def _music_changed(self, folders: list[str]):
        """Music came, went or was renamed in `folders`: scan, now or once the scan or write in hand is done.

        Not for a music folder that went or emptied (a drive unplugged): a scan would take its tracks out of view
        until the next one, and nothing is heard when the drive comes back. Scan does it when asked."""
        gone, live = outside_unplugged(self.settings.folders, folders)
        if len(live) < len(folders):
            self.statusBar().showMessage(f"{', '.join(gone)}: gone or empty (a drive unplugged?); its tracks are "
                                         "left as they are (Scan takes them out)", 15000)
        if not live:
            return
        self._changed_folder = live[0]
        if self.scan_job is None and not self.write_busy:
            self._scan_changed_music()

    def _scan_changed_music(self):
        if not self._changed_folder or self.scan_job is not None or self.write_busy:
            return
        folder, self._changed_folder = self._changed_folder, ""
        self.statusBar().showMessage(f"Music came or went in {folder}: scanning", 8000)
        self.start_scan(changed_folder=folder)

    def _scan_finished(self, outcome):
        self._set_aside -= set(self._setting_aside)  # done before the sync, so a cancelled scan did it too
        if self._left_out == self._leaving_out:  # set by this scan (Settings may have changed it again meanwhile)
            self._left_out = None
        elif not outcome.cancelled:  # changed while this scan ran, which could not take it up: the next one does
            QTimer.singleShot(0, self.start_scan)
        if outcome.cancelled:  # the listener stopped scanning: music that came meanwhile waits for the next scan
            self._changed_folder = ""
        self._scan_done()
        for path, reason in outcome.problems:
            self.report_problem(path, reason)
        state = "cancelled" if outcome.cancelled else "done"
        aside = f", {count(outcome.set_aside, 'track')} of folders removed or left out taken out" if outcome.set_aside else ""
        failed = f", {outcome.failed:,} could not be (see Problems)" if outcome.failed else ""
        found = outcome.nothing_found or f"{count(outcome.found, 'file')}, {outcome.analysed:,} analysed{failed}"
        self.progress_label.setText(f"Scan {state}: {found}{aside}")
        if not outcome.cancelled and not self.settings.model_path and active_model(self.sessions) is None:
            self.statusBar().showMessage(lost_model_warning(self.sessions)
                                         or readiness(self.sessions, how_to_learn="Learn My Genres learns them",
                                                      how_to_use_folders=FOLDERS_HINT,
                                                      how_to_use_anyway="Learn My Genres offers Use It Anyway"), 15000)
        elif (not outcome.cancelled and not self.settings.model_path and self.learn_job is None
              and not self._relearn_timer.isActive()  # relearning by itself already (after corrections here)
              and (relearn := relearn_hint(self.sessions, how_to_learn="learning them again"))):
            # Tags changed elsewhere (another player, the command line): relearned as after corrections here.
            self.statusBar().showMessage(relearn[:1].upper() + relearn[1:], 15000)
            self._schedule_relearn()
        if not outcome.cancelled and outcome.spoken_word:  # asked once the scan's signal is handled, not inside it
            self._spoken_found = outcome.spoken_word
            QTimer.singleShot(0, self._ask_after_scan)  # a bound method: dropped with the window if it closes first

    def _ask_after_scan(self):
        self.ask_about_spoken_word(self._spoken_found)

    def ask_about_spoken_word(self, folders: list):
        """Ask whether folders that look like spoken word (audiobooks, podcasts) leave the library or stay as music;
        each is asked once a session until answered."""
        left_out = self.left_out_folders()
        folders = [f for f in folders if f.path not in self._ask_later and not within(left_out)(f.path)]
        if folders and not self.read_only:
            self._ask_spoken(folders)

    def _ask_spoken(self, folders: list) -> list[str] | None:
        """Ask about `folders` and do what the listener answers; the folders kept as music (None: Ask Later)."""
        answer = ask_about_spoken_word(self, folders)
        if answer is None:
            self._ask_later |= {f.path for f in folders}
            return None
        leave, keep = answer
        try:
            if keep:
                Library(self.sessions).keep_as_music(keep)
        except GenreTaggerError as exc:  # deleted or moved while the question was open
            self.report_problem(str(exc.path), exc.reason)
            keep = []
        if leave:
            self._left_out = sorted({*self.left_out_folders(), *leave})
            self.statusBar().showMessage(f"Leaving out {', '.join(leave)}: their tracks leave the library "
                                         "(Settings takes them back)", 10000)
            self.start_scan()  # or, while one runs, the one after it
        return keep

    def _scan_failed(self, message: str):
        busy, folder = isinstance(self.scan_job.error, LibraryBusy), self._scanning_for_change
        self._scan_done()
        if busy and folder:  # `scan --watch` or a `set` in a terminal has the library: this scan waits its turn
            self.progress_label.setText("Another Genre Tagger is scanning or writing this library; scanning here after it")
            self._changed_folder = self._changed_folder or folder
            QTimer.singleShot(BUSY_RETRY_MS, self._scan_changed_music)
            return
        self.report_problem("scan", message)
        self.progress_label.setText("Scan failed")

    # ---- writing (one writer at a time, off the GUI thread) ---------------------------------
    def tag_service(self) -> TagService:
        """A TagService with the current settings."""
        return TagService(self.sessions, self.settings.tagging())

    def run_write(self, fn, done_text: str | Callable[[object], str], also_finished: tuple = (), doing: str = "Writing tags"):
        """Run a write/undo function, fn(report, cancel), on the single writer thread; its progress shows as `doing`
        with Stop once it runs a moment; report its result (`done_text`, or made from it)."""
        if self._refused_read_only():
            return None
        if self.write_busy:
            self.statusBar().showMessage("A write is still running", 3000)
            return None
        self.write_busy, self._write_text, self._write_doing = True, done_text, doing
        self.write_job = background(fn, "write", self._write_finished, self._write_failed, also_finished,
                                    progress=self._write_progress)
        QTimer.singleShot(WRITE_PROGRESS_AFTER_MS, self._show_write_progress)  # a quick write shows nothing
        return self.write_job

    def _show_write_progress(self):
        if self.write_job is None:
            return
        if not self.write_label.text():
            self.write_label.setText(f"{self._write_doing}…")
            self.write_progress.setRange(0, 0)
        for widget in self._write_widgets:
            widget.show()
        self.write_stop.setEnabled(True)

    def _write_progress(self, done: int, total: int, rate: float):
        self.write_progress.setRange(0, total)
        self.write_progress.setValue(done)
        self.write_label.setText(f"{self._write_doing}: {scan_progress(done, total, rate, noun='files')}")

    def stop_write(self):
        """Stop the running write or undo after the file in hand; what is done stays (and can be undone)."""
        if self.write_job is not None:
            self.write_job.cancel()
            self.write_stop.setEnabled(False)
            self.write_label.setText("Stopping…")

    def _write_done(self):
        self.write_busy, self.write_job = False, None
        for widget in self._write_widgets:
            widget.hide()
        self.write_label.clear()
        QTimer.singleShot(0, self._scan_changed_music)  # after the write's own refresh

    def _write_finished(self, result):
        self._write_done()
        for path, reason in getattr(result, "failed", []) + getattr(result, "refused", []):
            self.report_problem(path, reason)
        self.refresh_after_write()
        text = stopped_words(result) or (self._write_text(result) if callable(self._write_text) else self._write_text)
        self.statusBar().showMessage(text, 8000)

    def _write_failed(self, message: str):
        self._write_done()
        self.report_problem("write", message)
        self.refresh_after_write()

    def correct(self, track_ids: list[int], genre: str):
        """Record a hand correction for tracks, write it to their files (journalled)."""
        with self.sessions() as s:
            paths = [s.get(Track, i).path for i in track_ids]
        service = self.tag_service()
        return self.run_write(lambda report, cancel: service.correct(paths, genre, source="gui", progress=report, cancel=cancel),
                              f"Set {count(len(paths), 'track')} to {genre}", also_finished=self._relearn_after())

    def _relearn_after(self) -> tuple:
        """`also_finished` for a write that changes labels (corrections): a relearn where a learned model is in use."""
        return (self._schedule_relearn,) if self.learned_model_in_use() else ()

    def _update_selection_actions(self, *_):
        selected = self.table.selectionModel().hasSelection()
        for action in self.selection_actions:
            action.setEnabled(selected and not (self.read_only and action in self.changing_selection_actions))

    def track_menu_actions(self) -> list[QAction | None]:
        """The table's right-click menu: what can be done with the selected tracks (None: a separator)."""
        return [self.set_genre_action, self.keep_action, self.forget_action, self.apply_selection_action, self.play_action, None,
                self.show_folder_action, self.copy_paths_action, None, self.leave_out_action]

    def _table_menu(self, pos):
        if not self.table.indexAt(pos).isValid():
            return
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        for action in self.track_menu_actions():
            menu.addSeparator() if action is None else menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def selected_paths(self) -> list[str]:
        """Paths of the selected rows, in the table's order."""
        return [self.shown_row(row).path for row in self._selected_rows()]

    def _selected_rows(self) -> list[int]:
        # From the selection's ranges: selectedRows() asks every cell of 100,000 rows.
        return sorted({row for r in self.table.selectionModel().selection() for row in range(r.top(), r.bottom() + 1)})

    def forget_selected_corrections(self):
        """Forget the genres set by hand on the selected tracks (files unchanged): their predictions show again."""
        paths, service = self.selected_paths(), self.tag_service()
        return self.run_write(lambda _report, _cancel: service.forget_corrections(paths)[0], lambda forgotten: (
            f"Forgot the genre set by hand of {count(len(forgotten), 'track')}; predictions show again (files unchanged)"
            if forgotten else "No genre set by hand among the selected tracks"), also_finished=self._relearn_after())

    def keep_selected_file_genres(self):
        """The selected tracks keep the genre their own tags say, as set by hand (the tag was right, the prediction
        not): one step for tracks of different genres, where Set Genre… gives them all one. Files unchanged."""
        paths, service = self.selected_paths(), self.tag_service()
        return self.run_write(lambda _report, _cancel: service.keep_file_genres(paths, source="gui"), kept_words,
                              also_finished=self._relearn_after(), doing="Keeping the files' genres")

    def show_selected_in_folder(self):
        """Show the (first) selected track in the file manager, selected in its folder."""
        paths = self.selected_paths()
        if paths:
            show_in_folder(paths[0], lambda why: self.report_problem(paths[0], f"cannot show it in its folder: {why}"), self)

    def leave_out_selected_folder(self):
        """Leave the (first) selected track's folder, or a folder above it inside its music folder, out of the
        library: the next scan sets it, and its tracks leave the table."""
        paths = self.selected_paths()
        if not paths or self._refused_read_only():
            return
        folder = Path(paths[0]).parent
        music = next((Path(m).expanduser().absolute() for m in self.settings.folders if within([m])(str(folder))), None)
        above = [folder, *folder.parents]
        candidates = [str(f) for f in above[:above.index(music)]] if music in above else [str(folder)]
        if not candidates:  # the track lies in a music folder itself
            self.statusBar().showMessage(f"{folder} is one of your music folders: Settings removes it", 10000)
            return
        chosen = choose_folder_to_leave(self, candidates)
        if not chosen:
            return
        self._left_out = sorted({*self.left_out_folders(), chosen})
        self.statusBar().showMessage(f"Leaving out {chosen}: its tracks leave the library (Settings takes it back)", 10000)
        self.start_scan()  # or, while one runs, the one after it

    def copy_selected_paths(self):
        """Copy the selected tracks' paths to the clipboard, one per line, in the table's order."""
        paths = self.selected_paths()
        if paths:
            copy_paths(paths)
            self.statusBar().showMessage(f"Copied {count(len(paths), 'path')}", 3000)

    def set_genre_for_selection(self):
        """Assign one genre to every selected track."""
        self.set_genre_for_tracks(self.selected_track_ids())

    def review_and_apply(self):
        """Plan the changes in the background (seconds at 100,000 tracks), then show them; write only what the
        listener accepts. Predictions for folders that look like spoken word wait for the listener's answer."""
        service, library = self.tag_service(), Library(self.sessions)

        def plan() -> tuple[list, list, list]:
            spoken = library.spoken_word()
            changes, held = hold_back(service.plan(), [f.path for f in spoken])
            return changes, held, [f for f in spoken if any(within([f.path])(c.path) for c in held)]

        return self._plan_and_review(plan, "Nothing to write under the current policy", None)

    def review_and_apply_selection(self):
        """Apply Predicted Genre to Selection: the selected tracks' genres (confident prediction, or correction)
        whatever their files say now, as asked for by hand, each shown for review before anything is written."""
        ids = self.selected_track_ids()
        if not ids:
            return None
        service = self.tag_service()

        def plan() -> tuple[list, list, list]:  # asked for by hand: nothing held back
            return service.plan(ids, "replace"), [], []

        return self._plan_and_review(plan, "Nothing to write: the selected files already say their genre, or its "
                                     "prediction is uncertain (set one with Set Genre…)", "applied to selected tracks")

    def _plan_and_review(self, plan: Callable[[], list], nothing: str, description: str | None):
        if self.plan_job is not None or self._refused_read_only():
            return None
        self._plan_words = (nothing, description)  # read by _plan_ready: background() takes bound methods only
        self.statusBar().showMessage("Planning the changes…")
        self.plan_job = background(plan, "plan", self._plan_ready, self._plan_failed)
        return self.plan_job

    def _plan_ready(self, planned: tuple[list, list, list]):
        self.plan_job = None
        changes, held, spoken = planned
        nothing, description = self._plan_words
        waiting = ""
        if held:  # the listener asked to write: asked now, also after Ask Later
            kept = self._ask_spoken(spoken)
            changes = sorted(changes + [c for c in held if kept and within(kept)(c.path)], key=lambda c: c.path)
            if kept is None:
                waiting = (f"; {count(len(held), 'track')} in folders that look like spoken word wait for your answer "
                           "(asked again at the next Apply)")
        if not changes:
            self.statusBar().showMessage(nothing + waiting, 10000)
            return
        if waiting:
            self.statusBar().showMessage(waiting[2:], 10000)
        else:
            self.statusBar().clearMessage()
        dialog = ReviewDialog(changes, self)
        if dialog.exec() == ReviewDialog.DialogCode.Accepted:
            self.apply_changes(dialog.accepted_changes(), description)

    def _plan_failed(self, message: str):
        self.plan_job = None
        self.statusBar().clearMessage()
        self.report_problem("apply", message)

    def apply_changes(self, changes, description: str | None = None):
        """Write accepted changes as one batch (`description` names it in the undo list)."""
        service = self.tag_service()
        description = description or f"applied from the app ({self.settings.policy})"
        return self.run_write(lambda report, cancel: service.apply(changes, description, progress=report, cancel=cancel),
                              lambda result: f"Wrote {count(len(result.written), 'file')}")

    def undo_last(self):
        """Undo the newest batch of writes."""
        return self.undo_batch(None)

    def show_write_history(self):
        """Edit > Write History: the batches of writes; undo the one chosen (an older one too, as `undo --batch`)."""
        service = self.tag_service()
        dialog = self.history_dialog = WriteHistoryDialog(service.batches(limit=500), self, can_undo=not self.read_only)
        dialog.accepted.connect(lambda: dialog.chosen is not None and self.undo_batch(dialog.chosen))
        dialog.open()
        return dialog

    def undo_batch(self, batch_id: int | None):
        """Undo one batch of writes (None: the newest); files changed since are named in the problems panel."""
        service = self.tag_service()
        done = "Undo done" if batch_id is None else f"Undid batch {batch_id}"

        def said(result) -> str:  # an undo of a correction's write forgets the correction too
            return done + (f"; took back {count(result.corrections, 'genre')} set by hand" if result.corrections else "")

        return self.run_write(lambda report, cancel: service.undo(batch_id, progress=report, cancel=cancel), said,
                              also_finished=self._relearn_after(), doing="Undoing")

    # ---- the library map --------------------------------------------------------------------
    def update_map(self):
        """Compute the map in the background (the layout is cached until the analysed tracks change)."""
        if self.map_job is not None:
            return None
        sessions, threshold = self.sessions, self.settings.threshold
        self.map_job = background(lambda: compute_map(sessions, threshold), "map", self._map_ready, self._map_failed)
        return self.map_job

    def _map_ready(self, library_map):
        self.map_job = None
        self.map_view.set_map(library_map)

    def _map_failed(self, message: str):
        self.map_job = None
        self.report_problem("map", message)

    def _shown_index(self, track_id: int) -> QModelIndex:
        """The table's (filtered) index of a track; invalid where it is not shown."""
        row = self.table_model.row_of(track_id)
        return QModelIndex() if row is None else self.proxy.mapFromSource(self.table_model.index(row, 0))

    def show_track(self, track_id: int):
        """Select a track in the table and show its details (or say that the table's filters hide it)."""
        index = self._shown_index(track_id)
        if not index.isValid():
            self.statusBar().showMessage("That track is hidden by the table's search or filters", 4000)
            return
        self.table.selectRow(index.row())
        self.table.scrollTo(index)

    def set_genre_for_tracks(self, track_ids: list[int]):
        """Ask for one genre and correct every given track (a rubber band on the map, say)."""
        if not track_ids or self._refused_read_only():
            return
        choices = self.genre_choices()
        # The genre these tracks show now comes up first, selected: Enter confirms it (a label to learn from),
        # typing replaces it. It offered the alphabet's first genre, which Enter then set on every track.
        shown = Counter(row.genre for row in map(self.table_model.track, track_ids) if row is not None and row.genre)
        now = shown.most_common(1)[0][0] if shown else ""
        if now and now not in choices:
            choices.insert(0, now)
        genre, ok = QInputDialog.getItem(self, "Set genre", f"Genre for {count(len(track_ids), 'track')}:", choices or [""],
                                         choices.index(now) if now else 0, True)
        if ok and genre.strip():
            self.correct(track_ids, genre.strip())

    def classify_recording(self, recorder=None):
        """Record or open a file outside the library and show its genres (nothing is added)."""
        from desktop.ui.classify_dialog import ClassifyDialog

        try:
            model = self.current_model_path()
        except (GenreTaggerError, ValueError) as exc:
            self.report_problem("model", getattr(exc, "reason", str(exc)))
            return None
        self.classify_dialog = ClassifyDialog(model, recorder, self, spellings=self._spellings)
        self.classify_dialog.show()
        return self.classify_dialog

    # ---- learning the listener's genres ---------------------------------------------------------
    def learn_genres_asked(self):
        """Learn My Genres: learn, then show the report (a relearn after corrections only updates the status)."""
        self._report_learn = True
        return self.learn_genres()

    def learn_genres(self, activate: bool | None = None):
        """Learn the library's own genres in the background; say what was learned. During a scan it waits
        for the scan: a model made active halfway would leave the scan's last tracks under the old one.
        `activate`: True uses the learned model whatever the figures say (None: they decide)."""
        if self.learn_job is not None or self._refused_read_only():
            return None
        if self.scan_job is not None:
            self._deferred["scan"] = functools.partial(self.learn_genres, activate)
            self.statusBar().showMessage("Learning your genres when the scan is done…", 6000)
            return None
        try:
            base = resolve_model(self.settings.model_path or None)
        except (GenreTaggerError, ValueError) as exc:
            self.report_problem("model", getattr(exc, "reason", str(exc)))
            return None
        sessions, out_dir = self.sessions, user_models_dir()
        self.progress_label.setText("Learning your genres…")
        self.progress.setRange(0, 0)  # busy: it says its steps, seconds each on a large library, and can be cancelled
        self.progress.show()
        self.cancel_button.show()
        self.learn_job = Job(lambda report, cancel: learn(sessions, base, out_dir, activate=activate, stage=report.stage,
                                                          how_to_use_folders=FOLDERS_HINT, cancel=cancel), "learn")
        self.learn_job.staged.connect(self._learn_stage)  # each step in words: seconds each on a large library
        self.learn_job.finished.connect(self._learn_finished)
        self.learn_job.failed.connect(self._learn_failed)
        start_job(self.learn_job)
        return self.learn_job

    def _learn_stage(self, text: str):
        if self.learn_job is not None and not self.learn_job.cancel_event.is_set():  # "Stopping…" stays
            self.progress_label.setText(text)

    def _learn_done(self):
        self.learn_job = None
        self.progress.hide()  # a scan asked for meanwhile waited for this learn (start_scan), and shows its own
        self.cancel_button.hide()

    def _schedule_relearn(self, _result=None):
        self._relearn_timer.start()

    def _relearn(self):
        if self.learn_job is not None or self.write_busy:
            self._relearn_timer.start()  # try again once the write or the last learn is done
            return
        self.learn_genres()

    def _learn_finished(self, report):
        self._learn_done()
        self.last_learned = report.summary() + ("" if report.activated else f"; not used: {report.why}")
        self.progress_label.setText(self.last_learned)
        self.load_model_labels()
        self.refresh()
        if self._report_learn:  # asked for: what was learned, what was left out, and the choice to use it
            self._report_learn = False
            offer = self.album_genres_action.isEnabled() and not self.album_genres_action.isChecked()
            dialog = self.learn_report = LearnReportDialog(report, self, offer_albums=offer)
            # This dialog's choice (a report still open from an earlier learn answers for its own learn).
            dialog.finished.connect(lambda _result: dialog.use_anyway and self.learn_genres(activate=True))
            dialog.share_albums.connect(self._share_albums_from_report)
            dialog.count_folder_genres.connect(lambda: self.offer_folder_genres(report.unnamed))
            dialog.open()
        self._run_deferred("learn")

    def _learn_failed(self, message: str):
        cancelled = isinstance(self.learn_job.error, LearnCancelled)
        self._learn_done()
        if cancelled:  # the listener's own choice: no problem to report, no dialog
            self._report_learn = False
            self.last_learned = message
            self.progress_label.setText("Learning stopped; nothing changed")
            self._run_deferred("learn")
            return
        if self._report_learn:  # asked for: the reason where the listener is looking, not only in the problems panel
            self._report_learn = False
            self.learn_problem = QMessageBox(QMessageBox.Icon.Information, "Nothing learned yet", message,
                                             QMessageBox.StandardButton.Close, self)
            self.learn_problem.open()
        self.last_learned = message
        self.progress_label.setText("Nothing learned yet")
        self.report_problem("learn", message)
        self._run_deferred("learn")

    # ---- one genre per album ---------------------------------------------------------------------
    def _share_albums_from_report(self):
        if not self.album_genres_action.isChecked() and self.album_genres_action.isEnabled():
            self.album_genres_action.trigger()  # as Edit > One Genre per Album

    def learn_from_genre_folders(self, on: bool):
        """Learn From Genre Folders (a setting of the library): a track with no genre of its own is learned as its
        genre folder's name; then learned again."""
        sessions, threshold = self.sessions, self.settings.threshold
        self.genre_folders_action.setEnabled(False)  # one change at a time
        self.folders_job = background(lambda: set_genre_folders(sessions, on, threshold), "genre folders",
                                      self._genre_folders_set, self._genre_folders_failed)
        return self.folders_job

    def _genre_folders_set(self, change):
        self.folders_job = None
        self.genre_folders_action.setEnabled(True)
        on = self.genre_folders_action.isChecked()
        self.progress_label.setText(
            f"Learning from genre folders: {count(change.foldered, 'track')} take their folder's genre" if on else
            "No longer learning from genre folders: nothing else teaches two genres, so the shipped model's are back"
            if change.set_aside else "No longer learning from genre folders")
        self.load_model_labels()
        self.refresh()  # an album's genre may follow
        if on and change.unnamed:  # asked once the job's signal is handled, not inside it
            self._unnamed_found = dict(list(change.unnamed.items())[:UNNAMED_ASKED])
            QTimer.singleShot(0, self._ask_folder_genres)  # a bound method: dropped with the window if it closes first
        elif on:  # what was learned from the folders, where the listener looks
            self.learn_genres_asked()
        elif self.learned_model_in_use() and not change.set_aside:  # learned again without them
            self.learn_genres()

    def _ask_folder_genres(self):
        """Which folders named for no genre it knows are genres (Schlager); then learn from them all, and show it."""
        if names := ask_folder_genres(self, self._unnamed_found):
            self.count_folder_genres(names)  # then learns
        else:
            self.learn_genres_asked()

    def offer_folder_genres(self, unnamed: dict[str, int]):
        """The learn report's Folder Genres…: which of `unnamed` (labels.unnamed_folders) are genres; those checked
        teach them, and the learn with them shows its report (none checked: nothing changes)."""
        self._unnamed_found = dict(list(unnamed.items())[:UNNAMED_ASKED])
        QTimer.singleShot(0, self._offer_folder_genres)  # once the report's button is handled

    def _offer_folder_genres(self):
        if names := ask_folder_genres(self, self._unnamed_found):
            self.count_folder_genres(names)

    def count_folder_genres(self, names: list[str], on: bool = True):
        """Folders named `names` (genres no list knows: "Schlager") teach those genres, then learn and show it; or
        (not `on`, from Settings) no longer, then scan as Settings does and learn again where a learned model is in
        use."""
        sessions, threshold = self.sessions, self.settings.threshold
        self.genre_folders_action.setEnabled(False)
        done, failed = ((self._folder_genres_counted, self._folder_genres_failed) if on else
                        (self._folder_genres_uncounted, self._folder_genres_uncount_failed))  # bound: go with the window
        self.folders_job = background(lambda: set_folder_genres(sessions, names, on, threshold), "genre folders",
                                      done, failed)
        return self.folders_job

    def _folder_genres_counted(self, _kept):
        self.folders_job = None
        self.genre_folders_action.setEnabled(True)
        self.refresh()
        self.learn_genres_asked()

    def _folder_genres_uncounted(self, _kept):
        self.folders_job = None
        self.genre_folders_action.setEnabled(True)
        self.refresh()
        self.start_scan()  # Settings' scan, held back for this
        if self.learned_model_in_use():
            self.learn_genres()  # after the scan: it waits for it

    def _folder_genres_failed(self, message: str):
        self.folders_job = None
        self.genre_folders_action.setEnabled(True)
        self.report_problem("genre folders", message)

    def _folder_genres_uncount_failed(self, message: str):
        self._folder_genres_failed(message)
        self.start_scan()  # Settings' scan, held back for this

    def _genre_folders_failed(self, message: str):
        with QSignalBlocker(self.genre_folders_action):  # as the library still has it
            self.genre_folders_action.setChecked(not self.genre_folders_action.isChecked())
        self._folder_genres_failed(message)

    def share_album_genres(self, on: bool):
        """One Genre per Album (a setting of the library): its tracks show their album's genre, or their own again."""
        sessions, threshold = self.sessions, self.settings.threshold
        self.progress_label.setText("Giving every album one genre…" if on else "Giving every track its own genre…")
        self.album_genres_action.setEnabled(False)  # one change at a time: a second would race the first
        self.albums_job = background(lambda: set_album_genres(sessions, on, threshold), "albums",
                                     self._album_genres_set, self._album_genres_failed)
        return self.albums_job

    def _album_genres_set(self, changed: int):
        self.albums_job = None
        self.album_genres_action.setEnabled(True)
        on = self.album_genres_action.isChecked()
        self.progress_label.setText(f"One genre per album: {count(changed, 'track')} changed to their album's genre" if on
                                    else f"Every track shows its own genre again ({count(changed, 'track')} changed)")
        self.refresh()

    def _album_genres_failed(self, message: str):
        self.albums_job = None
        self.album_genres_action.setEnabled(True)
        with QSignalBlocker(self.album_genres_action):  # as the library still has it
            self.album_genres_action.setChecked(not self.album_genres_action.isChecked())
        self.progress_label.setText("")
        self.report_problem("albums", message)

    def _run_deferred(self, job: str):
        """Start what waited for this job ("scan" or "learn") to be done."""
        then = self._deferred.pop(job, None)
        if then:
            then()

    # ---- playlists and previews -------------------------------------------------------------
    def export_playlist(self):
        """Save the genre chosen in the sidebar (or what the table shows) as M3U8."""
        rows = [self.shown_row(r) for r in range(self.proxy.rowCount())]
        if not rows:
            self.statusBar().showMessage("Nothing to export: the table shows no track", 5000)
            return
        genre = self.sidebar.currentIndex().data(GENRE_ROLE)
        name = playlist_file_name(genre if genre and genre not in SIDEBAR_NAMES else "")
        # Beside the music (where a playlist's relative paths stay short), then where the last one went;
        # the process's working folder meant nothing to a listener.
        folder = self._playlist_folder or (self.settings.folders[0] if self.settings.folders else "")
        path, _ = QFileDialog.getSaveFileName(self, "Export playlist", str(Path(folder) / name) if folder else name,
                                              "Playlists (*.m3u8)")
        if path:
            path = path if Path(path).suffix else f"{path}.m3u8"  # "jazz" typed without the extension
            self._playlist_folder = str(Path(path).parent)
            with self.sessions() as s:
                tracks = [s.get(Track, r.id) for r in rows]
            try:
                out, skipped = write_m3u8(tracks, path, force=True)  # the save dialog already asked before replacing a file
            except GenreTaggerError as exc:
                self.report_problem(str(exc.path), exc.reason)
                return
            for p in skipped:
                self.report_problem(p, "left out of the playlist: its name cannot be written in one M3U8 line")
            self.statusBar().showMessage(f"Saved {count(len(tracks) - len(skipped), 'track')} to {out}", 8000)

    def export_genre_playlists(self):
        """Choose a folder and write one playlist per genre in it, in the background."""
        folder = self._playlist_folder or (self.settings.folders[0] if self.settings.folders else "")
        folder = QFileDialog.getExistingDirectory(self, "Export a playlist per genre into", folder)
        if not folder:
            return None
        self._playlist_folder = folder
        sessions, threshold = self.sessions, self.settings.threshold
        self.export_all_action.setEnabled(False)  # one export at a time
        self.progress_label.setText("Writing a playlist per genre…")
        self.playlists_job = background(lambda: write_genre_playlists(sessions, folder, threshold), "playlists",
                                        self._genre_playlists_written, self._genre_playlists_failed)
        return self.playlists_job

    def _genre_playlists_written(self, written):
        self.playlists_job = None
        self.export_all_action.setEnabled(True)
        for entry in written:
            if entry.error:
                self.report_problem(str(entry.path), entry.error)
            for p in entry.left_out:
                self.report_problem(p, f"left out of {entry.path.name}: its name cannot be written in one M3U8 line")
        made = [e for e in written if not e.error]
        folder = made[0].path.parent if made else self._playlist_folder
        failed = f"; {len(written) - len(made)} could not be (see Problems)" if len(made) < len(written) else ""
        self.progress_label.setText(f"Wrote {count(len(made), 'playlist')} to {folder}{failed}")

    def _genre_playlists_failed(self, message: str):
        self.playlists_job = None
        self.export_all_action.setEnabled(True)
        self.progress_label.setText("")
        self.report_problem("playlists", message)

    def play_preview(self):
        """Play 20 seconds from the middle of the selected track."""
        ids = self.selected_track_ids()
        if not ids:
            return
        if self.preview is None:
            # QtMultimedia loads only when a preview is asked for
            from desktop.ui.preview import Preview

            self.preview = Preview(self)
            self.preview.failed.connect(lambda path, reason: self.report_problem(path, f"cannot play it: {reason}"))
        with self.sessions() as s:
            track = s.get(Track, ids[0])
        self.preview.play(track.path, track.duration or 0.0)

    def _make_room_for_message(self, text: str) -> None:
        """A message too long to show beside the model's and the scan's labels hides them until it goes: Qt cut it
        off mid-sentence ("…so it stays in use (Learn"). Progress bars and their buttons stay."""
        labels = (self.model_label, self.progress_label)
        bar = self.statusBar()
        others = sum(w.sizeHint().width() + 8 for w in (self.progress, self.cancel_button, *self._write_widgets)
                     if not w.isHidden())
        # Each label's whole width: a message is drawn in what the permanent widgets leave, and squeezes none of them.
        room = bar.width() - others - sum(label.sizeHint().width() + 8 for label in labels) - 24
        fits = not text or bar.fontMetrics().horizontalAdvance(text) <= room
        for label in labels:
            label.setVisible(fits)

    # ---- settings and layout ----------------------------------------------------------------
    def open_settings(self):
        """Edit settings; a changed model or folder list triggers a rescan."""
        left_out, kept = self.left_out_folders(), Library(self.sessions).kept_as_music()
        with self.sessions() as s:
            folder_genres = queries.meta_folder_list(s, queries.FOLDER_GENRES)
        dialog = SettingsDialog(self.settings, lambda path: describe_model(path, self._spellings), self,
                                per_album=self.album_genres_action.isChecked(), left_out=left_out, kept=kept,
                                folder_genres=folder_genres)
        dialog.set_left_out_editable(not self.read_only)  # the library's: not on read-only media
        dialog.per_album.setEnabled(self.album_genres_action.isEnabled())  # not on a read-only library
        if dialog.exec() == SettingsDialog.DialogCode.Accepted:
            before = list(self.settings.folders)
            dialog.apply()
            if dialog.per_album.isChecked() != self.album_genres_action.isChecked():
                self.album_genres_action.trigger()  # the library's setting, as Edit > One Genre per Album
            self.folders_removed(before)
            if dialog.left_out_folders() != left_out:  # the library's: set by the next scan, under its lock
                self._left_out = dialog.left_out_folders()
            if asked := [f for f in kept if f not in dialog.kept_folders()]:
                Library(self.sessions).ask_again(asked)  # the scan below asks about them
            no_genres = [name for name in folder_genres if name not in dialog.folder_genres()]
            self.proxy.set_threshold(self.settings.threshold)
            self.load_model_labels()
            self.refresh()
            if not self.settings.watch_folders:
                self.folder_watch.stop()
            if no_genres:  # under the writer lock: the scan starts once it is done (else one of them finds it busy)
                self.count_folder_genres(no_genres, on=False)
            else:
                self.start_scan()  # which watches the folders again once done

    def _restore_layout(self):
        geometry = self.settings.store.value("window/geometry")
        state = self.settings.store.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 720)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        # Column widths and order, the sort, and the sidebar / table / details split, as the listener left them.
        header, split = self.settings.store.value("window/table-header"), self.settings.store.value("window/splitter")
        with self.column_fitter.quietly():
            restored = isinstance(header, QByteArray) and self.table.horizontalHeader().restoreState(header)
        if restored:
            # Widths the listener set stay; else they follow the table's width, as at the first start.
            self.column_fitter.by_user = self.settings.store.value("window/columns-by-hand", False, type=bool)
            sorted_by = self.table.horizontalHeader()
            self.table.sortByColumn(sorted_by.sortIndicatorSection(), sorted_by.sortIndicatorOrder())  # the header only shows it
        if isinstance(split, QByteArray):
            self.splitter.restoreState(split)

    def _worded_columns(self) -> dict[int, tuple[int, int]]:
        """Confidence and status: as wide as their words at least, and as their titles where there is room."""
        header = self.table.horizontalHeader()
        confidence, status = self._text_width("100%"), self._text_width("uncertain")
        return {CONFIDENCE: (confidence, max(header.sectionSizeHint(CONFIDENCE), confidence)),
                STATUS: (status, max(header.sectionSizeHint(STATUS), status))}

    def _column_floors(self) -> dict[int, int]:
        """However narrow the window, the genre column keeps its words ("Classical", not "Clas…"; 14 characters at
        most) and the title a dozen characters; the other columns give way first."""
        longest = max((shown_genre(label, self._spellings) for label in self.labels), key=len, default="")
        return {GENRE: self._text_width(longest[:14]), TITLE: self._text_width("") + 12 * self.table.fontMetrics().averageCharWidth()}

    def _text_width(self, text: str) -> int:
        """Pixels a cell needs to show `text` whole, its margins included."""
        metrics = self.table.fontMetrics()
        return metrics.horizontalAdvance(text) + 2 * metrics.averageCharWidth()

    def changeEvent(self, event):  # noqa: N802
        """Back in the window: what the command line (or another window) changed meanwhile shows at once."""
        super().changeEvent(event)
        if (event.type() == QEvent.Type.ActivationChange and self.isActiveWindow() and hasattr(self, "_changes_since")
                and self.scan_job is None and not self.write_busy):  # a scan's own timer follows its changes
            self.refresh_changes()
            self._update_undo_action()

    def closeEvent(self, event):  # noqa: N802
        self.settings.store.setValue("window/geometry", self.saveGeometry())
        self.settings.store.setValue("window/state", self.saveState())
        self.settings.store.setValue("window/table-header", self.table.horizontalHeader().saveState())
        self.settings.store.setValue("window/columns-by-hand", self.column_fitter.by_user)
        self.settings.store.setValue("window/splitter", self.splitter.saveState())
        self.settings.store.sync()
        if self.scan_job is not None:
            self.scan_job.cancel()
        super().closeEvent(event)
