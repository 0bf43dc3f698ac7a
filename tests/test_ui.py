"""The GUI offscreen with pytest-qt: table model, genre view, corrections, review, cancel, undo."""

import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QPersistentModelIndex, QSettings, Qt
from PySide6.QtTest import QAbstractItemModelTester

from desktop.core.tags import read_tags, write_genres
from desktop.store.database import open_database
from desktop.ui.app_settings import AppSettings
from desktop.ui.dialogs import SettingsDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.table_model import GENRE, GENRE_ROLE, TRACK_ID_ROLE, LibraryTableModel, TrackRow
from tests.audio_files import make_library, make_protected_m4p, make_track

pytestmark = pytest.mark.usefixtures("need_ffmpeg")


@pytest.fixture
def window(qtbot, tmp_path, exported_model):
    music = tmp_path / "music"
    files = make_library(music)
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.model_path, settings.folders, settings.device = str(exported_model), [str(music)], "cpu"
    win = MainWindow(open_database(tmp_path / "lib.db"), settings)
    qtbot.addWidget(win)
    win.files = files
    return win


def scan(qtbot, win):
    win.start_scan()
    qtbot.waitUntil(lambda: win.scan_job is None, timeout=60_000)


def wait_write(qtbot, win):
    qtbot.waitUntil(lambda: not win.write_busy, timeout=30_000)


def test_a_job_a_test_leaves_running_is_ended_with_the_test_run(qtbot):
    """A job still running when the run's last test ends (an album check after a filter was turned on): the run's end
    winds it down as the app's quit does (test_packaging runs this test last in a pytest of its own)."""
    from desktop.ui.workers import Job, start_job

    started = threading.Event()
    start_job(Job(lambda _report, cancel: (started.set(), cancel.wait(5)), "left running"))
    assert started.wait(5)


def test_table_model_passes_qt_model_tester():
    model = LibraryTableModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    rows = [TrackRow(i, f"/m/{i}.mp3", f"t{i}", "a", "b", "", "rock", "rock", 0.9, False, "analysed", "") for i in range(50)]
    model.set_rows(rows)
    assert model.rowCount() == 50 and model.columnCount() == 11
    at = model.row_of(3)  # the model keeps its rows sorted (by artist, then album and title: "t3" before "t29")
    assert model.index(at, 0).data(TRACK_ID_ROLE) == 3 and model.index(at, 0).data() == "t3" and model.index(at, GENRE).data() == "rock"
    model.set_rows(rows[:10])
    assert model.rowCount() == 10


def test_the_table_sorts_in_the_model_and_merges_keep_the_order():
    from desktop.ui.table_model import CONFIDENCE, LibraryFilter

    def row(i, genre="rock", confidence=0.5, artist="a"):
        return TrackRow(i, f"/m/{i}.mp3", f"t{i}", artist, "b", "", genre, genre, confidence, False, "analysed", "")

    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    QAbstractItemModelTester(proxy, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.set_rows([row(1, "rock", 0.9, "Zappa"), row(2, "jazz", 0.4, "abba"), row(3, "pop", 0.7, "Miles")])
    ids = lambda: [proxy.index(r, 0).data(TRACK_ID_ROLE) for r in range(proxy.rowCount())]  # noqa: E731
    assert ids() == [2, 3, 1]  # by artist, case-blind
    held = QPersistentModelIndex(proxy.index(2, 0))  # track 1, as a selection would hold it
    proxy.sort(CONFIDENCE, Qt.SortOrder.DescendingOrder)  # a header click reaches the proxy
    assert ids() == [1, 3, 2] and held.row() == 0
    proxy.sort(GENRE)
    assert ids() == [2, 3, 1]
    moving = QPersistentModelIndex(proxy.index(1, GENRE))  # track 3, selected while a scan changes its genre
    model.merge_rows([row(4, "blues"), row(3, "soul"), row(5, "zydeco")], gone={2})  # in, moved, in; out
    assert ids() == [4, 1, 3, 5] and [proxy.index(r, GENRE).data() for r in range(4)] == ["blues", "rock", "soul", "zydeco"]
    assert held.isValid() and held.data(TRACK_ID_ROLE) == 1
    assert moving.isValid() and moving.data(TRACK_ID_ROLE) == 3 and moving.data() == "soul"  # it was dropped
    assert [model.row_of(i) for i in (4, 1, 3, 5)] == [0, 1, 2, 3]
    model.merge_rows([row(3, "acid"), row(1, "zz"), row(4, "blues", 0.8)])  # up to the top, down to the end; in place
    assert ids() == [3, 4, 5, 1] and moving.row() == 0 and held.row() == 3
    model.set_rows([row(6, "ambient"), *(model.row_at(r) for r in range(4))])  # a reload keeps the column and order
    assert ids() == [3, 6, 4, 5, 1]  # acid, ambient, blues, zydeco, zz


def test_the_table_never_shows_an_uncertain_confidence_as_the_threshold():
    from desktop.core.wording import percent, sureness
    from desktop.ui.table_model import CONFIDENCE

    def row(confidence):
        return TrackRow(1, "/m/1.mp3", "t", "a", "b", "", "rock", "rock", confidence, False, "uncertain", "")

    assert row(0.4998).cells()[CONFIDENCE] == "49%" and row(0.4998).needs_review(0.5)  # rounded: "50%", and uncertain
    assert [row(c).cells()[CONFIDENCE] for c in (0.5, 0.57, 0.999, 1.0)] == ["50%", "57%", "99%", "100%"]
    assert [sureness(c) for c in (0.4998, 0.57, 0.0, 1.0)] == ["0.49", "0.57", "0.00", "1.00"]
    assert sureness(0.4998, 3) == "0.499" and percent(0.29) == "29%"


def test_a_track_unlike_every_learned_genre_says_unlike_what():
    from desktop.ui.table_model import STATUS

    row = TrackRow(1, "/m/1.mp3", "t", "a", "b", "", "", "", None, False, "unlike", "unlike every genre learned …")
    assert row.cells()[STATUS] == "unlike your genres"  # "unlike", alone in the column


def test_the_table_sorts_numbers_by_value_and_case_blind():
    from desktop.ui.table_model import ARTIST, TITLE

    names = ["Track 10", "track 2", "Track 1", "10cc", "Abba", "2Pac", "Track 2b", "Track 02"]
    model = LibraryTableModel()
    model.set_rows([TrackRow(i, f"/m/{i}.mp3", name, name, "", "", "", "", None, False, "new", "") for i, name in enumerate(names)])
    for column in (TITLE, ARTIST):
        model.sort(column)
        shown = [model.index(r, column).data() for r in range(model.rowCount())]
        assert shown == ["2Pac", "10cc", "Abba", "Track 1", "track 2", "Track 02", "Track 2b", "Track 10"]
    model.sort(TITLE, Qt.SortOrder.DescendingOrder)
    assert model.index(0, TITLE).data() == "Track 10"


def test_the_length_and_folder_columns_show_and_sort_by_their_values():
    # The table showed no track's length, and a file's folder only in its tooltip.
    from desktop.core.wording import play_length
    from desktop.ui.table_model import FOLDER, LENGTH

    assert [play_length(s) for s in (0, 4.4, 65, 187.6, 599.4, 3725)] == ["", "0:04", "1:05", "3:08", "9:59", "1:02:05"]
    seconds = [3725, 599.4, 0, 600, 65]  # 0: not known (unreadable); 1:02:05 sorted as text came before 9:59
    model = LibraryTableModel()
    model.set_rows([TrackRow(i, f"/m/Album {i}/{i}.flac", f"t{i}", "", "", "", "", "", None, False, "new", "", s)
                    for i, s in enumerate(seconds)])
    assert model.index(0, LENGTH).data() == "1:02:05" and model.index(2, LENGTH).data() == ""
    assert model.index(1, FOLDER).data() == "/m/Album 1"
    model.sort(LENGTH)
    assert [model.index(r, LENGTH).data() for r in range(5)] == ["", "1:05", "9:59", "10:00", "1:02:05"]
    model.sort(LENGTH, Qt.SortOrder.DescendingOrder)
    assert model.index(0, LENGTH).data() == "1:02:05"
    model.sort(FOLDER)
    assert [model.index(r, FOLDER).data() for r in range(5)] == [f"/m/Album {i}" for i in range(5)]


def test_the_year_and_number_columns_show_and_an_album_sorts_in_its_own_order():
    # Sorted by album, an album's tracks came in the order of their titles: "Zebra" (track 1) last.
    from desktop.ui.table_model import ALBUM, TITLE, TRACK_NUMBER, YEAR

    def row(i, title, album, year, number, disc=0):
        return TrackRow(i, f"/m/{i}.flac", title, "Band", album, "", "", "", None, False, "new", "", 60.0, year, number, disc)

    model = LibraryTableModel()
    model.set_rows([row(1, "Zebra", "Debut", 1999, 1), row(2, "Apple", "Debut", 1999, 2), row(3, "Moon", "Debut", 1999, 1, 2),
                    row(4, "Live", "Later", 2010, 10), row(5, "Demo", "Later", 2010, 9), row(6, "Loose", "", 0, 0)])
    model.sort(ALBUM)
    assert [model.index(r, TITLE).data() for r in range(6)] == ["Loose", "Zebra", "Apple", "Moon", "Demo", "Live"]
    assert [model.index(r, TRACK_NUMBER).data() for r in range(6)] == ["", "1", "2", "1", "9", "10"]  # disc 2's first last
    assert [model.index(r, YEAR).data() for r in range(6)] == ["", "1999", "1999", "1999", "2010", "2010"]
    model.sort(TRACK_NUMBER)  # as numbers, disc by disc: 10 after 9
    assert [model.index(r, TITLE).data() for r in range(6)] == ["Loose", "Zebra", "Apple", "Demo", "Live", "Moon"]
    model.sort(YEAR, Qt.SortOrder.DescendingOrder)
    assert [model.index(r, TITLE).data() for r in range(2)] == ["Live", "Demo"]


def test_a_compilation_sorted_by_album_or_genre_stays_whole_in_its_own_order():
    # Ties went by each track's artist: a "Various Artists" album sorted by album came one artist's tracks at a time.
    from desktop.ui.table_model import ALBUM, GENRE, TITLE

    def row(i, title, artist, album, number, album_artist=""):
        return TrackRow(i, f"/m/{i}.flac", title, artist, album, "", "Pop", "Pop", 0.9, False, "analysed", "", 60.0, 0,
                        number, 0, album_artist)

    model = LibraryTableModel()
    model.set_rows([row(1, "Zed", "Zoe", "Hits", 1, "Various Artists"), row(2, "Abe", "Abba", "Hits", 2, "Various Artists"),
                    row(3, "Mid", "Moby", "Hits", 3, "Various Artists"), row(4, "Own", "Abba", "Gold", 1)])
    for column in (ALBUM, GENRE):
        model.sort(column)
        assert [model.index(r, TITLE).data() for r in range(4)] == ["Own", "Zed", "Abe", "Mid"], column


def test_an_album_of_two_artists_without_an_album_artist_tag_sorted_by_album_or_genre_stays_whole():
    # Ties went by each track's artist: a soundtrack by two composers sorted by album came one composer's tracks
    # at a time, even ones after odd ones.
    from desktop.ui.table_model import ALBUM, GENRE, TITLE

    def row(i, artist, album, number):
        return TrackRow(i, f"/m/{album}/{i}.flac", f"T{i}", artist, album, "", "Pop", "Pop", 0.9, False, "analysed", "",
                        60.0, 0, number, 0)

    model = LibraryTableModel()
    model.set_rows([row(1, "Sergio Ojeda", "Drascula", 2), row(2, "Alcachofa Soft", "Drascula", 1),
                    row(3, "Alcachofa Soft", "Drascula", 3), row(4, "Sergio Ojeda", "Drascula", 4)])
    for column in (ALBUM, GENRE):
        model.sort(column)
        assert [model.index(r, TITLE).data() for r in range(4)] == ["T2", "T1", "T3", "T4"], column


def test_merge_rows_updates_appends_and_removes_in_place():
    model = LibraryTableModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    row = lambda i, genre="rock": TrackRow(i, f"/m/{i}.mp3", f"t{i}", "a", "b", "", genre, genre, 0.9, False, "analysed", "")  # noqa: E731
    model.set_rows([row(i) for i in range(5)])
    resets, changed = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b: changed.append(a.row()))
    model.merge_rows([row(2, "jazz"), row(3), row(7)], gone={0})
    assert not resets, "a merge must not reset the model (it would lose the selection and scroll position)"
    assert changed == [2]  # row 3 did not change: no signal
    assert model.rowCount() == 5  # 5 - track 0 + track 7
    ids = [model.index(r, 0).data(TRACK_ID_ROLE) for r in range(model.rowCount())]
    assert ids == [1, 2, 3, 4, 7]
    assert model.index(ids.index(2), GENRE).data() == "jazz"
    model.merge_rows([row(7, "pop")])
    assert model.index(4, GENRE).data() == "pop"


def test_a_scan_that_finds_a_new_file_merges_it_and_the_listener_keeps_their_place(qtbot, window):
    from desktop.ui.table_model import load_rows

    scan(qtbot, window)
    window.table.sortByColumn(GENRE, Qt.SortOrder.AscendingOrder)
    window.table.selectRow(2)
    chosen = window.selected_track_ids()
    resets = []
    window.table_model.modelReset.connect(lambda: resets.append(1))
    before = window.genres.total
    make_track(window.files["flac"].parents[1] / "new", "arrived", "beats", "mp3", seed=7, tags={"title": "Arrived"})
    scan(qtbot, window)  # as the folder watch starts one for a file copied in
    # Before: every row read again and the model reset (1.1 s at 100,000 tracks, after each file copied in).
    assert not resets
    assert window.selected_track_ids() == chosen
    table = [window.table_model.row_at(r) for r in range(window.table_model.rowCount())]
    assert sorted(table, key=lambda r: r.id) == sorted(load_rows(window.sessions), key=lambda r: r.id)
    assert "Arrived" in [r.title for r in table] and window.genres.total == before + 1


def test_a_track_deleted_from_the_library_leaves_the_table_though_no_change_names_it(qtbot, window, tmp_path):
    import sqlite3

    scan(qtbot, window)
    shown = window.table_model.rowCount()
    gone = window.table_model.row_at(0).id
    with sqlite3.connect(tmp_path / "lib.db") as con:  # as folding two names of one file does
        con.execute("DELETE FROM analyses WHERE track_id = ?", (gone,))
        con.execute("DELETE FROM tracks WHERE id = ?", (gone,))
    window.refresh_changed()
    assert window.table_model.rowCount() == shown - 1 and window.table_model.row_of(gone) is None
    assert window.genres.total == shown - 1


def test_a_folder_removed_in_settings_leaves_the_table_and_comes_back_with_its_corrections(qtbot, window):
    music = window.files["flac"].parents[1]
    window.settings.folders = sorted(str(music / genre) for genre in ("tones", "noise", "beats"))
    scan(qtbot, window)
    assert window.table_model.rowCount() == len(window.files)
    beats = sorted(str(p) for p in window.files.values() if p.parent.name == "beats")
    window.tag_service().correct(beats[:1], "Breakbeat", write=False)
    before = list(window.settings.folders)
    window.settings.folders = [f for f in before if not f.endswith("beats")]
    window.folders_removed(before)
    scan(qtbot, window)
    shown = {window.table_model.row_at(r).path for r in range(window.table_model.rowCount())}
    assert shown == {str(p) for p in window.files.values()} - set(beats)
    assert "taken out" in window.progress_label.text()
    window.add_folders([str(music / "beats")])  # back: the same tracks, the correction kept
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=60_000)
    rows = {window.table_model.row_at(r).path: window.table_model.row_at(r) for r in range(window.table_model.rowCount())}
    assert len(rows) == len(window.files) and rows[beats[0]].genre == "Breakbeat" and rows[beats[0]].corrected


def test_a_folder_left_out_in_settings_leaves_the_library_and_taken_back_returns(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QPushButton

    import desktop.ui.dialogs as dialogs
    from desktop.services.library import Library

    music = window.files["flac"].parents[1]
    scan(qtbot, window)
    every, beats = {str(p) for p in window.files.values()}, {str(p) for p in window.files.values() if p.parent.name == "beats"}

    def shown():
        return {window.table_model.row_at(r).path for r in range(window.table_model.rowCount())}

    def press(dialog, text):
        next(b for b in dialog.findChildren(QPushButton) if b.text() == text).click()

    chosen = iter([str(tmp_path), str(music), str(music / "beats"), str(music / "beats")])
    monkeypatch.setattr(dialogs, "choose_folder_to_leave_out", lambda parent, start: next(chosen))

    def leave_out(dialog):
        assert dialog.left_out_folders() == []
        for _ in range(2):  # outside the music folders, then a whole music folder: refused, and said why
            press(dialog, "Leave out a folder…")
            assert dialog.left_out_folders() == [] and "not inside one of your music folders" in dialog.left_out_note.text()
        press(dialog, "Leave out a folder…")
        press(dialog, "Leave out a folder…")  # the same again: listed once
        assert dialog.left_out_folders() == [str(music / "beats")] and dialog.left_out_note.isHidden()
        return SettingsDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", leave_out)
    window.open_settings()
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=60_000)
    assert shown() == every - beats and f"{len(beats)} tracks of folders removed or left out taken out" in (
        window.progress_label.text())

    def take_back(dialog):
        assert dialog.left_out_folders() == [str(music / "beats")]  # from the library
        dialog.left_out.item(0).setSelected(True)
        press(dialog, "Take back")
        assert dialog.left_out_folders() == []
        return SettingsDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", take_back)
    window.open_settings()
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=60_000)
    assert shown() == every and Library(window.sessions).left_out() == []
    qtbot.waitUntil(lambda: window.watch_job is None, timeout=30_000)  # the folders listed again for the watch


def test_the_spoken_word_dialog_leaves_out_the_checked_folders_and_keeps_the_others(qtbot):
    from desktop.core.spoken_word import SpokenFolder
    from desktop.ui.dialogs import SpokenWordDialog

    dialog = SpokenWordDialog([SpokenFolder("/m/Audiobooks", 12, "the folder's name"),
                               SpokenFolder("/m/Pods", 3, "genre tags saying Podcast")])
    qtbot.addWidget(dialog)
    assert dialog.listing.item(1).text() == "/m/Pods  (3 tracks; genre tags saying Podcast)"
    assert (dialog.left_out(), dialog.kept()) == (["/m/Audiobooks", "/m/Pods"], [])  # checked to start with
    dialog.listing.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert (dialog.left_out(), dialog.kept()) == (["/m/Audiobooks"], ["/m/Pods"])


def test_the_folder_genres_question_starts_with_none_checked_and_gives_the_names_checked(qtbot, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from desktop.ui.dialogs import CheckListDialog, ask_folder_genres

    def answer(check):
        def run(dialog):
            qtbot.addWidget(dialog)
            assert [dialog.listing.item(r).text() for r in range(dialog.listing.count())] == [
                "Schlager  (212 tracks)", "Incoming  (1 track)"]
            assert dialog.checked() == []  # "Incoming" is no genre: nothing is counted unless checked
            for row in check:
                dialog.listing.item(row).setCheckState(Qt.CheckState.Checked)
            return QDialog.DialogCode.Accepted
        return run

    monkeypatch.setattr(CheckListDialog, "exec", answer([0]))
    assert ask_folder_genres(None, {"Schlager": 212, "Incoming": 1}) == ["Schlager"]
    monkeypatch.setattr(CheckListDialog, "exec", lambda dialog: QDialog.DialogCode.Rejected)  # Skip
    assert ask_folder_genres(None, {"Schlager": 212, "Incoming": 1}) == []


def test_after_a_scan_folders_that_look_like_spoken_word_are_asked_about_once_and_the_answer_is_kept(
        qtbot, window, monkeypatch):
    import desktop.ui.scan_actions as scan_actions
    from desktop.core.scan import within
    from desktop.services.library import Library

    music = Path(window.settings.folders[0])
    for name in ("Audiobooks", "Podcasts"):
        make_track(music / name / "Show", "part 1", "noise", "flac", 3.0, seed=9)
    asked, answers = [], iter([None, ([str(music / "Audiobooks")], [str(music / "Podcasts")])])
    monkeypatch.setattr(scan_actions, "ask_about_spoken_word",
                        lambda parent, folders: asked.append([f.path for f in folders]) or next(answers))
    scan(qtbot, window)
    qtbot.waitUntil(lambda: len(asked) == 1)
    assert asked == [[str(music / "Audiobooks"), str(music / "Podcasts")]]  # Ask Later
    scan(qtbot, window)
    qtbot.wait(50)
    assert len(asked) == 1  # not asked again this session
    window._ask_later.clear()  # as a new session
    scan(qtbot, window)
    qtbot.waitUntil(lambda: len(asked) == 2)
    qtbot.waitUntil(lambda: window.scan_job is None and Library(window.sessions).left_out() == [str(music / "Audiobooks")],
                    timeout=60_000)
    assert Library(window.sessions).kept_as_music() == [str(music / "Podcasts")]
    shown = {window.table_model.row_at(r).path for r in range(window.table_model.rowCount())}
    assert not any(within([str(music / "Audiobooks")])(p) for p in shown) and str(music / "Podcasts" / "Show" / "part 1.flac") in shown
    scan(qtbot, window)
    qtbot.wait(50)
    assert len(asked) == 2  # answered: neither is asked about again
    qtbot.waitUntil(lambda: window.watch_job is None, timeout=30_000)


def test_settings_lists_the_folders_kept_as_music_and_asks_again_about_one(qtbot, window, monkeypatch):
    import desktop.ui.scan_actions as scan_actions
    from desktop.services.library import Library

    music = Path(window.settings.folders[0])
    make_track(music / "Podcasts" / "Show", "part 1", "noise", "flac", 3.0, seed=9)
    asked = []
    monkeypatch.setattr(scan_actions, "ask_about_spoken_word",
                        lambda parent, folders: asked.append([f.path for f in folders]) or ([], [f.path for f in folders]))
    scan(qtbot, window)
    qtbot.waitUntil(lambda: Library(window.sessions).kept_as_music() == [str(music / "Podcasts")])

    def ask_again(dialog):
        assert dialog.kept_folders() == [str(music / "Podcasts")] and dialog.isAncestorOf(dialog.ask_again)
        dialog.kept.item(0).setSelected(True)
        dialog.ask_again.click()
        assert dialog.kept_folders() == []
        return SettingsDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", ask_again)
    window.open_settings()
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=60_000)  # the scan after Settings asks about it again
    assert asked[1] == [str(music / "Podcasts")]
    qtbot.waitUntil(lambda: window.scan_job is None and window.watch_job is None, timeout=60_000)


