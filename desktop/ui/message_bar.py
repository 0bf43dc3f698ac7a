"""A status bar whose message, too long for the room it has, ends in "…" and is said whole on hover."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStatusBar

LEAST_ROOM = 120  # pixels a message keeps however much the permanent widgets take


class MessageBar(QStatusBar):
    """Qt cut a long message off mid-word at the window's edge ("…(most tagged so far: jazz: 12 by 1"): here it ends
    in "…" within `room()` (the pixels the widgets that stay beside a message leave it), whole in the bar's tooltip,
    and `currentMessage()` is still the whole of it."""

    def __init__(self, room: Callable[[], int], parent=None):
        super().__init__(parent)
        self.room = room
        self._whole = ""
        self.messageChanged.connect(self._changed)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        """Show `text` for `timeout` ms (0: until the next), shortened with "…" where it does not fit."""
        self._whole = text
        # Not shown yet, the bar has no width of its own to fit the message to: it is shown whole.
        room = max(LEAST_ROOM, self.room()) if self.isVisible() else None
        shown = text if room is None else self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room)
        self.setToolTip(text if shown != text else "")
        super().showMessage(shown, timeout)

    def currentMessage(self) -> str:  # noqa: N802 (Qt's name)
        """The message shown now, whole (as given, not as shortened), '' with none."""
        return self._whole if super().currentMessage() else ""

    def _changed(self, text: str) -> None:
        if not text:  # gone (its time is up, or cleared): so is what said it whole
            self._whole = ""
            self.setToolTip("")
