"""Track details: the probability of each genre as bars, and the per-window predictions over time."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.core.wording import percent

NO_WINDOWS = "no per-window data"
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]


class ProbabilityBars(QWidget):
    """Horizontal bars, one per genre, longest first."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items: list[tuple[str, float]] = []
        self.setMinimumHeight(120)

    def set_probabilities(self, labels, probs) -> None:
        """Show labels with their probabilities."""
        self.items = sorted(zip(labels, probs, strict=True), key=lambda x: -x[1])
        self.setMinimumHeight(18 * max(1, len(self.items)) + 6)
        self.update()

    def name_column(self, metrics: QFontMetrics) -> tuple[int, list[str]]:
        """The names' column width (the longest name, up to 40% of the widget) and each name fitted to it."""
        widest = max((metrics.horizontalAdvance(label) for label, _ in self.items), default=0)
        label_w = min(widest + 12, max(60, int(self.width() * 0.4)))
        return label_w, [metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_w - 6) for label, _ in self.items]

    def paintEvent(self, _event):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        h = 18
        label_w, names = self.name_column(p.fontMetrics())
        width = max(10, self.width() - label_w - 50)
        for i, ((_label, prob), name) in enumerate(zip(self.items, names, strict=True)):
            y = 3 + i * h
            p.setPen(self.palette().text().color())
            p.drawText(QRectF(0, y, label_w - 6, h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            p.fillRect(QRectF(label_w, y + 3, width * prob, h - 6), QColor(PALETTE[0] if i == 0 else "#9aa9bb"))
            p.drawText(QRectF(label_w + width * prob + 4, y, 50, h), Qt.AlignmentFlag.AlignVCenter, percent(prob))
        p.end()


class WindowTimeline(QWidget):
    """One line per genre: its probability in each analysed window, across the track's time."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.labels, self.starts, self.probs = [], [], []
        self.note = NO_WINDOWS  # what the box says with no windows to draw
        self.setMinimumHeight(110)

    def set_windows(self, labels, starts, probs, note: str = "") -> None:
        """starts: seconds; probs: [windows][labels]; `note`: what shows without windows."""
        self.labels, self.starts, self.probs = list(labels), list(starts), [list(r) for r in probs]
        self.note = note or NO_WINDOWS
        self.update()

    @staticmethod
    def legend(metrics: QFontMetrics, names: list[str], rect: QRectF) -> list[tuple[float, str]]:
        """(x, name) of each line's name in the row above the plot, each shortened to its share of the width."""
        room = int(max(30.0, rect.width() / max(1, len(names)) - 10))
        out, x = [], rect.left() + 4
        for name in names:
            name = metrics.elidedText(name, Qt.TextElideMode.ElideRight, room)
            out.append((x, name))
            x += metrics.horizontalAdvance(name) + 10
        return out

    def paintEvent(self, _event):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = p.fontMetrics()
        # A row for the names above the plot (inside it they covered the lines near 100%), the scale at the left.
        left, top = metrics.horizontalAdvance("100%") + 6, metrics.height() + 4
        rect = QRectF(left, top, max(10, self.width() - left - 10), max(10, self.height() - top - metrics.height() - 6))
        p.setPen(QPen(QColor("#888888")))
        p.drawRect(rect)
        p.setPen(self.palette().text().color())
        for fraction, text in ((1.0, "100%"), (0.0, "0%")):
            y = rect.bottom() - fraction * rect.height()
            p.drawText(QRectF(0, y - metrics.height() / 2, left - 4, metrics.height()), Qt.AlignmentFlag.AlignRight, text)
        if not self.probs:
            p.drawText(rect.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.note)
            p.end()
            return
        span = (max(self.starts) - min(self.starts)) or 1.0
        x0 = min(self.starts)
        top = sorted(range(len(self.labels)), key=lambda j: -max(r[j] for r in self.probs))[:4]
        legend = self.legend(metrics, [self.labels[j] for j in top], rect)
        for rank, j in enumerate(top):
            p.setPen(QPen(QColor(PALETTE[rank % len(PALETTE)]), 2))
            points = [(rect.left() + (s - x0) / span * rect.width(), rect.bottom() - r[j] * rect.height())
                      for s, r in zip(self.starts, self.probs, strict=True)]
            for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
                p.drawLine(int(xa), int(ya), int(xb), int(yb))
            for x, y in points:
                p.drawEllipse(QRectF(x - 2, y - 2, 4, 4))
            name_x, name = legend[rank]
            p.drawText(int(name_x), metrics.ascent() + 1, name)
        p.setPen(self.palette().text().color())
        p.drawText(QRectF(rect.left(), rect.bottom() + 2, rect.width(), 16), Qt.AlignmentFlag.AlignLeft, f"{x0:.0f} s")
        p.drawText(QRectF(rect.left(), rect.bottom() + 2, rect.width(), 16), Qt.AlignmentFlag.AlignRight, f"{x0 + span:.0f} s")
        p.end()


class DetailsPanel(QWidget):
    """Title, the genre bars and the timeline for the selected track."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.heading = QLabel("Select a track")
        self.heading.setWordWrap(True)
        self.bars = ProbabilityBars()
        self.timeline = WindowTimeline()
        # Shown only with an analysis to show: empty captions and boxes said nothing before a track was chosen.
        self.analysis_parts = (QLabel("Genre probabilities"), self.bars, QLabel("Through the track (per window)"),
                               self.timeline)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        for part in self.analysis_parts:
            layout.addWidget(part)
            part.setVisible(False)
        layout.addStretch(1)

    def show_track(self, heading: str, labels, probs, starts, window_probs) -> None:
        """Fill the panel from an analysis (lists, as stored); without one, only the heading shows."""
        self.heading.setText(heading)
        self.bars.set_probabilities(labels, probs)
        self.timeline.set_windows(labels, starts, window_probs)
        for part in self.analysis_parts:
            part.setVisible(bool(len(labels)))

    def set_timeline(self, starts, window_probs, note: str = "") -> None:
        """The shown track's windows, once heard (the genres stay those of `show_track`); `note` without them."""
        self.timeline.set_windows(self.timeline.labels, starts, window_probs, note)


def scrolled(panel: QWidget) -> QScrollArea:
    """`panel` in an area that scrolls it up and down where the window is too short for all of it (squeezed, a track's
    ten genre bars were drawn over the timeline's caption and legend); as wide as the area, never scrolled sideways."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area