def test_settings_lists_the_folder_names_counted_as_genres_and_takes_one_back(qtbot, window, monkeypatch):
    from desktop.services.learning import set_folder_genres
    from desktop.store import queries

    set_folder_genres(window.sessions, ["Schlager", "Volksmusik"], True)

    def not_a_genre(dialog):
        assert dialog.folder_genres() == ["Schlager", "Volksmusik"] and dialog.isAncestorOf(dialog.not_genres)
        dialog.genre_names.item(1).setSelected(True)
        dialog.not_genres.click()
        return SettingsDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", not_a_genre)
    window.open_settings()
    qtbot.waitUntil(lambda: window.folders_job is None and window.reload_job is None and window.scan_job is None, timeout=60_000)
    with window.sessions() as s:
        assert queries.meta_folder_list(s, queries.FOLDER_GENRES) == ["Schlager"]
    assert window.errors.count() == 0  # the scan Settings starts waited for the change: neither found the library busy
    qtbot.waitUntil(lambda: window.watch_job is None, timeout=30_000)


def test_settings_shows_no_kept_as_music_list_where_none_was_kept(qtbot, tmp_path):
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    dialog = SettingsDialog(settings, lambda path: "")
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.isAncestorOf(dialog.kept) and not dialog.kept.isVisible() and dialog.kept_folders() == []
    assert not dialog.isAncestorOf(dialog.genre_names) and dialog.folder_genres() == []
    shown = SettingsDialog(settings, lambda path: "", kept=["/m/Podcasts"])
    qtbot.addWidget(shown)
    shown.show()
    assert shown.kept.isVisible() and shown.ask_again.isVisible() and shown.kept_folders() == ["/m/Podcasts"]


def test_a_folder_kept_as_music_but_deleted_while_asked_is_a_problem_not_a_crash(qtbot, window, monkeypatch):
    import desktop.ui.scan_actions as scan_actions
    from desktop.core.spoken_word import SpokenFolder

    gone = Path(window.settings.folders[0]) / "Podcasts"
    monkeypatch.setattr(scan_actions, "ask_about_spoken_word", lambda parent, folders: ([], [str(gone)]))
    window.ask_about_spoken_word([SpokenFolder(str(gone), 3, "the folder's name")])
    assert window.errors.item(0).text().startswith(f"{gone}: no such folder")


def test_a_tracks_folder_is_left_out_from_its_menu_also_while_a_scan_runs(qtbot, window, monkeypatch):
    import desktop.ui.write_actions as write_actions
    from desktop.core.scan import within
    from desktop.services.library import Library

    music = window.files["flac"].parents[1]
    beats = music / "beats"
    inner = beats / "Disc 1"
    inner.mkdir()
    moved = inner / "inner.flac"
    window.files["flac"].rename(moved)  # a track two folders down its music folder
    window.files["flac"] = moved
    scan(qtbot, window)
    offered = []
    monkeypatch.setattr(write_actions, "choose_folder_to_leave", lambda parent, folders: offered.append(folders) or folders[-1])
    assert window.leave_out_action in window.track_menu_actions()
    row = next(r for r in range(window.proxy.rowCount()) if window.shown_row(r).path == str(moved))
    window.table.selectRow(row)
    window.start_scan()  # running: the folder is left out by the scan after it
    window.leave_out_action.trigger()
    assert offered == [[str(inner), str(beats)]]  # its folder and those above it, inside its music folder only
    qtbot.waitUntil(lambda: window.scan_job is None and Library(window.sessions).left_out() == [str(beats)],
                    timeout=60_000)
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=60_000)
    shown = {window.table_model.row_at(r).path for r in range(window.table_model.rowCount())}
    assert shown and not any(within([str(beats)])(path) for path in shown)
    qtbot.waitUntil(lambda: window.watch_job is None, timeout=30_000)


def test_export_playlist_names_the_genre_says_what_it_saved_and_when_there_is_nothing(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    scan(qtbot, window)
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda _parent, _title, name, _filter: (asked.append(name), (str(tmp_path / "mine"), ""))[1])
    row = next(r for r in range(1, window.genres.rowCount()))
    window.sidebar.setCurrentIndex(window.genres.index(row, 0))
    window._genre_chosen(window.genres.index(row, 0))
    genre = window.genres.index(row, 0).data(GENRE_ROLE)
    window.export_playlist()
    qtbot.waitUntil(lambda: window.playlist_job is None, timeout=10_000)  # written on a worker
    lines = (tmp_path / "mine.m3u8").read_text().splitlines()  # typed without the extension: .m3u8 added
    music = window.settings.folders[0]
    assert asked == [str(Path(music) / f"{genre}.m3u8")] and len(lines) == 1 + 2 * window.proxy.rowCount()
    assert window.statusBar().currentMessage() == f"Saved {window.proxy.rowCount()} tracks to {tmp_path / 'mine.m3u8'}"
    window.export_playlist()  # the next one starts where the last one went
    qtbot.waitUntil(lambda: window.playlist_job is None, timeout=10_000)
    assert asked[1] == str(tmp_path / f"{genre}.m3u8")
    window.search.setText("no such track anywhere")
    window.export_playlist()
    assert len(asked) == 2 and window.statusBar().currentMessage() == "Nothing to export: the table shows no track"


def test_export_playlist_writes_what_a_search_shows_on_a_worker_named_for_the_search(qtbot, window, tmp_path,
                                                                                   monkeypatch):
    # Each track was read from the database on the GUI thread (15-16 s held at 100,000 tracks), and a search's playlist
    # was offered as "playlist.m3u8"; a search typed in a large table and not yet made was not what it held.
    from PySide6.QtWidgets import QFileDialog

    from desktop.services.playlists import write_m3u8
    from desktop.store.schema import Track
    from desktop.ui import main_window

    scan(qtbot, window)
    asked, target = [], [tmp_path / "found.m3u8"]
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda _parent, _title, name, _filter: (asked.append(Path(name).name), (str(target[0]), ""))[1])
    monkeypatch.setattr(main_window, "SEARCH_AT_ONCE_ROWS", 2)  # this library counts as large: typing waits
    qtbot.keyClicks(window.search, '"Track 1"')  # Track 1 and Track 10 to 19, before typing pauses
    window.export_playlist()
    assert asked == ["Track 1.m3u8"] and not window.export_action.isEnabled()  # one at a time
    qtbot.waitUntil(lambda: window.playlist_job is None, timeout=10_000)
    shown = [window.shown_row(r) for r in range(window.proxy.rowCount())]
    assert len(shown) == 11 and all(r.title.startswith("Track 1") for r in shown)
    with window.sessions() as s:  # as the tracks themselves, in the table's order
        write_m3u8([s.get(Track, r.id) for r in shown], tmp_path / "expected.m3u8")
    assert target[0].read_text() == (tmp_path / "expected.m3u8").read_text()
    assert window.statusBar().currentMessage() == f"Saved 11 tracks to {target[0]}" and window.export_action.isEnabled()
    genre = window.genres.index(1, 0)
    window.sidebar.setCurrentIndex(genre)
    window._genre_chosen(genre)
    window.search.setText("track")
    window.search_now()
    (tmp_path / "a file").write_text("not a folder")
    target[0] = tmp_path / "a file" / "x.m3u8"  # cannot be written: named in Problems, the action back
    window.export_playlist()
    qtbot.waitUntil(lambda: window.playlist_job is None, timeout=10_000)
    assert asked[-1] == f"{genre.data(GENRE_ROLE)} - track.m3u8" and window.export_action.isEnabled()
    assert window.errors.item(window.errors.count() - 1).text() == (
        f"{target[0]}: cannot write playlist ({tmp_path / 'a file'} is a file, not a folder)")


def test_a_genre_only_the_tags_name_is_browsed_exported_and_followed_once_a_track_shows_it(qtbot, window, tmp_path,
                                                                                           monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    for ext in ("flac", "mp3"):
        write_genres(window.files[ext], ["Soundtrack"])  # a genre the model does not know
    scan(qtbot, window)
    entries = {window.genres.index(r, 0).data(): r for r in range(window.genres.rowCount())}
    assert "Soundtrack  (2 tagged)" in entries
    window.sidebar.setCurrentIndex(window.genres.index(entries["Soundtrack  (2 tagged)"], 0))
    shown = sorted(window.shown_row(r).path for r in range(window.proxy.rowCount()))
    assert shown == sorted(str(window.files[ext]) for ext in ("flac", "mp3"))
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda _parent, _title, name, _filter: (asked.append(
        Path(name).name), (str(tmp_path / "ost.m3u8"), ""))[1])
    window.export_playlist()
    qtbot.waitUntil(lambda: window.playlist_job is None, timeout=10_000)
    assert asked == ["Soundtrack.m3u8"] and len((tmp_path / "ost.m3u8").read_text().splitlines()) == 1 + 2 * 2
    # One of them given the genre by hand: tracks show it now, and the sidebar follows it to its genre's entry.
    flac_id = next(window.shown_row(r).id for r in range(window.proxy.rowCount())
                   if window.shown_row(r).path == str(window.files["flac"]))
    window.correct([flac_id], "Soundtrack")
    wait_write(qtbot, window)
    qtbot.waitUntil(lambda: window.sidebar.currentIndex().data() == "Soundtrack  (1)", timeout=10_000)
    assert not any("tagged" in (window.genres.index(r, 0).data() or "") and "Soundtrack" in window.genres.index(r, 0).data()
                   for r in range(window.genres.rowCount()))
    assert [window.shown_row(r).id for r in range(window.proxy.rowCount())] == [flac_id]


def test_set_genre_and_play_are_offered_only_with_tracks_selected(qtbot, window):
    assert not window.set_genre_action.isEnabled() and not window.play_action.isEnabled()
    scan(qtbot, window)
    window.table.selectRow(0)
    assert window.set_genre_action.isEnabled() and window.play_action.isEnabled()
    window.table.clearSelection()
    assert not window.set_genre_action.isEnabled()
    window.table.selectRow(0)
    window.table.setSelectionMode(window.table.SelectionMode.MultiSelection)
    window.table.selectRow(2)
    chosen, current = window.selected_track_ids(), window.table.currentIndex().row()
    assert len(chosen) == 2
    window.refresh()  # the table reloads (after a write, say): the same tracks stay selected, the actions with them
    assert window.selected_track_ids() == chosen and window.table.currentIndex().row() == current
    assert window.set_genre_action.isEnabled()
    window.correct(chosen, "Zydeco")
    wait_write(qtbot, window)  # and the details panel shows the correction, not the genre before it
    assert sorted(window.selected_track_ids()) == sorted(chosen) and "your correction (Zydeco)" in window.details.heading.text()


def test_settings_quit_and_undo_have_shortcuts_on_every_platform_theme(window):
    # QKeySequence.StandardKey.Preferences and Quit are empty under some platform themes (offscreen, plain X11):
    # the README's Ctrl+, did nothing there.
    quit_action = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "Quit")
    for action in (window.settings_action, quit_action, window.undo_action, window.find_action):
        assert not action.shortcut().isEmpty(), action.text()


def test_find_goes_to_the_search_and_closed_problems_come_back_from_the_view_menu(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    window.search.setText("old words")
    window.search.deselect()
    window.find_action.trigger()  # (focus itself needs an active window, which offscreen tests do not get)
    assert window.search.selectedText() == "old words"  # typing replaces the last search
    window.report_problem("/m/x.mp3", "damaged")
    window.errors_dock.close()  # the listener closed the panel
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    problems = next(a for a in view.actions() if a.text() == "Problems")
    problems.trigger()
    assert window.errors_dock.isVisible() and window.errors.count() == 1


NONE_REFERENCES_CHECK = """
import sys
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTableWidget, QTableWidgetItem
from desktop.ui.table_model import LibraryFilter, LibraryTableModel, TrackRow
app = QApplication([])
model, proxy = LibraryTableModel(), LibraryFilter()
proxy.setSourceModel(model)
model.set_rows([TrackRow(1, "/m/1.mp3", "t", "", "", "", "rock", "rock", 0.9, False, "analysed", "")])
table = QTableWidget(2000, 1)
before = sys.getrefcount(None)
for i in range(2000):
    proxy.data(proxy.index(0, 0), Qt.ItemDataRole.DecorationRole)  # our data() returns None, through Qt
    item = QTableWidgetItem("x")
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    table.setItem(i, 0, item)
print("lost" if sys.getrefcount(None) < before else "kept")
"""


def test_the_qt_bindings_keep_their_references_to_none(tmp_path):
    # PySide6 6.12.0 on Python 3.11 dropped a reference to None each time a model's data() returned None through
    # Qt, and in QTableWidgetItem.setFlags and QTableWidget.setItem: the window died ("Fatal Python error:
    # deallocating None") after a minute of scrolling, Apply Predicted Genres with 20,000 changes at once.
    # pyproject keeps PySide6 below 6.12; on Python 3.12+ None is immortal and this cannot go wrong.
    import os
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run = subprocess.run([sys.executable, "-c", NONE_REFERENCES_CHECK], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "kept", (run.returncode, run.stdout, run.stderr[-500:])


def test_a_playlist_file_name_from_any_genre():
    from desktop.services.playlists import playlist_file_name

    assert playlist_file_name("Hip-Hop") == "Hip-Hop.m3u8"
    assert playlist_file_name("AC/DC: Live?") == "AC-DC- Live.m3u8" and playlist_file_name("..") == "playlist.m3u8"
    from desktop.services.playlists import unique_file_names

    assert unique_file_names(["Rock/Pop", "Rock:Pop", "rock-pop", "Jazz"]) == [
        "Rock-Pop.m3u8", "Rock-Pop (2).m3u8", "rock-pop (3).m3u8", "Jazz.m3u8"]  # one folder, also blind to case


def test_export_a_playlist_per_genre_into_a_chosen_folder(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    scan(qtbot, window)
    folder = tmp_path / "lists"
    folder.mkdir()
    (folder / "Beats.m3u8").write_bytes(b"not a playlist")  # kept, and said in Problems
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(folder))
    window.export_all_action.trigger()
    assert not window.export_all_action.isEnabled()  # one at a time
    qtbot.waitUntil(lambda: window.playlists_job is None, timeout=20_000)
    genres = [window.genres.index(r, 0).data(GENRE_ROLE) for r in range(1, window.genres.rowCount())]
    genres = [g for g in genres if not g.startswith("\x00")]  # not the Uncertain entry
    written = sorted(p.name for p in folder.iterdir() if p.name != "Beats.m3u8")
    assert written == sorted(f"{g}.m3u8" for g in genres if g != "Beats") and window.export_all_action.isEnabled()
    assert window.progress_label.text() == (f"Wrote {len(written)} playlists to {folder}; 1 could not be (see Problems)")
    assert any("Beats.m3u8: exists and is not a playlist" in window.errors.item(i).text() for i in range(window.errors.count()))
    assert (folder / "Beats.m3u8").read_bytes() == b"not a playlist"


def test_refresh_during_a_scan_loads_only_changed_rows(qtbot, window):
    scan(qtbot, window)
    window.refresh()
    before = window.table_model.rowCount()
    from desktop.store.schema import Track

    with window.sessions() as s, s.begin():
        track = s.query(Track).first()
        track.genre = "changed-elsewhere"
        track_id = track.id
    resets = []
    window.table_model.modelReset.connect(lambda: resets.append(1))
    window.refresh_changes()
    assert not resets and window.table_model.rowCount() == before
    rows = [window.table_model.row_at(r) for r in range(before)]
    assert next(r for r in rows if r.id == track_id).genre == "changed-elsewhere"


def test_a_change_committed_long_after_it_was_written_still_reaches_the_table(qtbot, window):
    """A scan commits every 200 files: on a slow share a row written as a batch began commits many seconds later.
    The window asked by time, looking 5 s back, and never merged such a row; the change mark misses none."""
    import time

    from desktop.store.schema import Track

    scan(qtbot, window)
    window.refresh()
    with window.sessions() as writer:
        track = writer.query(Track).first()
        track.file_genre, track_id = "Retagged Elsewhere", track.id
        writer.flush()  # written, not committed: the batch goes on
        window.refresh_changes()  # the timer looks while the batch runs: nothing committed yet
        time.sleep(5.5)
        window.refresh_changes()
        writer.commit()
    window.refresh_changes()
    assert window.table_model.track(track_id).file_genre == "Retagged Elsewhere"


def test_a_reload_reads_off_the_gui_thread_and_merges_what_committed_while_it_read(qtbot, window, monkeypatch):
    """After a learn every row may change: read and sorted on the GUI thread they held the window 1.1 s at 100,000
    tracks. A correction committed just after the read is in the table when the rows come."""
    import threading

    from PySide6.QtCore import QCoreApplication, QThread

    import desktop.ui.main_window as main_window
    from desktop.store.schema import Track
    from desktop.ui.table_model import load_rows, sorted_rows

    scan(qtbot, window)
    window.table.sortByColumn(GENRE, Qt.SortOrder.AscendingOrder)
    window.table.selectRow(3)
    chosen, late = window.selected_track_ids(), window.table_model.row_at(0).id
    read_on = []

    def read_then_a_correction_commits(sessions):
        read_on.append(QThread.currentThread() is QCoreApplication.instance().thread())
        rows = load_rows(sessions)
        with sessions() as s:  # committed after the read, before the rows reach the table
            s.get(Track, late).genre = "Late Correction"
            s.commit()
        return rows

    monkeypatch.setattr(main_window, "load_rows", read_then_a_correction_commits)
    first, second = window.reload_rows(), window.reload_rows()
    assert first is not second and window.table_model.track(late).genre != "Late Correction"  # the old rows, meanwhile
    resets = []
    window.table_model.modelReset.connect(lambda: resets.append(threading.get_ident()))
    qtbot.waitUntil(lambda: window.reload_job is None, timeout=20_000)
    qtbot.wait(200)  # the first reload's rows, if they came last, would be dropped: the second's are newer
    assert read_on == [False, False] and len(resets) == 1  # read on workers; the table reset once, by the latest
    assert window.table_model.track(late).genre == "Late Correction"
    assert window.selected_track_ids() == chosen
    table = [window.table_model.row_at(r) for r in range(window.table_model.rowCount())]
    assert table == sorted_rows(load_rows(window.sessions), GENRE, False).rows  # every row as stored, sorted by genre


def test_scan_fills_table_and_genre_counts(qtbot, window):
    scan(qtbot, window)
    assert window.table_model.rowCount() == len(window.files)
    counts = {window.genres.index(r, 0).data(GENRE_ROLE): window.genres.index(r, 0).data() for r in range(window.genres.rowCount())}
    assert counts[None] == f"All tracks  ({len(window.files)})"
    assert set(counts) - {None} <= {"Beats", "Noise", "Tones"}  # the model's labels, spelled as genre tags are
    genre_index = next(window.genres.index(r, 0) for r in range(1, window.genres.rowCount()))
    window._genre_chosen(genre_index)
    genre = genre_index.data(GENRE_ROLE)
    shown = {window.proxy.index(r, GENRE).data() for r in range(window.proxy.rowCount())}
    assert shown == {genre} and window.proxy.rowCount() == int(genre_index.data().split("(")[1].rstrip(")"))


def test_details_show_the_models_genres_in_the_librarys_spelling(qtbot, window):
    # The table said "Tones" (the library's tags) while the details' bars said "tones" (the model's label);
    # a track without an album read "Artist —".
    from desktop.core.tags import write_genres
    from tests.audio_files import make_track

    for name in ("t1", "t2"):
        write_genres(make_track(window.files["flac"].parent, name, "tones", "flac", 3.0, tags={"artist": "Solo"}), ["Tones"])
    scan(qtbot, window)
    rows = {window.proxy.index(r, 0).data(): r for r in range(window.proxy.rowCount())}
    assert not any(part.isVisibleTo(window) for part in window.details.analysis_parts)  # no track chosen: no empty boxes
    window.table.selectRow(rows["t1"])
    assert all(part.isVisibleTo(window) for part in window.details.analysis_parts)
    heading = window.details.heading.text()
    assert "<br>Solo<br>" in heading and "—" not in heading
    assert "Genre from: the model cnn:0.1.0, " in heading  # a test model (trained for the tests), not the shipped one
    labels = {label for label, _ in window.details.bars.items}
    assert "Tones" in labels and "tones" not in labels
    shown = []  # Settings listed the model's genres as its bare labels ("tones, noise, beats")

    def settings_shown(dialog):
        shown.append(dialog.model_info.text())
        return SettingsDialog.DialogCode.Rejected

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SettingsDialog, "exec", settings_shown)
        window.open_settings()
    assert shown and shown[0].startswith("cnn:0.1.0: ") and "Tones" in shown[0] and "tones" not in shown[0]


def test_one_genre_per_album_is_a_library_setting_the_window_turns_on_and_off(qtbot, window, tmp_path):
    album = window.files["flac"].parent.parent / "Band - Record"
    tags = {"album_artist": "Band", "album": "Record"}  # its tracks' artists alone would make it a compilation
    for n, (genre, artist) in enumerate((("beats", "Band"), ("beats", "Other"), ("noise", "Guest"))):
        make_track(album, f"song {n}", genre, "flac", 3.0, seed=n,
                   tags={**tags, "title": f"Song {n}", "artist": artist, "track": f"{n + 1}/3", "date": "1998-03-01"})

    def genres() -> dict[str, str]:
        return {window.proxy.index(r, 0).data(): window.proxy.index(r, GENRE).data() for r in range(window.proxy.rowCount())
                if window.proxy.index(r, 0).data().startswith("Song")}

    scan(qtbot, window)
    own = genres()
    assert len(set(own.values())) == 2 and not window.album_genres_action.isChecked()
    window.album_genres_action.trigger()  # Edit > One Genre per Album
    assert not window.album_genres_action.isEnabled()  # one change at a time
    qtbot.waitUntil(lambda: window.albums_job is None and window.reload_job is None, timeout=10_000)
    assert window.album_genres_action.isEnabled()
    assert set(genres().values()) == {own["Song 0"]}
    assert "1 track changed to their album's genre" in window.progress_label.text()
    rows = {window.proxy.index(r, 0).data(): r for r in range(window.proxy.rowCount())}
    window.table.selectRow(rows["Song 2"])
    assert "Genre from: the 3 tracks of its album, the model cnn:0.1.0, " in window.details.heading.text()
    assert "<br>Guest — Record, album by Band — track 3, 1998<br>" in window.details.heading.text()
    assert f"(this track alone: {own['Song 2']}, " in window.details.heading.text()
    again = MainWindow(window.sessions, window.settings)  # the library remembers it
    qtbot.addWidget(again)
    assert again.album_genres_action.isChecked()

    def settings_unchecked(dialog):  # Settings shows it too, and turns it off
        assert dialog.per_album.isChecked() and dialog.per_album.isEnabled()
        dialog.per_album.setChecked(False)
        return SettingsDialog.DialogCode.Accepted

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SettingsDialog, "exec", settings_unchecked)
        window.open_settings()
    qtbot.waitUntil(lambda: window.albums_job is None and window.reload_job is None and window.scan_job is None, timeout=60_000)
    assert genres() == own and not window.album_genres_action.isChecked()  # (the scan Settings starts said its say)
    # A learn whose held-out tracks came out clearly better with one genre per album offers it in its report.
    from desktop.core.library_head import Estimate
    from desktop.services.learning import LearnReport

    def report(album_accuracy):
        return LearnReport(["Beats", "Noise"], 40, estimate=Estimate(0.70, 0.65, folds=5, grouped_by="artist"),
                           album_accuracy=album_accuracy, album_tracks=30, activated=True, why="it does better")

    for accuracy, offered in ((0.72, False), (0.78, True)):
        window._report_learn = True
        window._learn_finished(report(accuracy))
        assert (window.learn_report.albums_button is not None) is offered
        window.learn_report.close()
    window.learn_report.albums_button.click()
    assert not window.learn_report.albums_button.isEnabled()
    qtbot.waitUntil(lambda: window.albums_job is None and window.reload_job is None, timeout=10_000)
    assert window.album_genres_action.isChecked() and set(genres().values()) == {own["Song 0"]}
    window._report_learn = True
    window._learn_finished(report(0.9))
    assert window.learn_report.albums_button is None  # already on


