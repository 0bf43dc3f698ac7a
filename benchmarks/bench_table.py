"""The library table at 100,000 tracks: reload, sort, search and merge, against a proxy that sorts (the old way);
the filter (search typed, "Needs review", a genre), against deciding each row on each of Qt's calls;
the window after a correction, against reloading every row; a playlist of every track, against reading each track on
the GUI thread; every track selected, against column titles that look at the view's selection; the review of 70,000
changes, against a QTableWidget (the old ways).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_table [--tracks 100000]

The window's table keeps its rows sorted in the model; the proxy only filters. The baseline in the same run is
a QSortFilterProxyModel sorting the same model through its sort role, which calls data() about twice per
comparison: 2 million Python calls at 100,000 rows, after every write (which now merges only its rows).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

from benchmarks.common import seconds


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

        def _reorder(self, same_rows=False):
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
    changed = [replace(r, genre="Ambient") for r in rows[:: max(1, args.tracks // 200)]]
    cases = {
        "reload (first rows; a learn's)": (lambda: ours.set_rows(rows), lambda: plain.set_rows(rows)),
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
    filter_changes(app, rows)
    searching_words(app, rows)
    sorting_again(app, rows)
    dragging_all(app, rows)
    rows_that_move(app, rows)
    window_after_a_write(app, args.tracks)
    review_dialog(app, min(args.tracks, 70_000))
    return 0


def review_dialog(app, n: int) -> None:
    """Apply Predicted Genres' review of n changes: open, sort by confidence, uncheck and check every row, against a
    QTableWidget of checkable items filled and sorted the same way (the dialog before 2026-12-04)."""
    from types import SimpleNamespace

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

    from desktop.ui.review_dialog import WHY, ReviewDialog, cell_text

    changes = [SimpleNamespace(path=f"/music/Artist {i % 700}/Album {i % 50}/{i:06d} Song.flac", old=(),
                               new=(("Rock", "Jazz", "Pop")[i % 3],), confidence=0.3 + (i % 70) / 100) for i in range(n)]
    dialog = None

    def ours_open():
        nonlocal dialog
        dialog = ReviewDialog(changes)
        dialog.show()
        app.processEvents()

    widget = None

    def widget_open():
        nonlocal widget
        widget = QTableWidget(n, 4)
        for row, change in enumerate(changes):
            for column in range(4):
                item = QTableWidgetItem(cell_text(change, column))
                if column == 0:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Checked)
                widget.setItem(row, column, item)
        widget.setSortingEnabled(True)
        widget.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        widget.show()
        app.processEvents()

    def widget_toggle():
        items = [widget.item(r, 0) for r in range(n)]
        widget.blockSignals(True)
        widget.setSortingEnabled(False)
        for state in (Qt.CheckState.Unchecked, Qt.CheckState.Checked):
            for item in items:
                item.setCheckState(state)
        widget.setSortingEnabled(True)
        widget.blockSignals(False)

    def ours_toggle():
        dialog.set_all(False)
        dialog.set_all(True)

    print(f"the review of {n:,} changes (Apply Predicted Genres); seconds (ours, a QTableWidget as before, ratio)")
    cases = {"open": (ours_open, widget_open),
             "sort by confidence": (lambda: dialog.table.sortByColumn(WHY, Qt.SortOrder.DescendingOrder),
                                    lambda: widget.sortByColumn(3, Qt.SortOrder.DescendingOrder)),
             "uncheck and check every row": (ours_toggle, widget_toggle)}
    for name, (new, old) in cases.items():
        a, b = seconds(new), seconds(old)
        app.processEvents()
        print(f"  {name:<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")
    header = dialog.table.horizontalHeader()
    own = header.selectionModel()

    def select_every_row() -> float:  # until painted: the titles ask the selection as they paint
        dialog.table.clearSelection()
        app.processEvents()
        start = time.perf_counter()
        dialog.table.selectAll()
        app.processEvents()
        return time.perf_counter() - start

    a = select_every_row()
    header.setSelectionModel(dialog.table.selectionModel())  # the titles looking at the view's selection, as before
    b = select_every_row()
    header.setSelectionModel(own)
    print(f"  {'every row selected (Ctrl+A)':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")
    dialog.close()
    widget.close()


def filter_changes(app, rows) -> None:
    """Typing a search, "Needs review" and a genre chosen: our filter deciding every row in one pass and reading the
    decisions, against deciding each row on each of Qt's calls (before 2026-12-05)."""
    from desktop.store import queries
    from desktop.ui.table_model import (
        GENRE,
        NO_GENRE_ITEM,
        UNCERTAIN_ITEM,
        LibraryFilter,
        LibraryTableModel,
    )

    class EachCall(LibraryFilter):
        """The filter as it was: every row decided when Qt asks, the search's text joined each time."""

        def filterAcceptsRow(self, source_row, source_parent):  # noqa: N802
            r = self.sourceModel().row_at(source_row)
            if self._genre == UNCERTAIN_ITEM:
                if r.corrected or not queries.is_uncertain(r.confidence, self._threshold):
                    return False
            elif self._genre == NO_GENRE_ITEM:
                if r.genre:
                    return False
            elif self._genre is not None and (not self._of_genre(r.genre) or
                                              (not r.corrected and queries.is_uncertain(r.confidence, self._threshold))):
                return False
            if self._review and not (r.needs_review(self._threshold) or r.id in self._album_flags):
                return False
            if self._search is not self._searched:  # the search's tests made once per search, its text joined per row
                self._searched, self._search_tests = self._search, self._search.tests()
            return all(test(r) for test in self._search_tests)

        _searched, _search_tests = None, []

    typed = "artist 12"
    filters = []
    for kind in (LibraryFilter, EachCall):
        model, proxy = LibraryTableModel(), kind()
        proxy.setSourceModel(model)
        model.set_rows(rows)
        proxy.rowCount()
        filters.append(proxy)

    def typing(proxy) -> list[float]:  # each keystroke, then the search cleared
        took = [timed(lambda k=k: proxy.set_search(typed[:k]), proxy) for k in range(1, len(typed) + 1)]
        proxy.set_search("")
        return took

    print(f"the filter, {len(rows):,} rows; seconds (ours: every row decided in one pass; each row on each of Qt's "
          "calls as before; ratio)")
    for _ in range(2):
        (first, *rest), (old_first, *old_rest) = typing(filters[0]), typing(filters[1])
        print(f"  {'search: first keystroke':<34} {first:7.2f} {old_first:7.2f}  {old_first / max(first, 1e-9):6.1f}x faster")
        a, b = max(rest), max(old_rest)
        print(f"  {'search: slowest keystroke after':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")
        cases = {"\"Needs review\" on": lambda p: p.set_review_only(True),
                 "a genre chosen (under it)": lambda p: p.set_genre("Rock"),
                 "sorted by genre (under both)": lambda p: p.sort(GENRE),
                 "both off again": lambda p: (p.set_review_only(False), p.set_genre(None))}
        for name, change in cases.items():
            a, b = timed(lambda change=change: change(filters[0]), filters[0]), timed(lambda change=change: change(filters[1]), filters[1])
            print(f"  {name:<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")
        for proxy in filters:
            proxy.sort(0)
        app.processEvents()


