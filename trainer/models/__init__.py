"""Model registry: every model is a front end, a backbone and a linear classifier."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from trainer.models.cnn import CompactCNN
from trainer.models.ffnn import FeedForward
from trainer.models.genre_net import GenreNet
from trainer.models.mobilenet import MobileNetV2
from trainer.models.musicnn_student import MusicnnStudent
from trainer.models.wavelet_net import WaveletGenreNet

# name -> backbone factory(n_mels, width). The feed-forward baseline has no width to scale.
BACKBONES: dict[str, Callable[[int, float], nn.Module]] = {
    "cnn": lambda n_mels, width: CompactCNN(n_mels, width=width),
    # The same CNN at about 70% of the cost: its first block pools time by 4 instead of 2.
    "cnn-fast": lambda n_mels, width: CompactCNN(n_mels, width=width, first_time_pool=4),
    # The CNN with attention pooling over time (frames weighted by a learnt score) instead of the mean.
    "cnn-attn": lambda n_mels, width: CompactCNN(n_mels, width=width, time_pool="attention"),
    # The CNN with a GRU reading the frames in order instead of the mean over time.
    "cnn-gru": lambda n_mels, width: CompactCNN(n_mels, width=width, time_pool="gru"),
    # The CNN with a fifth block (96 mels -> 3 bands, 11 -> 5 frames): about 1.1x the time per window.
    "cnn-deep": lambda n_mels, width: CompactCNN(n_mels, width=width, channels=(32, 64, 128, 256, 256)),
    # Shaped like the teacher, musicnn: timbral and temporal first-layer filters, a 1-D mid-end.
    "musicnn": lambda n_mels, width: MusicnnStudent(n_mels, width=width),
    "mobilenet": lambda n_mels, width: MobileNetV2(n_mels, width=width),
    # MobileNetV2 with a 256-d embedding (the CNN's size) projected from its 1280 features.
    "mobilenet-256": lambda n_mels, width: MobileNetV2(n_mels, width=width, project_dim=256),
    "ffnn": lambda n_mels, width: FeedForward(n_mels),
    # The CNN's mel branch plus a Daubechies-4 wavelet branch on the waveform (trainer/wavelet.py).
    "cnn-wavelet": lambda n_mels, width: CompactCNN(n_mels, width=width),
}
# Models whose network is not the plain GenreNet around their backbone.
NETWORKS: dict[str, type[GenreNet]] = {"cnn-wavelet": WaveletGenreNet}

__all__ = ["BACKBONES", "NETWORKS", "GenreNet", "build_model", "model_names"]


def model_names() -> list[str]:
    """Names accepted by --model."""
    return sorted(BACKBONES)


def check_model_name(name: str) -> None:
    """ValueError for a name --model does not accept, naming those it does."""
    if name not in BACKBONES:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(model_names())}")


def build_model(name, n_labels, frontend_cfg, *, dropout=0.3, width=1.0, mel_basis=None) -> GenreNet:
    """Build a registered model with the shared front end."""
    from trainer.frontend import MelFrontEnd

    check_model_name(name)
    frontend = MelFrontEnd(frontend_cfg, mel_basis=mel_basis)
    network = NETWORKS.get(name, GenreNet)
    return network(frontend, BACKBONES[name](frontend_cfg.n_mels, width), n_labels, dropout=dropout)
