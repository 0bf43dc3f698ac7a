"""Noticing music that came, went or was renamed in the music folders, and music still being copied in."""

import os
import threading
import time
from pathlib import Path

import pytest

from desktop.core.folder_changes import (
    RACY_S,
    FolderPoll,
    holds_anything,
    music_folder_names,
    written_within,
)


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def settle(*folders):
    """Date folders back past the racy window, as if changed a while ago (a look then trusts their time)."""
    for folder in folders:
        past = time.time() - 2 * RACY_S
        os.utime(folder, (past, past))




def test_the_folders_to_watch_are_those_a_scan_walks_with_the_names_it_looks_at(tmp_path):
    music = tmp_path / "music"
    touch(music / "one.mp3")
    touch(music / "cover.jpg")  # not music: a new cover asks for no scan
    touch(music / "live.shn")  # named by a scan as not read: it looks at it
    touch(music / ".one.genre-tagger-tmp.mp3")  # a tag write's copy, renamed over its file: hidden
    touch(music / ".hidden" / "two.mp3")
    touch(music / "Album" / "Disc 1" / "three.flac")
    os.symlink(music, music / "Album" / "loop")  # walked once, as by the scan
    folders = music_folder_names([music])
    assert folders == {str(music): {"one.mp3", "live.shn", "Album"}, str(music / "Album"): {"Disc 1", "loop"},
                       str(music / "Album" / "Disc 1"): {"three.flac"}}
    assert list(music_folder_names([music], limit=2)) == [str(music), str(music / "Album")]  # nearest first
    assert music_folder_names([tmp_path / "gone", music / "one.mp3"]) == {}
    cancelled = threading.Event()
    cancelled.set()
    assert music_folder_names([music], cancel=cancelled) is None


def test_a_system_without_inode_numbers_lists_every_folder_and_still_ends_a_symlink_loop(tmp_path, without_inodes):
    music = tmp_path / "music"
    for name in ("one.mp3", "A/two.mp3", "B/three.mp3"):
        touch(music / name)
    os.symlink(music, music / "B" / "loop")
    assert music_folder_names([music]) == {str(music): {"one.mp3", "A", "B"}, str(music / "A"): {"two.mp3"},
                                           str(music / "B"): {"three.mp3", "loop"}}


def test_a_poll_names_the_folders_whose_music_came_went_or_was_renamed(tmp_path):
    music = tmp_path / "music"
    song = touch(music / "Album" / "one.flac")
    poll = FolderPoll([music])
    assert poll.look() == []  # the first look sees what is there
    assert poll.look() == []
    copy = touch(music / "Album" / ".one.genre-tagger-tmp.flac", b"tagged")  # a tag write: its copy renamed over it
    os.replace(copy, song)
    touch(music / "Album" / "cover.jpg")
    with open(song, "r+b") as f:  # another tagger, in place
        f.write(b"y")
    assert poll.look() == []
    touch(music / "Album" / "two.ogg")
    assert poll.look() == [str(music / "Album")]
    os.rename(music / "Album" / "two.ogg", music / "Album" / "2.ogg")
    assert poll.look() == [str(music / "Album")]
    touch(music / "New" / "Disc 1" / "three.mp3")  # a new folder and the folders in it
    assert poll.look() == [str(music), str(music / "New"), str(music / "New" / "Disc 1")]
    (music / "New" / "Disc 1" / "three.mp3").unlink()
    (music / "New" / "Disc 1").rmdir()
    assert poll.look() == [str(music / "New"), str(music / "New" / "Disc 1")]


def test_a_poll_and_a_listing_leave_out_the_folders_left_out_of_the_library(tmp_path):
    music = tmp_path / "music"
    touch(music / "Album" / "one.flac")
    touch(music / "Podcasts" / "Show" / "episode.mp3")
    assert music_folder_names([music], left_out=[music / "Podcasts"]) == {
        str(music): {"Album"}, str(music / "Album"): {"one.flac"}}
    poll = FolderPoll([music], left_out=[music / "Podcasts"])
    assert poll.look() == []
    touch(music / "Podcasts" / "Show" / "episode 2.mp3")
    touch(music / "Podcasts" / "New Show" / "episode.mp3")
    assert poll.look() == []  # nothing a scan would walk
    touch(music / "Album" / "two.flac")
    assert poll.look() == [str(music / "Album")]


def test_a_poll_lists_only_folders_whose_time_moved_and_not_those_changed_a_moment_ago(tmp_path, monkeypatch):
    music = tmp_path / "music"
    touch(music / "a" / "one.flac")
    touch(music / "b" / "two.flac")
    settle(music, music / "a", music / "b")
    poll = FolderPoll([music])
    poll.look()
    listed = []
    import desktop.core.folder_changes as folder_changes

    real = folder_changes.music_names
    monkeypatch.setattr(folder_changes, "music_names", lambda folder, *left_out: listed.append(folder.name) or real(folder, *left_out))
    assert poll.look() == [] and listed == []  # one stat per folder, nothing listed
    touch(music / "a" / "three.flac")
    stamp = os.stat(music / "a").st_mtime_ns
    assert poll.look() == [str(music / "a")] and listed == ["a"]
    # A file added within the folder's clock tick leaves its time as it was: a folder changed a moment ago is
    # listed again until its time is older than the racy window.
    touch(music / "a" / "four.flac")
    os.utime(music / "a", ns=(stamp, stamp))
    assert poll.look() == [str(music / "a")]


