"""Labels that show names from the library or from files as they are."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def plain_label(text: str = "") -> QLabel:
    """A QLabel that never reads its text as HTML (Qt guesses rich text from a leading tag otherwise)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # a file named "<b>x</b>.mp3" shows as named, not in bold
    return label
