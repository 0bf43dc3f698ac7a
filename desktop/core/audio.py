"""Decode only the parts of a track that are analysed: mono float32 at the model's rate."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop.core.decoder_chatter import decoder_chatter_filtered
from desktop.core.errors import AudioDecodeError, DecoderMissing, unless_empty
from desktop.core.fingerprint import declared_audio_bytes, sized_as_empty
from desktop.core.formats import (
    CAF_CUT_BEFORE_INDEX,
    MP4,
    MP4_CUT_BEFORE_INDEX,
    MP4_PROTECTED,
    MP4_PROTECTED_CODECS,
    OGG_CODECS,
    AudioFormat,
    every_format,
    format_of,
)
from desktop.core.ogg_end import is_chained, stops_before_its_last_page

# How a file's windows are decoded, chosen once when it is probed (read_segments follows it).
LIBSNDFILE = "libsndfile"
FFMPEG_SEEKING = "ffmpeg, seeking to each window"
FFMPEG_ONE_PASS = "ffmpeg, in one pass"  # formats ffmpeg cannot seek in, and chained Ogg (time stamps restart)


@dataclass(frozen=True)
class AudioInfo:
    """Duration and native sample rate of a file, and how it decodes."""

    duration: float
    sample_rate: int
    channels: int
    # An Ogg stream that stops before its last page: cut short, and no header gives the length it had.
    stops_early: bool = False
    reader: str = FFMPEG_SEEKING


def probe(path: Path) -> AudioInfo:
    """Duration, rate and channels without decoding; AudioDecodeError when unreadable."""
    fmt = format_of(path)
    try:
        info = _probe(path, fmt)
    except AudioDecodeError as exc:
        raise type(exc)(exc.path, unless_empty(path, exc.reason)) from exc  # DecoderMissing stays one
    if info.reader == FFMPEG_SEEKING and not fmt.ffmpeg_seeks:
        info = dataclasses.replace(info, reader=FFMPEG_ONE_PASS)
    if fmt in OGG_CODECS.values() and stops_before_its_last_page(path):
        return dataclasses.replace(info, stops_early=True)
    return info


def _probe(path: Path, fmt: AudioFormat) -> AudioInfo:
    """probe by the format's own reader: libsndfile, the header through mutagen, or ffprobe. libsndfile decodes what
    it can read whole; ffmpeg reads the rest, as players do: a WAV whose data chunk says 0 bytes, Ogg streams chained
    one after another (of which libsndfile reads the first, giving the length of the last), or a stream of a length
    libsndfile cannot tell (a FLAC written to a pipe)."""
    if _chained_ogg(path, fmt):  # ffprobe gives the first stream's length: measured whole
        return dataclasses.replace(_ffprobe(path), duration=_measured_length(path), reader=FFMPEG_ONE_PASS)
    if fmt.soundfile_decodes and sized_as_empty(path):
        return _ffprobe(path)
    if fmt.soundfile_decodes:
        import soundfile as sf

        try:
            with decode_quietly(fmt):  # libmpg123 speaks up on a damaged MP3's header too
                info = sf.info(str(path))
        except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError for corrupt data
            raise AudioDecodeError(path, f"cannot read audio ({soundfile_reason(exc)})") from exc
        if info.frames <= 0 or info.samplerate <= 0:
            raise AudioDecodeError(path, "no audio frames")
        if info.frames >= UNKNOWN_FRAMES:
            return _ffprobe(path)
        duration = info.frames / info.samplerate
        if fmt.length_from_header:
            duration = _declared_duration(path, duration)
        return AudioInfo(duration, info.samplerate, info.channels, reader=LIBSNDFILE)
    if fmt.length_from_header:
        header = _header_info(path, fmt)
        if header is not None:
            return header
        if not fmt.ffmpeg_seeks:  # ffprobe's length would be a guess
            raise AudioDecodeError(path, "no audio frames")
        # its header gives no length (a WMA file marked as a broadcast): ffprobe measures it
    refuse_if_protected(path, fmt)
    return _ffprobe(path)


def refuse_if_protected(path: Path, fmt: AudioFormat) -> None:
    """AudioDecodeError for an MP4 file whose audio is encrypted (an iTunes Store .m4p), which ffmpeg would decode
    as noise; nothing for any other file (one mutagen cannot read is left to ffmpeg to say why)."""
    if fmt is not MP4:
        return
    try:
        codec = fmt.open(path).info.codec
    except Exception:  # noqa: BLE001 (mutagen's MP4 errors): ffprobe names the damage
        return
    if codec in MP4_PROTECTED_CODECS:
        raise AudioDecodeError(path, MP4_PROTECTED)


def _declared_duration(path: Path, there: float) -> float:
    """A WAV or AIFF file's length as its header gives it: libsndfile measures the audio the file holds, so one cut
    short looked whole. Its audio chunk's declared size scales the length of what is there (PCM or any other
    constant-rate code); a shortfall under a second is a writer's miscount, not a file cut short."""
    sizes = declared_audio_bytes(path)
    if not sizes or not sizes[1]:
        return there
    declared = there * sizes[0] / sizes[1]
    return declared if declared - there > 1.0 else there


