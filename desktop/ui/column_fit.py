"""Column widths that follow a table's width until the listener sizes a column by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QTableView

LEAST = 48  # pixels: no shared column narrower, however narrow the table


class ColumnFitter(QObject):
    """Shares a table's width among its columns, again whenever the table is resized, until the listener
    drags a column border (`by_user`); the last column stretches into what is left.

    `shares`: column -> its share of the width left after `fixed()` (column -> the pixels its words need at least,
    and those it wants: its title too). `floors()`: column -> pixels a shared column keeps however narrow the table
    (the genre's words); the other shared columns give up theirs first.
    """

    def __init__(self, table: QTableView, shares: dict[int, float], fixed: Callable[[], dict[int, tuple[int, int]]],
                 floors: Callable[[], dict[int, int]] = dict):
        super().__init__(table)
        self.table, self.shares, self.fixed, self.floors = table, shares, fixed, floors
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

    def _section_resized(self, column: int, old: int, new: int) -> None:
        # Hidden or shown is not sized: a column hidden before the table shows is hidden by Qt only later, as a
        # resize to 0 outside quietly() (the Folder column, hidden at first, so stopped the columns following).
        # The last column only stretches.
        if not self._fitting and old and new and column != last_shown(self.table.horizontalHeader()):
            self.by_user = True

    def show_column(self, column: int, shown: bool) -> None:
        """Show or hide a column (not the listener sizing it); the shown columns share the width again unless the
        listener has sized one."""
        with self.quietly():
            self.table.setColumnHidden(column, not shown)
        if not self.by_user:
            self.fit()

    def fit(self) -> None:
        """Share the width out now (every column 100 px cut titles short and hid the genre)."""
        bar = self.table.verticalScrollBar()
        # Less the scroll bar a library soon needs (the last column pushed past the edge when it came).
        width = self.table.viewport().width() - (0 if bar.isVisible() else bar.sizeHint().width())
        hidden = self.table.isColumnHidden
        fixed = {column: widths for column, widths in self.fixed().items() if not hidden(column)}
        shares = {column: share for column, share in self.shares.items() if not hidden(column)}
        floors = self.floors()
        sizes = {column: wanted for column, (_least, wanted) in fixed.items()}
        if width - sum(sizes.values()) < sum(least_widths(shares, floors).values()):
            # Too narrow for every title: "Confidence" gives way to its "100%" before the genre is cut to "Clas…".
            sizes = {column: least for column, (least, _wanted) in fixed.items()}
        with self.quietly():
            for column, size in share_out(width - sum(sizes.values()), shares, floors).items():
                self.table.setColumnWidth(column, size)
            for column, size in sizes.items():  # the last column also stretches into the rest, never below this
                self.table.setColumnWidth(column, size)


def shown_columns(header) -> list[int]:
    """The logical indexes of the columns shown, left to right as the listener ordered them."""
    return [c for c in map(header.logicalIndex, range(header.count())) if not header.isSectionHidden(c)]


def last_shown(header) -> int:
    """The logical index of the rightmost column shown (the one that stretches), -1 with none shown."""
    shown = shown_columns(header)
    return shown[-1] if shown else -1


def share_out(width: int, shares: dict[int, float], floors: dict[int, int]) -> dict[int, int]:
    """Each column its share of `width`, but never under its floor (nor LEAST): a column its share leaves short
    gets its floor, and the others share what remains (they may then run past `width`, and the table scrolls)."""
    least = least_widths(shares, floors)
    sizes: dict[int, int] = {}
    free = dict(shares)
    while free:
        left, total = width - sum(sizes.values()), sum(free.values())
        short = {c: least[c] for c, share in free.items() if left * share / total < least[c]}
        if not short:
            sizes.update({c: int(left * share / total) for c, share in free.items()})
            break
        sizes.update(short)
        free = {c: share for c, share in free.items() if c not in short}
    return sizes


def least_widths(shares: dict[int, float], floors: dict[int, int]) -> dict[int, int]:
    """The pixels each shared column keeps however narrow the table: its floor, and LEAST at the least."""
    return {column: max(LEAST, floors.get(column, 0)) for column in shares}
