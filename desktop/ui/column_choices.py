"""Which of the library table's columns show: a checkable entry per column, in the header's right-click menu and
under View > Columns, with Fit Columns to Window; the header's saved state keeps the choice (and the order the
columns were dragged into)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTableView

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

    def _header_menu(self, pos) -> None:
        menu = self.menu(self.table)
        menu.exec(self.table.horizontalHeader().mapToGlobal(pos))
        menu.deleteLater()  # a menu made for each right-click: not kept by the table once closed
