"""The genre-tagger command: dry runs, writes, exit codes, JSON, and clear errors."""

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import mutagen
import pytest

from desktop.cli import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, main
from desktop.core.tags import TagOptions, read_tags, write_genres
from desktop.core.wording import sureness
from tests.audio_files import make_protected_m4p, make_track

pytestmark = pytest.mark.usefixtures("need_ffmpeg")


@pytest.fixture
def lib(tmp_path, exported_model, monkeypatch):
    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("GENRE_TAGGER_MODEL", str(exported_model))
    music = tmp_path / "Music"
    files = [make_track(music / "a", "noise song", "noise", "flac", 3.0, seed=1),
             make_track(music / "b", "Été à Paris", "beats", "mp3", 3.0, seed=2),
             make_track(music / "b", "tones", "tones", "ogg", 3.0, seed=3)]
    return music, files


def run_json(capsys, *argv):
    code = main(["--json", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_scan_without_write_is_a_dry_run(lib, capsys):
    music, files = lib
    before = [f.read_bytes() for f in files]
    assert main(["scan", str(music)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "would change" in out and "(none) -> Noise" in out and "nothing written (add --write)" in out
    assert [f.read_bytes() for f in files] == before


def test_a_scan_on_a_terminal_says_how_far_its_walk_is_and_warns_on_lines_of_their_own(lib, capsys, monkeypatch):
    # A first scan hashes every file before analysing any: on a large library, minutes with nothing said.
    music, _ = lib
    (music / "a" / "broken.mp3").write_bytes(b"not audio" * 100)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["scan", str(music)]) == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert "\rLooking for music… 1 file so far" in err
    shown = [line.split("\r")[-1] for line in err.split("\n")]  # what a terminal leaves on each line
    assert any(line.startswith("warning: ") and "broken.mp3" in line for line in shown)
    assert not any("Looking for music" in line for line in shown)  # cleared once the walk is done


def test_folders_lists_the_librarys_folders_and_leaves_one_out_and_takes_it_back(lib, capsys, tmp_path):
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    assert main(["folders"]) == EXIT_OK
    assert capsys.readouterr().out == f"music folder: {music}  (3 tracks)\n"
    assert main(["folders", "--leave-out", str(music / "b")]) == EXIT_OK  # an option after the subcommand
    assert "left out: " + str(music / "b") + " (2 tracks out of the library" in capsys.readouterr().out
    code, data = run_json(capsys, "list")
    assert [t["path"] for t in data["tracks"]] == [str(files[0])]
    code, data = run_json(capsys, "folders")
    assert (code, data) == (EXIT_OK, {"folders": [str(music)], "left_out": [str(music / "b")],
                                      "tracks": {str(music): 1}, "left_out_tracks": {str(music / "b"): 2},
                                      "unplugged": [], "spoken_word": [], "kept_as_music": []})
    assert main(["folders"]) == EXIT_OK
    assert f"left out:     {music / 'b'}  (2 tracks kept out of view, with their corrections)" in capsys.readouterr().out
    assert main(["scan", str(music / "b")]) == EXIT_PARTIAL
    assert f"{music / 'b'}: is left out of the library: not scanned" in capsys.readouterr().err
    assert main(["show", str(files[1])]) == EXIT_OK
    assert f"missing: not in the library now (is in {music / 'b'}, left out of the library" in capsys.readouterr().out
    assert main(["set", str(files[1]), "Jazz"]) == EXIT_ERROR  # it would have come back into the library
    assert f"error: {files[1]}: is in {music / 'b'}, left out of the library" in capsys.readouterr().err
    assert read_tags(files[1]).genres != ("Jazz",)
    assert main(["folders", "--take-back", str(tmp_path)]) == EXIT_ERROR
    assert f"error: {tmp_path}: not left out (the folders left out: {music / 'b'})" in capsys.readouterr().err
    code, data = run_json(capsys, "folders", "--take-back", str(music / "b"))
    assert (code, data["left_out"], data["taken_back"]) == (EXIT_OK, [], [str(music / "b")])
    assert main(["scan", str(music)]) == EXIT_OK
    assert "2 back from missing" in capsys.readouterr().out
    assert main(["show", str(files[1])]) == EXIT_OK and "missing" not in capsys.readouterr().out
    assert main(["folders", "--leave-out", str(tmp_path / "nowhere")]) == EXIT_ERROR
    assert f"error: {tmp_path / 'nowhere'}: no such folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # one at a time
        main(["folders", "--leave-out", str(music / "a"), "--take-back", str(music / "b")])
    assert refused.value.code == EXIT_ERROR and "not allowed with" in capsys.readouterr().err


def test_a_music_folder_left_out_and_taken_back_is_a_music_folder_again(lib, capsys, tmp_path):
    # `folders --leave-out ~/Music` took ~/Music out of the library's folders for good: taken back, the `genre-tagger
    # scan` it suggested said "no folder to scan", and `list` blamed the files ("missing, moved, or on a drive not
    # mounted") while every one lay in the folder left out.
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    assert main(["folders", "--leave-out", str(tmp_path)]) == EXIT_OK  # a folder holding the music folder
    assert f"no longer a music folder: {music} (scans walk it again once {tmp_path} is taken back)" in \
        capsys.readouterr().out
    code, data = run_json(capsys, "folders", "--leave-out", str(music / "a"))  # inside one left out: nothing more
    assert (code, data["music_folders_out"], data["folders"], data["left_out"]) == (EXIT_OK, [], [], [str(tmp_path)])
    assert main(["list"]) == EXIT_OK
    assert "no track is present: every track is in a folder left out of the library" in capsys.readouterr().err
    code, data = run_json(capsys, "folders", "--take-back", str(tmp_path))
    assert (code, data["music_folders_back"], data["folders"]) == (EXIT_OK, [str(music)], [str(music)])
    assert main(["scan"]) == EXIT_OK and "3 back from missing" in capsys.readouterr().out
    assert len(run_json(capsys, "list")[1]["tracks"]) == 3
    files[0].unlink()  # one gone, two left out: said apart
    assert main(["scan"]) == EXIT_OK
    assert main(["folders", "--leave-out", str(music / "b")]) == EXIT_OK
    capsys.readouterr()
    assert main(["list"]) == EXIT_OK
    assert "no track is present: 2 tracks in folders left out (`genre-tagger folders` lists them, `folders " \
           "--take-back DIR` brings one back), the others missing" in capsys.readouterr().err
    code, data = run_json(capsys, "folders", "--leave-out", str(music))  # the music folder itself: the same
    assert (data["music_folders_out"], data["folders"]) == ([str(music)], [])
    code, data = run_json(capsys, "folders", "--take-back", str(music))
    assert (data["music_folders_back"], data["folders"], data["left_out"]) == ([str(music)], [str(music)], [])


def test_a_folder_of_m4a_files_itunes_marked_as_audiobooks_is_asked_about_and_not_tagged(lib, capsys):
    # Named "Stories", with no genre tags: only iTunes' media kind said it was a book, and `scan --write` tagged it.
    from mutagen.mp4 import MP4

    music, files = lib
    book = [make_track(music / "Stories" / "Dune", f"chapter {n}", "noise", "m4a", 3.0, seed=5 + n) for n in (1, 2)]
    for chapter in book:
        file = MP4(chapter)
        file["stik"] = [2]
        file.save()
    before = [f.read_bytes() for f in book]
    assert main(["scan", str(music), "--write"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"spoken word? {music / 'Stories'}  (2 tracks; marked as audiobooks by iTunes)" in out
    assert "not written: 2 files in those folders" in out and [f.read_bytes() for f in book] == before


def test_keep_times_writes_undoes_and_sets_genres_leaving_each_files_modification_time(lib, capsys):
    music, files = lib
    old = 1_100_000_000_000_000_000  # 2004
    for f in files:
        os.utime(f, ns=(old, old))
    assert main(["scan", str(music), "--write", "--keep-times"]) == EXIT_OK
    assert "wrote 3 files" in capsys.readouterr().out
    assert read_tags(files[0]).genres == ("Noise",) and {os.stat(f).st_mtime_ns for f in files} == {old}
    # The next scan knows the files as written (their size and time recorded after the write): nothing to read again.
    code, data = run_json(capsys, "scan", str(music))
    assert (data["sync"]["changed"], data["sync"]["unchanged"]) == (0, 3), data["sync"]
    assert main(["undo", "--keep-times"]) == EXIT_OK
    assert read_tags(files[0]).genres == () and {os.stat(f).st_mtime_ns for f in files} == {old}
    assert main(["set", str(files[1]), "Bossa Nova", "--keep-times"]) == EXIT_OK
    assert read_tags(files[1]).genres == ("Bossa Nova",) and os.stat(files[1]).st_mtime_ns == old
    assert main(["set", str(files[2]), "Bossa Nova"]) == EXIT_OK  # not asked: the write's own time
    assert os.stat(files[2]).st_mtime_ns > old


def test_a_folder_that_looks_like_spoken_word_is_asked_about_and_not_tagged_until_the_listener_says(lib, capsys):
    # An audiobook inside ~/Music was tagged with a music genre by `scan --write`, and nothing said so.
    music, files = lib
    book = [make_track(music / "Audiobooks" / "Dune", f"chapter {n}", "noise", "flac", 3.0, seed=5 + n) for n in (1, 2)]
    before = [f.read_bytes() for f in book]
    assert main(["scan", str(music), "--write"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"spoken word? {music / 'Audiobooks'}  (2 tracks; the folder's name)" in out
    assert "genre-tagger folders --leave-out DIR" in out and "not written: 2 files in those folders" in out
    assert "wrote 3 files" in out and [f.read_bytes() for f in book] == before  # the music is tagged, the book not
    assert read_tags(files[0]).genres == ("Noise",)
    assert main(["set", str(book[0]), "Science Fiction"]) == EXIT_OK  # set by hand: written
    assert read_tags(book[0]).genres == ("Science Fiction",)
    capsys.readouterr()
    code, data = run_json(capsys, "folders")
    assert data["spoken_word"] == [{"path": str(music / "Audiobooks"), "tracks": 2, "reason": "the folder's name"}]
    code, data = run_json(capsys, "scan", str(files[0]))
    assert data["spoken_word"] == []  # asked about where a scan looks only
    code, data = run_json(capsys, "scan", str(book[1]))
    assert [f["path"] for f in data["spoken_word"]] == [str(music / "Audiobooks")]  # a track inside it: asked
    assert main(["folders", "--keep", str(music / "nowhere")]) == EXIT_ERROR
    assert f"error: {music / 'nowhere'}: no such folder" in capsys.readouterr().err
    assert main(["folders", "--keep", str(book[0])]) == EXIT_ERROR
    assert f"error: {book[0]}: not a folder" in capsys.readouterr().err
    assert main(["folders", "--keep", "/"]) == EXIT_ERROR  # it would have silenced every question
    assert f"error: /: not in the library's music folders ({music})" in capsys.readouterr().err
    code, data = run_json(capsys, "folders", "--keep", str(music / "Audiobooks"))
    assert (code, data["kept_now"], data["kept_as_music"], data["spoken_word"]) == (
        EXIT_OK, [str(music / "Audiobooks")], [str(music / "Audiobooks")], [])
    code, data = run_json(capsys, "scan", str(music), "--write")
    assert (code, data["spoken_word"], data["held_back"], [c["path"] for c in data["changes"]]) == (
        EXIT_OK, [], [], [str(book[1])])  # kept as music: tagged like the rest
    assert read_tags(book[1]).genres == ("Noise",)
    assert main(["folders", "--ask-again", str(music / "a")]) == EXIT_ERROR  # never kept
    assert f"error: {music / 'a'}: not kept as music (the folders kept: {music / 'Audiobooks'})" in capsys.readouterr().err
    code, data = run_json(capsys, "folders", "--ask-again", str(music / "Audiobooks"))
    assert (code, data["asked_again"], data["kept_as_music"], [f["path"] for f in data["spoken_word"]]) == (
        EXIT_OK, [str(music / "Audiobooks")], [], [str(music / "Audiobooks")])
    code, data = run_json(capsys, "scan", str(music))
    assert [f["path"] for f in data["spoken_word"]] == [str(music / "Audiobooks")]  # named by scans again


def test_folders_leaves_out_takes_back_and_keeps_several_at_once_and_checks_each_first(lib, capsys):
    # Audiobooks kept one folder per author: one command per folder was the only way.
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    a, b = str(music / "a"), str(music / "b")
    assert main(["folders", "--leave-out", a, str(music / "nowhere")]) == EXIT_ERROR  # a typo: none left out
    assert f"error: {music / 'nowhere'}: no such folder" in capsys.readouterr().err
    code, data = run_json(capsys, "folders", "--leave-out", a, b)
    assert (code, data["left_out_now"], data["tracks_out"], data["left_out"]) == (EXIT_OK, [a, b], 3, [a, b])
    assert main(["folders", "--take-back", a, str(music)]) == EXIT_ERROR  # one not left out: none taken back
    assert f"error: {music}: not left out (the folders left out: {a}, {b})" in capsys.readouterr().err
    code, data = run_json(capsys, "folders", "--take-back", b, a)
    assert (code, data["taken_back"], data["left_out"]) == (EXIT_OK, [b, a], [])
    assert main(["scan", str(music)]) == EXIT_OK and "3 back from missing" in capsys.readouterr().out
    assert main(["folders", "--keep", a, "/"]) == EXIT_ERROR  # one outside the music folders: none kept
    assert main(["--json", "folders"]) == EXIT_OK and json.loads(capsys.readouterr().out)["kept_as_music"] == []
    code, data = run_json(capsys, "folders", "--keep", a, b)
    assert (code, data["kept_now"], data["kept_as_music"]) == (EXIT_OK, [a, b], [a, b])
    assert main(["folders", "--ask-again", b, str(music)]) == EXIT_ERROR  # one not kept: none asked again
    assert f"error: {music}: not kept as music (the folders kept: {a}, {b})" in capsys.readouterr().err
    code, data = run_json(capsys, "folders", "--ask-again", b, a)
    assert (code, data["asked_again"], data["kept_as_music"]) == (EXIT_OK, [b, a], [])
    assert main(["folders", "--ask-again", a]) == EXIT_ERROR
    assert f"error: {a}: not kept as music (no folder is)" in capsys.readouterr().err


def test_a_scan_names_ten_folders_that_look_like_spoken_word_and_counts_the_rest(capsys):
    from desktop.cli.output import Output
    from desktop.cli.scan import say_spoken_word
    from desktop.core.spoken_word import SpokenFolder

    folders = [SpokenFolder(f"/m/Author {n:02d}", 2, "audiobook files (.m4b)") for n in range(13)]
    say_spoken_word(Output(False), folders, [], False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[9] == "spoken word? /m/Author 09  (2 tracks; audiobook files (.m4b))"
    assert lines[10] == "spoken word? 3 more folders: `genre-tagger folders` lists them all"
    say_spoken_word(Output(False), folders, [], False, shown=None)  # `folders`: every one
    assert sum(line.startswith("spoken word? /m/") for line in capsys.readouterr().out.splitlines()) == 13


def test_an_m4a_saved_as_mp3_is_scanned_analysed_and_tagged_and_a_web_page_is_named(lib, capsys, tmp_path):
    music, _ = lib
    m4a = make_track(tmp_path, "download", "beats", "m4a", 3.0, seed=4, tags={"title": "Download"})
    misnamed = music / "b" / "download.mp3"
    m4a.rename(misnamed)
    (music / "b" / "failed.mp3").write_bytes(b"<html><body>Rate limit exceeded</body></html>")
    assert main(["scan", str(music)]) == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert f"{music / 'b' / 'failed.mp3'}: a web page, not audio" in err and "download.mp3" not in err
    code, data = run_json(capsys, "show", str(misnamed))
    assert (code, data["status"], data["title"]) == (EXIT_OK, "analysed", "Download")
    assert main(["set", str(misnamed), "Breakbeat"]) == EXIT_OK
    assert read_tags(misnamed).genres == ("Breakbeat",)


def test_scan_of_a_folder_without_music_says_what_music_is(lib, capsys, tmp_path):
    music, _ = lib
    (tmp_path / "Documents").mkdir()
    (tmp_path / "Documents" / "notes.txt").write_text("not music")
    assert main(["scan", str(tmp_path / "Documents")]) == EXIT_OK
    assert f"{tmp_path / 'Documents'}: no music files found (Genre Tagger reads .aac .ac3 .aif" in capsys.readouterr().out
    assert main(["scan", str(music)]) == EXIT_OK
    assert "no music files" not in capsys.readouterr().out


def test_scan_write_json_then_list_and_undo(lib, capsys):
    music, files = lib
    code, data = run_json(capsys, "scan", str(music), "--write")
    assert code == EXIT_OK and data["written"] and data["sync"]["new"] == 3
    assert {a["genre"] for a in data["analysed"]} == {"Noise", "Beats", "Tones"}  # labels as genre tags are spelled
    assert read_tags(files[0]).genres == ("Noise",)
    code, data = run_json(capsys, "list", "--genre", "beats")
    assert [t["path"] for t in data["tracks"]] == [str(files[1])]
    code, data = run_json(capsys, "list", "--counts")
    assert sorted(g["genre"] for g in data["genres"]) == ["Beats", "Noise", "Tones"]
    code, data = run_json(capsys, "undo")
    assert code == EXIT_OK and len(data["restored"]) == 3 and read_tags(files[0]).genres == ()
    batches = run_json(capsys, "undo", "--list")[1]["batches"]
    assert [(b["id"], b["files"], bool(b["undone"])) for b in batches] == [(1, 3, True)]  # how many files it changed
    assert main(["undo", "--list"]) == EXIT_OK
    assert "      3 files  undone: scan " in capsys.readouterr().out

@pytest.fixture
def india_time(monkeypatch):
    """The process in UTC+05:30 for one test (POSIX TZ counts west), and back after it."""
    monkeypatch.setenv("TZ", "IST-05:30")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_write_history_gives_local_times_and_iso_times_with_their_zone(lib, capsys, india_time):
    # The listing showed UTC (SQLite gives stored times back without their zone) where the window shows local
    # time; the JSON gave "2026-12-02 11:10:36" with no zone at all.
    music, files = lib
    assert main(["set", str(files[0]), "Polka"]) == EXIT_OK
    capsys.readouterr()
    created = datetime.fromisoformat(run_json(capsys, "undo", "--list")[1]["batches"][0]["created"])
    assert created.utcoffset() == timedelta(0) and abs(datetime.now(timezone.utc) - created) < timedelta(minutes=5)
    assert main(["undo", "--list"]) == EXIT_OK
    local = created + timedelta(hours=5, minutes=30)
    assert f"    1  {local:%Y-%m-%d %H:%M}  " in capsys.readouterr().out


def test_undo_puts_the_provenance_field_back_and_a_later_write_keeps_it_true(lib, capsys):
    # Undo restored the genre and left "Genre Tagger: Noise 0.97" in the file; a genre set by hand afterwards
    # (without the field asked for) carried the same false claim on.
    music, files = lib
    assert main(["scan", str(music), "--write"]) == EXIT_OK  # the field is written unless turned off
    scanned = {f: read_tags(f).provenance for f in files}
    assert all(p.startswith("Genre Tagger: ") and p != "Genre Tagger: corrected by hand" for p in scanned.values())
    assert main(["set", str(files[0]), "Polka", "--no-provenance"]) == EXIT_OK  # the field is there, so kept true
    assert read_tags(files[0]).provenance == "Genre Tagger: corrected by hand"
    assert main(["undo"]) == EXIT_OK  # the field as the scan left it
    assert read_tags(files[0]).provenance == scanned[files[0]] and read_tags(files[0]).genres == ("Noise",)
    assert main(["undo"]) == EXIT_OK  # the files as they were: no field
    capsys.readouterr()
    assert [(read_tags(f).genres, read_tags(f).provenance) for f in files] == [((), "")] * len(files)
    assert main(["set", str(files[1]), "Polka", "--no-provenance"]) == EXIT_OK  # no field, none asked for: none added
    assert read_tags(files[1]).provenance == ""
    assert main(["scan", str(music), "--write", "--no-provenance", "--policy", "replace"]) == EXIT_OK
    assert read_tags(files[2]).genres and read_tags(files[2]).provenance == ""


def test_a_library_made_again_never_learns_the_genres_genre_tagger_wrote(lib, capsys, tmp_path):
    # A new computer, a library made again, a music folder two computers share: the genres the first library wrote
    # were that library's guesses, but a library without its journal took them for the listener's tags and learned
    # them (and judged the shipped model on them: it agreed with itself). The field written beside them says whose.
    music, files = lib
    assert main(["scan", str(music), "--write"]) == EXIT_OK
    assert main(["set", str(files[1]), "Trip-Hop"]) == EXIT_OK  # the listener's word, from the first library
    capsys.readouterr()
    again = ["--db", str(tmp_path / "again.db")]
    assert main([*again, "scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    assert main([*again, "show", str(files[0])]) == EXIT_OK
    assert ("  learned as: - (its GENRE_TAGGER field says Genre Tagger predicted it (this library or another), never "
            "learned from)") in capsys.readouterr().out
    assert run_json(capsys, *again, "show", str(files[1]))[1]["teaches"] == {"genre": "Trip-Hop", "source": "tag"}
    genres = run_json(capsys, *again, "genres")[1]
    assert [g["genre"] for g in genres["genres"]] == ["Trip-Hop"]
    # Another tagger changed a genre Genre Tagger wrote, keeping the field: the genre is the listener's again.
    write_genres(files[2], ["Ambient"], TagOptions(write_provenance=False))
    assert read_tags(files[2]).provenance.startswith("Genre Tagger: ")
    assert main([*again, "scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    assert run_json(capsys, *again, "show", str(files[2]))[1]["teaches"] == {"genre": "Ambient", "source": "tag"}


def test_ctrl_c_stops_a_write_or_an_undo_after_the_file_in_hand(lib, capsys, monkeypatch):
    # Ctrl+C broke off a long write wherever it was (the journal settled it at the next run); it now stops
    # between files, says what is left, and what was written is one batch to undo.

    import desktop.services.tagging as tagging

    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    real_write = tagging.write_genres
    before = signal.getsignal(signal.SIGINT)  # Python's own; ignored where the tests run in the background

    def write_then_ctrl_c(*args, **kwargs):
        real_write(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # the listener presses Ctrl+C during the first file

    monkeypatch.setattr(tagging, "write_genres", write_then_ctrl_c)
    capsys.readouterr()
    assert main(["set", str(music), "Polka"]) == 130
    err = capsys.readouterr().err
    assert "stopping after the file in hand" in err and "stopped: 2 files left as they were (undo takes back" in err
    assert sorted(read_tags(f).genres == ("Polka",) for f in files) == [False, False, True]
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl+C does again what it did before
    monkeypatch.setattr(tagging, "write_genres", real_write)
    assert main(["set", str(music), "Jazz"]) == EXIT_OK  # a second batch, whole
    monkeypatch.setattr(tagging, "write_genres", write_then_ctrl_c)
    capsys.readouterr()
    assert main(["undo"]) == 130  # the undo stops after its first file too
    assert "stopped: 2 files still to undo (undo again goes on)" in capsys.readouterr().err
    assert main(["undo", "--list"]) == EXIT_OK
    assert "      3 files  partly undone (1 of 3 files): correction: Jazz" in capsys.readouterr().out
    monkeypatch.setattr(tagging, "write_genres", real_write)
    assert main(["undo"]) == EXIT_OK  # goes on with the same batch
    assert sorted(read_tags(f).genres for f in files) == [(), (), ("Polka",)]
    assert main(["undo"]) == EXIT_OK and all(read_tags(f).genres == () for f in files)


def test_a_genre_with_a_line_break_is_written_as_spaces_and_stays_undoable(lib, capsys):
    # `set FILE $'Rock\nPop'` wrote the line break into the tag; ID3 readers stop at it, so the file read back as
    # "Rock", and undo refused for good ("file changed since the write"): the old genre could not come back.
    music, files = lib
    mp3 = next(f for f in files if f.suffix == ".mp3")
    write_genres(mp3, ["Blues"])
    assert main(["scan", str(music)]) == EXIT_OK
    assert main(["set", str(mp3), "Rock\nPop\tFusion"]) == EXIT_OK
    assert "genre set to Rock Pop Fusion by hand" in capsys.readouterr().out
    assert read_tags(mp3).genres == ("Rock Pop Fusion",)
    assert main(["undo"]) == EXIT_OK and read_tags(mp3).genres == ("Blues",)
    assert main(["genres", "--merge", "Blues", "Delta\nBlues"]) == EXIT_OK
    assert "Blues is now Delta Blues (" in capsys.readouterr().out


def test_a_genre_typed_as_an_id3_number_is_that_genre_and_stays_undoable(lib, capsys):
    # `set FILE 80` wrote "80", which ID3 readers take for ID3v1 genre 80 ("Folk"): the file read back otherwise
    # than written, undo refused for good, and every scan wanted to write "80" again.
    music, files = lib
    mp3 = next(f for f in files if f.suffix == ".mp3")
    write_genres(mp3, ["Blues"])
    assert main(["scan", str(music)]) == EXIT_OK
    for typed, meant in (("80", "Folk"), ("(12)", "Other"), ("Rock; (rx)", "Rock; Remix")):
        capsys.readouterr()
        assert main(["set", str(mp3), typed]) == EXIT_OK
        assert f"genre set to {meant} by hand" in capsys.readouterr().out and read_tags(mp3).genres == tuple(meant.split("; "))
        assert main(["scan", str(music)]) == EXIT_OK and f"would change {mp3}" not in capsys.readouterr().out
        assert main(["undo"]) == EXIT_OK and read_tags(mp3).genres == ("Blues",)
    assert main(["set", str(mp3), "999"]) == EXIT_ERROR
    assert "'999' is not a genre: ID3 takes a number for an ID3v1 genre" in capsys.readouterr().err


def test_a_genre_without_a_letter_is_refused_and_nothing_is_written(lib, capsys):
    # `set FILE ..` wrote "..", a name the library takes for no genre: never shown in the genre list, counted or learned
    # from, while the file and the correction said it.
    music, files = lib
    mp3 = next(f for f in files if f.suffix == ".mp3")
    write_genres(mp3, ["Blues"])
    assert main(["scan", str(music)]) == EXIT_OK
    before = mp3.read_bytes()
    for typed in ("..", "-", "Rock; ?", "1000"):
        capsys.readouterr()
        assert main(["set", str(mp3), typed]) == EXIT_ERROR
        assert "is not a genre: it has no letter" in capsys.readouterr().err
    assert mp3.read_bytes() == before
    assert main(["set", str(mp3), "Ελληνικό λαϊκό"]) == EXIT_OK and read_tags(mp3).genres == ("Ελληνικό λαϊκό",)


def test_genres_lists_the_merges_in_effect_and_how_to_take_one_back(lib, capsys):
    # After a merge the merged genre vanished from the list with no trace of where it went or how to undo it.
    music, files = lib
    write_genres(files[0], ["Heavy Metal"])
    write_genres(files[1], ["Metal"])
    assert main(["scan", str(music)]) == EXIT_OK
    assert main(["genres", "--merge", "heavy metal", "Metal"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "2  Metal  (2 tagged, 0 corrected)" in out and "Heavy Metal  (" not in out
    assert "merged: Heavy Metal counts as Metal  (undo: genre-tagger genres --merge 'Heavy Metal' 'Heavy Metal')" in out
    assert run_json(capsys, "genres")[1]["merges"] == [{"genre": "Heavy Metal", "into": "Metal"}]
    assert main(["genres", "--merge", "Heavy Metal", "Heavy Metal"]) == EXIT_OK  # the undo it offered
    out = capsys.readouterr().out
    assert out.startswith("Heavy Metal is its own genre again") and "merged:" not in out
    assert "1  Heavy Metal  (1 tagged, 0 corrected)" in out and "1  Metal  (1 tagged" in out
    assert run_json(capsys, "genres")[1]["merges"] == []
    assert main(["genres", "--merge", "Heavy Metal", "heavy metal"]) == EXIT_OK  # a spelling, not a merge taken back
    assert capsys.readouterr().out.startswith("Heavy Metal is now spelled heavy metal (")


def test_listings_line_up_genres_in_wide_letters_as_a_terminal_shows_them():
    # Padded by characters, a column holding "ロック" (two columns a letter) ran past the others' by three.
    from desktop.core.wording import columns, fitted, padded

    assert [columns(t) for t in ("Rock", "ロック", "Рок", "Jazz\u0301", "ｼﾞｬｽﾞ")] == [4, 6, 3, 4, 5]
    assert [fitted(t, 8) for t in ("Rock", "ロック", "サウンドトラック", "Contemporary")] == [
        "Rock    ", "ロック  ", "サウン… ", "Contemp…"]
    assert padded("ロック", 8) == "ロック  " and padded("Contemporary", 8) == "Contemporary"
    assert fitted("x" * 200_000, 24) == "x" * 23 + "…"  # a corrupt tag's: cut at once


def test_list_lines_up_its_columns_whatever_the_genres_letters(lib, capsys):
    from desktop.core.wording import columns

    music, files = lib
    for file, genre in zip(files, ("ロック", "Rock", "サウンドトラック・オリジナル・スコア"), strict=True):
        write_genres(file, [genre])
    assert main(["scan", str(music)]) == EXIT_OK
    for file in files:
        assert main(["set", str(file), read_tags(file).genres[0]]) == EXIT_OK  # shown as their genres
    capsys.readouterr()
    assert main(["list"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len({columns(line[:line.index("/")]) for line in lines}) == 1, lines  # the paths begin in one column


def test_a_corrupt_genre_tag_thousands_of_characters_long_is_listed_cut_and_kept_whole_in_json(lib, capsys):
    # One line of `genres` (and the scan's "most tagged so far") printed all 5,000 characters of such a tag.
    music, files = lib
    corrupt = "Weird" + "x" * 5000
    write_genres(files[0], [corrupt])
    write_genres(files[1], ["Electronic " * 400])
    assert main(["scan", str(music)]) == EXIT_OK
    hint = next(line for line in capsys.readouterr().out.splitlines() if "most tagged so far" in line)
    assert len(hint) < 300 and "Weirdxxx" in hint and "…: 1" in hint
    assert main(["set", str(files[2]), corrupt]) == EXIT_OK  # by hand too: the genre its track shows
    capsys.readouterr()
    for argv in (["genres"], ["list", "--counts"]):
        assert main(argv) == EXIT_OK
        lines = capsys.readouterr().out.splitlines()
        assert lines and all(len(line) < 120 for line in lines), argv
        assert any(("Weird" + "x" * 54 + "…") in line for line in lines), argv
    assert corrupt in [g["genre"] for g in run_json(capsys, "genres")[1]["genres"]]  # whole where a program reads it
    assert corrupt in [g["genre"] for g in run_json(capsys, "list", "--counts")[1]["genres"]]


def test_a_merge_renames_what_the_library_shows_now_and_for_tracks_scanned_later(lib, capsys):
    # The CLI's merge only counted for learning (the window's renamed the tracks too), and a track
    # analysed after a merge came out under the old name, splitting the genre in two.
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    assert main(["genres", "--merge", "noise", "Noise Rock"]) == EXIT_OK
    assert "noise is now Noise Rock (1 track shown so;" in capsys.readouterr().out
    assert [t["genre"] for t in run_json(capsys, "list", "--genre", "Noise Rock")[1]["tracks"]] == ["Noise Rock"]
    later = make_track(music / "c", "more noise", "noise", "flac", 3.0, seed=9)
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    shown = {t["path"]: t["genre"] for t in run_json(capsys, "list")[1]["tracks"]}
    assert shown[str(later)] == shown[str(files[0])] == "Noise Rock"
    assert run_json(capsys, "list", "--genre", "noise")[1]["tracks"] == []


def test_separating_a_merge_gives_the_listeners_corrections_back(lib, capsys):
    # A merge renames corrections in the library; taking the merge back left them under the merged
    # name, so the listener's own word ("Jazz") was lost from the library.
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    assert main(["set", str(files[0]), "Jazz", "--no-write"]) == EXIT_OK
    assert main(["set", str(files[1]), "Blues", "--no-write"]) == EXIT_OK
    assert main(["genres", "--merge", "jazz", "Blues"]) == EXIT_OK

    def shown():
        capsys.readouterr()
        return {t["path"]: t["genre"] for t in run_json(capsys, "list")[1]["tracks"]}

    assert shown()[str(files[0])] == "Blues"
    assert main(["genres", "--merge", "Blues", "Roots"]) == EXIT_OK  # merges chain: jazz -> Blues -> Roots
    assert shown()[str(files[0])] == shown()[str(files[1])] == "Roots"
    assert main(["genres", "--merge", "Jazz", "Jazz"]) == EXIT_OK  # take the first merge back
    assert shown()[str(files[0])] == "Jazz" and shown()[str(files[1])] == "Roots"
    assert main(["genres", "--merge", "Blues", "Blues"]) == EXIT_OK
    assert shown()[str(files[1])] == "Blues"
    assert main(["set", str(files[0]), "Bebop", "--no-write"]) == EXIT_OK  # a later correction is the newest word
    assert main(["genres", "--merge", "Bebop", "Swing"]) == EXIT_OK and main(["genres", "--merge", "Jazz", "Jazz"]) == EXIT_OK
    assert shown()[str(files[0])] == "Swing"


def test_model_labels_are_shown_and_written_as_genre_tags_are_spelled(lib, capsys, tmp_path):
    # The shipped model's labels went into files as "hiphop", "rock", "country" (lower case, no hyphen).
    from desktop.core.genre_names import shown_genre, standard_name

    assert [standard_name(x) for x in ("hiphop", "rock", "rnb", "noise rock", "Noise Rock", "shoegaze")] == \
        ["Hip-Hop", "Rock", "R&B", "Noise Rock", "Noise Rock", "Shoegaze"]
    assert shown_genre("hiphop", {"hiphop": "Hip Hop"}) == "Hip Hop"  # the library's own spelling comes first
    # A model trained on a library tagged in another language: its words are written, not "Hip-Hop" and "Electronic"
    assert [standard_name(x) for x in ("Хип-хоп", "Électronique", "摇滚", "klassik")] == \
        ["Хип-хоп", "Électronique", "摇滚", "Klassik"]
    assert shown_genre("Хип-хоп", {"hiphop": "Hip Hop"}) == "Hip Hop"  # and a library's own spelling still comes first
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    with sqlite3.connect(tmp_path / "cli.db") as con:  # as an earlier version stored it: the bare label
        con.execute("update tracks set predicted_genre = lower(predicted_genre), genre = lower(genre)")
        con.execute("update tracks set corrected_genre = 'Drone', genre = 'Drone' where path = ?", (str(files[2]),))
    assert main(["scan", str(music)]) == EXIT_OK  # nothing to analyse again; the spelling is mended
    with sqlite3.connect(tmp_path / "cli.db") as con:
        rows = dict(((p, (g, pr)) for p, g, pr in con.execute("select path, genre, predicted_genre from tracks")))
    assert rows[str(files[0])] == ("Noise", "Noise") and rows[str(files[1])] == ("Beats", "Beats")
    assert rows[str(files[2])] == ("Drone", "Tones")  # a correction stays what is shown


def test_merging_a_genre_no_track_has_warns_of_a_misspelling(lib, capsys):
    music, _ = lib
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    assert main(["genres", "--merge", "Noize", "Rock"]) == EXIT_OK
    assert "warning: no track has the genre 'Noize'" in capsys.readouterr().err
    assert main(["genres", "--merge", "NOISE", "Noise Rock"]) == EXIT_OK  # a prediction, any spelling
    assert "warning" not in capsys.readouterr().err
    assert main(["genres", "--merge", " ", "Rock"]) == EXIT_ERROR  # no genre at all: the error alone
    assert capsys.readouterr().err.strip() == "error: cannot merge ' ' into 'Rock': not a genre name"
    # "Rock;Pop" is two genres everywhere else; merged, it was the made-up genre "Rockpop" ("merged: Rockpop counts as").
    for source, target in (("Rock;Pop", "Jazz"), ("Noise", "Rock; Pop")):
        assert main(["genres", "--merge", source, target]) == EXIT_ERROR
        several = source if ";" in source else target
        assert capsys.readouterr().err.strip() == (
            f"error: cannot merge {source!r} into {target!r}: {several!r} names several genres; merge one genre at a time")
    assert main(["--json", "genres"]) == EXIT_OK and "Rockpop" not in capsys.readouterr().out


def test_set_show_and_protection(lib, capsys):
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    assert main(["set", str(files[2]), "Drone"]) == EXIT_OK
    assert read_tags(files[2]).genres == ("Drone",)
    assert main(["scan", str(music), "--write", "--policy", "replace"]) == EXIT_OK
    assert read_tags(files[2]).genres == ("Drone",)
    capsys.readouterr()
    code, data = run_json(capsys, "show", str(files[2]))
    assert data["corrected"] == "Drone" and data["status"] == "corrected"
    assert set(data["analyses"][0]["probabilities"]) == {"beats", "noise", "tones"}
    assert main(["show", str(files[2])]) == EXIT_OK
    shown = dict(map(str.strip, line.split(": ", 1)) for line in capsys.readouterr().out.splitlines()
                 if ": " in line and not line.startswith("model"))
    assert shown["confidence"] == sureness(data["confidence"], 3)  # three places, as in the bars below, not float's repr
    assert (shown["album_artist"], shown["compilation"]) == ("-", "-") and data["compilation"] is False
    assert (shown["track_number"], shown["disc_number"], shown["year"], shown["media_kind"]) == ("-", "-", "-", "-")
    assert data["year"] is None and data["media_kind"] is None


def test_tracks_on_a_drive_not_connected_are_said_so_and_take_a_genre_only_unwritten(lib, capsys, tmp_path):
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    music.rename(tmp_path / "unplugged")
    music.mkdir()  # its mount point, left empty
    capsys.readouterr()
    assert main(["list"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert out.count(str(music)) == 3
    assert err == f"note: 3 tracks are on a drive not connected ({music}): listed as the last scan found them\n"
    code, data = run_json(capsys, "list")
    assert [t["away"] for t in data["tracks"]] == [True] * 3
    assert main(["folders"]) == EXIT_OK
    assert (f"music folder: {music}  (3 tracks; not there now, or empty: a drive not connected? its tracks are kept "
            "as they are until it is back)") in capsys.readouterr().out
    code, data = run_json(capsys, "folders")
    assert data["unplugged"] == [str(music)]
    assert main(["show", str(files[0])]) == EXIT_OK
    out, err = capsys.readouterr()
    assert f"        away: on a drive not connected ({music}): shown as the last scan found it\n" in out and not err
    assert run_json(capsys, "show", str(files[0]))[1]["away"] is True
    # Set by hand: refused by name, not "file not found", unless only recorded (--no-write), as the window does.
    assert main(["set", str(files[0]), "Drone"]) == EXIT_ERROR
    assert capsys.readouterr().err == (f"error: {files[0]}: on a drive not connected ({music}): connect it and try "
                                       "again (or `set --no-write` records the genre now, the file left as it is)\n")
    assert main(["set", str(music / "a" / "not known.flac"), "Drone", "--no-write"]) == EXIT_ERROR  # never scanned
    assert "not known.flac: on a drive not connected" in capsys.readouterr().err
    assert main(["set", str(files[0]), "Drone", "--no-write"]) == EXIT_OK
    capsys.readouterr()
    code, data = run_json(capsys, "show", str(files[0]))
    assert (data["corrected"], data["genre"]) == ("Drone", "Drone")
    # Its folders are the library's tracks in them ("not in the library; scan its folder first", it said).
    code, data = run_json(capsys, "forget", str(music / "a"))
    assert code == EXIT_OK and data["forgotten"] == [str(files[0])]
    code, data = run_json(capsys, "keep", str(music / "b"))
    assert code == EXIT_PARTIAL and sorted(data["no_genre_tag"]) == sorted(map(str, files[1:]))  # their tags name none
    assert main(["set", str(music / "a"), "Drone", "--no-write"]) == EXIT_OK
    music.rmdir()
    (tmp_path / "unplugged").rename(music)  # connected again: nothing said, and the genre set is written
    assert main(["scan", "--write"]) == EXIT_OK
    assert "not connected" not in "".join(capsys.readouterr())
    assert read_tags(files[0]).genres == ("Drone",)
    code, data = run_json(capsys, "list")
    assert [t["away"] for t in data["tracks"]] == [False] * 3


def test_list_and_show_do_not_wait_for_a_music_folder_that_does_not_answer(lib, capsys, monkeypatch):
    # Whether a folder is there is asked of the file system: a share that hangs (a hard NFS mount, its server down)
    # must not hold up a listing from the database.
    import threading

    from desktop.cli import tracks
    from desktop.services import library

    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    answer = threading.Event()
    monkeypatch.setattr(tracks, "FOLDERS_ANSWER_S", 0.2, raising=False)
    monkeypatch.setattr(library, "holds_anything", lambda folder: answer.wait(30))
    try:
        code, data = run_json(capsys, "list")
        assert code == EXIT_OK and len(data["tracks"]) == 3 and not any(t["away"] for t in data["tracks"])
        assert main(["show", str(files[0])]) == EXIT_OK and "away:" not in capsys.readouterr().out
    finally:
        answer.set()


def test_a_music_folder_renamed_and_scanned_by_its_new_name_is_no_longer_called_a_drive_not_connected(lib, capsys):
    # ~/Music renamed ~/Musik and scanned there: every later `scan` said of ~/Music "not there now, or empty (a drive
    # not connected?)", and `folders` listed it with 0 tracks, for good.
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    renamed = music.with_name("Musik")
    music.rename(renamed)
    capsys.readouterr()
    code, data = run_json(capsys, "scan", str(renamed))
    assert code == EXIT_OK and data["sync"]["moved"] == 3
    assert main(["folders"]) == EXIT_OK
    assert (f"music folder: {music}  (0 tracks; not there now, and holding no track of the library: the next "
            "`genre-tagger scan` forgets it)") in capsys.readouterr().out
    assert main(["scan"]) == EXIT_OK
    err = capsys.readouterr().err
    assert err == (f"note: {music}: not there now, and none of the library's tracks is in it any more (moved "
                   "elsewhere); no longer one of its music folders\n")
    assert run_json(capsys, "folders")[1]["folders"] == [str(renamed)]
    assert main(["scan"]) == EXIT_OK and not capsys.readouterr().err
    capsys.readouterr()
    music.mkdir()
    (renamed / "b").rename(music / "b")  # one album back under the old name, the rest still renamed: both hold tracks
    assert main(["scan", str(music)]) == EXIT_OK
    renamed.rename(renamed.with_name("elsewhere"))  # a drive not connected: its tracks stay, so does its folder
    capsys.readouterr()
    assert main(["scan"]) == EXIT_OK
    assert f"note: {renamed}: not there now, or empty (a drive not connected?)" in capsys.readouterr().err
    assert run_json(capsys, "folders")[1]["folders"] == sorted([str(music), str(renamed)])


def test_a_link_to_a_share_not_mounted_is_a_note_not_a_failed_scan(lib, capsys, tmp_path, unreadable_folders):
    # A scan run each night while the NAS sleeps exited 1, "some files failed", as a drive not connected does not.
    music, files = lib
    nas = tmp_path / "nas"
    files[0].parent.rename(nas)
    (music / "a").symlink_to(nas)
    assert main(["scan", str(music)]) == EXIT_OK
    nas.rename(tmp_path / "asleep")
    capsys.readouterr()
    assert main(["scan", str(music)]) == EXIT_OK
    err = capsys.readouterr().err
    assert f"note: {music / 'a'}: a link to {nas}, which is not there now (a drive not connected?): not scanned" in err
    code, data = run_json(capsys, "scan", str(music))
    assert code == EXIT_OK and [p["path"] for p in data["problems"]] == [str(music / "a")]
    unreadable_folders.add("b")  # a folder it cannot read is a failure still
    assert main(["scan", str(music)]) == EXIT_PARTIAL
    assert f"warning: {music / 'b'}: cannot read folder (Permission denied)" in capsys.readouterr().err


def test_a_genre_set_on_a_file_that_cannot_be_written_says_it_stands_unwritten(lib, capsys):
    # "genre set to Drone by hand", then "error: …: file is read-only": set or not? It is, in the library.
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    files[0].chmod(0o444)
    capsys.readouterr()
    assert main(["set", str(files[0]), "Drone"]) == EXIT_PARTIAL
    assert capsys.readouterr().err == (f"error: {files[0]}: file is read-only; not forcing a write\nnote: the genre "
                                       "stays set by hand in the library on the 1 file not written; `genre-tagger set` "
                                       "again writes it once the file can be\n")
    assert run_json(capsys, "show", str(files[0]))[1]["corrected"] == "Drone" and not read_tags(files[0]).genres
    files[0].chmod(0o644)
    assert main(["set", str(files[0]), "Drone"]) == EXIT_OK and read_tags(files[0]).genres == ("Drone",)


def test_playlist_is_relative_utf8(lib, capsys, tmp_path):
    music, files = lib
    main(["scan", str(music)])
    out = tmp_path / "lists" / "beats.m3u8"
    assert main(["playlist", "beats", "-o", str(out)]) == EXIT_OK
    text = out.read_text(encoding="utf-8")
    assert text.startswith("#EXTM3U\n") and "../Music/b/Été à Paris.mp3" in text
    assert main(["playlist", "polka", "-o", str(out)]) == EXIT_ERROR
    assert "no tracks with genre 'polka'" in capsys.readouterr().err


def test_a_genre_only_the_files_tags_name_says_where_its_tracks_are_and_the_search_that_takes_them(lib, capsys, tmp_path):
    # The shipped model never predicts a genre it does not know: "list --genre" and "playlist" of the listener's own
    # "Game Music" found nothing and said only "no track is confidently", while `genres` counted its tagged files.
    music, _ = lib
    for i, seed in enumerate((4, 5)):
        make_track(music / "c", f"cue {i}", "tones", "flac", 3.0, seed=seed, tags={"genre": "Game Music"})
    make_track(music / "d", "theme", "tones", "flac", 3.0, seed=6, tags={"genre": "VGM"})
    main(["scan", str(music)])
    capsys.readouterr()
    assert main(["list", "--genre", "game music"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("no track is confidently Game Music: 2 files' own tags say Game Music, and predictions in "
                          "the model's genres stand in its place: they show as Tones (2);"), err
    assert "--search 'genre:\"Game Music\"' takes those tracks by their tags now" in err
    out_file = tmp_path / "film.m3u8"
    assert main(["playlist", "Game Music", "-o", str(out_file)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "no tracks with genre Game Music: 2 files' own tags say Game Music" in err and not out_file.exists()
    # The search it names takes both, by their tags.
    assert main(["playlist", "--search", 'genre:"Game Music"', "-o", str(out_file)]) == EXIT_OK
    assert [line for line in out_file.read_text(encoding="utf-8").splitlines() if not line.startswith("#")] == [
        "Music/c/cue 0.flac", "Music/c/cue 1.flac"]
    # A merge counts: the file's "VGM" is the listener's Game Music now.
    assert main(["genres", "--merge", "VGM", "Game Music"]) == EXIT_OK
    capsys.readouterr()
    assert main(["list", "--genre", "game music"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "no track is confidently Game Music: 3 files' own tags say Game Music" in err
    # A search reads the tags' own words, so it names each spelling, the most used first.
    assert "--search 'genre:\"Game Music\"' (or genre:VGM) takes those tracks" in err
    # Under a threshold no prediction reaches, the genre's own uncertain tracks are named.
    capsys.readouterr()
    code, listed = run_json(capsys, "list", "--genre", "tones")
    top = max(t["confidence"] for t in listed["tracks"])
    assert main(["list", "--genre", "tones", "--threshold", f"{top + 1e-6:.7f}"]) == EXIT_OK
    assert f"no track is confidently Tones: {len(listed['tracks'])} tracks are Tones under the threshold" in \
        capsys.readouterr().err


def test_a_playlist_per_genre_in_a_folder_each_as_the_sidebar_counts_it(lib, capsys, tmp_path):
    music, files = lib
    main(["scan", str(music)])
    assert main(["set", str(files[2]), "Rock/Pop; Ambient"]) == EXIT_OK  # a genre no file name can hold as it is
    capsys.readouterr()
    code, counted = run_json(capsys, "list", "--counts")
    counts = {c["genre"]: c["tracks"] for c in counted["genres"]}
    folder = tmp_path / "Playlists"
    code, data = run_json(capsys, "playlist", "--all", "-o", str(folder))
    assert code == EXIT_OK and data["folder"] == str(folder)
    assert {e["genre"]: e["tracks"] for e in data["playlists"]} == counts and "Rock/Pop" in counts
    assert sorted(str(p) for p in folder.iterdir()) == sorted(e["playlist"] for e in data["playlists"])
    assert "../Music/b/tones.ogg" in (folder / "Rock-Pop.m3u8").read_text(encoding="utf-8")
    (folder / "Ambient.m3u8").write_text("my notes\n")  # not a playlist: kept, the others are still written (again)
    assert main(["playlist", "-o", str(folder), "--all"]) == EXIT_PARTIAL  # options on either side
    out, err = capsys.readouterr()
    assert f"error: {folder / 'Ambient.m3u8'}: exists and is not a playlist" in err
    assert f"wrote {len(counts) - 1} playlists to {folder}" in out and (folder / "Ambient.m3u8").read_text() == "my notes\n"
    for argv in (["playlist", "-o", str(folder)], ["playlist", "Ambient", "--all", "-o", str(folder)]):
        assert main(argv) == EXIT_ERROR
        assert "name a genre, or --all for every genre (not both)" in capsys.readouterr().err
    assert main(["playlist", "--all", "-o", str(files[0])]) == EXIT_ERROR
    assert "is a file; name a folder to write the playlists in" in capsys.readouterr().err


def test_a_genre_too_long_for_a_file_name_still_gets_its_playlist_and_the_others_theirs(lib, capsys, tmp_path):
    # A corrupt tag's 300-character genre made a name no file system takes: `playlist --all` stopped there with an
    # internal error, the genres after it without a playlist.
    music, files = lib
    main(["scan", str(music)])
    long_one, longer = "Ambient " + "x" * 300, "Ambient " + "x" * 400
    for file, genre in ((files[0], long_one), (files[1], longer), (files[2], "Zydeco")):
        assert main(["set", str(file), genre, "--no-write"]) == EXIT_OK
    capsys.readouterr()
    code, data = run_json(capsys, "playlist", "--all", "-o", str(tmp_path / "Playlists"))
    assert code == EXIT_OK and [e["tracks"] for e in data["playlists"]] == [1, 1, 1]
    names = sorted(os.path.basename(e["playlist"]) for e in data["playlists"])
    stem = "Ambient " + "x" * 89 + "…"  # 100 bytes: "…" is three
    assert names == [f"{stem} (2).m3u8", f"{stem}.m3u8", "Zydeco.m3u8"]
    assert all((tmp_path / "Playlists" / name).is_file() for name in names)


def test_playlist_and_list_find_a_genre_in_any_spelling(lib, capsys, tmp_path):
    # The library says "Hip-Hop"; a listener types "hip hop" (it found nothing before).
    music, files = lib
    main(["scan", str(music)])
    assert main(["set", str(files[0]), "Hip-Hop"]) == EXIT_OK
    capsys.readouterr()
    out = tmp_path / "hiphop.m3u8"
    assert main(["playlist", "hip hop", "-o", str(out)]) == EXIT_OK
    assert out.read_text(encoding="utf-8").count("noise song.flac") == 1
    capsys.readouterr()
    assert main(["--json", "list", "--genre", "HIPHOP"]) == EXIT_OK
    assert [t["path"] for t in json.loads(capsys.readouterr().out)["tracks"]] == [str(files[0])]
    assert main(["set", str(files[1]), "Jazz; Hip Hop"]) == EXIT_OK  # one of several genres counts too
    capsys.readouterr()
    assert main(["--json", "list", "--genre", "hip-hop"]) == EXIT_OK
    assert sorted(t["path"] for t in json.loads(capsys.readouterr().out)["tracks"]) == sorted(map(str, files[:2]))


def entries(playlist) -> list[str]:
    """A playlist's tracks, its comment lines left out."""
    return [line for line in playlist.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]


def test_a_playlist_of_a_search_alone_or_within_a_genre(lib, capsys, tmp_path):
    # A playlist could only be one genre's: "ete paris" or "artist:davis year:1955-1960" made none.
    music, files = lib
    main(["scan", str(music)])
    capsys.readouterr()
    out = tmp_path / "paris.m3u8"
    assert main(["playlist", "--search", "paris ete", "-o", str(out)]) == EXIT_OK  # any order, accents aside
    assert entries(out) == ["Music/b/Été à Paris.mp3"]
    assert "wrote 1 track to" in capsys.readouterr().out
    both = tmp_path / "noise.m3u8"
    assert main(["playlist", "noise", "--search", "song", "-o", str(both)]) == EXIT_OK
    assert entries(both) == ["Music/a/noise song.flac"]
    for argv, error in ((["playlist", "--search", "zzz"], "no tracks matching 'zzz'"),
                        (["playlist", "noise", "--search", "paris"], "no tracks with genre 'noise' matching 'paris'"),
                        (["playlist", "--all", "--search", "song"], "name a genre, or --all for every genre (not both)")):
        assert main([*argv, "-o", str(tmp_path / "none.m3u8")]) == EXIT_ERROR
        assert error in capsys.readouterr().err
    assert not (tmp_path / "none.m3u8").exists()


def test_scan_of_one_file_analyses_it_and_leaves_the_rest_alone(lib, capsys):
    music, files = lib
    code, data = run_json(capsys, "scan", str(files[1]))
    assert code == EXIT_OK and data["sync"]["found"] == 1 and [a["path"] for a in data["analysed"]] == [str(files[1])]
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    code, data = run_json(capsys, "scan", str(files[0]))  # the folder's other tracks are not "missing"
    assert code == EXIT_OK and data["sync"]["missing"] == 0 and data["sync"]["unchanged"] == 1


def test_scan_with_no_folder_walks_the_librarys_folders_again(lib, capsys, tmp_path):
    music, files = lib
    assert main(["scan"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "error: no folder to scan: name one (genre-tagger scan ~/Music)" in err and "Traceback" not in err
    assert main(["scan", str(music / "b")]) == EXIT_OK
    capsys.readouterr()
    files[2].unlink()
    make_track(music / "a", "new song", "tones", "wav", 3.0, seed=4)  # not under b: not walked
    code, data = run_json(capsys, "scan", "--write")
    assert code == EXIT_OK and data["paths"] == [str(music / "b")]
    assert (data["sync"]["found"], data["sync"]["missing"]) == (1, 1) and data["written"]
    assert read_tags(files[1]).genres and not read_tags(files[0]).genres
    assert main(["scan"]) == EXIT_OK
    assert f"scanning the library's folders: {music / 'b'}\n1 file: 0 new" in capsys.readouterr().out
    assert main(["scan", str(music / "a")]) == EXIT_OK
    (music / "a").rename(tmp_path / "unmounted")
    capsys.readouterr()
    assert main(["scan"]) == EXIT_OK  # a folder not there now is named, and its tracks are not called missing
    out, err = capsys.readouterr()
    assert f"note: {music / 'a'}: not there now, or empty (a drive not connected?); its tracks are left as they are" in err
    assert "1 file: 0 new, 0 changed, 0 moved, 0 retagged, 1 unchanged, 0 missing" in out
    assert main(["scan", str(music / "a")]) == EXIT_OK  # named, it was walked: its track went missing
    out, err = capsys.readouterr()
    assert f"note: {music / 'a'}: not there now, or empty (a drive not connected?); its tracks are left as they are" in err
    assert "0 files: 0 new, 0 changed, 0 moved, 0 retagged, 0 unchanged, 0 missing" in out and "no music files" not in out
    assert "would change" not in out  # no write can reach them (it offered one for each)
    assert main(["folders", "--leave-out", str(music / "nowhere")]) == EXIT_ERROR  # a typo is still refused
    assert f"{music / 'nowhere'}: no such folder" in capsys.readouterr().err
    assert main(["folders", "--leave-out", str(music / "a")]) == EXIT_OK  # its drive gone for good: its tracks go
    capsys.readouterr()
    code, data = run_json(capsys, "list")
    assert code == EXIT_OK and [t["path"] for t in data["tracks"]] == [str(files[1])]
    (music / "b").rename(tmp_path / "unmounted too")
    assert main(["scan"]) == EXIT_ERROR  # it said "no folder to scan: name one", of a library on a drive unplugged
    err = capsys.readouterr().err
    assert err.endswith("error: none of the library's music folders is there now (named above); connect the drive "
                        "that holds them and scan again, or name a folder to scan\n")
    assert f"note: {music / 'b'}: not there now" in err and "Traceback" not in err


def test_a_file_cut_short_gets_its_genre_from_what_is_there_with_a_warning(lib, capsys):
    music, files = lib
    cut = make_track(music / "c", "long", "tones", "flac", 10.0, seed=9)
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # a copy that did not finish ("flac decoder lost sync" failed it whole)
    assert main(["scan", str(music / "c")]) == EXIT_OK
    out, err = capsys.readouterr()
    assert f"warning: {cut}: only the first " in err and "could be decoded (cut short?" in err
    code, data = run_json(capsys, "show", str(cut))
    assert code == EXIT_OK and data["genre"] and "could be decoded (cut short?" in data["error"]


@pytest.mark.parametrize("argv, message", [
    (["list", "--counts", "--threshold", "5"], "argument --threshold: must be from 0 to 1, not 5"),
    (["map", "-o", "m.png", "--threshold", "-0.5"], "argument --threshold: must be from 0 to 1, not -0.5"),
    (["scan", ".", "--multi-threshold", "high"], "argument --multi-threshold: must be a number from 0 to 1, not 'high'"),
    (["scan", ".", "--workers", "0"], "argument --workers: must be at least 1, not 0"),
    (["scan", ".", "--workers", "100000"], "argument --workers: must be at most 64, not 100000"),  # a decoder each
    (["learn", "--folds", "1"], "argument --folds: must be at least 2, not 1"),
    (["undo", "--batch", "99999999999999999999"], "argument --batch: must be at most 9223372036854775807"),  # an internal error
    (["map", "-o", "m.png", "--size", "100000x100000"], "argument --size: must be from 400x200 to 10000x10000 pixels"),
    (["map", "-o", "m.png", "--size", "0x0"], "argument --size: must be from 400x200"),
    (["map", "-o", "m.png", "--size", "big"], "argument --size: must be WIDTHxHEIGHT, not 'big'"),
])
def test_numbers_out_of_range_are_refused_by_name(capsys, argv, message):
    # `list --threshold 5` used to list every track as uncertain, `--workers -3` meant one thread, in silence.
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == EXIT_ERROR and message in capsys.readouterr().err


@pytest.mark.parametrize("argv, named", [
    (["set", "", "Rock"], "PATH"), (["keep", ""], "PATH"), (["forget", ""], "PATH"), (["scan", "", "--write"], "PATH"),
    (["show", ""], "file"), (["classify", ""], "file"), (["playlist", "Rock", "-o", ""], "-o/--output"),
    (["map", "-o", ""], "-o/--output"), (["learn", "--base", ""], "--base"), (["folders", "--leave-out", ""], "--leave-out"),
    (["folders", "--keep", "a", ""], "--keep"), (["--db", "", "list"], "--db"), (["list", "--model", ""], "--model"),
])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(lib, capsys, monkeypatch, argv, named):
    # `genre-tagger set "$FILE" Rock` with $FILE unset set Rock on every file under the current folder (Path("") is
    # "."), `scan "" --write` tagged it, `folders --leave-out ""` left it out of the library.
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    monkeypatch.chdir(music)
    before = {f: f.read_bytes() for f in files}
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == EXIT_ERROR
    assert f"argument {named}: an empty path names no file or folder" in capsys.readouterr().err
    assert {f: f.read_bytes() for f in files} == before
    code, data = run_json(capsys, "list")
    assert code == EXIT_OK and len(data["tracks"]) == 3 and not any(t["corrected"] for t in data["tracks"])
    code, data = run_json(capsys, "folders")
    assert data["folders"] == [str(music)] and data["left_out"] == [] and data["kept_as_music"] == []


@pytest.mark.parametrize("path", [".", "/", "..", "~", "~/Music", "Music/", "./a b/c.ogg", "é" * 127, "caf\u00e9.flac"])
def test_every_path_a_listener_types_passes_the_path_check(path):
    # The first check of a name's length took max() of Path(".").parts, which has none: `scan .` was refused.
    from desktop.core.paths import named_path

    assert named_path(path) == path


@pytest.fixture
def case_insensitive(monkeypatch):
    """Folders that find a name in any case, as macOS's, Windows' and a USB stick's exFAT do (each listing its own
    spelling): os.path.lexists as such a file system answers it."""
    real = os.path.lexists

    def lexists(path) -> bool:
        found = os.sep if os.path.isabs(path) else os.curdir
        for part in os.path.normpath(path).split(os.sep)[1 if os.path.isabs(path) else 0:]:
            spelled = [e for e in (os.listdir(found) if os.path.isdir(found) else []) if e.casefold() == part.casefold()]
            if not spelled:
                return False
            found = os.path.join(found, spelled[0])
        return real(found)

    monkeypatch.setattr(os.path, "lexists", lexists)


def test_a_path_typed_in_another_case_is_taken_as_its_folders_spell_it(tmp_path, case_insensitive):
    # `set ~/music/song.flac Jazz` on a Mac stored a second track of ~/Music/Song.flac, and its write renamed the file.
    from desktop.core.paths import named_path

    song = tmp_path / "Music" / "Album" / "Song.flac"
    song.parent.mkdir(parents=True)
    song.write_bytes(b"x")
    assert named_path(str(tmp_path / "music" / "ALBUM" / "song.flac")) == str(song)
    assert named_path(str(tmp_path / "MUSIC")) == str(tmp_path / "Music")
    assert named_path(str(tmp_path / "music" / "new.flac")) == str(tmp_path / "Music" / "new.flac")  # not there yet


def test_a_path_typed_in_another_case_on_a_case_sensitive_disk_is_left_as_typed(tmp_path):
    # There, Music is not music: the folder named is not there, and no other folder is taken for it.
    from desktop.core.paths import named_path

    (tmp_path / "music").mkdir()
    assert named_path(str(tmp_path / "Music")) == str(tmp_path / "Music")


def test_a_write_through_another_spelling_keeps_the_files_name(tmp_path, case_insensitive):
    # The tagged copy was put in place under the spelling given: the listener's Song.flac became song.flac.
    from desktop.core.safe_write import safe_modify

    song = make_track(tmp_path / "Music", "Song", "tones", "flac", 2.0, seed=1)
    typed = tmp_path / "music" / song.name.lower()

    def tag(copy):
        audio = mutagen.File(copy)
        audio["genre"] = "Jazz"
        audio.save()

    safe_modify(typed, tag, lambda path: None)
    assert os.listdir(song.parent) == [song.name] and read_tags(song).genres == ("Jazz",)


@pytest.mark.parametrize("argv", [["list", "--genre", ""], ["list", "--genre", "  "], ["playlist", "", "-o", "x.m3u8"]])
def test_an_empty_genre_to_look_for_is_refused(lib, capsys, argv):
    # `list --genre ""` found nothing and then said "no track is present: the library's files are missing".
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == EXIT_ERROR and "a genre cannot be empty" in capsys.readouterr().err


@pytest.mark.parametrize("argv, unknown", [
    (["scan", ".", "--mode", "replace"], "--mode replace"),  # was taken as --model replace
    (["undo", "--l"], "--l"),  # was taken as --list
    (["--js", "list"], "--js"),
])
def test_an_option_is_never_guessed_from_its_first_letters(capsys, argv, unknown):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == EXIT_ERROR and f"unrecognized arguments: {unknown}" in capsys.readouterr().err


def test_a_database_named_like_music_or_a_folder_is_refused_and_nothing_made(tmp_path, capsys, monkeypatch):
    # `--db music/` (not there yet) made a database file named "music"; `--db new.mp3` a database named like a song.
    for db, reason in ((f"{tmp_path / 'music'}/", "names a folder (it ends in /); give a database file"),
                       (str(tmp_path / "new.mp3"), "is an audio file's name; the library database needs a file of its own")):
        assert main(["--db", db, "list"]) == EXIT_ERROR
        assert f"error: {db.rstrip('/')}: {reason}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("GENRE_TAGGER_DB", f"{tmp_path}/")
    with pytest.raises(SystemExit):
        main(["--help"])  # help still shows, naming what is wrong with the variable
    assert "names a folder (it ends in /)" in capsys.readouterr().out


def test_list_keeps_paths_in_one_column_whatever_the_genre(lib, capsys):
    music, files = lib
    main(["scan", str(music)])
    assert main(["set", str(files[0]), "Contemporary Christian Progressive Metalcore", "--no-write"]) == EXIT_OK
    capsys.readouterr()
    assert main(["list"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    columns = {line.index(str(music)) for line in lines}
    assert len(lines) == len(files) and len(columns) == 1
    assert any(line.startswith("Contemporary Christian …") for line in lines)


def test_list_review_says_why_each_track_is_there(lib, capsys):
    music, files = lib
    write_genres(files[0], ["Heavy Metal"])  # the model hears noise: the tag disagrees
    main(["scan", str(music)])
    capsys.readouterr()
    assert main(["list", "--review", "--threshold", "1"]) == EXIT_OK  # every prediction uncertain too
    lines = capsys.readouterr().out.splitlines()
    why = {line.split(str(music))[1]: line.split(str(music))[0].split(None, 2)[2].strip() for line in lines}
    assert why[f"/a/{files[0].name}"] == "uncertain; file says Heavy Metal"
    assert why[f"/b/{files[2].name}"] == "uncertain"
    code, data = run_json(capsys, "list", "--review")
    assert [t["review"] for t in data["tracks"]] == ["file says Heavy Metal"]


def test_a_confidence_just_under_the_threshold_never_reads_as_the_threshold(lib, capsys):
    # 0.4998 is uncertain under 0.5; rounded it read "0.50" (list) and "0.500" (show) beside "uncertain".
    music, files = lib
    main(["scan", str(music)])
    with sqlite3.connect(os.environ["GENRE_TAGGER_DB"]) as con:
        con.execute("update tracks set confidence = 0.4998 where path = ?", (str(files[2]),))
        con.execute("update analyses set confidence = 0.4998")
    capsys.readouterr()
    assert main(["list", "--review"]) == EXIT_OK
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.endswith(str(files[2]))]
    assert " 0.49  uncertain " in line
    assert main(["show", str(files[2])]) == EXIT_OK
    assert "  confidence: 0.499" in capsys.readouterr().out.splitlines()


def test_list_counts_and_lists_the_tracks_with_no_genre_and_says_why(lib, capsys):
    # A track with no genre at all (here unreadable) was in no line of list --counts, and no filter found them.
    music, files = lib
    broken = music / "c" / "broken.mp3"
    broken.parent.mkdir()
    broken.write_bytes(b"\xff\xfb" + b"not audio" * 300)
    main(["scan", str(music)])
    capsys.readouterr()
    assert main(["list", "--counts"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1] == ("     1  (no genre: not analysed, unreadable, no music or unlike your "
                                                        "genres; see list --no-genre)")
    code, data = run_json(capsys, "list", "--counts")
    assert data["no_genre"] == 1  # with the genres and the uncertain, every track once
    assert sum(g["tracks"] for g in data["genres"]) + data["uncertain"] + data["no_genre"] == len(files) + 1
    assert main(["list", "--no-genre"]) == EXIT_OK
    [line] = capsys.readouterr().out.splitlines()
    with sqlite3.connect(os.environ["GENRE_TAGGER_DB"]) as con:
        [(error,)] = con.execute("select error from tracks where path = ?", (str(broken),)).fetchall()
    assert error and line.startswith("-") and f"  {error} {broken}" in line  # why, where its status said "error"
    assert [t["path"] for t in run_json(capsys, "list", "--no-genre")[1]["tracks"]] == [str(broken)]
    assert main(["list", "--no-genre", "--genre", "noise"]) == EXIT_OK
    assert capsys.readouterr().err.strip() == "no track of the genre 'noise', with no genre"


def test_an_empty_listing_says_why_on_stderr_and_nothing_on_stdout(lib, capsys, monkeypatch):
    import threading

    music, files = lib
    failed = []  # a traceback of a thread's, printed after the hint (its look for drives not connected, no library yet)
    monkeypatch.setattr(threading, "excepthook", failed.append)
    for argv, hint in ((["list"], "no tracks yet: scan a folder first"), (["genres"], "no tracks yet: scan a folder first"),
                       (["list", "--counts"], "no tracks yet: scan a folder first"),  # it printed nothing at all
                       (["undo", "--list"], "nothing written yet: no batch to undo")):
        assert main(argv) == EXIT_OK
        out, err = capsys.readouterr()
        assert out == "" and hint in err and not failed, argv
    main(["scan", str(music)])
    capsys.readouterr()
    for argv, hint in ((["list", "--genre", "polka"], "no track is confidently polka (list --counts shows the genres)"),
                       (["list", "--search", "zzz"], "no track matches 'zzz'"),
                       (["list", "--search", "bpm:120"], "no track matches 'bpm:120'; bpm: names no field (title:, "
                        "artist:, album:, genre:, path:, year:), so bpm:120 was looked for as a word"),
                       (["list", "--review", "--threshold", "0"], "nothing to review"),
                       (["genres"], "no genres yet: no file has a genre tag and nothing was corrected")):
        assert main(argv) == EXIT_OK
        out, err = capsys.readouterr()
        assert out == "" and hint in err, argv
    assert main(["--json", "list", "--genre", "polka"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert json.loads(out) == {"tracks": []} and err == ""  # scripts get the empty list, not the hint
    for song in files:  # the music deleted, its folders left (a drive unplugged leaves its tracks in view)
        song.unlink()
    main(["scan", str(music)])
    capsys.readouterr()
    assert main(["list"]) == EXIT_OK
    assert "no track is present: the library's files are missing" in capsys.readouterr().err


def test_a_command_that_only_reads_creates_no_library_at_a_mistyped_path(lib, capsys, tmp_path):
    # `list --db ~/Musci/library.db` made the folder, an empty library and its daily copy there, and said only
    # "no tracks yet": nothing told the listener the path was not their library.
    music, files = lib
    main(["scan", str(music)])
    capsys.readouterr()
    typo = tmp_path / "Musci" / "library.db"
    for argv in (["list"], ["list", "--counts"], ["genres"], ["folders"], ["undo", "--list"], ["show", str(files[0])],
                 ["playlist", "noise", "-o", str(tmp_path / "noise.m3u8")], ["map", "-o", str(tmp_path / "map.png")]):
        code = main(["--db", str(typo), *argv])
        err = capsys.readouterr().err
        assert f"note: {typo}: no library there yet (nothing was created)" in err, argv
        assert code == (EXIT_ERROR if argv[0] in ("show", "playlist", "map") else EXIT_OK), (argv, err)
        assert not typo.parent.exists(), argv
    assert not (tmp_path / "noise.m3u8").exists() and not (tmp_path / "map.png").exists()
    assert run_json(capsys, "--db", str(typo), "list") == (EXIT_OK, {"tracks": []})
    assert main(["--db", str(typo), "classify", str(files[0])]) == EXIT_OK  # a file outside any library: no note
    assert "no library" not in capsys.readouterr().err and not typo.parent.exists()
    assert main(["list"]) == EXIT_OK and str(files[0]) in capsys.readouterr().out  # the real library, as it was
    assert main(["--db", str(typo), "scan", str(music)]) == EXIT_OK  # a command that writes creates one there
    assert typo.is_file()


def test_bad_model_is_a_clear_error(lib, capsys, tmp_path):
    music, _ = lib
    bad = tmp_path / "bad.onnx"
    bad.write_text("nope")
    assert main(["scan", str(music), "--model", str(bad)]) == EXIT_ERROR
    assert f"error: {bad}: cannot load model" in capsys.readouterr().err
    for argv in (["scan", str(music)], ["learn", "--base", str(tmp_path)]):  # a folder: it said "no such model file"
        assert main([*argv, "--model", str(tmp_path)]) == EXIT_ERROR
        assert f"error: {tmp_path}: is a folder, not a model file (.onnx)" in capsys.readouterr().err


def test_a_playlist_or_map_given_a_folder_asks_for_a_file_name(lib, capsys, tmp_path):
    # `-o ~/Playlists/` said "should end in .m3u8", and with --force tried to write over the folder.
    music, _ = lib
    main(["scan", str(music)])
    capsys.readouterr()
    for argv, what in ((["playlist", "noise", "-o", str(tmp_path), "--force"], "playlist"),
                       (["map", "-o", str(tmp_path), "--force"], "map image")):
        assert main(argv) == EXIT_ERROR
        assert f"error: {tmp_path}: is a folder; name the {what} file to write in it" in capsys.readouterr().err


def test_corrupt_file_and_missing_folder_give_partial_exit(lib, capsys):
    music, _ = lib
    (music / "a" / "broken.flac").write_bytes(b"fLaC" + b"\x00" * 50)
    code = main(["scan", str(music), str(music / "absent")])
    err = capsys.readouterr().err
    assert code == EXIT_PARTIAL
    assert "broken.flac" in err and "absent: no such file or folder" in err


def test_a_scan_counts_as_analysed_only_the_tracks_it_could_analyse(lib, capsys, tmp_path):
    # "analysed 4 tracks" was said with one of them unreadable (its tags read, its audio not).
    music, _ = lib
    whole = make_track(tmp_path, "whole", "tones", "alac.caf", 6.0)
    (music / "cut.caf").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # its packet table is gone
    code = main(["scan", str(music)])
    out, err = capsys.readouterr()
    assert code == EXIT_PARTIAL and "cut.caf: cannot read audio (no packet table" in err
    assert "analysed 3 tracks with" in out and "; 1 more could not be (named above)" in out


def test_a_scan_counts_the_files_its_walk_could_not_read(lib, capsys):
    # "5 files: 3 new, … 0 missing" left the two damaged ones out of every number.
    music, _ = lib
    (music / "a" / "broken.flac").write_bytes(b"fLaC" + b"\x00" * 50)
    (music / "a" / "empty.mp3").write_bytes(b"")
    code = main(["scan", str(music), "--json"])
    sync = json.loads(capsys.readouterr().out)["sync"]
    assert code == EXIT_PARTIAL and sync["found"] == 5 and sync["new"] == 3 and sync["unreadable"] == 2
    main(["scan", str(music)])
    out = capsys.readouterr().out
    assert "5 files: 0 new, 0 changed, 0 moved, 0 retagged, 5 unchanged, 0 missing\n" in out  # named as unchanged since
    (music / "a" / "empty2.ogg").write_bytes(b"")
    main(["scan", str(music)])
    assert "6 files: 0 new, 0 changed, 0 moved, 0 retagged, 5 unchanged, 0 missing, 1 could not be read (named above)" \
        in capsys.readouterr().out


def test_set_takes_a_file_whose_audio_a_scan_could_not_decode(lib, capsys, tmp_path):
    # Its tags read, so its genre can be set by hand; `set` refused it with exit 2 once a scan had failed on it.
    music, _ = lib
    store = make_protected_m4p(music, "store", {"genre": "Pop"})
    assert main(["scan", str(music)]) == EXIT_PARTIAL
    assert "store.m4p: copy-protected (iTunes Store FairPlay)" in capsys.readouterr().err

    def in_playlist(genre):
        listed = tmp_path / f"{genre}.m3u8"
        made = main(["playlist", genre, "-o", str(listed)]) == EXIT_OK  # (none of the genre: an error, no file)
        capsys.readouterr()
        return made and "store.m4p" in listed.read_text() and not listed.unlink()

    assert in_playlist("Pop")  # unheard, its own tag's genre is its genre in the library (it was in no genre's list)
    code, data = run_json(capsys, "show", str(store))
    assert (data["genre"], data["predicted"], data["status"]) == ("Pop", None, "error")
    assert main(["set", str(store), "Rock"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "store.m4p: genre set to Rock by hand" in out and "store.m4p" not in err
    assert read_tags(store).genres == ("Rock",)
    assert in_playlist("Rock") and not in_playlist("Pop")
    assert main(["undo"]) == EXIT_OK
    assert read_tags(store).genres == ("Pop",) and in_playlist("Pop") and not in_playlist("Rock")
    write_genres(store, ["Soul"])  # another program's edit: the next scan shows it (retagged: nothing to analyse)
    assert main(["scan", str(music)]) == EXIT_OK
    assert in_playlist("Soul") and not in_playlist("Pop")


def test_undo_with_nothing_to_undo(lib, capsys):
    assert main(["undo"]) == EXIT_ERROR
    assert "nothing to undo" in capsys.readouterr().err


def test_set_on_a_folder_corrects_every_file_in_it_as_one_undo_step(lib, capsys, tmp_path):
    # An album's genre is one correction: `set` took only one file ("unsupported file type" for a folder).
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    assert main(["set", str(music / "b"), "Chanson"]) == EXIT_OK  # "Été à Paris.mp3" and "tones.ogg"
    assert "2 files: genre set to Chanson by hand" in capsys.readouterr().out
    assert [read_tags(f).genres for f in files] == [(), ("Chanson",), ("Chanson",)]
    assert main(["set", str(files[0]), str(tmp_path / "gone.flac"), "Drone"]) == EXIT_PARTIAL  # the rest still set
    assert f"warning: {tmp_path / 'gone.flac'}: file not found" in capsys.readouterr().err
    assert read_tags(files[0]).genres == ("Drone",)
    assert main(["undo"]) == EXIT_OK and main(["undo"]) == EXIT_OK
    assert [read_tags(f).genres for f in files] == [(), (), ()]


def test_set_on_unknown_file(lib, capsys, tmp_path):
    assert main(["set", str(tmp_path / "nope.mp3"), "Rock"]) == EXIT_ERROR
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nope.mp3'}: file not found"


def test_set_with_the_genre_first_refuses_to_set_a_file_name_as_a_genre(lib, capsys, monkeypatch):
    # In a music folder sorted by genre, `set Rock song.flac` gave every file under Rock the genre "song.flac".
    music, files = lib
    monkeypatch.chdir(files[0].parent)
    song = make_track(files[0].parent / "Rock", "song", "noise", "flac", 3.0, seed=4)
    for genre in (files[0].name, str(files[1]), "other.flac"):
        assert main(["set", "Rock", genre]) == EXIT_ERROR
        assert capsys.readouterr().err.strip() == (f"error: {genre}: a file, not a genre: the genre comes last "
                                                   "(genre-tagger set PATH... GENRE)")
    assert read_tags(song).genres == ()
    assert main(["set", str(song), "Rock"]) == EXIT_OK  # a genre named as a folder beside it is still a genre
    assert read_tags(song).genres == ("Rock",)


def test_console_script_runs(lib, tmp_path):
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "--json", "models"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "models" in json.loads(proc.stdout)


def test_started_without_stdin_and_stderr_it_still_scans(lib, tmp_path):
    # cron's `2>&-`, some launchers: fds 0 and 2 closed; Python's sys.stderr is None. The scan used to
    # end in an AttributeError (exit 1, nothing said); the database must not take fd 2 either.
    music, files = lib
    env = dict(os.environ, GENRE_TAGGER_DB=str(tmp_path / "closed.db"))
    proc = subprocess.run(f"exec {sys.executable} -m desktop.cli --json scan '{music}' 2>&- <&-", shell=True, env=env,
                          stdout=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == EXIT_OK
    assert json.loads(proc.stdout)["sync"]["new"] == len(files)
    with sqlite3.connect(tmp_path / "closed.db") as con:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_a_file_named_with_a_line_break_or_tab_keeps_its_listing_to_one_line(lib, capsys):
    # "two\nlines.mp3" printed its line of `list` as two (and "wrote …" the same): a script reading a line per track,
    # or a reader, took the second half for another track. --json keeps the name whole.
    music, files = lib
    odd = [files[0].rename(files[0].with_name("two\nlines.flac")), files[1].rename(files[1].with_name("a\tb.mp3"))]
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    assert main(["list"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and any(line.endswith("two?lines.flac") for line in lines), lines
    assert any(line.endswith("a?b.mp3") for line in lines), lines
    assert {t["path"] for t in run_json(capsys, "list")[1]["tracks"]} >= {str(p) for p in odd}


def test_a_terminal_that_cannot_show_a_file_name_gets_it_escaped(lib, tmp_path):
    # An ASCII or Latin-1 terminal: printing "Été à Paris.mp3" ended `list` with exit 2 and a codec error.
    music, files = lib
    env = dict(os.environ, GENRE_TAGGER_DB=str(tmp_path / "ascii.db"), PYTHONIOENCODING="ascii")
    scan = subprocess.run([sys.executable, "-m", "desktop.cli", "scan", str(music)], env=env, capture_output=True, timeout=300)
    assert scan.returncode == EXIT_OK, scan.stderr
    shown = subprocess.run([sys.executable, "-m", "desktop.cli", "list"], env=env, capture_output=True, timeout=120)
    assert shown.returncode == EXIT_OK and b"\\xc9t\\xe9 \\xe0 Paris.mp3" in shown.stdout


def test_a_locale_that_is_not_utf8_still_takes_file_names_as_utf8(lib, tmp_path):
    # Under LC_ALL=C with PYTHONUTF8=0, Python read file names as ASCII: "Été à Paris.mp3" was refused by every scan
    # ("the name is not valid UTF-8; rename it"), and so by `set`; a Latin-1 locale read it garbled. The command
    # starts itself again in UTF-8 mode.
    music, files = lib
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONUTF8", "PYTHONIOENCODING"))}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0", GENRE_TAGGER_DB=str(tmp_path / "c.db"))
    found = subprocess.run([sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"], env=env,
                           capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "ascii"  # the locale this test is about
    scan = subprocess.run([sys.executable, "-m", "desktop.cli", "scan", str(music)], env=env, capture_output=True,
                          timeout=300)
    assert scan.returncode == EXIT_OK and b"not valid UTF-8" not in scan.stderr, scan.stderr
    french = next(f for f in files if f.name.startswith("\u00c9t\u00e9"))
    cli = [sys.executable, "-m", "desktop.cli", "--json", "set", str(french), "Jazz"]
    assert subprocess.run(cli, env=env, capture_output=True, timeout=120).returncode == EXIT_OK
    assert read_tags(french).genres == ("Jazz",)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full, a device that is always full")
def test_standard_output_that_refuses_more_is_one_error_line_not_a_traceback(lib, tmp_path):
    # `list > file` on a disk that filled: "internal error … please report it"; with --json a traceback (the error's
    # JSON went to the same full output) and exit 1. A command that writes tags keeps what it wrote, undoable.
    music, files = lib
    env = dict(os.environ, GENRE_TAGGER_DB=str(tmp_path / "full.db"))
    cli = lambda *argv, out=subprocess.PIPE: subprocess.run([sys.executable, "-m", "desktop.cli", *argv], env=env,  # noqa: E731
                                                            stdout=out, stderr=subprocess.PIPE, text=True, timeout=300)
    assert cli("scan", str(music)).returncode == EXIT_OK
    with open("/dev/full", "w") as full:
        for argv in (["list"], ["--json", "list"], ["show", str(files[0])], ["models"], ["set", str(files[0]), "Polka"]):
            ran = cli(*argv, out=full)
            assert ran.returncode == EXIT_ERROR, argv
            assert ran.stderr == "error: standard output: cannot write (No space left on device)\n", argv
    assert read_tags(files[0]).genres == ("Polka",) and "correction: Polka" in cli("undo", "--list").stdout


def test_scan_killed_with_sigkill_resumes(tmp_path, exported_model):
    """A real `kill -9` mid-scan: the database stays sound and the next scan does only the rest."""
    import sqlite3
    import time

    music = tmp_path / "Big"
    for i in range(150):  # enough that the scan is still running when the first results land
        make_track(music / f"album{i // 25}", f"track {i}", ["tones", "noise", "beats"][i % 3], "wav", 4.0, seed=i,
                   sample_rate=16000)
    db = tmp_path / "killed.db"
    env = dict(os.environ, GENRE_TAGGER_DB=str(db), GENRE_TAGGER_MODEL=str(exported_model))
    scan = [sys.executable, "-m", "desktop.cli", "--json", "scan", str(music)]

    def analysed() -> int:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
                return con.execute("select count(*) from analyses").fetchone()[0]
        except sqlite3.OperationalError:  # not created yet
            return 0

    proc = subprocess.Popen(scan, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while analysed() < 10 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = analysed()
    assert proc.returncode == -signal.SIGKILL, "the scan ended before it could be killed"
    assert 0 < done_before < 150
    with sqlite3.connect(db) as con:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    rerun = subprocess.run(scan, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == EXIT_OK, rerun.stderr
    data = json.loads(rerun.stdout)
    assert len(data["analysed"]) == 150 - done_before  # nothing analysed twice
    assert analysed() == 150


def test_global_options_work_on_either_side_of_the_subcommand(lib, capsys, tmp_path, exported_model, monkeypatch):
    music, _ = lib
    monkeypatch.delenv("GENRE_TAGGER_MODEL")
    db = tmp_path / "elsewhere.db"
    assert main(["scan", str(music), "--json", "--db", str(db), "--model", str(exported_model)]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["sync"]["new"] == 3 and db.is_file()
    assert main(["--db", str(db), "list", "--json"]) == EXIT_OK
    assert len(json.loads(capsys.readouterr().out)["tracks"]) == 3


def test_show_into_a_closed_pipe_and_control_characters(lib, tmp_path):
    import mutagen

    music, files = lib
    audio = mutagen.File(files[0])
    audio["TITLE"] = ["\x1b]0;owned\x07\x1b[31mred"]
    audio.save()
    env = dict(os.environ)
    subprocess.run([sys.executable, "-m", "desktop.cli", "scan", str(music)], env=env, check=True, capture_output=True)
    proc = subprocess.run(f"{sys.executable} -m desktop.cli show '{files[0]}' | head -n 1", shell=True, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    shown = subprocess.run([sys.executable, "-m", "desktop.cli", "show", str(files[0])], env=env, capture_output=True, text=True)
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout and "?]0;owned??[31mred" in shown.stdout


def test_a_rescan_with_a_known_broken_file_exits_1(lib, capsys):
    music, _ = lib
    (music / "a" / "broken.flac").write_bytes(b"fLaC" + b"\x00" * 50)
    assert main(["scan", str(music)]) == EXIT_PARTIAL
    capsys.readouterr()
    assert main(["scan", str(music)]) == EXIT_PARTIAL
    assert "broken.flac" in capsys.readouterr().err


def test_playlist_refuses_to_replace_music(lib, capsys):
    music, files = lib
    main(["scan", str(music)])
    before = files[1].read_bytes()
    assert main(["playlist", "beats", "-o", str(files[1])]) == EXIT_ERROR
    assert "audio file" in capsys.readouterr().err and files[1].read_bytes() == before
    inside_a_file = files[1] / "beats.m3u8"  # a folder that is a file: the reason was "File exists"
    assert main(["playlist", "beats", "-o", str(inside_a_file)]) == EXIT_ERROR
    assert f"cannot write playlist ({files[1]} is a file, not a folder)" in capsys.readouterr().err
    assert files[1].read_bytes() == before


def test_a_damaged_database_is_an_error_not_a_traceback(lib, capsys, tmp_path, monkeypatch):
    music, _ = lib
    db = tmp_path / "damaged.db"
    monkeypatch.setenv("GENRE_TAGGER_DB", str(db))
    assert main(["scan", str(music)]) == EXIT_OK
    # The scan's pages may still be in the WAL (the CLI's pooled connections close when collected):
    # move them into the file first, or the garbage below lands on pages the tables no longer use.
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    data[4096 + 100: 4096 * 3] = b"\xff" * (4096 * 3 - 4096 - 100)  # garbage over the first table pages
    db.write_bytes(bytes(data))
    for wal in tmp_path.glob("damaged.db-*"):
        wal.unlink()
    capsys.readouterr()
    code = main(["list"])
    err = capsys.readouterr().err
    assert code == EXIT_ERROR and "damaged.db" in err and "Traceback" not in err


def test_models_names_a_damaged_model_and_exits_1(lib, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = tmp_path / "data" / "genre-tagger" / "models"
    folder.mkdir(parents=True)
    (folder / "broken.onnx").write_bytes(b"not a model at all")
    code, data = run_json(capsys, "models")
    assert code == EXIT_PARTIAL
    broken = [row for row in data["models"] if row["path"] == str(folder / "broken.onnx")]
    assert len(broken) == 1 and broken[0]["error"]
    assert any("name" in row for row in data["models"])  # the shipped models are still listed
    assert main(["models"]) == EXIT_PARTIAL
    assert f"error: {folder / 'broken.onnx'}" in capsys.readouterr().err


def test_every_option_and_argument_says_what_it_is():
    import argparse

    from desktop.cli.arguments import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    silent = [f"{name} {action.dest}" for name, sub in commands.choices.items() for action in sub._actions
              if not action.help and not isinstance(action, argparse._HelpAction)]
    assert silent == []


def test_a_bug_of_ours_is_a_message_and_a_log_entry_not_a_traceback(lib, capsys, tmp_path, monkeypatch):
    import desktop.cli as cli

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setitem(cli.COMMANDS, "list", lambda args, out: {}["no such key"])
    assert main(["list"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: internal error in list (KeyError: 'no such key'); the details are in the log (")
    assert "Traceback" not in err
    logged = (tmp_path / "state" / "genre-tagger" / "log" / "genre-tagger.log").read_text()
    assert "internal error in list" in logged and "Traceback" in logged and "KeyError" in logged


def test_a_file_the_system_refuses_is_named_with_its_reason_not_called_a_bug(lib, capsys, tmp_path, monkeypatch):
    # A path too long for the file system reached a check that stats it: "internal error in map (OSError: [Errno 36]
    # File name too long: ...); please report it". An OSError naming its file is the system's answer, not a bug.
    import desktop.cli as cli

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    music, files = lib
    main(["scan", str(music)])
    capsys.readouterr()
    deep = "/".join(["d" * 250] * 20)  # each name fits; the whole path (5,019 bytes) does not
    assert main(["map", "-o", f"/tmp/{deep}/map.png"]) == EXIT_ERROR
    assert capsys.readouterr().err == f"error: /tmp/{deep}/map.png: File name too long\n"
    monkeypatch.setitem(cli.COMMANDS, "list", lambda args, out: os.read(-1, 1))  # no file named: a bug of ours
    assert main(["list"]) == EXIT_ERROR
    assert capsys.readouterr().err.startswith("error: internal error in list (OSError: [Errno 9] Bad file descriptor)")


def test_a_name_longer_than_file_systems_allow_is_refused_by_name(lib, capsys):
    music, files = lib
    long_name = "y" * 300
    for argv, size in ((["set", f"{music}/{long_name}.ogg", "Rock"], 304), (["classify", long_name], 300),
                       (["playlist", "Rock", "-o", f"{long_name}.m3u8"], 305), (["--db", f"{long_name}.db", "list"], 303)):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        err = capsys.readouterr().err
        assert stop.value.code == EXIT_ERROR and "internal error" not in err, argv
        assert f"a name in it is {size} bytes long, where file systems allow 255 (beginning 'yyyy" in err, argv


def test_a_name_not_in_utf8_is_refused_by_name_as_a_scan_refuses_it(lib, capsys):
    # `show`, `set`, `keep` and `forget` of a file named in Latin-1 bytes said only "error: 'utf-8' codec can't encode
    # characters in position 13-14: surrogates not allowed"; `scan` and `folders --leave-out` of such a folder the same.
    music, files = lib
    odd = os.fsdecode(os.fsencode(str(music)) + b"/caf\xe9")  # "café" in Latin-1
    os.mkdir(odd)
    for argv in (["show", f"{odd}/x.ogg"], ["set", f"{odd}/x.ogg", "Rock"], ["forget", f"{odd}/x.ogg"],
                 ["scan", odd], ["folders", "--leave-out", odd]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == EXIT_ERROR, argv
        assert f"{music}/caf\\xe9" in (err := capsys.readouterr().err) and "the name is not valid UTF-8; rename it" in err


def test_scan_write_writes_only_under_the_paths_it_was_given(lib, capsys):
    # `scan B --write` wrote every file of the library that needed a genre, folders scanned before included.
    from desktop.core.scan import within

    music, files = lib  # a/noise song.flac, b/Été à Paris.mp3, b/tones.ogg
    assert main(["scan", str(music)]) == EXIT_OK  # the whole library known, nothing written
    capsys.readouterr()
    assert main(["scan", str(music / "b"), "--write"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "wrote 2 files" in out and str(files[0]) not in out
    assert read_tags(files[0]).genres == () and read_tags(files[1]).genres and read_tags(files[2]).genres
    with sqlite3.connect(os.environ["GENRE_TAGGER_DB"]) as con:  # as after a change of model: all to analyse again
        con.execute("delete from analyses")
    assert main(["scan", str(files[0]), "--write"]) == EXIT_OK  # one file named on its own
    assert read_tags(files[0]).genres
    assert "analysed 1 track with" in capsys.readouterr().out  # not the whole library
    inside = within([music / "b", "/m/Rock/song.mp3"])
    assert inside(str(files[1])) and inside("/m/Rock/song.mp3")
    assert not inside(str(music / "bb" / "x.mp3")) and not inside(str(music / "B" / "x.mp3")) and not inside("/m/Rock/song.mp3.bak")


def test_multi_genre_writes_each_genre_as_the_library_spells_it(lib):
    # Several genres were written as the model's bare labels ("noise; tones"), one genre as the library spells it.
    music, files = lib
    write_genres(files[1], ["Tones"])  # the library's own spelling of one of them
    assert main(["scan", str(music), "--write", "--policy", "replace", "--multi-genre", "--multi-threshold", "0.000000001"]) == EXIT_OK
    written = read_tags(files[0]).genres
    assert len(written) > 1 and all(g[0].isupper() for g in written), written
    assert set(written) <= {"Noise", "Beats", "Tones"}


def test_list_filters_combine_and_a_search_is_not_cut_short(tmp_path, capsys, monkeypatch):
    # --search ignored --genre and --review, and stopped at 1,000 tracks without saying so.
    from desktop.store.database import open_database
    from desktop.store.schema import Track

    db = tmp_path / "many.db"
    monkeypatch.setenv("GENRE_TAGGER_DB", str(db))
    sessions = open_database(db)
    with sessions() as s, s.begin():
        for n in range(1200):
            genre, confidence = ("Jazz", 0.9) if n % 2 else ("Rock", 0.3 if n % 3 == 0 else 0.9)
            s.add(Track(path=f"/m/{n:04d}.mp3", folder="/m", size=1, mtime_ns=1, audio_hash=f"h{n}", format="mp3",
                        title=f"Song {n}", genre=genre, predicted_genre=genre, confidence=confidence))
    assert len(run_json(capsys, "list", "--search", "song")[1]["tracks"]) == 1200
    jazz = run_json(capsys, "list", "--genre", "jazz", "--search", '"song 11"')[1]["tracks"]
    assert {t["genre"] for t in jazz} == {"Jazz"} and sorted(t["title"] for t in jazz)[:3] == ["Song 11", "Song 1101", "Song 1103"]
    unsure_rock = run_json(capsys, "list", "--review", "--genre", "rock", "--search", '"song 3"')[1]["tracks"]
    assert unsure_rock and all(t["genre"] == "Rock" and t["confidence"] < 0.5 and "3" in t["title"] for t in unsure_rock)
    assert main(["list", "--genre", "jazz", "--search", "no such song"]) == EXIT_OK
    assert capsys.readouterr().err.strip() == "no track of the genre 'jazz', matching 'no such song'"


def test_list_search_takes_words_in_any_order_without_accents_and_a_year(tmp_path, capsys, monkeypatch):
    # --search looked for the text as typed, one substring: "bjork homogenic" and "sigur ros" found nothing, and the
    # year could not be searched.
    from desktop.store.database import open_database
    from desktop.store.schema import Track

    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "lib.db"))
    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s, s.begin():
        for n, (title, artist, album, year) in enumerate([("Jóga", "Björk", "Homogenic", 1997),
                                                          ("Hoppípolla", "Sigur Rós", "Takk...", 2005),
                                                          ("Army of Me", "Björk", "Post", 1995)]):
            s.add(Track(path=f"/m/{n}.mp3", folder="/m", size=1, mtime_ns=1, audio_hash=f"h{n}", format="mp3",
                        title=title, artist=artist, album=album, year=year, genre="Pop", confidence=0.9))

    def titles(search: str) -> list[str]:
        return sorted(t["title"] for t in run_json(capsys, "list", "--search", search)[1]["tracks"])

    assert titles("homogenic bjork") == ["Jóga"]
    assert titles("sigur ros") == ["Hoppípolla"]
    assert titles("bjork year:1990-1996") == ["Army of Me"]
    assert titles("artist:bjork") == ["Army of Me", "Jóga"]
    assert titles("album:bjork") == []
    assert titles("-artist:bjork") == ["Hoppípolla"]  # argparse took a value that begins with a minus for an option
    assert titles("-") == ["Army of Me", "Hoppípolla", "Jóga"]


def test_list_and_playlists_keep_a_compilation_whole_in_its_own_order(tmp_path, capsys, monkeypatch):
    # Ordered by each track's artist, a "Various Artists" album's tracks were scattered through the listing and a
    # genre's playlist, one artist's at a time (Abba's track 2 at the top, Zoe's track 1 at the end).
    from desktop.store.database import open_database
    from desktop.store.schema import Track

    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "lib.db"))
    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s, s.begin():
        for n, (title, artist, album, number, album_artist) in enumerate([
                ("Zed", "Zoe", "Hits", 1, "Various Artists"), ("Abe", "Abba", "Hits", 2, "Various Artists"),
                ("Mid", "Moby", "Hits", 3, "Various Artists"), ("Own", "Abba", "Gold", 1, ""),
                ("Yes", "Yello", "Solo", 1, "")]):
            s.add(Track(path=f"/m/{n}.mp3", folder="/m", size=1, mtime_ns=1, audio_hash=f"h{n}", format="mp3",
                        title=title, artist=artist, album=album, track_number=number, album_artist=album_artist,
                        genre="Pop", confidence=0.9))
    order = ["Own", "Zed", "Abe", "Mid", "Yes"]  # Abba, then Various Artists' Hits in its order, then Yello
    assert [t["title"] for t in run_json(capsys, "list")[1]["tracks"]] == order
    assert main(["playlist", "pop", "-o", str(tmp_path / "pop.m3u8")]) == EXIT_OK
    played = [line for line in (tmp_path / "pop.m3u8").read_text(encoding="utf-8").splitlines() if line.endswith(".mp3")]
    assert [line.rsplit("/", 1)[1] for line in played] == [f"{n}.mp3" for n in (3, 0, 1, 2, 4)]  # relative paths


def test_list_and_playlists_keep_an_album_of_two_artists_whole_without_an_album_artist_tag(tmp_path, capsys, monkeypatch):
    # A soundtrack by its two composers, no album-artist tag (Drascula, in a real library): ordered by each track's
    # artist, its odd tracks played, then another album, then its even tracks.
    from desktop.store.database import open_database
    from desktop.store.schema import Track

    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "lib.db"))
    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s, s.begin():
        for n, (artist, album, folder) in enumerate([("Sergio Ojeda", "Drascula", "d"), ("Alcachofa Soft", "Drascula", "d"),
                                                     ("Moby", "Play", "p"), ("Alcachofa Soft", "Drascula", "d")], 1):
            s.add(Track(path=f"/m/{folder}/{n}.mp3", folder=f"/m/{folder}", size=1, mtime_ns=1, audio_hash=f"h{n}",
                        format="mp3", title=f"T{n}", artist=artist, album=album, track_number=n, genre="Pop",
                        confidence=0.9))
    order = ["T1", "T2", "T4", "T3"]  # Drascula in its order under Alcachofa Soft (two of its three tracks), then Moby
    assert [t["title"] for t in run_json(capsys, "list")[1]["tracks"]] == order
    assert main(["playlist", "pop", "-o", str(tmp_path / "pop.m3u8")]) == EXIT_OK
    played = [line for line in (tmp_path / "pop.m3u8").read_text(encoding="utf-8").splitlines() if line.endswith(".mp3")]
    assert [line.rsplit("/", 1)[1] for line in played] == ["1.mp3", "2.mp3", "4.mp3", "3.mp3"]


def test_a_bare_command_says_what_each_subcommand_does(capsys):
    # `genre-tagger` alone printed only the usage line and "the following arguments are required: command".
    assert main([]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "Tag a music library with genres, offline." in err and "learn your library's own genres" in err
    assert "arguments are required" not in err


def test_undoing_a_genre_set_by_hand_takes_the_correction_back_too(lib, capsys):
    # Undo restored the file but the library kept the correction: the track still showed "Polka",
    # protected and learned from, and the next `scan --write` wrote "Polka" into the file again.
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK

    def show(f):
        capsys.readouterr()
        return run_json(capsys, "show", str(f))[1]

    predicted = show(files[0])["genre"]
    assert main(["set", str(files[0]), "Polka"]) == EXIT_OK and read_tags(files[0]).genres == ("Polka",)
    capsys.readouterr()
    code, data = run_json(capsys, "undo")
    assert code == EXIT_OK and data["corrections_taken_back"] == 1 and read_tags(files[0]).genres == ()
    track = show(files[0])
    assert track["corrected"] is None and track["genre"] == predicted
    assert main(["scan", str(music)]) == EXIT_OK
    assert "-> Polka" not in capsys.readouterr().out  # nothing writes it back
    # An earlier correction is what the track shows again; one made after the write is kept.
    assert main(["set", str(files[1]), "Jazz", "--no-write"]) == EXIT_OK
    assert main(["set", str(files[1]), "Swing"]) == EXIT_OK
    assert main(["undo"]) == EXIT_OK
    assert "took back 1 genre set by hand with it" in capsys.readouterr().out
    assert show(files[1])["corrected"] == "Jazz"
    assert main(["set", str(files[2]), "Drone"]) == EXIT_OK
    assert main(["set", str(files[2]), "Ambient", "--no-write"]) == EXIT_OK
    assert main(["undo"]) == EXIT_OK and show(files[2])["corrected"] == "Ambient"
    # A correction whose file already said it wrote nothing: no empty batch to undo, the correction stands.
    write_genres(files[0], ["Noise Rock"])
    assert main(["set", str(files[0]), "Noise Rock"]) == EXIT_OK
    capsys.readouterr()
    assert [b["description"] for b in run_json(capsys, "undo", "--list")[1]["batches"]].count("correction: Noise Rock") == 0
    assert show(files[0])["corrected"] == "Noise Rock"


def test_forget_takes_back_a_genre_set_by_hand_without_touching_the_file(lib, capsys, tmp_path):
    music, files = lib
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    predicted = run_json(capsys, "show", str(files[0]))[1]["genre"]
    assert main(["set", str(files[0]), "Polka"]) == EXIT_OK
    assert main(["set", str(files[1]), "Polka"]) == EXIT_OK  # undo would restore this one's file only
    capsys.readouterr()
    code, data = run_json(capsys, "forget", str(music))  # a folder: each of its files
    assert code == EXIT_OK and sorted(data["forgotten"]) == sorted(map(str, files[:2]))
    capsys.readouterr()
    track = run_json(capsys, "show", str(files[0]))[1]
    assert track["corrected"] is None and track["genre"] == predicted and read_tags(files[0]).genres == ("Polka",)
    capsys.readouterr()
    assert main(["forget", str(files[0])]) == EXIT_OK
    assert "nothing to forget" in capsys.readouterr().err
    stray = make_track(tmp_path / "elsewhere", "stray", "noise", "flac", 3.0, seed=5)
    assert main(["forget", str(stray)]) == EXIT_ERROR
    assert f"{stray}: not in the library; scan its folder first" in capsys.readouterr().err
    assert main(["forget", str(files[1]), str(stray)]) == EXIT_PARTIAL
    assert f"warning: {stray}: not in the library; nothing to forget" in capsys.readouterr().err


def test_keep_sets_each_files_own_tag_genre_by_hand_in_one_step_without_touching_a_file(lib, capsys, tmp_path):
    # Reviewing "file says Rock" tracks whose tags were right took one `set` per genre: a mixed folder could not
    # keep its own tags in one step.
    import hashlib

    music, files = lib
    write_genres(files[0], ["Polka"])
    write_genres(files[1], ["Unknown", "Jazz"])  # a ripper's placeholder beside the genre
    assert main(["scan", str(music)]) == EXIT_OK
    before = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    capsys.readouterr()
    code, data = run_json(capsys, "keep", str(music))  # a folder: each file its own tag's genre
    assert code == EXIT_PARTIAL  # the untagged one is named
    assert data["kept"] == [{"path": str(files[0]), "genre": "Polka"}, {"path": str(files[1]), "genre": "Jazz"}]
    assert data["no_genre_tag"] == [str(files[2])] and data["not_in_library"] == []
    assert {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files} == before  # no file changed
    for f, genre in ((files[0], "Polka"), (files[1], "Jazz")):
        track = run_json(capsys, "show", str(f))[1]
        assert track["corrected"] == track["genre"] == genre and track["status"] != "uncertain"
    capsys.readouterr()
    assert main(["scan", str(music), "--write", "--policy", "replace"]) in (EXIT_OK, EXIT_PARTIAL)
    # Protected from the predictions; a write asked for puts the kept genre, the placeholder left out (journalled).
    assert read_tags(files[0]).genres == ("Polka",) and read_tags(files[1]).genres == ("Jazz",)
    capsys.readouterr()
    assert main(["keep", str(files[0])]) == EXIT_OK
    assert capsys.readouterr().out.startswith(f"{files[0]}: Polka kept as its tag says")
    code, data = run_json(capsys, "forget", str(files[0]))  # takes it back as any genre set by hand
    assert code == EXIT_OK and data["forgotten"] == [str(files[0])]
    stray = make_track(tmp_path / "elsewhere", "stray", "noise", "flac", 3.0, seed=5)
    assert main(["keep", str(stray)]) == EXIT_ERROR
    assert f"{stray}: not in the library; scan its folder first" in capsys.readouterr().err
    assert main(["keep", str(files[1]), str(stray)]) == EXIT_PARTIAL
    assert f"warning: {stray}: not in the library; nothing to keep" in capsys.readouterr().err


def test_scan_watch_tags_music_that_comes_and_stops_on_sigterm_with_a_json_line_per_scan(lib, tmp_path):
    import queue
    import shutil
    import threading

    music, files = lib
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "scan", str(music), "--watch", "--write", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        first = json.loads(lines.get(timeout=120))
        assert first["sync"]["new"] == 3 and first["written"]
        late = make_track(tmp_path / "incoming", "late", "tones", "wav", 3.0, seed=9)
        long_ago = time.time() - 60
        os.utime(late, (long_ago, long_ago))  # copied with its time kept (cp -p): not still being written
        (music / "c").mkdir()
        shutil.move(late, music / "c" / late.name)
        second = json.loads(lines.get(timeout=120))
        assert second["sync"]["new"] == 1 and [a["path"] for a in second["analysed"]] == [str(music / "c" / late.name)]
        assert second["written"] and read_tags(music / "c" / late.name).genres
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == EXIT_CANCELLED
        assert "stopped watching" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()


def test_scan_watch_needs_a_folder_and_sigterm_does_what_ctrl_c_does(lib, capsys):
    from desktop.cli.scan import stop_as_if_interrupted

    music, files = lib
    assert main(["scan", str(files[0]), "--watch"]) == EXIT_ERROR
    assert "--watch watches folders: name one" in capsys.readouterr().err
    before = signal.getsignal(signal.SIGINT)
    heard = []
    try:
        signal.signal(signal.SIGINT, lambda signum, frame: heard.append(signum))  # a write's: stop after the file
        stop_as_if_interrupted(signal.SIGTERM, None)
        assert heard == [signal.SIGINT]
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a job a script started in the background
        with pytest.raises(KeyboardInterrupt):
            stop_as_if_interrupted(signal.SIGTERM, None)
    finally:
        signal.signal(signal.SIGINT, before)


def test_scan_watch_takes_up_a_model_learned_meanwhile_and_waits_out_another_writer(lib, capsys, tmp_path, monkeypatch,
                                                                                     exported_model):
    import shutil

    import desktop.cli.scan as scan_command
    import desktop.services.watching as watching
    from desktop.services.learning import set_active_model
    from desktop.store.database import open_database

    music, _files = lib
    monkeypatch.delenv("GENRE_TAGGER_MODEL")  # the library's model, as `learn` leaves it
    learned = shutil.copy(exported_model, tmp_path / "learned.onnx")
    hold = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(1.5)")
    holders = []

    def music_came(poll):
        if holders:
            raise KeyboardInterrupt  # Ctrl+C while waiting
        set_active_model(open_database(tmp_path / "cli.db"), learned)  # `learn` in another terminal
        holders.append(subprocess.Popen([sys.executable, "-c", hold, str(tmp_path / "cli.db.lock")],
                                        stdout=subprocess.PIPE, text=True))  # and a `set` still writing
        assert holders[0].stdout.readline().strip() == "held"
        return str(music)

    monkeypatch.setattr(watching, "wait_for_music", music_came)
    monkeypatch.setattr(scan_command, "RETRY_S", 0.2)
    before = signal.getsignal(signal.SIGTERM)
    try:
        assert main(["scan", str(music), "--watch"]) == EXIT_CANCELLED
    finally:
        holders[0].kill()
        holders[0].wait()
    said = capsys.readouterr()
    assert f"the library's model is now cnn:0.1.0 ({learned})" in said.out  # the synthetic model's key
    assert "another Genre Tagger scan, write or undo is running on this library" in said.err and "trying again" in said.err
    assert said.out.count("3 files: ") == 2 and said.err.rstrip().endswith("stopped watching")
    assert signal.getsignal(signal.SIGTERM) == before  # the caller's handler is back


def test_scan_watch_leaves_a_folder_that_went_as_it_is_and_scans_the_others(lib, capsys, tmp_path, monkeypatch):
    import shutil

    import desktop.services.watching as watching

    music, files = lib
    other = tmp_path / "Other"
    make_track(other, "first", "tones", "wav", 3.0, seed=5)
    calls = []

    def unplugged(poll):
        calls.append(poll)
        if len(calls) > 1:
            raise KeyboardInterrupt
        shutil.move(music, tmp_path / "unplugged")  # its drive unplugged
        make_track(other, "second", "noise", "wav", 3.0, seed=6)
        return str(other)

    monkeypatch.setattr(watching, "wait_for_music", unplugged)
    assert main(["scan", str(music), str(other), "--watch"]) == EXIT_CANCELLED
    said = capsys.readouterr()
    assert f"note: {music}: gone or empty (a drive unplugged?); its tracks are left as they are" in said.err
    assert said.out.count("files: ") == 2 and "2 files: 1 new, 0 changed, 0 moved, 0 retagged, 1 unchanged, 0 missing" in said.out
    code, listed = run_json(capsys, "list")
    assert code == EXIT_OK and {str(f) for f in files} <= {t["path"] for t in listed["tracks"]}  # not taken out


def test_show_says_what_genre_a_track_teaches_learn_and_whence_or_why_none(lib, capsys):
    # Which tracks `learn` learns from (and as what) was nowhere to be seen for one file.
    music, files = lib
    tagged = make_track(music / "c", "bebop", "beats", "flac", 3.0, seed=4, tags={"genre": "Bebop"})
    unknown = make_track(music / "c", "unknown", "tones", "flac", 3.0, seed=5, tags={"genre": "Unknown"})
    assert main(["scan", str(music)]) == EXIT_OK
    capsys.readouterr()
    assert run_json(capsys, "show", str(tagged))[1]["teaches"] == {"genre": "Bebop", "source": "tag"}
    assert run_json(capsys, "show", str(files[0]))[1]["teaches"] is None
    assert main(["show", str(unknown)]) == EXIT_OK
    assert "  learned as: - (its tag, 'Unknown', names no genre)" in capsys.readouterr().out
    assert main(["scan", str(music), "--write"]) == EXIT_OK and read_tags(files[1]).genres  # written by us
    capsys.readouterr()
    assert main(["show", str(files[1])]) == EXIT_OK
    assert "  learned as: - (its tag was written by Genre Tagger, never learned from)" in capsys.readouterr().out
    assert main(["set", str(files[1]), "Trip-Hop"]) == EXIT_OK
    capsys.readouterr()
    assert main(["show", str(files[1])]) == EXIT_OK
    assert "  learned as: Trip-Hop (from your correction)" in capsys.readouterr().out


def test_a_failure_in_json_gives_the_file_and_the_reason_apart(tmp_path, capsys):
    # {"error": "/m/a: b.mp3: empty file ..."}: a script had to split the message at a colon, which names hold too.
    empty = tmp_path / "a: b.mp3"
    empty.write_bytes(b"")
    code, said = run_json(capsys, "classify", str(empty))
    assert code == EXIT_ERROR and said["path"] == str(empty) and said["reason"].startswith("empty file (0 bytes")
    assert said["error"] == f"{empty}: {said['reason']}"
    code, said = run_json(capsys, "undo", "--batch", "99999", "--db", str(tmp_path / "lib.db"))
    assert code == EXIT_ERROR and said == {"error": "no write batch 99999"}  # no file to name
