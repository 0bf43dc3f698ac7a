"""Tag round trips on real files of every format; writes never touch audio or lose the original."""

import os
import re
import shutil
import stat
import struct

import mutagen
import numpy as np
import pytest
import soundfile as sf

from desktop.core.errors import TagReadError, TagWriteError, UnsupportedFormatError
from desktop.core.fingerprint import audio_hash
from desktop.core.formats import format_of
from desktop.core.tags import TagOptions, read_tags, write_genres
from tests.audio_files import ENCODINGS, make_protected_m4p, make_track
from trainer.synth import synth_track

pytestmark = pytest.mark.usefixtures("need_ffmpeg")


@pytest.fixture(params=list(ENCODINGS))
def track(request, tmp_path):
    return make_track(tmp_path, "song", "tones", request.param, seconds=2.0,
                      tags={"title": "Song", "artist": "Somebody", "album": "Record"})


def audio_region_bytes(path):
    """The raw bytes audio_hash covers, compared directly as well as through the hash."""
    return audio_hash(path, full=True)


NO_SIGNATURE = {"aac", "ac3"}  # a raw stream's sync word is a few bits, found by chance: read by its extension only


@pytest.mark.parametrize("ext", sorted(set(ENCODINGS) - NO_SIGNATURE))
def test_a_file_saved_under_another_formats_name_is_read_and_written_as_what_it_holds(tmp_path, ext):
    # An M4A or a FLAC saved as .mp3 (some downloaders and renamers) plays everywhere; read by its name it could not
    # be read at all ("can't sync to MPEG frame"), so it was never analysed, tagged or listed.
    from desktop.core.formats import format_of

    original = make_track(tmp_path, "song", "tones", ext, 1.0, tags={"title": "Song", "artist": "Somebody"})
    misnamed = original.with_name("misnamed" + (".flac" if ext in ("mp3", "mp2") else ".mp3"))
    shutil.copyfile(original, misnamed)
    assert format_of(misnamed) == format_of(original)
    assert read_tags(misnamed) == read_tags(original)
    before = audio_region_bytes(misnamed)
    write_genres(misnamed, ["Jazz"])
    assert read_tags(misnamed).genres == ("Jazz",) and read_tags(misnamed).title == "Song"
    assert audio_region_bytes(misnamed) == before


@pytest.mark.parametrize("ext, name", [("mp3", "MP3"), ("mp2", "MPEG layer II"), ("aac", "AAC (ADTS)")])
def test_a_file_with_none_of_its_formats_audio_says_so_in_words(tmp_path, ext, name):
    # "cannot read tags (HeaderNotFoundError: can't sync to MPEG frame)" told a listener nothing they could act on.
    junk = tmp_path / f"song.{ext}"
    junk.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(TagReadError, match=re.escape(f"cannot read tags (no {name} audio found in it: damaged, or not "
                                                     f"{name} at all; ")):
        read_tags(junk)


def test_round_trip_single_and_multi_genre(track):
    before = audio_region_bytes(track)
    write_genres(track, ["Jazz"])
    assert read_tags(track).genres == ("Jazz",)
    write_genres(track, ["Jazz", "Blues"])
    assert read_tags(track).genres == ("Jazz", "Blues")
    write_genres(track, [])
    assert read_tags(track).genres == ()
    assert audio_region_bytes(track) == before  # audio byte-identical after three writes


def test_the_provenance_field_round_trips_in_every_format(track):
    # Written beside every genre unless turned off: it tells a library made again (another computer's) which genres
    # were Genre Tagger's guesses, so each format must keep it, give it back, and lose it again on undo.
    before = audio_region_bytes(track)
    on = TagOptions(write_provenance=True)
    write_genres(track, ["Jazz"], on, provenance="Genre Tagger: Jazz 0.91")
    assert (read_tags(track).genres, read_tags(track).provenance) == (("Jazz",), "Genre Tagger: Jazz 0.91")
    write_genres(track, ["Blues"], on, provenance="Genre Tagger: corrected by hand")
    assert read_tags(track).provenance == "Genre Tagger: corrected by hand"
    write_genres(track, [], on, provenance="")  # as undo of the first write leaves it: no field
    assert (read_tags(track).genres, read_tags(track).provenance) == ((), "")
    assert audio_region_bytes(track) == before


def test_write_keeps_other_tags(track):
    write_genres(track, ["Pop"])
    tags = read_tags(track)
    if track.suffix != ".wav":  # ffmpeg writes WAV titles as RIFF INFO, which is not ours to read
        assert (tags.title, tags.artist, tags.album) == ("Song", "Somebody", "Record")


@pytest.mark.parametrize("ext", list(ENCODINGS))
def test_the_album_artist_and_compilation_flag_are_read_in_every_format_that_keeps_them(tmp_path, ext):
    tags = {"artist": "Nas", "album": "Hits", "album_artist": "Various Artists", "compilation": "1"}
    song = make_track(tmp_path, "song", "tones", ext, 1.0, tags=tags)
    if ext == "wav":  # ffmpeg keeps only RIFF INFO's few fields: the ID3 chunk, as taggers write it
        from tests.audio_files import add_id3

        add_id3(song, {"album_artist": "Various Artists", "compilation": "1"})
    write_genres(song, ["Jazz"])  # and a genre write keeps them
    read = read_tags(song)
    kept = format_of(song).tag_kind != "caf"  # CAF's info chunk has no such keys
    assert (read.album_artist, read.compilation) == (("Various Artists", True) if kept else ("", False))


@pytest.mark.parametrize("ext", list(ENCODINGS))
def test_track_and_disc_numbers_and_the_year_are_read_in_every_format(tmp_path, ext):
    tags = {"artist": "Nas", "album": "Illmatic", "track": "3/10", "disc": "2/2", "date": "1994-04-19"}
    song = make_track(tmp_path, "song", "tones", ext, 1.0, tags=tags)
    write_genres(song, ["Hip-Hop"])  # and a genre write keeps them
    read = read_tags(song)
    # RIFF INFO has no disc number (ffmpeg writes only INFO to a WAV)
    assert (read.track_number, read.disc_number, read.year) == (3, 0 if ext == "wav" else 2, 1994)
    plain = make_track(tmp_path, "plain", "tones", ext, 1.0, tags={"artist": "Nas"})
    assert (read_tags(plain).track_number, read_tags(plain).disc_number, read_tags(plain).year) == (0, 0, 0)


def test_track_numbers_and_years_as_taggers_write_them():
    from desktop.core.tags import number_in, year_in

    assert [number_in(t) for t in ("3", "03", "3/12", " 12 / 12", "A1", "", "side 2", "0")] == [3, 3, 3, 12, 0, 0, 0, 0]
    assert [year_in(t) for t in ("2003", "2003-05-01", "05/01/2003", "c. 1965", "2003-05-01T10:00", "", "'97",
                                 "12345")] == [2003, 2003, 2003, 1965, 2003, 0, 0, 0]
    from desktop.core.wording import album_place

    assert [album_place(*t) for t in ((3, 2, 2003), (3, 1, 0), (0, 0, 1965), (0, 0, 0))] == [
        "disc 2, track 3, 2003", "track 3", "1965", ""]  # disc 1 of one disc or of several: not worth a word