def test_music_being_written_is_waited_for_and_a_file_stamped_in_the_future_is_not(tmp_path):
    music = tmp_path / "music"
    song = touch(music / "big.flac")
    past, future = time.time() - 10, time.time() + 3600
    os.utime(song, (past, past))
    touch(music / "cover.jpg")  # written now, but not music
    folders = music_folder_names([music])
    assert folders == {str(music): {"big.flac"}} and not written_within(folders, 5.0)
    touch(music / "big.flac")  # being copied in
    assert written_within(folders, 5.0)
    os.utime(song, (future, future))
    assert not written_within(folders, 5.0)
    assert not written_within({str(tmp_path / "gone"): frozenset({"big.flac"})}, 5.0)


def test_the_watch_waits_for_music_to_come_and_for_its_copying_to_end(tmp_path):
    from desktop.services.watching import wait_for_music

    music = tmp_path / "music"
    touch(music / "old.flac")
    poll = FolderPoll([music])
    poll.look()
    long_ago = time.time() - 60
    steps = iter([
        lambda: touch(music / "cover.jpg"),  # not music: goes on waiting
        lambda: touch(music / "Album" / "one.flac"),  # music comes
        lambda: touch(music / "Album" / "two.flac"),  # and more: still coming
        lambda: None,  # quiet, but two.flac was written a moment ago: it may still be being copied
        lambda: [os.utime(song, (long_ago, long_ago)) for song in music.rglob("*.flac")],  # done
    ])
    looks = []

    def sleep(seconds):
        looks.append(seconds)
        next(steps)()

    assert wait_for_music(poll, sleep, poll_s=5.0, settle_s=5.0) == str(music)
    assert looks == [5.0] * 5


def test_a_slow_look_is_made_less_often(tmp_path):
    from desktop.services.watching import wait_for_music

    poll = FolderPoll([tmp_path])
    poll.look()
    clock = iter([0.0, 3.0, 10.0, 12.5])  # two looks: 3 s (a network share), then 2.5 s
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        wait_for_music(poll, sleep, poll_s=5.0, clock=lambda: next(clock))
    assert pauses == [5.0, 12.0, 10.0]


def test_a_folder_gone_or_empty_holds_nothing(tmp_path):
    (tmp_path / "mount point").mkdir()
    touch(tmp_path / "drive" / ".hidden")
    assert not holds_anything(tmp_path / "mount point") and not holds_anything(tmp_path / "gone")
    assert holds_anything(tmp_path / "drive")


@pytest.mark.parametrize("seed", [1, 2])
def test_a_poll_agrees_with_a_full_listing_through_random_changes_and_coarse_clocks(tmp_path, seed):
    # Random adds, removals, renames, folders made and removed, covers and tag writes, looked at after random
    # pauses; half the folder times stay put when the change falls within a FAT clock's 2 s tick.
    import random
    import shutil

    rng, now = random.Random(seed), [1_000_000.0]
    root = tmp_path / "music"
    root.mkdir()
    os.utime(root, (now[0], now[0]))
    poll = FolderPoll([root], clock=lambda: now[0])
    poll.look()
    before = music_folder_names([root])
    for _step in range(150):
        for _ in range(rng.randrange(1, 4)):
            folder = rng.choice([Path(d) for d, _, _ in os.walk(root)])
            stamp = folder.stat().st_mtime
            files = sorted(p for p in folder.iterdir() if p.is_file())
            what = rng.choice(["music", "cover", "tag write", "remove", "rename", "folder", "remove folder"])
            if what == "music":
                touch(folder / f"t{rng.randrange(30)}.flac")
            elif what == "cover":
                touch(folder / "cover.jpg")
            elif what == "tag write" and files:
                os.replace(touch(folder / ".x.genre-tagger-tmp.flac"), rng.choice(files))
            elif what == "remove" and files:
                rng.choice(files).unlink()
            elif what == "rename" and files:
                rng.choice(files).rename(folder / f"m{rng.randrange(30)}.mp3")
            elif what == "folder" and not (folder / f"d{len(files) % 4}").exists():
                (folder / f"d{len(files) % 4}").mkdir()
                os.utime(folder / f"d{len(files) % 4}", (now[0], now[0]))
            elif what == "remove folder" and folder != root:
                stamp = folder.parent.stat().st_mtime
                shutil.rmtree(folder)
                folder = folder.parent
            moved = now[0] if rng.random() < 0.5 or now[0] - stamp >= 2.0 else stamp
            os.utime(folder, (moved, moved))
            now[0] += rng.choice([0.0, 0.3, 1.0])
        now[0] += rng.choice([0.5, 1.0, 2.5, 5.0, 30.0])
        after = music_folder_names([root])
        assert set(poll.look()) == {f for f in set(before) | set(after) if before.get(f) != after.get(f)}
        before = after
