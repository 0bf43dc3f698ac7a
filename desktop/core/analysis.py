"""Windowed genre analysis: decode in parallel, batch windows across tracks, aggregate per track."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop.core.audio import AudioInfo, probe, read_segments
from desktop.core.errors import AudioDecodeError, DecoderMissing, GenreTaggerError
from desktop.core.learned_model import novelty_check
from desktop.core.model import GenreModel
from desktop.core.music_check import music_windows
from desktop.core.paths import unreadable_now
from desktop.core.windows import WindowPlan, plan_windows

# Analysis verdicts (a track's `verdict`); NEW: not analysed yet.
NEW, OK, UNCERTAIN, TOO_SHORT, NO_MUSIC, UNLIKE, ERROR = "new", "analysed", "uncertain", "too_short", "no_music", "unlike", "error"
DEFAULT_THRESHOLD = 0.5  # the one default: below this top probability a verdict is uncertain
# How people read the verdicts spelt as identifiers (and "unlike", alone in a status column, said unlike what?).
STATUS_WORDS = {TOO_SHORT: "too short", NO_MUSIC: "no music", UNLIKE: "unlike your genres"}


def status_words(status: str) -> str:
    """A status as people read it ("too short"; JSON keeps "too_short")."""
    return STATUS_WORDS.get(status, status)


@dataclass(frozen=True)
class AnalysisSettings:
    """How tracks are analysed; passed in by the caller, never read from globals."""

    plan: WindowPlan = WindowPlan()
    threshold: float = DEFAULT_THRESHOLD  # below this top probability a result is "uncertain"
    # Windows per model call. On a CPU small batches stay in cache (float CNN: 1.70 ms per window at 8, 1.79 at
    # 16, one track's worth each); on a GPU raise it, larger batches keep the device busy.
    batch_windows: int = 8
    workers: int = 2  # decoding threads: decoding is the bottleneck


@dataclass
class TrackAnalysis:
    """Result for one track; `probabilities` follows the model's label order."""

    path: Path
    status: str
    duration: float = 0.0
    top_genre: str | None = None
    confidence: float = 0.0
    probabilities: np.ndarray | None = None  # [labels]
    embedding: np.ndarray | None = None  # [dim]
    window_starts: list[float] = field(default_factory=list)
    window_probabilities: np.ndarray | None = None  # [windows, labels]
    error: str | None = None
    note: str | None = None  # analysed from part of the file only (cut short?): why, to show with the track
    # Failed for the moment, not for its audio: the file could not be read then (gone, its drive or share dropped)
    # or a decoder it needs is not installed. No verdict to keep: it is analysed again at the next scan.
    again: bool = False


@dataclass
class _Decoded:
    path: Path
    duration: float = 0.0
    starts: list[float] = field(default_factory=list)
    windows: np.ndarray | None = None  # [n, samples]
    error: str | None = None
    note: str | None = None  # analysed from part of the file only: why (kept with the verdict, shown with the track)
    again: bool = False  # see TrackAnalysis.again


