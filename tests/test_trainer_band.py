"""Band arrangements: composition, the MIDI file, rendering with fluidsynth, the corpus folder, bad input."""

from __future__ import annotations

import csv
import struct
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from trainer.distill.arrangements import (
    DRUM_CHANNEL,
    STEP,
    STYLES,
    TICKS_PER_BEAT,
    compose,
    midi_bytes,
    variable_length,
)
from trainer.distill.band_corpus import (
    DEFAULT_SOUNDFONT,
    GUITARS,
    RECORD_RMS,
    SAMPLE_RATE,
    amplified,
    build_band_corpus,
    leveled,
    master_amp,
    mastered,
)
from trainer.distill.corpus import CorpusError

QUIET = {"say": lambda *_: None}


def read_smf(data: bytes) -> tuple[int, list[tuple[int, bytes]]]:
    """A minimal reader for our own type-0 files: (ticks per beat, [(absolute tick, event bytes)])."""
    assert data[:4] == b"MThd"
    _size, kind, tracks, division = struct.unpack(">IHHH", data[4:14])
    assert (kind, tracks) == (0, 1)
    assert data[14:18] == b"MTrk"
    (length,) = struct.unpack(">I", data[18:22])
    body, i, now, events = data[22:], 0, 0, []
    assert len(body) == length
    while i < len(body):
        delta = 0
        while True:
            byte = body[i]
            i += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        now += delta
        size = 3 + body[i + 2] if body[i] == 0xFF else 2 if body[i] >> 4 == 0xC else 3
        events.append((now, body[i : i + size]))
        i += size
    return division, events


def test_variable_length_quantities():
    assert variable_length(0) == b"\x00"
    assert variable_length(127) == b"\x7f"
    assert variable_length(128) == b"\x81\x00"
    assert variable_length(0x3FFF) == b"\xff\x7f"
    assert variable_length(0x200000) == b"\x81\x80\x80\x00"


@pytest.mark.parametrize("style", list(STYLES))
def test_every_style_composes_a_playable_piece_of_the_asked_length(style):
    notes, programs, tempo = compose(style, np.random.default_rng(3), seconds=12)
    low, high = STYLES[style].tempo
    assert low <= tempo <= high
    assert set(programs) == {0, 1, 2} and all(0 <= p < 128 for p in programs.values())
    assert notes and all(0 <= n.key < 128 and 1 <= n.velocity <= 127 and n.length > 0 and n.start >= 0 for n in notes)
    seconds_of = 60 / tempo / TICKS_PER_BEAT
    end = max(n.start + n.length for n in notes) * seconds_of
    assert 11.5 <= end < 12 + 4 * 60 / tempo + 1  # about the asked length, at most a bar past it
    drums = [n for n in notes if n.channel == DRUM_CHANNEL]
    assert bool(drums) == bool(STYLES[style].drums[0])  # classical has no kit, every band style has one
    assert {n.channel for n in notes} - {DRUM_CHANNEL} == {0, 1, 2} or style == "classical"


def test_a_seed_fixes_the_piece_and_another_seed_changes_it():
    first = midi_bytes(*compose("rock", np.random.default_rng(1), 10))
    assert first == midi_bytes(*compose("rock", np.random.default_rng(1), 10))
    assert first != midi_bytes(*compose("rock", np.random.default_rng(2), 10))
    with pytest.raises(KeyError):
        compose("polka", np.random.default_rng(1), 10)


