"""No tag lost and nothing left behind: crash recovery, multi-step undo, stale copies, odd files."""

import os
import subprocess
import sys

import mutagen
import pytest
from sqlalchemy import select

from desktop.core.errors import TagWriteError
from desktop.core.safe_write import temp_copy_path
from desktop.core.tags import TagOptions, read_tags, write_genres
from desktop.services.settings import TaggingSettings
from desktop.services.tagging import NothingToUndo, TagService
from desktop.store import queries
from desktop.store.lock import LibraryBusy, writer_lock
from desktop.store.schema import JournalEntry, WriteBatch
from tests.audio_files import make_track

pytestmark = pytest.mark.usefixtures("need_ffmpeg")


def replace_all(env):
    return TagService(env.sessions, TaggingSettings(policy="replace"))


def genres(path):
    return read_tags(path).genres


# ---- 1. a write killed before its journal entry was settled ---------------------------------------
def crash_after_file_write(env, monkeypatch, path, genre):
    """Run a write that dies right after the file is replaced, before the journal says so."""
    import desktop.services.tagging as tagging

    class Killed(BaseException):
        pass

    real = tagging.write_genres

    def write_then_die(p, g, options, provenance=None):
        real(p, g, options, provenance)
        raise Killed

    monkeypatch.setattr(tagging, "write_genres", write_then_die)
    with pytest.raises(Killed):
        env.tagger.correct([str(path)], genre)
    monkeypatch.setattr(tagging, "write_genres", real)


def test_a_write_killed_after_the_file_changed_is_recovered_and_undoable(env, monkeypatch):
    write_genres(env.files["flac"], ["Original"])
    env.scan()
    crash_after_file_write(env, monkeypatch, env.files["flac"], "Jazz")
    assert genres(env.files["flac"]) == ("Jazz",)
    report = env.tagger.recover_interrupted()
    assert report.completed == [str(env.files["flac"])]
    result = env.tagger.undo()
    assert result.restored == [str(env.files["flac"])] and genres(env.files["flac"]) == ("Original",)


def test_a_write_killed_before_the_file_changed_is_dropped(env, monkeypatch):
    import desktop.services.tagging as tagging

    write_genres(env.files["mp3"], ["Original"])
    env.scan()

    class Killed(BaseException):
        pass

    def die(*_a, **_k):
        raise Killed

    monkeypatch.setattr(tagging, "write_genres", die)
    with pytest.raises(Killed):
        env.tagger.correct([str(env.files["mp3"])], "Jazz")
    monkeypatch.undo()
    report = env.tagger.recover_interrupted()
    assert report.dropped == [str(env.files["mp3"])]
    with env.sessions() as s:
        assert s.scalar(select(JournalEntry)).state == "failed"
    with pytest.raises(NothingToUndo):
        env.tagger.undo()
    assert genres(env.files["mp3"]) == ("Original",)


# ---- 2. undo, step after step --------------------------------------------------------------------
def test_undoing_batches_in_reverse_order_restores_each_step(env):
    write_genres(env.files["mp3"], ["Original"])
    env.scan()
    replace_all(env).apply(replace_all(env).plan(), "replace")
    predicted = genres(env.files["mp3"])
    assert predicted != ("Original",)
    env.tagger.correct([str(env.files["mp3"])], "Jazz")
    assert genres(env.files["mp3"]) == ("Jazz",)
    first = env.tagger.undo()
    assert first.restored == [str(env.files["mp3"])] and genres(env.files["mp3"]) == predicted
    second = env.tagger.undo()
    assert not second.refused and genres(env.files["mp3"]) == ("Original",)
    assert genres(env.files["flac"]) == ()