def test_the_details_call_only_a_shipped_model_shipped():
    # Any model but a learned one was "the shipped model (...)", also one the listener chose in Settings.
    from types import SimpleNamespace

    from desktop.core.learned_model import LEARNED_KEY_PREFIX
    from desktop.core.model import read_model_info
    from desktop.services.models import shipped_models_dir
    from desktop.ui.window_words import genre_source

    track = SimpleNamespace(corrected_genre=None, predicted_genre="Jazz", confidence=0.9, file_genre="")
    shipped = read_model_info(shipped_models_dir() / "default.onnx").key
    assert genre_source(track, SimpleNamespace(model_key=shipped)) == f"the shipped model ({shipped}), 90% sure"
    assert genre_source(track, SimpleNamespace(model_key="mine:1.0")) == "the model mine:1.0, 90% sure"
    learned = SimpleNamespace(model_key=f"{LEARNED_KEY_PREFIX}20261202")
    assert genre_source(track, learned) == "learned from your library, 90% sure"
    assert genre_source(track, learned, compilation=True) == (
        "learned from your library, 90% sure (its album is a compilation: each of its tracks keeps its own genre)")
    # Not analysed (a copy-protected file, one cut short): its Genre cell shows its tag's genre, and says why.
    unread = SimpleNamespace(corrected_genre=None, predicted_genre=None, confidence=None, file_genre="Pop", genre="Pop",
                             verdict="error")
    assert genre_source(unread, None) == "its tag (Pop); it could not be analysed"
    waiting = SimpleNamespace(**{**vars(unread), "verdict": "new"})
    assert genre_source(waiting, None) == "its tag (Pop); not analysed yet"
    placeholder = SimpleNamespace(**{**vars(unread), "file_genre": "Unknown", "genre": None})  # no genre: not taken
    assert genre_source(placeholder, None) == "none: it could not be analysed (its tag says Unknown)"
    for verdict, why in (("unlike", "unlike every genre learned from your library"), ("new", "not analysed yet")):
        untagged = SimpleNamespace(**{**vars(placeholder), "file_genre": "", "verdict": verdict})
        assert genre_source(untagged, None) == f"none: {why}"  # both said "nothing yet"
    # One genre per album: the album's genre, and what the track alone said (an interlude: too short to tell).
    album = SimpleNamespace(tracks=12, tagged=0)
    alone = SimpleNamespace(model_key="mine:1.0", top_genre="blues", confidence=0.55, status="analysed")
    assert (genre_source(track, alone, album, {"blues": "Blues"})
            == "the 12 tracks of its album, the model mine:1.0, 90% sure (this track alone: Blues, 55%)")
    interlude = SimpleNamespace(model_key="mine:1.0", top_genre=None, confidence=0.0, status="too_short")
    assert genre_source(track, interlude, album) == "the 12 tracks of its album, the model mine:1.0, 90% sure (this track alone: too short)"
    tagged = SimpleNamespace(tracks=12, tagged=9)
    assert genre_source(track, alone, tagged, {}) == "your genre on 9 of the 12 tracks of its album (this track alone: Blues, 55%)"


def test_long_genre_names_fit_the_details_panel(qtbot):
    # Names were drawn at fixed widths: "Contemporary Christian" lost its start in the bars and ran over
    # the next name (and out of the plot) in the timeline's legend.
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QFontMetrics

    from desktop.ui.details import DetailsPanel, WindowTimeline

    panel = DetailsPanel()
    qtbot.addWidget(panel)
    labels = ["Progressive Rock", "Contemporary Christian", "Hip-Hop", "Country"]
    panel.show_track("x", labels, [0.4, 0.3, 0.2, 0.1], [0, 3], [[0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]])
    panel.bars.resize(330, 100)  # the panel's width in a 1280-pixel window
    metrics = QFontMetrics(panel.font())
    width, names = panel.bars.name_column(metrics)
    assert width <= 0.4 * panel.bars.width() and all(metrics.horizontalAdvance(n) <= width - 6 for n in names)
    assert names[0] == "Progressive Rock" and names[1].endswith("…")  # a short name whole, a long one shortened
    plot = QRectF(30, 6, 290, 100)
    legend = WindowTimeline.legend(metrics, labels, plot)
    ends = [x + metrics.horizontalAdvance(n) for x, n in legend]
    assert all(end <= nxt for end, (nxt, _) in zip(ends, legend[1:], strict=False)) and ends[-1] <= plot.right()


def test_a_window_opened_with_a_saved_sort_sorts_its_rows_once(qtbot, window, monkeypatch):
    # The rows were sorted by the default column, then again as the saved header was restored, then once more:
    # 1.6-1.7 s to open a 100,000-track library sorted by artist, 1.0-1.2 s now.
    from desktop.ui import table_model
    from desktop.ui.table_model import ARTIST, sorted_rows

    scan(qtbot, window)
    window.table.sortByColumn(ARTIST, Qt.SortOrder.DescendingOrder)
    window.close()  # the layout saved, as on quitting
    keys, real_key = [], table_model.sort_key
    monkeypatch.setattr(table_model, "sort_key",
                        lambda row, column, *albums: keys.append(column) or real_key(row, column, *albums))
    again = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(again)
    rows = [again.table_model.row_at(r) for r in range(again.table_model.rowCount())]
    assert again.table_model.order == (ARTIST, True) and keys == [ARTIST] * len(rows)  # one key per row, once
    monkeypatch.setattr(table_model, "sort_key", real_key)
    assert rows == sorted_rows(rows, ARTIST, True).rows
    again.table.sortByColumn(ARTIST, Qt.SortOrder.AscendingOrder)  # the listener's click still sorts
    assert [again.table_model.row_at(r) for r in range(len(rows))] == sorted_rows(rows, ARTIST, False).rows


def test_search_and_review_filter(qtbot, window):
    scan(qtbot, window)
    window.search.setText('"Track 3"')
    assert window.proxy.rowCount() == 1
    window.search.setText("")
    window.review.setChecked(True)
    assert window.proxy.rowCount() <= len(window.files)


def test_the_status_bar_counts_the_tracks_shown_of_the_librarys(qtbot, window):
    # Nothing said how many tracks a search or a genre left of how many: the sidebar counts genres, not a search.
    scan(qtbot, window)
    total = len(window.files)
    qtbot.waitUntil(lambda: window.track_count.text() == f"{total} tracks", timeout=5_000)
    window.search.setText('"Track 3"')
    qtbot.waitUntil(lambda: window.track_count.text() == f"1 of {total} tracks", timeout=5_000)
    window.search.setText("")
    window.table.selectAll()
    qtbot.waitUntil(lambda: window.track_count.text() == f"{total} tracks · {total} selected", timeout=5_000)
    window.show()
    assert window.track_count.isVisible()
    window.statusBar().showMessage("Saved")  # a message has the bar's left side while it shows
    assert not window.track_count.isVisible()
    window.statusBar().clearMessage()
    assert window.track_count.isVisible()


def test_escape_empties_the_search_and_down_goes_on_to_the_tracks_it_found(qtbot, window, monkeypatch):
    from desktop.ui import main_window

    scan(qtbot, window)
    focused = []
    monkeypatch.setattr(window.table, "setFocus", lambda: focused.append(True))  # offscreen windows get no focus
    monkeypatch.setattr(main_window, "SEARCH_AT_ONCE_ROWS", 2)  # this library counts as large: typing waits
    qtbot.keyClicks(window.search, '"Track 3"')
    qtbot.keyClick(window.search, Qt.Key.Key_Down)  # before the pause: the search is made first
    assert window.proxy.rowCount() == 1 and focused == [True] and not window.search_timer.isActive()
    assert window.table.currentIndex().row() == 0 and window.shown_row(0).title == "Track 3"
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    assert window.search.text() == "" and window.proxy.rowCount() == len(window.files)
    assert window.search.isClearButtonEnabled()


def test_a_large_tables_search_filters_when_typing_pauses_or_at_enter(qtbot, window, monkeypatch):
    # Each keystroke filtered every row: 0.1 s a letter at 100,000 rows, the letters shown late.
    from desktop.ui import main_window

    scan(qtbot, window)
    searched = []
    real = window.proxy.set_search
    monkeypatch.setattr(window.proxy, "set_search", lambda text: (searched.append(text), real(text)))
    monkeypatch.setattr(main_window, "SEARCH_AT_ONCE_ROWS", 2)  # this library counts as large
    qtbot.keyClicks(window.search, '"Track 3')  # a phrase: its closing quote not typed yet
    assert searched == []  # not yet: typing has not paused
    qtbot.waitUntil(lambda: searched == ['"Track 3'], timeout=5_000)  # once, with the whole word
    assert window.proxy.rowCount() == 1
    qtbot.keyClicks(window.search, "x")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)  # Enter: at once
    assert searched == ['"Track 3', '"Track 3x'] and window.proxy.rowCount() == 0
    window.search.clear()  # cleared: every row back at once
    assert searched[-1] == "" and window.proxy.rowCount() == len(window.files)
    qtbot.wait(main_window.SEARCH_PAUSE_MS * 2)
    assert len(searched) == 3  # nothing left pending
    monkeypatch.setattr(main_window, "SEARCH_AT_ONCE_ROWS", 20_000)  # a small table filters on each keystroke
    qtbot.keyClicks(window.search, "Tr")
    assert searched[3:] == ["T", "Tr"]


def test_needs_reviews_album_check_runs_off_the_gui_thread_once_at_a_time(qtbot, window, monkeypatch):
    # The check read every track on the GUI thread: 1.4 s at 100,000 tracks on turning the filter on, and again after
    # every correction made under it.
    from desktop.store import queries

    album = window.files["flac"].parent.parent / "Band - Record"  # one band's album, its songs predicted two genres
    for n, genre in enumerate(("beats", "beats", "noise")):
        make_track(album, f"song {n}", genre, "flac", 3.0, seed=n, tags={"album_artist": "Band", "album": "Record",
                                                                         "artist": "Band", "title": f"Song {n}"})
    scan(qtbot, window)
    real, checks = queries.album_disagreements, []

    def recorded(session, threshold):
        checks.append(threading.current_thread() is threading.main_thread())
        return real(session, threshold)

    monkeypatch.setattr(queries, "album_disagreements", recorded)
    window.review.setChecked(True)
    job = window.album_flags_job
    assert job is not None and window.update_album_flags() is job and window.update_album_flags() is job  # one at a time
    qtbot.waitUntil(lambda: window.album_flags_job is None, timeout=30_000)
    assert checks == [False, False]  # the first, then once more for the two asked meanwhile; both on workers
    with window.sessions() as s:
        assert window.proxy._album_flags == real(s, window.settings.threshold)
    shown = {window.shown_row(r).id for r in range(window.proxy.rowCount())}
    assert window.proxy._album_flags and window.proxy._album_flags <= shown  # flagged: its three songs, under review
    window.update_album_flags(False)  # the filter turned off: nothing to check
    assert window.album_flags_job is None and len(checks) == 2


def test_in_place_correction_writes_the_file(qtbot, window):
    scan(qtbot, window)
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(Qt.ItemDataRole.ToolTipRole).endswith(".flac"))
    assert window.proxy.setData(window.proxy.index(row, GENRE), "Shoegaze", Qt.ItemDataRole.EditRole)
    wait_write(qtbot, window)
    assert read_tags(window.files["flac"]).genres == ("Shoegaze",)
    track_id = window.shown_row(row).id
    window.undo_last()
    wait_write(qtbot, window)
    assert read_tags(window.files["flac"]).genres == ()
    # The correction goes with its write (it stayed, protected, and was written again by the next apply).
    assert window.statusBar().currentMessage() == "Undo done; took back 1 genre set by hand"
    shown = window.table_model.row_at(window.table_model.row_of(track_id))
    assert not shown.corrected and shown.genre != "Shoegaze"


def test_a_genre_set_in_the_window_keeps_the_files_time_when_settings_say_so(qtbot, window):
    scan(qtbot, window)
    old = 1_100_000_000_000_000_000  # 2004
    os.utime(window.files["flac"], ns=(old, old))
    window.settings.keep_times = True  # as Settings' OK leaves it: each write asks the settings anew
    row = next(r for r in range(window.proxy.rowCount()) if window.shown_row(r).path == str(window.files["flac"]))
    assert window.proxy.setData(window.proxy.index(row, GENRE), "Shoegaze", Qt.ItemDataRole.EditRole)
    wait_write(qtbot, window)
    assert read_tags(window.files["flac"]).genres == ("Shoegaze",) and os.stat(window.files["flac"]).st_mtime_ns == old


def test_bulk_correction(qtbot, window):
    scan(qtbot, window)
    ids = [window.table_model.row_at(r).id for r in range(3)]
    window.correct(ids, "Lo-fi")
    wait_write(qtbot, window)
    corrected = [window.table_model.row_at(r) for r in range(window.table_model.rowCount()) if window.table_model.row_at(r).id in ids]
    assert all(r.genre == "Lo-fi" and r.corrected for r in corrected)
    assert all(read_tags(r.path).genres == ("Lo-fi",) for r in corrected)
    assert window.correct([10**6], "Lo-fi") is None and not window.write_busy  # a track gone meanwhile: nothing to write


def drop_on_sidebar(window, row: int, data) -> bool:
    """Drag `data` over the sidebar's row and drop it there, as Qt hands a drag to the view; True when taken."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    viewport, copy = window.sidebar.viewport(), Qt.DropAction.CopyAction
    at = window.sidebar.visualRect(window.genres.index(row)).center()
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(at, copy, data, buttons, keys))
    QApplication.sendEvent(viewport, QDragMoveEvent(at, copy, data, buttons, keys))
    drop = QDropEvent(QPointF(at), copy, data, buttons, keys)
    QApplication.sendEvent(viewport, drop)
    return drop.isAccepted()


def scanned_with_a_genre_shown(qtbot, window) -> tuple[int, str]:
    """Scan the window's library and show the window; the sidebar row of its first genre, and that genre."""
    from desktop.ui.table_model import SIDEBAR_NAMES

    scan(qtbot, window)
    window.resize(1000, 600)
    window.show()
    qtbot.waitExposed(window)
    genre_row = next(r for r in range(1, window.genres.rowCount())
                     if window.genres.index(r).data(GENRE_ROLE) not in SIDEBAR_NAMES)
    genre = window.genres.index(genre_row).data(GENRE_ROLE)
    return genre_row, genre


def test_tracks_dragged_onto_a_sidebar_genre_get_it_journalled(qtbot, window):
    # The sidebar took no drops; now tracks dropped on a genre are corrected to it, as Set Genre… does, one undo step.
    genre_row, genre = scanned_with_a_genre_shown(qtbot, window)
    data = window.proxy.mimeData([window.proxy.index(row, 0) for row in (0, 2)])
    paths, ids = ([getattr(window.shown_row(row), name) for row in (0, 2)] for name in ("path", "id"))
    before = [read_tags(path).genres for path in paths]
    assert not drop_on_sidebar(window, 0, data)  # "All tracks" is no genre
    assert drop_on_sidebar(window, genre_row, data)
    assert not window.write_busy  # the write starts after the drag's end, not inside its event loop
    qtbot.waitUntil(lambda: window.write_busy or window.statusBar().currentMessage().startswith("Set "), timeout=5000)
    wait_write(qtbot, window)
    assert window.statusBar().currentMessage() == f"Set 2 tracks to {genre}"
    assert [read_tags(path).genres for path in paths] == [(genre,), (genre,)]
    assert all(window.table_model.track(i).corrected for i in ids)  # set by hand: labels for learning
    window.undo_last()
    wait_write(qtbot, window)
    assert [read_tags(path).genres for path in paths] == before


def test_files_and_folders_dropped_from_a_file_manager_onto_a_genre_get_it(qtbot, window, tmp_path):
    # Only the table's own tracks could be dropped on a genre: files and folders from a file manager were refused.
    from PySide6.QtCore import QMimeData, QUrl

    from desktop.ui.track_drag import put_track_ids

    genre_row, genre = scanned_with_a_genre_shown(qtbot, window)
    folder = window.files["flac"].parent  # a folder of make_library's: several tracks
    in_folder = [p for p in window.files.values() if p.parent == folder]
    one = next(p for p in window.files.values() if p.parent != folder)
    stranger = make_track(tmp_path / "elsewhere", "stranger", "noise", "flac", 2.0)  # a file the library does not hold

    def dragged(*urls, ids_from=None) -> QMimeData:
        data = QMimeData()
        data.setUrls(list(urls))
        if ids_from:
            put_track_ids(data, ids_from, [1])
        return data

    local = [QUrl.fromLocalFile(str(p)) for p in (folder, one, stranger)]
    assert not drop_on_sidebar(window, 0, dragged(*local))  # "All tracks" is no genre
    assert not drop_on_sidebar(window, genre_row, dragged(*local, ids_from="1:another window"))  # another library's
    assert not drop_on_sidebar(window, genre_row, dragged(QUrl("https://example.com/song.mp3")))
    assert len(in_folder) > 1 and not window.write_busy and not window.errors.count()
    before = {p: read_tags(p).genres for p in [*in_folder, one]}
    assert drop_on_sidebar(window, genre_row, dragged(*local))
    qtbot.waitUntil(lambda: window.write_busy or window.statusBar().currentMessage().startswith("Set "), timeout=5000)
    wait_write(qtbot, window)
    assert window.statusBar().currentMessage() == f"Set {len(in_folder) + 1} tracks to {genre}"
    assert all(read_tags(p).genres == (genre,) for p in before) and read_tags(stranger).genres == ()
    assert [window.errors.item(i).text() for i in range(window.errors.count())] == [
        f"{stranger}: not in the library, so its genre was not set: add its folder first (drop it on the table, or "
        "File → Add Folder…)"]
    window.undo_last()  # one undo step, as for tracks dragged from the table
    wait_write(qtbot, window)
    assert {p: read_tags(p).genres for p in before} == before


def test_review_dialog_writes_only_accepted(qtbot, window):
    from desktop.ui.review_dialog import ReviewDialog

    scan(qtbot, window)
    changes = window.tag_service().plan()
    dialog = ReviewDialog(changes, window)
    qtbot.addWidget(dialog)
    dialog.set_all(False)
    dialog.set_checked(0, True)
    accepted = dialog.accepted_changes()
    assert accepted == [changes[0]]
    window.apply_changes(accepted)
    wait_write(qtbot, window)
    assert read_tags(changes[0].path).genres == changes[0].new
    assert all(read_tags(c.path).genres == () for c in changes[1:])


def test_apply_predicted_plans_off_the_gui_thread_then_asks(qtbot, window, monkeypatch):
    import threading

    from desktop.services.tagging import TagService
    from desktop.ui.review_dialog import ReviewDialog

    scan(qtbot, window)
    planned_on, shown = [], []
    real_plan = TagService.plan
    monkeypatch.setattr(TagService, "plan", lambda self, *a, **k: (planned_on.append(threading.current_thread()), real_plan(self, *a, **k))[1])
    monkeypatch.setattr(ReviewDialog, "exec", lambda self: (shown.append(len(self.changes)), ReviewDialog.DialogCode.Accepted)[1])
    job = window.review_and_apply()
    assert job is not None and window.review_and_apply() is None  # one plan at a time
    qtbot.waitUntil(lambda: window.plan_job is None and not window.write_busy, timeout=30_000)
    assert planned_on and planned_on[0] is not threading.main_thread()
    assert shown == [len(window.files)]  # every file untagged: all of them planned, all accepted and written
    assert all(read_tags(p).genres for p in window.files.values())
    window.review_and_apply()  # nothing left to write under fill
    qtbot.waitUntil(lambda: window.plan_job is None, timeout=30_000)
    assert shown == [len(window.files)] and window.statusBar().currentMessage() == "Nothing to write under the current policy"


def test_apply_predicted_leaves_a_drive_not_connected_for_when_it_is(qtbot, window, tmp_path, monkeypatch):
    # Its tracks stay in view, with their predictions: Apply offered them, and each write failed "file not found".
    from desktop.ui.review_dialog import ReviewDialog

    usb = tmp_path / "usb"
    stick = [make_track(usb / "Band", f"song {n}", "beats", "flac", 3.0, seed=n) for n in (1, 2)]
    window.settings.folders = [*window.settings.folders, str(usb)]
    shown = []
    monkeypatch.setattr(ReviewDialog, "exec", lambda self: (shown.append(sorted(c.path for c in self.changes)),
                                                            ReviewDialog.DialogCode.Rejected)[1])
    scan(qtbot, window)
    usb.rename(tmp_path / "away")  # unplugged
    window.review_and_apply()
    qtbot.waitUntil(lambda: window.plan_job is None and len(shown) == 1, timeout=30_000)
    assert shown[0] == sorted(map(str, window.files.values()))
    assert window.statusBar().currentMessage() == f"2 tracks on a drive not connected ({usb}) wait: connect it and Apply again"
    (tmp_path / "away").rename(usb)
    window.review_and_apply()
    qtbot.waitUntil(lambda: window.plan_job is None and len(shown) == 2, timeout=30_000)
    assert shown[1] == sorted([*map(str, window.files.values()), *map(str, stick)])