def test_an_id3v23_tags_year_and_an_apev2_tags_numbers_are_read(tmp_path):
    from mutagen.apev2 import APEv2
    from mutagen.id3 import ID3, TRCK, TYER

    mp3 = make_track(tmp_path, "a", "tones", "mp3", 1.0)
    tag = ID3(mp3)
    tag.add(TYER(encoding=1, text=["1977"]))
    tag.add(TRCK(encoding=1, text=["05"]))
    tag.save(mp3, v2_version=3)
    assert (read_tags(mp3).year, read_tags(mp3).track_number) == (1977, 5)
    bare = make_track(tmp_path, "b", "tones", "mp3", 1.0)
    mutagen.File(bare).delete()
    ape = APEv2()
    ape["Track"], ape["Disc"], ape["Year"] = "9/9", "1", "1999"
    ape.save(bare)  # an MP3 with only an APEv2 tag: it fills in what the ID3 tag lacks
    assert (read_tags(bare).track_number, read_tags(bare).disc_number, read_tags(bare).year) == (9, 1, 1999)


def test_itunes_media_kind_says_audiobooks_and_podcasts(tmp_path):
    from mutagen.mp4 import MP4

    m4a = make_track(tmp_path, "a", "tones", "m4a", 1.0)
    assert read_tags(m4a).media_kind == ""
    for atoms, kind in (({"stik": [2]}, "audiobook"), ({"stik": [21]}, "podcast"), ({"stik": [1]}, ""),
                        ({"stik": [1], "pcst": True}, "podcast")):  # 1: music; pcst: iTunes' podcast flag
        file = MP4(m4a)
        file.tags.clear()
        file.tags.update(atoms)
        file.save()
        assert read_tags(m4a).media_kind == kind
    write_genres(m4a, ["Jazz"])  # a genre write keeps it
    assert read_tags(m4a).media_kind == "podcast" and MP4(m4a).tags["stik"] == [1]
    assert read_tags(make_track(tmp_path, "b", "tones", "mp3", 1.0)).media_kind == ""  # only MP4 keeps one


def test_compilation_flags_as_taggers_write_them(tmp_path):
    from mutagen.mp4 import MP4

    m4a = make_track(tmp_path, "a", "tones", "m4a", 1.0)
    for flag, read in ((True, True), (False, False)):
        file = MP4(m4a)
        file["cpil"] = flag
        file.save()
        assert read_tags(m4a).compilation is read
    flac = make_track(tmp_path, "b", "tones", "flac", 1.0, tags={"ALBUM ARTIST": "Björk", "COMPILATION": "0"})
    assert (read_tags(flac).album_artist, read_tags(flac).compilation) == ("Björk", False)  # foobar2000's spelling


def test_storage_styles_per_format(tmp_path):
    mp3 = make_track(tmp_path, "a", "tones", "mp3", 2.0)
    write_genres(mp3, ["Rock", "Pop"])
    id3 = mutagen.File(mp3).tags
    assert id3.version[:2] == (2, 4) and id3.getall("TCON")[0].text == ["Rock", "Pop"]
    write_genres(mp3, ["Rock", "Pop"], TagOptions(id3_version=3, id3_separator=" / "))
    id3 = mutagen.File(mp3).tags
    assert id3.version[:2] == (2, 3) and id3.getall("TCON")[0].text == ["Rock / Pop"]
    assert read_tags(mp3, TagOptions(id3_version=3, id3_separator=" / ")).genres == ("Rock", "Pop")

    flac = make_track(tmp_path, "b", "tones", "flac", 2.0)
    write_genres(flac, ["Rock", "Pop"])
    assert mutagen.File(flac)["GENRE"] == ["Rock", "Pop"]  # one Vorbis field per value

    m4a = make_track(tmp_path, "c", "tones", "m4a", 2.0)
    write_genres(m4a, ["Rock"])
    tags = mutagen.File(m4a).tags
    assert tags["\xa9gen"] == ["Rock"] and "gnre" not in tags

    # Windows Media Player writes WM/GenreID beside WM/Genre: where it agreed, it follows (it kept the old genre);
    # one of its own is left as it is.
    from mutagen.asf import ASF

    agreeing, own = (make_track(tmp_path, name, "tones", "wma", 2.0) for name in ("d", "e"))
    for path, genre_id in ((agreeing, "rock"), (own, "(17)")):
        asf = ASF(path)
        asf["WM/Genre"], asf["WM/GenreID"] = ["Rock"], [genre_id]
        asf.save()
        write_genres(path, ["Jazz"])
    assert [[str(v) for v in ASF(p)["WM/GenreID"]] for p in (agreeing, own)] == [["Jazz"], ["(17)"]]
    write_genres(agreeing, ["Rock"])  # as undo does
    assert [str(v) for v in ASF(agreeing)["WM/GenreID"]] == ["Rock"] and read_tags(agreeing).genres == ("Rock",)


def test_an_mp3s_apev2_tag_is_read_and_kept_in_step_never_overwritten(tmp_path):
    # foobar2000 and mp3gain put an APEv2 tag on MP3s, which some players read first. Its genre was not read (the
    # file looked untagged, so "fill" wrote a genre over the listener's), and a write left it saying the old one.
    from mutagen.apev2 import APEv2
    from mutagen.id3 import ID3, TCON

    def ape(path, **items):
        tag = APEv2()
        tag.update(items)
        tag.save(path)

    def ape_genre(path):
        return str(APEv2(path)["Genre"])

    alone, agreeing, differing = (make_track(tmp_path, name, "tones", "mp3", 2.0) for name in ("alone", "agreeing", "differing"))
    for path in (alone, agreeing, differing):
        mutagen.File(path).delete()
        ape(path, Genre="Rock", Title="Everlong", Artist="Foo Fighters")
    for path, genre in ((agreeing, "Rock"), (differing, "Pop")):
        id3 = ID3()
        id3.add(TCON(encoding=3, text=[genre]))
        id3.save(path)
    before = {p: audio_region_bytes(p) for p in (alone, agreeing, differing)}

    tags = read_tags(alone)
    assert (tags.genres, tags.title, tags.artist) == (("Rock",), "Everlong", "Foo Fighters")  # no ID3 tag: the APE one
    assert read_tags(differing).genres == ("Pop",)  # the ID3 tag comes first
    for path in (alone, agreeing, differing):
        write_genres(path, ["Jazz", "Blues"])
        assert read_tags(path).genres == ("Jazz", "Blues")
    assert ape_genre(alone) == ape_genre(agreeing) == "Jazz\x00Blues"  # in step with the ID3 tag
    assert ape_genre(differing) == "Rock"  # a genre of its own: left as it was
    write_genres(alone, ["Rock"])  # as undo does
    assert ape_genre(alone) == "Rock" and str(APEv2(alone)["Title"]) == "Everlong"
    assert all(audio_region_bytes(p) == b for p, b in before.items())


