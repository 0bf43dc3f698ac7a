"""Bare audio streams tagged as ffmpeg, foobar2000 and Picard tag them: an APEv2 tag at the end (True Audio, raw AAC,
AC-3). mutagen's classes for them read an ID3v2 tag (True Audio) or none (AAC, AC-3); an ID3v2 tag in front is read
as their second tag."""

from __future__ import annotations

from mutagen.aac import AACInfo
from mutagen.ac3 import AC3Info
from mutagen.apev2 import APEv2File
from mutagen.trueaudio import TrueAudioInfo

from desktop.core.formats import id3v2_size


class _Behind:
    """A file seen from `offset` on, so a stream reader that expects its header at byte 0 reads past an ID3v2 tag."""

    def __init__(self, fileobj, offset: int):
        self._fileobj, self._offset = fileobj, offset
        fileobj.seek(offset)

    def read(self, size: int = -1) -> bytes:
        """Bytes from the current position."""
        return self._fileobj.read(size)

    def seek(self, position: int, whence: int = 0) -> int:
        """Seek as a file does, positions counted from `offset`."""
        return self._fileobj.seek(position + self._offset if whence == 0 else position, whence) - self._offset

    def tell(self) -> int:
        """The position, counted from `offset`."""
        return self._fileobj.tell() - self._offset


class _TrueAudioInfo(TrueAudioInfo):
    """The TTA header's rate and length, found after any ID3v2 tag."""

    def __init__(self, fileobj):
        super().__init__(fileobj, id3v2_size(fileobj))


class _AC3Info(AC3Info):
    """The first AC-3 frame's rate and channels, found after any ID3v2 tag (mutagen's reader expects it at byte 0)."""

    def __init__(self, fileobj):
        super().__init__(_Behind(fileobj, id3v2_size(fileobj)))


class TrueAudioAPEv2(APEv2File):
    """A True Audio file whose tags are its APEv2 tag."""

    _Info = _TrueAudioInfo


class AACAPEv2(APEv2File):
    """A raw AAC stream (ADTS, as `.aac`) whose tags are its APEv2 tag (mutagen's AACInfo skips an ID3v2 tag itself)."""

    _Info = AACInfo


class AC3APEv2(APEv2File):
    """A raw AC-3 or E-AC-3 stream whose tags are its APEv2 tag."""

    _Info = _AC3Info
