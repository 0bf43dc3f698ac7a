"""Continue a distilled student on the labelled clips' audio: corpus windows plus the clips' varied windows
(`teach --clips`), every one answered by the teacher, no label anywhere.

For honest figures the clips of one cross-validation fold can be left out (`hold_out_fold`, the folds
of `crossval`), so a fold's clips are scored by a student that never heard them; the shipped model
is adapted on every clip, as it is fine-tuned on every clip.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from trainer.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from trainer.distill.distill import (
    DISTILL_CONFIG,
    TEACHER_STATS,
    DistillLoss,
    resolve_precision,
    split_windows,
    train_epoch,
    training_windows,
    use_channels_last,
    validation_loss,
    window_batches,
)
from trainer.distill.teacher import path_list
from trainer.train import Dist, make_scheduler, resolve_device, seed_everything

ADAPTED = "adapted.pt"  # the checkpoint adapt writes: its last epoch (a continuation has no early stop)
ADAPT_RECORD = "adapt.json"  # beside it: the settings, the clips learnt and left out, and the corpus split


@dataclass
class AdaptConfig:
    """Settings of one adaptation run."""

    checkpoint: str = ""  # the distilled student (distill's best.pt); its teacher_stats.npz lies beside it
    targets: list[str] = field(default_factory=list)  # its distillation's corpus targets, teachers in order
    clips: list[str] = field(default_factory=list)  # `teach --clips` folders, the same teachers in the same order
    data: str = ""  # the labelled manifest the clips came from (for hold_out_fold)
    cache: str = ".cache/decoded"
    hold_out_fold: int = 0  # 1..folds: leave out that crossval fold's clips; 0: learn from every clip
    folds: int = 5
    out: str = "runs/adapted"
    epochs: int = 4
    corpus_per_epoch: int = 12000  # corpus windows drawn afresh each epoch, beside every clip window
    batch_size: int = 64
    lr: float = 1e-3
    gain_db: float = 6.0
    tag_weight: float = 1.0
    precision: str = "fp32"
    seed: int = 0
    device: str = "auto"


def held_out_paths(data: str, cache: str, sample_rate: int, fold: int, folds: int) -> set[str]:
    """Paths of the clips crossval puts in `fold` (1-based) of `folds`, for the same manifest and cache."""
    from trainer.distill.crossval import load_labelled
    from trainer.distill.folds import grouped_folds

    if not 1 <= fold <= folds:
        raise ValueError(f"--hold-out-fold must be between 1 and {folds}, got {fold}")
    labelled = load_labelled(data, cache, sample_rate, say=lambda *_: None)
    fold_of = grouped_folds(labelled.y, labelled.groups, folds, 0)  # crossval's folds: seed 0
    return {str(r.path) for r, f in zip(labelled.records, fold_of, strict=True) if f == fold - 1}


def corpus_split(checkpoint) -> tuple[float, int]:
    """(valid_fraction, seed) of the corpus split a student was trained on, from the record beside its checkpoint:
    distill's settings, or adapt's record (an adapted student keeps its distillation's split);
    FileNotFoundError naming the folder when neither is there (e.g. a distillation still running)."""
    folder = Path(checkpoint).parent
    if (folder / DISTILL_CONFIG).is_file():
        run = json.loads((folder / DISTILL_CONFIG).read_text())
        return float(run["valid_fraction"]), int(run["seed"])
    if (folder / ADAPT_RECORD).is_file():
        split = json.loads((folder / ADAPT_RECORD).read_text()).get("corpus_split")
        if split:
            return float(split["valid_fraction"]), int(split["seed"])
    raise FileNotFoundError(f"{folder}: neither {DISTILL_CONFIG} nor an {ADAPT_RECORD} with the corpus split beside "
                            f"{Path(checkpoint).name}, so its validation windows are unknown (a distillation writes it when it ends)")


def adapt(cfg: AdaptConfig, say=print) -> Path:
    """Train the student further on corpus and clip windows; returns the adapted checkpoint (out/adapted.pt)."""
    from trainer.distill.crossval import teacher_stats

    if not cfg.clips:
        raise ValueError("no clip windows given (--clips: folders written by teach --clips)")
    if cfg.hold_out_fold and not cfg.data:
        raise ValueError("--hold-out-fold needs --data, the manifest crossval folds")
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device, Dist())
    state = load_checkpoint(cfg.checkpoint)
    net, base, labels = model_from_checkpoint(state)
    valid_fraction, split_seed = corpus_split(cfg.checkpoint)  # before minutes of loading targets
    stats = teacher_stats(cfg.checkpoint)
    mel, emb, tags, data = training_windows(path_list(cfg.targets), path_list(cfg.clips), base.hop_length)
    if emb.shape[1] != len(stats["mean"]) or emb.shape[1] + tags.shape[1] != len(labels):
        raise ValueError(f"{cfg.checkpoint} learnt {len(labels)} teacher outputs; the targets give "
                         f"{emb.shape[1] + tags.shape[1]} (give its distillation's targets, same teachers, same order)")
    # The distillation's standardisation, which fine-tuning reads too; float32 once, not per batch.
    emb_std = ((emb - stats["mean"]) / stats["std"]).astype(np.float32)
    n_corpus = data["corpus_windows"]
    clip_path = data["more_path"]  # [N - n_corpus]
    left_out = held_out_paths(cfg.data, cfg.cache, base.sample_rate, cfg.hold_out_fold, cfg.folds) if cfg.hold_out_fold else set()
    keep = ~np.isin(clip_path, list(left_out))  # [N - n_corpus]
    clip_idx = n_corpus + np.flatnonzero(keep)
    corpus_train, valid_idx = split_windows(n_corpus, valid_fraction, split_seed)  # never train on its validation windows
    learnt = sorted(set(clip_path[keep].tolist()))
    precision = resolve_precision(cfg.precision, device)
    say(f"{len(clip_idx)} windows of {len(learnt)} clips (left out: {len(left_out)} clips of fold {cfg.hold_out_fold})"
        f" + {min(cfg.corpus_per_epoch, len(corpus_train))} of {len(corpus_train)} corpus windows per epoch; precision {precision}")

    net.to(device)
    net.spec_augment.enabled = True
    use_channels_last(net)
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    scheduler = make_scheduler("cosine", optimizer, cfg.epochs)

    batch = window_batches(mel, emb_std, tags, device)
    objective = DistillLoss(cfg.tag_weight)
    rng = np.random.default_rng(cfg.seed)
    history = list(state["history"])
    for epoch in range(cfg.epochs):
        drawn = rng.choice(corpus_train, min(cfg.corpus_per_epoch, len(corpus_train)), replace=False)
        order = rng.permutation(np.concatenate([drawn, clip_idx]))
        loss = train_epoch(net, optimizer, batch, order, cfg, objective, device, precision, desc=f"adapt {epoch + 1}/{cfg.epochs}")
        scheduler.step()
        val = validation_loss(net, batch, valid_idx, cfg.batch_size, objective)
        history.append({"epoch": f"adapt {epoch + 1}", "train_loss": loss, "val_loss": val})
        say(f"adapt {epoch + 1:2d}/{cfg.epochs}  loss {loss:.4f}  corpus val_loss {val:.4f}")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    what = f"{base.dataset_name} + adapted on the audio of {len(learnt)} labelled clips"
    save_checkpoint(out / ADAPTED, model=net.cpu().eval(), optimizer=None, scheduler=None, cfg=replace(base, dataset_name=what),
                    labels=labels, epoch=state["epoch"], history=history, best=state["best"], splits={})
    # Fine-tuning finds the statistics beside the checkpoint and standardises the targets as distillation did.
    shutil.copyfile(Path(cfg.checkpoint).parent / TEACHER_STATS, out / TEACHER_STATS)
    record = {**asdict(cfg), "clips_learnt": learnt, "clips_left_out": sorted(left_out),
              "corpus_split": {"valid_fraction": valid_fraction, "seed": split_seed}}
    (out / ADAPT_RECORD).write_text(json.dumps(record, indent=1))
    return out / ADAPTED
