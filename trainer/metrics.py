"""Classification figures from per-track predictions, in plain numpy."""

from __future__ import annotations

import numpy as np


def confusion_matrix(true: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    """[n, n] counts, rows are true labels, columns predictions."""
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm


def classification_figures(true, pred, labels: list[str]) -> dict:
    """Accuracy, per-label precision/recall/F1/support, macro F1 and the confusion matrix."""
    true, pred = np.asarray(true), np.asarray(pred)
    cm = confusion_matrix(true, pred, len(labels))
    per_label = {}
    for i, label in enumerate(labels):
        tp = cm[i, i]
        precision = tp / cm[:, i].sum() if cm[:, i].sum() else 0.0
        recall = tp / cm[i].sum() if cm[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": float(precision), "recall": float(recall), "f1": float(f1), "support": int(cm[i].sum())}
    supported = [v["f1"] for v in per_label.values() if v["support"]]
    return {
        "accuracy": float((true == pred).mean()) if len(true) else 0.0,
        "macro_f1": float(np.mean(supported)) if supported else 0.0,
        "tracks": int(len(true)),
        "per_label": per_label,
        "confusion_matrix": cm.tolist(),
        "labels": list(labels),
    }
