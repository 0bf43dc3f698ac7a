"""Edit > Write History: every batch of tag writes, newest first, and undo of the one chosen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop.store.schema import stored_utc

COLUMNS = ("When", "What", "Files", "State")  # state: undone, partly undone (an unnamed column read as a blank)
BATCH_ROLE = Qt.ItemDataRole.UserRole + 1


class WriteHistoryDialog(QDialog):
    """The newest write batches (BatchSummary: each with the files it changed); `chosen` is the batch id to undo once accepted."""

    def __init__(self, batches, parent=None, can_undo: bool = True):
        super().__init__(parent)
        self.setWindowTitle("Write history")
        self.chosen: int | None = None
        layout = QVBoxLayout(self)
        intro = QLabel("Every batch of genre writes, newest first. Undo restores a batch's files that still hold what "
                       "it wrote (a file changed since is left as it is and named)." if batches else "Nothing has been written yet.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(len(batches), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.undoable: dict[int, bool] = {}
        for row, summary in enumerate(batches):
            batch, files, undone = summary.batch, summary.files, summary.batch.undone_at is not None
            cells = (f"{stored_utc(batch.created_at).astimezone():%Y-%m-%d %H:%M}", batch.description, f"{files:,}", summary.state())
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(BATCH_ROLE, batch.id)
                self.table.setItem(row, column, item)
            self.undoable[batch.id] = can_undo and not undone and files > 0  # a read-only library: history only
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.undo_button = self.buttons.addButton("Undo This Batch", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self._undo_chosen)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._selection_changed()
        self.resize(640, 400)

    def selected_batch(self) -> int | None:
        """The batch id of the selected row, if any."""
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).data(BATCH_ROLE) if rows else None

    def _selection_changed(self) -> None:
        batch = self.selected_batch()
        self.undo_button.setEnabled(batch is not None and self.undoable.get(batch, False))

    def _undo_chosen(self) -> None:
        self.chosen = self.selected_batch()
        if self.chosen is not None:
            self.accept()
