"""The status bar's count of the table's tracks: "2,851 of 100,000 tracks · 12 selected"."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QTimer
from PySide6.QtWidgets import QLabel, QTableView

from desktop.core.wording import count


def count_words(shown: int, total: int, selected: int) -> str:
    """Every track, or those shown of every track, and how many are selected when more than one is ('' for none)."""
    if total == 0:
        return ""  # the empty table says why in its own words
    words = count(total, "track") if shown == total else f"{shown:,} of {count(total, 'track')}"
    # One selected track is the one the details panel shows: counting it tells nothing.
    return words + f" · {selected:,} selected" if selected > 1 else words


def selected_row_count(selection: QItemSelection) -> int:
    """How many rows a selection covers, each once: its ranges may overlap, and `selectedRows()` would make a
    Python index for every row (a select-all of 100,000 tracks is one range)."""
    spans = sorted((span.top(), span.bottom()) for span in selection)
    rows, end = 0, -1
    for top, bottom in spans:
        if bottom > end:
            rows += bottom - max(top, end + 1) + 1
            end = bottom
    return rows


class TrackCount(QLabel):
    """How many tracks the table shows of how many the library has, and how many are selected; counted again once
    after the table's rows, its filter or its selection change, however many signals the change sent."""

    def __init__(self, table: QTableView, parent=None):
        super().__init__(parent)
        self.table = table
        self.setAccessibleName("Tracks shown")
        self._timer = QTimer(self, singleShot=True, interval=0, timeout=self.update_count)
        proxy = table.model()
        # Connected to the timer's own slot, so Qt calls no Python per signal: tracks deleted here and there through
        # the table send rowsRemoved once per run of rows, a thousand times for a thousand tracks apart.
        for model in (proxy, proxy.sourceModel()):  # a row added and filtered out changes only the source
            for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.layoutChanged):
                signal.connect(self._timer.start)
        table.selectionModel().selectionChanged.connect(self._timer.start)
        self.update_count()

    def update_count(self) -> None:
        """Count the tracks again now."""
        proxy = self.table.model()
        selected = selected_row_count(self.table.selectionModel().selection())
        self.setText(count_words(proxy.rowCount(), proxy.sourceModel().rowCount(), selected))
