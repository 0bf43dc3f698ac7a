"""Helpers shared by the benchmarks: a stopwatch, and an exported model to time (weights do not change speed)."""

from __future__ import annotations

import time
from pathlib import Path


def seconds(fn) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def export_untrained(name: str, out: Path, window_seconds: float = 3.0, width: float = 1.0) -> Path:
    """Export a freshly initialised model through the trainer's real export path."""
    import torch

    from trainer.checkpoint import save_checkpoint
    from trainer.config import TrainConfig
    from trainer.export import export
    from trainer.models import build_model

    cfg = TrainConfig(data="bench", model=name, width=width, window_seconds=window_seconds, dataset_name="untrained")
    labels = [f"genre{i}" for i in range(10)]
    model = build_model(name, len(labels), cfg.frontend(), width=width).eval()
    ckpt = out.with_suffix(".pt")
    save_checkpoint(ckpt, model=model, optimizer=None, scheduler=None, cfg=cfg, labels=labels, epoch=0,
                    history=[], best={}, splits={})
    with torch.no_grad():
        return export(ckpt, out, report=out.with_suffix(".none"), say=lambda *_: None)
