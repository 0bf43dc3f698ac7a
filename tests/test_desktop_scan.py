"""Walking music folders: hidden files, symlink loops, unreadable folders."""

import os

from desktop.core.scan import renamed_in_case, same_file, walk_music


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def walk_names(root):
    """Names of the files a walk of `root` yields, and the problems it reports."""
    problems = []
    return [f.path.name for f in walk_music([root], problems.append)], problems


def test_walk_picks_supported_files_and_skips_hidden(tmp_path):
    touch(tmp_path / "a" / "one.mp3")
    touch(tmp_path / "a" / "two.FLAC")
    touch(tmp_path / "a" / "cover.jpg")
    touch(tmp_path / ".hidden" / "three.mp3")
    touch(tmp_path / "a" / ".four.ogg")
    found, problems = walk_names(tmp_path)
    assert found == ["one.mp3", "two.FLAC"] and problems == []


def test_audio_of_a_type_not_read_is_named_not_passed_over(tmp_path):
    touch(tmp_path / "a" / "one.wma")
    touch(tmp_path / "a" / "two.wv")
    touch(tmp_path / "a" / "three.aifc")  # AIFF-C, as Logic and GarageBand export: read (it was passed over)
    touch(tmp_path / "a" / "live.APE")  # Monkey's Audio: read (it was named as not read)
    touch(tmp_path / "a" / "live.DSF")  # DSD in Sony's DSF: read (it was named as not read)
    touch(tmp_path / "a" / "live.DFF")  # DSD in Philips' DSDIFF: read (it was named as not read)
    touch(tmp_path / "a" / "live.TTA")  # True Audio: read (it was named as not read)
    touch(tmp_path / "a" / "talk.SPX")  # Speex: read (it was named as not read)
    touch(tmp_path / "a" / "live.SHN")  # Shorten: named
    touch(tmp_path / "a" / "store.m4p")  # an iTunes Store purchase with copy protection: its tags read (it was named)
    touch(tmp_path / "a" / "radio.ra")  # RealAudio: named
    for name in ("mix.w64", "live.tak", "song.mid", "tune.xm", "book.aax"):  # named (they were passed over in silence)
        touch(tmp_path / "a" / name)
    touch(tmp_path / "a" / "notes.txt")
    found, problems = walk_names(tmp_path)
    assert found == ["live.APE", "live.DFF", "live.DSF", "live.TTA", "one.wma", "store.m4p", "talk.SPX", "three.aifc",
                     "two.wv"]
    assert [(p.path.name, p.reason) for p in problems] == [
        ("book.aax", "Audible files are not read by Genre Tagger (not analysed or tagged)"),
        ("live.SHN", "Shorten files are not read by Genre Tagger (not analysed or tagged)"),
        ("live.tak", "TAK files are not read by Genre Tagger (not analysed or tagged)"),
        ("mix.w64", "Sony Wave64 files are not read by Genre Tagger (not analysed or tagged)"),
        ("radio.ra", "RealAudio files are not read by Genre Tagger (not analysed or tagged)"),
        ("song.mid", "MIDI files are not read by Genre Tagger (not analysed or tagged)"),
        ("tune.xm", "Tracker module files are not read by Genre Tagger (not analysed or tagged)")]


def test_folders_left_out_are_not_walked_and_a_root_in_one_is_named(tmp_path):
    touch(tmp_path / "Music" / "Rock" / "one.mp3")
    touch(tmp_path / "Music" / "Audiobooks" / "Book" / "chapter.mp3")
    touch(tmp_path / "Music" / "Audiobooks Extra" / "two.mp3")  # beside it, not in it
    problems = []
    found = [f.path.name for f in walk_music([tmp_path / "Music"], problems.append,
                                             left_out=[tmp_path / "Music" / "Audiobooks"])]
    assert found == ["two.mp3", "one.mp3"] and problems == []
    left_out = [tmp_path / "Music" / "Audiobooks"]
    named = [tmp_path / "Music" / "Audiobooks", tmp_path / "Music" / "Audiobooks" / "Book" / "chapter.mp3"]
    assert list(walk_music(named, problems.append, left_out=left_out)) == []
    assert [(p.path, p.reason.split(":")[0]) for p in problems] == [
        (named[0], "is left out of the library"), (named[1], f"is in {left_out[0]}, left out of the library")]