@pytest.mark.parametrize("ext", ["flac", "tta", "aac", "ac3"])
def test_an_id3_tag_in_front_of_a_flac_stream_is_read_and_kept_in_step(tmp_path, ext):
    # Some rippers put an ID3v2 tag in front of a FLAC stream, and some players read it. Its genre was not read (the
    # file looked untagged, so "fill" gave it the model's genre over the listener's Shoegaze), nor kept in step.
    # A True Audio file likewise: its own tag is the APEv2 tag ffmpeg and foobar2000 write, mutagen writes ID3v2; and
    # a raw AAC or AC-3 stream (APEv2 from ffmpeg, foobar2000 and Picard; ID3v2 from Mp3tag).
    from mutagen.apev2 import APEv2, APEv2File
    from mutagen.flac import FLAC
    from mutagen.id3 import ID3, TCON, TIT2, TPE1

    def set_own_genre(path, genre):  # in the file's own tag: FLAC's Vorbis comments, True Audio's APEv2 tag
        own = FLAC(path) if ext == "flac" else APEv2File(path).tags or APEv2()  # an AC-3 stream is made untagged
        own["GENRE" if ext == "flac" else "Genre"] = [genre] if ext == "flac" else genre
        if ext != "flac":
            own.save(path)
        else:
            own.save()

    def own_genre(path):
        return FLAC(path)["GENRE"] if ext == "flac" else str(APEv2(path)["Genre"]).split("\x00")

    def id3_in_front(path, genre, version=4):
        tag = ID3()
        tag.add(TIT2(encoding=1, text=["Only Shallow"]))
        tag.add(TPE1(encoding=1, text=["My Bloody Valentine"]))
        tag.add(TCON(encoding=1, text=[genre]))
        tag.save(tmp_path / "tag.id3", v2_version=version)
        path.write_bytes((tmp_path / "tag.id3").read_bytes() + path.read_bytes())
        return path

    alone = id3_in_front(make_track(tmp_path, "alone", "tones", ext, 2.0), "Shoegaze", version=3)
    differing = id3_in_front(make_track(tmp_path, "differing", "tones", ext, 2.0), "Shoegaze")
    set_own_genre(differing, "Rock")
    before = {p: audio_region_bytes(p) for p in (alone, differing)}
    tags = read_tags(alone)
    assert (tags.genres, tags.title, tags.artist) == (("Shoegaze",), "Only Shallow", "My Bloody Valentine")
    assert read_tags(differing).genres == ("Rock",)  # the file's own tag comes first
    for path in (alone, differing):
        write_genres(path, ["Dream Pop"])
        assert own_genre(path) == ["Dream Pop"]
    assert [str(ID3(p)["TCON"]) for p in (alone, differing)] == ["Dream Pop", "Shoegaze"]  # in step; its own left
    assert ID3(alone).version[:2] == (2, 3) and str(ID3(alone)["TIT2"]) == "Only Shallow"  # its version and frames kept
    write_genres(alone, ["Shoegaze"])  # as undo does: the journal keeps what the file said
    assert read_tags(alone).genres == ("Shoegaze",) and str(ID3(alone)["TCON"]) == "Shoegaze"
    assert all(audio_region_bytes(p) == b for p, b in before.items())


def test_writing_id3v23_keeps_the_frames_v23_lacks(tmp_path):
    # --id3v23 on an ID3v2.4 file dropped its sort orders (TSOP, TSOA, TSOT: players use them in v2.3 too), its
    # mood, release time and disc subtitle, and cut the original date to its year; undo did not bring them back.
    from mutagen.id3 import ID3, TDOR, TDRC, TDRL, TMOO, TSOA, TSOP, TSOT, TSST

    mp3 = make_track(tmp_path, "a", "tones", "mp3", 2.0)
    frames = {TSOP: "Beatles, The", TSOA: "White Album, The", TSOT: "Back in the USSR", TSST: "Disc one",
              TMOO: "Mellow ☺", TDRL: "2009-09-09", TDOR: "1968-11-22", TDRC: "2009-09-09"}
    id3 = ID3(mp3)
    for frame, text in frames.items():
        id3.add(frame(encoding=3, text=[text]))
    id3.save(mp3, v2_version=4)
    before = audio_region_bytes(mp3)
    write_genres(mp3, ["Rock"], TagOptions(id3_version=3))
    id3 = ID3(mp3)
    assert id3.version[:2] == (2, 3) and id3.getall("TCON")[0].text == ["Rock"]
    assert {frame.__name__: str(id3[frame.__name__]) for frame in frames} == {f.__name__: t for f, t in frames.items()}
    assert audio_region_bytes(mp3) == before


def with_raw_id3(path, version, frames, plain_sizes=False):
    """Give a file an ID3v2 tag built byte by byte (mutagen cannot write damaged or unknown frames)."""
    import struct

    from mutagen.id3 import ID3

    def size(n):
        return struct.pack(">I", n) if version == 3 or plain_sizes else bytes((n >> s) & 0x7F for s in (21, 14, 7, 0))

    ID3(path).delete()
    body = b"".join(name.encode() + size(len(data)) + b"\0\0" + data for name, data in frames) + b"\0" * 64
    audio = path.read_bytes()
    path.write_bytes(b"ID3" + bytes((version, 0, 0)) + bytes((len(body) >> s) & 0x7F for s in (21, 14, 7, 0)) + body + audio)
    return path


def raw_frames(path):
    from mutagen.id3 import ID3

    return {key: str(frame) for key, frame in ID3(path, translate=False).items()}


def test_a_v23_files_volume_adjustment_and_recording_dates_survive_genre_writes(tmp_path):
    # mutagen translates every tag it reads to v2.4, which dropped a v2.3 file's RVAD (players' volume adjustment),
    # TRDA (recording dates) and TSIZ on every genre write, even one that kept the file in v2.3.
    frames = [("TIT2", b"\0Title"), ("TYER", b"\x001999"), ("TDAT", b"\x002412"), ("TRDA", b"\x00Dec 24-25, 1999"),
              ("TSIZ", b"\x0012345"), ("RVAD", b"\x03\x10" + b"\x01\x00" * 4), ("TCON", b"\x00Rock")]
    kept = with_raw_id3(make_track(tmp_path, "kept", "tones", "mp3", 2.0), 3, frames)
    before, audio = raw_frames(kept), audio_region_bytes(kept)
    write_genres(kept, ["Jazz"])
    assert raw_frames(kept) == {**before, "TCON": "Jazz"} and audio_region_bytes(kept) == audio
    upgraded = with_raw_id3(make_track(tmp_path, "upgraded", "tones", "mp3", 2.0), 3, frames)
    write_genres(upgraded, ["Jazz"], TagOptions(id3_version=4))  # converted: the dates become TDRC, the rest stays
    after = raw_frames(upgraded)
    assert {k: after[k] for k in ("TRDA", "TSIZ", "RVAD", "TDRC", "TCON")} == {
        "TRDA": before["TRDA"], "TSIZ": before["TSIZ"], "RVAD": before["RVAD"], "TDRC": "1999-12-24", "TCON": "Jazz"}


def test_dates_mutagen_cannot_read_are_kept_as_written(tmp_path):
    # mutagen reads ID3v2.4 dates into its own form and writes that back on every save: a genre write turned
    # "01/05/2003" into "0001-05-2003" (a date damaged without a word) and refused files dated "c. 1965".
    from mutagen.flac import FLAC
    from mutagen.id3 import ID3

    dates = [("TDRC", b"\x0001/05/2003"), ("TDOR", b"\x00c. 1965"), ("TDRL", b"\x03" + "2003-5-1 ☆".encode()),
             ("TIT2", b"\x00Title"), ("TCON", b"\x00Rock")]
    mp3 = with_raw_id3(make_track(tmp_path, "dated", "tones", "mp3", 2.0), 4, dates)
    flac = make_track(tmp_path, "front", "tones", "flac", 2.0)
    front = with_raw_id3(make_track(tmp_path, "scratch", "tones", "mp3", 0.5), 4, dates)  # an ID3 tag to put in front
    size = sum(b << s for b, s in zip(front.read_bytes()[6:10], (21, 14, 7, 0), strict=True))
    flac.write_bytes(front.read_bytes()[:10 + size] + flac.read_bytes())
    front.unlink()
    for path in (mp3, flac):
        write_genres(path, ["Jazz"])
        data = path.read_bytes()
        assert read_tags(path).genres == ("Jazz",), path
        assert b"01/05/2003" in data and b"c. 1965" in data and "2003-5-1 ☆".encode() in data and b"0001-05" not in data
    assert str(ID3(flac)["TCON"]) == "Jazz" and FLAC(flac)["genre"] == ["Jazz"]  # the tag in front followed
    write_genres(mp3, ["Blues"], TagOptions(id3_version=4))  # the version asked for is the file's own: kept too
    assert b"01/05/2003" in mp3.read_bytes()


