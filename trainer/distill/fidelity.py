"""How faithfully a distilled student copies its teacher: per-unit correlation of the student's copy of
the teacher's embedding (and tags) with the teacher's own, on labelled music and on corpus windows.

A student far more faithful on the corpus than on other music copies the teacher only where it was
taught: the gap names a domain limit, not a training-length or capacity limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch


def unit_correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Mean over units of the Pearson correlation between columns of a and b [N, U] (constant units skipped);
    None where it is undefined (under two windows, or no unit that varies)."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    denom = np.sqrt((a**2).sum(0) * (b**2).sum(0))  # [U]
    ok = denom > 1e-12
    if len(a) < 2 or not ok.any():
        return None
    return float(((a * b).sum(0)[ok] / denom[ok]).mean())


@torch.no_grad()
def student_copy(net, mel: torch.Tensor, emb_mean: np.ndarray, emb_std: np.ndarray, batch: int = 128):
    """The student's copy of the teacher from log-mels [N, n_mels, T]: (tags [N, 50k], embedding [N, 200k])."""
    net.eval()
    d = len(emb_mean)
    outs = torch.cat([net.forward_mel(mel[i : i + batch])[0] for i in range(0, len(mel), batch)]).numpy()  # [N, 250k]
    return 1 / (1 + np.exp(-outs[:, d:])), outs[:, :d] * emb_std + emb_mean


def block_correlations(student: np.ndarray, teacher: np.ndarray, widths: list[int]) -> list[float | None]:
    """unit_correlation of each teacher's block of columns [N, sum(widths)], in order."""
    edges = np.cumsum([0, *widths])
    return [unit_correlation(student[:, a:b], teacher[:, a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def fidelity(checkpoint, data: str, teacher, cache: str = ".cache/decoded", targets=None, say=print) -> dict:
    """Correlations of the student with each teacher on every window of the labelled clips (and, given the
    distillation's targets folder(s), on its validation windows); written beside the checkpoint. The
    headline figures are the first teacher's; `per_teacher` has every teacher's (a teacher's inner maps
    have thousands of units and would swamp a mean over all of them)."""
    from trainer.checkpoint import load_checkpoint, model_from_checkpoint
    from trainer.distill.adapt import corpus_split
    from trainer.distill.crossval import load_labelled, teacher_stats
    from trainer.distill.distill import split_windows
    from trainer.distill.finetune import clip_mels, teacher_targets
    from trainer.distill.targets import load_targets, mels_at_hop
    from trainer.distill.teacher import Teachers, path_list

    net, cfg, _ = model_from_checkpoint(load_checkpoint(checkpoint))
    stats = teacher_stats(checkpoint)
    split = corpus_split(checkpoint) if targets else None  # refused here, before the teachers run on every clip
    labelled = load_labelled(data, cache, cfg.sample_rate, say=say)
    teachers = Teachers(teacher)
    # Each teacher answers on its own, so its block of the student's outputs is known by its width.
    answers = [teacher_targets(m, labelled.audios, cfg.window_samples) for m in teachers.members]  # per teacher, per clip
    t_tags = np.concatenate([np.concatenate([t for t, _ in a]) for a in answers], axis=1)  # [N, K]
    t_emb = np.concatenate([np.concatenate([e for _, e in a]) for a in answers], axis=1)  # [N, E]
    tag_widths, emb_widths = [a[0][0].shape[1] for a in answers], [a[0][1].shape[1] for a in answers]
    if len(stats["mean"]) != sum(emb_widths):
        raise ValueError(f"{checkpoint}: learnt {len(stats['mean'])} teacher embedding units, the teachers "
                         f"{', '.join(teachers.names)} give {sum(emb_widths)} (the distillation's teachers, in order)")
    mel = torch.cat(clip_mels(net, labelled.audios, cfg.window_samples))  # [N, n_mels, T]
    s_tags, s_emb = student_copy(net, mel, stats["mean"], stats["std"])
    per_teacher = [{"teacher": name, "labelled_embedding_correlation": e, "labelled_tag_correlation": t}
                   for name, e, t in zip(teachers.names, block_correlations(s_emb, t_emb, emb_widths),
                                         block_correlations(s_tags, t_tags, tag_widths), strict=True)]
    result = {"checkpoint": str(checkpoint), "labelled_windows": len(mel)}
    if targets:
        stored = load_targets(targets)
        if stored["embedding"].shape[1] != sum(emb_widths):
            raise ValueError(f"{', '.join(map(str, path_list(targets)))}: targets of {stored['embedding'].shape[1]} embedding "
                             f"units, the teachers {', '.join(teachers.names)} give {sum(emb_widths)} "
                             "(one targets folder per teacher, in the same order)")
        _, valid = split_windows(len(stored["mel"]), *split)
        mel = torch.from_numpy(mels_at_hop(stored["mel"][valid], cfg.hop_length).astype(np.float32))
        s_tags, s_emb = student_copy(net, mel, stats["mean"], stats["std"])
        result["corpus_valid_windows"] = len(valid)
        for row, e, t in zip(per_teacher,
                             block_correlations(s_emb, stored["embedding"][valid].astype(np.float32), emb_widths),
                             block_correlations(s_tags, stored["tags"][valid].astype(np.float32), tag_widths),
                             strict=True):
            row.update(corpus_embedding_correlation=e, corpus_tag_correlation=t)
    result.update({k: v for k, v in per_teacher[0].items() if k != "teacher"}, per_teacher=per_teacher)
    (Path(checkpoint).parent / "fidelity.json").write_text(json.dumps(result, indent=1))
    say(json.dumps(result, indent=1))
    return result