def test_symlink_loop_is_not_followed_forever(tmp_path):
    touch(tmp_path / "music" / "song.opus")
    os.symlink(tmp_path / "music", tmp_path / "music" / "loop")
    found = list(walk_music([tmp_path / "music"], lambda p: None))
    assert [f.path.name for f in found] == ["song.opus"]


def test_a_system_without_inode_numbers_finds_every_file_and_still_ends_a_symlink_loop(tmp_path, without_inodes):
    # Windows' scandir gives every file inode 0: the walk took them all for one file and found one song of a library.
    for name in ("a.mp3", "b.flac", "Album/c.ogg", "Album/d.opus"):
        touch(tmp_path / "music" / name)
    os.symlink(tmp_path / "music", tmp_path / "music" / "Album" / "loop")
    assert os.stat(tmp_path / "music" / "a.mp3").st_ino == 0
    found, problems = walk_names(tmp_path / "music")
    assert found == ["c.ogg", "d.opus", "a.mp3", "b.flac"] and problems == []
    assert not same_file(tmp_path / "music" / "a.mp3", tmp_path / "music" / "b.flac")


def test_two_files_whose_names_differ_in_case_where_case_is_told_are_not_one_renamed(tmp_path):
    # Copies in `Jazz` and `jazz` on a file system that tells case: the second is no rename of the first.
    old, new = touch(tmp_path / "Jazz" / "Song.flac"), touch(tmp_path / "jazz" / "song.flac")
    assert not renamed_in_case(old, new) and not renamed_in_case(new, old)
    assert not renamed_in_case(old, tmp_path / "Jazz" / "other.flac") and not renamed_in_case(old, old)
    assert renamed_in_case(tmp_path / "JAZZ" / "Song.flac", new)  # a name its folder does not list


def test_unreadable_folder_is_reported_and_the_walk_goes_on(tmp_path, unreadable_folders):
    touch(tmp_path / "locked" / "x.mp3")
    touch(tmp_path / "open" / "y.mp3")
    unreadable_folders.add("locked")
    found, problems = walk_names(tmp_path)
    assert found == ["y.mp3"]
    assert problems[0].path.name == "locked" and "Permission denied" in problems[0].reason
    assert problems[0].unwalked and not problems[0].away  # its tracks are not known gone; a failure all the same


def test_a_link_to_music_or_a_folder_not_there_is_named_and_not_walked(tmp_path):
    # ~/Music/NAS -> /mnt/nas/Music, the share not mounted: passed over in silence, and its tracks went missing.
    nas = tmp_path / "nas"
    touch(nas / "Album" / "song.mp3")
    touch(tmp_path / "music" / "here.mp3")
    (tmp_path / "music" / "NAS").symlink_to(nas / "Album")
    (tmp_path / "music" / "best.flac").symlink_to(nas / "best.flac")  # its file not there
    (tmp_path / "music" / "cover.jpg").symlink_to(nas / "cover.jpg")  # no music: no problem
    found, problems = walk_names(tmp_path / "music")
    not_there = "which is not there now (a drive not connected?): not scanned"
    assert sorted(found) == ["here.mp3", "song.mp3"]
    assert [(p.path.name, p.reason, p.unwalked, p.away) for p in problems] == [
        ("best.flac", f"a link to {nas / 'best.flac'}, {not_there}", True, True)]
    (nas / "Album" / "song.mp3").unlink()
    (nas / "Album").rmdir()
    found, problems = walk_names(tmp_path / "music")
    assert found == ["here.mp3"]
    assert [(p.path.name, p.reason) for p in problems] == [("NAS", f"a link to {nas / 'Album'}, {not_there}"),
                                                            ("best.flac", f"a link to {nas / 'best.flac'}, {not_there}")]


