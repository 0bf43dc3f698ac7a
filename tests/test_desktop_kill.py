"""kill -9 at random points of `scan --write`, `undo`, `set`, a copy or a conversion of the library, and playlist
exports: no tag lost, no audio changed, every file whole, nothing left behind."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy

from desktop.core.fingerprint import audio_hash
from desktop.core.safe_write import is_temp_copy
from desktop.core.tags import read_tags, write_genres
from tests.audio_files import make_track

pytestmark = pytest.mark.usefixtures("need_ffmpeg")

KILLS = 16


def cli(env, *argv, kill_after: float | None = None) -> tuple[int, float, str]:
    """Run the command line in a child process; SIGKILL it after `kill_after` seconds if still running."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if kill_after is not None:
        try:
            proc.wait(kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate()
    return proc.returncode, time.monotonic() - started, out


def leftovers(root):
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if is_temp_copy(f)]


def test_kill_9_during_writes_and_undos_loses_nothing(tmp_path, exported_model):
    music = tmp_path / "music"
    kinds = [("flac", "tones"), ("mp3", "noise"), ("ogg", "beats"), ("m4a", "tones"), ("wav", "noise"), ("opus", "beats"),
             ("flac.oga", "tones"), ("wma", "noise"), ("wv", "beats"), ("mpc", "tones"), ("ape", "noise"), ("dsf", "beats"),
             ("dff", "tones"), ("tta", "beats"), ("mp2", "noise"), ("aac", "tones"), ("ac3", "beats"),
             ("webm", "noise"), ("mka", "tones"), ("mkvmerge.mka", "beats"), ("spx", "noise"),
             ("caf", "tones"), ("alac.caf", "beats"), ("aac.caf", "noise")]
    files = [make_track(music, f"song{i}", genre, ext, 3.0, seed=i) for i, (ext, genre) in enumerate(kinds)]
    original = {}
    for i, f in enumerate(files):
        write_genres(f, [f"Original {i}"])
        original[f] = read_tags(f).genres
    audio = {f: audio_hash(f, full=True) for f in files}
    env = dict(os.environ, GENRE_TAGGER_DB=str(tmp_path / "kill.db"), GENRE_TAGGER_MODEL=str(exported_model))

    code, _, out = cli(env, "scan", str(music))  # analyse once: the killed runs spend their time writing
    assert code == 0, out
    # Full runs of each command, to know how long to let the killed ones live.
    code, t_write, out = cli(env, "scan", str(music), "--write", "--policy", "replace")
    assert code == 0 and f"wrote {len(files)} files" in out, out
    predicted = {f: read_tags(f).genres for f in files}
    code, t_undo, out = cli(env, "undo")
    assert code == 0 and f"restored {len(files)} files" in out, out
    allowed = {f: {original[f], predicted[f]} for f in files}

    rng = random.Random(7)
    killed = 0
    for n in range(KILLS):
        if n % 2 == 0:
            args, budget = ("scan", str(music), "--write", "--policy", "replace"), t_write
        else:
            args, budget = ("undo",), t_undo
        code, _, out = cli(env, *args, kill_after=rng.uniform(0.2, 1.0) * budget)
        killed += code == -signal.SIGKILL
        for f in files:
            assert audio_hash(f, full=True) == audio[f], f"audio changed in {f}"
            assert read_tags(f).genres in allowed[f], f"{f} holds {read_tags(f).genres} after a kill"
    assert killed >= KILLS // 2, "the harness should really kill most runs"

    # The next start settles the journal and removes the copies killed writes left behind.
    code, _, out = cli(env, "scan", str(music))
    assert code == 0, out
    assert leftovers(music) == []
    # Every write can still be undone, newest first, back to the genres the files came with.
    for _ in range(4 * KILLS):
        code, _, out = cli(env, "undo")
        if "nothing to undo" in out:
            break
        assert code == 0, out
    else:
        pytest.fail("undo never ran out of batches")
    for f in files:
        assert read_tags(f).genres == original[f], f"{f} lost its original genre"
        assert audio_hash(f, full=True) == audio[f]
    assert leftovers(music) == []


