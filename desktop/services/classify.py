"""Classify one recording outside the library: a file, or WAV bytes from standard input or a microphone."""

from __future__ import annotations

import dataclasses
import io
import stat
import tempfile
from pathlib import Path

from desktop.core.analysis import AnalysisSettings, Analyzer, TrackAnalysis, status_words
from desktop.core.audio import soundfile_reason
from desktop.core.errors import AudioDecodeError
from desktop.core.model import GenreModel
from desktop.core.scan import NOT_A_REGULAR_FILE
from desktop.core.windows import WindowPlan

# A recording is short: listen to all of it (a window every window-length, up to 20 windows).
RECORDING_PLAN = WindowPlan(max_windows=20, skip_fraction=0.0)


def not_a_file(path: Path, missing: str) -> str | None:
    """Why `path` is no file to decode (`missing` where nothing is there), in the system's words where it refused to
    look (a symlink loop was "file not found"); None for a regular file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return missing
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    return None if stat.S_ISREG(mode) else NOT_A_REGULAR_FILE


def classify_file(model: GenreModel, path: str | Path) -> TrackAnalysis:
    """Genre probabilities and the per-window timeline of one audio file; nothing is stored."""
    path = Path(path)
    if path.is_dir():
        raise AudioDecodeError(path, "is a folder; classify takes one recording (scan analyses a folder)")
    if reason := not_a_file(path, "file not found"):
        raise AudioDecodeError(path, reason)
    return next(Analyzer(model, AnalysisSettings(plan=RECORDING_PLAN, workers=1)).analyse([path]))


def classify_wav_bytes(model: GenreModel, data: bytes, name: str = "standard input") -> TrackAnalysis:
    """Classify WAV bytes (e.g. piped in); a clear error when they are not a WAV file."""
    import soundfile as sf

    if not data:  # `classify -` with nothing piped in (or a recorder that wrote nothing)
        raise AudioDecodeError(Path(name), "no data: pipe a WAV recording in, e.g. `arecord -f cd -d 20 | genre-tagger classify -`")
    try:
        info = sf.info(io.BytesIO(data))
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError on anything unreadable
        raise AudioDecodeError(Path(name), f"not a WAV stream ({soundfile_reason(exc)})") from exc
    if info.format != "WAV":
        raise AudioDecodeError(Path(name), f"expected WAV, got {info.format}")
    with tempfile.TemporaryDirectory(prefix="genre-tagger-classify-") as tmp:
        path = Path(tmp) / "recording.wav"
        path.write_bytes(data)
        result = classify_file(model, path)
    result.path = Path(name)
    return result


def hear_again(model: GenreModel, path: str | Path, settings: AnalysisSettings) -> TrackAnalysis:
    """A library track's genres window by window, heard as a scan with `settings` hears it, for an analysis that
    keeps none (`learn` re-predicts from stored embeddings); nothing is stored. AudioDecodeError when it cannot be."""
    path = Path(path)
    # looked at first: the decoder's own words for a file not there were "cannot read audio (System error.)"
    if reason := not_a_file(path, "file not found (moved or deleted since the last scan: Scan finds it)"):
        raise AudioDecodeError(path, reason)
    result = next(Analyzer(model, dataclasses.replace(settings, workers=1)).analyse([path]))
    if result.window_probabilities is None or not len(result.window_starts):
        raise AudioDecodeError(path, result.error or status_words(result.status))
    return result
