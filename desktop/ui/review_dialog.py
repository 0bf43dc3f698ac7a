"""Apply Predicted Genres' review: old -> new per file, each row checked or not, over a model that sorts itself.

A QTableWidget did this before: checking or unchecking every row of 70,000 took 9 s, because each item looked its
own row up by a linear search once the table had been sorted (its cached row went stale), and a proxy sorting
through data() would call Python two million times per sort. The model keeps the changes, a check per change and
the order they are shown in.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from desktop.core.genres import join_genres
from desktop.core.wording import count, percent
from desktop.ui.large_table import LargeTableView

FILE, CURRENT, NEW, WHY = range(4)
HEADERS = ("File", "Current genre", "New genre", "Why")
CELL = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
BY_HAND = 2.0  # the Why column's sort key of a change set by hand: after every prediction's confidence


def why_text(confidence: float | None) -> str:
    """The Why cell of a change: set by hand, or how sure the prediction is."""
    return "set by hand" if confidence is None else f"predicted, {percent(confidence)} sure"


def cell_text(change, column: int) -> str:
    """What a change shows in a column."""
    if column == FILE:
        return change.path
    if column == CURRENT:
        return join_genres(change.old) or "(none)"
    if column == NEW:
        return join_genres(change.new)
    return why_text(change.confidence)


def sort_key(change, column: int):
    """How a change sorts by a column: paths and genres by their text, as the plan lists them; Why by how sure (as a
    number: "100%" after "55%"), set by hand last."""
    if column == WHY:
        return BY_HAND if change.confidence is None else change.confidence
    return cell_text(change, column)


class ChangesModel(QAbstractTableModel):
    """The planned changes, a check each (only the checked are written), shown in the order last sorted."""

    checks_changed = Signal()

    def __init__(self, changes, parent=None):
        super().__init__(parent)
        self.changes = list(changes)
        self.checked = [True] * len(self.changes)
        self.order = list(range(len(self.changes)))  # shown row -> its change's index

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt's name)
        """One row per change."""
        return 0 if parent.isValid() else len(self.changes)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt's name)
        """File, current genre, new genre, why."""
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 (Qt's name)
        """The column titles; rows are numbered as shown."""
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return HEADERS[section] if orientation == Qt.Orientation.Horizontal else section + 1

    def change_at(self, row: int) -> int:
        """The index in `changes` of the change shown at `row`."""
        return self.order[row]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        """A cell's text, the file's path as its tooltip, and the file column's check."""
        if not index.isValid():
            return None
        i, column = self.order[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(self.changes[i], column)
        if role == Qt.ItemDataRole.ToolTipRole and column == FILE:
            return self.changes[i].path
        if role == Qt.ItemDataRole.CheckStateRole and column == FILE:
            return Qt.CheckState.Checked if self.checked[i] else Qt.CheckState.Unchecked
        return None

    def flags(self, index):
        """Cells are selectable; the file column's is checkable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return CELL | Qt.ItemFlag.ItemIsUserCheckable if index.column() == FILE else CELL

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802 (Qt's name)
        """A click on a row's check box checks or unchecks it."""
        if not index.isValid() or index.column() != FILE or role != Qt.ItemDataRole.CheckStateRole:
            return False
        self.checked[self.order[index.row()]] = Qt.CheckState(value) == Qt.CheckState.Checked
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checks_changed.emit()
        return True

    def set_checked(self, changes: Iterable[int], checked: bool) -> None:
        """Check or uncheck these changes (indexes in `changes`): one repaint of the column, however many."""
        for i in changes:
            self.checked[i] = checked
        if self.changes:
            self.dataChanged.emit(self.index(0, FILE), self.index(len(self.changes) - 1, FILE),
                                  [Qt.ItemDataRole.CheckStateRole])
        self.checks_changed.emit()

    def checked_count(self) -> int:
        """How many changes are checked."""
        return sum(self.checked)

    def accepted(self) -> list:
        """The checked changes, in their original order."""
        return [change for change, checked in zip(self.changes, self.checked, strict=True) if checked]

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Show the changes sorted by a column (the header's click); the selection stays with its changes."""
        self.layoutAboutToBeChanged.emit()
        kept = self.persistentIndexList()
        kept_changes = [self.order[ix.row()] for ix in kept]
        keys = [sort_key(change, column) for change in self.changes]
        self.order.sort(key=keys.__getitem__, reverse=order == Qt.SortOrder.DescendingOrder)
        row_of = {change: row for row, change in enumerate(self.order)}
        self.changePersistentIndexList(kept, [self.index(row_of[i], ix.column()) for i, ix in zip(kept_changes, kept, strict=True)])
        self.layoutChanged.emit()


class ReviewDialog(QDialog):
    """Shows old -> new per file; only the checked rows are written. Sortable (group by the new genre),
    Space checks or unchecks every selected row."""

    def __init__(self, changes, parent=None, against=None):
        super().__init__(parent)
        self.share_albums = False  # the listener chose One Genre per Album instead of writing these
        self.setWindowTitle("Review genre changes")
        self.changes = list(changes)
        self.model = ChangesModel(self.changes, self)
        self.table = LargeTableView()  # titles blind to the selection: a select-all of 70,000 rows held it 0.8 s
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a long path keeps its file name in sight
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self._fit_columns()
        self.table.horizontalHeader().setSectionResizeMode(FILE, QHeaderView.ResizeMode.Stretch)  # the path takes the room
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(FILE, Qt.SortOrder.AscendingOrder)
        self.model.checks_changed.connect(self._count_checked)
        self.table.installEventFilter(self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        every, none = QPushButton("Check all"), QPushButton("Uncheck all")
        every.clicked.connect(lambda: self.set_all(True))
        none.clicked.connect(lambda: self.set_all(False))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{count(len(self.changes), 'file')} would change. Uncheck what you do not want written "
                                "(Space: the selected rows; click a column to sort)."))
        layout.addWidget(self.table)
        self.albums_note = self.albums_button = None
        if against is not None:  # predictions over what the listener gave the rest of their albums
            self.albums_note = QLabel(f"{against.wording()}.")
            self.albums_note.setWordWrap(True)
            layout.addWidget(self.albums_note)
            self.albums_button = QPushButton("Turn On One Genre per Album")
            self.albums_button.setToolTip("Nothing is written now: every track of an album shows (and is written "
                                          "with) one genre, and the changes are shown again. Edit → One Genre per "
                                          "Album turns it off again")
            self.albums_button.clicked.connect(self._share_albums)
        row = QHBoxLayout()
        row.addWidget(every)
        row.addWidget(none)
        if self.albums_button is not None:
            row.addWidget(self.albums_button)
        row.addStretch(1)
        row.addWidget(self.buttons)
        layout.addLayout(row)
        self.resize(820, 480)
        self._count_checked()

    def _share_albums(self) -> None:
        self.share_albums = True
        self.reject()  # nothing written; the window turns the setting on and reviews again

    def _fit_columns(self) -> None:
        # As wide as their longest words, read from the few distinct texts (sizing to contents asks every row).
        metrics = self.table.fontMetrics()
        for column in (CURRENT, NEW, WHY):
            texts = {cell_text(change, column) for change in self.changes} | {HEADERS[column]}
            self.table.setColumnWidth(column, max(map(metrics.horizontalAdvance, texts)) + 4 * metrics.averageCharWidth())

    def text(self, row: int, column: int) -> str:
        """The text shown at a row and column, as sorted now."""
        return self.model.index(row, column).data()

    def _count_checked(self) -> None:
        checked = self.model.checked_count()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(f"Write {checked:,} checked")
        ok.setEnabled(checked > 0)

    def set_all(self, checked: bool) -> None:
        """Check or uncheck every row."""
        self.model.set_checked(range(len(self.changes)), checked)

    def set_checked(self, row: int, checked: bool) -> None:
        """Check or uncheck one row (as shown)."""
        self.model.set_checked([self.model.change_at(row)], checked)

    def toggle_selected(self) -> None:
        """Uncheck the selected rows when the first of them is checked, else check them all."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if rows:
            changes = [self.model.change_at(r) for r in rows]
            self.model.set_checked(changes, not self.model.checked[changes[0]])

    def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
        # Space reaches the table first (it would toggle the current row only): every selected row instead
        if watched is self.table and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Space:
            self.toggle_selected()
            return True
        return super().eventFilter(watched, event)

    def accepted_changes(self):
        """The changes whose rows are checked, in their original order."""
        return self.model.accepted()