def searching_words(app, rows) -> None:
    """The search's words in any order, blind to accents (core.search), against the typed text as one substring of
    each row's lowered text (the way before 2026-12-06): the first search (each row's text made) and a keystroke after."""
    from desktop.ui.table_model import LibraryFilter, LibraryTableModel

    class OneSubstring(LibraryFilter):
        """The search as it was: the typed text, lowered, looked for as it stands in each row's text, made once."""

        def __init__(self):
            super().__init__()
            self._typed, self._texts = "", {}

        def set_search(self, text: str) -> None:
            self._typed = text.lower().strip()
            self._filter_again()

        def _text_of(self, r) -> str:
            if (made := self._texts.get(r.id)) is None:
                made = self._texts[r.id] = " ".join((r.title, r.artist, r.album, r.file_genre, r.genre, r.path)).lower()
            return made

        def _make_tests(self):
            typed = self._typed
            return super()._make_tests() + ([lambda r: typed in self._text_of(r)] if typed else [])

    accented = [replace(r, artist=f"Björk Guðmundsdóttir {r.id % 700}") if r.id % 10 == 0 else r for r in rows]
    print(f"searching words, {len(rows):,} rows; seconds (ours: every word in any order, accents aside; the typed text as "
          "one substring as before; ratio)")
    for label, source in (("ASCII rows", rows), ("a tenth of the artists accented", accented)):
        for typed in ("artist 12", "song 5", "zzz"):
            took = []
            for kind in (LibraryFilter, OneSubstring):
                fresh = [replace(r) for r in source]  # no row's search text made yet
                model, proxy = LibraryTableModel(), kind()
                proxy.setSourceModel(model)
                model.set_rows(fresh)
                proxy.rowCount()
                first = timed(lambda p=proxy, t=typed: p.set_search(t), proxy)
                again = min(timed(lambda p=proxy, t=typed: (p.set_search(""), p.set_search(t)), proxy) for _ in range(3))
                took.append((first, again, proxy.rowCount()))
                app.processEvents()
            (a, b, shown), (c, d, old_shown) = took
            print(f"  {label}, {typed!r:<12} first {a:5.2f} {c:5.2f} ({c / max(a, 1e-9):4.1f}x)   again {b:5.2f} "
                  f"{d:5.2f} ({d / max(b, 1e-9):4.1f}x)   shown {shown:,} / {old_shown:,}")


