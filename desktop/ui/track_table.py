"""The library's table view: rows already selected drag out as tracks, a press on another row and a drag selects;
the edit key edits the row's editable column wherever the current cell is. And a delegate that elides in the middle."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QDrag, QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QStyledItemDelegate, QStyleOptionViewItem

from desktop.ui.hint_table import HintTableView


class TrackTableView(HintTableView):
    """A HintTableView whose drags start only from rows selected before the press (with drags on everywhere, a
    press and a move over rows started a drag of the pressed row instead of selecting the rows passed over), and
    whose edit key (F2) edits `edit_column` of the current row (it did nothing on the title, say)."""

    def __init__(self, hint: Callable[[], str], edit_column: int, parent=None):
        super().__init__(hint, parent)
        self.edit_column = edit_column

    def selected_rows(self) -> list[int]:
        """The selected rows, in order, from the selection's ranges (selectedRows() asks every cell of 100,000 rows)."""
        return sorted({row for span in self.selectionModel().selection() for row in range(span.top(), span.bottom() + 1)})

    def startDrag(self, supported_actions) -> None:  # noqa: N802 (Qt's name)
        """Drag the selected tracks out, one cell a row handed to the model (Qt's own drag handed it every cell: 700,000
        for all of 100,000 tracks, 6 s before the drag began)."""
        model, rows = self.model(), self.selected_rows()
        if not rows:
            return
        data = model.mimeData([model.index(row, 0) for row in rows])
        if data is not None:
            drag = QDrag(self)
            drag.setMimeData(data)
            drag.exec(supported_actions & model.supportedDragActions(), Qt.DropAction.CopyAction)

    def edit(self, index, trigger=QAbstractItemView.EditTrigger.AllEditTriggers, event=None) -> bool:
        """Qt's edit; the edit key on a cell that cannot be edited edits the row's editable column instead."""
        if trigger == QAbstractItemView.EditTrigger.EditKeyPressed and index.isValid() and index.column() != self.edit_column:
            index = index.siblingAtColumn(self.edit_column)
        return super().edit(index, trigger, event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        index = self.indexAt(event.position().toPoint())
        selection = self.selectionModel()
        # Qt starts a drag from any row it has just selected; only rows the listener chose before go out.
        self.setDragEnabled(index.isValid() and selection is not None and selection.isSelected(index))
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        self.setDragEnabled(True)  # as the model offers: the keyboard's selection drags out too


class MiddleElidingDelegate(QStyledItemDelegate):
    """Cells that keep both ends of a text too long for them: "/home/ann/…/Jazz/Kind of Blue" (a folder's own name
    is at its end, cut off by the table's "/home/ann/Music/…")."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt's name)
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle
        # One line: wrapped at each "/", a row one line tall showed the path's first folders and elided its last line.
        option.features &= ~QStyleOptionViewItem.ViewItemFeature.WrapText
