"""Compact CNN of the music-tagging literature: conv blocks with batch norm, pooling, dropout."""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Module):
    """A 3x3 convolution with batch norm and ReLU, then max pooling (2x2 unless `pool` says otherwise) and dropout."""

    def __init__(self, c_in: int, c_out: int, dropout: float, pool: tuple[int, int] = (2, 2)):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(pool),
            nn.Dropout2d(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)  # [B, c_in, F, T] -> [B, c_out, F/pf, T/pt]


class AttentionPool(nn.Module):
    """Features over time [B, C, T] -> [B, C]: a softmax-weighted mean, the weights scored per frame from the frame."""

    def __init__(self, channels: int):
        super().__init__()
        self.score = nn.Conv1d(channels, 1, 1)  # one relevance score per frame

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.score(x), dim=2)  # [B, 1, T], sums to 1 over time
        return (x * weights).sum(dim=2)  # [B, C]


class GRUPool(nn.Module):
    """Features over time [B, C, T] -> [B, C]: a GRU reads the frames in order, its outputs averaged over time."""

    def __init__(self, channels: int):
        super().__init__()
        self.gru = nn.GRU(channels, channels, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.gru(x.transpose(1, 2))  # [B, T, C] -> [B, T, C]: each frame seen with what came before
        return outputs.mean(dim=1)  # [B, C]


# name -> pooling module factory(channels); "mean" (the plain average over time) needs no module.
TIME_POOLS = {"attention": AttentionPool, "gru": GRUPool}


class CompactCNN(nn.Module):
    """mel [B, 1, n_mels, T] -> embedding [B, 256]."""

    def __init__(self, n_mels: int, channels=(32, 64, 128, 256), dropout: float = 0.1, embedding_dim: int = 256,
                 width: float = 1.0, first_time_pool: int = 2, time_pool: str = "mean"):
        super().__init__()
        blocks, c_in = [], 1
        # One block per entry of `channels`, each halving frequency and time (four: n_mels 96 -> 6).
        # The width multiplier scales every block (0.5 -> 16..128 channels, about 4x fewer operations).
        # first_time_pool 4 keeps the first convolution at full time resolution but hands the later
        # blocks (most of the operations) half as many frames.
        for i, c_out in enumerate(max(8, int(round(c * width))) for c in channels):
            blocks.append(ConvBlock(c_in, c_out, dropout, pool=(2, first_time_pool if i == 0 else 2)))
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        # "attention" or "gru" replaces the plain mean over time by a learnt summary of the frames (max kept).
        if time_pool != "mean" and time_pool not in TIME_POOLS:
            raise ValueError(f"unknown time pooling {time_pool!r}; choose mean or {', '.join(TIME_POOLS)}")
        self.time_pool = TIME_POOLS[time_pool](c_in) if time_pool != "mean" else None
        self.project = nn.Sequential(nn.Linear(2 * c_in, embedding_dim), nn.ReLU(inplace=True))
        self.embedding_dim = embedding_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(x)  # [B, C, n_mels/2^k, T/(2^(k-1)*first_time_pool)] for k blocks
        x = x.mean(dim=2)  # [B, C, T']: average over frequency
        # Mean and max over time: max keeps short salient events (a drum fill, a vocal line).
        average = x.mean(dim=2) if self.time_pool is None else self.time_pool(x)  # [B, C]
        pooled = torch.cat([average, x.amax(dim=2)], dim=1)  # [B, 2C]
        return self.project(pooled)  # [B, D]
