"""Music copied into the watched folders while the window is open is scanned; tag writes and covers are not."""

import os
import shutil
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QSettings

from desktop.core.folder_changes import music_folder_names
from desktop.store.database import open_database
from desktop.ui.app_settings import AppSettings
from desktop.ui.folder_watch import FolderWatch
from desktop.ui.main_window import MainWindow
from tests.audio_files import make_track


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def watching(qtbot, folder, settle_s=0.0) -> FolderWatch:
    watch = FolderWatch(quiet_ms=150, settle_s=settle_s)
    watch.watch(music_folder_names([folder]))
    return watch


def test_tag_writes_covers_and_hidden_copies_ask_for_no_scan_music_does(qtbot, tmp_path):
    music = tmp_path / "music"
    song = touch(music / "song.mp3")
    watch = watching(qtbot, music)
    with qtbot.assertNotEmitted(watch.changed, wait=1000):
        copy = touch(music / ".song.genre-tagger-tmp.mp3", b"tagged")  # our write: a hidden copy renamed over it
        os.replace(copy, song)
        touch(music / "cover.jpg")
        with open(song, "r+b") as f:  # another tagger writes in place
            f.write(b"y")
    with qtbot.waitSignal(watch.changed, timeout=5000) as heard:
        touch(music / "new.flac")
    assert heard.args == [[str(music)]]
    with qtbot.waitSignal(watch.changed, timeout=5000) as heard:
        os.rename(music / "new.flac", music / "renamed.flac")
    with qtbot.waitSignal(watch.changed, timeout=5000):
        song.unlink()


def test_a_new_folder_is_watched_at_once_and_one_removed_is_heard(qtbot, tmp_path):
    music = tmp_path / "music"
    touch(music / "song.mp3")
    watch = watching(qtbot, music)
    assert watch.watching() == 1
    with qtbot.waitSignal(watch.changed, timeout=5000):
        (music / "Album").mkdir()
    assert watch.watching() == 2
    with qtbot.waitSignal(watch.changed, timeout=5000) as heard:
        touch(music / "Album" / "one.ogg")  # copied in after the folder was made
    assert heard.args == [[str(music / "Album")]]
    with qtbot.waitSignal(watch.changed, timeout=5000):
        shutil.rmtree(music / "Album")
    qtbot.waitUntil(lambda: watch.watching() == 1)


def test_a_folder_left_out_of_the_library_is_not_watched_nor_one_made_in_it(qtbot, tmp_path):
    music = tmp_path / "music"
    touch(music / "song.mp3")
    touch(music / "Audiobooks" / "Book" / "one.mp3")
    left_out = [str(music / "Audiobooks"), str(music / "Podcasts")]  # the second not made yet
    watch = FolderWatch(quiet_ms=150, settle_s=0.0)
    watch.watch(music_folder_names([music], left_out=left_out), left_out=left_out)
    assert watch.watching() == 1
    with qtbot.assertNotEmitted(watch.changed, wait=1000):
        touch(music / "Audiobooks" / "Book" / "two.mp3")
        (music / "Podcasts").mkdir()
    assert watch.watching() == 1
    with qtbot.waitSignal(watch.changed, timeout=5000):
        (music / "Album").mkdir()  # a folder a scan walks: watched at once
    with qtbot.waitSignal(watch.changed, timeout=5000):
        touch(music / "Album" / "one.ogg")
    assert watch.watching() == 2


