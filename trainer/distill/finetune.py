"""Fine-tune a distilled model on labelled clips: genre cross-entropy plus the teacher's targets on the
same clips, so the network adapts to the labelled music without forgetting what the teacher taught.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainer.data.windows import track_windows
from trainer.distill.distill import (
    DistillConfig,
    autocast,
    distill_loss,
    random_gain,
    resolve_precision,
    use_channels_last,
)
from trainer.distill.teacher import Teachers


def teacher_targets(teacher: Teachers, audios: list[np.ndarray], window: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(tags [n, 50 * teachers], embedding [n, 200 * teachers]) for every window of each clip."""
    return [teacher(track_windows(a, window)) for a in audios]


@torch.no_grad()
def clip_mels(net, audios: list[np.ndarray], window: int) -> list[torch.Tensor]:
    """Front-end output of every window of each clip [n, n_mels, T] (the front end is frozen)."""
    return [net.frontend(torch.from_numpy(track_windows(a, window))) for a in audios]


def finetune(net, mels: list[torch.Tensor], labels: np.ndarray, targets, emb_mean: np.ndarray, emb_std: np.ndarray,
             n_labels: int, epochs: int = 4, lr: float = 5e-4, batch: int = 32, seed: int = 0,
             precision: str = "fp32") -> nn.Module:
    """Train the whole network on labelled windows; returns the net with a genre classifier [labels, D].

    `precision` "bf16" runs the forward pass under bfloat16 autocast (the losses stay float32).

    The distillation head (the net's classifier) keeps its job; a new genre head trains beside it.
    """
    torch.manual_seed(seed)
    x = torch.cat(mels)  # [N, n_mels, T]
    y = torch.from_numpy(np.concatenate([np.full(len(m), lab) for m, lab in zip(mels, labels, strict=True)])).long()
    tags = torch.from_numpy(np.concatenate([t for t, _ in targets])).float()  # [N, 50 * teachers]
    emb = torch.from_numpy((np.concatenate([e for _, e in targets]) - emb_mean) / emb_std).float()  # [N, 200 * teachers]
    batch = max(1, min(batch, len(x)))  # a handful of clips still makes one batch per epoch
    genre_head = nn.Linear(net.classifier.in_features, n_labels)
    params = list(net.parameters()) + list(genre_head.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=1e-3)
    steps = max(1, epochs * (len(x) // batch))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    net.spec_augment.enabled = True
    use_channels_last(net)
    device = next(net.parameters()).device
    precision = resolve_precision(precision, device)
    net.train()
    done = 0
    while done < steps:
        order = torch.randperm(len(x))
        for start in range(0, len(order) - batch + 1, batch):
            idx = order[start : start + batch]
            mel = random_gain(x[idx], DistillConfig.gain_db)  # [B, n_mels, T], as in distillation
            with autocast(device, precision):
                distilled, embedding = net.forward_mel(mel)  # [B, 250 * teachers], [B, D]
                logits = genre_head(net.dropout(embedding))  # [B, labels]
            loss = (F.cross_entropy(logits.float(), y[idx], label_smoothing=0.1)
                    + distill_loss(distilled.float(), emb[idx], tags[idx], 1.0))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            done += 1
            if done >= steps:
                break
    net.eval()
    net.genre_head = genre_head.eval()
    return net
