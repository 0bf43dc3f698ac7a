"""The library's table view: rows already selected drag out as tracks; a press on another row and a drag selects."""

from __future__ import annotations

from PySide6.QtGui import QMouseEvent

from desktop.ui.hint_table import HintTableView


class TrackTableView(HintTableView):
    """A HintTableView whose drags start only from rows selected before the press: with drags on everywhere, a
    press and a move over rows started a drag of the pressed row instead of selecting the rows passed over."""

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        index = self.indexAt(event.position().toPoint())
        selection = self.selectionModel()
        # Qt starts a drag from any row it has just selected; only rows the listener chose before go out.
        self.setDragEnabled(index.isValid() and selection is not None and selection.isSelected(index))
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        self.setDragEnabled(True)  # as the model offers: the keyboard's selection drags out too
