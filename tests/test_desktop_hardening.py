"""No tag lost and nothing left behind: crash recovery, multi-step undo, stale copies, odd files."""

import contextlib
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import mutagen
import pytest
from sqlalchemy import select, update

from desktop.core.errors import TagWriteError
from desktop.core.safe_write import temp_copy_path
from desktop.core.tags import TagOptions, read_tags, write_genres
from desktop.services.settings import TaggingSettings
from desktop.services.tagging import NothingToUndo, TagService
from desktop.store import queries
from desktop.store.lock import LibraryBusy, LibraryUnlockable, writer_lock
from desktop.store.schema import JournalEntry, Track, WriteBatch
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

    def write_then_die(p, g, options, provenance=None, **kwargs):
        real(p, g, options, provenance, **kwargs)
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


def test_an_undo_of_files_on_a_drive_not_connected_names_the_drive_and_goes_on_once_it_is_back(env, tmp_path):
    # It said "file no longer exists (if it was moved, scan its new folder…)" of every file on a USB stick unplugged.
    env.scan()
    written = env.tagger.apply(env.tagger.plan(), "ours")
    env.music.rename(tmp_path / "unplugged")
    env.music.mkdir()  # its mount point, left empty
    refused = env.tagger.undo()
    reason = f"on a drive not connected ({env.music}): connect it and undo again"
    paths = sorted(change.path for change in written.written)
    assert sorted(refused.refused) == [(path, reason) for path in paths] and not refused.complete
    env.music.rmdir()
    (tmp_path / "unplugged").rename(env.music)
    again = env.tagger.undo()
    assert sorted(again.restored) == paths and again.complete


def test_a_written_file_moved_and_rescanned_is_undone_where_it_now_is(env):
    # Undo looked only at the path written; a renamed file was refused as "no longer exists".
    env.scan()
    env.tagger.apply(env.tagger.plan(), "ours")
    old = env.files["flac"]
    new = env.music / "renamed" / "now here.flac"
    new.parent.mkdir()
    old.rename(new)
    first = env.tagger.undo()  # not rescanned yet: refused, saying what to do
    assert first.refused == [(str(old), "file no longer exists (if it was moved, scan its new folder and undo again)")]
    env.scan()
    again = env.tagger.undo()
    assert again.restored == [str(new)] and again.complete and genres(new) == ()


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


def no_locks_or_syncs(monkeypatch, module):
    """Make `module` see a file system without flock or fsync, as some SMB shares and NFS `nolock` mounts are."""
    import errno

    def flock(fd, op):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    def fsync(fd):
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(module.fcntl, "flock", flock)
    monkeypatch.setattr(module.os, "fsync", fsync)


def test_music_on_a_share_without_locks_or_syncs_is_still_written_safely(tmp_path, monkeypatch):
    # Every write failed there ("cannot write tags (Operation not supported)"), and a copy left by a killed
    # write could never be cleaned away (its lock could not be tested), so the file refused writes for good.
    import desktop.core.safe_write as safe_write

    no_locks_or_syncs(monkeypatch, safe_write)
    song = make_track(tmp_path, "share", "tones", "flac", 2.0)
    write_genres(song, ["Jazz"])
    assert genres(song) == ("Jazz",) and [p.name for p in tmp_path.iterdir()] == [song.name]
    leftover = temp_copy_path(song)
    a_year_ago = time.time() - 365 * 86400
    os.utime(song, (a_year_ago, a_year_ago))
    shutil.copy2(song, leftover)  # as a live write makes it: the original's modification time, a year old
    assert not safe_write.remove_if_stale(leftover) and leftover.exists()  # maybe a live write: left alone
    with pytest.raises(TagWriteError, match="another write of this file is under way"):
        write_genres(song, ["Blues"])
    monkeypatch.setattr(safe_write, "STALE_UNLOCKABLE_S", -1)  # ten minutes later
    write_genres(song, ["Blues"])  # an old copy belongs to no live write: removed, and the write goes on
    assert genres(song) == ("Blues",) and [p.name for p in tmp_path.iterdir()] == [song.name]


def test_a_library_on_a_share_without_locks_is_refused_by_name_not_called_busy(env, monkeypatch):
    import desktop.store.lock as lock

    no_locks_or_syncs(monkeypatch, lock)
    with pytest.raises(LibraryUnlockable, match=r"library\.db: its folder cannot lock files .*keep the library on a local disk"):
        env.library.sync([env.music])


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


def test_fill_keeps_a_genre_another_tagger_put_over_ours_after_planning(env):
    # Fill writes over a genre this library wrote itself (a model learned since sees the track otherwise), but only
    # while the file still says what the plan found: another tagger's genre since is the listener's.
    env.scan()
    env.tagger.apply(env.tagger.plan(), "fill")
    path = str(env.files["m4a"])
    with env.sessions() as s:
        s.execute(update(Track).where(Track.path == path).values(predicted_genre="Polka", confidence=0.97, genre="Polka"))
        s.commit()
    changes = [c for c in env.tagger.plan() if c.path == path]
    assert len(changes) == 1
    write_genres(env.files["m4a"], ["From Kid3"])
    result = env.tagger.apply(changes, "fill")
    assert [p for p, _ in result.skipped] == [path] and genres(env.files["m4a"]) == ("From Kid3",)


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


@pytest.mark.parametrize("ext", ["mp3", "flac", "ogg", "m4a", "wav"])
def test_a_file_written_keeps_its_modification_time_when_asked_and_only_then(tmp_path, ext):
    # Players and file managers that sort by date modified moved every tagged file to the top (Picard and Mp3tag
    # offer to keep it): asked for, the copy takes the file's times before it replaces it.
    song = make_track(tmp_path, "dated", "tones", ext, 2.0)
    old = 1_100_000_000_987_654_321  # 2004, to the nanosecond (the access time: any read of the file moves it)
    os.utime(song, ns=(old, old))
    write_genres(song, ["Jazz"], TagOptions(keep_times=True))
    assert genres(song) == ("Jazz",) and os.stat(song).st_mtime_ns == old
    write_genres(song, ["Blues"])  # the default: the write's own time, as every tagger leaves it
    assert genres(song) == ("Blues",) and os.stat(song).st_mtime_ns > old


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


@pytest.mark.parametrize("change", ["tags", "replaced"])
def test_a_file_another_program_writes_during_a_write_keeps_that_programs_change(tmp_path, monkeypatch, change):
    # The copy made before it swapped in over the file: a tagger's edit (or a new rip saved over it) made while the
    # copy was tagged was undone by the swap, in silence.
    import desktop.core.safe_write as safe_write_module

    song = make_track(tmp_path, "song", "tones", "flac", 2.0, tags={"genre": "Rock"})
    other = make_track(tmp_path / "new rip", "song", "beats", "flac", 2.0, tags={"genre": "Rock"})
    synced = safe_write_module.sync_file

    def another_program_writes(fh):
        synced(fh)
        if change == "tags":
            file = mutagen.File(song)
            file["genre"] = "Blues"
            file.save()
        else:
            shutil.copy(other, song)  # same size, as like as not

    monkeypatch.setattr(safe_write_module, "sync_file", another_program_writes)
    with pytest.raises(TagWriteError, match=r"song\.flac: the file changed while its tags were being written "):
        write_genres(song, ["Jazz"])
    assert genres(song) == (("Blues",) if change == "tags" else ("Rock",)) and sorted(os.listdir(tmp_path)) == [
        "new rip", "song.flac"]
    if change == "replaced":
        assert song.read_bytes() == other.read_bytes()


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


