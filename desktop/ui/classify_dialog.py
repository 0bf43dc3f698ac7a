"""File > Classify Recording: record from the microphone or open any file, and show its genres.

Nothing is added to the library. Recording goes through a small Recorder interface so the tests
can feed a generated WAV in place of the microphone; the classification runs on a worker thread.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from desktop.core.analysis import ERROR, status_words
from desktop.core.formats import FORMATS
from desktop.core.genre_names import shown_genre
from desktop.core.wording import percent
from desktop.ui.details import ProbabilityBars, WindowTimeline
from desktop.ui.labels import plain_label
from desktop.ui.workers import Job, start_job

RATE = 16000  # what the recorder asks for; the analysis resamples to the model's rate anyway
MIN_SECONDS, MAX_SECONDS = 10, 30


class Recorder(QObject):
    """Records mono audio to a WAV file: level(0..1) while it runs, then finished(path) or failed(reason)."""

    level = Signal(float)
    finished = Signal(str)
    failed = Signal(str)

    def start(self, seconds: int, out: Path) -> None:
        """Begin recording `seconds` of audio into `out`."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop early; what was recorded so far is kept (finished is emitted)."""
        raise NotImplementedError


def write_wav(out: Path, samples: np.ndarray, rate: int) -> None:
    """Write float mono samples as 16-bit WAV."""
    import soundfile as sf

    sf.write(out, samples.astype(np.float32), rate, subtype="PCM_16")