def _header_info(path: Path, fmt: AudioFormat) -> AudioInfo | None:
    """Length, rate and channels as the file's own header gives them (for formats whose length ffprobe only
    estimates; no ffprobe run needed); None when it gives no length."""
    try:
        info = fmt.open(path).info
    except Exception as exc:  # noqa: BLE001 (mutagen raises its own error per format, and struct errors)
        raise AudioDecodeError(path, f"cannot read audio ({exc})") from exc
    if not info.sample_rate:
        raise AudioDecodeError(path, "no audio frames")
    if not info.length or info.length <= 0:
        return None
    return AudioInfo(float(info.length), int(info.sample_rate), int(info.channels))


def read_segments(path: Path, audio: AudioInfo, segments: list[tuple[float, float]], sample_rate: int) -> list[np.ndarray]:
    """Decode [(start_s, seconds), ...] of `path` to mono float32 at `sample_rate`, by the reader `probe` chose."""
    fmt = format_of(path)
    if audio.reader == LIBSNDFILE:
        return _read_soundfile(path, fmt, segments, sample_rate)
    refuse_if_protected(path, fmt)
    if audio.reader == FFMPEG_ONE_PASS:
        return _read_ffmpeg_in_one_pass(path, segments, sample_rate)
    return [_read_ffmpeg(path, start, seconds, sample_rate) for start, seconds in segments]


def _chained_ogg(path: Path, fmt: AudioFormat) -> bool:
    """An Ogg file of streams one after another (see ogg_end.is_chained)."""
    return fmt in OGG_CODECS.values() and is_chained(path)


def decode_quietly(fmt: AudioFormat):
    """The stderr filter around a libsndfile call for a format whose decoder chatters; nothing for others."""
    return decoder_chatter_filtered() if fmt.chatty_decoder else contextlib.nullcontext()


def _read_soundfile(path, fmt, segments, sample_rate):
    import soundfile as sf
    import soxr

    out = []
    try:
        with decode_quietly(fmt), sf.SoundFile(str(path)) as fh:
            native = fh.samplerate
            for start, seconds in segments:
                fh.seek(min(int(start * native), max(0, fh.frames - 1)))
                data = fh.read(int(round(seconds * native)), dtype="float32", always_2d=True)  # [n, ch]
                mono = data.mean(axis=1)  # [n]
                if native != sample_rate:
                    mono = soxr.resample(mono, native, sample_rate, quality="HQ")
                out.append(np.ascontiguousarray(mono, dtype=np.float32))
    except AudioDecodeError:
        raise
    except Exception as exc:
        raise AudioDecodeError(path, f"cannot decode audio ({soundfile_reason(exc)})") from exc
    return out


# libsndfile's words that mislead for a file we know is there: its MP3 reader says this of a damaged stream.
MISLEADING_REASONS = {"File does not exist or is not a regular file (possibly a pipe?).":
                      "damaged, or not the format its name says",
                      # "Internal" reads as our fault: the seek went past what a damaged or cut file holds.
                      "Internal psf_fseek() failed.": "damaged, or cut short: a seek in it went past its audio",
                      "Supported file format but file is malformed.": "damaged file structure"}


def soundfile_reason(exc: Exception) -> str:
    """libsndfile's own reason ("Format not recognised."), without the path or stream it repeats."""
    reason = getattr(exc, "error_string", None) or str(exc)
    return MISLEADING_REASONS.get(reason, reason)


def _ffmpeg_formats() -> str:
    """The formats libsndfile cannot decode, which ffmpeg decodes instead ("MP4, Ogg FLAC, ...")."""
    return ", ".join(f.name for f in every_format() if not f.soundfile_decodes)


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise DecoderMissing(None, f"ffmpeg is needed to decode {_ffmpeg_formats()} files and was not found on PATH")
    return exe


def _pcm_out(sample_rate: int) -> list[str]:
    """ffmpeg's output options for what the model reads: the first audio stream, mono float32 on stdout."""
    return ["-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"]


FFMPEG_CONTEXT = re.compile(r"^\[[^\]]* @ 0x[0-9a-fA-F]+\]\s*")  # "[ape @ 0x5560dfb3538c0] ": which part of ffmpeg spoke
# ffmpeg's log folding a line said again ("Last message repeated 5 times"): no word on the file, and one of the two
# lines kept ("cannot read audio (Last message repeated 5 times; End of file)").
FFMPEG_REPEATED = re.compile(r"^\s*Last message repeated \d+ times?$")


# ffmpeg's words that say less than they could to a listener -> ours.
FFMPEG_WORDS = {
    "Not yet implemented in FFmpeg, patches welcome": "not supported by ffmpeg",
    # An MP4 file keeps its index (the moov atom) at its end unless it was made for streaming.
    "moov atom not found": MP4_CUT_BEFORE_INDEX,
    # A compressed CAF file's packet table follows its audio (ffmpeg, afconvert): one cut short has none.
    "Missing packet table. It is required when block size or frame size are variable.": CAF_CUT_BEFORE_INDEX,
}


