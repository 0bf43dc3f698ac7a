"""A table view that says why it is empty: no music yet, or nothing matches what is asked."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPalette

from desktop.ui.large_table import LargeTableView


class HintTableView(LargeTableView):
    """A LargeTableView that draws `hint()` in its middle while it shows no row (an empty hint draws nothing)."""

    def __init__(self, hint: Callable[[], str], parent=None):
        super().__init__(parent)
        self.hint = hint

    def paintEvent(self, event):  # noqa: N802 (Qt's name)
        super().paintEvent(event)
        if self.model() is None or self.model().rowCount() > 0:
            return
        text = self.hint()
        if not text:
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        area = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
        painter.end()
