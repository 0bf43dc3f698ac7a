"""Train/valid/test splits: from split lists, from the manifest, or seeded and stratified."""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from trainer.data.sources import DatasetError, TrackRecord
from trainer.text_columns import columns, padded

log = logging.getLogger(__name__)
SPLITS = ("train", "valid", "test")


def read_split_dir(split_dir: Path) -> dict[str, str]:
    """Files named train*.txt, valid*.txt, test*.txt listing names like blues/blues.00029.wav -> {key: split}."""
    split_dir = Path(split_dir)
    assignment: dict[str, str] = {}
    for split in SPLITS:
        files = sorted(split_dir.glob(f"{split}*.txt"))
        if not files:
            raise DatasetError(f"{split_dir}: no {split}*.txt split list")
        for line in files[0].read_text(encoding="utf-8").splitlines():
            if line.strip():
                assignment[Path(line.strip()).stem] = split
    return assignment


def assign_splits(
    records: list[TrackRecord],
    split_dir: Path | None = None,
    valid_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> dict[str, list[TrackRecord]]:
    """Split records; a split list wins, then manifest splits, then a seeded stratified split.

    With split lists, tracks they do not name are left out (the fault-filtered GTZAN lists
    exclude faulty clips on purpose). The random split keeps each artist on one side.
    """
    if split_dir is not None:
        listed = read_split_dir(split_dir)
        kept = [replace(r, split=listed[r.key]) for r in records if r.key in listed]
        if len(kept) < len(records):
            log.warning("%d of %d tracks are in no split list and are left out", len(records) - len(kept), len(records))
        records = kept
    elif not all(r.split for r in records):
        records = stratified_split(records, valid_fraction, test_fraction, seed)
    out: dict[str, list[TrackRecord]] = {s: [] for s in SPLITS}
    for r in records:
        out[r.split].append(r)
    if not out["train"]:
        raise DatasetError("the training split is empty")
    return out


def stratified_split(records, valid_fraction, test_fraction, seed) -> list[TrackRecord]:
    """Per label, deal whole groups (an artist, or a single track) to test, valid, train in turn."""
    rng = random.Random(seed)
    by_label: dict[str, list[list[TrackRecord]]] = defaultdict(list)
    for label in sorted({r.label for r in records}):
        groups: dict[str, list[TrackRecord]] = defaultdict(list)
        for r in records:
            if r.label == label:
                groups[r.artist or f"track:{r.path}"].append(r)
        group_list = [groups[k] for k in sorted(groups)]
        rng.shuffle(group_list)
        by_label[label] = group_list
    result = []
    for groups in by_label.values():
        total = sum(len(g) for g in groups)
        want = {"test": round(total * test_fraction), "valid": round(total * valid_fraction)}
        have = Counter()
        for group in groups:
            split = next((s for s in ("test", "valid") if have[s] < want[s]), "train")
            have[split] += len(group)
            result.extend(replace(r, split=r.split or split) for r in group)
    return result


def class_report(splits: dict[str, list[TrackRecord]], imbalance_ratio: float = 1.5) -> tuple[str, list[str]]:
    """A table of class counts per split, and warnings for empty or imbalanced classes."""
    labels = sorted({r.label for recs in splits.values() for r in recs})
    counts = {s: Counter(r.label for r in recs) for s, recs in splits.items()}
    width = max([columns(label) for label in labels] + [5])
    lines = [f"{'genre':<{width}} " + " ".join(f"{s:>6}" for s in SPLITS)]
    lines += [f"{padded(label, width)} " + " ".join(f"{counts[s][label]:>6}" for s in SPLITS) for label in labels]
    warnings = []
    train = counts["train"]
    if train:
        most, least = max(train.values()), min(train[label] for label in labels)
        if least == 0:
            warnings.append("some genres have no training tracks: " + ", ".join(x for x in labels if not train[x]))
        elif most / least > imbalance_ratio:
            warnings.append(f"training classes are imbalanced: {most} vs {least} tracks (ratio {most / least:.1f})")
    return "\n".join(lines), warnings
