"""Checkpoints carry the model, the optimiser state and the whole config of their run."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from trainer.config import TrainConfig
from trainer.models import GenreNet, build_model


def save_checkpoint(path: Path, *, model, optimizer, scheduler, cfg: TrainConfig, labels, epoch, history, best, splits) -> None:
    """Write atomically, so a run killed mid-save keeps its previous checkpoint."""
    state = {
        "config": cfg.to_dict(),
        "labels": list(labels),
        "model_state": model.state_dict(),
        "optimizer_state": optimizer.state_dict() if optimizer else None,
        "scheduler_state": scheduler.state_dict() if scheduler else None,
        "epoch": epoch,
        "history": history,
        "best": best,
        "splits": {k: [str(r.path) for r in v] for k, v in splits.items()},
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint written by save_checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # pickle, zip and torch each raise their own types for a damaged or foreign file
        raise ValueError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict) or "model_state" not in state or "config" not in state:
        raise ValueError(f"{path}: not a Genre Tagger checkpoint")
    return state


def model_from_checkpoint(state: dict) -> tuple[GenreNet, TrainConfig, list[str]]:
    """Rebuild the model of a checkpoint, in eval mode."""
    cfg = TrainConfig.from_dict(state["config"])
    labels = state["labels"]
    model = build_model(cfg.model, len(labels), cfg.frontend(), dropout=cfg.dropout, width=cfg.width)
    model.load_state_dict(state["model_state"])
    return model.eval(), cfg, labels
