"""Tracks dragged out of the library table: their files' addresses, each once, for copying, never moving."""

from pathlib import Path

from PySide6.QtCore import Qt

from desktop.ui.table_model import GENRE, TITLE, LibraryFilter, LibraryTableModel
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
    assert all(url.isLocalFile() for url in data.urls()) and proxy.mimeTypes() == ["text/uri-list"]
    assert proxy.supportedDragActions() == Qt.DropAction.CopyAction  # a file manager copies; nothing leaves the library
    assert proxy.flags(proxy.index(0, TITLE)) & Qt.ItemFlag.ItemIsDragEnabled
    assert proxy.flags(proxy.index(0, GENRE)) & Qt.ItemFlag.ItemIsEditable  # and the genre still edits
