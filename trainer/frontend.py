"""Log-mel front end as frozen PyTorch layers, so it is exported inside the ONNX graph."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class FrontEndConfig:
    """Parameters of the mel front end; the same names as librosa's."""

    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 96
    f_min: float = 0.0
    f_max: float | None = None
    amin: float = 1e-10

    def frames(self, samples: int) -> int:
        """Number of STFT frames for a window of `samples` (librosa's center=True)."""
        return 1 + samples // self.hop_length


def mel_filterbank(cfg: FrontEndConfig) -> torch.Tensor:
    """Slaney-normalised mel filterbank [n_mels, n_fft // 2 + 1], exactly librosa's."""
    import librosa  # only needed when a model is built, not when a checkpoint is loaded

    basis = librosa.filters.mel(
        sr=cfg.sample_rate,
        n_fft=cfg.n_fft,
        n_mels=cfg.n_mels,
        fmin=cfg.f_min,
        fmax=cfg.f_max,
        htk=False,
        norm="slaney",
    )
    return torch.from_numpy(basis).float()


class MelFrontEnd(nn.Module):
    """waveform [B, S] -> log-mel power in dB [B, n_mels, T].

    Equivalent to ``librosa.power_to_db(librosa.feature.melspectrogram(y, sr, n_fft,
    hop_length, n_mels, center=True, pad_mode='constant'), ref=1.0, amin, top_db=None)``.
    The STFT is a strided convolution with a fixed windowed DFT basis: it exports to any
    ONNX opset and runs on every onnxruntime provider. Nothing here is trainable.
    """

    def __init__(self, cfg: FrontEndConfig, mel_basis: torch.Tensor | None = None):
        super().__init__()
        self.cfg = cfg
        n_bins = cfg.n_fft // 2 + 1
        window = torch.hann_window(cfg.n_fft, periodic=True, dtype=torch.float64)  # librosa's 'hann'
        k = torch.arange(n_bins, dtype=torch.float64)[:, None]  # [bins, 1]
        n = torch.arange(cfg.n_fft, dtype=torch.float64)[None, :]  # [1, n_fft]
        angle = 2.0 * math.pi * k * n / cfg.n_fft  # [bins, n_fft]
        real = torch.cos(angle) * window  # [bins, n_fft]
        imag = -torch.sin(angle) * window  # [bins, n_fft]
        dft = torch.cat([real, imag], dim=0).unsqueeze(1).float()  # [2*bins, 1, n_fft]
        if mel_basis is None:
            mel_basis = mel_filterbank(cfg)
        # Buffers, not parameters: frozen, and derived from cfg so checkpoints need not hold them.
        self.register_buffer("dft", dft, persistent=False)
        self.register_buffer("mel", mel_basis, persistent=False)  # [n_mels, bins]
        self.n_bins = n_bins

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        pad = self.cfg.n_fft // 2
        x = waveform.float().unsqueeze(1)  # [B, 1, S]
        x = F.pad(x, (pad, pad))  # [B, 1, S + n_fft], zeros like librosa's pad_mode='constant'
        spec = F.conv1d(x, self.dft, stride=self.cfg.hop_length)  # [B, 2*bins, T]
        real, imag = spec[:, : self.n_bins], spec[:, self.n_bins :]  # [B, bins, T] each
        power = real * real + imag * imag  # [B, bins, T]
        mel = torch.matmul(self.mel, power)  # [n_mels, bins] @ [B, bins, T] -> [B, n_mels, T]
        return 10.0 * torch.log10(torch.clamp(mel, min=self.cfg.amin))  # [B, n_mels, T]