def sorting_again(app, rows) -> None:
    """A header clicked: the rows sorted by the column's text alone and each row's decision kept where it moves,
    against every column's text made for each key and every row decided again (before 2026-12-05)."""
    from PySide6.QtCore import Qt

    from desktop.core.natural_order import natural_key
    from desktop.ui.table_model import (
        ARTIST,
        CONFIDENCE,
        GENRE,
        TITLE,
        LibraryFilter,
        LibraryTableModel,
    )

    def old_key(row, column):
        value = ((row.confidence if row.confidence is not None else -1.0) if column == CONFIDENCE
                 else natural_key(row.cells()[column]))
        return value, natural_key(row.artist), natural_key(row.album), natural_key(row.title), row.id

    class EveryCellKeyed(LibraryTableModel):
        """The sort as it was: each key made from the row's every cell."""

        def _reorder(self, same_rows=False):
            keys = [old_key(r, self._column) for r in self._rows]
            order = sorted(range(len(keys)), key=keys.__getitem__, reverse=self._descending)
            self._rows, self._keys = [self._rows[i] for i in order], [keys[i] for i in order]
            self._position = {r.id: i for i, r in enumerate(self._rows)}

        def _key(self, row):
            return old_key(row, self._column)

    class DecidedAgain(LibraryFilter):
        """The filter as it was: every row decided again after a sort."""

        def _layout_changed(self, *_args):
            self._before_layout, self._accepted = None, None

    pairs = []
    for model, proxy in ((LibraryTableModel(), LibraryFilter()), (EveryCellKeyed(), DecidedAgain())):
        proxy.setSourceModel(model)
        model.set_rows(rows)
        proxy.rowCount()
        pairs.append(proxy)
    print(f"a header clicked, {len(rows):,} rows; seconds (ours: one column's text keyed, decisions kept; every "
          "cell keyed and every row decided again as before; ratio)")
    clicks = [("by genre", GENRE, False), ("by title", TITLE, False), ("by confidence", CONFIDENCE, True),
              ("by artist", ARTIST, False)]
    for filters in ("", " (under both)"):  # then under a genre and "Needs review"
        if filters:
            for proxy in pairs:
                proxy.set_review_only(True)
                proxy.set_genre("Rock")
                proxy.rowCount()
        for name, column, descending in clicks:
            order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
            a, b = (timed(lambda p=proxy, c=column, o=order: p.sort(c, o), proxy) for proxy in pairs)
            app.processEvents()
            label = name + filters
            print(f"  {label:<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")


