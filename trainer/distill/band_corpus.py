"""Render composed band arrangements (trainer.distill.arrangements) into an unlabelled corpus folder.

The result is laid out like `python -m trainer corpus`'s: audio/<style>/NNNN.flac and manifest.csv
(path, source), so `teach` reads it unchanged and `distill --more-windows` trains on it. Rendering
uses the fluidsynth program and a General MIDI soundfont (Debian: fluidsynth, fluid-soundfont-gm).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from trainer.distill.arrangements import STYLES, compose, midi_bytes
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
    peak = float(np.abs(audio).max(initial=0.0))
    if peak == 0.0:
        return audio
    x = audio / peak  # [samples], peak 1
    return (0.9 * np.tanh(drive * x) / np.tanh(drive)).astype(np.float32)


def build_band_corpus(out: str | Path, pieces: int, soundfont: str | Path = DEFAULT_SOUNDFONT, seconds: float = 30.0,
                      seed: int = 0, styles: list[str] | None = None, say=print) -> Path:
    """Compose and render `pieces` pieces, the styles taken in turn; returns manifest.csv. Pieces already
    rendered (same seed) are kept, so an interrupted build resumes."""
    import soundfile

    if pieces < 1 or seconds < 3:
        raise ValueError(f"need at least one piece of at least 3 s (one window), got {pieces} of {seconds:g} s")
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
    rows = []
    for i in range(pieces):
        style = chosen[i % len(chosen)]
        target = out / "audio" / style / f"{i:05d}.flac"
        if not target.is_file():
            rng = np.random.default_rng([seed, i])  # each piece its own stream: resuming redraws nothing
            notes, programs, tempo = compose(style, rng, seconds)
            lo, hi = DRIVE.get(style, (1.0, 1.5))
            audio = mastered(render_midi(midi_bytes(notes, programs, tempo), soundfont, fluidsynth), float(rng.uniform(lo, hi)))
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            soundfile.write(partial, audio[: int(seconds * SAMPLE_RATE)], SAMPLE_RATE, format="FLAC")
            partial.replace(target)  # a killed build leaves no half-written piece under a real name
        rows.append((str(target.relative_to(out)), f"band-{style}"))
        if (i + 1) % 50 == 0:
            say(f"{i + 1}/{pieces} pieces")
    manifest = write_manifest(out, rows)
    say(f"{len(rows)} pieces listed in {manifest}")
    return manifest
