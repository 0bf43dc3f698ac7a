"""True Audio files tagged as ffmpeg and foobar2000 tag them: APEv2 at the end (mutagen's class reads ID3v2 only)."""

from __future__ import annotations

from mutagen.apev2 import APEv2File
from mutagen.trueaudio import TrueAudioInfo

from desktop.core.fingerprint import id3v2_size


class _Info(TrueAudioInfo):
    """The TTA header's rate and length, found after any ID3v2 tag."""

    def __init__(self, fileobj):
        super().__init__(fileobj, id3v2_size(fileobj))


class TrueAudioAPEv2(APEv2File):
    """A True Audio file whose tags are its APEv2 tag (an ID3v2 tag in front is read as its second tag)."""

    _Info = _Info