def dragging_all(app, rows) -> None:
    """Every track selected and dragged out: our view handing the model one cell a row, against Qt's own drag handing
    it every selected cell (before 2026-12-05). Offscreen the drag itself ends at once: what is timed is what comes
    before it."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractItemView, QTableView

    from desktop.ui.table_model import GENRE, LibraryFilter, LibraryTableModel
    from desktop.ui.track_table import TrackTableView

    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows(rows)
    view = TrackTableView(lambda: "", GENRE)
    view.setModel(proxy)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
    view.selectAll()
    print(f"every track dragged out, {len(rows):,} rows; seconds before the drag begins (ours: one cell a row; "
          "every selected cell as before; ratio)")
    for _ in range(2):
        a = seconds(lambda: view.startDrag(Qt.DropAction.CopyAction))
        b = seconds(lambda: QTableView.startDrag(view, Qt.DropAction.CopyAction))
        app.processEvents()
        print(f"  {'all selected':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")
    over_a_genre(model, proxy.mimeData([proxy.index(row, 0) for row in range(proxy.rowCount())]))


def over_a_genre(model, data) -> None:
    """Every track dragged over a genre of the sidebar: what each move of the mouse asks of it (ours: the table's mark;
    every id read, as the first version did), then the drop."""
    from PySide6.QtCore import Qt

    from desktop.ui.table_model import GenreListModel
    from desktop.ui.track_drag import track_ids_from

    sidebar = GenreListModel()
    sidebar.set_counts([("Jazz", 1), ("Rock", 1)], 2)
    sidebar.drops_from = model.drag_owner
    jazz, copy, moves = sidebar.index(1), Qt.DropAction.CopyAction, 100
    print(f"the same tracks dragged over a genre of the sidebar; ms a move of the mouse ({moves} moves; ours: the "
          "table's mark; every id read; ratio), then ms to drop them")
    for _ in range(2):
        a = seconds(lambda: [sidebar.canDropMimeData(data, copy, -1, -1, jazz) for _ in range(moves)]) * 1000 / moves
        b = seconds(lambda: [bool(track_ids_from(data, model.drag_owner)) for _ in range(moves)]) * 1000 / moves
        print(f"  {'a move over Jazz':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")
    print(f"  {'the drop':<34} {seconds(lambda: sidebar.dropMimeData(data, copy, -1, -1, jazz)) * 1000:7.2f}")


def rows_that_move(app, rows) -> None:
    """A correction of k tracks with the table sorted by genre, so each moves: one layout change (ours), against a
    rowsMoved and a dataChanged per track (before 2026-12-04): the filtering proxy maps every row again after each."""
    from PySide6.QtCore import QModelIndex

    from desktop.ui.table_model import GENRE, LibraryFilter, LibraryTableModel

    class OneMoveAtATime(LibraryTableModel):
        """The merge as it was: each moving row told to the views on its own, then its new data (which has the proxy
        map every row again before the next move)."""

        def _move_all(self, moved):
            last = self.columnCount() - 1
            for row, old_key in [(row, self._keys[at]) for at, row in moved.items()]:
                at = self._insert_at(old_key)
                key = self._key(row)
                del self._keys[at]
                to = self._insert_at(key)
                if to != at:
                    self.beginMoveRows(QModelIndex(), at, at, QModelIndex(), to + 1 if to > at else to)
                self._rows.pop(at)
                self._rows.insert(to, row)
                self._keys.insert(to, key)
                if to != at:
                    self.endMoveRows()
                self.dataChanged.emit(self.index(to, 0), self.index(to, last))
            self._position = {r.id: i for i, r in enumerate(self._rows)}

    print(f"a correction that moves k tracks (sorted by genre), {len(rows):,} rows; seconds (ours, a move per track as "
          "before, ratio)")
    for k in (1, 10, 100):
        took = []
        for model in (LibraryTableModel(), OneMoveAtATime()):
            proxy = LibraryFilter()
            proxy.setSourceModel(model)
            model.sort(GENRE)
            model.set_rows(rows)
            proxy.rowCount()
            step = max(1, len(rows) // k)
            changed = [replace(r, genre="Ambient") for r in rows[::step][:k]]
            took.append(timed(lambda model=model, changed=changed: model.merge_rows(changed), proxy))
            app.processEvents()
        name = f"{k} track{'s' if k > 1 else ''} moved"
        print(f"  {name:<34} {took[0]:7.2f} {took[1]:7.2f}  {took[1] / max(took[0], 1e-9):6.1f}x faster")


def window_after_a_write(app, n: int) -> None:
    """The window after a correction of two tracks: the rows it changed and the sidebar (refresh_changed), against
    a reload of every row (refresh, what a write did before), on a real database of n tracks."""
    import tempfile
    from pathlib import Path

    from PySide6.QtCore import QSettings
    from sqlalchemy import update

    from benchmarks.bench_learn import synthetic_library
    from desktop.store.database import open_database
    from desktop.store.schema import Track
    from desktop.ui.app_settings import AppSettings
    from desktop.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        synthetic_library(db, "bench", n, 32)
        settings = AppSettings(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        opening(app, db, settings, n)
        window = MainWindow(open_database(db), settings)
        window.show()
        app.processEvents()
        while window.reload_job is not None:  # the first rows, read on a worker
            app.processEvents()

        def write(statement) -> None:  # through the library's sessions: the rows stamped, the change mark raised
            with window.sessions() as s:
                s.execute(statement)
                s.commit()

        def correct_two(genre: str) -> None:  # as a correction leaves the database: two rows changed
            write(update(Track).where(Track.id.in_((1, 2))).values(corrected_genre=genre, genre=genre))

        print(f"the window after a correction of 2 tracks (or a scan's end), {n:,} tracks; seconds (ours, reloading every row as before, ratio)")
        for step in range(2):
            correct_two(f"Genre {2 * step + 1}")
            a = timed(window.refresh_changed, window.proxy)
            correct_two(f"Genre {2 * step + 2}")
            b = timed(window.refresh, window.proxy)
            app.processEvents()
            print(f"  {'rows and sidebar updated':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")

        def relearn() -> None:  # as a learn leaves the database: every track's confidence changed
            write(update(Track).values(confidence=1.0 - Track.confidence))

        print(f"the window after a learn, {n:,} tracks: the longest it went without handling an event, seconds "
              "(ours: every row read on a worker; reading them on the GUI thread as before; ratio)")
        for _ in range(2):
            relearn()
            a = longest_hold(app, window.reload_rows, lambda: window.reload_job is None)
            relearn()
            b = longest_hold(app, window.refresh, lambda: True)
            print(f"  {'every row read again':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x shorter")
        sidebar_with_tagged_genres(window, n)
        every_track_corrected(window, n)
        genre_and_settings(app, window, n)
        typing_a_search(app, window, n)
        exporting_a_playlist(app, window, n, Path(tmp))
        selecting_all(app, window, n)
        needs_review(app, window, n, write, correct_two)
        window.close()


def opening(app, db, settings, n: int) -> None:
    """The window opening on a library: seconds until it shows, the longest it then goes without handling an event
    (a 5 ms timer ticking), and, with nothing else asked of it, until its rows are in (ours: a library of more than
    FIRST_ROWS_AT_ONCE tracks has its rows read on a worker; read before the window shows, as before 2026-12-05)."""
    from unittest import mock

    from PySide6.QtCore import QEventLoop

    from desktop.store.database import open_database
    from desktop.ui import main_window
    from desktop.ui.main_window import MainWindow

    def opened(reading_at_once: bool, ticking: bool) -> tuple[float, float]:
        start = time.perf_counter()
        at_once = 10**9 if reading_at_once else main_window.FIRST_ROWS_AT_ONCE
        with mock.patch.object(main_window, "FIRST_ROWS_AT_ONCE", at_once):
            window = MainWindow(open_database(db), settings)
            window.show()
            app.processEvents()
        shown = time.perf_counter() - start
        if ticking:  # the ticks take turns with the worker: its rows come later than they would
            after = longest_hold(app, lambda: None, lambda: window.reload_job is None)
        else:
            while window.reload_job is not None:  # waits for an event, as the window does
                app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            after = time.perf_counter() - start
        rows = window.table_model.rowCount()
        window.close()
        assert rows > 0
        return shown, after

    print(f"the window opening on {n:,} tracks: seconds until it shows, the longest it then went without "
          "handling an event, and until its rows were in (ours: rows read on a worker; read before it showed as before)")
    for _ in range(2):
        (a, a_held), (b, b_held) = opened(False, True), opened(True, True)
        (_, a_in), (_, b_in) = opened(False, False), opened(True, False)
        print(f"  {'until the window shows':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x sooner")
        print(f"  {'  then held at most':<34} {a_held:7.2f} {b_held:7.2f}")
        print(f"  {'  until its rows are in':<34} {a_in:7.2f} {b_in:7.2f}")


def sidebar_with_tagged_genres(window, n: int) -> None:
    """The sidebar updated (after every write, and every 1.5 s of a scan), with the genres only the files' tags name
    found in the table's rows (tag_only_genres), against the sidebar without them (before 2026-12-06)."""
    from unittest import mock

    from desktop.ui import main_window

    tagged = main_window.tag_only_genres(window.table_model.all_rows(), window._spellings)
    print(f"the sidebar updated, {n:,} tracks, {len(tagged)} genres only tags name; seconds (with them, without them "
          "as before; ratio)")
    for _ in range(2):
        a = seconds(window._update_sidebar)
        with mock.patch.object(main_window, "tag_only_genres", lambda _rows, _spellings: []):
            b = seconds(window._update_sidebar)
        print(f"  {'sidebar updated':<34} {a:7.3f} {b:7.3f}  {b / max(a, 1e-9):6.2f}x")


