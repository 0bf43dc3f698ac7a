"""The frozen-probe yardstick during distillation: after an epoch, how well a linear genre head on the
student's embedding does on labelled clips (the card's artist-grouped folds), and the curve as a PNG.

The probe is far less noisy than one fine-tuning run, so it is what a distillation change is judged by.
Labels are only read here, never by the distillation loss.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from trainer.distill.folds import grouped_folds
from trainer.distill.probe import embed_tracks


class ProbeYardstick:
    """Labelled clips decoded once; `accuracy(net)` is the out-of-fold accuracy of a probe on `net`'s embedding."""

    def __init__(self, data: str, cache: str, sample_rate: int, window: int, folds: int = 5, seed: int = 0, say=print):
        from trainer.distill.crossval import load_labelled

        self.data = load_labelled(data, cache, sample_rate, say=say)
        self.fold_of = grouped_folds(self.data.y, self.data.groups, folds, seed)  # the card's folds
        self.window = window

    def accuracy(self, net: torch.nn.Module, features: str = "embedding") -> float:
        """Out-of-fold track accuracy of per-fold linear heads on the frozen network (L2 chosen inside each fold)."""
        from trainer.distill.crossval import probe_predictions

        was_training = net.training
        embs = probe_features(net, self.data.audios, self.window, features)
        probs = probe_predictions(embs, self.data, self.fold_of, say=lambda _msg: None)
        net.train(was_training)
        return float((probs.argmax(1) == self.data.y).mean())


# What a probe may read from a distilled student [per window]: its embedding; that plus its copy of the
# teacher's tags (as probabilities); or its copy of the teacher's embedding (the distillation head's first
# outputs: a linear map of the embedding, but a different geometry for a regularised head on 156 clips).
PROBE_FEATURES = ("embedding", "embedding+tags", "teacher-embedding")


def probe_features(net: torch.nn.Module, audios: list[np.ndarray], window: int, features: str = "embedding",
                   n_tags: int = 50) -> list[np.ndarray]:
    """Per track [n_windows, F]: the features named by `features` (see PROBE_FEATURES) of every window."""
    picks = {
        "embedding": None,
        # [b, D + n_tags]: the embedding and the student's copy of the teacher's tags as probabilities
        "embedding+tags": lambda logits, emb: torch.cat([emb, torch.sigmoid(logits[:, -n_tags:])], dim=1),
        # [b, 200 * teachers]: the student's copy of the teacher's embedding
        "teacher-embedding": lambda logits, _emb: logits[:, :-n_tags],
    }
    if features not in picks:
        raise ValueError(f"unknown probe features {features!r}; choose {', '.join(PROBE_FEATURES)}")
    return embed_tracks(net, audios, window, pick=picks[features])


def plot_probe_curve(history: list[dict] | dict[str, list[dict]], path: Path, baseline: float | None = None,
                     reference: float | None = None, title: str = "") -> Path:
    """PNG of the frozen-probe accuracy (and validation loss) over distillation epochs; a dict draws
    several runs side by side, one colour each, named by its keys."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the trainer runs headless
    import matplotlib.pyplot as plt

    runs = history if isinstance(history, dict) else {"": history}
    # The legend sits below the axes, two entries per run in two columns: grow the figure with it.
    fig, ax = plt.subplots(figsize=(6.4, 4.2 + 0.15 * max(0, len(runs) - 2)), dpi=100)
    loss_ax = ax.twinx()
    for i, (name, rows) in enumerate(runs.items()):
        colour = f"C{i}"
        probed = [r for r in rows if r.get("probe_accuracy") is not None]
        ax.plot([r["epoch"] + 1 for r in probed], [r["probe_accuracy"] for r in probed], "o-", color=colour,
                label=f"frozen probe{' ' + name if name else ''} (5 artist-grouped folds)")
        loss_ax.plot([r["epoch"] + 1 for r in rows], [r["val_loss"] for r in rows], color=colour, alpha=0.45,
                     linestyle="--", label=f"validation loss{' ' + name if name else ''} (right)")
    if baseline is not None:
        ax.axhline(baseline, color="grey", linestyle=":", label=f"previous default {baseline:.3f}")
    if reference is not None:
        ax.axhline(reference, color="green", linestyle="-.", label=f"teacher's own embedding {reference:.3f}")
    ax.set_xlabel("distillation epoch")
    ax.set_ylabel("held-out accuracy")
    loss_ax.set_ylabel("distillation validation loss")
    lines = ax.get_legend_handles_labels()[0] + loss_ax.get_legend_handles_labels()[0]
    names = ax.get_legend_handles_labels()[1] + loss_ax.get_legend_handles_labels()[1]
    # Below the axes: inside, it would hide the points it describes.
    ax.legend(lines, names, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=7, frameon=False)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
