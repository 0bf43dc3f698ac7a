"""Distil a teacher into one of our models: the student learns the teacher's embedding and tags.

Training runs on the cached front-end output (the front end is frozen, so this is the same
function as training on waveforms, minus a third of the cost). The result is an ordinary
checkpoint whose "labels" are the teacher's outputs; `probe` then puts a genre head on it.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from trainer.checkpoint import save_checkpoint
from trainer.config import TrainConfig
from trainer.distill.targets import TARGETS_FRONTEND, load_targets, mels_at_hop
from trainer.distill.teacher import path_list
from trainer.models import build_model
from trainer.train import Dist, make_scheduler, resolve_device, seed_everything

TEACHER_STATS = "teacher_stats.npz"  # beside the checkpoint: mean and std of the teacher embedding
DISTILL_CONFIG = "distill_config.json"  # beside the checkpoint: the run's settings (written when it ends)


@dataclass
class DistillConfig:
    """Settings of a distillation run."""

    # Folder(s) written by `python -m trainer teach`, one per teacher, all on the same corpus.
    targets: str | list[str] = ""
    # Folder(s) of more windows by the same teacher(s), in the same order (e.g. `teach --mixed`). They only
    # train: validation stays on corpus windows, so validation losses compare across runs.
    more_windows: list[str] = field(default_factory=list)
    out: str = "runs/distilled"
    model: str = "cnn"
    width: float = 1.0
    # The student's STFT hop: a multiple of the targets' 256. 512 halves the frames (and the cost of
    # the front end and the network) with the same FFT size, but lost 6 points of held-out accuracy
    # for the width-0.5 CNN (models/default.md).
    hop_length: int = 256
    epochs: int = 6
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    valid_fraction: float = 0.05
    gain_db: float = 6.0  # random level change, applied in the dB domain
    tag_weight: float = 1.0  # BCE on teacher tags, next to MSE on its standardised embedding
    # Weight of a similarity-preserving term (Tung & Mori 2019): within each batch, the pairwise cosine
    # similarities of the student's own embedding (what a genre head reads) should be those of the first
    # teacher's embedding. The MSE copies the teacher unit by unit through the output layer; this asks the
    # probed features themselves to arrange the windows as the teacher does. 0 leaves it out.
    relation_weight: float = 0.0
    seed: int = 0
    device: str = "auto"
    # Labelled clips (a manifest or folder) for the frozen-probe yardstick after every epoch; "" for none.
    # Their labels never reach the loss: the probe only reports, and the curve goes to probe_curve.png.
    probe: str = ""
    probe_cache: str = ".cache/decoded"
    # "bf16" runs the student's forward pass under bfloat16 autocast (the loss, validation and probe
    # stay float32): 3x faster on this project's CPU (AVX512-BF16) and on GPUs; "auto" picks bf16 where
    # the device has it natively; "fp32" as before.
    precision: str = "fp32"
    # Every this many epochs the weights are kept as epoch-NNN.pt (the model only, no optimiser state), so
    # a run's frozen probe can be measured later at several points of its schedule, elsewhere than where it
    # trained (a lent GPU has no labelled clips); 0 keeps none.
    keep_every: int = 0

    def __post_init__(self):
        # Refused here, before a run spends minutes loading its targets: a negative weight would reward
        # the student for arranging windows unlike the teacher.
        if self.relation_weight < 0:
            raise ValueError(f"--relation-weight must be 0 or more, got {self.relation_weight:g}")
        if self.keep_every < 0:
            raise ValueError(f"--keep-every must be 0 (none) or more, got {self.keep_every}")


PRECISIONS = ("fp32", "bf16", "auto")


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" -> "bf16" where the device computes bfloat16 natively (CUDA with bf16, a CPU with AVX512-BF16/AMX),
    else "fp32" (emulated bfloat16 is slower than float32)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"


def autocast(device: torch.device, precision: str):
    """bfloat16 autocast for "bf16", a no-op context for "fp32"."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def use_channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """Convolution weights in channels-last layout: the same function, about 1.4x faster to train on CPU (oneDNN)."""
    return model.to(memory_format=torch.channels_last)


def split_windows(n: int, valid_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random window indices for training and validation [n_train], [n_valid]."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_valid = max(1, int(round(n * valid_fraction)))
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def random_gain(mel: torch.Tensor, gain_db: float) -> torch.Tensor:
    """log-mel [B, n_mels, T] with each window's level moved by up to +-gain_db (a gain is a dB offset)."""
    return mel + (torch.rand(len(mel), 1, 1, device=mel.device) * 2 - 1) * gain_db  # [B, n_mels, T]


def distill_loss(out: torch.Tensor, emb: torch.Tensor, tags: torch.Tensor, tag_weight: float) -> torch.Tensor:
    """MSE on the standardised teacher embedding + weighted BCE on its tag probabilities."""
    d = emb.shape[1]
    return F.mse_loss(out[:, :d], emb) + tag_weight * F.binary_cross_entropy_with_logits(out[:, d:], tags)


