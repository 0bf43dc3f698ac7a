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


GENRE_TEACHER_TEMPERATURE = 2.0  # softens the teacher's genre head, so its second choices teach too (Hinton et al.)


def cross_fitted_genre_targets(teacher_embs: list[np.ndarray], labels: np.ndarray, groups: np.ndarray, n_labels: int,
                               temperature: float = GENRE_TEACHER_TEMPERATURE, folds: int = 5) -> list[np.ndarray]:
    """The teacher's genre opinion of every window of each clip [n_windows, labels], tempered: a linear head on
    the teacher's embedding, each clip's from a head fitted without its group (artist), so the targets carry
    the teacher's confusions on music it has not heard rather than the labels again."""
    from trainer.distill.folds import grouped_folds
    from trainer.distill.probe import choose_l2, fit_head

    n_groups = len(set(groups))
    if n_groups < 2:
        raise ValueError("the teacher's genre targets need clips of at least two artists to cross-fit")
    fold_of = grouped_folds(labels, groups, min(folds, n_groups), seed=3)
    l2 = choose_l2(teacher_embs, labels, groups, n_labels, folds=min(3, n_groups))
    out: list[np.ndarray] = [np.empty(0)] * len(teacher_embs)
    for f in range(fold_of.max() + 1):
        fit_on, answer = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        head = fit_head([teacher_embs[i] for i in fit_on], labels[fit_on], n_labels, l2)
        for i in answer:
            logits = np.log(head.window_probs(teacher_embs[i]) + 1e-9) / temperature  # [n_windows, labels]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            out[i] = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def finetune(net, mels: list[torch.Tensor], labels: np.ndarray, targets, emb_mean: np.ndarray, emb_std: np.ndarray,
             n_labels: int, epochs: int = 4, lr: float = 5e-4, batch: int = 32, seed: int = 0,
             precision: str = "fp32", teacher_weight: float = 1.0, genre_targets: list[np.ndarray] | None = None,
             genre_teacher_weight: float = 0.0) -> nn.Module:
    """Train the whole network on labelled windows; returns the net with a genre classifier [labels, D].

    `precision` "bf16" runs the forward pass under bfloat16 autocast (the losses stay float32).
    `teacher_weight` weighs the teacher's embedding and tags against the genre loss; `genre_targets`
    (cross_fitted_genre_targets, per clip) add the teacher's genre opinion at `genre_teacher_weight`.

    The distillation head (the net's classifier) keeps its job; a new genre head trains beside it.
    """
    torch.manual_seed(seed)
    x = torch.cat(mels)  # [N, n_mels, T]
    y = torch.from_numpy(np.concatenate([np.full(len(m), lab) for m, lab in zip(mels, labels, strict=True)])).long()
    tags = torch.from_numpy(np.concatenate([t for t, _ in targets])).float()  # [N, 50 * teachers]
    emb = torch.from_numpy((np.concatenate([e for _, e in targets]) - emb_mean) / emb_std).float()  # [N, 200 * teachers]
    if genre_teacher_weight and genre_targets is None:
        raise ValueError("a weight for the teacher's genre targets needs the targets (cross_fitted_genre_targets)")
    opinion = torch.from_numpy(np.concatenate(genre_targets)).float() if genre_teacher_weight else None  # [N, labels]
    t = GENRE_TEACHER_TEMPERATURE
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
                    + teacher_weight * distill_loss(distilled.float(), emb[idx], tags[idx], 1.0))
            if opinion is not None:  # cross-entropy on the tempered soft targets, scaled by T² as in Hinton et al.
                soft = -(opinion[idx] * F.log_softmax(logits.float() / t, dim=1)).sum(1).mean()
                loss = loss + genre_teacher_weight * t * t * soft
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
