"""Which of the library table's columns show: a checkable entry per column, in the header's right-click menu and
under View > Columns, with Fit Columns to Window; the header's saved state keeps the choice (and the order the
columns were dragged into), and restore_header brings it back, also when a version since added columns."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, Qt
from PySide6.QtGui import QAction, QStandardItemModel
from PySide6.QtWidgets import QHeaderView, QMenu, QTableView

from desktop.ui.column_fit import ColumnFitter


class ColumnChoices(QObject):
    """One checkable action per column; the columns in `always_shown` (what the table is about) cannot be hidden."""

    def __init__(self, table: QTableView, titles: tuple[str, ...], always_shown: set[int], fitter: ColumnFitter):
        super().__init__(table)
        self.table, self.fitter, self.always_shown = table, fitter, always_shown
        self.actions: list[QAction] = []
        for column, title in enumerate(titles):
            action = QAction(title, self, checkable=True, checked=True)
            action.setEnabled(column not in always_shown)
            action.toggled.connect(lambda shown, column=column: self.fitter.show_column(column, shown))
            self.actions.append(action)
        # Once a border is dragged the widths stay as the listener set them: this hands them back to the window.
        self.fit_action = QAction("Fit Columns to Window", self, triggered=self.fit_to_window)
        header = table.horizontalHeader()
        header.setSectionsMovable(True)  # dragged into the listener's order
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)

    def menu(self, parent=None) -> QMenu:
        """A menu of the columns, each checked while shown."""
        menu = QMenu("Columns", parent)
        menu.addActions(self.actions)
        menu.addSeparator()
        menu.addAction(self.fit_action)
        return menu

    def fit_to_window(self) -> None:
        """The shown columns share the table's width again, and follow it as the window is resized."""
        self.fitter.by_user = False
        self.fitter.fit()

    def follow_header(self) -> None:
        """Check each column's entry as the header shows it (after its saved state is restored); a column that is
        always shown shows again, whatever the state said."""
        for column in self.always_shown:
            self.table.setColumnHidden(column, False)
        for column, action in enumerate(self.actions):
            action.blockSignals(True)  # the header already is as the entry will say
            action.setChecked(not self.table.isColumnHidden(column))
            action.blockSignals(False)

    def lay_out_as_at_first(self, columns, hidden: set[int], placed_after: dict[int, int]) -> None:
        """Lay `columns` out as a first start does (all of them then; after an update, those its saved header did
        not know yet): those in `hidden` hidden, a column in `placed_after` moved right of the column named there."""
        header = self.table.horizontalHeader()
        for column in columns:
            if column in placed_after:
                at, after = header.visualIndex(column), header.visualIndex(placed_after[column])
                header.moveSection(at, after if at < after else after + 1)  # from its left, the others close up first
            self.table.setColumnHidden(column, column in hidden and column not in self.always_shown)
        self.follow_header()

    def _header_menu(self, pos) -> None:
        menu = self.menu(self.table)
        menu.exec(self.table.horizontalHeader().mapToGlobal(pos))
        menu.deleteLater()  # a menu made for each right-click: not kept by the table once closed


def restore_header(header: QHeaderView, state: QByteArray, columns_saved: int) -> bool:
    """Restore a table header's saved state (widths, order, hidden columns, sort), saved when the table had
    `columns_saved` columns; the columns added since keep their defaults. False when the state is not a header's."""
    if columns_saved >= header.count():
        return header.restoreState(state)
    # Qt restores a state of fewer columns but keeps its old total width, and the state it saves after that is
    # refused at the next start (every choice lost): read into a header of the old columns, copied column by column.
    scratch = QTableView()
    scratch.setModel(QStandardItemModel(0, columns_saved, scratch))
    old = scratch.horizontalHeader()
    if not old.restoreState(state):
        return False
    for visual in range(columns_saved):
        header.moveSection(header.visualIndex(old.logicalIndex(visual)), visual)
    for column in range(columns_saved):
        if not old.isSectionHidden(column):
            header.resizeSection(column, old.sectionSize(column))
        header.setSectionHidden(column, old.isSectionHidden(column))
    header.setSortIndicator(old.sortIndicatorSection(), old.sortIndicatorOrder())
    return True
