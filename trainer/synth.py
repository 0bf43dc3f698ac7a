"""Synthesized "genres" (tones, noise bands, rhythms) for tests, benchmarks and worked examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np


def _tones(t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A melody of harmonic notes with soft attacks."""
    out = np.zeros_like(t)
    note_len = int(sr * rng.uniform(0.2, 0.5))
    for start in range(0, len(t), note_len):
        f0 = 110.0 * 2 ** (rng.integers(0, 36) / 12)
        seg = t[start : start + note_len] - t[start]
        env = np.minimum(1.0, seg * 40) * np.exp(-seg * 3)
        out[start : start + note_len] = env * sum(np.sin(2 * np.pi * f0 * k * seg) / k for k in (1, 2, 3))
    return out


def _noise(t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Band-passed noise whose band drifts slowly."""
    spectrum = np.fft.rfft(rng.standard_normal(len(t)))
    freqs = np.fft.rfftfreq(len(t), 1 / sr)
    lo = rng.uniform(300, 2500)
    spectrum[(freqs < lo) | (freqs > lo * rng.uniform(1.5, 3.0))] = 0
    band = np.fft.irfft(spectrum, n=len(t))
    return band / (np.abs(band).max() + 1e-9) * (0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t))


def _beats(t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Kick drum on the beat, hi-hat clicks between, at a random tempo."""
    out = np.zeros_like(t)
    beat = int(sr * 60 / rng.uniform(90, 150))
    kick_t = np.arange(int(0.15 * sr)) / sr
    kick = np.sin(2 * np.pi * 55 * kick_t * (1 + 2 * np.exp(-kick_t * 30))) * np.exp(-kick_t * 20)
    hat = rng.standard_normal(int(0.03 * sr)) * np.exp(-np.arange(int(0.03 * sr)) / (0.005 * sr)) * 0.3
    for start in range(0, len(t), beat):
        end = min(len(t), start + len(kick))
        out[start:end] += kick[: end - start]
        h = start + beat // 2
        if h + len(hat) < len(t):
            out[h : h + len(hat)] += hat
    return out


GENRES: dict[str, Callable[[np.ndarray, int, np.random.Generator], np.ndarray]] = {
    "tones": _tones,
    "noise": _noise,
    "beats": _beats,
}


def synth_track(genre: str, seconds: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One track of a synthetic genre, float32 mono in [-0.9, 0.9] with a little background noise."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    audio = GENRES[genre](t, sample_rate, rng)
    audio = audio / (np.abs(audio).max() + 1e-9) * rng.uniform(0.3, 0.9)
    audio += rng.standard_normal(len(t)) * 0.003
    return np.clip(audio, -0.95, 0.95).astype(np.float32)


def write_dataset(root: str | Path, per_genre: int = 8, seconds: float = 4.0, sample_rate: int = 16000,
                  seed: int = 0, extension: str = ".wav") -> list[Path]:
    """Write <root>/<genre>/<genre>.NNNNN<ext> for every synthetic genre; return the paths."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    paths = []
    for genre in GENRES:
        folder = Path(root) / genre
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_genre):
            path = folder / f"{genre}.{i:05d}{extension}"
            sf.write(path, synth_track(genre, seconds, sample_rate, rng), sample_rate)
            paths.append(path)
    return paths
