"""Training configuration: one dataclass, from a YAML/JSON file and/or command-line flags."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from trainer.frontend import FrontEndConfig


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
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return json.loads(text)
    import yaml

    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file holds a mapping of keys to values")
    return data