def test_a_genre_set_on_a_track_of_a_drive_not_connected_stands_and_is_written_once_it_is_back(qtbot, window, tmp_path,
                                                                                                monkeypatch):
    from desktop.ui.review_dialog import ReviewDialog
    from desktop.ui.table_model import AWAY_TIP
    from desktop.ui.write_actions import AWAY_UNWRITTEN

    usb = tmp_path / "usb"
    song = make_track(usb / "Band", "song", "beats", "flac", 3.0, seed=1)
    window.settings.folders = [*window.settings.folders, str(usb)]
    scan(qtbot, window)
    usb.rename(tmp_path / "away")
    scan(qtbot, window)  # as at the window's start: greyed
    track_id = next(r.id for r in window.table_model.all_rows() if r.path == str(song))
    window.show_track(track_id)
    assert AWAY_TIP in window.details.heading.text()  # as its greyed row's tooltip says
    window.correct([track_id], "Krautrock")
    wait_write(qtbot, window)
    assert [window.errors.item(i).text() for i in range(window.errors.count())][-1] == f"{song}: {AWAY_UNWRITTEN}"
    assert window.table_model.track(track_id).genre == "Krautrock"
    (tmp_path / "away").rename(usb)
    monkeypatch.setattr(ReviewDialog, "exec", lambda self: ReviewDialog.DialogCode.Accepted)
    window.settings.policy = "never"  # as the message says: written whatever the policy
    window.show_track(track_id)
    window.review_and_apply_selection()
    qtbot.waitUntil(lambda: window.plan_job is None, timeout=30_000)
    wait_write(qtbot, window)
    assert read_tags(song).genres == ("Krautrock",)


def test_a_music_folder_renamed_away_says_settings_takes_it_off(qtbot, window, tmp_path):
    # ~/Music renamed ~/Musik, both in Settings: "~/Music: no such file or folder" at every scan, and nothing said of
    # what ends it.
    gone = str(tmp_path / "Music renamed away")
    window.settings.folders = [*window.settings.folders, gone]
    scan(qtbot, window)
    problems = [window.errors.item(i).text() for i in range(window.errors.count())]
    assert f"{gone}: no such file or folder now (renamed or removed?); Settings takes it off your music folders" in problems


def test_an_undo_of_a_write_to_a_drive_not_connected_names_the_drive_and_says_it_restored_nothing(qtbot, window, tmp_path):
    # It said "Undo done", and Problems said the genre was set and Apply would write it once the drive was back.
    usb = tmp_path / "usb"
    song = make_track(usb / "Band", "song", "beats", "flac", 3.0, seed=1)
    window.settings.folders = [*window.settings.folders, str(usb)]
    scan(qtbot, window)
    track_id = next(r.id for r in window.table_model.all_rows() if r.path == str(song))
    window.correct([track_id], "Krautrock")
    wait_write(qtbot, window)
    usb.rename(tmp_path / "away")
    usb.mkdir()  # its mount point, left empty
    scan(qtbot, window)  # greyed
    window.undo_last()
    wait_write(qtbot, window)
    assert window.errors.item(window.errors.count() - 1).text() == (f"{song}: on a drive not connected ({usb}): connect "
                                                                    "it and undo again")
    assert window.statusBar().currentMessage() == ("Undo done: restored 0 files, refused 1 (named in Problems; undo "
                                                   "again once they can be)")
    usb.rmdir()
    (tmp_path / "away").rename(usb)
    window.undo_last()
    wait_write(qtbot, window)
    assert read_tags(song).genres == () and window.statusBar().currentMessage().startswith("Undo done; took back 1 genre")


def test_the_review_names_predictions_against_your_albums_and_turns_one_genre_per_album_on_then_reviews_again(
        qtbot, window, monkeypatch):
    from desktop.ui.review_dialog import ReviewDialog

    album = Path(window.settings.folders[0]) / "Band - Record"
    ost = [make_track(album, f"0{n} song", "beats", "flac", 3.0, seed=n,
                      tags={"artist": "Band", "album": "Record", **({"genre": "Soundtrack"} if n < 2 else {})})
           for n in range(4)]
    untagged = {str(p) for p in ost[2:]}
    shown = []

    def review(dialog):  # the first review: One Genre per Album instead; the next: look, write nothing
        shown.append(({c.path: c.new for c in dialog.changes if c.path in untagged},
                      dialog.albums_note and dialog.albums_note.text()))
        if len(shown) == 1:
            dialog.albums_button.click()
        return ReviewDialog.DialogCode.Rejected

    monkeypatch.setattr(ReviewDialog, "exec", review)
    scan(qtbot, window)
    window.review_and_apply()
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=30_000)
    first, second = shown
    assert len(first[0]) == 2 and ("Soundtrack",) not in first[0].values()
    assert first[1] == ("2 tracks are given another genre than the one you gave their album (Record: Soundtrack); "
                        "with one genre per album they take their album's.")
    assert window.album_genres_action.isChecked()
    assert second == ({p: ("Soundtrack",) for p in untagged}, None)  # now their album's, and nothing more to say
    assert all(read_tags(p).genres == () for p in window.files.values())  # nothing written meanwhile
    qtbot.waitUntil(lambda: window.albums_job is None and window.plan_job is None, timeout=30_000)


def test_apply_predicted_asks_about_spoken_word_first_and_offers_only_what_the_answer_allows(qtbot, window, monkeypatch):
    # After Ask Later, Apply Predicted Genres offered an audiobook's chapters a music genre among the rest.
    import desktop.ui.scan_actions as scan_actions
    from desktop.ui.review_dialog import ReviewDialog

    music = Path(window.settings.folders[0])
    books = [make_track(music / "Audiobooks" / "Dune", f"chapter {n}", "noise", "flac", 3.0, seed=n) for n in (1, 2)]
    pods = make_track(music / "Podcasts" / "Show", "episode", "noise", "flac", 3.0, seed=3)
    answers = iter([None, None, ([str(music / "Audiobooks")], [str(music / "Podcasts")])])
    asked, shown = [], []
    monkeypatch.setattr(scan_actions, "ask_about_spoken_word",
                        lambda parent, folders: asked.append([f.path for f in folders]) or next(answers))
    monkeypatch.setattr(ReviewDialog, "exec", lambda self: (shown.append([c.path for c in self.changes]),
                                                            ReviewDialog.DialogCode.Rejected)[1])
    scan(qtbot, window)
    qtbot.waitUntil(lambda: len(asked) == 1)  # after the scan: Ask Later
    window.review_and_apply()
    qtbot.waitUntil(lambda: window.plan_job is None and len(shown) == 1, timeout=30_000)
    assert len(asked) == 2  # asked again: the listener wants to write
    assert sorted(shown[0]) == sorted(map(str, window.files.values()))  # Ask Later: neither folder offered
    assert "3 tracks in folders that look like spoken word wait for your answer" in window.statusBar().currentMessage()
    window.review_and_apply()
    qtbot.waitUntil(lambda: window.plan_job is None and len(shown) == 2, timeout=30_000)
    assert sorted(shown[1]) == sorted([*map(str, window.files.values()), str(pods)])  # kept as music: offered
    assert not any(str(b) in shown[1] for b in books)  # left out: not
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=60_000)  # the scan that leaves it out
    window.review_and_apply()
    qtbot.waitUntil(lambda: window.plan_job is None and len(shown) == 3, timeout=30_000)
    assert len(asked) == 3 and shown[2] == shown[1]  # answered: not asked again
    qtbot.waitUntil(lambda: window.watch_job is None, timeout=30_000)


def test_a_folder_without_music_says_what_music_is(qtbot, window, tmp_path):
    empty = tmp_path / "Documents"
    empty.mkdir()
    window.settings.folders = [str(empty)]
    scan(qtbot, window)
    assert window.progress_label.text().startswith("Scan done: no music files found (Genre Tagger reads .aac .ac3 .aif")


def test_cancel_during_scan(qtbot, window, monkeypatch):
    import desktop.core.analysis as analysis

    real_decode = analysis.Analyzer.decode

    def slow_decode(self, path):
        time.sleep(0.4)
        return real_decode(self, path)

    monkeypatch.setattr(analysis.Analyzer, "decode", slow_decode)
    window.start_scan()
    qtbot.wait(700)  # the folder walk is done; tracks are being decoded
    window.cancel_scan()
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=30_000)
    assert "cancelled" in window.progress_label.text()
    analysed = sum(1 for r in range(window.table_model.rowCount()) if window.table_model.row_at(r).status != "new")
    assert analysed < len(window.files)


def test_a_scan_says_how_far_its_walk_is_and_its_reading_of_tags_again(qtbot, window, monkeypatch):
    # Before any analysis a first scan hashes every file (and an update reads album tags again): the window
    # said only "Looking for music…" for minutes on a large library.
    import desktop.services.library as library
    from desktop.store.schema import Meta

    real_hash, real_read = library.audio_hash, library.read_tags
    monkeypatch.setattr(library, "audio_hash", lambda *a: (time.sleep(0.3), real_hash(*a))[1])
    window.start_scan()
    qtbot.waitUntil(lambda: re.fullmatch(r"Looking for music… [1-9]\d* files? so far( · \d+/s)?",
                                         window.progress_label.text()) is not None, timeout=30_000)
    window.cancel_scan()
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=30_000)
    assert "cancelled" in window.progress_label.text()  # not a walk's report queued before the cancel
    monkeypatch.setattr(library, "audio_hash", real_hash)
    scan(qtbot, window)
    with window.sessions() as s:
        s.merge(Meta(key=library.TAGS_READ_BY, value="2"))
        s.commit()
    monkeypatch.setattr(library, "read_tags", lambda *a: (time.sleep(0.3), real_read(*a))[1])
    window.start_scan()
    qtbot.waitUntil(lambda: re.fullmatch(r"Reading tags again \(once\)… \d+ / [1-9]\d* tracks.*",
                                         window.progress_label.text()) is not None, timeout=30_000)
    assert window.progress.maximum() > 0
    window.cancel_scan()
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=30_000)


def test_event_loop_keeps_turning_during_a_scan(qtbot, window, monkeypatch):
    import desktop.core.analysis as analysis

    real_decode = analysis.Analyzer.decode
    monkeypatch.setattr(analysis.Analyzer, "decode", lambda self, p: (time.sleep(0.2), real_decode(self, p))[1])
    ticks = []
    from PySide6.QtCore import QTimer

    timer = QTimer(interval=20, timeout=lambda: ticks.append(time.monotonic()))
    timer.start()
    started = time.monotonic()
    scan(qtbot, window)
    timer.stop()
    elapsed = time.monotonic() - started
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert elapsed > 0.5 and len(ticks) > elapsed / 0.02 * 0.3  # the GUI thread kept serving its timer
    assert max(gaps) < 1.0


JOB_OUTLIVES_ITS_WINDOW = """
import sys, threading, time
import shiboken6
from PySide6.QtWidgets import QApplication, QDialog
from desktop.ui.workers import Job, finish_jobs, start_job

app = QApplication(sys.argv[:1])
seen = []

def slow(_report, cancel):  # a scan's shape: stops when cancelled, else runs for a while
    for _ in range(200):
        if cancel.wait(0.01):
            seen.append("cancelled")
            return None
    seen.append("ran out")

dialog = QDialog()
job = Job(slow, "slow")
job.finished.connect(dialog.close)  # a receiver that will be gone
start_job(job)
time.sleep(0.2)
shiboken6.delete(dialog)  # the window goes while its job runs
if sys.argv[1] == "finish":
    finish_jobs()  # what the app does when its event loop ends
else:
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    finish_jobs()  # the thread may still be winding down; the app waits for it before it goes
print(seen)
"""


@pytest.mark.parametrize("how, outcome", [("wait", "['ran out']"), ("finish", "['cancelled']")])
def test_a_job_outlives_the_window_that_started_it(tmp_path, how, outcome):
    """Closing a window (or the app) while its job runs used to abort the process ('QThread: Destroyed while
    thread is still running'); the job now runs on, or is cancelled and waited for when the app quits."""
    import os
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", JOB_OUTLIVES_ITS_WINDOW, how], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0 and "Destroyed while thread" not in proc.stderr, proc.stderr
    assert proc.stdout.strip() == outcome


def test_a_finished_job_is_not_deleted_while_its_thread_still_runs(qtbot):
    # The window's finished slot dropped the last reference to the job, so Python deleted it from the
    # GUI thread while its own thread still unwound from run(): now and then a segfault in the suite.
    import gc
    import weakref

    import shiboken6
    from PySide6.QtCore import QObject

    from desktop.ui.workers import background

    seen = {}

    class Window(QObject):
        def done(self, _result):
            job = weakref.ref(self.job)
            self.job = None  # as the window does
            gc.collect()
            seen["kept"] = job() is not None and shiboken6.isValid(job())
            seen["job"] = job

        def failed(self, message):
            seen["failed"] = message

    window = Window()
    window.job = background(lambda: 42, "quick", window.done, window.failed)
    qtbot.waitUntil(lambda: "kept" in seen, timeout=10_000)
    assert seen["kept"]  # alive while its thread winds down
    gc.collect()
    qtbot.waitUntil(lambda: (gc.collect() or True) and seen["job"]() is None, timeout=10_000)  # and freed after


def test_workers_never_touch_widgets(qtbot, window):
    """Every widget call a scan or a write leads to happens on the GUI thread."""
    main_thread = threading.current_thread()
    seen = []

    def watch(obj, name):
        real = getattr(obj, name)

        def spy(*args):
            seen.append((name, threading.current_thread() is main_thread))
            return real(*args)

        setattr(obj, name, spy)  # on the instance: the signal connections stay as they are

    watch(window.progress, "setValue")
    watch(window.progress_label, "setText")
    watch(window.table_model, "set_rows")
    watch(window.table_model, "merge_rows")  # what a scan's end and a write call now, in place of set_rows
    watch(window.statusBar(), "showMessage")
    scan(qtbot, window)
    window.apply_changes(window.tag_service().plan())
    wait_write(qtbot, window)
    assert {"setValue", "setText", "merge_rows", "showMessage"} <= {name for name, _ in seen}
    assert all(ok for _, ok in seen), seen


def test_bad_model_shows_a_problem_not_a_crash(qtbot, window, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_text("nope")
    window.settings.model_path = str(bad)
    window.start_scan()
    assert window.scan_job is None
    assert "bad.onnx" in window.errors.item(0).text()


def test_window_remembers_its_size(qtbot, window, tmp_path):
    window.resize(640, 480)  # within the offscreen screen, which clamps larger windows
    window.close()
    second = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (640, 480)


def test_a_row_without_a_title_shows_its_file_name_and_error():
    from desktop.ui.table_model import STATUS, TITLE

    model = LibraryTableModel()
    model.set_rows([TrackRow(1, "/m/broken song.flac", "", "", "", "", "", "", None, False, "error", "cannot read tags (bad header)")])
    assert model.index(0, TITLE).data() == "broken song.flac" and model.index(0, STATUS).data() == "error"
    assert "cannot read tags (bad header)" in model.index(0, TITLE).data(Qt.ItemDataRole.ToolTipRole)


def test_uncertain_predictions_are_counted_and_filtered_apart():
    from desktop.ui.table_model import UNCERTAIN_ITEM, GenreListModel, LibraryFilter

    rows = [TrackRow(1, "/m/1.mp3", "sure", "", "", "", "rock", "rock", 0.9, False, "analysed", ""),
            TrackRow(2, "/m/2.mp3", "unsure", "", "", "", "rock", "rock", 0.3, False, "uncertain", ""),
            TrackRow(3, "/m/3.mp3", "fixed", "", "", "", "rock", "jazz", 0.3, True, "corrected", "")]
    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows(rows)
    proxy.set_genre("rock")
    assert sorted(proxy.index(r, 0).data() for r in range(proxy.rowCount())) == ["fixed", "sure"]
    proxy.set_genre(UNCERTAIN_ITEM)
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["unsure"]
    proxy.set_threshold(0.2)  # a lower threshold makes it confident
    assert proxy.rowCount() == 0
    sidebar = GenreListModel()
    sidebar.set_counts([("rock", 2), (UNCERTAIN_ITEM, 1)], 4)
    assert [sidebar.index(r, 0).data() for r in range(3)] == ["All tracks  (4)", "rock  (2)", "Uncertain  (1)"]


def test_the_sidebar_counts_and_shows_a_genre_in_any_spelling_and_among_several(tmp_path):
    # A correction typed "jazz" was a second "jazz" entry beside the predicted "Jazz", a track of "Rock; Jazz"
    # was under neither, and "All tracks" added up the genres (not the tracks the table shows).
    from desktop.store.schema import Track
    from desktop.ui.table_model import (
        NO_GENRE_ITEM,
        UNCERTAIN_ITEM,
        GenreListModel,
        LibraryFilter,
        load_genre_counts,
        load_rows,
    )

    sessions = open_database(tmp_path / "counts.db")
    with sessions() as s, s.begin():
        for n, (genre, corrected, confidence) in enumerate([("Jazz", None, 0.9), ("Jazz", None, 0.8), ("jazz", "jazz", None),
                                                            ("Rock; Jazz", "Rock; Jazz", None), ("Rock", None, 0.3),
                                                            (None, None, None)]):
            s.add(Track(path=f"/m/{n}.mp3", folder="/m", size=1, mtime_ns=1, audio_hash=f"h{n}", format="mp3", genre=genre,
                        corrected_genre=corrected, predicted_genre=None if corrected else genre, confidence=confidence))
    counts, total = load_genre_counts(sessions)
    # The track with no genre at all (not analysed, unreadable, unlike the library's genres) was in no entry but
    # "All tracks": it has its own now, as list --counts says.
    assert counts == [("Jazz", 4), ("Rock", 1), (UNCERTAIN_ITEM, 1), (NO_GENRE_ITEM, 1)] and total == 6
    sidebar = GenreListModel()
    sidebar.set_counts(counts, total)
    assert [sidebar.index(r, 0).data() for r in range(5)][3:] == ["Uncertain  (1)", "No genre  (1)"]
    assert sidebar.row_of(NO_GENRE_ITEM) == 4
    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows(load_rows(sessions))
    proxy.set_genre("Jazz")
    assert sorted(proxy.index(r, 0).data() for r in range(proxy.rowCount())) == ["0.mp3", "1.mp3", "2.mp3", "3.mp3"]
    proxy.set_genre("Rock")  # the uncertain Rock stays under Uncertain
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["3.mp3"]
    proxy.set_genre(NO_GENRE_ITEM)
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["5.mp3"]


def test_the_sidebar_lists_apart_the_genres_only_the_files_tags_name_and_shows_their_tracks_by_tag():
    # Before Learn My Genres, a library tagged Soundtrack showed those tracks under the model's genres (Jazz, Rock…)
    # and "Soundtrack" nowhere in the sidebar: the listener could not browse their own genre.
    from PySide6.QtCore import QMimeData, QUrl

    from desktop.ui.table_model import GenreListModel, LibraryFilter, tag_only_genres

    def row(n, file_genre, genre, confidence=0.9):
        return TrackRow(n, f"/m/{n}.mp3", f"t{n}", "", "", file_genre, genre, genre, confidence, False, "analysed", "")

    rows = [row(1, "Soundtrack", "Jazz"), row(2, "soundtrack; Ambient", "Rock"), row(3, "OST", "Jazz", 0.2),
            row(4, "Unknown", "Jazz"), row(5, "Jazz", "Rock"), row(6, "Game", "Jazz"), row(7, "", "Jazz")]
    # The listener merged OST into Soundtrack; Jazz is shown by tracks, Unknown names no genre.
    spellings = {"soundtrack": "Soundtrack", "ost": "Soundtrack", "ambient": "Ambient", "jazz": "Jazz"}
    tagged = tag_only_genres(rows, spellings)
    assert tagged == [("Soundtrack", 3, frozenset({"Soundtrack", "soundtrack; Ambient", "OST"})),
                      ("Ambient", 1, frozenset({"soundtrack; Ambient"})), ("Game", 1, frozenset({"Game"}))]
    sidebar = GenreListModel()
    sidebar.drops_from = "window"
    sidebar.set_counts([("Jazz", 4), ("Rock", 2)], 7, tagged)
    entries = [sidebar.index(r, 0) for r in range(sidebar.rowCount())]
    assert [e.data() for e in entries] == ["All tracks  (7)", "Jazz  (4)", "Rock  (2)", "Soundtrack  (3 tagged)",
                                           "Ambient  (1 tagged)", "Game  (1 tagged)"]
    soundtrack = entries[3]
    assert soundtrack.data(Qt.ItemDataRole.FontRole).italic() and not entries[1].data(Qt.ItemDataRole.FontRole)
    assert soundtrack.data(Qt.ItemDataRole.ToolTipRole).startswith("3 tracks whose own tags say Soundtrack; no track "
                                                                   "shows it")
    item = soundtrack.data(GENRE_ROLE)
    assert sidebar.row_of(item.replace("Soundtrack", "SOUND TRACK")) == 3 and sidebar.row_of("Soundtrack") is None
    # Files dropped on it are given the genre, as on any genre.
    dropped = QMimeData()
    dropped.setUrls([QUrl.fromLocalFile("/m/6.mp3")])
    got = []
    sidebar.files_dropped.connect(lambda paths, genre: got.append((paths, genre)))
    assert sidebar.dropMimeData(dropped, Qt.DropAction.CopyAction, -1, -1, soundtrack) and got[0][1] == "Soundtrack"
    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows(rows)
    proxy.set_genre(item, sidebar.tag_values(item))
    assert sorted(proxy.index(r, 0).data() for r in range(proxy.rowCount())) == ["t1", "t2", "t3"]  # uncertain too
    assert sidebar.tag_values(entries[1].data(GENRE_ROLE)) is None


def test_a_genre_name_too_long_for_the_sidebar_is_cut_in_its_middle_and_keeps_its_count_in_sight(qtbot, window):
    # A corrupt tag of thousands of characters gave the sidebar a sideways scroll bar, and its count was out of sight.
    from desktop.ui.table_model import LONG_SIDEBAR_NAME, SIDEBAR_NAME, GenreListModel

    corrupt, long = "Weird" + "x" * 5000, "Contemporary Christian Worship Music"
    sidebar = GenreListModel()
    sidebar.set_counts([(long, 4), ("Jazz", 2)], 7, [(corrupt, 1, frozenset({corrupt}))])
    entries = [sidebar.index(r, 0) for r in range(sidebar.rowCount())]
    assert entries[1].data() == f"{long}  (4)" and entries[1].data(Qt.ItemDataRole.ToolTipRole) == long
    assert len(long) > LONG_SIDEBAR_NAME and entries[2].data(Qt.ItemDataRole.ToolTipRole) is None  # "Jazz" needs none
    tagged = entries[3].data()
    assert tagged == "Weird" + "x" * (SIDEBAR_NAME - 6) + "…  (1 tagged)"  # never laid out whole by Qt
    assert len(entries[3].data(Qt.ItemDataRole.ToolTipRole)) < 500
    assert entries[3].data(GENRE_ROLE).endswith(corrupt)  # what the entry filters by stays whole

    write_genres(window.files["flac"], [corrupt])
    scan(qtbot, window)
    window.resize(1000, 600)
    window.show()
    qtbot.waitExposed(window)
    assert any(window.genres.index(r, 0).data().endswith("…  (1 tagged)") for r in range(window.genres.rowCount()))
    assert window.sidebar.textElideMode() == Qt.TextElideMode.ElideMiddle  # the count, at the end, stays in sight
    assert not window.sidebar.horizontalScrollBar().isVisible()


def test_under_needs_review_each_row_says_why_when_hovered():
    from desktop.ui.table_model import LibraryFilter

    rows = [TrackRow(1, "/m/1.mp3", "unsure", "", "", "", "rock", "rock", 0.3, False, "uncertain", ""),
            TrackRow(2, "/m/2.mp3", "tagged", "", "", "Heavy Metal", "metal", "metal", 0.9, False, "analysed", ""),
            TrackRow(3, "/m/3.mp3", "album", "", "X", "", "jazz", "jazz", 0.9, False, "analysed", ""),
            TrackRow(4, "/m/4.mp3", "fine", "", "", "Hip-Hop", "hiphop", "hiphop", 0.9, False, "analysed", "")]
    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows(rows)
    proxy.set_album_flags({3})
    proxy.set_review_only(True)
    tips = {proxy.index(r, 0).data(): proxy.index(r, 4).data(Qt.ItemDataRole.ToolTipRole) for r in range(proxy.rowCount())}
    assert tips == {"unsure": "/m/1.mp3\nTo review: uncertain", "tagged": "/m/2.mp3\nTo review: file says Heavy Metal",
                    "album": "/m/3.mp3\nTo review: album's genres differ"}  # Hip-Hop is the model's hiphop: agrees
    proxy.set_review_only(False)
    unsure = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data() == "unsure")
    assert proxy.index(unsure, 0).data(Qt.ItemDataRole.ToolTipRole) == "/m/1.mp3"