class Analyzer:
    """Runs a GenreModel over tracks; decoding happens on worker threads, inference here."""

    def __init__(self, model: GenreModel, settings: AnalysisSettings = AnalysisSettings()):
        self.model, self.settings = model, settings
        self.labels = model.info.labels
        self.novel = novelty_check(model.info.metadata)  # learned models only: unlike every learned genre

    def decode(self, path: Path) -> _Decoded:
        """Read only the planned windows of a track (runs on a worker thread)."""
        decoded = self._decode(path)
        # A failure, or a part-only decode, while the file could not be read (a drive unplugged, a share dropped
        # mid-scan) says nothing of its audio: kept as its verdict, it stayed failed, "cannot read audio (System
        # error.)", at every scan after, the file being unchanged.
        if (decoded.error or decoded.note) and (unread := unreadable_now(path)):
            return _Decoded(path, error=f"could not be read ({unread})", again=True)
        return decoded

    def _decode(self, path: Path) -> _Decoded:
        info = self.model.info
        try:
            audio = probe(path)
            duration = audio.duration
            # An Ogg stream without its last page: all of it decodes, but it is only the start of the track.
            stopped = (f"its stream stops after {duration:.0f} s, before its end (cut short? a copy or download that did "
                       "not finish)") if audio.stops_early else None
            starts = plan_windows(duration, info.window_seconds, self.settings.plan)
            if not starts:
                return _Decoded(path, duration, note=stopped)
            try:
                segments = read_segments(path, audio, [(s, info.window_seconds) for s in starts], info.sample_rate)
            except GenreTaggerError as exc:  # a file cut short fails at its first window past the end
                segments = self._each_window(path, audio, starts, exc)
            # A window that comes back less than half there lies past where the audio stops.
            whole = [seg is not None and len(seg) >= info.window_samples // 2 for seg in segments]
            if not any(whole):
                raise AudioDecodeError(path, f"no audio decodes in its {duration:.0f} s (its header's length): damaged, "
                                             "or cut short (a copy or download that did not finish?)")
            note = stopped and f"{stopped}; its genre comes from that part"
            if not all(whole):
                # Its genre from the part that is there, said (a VBR MP3 without a length header is estimated too).
                note = _part_heard(starts, whole, info.window_seconds, duration)
                starts = [start for start, ok in zip(starts, whole, strict=True) if ok]
                segments = [seg for seg, ok in zip(segments, whole, strict=True) if ok]
            windows = np.stack([_fit(seg, info.window_samples) for seg in segments])  # [n, samples]
            if unheard := _not_numbers(path, segments):  # set to silence: the model made a genre of such garbage
                windows = np.nan_to_num(windows, nan=0.0, posinf=0.0, neginf=0.0)  # [n, samples]
                note = "; ".join(filter(None, (note, unheard)))
            return _Decoded(path, duration, starts, windows, note=note)
        except DecoderMissing as exc:
            return _Decoded(path, error=exc.reason, again=True)
        except GenreTaggerError as exc:
            return _Decoded(path, error=exc.reason)

    def _each_window(self, path: Path, audio: AudioInfo, starts: list[float], failed: GenreTaggerError) -> list[np.ndarray | None]:
        """The windows decoded one by one, None for each that fails; the first failure again when none decodes."""
        info, segments = self.model.info, []
        for start in starts:
            try:
                segments.extend(read_segments(path, audio, [(start, info.window_seconds)], info.sample_rate))
            except GenreTaggerError:
                segments.append(None)
        if all(seg is None for seg in segments):
            raise failed
        return segments

    def analyse(self, paths: Iterable[Path], progress: Callable[[TrackAnalysis], None] | None = None,
                cancel: threading.Event | None = None) -> Iterator[TrackAnalysis]:
        """Yield one TrackAnalysis per path, in order; stops cleanly when `cancel` is set."""
        cancel = cancel or threading.Event()
        paths = iter(paths)
        in_flight: deque[Future] = deque()
        pending: list[_Decoded] = []
        with ThreadPoolExecutor(max_workers=max(1, self.settings.workers), thread_name_prefix="decode") as pool:
            def refill():
                while len(in_flight) < 2 * self.settings.workers + 2 and not cancel.is_set():
                    nxt = next(paths, None)
                    if nxt is None:
                        return
                    in_flight.append(pool.submit(self.decode, Path(nxt)))

            refill()
            while in_flight and not cancel.is_set():
                pending.append(in_flight.popleft().result())
                refill()
                n_windows = sum(len(d.windows) for d in pending if d.windows is not None)
                if n_windows >= self.settings.batch_windows or not in_flight:
                    for result in self._infer(pending):
                        if progress:
                            progress(result)
                        yield result
                    pending = []
            for future in in_flight:  # cancelled: drop work not started yet
                future.cancel()

    def _infer(self, decoded: list[_Decoded]) -> list[TrackAnalysis]:
        """One model call for all windows of `decoded`, split back per track."""
        batch = [d.windows for d in decoded if d.windows is not None]
        probs = emb = None
        if batch:
            probs, emb = self.model.predict(np.concatenate(batch))  # [N, labels], [N, dim]
        results, offset = [], 0
        for d in decoded:
            if d.error:
                results.append(TrackAnalysis(d.path, ERROR, d.duration, error=d.error, again=d.again))
                continue
            if d.windows is None:
                results.append(TrackAnalysis(d.path, TOO_SHORT, d.duration, note=d.note,
                                             error=f"shorter than one {self.model.info.window_seconds:g} s window"))
                continue
            n = len(d.windows)
            window_probs, window_emb = probs[offset : offset + n], emb[offset : offset + n]  # [n, labels], [n, dim]
            offset += n
            if not (np.isfinite(window_probs).all() and np.isfinite(window_emb).all()):
                results.append(TrackAnalysis(d.path, ERROR, d.duration, error="the model returned values that are not numbers (NaN)"))
                continue
            voting, why = music_windows(d.windows, self.model.info.sample_rate)  # [n]: silence and noise do not vote
            if not voting.any():
                results.append(TrackAnalysis(d.path, NO_MUSIC, d.duration, window_starts=d.starts, window_probabilities=window_probs,
                                             error=why, note=d.note))
                continue
            mean = window_probs[voting].mean(axis=0)  # [labels], silent windows left out
            embedding = window_emb[voting].mean(axis=0)  # [dim]
            top = int(mean.argmax())
            results.append(TrackAnalysis(
                d.path, verdict(float(mean[top]), self.settings.threshold, self.novel is not None and self.novel(embedding)[0]),
                d.duration, self.labels[top], float(mean[top]), mean, embedding, d.starts, window_probs, note=d.note,
            ))
        return results


def _not_numbers(path: Path, segments: list[np.ndarray]) -> str | None:
    """What to say of decoded audio holding samples that are not numbers (NaN, infinite: float audio from a faulty
    render or converter), None when it holds none; AudioDecodeError when it holds nothing else."""
    bad = sum(int(np.count_nonzero(~np.isfinite(seg))) for seg in segments)  # of the samples decoded, before padding
    if not bad:
        return None
    if bad == sum(len(seg) for seg in segments):
        raise AudioDecodeError(path, "its audio samples are not numbers (NaN or infinite): damaged float audio, from a "
                                     "faulty render or converter")
    share = bad / sum(len(seg) for seg in segments)
    return (f"{share:.1%} of the audio listened to is not numbers (NaN or infinite: damaged float audio), heard as "
            "silence")


def verdict(confidence: float, threshold: float, unlike: bool = False) -> str:
    """A track's analysis status: unlike every learned genre, uncertain under the threshold, or analysed."""
    return UNLIKE if unlike else OK if confidence >= threshold else UNCERTAIN


def _part_heard(starts: list[float], whole: list[bool], window_seconds: float, duration: float) -> str:
    """What a track's note says when some of its windows did not decode: its end (cut short), or parts before it
    (damaged there: "only the first 5 s of the 5 s" was said of a file whose first seconds would not decode)."""
    if whole[-1]:
        return (f"{whole.count(False)} of the {len(whole)} parts listened to could not be decoded (damaged there?); its "
                "genre comes from the rest")
    heard = max(start for start, ok in zip(starts, whole, strict=True) if ok) + window_seconds
    shown = [f"{heard:.0f}", f"{duration:.0f}"]
    if shown[0] == shown[1]:  # 4.6 of 5.0 s: whole seconds would say all of it
        shown = [f"{heard:.1f}", f"{duration:.1f}"]
    return (f"only the first {shown[0]} s of the {shown[1]} s its header gives could be decoded (cut short? a copy or "
            "download that did not finish); its genre comes from that part")


def _fit(segment: np.ndarray, samples: int) -> np.ndarray:
    """Trim or zero-pad a decoded segment to exactly one window (resampling can be a sample off)."""
    if len(segment) >= samples:
        return segment[:samples]
    return np.pad(segment, (0, samples - len(segment)))


def top_genres(probabilities: np.ndarray, labels: tuple[str, ...], k: int, threshold: float) -> list[str]:
    """Up to k labels whose probability is at least `threshold`, most likely first (at least one)."""
    order = np.argsort(probabilities)[::-1]
    chosen = [labels[i] for i in order[:k] if probabilities[i] >= threshold]
    return chosen or [labels[int(order[0])]]
