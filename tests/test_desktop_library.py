"""End to end on a generated library with a real exported model: scan, store, write, rescan, undo."""

import os
import shutil
import threading
from pathlib import Path

import mutagen
import pytest
from sqlalchemy import func, select, update

from desktop.core.analysis import AnalysisSettings, Analyzer
from desktop.core.fingerprint import audio_hash
from desktop.core.tags import TagOptions, read_tags, write_genres
from desktop.services.library import Library
from desktop.services.settings import TaggingSettings
from desktop.services.tagging import NothingToUndo, TagService
from desktop.store import queries
from desktop.store.database import DatabaseError, is_read_only, open_database, read_only_why
from desktop.store.schema import Analysis, Correction, JournalEntry, Meta, Track
from tests.audio_files import make_track

pytestmark = pytest.mark.usefixtures("need_ffmpeg")


def count(sessions, model):
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_scan_store_write_read_back(env):
    sync, results = env.scan()
    assert sync.new == len(env.files) == len(results)
    assert {r.status for r in results} <= {"analysed", "uncertain"}
    correct = sum(r.top_genre == r.path.parent.name for r in results)
    assert correct >= len(results) - 1  # the synthetic genres are easy for the trained model
    changes = env.tagger.plan()
    assert {c.path for c in changes} == {str(p) for p in env.files.values()} and all(c.old == () for c in changes)
    hashes = {p: audio_hash(p, full=True) for p in env.files.values()}
    result = env.tagger.apply(changes, "test")
    assert len(result.written) == len(env.files) and not result.failed
    with env.sessions() as s:
        for track in s.scalars(select(Track)):
            assert read_tags(track.path).genres == (track.predicted_genre,) and track.status == "written"
    for path, digest in hashes.items():
        assert audio_hash(path, full=True) == digest  # audio byte-identical after the write
    # mutagen itself sees the values, in each format's own field
    assert mutagen.File(env.files["flac"])["GENRE"] == [read_tags(env.files["flac"]).genres[0]]
    assert mutagen.File(env.files["m4a"]).tags["\xa9gen"] == list(read_tags(env.files["m4a"]).genres)