def test_a_file_still_being_copied_is_waited_for(qtbot, tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    watch = watching(qtbot, music, settle_s=1.5)
    with qtbot.waitSignal(watch.changed, timeout=10_000):
        song = touch(music / "big.flac")
    assert time.time() - song.stat().st_mtime >= 1.5  # not while it might still grow
    camera = touch(music / "clock.flac")
    os.utime(camera, (time.time() + 3600, time.time() + 3600))  # stamped in the future: not being copied
    started = time.monotonic()
    with qtbot.waitSignal(watch.changed, timeout=10_000):
        touch(music / "later.mp3")
        os.utime(music / "later.mp3", (0, 0))
    assert time.monotonic() - started < 1.4


def test_more_folders_than_the_limit_are_counted_not_watched(qtbot, tmp_path):
    for name in "abc":
        touch(tmp_path / name / "song.mp3")
    watch = FolderWatch()
    watch.watch(music_folder_names([tmp_path]), limit=2)
    assert (watch.watching(), watch.unwatched) == (2, 2)
    watch.stop()
    assert watch.watching() == 0


def test_a_folder_gone_since_it_was_listed_is_not_counted_as_one_past_the_limit(qtbot, tmp_path):
    # The folders are listed in the background; one renamed meanwhile failed to be watched, and the window said
    # "watching 0 folders for new music; 2 more are not watched (past 20,000, or the system's limit …)".
    for name in ("Music", "Music/A"):
        touch(tmp_path / name / "song.mp3")
    listed = music_folder_names([tmp_path / "Music"])
    (tmp_path / "Music").rename(tmp_path / "Musik")
    watch = FolderWatch()
    watch.watch(listed)
    assert (watch.watching(), watch.unwatched) == (0, 0)


@pytest.fixture
def watched_window(qtbot, tmp_path, exported_model):
    music = tmp_path / "music"
    make_track(music / "a", "one", "tones", "flac", seconds=3.0)
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.model_path, settings.folders, settings.device = str(exported_model), [str(music)], "cpu"
    assert settings.watch_folders  # on unless turned off
    win = MainWindow(open_database(tmp_path / "lib.db"), settings)
    qtbot.addWidget(win)
    win.folder_watch.quiet_timer.setInterval(150)
    win.folder_watch.settle_s = 0.0
    win.music = music
    win.start_scan()
    qtbot.waitUntil(lambda: win.scan_job is None and win.folder_watch.watching() == 2, timeout=60_000)
    return win


@pytest.mark.usefixtures("need_ffmpeg")
def test_music_copied_into_a_watched_folder_shows_and_music_removed_goes(qtbot, watched_window, tmp_path):
    win = watched_window
    album = make_track(tmp_path / "incoming" / "b", "two", "noise", "ogg", seconds=3.0).parent
    shutil.move(album, win.music / "b")  # a whole album moved in
    qtbot.waitUntil(lambda: win.table_model.rowCount() == 2, timeout=60_000)
    assert f"Music came or went in {win.music}" in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: win.scan_job is None and win.watch_job is None, timeout=60_000)  # listed again
    assert win.folder_watch.watching() == 3
    (win.music / "b" / "two.ogg").unlink()
    qtbot.waitUntil(lambda: win.table_model.rowCount() == 1, timeout=60_000)


@pytest.mark.usefixtures("need_ffmpeg")
def test_music_that_came_during_a_write_is_scanned_after_it_and_a_cancel_drops_it(qtbot, watched_window, monkeypatch):
    win = watched_window
    scans = []
    monkeypatch.setattr(win, "start_scan", lambda **kw: scans.append(kw))
    win.write_busy = True
    win._music_changed([str(win.music)])
    assert scans == []
    win._write_done()
    qtbot.waitUntil(lambda: scans == [{"changed_folder": str(win.music)}])

    class Cancelled:
        cancelled, problems, set_aside, not_analysed, found, analysed, nothing_found = True, [], 0, 0, 0, 0, ""

    win.scan_job = object()
    win._music_changed([str(win.music)])  # while a scan runs
    win._scan_finished(Cancelled())  # which the listener cancelled: they asked for no scan now
    assert len(scans) == 1


@pytest.mark.usefixtures("need_ffmpeg")
def test_with_watching_turned_off_nothing_is_watched(qtbot, watched_window):
    win = watched_window
    win.settings.watch_folders = False
    win.watch_folders()
    assert win.folder_watch.watching() == 0
    with qtbot.assertNotEmitted(win.folder_watch.changed, wait=800):
        make_track(win.music / "a", "three", "beats", "wav", seconds=3.0)


@pytest.mark.usefixtures("need_ffmpeg")
def test_music_that_came_while_another_process_has_the_library_is_scanned_after_it(qtbot, watched_window, tmp_path,
                                                                                    monkeypatch):
    import desktop.ui.scan_actions as scan_actions

    win = watched_window
    monkeypatch.setattr(scan_actions, "BUSY_RETRY_MS", 300)
    hold = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.readline()")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path / "lib.db.lock")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # `scan --watch` in a terminal
    try:
        assert holder.stdout.readline().strip() == "held"
        make_track(win.music / "a", "two", "noise", "wav", seconds=3.0)
        qtbot.waitUntil(lambda: "Another Genre Tagger is scanning" in win.progress_label.text(), timeout=30_000)
        assert win.errors.count() == 0  # a turn to wait, not a problem
    finally:
        holder.communicate("done\n", timeout=30)
    qtbot.waitUntil(lambda: win.table_model.rowCount() == 2, timeout=60_000)
    assert win.errors.count() == 0


