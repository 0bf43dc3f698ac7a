"""MobileNetV2 (Sandler et al. 2018) on a one-channel mel image, with a width multiplier."""

from __future__ import annotations

import torch
from torch import nn

# (expansion t, channels c, repeats n, first stride s), as in the paper's Table 2.
INVERTED_RESIDUAL_SETTING = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channels to a multiple of `divisor`, never dropping more than 10% (the paper's rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Convolution, batch norm and ReLU6."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """Expand (1x1) -> depthwise (3x3) -> project (1x1, linear), with a skip when shapes match."""

    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int):
        super().__init__()
        hidden = c_in * expansion
        layers = [] if expansion == 1 else [conv_bn_relu(c_in, hidden, 1)]
        layers += [
            conv_bn_relu(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.body = nn.Sequential(*layers)
        self.use_skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)  # [B, c_in, H, W] -> [B, c_out, H/s, W/s]
        return x + y if self.use_skip else y


class MobileNetV2(nn.Module):
    """mel [B, 1, n_mels, T] -> embedding [B, last_channels], or [B, project_dim] with a projection."""

    def __init__(self, n_mels: int, width: float = 1.0, last_channels: int = 1280, project_dim: int | None = None):
        super().__init__()
        c_in = make_divisible(32 * width)
        layers: list[nn.Module] = [conv_bn_relu(1, c_in, 3, stride=2)]
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            c_out = make_divisible(c * width)
            for i in range(n):
                layers.append(InvertedResidual(c_in, c_out, s if i == 0 else 1, t))
                c_in = c_out
        features = make_divisible(last_channels * max(1.0, width))
        layers.append(conv_bn_relu(c_in, features, 1))
        self.features = nn.Sequential(*layers)
        # Optional projection to a smaller embedding, like the CNN's 256-d one (tried for a genre head
        # fitted on few clips; models/default.md has how it did).
        self.project = nn.Sequential(nn.Linear(features, project_dim), nn.ReLU(inplace=True)) if project_dim else nn.Identity()
        self.embedding_dim = project_dim or features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # [B, F, n_mels/32, T/32]
        return self.project(x.mean(dim=(2, 3)))  # [B, F] -> [B, D]


def load_initial_weights(model: nn.Module, path) -> tuple[list[str], list[str]]:
    """Load matching tensors from a state-dict file; return (loaded, skipped) parameter names.

    A file made for an RGB ImageNet model has a 3-channel first convolution: its channels are
    summed into our one-channel input, the usual way to reuse such weights on spectrograms.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # a damaged file, or one holding more than tensors (weights_only refuses code)
        raise ValueError(f"{path}: not a readable weights file ({type(exc).__name__}: {exc})") from exc
    if isinstance(state, dict) and "model_state" in state:
        state = state["model_state"]
    own = model.state_dict()
    loaded, skipped = [], []
    for name, tensor in state.items():
        target = own.get(name)
        if target is not None and tensor.dim() == 4 and tensor.shape[1] == 3 and target.shape[1] == 1:
            tensor = tensor.sum(dim=1, keepdim=True)  # [C, 3, k, k] -> [C, 1, k, k]
        if target is not None and target.shape == tensor.shape:
            own[name] = tensor
            loaded.append(name)
        else:
            skipped.append(name)
    if not loaded:
        raise ValueError(f"{path}: no tensor matches this MobileNetV2 (names or shapes differ)")
    model.load_state_dict(own)
    return loaded, skipped
