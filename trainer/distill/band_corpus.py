"""Render composed band arrangements (trainer.distill.arrangements) into an unlabelled corpus folder.

The result is laid out like `python -m trainer corpus`'s: audio/<style>/NNNN.flac and manifest.csv
(path, source), so `teach` reads it unchanged and `distill --more-windows` trains on it. Rendering
uses the fluidsynth program and a General MIDI soundfont (Debian: fluidsynth, fluid-soundfont-gm).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from trainer.distill.arrangements import STYLES, Note, compose, midi_bytes
from trainer.distill.corpus import CorpusError, write_manifest

DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SAMPLE_RATE = 22050
# How hard the finished mix is driven into a soft clipper, per style (drawn uniformly): band music on
# records is compressed and saturated; a plain General MIDI render sounds like a demo, and the teacher
# hears the difference (a metal arrangement rendered clean is "jazz" to a GTZAN classifier, driven "metal").
DRIVE = {"rock": (2.0, 5.0), "metal": (4.0, 8.0), "hiphop": (1.0, 3.0), "disco": (1.0, 3.0), "pop": (1.0, 3.0)}


def fluidsynth_program() -> str:
    """Path of the fluidsynth program, or CorpusError saying how to install it."""
    found = shutil.which("fluidsynth")
    if not found:
        raise CorpusError("fluidsynth not found: install it (Debian: apt-get install fluidsynth fluid-soundfont-gm)")
    return found


def render_midi(midi: bytes, soundfont: Path, fluidsynth: str, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render a Standard MIDI File with the `fluidsynth` program at that path; mono float32 [samples], CorpusError with its
    message on failure."""
    import soundfile

    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "piece.mid", Path(tmp) / "piece.wav"
        mid.write_bytes(midi)
        # The default soundfont set to ours, so a soundfont fluidsynth cannot load is not replaced by another.
        command = [fluidsynth, "-ni", "-q", "-o", f"synth.default-soundfont={soundfont}", "-g", "0.5",
                   "-r", str(sample_rate), "-F", str(wav), str(soundfont), str(mid)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not wav.is_file() or wav.stat().st_size == 0:
            raise CorpusError(f"{soundfont}: fluidsynth could not render: {(result.stderr or result.stdout).strip()}")
        audio, _rate = soundfile.read(wav, dtype="float32", always_2d=True)  # [samples, channels]
    # fluidsynth exits 0 and writes silence (its dither only) when it cannot load the soundfont: say so
    # rather than train on it.
    if np.abs(audio).max(initial=0.0) < 1e-3:
        said = [line for line in (result.stderr + result.stdout).splitlines() if "Failed to load" in line]
        raise CorpusError(f"{soundfont}: fluidsynth rendered silence ({said[0].strip() if said else 'no message'}); "
                          "is it a General MIDI soundfont?")
    return audio.mean(axis=1)  # [samples]


def mastered(audio: np.ndarray, drive: float) -> np.ndarray:
    """Peak-normalise, then soft-clip with tanh at `drive` (1 keeps it nearly clean) to a peak of 0.9."""
    x = normalised(audio)  # [samples], peak 1 (silence stays silence)
    return (0.9 * np.tanh(drive * x) / np.tanh(drive)).astype(np.float32)


GUITARS = range(24, 32)  # General MIDI's guitar programs (nylon ... harmonics)
# Amplifier gain on the guitar stem, per style (drawn uniformly); styles not named play their guitars clean.
AMP_GAIN = {"metal": (20.0, 60.0), "rock": (6.0, 20.0), "blues": (3.0, 8.0), "country": (1.5, 3.0)}
# Loudness of a finished record: GTZAN's clips lie at an RMS of about 0.06 to 0.3 (full scale 1).
RECORD_RMS = (0.08, 0.22)


def amplified(stem: np.ndarray, gain: float, bias: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A guitar amplifier in three steps: tighten the lows (high-pass 120 Hz), clip asymmetrically (a biased
    tanh at `gain`, as a valve stage does), and the speaker cabinet's roll-off (4th-order low-pass 4.5 kHz),
    which turns clipping's harsh upper harmonics into the familiar distorted-guitar sound."""
    from scipy.signal import butter, sosfilt

    x = sosfilt(butter(1, 120, "highpass", fs=sample_rate, output="sos"), normalised(stem))  # [samples]
    clipped = np.tanh(gain * x + bias) - np.tanh(bias)  # [samples], zero stays zero
    return sosfilt(butter(4, 4500, "lowpass", fs=sample_rate, output="sos"), clipped).astype(np.float32)


def normalised(audio: np.ndarray) -> np.ndarray:
    """Scaled to a peak of 1 (silence unchanged)."""
    peak = float(np.abs(audio).max(initial=0.0))
    return audio / peak if peak > 0.0 else audio


def leveled(audio: np.ndarray, rms: float) -> np.ndarray:
    """Scaled to a record's loudness `rms`; a tanh then only rounds the few peaks that pass full scale."""
    power = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if power == 0.0:
        return audio.astype(np.float32)
    return np.tanh(audio * (rms / power)).astype(np.float32)


def mix(a: np.ndarray, b: np.ndarray, share_b: float) -> np.ndarray:
    """Two stems at equal peak level, b at `share_b` of a's, padded to the longer one."""
    n = max(len(a), len(b))
    a, b = np.pad(normalised(a), (0, n - len(a))), np.pad(normalised(b), (0, n - len(b)))
    return (0.6 * a + 0.6 * share_b * b).astype(np.float32)  # [n]


def master_drive(notes: list[Note], programs: dict[int, int], style: str, rng: np.random.Generator, render) -> np.ndarray:
    """Session 19's mastering: the whole band in one render (`render(notes)` -> audio), driven into a soft
    clipper (DRIVE)."""
    lo, hi = DRIVE.get(style, (1.0, 1.5))
    return mastered(render(notes), float(rng.uniform(lo, hi)))


def master_amp(notes: list[Note], programs: dict[int, int], style: str, rng: np.random.Generator, render) -> np.ndarray:
    """The guitars rendered on their own and played through an amplifier (AMP_GAIN), mixed back over the
    rest of the band, the mix brought to a record's loudness (`drive` squares the drums and bass too and
    leaves the mix several times louder than a record). The teacher tags these metal and rock renders
    "rock" where it heard the driven ones as "experimental" or "indie", but students distilled on them
    separate GTZAN's genres no better (models/default.md, session 20): not the default."""
    guitar_channels = {channel for channel, program in programs.items() if program in GUITARS}
    guitars = [n for n in notes if n.channel in guitar_channels]
    band = [n for n in notes if n.channel not in guitar_channels]
    if not guitars or not band:  # nothing to play through an amplifier, or nothing beside it
        return leveled(render(notes), float(rng.uniform(*RECORD_RMS)))
    stem = render(guitars)
    lo, hi = AMP_GAIN.get(style, (1.0, 1.0))
    if hi > 1.0:
        stem = amplified(stem, float(rng.uniform(lo, hi)), float(rng.uniform(0.0, 0.3)))
    audio = mix(render(band), stem, float(rng.uniform(0.6, 1.3)))
    return leveled(audio, float(rng.uniform(*RECORD_RMS)))


# How a piece's notes become its audio: `build_band_corpus(mastering=...)`, `trainer band --mastering`.
MASTERINGS = {"drive": master_drive, "amp": master_amp}


def build_band_corpus(out: str | Path, pieces: int, soundfont: str | Path = DEFAULT_SOUNDFONT, seconds: float = 30.0,
                      seed: int = 0, styles: list[str] | None = None, mastering: str = "drive", say=print) -> Path:
    """Compose and render `pieces` pieces, the styles taken in turn, each made audio by MASTERINGS[mastering];
    returns manifest.csv. Pieces already rendered (same settings) are kept, so an interrupted build resumes."""
    import soundfile

    if pieces < 1 or seconds < 3:
        raise ValueError(f"need at least one piece of at least 3 s (one window), got {pieces} of {seconds:g} s")
    if mastering not in MASTERINGS:
        raise CorpusError(f"unknown mastering {mastering!r}; known: {', '.join(MASTERINGS)}")
    soundfont = Path(soundfont)
    if not soundfont.is_file():
        raise CorpusError(f"{soundfont}: no such soundfont (Debian: apt-get install fluid-soundfont-gm)")
    with open(soundfont, "rb") as fh:
        head = fh.read(12)
    # fluidsynth would skip a file that is not one and render with its own default soundfont, if any.
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise CorpusError(f"{soundfont}: not a SoundFont 2 file (no RIFF sfbk header)")
    chosen = styles or list(STYLES)
    unknown = [s for s in chosen if s not in STYLES]
    if unknown:
        raise CorpusError(f"unknown style {unknown[0]!r}; known: {', '.join(STYLES)}")
    fluidsynth = fluidsynth_program()  # looked up once, and before anything is written
    out = Path(out)
    keep_settings(out, {"seed": seed, "seconds": seconds, "mastering": mastering, "soundfont": str(soundfont)})
    rows, length = [], int(seconds * SAMPLE_RATE)
    for i in range(pieces):
        style = chosen[i % len(chosen)]
        target = out / "audio" / style / f"{i:05d}.flac"
        if not target.is_file():
            rng = np.random.default_rng([seed, i])  # each piece its own stream: resuming redraws nothing
            notes, programs, tempo = compose(style, rng, seconds)

            def render(some: list[Note], programs=programs, tempo=tempo) -> np.ndarray:
                # Cut to the piece's length first, so a level is measured on what is kept, not on the last
                # bar's overhang and the notes' release.
                return render_midi(midi_bytes(some, programs, tempo), soundfont, fluidsynth)[:length]

            audio = MASTERINGS[mastering](notes, programs, style, rng, render)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            soundfile.write(partial, audio, SAMPLE_RATE, format="FLAC")
            partial.replace(target)  # a killed build leaves no half-written piece under a real name
        rows.append((str(target.relative_to(out)), f"band-{style}"))
        if (i + 1) % 50 == 0:
            say(f"{i + 1}/{pieces} pieces")
    manifest = write_manifest(out, rows)
    say(f"{len(rows)} pieces listed in {manifest}")
    return manifest


def keep_settings(out: Path, settings: dict) -> None:
    """Record how out's pieces are made (band.json); CorpusError naming it when out already holds pieces
    made otherwise, so a resumed build never mixes two kinds of piece under one manifest."""
    record = out / "band.json"
    if record.is_file():
        try:
            held = json.loads(record.read_text())
        except (OSError, ValueError) as exc:
            raise CorpusError(f"{record}: unreadable ({exc}); remove it with the folder's pieces to start again") from exc
    elif (out / "audio").is_dir():
        held = {"mastering": "drive"}  # pieces from before the record (session 19): all that is known of them
    else:
        held = {}
    differ = {k: (v, settings[k]) for k, v in held.items() if settings.get(k) != v}
    if differ:
        said = ", ".join(f"{k} {old!r} there, {new!r} asked" for k, (old, new) in differ.items())
        raise CorpusError(f"{record}: the pieces in {out} were made otherwise ({said}); use another --out")
    if held != settings:
        out.mkdir(parents=True, exist_ok=True)
        partial = record.with_suffix(".part")
        partial.write_text(json.dumps(settings, indent=2))
        partial.replace(record)