@pytest.mark.usefixtures("need_ffmpeg")
def test_the_folders_are_listed_one_listing_at_a_time_and_again_after(qtbot, watched_window):
    win = watched_window
    win.watch_folders()
    first = win.watch_job
    win.watch_folders()  # a scan ended meanwhile: no second listing beside the first, one after it
    assert win.watch_job is first and win._list_again
    qtbot.waitUntil(lambda: win.watch_job is None and not win._list_again, timeout=30_000)
    assert win.folder_watch.watching() == 2


@pytest.mark.usefixtures("need_ffmpeg")
def test_folders_left_unwatched_are_named_once_in_the_problems(qtbot, watched_window, monkeypatch):
    import desktop.ui.folder_watch as folder_watch
    import desktop.ui.scan_actions as scan_actions

    win = watched_window
    monkeypatch.setattr(folder_watch, "MAX_FOLDERS", 1)
    monkeypatch.setattr(scan_actions, "MAX_FOLDERS", 1)
    for _ in range(2):
        win.watch_folders()
        qtbot.waitUntil(lambda: win.watch_job is None, timeout=30_000)
    assert win.folder_watch.watching() == 1
    assert [win.errors.item(i).text() for i in range(win.errors.count())] == [
        "watching the music folders: watching 1 folder for new music; more are not watched (past 1, or the system's "
        "limit: fs.inotify.max_user_watches); Scan (F5) finds new music there"]


@pytest.mark.usefixtures("need_ffmpeg")
def test_a_music_folder_on_a_drive_connected_again_is_scanned(qtbot, watched_window, tmp_path):
    # Nothing heard a drive come back (its folders were no longer watched): the music added to it elsewhere waited
    # for Scan (F5), as did a drive connected after the window opened without it.
    win = watched_window
    win.return_watch.timer.setInterval(100)
    drive = tmp_path / "drive"
    for song, unplugged_when in (("two", "the window is open"), ("three", "the window opens")):
        shutil.copytree(win.music, drive)
        shutil.rmtree(win.music)  # its mount point gone, as udisks removes it (an unmount is heard as a deletion)
        if unplugged_when == "the window opens":
            win.start_scan()
            qtbot.waitUntil(lambda: win.scan_job is None, timeout=60_000)
        qtbot.waitUntil(lambda: win.return_watch.waiting() == [str(win.music)], timeout=30_000)
        rows = win.table_model.rowCount()
        assert win.table_model.away == [str(win.music)]  # its tracks show greyed meanwhile
        make_track(drive / song, song, "noise", "ogg", seconds=3.0)  # music added to it on another computer
        shutil.move(drive, win.music)  # connected again
        qtbot.waitUntil(lambda rows=rows: win.table_model.rowCount() == rows + 1, timeout=60_000)
        qtbot.waitUntil(lambda: win.scan_job is None and win.watch_job is None, timeout=60_000)
        assert win.return_watch.waiting() == win.table_model.away == [], unplugged_when
        assert not win.return_watch.timer.isActive(), unplugged_when
        assert win.folder_watch.watching() == rows + 2, unplugged_when  # its folders watched again


@pytest.mark.usefixtures("need_ffmpeg")
def test_a_music_folder_that_goes_or_empties_at_once_is_a_drive_unplugged_not_music_deleted(qtbot, watched_window,
                                                                                             tmp_path, monkeypatch):
    win = watched_window
    shutil.rmtree(win.music)  # its mount point gone, as udisks removes it (an unmount is heard as a deletion)
    qtbot.waitUntil(lambda: "gone or empty (a drive unplugged?)" in win.statusBar().currentMessage(), timeout=30_000)
    assert win.scan_job is None and win.table_model.rowCount() == 1  # its track still shows
    win.music.mkdir()  # the mount point left empty
    win.start_scan()  # asked for (the window's start does it too): the track still shows, the folder is named
    qtbot.waitUntil(lambda: win.scan_job is None, timeout=60_000)
    assert win.table_model.rowCount() == 1 and [win.errors.item(i).text() for i in range(win.errors.count())] == [
        f"{win.music}: not there now, or empty (a drive not connected?); its tracks are left as they are"]
    assert win.progress_label.text() == "Scan done: 0 files, 0 analysed"
    scans = []
    monkeypatch.setattr(win, "start_scan", lambda **kw: scans.append(kw))
    win._music_changed([str(win.music / "a")])
    assert scans == [] and "gone or empty" in win.statusBar().currentMessage()
    other = tmp_path / "other"
    make_track(other, "three", "beats", "wav", seconds=3.0)
    win.settings.folders.append(str(other))
    win._music_changed([str(win.music / "a"), str(other)])  # music that came in a folder still there is scanned
    assert scans == [{"changed_folder": str(other)}]