def every_track_corrected(window, n: int) -> None:
    """Set Genre… (or a drop on a sidebar genre) with every track selected: what the window does before the write starts
    on the writer thread (ours: the paths from the table's rows; each track read from the database, as before
    2026-12-05). The write itself is left out: it runs on the writer thread."""
    from unittest import mock

    from desktop.store.schema import Track

    ids = [window.table_model.row_at(row).id for row in range(window.table_model.rowCount())]

    def as_before() -> None:
        with window.sessions() as s:
            [s.get(Track, i).path for i in ids]

    print(f"every one of {n:,} tracks given a genre: seconds the window is held before the write starts (ours: paths "
          "from the table's rows; each track read from the database as before; ratio)")
    with mock.patch.object(window, "run_write"):
        for _ in range(2):
            a = seconds(lambda: window.correct(ids, "Jazz"))
            b = seconds(as_before)
            print(f"  {'all corrected':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x shorter")


def genre_and_settings(app, window, n: int) -> None:
    """A genre renamed (written and read again on workers) against the write and a reload on the GUI thread, and
    Settings' OK (no row read again) against a reload of every row: the longest the window went without an event."""
    from unittest import mock

    from desktop.services.learning import merge_and_rename
    from desktop.ui.dialogs import SettingsDialog

    print(f"a genre renamed, and Settings' OK, {n:,} tracks: the longest it went without handling an event, seconds "
          "(ours; the rename written and every row read on the GUI thread as before; ratio)")
    merge_and_rename(window.sessions, "Genre 3", "Genre 3")  # the tags' genres shown, as a scan leaves them: the
    window.refresh()  # synthetic library has none yet, and the first rename would write every row
    for _ in range(2):
        a = longest_hold(app, lambda: window.rename_genre("Genre 3", target="Genre Three"),
                         lambda: window.genres_job is None and window.reload_job is None)
        b = longest_hold(app, lambda: (merge_and_rename(window.sessions, "Genre Three", "Genre 3"), window.refresh()), lambda: True)
        print(f"  {'a genre renamed':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x shorter")
    with mock.patch.object(SettingsDialog, "exec", lambda dialog: SettingsDialog.DialogCode.Accepted):
        for _ in range(2):
            a = longest_hold(app, window.open_settings, lambda: True)
            with mock.patch.object(window, "_show_settings", window.refresh):  # as before: every row read again
                b = longest_hold(app, window.open_settings, lambda: True)
            print(f"  {'Settings: OK':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x shorter")


