"""A headless check that an installation works: load the model, analyse a generated file, print its genre."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from desktop.core.analysis import Analyzer
from desktop.core.errors import GenreTaggerError
from desktop.core.formats import unloadable_formats
from desktop.core.model import GenreModel
from desktop.services.models import resolve_model

SELF_TEST_SECONDS = 12.0


def test_tone(path: Path, seconds: float = SELF_TEST_SECONDS, rate: int = 44100) -> Path:
    """Write a WAV file with a chord over a steady beat: real audio for the decoder and the model."""
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3  # A major
    beat = np.exp(-30 * (t % 0.5)) * np.random.default_rng(0).standard_normal(t.size)  # a click every 0.5 s
    sf.write(path, (0.3 * chord + 0.2 * beat).astype(np.float32), rate, subtype="PCM_16")
    return path


def self_test(model: str | Path | None = None, device: str = "auto", say: Callable[[str], None] = print) -> int:
    """0 when the model loads and a generated file gets a genre; 1 with the reason otherwise."""
    started = time.perf_counter()
    try:
        path = resolve_model(model)
        genre_model = GenreModel(path, device=device)
        with tempfile.TemporaryDirectory(prefix="genre-tagger-self-test-") as tmp:
            audio = test_tone(Path(tmp) / "self-test.wav")
            result = next(Analyzer(genre_model).analyse([audio]))
    except GenreTaggerError as exc:
        say(f"self-test FAILED: {exc}")
        return 1
    if result.top_genre is None:
        say(f"self-test FAILED: {result.path.name}: {result.status} ({result.error})")
        return 1
    missing = unloadable_formats()
    if missing:  # each format's tag reader is loaded by name, so a bundle can lack one and only fail at a scan
        say(f"self-test FAILED: the tag readers of {', '.join(missing)} do not load")
        return 1
    info = genre_model.info
    say(f"model {path} ({info.name} {info.version}, {len(info.labels)} genres) on {', '.join(genre_model.providers)}")
    say(f"self-test ok: {result.path.name} -> {result.top_genre} ({result.confidence:.2f}) "
        f"in {time.perf_counter() - started:.2f} s")
    return 0
