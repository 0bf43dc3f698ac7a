"""Shared fixtures: a synthesized labelled data set and a real model trained and exported from it."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The tests never touch the real user folders: platformdirs follows the XDG variables on Linux.
_HOME = tempfile.mkdtemp(prefix="genre-tagger-tests-home-")
for _var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
    os.environ[_var] = os.path.join(_HOME, _var.lower())
_HOME_OWNER = os.getpid()


def _remove_home() -> None:
    """Remove the tests' user folders when the test run ends (each run left about 40 MB in /tmp)."""
    if os.getpid() == _HOME_OWNER:  # not from a forked child (a data loader's worker) still running tests' code
        shutil.rmtree(_HOME, ignore_errors=True)


atexit.register(_remove_home)


def pytest_sessionfinish(session, exitstatus):
    """End the window's background jobs as the app does when it quits: a job that a run's last test started (an
    album check) kept its thread until the interpreter's exit destroyed it, which Qt answers by aborting."""
    workers = sys.modules.get("desktop.ui.workers")
    if workers is not None:
        workers.finish_jobs()

# Small but real: 1-second windows at 16 kHz keep CPU training to seconds.
FAST_TRAINING = dict(
    window_seconds=1.0, epochs=12, batch_size=16, windows_per_track=12, lr=3e-3,
    valid_fraction=0.2, test_fraction=0.2, patience=12, workers=2, augment="gain,noise",
)


@pytest.fixture(scope="session")
def synth_data(tmp_path_factory):
    """A folder-per-genre data set of three synthetic genres, 8 tracks each."""
    from trainer.synth import write_dataset

    root = tmp_path_factory.mktemp("synth")
    write_dataset(root, per_genre=8, seconds=3.0, seed=1)
    return root


@pytest.fixture(scope="session")
def synth_holdout(tmp_path_factory):
    """Different tracks of the same synthetic genres, never trained on."""
    from trainer.synth import write_dataset

    root = tmp_path_factory.mktemp("holdout")
    write_dataset(root, per_genre=5, seconds=3.0, seed=99)
    return root


def train_synth(tmp_root, data, model="cnn", **overrides):
    """Train a model on synthetic data with the fast settings; return the best checkpoint."""
    from trainer.config import TrainConfig
    from trainer.train import train

    values = dict(FAST_TRAINING, data=str(data), out=str(tmp_root / model), cache=str(tmp_root / "cache"), model=model)
    values.update(overrides)
    return train(TrainConfig(**values), say=lambda *_: None)


@pytest.fixture(scope="session")
def cnn_checkpoint(tmp_path_factory, synth_data):
    """A CNN trained on the synthetic genres."""
    return train_synth(tmp_path_factory.mktemp("run"), synth_data)


@pytest.fixture(scope="session")
def exported_model(tmp_path_factory, cnn_checkpoint):
    """The trained CNN exported to ONNX through the trainer's own export."""
    from trainer.evaluate import evaluate
    from trainer.export import export

    evaluate(cnn_checkpoint, say=lambda *_: None)
    out = tmp_path_factory.mktemp("model") / "synth-cnn.onnx"
    return export(cnn_checkpoint, out, say=lambda *_: None)


@pytest.fixture(scope="session")
def need_ffmpeg():
    """Encoding test files needs ffmpeg (installed by `make test` through scripts/system-deps.sh)."""
    import shutil

    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not installed: run scripts/system-deps.sh")


@pytest.fixture
def env(tmp_path, exported_model):
    """A library of every format, a database and the services over them."""
    from desktop.core.analysis import Analyzer
    from desktop.core.model import GenreModel
    from desktop.services.library import Library
    from desktop.services.settings import TaggingSettings
    from desktop.services.tagging import TagService
    from desktop.store.database import open_database
    from tests.audio_files import make_library

    music = tmp_path / "music"
    files = make_library(music)
    sessions = open_database(tmp_path / "library.db")
    model = GenreModel(exported_model, device="cpu")

    class Env:
        pass

    e = Env()
    e.music, e.files, e.sessions, e.model = music, files, sessions, model
    e.library = Library(sessions)
    e.analyzer = Analyzer(model, TaggingSettings().analysis())
    e.tagger = TagService(sessions, TaggingSettings())

    def scan():
        report = e.library.sync([music])
        return report, e.library.analyse(e.analyzer)

    e.scan = scan
    return e


@pytest.fixture
def unreadable_folders(monkeypatch) -> set[str]:
    """The folder names put in this set cannot be listed ("Permission denied"), as a chmod would make them for a user
    other than root, who runs the tests here; taken out, they can again."""
    real_scandir, names = os.scandir, set()

    def scandir(path="."):
        if os.path.basename(path) in names:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    return names


@pytest.fixture
def without_inodes(monkeypatch):
    """Every stat, and every folder listing's, gives inode and device 0, as Windows' scandir does (and some network
    and FUSE file systems) where the system has no number to tell a file by."""
    real_stat, real_scandir = os.stat, os.scandir

    def zeroed(st):
        fields = list(st)
        fields[1] = fields[2] = 0  # st_ino, st_dev
        return os.stat_result(fields, {name: getattr(st, name) for name in (
            "st_atime", "st_mtime", "st_ctime", "st_atime_ns", "st_mtime_ns", "st_ctime_ns", "st_blksize", "st_blocks",
            "st_rdev")})

    class Entry:
        def __init__(self, entry):
            self._entry, self.name, self.path = entry, entry.name, entry.path

        def __getattr__(self, name):  # is_dir, is_file, is_symlink
            return getattr(self._entry, name)

        def stat(self, *, follow_symlinks=True):
            return zeroed(self._entry.stat(follow_symlinks=follow_symlinks))

    @contextlib.contextmanager
    def scandir(path="."):
        with real_scandir(path) as entries:
            yield (Entry(entry) for entry in entries)

    monkeypatch.setattr(os, "stat", lambda path, *args, **kwargs: zeroed(real_stat(path, *args, **kwargs)))
    monkeypatch.setattr(os, "scandir", scandir)