def typing_a_search(app, window, n: int) -> None:
    """A word typed into the search, a letter every 150 ms: the window filtering when typing pauses, against filtering
    on each keystroke (before 2026-12-05): the seconds it was held in all (gaps over 20 ms between a 5 ms timer's ticks)."""
    from unittest import mock

    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest

    from desktop.ui import main_window

    def held(word: str) -> float:
        def type_it() -> None:  # as a listener types: the window handles events between the letters
            for k, letter in enumerate(word):
                QTimer.singleShot(150 * k, lambda letter=letter: QTest.keyClick(window.search, letter))

        end = time.perf_counter() + 0.15 * len(word) + 2 * main_window.SEARCH_PAUSE_MS / 1000
        gaps = gaps_until(app, type_it, lambda: time.perf_counter() >= end)  # the letters, the pause, the filter
        assert window.proxy.rowCount() < n  # the search was applied
        window.search.clear()
        return sum(gap for gap in gaps if gap > 0.02)

    print(f"\"artist 12\" typed into the search, a letter every 150 ms, {n:,} tracks: seconds the window was held "
          "(ours: filtered when typing pauses; on each keystroke as before; ratio)")
    for _ in range(2):
        a = held("artist 12")
        with mock.patch.object(main_window, "SEARCH_AT_ONCE_ROWS", n + 1):
            b = held("artist 12")
        print(f"  {'held while typing':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x shorter")


