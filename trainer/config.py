"""Training configuration: one dataclass, from a YAML/JSON file and/or command-line flags."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from trainer.frontend import FrontEndConfig

PATH_FIELDS = ("data", "splits", "out", "cache", "init_weights")
OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "step", "constant")
EARLY_STOPS = ("val_loss", "val_acc")
# field -> (least, most, whether the least itself is allowed): each number a run needs in its range
RANGES = {
    "sample_rate": (1, None, True), "n_fft": (2, None, True), "hop_length": (1, None, True), "n_mels": (1, None, True),
    "epochs": (1, None, True), "batch_size": (1, None, True), "windows_per_track": (1, None, True),
    "patience": (1, None, True), "workers": (0, None, True), "width": (0, None, False),
    "window_seconds": (0, None, False), "lr": (0, None, False), "weight_decay": (0, None, True),
    "dropout": (0, 1, True), "mixup_alpha": (0, None, True), "valid_fraction": (0, 1, True),
    "test_fraction": (0, 1, True),
}


@dataclass
class TrainConfig:
    """Everything a run needs; saved in every checkpoint so a run can resume or re-export."""

    data: str = ""
    splits: str | None = None  # folder with train*/valid*/test*.txt lists
    out: str = "runs/run"
    cache: str = ".cache/decoded"
    dataset_name: str | None = None  # recorded in the exported model; defaults to the data folder name
    model: str = "cnn"
    width: float = 1.0  # width multiplier of the cnn and mobilenet channels
    init_weights: str | None = None  # MobileNet initial weights (a state dict file)
    dropout: float = 0.3
    sample_rate: int = 16000
    window_seconds: float = 3.0
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 96
    epochs: int = 40
    batch_size: int = 32
    windows_per_track: int = 8
    optimizer: str = "adamw"  # adamw | sgd
    lr: float = 1e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"  # cosine | step | constant
    early_stop: str = "val_loss"  # val_loss | val_acc
    patience: int = 8
    augment: str = "gain,noise,shift,specaugment"
    mixup_alpha: float = 0.4
    valid_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: bool = True  # mixed precision on CUDA only
    workers: int = 2
    version: str = "0.1.0"

    @property
    def window_samples(self) -> int:
        """Samples per model window."""
        return int(round(self.window_seconds * self.sample_rate))

    def frontend(self) -> FrontEndConfig:
        """The front end these settings describe."""
        return FrontEndConfig(self.sample_rate, self.n_fft, self.hop_length, self.n_mels)

    def check(self) -> None:
        """ValueError naming the first setting a run cannot use (of the wrong kind, out of range, not a choice),
        said before minutes of decoding rather than as PyTorch's words deep inside the first epoch."""
        for f in fields(self):
            value, kind = getattr(self, f.name), {"int": int, "float": (int, float)}.get(str(f.type))
            if kind and (isinstance(value, bool) or not isinstance(value, kind)):
                raise ValueError(f"{f.name}: {value!r} is not a number{' (a whole one)' if kind is int else ''}")
        for name, (least, most, least_too) in RANGES.items():
            value = getattr(self, name)
            if value < least or (value == least and not least_too) or (most is not None and value >= most):
                range_words = (f"{'at least' if least_too else 'more than'} {least}"
                               + (f" and less than {most}" if most is not None else ""))
                raise ValueError(f"{name}: {value!r} is out of range; it must be {range_words}")
        if self.valid_fraction + self.test_fraction >= 1:
            raise ValueError(f"valid_fraction + test_fraction: {self.valid_fraction} + {self.test_fraction} leaves no "
                             "track to train on")
        if self.window_samples < self.n_fft:
            raise ValueError(f"window_seconds: a {self.window_seconds} s window holds {self.window_samples} samples, "
                             f"fewer than n_fft ({self.n_fft})")
        if self.n_mels > self.n_fft // 2 + 1:
            raise ValueError(f"n_mels: {self.n_mels} mel bands from {self.n_fft // 2 + 1} frequency bins (n_fft "
                             f"{self.n_fft}): some would be empty")
        for name, choices in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES), ("early_stop", EARLY_STOPS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; choose one of {', '.join(choices)}")

    def with_paths_resolved(self) -> TrainConfig:
        """The same settings with each file and folder as an absolute path: a checkpoint keeps them, and `evaluate`
        run from another folder found no "data/synth" (relative to where `train` ran)."""
        resolved = {name: str(Path(value).resolve()) for name in PATH_FIELDS if (value := getattr(self, name))}
        return replace(self, **resolved)

    def to_dict(self) -> dict:
        """Plain dict for checkpoints and reports."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build from a dict, rejecting unknown keys with their names."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**values)


def load_config_file(path: str | Path) -> dict:
    """Read a YAML or JSON config file into a dict."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else (yaml.safe_load(text) or {})
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a config file (not text: {exc.reason} at byte {exc.start})") from exc
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: not a readable config file ({' '.join(str(exc).split())})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file holds a mapping of keys to values")
    return data
