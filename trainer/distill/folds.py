"""Cross-validation folds that keep every group (an artist) on one side and each genre spread out."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np


def grouped_folds(labels, groups, k: int, seed: int = 0) -> np.ndarray:
    """Fold index per item [N]: whole groups, largest first, each to the fold that has least of its genres."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    members: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[str(g)].append(i)
    rng = np.random.default_rng(seed)
    names = sorted(members)
    rng.shuffle(names)  # ties between equal-sized groups are broken by the seed
    names.sort(key=lambda g: -len(members[g]))  # stable: big groups first, the hardest to place
    per_fold = [Counter() for _ in range(k)]
    fold_of = np.zeros(len(labels), dtype=np.int64)
    for g in names:
        need = Counter(labels[i] for i in members[g])
        cost = [sum(per_fold[f][lab] * n for lab, n in need.items()) + 1e-3 * sum(per_fold[f].values()) for f in range(k)]
        f = int(np.argmin(cost))
        per_fold[f].update(need)
        fold_of[members[g]] = f
    return fold_of
