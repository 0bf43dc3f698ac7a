"""The library map view: points coloured by genre; hover, click, rubber-band selection, pan and zoom.

The points are drawn once into an image at the current zoom; panning only moves that image, so
100,000 tracks pan smoothly. Selection works on the map's own arrays (no widget per point).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QRubberBand,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desktop.core.wording import count
from desktop.services.library_map import GREY, LibraryMap
from desktop.services.map_image import colours_for, paint_legend, paint_points, point_size

MARGIN = 12
HOVER_RADIUS = 6  # pixels


class MapCanvas(QWidget):
    """The points. Signals: track_clicked(id), tracks_selected(ids) after a rubber band."""

    track_clicked = Signal(int)
    tracks_selected = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(300, 240)
        self.map: LibraryMap | None = None
        self.visible = np.zeros(0, bool)
        self.keys: list[str] = []
        self.colours: dict[str, str] = {}
        self.scale, self.offset = 1.0, QPointF(0, 0)
        self._image: QImage | None = None
        self._image_offset = QPointF(0, 0)  # the offset the image was drawn at: panning shifts by the difference
        self._press: QPoint | None = None
        self._panning = False
        self._band = QRubberBand(QRubberBand.Shape.Rectangle, self)
        self.selected: list[int] = []

    # ---- data -------------------------------------------------------------------------------
    def set_map(self, m: LibraryMap, keys: list[str], visible: np.ndarray) -> None:
        """Show `m`, colouring by `keys` (one per point), only where `visible`."""
        self.map, self.keys, self.visible = m, keys, visible
        names = sorted(set(keys), key=lambda k: (k in GREY, k))
        self.colours = colours_for(names)
        self._image = None
        self.update()

    def positions(self) -> np.ndarray:
        """Widget coordinates [n, 2] of every point at the current zoom and pan."""
        area = np.array([self.width() - 2 * MARGIN, self.height() - 2 * MARGIN], np.float32)
        return (self.map.xy * area + MARGIN) * self.scale + np.array([self.offset.x(), self.offset.y()], np.float32)

    def point_at(self, pos: QPointF) -> int | None:
        """Index of the visible point nearest `pos` within HOVER_RADIUS pixels."""
        if self.map is None or not len(self.map):
            return None
        d2 = ((self.positions() - np.array([pos.x(), pos.y()], np.float32)) ** 2).sum(1)
        d2[~self.visible] = np.inf
        best = int(d2.argmin())
        return best if d2[best] <= HOVER_RADIUS ** 2 else None

    def ids_in(self, rect: QRect) -> list[int]:
        """Track ids of the visible points inside a widget rectangle."""
        xy = self.positions()
        inside = ((xy[:, 0] >= rect.left()) & (xy[:, 0] <= rect.right()) & (xy[:, 1] >= rect.top())
                  & (xy[:, 1] <= rect.bottom()) & self.visible)
        return self.map.track_ids[inside].tolist()

    # ---- drawing ----------------------------------------------------------------------------
    def _render(self) -> None:
        self._image = QImage(self.size(), QImage.Format.Format_ARGB32_Premultiplied)
        self._image.fill(self._colour(QPalette.ColorRole.Base))  # the theme's: a white plate glared in a dark one
        self._image_offset = QPointF(self.offset)
        if self.map is None or not len(self.map):
            return
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rows = np.flatnonzero(self.visible)
        paint_points(painter, self.positions()[rows], [self.keys[i] for i in rows], self.colours, point_size(len(self.map)))
        counts: dict[str, int] = {}
        for i in rows:
            counts[self.keys[i]] = counts.get(self.keys[i], 0) + 1
        names = sorted(counts, key=lambda k: (k in GREY, -counts[k], k))
        paint_legend(painter, 8, 8, names, counts, self.colours, self._image.height() - 16,
                     self._colour(QPalette.ColorRole.Text).name())
        painter.end()

    def paintEvent(self, _event):  # noqa: N802
        if self._image is None or self._image.size() != self.size():
            self._render()
        painter = QPainter(self)
        painter.fillRect(self.rect(), self._colour(QPalette.ColorRole.Base))
        painter.drawImage(self.offset - self._image_offset, self._image)
        painter.setPen(self._colour(QPalette.ColorRole.Text))
        if self.map is not None and self.selected:
            xy = self.positions()
            rows = np.flatnonzero(np.isin(self.map.track_ids, self.selected))
            painter.setPen(QPen(self._colour(QPalette.ColorRole.Text), 1.5))
            for x, y in xy[rows]:
                painter.drawEllipse(QPointF(float(x), float(y)), 4, 4)
        if self.map is None or not len(self.map):
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No analysed tracks yet: scan a folder")
        painter.end()

    def _colour(self, role: QPalette.ColorRole) -> QColor:
        return self.palette().color(role)

    def changeEvent(self, event):  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed: draw again in its colours
            self._image = None
            self.update()
        super().changeEvent(event)

    def sizeHint(self):  # noqa: N802
        return QSize(520, 420)

    # ---- mouse --------------------------------------------------------------------------------
    def mousePressEvent(self, event):  # noqa: N802
        self._press = event.position().toPoint()
        self._panning = event.button() in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton)
        if not self._panning:
            self._band.setGeometry(QRect(self._press, QSize()))
            self._band.show()

    def mouseMoveEvent(self, event):  # noqa: N802
        pos = event.position()
        if self._press is not None and self._panning:
            delta = pos - QPointF(self._press)
            self.offset += delta
            self._press = pos.toPoint()
            self.update()  # the cached image moves; no point is redrawn
            return
        if self._press is not None:
            self._band.setGeometry(QRect(self._press, pos.toPoint()).normalized())
            return
        hit = self.point_at(pos)
        if hit is None:
            QToolTip.hideText()
            return
        m = self.map
        tag = f"\nfile tag: {m.file_genre[hit]}" if m.file_genre[hit] else ""
        QToolTip.showText(event.globalPosition().toPoint(),
                          f"{m.title[hit]} — {m.artist[hit]}\n{m.genre[hit]} ({m.source[hit]}){tag}", self)

    def mouseReleaseEvent(self, event):  # noqa: N802
        if self._press is None:
            return
        start, end = self._press, event.position().toPoint()
        panned, self._press = self._panning, None
        self._band.hide()
        if panned:
            self._image = None  # draw once more at the new place (points near the edges appear)
            self.update()
            return
        if (end - start).manhattanLength() < 4:
            hit = self.point_at(QPointF(end))
            if hit is not None:
                self.selected = [int(self.map.track_ids[hit])]
                self.track_clicked.emit(self.selected[0])
        else:
            self.selected = self.ids_in(QRect(start, end).normalized())
            self.tracks_selected.emit(self.selected)
        self.update()

    def wheelEvent(self, event):  # noqa: N802
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        pos = event.position()
        self.offset = pos - (pos - self.offset) * factor
        self.scale *= factor
        self._image = None
        self.update()


class MapView(QWidget):
    """The canvas with its filters: one genre, only uncertain or review tracks, colour by file genre."""

    track_clicked = Signal(int)
    tracks_selected = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.map: LibraryMap | None = None
        self.canvas = MapCanvas(self)
        self.canvas.track_clicked.connect(self.track_clicked)
        self.canvas.tracks_selected.connect(self.tracks_selected)
        self.genre = QComboBox()
        self.genre.addItem("All genres", None)
        self.review_only = QCheckBox("Only uncertain or to review")
        self.by_file = QCheckBox("Colour by the file's own genre")
        self.info = QLabel("")
        for signal in (self.genre.currentIndexChanged, self.review_only.toggled, self.by_file.toggled):
            signal.connect(self.apply_filters)
        bar = QHBoxLayout()
        for w in (self.genre, self.review_only, self.by_file):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.info)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

    def set_map(self, m: LibraryMap) -> None:
        """Show a computed map, keeping the chosen filters."""
        self.map = m
        chosen = self.genre.currentData()
        self.genre.blockSignals(True)
        self.genre.clear()
        self.genre.addItem("All genres", None)
        for g in m.genres():
            self.genre.addItem(g, g)
        self.genre.setCurrentIndex(max(0, self.genre.findData(chosen)))
        self.genre.blockSignals(False)
        # The layout's method only where there is a layout (an empty map said "0 tracks (NONE)").
        self.info.setText(f"{count(len(m), 'track')} ({m.method.upper()})" if len(m) else "no tracks")
        self.apply_filters()

    def apply_filters(self) -> None:
        """Recompute which points show and how they are coloured."""
        m = self.map
        if m is None:
            return
        visible = np.ones(len(m), bool)
        if self.genre.currentData() is not None:
            visible &= np.array([g == self.genre.currentData() for g in m.genre], bool)
        if self.review_only.isChecked():
            visible &= m.review | np.array([s == "uncertain" for s in m.source], bool)
        keys = m.colour_keys(by_file_tag=self.by_file.isChecked())
        self.canvas.set_map(m, keys, visible)

    def select(self, track_ids: list[int]) -> None:
        """Mark tracks on the map (e.g. the table's selection)."""
        self.canvas.selected = list(track_ids)
        self.canvas.update()

