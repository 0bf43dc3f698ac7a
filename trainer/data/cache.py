"""Decode each track once (librosa, mono, resampled) into a cache of .npy files."""

from __future__ import annotations

import hashlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.data.sources import TrackRecord


class DecodeError(Exception):
    """A track that could not be decoded; keeps the path and the reason."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


@dataclass
class DecodedTrack:
    """A track and its samples (float32, mono, at the cache's sample rate)."""

    record: TrackRecord
    audio: np.ndarray


class DecodeCache:
    """Decoded audio keyed by path, size, mtime and sample rate: a changed file is decoded again."""

    def __init__(self, directory: Path, sample_rate: int):
        self.directory = Path(directory)
        self.sample_rate = sample_rate
        self.directory.mkdir(parents=True, exist_ok=True)

    def _entry(self, path: Path) -> Path:
        st = path.stat()
        ident = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{self.sample_rate}"
        return self.directory / (hashlib.sha1(ident.encode()).hexdigest() + ".npy")

    def load(self, path: Path) -> np.ndarray:
        """Samples of `path`, decoded now or read from the cache; DecodeError when unreadable."""
        try:
            entry = self._entry(path)
        except OSError as exc:
            raise DecodeError(path, exc.strerror or str(exc)) from exc
        if entry.exists():
            return np.load(entry, mmap_mode="r")
        audio = decode_file(path, self.sample_rate)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, audio)
        os.replace(tmp, entry)  # atomic: a killed run never leaves a truncated cache entry
        return audio


def decode_file(path: Path, sample_rate: int) -> np.ndarray:
    """Decode to mono float32 at `sample_rate`; DecodeError for anything unreadable or silent."""
    import librosa

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # librosa's audioread fallback warning; failures still raise
            audio, _ = librosa.load(path, sr=sample_rate, mono=True)
    except Exception as exc:  # librosa surfaces soundfile, audioread and codec errors alike
        # audioread's NoBackendError says nothing: "cannot decode (NoBackendError: )"
        said = str(exc) or "no decoder here reads it"
        raise DecodeError(path, f"cannot decode ({type(exc).__name__}: {said}; damaged, or not audio)") from exc
    if audio.size == 0:
        raise DecodeError(path, "no audio samples")
    if not np.all(np.isfinite(audio)):
        raise DecodeError(path, "audio contains NaN or infinite samples")
    return audio.astype(np.float32)


def decode_all(records: list[TrackRecord], cache: DecodeCache, workers: int = 2):
    """Decode records in parallel: (decoded tracks, errors) with every failure named, none fatal."""
    def one(record):
        try:
            return DecodedTrack(record, cache.load(record.path)), None
        except DecodeError as exc:
            return None, exc

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(one, records))
    decoded = [d for d, _ in results if d is not None]
    errors = [e for _, e in results if e is not None]
    return decoded, errors