def test_kill_9_during_set_and_undo_never_leaves_an_undone_correction(tmp_path, exported_model):
    # `set` records corrections with the batch that writes them; undo takes a correction back with its
    # write. Killed anywhere, a file is either as it was or says the correction, and a correction
    # never outlives the undo of its own write.
    import sqlite3

    music = tmp_path / "music"
    files = [make_track(music, f"song{i}", genre, ext, 3.0, seed=i)
             for i, (ext, genre) in enumerate([("flac", "tones"), ("mp3", "noise"), ("ogg", "beats"), ("m4a", "tones"),
                                               ("wv", "noise"), ("opus", "beats")])]
    for i, f in enumerate(files):
        write_genres(f, [f"Original {i}"])
    original = {f: read_tags(f).genres for f in files}
    audio = {f: audio_hash(f, full=True) for f in files}
    env = dict(os.environ, GENRE_TAGGER_DB=str(tmp_path / "kill.db"), GENRE_TAGGER_MODEL=str(exported_model))
    assert cli(env, "scan", str(music))[0] == 0
    code, t_set, out = cli(env, "set", str(music), "Polka")
    assert code == 0, out
    code, t_undo, out = cli(env, "undo")
    assert code == 0 and "took back 6 genres set by hand" in out, out

    rng = random.Random(11)
    for n in range(10):
        args, budget = (("set", str(music), "Polka"), t_set) if n % 2 == 0 else (("undo",), t_undo)
        cli(env, *args, kill_after=rng.uniform(0.2, 1.0) * budget)
        for f in files:
            assert audio_hash(f, full=True) == audio[f], f"audio changed in {f}"
            assert read_tags(f).genres in (original[f], ("Polka",)), f"{f} holds {read_tags(f).genres} after a kill"
    assert cli(env, "scan", str(music))[0] == 0  # settles what the kills cut short
    assert leftovers(music) == []
    for _ in range(40):
        code, _, out = cli(env, "undo")
        if "nothing to undo" in out:
            break
        assert code == 0, out
    for f in files:
        assert read_tags(f).genres == original[f], f"{f} lost its original genre"
    with sqlite3.connect(tmp_path / "kill.db") as con:
        outlived = con.execute("select c.id from corrections c join journal j on j.batch_id = c.batch_id and "
                               "j.track_id = c.track_id where j.state = 'undone'").fetchall()
        shown = con.execute("select count(*) from tracks t where t.corrected_genre is not null and not exists (select 1 "
                            "from corrections c where c.track_id = t.id)").fetchone()[0]
    assert outlived == [] and shown == 0  # no correction survives its undone write; none shown without its record


def test_kill_9_while_the_library_is_copied_leaves_both_whole_and_nothing_behind(tmp_path):
    import contextlib
    import sqlite3

    from desktop.core.paths import library_copy_file
    from desktop.store.backup import BACKUP_EVERY_S, daily_backup
    from desktop.store.database import open_database

    def checked(path):
        with contextlib.closing(sqlite3.connect(path)) as con:
            return con.execute("pragma quick_check").fetchone()[0], con.execute("select count(*) from filler").fetchone()[0]

    db, rng = tmp_path / "library.db", random.Random(7)
    open_database(db).kw["bind"].dispose()
    with contextlib.closing(sqlite3.connect(db)) as con, con:  # 16 MB, so a copy takes long enough to be cut short
        con.execute("create table filler (x blob)")
        con.executemany("insert into filler values (?)", [(rng.randbytes(4096),) for _ in range(4000)])
    copy = library_copy_file(db)
    copy.unlink()  # made when the library was opened, before the filler: every copy from here on is the child's
    code = ("import sys; from pathlib import Path; from desktop.store.backup import make_backup\n"
            "while True: make_backup(Path(sys.argv[1]), Path(sys.argv[2]))")
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(copy)])
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert checked(db) == ("ok", 4000)  # the library is only ever read
        assert not copy.exists() or checked(copy) == ("ok", 4000)  # a copy is whole or not there
    assert daily_backup(db, now=time.time() + 2 * BACKUP_EVERY_S)  # the next copy sweeps a cut one away
    ours = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm")))  # those are SQLite's
    assert ours == ["library.db", "library.db.backup"]
    assert checked(copy) == ("ok", 4000)