def test_a_write_that_would_lose_an_id3_frame_is_refused_and_leaves_the_file(tmp_path):
    # mutagen passes over a frame it cannot parse (here a TXXX with no valid text encoding) and drops the frames it
    # does not know (a private XTRA) when the tag changes version; a genre write lost them silently.
    from mutagen.id3 import ID3

    damaged = with_raw_id3(make_track(tmp_path, "damaged", "tones", "mp3", 2.0), 3,
                           [("TIT2", b"\0Title"), ("TXXX", b"\x07MusicBrainz Id\0abc"), ("TCON", b"\x00Rock")])
    itunes = with_raw_id3(make_track(tmp_path, "itunes", "tones", "mp3", 2.0), 3,
                          [("TIT2", b"\0Title"), ("XTRA", b"\x00Beatles, The"), ("TCON", b"\x00Rock")])
    files = {p: p.read_bytes() for p in (damaged, itunes)}
    for path, options, words in ((damaged, TagOptions(), r"cannot read \(TXXX\)"),
                                 (itunes, TagOptions(id3_version=4), r"cannot read or convert to ID3v2\.4 \(XTRA\)")):
        with pytest.raises(TagWriteError, match=words + "; the file is left as it is"):
            write_genres(path, ["Jazz"], options)
        assert path.read_bytes() == files[path] and sorted(p.name for p in tmp_path.iterdir()) == ["damaged.mp3", "itunes.mp3"]
    stray = with_raw_id3(make_track(tmp_path, "stray", "tones", "mp3", 2.0), 3,  # v2.4 frames some taggers put in v2.3
                         [("TIT2", b"\0Title"), ("TDRC", b"\x002001-05-06"), ("TSOP", b"\x00Sort"), ("TCON", b"\x00Rock")])
    write_genres(stray, ["Jazz"])  # kept in its version, the tag is saved as it is: nothing converted, nothing refused
    assert raw_frames(stray) == {"TIT2": "Title", "TDRC": "2001-05-06", "TSOP": "Sort", "TCON": "Jazz"}
    picture = b"\x00image/jpeg\x00\x03\x00"
    repeats = with_raw_id3(make_track(tmp_path, "repeats", "tones", "mp3", 2.0), 3,  # merged or kept apart: not lost
                           [("COMM", b"\x00eng\x00one"), ("COMM", b"\x00eng\x00two"), ("APIC", picture + b"front"),
                            ("APIC", picture + b"other"), ("TCON", b"\x00Rock")])
    write_genres(repeats, ["Jazz"])
    assert ID3(repeats)["COMM::eng"].text == ["one/two"] and len(ID3(repeats).getall("APIC")) == 2  # joined, as v2.3 keeps lists
    twins = with_raw_id3(make_track(tmp_path, "twins", "tones", "mp3", 2.0), 3,  # byte for byte the same: one is kept,
                         [("PRIV", b"WM/MediaClassPrimaryID\0\xbc}"), ("PRIV", b"WM/MediaClassPrimaryID\0\xbc}"),
                          ("UFID", b"http://musicbrainz.org\0id"), ("UFID", b"http://musicbrainz.org\0id"),
                          ("TCON", b"\x00Rock")])  # nothing lost (a write was refused as losing a PRIV and a UFID)
    write_genres(twins, ["Jazz"])
    assert [len(ID3(twins).getall(k)) for k in ("PRIV", "UFID")] == [1, 1] and read_tags(twins).genres == ("Jazz",)
    owners = with_raw_id3(make_track(tmp_path, "owners", "tones", "mp3", 2.0), 3,  # one owner, two values: one is lost
                          [("UFID", b"http://musicbrainz.org\0one"), ("UFID", b"http://musicbrainz.org\0two"),
                           ("TCON", b"\x00Rock")])
    with pytest.raises(TagWriteError, match=r"\(UFID x1\)"):
        write_genres(owners, ["Jazz"])
    empties = with_raw_id3(make_track(tmp_path, "empties", "tones", "mp3", 2.0), 4,  # mutagen drops them: nothing in them
                           [("TALB", b"\x00"), ("TXXX", b"\x00Catalog\x00"), ("COMM", b"\x01eng\x00\x00"), ("TCON", b"\x00Rock")])
    write_genres(empties, ["Jazz"])
    assert read_tags(empties).genres == ("Jazz",)
    for extra in (stray, repeats, empties, twins, owners):
        extra.unlink()
    write_genres(itunes, ["Jazz"])  # in its own version the frame it does not know is carried over
    assert b"XTRA" in itunes.read_bytes() and b"Beatles, The" in itunes.read_bytes() and read_tags(itunes).genres == ("Jazz",)


def test_itunes_v23_sort_orders_become_the_v24_ones_when_a_write_converts_the_tag(tmp_path):
    # iTunes kept sort orders in v2.3 tags as XSOP/XSOA/XSOT, which mutagen drops when converting to v2.4, so an
    # `--id3v24` write would lose them (refused); they become TSOP/TSOA/TSOT, as Picard reads them.
    mp3 = with_raw_id3(make_track(tmp_path, "itunes", "tones", "mp3", 2.0), 3,
                       [("TIT2", b"\0Back in the USSR"), ("XSOP", b"\x00Beatles, The"), ("XSOA", b"\x01\xff\xfeW\x00h\x00"),
                        ("XSOT", b"\x00Back in the USSR"), ("TCON", b"\x00Rock")])
    write_genres(mp3, ["Jazz"], TagOptions(id3_version=4))
    frames = raw_frames(mp3)
    assert {k: frames[k] for k in ("TSOP", "TSOA", "TSOT", "TCON")} == {
        "TSOP": "Beatles, The", "TSOA": "Wh", "TSOT": "Back in the USSR", "TCON": "Jazz"}


def test_v24_frame_sizes_written_as_plain_integers_are_walked_and_kept(tmp_path):
    # iTunes wrote ID3v2.4 frame sizes as plain integers; mutagen reads them, and so must the check of what a write kept.
    comment = b"\x00eng\x00" + b"x" * 200  # 205 bytes: not a valid sync-safe size as a plain integer
    mp3 = with_raw_id3(make_track(tmp_path, "itunes24", "tones", "mp3", 2.0), 4,
                       [("TIT2", b"\x03Title"), ("COMM", comment), ("TCON", b"\x03Rock")], plain_sizes=True)
    write_genres(mp3, ["Jazz"])
    assert raw_frames(mp3)["COMM::eng"] == "x" * 200 and read_tags(mp3).genres == ("Jazz",)


def test_provenance_field(tmp_path):
    for ext in ("mp3", "ogg", "m4a"):
        path = make_track(tmp_path, f"p{ext}", "tones", ext, 2.0)
        write_genres(path, ["Rock"], TagOptions(write_provenance=True), provenance="Genre Tagger: cnn 0.93")
        assert read_tags(path).provenance == "Genre Tagger: cnn 0.93"
        write_genres(path, ["Rock"], TagOptions(write_provenance=False), provenance="ignored")
        assert read_tags(path).provenance == "Genre Tagger: cnn 0.93"


def test_read_only_file_is_reported_not_forced(tmp_path):
    path = make_track(tmp_path, "ro", "tones", "flac", 2.0)
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
    data = path.read_bytes()
    with pytest.raises(TagWriteError, match=r"ro\.flac: file is read-only"):
        write_genres(path, ["Jazz"])
    assert path.read_bytes() == data


