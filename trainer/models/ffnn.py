"""Fully connected baseline on summary statistics of the mel spectrogram."""

from __future__ import annotations

import torch
from torch import nn


class FeedForward(nn.Module):
    """mel [B, 1, n_mels, T] -> embedding [B, 256] through mean/std pooling and an MLP."""

    def __init__(self, n_mels: int, hidden: int = 512, embedding_dim: int = 256, dropout: float = 0.3):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(2 * n_mels, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, embedding_dim),
            nn.ReLU(inplace=True),
        )
        self.embedding_dim = embedding_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.squeeze(1)  # [B, n_mels, T]
        stats = torch.cat([x.mean(dim=2), x.std(dim=2)], dim=1)  # [B, 2*n_mels]
        return self.mlp(stats)  # [B, D]