def test_a_rescan_asks_the_database_about_no_unchanged_file(env):
    # Each file walked was looked up by its path, one query each: half of a rescan's time (5 of 10 s at 30,000 files).
    from sqlalchemy import event

    env.scan()
    moved = env.files["mp3"].with_name("moved here.mp3")
    env.files["mp3"].rename(moved)
    env.files["flac"].unlink()
    statements = []
    engine = env.sessions.kw["bind"]

    def listen(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        report = env.library.sync([env.music])
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert (report.moved, report.missing, report.new, report.unchanged) == (1, 1, 0, len(env.files) - 2)
    by_path = [x for x in statements if x.rstrip().endswith("WHERE tracks.path = ?")]  # one track looked up
    assert len(by_path) == 1, by_path  # the moved file's new name alone
    with env.sessions() as s:
        assert s.scalar(select(Track).where(Track.path == str(moved))) is not None
        assert s.scalar(select(Track.missing).where(Track.path == str(env.files["flac"]))) is True


def test_rescan_analyses_nothing_even_after_tag_writes(env, monkeypatch):
    env.scan()
    env.tagger.apply(env.tagger.plan(), "ours")
    from desktop.core.tags import write_genres

    write_genres(env.files["mp3"], ["Set By Another Program"])  # another program's edit
    calls = []
    monkeypatch.setattr(env.model, "predict", lambda w: calls.append(w) or pytest.fail("re-analysed"))
    sync, results = env.scan()
    assert results == [] and calls == []
    assert sync.retagged == 1 and sync.unchanged == len(env.files) - 1
    with env.sessions() as s:
        assert queries.track_by_path(s, str(env.files["mp3"])).file_genre == "Set By Another Program"


def test_a_library_read_by_an_older_tag_reader_has_those_files_read_again_once(env, monkeypatch):
    # An MP3's APEv2 genre (session 29) and a FLAC's leading ID3 genre (session 30) were not read before; a scan
    # skips unchanged files, so in a library scanned before, such a genre never showed, counted or taught `learn`.
    from mutagen.apev2 import APEv2

    import desktop.services.library as library

    mp3 = env.files["mp3"]
    mutagen.File(mp3).delete()
    ape = APEv2()
    ape["Genre"], ape["Artist"] = "Shoegaze", "Slowdive"
    ape.save(mp3)
    env.library.sync([env.music])
    with env.sessions() as s:  # as a reader without the APE fallback left it
        track = queries.track_by_path(s, str(mp3))
        assert track.file_genre == "Shoegaze"
        track.file_genre, track.artist = "", ""
        s.delete(s.get(Meta, library.TAGS_READ_BY))
        s.commit()
    report = env.library.sync([env.music])
    assert report.reread == 1 and report.unchanged == len(env.files)
    with env.sessions() as s:
        track = queries.track_by_path(s, str(mp3))
        assert (track.file_genre, track.artist) == ("Shoegaze", "Slowdive")
    reads = []
    monkeypatch.setattr(library, "read_tags", lambda *a, **k: reads.append(a) or pytest.fail("read again"))
    assert env.library.sync([env.music]).reread == 0 and reads == []  # once only


def test_album_artists_are_read_once_from_the_album_tracks_of_a_library_scanned_before_they_were(env, monkeypatch):
    # Schema 8 added the album artist and compilation flag; a scan skips unchanged files, so a library scanned
    # before would not have them until each file changed.
    from mutagen.id3 import TCMP, TPE2

    import desktop.services.library as library

    monkeypatch.setattr(library, "TAG_READER_VERSION", 3)  # reader 4 reads every track again (the next test)
    mp3, flac = env.files["mp3"], env.files["flac"]
    id3 = mutagen.File(mp3)
    id3.tags.add(TPE2(encoding=3, text=["DJ Shadow"]))
    id3.tags.add(TCMP(encoding=3, text=["1"]))
    id3.save()
    env.library.sync([env.music])
    with env.sessions() as s:  # as reader version 2 left it
        assert (queries.track_by_path(s, str(mp3)).album_artist, queries.track_by_path(s, str(mp3)).compilation) == (
            "DJ Shadow", True)
        s.execute(Track.__table__.update().values(album_artist="", compilation=False))
        s.execute(Track.__table__.update().where(Track.path == str(flac)).values(album=""))
        s.merge(Meta(key=library.TAGS_READ_BY, value="2"))
        s.commit()
    real, reads, stop = library.read_tags, [], threading.Event()

    def reading(path, *options):
        reads.append(str(path))
        if len(reads) == 2:
            stop.set()  # a scan cancelled while reading again: the next goes on where it stopped
        return real(path, *options)

    monkeypatch.setattr(library, "read_tags", reading)
    env.library.sync([env.music], cancel=stop)
    first = list(reads)
    report = env.library.sync([env.music])
    assert len(first) == 2 and first[1] not in reads[2:] and len(reads) == len(set(reads))  # each once
    assert report.reread + (str(mp3) in first) == 1 and report.unchanged == len(env.files)
    assert str(mp3) in reads and str(flac) not in reads  # only album tracks: no album, no album genre
    with env.sessions() as s:
        assert (queries.track_by_path(s, str(mp3)).album_artist, queries.track_by_path(s, str(mp3)).compilation) == (
            "DJ Shadow", True)
    reads.clear()
    assert env.library.sync([env.music]).reread == 0 and reads == []  # once only


def test_track_numbers_and_years_are_read_once_from_every_track_of_a_library_scanned_before_they_were(env, monkeypatch):
    # Schema 11 added the track and disc numbers, the year and iTunes' media kind; a scan skips unchanged files, so a
    # library scanned before would have none until each file changed. Every present track is read again once, with an
    # album or not.
    from mutagen.id3 import TDRC, TPOS, TRCK
    from mutagen.mp4 import MP4

    import desktop.services.library as library

    monkeypatch.setattr(library, "TAG_READER_VERSION", 4)  # reader 5 reads tagged tracks' provenance (its own test)
    mp3, flac, m4a = env.files["mp3"], env.files["flac"], env.files["m4a"]
    episode = MP4(m4a)
    episode["pcst"] = True  # an iTunes podcast episode
    episode.save()
    id3 = mutagen.File(mp3)
    id3.tags.add(TRCK(encoding=3, text=["7/12"]))
    id3.tags.add(TPOS(encoding=3, text=["2/2"]))
    id3.tags.add(TDRC(encoding=3, text=["1994-10-18"]))
    id3.save()
    vorbis = mutagen.File(flac)
    vorbis["TRACKNUMBER"], vorbis["DATE"], vorbis["ALBUM"] = "03", "2001", ""
    vorbis.save()
    env.library.sync([env.music])
    with env.sessions() as s:
        numbers = lambda path: (lambda t: (t.track_number, t.disc_number, t.year))(queries.track_by_path(s, str(path)))  # noqa: E731
        assert (numbers(mp3), numbers(flac)) == ((7, 2, 1994), (3, 0, 2001))  # a scan reads them
        assert queries.track_by_path(s, str(m4a)).media_kind == "podcast"
        # as reader version 3 left it
        s.execute(Track.__table__.update().values(track_number=0, disc_number=0, year=0, media_kind=""))
        s.merge(Meta(key=library.TAGS_READ_BY, value="3"))
        s.commit()
    report = env.library.sync([env.music])
    assert report.reread == 3 and report.unchanged == len(env.files)  # the three files that have them
    with env.sessions() as s:
        assert (numbers(mp3), numbers(flac)) == ((7, 2, 1994), (3, 0, 2001))  # the FLAC has no album, and is read too
        assert queries.track_by_path(s, str(m4a)).media_kind == "podcast"
        assert s.get(Meta, library.TAGS_READ_BY).value == str(library.TAG_READER_VERSION) == "4"
    assert env.library.sync([env.music]).reread == 0  # once only


def test_the_provenance_field_of_tagged_tracks_is_read_once_in_a_library_scanned_before_it_was_kept(env, monkeypatch):
    # Schema 13 keeps each file's GENRE_TAGGER field, so a genre another library predicted is never learned from; a
    # scan skips unchanged files, so a library scanned before would learn such genres until each file changed. Only
    # tracks with a genre are read again: the field says nothing without one.
    import desktop.services.library as library

    flac, mp3, ogg = env.files["flac"], env.files["mp3"], env.files["ogg"]
    write_genres(flac, ["Jazz"], TagOptions(write_provenance=True), provenance="Genre Tagger: Jazz 0.91")
    write_genres(mp3, [], TagOptions(write_provenance=True), provenance="Genre Tagger: corrected by hand")
    write_genres(ogg, ["Ska"])
    env.library.sync([env.music])
    with env.sessions() as s:  # a scan reads it
        assert queries.track_by_path(s, str(flac)).tag_provenance == "Genre Tagger: Jazz 0.91"
        s.execute(Track.__table__.update().values(tag_provenance=""))  # as reader 4 left it
        s.merge(Meta(key=library.TAGS_READ_BY, value="4"))
        s.commit()
    reads = []
    real_read = library.read_tags
    monkeypatch.setattr(library, "read_tags", lambda path, *a, **k: reads.append(Path(path)) or real_read(path, *a, **k))
    report = env.library.sync([env.music])
    assert report.reread == 1 and report.unchanged == len(env.files)
    assert mp3 not in reads and {flac, ogg} <= set(reads)  # the tagged tracks only
    with env.sessions() as s:
        assert queries.track_by_path(s, str(flac)).tag_provenance == "Genre Tagger: Jazz 0.91"
        assert s.get(Meta, library.TAGS_READ_BY).value == str(library.TAG_READER_VERSION) == "5"
    reads.clear()
    assert env.library.sync([env.music]).reread == 0 and reads == []  # once only


def test_a_scans_walk_says_how_far_it_is_and_so_does_reading_tags_again(env, monkeypatch):
    # A first scan of a large library hashes every file before any analysis, and an update's reading of tags
    # again reads every album track: minutes on a slow disk, with nothing but "Looking for music…" to see.
    import desktop.services.library as library

    clock = iter(range(0, 10_000, 1))  # a second between two looks: every one is reported, each with a rate
    monkeypatch.setattr(library.time, "monotonic", lambda: float(next(clock)))
    monkeypatch.setattr(library, "TAG_READER_VERSION", 3)  # reader 3 reads album tracks again (4: every track)
    heard: list[library.SyncProgress] = []
    env.library.sync([env.music], progress=heard.append)
    walked = [p for p in heard if p.total is None]
    assert [p.done for p in walked] == list(range(1, len(env.files) + 1)) and heard == walked
    assert all(p.rate > 0 for p in walked)
    with env.sessions() as s:
        s.merge(Meta(key=library.TAGS_READ_BY, value="2"))
        s.commit()
        album_tracks = s.scalar(select(func.count()).select_from(Track).where(Track.album != ""))
    heard.clear()
    env.library.sync([env.music], progress=heard.append)
    again = [p for p in heard if p.total is not None]
    assert album_tracks and [(p.done, p.total) for p in again] == [(n, album_tracks) for n in range(album_tracks)]
    assert heard[: len(again)] == again  # before the walk


def test_a_walk_is_reported_a_few_times_a_second_not_per_file(env, monkeypatch):
    import desktop.services.library as library

    now = [0.0]

    def monotonic():
        now[0] += 0.1  # ten files a second
        return now[0]

    monkeypatch.setattr(library.time, "monotonic", monotonic)
    heard = []
    env.library.sync([env.music], progress=heard.append)
    assert heard[0].done == 1 and 1 < len(heard) < len(env.files) / 2
    assert heard[0].rate == 0.0 and heard[-1].rate > 0  # no rate from the first moment


def test_files_dated_centuries_ahead_or_before_1970_are_scanned_written_and_seen_unchanged(env):
    # 2446 in nanoseconds is past SQLite's 64-bit integers: one such file (a camera's or an archive's clock) stopped
    # the whole scan with "OverflowError: Python int too large to convert to SQLite INTEGER".
    import os

    ahead, before = 15_000_000_000 * 10**9, -2_000_000_000 * 10**9  # the year 2445; 1906
    os.utime(env.files["mp3"], ns=(ahead, ahead))
    os.utime(env.files["flac"], ns=(before, before))
    assert os.stat(env.files["mp3"]).st_mtime_ns == ahead  # the file system keeps such times (ext4 does to 2446)
    sync, results = env.scan()
    assert sync.new == len(env.files) == len(results)
    result = env.tagger.apply(env.tagger.plan(), "test")
    assert len(result.written) == len(env.files) and not result.failed
    sync, results = env.scan()
    assert results == [] and sync.unchanged == len(env.files)  # as the write left them: nothing read again
    os.utime(env.files["mp3"], ns=(ahead + 10**9, ahead + 10**9))
    sync, results = env.scan()
    assert sync.retagged + sync.changed == 1 and sync.unchanged == len(env.files) - 1  # a second later is a change


def test_changed_audio_is_analysed_again(env):
    env.scan()
    make_track(env.files["flac"].parent, env.files["flac"].stem, "noise", "flac", 5.0, seed=42)
    sync, results = env.scan()
    assert sync.changed == 1 and [r.path for r in results] == [env.files["flac"]]


def test_moved_file_keeps_its_history(env):
    env.scan()
    env.tagger.correct([str(env.files["ogg"])], "Krautrock")
    new_place = env.music / "elsewhere" / "renamed.ogg"
    new_place.parent.mkdir()
    shutil.move(env.files["ogg"], new_place)
    sync, results = env.scan()
    assert sync.moved == 1 and sync.new == 0 and results == []
    with env.sessions() as s:
        track = queries.track_by_path(s, str(new_place))
        assert track.corrected_genre == "Krautrock" and len(track.analyses) == 1


def test_a_file_moved_and_copied_at_once_keeps_its_history_and_the_copy_is_new(env):
    # The walk met the copy (a name before the folder moved to) first, and gave it the correction: the file moved,
    # by its own name, came back as new, its prediction over the genre its listener had set.
    env.scan()
    env.tagger.correct([str(env.files["ogg"])], "Krautrock")
    moved, copy = env.music / "zz later" / env.files["ogg"].name, env.music / "0 copy.ogg"
    moved.parent.mkdir()
    shutil.move(env.files["ogg"], moved)
    shutil.copy(moved, copy)
    sync, results = env.scan()
    assert sync.moved == 1 and sync.new == 1 and [r.path for r in results] == [copy]
    with env.sessions() as s:
        assert queries.track_by_path(s, str(moved)).corrected_genre == "Krautrock"
        assert queries.track_by_path(s, str(copy)).corrected_genre is None


def test_a_file_not_there_during_the_analysis_is_analysed_at_the_next_scan(env, monkeypatch):
    # Its drive unplugged or its share dropped mid-scan, a file failed ("cannot read audio (System error.)") and kept
    # that as its verdict: back unchanged, it was "unchanged since it failed" at every scan after. So was every file
    # ffmpeg decodes, scanned before ffmpeg was installed.
    import desktop.core.audio as audio_module

    flac, mp4 = env.files["flac"], env.files["m4a"]
    env.library.sync([env.music])
    hidden = flac.rename(flac.with_name(".away"))  # as the walk found it, gone when its turn came
    monkeypatch.setattr(audio_module.shutil, "which", lambda _name: None)  # no ffmpeg, no ffprobe
    failed = {r.path: r.error for r in env.library.analyse(env.analyzer) if r.status == "error"}
    assert failed[flac] == "could not be read (No such file or directory); it is analysed at the next scan"
    assert failed[mp4].endswith("was not found on PATH; it is analysed at the next scan")
    hidden.rename(flac)
    monkeypatch.undo()
    sync, results = env.scan()
    assert sync.unchanged == len(env.files) and {flac, mp4} <= {r.path for r in results if r.status != "error"}


@pytest.mark.parametrize("trouble", ["tags damaged, then mended", "gone while read"])
def test_a_changed_file_that_fails_to_read_keeps_its_verdict_and_is_read_again(env, monkeypatch, trouble):
    # Kept as failed, an analysed track stayed "error" for good: once a tagger mended the tags it had damaged (the
    # same audio: "retagged"), or, back unchanged, after its share dropped while the scan read it.
    import desktop.services.library as library_module

    env.scan()
    flac = env.files["flac"]
    whole = flac.read_bytes()
    if trouble == "tags damaged, then mended":
        at = whole.index(b"Lavf")
        flac.write_bytes(whole[:at - 4] + b"\xff\xff\xff\x7f" + whole[at:])  # the comment block's vendor length
    else:
        os.utime(flac, ns=(10**18, 10**18))  # changed (another tagger), and its share drops as the scan reads it
        real_hash = library_module.audio_hash

        def drops(path):
            if path == flac:
                flac.rename(flac.with_name(".away"))
            return real_hash(path)

        monkeypatch.setattr(library_module, "audio_hash", drops)
    failed, _ = env.scan()
    assert [p.path for p in failed.problems] == [flac]
    with env.sessions() as s:
        assert queries.track_by_path(s, str(flac)).verdict == "analysed"
    if trouble == "tags damaged, then mended":
        flac.write_bytes(whole)
    else:
        monkeypatch.undo()
        flac.with_name(".away").rename(flac)
    again, results = env.scan()
    assert not again.problems and again.retagged == 1 and results == []
    with env.sessions() as s:
        track = queries.track_by_path(s, str(flac))
        assert track.verdict == "analysed" and track.error is None and track.predicted_genre


def test_a_file_whose_audio_would_not_read_is_analysed_again_once_mended(env):
    # A tagger that damaged a FLAC file's block list failed the walk ("damaged file structure"); mended to the same
    # audio, the track was only "retagged" and stayed "error" for good, its analysis never looked at again.
    env.scan()
    flac = env.files["flac"]
    whole = flac.read_bytes()
    at = whole.index(b"Lavf") - 8  # the comment block's header: its length, three bytes after its type
    flac.write_bytes(whole[:at + 1] + b"\xff\xff\xff" + whole[at + 4:])
    failed, _ = env.scan()
    assert [p.path for p in failed.problems] == [flac] and "damaged file structure" in failed.problems[0].reason
    with env.sessions() as s:
        assert queries.track_by_path(s, str(flac)).verdict == "error"
    flac.write_bytes(whole)
    again, results = env.scan()
    assert not again.problems and again.retagged == 1 and [r.path for r in results] == [flac]
    with env.sessions() as s:
        track = queries.track_by_path(s, str(flac))
        assert track.verdict in ("analysed", "uncertain") and track.error is None and track.predicted_genre
    assert env.scan()[1] == []  # analysed once, not at every scan


def test_a_known_file_the_walk_now_fails_on_is_read_again_by_every_scan_and_never_taken_as_failed_in_analysis(env):
    # A known file damaged (its signature overwritten) failed the walk and kept its old audio's hash: the next walk
    # passed it over as failed in *analysis*, so `set` took it, recorded a correction and failed at the write with
    # "cannot read tags (FLACNoHeaderError: ...)", and a version that could read it never read it again.
    env.scan()
    flac = env.files["flac"]
    whole = flac.read_bytes()
    flac.write_bytes(b"XXXX" + whole[4:])
    failed, _ = env.scan()
    assert [p.path for p in failed.problems] == [flac] and "damaged file structure" in failed.problems[0].reason
    again, _ = env.scan()
    (problem,) = again.problems
    assert problem.path == flac and not problem.analysis_only and "damaged file structure" in problem.reason
    with env.sessions() as s:
        assert queries.track_by_path(s, str(flac)).verdict == "error"
    assert [p.analysis_only for p in env.library.sync_files([flac]).problems] == [False]  # `set` refuses it
    flac.write_bytes(whole)
    mended, results = env.scan()
    assert not mended.problems and [r.path for r in results] == [flac]
    with env.sessions() as s:
        assert queries.track_by_path(s, str(flac)).predicted_genre


@pytest.mark.parametrize("kind", ["flac", "mp3", "m4a"])
def test_a_genre_set_by_a_tagger_that_keeps_the_file_time_is_seen(env, kind):
    # Picard, kid3 and Mp3tag can keep a file's modification time, and a tag fitting its padding keeps its size: the
    # scan took such a file for unchanged, and the library showed (and learned from) the genre it no longer held.
    path = env.files[kind]
    for genre in ("Rock", "Jazz"):  # the first save gives the file padding (mutagen's, as a tagger's), the next fits
        tags = mutagen.File(path, easy=True)
        tags["genre"] = genre
        tags.save()
        if genre == "Rock":
            env.library.sync([env.music])
            st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size  # the padding took it
    report = env.library.sync([env.music])
    assert report.retagged == 1 and report.unchanged == len(env.files) - 1
    with env.sessions() as s:
        assert queries.track_by_path(s, str(path)).file_genre == "Jazz"
    assert env.library.sync([env.music]).unchanged == len(env.files)  # read once, not at every scan


def test_a_file_only_touched_is_read_again_and_counted_unchanged(env, monkeypatch):
    # Its change time moved (chmod, a backup putting its access time back): read again, as its tags may have changed
    # under a kept modification time; they did not, so it is unchanged, not "retagged".
    import desktop.services.library as library_module

    env.library.sync([env.music])
    os.chmod(env.files["flac"], 0o600)
    read = []
    monkeypatch.setattr(library_module, "read_tags", lambda path, options: read.append(path) or read_tags(path, options))
    report = env.library.sync([env.music])
    assert read == [env.files["flac"]] and report.unchanged == len(env.files) and report.retagged == 0


def test_a_library_from_before_change_times_takes_them_in_without_reading_a_file(env, monkeypatch):
    # Schema 12 keeps each file's change time; a library from before has none (0): its next scan must not read every
    # file of 100,000 again, and from then on it sees a tag written under a kept time.
    import desktop.services.library as library_module

    env.library.sync([env.music])
    with env.sessions() as s:
        s.execute(update(Track).values(ctime_ns=0))  # as the migration to version 12 leaves them
        s.commit()
    monkeypatch.setattr(library_module, "audio_hash", lambda path: pytest.fail(f"{path} read again"))
    assert env.library.sync([env.music]).unchanged == len(env.files)
    with env.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Track).where(Track.ctime_ns == 0)) == 0


