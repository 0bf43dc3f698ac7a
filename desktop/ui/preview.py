"""Play Preview: a stretch from the middle of a track, one at a time."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

PREVIEW_SECONDS = 20
# How long the last preview's pipeline is given to be torn down before the next one is built (see Preview.play).
SETTLE_MS = 300

# The statuses in which the player takes a seek: Qt's FFmpeg backend drops a setPosition made while
# the media is still loading, without an error, and the preview then played from the track's start.
_SEEKABLE = (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferingMedia,
             QMediaPlayer.MediaStatus.BufferedMedia)


def _why_not_playable(path: str) -> str | None:
    """Why a file must not be played (a copy-protected .m4p: Qt's FFmpeg backend plays its encrypted bytes as
    noise), or cannot be (not there: the backend says "Could not open file"); None to try it (the player names any
    other failure)."""
    from desktop.core.audio import refuse_if_protected
    from desktop.core.errors import AudioDecodeError, GenreTaggerError
    from desktop.core.formats import format_of

    if not os.path.isfile(path):
        return "file not found"
    try:
        fmt = format_of(path)
    except GenreTaggerError:  # not a file of ours to judge: the player tries it
        return None
    try:
        refuse_if_protected(Path(path), fmt)
    except AudioDecodeError as exc:
        return exc.reason
    return None


class Preview(QObject):
    """Plays `seconds` from the middle of a file; a new preview replaces (and re-times) the one playing."""

    failed = Signal(str, str)  # path, reason

    def __init__(self, parent: QObject | None = None, seconds: float = PREVIEW_SECONDS):
        super().__init__(parent)
        self.player = QMediaPlayer(self)
        self.audio_out = QAudioOutput(self)
        self.player.setAudioOutput(self.audio_out)
        self.path = ""
        self.seconds = seconds
        self._next = ("", 0)  # (path, where to start in ms) of the preview asked for last
        self._start_ms: int | None = None  # a seek waiting for the media to load
        self._stop = QTimer(self, singleShot=True, interval=int(seconds * 1000))
        self._stop.timeout.connect(self.player.stop)
        self._begin_later = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._begin_later.timeout.connect(self._begin)
        self.player.mediaStatusChanged.connect(self._seek_when_loaded)
        self.player.errorOccurred.connect(lambda _error, message: self.failed.emit(self.path, message))

    def play(self, path: str, duration: float) -> bool:
        """Start the preview of `path` (its length `duration` seconds, 0 when unknown: from the start); False where
        it is refused at once (`failed` says why)."""
        if reason := _why_not_playable(path):
            self.stop()
            self.failed.emit(path, reason)
            return False
        self._next = (path, int(duration * 500))
        self._stop.stop()  # the previous preview's stop must not cut this one short
        if self.player.source().isEmpty():
            self._begin()
            return True
        # Qt's FFmpeg backend tears the last preview's pipeline down in its own threads, and an object torn down there
        # calls into Python (for the GIL) while holding a Qt lock. A new pipeline built meanwhile on this thread, which
        # holds the GIL, could wait on the same lock: the window froze for good (seen once in CI, in the test that
        # starts a second preview during the first). The old one goes first; the new one is built once it is gone,
        # while this thread waits in the event loop without the GIL.
        self.player.setSource(QUrl())
        self._begin_later.start()  # a preview asked for meanwhile replaces this one
        return True

    def _begin(self) -> None:
        # Set here, not in play(): the old media, stopping, reports itself loaded, and would take the seek.
        self.path, self._start_ms = self._next
        self.player.setSource(QUrl.fromLocalFile(self.path))
        self.player.play()
        self._stop.start()

    def stop(self) -> None:
        """Stop playing now."""
        self._stop.stop()
        self._begin_later.stop()
        self.player.stop()

    def playing(self) -> bool:
        """True while a preview plays (or is about to, the last one's pipeline going)."""
        return self._begin_later.isActive() or self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def is_playing(self, path: str) -> bool:
        """True while the preview asked for last is `path`'s and plays (or is about to)."""
        return self.playing() and self._next[0] == path

    def _seek_when_loaded(self, status) -> None:
        if self._start_ms is not None and status in _SEEKABLE and self.player.isSeekable():
            start, self._start_ms = self._start_ms, None
            self.player.setPosition(start)
