"""A status bar whose message, too long for the room it has, ends in "…" and is said whole on hover."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStatusBar

LEAST_ROOM = 120  # pixels a message keeps however much the permanent widgets take


class MessageBar(QStatusBar):
    """Qt cut a long message off mid-word at the window's edge ("…(most tagged so far: jazz: 12 by 1"): here it ends
    in "…" within `room()` (the pixels the widgets that stay beside a message leave it), whole in the bar's tooltip,
    and `currentMessage()` is still the whole of it; the window resized, it is fitted again for the time it had left."""

    def __init__(self, room: Callable[[], int], parent=None):
        super().__init__(parent)
        self.room = room
        self._whole = ""
        self._until: float | None = None  # when the message shown goes (monotonic seconds); None: at the next
        self.messageChanged.connect(self._changed)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        """Show `text` for `timeout` ms (0: until the next), shortened with "…" where it does not fit."""
        self._whole = text
        self._until = time.monotonic() + timeout / 1000 if timeout else None
        self._show_fitted()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Fit the message shown to the bar's new width (a window made narrower cut it mid-word at its edge again)."""
        super().resizeEvent(event)
        if self.currentMessage():
            self._show_fitted()

    def _show_fitted(self) -> None:
        # Not shown yet, the bar has no width of its own to fit the message to: it is shown whole.
        room = max(LEAST_ROOM, self.room()) if self.isVisible() else None
        text = self._whole
        shown = text if room is None else self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room)
        self.setToolTip(text if shown != text else "")
        left = 0 if self._until is None else max(1, round((self._until - time.monotonic()) * 1000))
        super().showMessage(shown, left)

    def currentMessage(self) -> str:  # noqa: N802 (Qt's name)
        """The message shown now, whole (as given, not as shortened), '' with none."""
        return self._whole if super().currentMessage() else ""

    def _changed(self, text: str) -> None:
        if not text:  # gone (its time is up, or cleared): so is what said it whole
            self._whole = ""
            self.setToolTip("")