def test_vanished_file_is_marked_missing(env):
    env.scan()
    env.files["wav"].unlink()
    sync, _ = env.scan()
    assert sync.missing == 1
    with env.sessions() as s:
        assert all(t.path != str(env.files["wav"]) for t in queries.listed_tracks(s))


def test_scanning_one_folder_leaves_its_look_alike_siblings_alone(tmp_path):
    # Which tracks a scan of some folders may mark missing was asked with SQL LIKE: "_" matched any
    # character and ASCII case was ignored, so scanning Vol_1 or ABBA hid the tracks of Vol-1 and Abba.
    music = tmp_path / "music"
    for n, folder in enumerate(("Vol_1", "Vol-1", "ABBA", "Abba", "50%", "50x")):
        make_track(music / folder, f"song {n}", "tones", "wav", 1.0, seed=n)
    library = Library(open_database(tmp_path / "db.sqlite"))
    assert library.sync([music]).new == 6
    report = library.sync([music / "Vol_1", music / "ABBA", music / "50%"])
    assert report.missing == 0
    with library.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Track).where(Track.missing.is_(True))) == 0
    (music / "ABBA" / "song 2.wav").unlink()
    assert library.sync([music / "ABBA"]).missing == 1  # its own vanished file still is


def test_setting_a_folder_aside_spares_tracks_under_a_folder_kept(tmp_path):
    music = tmp_path / "music"
    for n, folder in enumerate(("Jazz", "Jazz/Live", "Rock")):
        make_track(music / folder, f"song {n}", "tones", "wav", 1.0, seed=n)
    library = Library(open_database(tmp_path / "db.sqlite"))
    library.sync([music])
    assert library.set_aside([music / "Jazz/Live"], kept=[music]) == 0  # still in the library through music
    assert library.set_aside([music / "Jazz"], kept=[music / "Rock"]) == 2
    with library.sessions() as s:
        assert {t.path for t in s.scalars(select(Track).where(Track.missing.is_(False)))} == {str(music / "Rock" / "song 2.wav")}


