"""The main window: genre sidebar, library table, track details, progress and errors."""

from __future__ import annotations

import functools
import html
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.core.errors import GenreTaggerError
from desktop.core.genre_names import genre_key, shown_genre
from desktop.core.learned_model import is_learned_key
from desktop.core.model import read_model_info
from desktop.core.natural_order import natural_key
from desktop.core.paths import library_copy_file, log_dir
from desktop.core.search import HOW_TO_SEARCH, read_as_words
from desktop.core.wording import album_place, count
from desktop.services.album_genres import album_genre_of, album_genres_on, in_compilation
from desktop.services.labels import genre_folders_on, what_it_teaches
from desktop.services.learning import active_model, merge_and_rename, merges_in_effect
from desktop.services.library import Library
from desktop.services.library_map import compute_map
from desktop.services.models import resolve_model, user_models_dir
from desktop.services.playlists import playlist_file_name, write_genre_playlists, write_m3u8
from desktop.store import queries
from desktop.store.database import is_read_only, read_only_why
from desktop.store.lock import database_path
from desktop.store.schema import Track
from desktop.ui.app_settings import SettingsNotSaved
from desktop.ui.column_choices import ColumnChoices, restore_header
from desktop.ui.column_fit import ColumnFitter
from desktop.ui.details import DetailsPanel, scrolled
from desktop.ui.dialogs import SettingsDialog
from desktop.ui.folder_watch import FolderWatch, ReturnWatch
from desktop.ui.genre_delegate import GenreDelegate
from desktop.ui.history_dialog import WriteHistoryDialog
from desktop.ui.labels import EllipsisLabel, plain_label
from desktop.ui.learn_actions import LearnActions
from desktop.ui.learn_dialog import LearnReportDialog
from desktop.ui.map_view import MapView
from desktop.ui.message_bar import MessageBar
from desktop.ui.scan_actions import ScanActions
from desktop.ui.search_box import SearchBox
from desktop.ui.table_model import (
    ALBUM,
    ARTIST,
    AWAY_TIP,
    CONFIDENCE,
    FILE_GENRE,
    FOLDER,
    GENRE,
    GENRE_ROLE,
    HEADERS,
    HIDDEN_AT_FIRST,
    LENGTH,
    PLACED_AFTER,
    SIDEBAR_NAMES,
    STATUS,
    TITLE,
    TRACK_ID_ROLE,
    TRACK_NUMBER,
    YEAR,
    GenreListModel,
    LibraryFilter,
    LibraryTableModel,
    TrackRow,
    adjacent_runs,
    change_mark_now,
    is_genre_item,
    is_tagged_item,
    item_genre,
    load_changes,
    load_genre_counts,
    load_rows,
    sorted_rows,
    tag_only_genres,
)
from desktop.ui.timeline_fill import TimelineFiller, Wanted
from desktop.ui.track_count import TrackCount
from desktop.ui.track_table import MiddleElidingDelegate, TrackTableView
from desktop.ui.window_words import describe_model, genre_source, teaches_words, undo_words
from desktop.ui.workers import Job, background
from desktop.ui.write_actions import WriteActions

log = logging.getLogger(__name__)
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
RELEARN_DELAY_MS = 3000
# In a large table the search filters when typing pauses: each keystroke filtered every row (0.1 s at 100,000 rows,
# bench_table), so typing a word held the window 0.1 s a letter and the letters came late.
SEARCH_PAUSE_MS = 200
SEARCH_AT_ONCE_ROWS = 20_000  # up to this many rows (0.02 s) each keystroke filters at once
FIRST_ROWS_AT_ONCE = 20_000  # up to this many tracks (0.2-0.3 s) the window opens with its rows; more are read on a worker
PROBLEM_LINES = 5  # the Problems panel's height when it first shows
READ_ONLY_WORDS = "This library is read-only {}: {} to scan, tag or correct"  # why, and what would let it be changed


# Shares of the table's width left after the confidence, status and length columns have what their words need
# (titles need the most room); followed until the listener sizes a column by hand (ColumnFitter).
COLUMN_SHARES = {TITLE: 3.0, ARTIST: 2.0, ALBUM: 2.0, FILE_GENRE: 1.5, GENRE: 1.5, FOLDER: 3.0}
COLUMNS_BEFORE_COUNTED = 7  # the columns of a table header saved before "window/table-columns" was (2026-12-05)


class ProblemList(QListWidget):
    """The Problems panel's list: a few lines high when it first shows (Qt's 192 px took a third of a laptop's
    window for one problem, and the table gave up its rows); the listener may drag it taller."""

    def sizeHint(self):  # noqa: N802 (Qt's name)
        return QSize(super().sizeHint().width(), PROBLEM_LINES * self.fontMetrics().lineSpacing() + 2 * self.frameWidth())