def test_a_file_named_on_its_own_is_scanned(tmp_path):
    # `scan song.flac` said "not a folder" and scanned nothing.
    (tmp_path / "song.flac").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "live.shn").write_bytes(b"x")
    (tmp_path / ".song.genre-tagger-tmp.flac").write_bytes(b"x")
    problems = []
    roots = [tmp_path / n for n in ("song.flac", "notes.txt", "live.shn", ".song.genre-tagger-tmp.flac")]
    assert [f.path for f in walk_music(roots, problems.append)] == [tmp_path / "song.flac"]
    assert [(p.path.name, p.reason.split(" (")[0]) for p in problems] == [
        ("notes.txt", "not a music file"), ("live.shn", "Shorten files are not read by Genre Tagger"),
        (".song.genre-tagger-tmp.flac", "a copy an interrupted tag write left behind, not music")]


def test_missing_root_is_reported(tmp_path):
    problems = []
    assert list(walk_music([tmp_path / "nowhere"], problems.append)) == []
    assert problems[0].reason == "no such file or folder"


def test_the_kernels_trees_are_never_walked(tmp_path, monkeypatch):
    # A scan of "/" (or of a folder holding a link to /proc/self) went through /proc/<pid>/cwd into the whole disk
    # again and put /proc/... paths in the library; a scan of /proc itself walked it for minutes.
    from desktop.core import scan

    music = tmp_path / "music"
    music.mkdir()
    (music / "song.flac").write_bytes(b"x")
    (music / "proc link").symlink_to("/proc/self")  # its cwd leads back to the music
    (music / "dev").symlink_to("/dev")
    monkeypatch.chdir(music)
    problems = []
    assert [f.path for f in walk_music([music], problems.append)] == [music / "song.flac"] and problems == []
    assert list(walk_music(["/proc/self/cwd", "/sys"], problems.append)) == []
    assert [(str(p.path), p.reason) for p in problems] == [
        ("/proc/self/cwd", "is in /proc, the system's own files, not music; not walked"),
        ("/sys", "is in /sys, the system's own files, not music; not walked")]
    # Walking "/" meets /proc as a plain folder: passed over without looking inside (only the trees are checked).
    fake_root = tmp_path / "root"
    (fake_root / "proc" / "self").mkdir(parents=True)
    (fake_root / "proc" / "self" / "song.flac").write_bytes(b"x")
    monkeypatch.setattr(scan, "SYSTEM_TREES", (fake_root / "proc",))
    assert list(walk_music([fake_root], problems.append)) == []


def test_scan_progress_reads_at_a_glance():
    # "2000 s left" and "1234 / 10000" made the reader do the sums.
    from desktop.core.progress_text import scan_progress, time_left

    assert [time_left(s) for s in (0.4, 45, 2000, 3600 * 2 + 300, -5)] == ["0 s", "45 s", "33 min", "2 h 05 min", "0 s"]
    assert scan_progress(1234, 10000, 5.2) == "1,234 / 10,000 tracks · 5.2/s · 28 min left"
    assert scan_progress(0, 10000, 0.0) == "0 / 10,000 tracks"  # no rate yet: no guess
    assert scan_progress(3, 4, 1.0, sep="  ") == "3 / 4 tracks  1.0/s  1 s left"
    from desktop.core.progress_text import walk_progress

    assert walk_progress(1, None, 0.0) == "Looking for music… 1 file so far"
    assert walk_progress(12345, None, 480.4) == "Looking for music… 12,345 files so far · 480/s"
    assert walk_progress(1234, 5000, 100.0) == "Reading tags again (once)… 1,234 / 5,000 tracks · 100.0/s · 38 s left"


def test_counts_read_as_words():
    from desktop.core.wording import count

    assert [count(n, "file") for n in (0, 1, 2, 12000)] == ["0 files", "1 file", "2 files", "12,000 files"]
    assert count(1, "match", "matches") == "1 match" and count(3, "match", "matches") == "3 matches"


def test_a_file_named_with_its_folder_is_found_once(tmp_path):
    # `scan song.ogg .` found the song twice: its scan said "1 file: 1 new, …, 1 unchanged".
    folder = tmp_path / "music"
    (folder / "inner").mkdir(parents=True)
    for name in ("inner/a.ogg", "b.ogg"):
        (folder / name).write_bytes(b"OggS")
    for roots in ([folder / "b.ogg", folder], [folder, folder / "inner" / "a.ogg"], [folder, folder / "inner", folder]):
        found = [f.path for f in walk_music(roots, lambda p: None)]
        assert sorted(found) == [folder / "b.ogg", folder / "inner" / "a.ogg"], roots