def test_a_folder_left_out_leaves_the_library_and_taken_back_returns_with_its_corrections(tmp_path):
    from desktop.services.library import NotAFolder

    music = tmp_path / "music"
    song = make_track(music / "Rock", "song", "tones", "wav", 1.0, seed=1)
    books = [make_track(music / "Audiobooks" / "Book", f"chapter {n}", "noise", "wav", 1.0, seed=n) for n in (2, 3)]
    library = Library(open_database(tmp_path / "db.sqlite"))
    library.sync([music])
    TagService(library.sessions, TaggingSettings()).correct([str(books[0])], "Spoken Word")

    def present():
        with library.sessions() as s:
            return {t.path for t in s.scalars(select(Track).where(Track.missing.is_(False)))}

    change = library.leave_out(music / "Audiobooks")
    assert (change.left_out, change.tracks) == ([str(music / "Audiobooks")], 2) and present() == {str(song)}
    assert library.leave_out(music / "Audiobooks" / "Book").left_out == []  # inside one left out: nothing more
    report = library.sync([music])
    assert (report.found, report.missing, present()) == (1, 0, {str(song)})  # not walked: not found, not counted
    problems = []
    library.sync([books[1]], on_problem=problems.append)  # named on its own: said, not scanned
    assert [p.path for p in problems] == [books[1]] and "left out of the library" in problems[0].reason
    library.sync([music / "Audiobooks"], on_problem=problems.append)
    assert library.folders() == [str(music)]  # a folder left out is not remembered as a library folder
    assert library.take_back(music / "Audiobooks") and not library.take_back(music / "Audiobooks")
    assert library.left_out() == [] and library.sync([music]).returned == 2 and present() == {str(song), *map(str, books)}
    with library.sessions() as s:
        assert queries.track_by_path(s, str(books[0])).corrected_genre == "Spoken Word"
    with pytest.raises(NotAFolder, match="no such folder"):
        library.leave_out(music / "Podcasts")
    with pytest.raises(NotAFolder, match="not a folder"):
        library.leave_out(song)
    assert library.left_out() == [] and present() == {str(song), *map(str, books)}
    change = library.leave_out(music)  # a whole library folder: it is no longer one, until taken back
    assert change.music_folders_out == [str(music)] and library.folders() == [] and present() == set()
    assert library.take_back(music).music_folders_back == [str(music)] and library.folders() == [str(music)]
    assert library.sync(library.folders()).returned == 3 and present() == {str(song), *map(str, books)}


def test_a_scan_sets_the_folders_left_out_passing_over_one_deleted_since_it_was_chosen(env, tmp_path):
    # The window hands Settings' list to its next scan: a folder deleted meanwhile failed every scan after it.
    from desktop.services.scanning import scan_library

    gone = env.music / "Podcasts"
    report = scan_library(env.sessions, [env.music], TaggingSettings(), lambda: env.analyzer,
                          left_out=[env.music / "noise", gone])
    assert not report.sync.problems and env.library.left_out() == [str(env.music / "noise")]
    assert report.set_aside == 0 and report.found == len(env.files) - sum(p.parent.name == "noise" for p in env.files.values())


def test_the_library_remembers_the_folders_its_scans_walked(tmp_path):
    # The window and `scan` with no folder take them from here: a library scanned in a shell was asked for again.
    music, other = tmp_path / "music", tmp_path / "other"
    for n, folder in enumerate((music / "Jazz", music / "Rock", other)):
        make_track(folder, f"song {n}", "tones", "wav", 1.0, seed=n)
    library = Library(open_database(tmp_path / "db.sqlite"))
    assert library.folders() == []
    library.sync([music / "Jazz", other / "song 2.wav"])  # a file named on its own is not a folder
    assert library.folders() == [str(music / "Jazz")]
    library.sync([music])
    library.sync([music / "Rock", other])  # inside a folder already walked: nothing more to walk
    assert library.folders() == [str(music), str(other)]
    link = tmp_path / "link to music"
    link.symlink_to(music, target_is_directory=True)
    library.sync([link])  # the tracks now lie under this name: the folder is remembered once, by it
    assert library.folders() == [str(link), str(other)]
    library.set_aside([other], kept=[link])
    assert library.folders() == [str(link)]
    library.sync([music])
    shutil.rmtree(music / "Rock")
    link.unlink()
    assert library.folders() == [str(music)]  # a folder no longer there is not offered
    music.rename(tmp_path / "gone")
    assert library.folders() == []
    with library.sessions() as s:
        s.merge(Meta(key="library_folders", value="{not json"))
        s.commit()
    assert library.folders() == []  # only a convenience: an unreadable record starts again
    library.sync([other])
    assert library.folders() == [str(other)]
    library.sync([tmp_path])
    library.set_aside([tmp_path], kept=[other])  # the record held only the folder around it
    assert library.folders() == [str(other)]