def test_failed_write_leaves_the_original_intact(tmp_path, monkeypatch):
    path = make_track(tmp_path, "x", "tones", "mp3", 2.0)
    data = path.read_bytes()

    def crash(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mutagen.mp3.MP3, "save", crash)
    with pytest.raises(TagWriteError, match=r"x\.mp3: cannot write tags .*No space left"):
        write_genres(path, ["Jazz"])
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.mp3"]  # no temporary copy left behind


def test_write_that_would_change_audio_is_refused(tmp_path, monkeypatch):
    path = make_track(tmp_path, "y", "tones", "flac", 2.0)
    data = path.read_bytes()
    real_save = mutagen.flac.FLAC.save

    def corrupting_save(self, *a, **k):
        real_save(self, *a, **k)
        with open(self.filename, "r+b") as fh:
            fh.seek(-10, 2)
            fh.write(b"\x00" * 10)

    monkeypatch.setattr(mutagen.flac.FLAC, "save", corrupting_save)
    with pytest.raises(TagWriteError, match="would change the audio data"):
        write_genres(path, ["Jazz"])
    assert path.read_bytes() == data


def test_a_full_disk_is_named_and_leaves_the_file_and_no_copy(tmp_path, monkeypatch):
    import errno
    import shutil

    path = make_track(tmp_path, "z", "tones", "flac", 2.0)
    data = path.read_bytes()

    def copy_until_full(src, dst):
        with open(dst, "wb") as fh:
            fh.write(data[:1000])
        raise OSError(errno.ENOSPC, "No space left on device", str(src), None, str(dst))

    monkeypatch.setattr(shutil, "copy2", copy_until_full)
    with pytest.raises(TagWriteError) as caught:
        write_genres(path, ["Jazz"])
    assert str(caught.value) == (f"{path}: cannot write tags (No space left on device: no room for the safe copy "
                                 "of the file; the file is untouched)")
    assert path.read_bytes() == data and sorted(p.name for p in tmp_path.iterdir()) == ["z.flac"]


def test_corrupt_file_names_the_file(tmp_path):
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(TagReadError, match=r"broken\.mp3: cannot read tags"):
        read_tags(bad)
    with pytest.raises(TagReadError, match=r"broken\.mp3"):
        write_genres(bad, ["Rock"])
    assert bad.read_bytes() == b"\x00" * 1000


def test_unsupported_and_missing_files(tmp_path):
    with pytest.raises(UnsupportedFormatError, match=r"notes\.txt: unsupported file type \.txt"):
        read_tags(tmp_path / "notes.txt")
    with pytest.raises(TagWriteError, match="file not found"):
        write_genres(tmp_path / "gone.flac", ["Rock"])


@pytest.mark.parametrize("ext", ["ogg", "flac.oga", "wma", "wv", "mpc", "ape", "tta", "dsf", "dff", "mp2", "aac",
                                 "ac3", "webm", "mka", "mkvmerge.mka", "spx", "caf", "alac.caf", "aac.caf"])
def test_fingerprint_ignores_tags_but_not_audio(tmp_path, ext):
    a = make_track(tmp_path, "a", "tones", ext, 2.0, seed=1)
    b = make_track(tmp_path, "b", "tones", ext, 2.0, seed=2)
    before, size = audio_hash(a), a.stat().st_size
    write_genres(a, ["A very long genre name " * 400])  # grows the tags past their padding (Ogg: across pages)
    assert a.stat().st_size > size + 8000  # the audio moved within the file
    assert audio_hash(a) == before != audio_hash(b)


def test_fingerprint_ignores_id3v1_and_ape_tags_at_the_end_in_either_order(tmp_path):
    # mp3gain and foobar put an APEv2 tag before ID3v1; mutagen appends one after it. The second order
    # used to count the ID3v1 tag as audio, so adding ReplayGain made a track look re-recorded.
    import mutagen.apev2

    song = make_track(tmp_path, "s", "tones", "mp3", 2.0)
    bare = audio_hash(song, full=True)
    id3v1 = b"TAG" + b"V1 title".ljust(30, b"\0") + b"".ljust(94, b"\0") + bytes([0])  # 128 bytes, genre 0: Blues

    def ape(path):
        tag = mutagen.apev2.APEv2()
        tag["REPLAYGAIN_TRACK_GAIN"] = "-6.5 dB"
        tag.save(str(path))

    ape_then_v1 = tmp_path / "ape_then_v1.mp3"
    ape_then_v1.write_bytes(song.read_bytes())
    ape(ape_then_v1)
    with open(ape_then_v1, "ab") as fh:
        fh.write(id3v1)
    v1_then_ape = tmp_path / "v1_then_ape.mp3"
    v1_then_ape.write_bytes(song.read_bytes() + id3v1)
    ape(v1_then_ape)
    assert v1_then_ape.read_bytes()[-32:-24] == b"APETAGEX" and ape_then_v1.read_bytes()[-128:-125] == b"TAG"
    assert audio_hash(ape_then_v1, full=True) == audio_hash(v1_then_ape, full=True) == bare
    # An APE tag of exactly 131 bytes holds "TAG" (in its header's APETAGEX) where an ID3v1 tag would begin: it was
    # taken for one, three bytes of the tag counted as audio, and every later tag edit as a change of the audio.
    odd = tmp_path / "odd.mp3"
    odd.write_bytes(song.read_bytes())
    tag = mutagen.apev2.APEv2()
    tag.update({"Genre": "Rock", "Title": "Everlong", "Artist": "Foo Fighters"})
    tag.save(str(odd))
    assert odd.read_bytes()[-128:-125] == b"TAG" and odd.read_bytes()[-131:-123] == b"APETAGEX"
    assert audio_hash(odd, full=True) == bare


@pytest.mark.parametrize("ext, codec", [("ogg", "Ogg Vorbis"), ("opus", "Opus"), ("opus.ogg", "Opus"), ("flac.oga", "Ogg FLAC")])
def test_ogg_files_are_known_by_their_codec_not_their_extension(tmp_path, ext, codec):
    song = make_track(tmp_path, "song", "tones", ext, 2.0)
    assert format_of(song).name == codec
    renamed = song.rename(tmp_path / "renamed.oga")  # the extension does not decide the codec
    assert format_of(renamed).name == codec


@pytest.mark.parametrize("ext, saved_as, container", [("m4a", "aac", "MP4"), ("aac", "m4a", "AAC (ADTS)")])
def test_aac_is_known_by_its_container_not_its_extension(tmp_path, ext, saved_as, container):
    # AAC in an MP4 file saved as .aac (some phones, recorders and downloaders do) failed to be read: "cannot read tags
    # (AACError: sync not found)"; a raw ADTS stream saved as .m4a: "not a MP4 file".
    song = make_track(tmp_path, "song", "tones", ext, 2.0, tags={"title": "Song"}).rename(tmp_path / f"song.{saved_as}")
    assert format_of(song).name == container
    before = audio_hash(song, full=True)
    write_genres(song, ["Afrobeat"])
    tags = read_tags(song)
    assert (tags.genres, tags.title) == (("Afrobeat",), "Song") and audio_hash(song, full=True) == before


def test_a_raw_aac_stream_saved_as_m4a_is_known_behind_an_id3_tag(tmp_path):
    # Mp3tag puts an ID3v2 tag in front of a raw stream: named .m4a, it was "no moov atom" (a download cut short).
    from mutagen.id3 import ID3, TCON

    song = make_track(tmp_path, "song", "tones", "aac", 2.0).rename(tmp_path / "song.m4a")
    tag = ID3()
    tag.add(TCON(encoding=3, text=["Highlife"]))
    tag.save(song)
    assert format_of(song).name == "AAC (ADTS)" and read_tags(song).genres == ("Highlife",)