@contextlib.contextmanager
def exfat_drive(folder, size=16 << 20):
    """`folder` as an exFAT drive, a USB stick's file system, blind to case (as FAT, macOS's and Windows' are), for
    real: as root, with exfatprogs and exfat-fuse; skipped where it cannot be mounted."""
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("mkfs.exfat", "mount.exfat-fuse", "losetup")):
        pytest.skip("an exFAT drive needs root, exfatprogs and exfat-fuse")
    image = folder.with_suffix(".img")
    with image.open("wb") as out:
        out.truncate(size)
    subprocess.run(["mkfs.exfat", str(image)], check=True, capture_output=True)
    loop = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True, text=True)
    if loop.returncode != 0:
        pytest.skip(f"no loop device here: {loop.stderr.strip()}")
    device = loop.stdout.strip()
    folder.mkdir()
    try:
        mounted = subprocess.run(["mount.exfat-fuse", device, str(folder)], capture_output=True, text=True)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount an exFAT drive here: {mounted.stderr.strip()}")
        try:
            yield folder
        finally:
            subprocess.run(["umount", str(folder)], check=True)
    finally:
        subprocess.run(["losetup", "--detach", device], check=True)


def test_a_song_renamed_in_case_only_on_a_drive_blind_to_case_keeps_its_track(env, tmp_path):
    # On an exFAT stick `song.flac` renamed `Song.flac` is still found by its old name: the scan took it for a copy,
    # a new track, and left the old one missing with the genre set by hand.
    with exfat_drive(tmp_path / "stick") as stick:
        song = stick / "Album" / "song.flac"
        song.parent.mkdir()
        shutil.copyfile(env.files["flac"], song)
        assert env.library.sync([stick]).new == 1
        env.tagger.correct([str(song)], "Krautrock", source="test", write=False)
        for old, new in ((song, song.with_name("Song.flac")), (stick / "Album", stick / "album")):  # then its folder
            old.rename(new)
            assert old.exists()  # by its old name too: blind to case
            expected = stick / "album" / "Song.flac" if new.name == "album" else new
            sync = env.library.sync([stick])
            assert (sync.moved, sync.new, sync.missing) == (1, 0, 0)
            with env.sessions() as s:
                tracks = [(t.path, t.corrected_genre, t.missing) for t in s.scalars(select(Track))]
            assert tracks == [(str(expected), "Krautrock", False)]


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


# ---- 11. models that break the contract are refused when loaded ---------------------------------------
def edited_model(src, dst, metadata=None, nan_output=False):
    """A copy of a model with metadata values replaced, or its probabilities multiplied by NaN."""
    import onnx
    from onnx import TensorProto, helper

    proto = onnx.load(str(src))
    for prop in proto.metadata_props:
        if metadata and prop.key in metadata:
            prop.value = metadata[prop.key]
    if nan_output:
        graph = proto.graph
        for node in graph.node:
            node.output[:] = ["probabilities_raw" if o == "probabilities" else o for o in node.output]
        graph.initializer.append(helper.make_tensor("nan", TensorProto.FLOAT, [], [float("nan")]))
        graph.node.append(helper.make_node("Mul", ["probabilities_raw", "nan"], ["probabilities"]))
    onnx.save(proto, str(dst))
    return dst


@pytest.mark.parametrize("edit, message", [
    (dict(metadata={"labels": '["a", "b"]'}), "gives 3 probabilities but its metadata names 2 labels"),
    (dict(nan_output=True), "not numbers"),
    (dict(metadata={"sample_rate": "100000000"}), "sample_rate 100000000 Hz is outside"),
    (dict(metadata={"window_seconds": "2.0"}), "does not match 2 s at 16000 Hz"),
])
def test_a_model_that_breaks_the_contract_is_refused_by_name(exported_model, tmp_path, edit, message):
    from desktop.core.errors import ModelError
    from desktop.core.model import GenreModel

    bad = edited_model(exported_model, tmp_path / "liar.onnx", **edit)
    with pytest.raises(ModelError, match=message) as info:
        GenreModel(bad, device="cpu")
    assert info.value.path == bad


# ---- 12. databases that are not ours, or damaged -----------------------------------------------------------
def test_another_programs_database_is_refused_untouched(tmp_path):
    import sqlite3

    from desktop.store.database import DatabaseError, open_database

    other = tmp_path / "photos.db"
    with sqlite3.connect(other) as con:
        con.execute("create table albums (id integer primary key, name text)")
    before = other.read_bytes()
    with pytest.raises(DatabaseError, match="not a Genre Tagger library .*albums"):
        open_database(other)
    assert other.read_bytes() == before
    with sqlite3.connect(other) as con:
        assert [r[0] for r in con.execute("select name from sqlite_master where type='table'")] == ["albums"]
    with pytest.raises(DatabaseError, match="is a folder; give a database file"):  # --db ~/Music by mistake
        open_database(tmp_path)


def test_a_library_missing_a_table_or_column_is_named(tmp_path):
    import sqlite3

    from desktop.store.database import DatabaseError, open_database

    open_database(tmp_path / "a.db")
    with sqlite3.connect(tmp_path / "a.db") as con:
        con.execute("drop table journal")
    with pytest.raises(DatabaseError, match="table 'journal' is missing"):
        open_database(tmp_path / "a.db")
    open_database(tmp_path / "b.db")
    with sqlite3.connect(tmp_path / "b.db") as con:
        con.execute("alter table tracks drop column confidence")
    with pytest.raises(DatabaseError, match="table 'tracks' lacks confidence"):
        open_database(tmp_path / "b.db")