def test_a_folder_back_from_missing_is_counted_as_back_and_keeps_its_corrections(env, tmp_path):
    # A folder moved away for one scan: its tracks go missing, then come back as they were.
    env.scan()
    env.tagger.correct([env.files["flac"]], "Krautrock", source="test", write=False)
    folder, away = env.files["flac"].parent, tmp_path / "away"
    inside = sum(p.parent == folder for p in env.files.values())
    folder.rename(away)
    assert env.scan()[0].missing == inside
    away.rename(folder)
    sync, analysed = env.scan()
    assert (sync.returned, sync.retagged, sync.new, sync.changed) == (inside, 0, 0, 0) and analysed == []
    with env.sessions() as s:
        assert queries.track_by_path(s, str(env.files["flac"])).genre == "Krautrock"


def test_a_music_folder_gone_or_empty_is_a_drive_unplugged_and_its_tracks_stay(env, tmp_path):
    # A drive not connected when the window opened (it scans again at its start) took every track of it out of view:
    # an empty library until the drive came back, and learning saw none of their genres.
    env.scan()
    env.tagger.correct([env.files["flac"]], "Krautrock", source="test", write=False)
    away = tmp_path / "away"
    env.music.rename(away)

    def in_view():
        with env.sessions() as s:
            return s.scalar(select(func.count()).select_from(Track).where(Track.missing.is_(False)))

    for state in ("gone", "its mount point left empty"):
        if state != "gone":
            env.music.mkdir()
        sync, analysed = env.scan()
        assert (sync.unplugged, sync.missing, sync.found, analysed) == ([str(env.music)], 0, 0, []), state
        assert in_view() == len(env.files), state
    env.music.rmdir()
    away.rename(env.music)
    sync, _ = env.scan()
    assert (sync.unchanged, sync.unplugged, sync.missing) == (len(env.files), [], 0)
    with env.sessions() as s:
        assert queries.track_by_path(s, str(env.files["flac"])).genre == "Krautrock"
    for song in env.files.values():  # its music deleted, a cover left: the tracks go
        song.unlink()
    (env.music / "cover.jpg").write_bytes(b"\xff\xd8")
    assert (env.scan()[0].missing, in_view()) == (len(env.files), 0)


def test_a_scan_analyses_nothing_on_a_drive_not_connected(env, tmp_path):
    # Found by a scan that was stopped before it analysed them (or by `sync` alone), its tracks were each a problem
    # at the next scan with the drive away: "could not be read (No such file or directory)".
    from desktop.services.scanning import UNPLUGGED, scan_library
    from desktop.services.settings import TaggingSettings

    env.library.sync([env.music])
    env.music.rename(tmp_path / "away")
    report = scan_library(env.sessions, [env.music], TaggingSettings(), lambda: env.analyzer)
    assert (report.results, report.problems) == ([], [(str(env.music), UNPLUGGED)])
    (tmp_path / "away").rename(env.music)
    report = scan_library(env.sessions, [env.music], TaggingSettings(), lambda: env.analyzer)
    assert (report.analysed, report.problems) == (len(env.files), [])


def test_tracks_the_walk_could_not_look_at_stay_as_they_are(env, tmp_path, unreadable_folders):
    # A folder linked from a share not mounted, or unreadable for a moment: every track in it went missing (out of
    # view, and out of learning), as if deleted.
    nas = tmp_path / "nas"
    shutil.move(env.music / "beats", nas)
    (env.music / "beats").symlink_to(nas)
    song = next(p for p in env.files.values() if p.parent.name == "beats")
    env.scan()
    env.tagger.correct([song], "Krautrock", source="test", write=False)
    nas.rename(tmp_path / "unmounted")
    sync, _ = env.scan()
    assert (sync.missing, [p.path.name for p in sync.problems if p.unwalked]) == (0, ["beats"])
    unreadable_folders.add("noise")
    sync, _ = env.scan()
    assert (sync.missing, sorted(p.path.name for p in sync.problems if p.unwalked)) == (0, ["beats", "noise"])
    unreadable_folders.clear()
    (tmp_path / "unmounted").rename(nas)
    sync, _ = env.scan()
    assert (sync.missing, sync.unchanged, sync.problems) == (0, len(env.files), [])
    with env.sessions() as s:
        assert queries.track_by_path(s, str(song)).genre == "Krautrock"


def test_a_symlinked_folder_scanned_by_either_name_holds_each_track_once(env, tmp_path):
    # ~/Music as a link to /mnt/nas/Music, scanned by one name in the window and by the other in a shell:
    # every track was in the library twice (counts, learning and playlists doubled).
    link = tmp_path / "link to music"
    link.symlink_to(env.music, target_is_directory=True)
    env.library.sync([link])
    env.tagger.correct([link / env.files["flac"].relative_to(env.music)], "Krautrock", source="test", write=False)
    sync = env.library.sync([env.music])
    assert (sync.new, sync.moved, sync.missing) == (0, len(env.files), 0)
    with env.sessions() as s:
        paths = [t.path for t in s.scalars(select(Track))]
        assert sorted(paths) == sorted(str(p) for p in env.files.values())
        assert queries.track_by_path(s, str(env.files["flac"])).corrected_genre == "Krautrock"
    again = env.library.sync([env.music])
    assert (again.unchanged, again.moved) == (len(env.files), 0)
    with env.sessions() as s:  # `show` by the other name finds the track (it said "not in the library")
        by_link = str(link / env.files["flac"].relative_to(env.music))
        assert queries.track_by_path(s, by_link) is None
        assert queries.track_of_file(s, by_link).path == str(env.files["flac"])
        assert queries.track_of_file(s, str(link / "no such file.flac")) is None


def test_a_library_that_holds_tracks_twice_by_a_symlinks_name_makes_each_one_with_both_histories(env, tmp_path, monkeypatch):
    # Libraries scanned by both names of a symlinked folder before scans told them apart kept every track twice
    # (counts, learning and playlists doubled); scanning by one name now made no new twins but kept the old ones.
    link = tmp_path / "link to music"
    link.symlink_to(env.music, target_is_directory=True)
    by_link = {ext: link / path.relative_to(env.music) for ext, path in env.files.items()}
    with monkeypatch.context() as old:
        old.setattr(Library, "_find_moved", staticmethod(lambda *args: None))  # how those libraries were made
        old.setattr(Library, "_merge_twins", staticmethod(lambda *args: 0))
        env.library.sync([link])
        env.library.analyse(env.analyzer)
        env.tagger.correct([by_link["flac"]], "Krautrock", source="test")  # journalled under the link's name
        env.library.sync([env.music])
        env.library.analyse(env.analyzer)
        env.tagger.correct([env.files["mp3"]], "Ska", source="test", write=False)
        env.tagger.correct([by_link["mp3"]], "Dub", source="test", write=False)  # the newer word
    assert count(env.sessions, Track) == 2 * len(env.files)
    with env.sessions() as s:
        twin_ids = {t.path: t.id for t in s.scalars(select(Track))}
    sync = env.library.sync([env.music])
    assert (sync.merged, sync.new, sync.missing, sync.moved) == (len(env.files), 0, 0, 0)
    with env.sessions() as s:
        tracks = {t.path: t for t in s.scalars(select(Track))}
        assert sorted(tracks) == sorted(str(p) for p in env.files.values())
        assert {t.id for t in tracks.values()} == {twin_ids[str(p)] for p in env.files.values()}  # the walked rows kept
        flac, mp3 = tracks[str(env.files["flac"])], tracks[str(env.files["mp3"])]
        assert (flac.corrected_genre, flac.genre, flac.write_state) == ("Krautrock", "Krautrock", "written")
        assert (mp3.corrected_genre, mp3.genre) == ("Dub", "Dub")
        assert s.scalar(select(func.count()).select_from(Correction).where(Correction.track_id == mp3.id)) == 2
        assert {e.track_id for e in s.scalars(select(JournalEntry))} == {flac.id}
        assert all(len(t.analyses) == 1 for t in tracks.values())
    assert count(env.sessions, Analysis) == len(env.files)
    assert env.library.analyse(env.analyzer) == []  # nothing to compute again
    undone = env.tagger.undo()
    assert [p for p in undone.restored] == [str(by_link["flac"])] and not undone.refused
    assert read_tags(env.files["flac"]).genres == ()
    with env.sessions() as s:
        assert queries.track_by_path(s, str(env.files["flac"])).corrected_genre is None  # taken back with its write
    assert env.library.sync([env.music]).merged == 0