PLAYLIST_GENRES = ("Jazz", "Rock", "Blues", "Hip-Hop", "Classical", "Metal", "Pop", "Reggae")


def library_of_genres(db, tracks: int) -> None:
    """A library of `tracks` analysed tracks in eight genres (no audio: playlists read only the library)."""
    from desktop.store.database import open_database
    from desktop.store.schema import Track

    sessions = open_database(db)
    rows = [dict(path=f"/music/Artist {n % 500}/Album {n % 40}/{n:06d} Song.flac", folder=f"/music/Artist {n % 500}",
                 size=1, mtime_ns=1, audio_hash=f"{n:040x}", format="flac", title=f"Song {n}", artist=f"Artist {n % 500}",
                 album=f"Album {n % 40}", file_genre="", predicted_genre=PLAYLIST_GENRES[n % 8],
                 genre=PLAYLIST_GENRES[n % 8], confidence=0.9, verdict="analysed", duration=200.0)
            for n in range(tracks)]
    with sessions() as s:
        s.execute(Track.__table__.insert(), rows)
        s.commit()
    sessions.kw["bind"].dispose()


KILL_IN_A_PLAYLIST_WRITE = """
import os, signal, sys
from desktop.core import safe_write
from desktop.services.playlists import write_genre_playlists
from desktop.store.database import open_database
written = []
def sync_then_die(fh):  # the third playlist's copy is written whole, then the process dies before swapping it in
    written.append(fh.name)
    if len(written) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
safe_write.sync_file = sync_then_die
write_genre_playlists(open_database(sys.argv[1]), sys.argv[2])
"""


