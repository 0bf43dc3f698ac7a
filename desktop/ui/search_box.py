"""The table's search box: a clear button, Escape empties it, Down goes on to the tracks it found."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit


class SearchBox(QLineEdit):
    """A line edit for searching: Escape empties it (an empty one passes Escape on), Down asks for the results."""

    down_pressed = Signal()

    def __init__(self, placeholder: str, parent=None):
        super().__init__(parent, placeholderText=placeholder)
        self.setClearButtonEnabled(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        """Escape and Down as a search box's; every other key as a line edit's."""
        plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        if plain and event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
        elif plain and event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
        else:
            super().keyPressEvent(event)
