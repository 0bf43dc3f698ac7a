"""GenreNet: front end -> input norm -> (SpecAugment while training) -> backbone -> classifier."""

from __future__ import annotations

import torch
from torch import nn

from trainer.augment import SpecAugment


class GenreNet(nn.Module):
    """waveform [B, S] -> (logits [B, labels], embedding [B, D])."""

    def __init__(self, frontend: nn.Module, backbone: nn.Module, n_labels: int, dropout: float = 0.3):
        super().__init__()
        self.frontend = frontend
        n_mels = frontend.cfg.n_mels
        # Per-mel-band normalisation learnt from data (PANNs' bn0): dB values span ~100 units.
        self.input_norm = nn.BatchNorm1d(n_mels)
        self.spec_augment = SpecAugment(enabled=False)
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(backbone.embedding_dim, n_labels)

    def forward(self, waveform: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # The front end stays in float32 under mixed precision: dB of a bf16 power spectrum is coarse.
        with torch.autocast(device_type=waveform.device.type, enabled=False):
            mel = self.frontend(waveform.float())  # [B, n_mels, T]
        return self.forward_mel(mel)

    def forward_mel(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same as forward, from a precomputed front-end output [B, n_mels, T] (cached training data)."""
        mel = self.input_norm(mel)  # [B, n_mels, T]
        mel = self.spec_augment(mel)  # [B, n_mels, T], identity unless training with it on
        embedding = self.backbone(mel.unsqueeze(1))  # [B, 1, n_mels, T] -> [B, D]
        logits = self.classifier(self.dropout(embedding))  # [B, labels]
        return logits, embedding