def test_app_settings_hand_every_tagging_option_to_the_services(tmp_path):
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    settings.multi_threshold, settings.id3_separator, settings.write_provenance, settings.id3_version = 0.4, " / ", True, 3
    settings.keep_times = True
    settings.save()
    tagging = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)).tagging()
    assert (tagging.multi_threshold, tagging.id3_separator, tagging.write_provenance, tagging.id3_version) == (0.4, " / ", True, 3)
    assert tagging.keep_times and tagging.tag_options().keep_times


def test_a_settings_file_with_bad_values_opens_with_defaults_and_names_them(tmp_path, caplog):
    # threshold=abc in a hand-edited settings.ini stopped the app before its window opened (ValueError).
    ini = tmp_path / "s.ini"
    ini.write_text("[General]\nthreshold=abc\npolicy=zap\nmulti_threshold=7\nid3_version=9\nmodel_path=/m.onnx\n")
    settings = AppSettings(QSettings(str(ini), QSettings.Format.IniFormat))
    assert (settings.threshold, settings.policy, settings.multi_threshold, settings.id3_version) == (0.5, "fill", 0.25, 0)
    assert settings.model_path == "/m.onnx" and settings.tagging().threshold == 0.5  # good lines are kept
    assert f"{ini}: setting threshold='abc' is not usable; using 0.5" in caplog.text
    assert all(f"setting {name}=" in caplog.text for name in ("policy", "multi_threshold", "id3_version"))


def test_a_settings_file_that_is_music_or_not_settings_is_refused_untouched(qtbot, tmp_path, monkeypatch):
    # `genre-tagger-gui --settings song.mp3` opened the song as INI and Qt wrote "[General]..." over it on saving.
    from PySide6.QtWidgets import QMessageBox

    from desktop.ui.app import check_settings_file, main

    said = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: said.append(text))
    song, notes = tmp_path / "song.mp3", tmp_path / "notes"
    song.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00music")
    notes.write_text("my shopping list\nmilk=2\n")
    for path, reason in ((song, "is an audio file's name; a settings file never replaces music"),
                         (notes, "exists and is not a settings file; not overwriting it")):
        assert main(["--settings", str(path), "--db", str(tmp_path / "lib.db")]) == 2
        assert said.pop() == f"{path}: {reason}"
    assert song.read_bytes() == b"ID3\x04\x00\x00\x00\x00\x00\x00music" and notes.read_text() == "my shopping list\nmilk=2\n"
    assert not (tmp_path / "lib.db").exists()
    for fine in ("[General]\nfolders=/m\n", "", "; comment\n", "policy=fill\n"):  # settings, or empty: used
        (tmp_path / "s.ini").write_text(fine)
        check_settings_file(str(tmp_path / "s.ini"))
    check_settings_file(str(tmp_path / "new" / "settings.conf"))  # a new file, any name


@pytest.mark.parametrize("option", ["--folder", "--db", "--settings", "--model"])
def test_the_window_refuses_an_empty_path_on_its_command_line(capsys, option):
    # `genre-tagger-gui --folder "$DIR"` with $DIR unset added the current folder as a music folder and scanned it.
    from desktop.ui.app import parse_args

    with pytest.raises(SystemExit) as stop:
        parse_args([option, ""])
    assert stop.value.code == 2
    assert f"argument {option}: an empty path names no file or folder" in capsys.readouterr().err
    assert parse_args([option, "x"]) is not None


def test_folders_on_the_windows_command_line_are_kept_absolute_and_a_non_folder_is_named(tmp_path, monkeypatch):
    # `genre-tagger-gui --folder Music` kept "Music" in the settings: opened from another folder, it meant another
    # folder; a mistyped one was kept and failed every scan after.
    from desktop.ui.app import folders_given

    (tmp_path / "Music").mkdir()
    (tmp_path / "song.mp3").write_bytes(b"ID3")
    monkeypatch.chdir(tmp_path)
    assert folders_given(["Music", "song.mp3", "Musik"]) == (
        [str(tmp_path / "Music")], [(str(tmp_path / "song.mp3"), "not a folder; --folder takes a music folder"),
                                    (str(tmp_path / "Musik"), "no such folder")])


def test_the_window_keeps_its_command_lines_folder_and_model_as_absolute_paths(qtbot, tmp_path, monkeypatch,
                                                                              exported_model):
    import shutil

    from PySide6.QtWidgets import QApplication

    from desktop.ui import app
    from desktop.ui.main_window import MainWindow

    (tmp_path / "Music").mkdir()
    shutil.copy(exported_model, tmp_path / "mine.onnx")
    monkeypatch.chdir(tmp_path)
    shown = []
    monkeypatch.setattr(MainWindow, "show", lambda window: shown.append(window))
    monkeypatch.setattr(QApplication, "exec", lambda self: qtbot.wait(200) or 0)  # the folder added, then closed
    ini = tmp_path / "settings.ini"
    assert app.main(["--settings", str(ini), "--db", str(tmp_path / "lib.db"), "--folder", "Music", "--folder",
                     "Musik", "--model", "mine.onnx"]) == 0
    kept = AppSettings(QSettings(str(ini), QSettings.Format.IniFormat))
    assert kept.folders == [str(tmp_path / "Music")] and kept.model_path == str(tmp_path / "mine.onnx")
    lines = [shown[0].errors.item(i).text() for i in range(shown[0].errors.count())]
    assert f"{tmp_path / 'Musik'}: no such folder" in lines
    shown[0].close()
    assert app.main(["--settings", str(ini), "--db", str(tmp_path / "lib.db"), "--model", "mine.onxx"]) == 0  # a typo
    assert AppSettings(QSettings(str(ini), QSettings.Format.IniFormat)).model_path == str(tmp_path / "mine.onnx")
    lines = [shown[1].errors.item(i).text() for i in range(shown[1].errors.count())]
    assert f"{tmp_path / 'mine.onxx'}: no such model file; the model Settings names is used" in lines
    shown[1].close()


def test_settings_can_go_back_to_the_default_model(qtbot, tmp_path):
    # Once a model was chosen, only editing settings.ini brought back the automatic choice
    # (the library's learned model, else the shipped one).

    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    settings.model_path = str(tmp_path / "chosen.onnx")
    dialog = SettingsDialog(settings, lambda path: f"described {path or 'default'}")
    qtbot.addWidget(dialog)
    assert dialog.default_model.isEnabled()
    dialog.default_model.click()
    assert dialog.model_info.text() == "described default" and not dialog.default_model.isEnabled()
    dialog.apply()
    assert AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)).model_path == ""


def test_settings_choices_say_what_they_do_and_store_the_setting(qtbot, tmp_path):
    # The policy and device lists showed the settings' own words ("fill", "auto").
    from desktop.services.settings import POLICIES
    from desktop.ui.dialogs import POLICY_CHOICES, SettingsDialog

    assert [value for _text, value in POLICY_CHOICES] == list(POLICIES)
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    settings.policy, settings.device = "replace", "cpu"
    dialog = SettingsDialog(settings, lambda path: "")
    qtbot.addWidget(dialog)
    assert dialog.policy.currentText() == "Replace: every file's genre" and dialog.device.currentText() == "CPU"
    dialog.policy.setCurrentIndex(dialog.policy.findData("never"))
    assert dialog.watch.isChecked() and not dialog.keep_times.isChecked()
    assert dialog.provenance.isChecked()  # on unless turned off: a library made again knows Genre Tagger's guesses
    dialog.watch.setChecked(False)
    dialog.keep_times.setChecked(True)
    dialog.provenance.setChecked(False)
    from PySide6.QtWidgets import QFileDialog

    for _ in range(2):  # the same folder chosen twice is listed once
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
            dialog._add_folder()
    dialog.apply()
    stored = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert (stored.policy, stored.device, stored.folders, stored.watch_folders) == ("never", "cpu", [str(tmp_path)], False)
    assert stored.keep_times and stored.tagging().keep_times
    assert not stored.write_provenance and not stored.tagging().tag_options().write_provenance


def test_the_provenance_field_is_on_for_a_listener_whose_older_settings_stored_it_off_unasked(tmp_path):
    # Before Settings had its checkbox, every save stored the old default (off): no listener chose it, and the new
    # default (on: a library made again never learns Genre Tagger's guesses) must reach them.
    ini = tmp_path / "s.ini"
    ini.write_text("[General]\nwrite_provenance=false\nkeep_times=true\n", encoding="utf-8")
    settings = AppSettings(QSettings(str(ini), QSettings.Format.IniFormat))
    assert settings.write_provenance and settings.keep_times
    settings.write_provenance = False  # chosen in Settings now: kept
    settings.save()
    assert not AppSettings(QSettings(str(ini), QSettings.Format.IniFormat)).write_provenance


def test_library_map_selects_tracks_and_corrects_a_region(qtbot, window, monkeypatch):
    scan(qtbot, window)
    window.update_map()  # what showing the dock does in a shown window (View > Library Map)
    qtbot.waitUntil(lambda: window.map_job is None and window.map_view.map is not None, timeout=30_000)
    library_map = window.map_view.map
    assert len(library_map) == len(window.files)
    first = int(library_map.track_ids[0])
    window.map_view.track_clicked.emit(first)
    assert window.selected_track_ids() == [first]
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("Drone", True))
    region = [int(i) for i in library_map.track_ids[:2]]
    window.map_view.tracks_selected.emit(region)
    wait_write(qtbot, window)
    from desktop.store.schema import Track

    with window.sessions() as s:
        assert {s.get(Track, i).corrected_genre for i in region} == {"Drone"}
        paths = [s.get(Track, i).path for i in region]
    assert all(read_tags(p).genres == ("Drone",) for p in paths)  # written, journalled: undoable like every write


def test_a_preview_starts_in_the_middle_and_a_new_one_is_timed_afresh(qtbot, tmp_path):
    from desktop.ui.preview import Preview
    from tests.audio_files import make_track

    track = make_track(tmp_path, "long", "tones", "mp3", 30.0)
    preview = Preview(seconds=4)
    preview.play(str(track), 30.0)
    qtbot.waitUntil(lambda: preview.player.position() > 0, timeout=15_000)
    assert preview.player.position() >= 14_000  # a seek before the media loaded was dropped: it played from 0
    assert preview.is_playing(str(track)) and not preview.is_playing(str(tmp_path / "other.mp3"))
    qtbot.wait(2500)
    preview.play(str(track), 30.0)  # another preview 2.5 s later: built once the first one's pipeline is gone
    assert preview.player.source().isEmpty() and preview.playing()
    qtbot.wait(2500)
    assert preview.playing(), "the first preview's stop cut the second one short"
    assert 14_000 <= preview.player.position() <= 18_000  # it too starts in the middle
    qtbot.waitUntil(lambda: not preview.playing(), timeout=15_000)


class HeardPreview:
    """Preview's face, hearing what the window asks of it (the real one is heard in the tests beside)."""

    seconds = 20

    def __init__(self):
        self.asked, self.now = [], None

    def play(self, path: str, _duration: float) -> bool:
        self.asked.append(("play", path))
        self.now = path
        return True

    def stop(self) -> None:
        self.asked.append(("stop", self.now))
        self.now = None

    def is_playing(self, path: str) -> bool:
        return self.now == path


