"""Column widths that follow a table's width until the listener sizes a column by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QTableView


class ColumnFitter(QObject):
    """Shares a table's width among its columns, again whenever the table is resized, until the listener
    drags a column border (`by_user`); the last column stretches into what is left.

    `shares`: column -> its share of the width left after `fixed()` (column -> pixels its words need).
    """

    def __init__(self, table: QTableView, shares: dict[int, float], fixed: Callable[[], dict[int, int]]):
        super().__init__(table)
        self.table, self.shares, self.fixed = table, shares, fixed
        self.by_user = False
        self._fitting = False
        table.horizontalHeader().sectionResized.connect(self._section_resized)
        table.viewport().installEventFilter(self)

    def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Resize and not self.by_user and not self._fitting:
            self.fit()
        return False

    @contextmanager
    def quietly(self) -> Iterator[None]:
        """Widths set meanwhile are not the listener's doing (a fit, or restoring the saved header)."""
        was, self._fitting = self._fitting, True
        try:
            yield
        finally:
            self._fitting = was

    def _section_resized(self, column: int, _old: int, _new: int) -> None:
        header = self.table.horizontalHeader()
        if not self._fitting and column != header.logicalIndex(header.count() - 1):  # the last one only stretches
            self.by_user = True

    def fit(self) -> None:
        """Share the width out now (every column 100 px cut titles short and hid the genre)."""
        bar = self.table.verticalScrollBar()
        # Less the scroll bar a library soon needs (the last column pushed past the edge when it came).
        width = self.table.viewport().width() - (0 if bar.isVisible() else bar.sizeHint().width())
        fixed = self.fixed()
        left, total = width - sum(fixed.values()), sum(self.shares.values())
        with self.quietly():
            for column, share in self.shares.items():
                self.table.setColumnWidth(column, max(48, int(left * share / total)))
            for column, size in fixed.items():  # the last column also stretches into the rest, never below this
                self.table.setColumnWidth(column, size)
