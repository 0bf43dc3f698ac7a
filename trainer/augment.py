"""Augmentations: waveform-level (gain, noise, time shift), mixup, and SpecAugment masking."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

AUGMENTATIONS = ("gain", "noise", "shift", "mixup", "specaugment")


def parse_augmentations(text: str | list[str] | None) -> tuple[str, ...]:
    """'gain,noise' or ['gain'] or 'none' -> validated tuple of names."""
    if text is None:
        return ()
    items = text if isinstance(text, list | tuple) else [t for t in text.split(",")]
    names = tuple(t.strip() for t in items if t.strip() and t.strip() != "none")
    unknown = sorted(set(names) - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(f"unknown augmentation {', '.join(unknown)}; choose from {', '.join(AUGMENTATIONS)}")
    return names


@dataclass
class WaveAugment:
    """Random gain, additive noise and circular time shift on a batch of windows [B, S]."""

    names: tuple[str, ...]
    gain_db: float = 6.0
    noise_snr_db: tuple[float, float] = (20.0, 50.0)

    def __call__(self, wave: torch.Tensor) -> torch.Tensor:
        b = wave.shape[0]
        if "gain" in self.names:
            db = (torch.rand(b, 1, device=wave.device) * 2 - 1) * self.gain_db  # [B, 1]
            wave = wave * torch.pow(10.0, db / 20.0)  # [B, S]
        if "noise" in self.names:
            lo, hi = self.noise_snr_db
            snr = lo + torch.rand(b, 1, device=wave.device) * (hi - lo)  # [B, 1]
            power = wave.pow(2).mean(dim=1, keepdim=True).clamp(min=1e-10)  # [B, 1]
            noise_power = power / torch.pow(10.0, snr / 10.0)  # [B, 1]
            wave = wave + torch.randn_like(wave) * noise_power.sqrt()  # [B, S]
        if "shift" in self.names:
            shift = int(torch.randint(0, wave.shape[1], (1,)))
            wave = torch.roll(wave, shifts=shift, dims=1)  # [B, S]
        return wave


def mixup(wave: torch.Tensor, targets: torch.Tensor, alpha: float = 0.4):
    """Mix each example with a shuffled partner: (wave [B, S], soft targets [B, L])."""
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    lam = max(lam, 1.0 - lam)  # keep the first example dominant so its label stays meaningful
    perm = torch.randperm(wave.shape[0], device=wave.device)
    return lam * wave + (1 - lam) * wave[perm], lam * targets + (1 - lam) * targets[perm]


class SpecAugment(nn.Module):
    """Frequency and time masking (Park et al. 2019) on [B, F, T]; identity in eval mode."""

    def __init__(self, enabled: bool, freq_width: int = 12, time_width: int = 24, masks: int = 2):
        super().__init__()
        self.enabled = enabled
        self.freq_width, self.time_width, self.masks = freq_width, time_width, masks

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        if not (self.enabled and self.training):
            return mel
        b, f, t = mel.shape
        mel = mel.clone()
        for _ in range(self.masks):
            for width, size, axis in ((self.freq_width, f, 1), (self.time_width, t, 2)):
                w = torch.randint(0, width + 1, (b,))  # [B]
                start = (torch.rand(b) * (size - w).clamp(min=1)).long()  # [B]
                idx = torch.arange(size)[None, :]  # [1, size]
                mask = (idx >= start[:, None]) & (idx < (start + w)[:, None])  # [B, size]
                mask = mask.to(mel.device)
                mel = mel.masked_fill(mask[:, :, None] if axis == 1 else mask[:, None, :], 0.0)
        return mel
