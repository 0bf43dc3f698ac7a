"""A discrete wavelet decomposition inside the graph: fixed Daubechies-4 filter banks as strided convolutions.

Each level splits the approximation into a detail band (high-pass) and the next approximation
(low-pass), each decimated by 2: six levels give seven bands (D1..D6, A6). Per band, the log energy
of 16 equal stretches of the window is taken; their mean, spread and maximum describe the band.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Daubechies-4 decomposition filters (8 taps), as PyWavelets lists them (pywt.Wavelet("db4").dec_lo/dec_hi).
DB4_LOW = (-0.010597401784997278, 0.032883011666982945, 0.030841381835986965, -0.18703481171888114,
           -0.02798376941698385, 0.6308807679295904, 0.7148465705525415, 0.23037781330885523)
DB4_HIGH = tuple((-1) ** (n + 1) * DB4_LOW[len(DB4_LOW) - 1 - n] for n in range(len(DB4_LOW)))


class WaveletBands(nn.Module):
    """waveform [B, S] -> list of `levels` detail bands and the last approximation, each [B, S / 2^k].

    Convention (checked against a NumPy reference in the tests): one level is the 'valid'
    convolution with the filter, every second sample kept: y[k] = sum_n h[n] x[2k + L - 1 - n].
    """

    def __init__(self, levels: int = 6):
        super().__init__()
        self.levels = levels
        # conv1d correlates, so the filters are stored reversed; [2 (low, high), 1, taps]. Fixed: a buffer.
        bank = torch.tensor([DB4_LOW[::-1], DB4_HIGH[::-1]], dtype=torch.float32).unsqueeze(1)
        self.register_buffer("bank", bank)

    def forward(self, waveform: torch.Tensor) -> list[torch.Tensor]:
        bands, approx = [], waveform.unsqueeze(1)  # [B, 1, S]
        for _ in range(self.levels):
            pair = F.conv1d(approx, self.bank, stride=2)  # [B, 2, (S' - taps) / 2 + 1]
            approx, detail = pair[:, :1], pair[:, 1:]
            bands.append(detail.squeeze(1))  # [B, S'']
        bands.append(approx.squeeze(1))
        return bands


class WaveletFeatures(nn.Module):
    """waveform [B, S] -> [B, 3 * (levels + 1)]: mean, std and max over time of each band's log energy."""

    def __init__(self, levels: int = 6, frames: int = 16):
        super().__init__()
        self.bands = WaveletBands(levels)
        self.frames = frames
        self.out_dim = 3 * (levels + 1)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        stats = []
        for band in self.bands(waveform):  # [B, n]
            step = band.shape[1] // self.frames
            framed = band[:, : step * self.frames].reshape(band.shape[0], self.frames, step)  # [B, frames, step]
            energy = torch.log10(framed.pow(2).mean(dim=2) + 1e-10)  # [B, frames]
            stats += [energy.mean(dim=1), energy.std(dim=1), energy.amax(dim=1)]  # 3 x [B]
        return torch.stack(stats, dim=1)  # [B, 3 * bands]