class MicrophoneRecorder(Recorder):
    """The default input device through QtMultimedia's QAudioSource (16-bit mono PCM)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._source = self._device = None
        self._chunks: list[np.ndarray] = []
        self._timer = QTimer(self, singleShot=True, timeout=self.stop)
        self._out: Path | None = None

    def start(self, seconds: int, out: Path) -> None:
        from PySide6.QtMultimedia import QAudio, QAudioFormat, QAudioSource, QMediaDevices

        device = QMediaDevices.defaultAudioInput()
        if device.isNull():
            self.failed.emit("No microphone was found. Connect one, or open a file instead.")
            return
        fmt = QAudioFormat()
        fmt.setSampleRate(RATE)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(fmt):
            fmt = device.preferredFormat()
        self._format, self._out, self._chunks = fmt, out, []
        self._source = QAudioSource(device, fmt, self)
        self._device = self._source.start()
        if self._device is None or self._source.error() != QAudio.Error.NoError:
            self.failed.emit("The microphone could not be opened (no permission, or it is in use).")
            return
        self._device.readyRead.connect(self._read)
        self._timer.start(seconds * 1000)

    @property
    def recording(self) -> bool:
        """True while the microphone is open."""
        return self._source is not None

    def _read(self) -> None:
        data = bytes(self._device.readAll().data())
        if self._format.sampleFormat().name == "Int16":
            samples = np.frombuffer(data, "<i2").astype(np.float32) / 32768
        else:
            samples = np.frombuffer(data, "<f4")
        samples = samples.reshape(-1, max(1, self._format.channelCount())).mean(axis=1)  # [frames]
        self._chunks.append(samples)
        if len(samples):
            self.level.emit(float(min(1.0, np.sqrt(np.mean(samples ** 2)) * 4)))

    def stop(self) -> None:
        self._timer.stop()
        if self._source is None:
            return
        self._source.stop()
        self._source = None
        if not self._chunks or not sum(len(c) for c in self._chunks):
            self.failed.emit("Nothing was recorded: the microphone sent no sound (check its permission).")
            return
        write_wav(self._out, np.concatenate(self._chunks), self._format.sampleRate())
        self.finished.emit(str(self._out))


class ClassifyDialog(QDialog):
    """Record or open a file; show the genre probabilities and the per-window timeline."""

    def __init__(self, model_path, recorder: Recorder | None = None, parent=None, spellings: dict[str, str] | None = None):
        super().__init__(parent)
        self.setWindowTitle("Classify a Recording")
        self.model_path = model_path
        self.spellings = spellings or {}  # the library's spelling of each genre key, as its table shows them
        self.recorder = recorder or MicrophoneRecorder(self)
        self.recorder.level.connect(self._level)
        self.recorder.finished.connect(self.classify)
        self.recorder.failed.connect(self._problem)
        self.job: Job | None = None
        self.result = None
        self._tmp = tempfile.TemporaryDirectory(prefix="genre-tagger-recording-")
        self.seconds = QSpinBox(minimum=MIN_SECONDS, maximum=MAX_SECONDS, value=15, suffix=" s")
        self.record_button = QPushButton("Record")
        self.record_button.clicked.connect(self.record)
        self.open_button = QPushButton("Open File…")
        self.open_button.clicked.connect(self.open_file)
        self.meter = QProgressBar(maximum=100, textVisible=False)
        self.status = plain_label("Record from the microphone, or open any audio file. Nothing is added to your library.")
        self.status.setWordWrap(True)
        self.bars, self.timeline = ProbabilityBars(), WindowTimeline()
        self._left = 0
        self._countdown = QTimer(self, interval=1000, timeout=self._tick)
        row = QHBoxLayout()
        for w in (self.seconds, self.record_button, self.open_button):
            row.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.meter)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Genre probabilities"))
        layout.addWidget(self.bars)
        layout.addWidget(QLabel("Through the recording (per window)"))
        layout.addWidget(self.timeline)

    def record(self) -> None:
        """Start a recording of the chosen length, with a countdown."""
        self._left = self.seconds.value()
        self._set_busy(True)
        self.status.setText(f"Recording… {self._left} s left")
        self._countdown.start()
        self.recorder.start(self.seconds.value(), Path(self._tmp.name) / "recording.wav")

    def _tick(self) -> None:
        self._left -= 1
        if self._left > 0:
            self.status.setText(f"Recording… {self._left} s left")
        else:
            self._countdown.stop()

    def open_file(self, path: str | None = None) -> None:
        """Classify any audio file (asked for when not given)."""
        if not path:
            patterns = " ".join(f"*{ext}" for ext in FORMATS)
            path, _ = QFileDialog.getOpenFileName(self, "Classify a file", "", f"Audio ({patterns})")
        if path:
            self.classify(path)

    def classify(self, path: str) -> None:
        """Analyse `path` on a worker thread; the result lands in the bars and the timeline."""
        from desktop.core.model import GenreModel
        from desktop.services.classify import classify_file

        self._countdown.stop()
        self._set_busy(True)
        self.status.setText(f"Listening to {Path(path).name}…")
        model_path = self.model_path
        self.job = Job(lambda _report, _cancel: classify_file(GenreModel(model_path), path), "classify")
        self.job.finished.connect(self._show)
        self.job.failed.connect(self._problem)
        start_job(self.job)

    def _show(self, result) -> None:
        self.job, self.result = None, result
        self._set_busy(False)
        if result.top_genre is None:
            words = status_words(result.status)  # "no music: all 3 windows ... are silent"; an error says its own
            self.status.setText(f"{result.path.name}: {result.error if result.status == ERROR else f'{words}: {result.error}'}")
            return
        labels = list(self.bars_labels())
        self.bars.set_probabilities(labels, result.probabilities.tolist())
        self.timeline.set_windows(labels, result.window_starts, result.window_probabilities.tolist())
        self.status.setText(f"{result.path.name}: {shown_genre(result.top_genre, self.spellings)} ({percent(result.confidence)} sure)"
                            + (f"; {result.note}" if result.note else ""))

    def bars_labels(self) -> list[str]:
        """The model's labels as the library shows them ('Hip-Hop', not 'hiphop'), in its probability order."""
        from desktop.core.model import read_model_info

        return [shown_genre(label, self.spellings) for label in read_model_info(self.model_path).labels]

    def _problem(self, message: str) -> None:
        self.job = None
        self._countdown.stop()
        self._set_busy(False)
        self.status.setText(message)

    def _level(self, value: float) -> None:
        self.meter.setValue(int(value * 100))

    def _set_busy(self, busy: bool) -> None:
        self.record_button.setEnabled(not busy)
        self.open_button.setEnabled(not busy)
        if not busy:
            self.meter.setValue(0)

    def done(self, code: int) -> None:  # noqa: D401 (Qt's name)
        """Closing stops a recording and removes the temporary file."""
        if isinstance(self.recorder, MicrophoneRecorder) and self.recorder.recording:
            self.recorder.stop()
        super().done(code)
        self._tmp.cleanup()
