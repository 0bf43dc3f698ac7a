"""Fixed-length windows: random ones for training, all of a track's for evaluation."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


def fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Tracks shorter than a window are repeated (not zero padded) to fill it."""
    if len(audio) >= length:
        return audio
    reps = int(np.ceil(length / max(1, len(audio))))
    return np.tile(audio, reps)[:length]


def track_windows(audio: np.ndarray, length: int, hop: int | None = None) -> np.ndarray:
    """All windows of a track [n, length], hop `length` by default, the last one flush with the end."""
    audio = fit_length(np.asarray(audio, dtype=np.float32), length)
    hop = hop or length
    starts = list(range(0, len(audio) - length + 1, hop))
    if starts[-1] + length < len(audio):
        starts.append(len(audio) - length)
    return np.stack([audio[s : s + length] for s in starts])  # [n, length]


class RandomWindows(Dataset):
    """`per_track` random windows of each track per epoch: item -> (waveform [length], label)."""

    def __init__(self, audios: list[np.ndarray], labels: list[int], length: int, per_track: int, seed: int = 0):
        self.audios, self.labels = audios, labels
        self.length, self.per_track, self.seed = length, per_track, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Different windows each epoch, the same ones for the same seed and epoch."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.audios) * self.per_track

    def __getitem__(self, index: int):
        track = index // self.per_track
        audio = fit_length(self.audios[track], self.length)
        rng = np.random.default_rng((self.seed, self.epoch, index))
        start = int(rng.integers(0, len(audio) - self.length + 1))
        window = np.array(audio[start : start + self.length], dtype=np.float32)  # [length]
        return torch.from_numpy(window), self.labels[track]
