"""The training loop: single device or DistributedDataParallel under torchrun."""

from __future__ import annotations

import logging
import math
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler
from tqdm import tqdm

from trainer.augment import WaveAugment, mixup, parse_augmentations
from trainer.checkpoint import load_checkpoint, save_checkpoint
from trainer.config import TrainConfig
from trainer.data.cache import DecodeCache, decode_all
from trainer.data.sources import DatasetError, discover
from trainer.data.splits import assign_splits, class_report
from trainer.data.windows import RandomWindows, track_windows
from trainer.models import build_model, check_model_name
from trainer.models.mobilenet import load_initial_weights

log = logging.getLogger(__name__)


@dataclass
class Dist:
    """This process's place in a torchrun job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Only the main process logs and writes files."""
        return self.rank == 0


def setup_distributed(device_name: str) -> Dist:
    """Join the torchrun job described by the environment, if any."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_name != "cpu"
    if use_cuda:
        torch.cuda.set_device(local)
    torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
    return Dist(rank, world, local)


def resolve_device(name: str, dist: Dist) -> torch.device:
    """'auto' is CUDA when present (this process's GPU under torchrun), else CPU."""
    if name == "auto":
        return torch.device(f"cuda:{dist.local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} asked for, but PyTorch sees no CUDA GPU")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_dataset(cfg: TrainConfig, say=print):
    """Discover, split and decode a data set: (labels, splits, decoded tracks per split)."""
    records = discover(cfg.data)
    splits = assign_splits(
        records,
        split_dir=Path(cfg.splits) if cfg.splits else None,
        valid_fraction=cfg.valid_fraction,
        test_fraction=cfg.test_fraction,
        seed=cfg.seed,
    )
    cache = DecodeCache(Path(cfg.cache), cfg.sample_rate)
    decoded, errors = {}, []
    for name, recs in splits.items():
        decoded[name], errs = decode_all(recs, cache, cfg.workers)
        errors += errs
    for err in errors:
        say(f"skipped unreadable file {err.path}: {err.reason}")
    splits = {k: [d.record for d in v] for k, v in decoded.items()}
    table, warnings = class_report(splits)
    say(table)
    for w in warnings:
        say(f"warning: {w}")
    labels = sorted({r.label for recs in splits.values() for r in recs})
    if len(labels) < 2:
        raise DatasetError(f"{cfg.data}: at least two genres are needed, found {labels}")
    return labels, splits, decoded


@torch.no_grad()
def predict_tracks(model, audios, window: int, device, batch: int = 64):
    """Mean window probabilities per track [n_tracks, labels] and the window-level mean CE inputs."""
    model.eval()
    track_probs, window_logits = [], []
    for audio in audios:
        windows = torch.from_numpy(track_windows(audio, window))  # [n, window]
        logits = torch.cat([model(windows[i : i + batch].to(device))[0].float().cpu() for i in range(0, len(windows), batch)])
        window_logits.append(logits)  # [n, labels]
        track_probs.append(torch.softmax(logits, dim=1).mean(dim=0))  # [labels]
    return torch.stack(track_probs).numpy(), window_logits


def validation_figures(model, decoded, label_index, window, device) -> dict:
    """Track accuracy and window cross-entropy on a split."""
    if not decoded:
        return {}
    probs, window_logits = predict_tracks(model, [d.audio for d in decoded], window, device)
    truth = np.array([label_index[d.record.label] for d in decoded])
    losses = [F.cross_entropy(lg, torch.full((len(lg),), int(t))).item() for lg, t in zip(window_logits, truth, strict=True)]
    return {"loss": float(np.mean(losses)), "acc": float((probs.argmax(1) == truth).mean())}


# one builder per name that config.SCHEDULES and config.OPTIMIZERS allow (TrainConfig.check names a wrong one;
# tests keep the names in step)
SCHEDULE_BUILDERS = {
    "cosine": lambda optimizer, epochs: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs)),
    "step": lambda optimizer, epochs: torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1),
    "constant": lambda optimizer, epochs: torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0),
}
OPTIMIZER_BUILDERS = {
    "adamw": lambda cfg, params: torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay),
    "sgd": lambda cfg, params: torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True,
                                              weight_decay=cfg.weight_decay),
}


def make_scheduler(name: str, optimizer, epochs: int):
    """Per-epoch learning-rate schedule by name."""
    return SCHEDULE_BUILDERS[name](optimizer, epochs)


def make_optimizer(cfg: TrainConfig, params):
    """AdamW or SGD with Nesterov momentum, as the settings name."""
    return OPTIMIZER_BUILDERS[cfg.optimizer](cfg, params)


def is_better(metric: str, value: float, best: float | None) -> bool:
    """Lower loss or higher accuracy is better."""
    if best is None:
        return True
    return value < best if metric.endswith("loss") else value > best


