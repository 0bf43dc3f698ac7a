"""The library table at 100,000 tracks: reload, sort, search and merge, against a proxy that sorts (the old way).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_table [--tracks 100000]

The window's table keeps its rows sorted in the model; the proxy only filters. The baseline in the same run is
a QSortFilterProxyModel sorting the same model through its sort role, which calls data() about twice per
comparison: 2 million Python calls at 100,000 rows, after every write.
"""

from __future__ import annotations

import argparse
import os
import time


def synthetic_rows(n: int):
    """Rows like a real library's: 700 artists, 50 albums each way, ten genres, confidences spread."""
    from desktop.ui.table_model import TrackRow

    genres = ["Rock", "Jazz", "Pop", "Hip-Hop", "Classical", "Metal", "Blues", "Country", "Reggae", "Disco"]
    return [TrackRow(i, f"/music/Artist {i % 700}/Album {i % 50}/{i:06d} Song.flac", f"Song {i}", f"Artist {i % 700}",
                     f"Album {i % 50}", genres[i % 10] if i % 3 else "", genres[i % 10], genres[i % 10].lower(),
                     0.3 + (i % 70) / 100, False, "analysed", "") for i in range(n)]


def timed(fn, proxy) -> float:
    """Seconds one call takes, until the proxy has mapped every row again (it maps lazily, when a view asks)."""
    start = time.perf_counter()
    fn()
    proxy.rowCount()
    return time.perf_counter() - start


def main(argv=None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSortFilterProxyModel, Qt
    from PySide6.QtWidgets import QApplication

    from desktop.ui.table_model import (
        ARTIST,
        CONFIDENCE,
        LibraryFilter,
        LibraryTableModel,
        sort_key,
    )

    app = QApplication.instance() or QApplication([])
    rows = synthetic_rows(args.tracks)
    sort_role = Qt.ItemDataRole.UserRole + 1

    class Unsorted(LibraryTableModel):
        """The model as it was: rows in the order given, sorting left to the proxy through a sort role."""

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role == sort_role:
                return sort_key(self.row_at(index.row()), index.column())[0]
            return super().data(index, role)

        def _reorder(self):
            self._keys = [(r.id,) for r in self._rows]
            self._position = {r.id: i for i, r in enumerate(self._rows)}

        def _key(self, row):
            return (row.id,)

    ours, filtered = LibraryTableModel(), LibraryFilter()
    filtered.setSourceModel(ours)
    filtered.sort(ARTIST)
    plain, sorting = Unsorted(), QSortFilterProxyModel()
    sorting.setSourceModel(plain)
    sorting.setSortRole(sort_role)
    sorting.sort(ARTIST)
    changed = [r.__class__(**{**vars(r), "genre": "Ambient"}) for r in rows[:: max(1, args.tracks // 200)]]
    cases = {
        "reload (after a write)": (lambda: ours.set_rows(rows), lambda: plain.set_rows(rows)),
        "sort by confidence": (lambda: filtered.sort(CONFIDENCE, Qt.SortOrder.DescendingOrder),
                               lambda: sorting.sort(CONFIDENCE, Qt.SortOrder.DescendingOrder)),
        "search, then clear it": (lambda: (filtered.set_search("artist 12"), filtered.rowCount(), filtered.set_search("")),
                                  lambda: (sorting.setFilterFixedString("Artist 12"), sorting.rowCount(),
                                           sorting.setFilterFixedString(""))),
        "merge 200 changed rows (a scan)": (lambda: ours.merge_rows(changed), lambda: plain.merge_rows(changed)),
    }
    print(f"{args.tracks:,} rows; seconds (ours, proxy sorting as before, ratio)")
    for name, (new, old) in cases.items():
        a, b = timed(new, filtered), timed(old, sorting)
        app.processEvents()
        print(f"  {name:<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