def _rewrite_first_ogg_packet(path, change):
    """Replace the first packet of an Ogg file (its page is rewritten with a fresh checksum)."""
    from mutagen.ogg import OggPage

    with open(path, "r+b") as fh:
        page = OggPage(fh)
        rest = fh.read()
        page.packets = [change(page.packets[0])]
        fh.seek(0)
        fh.write(page.write() + rest)
        fh.truncate()


def test_ogg_flac_without_a_header_count_is_hashed_by_its_last_block(tmp_path):
    song = make_track(tmp_path, "song", "tones", "flac.oga", 2.0)
    before = audio_hash(song, full=True)
    _rewrite_first_ogg_packet(song, lambda packet: packet[:7] + b"\x00\x00" + packet[9:])  # 0: "unknown"
    write_genres(song, ["Krautrock" * 1000])  # the comment packet changes and grows across pages
    assert read_tags(song).genres == ("Krautrock" * 1000,) and audio_hash(song, full=True) == before


def test_ogg_stream_of_another_codec_is_named(tmp_path):
    song = make_track(tmp_path, "film", "tones", "ogg", 2.0)
    _rewrite_first_ogg_packet(song, lambda packet: b"\x80theora" + packet[7:])
    with pytest.raises(UnsupportedFormatError, match=r"film\.ogg: unsupported Ogg stream \(Theora video\)"):
        read_tags(song)


def test_ogg_named_file_that_is_not_ogg_is_named(tmp_path):
    fake = make_track(tmp_path, "song", "tones", "mp3", 2.0).rename(tmp_path / "fake.ogg")
    with pytest.raises(TagReadError, match=r"fake\.ogg: cannot read tags"):
        read_tags(fake)
    with pytest.raises(TagReadError, match=r"fake\.ogg"):
        write_genres(fake, ["Rock"])


@pytest.mark.parametrize("ext", ["dsf", "dff"])
def test_a_dsd_files_id3_tag_is_found_where_its_header_points_so_no_frame_is_lost(tmp_path, ext):
    # DSF keeps its ID3v2 tag after the audio, at the offset its first chunk gives; DSDIFF in an `ID3 ` chunk of its
    # 64-bit FRM8 form. The check that a write keeps every frame must find it there, before and after the write, or
    # a dropped frame would pass unseen.
    from desktop.core import id3_frames

    song = make_track(tmp_path, "live", "tones", ext, 2.0, tags={"genre": "Jazz", "mood": "calm"})
    before = id3_frames.frame_counts(song)
    assert before is not None and before[1]["TCON"] == 1 and before[1]["TXXX"] == 1
    write_genres(song, ["Blues"])
    after = id3_frames.frame_counts(song)
    assert after[1]["TCON"] == 1 and after[1]["TXXX"] == 1
    assert list(read_tags(song).genres) == ["Blues"]


def dsdiff_chunks(data: bytes) -> list[bytes]:
    """The chunks of a DSDIFF file's FRM8 form, each whole (id, 64-bit size, body, pad byte)."""
    import struct

    pos, chunks = 16, []
    while pos < len(data):
        size = struct.unpack(">Q", data[pos + 4:pos + 12])[0]
        chunks.append(data[pos:pos + 12 + size + (size & 1)])
        pos += 12 + size + (size & 1)
    return chunks


def test_a_dsdiff_tag_in_front_of_its_audio_grows_without_changing_the_audio(tmp_path):
    # Some writers put the `ID3 ` chunk before the `DSD ` chunk: a tag that outgrows its padding there moves the
    # audio. The audio's hash (its sound properties and samples, wherever they lie) and every frame stay.
    from desktop.core import id3_frames

    song = make_track(tmp_path, "live", "tones", "dff", 2.0, tags={"genre": "Jazz", "mood": "calm"})
    data = song.read_bytes()
    song.write_bytes(data[:16] + b"".join(sorted(dsdiff_chunks(data), key=lambda c: c[:4] == b"DSD ")))  # audio last
    before, audio = id3_frames.frame_counts(song), audio_hash(song, full=True)
    write_genres(song, ["Blues " + "x" * 5000])
    assert audio_hash(song, full=True) == audio and id3_frames.frame_counts(song) == before
    assert [c[:4] for c in dsdiff_chunks(song.read_bytes())] == [b"FVER", b"PROP", b"ID3 ", b"DSD "]
    assert read_tags(song).genres[0].startswith("Blues")


def test_a_dst_compressed_dsdiff_file_is_tagged_and_its_audio_hashed_in_its_dst_chunk(tmp_path):
    # DST (lossless DSD compression, as most SACD rips keep it) lies in a `DST ` chunk of frames instead of `DSD `:
    # its length comes from the frame count, its audio hash covers the frames, and its tag is written as for DSD.
    import numpy as np

    from desktop.core.audio import probe
    from tests.audio_files import add_id3, write_dsdiff

    tone = 0.4 * np.sin(2 * np.pi * 440 * np.arange(44100) / 22050)  # 2 s at 22.05 kHz
    a = write_dsdiff(tmp_path / "a.dff", tone, 22050, dst=True)
    b = write_dsdiff(tmp_path / "b.dff", tone[::-1].copy(), 22050, dst=True)
    add_id3(a, {"artist": "Someone"})
    assert format_of(a).name == "DSDIFF" and probe(a).duration == pytest.approx(2.0, abs=0.02)
    before = audio_hash(a, full=True)
    write_genres(a, ["Classical " * 500])
    assert audio_hash(a, full=True) == before != audio_hash(b, full=True)
    assert read_tags(a).genres[0].startswith("Classical") and read_tags(a).artist == "Someone"


def takes_a_short_tag_and_refuses_a_long_one(song, refusal, long="Jazz " * 400):
    """A write that fits lands; one needing more room than the file can give is refused by `refusal`, the file untouched."""
    write_genres(song, ["Jazz"])
    assert read_tags(song).genres == ("Jazz",)
    before = song.read_bytes()
    with pytest.raises(TagWriteError, match=refusal):
        write_genres(song, [long])
    assert song.read_bytes() == before


@pytest.mark.parametrize("ext", ["ogg", "opus", "flac.oga"])
def test_an_ogg_file_cut_short_takes_a_tag_that_fits_and_refuses_one_that_needs_more_room(tmp_path, ext):
    # Its audio hash covers the whole pages and the cut one as it is. A tag that grows past its pages makes mutagen
    # renumber every page after it, which the cut last page stops: refused, saying why, the file untouched.
    whole = make_track(tmp_path, "whole", "tones", ext, 6.0, seed=3)
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 5])
    audio = audio_hash(cut, full=True)
    assert audio != audio_hash(whole, full=True)
    takes_a_short_tag_and_refuses_a_long_one(cut, r"its stream stops before its end, as in a copy or download that did "
                                                  r"not finish, so a tag needing more room cannot be added; the file is "
                                                  r"untouched", "Jazz " * 20000)
    assert audio_hash(cut, full=True) == audio


def _ffprobe_tags(path):
    import json
    import subprocess

    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", str(path)],
                         capture_output=True, check=True, text=True).stdout
    return {k.upper(): v for k, v in json.loads(out)["format"].get("tags", {}).items()}


def _decoded(path):
    import subprocess

    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "md5", "-"], capture_output=True,
                          check=True).stdout


