"""The library map at 100,000 tracks: layout time, the first draw, and frames per second while panning.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_map [--tracks 100000]

Panning moves an image drawn once; the points are drawn again only when the pan ends or the zoom
changes. Both are timed: frames while panning, and a full redraw.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from benchmarks.bench_learn import synthetic_library
    from desktop.services.library_map import compute_map
    from desktop.store.database import open_database
    from desktop.ui.map_view import MapView

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "map.db"
        synthetic_library(db, "bench:1", args.tracks, 256)
        sessions = open_database(db)
        started = time.perf_counter()
        library_map = compute_map(sessions)
        t_first = time.perf_counter() - started
        started = time.perf_counter()
        compute_map(sessions)
        t_cached = time.perf_counter() - started
    view = MapView()
    view.resize(1000, 760)
    view.show()
    app.processEvents()
    started = time.perf_counter()
    view.set_map(library_map)
    view.canvas.grab()
    t_draw = time.perf_counter() - started
    frames, started = 60, time.perf_counter()
    for n in range(frames):  # panning: the cached image moves
        view.canvas.offset = QPointF(3.0 * n, 2.0 * n)
        view.canvas.repaint()
    fps = frames / (time.perf_counter() - started)
    started = time.perf_counter()
    view.canvas._image = None
    view.canvas.repaint()
    t_redraw = time.perf_counter() - started
    print(f"{len(library_map):,} tracks, layout {library_map.method.upper()}")
    print(f"map data + layout (first time)     {t_first:6.2f} s")
    print(f"map data with the cached layout    {t_cached:6.2f} s")
    print(f"first draw of the view             {t_draw:6.2f} s")
    print(f"panning                            {fps:6.0f} frames/s")
    print(f"full redraw (pan end, zoom)        {t_redraw * 1000:6.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
