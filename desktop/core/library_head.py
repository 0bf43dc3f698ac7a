"""A genre head learned from a library's own labels, on the stored track embeddings (numpy only).

A class-balanced ridge classifier on standardised embeddings: its regularisation is picked by
grouped cross-validation (artists, or albums, never split across folds), its scores are turned
into calibrated probabilities by a temperature fitted on held-out predictions, and a distance to
the nearest genre's centre tells a track unlike every learned genre. Everything is computed from
per-fold sums (Gram matrices), so 100,000 tracks fit in seconds and nothing is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

LAMBDAS = tuple(10.0 ** p for p in range(-2, 5))  # ridge strengths tried, relative to the weight sum


@dataclass(frozen=True)
class GenreHead:
    """probabilities = softmax((x @ weight + bias) / temperature); x is a raw embedding [dim]."""

    labels: tuple[str, ...]
    weight: np.ndarray  # [dim, genres]
    bias: np.ndarray  # [genres]
    temperature: float
    centres: np.ndarray  # [genres, dim], standardised space
    mean: np.ndarray  # [dim]
    scale: np.ndarray  # [dim]
    novelty_radius: float  # a track farther than this from every centre is unlike every learned genre

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Calibrated logits [n, genres] for embeddings x [n, dim]."""
        return (x @ self.weight + self.bias) / self.temperature

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities [n, genres]."""
        return softmax(self.logits(x))

    def novel(self, x: np.ndarray) -> np.ndarray:
        """True per row [n] where the embedding is unlike every learned genre."""
        return centre_distance(x, self.mean, self.scale, self.centres) > self.novelty_radius


def centre_distance(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Distance [n] from each embedding x [n, dim] to the nearest genre centre, in standardised space."""
    z = (np.atleast_2d(x) - mean) / scale  # [n, dim]
    d2 = (z * z).sum(1, keepdims=True) - 2 * z @ centres.T + (centres ** 2).sum(1)  # [n, genres]
    return np.sqrt(np.maximum(d2.min(axis=1), 0))


