"""Decoding the analysed parts of a track: every format gives its whole length, and each part in full."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop.core.audio import probe, read_segments
from tests.audio_files import ENCODINGS, ffmpeg_available, make_track

pytestmark = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is needed to make the test files")


@pytest.mark.parametrize("ext", list(ENCODINGS))
def test_every_format_decodes_its_whole_length_and_parts_from_anywhere(tmp_path, ext):
    # ffmpeg could neither seek into a Musepack file (a part 1 s in came back 0.7 s long) nor tell its length
    # (3.3 s for 4 s): the windows of the track's later parts were short or never analysed.
    wav = make_track(tmp_path, "source", "tones", "wav", 4.0, seed=5)
    track = make_track(tmp_path, "track", "tones", ext, 4.0, seed=5)
    assert probe(track).duration == pytest.approx(4.0, abs=0.1)
    rate, parts = 16000, [(0.0, 1.0), (1.0, 2.0), (2.5, 1.0)]
    got_all, want_all = read_segments(track, probe(track), parts, rate), read_segments(wav, probe(wav), parts, rate)
    for (_, seconds), got, want in zip(parts, got_all, want_all, strict=True):
        # The whole part: codecs pad or trim a little (ffmpeg's WMA decoder starts 0.09 s short).
        assert len(got) == pytest.approx(seconds * rate, rel=0.1)
        rms, expected = float(np.sqrt(np.mean(got**2))), float(np.sqrt(np.mean(want**2)))
        assert rms == pytest.approx(expected, rel=0.2)


@pytest.mark.parametrize("ext", ["flac", "mp3", "wav", "aiff", "aifc", "wma", "wv", "mpc", "ape", "tta", "dsf", "dff", "webm",
                                 "mka"])
def test_a_file_cut_short_is_analysed_from_the_part_that_is_there_and_says_so(tmp_path, exported_model, ext):
    # A copy or download that did not finish: FLAC failed whole ("flac decoder lost sync"), WavPack with
    # "Input/output error", Monkey's Audio with "no audio stream"; an MP3 was analysed with silence for its end, unsaid.
    from desktop.core.analysis import ERROR, Analyzer
    from desktop.core.model import GenreModel

    whole = make_track(tmp_path, "whole", "tones", ext, 10.0, seed=7)
    cut = tmp_path / f"cut.{ext}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 5])
    stub = tmp_path / f"stub.{ext}"
    stub.write_bytes(data[:2048])  # its header and next to no audio
    analyzer = Analyzer(GenreModel(exported_model, device="cpu"))
    full, part, none = analyzer.analyse([whole, cut, stub])
    assert full.status != ERROR and full.note is None and len(full.window_starts) == 8  # every window planned
    assert part.status != ERROR and part.top_genre is not None
    assert part.note and part.note.startswith("only the first ") and "of the 10 s its header gives could be decoded" in part.note
    assert 1 <= len(part.window_starts) <= 4 and max(part.window_starts) < 4.0
    assert none.status == ERROR and none.top_genre is None and none.error


@pytest.mark.parametrize("ext", ["ogg", "opus", "flac.oga", "spx"])
def test_an_ogg_file_cut_short_says_its_stream_stops_before_its_end(tmp_path, exported_model, ext):
    # No Ogg header gives a stream's length, so a cut file looked like a whole short track (an Opus cut to 3 s was
    # "shorter than one 3 s window", said of a 10 s song). Its last whole page lacks the end-of-stream flag.
    import contextlib
    import re

    from desktop.core.analysis import ERROR, TOO_SHORT, Analyzer
    from desktop.core.errors import AudioDecodeError
    from desktop.core.model import GenreModel
    from desktop.core.ogg_end import stops_before_its_last_page
    from desktop.services.models import shipped_models_dir

    whole = make_track(tmp_path, "whole", "tones", ext, 10.0, seed=7)
    data = whole.read_bytes()
    cut, stub = tmp_path / f"cut.{ext}", tmp_path / f"stub.{ext}"
    cut.write_bytes(data[: len(data) * 3 // 5])
    for boundary in [m.start() for m in re.finditer(b"OggS", data)][1:]:  # the first whole pages, about 2 s of audio
        stub.write_bytes(data[:boundary])
        with contextlib.suppress(AudioDecodeError):  # the headers alone
            if 1.5 < probe(stub).duration < 2.5:
                break
    else:
        pytest.fail("no page ends 2 s in")
    assert not stops_before_its_last_page(whole) and stops_before_its_last_page(cut)
    full, part = Analyzer(GenreModel(exported_model, device="cpu")).analyse([whole, cut])
    assert full.status != ERROR and full.note is None
    assert part.status != ERROR and part.top_genre is not None and part.duration < 8
    assert part.note.startswith("its stream stops after ") and part.note.endswith("its genre comes from that part")
    [short] = Analyzer(GenreModel(shipped_models_dir() / "default.onnx", device="cpu")).analyse([stub])  # 3 s windows
    assert short.status == TOO_SHORT and short.top_genre is None
    assert short.note == "its stream stops after 2 s, before its end (cut short? a copy or download that did not finish)"


def test_an_mp4_file_cut_before_its_index_says_it_may_be_cut_short(tmp_path):
    # ffmpeg writes an MP4 file's index (moov atom) after its audio: a file cut short has none, and "moov atom not
    # found" alone did not tell a listener why.
    from desktop.core.errors import AudioDecodeError

    whole = make_track(tmp_path, "whole", "tones", "m4a", 4.0)
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(AudioDecodeError, match="no moov atom: its audio's index is missing, as in a copy or "
                                               "download that did not finish"):
        probe(cut)


def test_a_wma_broadcast_whose_header_gives_no_length_is_measured_by_ffprobe(tmp_path):
    # A WMA file's length comes from its header (so one cut short is said), but a live broadcast's header has none
    # (the broadcast flag set, play and send durations 0): its length is then what ffprobe measures, not an error.
    import struct
    import uuid

    from desktop.core.errors import AudioDecodeError

    song = make_track(tmp_path, "live", "tones", "wma", 4.0)
    data = bytearray(song.read_bytes())
    at = data.index(uuid.UUID("8CABDCA1-A947-11CF-8EE4-00C00C205365").bytes_le)  # the File Properties object
    data[at + 64:at + 80] = bytes(16)  # play and send durations
    data[at + 88:at + 92] = struct.pack("<I", 3)  # flags: broadcast, seekable
    broadcast = tmp_path / "broadcast.wma"
    broadcast.write_bytes(bytes(data))
    assert probe(song).duration == pytest.approx(4.0, abs=0.1)
    assert probe(broadcast).duration == pytest.approx(4.0, abs=0.5)
    data[at + 88:at + 92] = struct.pack("<I", 2)  # not a broadcast, yet no length (ffprobe: -3.1 s): measured
    broadcast.write_bytes(bytes(data))
    assert probe(broadcast).duration == pytest.approx(4.0, abs=0.5)
    data[at + 100:] = bytes(len(data) - at - 100)  # and nothing after its header decodes: said
    broadcast.write_bytes(bytes(data))
    with pytest.raises(AudioDecodeError, match=r"broadcast\.wma: cannot (tell its length|read audio)"):
        probe(broadcast)


def test_a_wav_whose_header_gives_no_size_or_a_slight_miscount_is_not_said_to_be_cut_short(tmp_path):
    # A WAV written to a pipe (ffmpeg, some recorders) keeps the placeholder size 0xFFFFFFFF, and some writers count
    # too many (here 0.45 s): neither is a file cut short, and its length is what libsndfile measures.
    import subprocess

    whole = make_track(tmp_path, "whole", "tones", "wav", 10.0)
    streamed = tmp_path / "streamed.wav"
    with open(streamed, "wb") as out:
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(whole), "-f", "wav", "-"], stdout=out, check=True)
    assert b"data\xff\xff\xff\xff" in streamed.read_bytes()[:200]
    data = bytearray(whole.read_bytes())
    at = data.index(b"data") + 4
    data[at:at + 4] = (int.from_bytes(data[at:at + 4], "little") + 20000).to_bytes(4, "little")
    miscounted = tmp_path / "miscounted.wav"
    miscounted.write_bytes(bytes(data))
    for path in (streamed, miscounted):
        assert probe(path).duration == pytest.approx(10.0, abs=0.05), path.name


def test_a_wav_whose_audio_chunk_says_0_bytes_is_heard_whole_hashed_by_its_audio_and_never_written(tmp_path):
    # A recording streamed and never finished keeps the data chunk's size at 0: players (ffmpeg) read on to the
    # file's end, libsndfile found "no audio frames", and its audio hash was the hash of nothing, one for every such
    # file (a different recording could pass for this one moved).
    from desktop.core.errors import TagWriteError
    from desktop.core.fingerprint import audio_hash
    from desktop.core.tags import write_genres

    def unsized(source: Path) -> Path:
        data = bytearray(source.read_bytes())
        at = data.index(b"data") + 4
        data[at:at + 4] = bytes(4)
        out = source.with_name(f"unsized {source.name}")
        out.write_bytes(bytes(data))
        return out

    tones, beats = make_track(tmp_path, "tones", "tones", "wav", 6.0), make_track(tmp_path, "beats", "beats", "wav", 6.0)
    unsized_tones, unsized_beats = unsized(tones), unsized(beats)
    assert probe(unsized_tones).duration == pytest.approx(6.0, abs=0.05)
    (heard,) = read_segments(unsized_tones, probe(unsized_tones), [(2.0, 1.0)], 16000)
    (plain,) = read_segments(tones, probe(tones), [(2.0, 1.0)], 16000)
    assert len(heard) == len(plain) and np.corrcoef(heard, plain)[0, 1] > 0.99  # ffmpeg's resampler, not soxr's
    assert audio_hash(unsized_tones) == audio_hash(tones) != audio_hash(unsized_beats) == audio_hash(beats)
    before = unsized_tones.read_bytes()
    with pytest.raises(TagWriteError, match="its WAV header gives no size .*nothing written"):
        write_genres(unsized_tones, ["Jazz"])
    assert unsized_tones.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "beats.wav", "tones.wav", "unsized beats.wav", "unsized tones.wav"]


@pytest.mark.parametrize(("ext", "ffmpeg_format"), [("flac", "flac"), ("webm", "webm"), ("mka", "matroska"), ("wv", "wv")])
def test_a_file_written_to_a_pipe_without_its_length_is_measured_and_heard_whole(tmp_path, ext, ffmpeg_format):
    # Written to a pipe (a live recording: a browser's WebM, `ffmpeg ... -f flac - > x.flac`), a file's headers give
    # no length: libsndfile gave such a FLAC 418293516410647 s, "only the first 7 s could be decoded (cut short?)",
    # and ffprobe's missing length was said as "no audio stream".
    import subprocess

    whole = make_track(tmp_path, "whole", "tones", "wav", 8.0)
    piped = tmp_path / f"piped.{ext}"
    with open(piped, "wb") as out:
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(whole), "-f", ffmpeg_format, "-"], stdout=out,
                       check=True)
    assert probe(piped).duration == pytest.approx(8.0, abs=0.1)
    (heard,) = read_segments(piped, probe(piped), [(6.5, 1.0)], 16000)
    assert len(heard) > 15000 and np.abs(heard).max() > 0.01  # its last seconds are there to hear (Opus: less its delay)


def test_opus_streams_chained_one_after_another_are_heard_to_the_end(tmp_path):
    # Recordings joined by `cat` (a radio show saved in parts): libsndfile cannot tell the length (2**63 - 1 frames)
    # and decodes only the first stream, so the second was "cut short?".
    import subprocess

    parts = []
    for n, genre in enumerate(("tones", "beats")):
        source = make_track(tmp_path, f"part{n}", genre, "wav", 5.0)
        parts.append(tmp_path / f"part{n}.opus")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(source), str(parts[-1])], check=True)
    chained = tmp_path / "chained.opus"
    chained.write_bytes(b"".join(p.read_bytes() for p in parts))
    assert probe(chained).duration == pytest.approx(10.0, abs=0.1)
    (heard,) = read_segments(chained, probe(chained), [(8.0, 1.0)], 16000)
    assert len(heard) > 15000 and np.abs(heard).max() > 0.01


def test_a_file_without_its_length_that_does_not_decode_is_named(tmp_path):
    from desktop.core.audio import _measured_length
    from desktop.core.errors import AudioDecodeError

    junk = tmp_path / "junk.webm"
    junk.write_bytes(b"\x1aE\xdf\xa3" + bytes(64))
    with pytest.raises(AudioDecodeError, match=r"junk\.webm: cannot tell its length: its headers give none, and "):
        _measured_length(junk)


@pytest.mark.parametrize(("name", "ffmpeg_options"), [
    ("piped.aiff", ["-f", "aiff", "-"]),  # written to a pipe: every size 0, which the tag library cannot read
    ("rf64.wav", ["-rf64", "always", "-f", "wav", "-"]),  # the 64-bit form: "damaged file structure (no RIFF header)"
])
def test_a_file_the_tag_library_cannot_read_but_whose_audio_decodes_is_heard_and_never_written(tmp_path, name,
                                                                                                  ffmpeg_options):
    import subprocess

    from desktop.core.errors import TagWriteError
    from desktop.core.fingerprint import audio_hash
    from desktop.core.tags import FileTags, read_tags, write_genres

    whole = make_track(tmp_path, "whole", "tones", "wav", 6.0)
    made = tmp_path / name
    with open(made, "wb") as out:
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(whole), *ffmpeg_options], stdout=out, check=True)
    assert probe(made).duration == pytest.approx(6.0, abs=0.05)
    assert read_tags(made) == FileTags()  # none read: its genre comes from listening
    if name.endswith(".wav"):
        assert audio_hash(made) == audio_hash(whole)  # the same audio in a 64-bit form
    before = made.read_bytes()
    with pytest.raises(TagWriteError, match="(header gives no size|an RF64 WAV).*; nothing written"):
        write_genres(made, ["Jazz"])
    assert made.read_bytes() == before


def test_a_wav_written_to_a_pipe_keeps_its_genre_and_is_never_written(tmp_path):
    # `ffmpeg ... -f wav - > x.wav` leaves the RIFF and data sizes at the placeholder 0xFFFFFFFF: the tag library
    # reads its INFO genre, but a write failed with "cannot write tags (error: 'I' format requires 0 <= number <=
    # 4294967295)", its struct's words, not the file's.
    import subprocess

    from desktop.core.errors import TagWriteError
    from desktop.core.tags import read_tags, write_genres

    whole = make_track(tmp_path, "whole", "tones", "wav", 4.0)
    piped = tmp_path / "piped.wav"
    with open(piped, "wb") as out:
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(whole), "-metadata", "genre=Jazz", "-f", "wav",
                        "-"], stdout=out, check=True)
    assert piped.read_bytes()[4:8] == b"\xff" * 4
    assert read_tags(piped).genres == ("Jazz",)
    before = piped.read_bytes()
    with pytest.raises(TagWriteError, match=r"piped\.wav: its WAV header gives no size \(written to a pipe.*; nothing "
                                            r"written"):
        write_genres(piped, ["Blues"])
    assert piped.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["piped.wav", "whole.wav"]


def test_ffmpegs_words_on_a_damaged_file_are_named_without_its_internals(tmp_path):
    # "cannot read audio ([ape @ 0x560dfb3538c0] Unsupported file version - 19.71\n/m/live.ape: Not yet implemented
    # in FFmpeg, patches welcome)": an address, the path again and a line break, in the listener's problems panel.
    from desktop.core.audio import ffmpeg_reason, soundfile_reason
    from desktop.core.errors import AudioDecodeError

    fake = tmp_path / "live.ape"
    fake.write_bytes(b"MAC \x00" * 100)
    with pytest.raises(AudioDecodeError) as caught:
        probe(fake)
    reason = caught.value.reason  # ffmpeg 5.1: "Unsupported file version - 19.71; not supported by ffmpeg"
    assert reason.startswith("cannot read audio (") and "@ 0x" not in reason and str(fake) not in reason
    assert "\n" not in reason and "patches welcome" not in reason
    said = b"[mp3 @ 0x55d1] Header missing\n[mp3 @ 0x55d1] Header missing\n/m/a.mp3: Invalid data\n\n"
    assert ffmpeg_reason(Path("/m/a.mp3"), said, "none") == "Header missing; Invalid data"
    assert ffmpeg_reason(Path("/m/a.mp3"), b"", "no audio stream") == "no audio stream"
    # libsndfile's words: "Internal" read as a fault of ours
    assert soundfile_reason(RuntimeError("Internal psf_fseek() failed.")).startswith("damaged, or cut short")
    assert soundfile_reason(RuntimeError("Supported file format but file is malformed.")) == "damaged file structure"
    assert soundfile_reason(RuntimeError("Format not recognised.")) == "Format not recognised."
    said = b"[vorbis @ 0x55d1] Invalid packet\n    Last message repeated 5 times\n/m/a.oga: End of file\n"
    assert ffmpeg_reason(Path("/m/a.oga"), said, "none") == "Invalid packet; End of file"  # not its log's folding


def test_a_track_whose_windows_fail_before_its_end_is_not_said_to_be_cut_short():
    # A file whose first seconds would not decode (damaged there) was "only the first 5 s of the 5 s its header gives
    # could be decoded (cut short?)"; one cut at 4.6 s of 5 said "5 s of the 5 s" too.
    from desktop.core.analysis import _part_heard

    damaged = _part_heard([0.0, 2.0, 4.0], [False, True, True], 3.0, 7.0)
    assert damaged == "1 of the 3 parts listened to could not be decoded (damaged there?); its genre comes from the rest"
    assert _part_heard([0.0, 2.0], [True, False], 3.0, 30.0).startswith("only the first 3 s of the 30 s its header ")
    assert _part_heard([0.0, 1.6], [True, False], 3.0, 5.0).startswith("only the first 3 s of the 5 s ")
    assert _part_heard([0.0, 1.6, 2.0], [True, True, False], 3.0, 5.0).startswith("only the first 4.6 s of the 5.0 s ")


def test_the_windows_problems_panel_lists_a_track_analysed_from_part_of_its_file():
    from desktop.core.analysis import TrackAnalysis
    from desktop.core.scan import ScanProblem
    from desktop.services.library import SyncReport
    from desktop.services.scanning import ScanReport

    report = ScanReport(sync=SyncReport(problems=[ScanProblem(Path("/m/x.ogg"), "damaged file structure")]), results=[
        TrackAnalysis(Path("/m/a.flac"), "analysed", note="only the first 12 s of the 30 s its header gives could be decoded"),
        TrackAnalysis(Path("/m/b.flac"), "error", error="cannot decode audio"),
        TrackAnalysis(Path("/m/c.flac"), "no_music", error="all 3 windows listened to are silent"),
        TrackAnalysis(Path("/m/d.flac"), "analysed")])
    assert report.problems == [("/m/x.ogg", "damaged file structure"), ("/m/b.flac", "cannot decode audio"),
                               ("/m/a.flac", "only the first 12 s of the 30 s its header gives could be decoded")]


@pytest.mark.parametrize("ext", ["mp3", "flac", "m4a", "ogg", "wav", "wma"])
def test_a_web_page_saved_as_a_song_is_called_a_web_page(tmp_path, ext):
    # A download that failed saves the site's error page under the song's name: "cannot read tags
    # (HeaderNotFoundError: can't sync to MPEG frame)" did not say what the file was.
    from desktop.core.errors import AudioDecodeError, GenreTaggerError, TagReadError
    from desktop.core.fingerprint import audio_hash
    from desktop.core.tags import read_tags

    page = tmp_path / f"song.{ext}"
    page.write_bytes(b"\xef\xbb\xbf\n<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n")
    said = r"song\.\w+: a web page, not audio \(a download that failed"
    with pytest.raises(TagReadError, match=said):
        read_tags(page)
    with pytest.raises(AudioDecodeError, match=said):
        probe(page)
    try:
        audio_hash(page)
    except GenreTaggerError as exc:
        assert exc.reason.startswith("a web page, not audio")


@pytest.mark.parametrize("ext", ["mp3", "flac", "ogg", "opus", "m4a", "wav", "aiff", "wma", "wv", "mpc", "ape", "tta", "dsf",
                                 "dff", "mp2", "aac", "ac3", "webm", "mka", "spx", "caf"])
def test_an_empty_file_is_called_empty_in_every_format(tmp_path, ext):
    # A file of no bytes (a copy, download or sync that never started) was named in each reader's own words: "cannot
    # read tags (HeaderNotFoundError: can't sync to MPEG frame)", "damaged file structure (no FLAC signature)",
    # "cannot read audio (Invalid data found when processing input)".
    from desktop.core.errors import AudioDecodeError, TagReadError
    from desktop.core.fingerprint import audio_hash
    from desktop.core.tags import read_tags

    empty = tmp_path / f"song.{ext}"
    empty.touch()
    said = r"song\.\w+: empty file \(0 bytes"
    with pytest.raises(TagReadError, match=said):
        read_tags(empty)
    with pytest.raises(AudioDecodeError, match=said):
        probe(empty)
    try:
        audio_hash(empty)  # a bare stream's regions are empty: nothing to fail on
    except AudioDecodeError as exc:
        assert "empty file (0 bytes" in exc.reason


def test_a_file_is_looked_into_once_to_choose_its_reader_not_again_for_each_read(tmp_path, monkeypatch):
    # Every read (and each window read again one by one after a failure) checked the WAV size, the Ogg chain and
    # libsndfile's header anew: the probe's choice is followed instead.
    import soundfile

    import desktop.core.audio as audio_module

    files = [make_track(tmp_path, name, "tones", ext, 4.0) for name, ext in (("a", "wav"), ("b", "opus"), ("c", "mp3"))]
    probed = [probe(path) for path in files]
    assert [info.reader for info in probed] == [audio_module.LIBSNDFILE] * 3  # libsndfile reads Opus and MP3 too
    for name in ("sized_as_empty", "is_chained"):
        monkeypatch.setattr(audio_module, name, lambda *_a: pytest.fail("looked into the file again"))
    monkeypatch.setattr(soundfile, "info", lambda *_a, **_k: pytest.fail("asked libsndfile about it again"))
    for path, info in zip(files, probed, strict=True):
        (heard,) = read_segments(path, info, [(1.0, 1.0)], 16000)
        assert len(heard) == 16000
