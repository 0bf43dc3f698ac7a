"""A genre head on a frozen (distilled) model: multinomial logistic regression on window embeddings.

With a few hundred labelled clips, a linear head on good embeddings generalises better than
fine-tuning a network; the head becomes the model's classifier layer, so the export is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from trainer.data.windows import track_windows
from trainer.distill.folds import grouped_folds


@dataclass
class LinearHead:
    """Weights on the raw embedding: probabilities = softmax(embedding @ weight.T + bias)."""

    weight: np.ndarray  # [labels, D]
    bias: np.ndarray  # [labels]

    def window_probs(self, emb: np.ndarray) -> np.ndarray:
        """Embeddings [N, D] -> probabilities [N, labels]."""
        logits = emb @ self.weight.T + self.bias  # [N, labels]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def track_probs(self, track_embs: list[np.ndarray]) -> np.ndarray:
        """Mean window probabilities per track [tracks, labels], as the app aggregates them."""
        return np.stack([self.window_probs(e).mean(axis=0) for e in track_embs])


@torch.no_grad()
def embed_tracks(net, audios: list[np.ndarray], window: int, batch: int = 64, pick=None) -> list[np.ndarray]:
    """Embeddings of every non-overlapping window of each track: a list of [n_windows, D]; `pick(logits,
    embedding)` returns other per-window features instead."""
    net.eval()
    pick = pick or (lambda _logits, embedding: embedding)
    out = []
    for audio in audios:
        windows = torch.from_numpy(track_windows(audio, window))  # [n, S]
        out.append(torch.cat([pick(*net(windows[i : i + batch])) for i in range(0, len(windows), batch)]).numpy())
    return out


def fit_head(track_embs: list[np.ndarray], labels: np.ndarray, n_labels: int, l2: float, steps: int = 200) -> LinearHead:
    """Logistic regression on every window (each labelled with its track's genre), L2-regularised.

    Tracks weigh alike whatever their length; the embedding is standardised for the fit and
    the standardisation is folded back into the weights, so the head takes raw embeddings.
    """
    x = np.concatenate(track_embs).astype(np.float64)  # [N, D]
    y = np.concatenate([np.full(len(e), lab) for e, lab in zip(track_embs, labels, strict=True)])  # [N]
    w_track = np.concatenate([np.full(len(e), 1.0 / len(e)) for e in track_embs])  # [N]
    mean, std = x.mean(0), x.std(0) + 1e-6
    xs = torch.from_numpy((x - mean) / std)  # [N, D]
    yt, wt = torch.from_numpy(y).long(), torch.from_numpy(w_track / w_track.sum())
    weight = torch.zeros(n_labels, x.shape[1], dtype=torch.float64, requires_grad=True)  # [L, D]
    bias = torch.zeros(n_labels, dtype=torch.float64, requires_grad=True)  # [L]
    opt = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (F.cross_entropy(xs @ weight.T + bias, yt, reduction="none") * wt).sum() + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    w = weight.detach().numpy() / std  # [L, D]: the same logits from unstandardised input
    b = bias.detach().numpy() - w @ mean  # [L]
    return LinearHead(w.astype(np.float32), b.astype(np.float32))


def choose_l2(track_embs, labels, groups, n_labels, grid=(1e-4, 1e-3, 1e-2, 1e-1), folds: int = 3) -> float:
    """The L2 strength with the best grouped inner cross-validation accuracy (training clips only)."""
    fold_of = grouped_folds(labels, groups, folds, seed=1)
    best, best_acc = grid[0], -1.0
    for l2 in grid:
        correct = 0
        for f in range(folds):
            tr, te = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
            if len(te) == 0 or len(set(labels[tr])) < 2:
                continue
            head = fit_head([track_embs[i] for i in tr], labels[tr], n_labels, l2)
            correct += int((head.track_probs([track_embs[i] for i in te]).argmax(1) == labels[te]).sum())
        if correct > best_acc:
            best, best_acc = l2, correct
    return best