def double_click(view, index) -> None:
    """A double-click on a cell, as the window system sends it (QTest's first double-click at a spot came as a press)."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    viewport, at = view.viewport(), QPointF(view.visualRect(index).center())
    left, none, keys = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    for kind, held in ((QEvent.Type.MouseButtonPress, left), (QEvent.Type.MouseButtonRelease, none),
                       (QEvent.Type.MouseButtonDblClick, left), (QEvent.Type.MouseButtonRelease, none)):
        QApplication.sendEvent(viewport, QMouseEvent(kind, at, viewport.mapToGlobal(at), left, held, keys))


def test_space_plays_the_track_shown_and_stops_it_and_a_double_click_plays(qtbot, window):
    # Space played the first selected track, not the one the details showed; it could not stop a preview (20 s of it,
    # whatever the listener did); and a double-click on a track, which plays it in every player, did nothing.
    from PySide6.QtCore import QItemSelectionModel

    from desktop.ui.table_model import TITLE

    table, _header = shown_scanned(qtbot, window)
    window.preview = heard = HeardPreview()
    path = [window.shown_row(row).path for row in range(5)]
    for row in (1, 3, 2):  # three selected; the last clicked is current, and the details show it
        table.selectionModel().setCurrentIndex(window.proxy.index(row, TITLE), QItemSelectionModel.SelectionFlag.Select
                                               | QItemSelectionModel.SelectionFlag.Rows)
    window.play_action.trigger()
    assert heard.asked == [("play", path[2])]
    assert window.statusBar().currentMessage().startswith(f"Playing “{window.shown_row(2).title}” from the middle")
    window.play_action.trigger()  # Space again: it stops
    assert heard.asked[1:] == [("stop", path[2])] and window.statusBar().currentMessage().startswith("Stopped")
    double_click(table, window.proxy.index(4, TITLE))
    assert heard.asked[2:] == [("play", path[4])]
    double_click(table, window.proxy.index(4, TITLE))
    assert heard.asked[3:] == [("play", path[4])]  # a double-click again starts it again (Space stops)
    double_click(table, window.proxy.index(0, GENRE))
    assert len(heard.asked) == 4 and table.state() == table.State.EditingState  # the genre edits; nothing plays


def test_a_track_that_cannot_play_says_why_and_not_that_it_plays(qtbot, window):
    # Its preview failed ("cannot play it: Could not open file") while the status bar said "Playing … for 20 s".
    scan(qtbot, window)
    row = window.shown_row(0)
    window.preview = heard = HeardPreview()
    window.table_model.set_away([str(Path(row.path).parent)])  # a drive not connected
    window.play_track(row)
    assert heard.asked == [("stop", None)]
    assert window.statusBar().currentMessage() == f"“{row.title}” is on a drive not connected: connect it to play it"
    window.table_model.set_away([])
    Path(row.path).unlink()
    window.preview = None  # the real one
    window.play_track(row)
    assert window.statusBar().currentMessage() == ""
    assert [window.errors.item(i).text() for i in range(window.errors.count())] == [f"{row.path}: cannot play it: file not found"]


def test_a_preview_of_a_missing_file_names_it(qtbot, tmp_path):
    from desktop.ui.preview import Preview

    preview = Preview()
    with qtbot.waitSignal(preview.failed, timeout=15_000) as failed:
        assert not preview.play(str(tmp_path / "gone.mp3"), 60.0)
    assert failed.args == [str(tmp_path / "gone.mp3"), "file not found"]  # the player said "Could not open file"


def test_a_copy_protected_file_is_not_played_as_noise(qtbot, tmp_path):
    # Qt's FFmpeg backend decodes a FairPlay stream's encrypted bytes as plain AAC: a burst of noise.
    from desktop.ui.preview import Preview

    store = make_protected_m4p(tmp_path, "store")
    preview = Preview()
    with qtbot.waitSignal(preview.failed, timeout=5_000) as failed:
        assert not preview.play(str(store), 3.0)
    assert failed.args == [str(store), "copy-protected (iTunes Store FairPlay): its audio cannot be decoded, so it is "
                                       "not analysed; its genre can be set by hand"]
    assert preview.player.source().isEmpty() and not preview.playing()


def test_the_review_dialog_sorts_checks_all_and_toggles_the_selection_with_space(qtbot, tmp_path):
    from types import SimpleNamespace

    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QDialogButtonBox

    from desktop.ui.review_dialog import ReviewDialog

    changes = [SimpleNamespace(path=f"/m/{name}.mp3", old=(), new=(genre,), confidence=sure)
               for name, genre, sure in (("c", "Jazz", 0.55), ("a", "Rock", 1.0), ("b", "Jazz", None), ("d", "Rock", 0.9))]
    dialog = ReviewDialog(changes)
    # Why each file would change, sorted by how sure (as numbers: "100%" sorted before "55%"), by hand last.
    dialog.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    assert [dialog.text(r, 3) for r in range(4)] == \
        ["predicted, 55% sure", "predicted, 90% sure", "predicted, 100% sure", "set by hand"]
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.text() == "Write 4 checked"
    dialog.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # grouped by the new genre
    jazz = [r for r in range(4) if dialog.text(r, 2) == "Jazz"]
    assert jazz == [0, 1]
    dialog.table.selectRow(0)
    dialog.table.selectionModel().select(dialog.table.model().index(1, 0), dialog.table.selectionModel().SelectionFlag.Select
                                         | dialog.table.selectionModel().SelectionFlag.Rows)
    dialog.table.setFocus()
    QTest.keyClick(dialog.table, Qt.Key.Key_Space)  # every selected row, not only the current one
    assert [c.path for c in dialog.accepted_changes()] == ["/m/a.mp3", "/m/d.mp3"]  # the rows moved; the changes did not
    assert ok.text() == "Write 2 checked"
    dialog.set_all(False)
    assert dialog.accepted_changes() == [] and not ok.isEnabled()
    dialog.set_all(True)  # there was no way back after "Uncheck all"
    assert dialog.accepted_changes() == changes and ok.text() == "Write 4 checked"


def test_the_review_dialogs_model_checks_sorts_and_keeps_the_selection_with_its_changes(qtbot):
    # A QTableWidget checked every one of 70,000 rows in 9 s (each item found its row by a linear search once
    # sorted): the model keeps a check per change, sorts itself and repaints a whole column at once.
    from types import SimpleNamespace

    from PySide6.QtCore import QItemSelectionModel

    from desktop.ui.review_dialog import FILE, NEW, WHY, ReviewDialog

    changes = [SimpleNamespace(path=f"/m/Track {i}.mp3", old=("Rock",) if i % 2 else (), new=(("Jazz", "Pop")[i % 2],),
                               confidence=None if i == 3 else i / 20) for i in range(12)]
    dialog = ReviewDialog(changes)
    qtbot.addWidget(dialog)
    model = dialog.model
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    assert [dialog.text(r, FILE) for r in range(3)] == ["/m/Track 0.mp3", "/m/Track 1.mp3", "/m/Track 10.mp3"]  # by text
    assert dialog.text(11, FILE) == "/m/Track 9.mp3" and dialog.text(1, 1) == "Rock" and dialog.text(0, 1) == "(none)"
    repaints = []
    model.dataChanged.connect(lambda first, last, roles: repaints.append((first.row(), last.row())))
    dialog.set_all(False)
    assert repaints == [(0, 11)] and dialog.accepted_changes() == [] and model.checked_count() == 0
    row = next(r for r in range(12) if dialog.text(r, FILE) == "/m/Track 2.mp3")
    dialog.table.selectionModel().select(model.index(row, FILE), QItemSelectionModel.SelectionFlag.Select
                                         | QItemSelectionModel.SelectionFlag.Rows)
    dialog.table.sortByColumn(WHY, Qt.SortOrder.DescendingOrder)  # by hand first, then the surest
    assert dialog.text(0, WHY) == "set by hand" and dialog.text(1, WHY) == "predicted, 55% sure"
    [selected] = dialog.table.selectionModel().selectedRows()
    assert dialog.text(selected.row(), FILE) == "/m/Track 2.mp3"  # the selection moved with its change
    dialog.toggle_selected()
    assert dialog.accepted_changes() == [changes[2]]
    # A click on a row's box checks it (the view's setData), the count follows.
    assert model.setData(model.index(0, FILE), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert dialog.accepted_changes() == [changes[2], changes[3]]
    assert dialog.buttons.button(dialog.buttons.StandardButton.Ok).text() == "Write 2 checked"
    assert not model.setData(model.index(0, NEW), "Polka", Qt.ItemDataRole.EditRole)  # nothing else is edited


def test_an_empty_table_says_why_and_what_to_do(qtbot, tmp_path, exported_model):
    # A first run whose folder dialog was cancelled showed a blank table and nothing else.
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.model_path = str(exported_model)
    win = MainWindow(open_database(tmp_path / "lib.db"), settings)
    qtbot.addWidget(win)
    assert win.empty_table_hint().startswith("No music yet. Add Folder… (Ctrl+O) chooses your music folder (or drop one here)")
    asked = []
    real = win.empty_table_hint
    win.table.hint = lambda: asked.append(1) or real()
    win.table.grab()  # the view draws the hint
    assert asked
    music = tmp_path / "music"
    make_library(music)
    settings.folders = [str(music)]
    assert win.empty_table_hint().startswith("No music found in your folders yet")
    scan(qtbot, win)
    assert win.empty_table_hint() == ""
    win.search.setText("no such song")
    assert win.empty_table_hint() == "No track matches “no such song”."
    win.search.setText("stars:5")
    assert win.empty_table_hint() == ("No track matches “stars:5”; stars: names no field (title:, artist:, album:, "
                                      "genre:, path:, year:), so stars:5 was looked for as a word.")
    win.search.clear()
    assert win.empty_table_hint() == ""


def test_a_search_that_a_genre_or_needs_review_hides_says_what_it_finds_elsewhere(qtbot, window):
    # Under a genre, a search for a track of another said only "No track matches": the listener took the track
    # for one the library did not have.
    scan(qtbot, window)
    rows = [window.table_model.row_at(r) for r in range(window.table_model.rowCount())]
    other = next(r for r in rows if r.genre and r.genre != rows[0].genre)
    window.proxy.set_genre(rows[0].genre)
    typed = f'path:"{other.path}"'  # that track alone
    window.search.setText(typed)
    assert window.proxy.rowCount() == 0
    assert window.empty_table_hint() == f"No track under {rows[0].genre} matches “{typed}”; it finds 1 track elsewhere."
    twin = replace(other, id=max(r.id for r in rows) + 1, path=other.path + ".copy.flac")
    window.table_model.merge_rows([twin])  # a scan brought another: counted again
    assert window.empty_table_hint().endswith("; it finds 2 tracks elsewhere.")
    window.review.setChecked(True)
    assert window.empty_table_hint().startswith(f"No track under {rows[0].genre} and under Needs review matches")
    window.proxy.set_genre(None)
    window.review.setChecked(False)
    window.search.setText("no such song")
    assert window.empty_table_hint() == "No track matches “no such song”."  # nothing elsewhere either


def test_a_first_scan_takes_the_folders_the_library_was_scanned_from_else_asks(qtbot, tmp_path, exported_model, monkeypatch):
    # A library scanned with `genre-tagger scan ~/Music` opened in the window asked for a music folder, and
    # after Cancel its Scan did nothing at all.
    from desktop.services.library import Library

    asked = []
    monkeypatch.setattr("desktop.ui.scan_actions.choose_music_folder", lambda parent: asked.append(1) or "")
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.model_path, settings.device = str(exported_model), "cpu"
    sessions = open_database(tmp_path / "lib.db")
    win = MainWindow(sessions, settings)
    qtbot.addWidget(win)
    win.scan_action.trigger()
    assert asked == [1] and win.scan_job is None and settings.folders == []
    music = tmp_path / "music"
    files = make_library(music)
    Library(sessions).sync([music])  # as the command line's scan does
    (music / "late").mkdir()
    shutil.copy(files["wav"], music / "late" / "copy.wav")
    win.scan_action.trigger()
    assert asked == [1] and settings.folders == [str(music)]
    assert str(music) in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: win.scan_job is None, timeout=60_000)
    assert win.table_model.rowCount() == len(files) + 1
    assert AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)).folders == [str(music)]


def test_a_first_scan_of_a_library_on_a_drive_not_connected_takes_its_folders_and_says_so(qtbot, tmp_path,
                                                                                         exported_model, monkeypatch):
    # A library scanned with `genre-tagger scan /media/usb/Music`, opened with the drive away: the window asked for
    # a music folder, as for a library never scanned.
    from desktop.services.library import Library

    asked = []
    monkeypatch.setattr("desktop.ui.scan_actions.choose_music_folder", lambda parent: asked.append(1) or "")
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.model_path, settings.device = str(exported_model), "cpu"
    sessions = open_database(tmp_path / "lib.db")
    usb = tmp_path / "usb"
    files = make_library(usb)
    Library(sessions).sync([usb])
    usb.rename(tmp_path / "away")
    win = MainWindow(sessions, settings)
    qtbot.addWidget(win)
    win.scan_action.trigger()
    qtbot.waitUntil(lambda: win.scan_job is None, timeout=60_000)
    assert asked == [] and settings.folders == [str(usb)]
    assert [win.errors.item(i).text() for i in range(win.errors.count())] == [
        f"{usb}: not there now, or empty (a drive not connected?); its tracks are left as they are"]
    assert win.table_model.rowCount() == len(files)  # in view, as they were


def test_a_library_ready_to_learn_is_told_so_in_the_windows_words(qtbot, tmp_path):
    # After a scan the status bar said "run `genre-tagger learn`": a command line, in the window.
    from desktop.store.schema import Track

    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s:
        for n in range(24):
            genre = ("Jazz", "Rock")[n % 2]
            s.add(Track(path=f"/elsewhere/{n}.flac", folder="/elsewhere", size=1, mtime_ns=1, audio_hash=f"h{n}",
                        format="flac", file_genre=genre, artist=f"{genre} {n % 6}"))
        s.commit()
    (tmp_path / "empty").mkdir()
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.folders, settings.device = [str(tmp_path / "empty")], "cpu"  # the shipped model: nothing learned yet
    win = MainWindow(sessions, settings)
    qtbot.addWidget(win)
    scan(qtbot, win)
    message = win.statusBar().currentMessage()
    assert message == "2 of your library's genres are ready to learn: Learn My Genres learns them"
    with sessions() as s:  # one genre left: what more it needs, begun as the window's sentences are
        s.query(Track).filter(Track.file_genre == "Rock").delete()
        s.commit()
    scan(qtbot, win)
    assert win.statusBar().currentMessage().startswith("Nothing learned from your library yet; ")


def test_corrections_offer_the_librarys_genres_and_the_models_as_the_library_spells_them(qtbot, window):
    # The genre editor and Set Genre offered the model's bare labels ("noise", "hiphop"), written as picked.
    from PySide6.QtWidgets import QComboBox, QStyleOptionViewItem

    from desktop.core.tags import write_genres

    write_genres(window.files["flac"], ["Noise"])
    write_genres(window.files["mp3"], ["Drum & Bass"])
    scan(qtbot, window)
    choices = window.genre_choices()
    assert choices == ["Beats", "Drum & Bass", "Noise", "Tones"]  # each once, the library's spelling, in order
    delegate = window.table.itemDelegateForColumn(GENRE)
    editor = delegate.createEditor(window.table, QStyleOptionViewItem(), window.proxy.index(0, GENRE))
    assert isinstance(editor, QComboBox) and [editor.itemText(i) for i in range(editor.count())] == choices


def test_a_scan_counts_as_analysed_only_the_tracks_it_could_analyse(qtbot, window, tmp_path):
    # "Scan done: 29 files, 29 analysed" was said with one of them unreadable (its tags read, its audio not).
    whole = make_track(tmp_path, "whole", "tones", "alac.caf", 6.0)
    cut = window.files["flac"].parent / "cut.caf"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # its tags read; its audio's index is gone
    scan(qtbot, window)
    n = len(window.files)
    assert window.progress_label.text() == f"Scan done: {n + 1} files, {n} analysed, 1 could not be (see Problems)"
    assert any(window.errors.item(i).text().startswith(str(cut)) for i in range(window.errors.count()))
    (cut.parent / "empty.flac").write_bytes(b"")  # fails in the walk, before any analysis: counted all the same
    scan(qtbot, window)
    assert window.progress_label.text() == f"Scan done: {n + 2} files, 0 analysed, 1 could not be (see Problems)"


def test_a_short_window_scrolls_the_track_details_and_keeps_the_problems_panel_low(qtbot, window):
    # At 1024x640 a track's ten genre bars were drawn over the timeline's caption and legend (the panel squeezed below
    # its height), and the Problems panel took a third of the window for one line.
    window.resize(1024, 640)
    window.show()
    qtbot.waitExposed(window)
    scan(qtbot, window)
    window.report_problem("/music/broken.flac", "damaged file structure")
    window.table.selectRow(0)
    bars, caption = window.details.bars, window.details.analysis_parts[2]
    qtbot.waitUntil(lambda: bars.isVisible() and bool(bars.items))
    bars.set_probabilities([f"genre {n}" for n in range(10)], [0.1] * 10)  # a ten-genre model's bars
    qtbot.waitUntil(lambda: bars.geometry().bottom() < caption.geometry().top(), timeout=3000)  # laid out anew
    assert window.errors_dock.height() < window.height() // 4

    # Every scan names the files it knows are broken again: the panel grew by the same lines each scan.
    from PySide6.QtWidgets import QApplication

    broken = window.files["flac"].parent / "broken.mp3"
    broken.write_bytes(b"not audio at all" * 100)
    scan(qtbot, window)
    scan(qtbot, window)
    lines = [window.errors.item(i).text() for i in range(window.errors.count())]
    assert len([line for line in lines if line.startswith(str(broken))]) == 1
    window.errors.clearSelection()
    window.copy_problems()  # nothing selected: all of them
    assert QApplication.clipboard().text().splitlines() == lines
    window.clear_problems()
    assert window.errors.count() == 0
    scan(qtbot, window)  # still broken: named again
    assert any(window.errors.item(i).text().startswith(str(broken)) for i in range(window.errors.count()))


def test_a_bug_in_a_slot_is_named_in_the_problems_panel_and_logged(qtbot, window, monkeypatch, caplog):
    # PySide printed a slot's exception to a terminal the listener never sees: the click just did nothing.
    import sys

    from PySide6.QtCore import QTimer

    from desktop.ui.app import install_error_hook

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_error_hook(window)
    QTimer.singleShot(0, lambda: {}["no such key"])
    qtbot.waitUntil(lambda: window.errors.count() > 0, timeout=5000)
    assert window.errors.item(0).text().startswith("internal error: KeyError: 'no such key'; the details are in the log")
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)
    sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)  # Ctrl+C in the terminal is no bug of ours
    assert window.errors.count() == 1
    refused = OSError(36, "File name too long", "/music/" + "y" * 300)  # the system's answer, said as the CLI says it
    sys.excepthook(OSError, refused, None)
    assert window.errors.item(1).text() == "/music/" + "y" * 300 + ": File name too long"
    # The library's disk full under a correction: its file and SQLite's words, no bug to report, no SQL.
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from desktop.store.lock import database_path

    full = OperationalError("UPDATE tracks SET genre=?", ("Jazz",), sqlite3.OperationalError("database or disk is full"))
    sys.excepthook(OperationalError, full, None)
    said = window.errors.item(2).text()
    assert said.startswith(f"{database_path(window.sessions)}: database error (OperationalError: database or disk is full)")
    assert "UPDATE" not in said and "report it" not in said


def test_a_track_corrected_out_of_the_filtered_view_hands_its_place_to_the_next(qtbot, window):
    # Working down "Needs review" (or one genre) with Ctrl+G: the corrected track left the view and took the
    # selection with it, so every correction began with a click to find one's place again.
    scan(qtbot, window)
    row = max(range(1, window.genres.rowCount()), key=lambda r: int(window.genres.index(r, 0).data().rsplit("(", 1)[1][:-1]))
    window.sidebar.setCurrentIndex(window.genres.index(row, 0))  # the genre with the most tracks
    shown = window.proxy.rowCount()
    assert shown >= 2
    window.table.selectRow(0)
    corrected, following = window.shown_row(0).id, window.shown_row(1).id
    window.correct([corrected], "Zydeco")
    wait_write(qtbot, window)
    assert window.proxy.rowCount() == shown - 1 and window.table.currentIndex().row() == 0
    assert window.selected_track_ids() == [following] and window.set_genre_action.isEnabled()
    assert window.shown_row(0).title in window.details.heading.text()  # its details, ready for the next one


def test_set_genre_offers_the_genre_the_tracks_show_so_enter_cannot_set_the_alphabets_first(qtbot, window, monkeypatch):
    # The dialog came up on the first genre in the alphabet: Enter set it on every selected track.
    from PySide6.QtWidgets import QInputDialog

    scan(qtbot, window)
    asked = []
    monkeypatch.setattr(QInputDialog, "getItem", lambda _parent, _title, _label, items, current, editable:
                        (asked.append(items[current]), ("", False))[1])
    rows = [window.shown_row(r) for r in range(window.proxy.rowCount())]
    most = Counter(r.genre for r in rows).most_common(1)[0][0]
    assert sorted(window.genre_choices())[0] != most  # else the old dialog would have offered it by chance
    window.set_genre_for_tracks([r.id for r in rows])  # mixed genres (a region of the map): the most shown one
    window.set_genre_for_tracks([next(r.id for r in rows if r.genre != most)])
    assert asked == [most, next(r.genre for r in rows if r.genre != most)]
    window.correct([rows[0].id], "Rock; Pop")
    wait_write(qtbot, window)
    window.set_genre_for_tracks([rows[0].id])  # several genres: offered as they stand, though not a choice of its own
    assert asked[-1] == "Rock; Pop"


def test_coming_back_to_the_window_shows_what_the_command_line_changed(qtbot, window):
    # `genre-tagger set ...` in a terminal, then back to the window: it showed the old genre, and its Undo
    # offered the batch before, until something else reloaded the table.
    from PySide6.QtWidgets import QWidget

    from desktop.services.tagging import TagService

    scan(qtbot, window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    path = window.shown_row(0).path
    terminal = QWidget()  # another window takes the focus meanwhile
    qtbot.addWidget(terminal)
    terminal.show()
    terminal.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow())
    TagService(open_database(window.sessions.kw["bind"].url.database)).correct([path], "Zydeco")  # another process
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    row = next(window.shown_row(r) for r in range(window.proxy.rowCount()) if window.shown_row(r).path == path)
    assert row.genre == "Zydeco" and row.corrected
    assert "Zydeco" in window.undo_action.text()


def test_a_long_write_shows_its_progress_and_stops_when_asked(qtbot, window, monkeypatch):
    # Apply or Set Genre on 20,000 files ran for minutes with nothing on screen and no way to stop it.
    import desktop.services.tagging as tagging
    from desktop.ui import write_actions

    scan(qtbot, window)
    real_write = tagging.write_genres
    monkeypatch.setattr(tagging, "write_genres", lambda *a, **k: (time.sleep(0.3), real_write(*a, **k))[1])  # slow disk
    monkeypatch.setattr(write_actions, "WRITE_PROGRESS_AFTER_MS", 0)
    ids = [window.shown_row(r).id for r in range(window.proxy.rowCount())]
    window.correct(ids, "Zydeco")
    qtbot.waitUntil(lambda: window.write_label.text().startswith("Writing tags: 1 / "), timeout=10_000)
    assert not window.write_stop.isHidden() and window.write_progress.maximum() == len(ids)
    assert window.write_label.text().startswith(f"Writing tags: 1 / {len(ids)} files · ")
    window.write_stop.click()
    wait_write(qtbot, window)
    assert window.write_stop.isHidden() and window.write_label.isHidden()
    message = window.statusBar().currentMessage()
    assert message.startswith("Stopped: wrote ") and "as they were (Undo takes back what was written)" in message
    written = sum(read_tags(window.shown_row(r).path).genres == ("Zydeco",) for r in range(window.proxy.rowCount()))
    assert 1 <= written < len(ids) and sum(window.shown_row(r).corrected for r in range(window.proxy.rowCount())) == written
    window.undo_last()  # what was written goes back as one batch
    wait_write(qtbot, window)
    assert all(read_tags(window.shown_row(r).path).genres != ("Zydeco",) for r in range(window.proxy.rowCount()))


def test_the_windows_parts_have_names_a_screen_reader_speaks(window):
    # The table, sidebar, details, problems and map had no accessible name: a screen reader said "table", "list".
    from PySide6.QtGui import QAccessible

    parts = (window.sidebar, window.table, window.search, window.details, window.errors, window.map_view)
    names = [QAccessible.queryAccessibleInterface(w).text(QAccessible.Text.Name) for w in parts]
    assert names == ["Genres", "Library", "Search", "Track details", "Problems", "Library map"]
    assert all(w.accessibleDescription() for w in parts)


def test_the_chosen_genre_stays_chosen_across_reloads_and_follows_a_rename(qtbot, window):
    # A reload reset the sidebar: no genre highlighted while the table stayed limited to it.
    from desktop.store.schema import Track
    from desktop.ui.table_model import GENRE_ROLE

    scan(qtbot, window)
    row = window.genres.row_of("Noise")
    window.sidebar.setCurrentIndex(window.genres.index(row, 0))
    window._genre_chosen(window.genres.index(row, 0))
    shown = window.proxy.rowCount()
    window.refresh()
    assert window.sidebar.currentIndex().data(GENRE_ROLE) == "Noise" and window.proxy.rowCount() == shown
    window.rename_genre("Noise", target="Noise Rock")
    qtbot.waitUntil(lambda: window.genres_job is None and window.reload_job is None, timeout=30_000)
    assert window.sidebar.currentIndex().data(GENRE_ROLE) == "Noise Rock" and window.proxy.rowCount() == shown
    from PySide6.QtTest import QTest

    QTest.keyClick(window.sidebar, Qt.Key.Key_Home)  # the keyboard chooses too, not only a click
    assert window.proxy.genre is None and window.proxy.rowCount() == window.table_model.rowCount()
    QTest.keyClick(window.sidebar, Qt.Key.Key_Down)
    assert window.proxy.genre == window.genres.index(1, 0).data(GENRE_ROLE)
    window.sidebar.setCurrentIndex(window.genres.index(window.genres.row_of("Noise Rock"), 0))
    with window.sessions() as s:  # every Noise Rock track corrected to something else: the genre is gone
        ids = [t.id for t in s.query(Track).filter(Track.genre == "Noise Rock")]
    window.tag_service().correct([window.table_model.row_at(window.table_model.row_of(i)).path for i in ids], "Drone", write=False)
    window.refresh()
    assert window.sidebar.currentIndex().row() == 0 and window.proxy.genre is None  # all tracks, not an empty table
    assert window.proxy.rowCount() == window.table_model.rowCount()


def test_a_genre_renamed_is_written_and_read_again_off_the_gui_thread(qtbot, window, monkeypatch):
    # The rename's write and the reload of every row ran on the GUI thread: seconds without a repaint at 100,000 tracks.
    import desktop.ui.main_window as main_window

    scan(qtbot, window)
    on_gui_thread = []

    def recorded(name):
        real = getattr(main_window, name)

        def call(*args):
            on_gui_thread.append((name, threading.current_thread() is threading.main_thread()))
            return real(*args)
        return call

    for name in ("merge_and_rename", "load_rows"):
        monkeypatch.setattr(main_window, name, recorded(name))
    row = window.genres.row_of("Noise")
    window.sidebar.setCurrentIndex(window.genres.index(row, 0))
    window._genre_chosen(window.genres.index(row, 0))
    shown = window.proxy.rowCount()
    window.rename_genre("Noise", target="Noise Rock")
    assert window.genres_job is not None  # its result waits for the GUI thread's next turn
    window.rename_genre("Beats", target="Drums")  # while the first is written: refused, and said
    assert "still being renamed" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.genres_job is None and window.reload_job is None, timeout=30_000)
    assert on_gui_thread == [("merge_and_rename", False), ("load_rows", False)]  # one write, one read: both on workers
    assert window.sidebar.currentIndex().data(GENRE_ROLE) == "Noise Rock" and window.proxy.rowCount() == shown
    assert window.genres.row_of("Beats") is not None and window.genres.row_of("Drums") is None
    assert "Noise is now Noise Rock" in window.statusBar().currentMessage()
    window.rename_genre("Noise Rock", target="  ")  # no genre name: the problem named, nothing changed
    qtbot.waitUntil(lambda: window.genres_job is None, timeout=30_000)
    assert "not a genre name" in window.errors.item(window.errors.count() - 1).text()
    assert window.reload_job is None and window.proxy.rowCount() == shown


def test_settings_reads_no_row_again_and_counts_the_uncertain_by_its_new_threshold(qtbot, window, monkeypatch):
    # OK in Settings read every row again on the GUI thread (1.5-1.6 s at 100,000 tracks), though no row holds a setting.
    import desktop.ui.main_window as main_window
    from desktop.store import queries
    from desktop.ui.table_model import UNCERTAIN_ITEM

    scan(qtbot, window)
    reads = []
    monkeypatch.setattr(main_window, "load_rows", lambda sessions: reads.append(sessions) or [])

    def stricter(dialog):
        dialog.threshold.setValue(0.99)
        return SettingsDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", stricter)
    window.open_settings()
    assert reads == [] and window.table_model.rowCount() > 0
    with window.sessions() as s:
        uncertain = queries.uncertain_count(s, 0.99)
    assert uncertain > 0 and window.genres.index(window.genres.row_of(UNCERTAIN_ITEM), 0).data() == f"Uncertain  ({uncertain})"
    window.proxy.set_genre(UNCERTAIN_ITEM)
    assert window.proxy.rowCount() == uncertain  # the table filters by the new threshold too
    qtbot.waitUntil(lambda: window.scan_job is None and window.watch_job is None, timeout=60_000)


def test_the_folder_dialog_starts_in_the_music_folder(qtbot, tmp_path, monkeypatch):
    # It opened in the process's working folder (the bundle's, or / from a desktop launcher).
    from PySide6.QtWidgets import QFileDialog

    from desktop.ui.dialogs import choose_music_folder

    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda _parent, _title, start: asked.append(start) or "")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_MUSIC_DIR", str(tmp_path / "Music"))
    assert choose_music_folder(None) == "" and asked[-1] == str(tmp_path)  # no Music folder: home
    (tmp_path / "Music").mkdir()
    choose_music_folder(None)
    assert asked[-1] == str(tmp_path / "Music")


def test_a_learn_asked_for_during_a_scan_waits_for_it_and_the_other_way_round(qtbot, window):
    # Both ran at once: a model made active halfway left the scan's last tracks under the old one.
    window.start_scan()
    assert window.scan_job is not None
    assert window.learn_genres() is None and window.learn_job is None
    assert window.statusBar().currentMessage() == "Learning your genres when the scan is done…"
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=60_000)
    assert window.learn_job is not None or window.last_learned  # started as soon as the scan was done
    qtbot.waitUntil(lambda: window.learn_job is None and window.reload_job is None, timeout=60_000)
    window.learn_genres()
    window.start_scan()  # while learning: the scan comes after
    assert window.scan_job is None or window.learn_job is None
    qtbot.waitUntil(lambda: window.learn_job is None and window.reload_job is None and window.scan_job is None, timeout=60_000)
    assert window.progress_label.text().startswith("Scan done")


def test_the_tables_right_click_menu_acts_on_the_selected_tracks(qtbot, window, monkeypatch, tmp_path):
    # The table had no context menu: no way to see a file's folder or copy its path from the app.
    from PySide6.QtDBus import QDBusConnection
    from PySide6.QtGui import QDesktopServices, QGuiApplication

    from desktop.ui import file_links

    scan(qtbot, window)
    menu = [a.text() if a else None for a in window.track_menu_actions()]
    assert menu == ["Set Genre…", "Keep the File's Genre", "Forget Genre Set by Hand", "Apply Predicted Genre to Selection…",
                    "Play Preview", None, "Show in Folder", "Copy", "Copy Path", None, "Leave Out Its Folder…"]
    window.table.clearSelection()
    assert not any(a.isEnabled() for a in window.track_menu_actions() if a)  # nothing selected: nothing to act on
    window.table.selectRow(0)
    window.table.selectionModel().select(window.proxy.index(2, 0), QItemSelectionModel.SelectionFlag.Select
                                         | QItemSelectionModel.SelectionFlag.Rows)
    assert all(a.isEnabled() for a in window.track_menu_actions() if a)
    chosen = [window.shown_row(0).path, window.shown_row(2).path]
    window.copy_selected_paths()
    assert QGuiApplication.clipboard().text() == "\n".join(chosen)  # table order, one per line
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    monkeypatch.setattr(file_links, "session_bus", lambda: QDBusConnection("no session bus"))  # not connected
    window.show_selected_in_folder()
    assert opened == [str(Path(chosen[0]).parent)] and window.errors.count() == 0  # no file manager on D-Bus: its folder
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    window.show_selected_in_folder()
    assert window.errors.item(0).text() == f"{chosen[0]}: cannot show it in its folder: no file manager could be started to show its folder"
    shutil.rmtree(Path(chosen[0]).parent)
    window.show_selected_in_folder()
    assert "its folder is not there (moved, deleted, or on a drive not mounted)" in window.errors.item(0).text()


@pytest.fixture
def private_session_bus():
    """A D-Bus session of the test's own (dbus-daemon), and a second connection to it for a stand-in service."""
    from PySide6.QtDBus import QDBusConnection

    if shutil.which("dbus-daemon") is None:
        pytest.fail("dbus-daemon is not installed: run scripts/system-deps.sh")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = daemon.stdout.readline().strip()
    names = ("app side", "service side")
    try:
        yield tuple(QDBusConnection.connectToBus(address, name) for name in names)
    finally:
        for name in names:
            QDBusConnection.disconnectFromBus(name)
        daemon.kill()
        daemon.wait()