def batch_similarities(features: torch.Tensor) -> torch.Tensor:
    """Cosine similarities [B, B] between a batch's feature rows [B, D], each centred on the batch mean."""
    centred = features - features.mean(0, keepdim=True)  # [B, D]
    unit = F.normalize(centred, dim=1)  # [B, D], rows of length 1 (a zero row stays zero)
    return unit @ unit.T  # [B, B]


def relation_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the batch's pairwise similarities: student features [B, D] against teacher's [B, E]."""
    return F.mse_loss(batch_similarities(student), batch_similarities(teacher))


@dataclass(frozen=True)
class DistillLoss:
    """The distillation objective: distill_loss on the outputs, plus the relation term on the embedding."""

    tag_weight: float = 1.0
    relation_weight: float = 0.0
    relation_units: int = 0  # the first teacher's embedding columns of the targets (the relation's reference)

    def __post_init__(self):
        if self.relation_weight and self.relation_units < 1:
            raise ValueError("the relation term needs the first teacher's embedding width (relation_units)")

    def __call__(self, out: torch.Tensor, embedding: torch.Tensor, emb: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        """Outputs [B, E + K] and own embedding [B, D] of the student against targets emb [B, E], tags [B, K]."""
        loss = distill_loss(out, emb, tags, self.tag_weight)
        if self.relation_weight:
            loss = loss + self.relation_weight * relation_loss(embedding, emb[:, : self.relation_units])
        return loss


def training_windows(folders: list[Path], more: list, hop_length: int):
    """Corpus windows, then any more windows: mel [N, n_mels, T] float16, embedding [N, E], tags [N, K] float32,
    and the corpus's targets record with "corpus_windows" (how many come first) and "more_path" (the
    audio each more window came from [N - corpus_windows]) added."""
    data = load_targets(folders)
    mels, embs, tags = [mels_at_hop(data.pop("mel"), hop_length)], [data["embedding"]], [data["tags"]]
    data["corpus_windows"] = len(mels[0])
    data["more_path"] = np.zeros(0, dtype=str)
    if more:
        extra = load_targets(more)
        if list(extra["teachers"]) != list(data["teachers"]) or extra["tags"].shape[1] != data["tags"].shape[1]:
            raise ValueError(f"{more[0]}: windows by teacher(s) {', '.join(map(str, extra['teachers'])) or 'unknown'}; "
                             f"the targets are by {', '.join(map(str, data['teachers'])) or 'unknown'} (same teachers, same order)")
        mels.append(mels_at_hop(extra.pop("mel"), hop_length))
        embs.append(extra["embedding"])
        tags.append(extra["tags"])
        data["more_path"] = extra["path"]
    mel = mels[0] if len(mels) == 1 else np.concatenate(mels)  # [N, n_mels, T]; one copy only when there is more
    return mel, np.concatenate(embs).astype(np.float32), np.concatenate(tags).astype(np.float32), data


def distill(cfg: DistillConfig, say=print) -> Path:
    """Train the student; returns the checkpoint of the epoch with the lowest validation loss."""
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device, Dist())
    folders = path_list(cfg.targets)
    mel, emb, tags, data = training_windows(folders, cfg.more_windows, cfg.hop_length)
    mean, std = emb.mean(0), emb.std(0) + 1e-3
    emb_std = (emb - mean) / std  # [N, 200 * teachers], so every teacher unit counts alike
    train_idx, valid_idx = split_windows(data["corpus_windows"], cfg.valid_fraction, cfg.seed)
    train_idx = np.concatenate([train_idx, np.arange(data["corpus_windows"], len(mel))])  # more windows only train
    teachers = [str(t) for t in data["teachers"]]
    precision = resolve_precision(cfg.precision, device)
    shown = [t or f.name for t, f in zip(teachers, folders, strict=True)]
    more = f" (+{len(mel) - data['corpus_windows']} more)" if len(mel) > data["corpus_windows"] else ""
    say(f"{data['corpus_windows']} windows{more} from {len(set(data['source']))} sources, teachers {', '.join(shown)}; "
        f"{len(train_idx)} train, {len(valid_idx)} valid; precision {precision}")
    objective = DistillLoss(cfg.tag_weight, cfg.relation_weight, int(data["embedding_widths"][0]))

    n_out = emb.shape[1] + tags.shape[1]
    base = TrainConfig(data=",".join(map(str, folders)), out=cfg.out, model=cfg.model, width=cfg.width, dropout=0.1,
                       sample_rate=TARGETS_FRONTEND.sample_rate, n_fft=TARGETS_FRONTEND.n_fft,
                       hop_length=cfg.hop_length, n_mels=TARGETS_FRONTEND.n_mels,
                       dataset_name=f"distilled ({', '.join(f.name for f in folders)})", epochs=cfg.epochs)
    model = build_model(cfg.model, n_out, base.frontend(), dropout=0.1, width=cfg.width)
    model.spec_augment.enabled = True
    model.to(device)
    use_channels_last(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = make_scheduler("cosine", optimizer, cfg.epochs)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    history, best = [], {"metric": None, "epoch": None, "monitor": "val_loss"}

    batch = window_batches(mel, emb_std, tags, device)
    yardstick = None
    if cfg.probe:
        from trainer.distill.yardstick import ProbeYardstick

        yardstick = ProbeYardstick(cfg.probe, cfg.probe_cache, base.sample_rate, base.window_samples, say=say)
    rng = np.random.default_rng(cfg.seed)
    for epoch in range(cfg.epochs):
        started = time.monotonic()
        loss = train_epoch(model, optimizer, batch, rng.permutation(train_idx), cfg, objective, device, precision,
                           desc=f"epoch {epoch + 1}/{cfg.epochs}")
        scheduler.step()
        val = validation_loss(model, batch, valid_idx, cfg.batch_size, objective)
        # seconds: the epoch's training and validation (the probe's time not counted), for the recipe's timings
        row = {"epoch": epoch, "train_loss": loss, "val_loss": val, "lr": optimizer.param_groups[0]["lr"],
               "seconds": round(time.monotonic() - started, 2)}
        if yardstick is not None:
            row["probe_accuracy"] = yardstick.accuracy(model)
        history.append(row)
        improved = best["metric"] is None or val < best["metric"]
        if improved:
            best.update(metric=val, epoch=epoch)
        probe_text = f"  probe {row['probe_accuracy']:.3f}" if "probe_accuracy" in row else ""
        say(f"epoch {epoch + 1:3d}/{cfg.epochs}  loss {row['train_loss']:.4f}  val_loss {val:.4f}{probe_text}"
            + ("  *" if improved else ""))
        common = dict(model=model, optimizer=optimizer, scheduler=scheduler, cfg=base,
                      labels=[f"teacher_{i}" for i in range(n_out)], epoch=epoch, history=history, best=best, splits={})
        save_checkpoint(out / "last.pt", **common)
        if improved:
            save_checkpoint(out / "best.pt", **common)
        if cfg.keep_every and (epoch + 1) % cfg.keep_every == 0:
            save_checkpoint(out / f"epoch-{epoch + 1:03d}.pt", **{**common, "optimizer": None, "scheduler": None})
        (out / "history.json").write_text(json.dumps(history, indent=1))  # readable while the run goes on
        if yardstick is not None:
            from trainer.distill.yardstick import plot_probe_curve

            plot_probe_curve(history, out / "probe_curve.png", title=f"{cfg.model} width {cfg.width:g}")
    (out / DISTILL_CONFIG).write_text(json.dumps(asdict(cfg), indent=2))
    # Fine-tuning standardises the teachers' targets alike, and must use the same teachers in this order.
    np.savez(out / TEACHER_STATS, mean=mean, std=std, teachers=np.array(teachers))
    return out / "best.pt"


def train_epoch(model, optimizer, batch, order: np.ndarray, cfg, objective: DistillLoss, device: torch.device,
                precision: str, desc: str) -> float:
    """One pass over the windows `order` in batches of cfg.batch_size (the last partial batch dropped),
    with a random gain of up to cfg.gain_db on each; returns the mean training loss, RuntimeError when it
    is not finite. `batch(idx)` gives (mel, embedding, tags)."""
    model.train()
    total, seen = 0.0, 0
    steps = range(0, len(order) - cfg.batch_size + 1, cfg.batch_size)
    bar = tqdm(steps, desc=desc, leave=False, file=sys.stderr)
    for start in bar:
        x, e, t = batch(np.sort(order[start : start + cfg.batch_size]))
        x = random_gain(x, cfg.gain_db)  # [B, n_mels, T]
        with autocast(device, precision):
            pred, embedding = model.forward_mel(x)  # [B, 250 * teachers], [B, D]
        loss = objective(pred.float(), embedding.float(), e, t)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        seen += len(x)
        bar.set_postfix(loss=f"{total / seen:.3f}")
    if not math.isfinite(total):
        raise RuntimeError(f"{desc}: training diverged (loss is not finite); lower --lr")
    return total / max(1, seen)


def window_batches(mel: np.ndarray, emb: np.ndarray, tags: np.ndarray, device: torch.device):
    """batch(idx) -> (log-mel [B, n_mels, T], embedding target [B, E], tag targets [B, K]) on `device`, float32;
    `emb` and `tags` are float32 already (standardised once, not per batch)."""

    def batch(idx):
        x = torch.from_numpy(mel[idx].astype(np.float32)).to(device)  # [B, n_mels, T]: stored float16
        return x, torch.from_numpy(emb[idx]).to(device), torch.from_numpy(tags[idx]).to(device)

    return batch


@torch.no_grad()
def validation_loss(model, batch, valid_idx, batch_size: int, objective: DistillLoss) -> float:
    """Mean distillation loss on the held-out windows, in batches of batch_size (the relation term's
    batches are these, in window order, so its figure compares between runs of one batch size)."""
    model.eval()
    total = 0.0
    for start in range(0, len(valid_idx), batch_size):
        x, e, t = batch(valid_idx[start : start + batch_size])
        pred, embedding = model.forward_mel(x)  # [B, 250 * teachers], [B, D]
        total += objective(pred, embedding, e, t).item() * len(x)
    return total / max(1, len(valid_idx))
