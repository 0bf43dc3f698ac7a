"""The library table's view and model for what leaves the table: tracks dragged out as their files' addresses, each
once, for copying, never moving, and onto a genre of the sidebar; and the edit key, which corrects the genre from any
cell of a row."""

from pathlib import Path

from PySide6.QtCore import Qt

from desktop.ui.table_model import (
    GENRE,
    NO_GENRE_ITEM,
    TITLE,
    UNCERTAIN_ITEM,
    GenreListModel,
    LibraryFilter,
    LibraryTableModel,
)
from desktop.ui.track_drag import TRACK_IDS_MIME
from tests.test_table_merge import track


def test_dragged_tracks_go_as_their_files_each_once_in_the_tables_order():
    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows([track(i, genre="Jazz" if i % 2 else "Rock") for i in range(10)])
    proxy.set_genre("Jazz")  # shown: tracks 1, 3, 5, 7, 9
    indexes = [proxy.index(row, column) for row in (3, 0, 3) for column in (TITLE, GENRE)]  # a row's every cell
    data = proxy.mimeData(indexes)
    shown = [proxy.index(row, 0).data(Qt.ItemDataRole.ToolTipRole) for row in (0, 3)]
    assert [Path(url.toLocalFile()) for url in data.urls()] == [Path(path) for path in shown]
    assert all(url.isLocalFile() for url in data.urls()) and proxy.mimeTypes() == ["text/uri-list", TRACK_IDS_MIME]
    assert proxy.supportedDragActions() == Qt.DropAction.CopyAction  # a file manager copies; nothing leaves the library
    assert proxy.flags(proxy.index(0, TITLE)) & Qt.ItemFlag.ItemIsDragEnabled
    assert proxy.flags(proxy.index(0, GENRE)) & Qt.ItemFlag.ItemIsEditable  # and the genre still edits


def sweep(view, first: int, last: int) -> None:
    """A press on one row, a move down to another with the button held, a release."""
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    viewport, model = view.viewport(), view.model()
    start, end = (view.visualRect(model.index(row, 0)).center() for row in (first, last))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for y in range(start.y(), end.y() + 1, 4):
        QTest.mouseMove(viewport, QPoint(start.x(), y), 5)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_a_sweep_over_rows_selects_them_and_one_from_selected_rows_drags_them(qtbot):
    # With drags on everywhere, a sweep over rows dragged the first row instead of selecting the rows passed over.
    from PySide6.QtWidgets import QAbstractItemView

    from desktop.ui.track_table import TrackTableView

    model = LibraryTableModel()
    model.set_rows([track(i) for i in range(20)])
    view = TrackTableView(lambda: "", GENRE)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
    view.resize(600, 600)
    view.show()
    qtbot.addWidget(view)
    qtbot.waitExposed(view)
    def selected():
        return sorted(ix.row() for ix in view.selectionModel().selectedRows())

    drags = []
    view.startDrag = lambda _actions: drags.append(selected())

    sweep(view, 2, 6)
    assert selected() == [2, 3, 4, 5, 6] and drags == []
    sweep(view, 4, 5)  # from a selected row: the selection goes out
    assert drags == [[2, 3, 4, 5, 6]]
    assert view.dragEnabled()  # again after the release: the model's drag stays on for the keyboard's selections


def test_the_edit_key_edits_the_genre_wherever_the_current_cell_is(qtbot):
    # F2 on a track's title did nothing: only the genre can be edited, and the keyboard had to reach its column.
    from PySide6.QtWidgets import QAbstractItemView

    from desktop.ui.track_table import TrackTableView

    model = LibraryTableModel()
    model.set_rows([track(i) for i in range(5)])
    view = TrackTableView(lambda: "", GENRE)
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
    view.show()
    qtbot.addWidget(view)
    view.setCurrentIndex(model.index(2, TITLE))
    qtbot.keyClick(view, Qt.Key.Key_F2)
    assert view.state() == QAbstractItemView.State.EditingState
    assert view.indexWidget(model.index(2, GENRE)) is not None  # the editor opened on the genre
    assert view.indexWidget(model.index(2, TITLE)) is None
    qtbot.keyClick(view.indexWidget(model.index(2, GENRE)), Qt.Key.Key_Escape)
    assert view.state() != QAbstractItemView.State.EditingState
    assert not view.edit(model.index(1, TITLE), QAbstractItemView.EditTrigger.DoubleClicked, None)  # a click: as Qt does
    assert view.indexWidget(model.index(1, GENRE)) is None


