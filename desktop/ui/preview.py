"""Play Preview: a stretch from the middle of a track, one at a time."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

PREVIEW_SECONDS = 20

# The statuses in which the player takes a seek: Qt's FFmpeg backend drops a setPosition made while
# the media is still loading, without an error, and the preview then played from the track's start.
_SEEKABLE = (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferingMedia,
             QMediaPlayer.MediaStatus.BufferedMedia)


class Preview(QObject):
    """Plays `seconds` from the middle of a file; a new preview replaces (and re-times) the one playing."""

    failed = Signal(str, str)  # path, reason

    def __init__(self, parent: QObject | None = None, seconds: float = PREVIEW_SECONDS):
        super().__init__(parent)
        self.player = QMediaPlayer(self)
        self.audio_out = QAudioOutput(self)
        self.player.setAudioOutput(self.audio_out)
        self.path = ""
        self._start_ms: int | None = None  # a seek waiting for the media to load
        self._stop = QTimer(self, singleShot=True, interval=int(seconds * 1000))
        self._stop.timeout.connect(self.player.stop)
        self.player.mediaStatusChanged.connect(self._seek_when_loaded)
        self.player.errorOccurred.connect(lambda _error, message: self.failed.emit(self.path, message))

    def play(self, path: str, duration: float) -> None:
        """Start the preview of `path` (its length `duration` seconds, 0 when unknown: from the start)."""
        self.path, self._start_ms = path, int(duration * 500)
        self.player.setSource(QUrl.fromLocalFile(path))
        self.player.play()
        self._stop.start()  # the previous preview's stop must not cut this one short

    def stop(self) -> None:
        """Stop playing now."""
        self._stop.stop()
        self.player.stop()

    def playing(self) -> bool:
        """True while a preview plays."""
        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def _seek_when_loaded(self, status) -> None:
        if self._start_ms is not None and status in _SEEKABLE and self.player.isSeekable():
            start, self._start_ms = self._start_ms, None
            self.player.setPosition(start)