def exporting_a_playlist(app, window, n: int, folder) -> None:
    """Export Playlist… of every track the table shows: the longest the window went without handling an event until the
    playlist was written (ours: from the table's rows, written on a worker; each track read from the database and the
    playlist written on the GUI thread, as before 2026-12-06)."""
    from unittest import mock

    from PySide6.QtWidgets import QFileDialog

    from desktop.services.playlists import write_m3u8
    from desktop.store.schema import Track

    out = folder / "every track.m3u8"

    def as_before() -> None:
        rows = [window.shown_row(r) for r in range(window.proxy.rowCount())]
        with window.sessions() as s:
            write_m3u8([s.get(Track, r.id) for r in rows], out, force=True)

    print(f"Export Playlist… of every one of {n:,} tracks: the longest the window went without handling an event until "
          "it was written, seconds (ours: from the table's rows, on a worker; each track read on the GUI thread as before; ratio)")
    with mock.patch.object(QFileDialog, "getSaveFileName", return_value=(str(out), "")):
        for _ in range(2):
            a = longest_hold(app, window.export_playlist, lambda: window.playlist_job is None)
            ours = out.read_text()
            b = longest_hold(app, as_before, lambda: True)
            assert out.read_text() == ours  # the same playlist
            print(f"  {'a playlist of every track':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x shorter")