def test_a_file_by_two_names_in_the_folders_walked_is_one_track(env):
    # A symlink to a song in a "Best of" folder of links, or a hard link: one file, and it was two tracks (counts,
    # learning and playlists doubled; a write went into the one file twice, or was refused for each name).
    best = env.music / "Best of"
    best.mkdir()
    (best / "favourite.flac").symlink_to(env.files["flac"])
    os.link(env.files["mp3"], best / "again.mp3")
    sync = env.library.sync([env.music])
    assert (sync.found, sync.new) == (len(env.files), len(env.files))
    with env.sessions() as s:
        paths = [t.path for t in s.scalars(select(Track))]
    assert len(paths) == len(env.files) and str(env.files["flac"]) in paths  # by its own name, not the link's
    assert {(os.stat(p).st_dev, os.stat(p).st_ino) for p in paths} == {
        (os.stat(p).st_dev, os.stat(p).st_ino) for p in env.files.values()}


def test_a_symlink_to_a_song_is_its_track_for_show_set_and_forget(env):
    # `show` on a "Best of" link to a song said "not in the library"; `set` on it renamed the song's track to the
    # link's name, and the next scan put it back.
    env.scan()
    link = env.music.parent / "favourite.flac"  # a link outside the folders scanned
    link.symlink_to(env.files["flac"])
    with env.sessions() as s:
        assert queries.track_of_file(s, str(link)).path == str(env.files["flac"])
    assert not env.library.sync_files([link]).problems  # as `set` does first
    env.tagger.correct([str(link)], "Krautrock", source="test")
    with env.sessions() as s:
        assert queries.track_by_path(s, str(link)) is None and count(env.sessions, Track) == len(env.files)
        assert queries.track_by_path(s, str(env.files["flac"])).corrected_genre == "Krautrock"
    assert read_tags(env.files["flac"]).genres == ("Krautrock",)
    assert env.tagger.forget_corrections([str(link)]) == ([str(env.files["flac"])], [])  # the track, by its name


def test_a_library_that_holds_a_file_twice_by_two_names_makes_it_one_with_both_histories(env):
    # Made by scans before they told files apart by inode: the second name was left in the library (and, passed over
    # by the walk from now on, would have shown as missing for good).
    env.scan()
    link = env.music / "favourite.flac"
    link.symlink_to(env.files["flac"])
    with env.sessions() as s:  # the twin such a scan made
        real = queries.track_by_path(s, str(env.files["flac"]))
        s.add(Track(path=str(link), folder=str(env.music), size=real.size, mtime_ns=real.mtime_ns,
                    audio_hash=real.audio_hash, format="flac"))
        s.commit()
    env.tagger.correct([link], "Krautrock", source="test", write=False)
    sync = env.library.sync([env.music])
    assert (sync.merged, sync.missing, sync.new) == (1, 0, 0)
    with env.sessions() as s:
        tracks = list(s.scalars(select(Track)))
        assert len(tracks) == len(env.files) and not any(t.missing for t in tracks)
        kept = queries.track_by_path(s, str(env.files["flac"]))  # by its own name, not the link's met first
        assert kept.corrected_genre == "Krautrock"


def test_fill_replaces_a_placeholder_a_ripper_left_and_undo_brings_it_back(env):
    # "Unknown", "Other", "(255)": files that say no genre were never filled.
    from desktop.core.tags import write_genres

    placeholders = {"mp3": ["Unknown"], "flac": ["Other"], "ogg": ["(255)"], "m4a": ["Jazz"]}
    for ext, value in placeholders.items():
        write_genres(env.files[ext], value)
    env.scan()
    planned = {c.path for c in env.tagger.plan(policy="fill")}
    assert {str(env.files[e]) for e in ("mp3", "flac", "ogg")} <= planned and str(env.files["m4a"]) not in planned
    env.tagger.apply(env.tagger.plan(policy="fill"), "fill")
    assert read_tags(env.files["mp3"]).genres not in ((), ("Unknown",))
    env.tagger.undo()
    assert [read_tags(env.files[e]).raw_genres for e in ("mp3", "flac", "ogg")] == [("Unknown",), ("Other",), ("(255)",)]


def test_fill_keeps_a_genre_written_in_any_script(env):
    # "Поп", "ロック" and "روك" were taken for placeholders (no a-z in them): `fill` wrote the prediction over them.
    from desktop.core.tags import write_genres

    theirs = {"mp3": ["Поп"], "flac": ["ロック"], "ogg": ["روك"]}
    for ext, value in theirs.items():
        write_genres(env.files[ext], value)
    env.scan()
    assert not {str(env.files[e]) for e in theirs} & {c.path for c in env.tagger.plan(policy="fill")}


def test_fill_writes_over_a_genre_this_library_wrote_once_the_model_sees_otherwise_never_over_the_listeners(env):
    # `scan --write` with the shipped model, then `learn`: the README's "untagged files get your genres" failed for
    # every file written before, which held the shipped model's guess for good under fill while the library showed
    # the learned genre.
    from desktop.core.tags import write_genres

    write_genres(env.files["mp3"], ["Bebop"])  # the listener's
    env.scan()
    first = env.tagger.apply(env.tagger.plan(policy="fill"), "fill")
    ours = str(env.files["flac"])
    assert ours in {c.path for c in first.written} and str(env.files["mp3"]) not in {c.path for c in first.written}
    wrote = read_tags(ours).genres
    assert env.tagger.plan(policy="fill") == []  # the model sees as it did: nothing to write
    with env.sessions() as s:  # a model learned since sees them otherwise, surely
        s.execute(update(Track).where(Track.path.in_([ours, str(env.files["mp3"])]))
                  .values(predicted_genre="Polka", confidence=0.97, genre="Polka"))
        s.commit()
    planned = {c.path: c for c in env.tagger.plan(policy="fill")}
    assert list(planned) == [ours] and planned[ours].old == wrote and planned[ours].new == ("Polka",)
    second = env.tagger.apply(list(planned.values()), "fill again")
    assert [c.path for c in second.written] == [ours] and read_tags(ours).genres == ("Polka",)
    assert read_tags(env.files["mp3"]).genres == ("Bebop",)
    env.tagger.undo()  # the newest batch: our first guess again
    assert read_tags(ours).genres == wrote


def test_fill_writes_the_prediction_over_a_genre_set_by_hand_and_forgotten_since(env):
    # Forgetting a genre set by hand shows the prediction again and lets the track be tagged automatically; the
    # file kept the forgotten genre for good under fill, as a genre of the listener's.
    env.scan()
    flac = str(env.files["flac"])
    env.tagger.correct([flac], "Polka")
    assert read_tags(flac).genres == ("Polka",)
    assert flac not in {c.path for c in env.tagger.plan(policy="fill")}  # set by hand: never filled over
    env.tagger.forget_corrections([flac])
    planned = {c.path: c for c in env.tagger.plan(policy="fill")}
    with env.sessions() as s:
        predicted = queries.track_by_path(s, flac).predicted_genre
    assert planned[flac].old == ("Polka",) and planned[flac].new == (predicted,)