@dataclass
class Estimate:
    """The honest figures: grouped cross-validation, every track predicted by a head that never saw its group."""

    accuracy: float
    balanced_accuracy: float
    per_genre: dict[str, dict] = field(default_factory=dict)  # genre -> precision, recall, f1, tracks
    folds: int = 0
    grouped_by: str = ""
    ridge: float = 0.0
    predictions: np.ndarray | None = None  # [n] held-out predicted class per track
    probabilities: np.ndarray | None = None  # [n, genres] held-out calibrated probabilities per track


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def group_folds(groups: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Fold index per row [n]: whole groups per fold, folds of similar size (largest groups placed first)."""
    names, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(names))
    order = order[np.argsort(-sizes[order], kind="stable")]
    load, fold_of = np.zeros(k), np.empty(len(names), int)
    for g in order:
        fold_of[g] = int(load.argmin())
        load[fold_of[g]] += sizes[g]
    return fold_of[inverse]


@dataclass
class _Sums:
    """Weighted sums of one fold: enough to fit ridge on any union of folds."""

    w: float
    z: np.ndarray  # [dim]
    zz: np.ndarray  # [dim, dim]
    y: np.ndarray  # [genres]
    zy: np.ndarray  # [dim, genres]

    def __add__(self, other: _Sums) -> _Sums:
        return _Sums(self.w + other.w, self.z + other.z, self.zz + other.zz, self.y + other.y, self.zy + other.zy)


def _sums(z: np.ndarray, onehot: np.ndarray, w: np.ndarray) -> _Sums:
    zw = z * w[:, None]  # [n, dim]
    f64 = np.float64
    return _Sums(float(w.sum()), zw.sum(0, dtype=f64), (zw.T @ z).astype(f64), (onehot * w[:, None]).sum(0, dtype=f64),
                 (zw.T @ onehot).astype(f64))


def _solve(s: _Sums, lambdas) -> list[tuple[np.ndarray, np.ndarray]]:
    """(coef [dim, genres], intercept [genres]) per ridge strength, from one eigendecomposition."""
    mz, my = s.z / s.w, s.y / s.w
    gram = s.zz - np.outer(s.z, mz)  # weighted, centred
    cross = s.zy - np.outer(s.z, my)
    eigval, eigvec = np.linalg.eigh(gram.astype(np.float64))
    projected = eigvec.T @ cross  # [dim, genres]
    out = []
    for lam in lambdas:
        coef = eigvec @ (projected / (np.maximum(eigval, 0) + lam * s.w)[:, None])
        out.append((coef, my - mz @ coef))
    return out


def _scores_per_strength(s: _Sums, z_test: np.ndarray, lambdas) -> list[np.ndarray]:
    """Held-out scores [n_test, genres] per ridge strength: every strength's coefficients in one product."""
    fits = _solve(s, lambdas)
    k = fits[0][0].shape[1]
    coefs = np.concatenate([c for c, _ in fits], axis=1).astype(np.float32)  # [dim, genres * strengths]
    scores = z_test @ coefs  # [n_test, genres * strengths]
    return [scores[:, i * k:(i + 1) * k] + b.astype(np.float32) for i, (_, b) in enumerate(fits)]


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    recalls = [np.mean(pred[y == c] == c) for c in range(n_classes) if np.any(y == c)]
    return float(np.mean(recalls))


def _temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the held-out negative log-likelihood (golden-section on log T)."""
    def nll(log_t: float) -> float:
        p = softmax(scores / np.exp(log_t))
        return float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

    lo, hi = np.log(1e-3), np.log(10.0)
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


def fit_head(x: np.ndarray, y: np.ndarray, groups: np.ndarray, labels: tuple[str, ...], folds: int = 5,
             grouped_by: str = "artist", lambdas=LAMBDAS, seed: int = 0) -> tuple[GenreHead, Estimate]:
    """Fit the head on embeddings x [n, dim] with classes y [n]; estimate it by grouped, nested CV.

    Each outer fold's ridge strength is chosen by an inner check on the other folds only, so the
    estimate never sees the held-out group. The final head uses the strength best over all folds,
    and the temperature fitted on the out-of-fold scores.
    """
    x = np.asarray(x, np.float32)
    n, k = len(y), len(labels)
    mean, scale = x.mean(0, dtype=np.float64), x.std(0, dtype=np.float64) + 1e-6
    z = ((x - mean) / scale).astype(np.float32)  # [n, dim]
    counts = np.bincount(y, minlength=k)
    w = (n / (k * counts[y])).astype(np.float32)  # class-balanced: every genre weighs the same
    onehot = np.eye(k, dtype=np.float32)[y]  # [n, genres]
    fold = group_folds(groups, folds, seed)
    rows = [np.flatnonzero(fold == f) for f in range(folds)]
    sums = [_sums(z[r], onehot[r], w[r]) for r in rows]

    def fold_scores(train: list[int], test: int) -> list[np.ndarray]:
        total = sums[train[0]]
        for f in train[1:]:
            total = total + sums[f]
        return _scores_per_strength(total, z[rows[test]], lambdas)

    def quality(scores: list[np.ndarray], test: int) -> np.ndarray:
        return np.array([_balanced_accuracy(y[rows[test]], s.argmax(1), k) for s in scores])

    outer_scores = [fold_scores([f for f in range(folds) if f != o], o) for o in range(folds)]
    # Each outer fold's strength is chosen by an inner check on the other folds only.
    # The final strength: best over every fold at once.
    best = int(np.argmax(sum(quality(outer_scores[o], o) for o in range(folds))))
    held_out = np.zeros((n, k), np.float32)
    for outer in range(folds):
        rest = [f for f in range(folds) if f != outer]
        if len(rest) < 2:  # two folds leave nothing to check inside one: use the overall choice
            held_out[rows[outer]] = outer_scores[outer][best]
            continue
        inner_quality = sum(quality(fold_scores([f for f in rest if f != inner], inner), inner) for inner in rest)
        held_out[rows[outer]] = outer_scores[outer][int(np.argmax(inner_quality))]
    total = sums[0]
    for s in sums[1:]:
        total = total + s
    coef, intercept = _solve(total, [lambdas[best]])[0]
    temperature = _temperature(held_out, y)
    # Back to raw embeddings: z = (x - mean) / scale.
    weight = coef / scale[:, None]
    bias = intercept - (mean / scale) @ coef
    centres = np.stack([z[y == c].mean(0) for c in range(k)])  # [genres, dim]
    own = np.sqrt(((z - centres[y]) ** 2).sum(1))  # [n] distance of each track to its own genre's centre
    head = GenreHead(tuple(labels), weight.astype(np.float32), bias.astype(np.float32), temperature,
                     centres.astype(np.float32), mean.astype(np.float32), scale.astype(np.float32),
                     float(np.quantile(own, 0.995) * 1.25))
    pred = held_out.argmax(1)
    estimate = Estimate(float(np.mean(pred == y)), _balanced_accuracy(y, pred, k), per_genre_figures(y, pred, labels),
                        folds, grouped_by, float(lambdas[best]), pred, softmax(held_out / temperature))
    return head, estimate


def per_genre_figures(y: np.ndarray, pred: np.ndarray, labels) -> dict[str, dict]:
    """Precision, recall, F1 and track count per genre, and the genre its held-out tracks were most often taken for
    (taken_for: None where none was mistaken) with how many of them (taken_for_tracks)."""
    out = {}
    for c, name in enumerate(labels):
        tp = int(np.sum((pred == c) & (y == c)))
        precision = tp / max(1, int(np.sum(pred == c)))
        recall = tp / max(1, int(np.sum(y == c)))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        mistaken = np.bincount(pred[(y == c) & (pred != c)], minlength=len(labels))  # [genres]: what they were taken for
        other = int(mistaken.argmax())
        out[name] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "tracks": int(np.sum(y == c)),
                     "taken_for": labels[other] if mistaken[other] else None, "taken_for_tracks": int(mistaken[other])}
    return out


TAKEN_FOR_SHARE = 1 / 3  # a genre whose held-out tracks were taken for one other genre this often is named
TAKEN_FOR_MIN = 3  # and this many of them at least: one or two are fold noise on a small library


class MixUp(NamedTuple):
    """A genre the head told apart least from another: how many of its held-out tracks were taken for it."""

    genre: str
    taken_for: str
    taken: int
    tracks: int


def often_taken_for(per_genre: dict[str, dict]) -> list[MixUp]:
    """The genres that the head told apart from one other genre least: a third of their held-out tracks or more
    taken for it. Most mistaken first."""
    found = [MixUp(name, f["taken_for"], f["taken_for_tracks"], f["tracks"]) for name, f in per_genre.items()
             if f.get("taken_for") and f["taken_for_tracks"] >= max(TAKEN_FOR_MIN, TAKEN_FOR_SHARE * f["tracks"])]
    return sorted(found, key=lambda m: (-m.taken / m.tracks, m.genre.casefold()))
