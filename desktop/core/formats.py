"""Supported file formats as small classes: which tag system each uses and how to open it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.core.errors import UnsupportedFormatError


@dataclass(frozen=True)
class AudioFormat:
    """A file type: its name, tag system ('id3', 'vorbis', 'mp4') and mutagen class path."""

    name: str
    tag_kind: str
    mutagen_class: str
    soundfile_decodes: bool  # libsndfile reads it (and seeks); otherwise ffmpeg decodes it
    riff_info: bool = False  # also keeps tags in a RIFF LIST/INFO chunk (WAV), which many readers use alone

    def open(self, path: Path):
        """The mutagen object for `path` (tags read, audio untouched)."""
        import importlib

        module, cls = self.mutagen_class.rsplit(".", 1)
        return getattr(importlib.import_module(module), cls)(path)


MP3 = AudioFormat("MP3", "id3", "mutagen.mp3.MP3", True)
FLAC = AudioFormat("FLAC", "vorbis", "mutagen.flac.FLAC", True)
OGG_VORBIS = AudioFormat("Ogg Vorbis", "vorbis", "mutagen.oggvorbis.OggVorbis", True)
OPUS = AudioFormat("Opus", "vorbis", "mutagen.oggopus.OggOpus", True)
MP4 = AudioFormat("MP4", "mp4", "mutagen.mp4.MP4", False)
WAV = AudioFormat("WAV", "id3", "mutagen.wave.WAVE", True, riff_info=True)
AIFF = AudioFormat("AIFF", "id3", "mutagen.aiff.AIFF", True)

# Extension -> format. The single place that decides what a scan picks up.
FORMATS: dict[str, AudioFormat] = {
    ".mp3": MP3,
    ".flac": FLAC,
    ".ogg": OGG_VORBIS,
    ".oga": OGG_VORBIS,
    ".opus": OPUS,
    ".m4a": MP4,
    ".mp4": MP4,
    ".m4b": MP4,
    ".wav": WAV,
    ".aif": AIFF,
    ".aiff": AIFF,
}


def format_of(path: str | Path) -> AudioFormat:
    """The format for a path by its extension; UnsupportedFormatError otherwise."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UnsupportedFormatError(path, f"unsupported file type {Path(path).suffix or '(none)'}")
    return fmt


def is_supported(path: str | Path) -> bool:
    """True when a scan should pick the file up."""
    return Path(path).suffix.lower() in FORMATS