def test_fill_policy_keeps_existing_genres_and_replace_overwrites(env):
    from desktop.core.tags import write_genres

    write_genres(env.files["mp3"], ["Already Tagged"])
    env.scan()
    assert str(env.files["mp3"]) not in {c.path for c in env.tagger.plan(policy="fill")}
    replace = {c.path: c for c in env.tagger.plan(policy="replace")}
    assert replace[str(env.files["mp3"])].old == ("Already Tagged",)
    assert env.tagger.plan(policy="never") == []


def test_undo_restores_the_old_genres(env):
    from desktop.core.tags import write_genres

    write_genres(env.files["mp3"], ["Old Genre"])
    env.scan()
    env.tagger.apply(env.tagger.plan(policy="replace"), "replace all")
    assert read_tags(env.files["mp3"]).genres != ("Old Genre",)
    result = env.tagger.undo()
    assert not result.refused and len(result.restored) == len(env.files)
    assert read_tags(env.files["mp3"]).genres == ("Old Genre",)
    assert read_tags(env.files["flac"]).genres == ()
    with pytest.raises(NothingToUndo):
        env.tagger.undo()


def test_undo_refuses_a_file_changed_since(env):
    from desktop.core.tags import write_genres

    env.scan()
    env.tagger.apply(env.tagger.plan(), "ours")
    write_genres(env.files["opus"], ["Edited Later"])
    result = env.tagger.undo()
    assert [p for p, _ in result.refused] == [str(env.files["opus"])]
    # Not "undo the later writes first": a tagger's edit is none of ours to undo.
    assert result.refused[0][1] == ("file changed since the write (its genre is now Edited Later), not by Genre Tagger; "
                                    "not undone, so that change is kept")
    assert read_tags(env.files["opus"]).genres == ("Edited Later",)
    assert read_tags(env.files["flac"]).genres == ()


def test_undo_of_an_older_batch_names_the_later_write_to_undo_first(env):
    env.scan()
    first = env.tagger.apply(env.tagger.plan(), "ours")
    newest = env.tagger.correct([env.files["opus"]], "Krautrock", source="test").batch_id
    later = env.tagger.undo(batch_id=first.batch_id)
    assert [p for p, _ in later.refused] == [str(env.files["opus"])]
    assert later.refused[0][1] == (f"file changed since the write (its genre is now Krautrock) by a later write "
                                   f"(batch {newest}); not undone, undo that first")
    env.tagger.undo()  # the correction's write, then the rest of the first batch
    assert not env.tagger.undo(batch_id=first.batch_id).refused


def test_journal_holds_the_old_value_before_the_write(env, monkeypatch):
    import desktop.services.tagging as tagging
    from desktop.core import tags as tags_mod

    env.scan()
    seen = []

    def spy(path, genres, options, provenance=None, **kwargs):
        with env.sessions() as s:
            seen.append(s.scalar(select(JournalEntry).where(JournalEntry.path == str(path))).state)
        return tags_mod.write_genres(path, genres, options, provenance, **kwargs)

    monkeypatch.setattr(tagging, "write_genres", spy)
    env.tagger.apply(env.tagger.plan()[:2], "spy")
    assert seen == ["pending", "pending"]


def test_corrections_are_protected_from_automatic_tagging(env):
    env.scan()
    result = env.tagger.correct([str(env.files["aiff"])], "Chanson")
    assert [c.new for c in result.written] == [("Chanson",)]
    assert read_tags(env.files["aiff"]).genres == ("Chanson",)
    replace = TagService(env.sessions, TaggingSettings(policy="replace"))
    assert str(env.files["aiff"]) not in {c.path for c in replace.plan()}
    replace.apply(replace.plan(), "auto")
    assert read_tags(env.files["aiff"]).genres == ("Chanson",)
    with env.sessions() as s:
        assert queries.track_by_path(s, str(env.files["aiff"])).genre == "Chanson"


def test_read_only_file_is_reported_in_the_batch(env):
    import os

    env.scan()
    os.chmod(env.files["flac"], 0o444)
    result = env.tagger.apply(env.tagger.plan(), "ro")
    assert [(p, "read-only" in r) for p, r in result.failed] == [(str(env.files["flac"]), True)]
    assert len(result.written) == len(env.files) - 1
    with env.sessions() as s:
        entry = s.scalar(select(JournalEntry).where(JournalEntry.path == str(env.files["flac"])))
        assert entry.state == "failed"


def test_killed_scan_resumes(env):
    env.library.sync([env.music])
    crash_after = 3

    class Killed(Exception):
        pass

    def progress(p):
        if p.done == crash_after:
            raise Killed  # the process dies here: nothing after this point runs

    with pytest.raises(Killed):
        env.library.analyse(env.analyzer, progress)
    assert count(env.sessions, Analysis) == crash_after  # committed as they came
    fresh = Library(open_database(env.sessions.kw["bind"].url.database))
    results = fresh.analyse(Analyzer(env.model))
    assert len(results) == len(env.files) - crash_after and count(env.sessions, Analysis) == len(env.files)


def test_cancel_stops_cleanly(env):
    env.library.sync([env.music])
    cancel = threading.Event()
    one_at_a_time = Analyzer(env.model, AnalysisSettings(batch_windows=1))
    done = env.library.analyse(one_at_a_time, lambda p: cancel.set(), cancel)
    assert len(done) == 1  # results already computed are kept; no new track is started
    assert len(env.library.pending_analysis(env.model.info.key)) == len(env.files) - len(done)


def test_queries_for_the_gui(env):
    from desktop.core.tags import write_genres

    write_genres(env.files["mp3"], ["Disagreeing Tag"])
    env.scan()
    with env.sessions() as s:
        counts = dict(queries.genre_counts(s))
        assert sum(counts.values()) == len(env.files)
        review = [t.path for t in queries.needs_review(s)]
        assert str(env.files["mp3"]) in review
        every = queries.listed_tracks(s)
        assert [t.path for t in every if queries.search_matches('"Track 3"')(t)] == [str(env.files["opus"])]
        assert [t.path for t in every if queries.search_matches('"tRACK 3"')(t)] == [str(env.files["opus"])]
        for wildcard in ("%", "T_ack 3", "Track%3"):  # text, not SQL patterns: "T_ack" matched every "Track"
            assert not any(map(queries.search_matches(wildcard), every))


def test_database_newer_than_the_program(tmp_path):
    sessions = open_database(tmp_path / "db.sqlite")
    with sessions() as s:
        s.merge(Meta(key="schema_version", value="99"))
        s.commit()
    with pytest.raises(DatabaseError, match=r"db\.sqlite: database schema version 99 is newer"):
        open_database(tmp_path / "db.sqlite")


def test_corrupt_database_file(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(DatabaseError, match=r"junk\.db: cannot open database"):
        open_database(path)


def test_a_library_on_a_full_disk_is_read_and_never_called_damaged(tmp_path, monkeypatch):
    # "cannot open database (OperationalError: disk I/O error); a copy from … is at …: put it in the library's place"
    # was said of a library whose disk was full (SQLite could not make its -shm file): following it undid every change
    # since the copy, and `list` could not read the library either.
    import shutil
    import sqlite3

    import desktop.store.database as database

    path = tmp_path / "library.db"
    writer = open_database(path)  # a library, and its copy
    with writer() as s:
        s.add(Track(path="/m/1.flac", folder="/m", size=1, mtime_ns=1, audio_hash="h1", format="flac", file_genre="Jazz"))
        s.commit()
    writer.kw["bind"].dispose()

    def no_shm(*_args):
        raise sqlite3.OperationalError("disk I/O error")

    room = {"free": 12 * 1024}
    monkeypatch.setattr(database, "migrate", no_shm)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(10**9, 10**9, room["free"]))
    with pytest.raises(DatabaseError) as refused:
        open_database(path)
    assert refused.value.reason == ("cannot open database (OperationalError: disk I/O error): the disk holding it is "
                                    "full (12 KB free); make room on it and try again")
    reader = open_database(path, read_only=True)  # what only reads (list, show, the window) reads it as it is
    assert is_read_only(reader) and read_only_why(reader)[0] == "while its disk is full (12 KB free)"
    with reader() as s:
        assert [t.file_genre for t in s.query(Track)] == ["Jazz"]
    room["free"] = 10**9  # an I/O error with room to spare: the disk itself failing, the copy offered as before
    with pytest.raises(DatabaseError, match=r"\(OperationalError: disk I/O error\); a copy from .*/library\.db\.backup"):
        open_database(path, read_only=True)