def test_a_batch_with_a_file_changed_elsewhere_stays_undoable(env):
    env.scan()
    env.tagger.apply(env.tagger.plan(), "ours")
    write_genres(env.files["opus"], ["Edited Later"])
    result = env.tagger.undo()
    assert [p for p, _ in result.refused] == [str(env.files["opus"])] and not result.complete
    assert "Edited Later" in result.refused[0][1]
    with env.sessions() as s:
        assert s.scalar(select(WriteBatch)).undone_at is None
    write_genres(env.files["opus"], list(_journal_new(env, env.files["opus"])))  # the edit is reverted by hand
    again = env.tagger.undo()
    assert again.restored == [str(env.files["opus"])] and again.complete and genres(env.files["opus"]) == ()
    with pytest.raises(NothingToUndo):
        env.tagger.undo()


def _journal_new(env, path):
    with env.sessions() as s:
        return s.scalar(select(JournalEntry).where(JournalEntry.path == str(path))).new_genres


# ---- 3. a batch that wrote nothing is not a step ------------------------------------------------
def test_undo_skips_a_batch_that_wrote_nothing(env):
    env.scan()
    env.tagger.apply(env.tagger.plan(), "first")
    os.chmod(env.files["flac"], 0o444)
    with env.sessions() as s:
        queries.track_by_path(s, str(env.files["flac"])).corrected_genre = "Jazz"
        s.commit()
    failed = env.tagger.apply(env.tagger.plan(), "only a read-only file")
    assert not failed.written and failed.failed
    os.chmod(env.files["flac"], 0o644)
    result = env.tagger.undo()
    assert result.description == "first" and len(result.restored) == len(env.files)
    with pytest.raises(NothingToUndo, match="wrote no file"):
        env.tagger.undo(failed.batch_id)


# ---- 3b. temporary copies left by a killed write --------------------------------------------------
def test_a_scan_removes_our_leftover_copies_and_nothing_else(env):
    leftover = temp_copy_path(env.files["mp3"])
    leftover.write_bytes(env.files["mp3"].read_bytes())
    look_alike = env.files["mp3"].parent / ".song.genre-tagger-tmp.mp3.keep"
    look_alike.write_bytes(b"not ours")
    report, _ = env.scan()
    assert report.cleaned == 1 and not leftover.exists() and look_alike.exists()


def test_a_copy_held_by_a_live_write_is_left_alone(env, tmp_path):
    import fcntl

    leftover = temp_copy_path(env.files["ogg"])
    leftover.write_bytes(b"in progress")
    with open(leftover, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], pass_fds=(held.fileno(),))
    try:
        report, _ = env.scan()
        assert report.cleaned == 0 and leftover.exists()
    finally:
        holder.kill()
        holder.wait()
    report, _ = env.scan()
    assert report.cleaned == 1 and not leftover.exists()


# ---- 4. the policy is applied to what the file says at write time -----------------------------------
def test_fill_keeps_a_genre_another_tagger_added_after_planning(env):
    env.scan()
    changes = env.tagger.plan()
    target = next(c for c in changes if c.path == str(env.files["m4a"]))
    before = os.stat(env.files["m4a"])
    write_genres(env.files["m4a"], ["From Kid3"])
    os.utime(env.files["m4a"], ns=(before.st_atime_ns, before.st_mtime_ns))  # kid3 keeps the timestamp
    result = env.tagger.apply(changes, "fill")
    assert [p for p, _ in result.skipped] == [target.path]
    assert genres(env.files["m4a"]) == ("From Kid3",)


# ---- 5. owner, mode, symlinks, hard links ----------------------------------------------------------
def test_owner_group_and_mode_are_kept(tmp_path):
    song = make_track(tmp_path, "owned", "tones", "flac", 2.0)
    os.chmod(song, 0o640)
    if os.geteuid() == 0:
        os.chown(song, 1234, 5678)
    write_genres(song, ["Jazz"])
    st = os.stat(song)
    assert oct(st.st_mode & 0o777) == oct(0o640)
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (1234, 5678)


def test_a_symlink_is_written_through_to_its_target(tmp_path):
    target = make_track(tmp_path / "real", "song", "tones", "mp3", 2.0)
    link = tmp_path / "link.mp3"
    link.symlink_to(target)
    write_genres(link, ["Jazz"])
    assert link.is_symlink() and genres(target) == ("Jazz",)