@pytest.mark.parametrize("ext", ["webm", "mka"])
def test_a_matroska_tag_is_written_in_place_or_at_the_end_where_players_find_it(tmp_path, ext):
    # WebM (yt-dlp's YouTube audio) and Matroska were named as unread. A tag that fits takes the old one's place;
    # one that does not goes after the audio, the old one made a Void and the index (SeekHead) pointed at it.
    song = make_track(tmp_path, "song", "tones", ext, 3.0, tags={"title": "Song", "artist": "Somebody", "genre": "Rock"})
    size, audio, decoded = song.stat().st_size, audio_hash(song, full=True), _decoded(song)
    assert read_tags(song).title == "Song"  # ffmpeg writes the title as the segment's, not as a tag
    write_genres(song, ["Jazz"])
    assert song.stat().st_size == size and _ffprobe_tags(song)["GENRE"] == "Jazz"  # in place
    write_genres(song, ["Jazz " * 400])
    assert song.stat().st_size > size + 2000 and _ffprobe_tags(song)["GENRE"] == "Jazz " * 400
    grown = song.stat().st_size
    write_genres(song, ["Soul"])  # fits where the grown one is: the file does not grow again
    tags = read_tags(song)
    assert (tags.genres, tags.title, tags.artist) == (("Soul",), "Song", "Somebody") and song.stat().st_size == grown
    assert _ffprobe_tags(song)["GENRE"] == "Soul" and _ffprobe_tags(song)["ARTIST"] == "Somebody"
    assert audio_hash(song, full=True) == audio and _decoded(song) == decoded


def _replace_at(path, offset, data):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def test_a_matroska_file_whose_index_has_no_room_keeps_its_tag_where_it_fits_and_refuses_a_longer_one(tmp_path):
    from desktop.core.matroska import SEEK_HEAD, VOID, top_level

    song = make_track(tmp_path, "song", "tones", "webm", 12.0, tags={"genre": "Rock"})  # (a 3-byte position at its end)
    with open(song, "rb") as fh:
        top = top_level(fh)[1]
    after_index = top[[e.id for e in top].index(SEEK_HEAD) + 1]
    assert after_index.id == VOID
    _replace_at(song, after_index.start, b"\xfe")  # an element players pass over, not free room: the index cannot grow
    takes_a_short_tag_and_refuses_a_long_one(song, r"song\.webm: cannot write tags \(MatroskaError: its index of "
                                                   r"elements \(SeekHead\) has no room to point to a tag at its end\)")
    assert _ffprobe_tags(song)["GENRE"] == "Jazz"


def test_a_live_recorded_matroska_file_takes_a_tag_that_fits_and_refuses_one_after_its_unsized_clusters(tmp_path):
    from desktop.core.matroska import CLUSTER, top_level

    song = make_track(tmp_path, "song", "tones", "webm", 3.0, tags={"genre": "Rock"})
    with open(song, "rb") as fh:
        clusters = [e for e in top_level(fh)[1] if e.id == CLUSTER]
    last = clusters[-1]
    width = last.data - last.start - 4
    _replace_at(song, last.start + 4, bytes([0xFF >> (width - 1)]) + b"\xff" * (width - 1))  # "unknown size"
    takes_a_short_tag_and_refuses_a_long_one(song, r"song\.webm: cannot write tags \(MatroskaError: its clusters give "
                                                   r"no sizes")


def test_a_matroska_write_keeps_every_other_tag_as_it_was(tmp_path):
    # Only the global tag's own text fields are rewritten: a SimpleTag with a language, and the per-track tag ffmpeg
    # writes (its DURATION, ENCODER), keep their bytes.
    from desktop.core.matroska import (
        SIMPLE_TAG,
        TAG,
        TAG_NAME,
        TAG_STRING,
        TAGS,
        Matroska,
        children,
        element,
        top_level,
    )

    song = make_track(tmp_path, "song", "tones", "mka", 3.0, tags={"genre": "Rock"})
    comment = element(SIMPLE_TAG, element(TAG_NAME, b"COMMENT") + element(0x447A, b"ger") + element(TAG_STRING, b"Hallo"))
    file = Matroska(song)
    file.tags.entries.append(("COMMENT", "Hallo", comment))  # as read: its bytes, with its language, kept
    file.save()

    def tags_bytes():
        with open(song, "rb") as fh:
            tags = next(e for e in top_level(fh)[1] if e.id == TAGS)
            fh.seek(tags.data)
            return fh.read(tags.size)

    def tag_elements(data):
        return [data[e.start:e.end] for e in children(data) if e.id == TAG]

    global_tag, track_tag = tag_elements(tags_bytes())  # ffmpeg's per-track tag follows the global one
    assert b"DURATION" in track_tag and comment in global_tag
    write_genres(song, ["Krautrock" * 50])  # grows: written at the end
    assert read_tags(song).genres == ("Krautrock" * 50,)
    global_tag, kept = tag_elements(tags_bytes())
    assert comment in global_tag and kept == track_tag and _ffprobe_tags(song)["GENRE"] == "Krautrock" * 50


def test_a_matroska_file_cut_short_takes_a_tag_in_place_and_refuses_one_that_must_go_after_its_audio(tmp_path):
    whole = make_track(tmp_path, "whole", "tones", "webm", 8.0, tags={"genre": "Rock"})
    cut = tmp_path / "cut.webm"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    audio = audio_hash(cut, full=True)
    takes_a_short_tag_and_refuses_a_long_one(cut, r"cut\.webm: cannot write tags \(MatroskaError: it ends before its "
                                                  r"segment does \(cut short\?\)")
    assert audio_hash(cut, full=True) == audio


def _caf_chunks(path):
    from desktop.core.caf import chunks

    with open(path, "rb") as fh:
        return [(c.kind.decode(), c.declared) for c in chunks(fh)]


@pytest.mark.parametrize("ext", ["caf", "alac.caf"])
def test_a_caf_tag_is_written_in_its_info_chunk_in_place_or_grown_and_every_other_entry_kept(tmp_path, ext):
    # CAF (Logic, GarageBand, afconvert) was named as unread. A tag that fits takes the old one's place; one that does
    # not moves the chunks after it (none holds a file position) and leaves a free chunk for the next write.
    song = make_track(tmp_path, "song", "tones", ext, 3.0, tags={"title": "Song", "artist": "Somebody", "genre": "Rock"})
    size, audio, decoded = song.stat().st_size, audio_hash(song, full=True), _decoded(song)
    write_genres(song, ["Jazz"])
    assert song.stat().st_size == size and _ffprobe_tags(song)["GENRE"] == "Jazz"  # in place
    write_genres(song, ["Jazz", "Funk"])  # one text a key: joined, and read back as two genres
    assert song.stat().st_size > size + 1000 and _ffprobe_tags(song)["GENRE"] == "Jazz; Funk"
    assert read_tags(song).genres == ("Jazz", "Funk")
    grown = song.stat().st_size
    write_genres(song, ["Soul" * 100])  # fits where the grown one is: the file does not grow again
    tags = read_tags(song)
    assert (tags.genres, tags.title, tags.artist) == (("Soul" * 100,), "Song", "Somebody")
    assert song.stat().st_size == grown
    assert _ffprobe_tags(song)["ENCODER"].startswith("Lavf") and _ffprobe_tags(song)["ARTIST"] == "Somebody"
    assert audio_hash(song, full=True) == audio and _decoded(song) == decoded
    kinds = [kind for kind, _ in _caf_chunks(song)]
    assert kinds[kinds.index("info") + 1] == "free" and kinds[0] == "desc"


