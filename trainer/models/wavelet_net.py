"""cnn-wavelet: the CNN's mel branch plus a wavelet branch on the waveform, fused late before the genre head."""

from __future__ import annotations

import torch
from torch import nn

from trainer.models.genre_net import GenreNet
from trainer.wavelet import WaveletFeatures


class WaveletGenreNet(GenreNet):
    """waveform [B, S] -> (logits [B, labels], embedding [B, D]); the embedding fuses both branches."""

    def __init__(self, frontend: nn.Module, backbone: nn.Module, n_labels: int, dropout: float = 0.3, wavelet_dim: int = 32):
        super().__init__(frontend, backbone, n_labels, dropout)
        self.wavelet = WaveletFeatures()
        # Band statistics span tens of dB: normalised like the mel input (bn0), then a small projection.
        self.wavelet_norm = nn.BatchNorm1d(self.wavelet.out_dim)
        self.wavelet_project = nn.Sequential(nn.Linear(self.wavelet.out_dim, wavelet_dim), nn.ReLU(inplace=True))
        dim = backbone.embedding_dim
        self.fuse = nn.Sequential(nn.Linear(dim + wavelet_dim, dim), nn.ReLU(inplace=True))

    def forward(self, waveform: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.autocast(device_type=waveform.device.type, enabled=False):
            mel = self.frontend(waveform.float())  # [B, n_mels, T]
            bands = self.wavelet(waveform.float())  # [B, 21]
        mel = self.spec_augment(self.input_norm(mel))  # [B, n_mels, T]
        cnn = self.backbone(mel.unsqueeze(1))  # [B, D]
        wav = self.wavelet_project(self.wavelet_norm(bands))  # [B, wavelet_dim]
        embedding = self.fuse(torch.cat([cnn, wav], dim=1))  # [B, D]
        return self.classifier(self.dropout(embedding)), embedding

    def forward_mel(self, mel: torch.Tensor):
        """Cached-mel training (distillation, fine-tuning) cannot feed the wavelet branch, which needs the waveform."""
        raise NotImplementedError("cnn-wavelet needs the waveform; it trains with `train` or `crossval scratch`")
