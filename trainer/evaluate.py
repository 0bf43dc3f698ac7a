"""Evaluate a checkpoint on a split: a report folder with figures, plots and per-track results."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from trainer.checkpoint import load_checkpoint, model_from_checkpoint
from trainer.data.cache import DecodeCache, decode_all
from trainer.data.sources import DatasetError, TrackRecord, discover
from trainer.metrics import classification_figures
from trainer.text_columns import columns, padded
from trainer.train import predict_tracks


def split_records(state: dict, split: str, data: str | None) -> list[TrackRecord]:
    """The tracks of `split`: the checkpoint's own split, or all of another data set (`data`)."""
    if data:
        return discover(data)
    cfg = state["config"]
    by_path = {str(r.path): r for r in discover(cfg["data"])}
    paths = state["splits"].get(split, [])
    if not paths:
        raise DatasetError(f"the checkpoint's {split} split is empty; pass --data to evaluate on another set")
    return [by_path[p] for p in paths if p in by_path]


def evaluate(checkpoint: str | Path, out: str | Path | None = None, split: str = "test", data: str | None = None, say=print) -> dict:
    """Write report.json, per_track.csv, confusion.png and curves.png; return the figures."""
    state = load_checkpoint(checkpoint)
    model, cfg, labels = model_from_checkpoint(state)
    out = Path(out) if out else Path(checkpoint).parent / "report"
    out.mkdir(parents=True, exist_ok=True)
    records = split_records(state, split, data)
    unknown = sorted({r.label for r in records} - set(labels))
    if unknown:
        raise DatasetError(f"labels not known to the model: {', '.join(unknown)}")
    decoded, errors = decode_all(records, DecodeCache(Path(cfg.cache), cfg.sample_rate), cfg.workers)
    for err in errors:
        say(f"skipped unreadable file {err.path}: {err.reason}")
    probs, _ = predict_tracks(model, [d.audio for d in decoded], cfg.window_samples, "cpu")
    truth = np.array([labels.index(d.record.label) for d in decoded])
    pred = probs.argmax(1)
    figures = classification_figures(truth, pred, labels)
    figures.update({
        "split": split if not data else f"all of {data}",
        "dataset": cfg.dataset_name or Path(cfg.data).name,
        "model": cfg.model,
        "checkpoint": str(checkpoint),
        "epoch": state["epoch"],
        "skipped_files": [str(e.path) for e in errors],
        "history": state["history"],
    })
    (out / "report.json").write_text(json.dumps(figures, indent=2))
    with open(out / "per_track.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label", "predicted", "confidence", *labels])
        for d, p in zip(decoded, probs, strict=True):
            writer.writerow([d.record.path, d.record.label, labels[int(p.argmax())], f"{p.max():.4f}", *(f"{x:.4f}" for x in p)])
    plot_confusion(figures["confusion_matrix"], labels, out / "confusion.png")
    plot_curves(state["history"], out / "curves.png")
    say(f"accuracy {figures['accuracy']:.3f}  macro F1 {figures['macro_f1']:.3f} on {figures['tracks']} tracks -> {out}")
    for line in per_label_lines(figures["per_label"]):
        say(line)
    return figures


def per_label_lines(per_label: dict[str, dict]) -> list[str]:
    """A line per genre of its precision, recall, F1 and count, in line however long or wide its name."""
    width = max([12, *map(columns, per_label)])
    return [f"  {padded(label, width)} precision {f['precision']:.2f}  recall {f['recall']:.2f}  F1 {f['f1']:.2f}  "
            f"n={f['support']}" for label, f in per_label.items()]


def plot_confusion(cm, labels, path: Path) -> None:
    """Confusion matrix as a labelled heat map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(labels), 1 + 0.55 * len(labels)))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > cm.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_curves(history: list[dict], path: Path) -> None:
    """Loss and accuracy per epoch, training and validation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] + 1 for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in ((a, "loss"), (b, "acc")):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], label="train")
        if any(h.get(f"val_{key}") is not None for h in history):
            ax.plot(epochs, [h[f"val_{key}"] for h in history], label="valid")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