def ffmpeg_reason(path: Path, stderr: bytes, fallback: str) -> str:
    """ffmpeg's last words on a failure (two at most), without its internal addresses, the path it repeats, or
    its plea for patches; `fallback` when it said nothing."""
    said: list[str] = []
    for line in stderr.decode(errors="replace").splitlines():
        line = FFMPEG_CONTEXT.sub("", line.strip()).removeprefix(f"{path}: ")
        if FFMPEG_REPEATED.match(line):
            continue
        for words, ours in FFMPEG_WORDS.items():
            line = line.replace(words, ours)
        if line and line not in said:
            said.append(line)
    return "; ".join(said[-2:]) or fallback


def _decode_failed(path: Path, stderr: bytes) -> AudioDecodeError:
    """ffmpeg's last words on a failed decode, as our error."""
    return AudioDecodeError(path, f"cannot decode audio ({ffmpeg_reason(path, stderr, 'no audio stream')})")


def _read_ffmpeg(path, start, seconds, sample_rate) -> np.ndarray:
    cmd = [_ffmpeg(), "-nostdin", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{seconds:.3f}", "-i", str(path),
           *_pcm_out(sample_rate)]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise _decode_failed(path, proc.stderr)
    return np.frombuffer(proc.stdout, dtype="<f4").copy()


def _read_ffmpeg_in_one_pass(path: Path, segments: list[tuple[float, float]], sample_rate: int) -> list[np.ndarray]:
    """Every segment from one decode from the start, kept as the samples stream by (only the segments are held)."""
    spans = [(round(start * sample_rate), round((start + seconds) * sample_rate)) for start, seconds in segments]
    end = max((stop for _, stop in spans), default=0)
    cmd = [_ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-t", f"{end / sample_rate:.3f}", *_pcm_out(sample_rate)]
    pieces: list[list[np.ndarray]] = [[] for _ in spans]
    done, left = 0, b""  # samples passed so far; the bytes of a sample split between two reads
    # stderr to a file: a damaged file's many lines would fill a pipe and stall ffmpeg while stdout is read
    with tempfile.TemporaryFile() as errors, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors) as proc:
        while chunk := proc.stdout.read(1 << 18):
            data, cut = left + chunk, (len(left) + len(chunk)) // 4 * 4
            samples, left = np.frombuffer(data[:cut], dtype="<f4"), data[cut:]
            for piece, (first, stop) in zip(pieces, spans, strict=True):
                if first < done + len(samples) and stop > done:
                    piece.append(samples[max(first - done, 0):stop - done].copy())
            done += len(samples)
        proc.wait()
        errors.seek(0)
        said = errors.read()
    if proc.returncode != 0 or done == 0:
        raise _decode_failed(path, said)
    return [np.concatenate(piece) if piece else np.zeros(0, np.float32) for piece in pieces]


UNKNOWN_FRAMES = 1 << 62  # libsndfile's frame count for a stream of unknown length: 2**63 - 1
MEASURE_RATE = 8000  # samples a second decoded to measure a length: enough to count, few to pass


def _measured_length(path: Path) -> float:
    """Seconds of audio in a file whose headers give no length, by decoding it whole (ffmpeg; the bytes are counted,
    not kept): a few seconds' work for an hour of audio, asked only of such files."""
    cmd = [_ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), *_pcm_out(MEASURE_RATE)]
    samples = 0
    with tempfile.TemporaryFile() as errors, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors) as proc:
        while chunk := proc.stdout.read(1 << 18):
            samples += len(chunk) // 4
        proc.wait()
        errors.seek(0)
        said = errors.read()
    if proc.returncode != 0 or samples == 0:
        raise AudioDecodeError(path, f"cannot tell its length: its headers give none, and "
                                     f"{ffmpeg_reason(path, said, 'no audio decodes')}")
    return samples / MEASURE_RATE


def _ffprobe(path: Path) -> AudioInfo:
    exe = shutil.which("ffprobe")
    if exe is None:
        raise DecoderMissing(path, f"ffprobe is needed to read {_ffmpeg_formats()} files and was not found on PATH")
    cmd = [exe, "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels,duration",
           "-show_entries", "format=duration", "-of", "json", str(path)]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    try:
        data = json.loads(proc.stdout or b"{}")
        stream = data["streams"][0]
        rate, channels = int(stream["sample_rate"]), int(stream["channels"])
        given = stream.get("duration") or data["format"].get("duration")
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise AudioDecodeError(path, f"cannot read audio ({ffmpeg_reason(path, proc.stderr, 'no audio stream')})") from exc
    # No length given: a stream recorded live (a browser's or a phone's WebM, Matroska or WavPack written to a pipe,
    # which gives 0 s); none either where a WMA header's play duration of 0 less its preroll reads as -3.1 s
    try:
        duration = float(given)
    except (TypeError, ValueError):  # none, or not a number ("N/A")
        duration = 0.0
    return AudioInfo(duration if duration > 0 else _measured_length(path), rate, channels)