def test_the_views_drag_hands_the_model_one_cell_a_row_and_offers_a_copy_alone(qtbot, monkeypatch):
    # Qt's own drag handed the model every selected cell: 700,000 for all of 100,000 tracks, 6 s before it began.
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QAbstractItemView

    from desktop.ui import track_table

    drags = []

    class Drag:
        def __init__(self, _source):
            pass

        def setMimeData(self, data):  # noqa: N802 (Qt's name)
            drags.append(data)

        def exec(self, actions, default):
            drags.append((actions, default))

    monkeypatch.setattr(track_table, "QDrag", Drag)
    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows([track(i, genre="Jazz" if i % 2 else "Rock") for i in range(10)])
    proxy.set_genre("Jazz")  # shown: tracks 1, 3, 5, 7, 9
    view = track_table.TrackTableView(lambda: "", GENRE)
    view.setModel(proxy)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    qtbot.addWidget(view)
    handed = []
    real = model.mimeData
    monkeypatch.setattr(model, "mimeData", lambda indexes: handed.append(len(indexes)) or real(indexes))
    view.startDrag(Qt.DropAction.CopyAction | Qt.DropAction.MoveAction)
    assert drags == [] and handed == []  # nothing selected: no drag
    rows = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in (3, 1):
        view.selectionModel().select(proxy.index(row, 0), rows)
    view.startDrag(Qt.DropAction.CopyAction | Qt.DropAction.MoveAction)
    paths = [proxy.index(row, 0).data(Qt.ItemDataRole.ToolTipRole) for row in (1, 3)]
    assert [Path(url.toLocalFile()) for url in drags[0].urls()] == [Path(path) for path in paths]
    assert drags[1] == (Qt.DropAction.CopyAction, Qt.DropAction.CopyAction) and handed == [2]


def test_tracks_dropped_on_a_sidebar_genre_ask_for_it_and_only_from_the_sidebars_own_table():
    # The sidebar took no drops: correcting a handful of tracks by genre went through a dialog each time.
    from PySide6.QtCore import QMimeData, QUrl

    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows([track(i, genre="Jazz" if i % 2 else "Rock") for i in range(10)])
    proxy.set_genre("Jazz")  # shown: tracks 1, 3, 5, 7, 9
    data = proxy.mimeData([proxy.index(row, column) for row in (3, 0) for column in (TITLE, GENRE)])
    sidebar = GenreListModel()
    sidebar.set_counts([("Jazz", 5), ("Rock", 5), (UNCERTAIN_ITEM, 0), (NO_GENRE_ITEM, 0)], 10)
    asked = []
    sidebar.tracks_dropped.connect(lambda ids, genre: asked.append((ids, genre)))
    copy, rock = Qt.DropAction.CopyAction, sidebar.index(2)
    assert not sidebar.canDropMimeData(data, copy, -1, -1, rock)  # a sidebar of no table takes nothing
    sidebar.drops_from = model.drag_owner
    assert sidebar.flags(rock) & Qt.ItemFlag.ItemIsDropEnabled and sidebar.mimeTypes() == [TRACK_IDS_MIME, "text/uri-list"]
    assert sidebar.dropMimeData(data, copy, -1, -1, rock)
    dragged = sorted(proxy.mapToSource(proxy.index(row, 0)).row() for row in (0, 3))  # in the table's order
    assert asked == [([model.row_at(row).id for row in dragged], "Rock")] and len(asked[0][0]) == 2
    # Not onto "All tracks", "Uncertain" or "No genre", not between two genres, not outside the rows.
    for row in (0, 3, 4):
        assert not sidebar.flags(sidebar.index(row)) & Qt.ItemFlag.ItemIsDropEnabled
        assert not sidebar.dropMimeData(data, copy, -1, -1, sidebar.index(row))
    assert not sidebar.dropMimeData(data, copy, 2, 0, sidebar.index(-1, 0))
    # Not another window's tracks (another library's ids, with their files), nor a damaged mark.
    other = LibraryTableModel()
    other.set_rows([track(i) for i in range(3)])
    assert not sidebar.dropMimeData(other.mimeData([other.index(0, 0)]), copy, -1, -1, rock)
    damaged = QMimeData()
    damaged.setData(TRACK_IDS_MIME, f"{model.drag_owner}\n1 two".encode())
    assert not sidebar.dropMimeData(damaged, copy, -1, -1, rock)
    assert len(asked) == 1
    # Files from a file manager ask as files (the window finds the library's tracks among them), web links not at all.
    files, web, named = QMimeData(), QMimeData(), []
    files.setUrls([QUrl.fromLocalFile("/music/a.flac")])
    web.setUrls([QUrl("https://example.com/a.flac")])
    sidebar.files_dropped.connect(lambda paths, genre: named.append((paths, genre)))
    assert not sidebar.dropMimeData(web, copy, -1, -1, rock) and not sidebar.canDropMimeData(web, copy, -1, -1, rock)
    assert sidebar.canDropMimeData(files, copy, -1, -1, rock) and sidebar.dropMimeData(files, copy, -1, -1, rock)
    assert named == [(["/music/a.flac"], "Rock")] and len(asked) == 1