def test_a_file_with_hard_links_is_refused_and_untouched(tmp_path):
    song = make_track(tmp_path, "song", "tones", "ogg", 2.0)
    twin = tmp_path / "twin.ogg"
    os.link(song, twin)
    before = song.read_bytes()
    with pytest.raises(TagWriteError, match="2 hard links"):
        write_genres(song, ["Jazz"])
    assert song.read_bytes() == before and os.stat(song).st_nlink == 2


# ---- 6. ID3 versions ---------------------------------------------------------------------------------
def test_id3v23_converts_v24_only_frames(tmp_path):
    mp3 = make_track(tmp_path, "year", "tones", "mp3", 2.0, tags={"date": "1999", "title": "Song"})
    assert "TDRC" in mutagen.File(mp3).tags
    write_genres(mp3, ["Jazz"], TagOptions(id3_version=3))
    tags = mutagen.id3.ID3(mp3, translate=False)
    assert tags.version[:2] == (2, 3) and "TDRC" not in tags and str(tags["TYER"]) == "1999"


def test_a_v23_file_stays_v23_unless_asked(tmp_path):
    mp3 = make_track(tmp_path, "old", "tones", "mp3", 2.0)
    write_genres(mp3, ["Rock"], TagOptions(id3_version=3))
    write_genres(mp3, ["Jazz"])  # default settings: keep the file's version
    assert mutagen.File(mp3).tags.version[:2] == (2, 3) and genres(mp3) == ("Jazz",)
    write_genres(mp3, ["Jazz"], TagOptions(id3_version=4))
    assert mutagen.File(mp3).tags.version[:2] == (2, 4)


# ---- 8. one genre codec ----------------------------------------------------------------------------------
def test_a_genre_with_the_separator_is_written_once_and_then_left_alone(env):
    env.scan()
    env.tagger.correct([str(env.files["flac"])], "Rock; Pop")
    assert genres(env.files["flac"]) == ("Rock", "Pop")
    env.scan()
    assert str(env.files["flac"]) not in {c.path for c in replace_all(env).plan()}
    with env.sessions() as s:
        assert s.scalar(select(JournalEntry)).new_genres == ["Rock", "Pop"]


def test_another_taggers_joined_value_is_restored_exactly(env):
    audio = mutagen.File(env.files["ogg"])
    audio["GENRE"] = ["Rock; Pop"]  # one Vorbis value holding the separator
    audio.save()
    env.scan()
    env.tagger.correct([str(env.files["ogg"])], "Jazz")
    env.tagger.undo()
    assert mutagen.File(env.files["ogg"])["GENRE"] == ["Rock; Pop"]


# ---- 9. odd names --------------------------------------------------------------------------------------
def test_a_name_that_is_not_utf8_is_a_per_file_problem(env):
    bad = os.path.join(os.fsencode(env.music), b"caf\xe9.flac")
    with open(bad, "wb") as fh:
        fh.write(env.files["flac"].read_bytes())
    report, results = env.scan()
    assert len(results) == len(env.files)
    assert [(str(p.path).endswith("caf\\xe9.flac"), "not valid UTF-8" in p.reason) for p in report.problems] == [(True, True)]


def test_a_very_long_name_can_be_written(tmp_path):
    song = make_track(tmp_path, "short", "tones", "flac", 2.0)
    song = song.rename(tmp_path / ("x" * (255 - len(".flac")) + ".flac"))
    write_genres(song, ["Jazz"])
    assert genres(song) == ("Jazz",) and [p.name for p in tmp_path.iterdir()] == [song.name]


# ---- 10. one writer per library --------------------------------------------------------------------------
def test_a_second_process_is_refused_with_a_clear_message(env):
    lock = str(env.sessions.kw["bind"].url.database) + ".lock"
    code = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code, lock], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LibraryBusy, match="another Genre Tagger scan, write or undo is running"):
            env.library.sync([env.music])
    finally:
        holder.kill()
        holder.wait()
    with writer_lock(env.sessions), writer_lock(env.sessions):  # threads of one process share it
        env.library.sync([env.music])
