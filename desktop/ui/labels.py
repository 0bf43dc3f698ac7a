"""Labels that show names from the library or from files as they are."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel


def plain_label(text: str = "") -> QLabel:
    """A QLabel that never reads its text as HTML (Qt guesses rich text from a leading tag otherwise)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # a file named "<b>x</b>.mp3" shows as named, not in bold
    return label


class EllipsisLabel(QLabel):
    """A one-line plain-text label that, given less room than its text needs, ends it in "…" and says it whole on
    hover. A QLabel squeezed by its layout (the status bar beside the model's label) cut its text mid-word."""

    MIN_WIDTH = 80  # what the layout may squeeze it to: a few words and the ellipsis

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        """Show `text`, shortened with "…" where the label is too narrow."""
        super().setText(text)
        self._update_tooltip()

    def shown_text(self) -> str:
        """The text as it is drawn at the label's present width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """As narrow as MIN_WIDTH (or the text, when shorter): the rest of the bar keeps its room."""
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.MIN_WIDTH), hint.height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._update_tooltip()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())

    def _update_tooltip(self) -> None:
        self.setToolTip("" if self.shown_text() == self.text() else self.text())
