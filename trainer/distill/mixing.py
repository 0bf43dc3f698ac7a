"""Mixed windows for distillation: two corpus tracks at random levels and speeds, answered by the teacher.

The corpus is game soundtracks; the student copies the teacher well there and poorly on other music
(models/default.md, "fidelity"). A mixed window is an input the corpus never had, and the teacher
answers it itself, so the student learns the teacher's function on a wider set of inputs
("function matching", Beyer et al. 2022) rather than a label of either unmixed track.
Shards have the layout of `targets.prepare_targets`, so `load_targets` reads them unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainer.data.cache import DecodeCache, DecodeError
from trainer.distill.corpus import read_corpus
from trainer.distill.targets import SILENCE_RMS, TARGETS_FRONTEND, refuse_other_teacher, write_shard
from trainer.distill.teacher import TEACHER_RATE, Teacher
from trainer.frontend import MelFrontEnd

SHARD_WINDOWS = 512  # windows per shard: a killed run loses at most one shard of teacher time
SPEED_RANGE = (0.8, 1.25)  # playback speed (tempo and pitch together), log-uniform
MIX_RANGE = (0.2, 0.8)  # share of the first track in the mix, uniform
LEVEL_DB = (-30.0, -10.0)  # RMS level of the mixed window, uniform in dBFS
TRIES = 20  # draws per window before a silent pick is given up


class MixError(ValueError):
    """A corpus that cannot give mixed windows (too few tracks, all silent); names the manifest."""


def speed_segment(audio: np.ndarray, start: int, length: int, speed: float) -> np.ndarray:
    """`length` samples played at `speed` from `start` [length]; linear interpolation, caller keeps it in range."""
    span = (length - 1) * speed  # source samples covered by the output
    end = start + int(np.ceil(span)) + 1
    positions = start + np.linspace(0.0, span, length)  # [length]
    return np.interp(positions, np.arange(start, end), audio[start:end]).astype(np.float32)  # [length]


def random_speed(rng: np.random.Generator) -> float:
    """A playback speed drawn log-uniformly from SPEED_RANGE."""
    return float(np.exp(rng.uniform(*np.log(SPEED_RANGE))))


def rms(x: np.ndarray) -> float:
    """Root mean square of a signal."""
    return np.sqrt(np.mean(x**2))


def random_segment(audio: np.ndarray, length: int, speed: float, rng: np.random.Generator) -> np.ndarray | None:
    """A random `length`-sample piece of a track at `speed` [length]; None when the track is too short or silent."""
    need = int(np.ceil((length - 1) * speed)) + 1
    if len(audio) < need:
        return None
    piece = speed_segment(audio, int(rng.integers(0, len(audio) - need + 1)), length, speed)
    return piece if rms(piece) > SILENCE_RMS else None


def mixed_window(tracks: list[np.ndarray], sources: list[str], weights: np.ndarray, length: int,
                 rng: np.random.Generator) -> np.ndarray | None:
    """One window [length]: two tracks (of different sources where there are several, picked by `weights`)
    at random speeds and shares."""
    first = int(rng.choice(len(tracks), p=weights))
    others = [i for i in range(len(tracks)) if sources[i] != sources[first]] or [i for i in range(len(tracks)) if i != first]
    if not others:
        return None
    second = int(rng.choice(others, p=weights[others] / weights[others].sum()))
    speeds = random_speed(rng), random_speed(rng)  # both drawn before either piece, as the shards on disk were
    a = random_segment(tracks[first], length, speeds[0], rng)
    b = random_segment(tracks[second], length, speeds[1], rng)
    if a is None or b is None:
        return None
    share = rng.uniform(*MIX_RANGE)
    # Each at unit RMS first, so the share, not the tracks' mastering, sets who dominates.
    mix = share * a / rms(a) + (1 - share) * b / rms(b)  # [length]
    return at_random_level(mix, rng)


def at_random_level(window: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`window` [S] brought to a random RMS level in LEVEL_DB, scaled back under full scale if it peaks over it [S]."""
    window = window * 10 ** (rng.uniform(*LEVEL_DB) / 20) / max(rms(window), 1e-9)
    peak = np.abs(window).max()
    return (window / peak if peak > 1.0 else window).astype(np.float32)  # never clipped


def mixed_windows(tracks: list[np.ndarray], sources: list[str], count: int, length: int, seed) -> np.ndarray:
    """`count` mixed windows [count, length], the same for the same seed; MixError when the tracks cannot give them."""
    rng = np.random.default_rng(seed)
    weights = np.array([len(t) for t in tracks], dtype=np.float64)
    weights /= weights.sum()  # longer tracks are picked more often, as their windows are in the corpus
    out = np.zeros((count, length), np.float32)
    for i in range(count):
        for _ in range(TRIES):
            window = mixed_window(tracks, sources, weights, length, rng)
            if window is not None:
                out[i] = window
                break
        else:
            raise MixError(f"no audible mix of two tracks in {TRIES} draws (too few, too short or silent tracks)")
    return out


def corpus_tracks(manifest, cache, say=print) -> tuple[list[np.ndarray], list[str]]:
    """Every readable track of a corpus at the teacher's rate, with its source; unreadable ones are named and skipped."""
    decoder = DecodeCache(Path(cache), TEACHER_RATE)
    tracks, sources = [], []
    for path, source in read_corpus(manifest):
        try:
            tracks.append(decoder.load(path))  # memory-mapped from the cache: the corpus stays on disk
            sources.append(source)
        except DecodeError as exc:
            say(f"skipped {exc.path}: {exc.reason}")
    return tracks, sources


def prepare_mixed_targets(manifest, teacher_path, out, count: int, cache=".cache/decoded", seed: int = 0,
                          window_seconds: float = 3.0, say=print) -> Path:
    """Write `count` mixed windows with their teacher outputs under `out` (shards mix-NNNNN.npz); returns `out`.

    Shard k is drawn from seed (seed, k) alone, so a resumed run writes the windows a whole run would have.
    """
    if count <= 0:
        raise ValueError(f"--mixed must be a positive number of windows, got {count}")
    length = int(round(window_seconds * TEACHER_RATE))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    refuse_other_teacher(out, teacher_path)
    shards = [(k, out / f"mix-{k:05d}.npz") for k in range(-(-count // SHARD_WINDOWS))]
    todo = [(k, p) for k, p in shards if not p.exists()]
    if not todo:
        return out
    tracks, sources = corpus_tracks(manifest, cache, say)
    if len(tracks) < 2:
        raise MixError(f"{manifest}: {len(tracks)} readable track(s); mixing needs two")
    teacher = Teacher(teacher_path)
    frontend = MelFrontEnd(TARGETS_FRONTEND).eval()
    for k, shard in todo:
        n = min(SHARD_WINDOWS, count - k * SHARD_WINDOWS)
        try:
            windows = mixed_windows(tracks, sources, n, length, seed=[seed, k])  # [n, S]
        except MixError as exc:
            raise MixError(f"{manifest}: {exc}") from exc
        write_shard(shard, windows, teacher, frontend, source="mixed", path=f"mixed from {manifest}, seed {seed}, shard {k}")
        say(f"[{k + 1}/{len(shards)}] {n} mixed windows")
    return out