def test_show_in_folder_asks_the_file_manager_to_select_the_file(qtbot, window, monkeypatch, private_session_bus):
    # Show in Folder opened the folder, leaving the listener to find the file among hundreds; file managers
    # (Nautilus, Dolphin, Nemo, Thunar...) select it when asked through freedesktop's FileManager1 on D-Bus.
    from PySide6.QtCore import ClassInfo, QObject, QUrl, Slot
    from PySide6.QtDBus import QDBusConnection
    from PySide6.QtGui import QDesktopServices

    from desktop.ui import file_links

    @ClassInfo({"D-Bus Interface": "org.freedesktop.FileManager1"})
    class StandInFileManager(QObject):
        def __init__(self):
            super().__init__()
            self.shown = []

        @Slot("QStringList", str)
        def ShowItems(self, uris, startup_id):  # noqa: N802 (the interface's name)
            self.shown.append(list(uris))

    app_bus, service_bus = private_session_bus
    monkeypatch.setattr(file_links, "session_bus", lambda: app_bus)
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    flac = window.files["flac"]
    path = str(flac.rename(flac.with_name("Été à Paris.flac")))  # a URI escapes both
    scan(qtbot, window)
    window.table.selectRow(next(r for r in range(window.proxy.rowCount()) if window.shown_row(r).path == path))

    assert service_bus.registerService("org.freedesktop.FileManager1")  # the name, but no object answering yet
    window.show_selected_in_folder()
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)
    assert opened == [str(Path(path).parent)]  # the call failed: the folder, as before

    manager = StandInFileManager()
    assert service_bus.registerObject("/org/freedesktop/FileManager1", manager,
                                      QDBusConnection.RegisterOption.ExportAllSlots)
    window.show_selected_in_folder()
    qtbot.waitUntil(lambda: bool(manager.shown), timeout=10_000)
    assert manager.shown == [[QUrl.fromLocalFile(path).toString()]] and manager.shown[0][0].startswith("file:///")
    assert len(opened) == 1 and window.errors.count() == 0


def test_apply_predicted_genre_to_the_selection_only_and_over_existing_tags(qtbot, window, monkeypatch):
    # Apply Predicted Genres planned the whole library under the policy; a listener who picked tracks
    # (whose files have a genre, which "fill" keeps) had no way to write the predictions for just them.
    from desktop.ui.review_dialog import ReviewDialog

    scan(qtbot, window)
    for path in window.files.values():
        write_genres(path, ["Wrong"])
    scan(qtbot, window)
    shown = []
    monkeypatch.setattr(ReviewDialog, "exec", lambda self: (shown.append([c.path for c in self.changes]), ReviewDialog.DialogCode.Accepted)[1])
    window.review_and_apply()  # the policy (fill) keeps every file's own genre
    qtbot.waitUntil(lambda: window.plan_job is None, timeout=30_000)
    assert shown == [] and window.statusBar().currentMessage() == "Nothing to write under the current policy"
    window.table.selectRow(1)
    picked = window.shown_row(1)
    window.review_and_apply_selection()
    qtbot.waitUntil(lambda: window.plan_job is None and not window.write_busy, timeout=30_000)
    assert shown == [[picked.path]]
    assert read_tags(picked.path).genres == (picked.genre,)
    assert sorted(read_tags(p).genres for p in window.files.values()).count(("Wrong",)) == len(window.files) - 1
    assert window.tag_service().batches()[0][0].description == "applied to selected tracks"
    window.review_and_apply_selection()  # its file says its genre now
    qtbot.waitUntil(lambda: window.plan_job is None, timeout=30_000)
    assert len(shown) == 1 and window.statusBar().currentMessage().startswith("Nothing to write: the selected files already")


def test_about_says_the_version_the_model_and_where_the_data_lives(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from desktop import __version__
    from desktop.core.model import read_model_info

    # The status bar says whose genres scans give: here the model chosen in Settings.
    assert window.model_label.text() == f"Genres: {Path(window.settings.model_path).name} ({len(window.labels)})"
    text = window.about_text()
    assert f"Genre Tagger {__version__}" in text and f"<b>Model in use:</b><br>{read_model_info(window.current_model_path()).key}, " in text
    assert str(window.sessions.kw["bind"].url.database) in text and window.settings.store.fileName() in text
    assert f"<b>Its daily copy:</b><br>{window.sessions.kw['bind'].url.database}.backup" in text
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, body: shown.append((title, body)))
    [a for a in window.menuBar().actions() if a.text() == "&Help"][0].menu().actions()[0].trigger()
    assert shown == [("About Genre Tagger", text)]


def shown_scanned(qtbot, window):
    """The window scanned and shown at 1200 x 720; its table and the table's header."""
    scan(qtbot, window)
    window.resize(1200, 720)
    window.show()
    qtbot.waitExposed(window)
    return window.table, window.table.horizontalHeader()


def columns_menu(window):
    """View > Columns."""
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    return next(a.menu() for a in view.actions() if a.text() == "Columns")


def test_a_large_library_opens_at_once_and_its_rows_follow(qtbot, window, monkeypatch):
    # The window read every row before it showed: 1.0-1.1 s with nothing on screen at 100,000 tracks (bench_table).
    from desktop.core.natural_order import natural_key
    from desktop.ui import main_window
    from desktop.ui.table_model import TITLE

    scan(qtbot, window)
    tracks = window.table_model.rowCount()
    window.table.sortByColumn(TITLE, Qt.SortOrder.DescendingOrder)
    window.close()
    monkeypatch.setattr(main_window, "FIRST_ROWS_AT_ONCE", tracks - 1)  # as for a library larger than it
    large = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(large)
    assert large.reload_job is not None and large.table_model.rowCount() == 0
    assert large.empty_table_hint() == "Reading your library…"
    assert large.genres.total == tracks  # the sidebar's counts at once
    large.start_scan()  # as the app does as it opens: the rescan runs beside the read, its changes merged after it
    qtbot.waitUntil(lambda: large.reload_job is None and large.scan_job is None, timeout=60_000)
    titles = [large.proxy.index(r, TITLE).data() for r in range(large.proxy.rowCount())]
    assert len(titles) == tracks and titles == sorted(titles, key=natural_key, reverse=True)  # as it was left
    monkeypatch.setattr(main_window, "FIRST_ROWS_AT_ONCE", tracks)  # no larger: it opens with its rows
    small = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(small)
    assert small.reload_job is None and small.table_model.rowCount() == tracks


def test_column_widths_sort_and_split_are_as_the_listener_left_them(qtbot, window, tmp_path):
    # Every column started 100 px wide (titles cut short; genre and status past the edge of a laptop's
    # window) and widths, sort and the panes' split were forgotten at each start; rows were the style's
    # 30 px, a third fewer tracks per screen.
    from desktop.core.natural_order import natural_key
    from desktop.ui.table_model import ALBUM, STATUS, TITLE

    table, header = shown_scanned(qtbot, window)
    assert header.length() <= table.viewport().width()  # every column in sight, no sideways scrolling
    assert table.columnWidth(TITLE) == max(table.columnWidth(c) for c in range(STATUS + 1)) > 100
    assert table.verticalHeader().defaultSectionSize() < 30
    # A column too narrow for its title ends it in "…"; Qt's default clipped "File genre" to "le genr" at 800 px.
    assert header.textElideMode() == Qt.TextElideMode.ElideRight
    wide = table.columnWidth(TITLE)
    window.map_dock.show()  # the table narrows: the columns follow while the listener has not sized one
    qtbot.waitUntil(lambda: table.columnWidth(TITLE) < wide)
    window.map_dock.hide()
    qtbot.waitUntil(lambda: table.columnWidth(TITLE) == wide and header.length() <= table.viewport().width())
    assert not window.column_fitter.by_user
    table.setColumnWidth(ALBUM, 333)  # as a drag of its border does: from now on the listener's widths stay
    assert window.column_fitter.by_user
    window.map_dock.show()
    qtbot.wait(50)
    assert table.columnWidth(ALBUM) == 333 and table.columnWidth(TITLE) == wide
    window.map_dock.hide()
    table.sortByColumn(TITLE, Qt.SortOrder.DescendingOrder)
    window.splitter.setSizes([250, 600, 350])
    sizes, title = window.splitter.sizes(), table.columnWidth(TITLE)
    window.close()
    again = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.table.columnWidth(ALBUM) == 333 and again.table.columnWidth(TITLE) == title
    header = again.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (TITLE, Qt.SortOrder.DescendingOrder)
    titles = [again.proxy.index(r, TITLE).data() for r in range(again.proxy.rowCount())]
    assert len(titles) > 1 and titles == sorted(titles, key=natural_key, reverse=True)  # the rows sorted so, not only the arrow
    shares = lambda sizes: [round(x / sum(sizes), 2) for x in sizes]  # noqa: E731 (the offscreen screen is smaller)
    assert shares(again.splitter.sizes()) == shares(sizes)


def test_columns_hidden_or_dragged_stay_so_and_the_shown_ones_share_the_width(qtbot, window):
    # Every column showed, always in the same order: a listener who never reads the file's genre or the status
    # could not give their room to the title.
    from PySide6.QtCore import QPoint, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.ui.table_model import ALBUM, ARTIST, CONFIDENCE, STATUS, TITLE

    table, header = shown_scanned(qtbot, window)
    entry = {a.text(): a for a in columns_menu(window).actions()}
    on_header = []

    def look_and_close():
        menu = QApplication.activePopupWidget()
        on_header.append([a.text() for a in menu.actions()])
        menu.close()

    QTimer.singleShot(100, look_and_close)
    header.customContextMenuRequested.emit(QPoint(10, 5))  # a right-click on the header: the same menu
    assert on_header == [list(entry)]
    assert list(entry) == ["Title", "Artist", "Album", "File genre", "Genre", "Confidence", "Status", "Length", "Folder",
                           "Year", "#", "", "Fit Columns to Window"]
    assert [a.isChecked() for a in window.column_choices.actions] == [True] * 8 + [False, True, True]  # the folder only when asked
    assert not entry["Title"].isEnabled() and not entry["Genre"].isEnabled()  # what the table is about stays
    title = table.columnWidth(TITLE)
    entry["Album"].trigger()
    entry["Status"].trigger()  # the last column: the one left of it stretches now
    assert table.isColumnHidden(ALBUM) and table.isColumnHidden(STATUS)
    assert not window.column_fitter.by_user  # hiding is not sizing: the columns still follow the window
    wider = table.columnWidth(TITLE)
    assert wider > title and header.length() <= table.viewport().width()
    window.map_dock.show()  # the table narrows and the stretching column with it: still not the listener's doing
    qtbot.waitUntil(lambda: table.columnWidth(TITLE) < wider)
    assert not window.column_fitter.by_user
    window.map_dock.hide()
    header.moveSection(header.visualIndex(CONFIDENCE), header.visualIndex(ARTIST))  # dragged before the artist
    order = [header.logicalIndex(v) for v in range(header.count())]
    window.close()
    again = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(again)
    table = again.table
    assert table.isColumnHidden(ALBUM) and table.isColumnHidden(STATUS)
    assert [table.horizontalHeader().logicalIndex(v) for v in range(11)] == order
    assert [a.isChecked() for a in again.column_choices.actions] == [True, True, False, True, True, True, False, True, False,
                                                                    True, True]
    again.column_choices.actions[ALBUM].trigger()  # back again
    assert not table.isColumnHidden(ALBUM)


def test_new_columns_come_as_at_a_first_start_and_a_saved_header_keeps_the_rest(qtbot, window):
    # Length and Folder (2026-12-05) came after the seven columns a header saved before them knew: shown at first
    # start right of the album (length) or hidden (folder), as for a listener who updated.
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QStyleOptionViewItem, QTableView

    from desktop.ui.table_model import (
        ALBUM,
        ARTIST,
        CONFIDENCE,
        FILE_GENRE,
        FOLDER,
        LENGTH,
        STATUS,
        TITLE,
        TRACK_NUMBER,
        YEAR,
    )

    table, header = shown_scanned(qtbot, window)
    order = lambda table: [table.horizontalHeader().logicalIndex(v) for v in range(11)]  # noqa: E731
    assert order(table) == [TITLE, ARTIST, ALBUM, TRACK_NUMBER, YEAR, LENGTH, FILE_GENRE, GENRE, CONFIDENCE, STATUS, FOLDER]
    assert table.isColumnHidden(FOLDER) and not table.isColumnHidden(LENGTH)
    assert not window.column_fitter.by_user and header.length() <= table.viewport().width()  # still shared out
    lengths = {window.proxy.index(r, LENGTH).data() for r in range(window.proxy.rowCount())}
    assert lengths == {"0:04"}  # the 4 s tracks of make_library
    option = QStyleOptionViewItem()  # a folder too long for its cell keeps its own name: "/home/…/Jazz", one line
    table.itemDelegateForColumn(FOLDER).initStyleOption(option, window.proxy.index(0, FOLDER))
    assert option.textElideMode == Qt.TextElideMode.ElideMiddle
    assert not option.features & QStyleOptionViewItem.ViewItemFeature.WrapText
    # A header saved by a version before them: seven columns, Status dragged first, Album hidden.
    old = QTableView()
    old.setModel(QStandardItemModel(0, 7))
    old.horizontalHeader().moveSection(STATUS, 0)
    old.setColumnHidden(ALBUM, True)
    window.settings.store.setValue("window/table-header", old.horizontalHeader().saveState())
    window.settings.store.remove("window/table-columns")
    updated = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(updated)
    assert order(updated.table) == [STATUS, TITLE, ARTIST, ALBUM, TRACK_NUMBER, YEAR, LENGTH, FILE_GENRE, GENRE, CONFIDENCE,
                                    FOLDER]
    assert [updated.table.isColumnHidden(c) for c in (ALBUM, LENGTH, FOLDER)] == [True, False, True]
    assert [a.isChecked() for a in updated.column_choices.actions] == [True, True, False, True, True, True, True, True, False,
                                                                      True, True]
    # Shown by the listener, moved left of the title and the length hidden: kept so at the next start.
    updated.column_choices.actions[FOLDER].trigger()
    updated.column_choices.actions[LENGTH].trigger()
    moved = updated.table.horizontalHeader()
    moved.moveSection(moved.visualIndex(FOLDER), moved.visualIndex(TITLE))
    kept = order(updated.table)
    updated.close()
    again = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(again)
    assert order(again.table) == kept and kept.index(FOLDER) < kept.index(TITLE)
    assert [again.table.isColumnHidden(c) for c in (ALBUM, LENGTH, FOLDER)] == [True, True, False]
    # A header saved by the version before Year and # (nine columns, 2026-12-05): they come right of the album, as at
    # a first start, and the listener's folder, moved first and shown, the hidden length and album stay as they were.
    nine_kept = [c for c in kept if c < 9]  # the nine columns in the order the listener left them
    nine = QTableView()
    nine.setModel(QStandardItemModel(0, 9))
    for visual, column in enumerate(nine_kept):
        nine.horizontalHeader().moveSection(nine.horizontalHeader().visualIndex(column), visual)
    for column in (ALBUM, LENGTH):
        nine.setColumnHidden(column, True)
    window.settings.store.setValue("window/table-header", nine.horizontalHeader().saveState())
    window.settings.store.setValue("window/table-columns", 9)
    again.close()
    later = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(later)
    at_album = nine_kept.index(ALBUM) + 1
    assert order(later.table) == nine_kept[:at_album] + [TRACK_NUMBER, YEAR] + nine_kept[at_album:]
    assert [later.table.isColumnHidden(c) for c in (ALBUM, LENGTH, FOLDER, TRACK_NUMBER, YEAR)] == [True, True, False,
                                                                                                   False, False]


def test_fit_columns_to_window_hands_widths_set_by_hand_back_to_the_window(qtbot, window):
    # Once a border was dragged the widths never followed the window again, with no way back but the settings file.
    from desktop.ui.table_model import ALBUM, TITLE

    table, header = shown_scanned(qtbot, window)
    fitted = table.columnWidth(TITLE)
    table.setColumnWidth(ALBUM, 600)  # as a drag of its border does
    assert window.column_fitter.by_user and header.length() > table.viewport().width()
    next(a for a in columns_menu(window).actions() if a.text() == "Fit Columns to Window").trigger()
    assert not window.column_fitter.by_user
    assert table.columnWidth(TITLE) == fitted and header.length() <= table.viewport().width()
    window.map_dock.show()  # and they follow the window again
    qtbot.waitUntil(lambda: table.columnWidth(TITLE) < fitted)


def test_copy_puts_the_selected_tracks_on_the_clipboard_as_the_table_shows_them(qtbot, window):
    # Ctrl+C in the table copied the current cell alone: a listener pasting tracks into a spreadsheet got one word.
    from PySide6.QtGui import QGuiApplication

    from desktop.ui.table_model import (
        ALBUM,
        ARTIST,
        CONFIDENCE,
        FILE_GENRE,
        LENGTH,
        STATUS,
        TITLE,
        TRACK_NUMBER,
        YEAR,
    )

    scan(qtbot, window)
    assert window.copy_action.shortcutContext() == Qt.ShortcutContext.WidgetShortcut  # the search box keeps its Ctrl+C
    assert window.copy_action in window.table.actions() and window.copy_action in window.track_menu_actions()
    assert not window.copy_action.isEnabled()  # nothing selected
    window.column_choices.actions[ALBUM].trigger()
    window.column_choices.actions[STATUS].trigger()
    header = window.table.horizontalHeader()
    header.moveSection(header.visualIndex(CONFIDENCE), 0)  # dragged to the front
    window.search.setText("Track")
    window.table.selectAll()
    window.copy_action.trigger()
    lines = QGuiApplication.clipboard().text().split("\n")
    rows = [window.shown_row(r) for r in range(window.proxy.rowCount())]
    assert len(lines) == len(rows) > 1
    for line, row in zip(lines, rows, strict=True):
        assert line.split("\t") == [row.cell(c) for c in (CONFIDENCE, TITLE, ARTIST, TRACK_NUMBER, YEAR, LENGTH, FILE_GENRE,
                                                           GENRE)]
    assert window.statusBar().currentMessage() == f"Copied {len(rows)} tracks"


def test_the_table_drags_tracks_out_as_copies_and_takes_no_drop(window):
    from PySide6.QtWidgets import QAbstractItemView

    assert window.table.dragEnabled() and window.table.dragDropMode() == QAbstractItemView.DragDropMode.DragOnly
    assert window.table.defaultDropAction() == Qt.DropAction.CopyAction


def test_copied_cells_keep_to_their_own_column():
    from desktop.ui.window_words import tab_separated

    assert tab_separated([["a\tb", "c\nd"], ["e\r\nf", ""]]) == "a b\tc d\ne f\t"
    assert tab_separated([]) == ""


def test_a_saved_header_cannot_hide_the_title_or_the_genre(qtbot, window):
    from desktop.ui.table_model import ALBUM, TITLE

    header = window.table.horizontalHeader()
    header.hideSection(TITLE)
    header.hideSection(GENRE)
    header.hideSection(ALBUM)
    window.settings.store.setValue("window/table-header", header.saveState())  # as an edited settings file might
    again = MainWindow(window.sessions, window.settings)
    qtbot.addWidget(again)
    assert [again.table.isColumnHidden(c) for c in (TITLE, GENRE, ALBUM)] == [False, False, True]
    assert [a.isChecked() for a in again.column_choices.actions][:5] == [True, True, False, True, True]


def test_shared_columns_keep_their_floors_and_the_others_give_way():
    from desktop.ui.column_fit import LEAST, share_out

    shares = {0: 3.0, 1: 2.0, 2: 1.0}
    assert share_out(600, shares, {}) == {0: 300, 1: 200, 2: 100}  # room for all: the shares alone
    assert share_out(600, shares, {2: 150}) == {2: 150, 0: 270, 1: 180}  # short of its floor: the others share the rest
    assert share_out(120, shares, {2: 90}) == {2: 90, 0: LEAST, 1: LEAST}  # too narrow: floors kept, the table scrolls
    assert share_out(600, shares, {0: 100}) == {0: 300, 1: 200, 2: 100}  # a floor under its share changes nothing


def test_a_narrow_window_keeps_the_genre_and_the_title_readable(qtbot, window):
    # At 800 px the genre column was 48 px ("Clas…", "Reg…") and the title "blues.0…", while "Confidence" kept
    # the width of its title for values like "61%".
    from desktop.core.genre_names import shown_genre
    from desktop.services.learning import merge_and_rename
    from desktop.ui.table_model import CONFIDENCE, STATUS, TITLE

    scan(qtbot, window)
    merge_and_rename(window.sessions, "Beats", "Instrumental Hip Hop")  # the listener's name for the model's "beats"
    window.refresh()
    window.resize(800, 560)
    window.show()
    qtbot.waitExposed(window)
    table, metrics = window.table, window.table.fontMetrics()
    qtbot.waitUntil(lambda: table.viewport().width() < 500)
    assert "Instrumental Hip Hop" in [shown_genre(label, window._spellings) for label in window.labels]
    words = lambda text: metrics.horizontalAdvance(text) + 2 * metrics.averageCharWidth()  # noqa: E731
    assert table.columnWidth(GENRE) >= words("Instrumental H")  # 14 characters of the longest genre
    assert table.columnWidth(TITLE) >= 12 * metrics.averageCharWidth()
    assert words("100%") <= table.columnWidth(CONFIDENCE) < table.horizontalHeader().sectionSizeHint(CONFIDENCE)
    assert table.columnWidth(STATUS) >= words("uncertain")
    model = window.proxy
    assert model.headerData(CONFIDENCE, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole).startswith("Confidence: ")
    window.resize(1400, 800)  # room again: every title whole
    qtbot.waitUntil(lambda: table.columnWidth(CONFIDENCE) >= table.horizontalHeader().sectionSizeHint(CONFIDENCE))


