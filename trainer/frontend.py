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


def split_factor(n_fft: int, hop_length: int) -> int:
    """The first factor of the two-stage DFT: the largest power of two dividing n_fft and hop with n1**2 <= n_fft."""
    n1 = 1
    while n_fft % (2 * n1) == 0 and hop_length % (2 * n1) == 0 and (2 * n1) ** 2 <= n_fft:
        n1 *= 2
    return n1


def mel_bands(mel: torch.Tensor, groups: int) -> list[tuple[int, int, int, int]]:
    """Split the filters [n_mels, bins] into `groups` runs of consecutive filters, each with the bin
    range holding all its nonzero weights: [(first_filter, end_filter, first_bin, end_bin)]."""
    bands = []
    n_mels = mel.shape[0]
    for g in range(groups):
        f0, f1 = g * n_mels // groups, (g + 1) * n_mels // groups
        if f1 <= f0:
            continue
        nonzero = torch.nonzero(mel[f0:f1].abs().sum(0)).flatten()  # bins any of these filters reads
        b0, b1 = (int(nonzero[0]), int(nonzero[-1]) + 1) if len(nonzero) else (0, 1)
        bands.append((f0, f1, b0, b1))
    return bands


class MelFrontEnd(nn.Module):
    """waveform [B, S] -> log-mel power in dB [B, n_mels, T].

    Equivalent to ``librosa.power_to_db(librosa.feature.melspectrogram(y, sr, n_fft,
    hop_length, n_mels, center=True, pad_mode='constant'), ref=1.0, amin, top_db=None)``.
    Nothing here is trainable.

    The STFT is one Cooley-Tukey step written as two fixed convolutions, so it exports to any
    ONNX opset and every onnxruntime provider while doing about a fifth of the multiplications
    of a plain DFT (a plain DFT convolution was 40% of the whole model's time on a CPU). With
    N = n_fft = n1 * n2 and sample n = a + n1 * b (a < n1, b < n2), bin k = n2 * c + d:

        X[k] = sum_a W_n1^(a c) * Z[a, d],   Z[a, d] = sum_b w[n] x[n] W_N^(d n)

    Z is a grouped convolution (one group per residue a, taps over b, hop / n1 rows per frame);
    the outer sum is a 1x1 convolution over (a, re/im).

    Each mel filter covers a few neighbouring bins, so the filterbank is applied in MEL_GROUPS runs of
    consecutive filters, each over just its own bin range: a quarter of the dense matrix product.
    """

    MEL_GROUPS = 4

    def __init__(self, cfg: FrontEndConfig, mel_basis: torch.Tensor | None = None):
        super().__init__()
        self.cfg = cfg
        n_fft, n1 = cfg.n_fft, split_factor(cfg.n_fft, cfg.hop_length)
        n2 = n_fft // n1
        # Without a split (n1 = 1) the inner stage is the plain one-sided DFT.
        n_inner = n2 if n1 > 1 else n_fft // 2 + 1  # d
        n_outer = (n_fft // 2) // n2 + 1 if n1 > 1 else 1  # c: enough for bins 0..n_fft/2
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)  # librosa's 'hann'
        a = torch.arange(n1, dtype=torch.float64)[:, None, None]  # [n1, 1, 1]
        b = torch.arange(n2, dtype=torch.float64)[None, None, :]  # [1, 1, n2]
        d = torch.arange(n_inner, dtype=torch.float64)[None, :, None]  # [1, inner, 1]
        n = a + n1 * b  # [n1, 1, n2]: sample index within the frame
        angle = 2.0 * math.pi * d * n / n_fft  # [n1, inner, n2]
        w = window[n.long()]  # [n1, 1, n2]
        inner = torch.cat([torch.cos(angle) * w, -torch.sin(angle) * w], dim=1)  # [n1, 2*inner, n2]
        c = torch.arange(n_outer, dtype=torch.float64)[:, None]  # [outer, 1]
        theta = 2.0 * math.pi * c * torch.arange(n1, dtype=torch.float64)[None, :] / n1  # [outer, n1]
        cos, sin = torch.cos(theta), torch.sin(theta)
        # (re + i im) * (cos - i sin): input channel 2a is Z's real part, 2a + 1 its imaginary part.
        outer = torch.zeros(2 * n_outer, 2 * n1, dtype=torch.float64)  # [2*outer, 2*n1]
        outer[:n_outer, 0::2], outer[:n_outer, 1::2] = cos, sin  # real part of X
        outer[n_outer:, 0::2], outer[n_outer:, 1::2] = -sin, cos  # imaginary part of X
        if mel_basis is None:
            mel_basis = mel_filterbank(cfg)
        n_bins = n_outer * n_inner  # >= n_fft/2 + 1; flattened (c, d) is bin n2*c + d, in order
        mel = torch.zeros(cfg.n_mels, n_bins)  # bins past Nyquist get no weight
        used = min(n_bins, mel_basis.shape[1])
        mel[:, :used] = mel_basis[:, :used]
        # Buffers, not parameters: frozen, and derived from cfg so checkpoints need not hold them.
        self.register_buffer("inner", inner.reshape(n1 * 2 * n_inner, 1, n2).float(), persistent=False)
        self.register_buffer("outer", outer[:, :, None].float(), persistent=False)  # [2*outer, 2*n1, 1]
        self.bands = mel_bands(mel, self.MEL_GROUPS)
        for i, (f0, f1, b0, b1) in enumerate(self.bands):
            self.register_buffer(f"mel_{i}", mel[f0:f1, b0:b1].contiguous(), persistent=False)  # [filters, bins]
        self.n1, self.n_inner, self.n_bins = n1, n_inner, n_bins

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        pad, n1 = self.cfg.n_fft // 2, self.n1
        x = F.pad(waveform.float(), (pad, pad))  # [B, S + n_fft], zeros like librosa's pad_mode='constant'
        batch, length = x.shape[0], x.shape[1] // n1 * n1  # the tail past the last frame is never read
        x = x[:, :length].reshape(batch, length // n1, n1).transpose(1, 2)  # [B, n1, rows]: x[a + n1*row]
        z = F.conv1d(x, self.inner, stride=self.cfg.hop_length // n1, groups=n1)  # [B, n1*2*inner, T]
        frames = z.shape[-1]
        z = z.reshape(batch, 2 * n1, self.n_inner * frames)  # [B, 2*n1, inner*T]
        spec = F.conv1d(z, self.outer)  # [B, 2*outer, inner*T]
        spec = spec.reshape(batch, 2, self.n_bins, frames)  # [B, re/im, bins, T]
        power = (spec * spec).sum(dim=1)  # [B, bins, T]: re^2 + im^2 (one multiply and one sum; indexing re and im copied both)
        mel = torch.cat([torch.matmul(getattr(self, f"mel_{i}"), power[:, b0:b1])  # [B, filters, T] per band
                         for i, (_, _, b0, b1) in enumerate(self.bands)], dim=1)  # [B, n_mels, T]
        return 10.0 * torch.log10(torch.clamp(mel, min=self.cfg.amin))  # [B, n_mels, T]