def test_a_caf_file_without_tags_gets_them_in_the_free_chunk_before_its_audio(tmp_path):
    # libsndfile writes no info chunk, and room before the audio (desc, free, data).
    song = tmp_path / "song.caf"
    sf.write(song, synth_track("tones", 3.0, 22050, np.random.default_rng(1)), 22050, format="CAF", subtype="PCM_16")
    size, audio, frames = song.stat().st_size, audio_hash(song, full=True), sf.read(song)[0]
    assert [k for k, _ in _caf_chunks(song)] == ["desc", "free", "data"] and read_tags(song).genres == ()
    write_genres(song, ["Ambient"])
    assert [k for k, _ in _caf_chunks(song)] == ["desc", "info", "free", "data"] and song.stat().st_size == size
    assert read_tags(song).genres == ("Ambient",) and _ffprobe_tags(song)["GENRE"] == "Ambient"
    assert audio_hash(song, full=True) == audio and np.array_equal(sf.read(song)[0], frames)


def test_a_caf_recording_of_unknown_length_keeps_its_audio_last_when_its_tag_grows(tmp_path):
    # A recording's audio chunk may say "size unknown" (-1): it runs to the file's end, so nothing may follow it.
    song = make_track(tmp_path, "song", "tones", "caf", 3.0, tags={"genre": "Rock"})
    chunks = _caf_chunks(song)
    assert chunks[-1][0] == "data"
    with open(song, "r+b") as fh:
        data_at = song.stat().st_size - 12 - chunks[-1][1]
        fh.seek(data_at + 4)
        fh.write(struct.pack(">q", -1))
    audio, decoded = audio_hash(song, full=True), _decoded(song)
    write_genres(song, ["Krautrock" * 300])
    assert _caf_chunks(song)[-1] == ("data", -1) and read_tags(song).genres == ("Krautrock" * 300,)
    assert audio_hash(song, full=True) == audio and _decoded(song) == decoded


def test_a_damaged_caf_info_chunk_is_named_and_never_overwritten(tmp_path):
    song = make_track(tmp_path, "song", "tones", "caf", 2.0, tags={"genre": "Rock"})
    data = song.read_bytes()
    at = data.index(b"info") + 12
    song.write_bytes(data[:at] + struct.pack(">I", 9) + data[at + 4:])  # more entries declared than it holds
    before = song.read_bytes()
    said = r"song\.caf: cannot read tags \(CAFError: its info chunk holds fewer than the 9 entries it declares\)"
    with pytest.raises(TagReadError, match=said):
        read_tags(song)
    with pytest.raises(TagReadError, match=said):
        write_genres(song, ["Jazz"])
    assert song.read_bytes() == before


def test_a_caf_file_cut_short_says_so_and_keeps_its_audio_when_tagged(tmp_path):
    # PCM: libsndfile refused it ("file is malformed"); ffmpeg decodes what is there, and its header's length says
    # it was cut. AAC as afconvert lays it out: its packet table is before the audio and gives the length. ALAC as
    # ffmpeg lays it out: its packet table, after the audio, is gone; its tags (before the audio) still read and write.
    from desktop.core.audio import probe, read_segments
    from desktop.core.errors import AudioDecodeError

    for ext in ("caf", "aac.caf", "alac.caf"):
        whole = make_track(tmp_path, "whole", "tones", ext, 8.0, tags={"genre": "Rock"})
        cut = tmp_path / f"cut.{ext}"
        cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        if ext != "alac.caf":
            assert probe(cut).duration == pytest.approx(8.0, abs=0.1)  # the analysis says only 4 s of 8 were there
            assert len(read_segments(cut, probe(cut), [(0.0, 3.0)], 16000)[0]) == 48000
        else:
            with pytest.raises(AudioDecodeError, match=r"cut\.alac\.caf: cannot read audio \(no packet table: its "
                                                       r"audio's index is missing, as in a copy or download that did "
                                                       r"not finish"):
                probe(cut)
        audio = audio_hash(cut, full=True)
        write_genres(cut, ["Jazz" * 300])
        assert read_tags(cut).genres == ("Jazz" * 300,) and audio_hash(cut, full=True) == audio


def test_a_caf_write_keeps_entries_that_are_not_utf8_byte_for_byte_and_replaces_a_genre_given_twice(tmp_path):
    # An old Mac's tool may write MacRoman; decoding and encoding it again would have changed its bytes. A key given
    # twice (a damaged chunk) gave the first value while a write left the second, so the old genre came back.
    from desktop.core.caf import CAF, Entry

    song = make_track(tmp_path, "song", "tones", "caf", 2.0)
    file = CAF(song)
    macroman = b"comments\0Caf\x8e au lait\0"
    file.tags.entries += [Entry("comments", "Caf\ufffd au lait", macroman), Entry("genre", "Rock"),
                          Entry("Genre", "Blues")]
    file.save()
    assert read_tags(song).genres == ("Rock", "Blues")
    write_genres(song, ["Jazz"])
    assert read_tags(song).genres == ("Jazz",) and macroman in song.read_bytes()
    assert [e.key for e in CAF(song).tags.entries].count("genre") == 1


def test_a_copy_protected_itunes_file_has_its_tags_read_and_written_and_is_never_decoded(tmp_path):
    # An iTunes Store purchase before 2009 (.m4p, FairPlay) was named as unread, so a library's old purchases never
    # showed, though their tags (the Store's genre) are plain MP4 atoms. ffmpeg decodes its encrypted bytes as plain
    # AAC (noise): its audio is refused by its sample entry ('drms' for 'mp4a'), saying why.
    from desktop.core.audio import AudioInfo, probe, read_segments
    from desktop.core.errors import AudioDecodeError

    store = make_protected_m4p(tmp_path, "store", {"title": "Song", "genre": "Rock"})
    assert read_tags(store).genres == ("Rock",) and read_tags(store).title == "Song"
    said = r"store\.m4p: copy-protected \(iTunes Store FairPlay\): its audio cannot be decoded, so it is not analysed"
    with pytest.raises(AudioDecodeError, match=said):
        probe(store)
    with pytest.raises(AudioDecodeError, match=said):
        read_segments(store, AudioInfo(60.0, 44100, 2), [(0.0, 1.0)], 16000)  # as if its probe had not refused
    audio = audio_hash(store, full=True)
    write_genres(store, ["Jazz"])
    assert read_tags(store).genres == ("Jazz",) and audio_hash(store, full=True) == audio


@pytest.mark.parametrize(("stumble", "said"), [
    (KeyError(106), "damaged file structure (KeyError)"),  # mutagen's ASF reader on a damaged WMA header
    (struct.error(), "damaged file structure (struct.error)"),  # was "(error)"
    (ValueError("invalid literal for int() with base 10: 'x'"), "damaged file structure (ValueError)"),
])
def test_a_tag_reader_stumbling_on_damaged_bytes_is_said_as_damage_not_in_its_own_words(tmp_path, monkeypatch, stumble,
                                                                                         said):
    # "cannot read tags (KeyError: 106)": a slip inside the tag library on a damaged file, in its words, where
    # mutagen's own errors ("FLACNoHeaderError: ... is not a valid FLAC file") say what is wrong.
    from desktop.core.formats import AudioFormat

    path = make_track(tmp_path, "song", "tones", "flac", 1.0)

    def stumbles(self, path, **options):
        raise stumble

    monkeypatch.setattr(AudioFormat, "open", stumbles)
    with pytest.raises(TagReadError) as caught:
        read_tags(path)
    assert caught.value.reason == f"cannot read tags ({said})"
    path.write_bytes(b"XXXX" + path.read_bytes()[4:])
    monkeypatch.undo()
    with pytest.raises(TagReadError, match=r"cannot read tags \(FLACNoHeaderError: .* is not a valid FLAC file\)"):
        read_tags(path)