def test_a_folder_dropped_on_the_window_is_added_and_scanned(qtbot, window, tmp_path):
    # Dragging a music folder from the file manager onto the window did nothing.
    from PySide6.QtCore import QMimeData, QPoint, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    more = tmp_path / "More Music"
    make_library(more, seconds=3.0)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(more)), QUrl.fromLocalFile(str(next(iter(window.files.values())))),
                  QUrl("https://example.org/music")])
    assert window.acceptDrops() and window.dropped_folders(mime) == [str(more)]  # a folder; not a file, not a link
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter.ignore()
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert str(more) in window.settings.folders and window.scan_job is not None
    qtbot.waitUntil(lambda: window.scan_job is None, timeout=60_000)
    assert any(window.shown_row(r).path.startswith(str(more)) for r in range(window.proxy.rowCount()))
    only_files = QMimeData()
    only_files.setUrls([QUrl.fromLocalFile(str(next(iter(window.files.values()))))])
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, only_files, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter.ignore()
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_forget_genre_set_by_hand_shows_the_prediction_again(qtbot, window):
    # A genre set by hand could not be taken back once its write was no longer the last: the track
    # stayed protected from automatic tagging and kept teaching learning.
    scan(qtbot, window)
    row = window.table_model.row_at(0)
    window.correct([row.id], "Shoegaze")
    wait_write(qtbot, window)
    window.table.selectRow(window.proxy.mapFromSource(window.table_model.index(window.table_model.row_of(row.id), 0)).row())
    window.forget_action.trigger()
    wait_write(qtbot, window)
    shown = window.table_model.row_at(window.table_model.row_of(row.id))
    assert not shown.corrected and shown.genre == row.genre
    assert read_tags(row.path).genres == ("Shoegaze",)  # the file is not touched
    assert window.statusBar().currentMessage().startswith("Forgot the genre set by hand of 1 track")
    window.forget_action.trigger()
    wait_write(qtbot, window)
    assert window.statusBar().currentMessage() == "No genre set by hand among the selected tracks"


def test_keep_the_files_genre_sets_each_selected_tracks_own_tag_by_hand(qtbot, window):
    # Tracks to review because "file says Polka" and "file says Jazz" could keep their right tags only one genre
    # at a time (Set Genre… gives every selected track one genre).
    tagged = {window.files["flac"]: "Polka", window.files["mp3"]: "Jazz"}
    for path, genre in tagged.items():
        write_genres(path, [genre])
    scan(qtbot, window)
    before = {path: path.read_bytes() for path in tagged}
    rows = [r for r in (window.shown_row(i) for i in range(window.proxy.rowCount())) if Path(r.path) in tagged]
    untagged = next(r for r in (window.shown_row(i) for i in range(window.proxy.rowCount())) if not r.file_genre)
    selection = window.table.selectionModel()
    for row in [*rows, untagged]:
        index = window._shown_index(row.id)
        selection.select(index, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    assert window.keep_action.isEnabled() and window.keep_action in window.track_menu_actions()
    window.keep_action.trigger()
    wait_write(qtbot, window)
    for row in rows:
        shown = window.table_model.row_at(window.table_model.row_of(row.id))
        assert shown.corrected and shown.genre == tagged[Path(row.path)]
    assert not window.table_model.row_at(window.table_model.row_of(untagged.id)).corrected
    assert {path: path.read_bytes() for path in tagged} == before  # no file written
    assert window.statusBar().currentMessage() == ("Kept the genre its tag says on 2 tracks, as set by hand (Forget Genre "
                                                   "Set by Hand takes it back); 1 track left: no genre in the tag "
                                                   "(Set Genre… sets one)")


def test_learn_my_genres_says_why_nothing_was_learned_where_the_listener_looks(qtbot, window):
    # The reason only went to the problems panel at the bottom; the listener who asked saw nothing happen.
    scan(qtbot, window)
    window.learn_action.trigger()
    qtbot.waitUntil(lambda: window.learn_job is None and window.reload_job is None and window.learn_problem is not None, timeout=60_000)
    assert window.learn_problem.isVisible() and window.learn_problem.text().startswith("cannot learn yet")
    assert window.learn_problem.windowTitle() == "Nothing learned yet"
    window.learn_problem.close()


def test_undo_says_what_it_would_revert(qtbot, window):
    # "Undo Last Write" gave no hint of which write it would take back, and was offered with nothing to undo.
    from desktop.ui.window_words import undo_words

    scan(qtbot, window)
    assert not window.undo_action.isEnabled() and window.undo_action.text() == "Undo Last Write"
    ids = [window.table_model.row_at(r).id for r in range(2)]
    window.correct(ids, "Lo-fi")
    wait_write(qtbot, window)
    assert window.undo_action.isEnabled() and window.undo_action.text() == "Undo “correction: Lo-fi” (2 files)"
    window.undo_last()
    wait_write(qtbot, window)
    assert not window.undo_action.isEnabled() and window.undo_action.text() == "Undo Last Write"
    assert undo_words("scan /home/someone/Music/Collections/Jazz (fill)", 1200) == \
        "“scan /home/someone/Music/Collections/Ja…” (1,200 files)"  # 40 characters with the …


def test_write_history_undoes_an_older_batch_and_keeps_the_newer(qtbot, window):
    # The window could undo only the newest batch; an older one (yesterday's apply, under today's
    # corrections) needed the command line's `undo --batch N`.
    scan(qtbot, window)
    first, second = window.table_model.row_at(0), window.table_model.row_at(1)
    window.correct([first.id], "Lo-fi")
    wait_write(qtbot, window)
    window.correct([second.id], "Drone")
    wait_write(qtbot, window)
    dialog = window.show_write_history()
    assert [dialog.table.horizontalHeaderItem(c).text() for c in range(4)] == ["When", "What", "Files", "State"]
    assert [dialog.table.item(r, 1).text() for r in range(2)] == ["correction: Drone", "correction: Lo-fi"]
    assert not dialog.undo_button.isEnabled()  # nothing chosen yet
    dialog.table.selectRow(1)
    assert dialog.undo_button.isEnabled()
    dialog.undo_button.click()
    wait_write(qtbot, window)
    assert read_tags(first.path).genres == () and read_tags(second.path).genres == ("Drone",)
    rows = {window.table_model.row_at(r).id: window.table_model.row_at(r) for r in range(window.table_model.rowCount())}
    assert not rows[first.id].corrected and rows[second.id].corrected
    dialog = window.show_write_history()
    assert dialog.table.item(1, 3).text() == "undone"
    dialog.table.selectRow(1)
    assert not dialog.undo_button.isEnabled()  # already undone
    dialog.table.selectRow(0)
    assert dialog.undo_button.isEnabled()
    dialog.close()


def test_a_library_on_read_only_media_opens_for_browsing_and_changes_nothing(qtbot, window, tmp_path):
    # The window could not open a library on read-only media at all (the command line could list it): it opens
    # now for browsing, playing and playlists, with everything that would change it off, and says why.
    from desktop.store.database import open_read_only

    scan(qtbot, window)
    window.correct([window.table_model.row_at(0).id], "Lo-fi")
    wait_write(qtbot, window)
    db = Path(window.sessions.kw["bind"].url.database)
    window.close()
    window.sessions.kw["bind"].dispose()  # closed: its WAL merged in, as a library copied to a disc would be
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    files = {p: p.read_bytes() for p in window.files.values()}
    reader = MainWindow(open_read_only(db), window.settings)
    qtbot.addWidget(reader)
    assert reader.read_only and reader.windowTitle() == "Genre Tagger (read-only library)"
    assert reader.table_model.rowCount() == len(window.files) and reader.read_only_label.text() == "Read-only library"
    assert not any(a.isEnabled() for a in (reader.add_folder_action, reader.scan_action, reader.apply_action,
                                           reader.learn_action, reader.undo_action))
    reader.table.selectRow(0)
    assert reader.play_action.isEnabled() and reader.copy_paths_action.isEnabled()
    assert not reader.set_genre_action.isEnabled() and not reader.forget_action.isEnabled()
    assert not reader.keep_action.isEnabled()
    assert not reader.leave_out_action.isEnabled()
    seen = []

    def look_at_settings(dialog):
        seen.append([w.isEnabled() for w in (dialog.left_out, *dialog.left_out_buttons)])
        return SettingsDialog.DialogCode.Rejected

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SettingsDialog, "exec", look_at_settings)
        reader.open_settings()
    assert seen == [[False, False, False]]  # the folders left out are the library's
    genre_cell = reader.proxy.index(0, GENRE)
    assert not reader.proxy.flags(genre_cell) & Qt.ItemFlag.ItemIsEditable
    dragged = reader.proxy.mimeData([reader.proxy.index(0, 0)])
    assert not any(reader.genres.canDropMimeData(dragged, Qt.DropAction.CopyAction, -1, -1, reader.genres.index(row))
                   for row in range(reader.genres.rowCount()))  # no genre takes dropped tracks
    reader.start_scan()
    assert reader.scan_job is None
    assert reader.run_write(lambda report, cancel: None, "") is None and not reader.write_busy
    reader.add_folders([str(tmp_path)])
    assert "read-only where it is" in reader.statusBar().currentMessage() and reader.settings.folders == window.settings.folders
    history = reader.show_write_history()
    history.table.selectRow(0)
    assert history.table.item(0, 1).text() == "correction: Lo-fi" and not history.undo_button.isEnabled()
    history.close()
    reader.rename_genre("Lo-fi", target="Chill")
    assert reader.learn_genres() is None
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name in before} == before
    assert {p: p.read_bytes() for p in window.files.values()} == files
    full = MainWindow(open_read_only(db, ("while its disk is full (0 KB free)", "make room on its disk and open it again")),
                      window.settings)  # as open_database(read_only=True) opens a library whose disk is full
    qtbot.addWidget(full)
    full.add_folders([str(tmp_path)])
    assert full.read_only_label.toolTip() == full.statusBar().currentMessage() == ("This library is read-only while its disk is full (0 KB free): make room "
                                                 "on its disk and open it again to scan, tag or correct")


def test_a_status_message_too_long_beside_the_models_and_scans_labels_hides_them_until_it_goes(qtbot, window):
    # "learned your 5 genres …; not used: … so it stays in use (Learn" — cut off by the labels on its right.
    window.resize(900, 600)
    window.show()
    qtbot.waitExposed(window)
    window.progress_label.setText("Scan done: 51 files, 0 analysed")
    window.statusBar().showMessage("Saved 3 tracks")
    assert window.model_label.isVisible() and window.progress_label.isVisible()
    long = "learned your 5 genres from 50 tracks; not used: the shipped model gets more of these tracks right " * 2
    window.statusBar().showMessage(long)
    assert not window.model_label.isVisible() and not window.progress_label.isVisible()
    window.statusBar().clearMessage()
    assert window.model_label.isVisible() and window.progress_label.isVisible()


def test_a_status_message_longer_than_the_bar_ends_in_an_ellipsis_and_is_whole_on_hover(qtbot, window):
    # At 1024 px the readiness hint ran off the window's edge mid-word ("…metal: 6 by 1").
    from PySide6.QtWidgets import QStatusBar

    window.resize(800, 560)
    window.show()
    qtbot.waitExposed(window)
    bar = window.statusBar()
    message = "Nothing learned from your library yet; " + ", ".join(f"genre {n}: {n} by 1 artist" for n in range(20))
    bar.showMessage(message)
    drawn = QStatusBar.currentMessage(bar)  # what Qt draws
    assert drawn.endswith("…") and bar.fontMetrics().horizontalAdvance(drawn) <= bar.width()
    assert bar.currentMessage() == bar.toolTip() == message
    window.resize(1300, 560)  # wider: more of it shows; narrower again: it is fitted again, not cut at the edge
    qtbot.waitUntil(lambda: len(QStatusBar.currentMessage(bar)) > len(drawn))
    window.resize(700, 560)
    qtbot.waitUntil(lambda: len(QStatusBar.currentMessage(bar)) < len(drawn))
    assert QStatusBar.currentMessage(bar).endswith("…") and bar.currentMessage() == bar.toolTip() == message
    assert bar.fontMetrics().horizontalAdvance(QStatusBar.currentMessage(bar)) <= bar.width()
    bar.showMessage(message, 300)  # a message for a time: resized, it still goes when its time is up
    window.resize(900, 560)
    qtbot.waitUntil(lambda: QStatusBar.currentMessage(bar).endswith("…") and bar.width() > 800)
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=2000)
    bar.showMessage("Saved 3 tracks")  # one that fits: as it is, no tooltip
    assert QStatusBar.currentMessage(bar) == bar.currentMessage() == "Saved 3 tracks" and not bar.toolTip()
    bar.clearMessage()
    assert bar.currentMessage() == "" and not bar.toolTip()


def test_a_status_label_too_long_for_the_window_ends_in_an_ellipsis_and_says_it_all_on_hover(qtbot, window):
    # Learn's verdict ("… so it stays in use") beside the model's label ran past the window's edge, cut mid-word.
    window.resize(900, 600)
    window.show()
    qtbot.waitExposed(window)
    long = ("Learned 10 genres from 68 of your tracks, about 65% right on artists it had not seen; not used: the "
            "shipped model gets more of these tracks right (100% against 65%), so it stays in use")
    window.progress_label.setText(long)
    qtbot.waitUntil(lambda: window.progress_label.shown_text().endswith("…"))  # once the bar has laid it out
    assert len(window.progress_label.shown_text()) > 10  # words, not an ellipsis alone
    assert window.progress_label.geometry().right() <= window.statusBar().width() and window.width() <= 900
    assert window.progress_label.toolTip() == long and window.progress_label.text() == long
    window.progress_label.setText("Scan done: 51 files, 0 analysed")  # short again: whole, no tooltip
    qtbot.waitUntil(lambda: window.progress_label.shown_text() == "Scan done: 51 files, 0 analysed")
    assert window.progress_label.toolTip() == ""


def test_a_job_stopped_as_asked_is_logged_as_news_not_as_a_problem(qtbot, caplog):
    # A learn the listener cancelled was logged as a warning beside real failures ("learn job: learning stopped…").
    import logging

    from desktop.core.errors import GenreTaggerError
    from desktop.ui.workers import Job, start_job

    def stops(_report, cancel):
        cancel.wait(10)
        raise GenreTaggerError(None, "stopped as asked; nothing changed")

    def fails(_report, _cancel):
        raise GenreTaggerError(None, "the model file is gone")

    caplog.set_level(logging.INFO, logger="desktop.ui.workers")
    stopped, failed = Job(stops, "learn"), Job(fails, "learn")
    for job in (stopped, failed):
        start_job(job)
    stopped.cancel()
    qtbot.waitUntil(lambda: stopped.error is not None and failed.error is not None, timeout=10_000)
    levels = {r.getMessage(): r.levelno for r in caplog.records if r.name == "desktop.ui.workers"}
    assert levels == {"learn job: stopped as asked; nothing changed": logging.INFO,
                      "learn job: the model file is gone": logging.WARNING}


def test_a_job_the_system_refuses_a_file_names_the_file_and_the_reason(qtbot):
    # An export's worker that met a name too long said "OSError: [Errno 36] File name too long: '/…'", as a bug.
    import errno

    from desktop.ui.workers import Job, start_job

    def refused(_report, _cancel):
        raise OSError(errno.ENAMETOOLONG, "File name too long", "/music/" + "y" * 300)

    def unnamed(_report, _cancel):
        raise OSError(errno.EIO, "Input/output error")

    said = {}
    jobs = [Job(refused, "export"), Job(unnamed, "export")]
    for job in jobs:
        job.failed.connect(lambda text, job=job: said.setdefault(job, text))
        start_job(job)
    qtbot.waitUntil(lambda: len(said) == 2, timeout=10_000)
    assert said[jobs[0]] == "/music/" + "y" * 300 + ": File name too long"
    assert said[jobs[1]] == "OSError: [Errno 5] Input/output error"  # no file named: still said as what it is


def test_a_job_the_library_database_fails_says_sqlites_words_not_the_sql(qtbot):
    # A scan on a library whose disk filled said "OperationalError: (sqlite3.OperationalError) database or disk is
    # full [SQL: INSERT INTO …] [parameters: (…)] (Background on this error at: https://sqlalche.me/…)".
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from desktop.ui.workers import Job, start_job

    def full(_report, _cancel):
        raise OperationalError("INSERT INTO tracks (path) VALUES (?)", ("/music/a.flac",),
                               sqlite3.OperationalError("database or disk is full"))

    said = []
    job = Job(full, "scan")
    job.failed.connect(said.append)
    start_job(job)
    qtbot.waitUntil(lambda: bool(said), timeout=10_000)
    assert said == ["database error (OperationalError: database or disk is full)"]


def test_a_status_message_beside_the_labels_is_never_drawn_under_them(qtbot, window):
    # At 800 px "10 of your library's genres are ready to learn: Learn My Ge" ran under the model's and the scan's
    # labels: the room was reckoned as if the scan's label gave up its width to a message, which it never does.
    window.resize(800, 560)
    window.show()
    qtbot.waitExposed(window)
    window.progress_label.setText("Scan done: 101 files, 101 analysed")
    for message in ("Saved 3 tracks", "10 of your library's genres are ready to learn: Learn My Genres learns them"):
        window.statusBar().showMessage(message)
        qtbot.wait(50)  # the bar lays out its labels again
        shown = [w for w in (window.model_label, window.progress_label) if w.isVisible()]
        free = min((w.x() for w in shown), default=window.statusBar().width())
        assert window.statusBar().fontMetrics().horizontalAdvance(message) < free, (message, free)
    assert not window.model_label.isVisible()  # the long one: the labels made way, back when it goes
    window.statusBar().clearMessage()
    assert window.model_label.isVisible() and window.progress_label.isVisible()


def test_a_write_and_its_undo_update_only_the_rows_they_changed(qtbot, window, monkeypatch):
    # Every correction, write and undo reloaded every row of the table: 1.5 s with the window held at 100,000 tracks.
    scan(qtbot, window)
    reloads, real = [], window.table_model.set_rows
    monkeypatch.setattr(window.table_model, "set_rows", lambda rows: (reloads.append(len(rows)), real(rows))[1])
    ids = [window.table_model.row_at(r).id for r in range(2)]
    untouched = {r.id: r for r in map(window.table_model.row_at, range(window.table_model.rowCount())) if r.id not in ids}

    def sidebar() -> dict:
        return {window.genres.index(r, 0).data(GENRE_ROLE): window.genres.index(r, 0).data() for r in range(window.genres.rowCount())}

    window.correct(ids, "Zydeco")
    wait_write(qtbot, window)
    rows = {r.id: r for r in map(window.table_model.row_at, range(window.table_model.rowCount()))}
    assert all(rows[i].genre == "Zydeco" and rows[i].corrected for i in ids)
    assert {i: rows[i] for i in untouched} == untouched
    assert sidebar()["Zydeco"] == "Zydeco  (2)" and window.undo_action.text() == "Undo “correction: Zydeco” (2 files)"
    window.undo_last()
    wait_write(qtbot, window)
    rows = {r.id: r for r in map(window.table_model.row_at, range(window.table_model.rowCount()))}
    assert all(rows[i].genre != "Zydeco" and not rows[i].corrected for i in ids) and "Zydeco" not in sidebar()
    assert reloads == []


def test_settings_the_system_will_not_write_are_named_in_problems_and_held_until_it_will(qtbot, tmp_path):
    # A settings file the system refused (its folder a `sudo` run's, a disk full) lost every setting in silence: the
    # music folder just added was asked for again at the next start.
    blocker = tmp_path / "config"
    blocker.write_text("a file where the settings' folder belongs")
    ini = blocker / "settings.ini"
    settings = AppSettings(QSettings(str(ini), QSettings.Format.IniFormat))
    win = MainWindow(open_database(tmp_path / "lib.db"), settings)
    qtbot.addWidget(win)
    settings.policy = "replace"
    win.save_settings()
    assert [win.errors.item(i).text() for i in range(win.errors.count())] == [
        f"{ini}: settings not saved ({blocker} is not a folder); they hold until the window closes"]
    assert settings.policy == "replace" and settings.tagging().policy == "replace"
    settings.store.setValue("window/splitter", "laid out")  # as closing the window sets its layout
    blocker.unlink()  # the obstacle gone, the next save keeps them (a QSettings keeps its first error for good)
    win.clear_problems()
    win.save_settings()
    assert win.errors.count() == 0 and AppSettings(QSettings(str(ini), QSettings.Format.IniFormat)).policy == "replace"
    assert QSettings(str(ini), QSettings.Format.IniFormat).value("window/splitter") == "laid out"
    win.close()


def test_settings_the_system_will_not_read_are_named_not_taken_for_a_first_start(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from desktop.core import paths
    from desktop.ui import app
    from desktop.ui.app_settings import system_reason

    ini = tmp_path / "settings.ini"
    ini.mkdir()  # what the system refuses to read as a file
    assert AppSettings(QSettings(str(ini), QSettings.Format.IniFormat)).unreadable == (
        "settings not read (Is a directory); the defaults are used")
    for first in (tmp_path / "new.ini", tmp_path / "no" / "folder" / "yet.ini"):  # a first start: nothing to say
        assert AppSettings(QSettings(str(first), QSettings.Format.IniFormat)).unreadable is None
    os.mkfifo(tmp_path / "pipe.ini")  # asked why, never opened: a pipe would wait for good
    assert system_reason(str(tmp_path / "pipe.ini"), "a") == "not a file (a device, pipe or socket)"
    shown = []
    monkeypatch.setattr(paths, "settings_file", lambda: ini)
    monkeypatch.setattr(MainWindow, "show", lambda window: shown.append(window))
    monkeypatch.setattr(MainWindow, "scan_or_ask", lambda window: None)
    monkeypatch.setattr(QApplication, "exec", lambda self: qtbot.wait(50) or 0)
    assert app.main(["--db", str(tmp_path / "lib.db")]) == 0
    assert shown[0].errors.item(0).text() == f"{ini}: settings not read (Is a directory); the defaults are used"
    shown[0].close()
