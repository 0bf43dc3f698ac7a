"""Held-out genres: how well a library head learns genres the network was never fine-tuned on.

A listener's library head (#16) learns the listener's genres on the shipped network's embedding, and
those genres are mostly not GTZAN's ten. This measures that on the labelled clips we hold: the ten
genres are split at random into five seen and five unseen; each distilled network is fine-tuned (the
shipped recipe: genre loss + teacher targets) on the clips of the seen genres only, and a linear head
is cross-validated (five artist-grouped folds, the card's probe) on the clips of the unseen genres,
on the fine-tuned and on the frozen embedding; the teacher's own embedding is the ceiling.

    python scripts/held_out_genres.py --data W/gtzan.csv --cache W/decoded \\
        --run shipped=W/runs/w05-e24/best.pt:../shared/peers/musicnn-msd.onnx \\
        --run pooled=W/runs/pooled-e24/best.pt:../shared/peers/musicnn-msd.onnx,"../shared/peers/musicnn-msd.onnx#pooled-maps"

Each --run is NAME=CHECKPOINT:TEACHER[,TEACHER...] (the distillation's teachers, in order); the first
run's first teacher gives the "teacher" line. Prints one JSON line per split, then the means.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys

import numpy as np
import torch

from trainer.checkpoint import load_checkpoint, model_from_checkpoint
from trainer.distill.crossval import finetune_inputs, load_labelled
from trainer.distill.finetune import finetune


def probe_accuracy(embs: list[np.ndarray], y: np.ndarray, groups: np.ndarray, folds: int = 5) -> float:
    """Held-out accuracy of the card's linear probe on these clips, artist-grouped folds."""
    from trainer.distill.folds import grouped_folds
    from trainer.distill.probe import choose_l2, fit_head

    labels = sorted(set(y.tolist()))
    y = np.array([labels.index(v) for v in y])  # [N], 0..L-1
    fold_of = grouped_folds(y, groups, folds, 0)
    hits = 0
    for f in range(fold_of.max() + 1):
        tr, te = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        l2 = choose_l2([embs[i] for i in tr], y[tr], groups[tr], len(labels))
        head = fit_head([embs[i] for i in tr], y[tr], len(labels), l2)
        hits += int((head.track_probs([embs[i] for i in te]).argmax(1) == y[te]).sum())
    return hits / len(y)


def parse_run(text: str) -> tuple[str, str, list[str]]:
    """NAME=CHECKPOINT:TEACHER[,TEACHER...] -> (name, checkpoint, teachers)."""
    name, _, rest = text.partition("=")
    checkpoint, _, teachers = rest.partition(":")
    if not (name and checkpoint and teachers):
        raise SystemExit(f"--run {text!r}: expected NAME=CHECKPOINT:TEACHER[,TEACHER...]")
    return name, checkpoint, teachers.split(",")


def main(argv=None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="labelled manifest (path,label,artist)")
    parser.add_argument("--cache", required=True, help="decoded-audio cache folder")
    parser.add_argument("--run", action="append", required=True, help="NAME=CHECKPOINT:TEACHER[,TEACHER...]")
    parser.add_argument("--splits", type=int, default=8, help="random seen/unseen splits of the genres")
    parser.add_argument("--epochs", type=int, default=4, help="fine-tuning epochs (the recipe's)")
    parser.add_argument("--folds", type=int, default=5, help="artist-grouped folds of the probe on the unseen genres")
    parser.add_argument("--precision", default="bf16", choices=["fp32", "bf16", "auto"])
    args = parser.parse_args(argv)

    runs = [parse_run(r) for r in args.run]
    data, inputs = None, {}
    for name, checkpoint, teachers in runs:
        net, base, _ = model_from_checkpoint(load_checkpoint(checkpoint))
        if data is None:
            data = load_labelled(args.data, args.cache, base.sample_rate, say=lambda *_: None)
        inputs[name] = finetune_inputs(net, base.window_samples, checkpoint, data, teachers, args.precision)
    frozen = {}
    with torch.no_grad():
        for name, inp in inputs.items():
            frozen[name] = [inp.net.forward_mel(m)[1].float().numpy() for m in inp.mels]  # [n, D] per clip
    teacher_width = 200  # musicnn's penultimate layer: the first 200 values of the first teacher's targets
    frozen["teacher"] = [e[:, :teacher_width] for _, e in inputs[runs[0][0]].targets]

    rng = np.random.default_rng(0)
    n_genres, rows = len(data.labels), []
    for split in range(args.splits):
        order = rng.permutation(n_genres)
        seen, unseen = sorted(order[: n_genres // 2].tolist()), sorted(order[n_genres // 2 :].tolist())
        i_seen, i_unseen = np.flatnonzero(np.isin(data.y, seen)), np.flatnonzero(np.isin(data.y, unseen))
        y_u, g_u = data.y[i_unseen], data.groups[i_unseen]
        row = {"split": split, "unseen": [data.labels[g] for g in unseen]}
        for name, embs in frozen.items():
            row[f"{name} frozen"] = probe_accuracy([embs[i] for i in i_unseen], y_u, g_u, args.folds)
        for name, inp in inputs.items():
            y_seen = np.array([seen.index(v) for v in data.y[i_seen]])
            net = finetune(copy.deepcopy(inp.net), [inp.mels[i] for i in i_seen], y_seen, [inp.targets[i] for i in i_seen],
                           inp.emb_mean, inp.emb_std, len(seen), epochs=args.epochs, seed=split, precision=args.precision)
            with torch.no_grad():
                embs = [net.forward_mel(inp.mels[i])[1].float().numpy() for i in i_unseen]  # [n, D] per clip
            row[f"{name} fine-tuned on the seen genres"] = probe_accuracy(embs, y_u, g_u, args.folds)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\nmean over {len(rows)} splits (± standard error), then each split:")
    for key in [k for k in rows[0] if k not in ("split", "unseen")]:
        values = np.array([r[key] for r in rows])
        print(f"{key:<40} {values.mean():.3f} ± {values.std() / np.sqrt(len(values)):.3f}   "
              + " ".join(f"{v:.2f}" for v in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
