"""The status bar's count of the tracks the table shows, of all of them, and of those selected."""

import random

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QItemSelectionRange
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QTableView

from desktop.ui import track_count
from desktop.ui.table_model import LibraryFilter, LibraryTableModel
from desktop.ui.track_count import TrackCount, count_words, selected_row_count
from tests.test_table_merge import track


def test_the_count_says_every_track_or_those_shown_of_them_and_a_selection_of_more_than_one():
    assert count_words(0, 0, 0) == ""
    assert count_words(1, 1, 1) == "1 track"
    assert count_words(101, 101, 0) == "101 tracks"
    assert count_words(2851, 100_000, 1) == "2,851 of 100,000 tracks"
    assert count_words(0, 101, 0) == "0 of 101 tracks"
    assert count_words(10, 101, 3) == "10 of 101 tracks · 3 selected"
    assert count_words(100_000, 100_000, 100_000) == "100,000 tracks · 100,000 selected"


def test_a_selections_rows_are_counted_once_however_its_ranges_overlap():
    model = QStandardItemModel(50, 3)
    chance = random.Random(7)
    for _ in range(200):
        selection, rows = QItemSelection(), set()
        for _ in range(chance.randint(0, 6)):
            top = chance.randrange(50)
            bottom = min(49, top + chance.randrange(10))
            left = chance.randrange(3)
            selection.append(QItemSelectionRange(model.index(top, left), model.index(bottom, 2)))
            rows |= set(range(top, bottom + 1))
        assert selected_row_count(selection) == len(rows)


def counted_table(qtbot, rows: int):
    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows([track(i, genre="Jazz" if i % 4 == 0 else "Rock") for i in range(rows)])
    table = QTableView()
    table.setModel(proxy)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    qtbot.addWidget(table)
    return model, proxy, table, TrackCount(table)


def test_the_count_follows_the_filter_the_rows_and_the_selection(qtbot):
    model, proxy, table, counter = counted_table(qtbot, 40)
    assert counter.text() == "40 tracks"

    def says(words: str):
        qtbot.waitUntil(lambda: counter.text() == words, timeout=2000)

    proxy.set_genre("Jazz")
    says("10 of 40 tracks")
    proxy.set_search('"Track 1"')  # 1, 10-19 of which 12 and 16 are Jazz
    says("2 of 40 tracks")
    proxy.set_search("")
    table.selectAll()
    says("10 of 40 tracks · 10 selected")
    table.selectionModel().select(proxy.index(0, 0), QItemSelectionModel.SelectionFlag.Toggle
                                  | QItemSelectionModel.SelectionFlag.Rows)
    says("10 of 40 tracks · 9 selected")
    model.merge_rows([track(100, genre="Rock")])  # added, and hidden by the genre: the total still changes
    says("10 of 41 tracks · 9 selected")
    model.merge_rows([track(101, genre="Jazz")], gone={0, 4})  # two of the shown Jazz tracks go, one comes
    says("9 of 40 tracks · 8 selected")
    proxy.set_genre(None)
    table.clearSelection()
    says("40 tracks")
    model.set_rows([])
    says("")


def test_rows_removed_in_a_thousand_runs_are_counted_once(qtbot, monkeypatch):
    model, proxy, table, counter = counted_table(qtbot, 100_000)
    counted = []
    monkeypatch.setattr(track_count, "selected_row_count", lambda selection: counted.append(1) or 0)
    model.merge_rows([], gone=set(range(0, 100_000, 97)))  # one rowsRemoved per track gone: 1,031 signals
    qtbot.waitUntil(lambda: counter.text() == "98,969 tracks", timeout=5000)
    qtbot.wait(50)
    assert len(counted) == 1
