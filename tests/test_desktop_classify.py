"""Classify a recording outside the library: the CLI (a file or WAV on stdin) and the GUI dialog."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt, QTimer

from desktop.cli import EXIT_ERROR, EXIT_OK, main
from desktop.core.errors import AudioDecodeError
from desktop.ui.classify_dialog import ClassifyDialog, Recorder
from tests.audio_files import make_track

pytestmark = pytest.mark.usefixtures("need_ffmpeg")


@pytest.fixture
def model_env(tmp_path, exported_model, monkeypatch):
    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "c.db"))
    monkeypatch.setenv("GENRE_TAGGER_MODEL", str(exported_model))
    return exported_model


def test_classify_a_file_without_adding_it(model_env, tmp_path, capsys):
    song = make_track(tmp_path, "outside", "beats", "mp3", 6.0, seed=3)
    assert main(["classify", str(song), "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["genre"] == "Beats" and len(data["windows"]) == 6  # the model's "beats" as a genre tag is written and abs(sum(data["probabilities"].values()) - 1) < 1e-3
    assert main(["list", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["tracks"] == []  # nothing added to the library


def test_a_library_track_heard_again_as_a_scan_hears_it_and_bad_files(exported_model, tmp_path):
    from desktop.core.analysis import AnalysisSettings
    from desktop.core.model import GenreModel
    from desktop.core.windows import WindowPlan
    from desktop.services.classify import hear_again

    model, song = GenreModel(exported_model), make_track(tmp_path, "song", "beats", "flac", 12.0, seed=5)
    heard = hear_again(model, song, AnalysisSettings(WindowPlan(max_windows=3)))
    assert len(heard.window_starts) == 3 and heard.window_probabilities.shape == (3, len(model.info.labels))
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"not audio at all" * 100)
    with pytest.raises(AudioDecodeError) as gone:
        hear_again(model, tmp_path / "gone.mp3", AnalysisSettings())
    assert gone.value.path == tmp_path / "gone.mp3"
    assert gone.value.reason == "file not found (moved or deleted since the last scan: Scan finds it)"
    with pytest.raises(AudioDecodeError) as undecodable:  # the decoder's reason, for the details panel to show
        hear_again(model, broken, AnalysisSettings())
    assert undecodable.value.path == broken and undecodable.value.reason


def test_classify_wav_from_standard_input_and_bad_input(model_env, tmp_path):
    song = make_track(tmp_path, "piped", "tones", "wav", 4.0, seed=4)
    env = dict(os.environ)
    run = lambda data, *args: subprocess.run([sys.executable, "-m", "desktop.cli", "classify", *args], input=data,  # noqa: E731
                                             capture_output=True, env=env)
    ok = run(song.read_bytes(), "-", "--json")
    assert ok.returncode == EXIT_OK and json.loads(ok.stdout)["genre"] == "Tones"
    bad = run(b"this is not audio", "-")
    assert bad.returncode == EXIT_ERROR and b"standard input: not a WAV stream (Format not recognised.)" in bad.stderr and b"Traceback" not in bad.stderr
    empty = run(b"", "-")  # nothing piped in: said so, not "Format not recognised"
    assert empty.returncode == EXIT_ERROR and b"standard input: no data: pipe a WAV recording in" in empty.stderr
    missing = run(b"", str(tmp_path / "nope.flac"))
    assert missing.returncode == EXIT_ERROR and b"nope.flac: file not found" in missing.stderr
    folder = run(b"", str(tmp_path))
    assert folder.returncode == EXIT_ERROR and b": is a folder; classify takes one recording" in folder.stderr
    (tmp_path / "live.shn").write_bytes(b"ajkg" * 100)
    unread = run(b"", str(tmp_path / "live.shn"))
    assert unread.returncode == EXIT_ERROR and unread.stderr.decode().strip().endswith("live.shn: unsupported file type .shn")
    sf.write(tmp_path / "quiet.wav", np.zeros(16000 * 3, np.float32), 16000)
    quiet = run(b"", str(tmp_path / "quiet.wav"))
    assert quiet.returncode == EXIT_ERROR and b"quiet.wav: no music: all 3 windows listened to are silent" in quiet.stderr
    sf.write(tmp_path / "blip.wav", np.zeros(8000, np.float32), 16000)
    blip = run(b"", str(tmp_path / "blip.wav"))
    assert blip.returncode == EXIT_ERROR and b"blip.wav: too short: shorter than one" in blip.stderr
    (tmp_path / "damaged.mp3").write_bytes(np.random.default_rng(0).bytes(1000))  # libsndfile: "File does not exist"
    damaged = run(b"", str(tmp_path / "damaged.mp3"))
    assert damaged.returncode == EXIT_ERROR and b"damaged.mp3: cannot read audio (damaged, or not the format its name says)" in damaged.stderr


class FakeRecorder(Recorder):
    """Plays a generated WAV in place of the microphone: a few level readings, then the file."""

    def __init__(self, source=None, fail: str | None = None):
        super().__init__()
        self.source, self.fail = source, fail

    def start(self, seconds, out):
        if self.fail:
            QTimer.singleShot(0, lambda: self.failed.emit(self.fail))
            return
        audio, rate = sf.read(self.source)
        for i in range(3):
            QTimer.singleShot(10 * i, lambda i=i: self.level.emit(0.2 * (i + 1)))
        sf.write(out, audio, rate)
        QTimer.singleShot(50, lambda: self.finished.emit(str(out)))

    def stop(self):
        pass


def test_dialog_records_and_shows_the_genres(qtbot, model_env, tmp_path):
    source = make_track(tmp_path, "mic", "noise", "wav", 12.0, seed=5)
    levels = []
    dialog = ClassifyDialog(model_env, FakeRecorder(source))
    qtbot.addWidget(dialog)
    dialog.recorder.level.connect(levels.append)
    dialog.seconds.setValue(10)
    dialog.record()
    assert not dialog.record_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=30_000)
    assert levels == pytest.approx([0.2, 0.4, 0.6]) and dialog.result.top_genre == "noise"
    assert "Noise" in dialog.status.text() and dialog.bars.items[0][0] == "Noise" and len(dialog.timeline.probs) >= 10
    assert dialog.record_button.isEnabled()


def test_dialog_shows_a_file_name_with_markup_as_named(qtbot, model_env, tmp_path):
    # Qt reads a label's text as HTML when it starts with a tag: "<b>loud.wav" showed as a bold "loud.wav".
    song = make_track(tmp_path, "<b>loud", "noise", "wav", 4.0, seed=6)
    dialog = ClassifyDialog(model_env, FakeRecorder(song))
    qtbot.addWidget(dialog)
    dialog.classify(str(song))
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=30_000)
    assert dialog.status.text().startswith("<b>loud.wav: ")
    assert dialog.status.textFormat() == Qt.TextFormat.PlainText


def test_dialog_without_a_microphone_says_so(qtbot, model_env):
    dialog = ClassifyDialog(model_env, FakeRecorder(fail="No microphone was found. Connect one, or open a file instead."))
    qtbot.addWidget(dialog)
    dialog.record()
    qtbot.waitUntil(lambda: dialog.record_button.isEnabled(), timeout=5_000)
    assert "No microphone" in dialog.status.text() and dialog.result is None


def test_the_real_microphone_recorder_fails_cleanly_without_a_device(qtbot, model_env, tmp_path):
    from desktop.ui.classify_dialog import MicrophoneRecorder

    recorder = MicrophoneRecorder()
    messages = []
    recorder.failed.connect(messages.append)
    recorder.finished.connect(messages.append)
    recorder.start(10, tmp_path / "r.wav")
    recorder.stop()
    qtbot.waitUntil(lambda: bool(messages), timeout=5_000)
    assert messages and isinstance(messages[0], str)  # offscreen CI has no microphone: a message, not a crash


def test_classify_names_the_systems_reason_for_a_path_it_cannot_look_at(tmp_path):
    # A symlink loop was "file not found" (Path.is_file() takes every refusal for nothing there).
    from desktop.services.classify import classify_file

    os.symlink(tmp_path / "b.ogg", tmp_path / "a.ogg")
    os.symlink(tmp_path / "a.ogg", tmp_path / "b.ogg")
    os.mkfifo(tmp_path / "pipe.wav")
    for path, reason in ((tmp_path / "a.ogg", "cannot read (Too many levels of symbolic links)"),
                         (tmp_path / "pipe.wav", "not a regular file (a named pipe, device or socket)"),
                         (tmp_path / "gone.ogg", "file not found")):
        with pytest.raises(AudioDecodeError) as refused:
            classify_file(None, path)  # refused before the model is asked anything
        assert refused.value.reason.startswith(reason)