def train(cfg: TrainConfig, resume: str | Path | None = None, say=print) -> Path:
    """Train until the epochs run out or early stopping; return the best checkpoint's path."""
    cfg.check()  # and the names that choose parts, before any decoding
    augment = parse_augmentations(cfg.augment)
    check_model_name(cfg.model)
    dist = setup_distributed(cfg.device)
    device = resolve_device(cfg.device, dist)
    main_say = say if dist.main else (lambda *_: None)
    seed_everything(cfg.seed + dist.rank)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    # Rank 0 decodes first so the other ranks read its cache instead of decoding again.
    if dist.world > 1 and not dist.main:
        torch.distributed.barrier()
    labels, splits, decoded = load_dataset(cfg, main_say)
    if dist.world > 1 and dist.main:
        torch.distributed.barrier()
    label_index = {label: i for i, label in enumerate(labels)}

    model = build_model(cfg.model, len(labels), cfg.frontend(), dropout=cfg.dropout, width=cfg.width)
    if cfg.init_weights and not resume:
        if cfg.model != "mobilenet":
            raise ValueError("--init-weights is for the mobilenet model")
        loaded, skipped = load_initial_weights(model.backbone, cfg.init_weights)
        main_say(f"initial weights: {len(loaded)} tensors loaded, {len(skipped)} skipped from {cfg.init_weights}")
    model.spec_augment.enabled = "specaugment" in augment
    model.to(device)
    optimizer = make_optimizer(cfg, model.parameters())
    scheduler = make_scheduler(cfg.schedule, optimizer, cfg.epochs)
    history, best, start_epoch = [], {"metric": None, "epoch": None}, 0
    if resume:
        state = load_checkpoint(resume)
        if state["labels"] != labels:
            raise DatasetError(f"{resume}: checkpoint labels {state['labels']} differ from the data set's {labels}")
        model.load_state_dict(state["model_state"])
        optimizer.load_state_dict(state["optimizer_state"])
        scheduler.load_state_dict(state["scheduler_state"])
        history, best, start_epoch = state["history"], state["best"], state["epoch"] + 1
        main_say(f"resuming {resume} at epoch {start_epoch + 1}")

    net = model
    if dist.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    dataset = RandomWindows(
        [d.audio for d in decoded["train"]],
        [label_index[d.record.label] for d in decoded["train"]],
        cfg.window_samples,
        cfg.windows_per_track,
        seed=cfg.seed,
    )
    if dist.world > 1:
        sampler = DistributedSampler(dataset, num_replicas=dist.world, rank=dist.rank, shuffle=True, seed=cfg.seed)
    else:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(cfg.seed))
    loader = DataLoader(dataset, batch_size=cfg.batch_size, sampler=sampler, drop_last=len(dataset) > cfg.batch_size)
    wave_augment = WaveAugment(augment)
    use_amp = cfg.amp and device.type == "cuda"
    monitor = cfg.early_stop if decoded["valid"] else "train_loss"
    if monitor != cfg.early_stop:
        main_say("warning: no validation tracks; early stopping watches the training loss")
    bad_epochs = sum(1 for h in history if best["epoch"] is not None and h["epoch"] > best["epoch"])

    for epoch in range(start_epoch, cfg.epochs):
        dataset.set_epoch(epoch)
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        net.train()
        total_loss, correct, seen = 0.0, 0, 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not dist.main, leave=False, file=sys.stderr)
        for wave, target in bar:
            wave, target = wave.to(device), target.to(device)  # [B, S], [B]
            wave = wave_augment(wave)
            soft = F.one_hot(target, len(labels)).float()  # [B, L]
            if "mixup" in augment:
                wave, soft = mixup(wave, soft, cfg.mixup_alpha)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
                logits, _ = net(wave)  # [B, L]
                loss = F.cross_entropy(logits.float(), soft)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(target)
            correct += (logits.argmax(1) == target).sum().item()
            seen += len(target)
            bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}")
        scheduler.step()
        val = validation_figures(model, decoded["valid"], label_index, cfg.window_samples, device)
        row = {"epoch": epoch, "train_loss": total_loss / max(1, seen), "train_acc": correct / max(1, seen),
               "val_loss": val.get("loss"), "val_acc": val.get("acc"), "lr": optimizer.param_groups[0]["lr"]}
        history.append(row)
        value = row[monitor]
        improved = is_better(monitor, value, best["metric"])
        if improved:
            best, bad_epochs = {"metric": value, "epoch": epoch, "monitor": monitor}, 0
        else:
            bad_epochs += 1
        main_say(
            f"epoch {epoch + 1:3d}/{cfg.epochs}  loss {row['train_loss']:.3f}  acc {row['train_acc']:.3f}"
            + (f"  val_loss {row['val_loss']:.3f}  val_acc {row['val_acc']:.3f}" if val else "")
            + ("  *" if improved else "")
        )
        if dist.main:
            common = dict(model=model, optimizer=optimizer, scheduler=scheduler, cfg=cfg, labels=labels,
                          epoch=epoch, history=history, best=best, splits=splits)
            save_checkpoint(out / "last.pt", **common)
            if improved:
                save_checkpoint(out / "best.pt", **common)
        if bad_epochs >= cfg.patience:
            main_say(f"early stop: {monitor} has not improved for {cfg.patience} epochs")
            break
        if not math.isfinite(row["train_loss"]):
            raise RuntimeError("training diverged (loss is not finite); lower --lr")
    if dist.world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return out / "best.pt"