def test_midi_file_holds_the_tempo_programs_and_every_note_on_and_off():
    notes, programs, tempo = compose("blues", np.random.default_rng(5), 8)
    division, events = read_smf(midi_bytes(notes, programs, tempo))
    assert division == TICKS_PER_BEAT
    assert events[0] == (0, b"\xff\x51\x03" + (60_000_000 // tempo).to_bytes(3, "big"))
    assert {(e[0] & 0x0F, e[1]) for _t, e in events if e[0] >> 4 == 0xC} == set(programs.items())
    ons = sorted((t, e[0] & 0x0F, e[1]) for t, e in events if e[0] >> 4 == 0x9)
    offs = sorted((t, e[0] & 0x0F, e[1]) for t, e in events if e[0] >> 4 == 0x8)
    assert ons == sorted((n.start, n.channel, n.key) for n in notes)
    assert offs == sorted((n.start + n.length, n.channel, n.key) for n in notes)
    assert events[-1][1] == b"\xff\x2f\x00"
    # Swing pushes off-beat eighths late in a shuffle; the grid of a straight style stays within the humanising jitter.
    straight = compose("rock", np.random.default_rng(5), 8)[0]
    assert max(min(n.start % STEP, STEP - n.start % STEP) for n in straight) <= 12


def test_mastering_soft_clips_to_a_fixed_peak_and_keeps_silence():
    x = np.sin(np.linspace(0, 60, 2000)).astype(np.float32) * 0.1
    for drive in (1.0, 6.0):
        y = mastered(x, drive)
        assert np.isclose(np.abs(y).max(), 0.9, atol=1e-3)
    assert np.mean(np.abs(mastered(x, 6.0))) > np.mean(np.abs(mastered(x, 1.0)))  # driven harder: denser
    assert not mastered(np.zeros(10, np.float32), 3.0).any()


def band_energy(audio: np.ndarray, lo: float, hi: float) -> float:
    """Spectral energy of `audio` between lo and hi Hz."""
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)
    return float(spectrum[(freqs >= lo) & (freqs < hi)].sum())


def test_amplifier_distorts_within_the_cabinet_and_tightens_the_lows():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    note = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # [samples], a pure A3
    clean, driven = amplified(note, 1.0, 0.0), amplified(note, 30.0, 0.2)
    assert not amplified(np.zeros(100, np.float32), 30.0, 0.2).any()  # silence stays silence
    # Driven, the note gains harmonics (1-4 kHz against the fundamental), and the cabinet keeps the ones
    # above 6 kHz far weaker than a bare clipper's.
    assert band_energy(driven, 1000, 4000) / band_energy(driven, 200, 240) > 100 * (
        band_energy(clean, 1000, 4000) / band_energy(clean, 200, 240))
    bare = np.tanh(30.0 * note / np.abs(note).max() + 0.2) - np.tanh(0.2)
    assert band_energy(driven, 6000, 11000) / band_energy(driven, 200, 4000) < 0.05 * (
        band_energy(bare, 6000, 11000) / band_energy(bare, 200, 4000))
    rumble = (0.3 * np.sin(2 * np.pi * 40 * t)).astype(np.float32)
    assert np.std(amplified(rumble, 1.0, 0.0)) < 0.5 * np.std(rumble / 0.3)  # 40 Hz: high-passed


def test_leveling_reaches_a_records_loudness_and_keeps_silence():
    quiet = (0.01 * np.sin(np.linspace(0, 600, 22050))).astype(np.float32)
    for rms in RECORD_RMS:
        y = leveled(quiet, rms)
        assert np.isclose(np.sqrt(np.mean(y ** 2)), rms, rtol=0.03) and np.abs(y).max() < 1.0
    assert not leveled(np.zeros(10, np.float32), 0.1).any()


def test_amp_mastering_renders_the_guitars_apart_and_levels_the_mix():
    asked = []

    def render(notes):  # a stand-in for fluidsynth: one sine per channel, so each stem is audible
        asked.append(sorted({n.channel for n in notes}))
        t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
        return sum(0.2 * np.sin(2 * np.pi * 110 * (c + 1) * t) for c in {n.channel for n in notes}).astype(np.float32)

    rng = np.random.default_rng(0)
    notes, programs, _tempo = compose("metal", rng, 6)
    assert programs[1] in GUITARS  # metal comps on a distorted guitar
    guitar_channels = sorted(c for c, p in programs.items() if p in GUITARS)
    audio = master_amp(notes, programs, "metal", rng, render)
    assert asked == [guitar_channels, sorted({n.channel for n in notes} - set(guitar_channels))]
    assert RECORD_RMS[0] * 0.9 < np.sqrt(np.mean(audio ** 2)) < RECORD_RMS[1] * 1.1
    asked.clear()
    notes, programs, _tempo = compose("classical", rng, 6)
    assert not any(p in GUITARS for p in programs.values())
    master_amp(notes, programs, "classical", rng, render)
    assert asked == [sorted({n.channel for n in notes})]  # no guitar: the whole band in one render


def test_band_corpus_renders_pieces_lists_them_and_resumes(tmp_path):
    manifest = build_band_corpus(tmp_path / "band", pieces=3, seconds=4, styles=["rock", "reggae"], **QUIET)
    rows = list(csv.DictReader(open(manifest, encoding="utf-8")))
    assert [r["source"] for r in rows] == ["band-rock", "band-reggae", "band-rock"]
    stamps = []
    for row in rows:
        path = tmp_path / "band" / row["path"]
        audio, rate = soundfile.read(path)
        assert rate == 22050 and audio.ndim == 1 and len(audio) == 4 * 22050
        assert 0.5 < np.abs(audio).max() <= 0.9 + 1e-3  # rendered and mastered, not silence
        stamps.append(path.stat().st_mtime_ns)
    assert not list((tmp_path / "band").rglob("*.part"))
    build_band_corpus(tmp_path / "band", pieces=3, seconds=4, styles=["rock", "reggae"], **QUIET)
    assert [(tmp_path / "band" / r["path"]).stat().st_mtime_ns for r in rows] == stamps  # kept, not re-rendered


def test_amp_mastered_corpus_is_at_a_records_loudness_and_is_never_mixed_with_another(tmp_path):
    band = tmp_path / "band"
    manifest = build_band_corpus(band, pieces=2, seconds=4, styles=["metal", "country"], mastering="amp", **QUIET)
    for row in csv.DictReader(open(manifest, encoding="utf-8")):
        audio, _rate = soundfile.read(band / row["path"])
        assert 0.05 < np.sqrt(np.mean(audio ** 2)) < 0.3  # a record's level, not a square wave's
    # Resuming the folder with other settings would mix two kinds of piece: refused, naming the record.
    with pytest.raises(CorpusError, match=r"band\.json: the pieces .*\(mastering 'amp' there, 'drive' asked"):
        build_band_corpus(band, pieces=3, seconds=4, styles=["metal", "country"], **QUIET)
    with pytest.raises(CorpusError, match="seed 0 there, 1 asked"):
        build_band_corpus(band, pieces=3, seconds=4, styles=["metal", "country"], mastering="amp", seed=1, **QUIET)
    assert len(list(band.rglob("*.flac"))) == 2
    # A folder from before the record holds drive-mastered pieces: amp refused, drive resumes it.
    (band / "band.json").unlink()
    with pytest.raises(CorpusError, match="mastering 'drive' there, 'amp' asked"):
        build_band_corpus(band, pieces=2, seconds=4, styles=["metal", "country"], mastering="amp", **QUIET)
    (band / "band.json").write_text("{not json")
    with pytest.raises(CorpusError, match=r"band\.json: unreadable"):
        build_band_corpus(band, pieces=2, seconds=4, styles=["metal", "country"], mastering="amp", **QUIET)


def test_band_corpus_refuses_bad_input_naming_it(tmp_path, monkeypatch):
    with pytest.raises(CorpusError, match="no such soundfont"):
        build_band_corpus(tmp_path / "a", 1, soundfont=tmp_path / "missing.sf2", **QUIET)
    not_a_soundfont = tmp_path / "notes.sf2"
    not_a_soundfont.write_text("not a soundfont")
    with pytest.raises(CorpusError, match=r"notes\.sf2: not a SoundFont 2 file"):
        build_band_corpus(tmp_path / "b", 1, soundfont=not_a_soundfont, seconds=3, **QUIET)
    # A soundfont fluidsynth cannot play (here: the header of one, and nothing else) renders silence: refused,
    # and nothing half-made is left under a real name.
    hollow = tmp_path / "hollow.sf2"
    hollow.write_bytes(b"RIFF" + (4).to_bytes(4, "little") + b"sfbk")
    with pytest.raises(CorpusError, match=r"hollow\.sf2: fluidsynth rendered silence"):
        build_band_corpus(tmp_path / "b", 1, soundfont=hollow, seconds=3, **QUIET)
    assert not list((tmp_path / "b").rglob("*.flac")) and not list((tmp_path / "b").rglob("*.part"))
    with pytest.raises(CorpusError, match="unknown style 'polka'"):
        build_band_corpus(tmp_path / "c", 1, styles=["polka"], **QUIET)
    with pytest.raises(ValueError, match="at least one piece"):
        build_band_corpus(tmp_path / "d", 0, **QUIET)
    with pytest.raises(CorpusError, match="unknown mastering 'loud'"):
        build_band_corpus(tmp_path / "c", 1, mastering="loud", **QUIET)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CorpusError, match="fluidsynth not found"):
        build_band_corpus(tmp_path / "e", 1, seconds=3, **QUIET)


def test_band_command_line_writes_the_corpus_or_names_the_bad_soundfont(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "trainer", "band", "--out", str(tmp_path / "band"), "--pieces", "1",
                         "--seconds", "3", "--styles", "jazz"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "band" / "audio" / "jazz" / "00000.flac").is_file()
    bad = subprocess.run([sys.executable, "-m", "trainer", "band", "--out", str(tmp_path / "x"), "--pieces", "1",
                          "--soundfont", str(tmp_path / "none.sf2")], capture_output=True, text=True)
    assert bad.returncode == 2 and "none.sf2: no such soundfont" in bad.stderr and "Traceback" not in bad.stderr
    loud = subprocess.run([sys.executable, "-m", "trainer", "band", "--out", str(tmp_path / "y"), "--pieces", "1",
                           "--mastering", "loud"], capture_output=True, text=True)
    assert loud.returncode == 2 and "unknown mastering 'loud'; known: drive, amp" in loud.stderr
    assert DEFAULT_SOUNDFONT.endswith(".sf2")