class MainWindow(ScanActions, WriteActions, LearnActions, QMainWindow):
    """Genre Tagger's window; every file operation runs in a job off the GUI thread."""

    def __init__(self, sessions, settings, parent=None):
        super().__init__(parent)
        self.sessions, self.settings = sessions, settings
        # A library on read-only media or a full disk (opened by open_read_only): browsed, played and exported, never
        # changed.
        self.read_only = is_read_only(sessions)
        self.read_only_words = READ_ONLY_WORDS.format(*read_only_why(sessions))
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
        self.playlist_job: Job | None = None  # the table's tracks being written as a playlist
        self.plan_job: Job | None = None  # Apply Predicted Genres: the plan, read off the GUI thread
        self.reload_job: Job | None = None  # every row read again off the GUI thread (reload_rows); the latest wins
        self.genres_job: Job | None = None  # a genre renamed, merged or separated again (merge_and_rename)
        self._renamed: tuple[str, str] | None = None  # (from, to): a chosen genre renamed follows its new name
        self._reloads = 0  # reload_rows calls and refreshes so far: a reload's rows come back with their number
        self.album_flags_job: Job | None = None  # "Needs review"'s album check, off the GUI thread; one at a time
        self._album_check_again = False  # asked for while one ran: checked again when it is done
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
        self._plan_asked = None  # the running plan: its function, its "nothing to write" and its batch name
        self._review_after_albums = None  # such a plan, asked again once One Genre per Album is on
        # Music copied into (or taken out of) the folders while the window is open is scanned once copying ends;
        # the folders are listed after each scan, and a change during a scan or a write waits for its end.
        self.folder_watch = FolderWatch(self)
        self.folder_watch.changed.connect(self._music_changed)
        self.watch_job: Job | None = None
        self._list_again = False  # a scan ended while the folders were being listed
        self._told_unwatched = False  # that some folders are not watched (the limit): said once
        self._changed_folder = ""  # where music changed while a scan or a write ran: scanned after it
        # Music folders not there at the last scan (a drive not connected): scanned as soon as they are back.
        self.return_watch = ReturnWatch(self)
        self.return_watch.back.connect(self._folders_back)
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
        self._restore_layout()  # before the rows: they are sorted once, as the listener left the table (3 times after)
        self.first_rows()

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
        # A name too long for the sidebar is cut in its middle, its count kept in sight (no sideways scrolling).
        self.sidebar.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The current row, not a click: arrow keys choose a genre too (a click alone left keyboard users behind).
        self.sidebar.selectionModel().currentChanged.connect(lambda current, _previous: self._genre_chosen(current))
        self.sidebar.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.sidebar.customContextMenuRequested.connect(self._sidebar_menu)
        # Tracks dragged from the table (or files from a file manager) onto a genre get it, as Set Genre… gives it
        # (journalled, one undo step).
        self.genres.drops_from = None if self.read_only else self.table_model.drag_owner
        self.sidebar.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.sidebar.setDragDropOverwriteMode(True)  # onto a genre, never between two
        # Queued: the write starts once the drag has ended, not inside the drag's own event loop.
        self.genres.tracks_dropped.connect(self.correct, Qt.ConnectionType.QueuedConnection)
        self.genres.files_dropped.connect(self.correct_files, Qt.ConnectionType.QueuedConnection)  # from a file manager
        self.search = SearchBox("Search title, artist, album, genre…")
        self.search.setToolTip("\n".join(("Search (Ctrl+F):", *(f"• {line}" for line in HOW_TO_SEARCH))))
        self.search_timer = QTimer(self, singleShot=True, interval=SEARCH_PAUSE_MS, timeout=self.search_now)
        self.search.textChanged.connect(self._search_typed)
        self.search.returnPressed.connect(self.search_now)  # Enter: no waiting for the pause
        self.search.down_pressed.connect(self.focus_table)
        self.review = QCheckBox("Needs review")
        self.review.toggled.connect(self.proxy.set_review_only)
        self.review.toggled.connect(self.update_album_flags)  # after the filter: a worker beside it would slow it twice
        self.table = TrackTableView(self.empty_table_hint, GENRE)  # F2 corrects the genre wherever the current cell is
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(ARTIST, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)  # to a player or a file manager
        self.table.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setItemDelegateForColumn(GENRE, GenreDelegate(self.genre_choices, self.table))
        self.table.setItemDelegateForColumn(FOLDER, MiddleElidingDelegate(self.table))  # the folder's own name stays
        self.table.verticalHeader().setVisible(False)
        # Rows as tall as the text needs (the style's default showed a third fewer tracks per screen).
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        # A narrow column's title ends in "…" ("File …"): Qt's headers clip it on both sides by default ("le genr").
        self.table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
        self.column_fitter = ColumnFitter(self.table, COLUMN_SHARES, self._worded_columns, self._column_floors)
        self.column_choices = ColumnChoices(self.table, HEADERS, {TITLE, GENRE}, self.column_fitter)
        self.table.selectionModel().currentRowChanged.connect(self._show_details)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._table_menu)
        self.table.doubleClicked.connect(self._double_clicked)
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
        self.splitter.addWidget(scrolled(self.details))
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
        self.track_count = TrackCount(self.table, self)
        self.setStatusBar(MessageBar(self._message_room))
        self.statusBar().addWidget(self.track_count)  # hidden while a message shows, as Qt does with such widgets
        self.model_label = plain_label()
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.progress_label)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)
        for widget in self._write_widgets:
            self.statusBar().addPermanentWidget(widget)
        self.statusBar().messageChanged.connect(self._make_room_for_message)
        self.errors = ProblemList()
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
        names = {self.sidebar: ("Genres", "choose a genre to show only its tracks; drop tracks on one to set theirs"),
                 self.table: ("Library", "your tracks; double-click a genre to correct it, a track to hear it"),
                 self.search: ("Search", "title, artist, album or genre; artist: or year: limits a word to one, a minus "
                                         "leaves out what it finds"),
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
        # The table's own Ctrl+C (the search box and the problems list keep theirs): the rows as they are shown.
        self.copy_action = self._action("Copy", QKeySequence.StandardKey.Copy, self.copy_selected_rows, toolbar=False,
                                        fallback="Ctrl+C")
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.table.addAction(self.copy_action)
        self.forget_action = self._action("Forget Genre Set by Hand", "", self.forget_selected_corrections, toolbar=False)
        self.keep_action = self._action("Keep the File's Genre", "Ctrl+K", self.keep_selected_file_genres, toolbar=False)
        self.keep_action.setStatusTip("The file's own genre tag was right: each selected track keeps it, as set by hand "
                                      "(protected from automatic tagging; files unchanged)")
        self.leave_out_action = self._action("Leave Out Its Folder…", "", self.leave_out_selected_folder, toolbar=False)
        self.leave_out_action.setStatusTip("Scans skip the folder (audiobooks, podcasts) and its tracks leave the "
                                           "library; Settings takes it back")
        # Offered only while tracks are selected.
        self.selection_actions = (self.set_genre_action, self.play_action, self.apply_selection_action, self.keep_action,
                                  self.show_folder_action, self.copy_action, self.copy_paths_action, self.forget_action,
                                  self.leave_out_action)
        self.changing_selection_actions = (self.set_genre_action, self.apply_selection_action, self.keep_action,
                                           self.forget_action, self.leave_out_action)
        self.export_action = self._action("Export Playlist…", "Ctrl+E", self.export_playlist)
        self.export_action.setStatusTip("The tracks the table shows (the genre chosen, the search), in its order, as an "
                                        "M3U8 playlist")
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
        view_menu.addMenu(self.column_choices.menu(view_menu))
        self.find_action = self._action("Find", QKeySequence.StandardKey.Find, self.focus_search, toolbar=False,
                                        fallback="Ctrl+F")
        edit_menu = menu.addMenu("&Edit")
        for a in (self.undo_action, self.history_action, self.find_action, self.copy_action, self.copy_paths_action,
                  self.set_genre_action, self.apply_action,
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
        self.read_only_label.setToolTip(self.read_only_words)
        self.statusBar().insertPermanentWidget(0, self.read_only_label)

    def _refused_read_only(self) -> bool:
        """True, and said in the status bar, when the library cannot be changed where it is."""
        if self.read_only:
            self.statusBar().showMessage(self.read_only_words, 10000)
        return self.read_only

    def _search_typed(self, text: str) -> None:
        if not text.strip() or self.table_model.rowCount() <= SEARCH_AT_ONCE_ROWS:
            self.search_now()  # a small table, or the search cleared: every row back at once
        else:
            self.search_timer.start()  # (re)started by each keystroke: one filter when typing pauses

    def search_now(self) -> None:
        """Filter the table by the search box's text now (Enter, a pause in typing, a small table)."""
        self.search_timer.stop()
        self.proxy.set_search(self.search.text())

    def focus_search(self):
        """Ctrl+F: to the search box, its text selected (typing replaces it)."""
        self.search.setFocus()
        self.search.selectAll()

    def focus_table(self):
        """Down in the search box: to the table, the first track found current when none is."""
        if self.search_timer.isActive():
            self.search_now()  # typing has not paused yet: the table shows what the box says first
        self.table.setFocus()
        if not self.table.currentIndex().isValid() and self.proxy.rowCount():
            self.table.setCurrentIndex(self.proxy.index(0, 0))

    # ---- state ------------------------------------------------------------------------------
    def refresh(self):
        """Reload the table and the sidebar from the database, on the GUI thread: the window's first rows (a learn's or
        a rename's rows are read by reload_rows, on a worker)."""
        self._reloads, self.reload_job = self._reloads + 1, None  # a reload on its way is older than these rows
        self._changes_since = change_mark_now(self.sessions)  # before the read: what commits during it is merged later
        self._follow_rename()
        self._update_rows(lambda: self.table_model.set_rows(load_rows(self.sessions)))
        self._update_sidebar(self.table_model.rowCount())  # the rows just read are every track: not counted again
        self._update_after_rows()

    def first_rows(self) -> None:
        """The window's first rows: read here for a library of up to FIRST_ROWS_AT_ONCE tracks, so it opens showing
        them; a larger one opens at once with its sidebar, its rows read on a worker (read here, 100,000 held the
        window about 1 s before it showed; bench_table)."""
        with self.sessions() as s:
            tracks = queries.present_count(s)
        if tracks <= FIRST_ROWS_AT_ONCE:
            self.refresh()
            return
        self._changes_since = change_mark_now(self.sessions)  # replaced by the reload's own mark when its rows come
        self._update_sidebar(tracks)
        self._update_undo_action()
        self.reload_rows()

    def reload_rows(self) -> Job:
        """Read every row again off the GUI thread, where every row may have changed (a learn, a relearn after
        corrections, genre folders, one genre per album): read and sorted on the GUI thread they held the window
        1.1 s at 100,000 tracks. The table keeps its rows until the new ones come; then the sidebar and what follows
        the rows. The latest call wins."""
        self._reloads += 1
        number, sessions, (column, descending) = self._reloads, self.sessions, self.table_model.order
        mark = change_mark_now(sessions)  # before the read: what commits during it is merged when the rows come

        def read():
            return number, mark, sorted_rows(load_rows(sessions), column, descending)

        self.reload_job = background(read, "reload", self._rows_reloaded, self._reload_failed)
        return self.reload_job

    def _rows_reloaded(self, result):
        number, mark, rows = result
        if number != self._reloads:
            return  # a later reload or refresh has the newer rows
        self.reload_job = None
        self._changes_since = mark
        self._follow_rename()
        self._update_rows(lambda: self.table_model.set_rows(rows))  # sorted again only if sorted otherwise since
        if not self.refresh_changes():  # what committed while the rows were read, and the sidebar with it
            self._update_sidebar(self.table_model.rowCount())
        self._show_details(self.table.currentIndex())  # the shown track's genre, its source: changed
        self._update_after_rows()

    def _follow_rename(self) -> None:
        """The table limited to a genre just renamed or merged away: limited to its new name, as the new rows show it."""
        renamed, self._renamed = self._renamed, None
        if renamed is not None and self.proxy.genre is not None and genre_key(self.proxy.genre) == genre_key(renamed[0]):
            self.proxy.set_genre(renamed[1])

    def _reload_failed(self, message: str):
        self.reload_job = None
        self.report_problem("library", f"cannot read the library again ({message}); Scan (F5) tries again")

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

    def _update_sidebar(self, total: int | None = None):
        """New counts in the sidebar, with the genres only the tracks' tags name last, the chosen genre still chosen (a
        reset dropped it while the table stayed filtered); a genre that is gone (renamed, merged, corrected away) gives
        way to all tracks. `total`: every track, when the caller has just counted them."""
        chosen = self.proxy.genre
        tagged = tag_only_genres(self.table_model.all_rows(), self._spellings)
        self.genres.set_counts(*load_genre_counts(self.sessions, self.settings.threshold, total), tagged)
        row = self.genres.row_of(chosen)
        if row is None and is_tagged_item(chosen):
            row = self.genres.row_of(item_genre(chosen))  # a genre only tags named, shown now (learned, set by hand)
        if row is None:
            row = 0
            self.proxy.set_genre(None)
        elif chosen is not None:
            item = self.genres.index(row, 0).data(GENRE_ROLE)
            values = self.genres.tag_values(item) or frozenset()
            if item != chosen or values != self.proxy.tag_values:  # now spelled otherwise, or other tags name it
                self.proxy.set_genre(item, values)
        self.sidebar.setCurrentIndex(self.genres.index(row, 0))

    def empty_table_hint(self) -> str:
        """Why the table shows no track, and what to do about it ('' while it shows some)."""
        if self.proxy.rowCount() > 0:
            return ""
        if self.table_model.rowCount() == 0:
            if self.reload_job is not None:
                return "Reading your library…"
            if self.scan_job is not None:
                return "Scanning… your tracks appear here as they are found."
            if not self.settings.folders:
                return "No music yet. Add Folder… (Ctrl+O) chooses your music folder (or drop one here); nothing is written until you say so."
            return "No music found in your folders yet. Scan (F5) looks again; the Problems panel says what was passed over."
        if typed := self.search.text().strip():
            genre = self.proxy.genre
            limits = [f"under {SIDEBAR_NAMES.get(genre) or item_genre(genre)}"] * (genre is not None)
            limits += ["under Needs review"] * self.review.isChecked()
            elsewhere = self.proxy.found_by_search_alone() if limits else 0
            if elsewhere:  # the genre chosen in the sidebar hid them: the listener may think them not in the library
                return f"No track {' and '.join(limits)} matches “{typed}”; it finds {count(elsewhere, 'track')} elsewhere."
            return f"No track matches “{typed}”" + "".join(f"; {note}" for note in read_as_words(typed)) + "."
        if self.review.isChecked():
            return "Checking the albums…" if self.album_flags_job is not None else "Nothing needs review here."
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
        for begin, end in adjacent_runs(rows):  # one range per run of adjacent rows: a select-all stays one range
            selection.select(self.proxy.index(rows[begin], 0), self.proxy.index(rows[end - 1], last))
        model = self.table.selectionModel()
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if current.isValid():
            model.setCurrentIndex(current, QItemSelectionModel.SelectionFlag.NoUpdate)

    def update_album_flags(self, on: bool = True) -> Job | None:
        """The album check, when "Needs review" is on: a pass over the library, on a worker (on the GUI thread it held
        the window 1.4 s at 100,000 tracks on turning the filter on and after every correction under it). The table
        filters with the flags when they come. One check at a time: asked again meanwhile (corrections in a row),
        it checks once more when the running one is done."""
        if not on:
            return None
        if self.album_flags_job is not None:
            self._album_check_again = True  # several at once would share one core and each take longer
            return self.album_flags_job
        sessions, threshold = self.sessions, self.settings.threshold

        def check():
            with sessions() as s:
                return queries.album_disagreements(s, threshold)

        self.album_flags_job = background(check, "album check", self._album_flags_found, self._album_check_failed)
        return self.album_flags_job

    def _album_flags_found(self, flagged: set[int]):
        self.album_flags_job = None
        self.proxy.set_album_flags(flagged)  # one change old at most when asked again: shown, then checked once more
        self._check_albums_again()

    def _album_check_failed(self, message: str):
        self.album_flags_job = None
        self.report_problem("album check", f"cannot check the albums' genres ({message})")
        self._check_albums_again()

    def _check_albums_again(self) -> None:
        again, self._album_check_again = self._album_check_again, False
        if again:
            self.update_album_flags(self.review.isChecked())

    def refresh_changed(self):
        """After a write, an undo, a correction or a scan: the rows it changed and the sidebar, not a reload of every
        row (at 100,000 tracks a reload held the window 1.0-1.3 s after each correction, and after every scan the
        folder watch started for a file copied in; bench_table)."""
        self._update_rows(self.refresh_changes)  # which updates the sidebar too, when rows changed
        self._show_details(self.table.currentIndex())  # the shown track's genre, its source, what it teaches: changed
        self._update_after_rows()

    def refresh_changes(self) -> bool:
        """Merge only the rows changed since the last look (during a scan, at its end, after a write, on coming back to
        the window), then the sidebar counts; True when the sidebar was updated."""
        if self.reload_job is not None:
            return False  # every row is being read again: what changed since is merged when they come
        changes = load_changes(self.sessions, self._changes_since)
        self._changes_since = changes.mark  # exact (store.changes): a row committed after this read is at it or above
        if changes.rows or changes.gone:
            self.table_model.merge_rows(changes.rows, changes.gone)
        if self.table_model.rowCount() != changes.present:  # a track deleted leaves no change to read (twins made one)
            self.table_model.set_rows(load_rows(self.sessions))
        if changes.rows or changes.gone or self.genres.total != changes.present:
            self._update_sidebar(changes.present)  # counted with the changes: not again (every 1.5 s during a scan)
            return True
        return False

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
            self.proxy.set_genre(genre, self.genres.tag_values(genre))

    def _sidebar_menu(self, pos):
        genre = self.sidebar.indexAt(pos).data(GENRE_ROLE)
        if not is_genre_item(genre):  # Uncertain, No genre, a genre only tags name: not genres to merge or rename
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
        if not self._refused_read_only():
            self._change_genre(genre, genre, separate=True)

    def rename_genre(self, genre: str, merge: bool = False, target: str | None = None):
        """Remember that `genre` is `target` (asked for when not given): shown and learned so from now on."""
        if self._refused_read_only() or self._refused_genres_busy():
            return
        if target is None:
            choices = [g for g, _ in load_genre_counts(self.sessions, self.settings.threshold)[0] if g != genre and g not in SIDEBAR_NAMES]
            title = "Merge genre" if merge else "Rename genre"
            target, ok = QInputDialog.getItem(self, title, f"{genre} becomes:", choices if merge else [genre], 0, True)
            if not ok or not target.strip():
                return
        self._change_genre(genre, target.strip())

    def _refused_genres_busy(self) -> bool:
        """True, and said in the status bar, while a rename, merge or separation is still being written."""
        if self.genres_job is not None:
            self.statusBar().showMessage("A genre is still being renamed; try again in a moment", 6000)
        return self.genres_job is not None

    def _change_genre(self, source: str, target: str, separate: bool = False) -> Job | None:
        """Write that `source` is `target` on a worker, then read the rows again there: at 100,000 tracks the
        write and the reload held the window seconds on the GUI thread (bench_table)."""
        if self._refused_genres_busy():
            return None
        sessions = self.sessions
        self.statusBar().showMessage(f"Separating {source} again…" if separate else f"Renaming {source} to {target}…")
        self.genres_job = background(lambda: (source, target, separate, merge_and_rename(sessions, source, target)),
                                     "genres", self._genre_changed, self._genre_change_failed)
        return self.genres_job

    def _genre_changed(self, result):
        source, target, separate, changed = result
        self.genres_job = None
        self._renamed = None if separate else (source, target)  # the table keeps showing those tracks, by their new name
        self.reload_rows()
        self.statusBar().showMessage(f"{source} is its own genre again; tracks already shown as the merged genre change "
                                     "when your genres are learned again" if separate else
                                     f"{source} is now {target} ({count(changed, 'track')}); remembered for learning", 8000)
        if self.learned_model_in_use():
            self._schedule_relearn()

    def _genre_change_failed(self, message: str):
        error, self.genres_job = self.genres_job.error, None
        self.statusBar().clearMessage()
        self.report_problem("genres", error.reason if isinstance(error, GenreTaggerError) else message)

    def selected_track_ids(self) -> list[int]:
        """Ids of the selected rows, in the table's order."""
        return [self.shown_row(row).id for row in self.table.selected_rows()]

    def shown_row(self, proxy_row: int) -> TrackRow:
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
            placed = album_place(track.track_number, track.disc_number, track.year)
            who = " — ".join(html.escape(part) for part in (track.artist, album_by, placed) if part)
            heading = f"<b>{html.escape(title)}</b>" + (f"<br>{who}" if who else "") + f"<br><small>{html.escape(track.path)}</small>"
            album = album_genre_of(s, track_id)
            apart = album is None and self.album_genres_action.isChecked() and in_compilation(s, track_id)
            heading += f"<br>Genre from: {html.escape(genre_source(track, analysis, album, self._spellings, apart))}"
            heading += f"<br>{html.escape(teaches_words(what_it_teaches(s, track, self._spellings)))}"
            away = self.table_model.is_away(track.path)
            if away:
                heading += f"<br><i>{html.escape(AWAY_TIP)}</i>"
            if track.error:
                heading += f"<br><span style='color:#b00'>{html.escape(track.error)}</span>"
            if analysis is None or not analysis.probabilities:
                self.details.show_track(heading + ("" if track.error else "<br>not analysed yet"), [], [], [], [])
            else:
                labels = [shown_genre(label, self._spellings) for label in analysis.labels]  # as the table shows them
                self.details.show_track(heading, labels, analysis.probabilities, analysis.window_starts,
                                        analysis.window_probabilities)
                # Only learn's re-predictions keep no windows; a track gone from its folder, or on a drive not
                # connected, cannot be heard.
                if (not analysis.window_probabilities and is_learned_key(analysis.model_key) and not track.missing
                        and not away):
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

    # ---- what waits for a scan or a learn ---------------------------------------------------
    def _run_deferred(self, job: str):
        """Start what waited for this job ("scan" or "learn") to be done (a scan asked for during a learn, and the
        other way round)."""
        then = self._deferred.pop(job, None)
        if then:
            then()

    # ---- folders dropped on the window ----------------------------------------------------
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

    # ---- playlists and previews -------------------------------------------------------------
    def export_playlist(self):
        """Save what the table shows (a genre of the sidebar, a search) as M3U8, written on a worker."""
        if self.search_timer.isActive():
            self.search_now()  # typing has not paused yet: the playlist holds what the box says, as the table will
        rows = self.proxy.shown_rows()
        if not rows:
            self.statusBar().showMessage("Nothing to export: the table shows no track", 5000)
            return None
        genre = self.sidebar.currentIndex().data(GENRE_ROLE)
        named = (item_genre(genre), self.search.text().strip())
        name = playlist_file_name(" - ".join(filter(None, named)))
        # Beside the music (where a playlist's relative paths stay short), then where the last one went;
        # the process's working folder meant nothing to a listener.
        folder = self._playlist_folder or (self.settings.folders[0] if self.settings.folders else "")
        path, _ = QFileDialog.getSaveFileName(self, "Export playlist", str(Path(folder) / name) if folder else name,
                                              "Playlists (*.m3u8)")
        if not path:
            return None
        path = path if Path(path).suffix else f"{path}.m3u8"  # "jazz" typed without the extension
        self._playlist_folder = str(Path(path).parent)
        # From the table's rows, on a worker: reading each track from the database on the GUI thread held the window
        # 15-16 s at 100,000 tracks. The save dialog already asked before replacing a file (force).
        self.export_action.setEnabled(False)  # one at a time
        self.playlist_job = background(lambda: (*write_m3u8(rows, path, force=True), len(rows)), "playlist",
                                       self._playlist_written, self._playlist_failed)
        return self.playlist_job

    def _playlist_written(self, written: tuple[Path, list[str], int]):
        out, left_out, tracks = written
        self.playlist_job = None
        self.export_action.setEnabled(True)
        for p in left_out:
            self.report_problem(p, "left out of the playlist: its name cannot be written in one M3U8 line")
        self.statusBar().showMessage(f"Saved {count(tracks - len(left_out), 'track')} to {out}", 8000)

    def _playlist_failed(self, message: str):
        error, self.playlist_job = self.playlist_job.error, None
        self.export_action.setEnabled(True)
        if isinstance(error, GenreTaggerError) and error.path is not None:
            self.report_problem(str(error.path), error.reason)
        else:
            self.report_problem("playlist", message)

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
        """Play 20 seconds from the middle of the track the details show (else the first selected); again, stop it."""
        current = self.table.currentIndex()
        shown = current.isValid() and self.table.selectionModel().isRowSelected(current.row())
        for row in [current.row()] if shown else self.table.selected_rows()[:1]:
            self.play_track(self.shown_row(row), again_stops=True)

    def _double_clicked(self, index: QModelIndex) -> None:
        """A double-click plays the track, as in a player; on a cell that edits (the genre) it only edits."""
        if index.isValid() and not index.flags() & Qt.ItemFlag.ItemIsEditable:
            self.play_track(self.shown_row(index.row()))

    def play_track(self, row: TrackRow, again_stops: bool = False):
        """Play a shown track's preview (20 s from the middle); `again_stops`: the track already playing stops instead."""
        path, duration, title = row.path, row.duration, row.cell(TITLE)  # the row has its length: no database read
        if self.preview is None:
            # QtMultimedia loads only when a preview is asked for
            from desktop.ui.preview import Preview

            self.preview = Preview(self)
            self.preview.failed.connect(lambda path, reason: self.report_problem(path, f"cannot play it: {reason}"))
        if again_stops and self.preview.is_playing(path):
            self.preview.stop()
            self.statusBar().showMessage(f"Stopped “{title}”", 3000)
            return
        if self.table_model.is_away(path):
            self.preview.stop()  # as for any other track that cannot play: the one playing stops too
            self.statusBar().showMessage(f"“{title}” is on a drive not connected: connect it to play it", 8000)
            return
        if not self.preview.play(path, duration):  # refused (Problems says why): it said "Playing" all the same
            self.statusBar().clearMessage()
            return
        seconds = self.preview.seconds
        self.statusBar().showMessage(f"Playing “{title}” from the middle for {seconds:g} s (Space stops)", int(seconds * 1000))

    def _message_room(self) -> int:
        """The pixels a status message has once the model's and the scan's labels give way to it: what the progress
        bars, their buttons and the read-only label leave (a message squeezes none of them)."""
        stay = (self.progress, self.cancel_button, *self._write_widgets, getattr(self, "read_only_label", None))
        return self.statusBar().width() - sum(w.sizeHint().width() + 8 for w in stay if w and not w.isHidden()) - 24

    def _make_room_for_message(self, text: str) -> None:
        """A message too long to show beside the model's and the scan's labels hides them until it goes: Qt cut it
        off mid-sentence ("…so it stays in use (Learn"). Progress bars and their buttons stay."""
        labels = (self.model_label, self.progress_label)
        room = self._message_room() - sum(label.sizeHint().width() + 8 for label in labels)
        fits = not text or self.statusBar().fontMetrics().horizontalAdvance(text) <= room
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
            self.save_settings(dialog.apply)
            if dialog.per_album.isChecked() != self.album_genres_action.isChecked():
                self.album_genres_action.trigger()  # the library's setting, as Edit > One Genre per Album
            self.folders_removed(before)
            if dialog.left_out_folders() != left_out:  # the library's: set by the next scan, under its lock
                self._left_out = dialog.left_out_folders()
            if asked := [f for f in kept if f not in dialog.kept_folders()]:
                Library(self.sessions).ask_again(asked)  # the scan below asks about them
            no_genres = [name for name in folder_genres if name not in dialog.folder_genres()]
            self.load_model_labels()
            self._show_settings()
            if not self.settings.watch_folders:
                self.folder_watch.stop()
            if no_genres:  # under the writer lock: the scan starts once it is done (else one of them finds it busy)
                self.count_folder_genres(no_genres, on=False)
            else:
                self.start_scan()  # which watches the folders again once done

    def save_settings(self, save: Callable[[], None] | None = None) -> None:
        """Keep the settings (by `save`, else all of them); a settings file the system refuses is named in Problems,
        and what was set holds until the window closes."""
        try:
            (save or self.settings.save)()
        except SettingsNotSaved as exc:
            self.report_problem(str(exc.path), exc.reason)

    def _show_settings(self):
        """What Settings changes on screen: the threshold's Uncertain count, filter and review flags. No row holds
        a setting, so none is read again (a reload held the window 1.5-1.6 s at 100,000 tracks); what Settings changes
        in the library (folders, the model) comes with the scan it starts."""
        self.proxy.set_threshold(self.settings.threshold)
        self._update_sidebar()
        self._show_details(self.table.currentIndex())
        self._update_after_rows()

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
        known = self.settings.store.value("window/table-columns", COLUMNS_BEFORE_COUNTED, type=int)
        with self.column_fitter.quietly():
            restored = isinstance(header, QByteArray) and restore_header(self.table.horizontalHeader(), header, known)
            # Columns the saved header did not know (a first start: all) laid out as at a first start.
            self.column_choices.lay_out_as_at_first(range(known if restored else 0, len(HEADERS)), HIDDEN_AT_FIRST,
                                                    PLACED_AFTER)
        if restored:
            # Widths the listener set stay; else they follow the table's width, as at the first start.
            self.column_fitter.by_user = self.settings.store.value("window/columns-by-hand", False, type=bool)
            sorted_by = self.table.horizontalHeader()
            self.table.sortByColumn(sorted_by.sortIndicatorSection(), sorted_by.sortIndicatorOrder())  # the header only shows it
        if isinstance(split, QByteArray):
            self.splitter.restoreState(split)

    def _worded_columns(self) -> dict[int, tuple[int, int]]:
        """Confidence, status, length, year and #: as wide as their words at least, and as their titles where there is
        room."""
        header = self.table.horizontalHeader()
        words = {CONFIDENCE: self._text_width("100%"), STATUS: self._text_width("uncertain"),
                 LENGTH: self._text_width("1:00:00"), YEAR: self._text_width("0000"), TRACK_NUMBER: self._text_width("00")}
        return {column: (least, max(header.sectionSizeHint(column), least)) for column, least in words.items()}

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
        self.settings.store.setValue("window/table-columns", len(HEADERS))
        self.settings.store.setValue("window/columns-by-hand", self.column_fitter.by_user)
        self.settings.store.setValue("window/splitter", self.splitter.saveState())
        try:
            self.settings.sync()
        except SettingsNotSaved as exc:  # the window is going: the log keeps it (Problems named it at any earlier save)
            log.warning("%s", exc)
        if self.scan_job is not None:
            self.scan_job.cancel()
        super().closeEvent(event)
