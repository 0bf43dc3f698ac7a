"""Render resources/icons/genre-tagger.svg to the PNG sizes desktops use (hicolor theme layout).

    python scripts/render_icons.py      # writes resources/icons/hicolor/<N>x<N>/apps/genre-tagger.png
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "genre-tagger.svg"


def png_path(size: int) -> Path:
    """Where the PNG of one size lives."""
    return ROOT / "resources" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "genre-tagger.png"


def main() -> int:
    """Render every size with Qt's SVG renderer (no extra dependency)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (Qt needs it alive)
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"error: {SVG}: not a valid SVG", file=sys.stderr)
        return 2
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = png_path(size)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(out), "PNG"):
            print(f"error: cannot write {out}", file=sys.stderr)
            return 2
        print(out.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