@contextlib.contextmanager
def read_only_folder(folder):
    """`folder` made read-only for real (a read-only bind mount as root, permissions otherwise): (seen as, why)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder, "read-only for this user"
        finally:
            folder.chmod(0o755)
        return
    shown = folder.parent / f"{folder.name}-ro"
    shown.mkdir(exist_ok=True)  # left empty by an earlier use
    mounted = subprocess.run(["mount", "--bind", str(folder), str(shown)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {mounted.stderr.decode().strip()}")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(shown)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield shown, "on a read-only file system"
    finally:
        subprocess.run(["umount", "--lazy", str(shown)], check=True)  # lazy: an open handle must not fail the test


def test_a_library_on_a_read_only_folder_is_refused_by_name(tmp_path):
    from desktop.store.database import DatabaseError, open_database

    folder = tmp_path / "backup"
    folder.mkdir()
    open_database(folder / "library.db").kw["bind"].dispose()  # closed: its WAL is in the file, which stays as it is
    before = (folder / "library.db").read_bytes()
    with read_only_folder(folder) as (seen, why):
        # SQLite said only "unable to open database file"
        with pytest.raises(DatabaseError, match=f"the library's (file|folder .*) is {why}") as info:
            open_database(seen / "library.db")
        assert info.value.path == seen / "library.db" and "copy it somewhere writable" in info.value.reason
        with pytest.raises(DatabaseError, match=f"cannot create a library there: folder .* {why}"):
            open_database(seen / "new.db")
    assert (folder / "library.db").read_bytes() == before and not (folder / "new.db").exists()


def test_a_tag_write_on_a_read_only_file_system_says_so(tmp_path):
    # It said "file is read-only; not forcing a write" of a file whose permissions were fine: the disk was mounted
    # read-only (a locked SD card, a Windows disk left hibernated), which a listener looked for nowhere.
    song = make_track(tmp_path / "music", "song", "tones", "mp3", 2.0)
    before = song.read_bytes()
    with read_only_folder(song.parent) as (seen, why):
        with pytest.raises(TagWriteError) as refused:
            write_genres(seen / song.name, ["Jazz"])
        said = "file is on a read-only file system" if why == "on a read-only file system" else "file is read-only"
        assert refused.value.path == seen / song.name and refused.value.reason.startswith(said)
    assert song.read_bytes() == before


def test_a_library_on_read_only_media_can_still_be_listed(tmp_path, capsys, monkeypatch):
    # A backup on a read-only disk could not even be listed (SQLite's WAL needs its -shm beside the file).
    import sqlite3

    from desktop.cli import EXIT_ERROR, EXIT_OK, main
    from desktop.store.database import ReadOnlyLibrary, open_database
    from desktop.store.schema import Track

    folder = tmp_path / "backup"
    folder.mkdir()
    sessions = open_database(folder / "library.db")
    with sessions() as s:
        s.add(Track(path="/m/1.flac", folder="/m", size=1, mtime_ns=1, audio_hash="h1", format="flac", file_genre="Jazz"))
        s.commit()
    sessions.kw["bind"].dispose()  # closed: its WAL is merged into the file
    (folder / "old.db").write_bytes((folder / "library.db").read_bytes())  # an older library beside it
    with contextlib.closing(sqlite3.connect(folder / "old.db")) as con, con:  # closed: no -wal left beside it
        con.execute("update meta set value = '4' where key = 'schema_version'")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with read_only_folder(folder) as (seen, why):
        reader = open_database(seen / "library.db", read_only=True)
        with reader() as s:
            assert [t.file_genre for t in s.query(Track)] == ["Jazz"]
        monkeypatch.delenv("GENRE_TAGGER_DB", raising=False)
        assert main(["--db", str(seen / "library.db"), "list", "--json"]) == EXIT_OK
        captured = capsys.readouterr()
        assert "cannot be written where it is; read as it is" in captured.err and '"Jazz"' in captured.out
        assert main(["--db", str(seen / "library.db"), "genres", "--merge", "Jazz", "Swing"]) == EXIT_ERROR  # writes: refused
        assert f"is {why}; nothing can change it where it is, `genre-tagger list` can read it" in capsys.readouterr().err
        with pytest.raises(ReadOnlyLibrary, match="version 4 library .* cannot be converted where it is"):
            open_database(seen / "old.db", read_only=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing written beside it either
    (folder / "library.db-wal").write_bytes(b"x" * 100)  # changes not yet merged into the file
    with read_only_folder(folder) as (seen, _why):
        with pytest.raises(ReadOnlyLibrary, match="its last changes are still in library.db-wal"):
            open_database(seen / "library.db", read_only=True)


@contextlib.contextmanager
def small_disk(folder, size="4m"):
    """`folder` as a small disk of its own for real (a tmpfs as root; skipped where it cannot be mounted)."""
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def test_a_library_on_a_full_disk_is_listed_and_a_scan_says_to_make_room(tmp_path, capsys, monkeypatch, qapp):
    # qapp: the map drawn below makes a bare QGuiApplication where none is, and the window tests after it need widgets.
    # A full disk: every command said "cannot open database (OperationalError: disk I/O error); a copy from … : put
    # it in the library's place", which undid every change since the copy; `list` could not read the library either.
    import json

    from desktop.cli import EXIT_ERROR, EXIT_OK, main
    from desktop.store.database import open_database
    from desktop.store.schema import Track

    monkeypatch.delenv("GENRE_TAGGER_DB", raising=False)
    music = tmp_path / "music"
    make_track(music, "song", "beats", "flac", 6.0)  # music to the shipped model: mapped
    with small_disk(tmp_path / "disk") as disk:
        db = disk / "library.db"
        sessions = open_database(db)
        with sessions() as s:
            s.add(Track(path="/m/1.flac", folder="/m", size=1, mtime_ns=1, audio_hash="h1", format="flac", file_genre="Jazz"))
            s.commit()
        sessions.kw["bind"].dispose()  # closed: its WAL merged into the file, as after any command
        before = db.read_bytes()
        filler = disk / "filler"
        fill(filler)  # the disk filled by something else
        assert main(["--db", str(db), "list", "--json"]) == EXIT_OK
        captured = capsys.readouterr()
        assert [t["file_genre"] for t in json.loads(captured.out)["tracks"]] == ["Jazz"]
        assert f"{db} cannot be written while its disk is full" in captured.err
        assert main(["--db", str(db), "scan", str(music)]) == EXIT_ERROR
        err = capsys.readouterr().err
        assert f"{db}: cannot open database (" in err and "the disk holding it is full (" in err
        assert "make room on it and try again" in err and "a copy from" not in err
        assert db.read_bytes() == before
        filler.unlink()  # room made: the scan goes on as if nothing happened
        assert main(["--db", str(db), "scan", str(music)]) == EXIT_OK
        with open_database(db)() as s:
            assert sorted(t.path for t in s.query(Track)) == sorted(["/m/1.flac", str(music / "song.flac")])
        fill(filler)
        # Qt writing the image itself said "cannot write the image (is the folder writable?)", and libpng
        # "Write Error" beside it.
        assert main(["--db", str(db), "map", "-o", str(disk / "map.png")]) == EXIT_ERROR
        assert f"{disk / 'map.png'}: cannot write the image (No space left on device)" in capsys.readouterr().err
        assert sorted(p.name for p in disk.iterdir() if not p.name.startswith("library.db")) == ["filler"]


def fill(path):
    """Write zeros to `path` until its disk is full."""
    with contextlib.suppress(OSError), path.open("wb") as out:  # closing it may fail too, its last bytes unwritten
        while True:
            out.write(b"\0" * 65536)
            out.flush()


# ---- 14. playlists ------------------------------------------------------------------------------------------
def test_playlists_cannot_be_injected_or_replace_music(tmp_path):
    from types import SimpleNamespace

    from desktop.core.errors import GenreTaggerError
    from desktop.services.playlists import write_m3u8

    music = tmp_path / "music"
    tracks = [SimpleNamespace(path=str(music / "ok.mp3"), artist="A", title="Evil\n/etc/passwd", duration=3),
              SimpleNamespace(path=str(music / "two\nlines.mp3"), artist="", title="", duration=3),
              SimpleNamespace(path=str(tmp_path / "#hash.mp3"), artist="", title="", duration=3)]
    out, skipped = write_m3u8(tracks, tmp_path / "list.m3u8")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == ["#EXTM3U", "#EXTINF:3,A - Evil /etc/passwd", "music/ok.mp3", "#EXTINF:3,#hash", "./#hash.mp3"]
    assert skipped == [str(music / "two\nlines.mp3")]
    song = tmp_path / "song.mp3"
    song.write_bytes(b"music")
    with pytest.raises(GenreTaggerError, match="audio file"):
        write_m3u8(tracks, song, force=True)
    live = tmp_path / "live.ape"  # a type the app does not read is music all the same
    live.write_bytes(b"music")
    with pytest.raises(GenreTaggerError, match="audio file"):
        write_m3u8(tracks, live, force=True)
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(GenreTaggerError, match="should end in .m3u8"):
        write_m3u8(tracks, notes)
    (tmp_path / "other.m3u8").write_text("not a playlist")
    with pytest.raises(GenreTaggerError, match="not a playlist"):
        write_m3u8(tracks, tmp_path / "other.m3u8")
    assert song.read_bytes() == live.read_bytes() == b"music" and notes.read_text() == "mine"


def test_a_playlist_written_while_another_write_of_it_is_under_way_is_refused_and_the_first_kept(tmp_path):
    # Two writes of one file shared one hidden copy: each truncated and wrote it, and either could swap in a mix.
    import fcntl
    from types import SimpleNamespace

    from desktop.core.errors import GenreTaggerError
    from desktop.services.playlists import write_m3u8

    tracks = [SimpleNamespace(path=str(tmp_path / "music" / "a.mp3"), artist="A", title="B", duration=3)]
    out = tmp_path / "jazz.m3u8"
    copy = temp_copy_path(out)
    with open(copy, "w") as live:  # another process writing it: its copy made and locked
        fcntl.flock(live.fileno(), fcntl.LOCK_EX)
        with pytest.raises(GenreTaggerError) as refused:
            write_m3u8(tracks, out)
        assert str(refused.value) == f"{out}: cannot write playlist (another write of jazz.m3u8 is under way)"
        assert copy.exists() and not out.exists()  # the live write's copy untouched
    write_m3u8(tracks, out)  # once it is over (its lock released: a dead write's copy), written, the copy swept away
    assert out.read_text().splitlines()[1:] == ["#EXTINF:3,A - B", "music/a.mp3"] and not copy.exists()


def test_playlists_and_lists_come_in_playing_order(tmp_path):
    # SQL put "Zappa" before "abba" and, inside an album, track 10 before track 2 (and went by title, not track).
    from desktop.store.database import open_database

    sessions = open_database(tmp_path / "order.db")
    wanted = [("abba", "Arrival", "/m/abba/Arrival/2 Dancing Queen.mp3"), ("abba", "Arrival", "/m/abba/Arrival/10 Tiger.mp3"),
              ("ABBA", "Voulez-Vous", "/m/abba/Voulez/1 As Good As New.mp3"), ("Miles Davis", "", "/m/miles/So What.mp3"),
              ("Zappa", "Apostrophe (')", "/m/z/1 Don't Eat.mp3")]
    with sessions() as s, s.begin():
        for n, (artist, album, path) in enumerate(reversed(wanted)):
            s.add(Track(path=path, folder="/m", size=1, mtime_ns=1, audio_hash=f"h{n}", format="mp3", artist=artist,
                        album=album, title=path.rsplit("/", 1)[1], genre="Pop"))
    with sessions() as s:
        assert [t.path for t in queries.listed_tracks(s, "pop")] == [p for _a, _b, p in wanted]


def test_an_albums_tracks_play_in_the_order_of_their_numbers_disc_by_disc(tmp_path):
    # Files named by title alone ("Zebra.flac") played in the order of their names, and a second disc's first
    # track ("1 Intro") before the first disc's second.
    from desktop.store.database import open_database

    sessions = open_database(tmp_path / "order.db")
    wanted = [("/m/x/Zebra.flac", 1, 1), ("/m/x/Apple.flac", 1, 2), ("/m/x/CD2/1 Intro.flac", 2, 1),
              ("/m/x/CD2/Outro.flac", 2, 11)]
    with sessions() as s, s.begin():
        for n, (path, disc, number) in enumerate(reversed(wanted)):
            s.add(Track(path=path, folder="/m/x", size=1, mtime_ns=1, audio_hash=f"h{n}", format="flac", artist="Band",
                        album="Double", title=path, genre="Pop", disc_number=disc, track_number=number))
    with sessions() as s:
        assert [t.path for t in queries.listed_tracks(s, "pop")] == [p for p, _d, _n in wanted]


# ---- 16. silence does not vote --------------------------------------------------------------------------------
def test_silence_is_not_analysable_and_padding_does_not_vote(exported_model, tmp_path):
    import numpy as np
    import soundfile as sf

    from desktop.core.analysis import NO_MUSIC, Analyzer
    from desktop.core.model import GenreModel
    from trainer.synth import synth_track

    rate = 16000
    sf.write(tmp_path / "silence.wav", np.zeros(rate * 6, np.float32), rate)
    music = synth_track("noise", 3.0, rate, np.random.default_rng(3))
    sf.write(tmp_path / "padded.wav", np.concatenate([music, np.zeros(rate * 5)]).astype(np.float32), rate)
    sf.write(tmp_path / "music.wav", music.astype(np.float32), rate)
    silent, padded, plain = Analyzer(GenreModel(exported_model, device="cpu")).analyse(
        [tmp_path / "silence.wav", tmp_path / "padded.wav", tmp_path / "music.wav"])
    assert silent.status == NO_MUSIC and silent.top_genre is None and "silent" in silent.error
    assert padded.top_genre == plain.top_genre == "noise"
    assert padded.probabilities == pytest.approx(plain.probabilities, abs=1e-5)  # the padding's windows left out


def test_white_noise_is_not_music(exported_model, tmp_path):
    import numpy as np
    import soundfile as sf

    from desktop.core.analysis import NO_MUSIC, Analyzer
    from desktop.core.model import GenreModel
    from desktop.core.music_check import music_windows

    rate = 16000
    noise = 0.3 * np.random.default_rng(0).standard_normal(rate * 5)
    sf.write(tmp_path / "hiss.wav", noise.astype(np.float32), rate)
    (hiss,) = Analyzer(GenreModel(exported_model, device="cpu")).analyse([tmp_path / "hiss.wav"])
    assert hiss.status == NO_MUSIC and "noise, not music" in hiss.error
    # The synthetic genres (band-limited noise among them) all still vote.
    from trainer.synth import synth_track

    windows = np.stack([synth_track(g, 1.0, rate, np.random.default_rng(1)) for g in ("tones", "noise", "beats")])
    assert music_windows(windows.astype(np.float32), rate)[0].all()


def test_float_audio_that_is_not_numbers_is_named_and_such_samples_heard_as_silence(exported_model, tmp_path):
    # A faulty render writes NaN or infinity into float WAV: the model made a sure genre of such garbage.
    import numpy as np
    import soundfile as sf

    from desktop.core.analysis import ERROR, Analyzer
    from desktop.core.model import GenreModel
    from trainer.synth import synth_track

    rate = 16000
    music = synth_track("tones", 6.0, rate, np.random.default_rng(3)).astype(np.float32)
    sf.write(tmp_path / "music.wav", music, rate, subtype="FLOAT")
    spoilt = music.copy()
    spoilt[::500], spoilt[rate:rate + 100] = np.nan, np.inf
    sf.write(tmp_path / "spoilt.wav", spoilt, rate, subtype="FLOAT")
    sf.write(tmp_path / "garbage.wav", np.full(rate * 6, np.nan, np.float32), rate, subtype="FLOAT")
    plain, part, garbage = Analyzer(GenreModel(exported_model, device="cpu")).analyse(
        [tmp_path / "music.wav", tmp_path / "spoilt.wav", tmp_path / "garbage.wav"])
    assert garbage.status == ERROR and garbage.top_genre is None
    assert "audio samples are not numbers (NaN or infinite): damaged float audio" in garbage.error
    assert part.top_genre == plain.top_genre == "tones" and np.isfinite(part.probabilities).all()
    assert "of the audio listened to is not numbers (NaN or infinite" in part.note and plain.note is None


# ---- 17. the threshold is applied when planning, not frozen at analysis -----------------------------------------
def test_a_changed_threshold_counts_for_tracks_already_analysed(env):
    env.scan()
    with env.sessions() as s:
        confidences = {t.path: t.confidence for t in queries.listed_tracks(s)}
    cut = sorted(confidences.values())[len(confidences) // 2]
    strict = TagService(env.sessions, TaggingSettings(threshold=cut + 1e-6))
    assert {c.path for c in strict.plan()} == {p for p, c in confidences.items() if c > cut}
    with env.sessions() as s:
        assert {t.path for t in queries.needs_review(s, threshold=cut + 1e-6)} >= {p for p, c in confidences.items() if c <= cut}
        assert queries.needs_review(s, threshold=0.0) == []


def test_review_compares_genres_case_blind_and_accepts_our_multi_genre_writes():
    assert not queries.row_needs_review("Classical", "classical", 0.9, False)
    assert not queries.row_needs_review("rock; pop", "rock", 0.9, False)
    assert queries.row_needs_review("Jazz", "rock", 0.9, False)
    assert queries.row_needs_review("", "rock", 0.3, False) and not queries.row_needs_review("", "rock", 0.3, True)


def test_review_compares_genres_by_key_and_passes_over_placeholder_tags():
    # The model's label in another spelling is the same genre (the table already shows it in the library's).
    assert not queries.row_needs_review("Hip-Hop", "hiphop", 0.9, False)
    assert not queries.row_needs_review("R&B", "rnb", 0.9, False)
    assert not queries.row_needs_review("(17)", "rock", 0.9, False)  # an ID3v1 number names its genre
    # A placeholder a ripper left says nothing (fill writes over it): no disagreement, as with no tag.
    for placeholder in ("Unknown", "Other", "(255)", "genre"):
        assert not queries.row_needs_review(placeholder, "jazz", 0.9, False), placeholder
    assert queries.row_needs_review("Unknown; Rock", "jazz", 0.9, False)  # the first real genre disagrees
    assert queries.row_needs_review("Hip-Hop", "jazz", 0.9, False)


def test_list_review_agrees_with_the_table_on_spellings_and_placeholders(env):
    env.scan()
    with env.sessions() as s:
        predicted = {t.path: t.predicted_genre for t in queries.listed_tracks(s)}
    flac, ogg, mp3 = str(env.files["flac"]), str(env.files["ogg"]), str(env.files["mp3"])
    write_genres(env.files["flac"], ["Unknown"])
    write_genres(env.files["ogg"], [predicted[ogg].upper().replace("O", "o") + "!"])  # same key, other spelling
    write_genres(env.files["mp3"], ["Disagreeing Tag"])
    env.scan()
    with env.sessions() as s:
        review = {t.path for t in queries.needs_review(s, threshold=0.0)}
        by_album = {t.path for t in s.scalars(select(Track).where(Track.id.in_(queries.album_disagreements(s, 0.0))))}
    assert not by_album & {flac, ogg}  # the album check does not flag them either way
    assert mp3 in review and flac not in review and ogg not in review


# ---- 18. known-broken files are reported again ---------------------------------------------------------------------
def test_a_rescan_reports_files_it_knows_are_broken(env):
    broken = env.music / "broken.flac"
    broken.write_bytes(b"fLaC" + b"\x00" * 64)
    first, _ = env.scan()
    again, _ = env.scan()
    assert [p.path for p in first.problems] == [broken] and [p.path for p in again.problems] == [broken]
    assert "unchanged since it failed" in again.problems[0].reason


def test_a_file_no_earlier_version_could_read_is_read_again_unchanged(env, monkeypatch):
    import desktop.services.library as library
    from desktop.core.errors import TagReadError
    from desktop.store.schema import Track

    song = env.files["opus.ogg"]
    real_read_tags = library.read_tags

    def older_reader(path, options):  # what a version that took every .ogg for Vorbis said
        if path == song:
            raise TagReadError(path, "cannot read tags (OggVorbisHeaderError: no appropriate stream found)")
        return real_read_tags(path, options)

    monkeypatch.setattr(library, "read_tags", older_reader)
    first, _ = env.scan()
    again, _ = env.scan()  # the same reader, the same file: the same failure, known as such
    assert [p.path for p in first.problems] == [song] and "unchanged since it failed" in again.problems[0].reason
    assert again.unchanged == len(env.files) and again.new == 0
    # Every file found is in one number: the first walk counted the one it could not read in none.
    assert first.unreadable == 1 and first.new == len(env.files) - 1 and again.unreadable == 0

    monkeypatch.setattr(library, "read_tags", real_read_tags)  # the newer version, the file untouched
    fixed, results = env.scan()
    assert not fixed.problems and fixed.new == 1 and [r.path for r in results] == [song]
    with env.sessions() as s:
        track = s.scalar(select(Track).where(Track.path == str(song)))
        assert track.audio_hash and track.error is None and track.predicted_genre


# ---- 20. counts and playlists take confident genres ----------------------------------------------------------------
def test_counts_and_playlists_leave_uncertain_predictions_apart(env):
    env.scan()
    with env.sessions() as s:
        tracks = queries.listed_tracks(s)
        cut = sorted(t.confidence for t in tracks)[len(tracks) // 2] + 1e-6
        sure = [t for t in tracks if t.confidence >= cut]
        counts = dict(queries.genre_counts(s, cut))
        assert sum(counts.values()) == len(sure) and queries.uncertain_count(s, cut) == len(tracks) - len(sure)
        genre = sure[0].genre
        assert {t.path for t in queries.listed_tracks(s, genre, threshold=cut)} == {t.path for t in sure if t.genre == genre}


# ---- one scan use case for both faces; its per-file problems reach the log --------------------------------------
def test_the_scan_use_case_logs_every_per_file_problem(env, caplog):
    import logging

    from desktop.services.scanning import scan_library

    broken = env.music / "broken.flac"
    broken.write_bytes(b"fLaC" + b"\x00" * 64)
    with caplog.at_level(logging.WARNING):
        report = scan_library(env.sessions, [env.music], TaggingSettings(), lambda: env.analyzer)
    assert report.analysed == len(env.files) and [p for p, _ in report.problems] == [str(broken)]
    assert any(str(broken) in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


# ---- 7. WAV: the RIFF INFO genre is read, and written beside the ID3 one --------------------------------------------
def ffprobe_genre(path):
    import json as _json

    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return {k.lower(): v for k, v in _json.loads(out).get("format", {}).get("tags", {}).items()}.get("genre")


def test_wav_info_genre_is_read_written_and_restored(tmp_path):
    from desktop.core.fingerprint import audio_hash
    from desktop.core.riff_info import read_info

    wav = make_track(tmp_path, "info", "tones", "wav", 2.0, tags={"genre": "Chanson", "title": "Info Title"})
    raw = wav.read_bytes()
    assert read_info(wav).get("IGNR") == "Chanson"  # ffmpeg put it in RIFF INFO
    assert read_tags(wav).genres == ("Chanson",) and read_tags(wav).title == "Info Title"
    before = audio_hash(wav, full=True)
    write_genres(wav, ["Jazz", "Blues"])
    assert read_info(wav)["IGNR"] == "Jazz; Blues" and read_info(wav)["INAM"] == "Info Title"
    assert ffprobe_genre(wav) == "Jazz; Blues" and read_tags(wav).genres == ("Jazz", "Blues")
    write_genres(wav, ["Chanson"])
    assert read_info(wav)["IGNR"] == "Chanson" and ffprobe_genre(wav) == "Chanson"
    write_genres(wav, [])
    assert "IGNR" not in read_info(wav) and read_tags(wav).genres == ()
    assert audio_hash(wav, full=True) == before and len(wav.read_bytes()) >= len(raw) - 64
    assert [p.name for p in tmp_path.iterdir()] == [wav.name]  # no scratch file left


def test_fill_does_not_add_a_second_genre_to_a_wav_with_an_info_genre(env):
    wav = make_track(env.music, "tagged", "noise", "wav", 3.0, seed=11, tags={"genre": "Chanson"})
    env.scan()
    assert str(wav) not in {c.path for c in env.tagger.plan(policy="fill")}


def test_undo_puts_a_genre_back_only_in_the_tag_that_held_it(env):
    # A genre read from a second tag (an MP3's APEv2, a FLAC's leading ID3) or a WAV's INFO chunk was journalled as
    # the file's genre, so undo wrote it into the first tag as well (a field added), and a WAV's INFO genre that
    # differed from its ID3 one was replaced by the ID3 one for good (a field lost).
    from mutagen.apev2 import APEv2
    from mutagen.id3 import ID3, TCON

    from desktop.core.riff_info import read_info

    mp3 = make_track(env.music, "ape-only", "tones", "mp3", 2.0, seed=21)
    mutagen.File(mp3).delete()
    ape = APEv2()
    ape.update({"Genre": "Shoegaze", "Title": "Only Shallow"})
    ape.save(mp3)
    flac = make_track(env.music, "id3-in-front", "noise", "flac", 2.0, seed=22)
    front = ID3()
    front.add(TCON(encoding=3, text=["Krautrock"]))
    front.save(env.music / "front.id3")
    flac.write_bytes((env.music / "front.id3").read_bytes() + flac.read_bytes())
    (env.music / "front.id3").unlink()
    info_only = make_track(env.music, "info-only", "beats", "wav", 2.0, seed=23, tags={"genre": "Chanson"})
    both = make_track(env.music, "both", "tones", "wav", 2.0, seed=24, tags={"genre": "Chanson"})
    wav = mutagen.File(both)
    wav.add_tags()
    wav.tags.add(TCON(encoding=3, text=["Musette"]))
    wav.save()

    def state():  # every place's fields as text; an ID3 tag left empty (the write added it) counts as none
        places = {"mp3 id3": mutagen.File(mp3).tags or {}, "mp3 ape": APEv2(mp3), "flac vorbis": mutagen.File(flac).tags,
                  "flac id3": ID3(flac), "info-only id3": mutagen.File(info_only).tags or {},
                  "both id3": mutagen.File(both).tags}
        fields = {name: {key: str(tag[key]) for key in tag.keys()} for name, tag in places.items()}
        return {**fields, "info-only info": read_info(info_only), "both info": read_info(both)}

    before = state()
    assert [read_tags(p).genres for p in (mp3, flac, info_only, both)] == [("Shoegaze",), ("Krautrock",), ("Chanson",), ("Musette",)]
    env.scan()
    env.tagger.correct([str(p) for p in (mp3, flac, info_only, both)], "Jazz")
    assert [read_tags(p).genres for p in (mp3, flac, info_only, both)] == [("Jazz",)] * 4
    assert str(APEv2(mp3)["Genre"]) == "Jazz" and read_info(both)["IGNR"] == "Jazz"
    assert len(env.tagger.undo().restored) == 4
    assert state() == before


# ---- Track.status split into the analysis verdict and the write state -------------------------------------------------
def test_a_version_3_library_has_its_status_split(tmp_path):
    import sqlite3

    from desktop.store.database import SCHEMA_VERSION, open_database
    from desktop.store.schema import Track

    db = tmp_path / "v3.db"
    open_database(db)
    with sqlite3.connect(db) as con:  # back to version 3's one-word status
        con.execute("drop index ix_tracks_verdict")
        con.execute("alter table tracks drop column verdict")
        con.execute("alter table tracks drop column write_state")
        con.execute("alter table tracks add column status varchar not null default 'new'")
        con.execute("create index ix_tracks_status on tracks (status)")
        con.execute("update meta set value = '3' where key = 'schema_version'")
        for n, status in enumerate(["uncertain", "written", "corrected", "error"]):
            con.execute("insert into tracks (id, path, folder, size, mtime_ns, audio_hash, format, duration, title, artist,"
                        " album, file_genre, corrected_genre, missing, added_at, updated_at, status) values "
                        "(?, ?, '/m', 1, 1, ?, 'flac', 1, '', '', '', '', ?, 0, '2026-01-01', '2026-01-01', ?)",
                        (n + 1, f"/m/{n}.flac", f"h{n}", "Jazz" if status == "corrected" else None, status))
        con.execute("insert into analyses (track_id, model_key, audio_hash, status, confidence, labels, probabilities,"
                    " window_starts, window_probabilities, created_at) values (2, 'm', 'h1', 'analysed', 0.9, '[]', '[]', '[]', '[]', '2026-01-01')")
    sessions = open_database(db)
    with sessions() as s:
        tracks = {t.id: t for t in s.query(Track)}
        assert [(tracks[i].verdict, tracks[i].write_state, tracks[i].status) for i in (1, 2, 3, 4)] == [
            ("uncertain", "none", "uncertain"), ("analysed", "written", "written"), ("new", "none", "corrected"),
            ("error", "none", "error")]
    with sqlite3.connect(db) as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


def test_a_version_4_library_keeps_its_corrections_and_links_new_ones_to_their_write(tmp_path):
    import sqlite3

    from desktop.store.database import SCHEMA_VERSION, open_database
    from desktop.store.schema import Correction

    db = tmp_path / "v4.db"
    open_database(db)
    with sqlite3.connect(db) as con:  # back to version 4: corrections did not know their write batch
        con.execute("drop table corrections")
        con.execute("create table corrections (id integer primary key, track_id integer not null references tracks (id)"
                    " on delete cascade, genre varchar not null, source varchar not null, created_at datetime not null)")
        con.execute("update meta set value = '4' where key = 'schema_version'")
        con.execute("insert into tracks (id, path, folder, size, mtime_ns, audio_hash, format, duration, title, artist,"
                    " album, file_genre, corrected_genre, missing, added_at, updated_at, verdict, write_state) values "
                    "(1, '/m/a.flac', '/m', 1, 1, 'h', 'flac', 1, '', '', '', '', 'Jazz', 0, '2026-01-01', '2026-01-01',"
                    " 'analysed', 'none')")
        con.execute("insert into corrections (track_id, genre, source, created_at) values (1, 'Jazz', 'cli', '2026-01-01')")
    sessions = open_database(db)
    with sessions() as s:
        assert [(c.genre, c.batch_id) for c in s.query(Correction)] == [("Jazz", None)]
    with sqlite3.connect(db) as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION) == "13"


def test_a_version_5_journal_is_undone_as_before_and_new_writes_keep_the_provenance(env):
    import dataclasses
    import sqlite3

    from desktop.store.database import open_database

    env.scan()
    flac = str(env.files["flac"])
    db = env.sessions.kw["bind"].url.database
    tagger = TagService(env.sessions)
    tagger.options = dataclasses.replace(tagger.options, write_provenance=True)
    tagger.correct([flac], "Jazz")
    env.sessions.kw["bind"].dispose()
    with sqlite3.connect(db) as con:  # back to version 5: the journal knew nothing of the provenance field
        con.execute("alter table journal drop column provenance_written")
        con.execute("alter table journal drop column old_provenance")
        con.execute("update meta set value = '5' where key = 'schema_version'")
    sessions = open_database(db)
    with sessions() as s:
        assert [(e.provenance_written, e.old_provenance) for e in s.query(JournalEntry)] == [(None, None)]
    assert read_tags(flac).provenance == "Genre Tagger: corrected by hand"
    old_entry = TagService(sessions)
    old_entry.options = dataclasses.replace(old_entry.options, write_provenance=True)
    old_entry.undo()  # as before schema 6: the field cleared where provenance is written
    assert read_tags(flac).provenance == "" and read_tags(flac).genres == ()
    TagService(sessions).correct([flac], "Blues")  # the field written, as by default
    with sessions() as s:
        assert [(e.provenance_written, e.old_provenance) for e in s.query(JournalEntry)][-1] == (True, None)
    TagService(sessions, TaggingSettings(write_provenance=False)).correct([flac], "Soul")  # the field there: kept true
    with sessions() as s:
        assert [(e.provenance_written, e.old_provenance) for e in s.query(JournalEntry)][-1] == (
            True, "Genre Tagger: corrected by hand")


def test_a_migration_stopped_halfway_leaves_the_library_at_its_old_version(tmp_path, monkeypatch):
    # SQLite's Python driver commits each ALTER TABLE at once, so a migration step killed between its statements
    # left a library with some of a version's columns: the next open called it damaged ("lacks old_provenance").
    # Each step and its version number now commit together, or not at all.
    import sqlite3

    from desktop.store import database

    db = tmp_path / "library.db"
    database.open_database(db).kw["bind"].dispose()
    with sqlite3.connect(db) as con:  # back to version 5
        for column in ("provenance_written", "old_provenance", "old_tag_genres"):
            con.execute(f"alter table journal drop column {column}")
        con.execute("update meta set value = '5' where key = 'schema_version'")
    real = database.MIGRATIONS[6]

    def killed_halfway(connection):
        database._add_columns(connection, "journal", {"provenance_written": "BOOLEAN"})
        raise RuntimeError("killed")

    monkeypatch.setitem(database.MIGRATIONS, 6, killed_halfway)
    with pytest.raises(database.DatabaseError, match="killed"):
        database.open_database(db)
    with sqlite3.connect(db) as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == "5"
        assert "provenance_written" not in {row[1] for row in con.execute("pragma table_info(journal)")}
    monkeypatch.setitem(database.MIGRATIONS, 6, real)
    database.open_database(db).kw["bind"].dispose()
    with sqlite3.connect(db) as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == "13"
        assert {"provenance_written", "old_provenance", "old_tag_genres"} <= {row[1] for row in con.execute("pragma table_info(journal)")}


def test_a_version_6_journal_is_undone_into_the_first_tag_as_before(env):
    import sqlite3

    from desktop.store.database import open_database

    env.scan()
    flac = str(env.files["flac"])
    db = env.sessions.kw["bind"].url.database
    env.tagger.correct([flac], "Jazz")
    env.sessions.kw["bind"].dispose()
    with sqlite3.connect(db) as con:  # back to version 6: the journal did not say which tag held the old genres
        con.execute("alter table journal drop column old_tag_genres")
        con.execute("update meta set value = '6' where key = 'schema_version'")
    sessions = open_database(db)
    with sessions() as s:
        assert [e.old_tag_genres for e in s.query(JournalEntry)] == [None]
    assert len(TagService(sessions).undo().restored) == 1 and read_tags(flac).genres == ()
    TagService(sessions).correct([flac], "Blues")
    with sessions() as s:
        assert [e.old_tag_genres for e in s.query(JournalEntry)][-1] == [[], None]


def test_a_version_12_library_gains_the_provenance_field_and_its_journal_an_index_by_track(tmp_path):
    import sqlite3

    from desktop.store.database import open_database
    from desktop.store.schema import Track

    db = tmp_path / "v12.db"
    open_database(db).kw["bind"].dispose()
    with sqlite3.connect(db) as con:  # back to version 12: no provenance kept, the journal read whole per folder
        con.execute("drop index ix_journal_track")
        con.execute("alter table tracks drop column tag_provenance")
        con.execute("update meta set value = '12' where key = 'schema_version'")
        con.execute("insert into tracks (id, path, folder, size, mtime_ns, audio_hash, format, duration, title, artist,"
                    " album, file_genre, missing, added_at, updated_at, verdict, write_state) values (1, '/m/a.flac', '/m',"
                    " 1, 1, 'h', 'flac', 1, 'A', 'Nas', 'Illmatic', 'Hip-Hop', 0, '2026-01-01', '2026-01-01', 'new', 'none')")
    sessions = open_database(db)
    with sessions() as s:  # "" until the next scan reads tagged tracks' tags again (reader 5)
        assert [(t.file_genre, t.tag_provenance) for t in s.query(Track)] == [("Hip-Hop", "")]
    sessions.kw["bind"].dispose()
    with sqlite3.connect(db) as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == "13"
        assert "ix_journal_track" in {row[1] for row in con.execute("pragma index_list(journal)")}


def test_a_version_10_library_gains_track_numbers_years_and_media_kinds_and_keeps_its_tracks(tmp_path):
    import sqlite3

    from desktop.store.database import open_database
    from desktop.store.schema import Track

    db = tmp_path / "v10.db"
    open_database(db).kw["bind"].dispose()
    with sqlite3.connect(db) as con:  # back to version 10: no track or disc number, no year
        for column in ("track_number", "disc_number", "year", "media_kind"):
            con.execute(f"alter table tracks drop column {column}")
        con.execute("update meta set value = '10' where key = 'schema_version'")
        con.execute("insert into tracks (id, path, folder, size, mtime_ns, audio_hash, format, duration, title, artist,"
                    " album, file_genre, genre, missing, added_at, updated_at, verdict, write_state) values (1, '/m/a.flac',"
                    " '/m', 1, 1, 'h', 'flac', 1, 'A', 'Nas', 'Illmatic', 'Hip-Hop', 'Hip-Hop', 0, '2026-01-01',"
                    " '2026-01-01', 'new', 'none')")
    sessions = open_database(db)
    with sessions() as s:  # unknown (0) until the next scan reads every track's tags again (reader 4)
        assert [(t.title, t.genre, t.track_number, t.disc_number, t.year, t.media_kind) for t in s.query(Track)] == [
            ("A", "Hip-Hop", 0, 0, 0, "")]
    sessions.kw["bind"].dispose()
    with sqlite3.connect(db) as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == "13"


def test_a_version_7_library_gains_album_artists_and_shows_unheard_tracks_tag_genres(tmp_path):
    import sqlite3

    from desktop.store.database import open_database
    from desktop.store.schema import Track

    db = tmp_path / "v7.db"
    open_database(db).kw["bind"].dispose()
    with sqlite3.connect(db) as con:  # back to version 7: no album artist, no compilation flag
        con.execute("alter table tracks drop column album_artist")
        con.execute("alter table tracks drop column compilation")
        con.execute("update meta set value = '7' where key = 'schema_version'")
        for n, (tag, verdict, predicted) in enumerate((("", "analysed", "Rock"), ("Jazz", "error", None),
                                                       ("Unknown", "too_short", None), ("Soul", "analysed", "Rock"),
                                                       ("Hip Hop", "error", None))):
            con.execute("insert into tracks (id, path, folder, size, mtime_ns, audio_hash, format, duration, title, artist,"
                        " album, file_genre, predicted_genre, genre, missing, added_at, updated_at, verdict, write_state)"
                        " values (?, ?, '/m', 1, 1, 'h', 'flac', 1, '', 'Nas', 'Hits', ?, ?, ?, 0, '2026-01-01',"
                        " '2026-01-01', ?, 'none')", (n + 1, f"/m/{n}.flac", tag, predicted, predicted, verdict))
        con.execute("insert into genre_merges (from_key, to_name, created_at) values ('hiphop', 'Rap', '2026-01-01')")  # the listener's merge
    sessions = open_database(db)
    with sessions() as s:
        assert {(t.artist, t.album_artist, t.compilation) for t in s.query(Track)} == {("Nas", "", False)}
        # version 9: a track the model could not hear shows its tag's genre (a placeholder none)
        assert [t.genre for t in s.query(Track).order_by(Track.id)] == ["Rock", "Jazz", None, "Rock", "Rap"]
    with sqlite3.connect(db) as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == "13"


def test_a_corrected_and_written_track_keeps_its_verdict(env):
    env.scan()
    env.tagger.correct([str(env.files["flac"])], "Jazz")
    with env.sessions() as s:
        track = queries.track_by_path(s, str(env.files["flac"]))
        assert track.verdict in ("analysed", "uncertain") and track.write_state == "written" and track.status == "corrected"
    env.tagger.undo()
    with env.sessions() as s:
        assert queries.track_by_path(s, str(env.files["flac"])).write_state == "none"


# ---- 12. copies of the library: the undo journal lives nowhere else ----------------------------------------
def damage(db):
    """Overwrite a few pages of a database file in the middle with noise, as a failing disk would."""
    import random

    data = bytearray(db.read_bytes())
    noise = random.Random(0).randbytes(3 * 4096)
    data[5 * 4096:8 * 4096] = noise[:len(data[5 * 4096:8 * 4096])]
    db.write_bytes(bytes(data))


def track_count(db):
    import sqlite3

    with contextlib.closing(sqlite3.connect(db)) as con:
        return con.execute("select count(*) from tracks").fetchone()[0]


def test_the_library_is_copied_once_a_day_and_a_damaged_one_names_its_copy(env):
    import time

    from desktop.core.paths import library_copy_file
    from desktop.store.backup import BACKUP_EVERY_S, LibraryDamaged, daily_backup
    from desktop.store.database import DatabaseError, open_database

    env.scan()
    env.tagger.correct([str(env.files["flac"])], "Jazz")
    db = Path(env.sessions.kw["bind"].url.database)
    copy = library_copy_file(db)
    assert copy.is_file() and track_count(copy) == 0  # made when the library was opened, empty, and not again today
    assert not daily_backup(db) and track_count(copy) == 0
    assert daily_backup(db, now=time.time() + BACKUP_EVERY_S + 1)  # a day later: the library as it is now
    assert track_count(copy) == len(env.files)
    ahead = time.time() + 365 * BACKUP_EVERY_S  # made while the clock ran a year fast, which was then set right
    os.utime(copy, (ahead, ahead))
    env.tagger.correct([str(env.files["mp3"])], "Blues")
    assert daily_backup(db) and track_count(copy) == len(env.files)  # not left a year out of date
    assert not daily_backup(db)  # and then once a day again
    env.sessions.kw["bind"].dispose()
    damage(db)
    good = copy.read_bytes()
    with pytest.raises(LibraryDamaged, match="SQLite's check found damage"):
        daily_backup(db, now=time.time() + 3 * BACKUP_EVERY_S)
    assert copy.read_bytes() == good  # a damaged library never replaces the good copy
    a_day_ago = time.time() - BACKUP_EVERY_S - 1
    os.utime(copy, (a_day_ago, a_day_ago))
    for _ in range(2):  # found by the day's check, and then at every open until it is mended
        with pytest.raises(DatabaseError, match=r"damaged library: SQLite's check found damage .*; a copy from "
                                                r"\d{4}-\d\d-\d\d \d\d:\d\d is at .*library\.db\.backup: put it in the library's place"):
            open_database(db)
    assert copy.read_bytes() == good
    db.write_bytes(good)  # what the message says to do
    sessions = open_database(db)
    with sessions() as s:
        assert s.query(Track).count() == len(env.files) and queries.track_by_path(s, str(env.files["flac"])).corrected_genre == "Jazz"


def test_converting_a_library_to_a_newer_schema_keeps_a_copy_an_older_program_opens(tmp_path):
    import sqlite3

    from desktop.core.paths import library_copy_file
    from desktop.store.database import SCHEMA_VERSION, DatabaseError, open_database

    db = tmp_path / "library.db"
    open_database(db).kw["bind"].dispose()
    with contextlib.closing(sqlite3.connect(db)) as con, con:  # back to version 5 (see the test above)
        con.execute("alter table journal drop column provenance_written")
        con.execute("alter table journal drop column old_provenance")
        con.execute("update meta set value = '5' where key = 'schema_version'")
    library_copy_file(db, 5).mkdir()  # the copy cannot be made: nothing is converted
    with pytest.raises(DatabaseError, match="cannot keep a copy of this version 5 library before converting it .*nothing was changed"):
        open_database(db)
    library_copy_file(db, 5).rmdir()
    open_database(db)
    with contextlib.closing(sqlite3.connect(library_copy_file(db, 5))) as old, contextlib.closing(sqlite3.connect(db)) as new:
        assert old.execute("select value from meta where key = 'schema_version'").fetchone()[0] == "5"
        assert "old_provenance" not in {row[1] for row in old.execute("pragma table_info(journal)")}
        assert new.execute("select value from meta where key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


@contextlib.contextmanager
def fifo_opened_later(path: Path, seconds: float = 20.0):
    """A named pipe at `path`; should the code under test open it to read and wait, a writer comes after `seconds`
    and goes at once, so the test fails on what it then says rather than hanging the test run."""
    os.mkfifo(path)
    done = threading.Event()

    def unblock():
        while not done.wait(seconds):
            with contextlib.suppress(OSError):  # no reader waiting: nothing to unblock yet
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    guard = threading.Thread(target=unblock, daemon=True)
    guard.start()
    try:
        yield path
    finally:
        done.set()
        guard.join()


def test_a_named_pipe_or_device_under_a_music_name_is_refused_by_name_never_read_or_replaced(tmp_path, capsys,
                                                                                         monkeypatch, exported_model):
    # `set pipe.mp3 Jazz` opened the pipe to read its first bytes and waited for good; `playlist -o` and `map -o` read
    # one to see whether it was a playlist (waiting too), and with --force replaced it, /dev/null as well.
    from desktop.cli import EXIT_ERROR, main
    from desktop.core.errors import GenreTaggerError
    from desktop.core.output_files import check_output
    from desktop.ui.app import check_settings_file

    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "pipes.db"))
    monkeypatch.setenv("GENRE_TAGGER_MODEL", str(exported_model))
    song = make_track(tmp_path / "Music", "song", "tones", "ogg", 2.0)
    make_track(tmp_path / "Music", "other", "noise", "flac", 2.0, seed=2)
    assert main(["scan", str(tmp_path / "Music")]) == 0  # analysed: a map and a playlist have tracks to take
    refused = "not a regular file (a named pipe, device or socket)"
    with fifo_opened_later(tmp_path / "Music" / "pipe.mp3") as pipe:
        assert main(["set", str(pipe), str(song), "Jazz"]) == 1  # the song is set, the pipe named
        assert f"{pipe}: {refused}: there is no recording in it to read" in capsys.readouterr().err
        assert genres(song) == ("Jazz",) and stat.S_ISFIFO(os.stat(pipe).st_mode)
        assert main(["classify", str(pipe)]) == EXIT_ERROR
        assert f"{refused}: there is no recording in it to read" in capsys.readouterr().err
    assert main(["set", "/dev/null", "Jazz"]) == EXIT_ERROR
    assert f"/dev/null: {refused}" in capsys.readouterr().err
    for name, argv in (("list.m3u8", ["playlist", "jazz"]), ("map.png", ["map"])):
        with fifo_opened_later(tmp_path / name) as pipe:
            for force in ([], ["--force"]):
                assert main([*argv, "-o", str(pipe), *force]) == EXIT_ERROR
                assert f"{pipe}: is not a regular file" in capsys.readouterr().err
                assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    with pytest.raises(GenreTaggerError, match="is not a regular file"):
        check_output(Path("/dev/null"), "map image", (), lambda head: True, force=True)
    with fifo_opened_later(tmp_path / "settings.ini") as pipe, pytest.raises(GenreTaggerError, match="not a regular"):
        check_settings_file(str(pipe))


def test_a_named_pipe_or_device_given_as_a_model_is_refused_by_name_never_read(tmp_path, capsys, monkeypatch):
    # `learn --base pipe.onnx` read the pipe whole for its metadata and waited for good; /dev/zero would never end.
    from desktop.cli import EXIT_ERROR, main
    from desktop.core.errors import ModelError
    from desktop.core.model import GenreModel, read_model_info

    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "pipes.db"))
    refused = "not a regular file (a named pipe, device or socket), not a model file (.onnx)"
    with fifo_opened_later(tmp_path / "pipe.onnx") as pipe:
        assert main(["learn", "--base", str(pipe)]) == EXIT_ERROR
        assert f"{pipe}: {refused}" in capsys.readouterr().err
        for open_it in (read_model_info, GenreModel):
            with pytest.raises(ModelError, match=re.escape(refused)):
                open_it(pipe)
    with pytest.raises(ModelError, match=re.escape(refused)):
        read_model_info("/dev/zero")


@pytest.mark.parametrize("step", ["write", "undo"])
def test_a_file_another_program_writes_after_its_tags_were_read_keeps_that_programs_change(env, monkeypatch, step):
    # Between reading what it journals and copying the file, a write (or an undo) let another program's edit in, then
    # put it out: the file took the write over the edit, and the journal kept the genre from before it.
    import desktop.services.tagging as tagging_module

    env.scan()
    flac = env.files["flac"]
    tagger = TagService(env.sessions)
    if step == "undo":
        tagger.correct([str(flac)], "Jazz")
    real_read = tagging_module.read_tags

    def read_then_another_program_writes(path, options):
        tags = real_read(path, options)
        file = mutagen.File(path)
        file["genre"] = "Blues"
        file.save()
        return tags

    monkeypatch.setattr(tagging_module, "read_tags", read_then_another_program_writes)
    said = "the file changed since its tags were read (another program wrote to it?); nothing written, its change kept"
    if step == "write":
        assert tagger.correct([str(flac)], "Jazz").failed == [(str(flac), said)]
    else:
        assert tagger.undo().refused == [(str(flac), said)]
    assert genres(flac) == ("Blues",)
