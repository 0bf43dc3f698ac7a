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

from trainer.checkpoint import load_checkpoint, model_from_checkpoint
from trainer.distill.crossval import (
    Labelled,
    finetune_inputs,
    load_labelled,
    mel_embeddings,
    probe_predictions,
)
from trainer.distill.finetune import finetune
from trainer.distill.folds import grouped_folds


def probe_accuracy(data: Labelled, clips: np.ndarray, embs: list[np.ndarray], folds: int) -> float:
    """Held-out accuracy of the card's linear probe (crossval's) on `clips` alone, artist-grouped folds;
    `embs` are the embeddings of those clips, in order."""
    genres = sorted(set(data.y[clips].tolist()))
    y = np.array([genres.index(v) for v in data.y[clips]])  # [N], 0..L-1
    subset = Labelled([data.records[i] for i in clips], [data.audios[i] for i in clips], [data.labels[g] for g in genres],
                      y, data.groups[clips])
    probs = probe_predictions(embs, subset, grouped_folds(y, subset.groups, folds, 0), say=lambda *_: None)
    return float((probs.argmax(1) == y).mean())


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
    frozen = {name: mel_embeddings(inp.net, inp.mels) for name, inp in inputs.items()}  # [n, D] per clip
    teacher_width = 200  # musicnn's penultimate layer: the first 200 values of the first teacher's targets
    frozen["teacher"] = [e[:, :teacher_width] for _, e in inputs[runs[0][0]].targets]

    rng = np.random.default_rng(0)
    n_genres, rows = len(data.labels), []
    for split in range(args.splits):
        order = rng.permutation(n_genres)
        seen, unseen = sorted(order[: n_genres // 2].tolist()), sorted(order[n_genres // 2 :].tolist())
        i_seen, i_unseen = np.flatnonzero(np.isin(data.y, seen)), np.flatnonzero(np.isin(data.y, unseen))
        row = {"split": split, "unseen": [data.labels[g] for g in unseen]}
        for name, embs in frozen.items():
            row[f"{name} frozen"] = probe_accuracy(data, i_unseen, [embs[i] for i in i_unseen], args.folds)
        for name, inp in inputs.items():
            y_seen = np.array([seen.index(v) for v in data.y[i_seen]])
            net = finetune(copy.deepcopy(inp.net), [inp.mels[i] for i in i_seen], y_seen, [inp.targets[i] for i in i_seen],
                           inp.emb_mean, inp.emb_std, len(seen), epochs=args.epochs, seed=split, precision=args.precision)
            embs = mel_embeddings(net, [inp.mels[i] for i in i_unseen])  # [n, D] per unseen clip
            row[f"{name} fine-tuned on the seen genres"] = probe_accuracy(data, i_unseen, embs, args.folds)
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
