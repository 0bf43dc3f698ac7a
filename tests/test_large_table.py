"""Large tables: a selection of every row costs what the rows shown cost, however many rows are selected."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPoint, Qt
from PySide6.QtTest import QTest

from desktop.ui.large_table import LargeTableView


class CountingModel(QAbstractTableModel):
    """Rows of numbers, sortable, counting how often Qt asks for a cell's flags (a Python call each)."""

    def __init__(self, rows: int):
        super().__init__()
        self.values, self.flag_calls = list(range(rows)), 0

    def rowCount(self, parent=QModelIndex()):  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self.values)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802
        return 0 if parent.isValid() else 6

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return str(self.values[index.row()] * (index.column() + 1)) if role == Qt.ItemDataRole.DisplayRole else None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        return f"Column {section}" if role == Qt.ItemDataRole.DisplayRole else None

    def flags(self, index):
        self.flag_calls += 1
        return super().flags(index)

    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        self.layoutAboutToBeChanged.emit()
        self.values.sort(reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()


def test_a_select_all_and_the_titles_painted_after_it_ask_about_the_rows_shown_only(qtbot):
    # Qt's header asked the selection, at each paint, whether each column it showed was wholly selected: cell by cell
    # through every selected row (3 s held at 100,000 tracks, again at each repaint of the titles).
    model = CountingModel(20_000)
    view = LargeTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setSelectionBehavior(LargeTableView.SelectionBehavior.SelectRows)
    view.setSortingEnabled(True)
    view.resize(600, 400)
    view.show()
    qtbot.waitExposed(view)
    model.flag_calls = 0
    view.selectAll()
    qtbot.wait(50)  # the table and its titles painted
    header = view.horizontalHeader()
    header.viewport().update()  # as the mouse over a title repaints it
    qtbot.wait(50)
    assert model.flag_calls < 2_000, model.flag_calls  # a plain QTableView: more than 20,000 a column shown
    assert len(view.selectionModel().selectedRows()) == 20_000  # every row selected, in the view's own selection
    # Clicking a title still sorts.
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(3) + 5, header.height() // 2))
    assert header.sortIndicatorSection() == 3
    view.setModel(CountingModel(10))  # a new model: its header is still apart from the view's selection
    assert header.selectionModel() is not view.selectionModel() and header.selectionModel().model() is view.model()


def test_the_library_table_and_the_review_of_changes_are_large_tables(qtbot):
    from desktop.ui.review_dialog import ReviewDialog
    from desktop.ui.track_table import TrackTableView

    assert issubclass(TrackTableView, LargeTableView)
    dialog = ReviewDialog([])
    qtbot.addWidget(dialog)
    assert isinstance(dialog.table, LargeTableView)