def selecting_all(app, window, n: int) -> None:
    """Every track selected (Ctrl+A), then the column titles painted again (the mouse over them): the longest the window
    went without an event (ours: the titles look at a selection of their own, always empty; at the view's, as before
    2026-12-06, where Qt asks whether each column shown is wholly selected, cell by cell)."""
    header = window.table.horizontalHeader()
    own = header.selectionModel()

    def select_all() -> float:
        window.table.clearSelection()
        longest_hold(app, lambda: None, lambda: True)
        return longest_hold(app, window.table.selectAll, lambda: True)

    def titles_painted() -> float:
        return longest_hold(app, header.viewport().update, lambda: True)

    print(f"every one of {n:,} tracks selected, then the column titles painted again: the longest the window went without "
          "handling an event, seconds (ours; the titles looking at the view's selection as before; ratio)")
    for _ in range(2):
        a, a_painted = select_all(), titles_painted()
        header.setSelectionModel(window.table.selectionModel())
        b, b_painted = select_all(), titles_painted()
        header.setSelectionModel(own)
        print(f"  {'every track selected':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x shorter")
        print(f"  {'  then the titles painted':<34} {a_painted:7.2f} {b_painted:7.2f}  {b_painted / max(a_painted, 1e-9):6.1f}x shorter")
    window.table.clearSelection()


def gaps_until(app, start, done) -> list[float]:
    """The gaps between the GUI thread's turns (a 5 ms timer's ticks) from `start()` until `done()`."""
    from PySide6.QtCore import QEventLoop, QTimer

    ticks = [time.perf_counter()]
    timer = QTimer(interval=5, timeout=lambda: ticks.append(time.perf_counter()))
    timer.start()
    start()
    while not done():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    app.processEvents()
    ticks.append(time.perf_counter())
    timer.stop()
    return [b - a for a, b in zip(ticks, ticks[1:], strict=False)]


def longest_hold(app, start, done) -> float:
    """The longest gap between the GUI thread's turns (a 5 ms timer's ticks) from `start()` until `done()`."""
    return max(gaps_until(app, start, done))


def needs_review(app, window, n: int, write, correct_two) -> None:
    """"Needs review" turned on, and a correction of two tracks under it: the album check on a worker against the
    check on the GUI thread (as before): the longest the window went without an event."""
    from unittest import mock

    from PySide6.QtCore import QSignalBlocker
    from sqlalchemy import String, cast, update

    from desktop.store import queries
    from desktop.store.schema import Track

    write(update(Track).values(predicted_genre="Genre " + cast(Track.id % 20, String), confidence=0.9))  # as scans leave them
    window.refresh_changed()

    def check_on_gui_thread(on: bool = True) -> None:
        if on:
            with window.sessions() as s:
                window.proxy.set_album_flags(queries.album_disagreements(s, window.settings.threshold))

    print(f"\"Needs review\" on, {n:,} tracks: the longest the window went without handling an event, seconds "
          "(ours: the album check on a worker; on the GUI thread as before; ratio)")
    for step in range(2):
        a = longest_hold(app, lambda: window.review.setChecked(True), lambda: window.album_flags_job is None)
        window.review.setChecked(False)
        with QSignalBlocker(window.review):
            window.review.setChecked(True)
        b = longest_hold(app, lambda: (check_on_gui_thread(), window.proxy.set_review_only(True)), lambda: True)
        print(f"  {'turned on':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x shorter")
        correct_two(f"Corrected {step}a")
        a = longest_hold(app, window.refresh_changed, lambda: window.album_flags_job is None)
        correct_two(f"Corrected {step}b")
        with mock.patch.object(window, "update_album_flags", check_on_gui_thread):
            b = longest_hold(app, window.refresh_changed, lambda: True)
        print(f"  {'a correction of 2 tracks under it':<34} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x shorter")
        with QSignalBlocker(window.review):
            window.review.setChecked(False)
        window.proxy.set_review_only(False)


if __name__ == "__main__":
    raise SystemExit(main())
