"""A student shaped like its teacher, musicnn: timbral and temporal filters, a 1-D mid-end, mean+max over time.

musicnn (Pons & Serra 2019) reads a log-mel with two kinds of first-layer filters: tall ones spanning
40% and 90% of the bands for 7 frames (timbre: a spectral envelope, wherever it sits in pitch) and
long ones along one band (tempo and rhythm: 0.5 to 2 s), each max-pooled over frequency into
frame-level features; three 1-D convolutions with residuals read those over time and everything is
pooled by mean and max. The 3x3 CNN students copy the teacher on game music but not on other genres;
a student built of the same kind of filters may copy it more faithfully on music it never heard.
Scaled to the CNN's cost: the bands are averaged in pairs first (96 -> 48) and the filters are fewer.
"""

from __future__ import annotations

import torch
from torch import nn

TIMBRAL_SHARES = (0.9, 0.4)  # filter heights as shares of the (pooled) bands, as musicnn's
TEMPORAL_LENGTHS = (127, 63, 31)  # frames at a 256 hop: about 2, 1 and 0.5 s (musicnn: 128, 64, 32)


class FrameFeatures(nn.Module):
    """A first-layer convolution over the whole mel, batch norm, ReLU, then max over frequency: [B, 1, F, T] -> [B, C, T]."""

    def __init__(self, c_out: int, kernel: tuple[int, int]):
        super().__init__()
        self.conv = nn.Conv2d(1, c_out, kernel, padding=(0, kernel[1] // 2), bias=False)  # 'same' in time
        self.norm = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.norm(self.conv(x)))  # [B, C, F - kf + 1, T]
        return x.amax(dim=2)  # [B, C, T]: the filter's best match at any height


class MidEndLayer(nn.Module):
    """A 1-D convolution over time with batch norm and ReLU, plus its input when the shapes allow: [B, C, T] -> [B, M, T]."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, 7, padding=3, bias=False)
        self.norm = nn.BatchNorm1d(c_out)
        self.residual = c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.norm(self.conv(x)))  # [B, M, T]
        return y + x if self.residual else y


class MusicnnStudent(nn.Module):
    """mel [B, 1, n_mels, T] -> embedding [B, 256]."""

    def __init__(self, n_mels: int, width: float = 1.0, timbral: int = 64, temporal: int = 16, midend: int = 64,
                 dropout: float = 0.1, embedding_dim: int = 256):
        super().__init__()
        scaled = lambda c: max(4, int(round(c * width)))  # noqa: E731 - one rule for every layer's width
        self.band_pool = nn.AvgPool2d((2, 1))  # 96 bands -> 48: a quarter of the timbral filters' cost
        bands = n_mels // 2
        self.timbral = nn.ModuleList(
            FrameFeatures(scaled(timbral), (max(1, int(share * bands)), 7)) for share in TIMBRAL_SHARES
        )
        self.temporal = nn.ModuleList(FrameFeatures(scaled(temporal), (1, length)) for length in TEMPORAL_LENGTHS)
        c_front = scaled(timbral) * len(TIMBRAL_SHARES) + scaled(temporal) * len(TEMPORAL_LENGTHS)
        m = scaled(midend)
        self.midend = nn.ModuleList([MidEndLayer(c_front, m), MidEndLayer(m, m), MidEndLayer(m, m)])
        c_all = c_front + 3 * m  # the back end reads the front end's features and every mid-end layer's
        self.pooled_norm = nn.BatchNorm1d(2 * c_all)
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Sequential(nn.Linear(2 * c_all, embedding_dim), nn.ReLU(inplace=True))
        self.embedding_dim = embedding_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.band_pool(x)  # [B, 1, n_mels / 2, T]
        front = torch.cat([branch(x) for branch in (*self.timbral, *self.temporal)], dim=1)  # [B, c_front, T]
        features, h = [front], front
        for layer in self.midend:
            h = layer(h)  # [B, m, T]
            features.append(h)
        x = torch.cat(features, dim=1)  # [B, c_all, T]
        pooled = torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)  # [B, 2 * c_all]
        return self.project(self.dropout(self.pooled_norm(pooled)))  # [B, D]