def test_kill_9_during_playlist_exports_leaves_each_playlist_whole_and_nothing_behind(tmp_path):
    # A killed export left its hidden copy for good where no scan walks (a playlist folder outside the music).
    db, lists = tmp_path / "library.db", tmp_path / "Playlists"
    library_of_genres(db, 40_000)
    env = dict(os.environ, GENRE_TAGGER_DB=str(db))
    code, budget, out = cli(env, "playlist", "--all", "-o", str(lists))
    assert code == 0, out
    whole = {p.name: p.read_bytes() for p in lists.iterdir()}
    assert sorted(whole) == sorted(f"{g}.m3u8" for g in PLAYLIST_GENRES) and leftovers(lists) == []
    rng, killed = random.Random(11), 0
    for _ in range(KILLS // 2):
        code, _, out = cli(env, "playlist", "--all", "-o", str(lists), kill_after=rng.uniform(0.3, 1.0) * budget)
        killed += code == -signal.SIGKILL
        assert {p.name: p.read_bytes() for p in lists.iterdir() if not is_temp_copy(p.name)} == whole  # each one whole
    assert killed >= KILLS // 4, "the harness should really kill most runs"
    # Killed between writing a copy and swapping it in: the copy stays behind, the playlist before it whole.
    (lists / "Rock.m3u8").unlink()  # and one never written before stays unwritten
    died = subprocess.run([sys.executable, "-c", KILL_IN_A_PLAYLIST_WRITE, str(db), str(lists)], env=env)
    assert died.returncode == -signal.SIGKILL
    assert len(leftovers(lists)) == 1, leftovers(lists)
    assert {p.name: p.read_bytes() for p in lists.iterdir() if not is_temp_copy(p.name)} == {
        name: data for name, data in whole.items() if name != "Rock.m3u8"}
    (lists / ".Polka.genre-tagger-tmp.m3u8").write_text("#EXTM3U\n")  # a genre the library no longer has
    code, _, out = cli(env, "playlist", "--all", "-o", str(lists))  # the next export sweeps them away
    assert code == 0, out
    assert leftovers(lists) == [] and {p.name: p.read_bytes() for p in lists.iterdir()} == whole


def version_3_library(db, tracks: int) -> None:
    """A library as version 3 kept it (one-word status, no journal provenance or tag places), `tracks` of them."""
    import contextlib
    import sqlite3

    from desktop.store.database import open_database

    open_database(db).kw["bind"].dispose()
    with contextlib.closing(sqlite3.connect(db)) as con, con:
        con.execute("pragma foreign_keys=off")
        con.execute("drop index ix_tracks_verdict")
        con.execute("alter table tracks drop column verdict")
        con.execute("alter table tracks drop column write_state")
        con.execute("alter table tracks add column status varchar not null default 'new'")
        con.execute("create index ix_tracks_status on tracks (status)")
        for column in ("provenance_written", "old_provenance", "old_tag_genres"):
            con.execute(f"alter table journal drop column {column}")
        con.execute("drop table corrections")
        con.execute("create table corrections (id integer primary key, track_id integer not null references tracks (id)"
                    " on delete cascade, genre varchar not null, source varchar not null, created_at datetime not null)")
        con.execute("update meta set value = '3' where key = 'schema_version'")
        con.executemany("insert into tracks (id, path, folder, size, mtime_ns, audio_hash, format, duration, title, artist,"
                        " album, file_genre, corrected_genre, missing, added_at, updated_at, status) values "
                        "(?, ?, '/m', 1, 1, ?, 'flac', 1, '', '', '', '', null, 0, '2026-01-01', '2026-01-01', ?)",
                        [(n + 1, f"/m/{n}.flac", f"h{n}", ("uncertain", "written", "error")[n % 3]) for n in range(tracks)])
        con.executemany("insert into analyses (track_id, model_key, audio_hash, status, confidence, labels, probabilities,"
                        " window_starts, window_probabilities, created_at) values (?, 'm', ?, 'analysed', 0.9, '[]', '[]',"
                        " '[]', '[]', '2026-01-01')", [(n + 1, f"h{n}") for n in range(tracks)])


def test_kill_9_during_a_migration_leaves_a_library_the_next_open_converts(tmp_path):
    # Python's SQLite driver committed each ALTER TABLE of a step at once: a kill inside a step left a library with
    # half a version (the next open failed on "duplicate column name: verdict").
    import shutil
    import sqlite3

    from desktop.store.database import SCHEMA_VERSION, open_database

    tracks, rng = 20000, random.Random(11)
    template = tmp_path / "template" / "library.db"
    template.parent.mkdir()
    version_3_library(template, tracks)
    lib = tmp_path / "lib"
    code = ("import sys; from pathlib import Path; from desktop.store.database import open_database\n"
            "print('ready', flush=True); open_database(Path(sys.argv[1]))")
    versions, whole = set(), None
    for _ in range(KILLS + 1):
        shutil.rmtree(lib, ignore_errors=True)
        lib.mkdir()
        db = lib / "library.db"
        shutil.copy(template, db)
        proc = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n"
        if whole is None:  # the first runs whole, so the kills land anywhere in a conversion as long as this machine's
            started = time.monotonic()  # (a fixed 0.3 s always came before the first step on a slow, busy machine)
            proc.wait()
            proc.stdout.close()
            whole = time.monotonic() - started
            continue
        time.sleep(rng.uniform(0.0, whole))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        with sqlite3.connect(db) as con:
            versions.add(con.execute("select value from meta where key = 'schema_version'").fetchone()[0])
        sessions = open_database(db)  # converts what the child left: whole, from any version it stopped at
        with sessions() as s:
            rows = s.execute(sqlalchemy.text("select verdict, write_state, count(*) from tracks group by 1, 2 order by 1, 2")).all()
        sessions.kw["bind"].dispose()
        assert [tuple(r) for r in rows] == [("analysed", "written", len(range(1, tracks, 3))),
                                             ("error", "none", len(range(2, tracks, 3))),
                                             ("uncertain", "none", len(range(0, tracks, 3)))]
        with sqlite3.connect(db) as con:
            assert con.execute("pragma quick_check").fetchone()[0] == "ok"
            assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        ours = {p.name for p in lib.iterdir() if not p.name.endswith(("-wal", "-shm"))}
        assert "library.db.v3.backup" in ours and ours <= {"library.db", "library.db.backup"} | {
            f"library.db.v{v}.backup" for v in range(3, SCHEMA_VERSION)}
    assert len(versions) > 1  # some kills landed after a step, not only before the first