def test_wal_mode(tmp_path):
    sessions = open_database(tmp_path / "w.db")
    with sessions() as s:
        assert s.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


class StopAfter:
    """A cancel flag that sets itself once `n` files are done (as a listener's Stop would, from another thread)."""

    def __init__(self, n: int):
        self.n, self.seen = n, []

    def report(self, done: int, total: int) -> None:
        self.seen.append((done, total))

    def is_set(self) -> bool:
        return len(self.seen) >= self.n


def test_a_write_reports_each_file_and_stops_when_asked_keeping_what_it_wrote(env):
    # Writes had neither progress nor a way to stop: 20,000 files ran to the end in silence, and quitting waited.
    env.scan()
    changes = env.tagger.plan(policy="replace")
    assert len(changes) >= 4
    stop = StopAfter(2)
    result = env.tagger.apply(changes, "big write", progress=stop.report, cancel=stop)
    assert stop.seen == [(1, len(changes)), (2, len(changes))]
    assert len(result.written) == 2 and [c.path for c in result.left] == [c.path for c in changes[2:]]
    assert [read_tags(c.path).genres for c in changes[2:]] == [c.old for c in changes[2:]]  # untouched
    undone = env.tagger.undo()
    assert undone.batch_id == result.batch_id and len(undone.restored) == 2  # what was written is undoable
    stopped_at_once = env.tagger.apply(changes, "stopped before it began", cancel=StopAfter(0))
    assert stopped_at_once.batch_id is None and not stopped_at_once.written
    assert [b.batch.description for b in env.tagger.batches()] == ["big write"]  # no empty batch kept


def test_a_correction_stopped_midway_sets_only_the_files_it_wrote(env):
    env.scan()
    paths = sorted(str(p) for p in env.files.values())
    stop = StopAfter(2)
    result = env.tagger.correct(paths, "Zydeco", progress=stop.report, cancel=stop)
    written = {c.path for c in result.written}
    assert len(written) == 2 and len(result.left) == len(paths) - 2
    with env.sessions() as s:
        for path in paths:
            track = queries.track_by_path(s, path)
            assert (track.corrected_genre == "Zydeco") == (path in written)  # the rest are not set by hand either
            assert (read_tags(path).genres == ("Zydeco",)) == (path in written)


def test_an_undo_stopped_midway_goes_on_at_the_next_undo(env):
    env.scan()
    paths = sorted(str(p) for p in env.files.values())
    env.tagger.correct(paths, "Zydeco")
    stop = StopAfter(2)
    first = env.tagger.undo(progress=stop.report, cancel=stop)
    assert len(first.restored) == 2 and first.left == len(paths) - 2 and not first.complete
    assert env.tagger.batches()[0].state() == f"partly undone (2 of {len(paths)} files)"  # as the history says
    second = env.tagger.undo()
    assert second.batch_id == first.batch_id and len(second.restored) == len(paths) - 2 and second.complete
    assert all(read_tags(p).genres != ("Zydeco",) for p in paths)
    with env.sessions() as s:
        assert all(queries.track_by_path(s, p).corrected_genre is None for p in paths)


def test_an_mp4_cut_short_inside_its_index_is_named_and_the_scan_goes_on(tmp_path):
    # The last few KB of a download (ffmpeg and iTunes put the index last): mutagen's "truncated data" (an AtomError,
    # which is no MutagenError) escaped the audio hash and stopped the whole scan ("internal error in scan", exit 2).
    import re

    from desktop.core.errors import TagReadError

    music = tmp_path / "music"
    whole = make_track(music, "whole", "tones", "m4a", 3.0)
    cut = music / "cut.m4a"
    cut.write_bytes(whole.read_bytes()[:-100])
    report = Library(open_database(tmp_path / "db.sqlite")).sync([music])
    said = "moov atom cut short: its audio's index is incomplete, as in a copy or download that did not finish"
    assert report.new == 1
    assert [(p.path.name, p.reason) for p in report.problems] == [("cut.m4a", f"damaged file structure ({said})")]
    with pytest.raises(TagReadError, match=re.escape(f"cut.m4a: cannot read tags ({said})")):
        read_tags(cut)


def test_a_scan_analyses_files_cut_short_and_names_an_mp4_cut_before_its_index(tmp_path, exported_model):
    # A copy or download that did not finish: the audio hash stopped at an Ogg file's cut last page ("damaged file
    # structure (unable to read full data)") and past an MP4 file's end, so none was ever analysed. An MP4 file with
    # its index in front (made for streaming) decodes in part; one with its index after the audio cannot be read.
    import subprocess

    from desktop.core.model import GenreModel

    music = tmp_path / "music"
    music.mkdir()
    wholes = {ext: make_track(tmp_path / "whole", "song", "tones", ext, 10.0, seed=3) for ext in ("ogg", "opus", "flac.oga", "m4a")}
    wholes["streamed.m4a"] = tmp_path / "whole" / "streamed.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(wholes["m4a"]), "-c", "copy", "-movflags", "+faststart",
                    str(wholes["streamed.m4a"])], check=True)
    for ext, whole in wholes.items():
        (music / f"cut.{ext}").write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 5])
    library = Library(open_database(tmp_path / "db.sqlite"))
    report = library.sync([music])
    assert report.new == 4 and [(p.path.name, p.reason) for p in report.problems] == [
        ("cut.m4a", "cannot read tags (no moov atom: its audio's index is missing, as in a copy or download that did not "
                    "finish)")]
    results = {r.path.name: r for r in library.analyse(Analyzer(GenreModel(exported_model, device="cpu")))}
    assert sorted(results) == ["cut.flac.oga", "cut.ogg", "cut.opus", "cut.streamed.m4a"]
    for r in results.values():
        assert r.top_genre and r.note.startswith("its stream stops after " if "m4a" not in r.path.name else "only the first "), r.path.name


def test_many_paths_are_looked_up_together_each_as_given(tmp_path, monkeypatch):
    # A correction, a forget or a keep of many tracks looked each path up in a query of its own: 19 s for 20,000.
    from sqlalchemy import insert

    from desktop.services.tagging import tracks_of

    sessions = open_database(tmp_path / "lib.db")
    music = tmp_path / "m"
    with sessions() as s:
        s.execute(insert(Track), [{"id": i + 1, "path": str(music / f"{i}.flac"), "folder": str(music), "size": 1,
                                   "mtime_ns": 1, "audio_hash": f"h{i}", "format": "flac"} for i in range(1200)])
        s.commit()
    monkeypatch.chdir(tmp_path)
    paths = [f"m/{i}.flac" for i in range(1200)] + ["m/1.flac", "m/gone.flac"]  # more than one query's worth
    with sessions() as s:
        found = tracks_of(s, paths)
        assert [p for p, _ in found] == paths  # each as the listener named it, in order, twice where named twice
        assert [t.id if t else None for _, t in found] == [*range(1, 1201), 2, None]
        assert queries.tracks_by_paths(s, []) == {}
