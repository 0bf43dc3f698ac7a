"""Honest figures on a small labelled set: grouped k-fold cross-validation, every clip predicted once
by a model that never saw it (nor its artist), plus the final head fitted on all clips.

Methods compared on exactly the same clips and windows:
- ``probe``: a distilled model, frozen, with a logistic-regression genre head per fold;
- ``finetune``: the distilled model fine-tuned per fold on the fold's clips (genre loss + the
  teacher's targets on those clips), then the same linear head;
- ``scratch``: one of our networks trained from nothing on the fold's clips (the trainer's loop);
- ``features``: the classic baseline, mean and deviation of each mel band + logistic regression;
- ``peer``: a fixed peer classifier (a yardstick; it is not retrained, and may have seen the clips);
- ``teacher``: the teacher's own embedding with the probe's head: the ceiling a student is judged against.

The probe-style methods (probe, features, teacher) take several draws of the folds (fold seeds): on
~150 clips one draw moves the figure by several points, and the mean over draws is the steadier one.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from trainer.data.cache import DecodeCache, decode_all
from trainer.data.sources import DatasetError, TrackRecord, discover
from trainer.data.windows import track_windows
from trainer.distill.folds import grouped_folds
from trainer.distill.probe import LinearHead, choose_l2, embed_tracks, fit_head
from trainer.metrics import classification_figures

METHODS = ("probe", "finetune", "features", "scratch", "peer", "teacher")
FOLD_DRAW_METHODS = ("probe", "features", "teacher")  # a head on fixed features: cheap to score on another draw


@dataclass
class Labelled:
    """Decoded labelled clips with their genre index and group (artist, else the clip itself)."""

    records: list[TrackRecord]
    audios: list[np.ndarray]
    labels: list[str]
    y: np.ndarray  # [N]
    groups: np.ndarray  # [N]


def load_labelled(data: str, cache: str, sample_rate: int, workers: int = 2, say=print) -> Labelled:
    """Discover and decode a labelled set; unreadable files are named and left out."""
    records = discover(data)
    decoded, errors = decode_all(records, DecodeCache(Path(cache), sample_rate), workers)
    for err in errors:
        say(f"skipped unreadable file {err.path}: {err.reason}")
    labels = sorted({d.record.label for d in decoded})
    if len(labels) < 2:
        raise DatasetError(f"{data}: at least two genres are needed")
    recs = [d.record for d in decoded]
    y = np.array([labels.index(r.label) for r in recs])
    groups = np.array([r.artist or f"clip:{r.path}" for r in recs])
    return Labelled(recs, [d.audio for d in decoded], labels, y, groups)


def probe_predictions(embs: list[np.ndarray] | list[list[np.ndarray]], data: Labelled, fold_of: np.ndarray,
                      say=print) -> np.ndarray:
    """Out-of-fold track probabilities [N, labels] from per-fold linear heads (L2 chosen inside the fold).
    `embs`: [n_windows, D] per clip, or one such list per fold (each fold's own network)."""
    probs = np.zeros((len(data.records), len(data.labels)))
    for f in range(fold_of.max() + 1):
        tr, te = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        fold_embs = embs[f] if isinstance(embs[0], list) else embs
        l2 = choose_l2([fold_embs[i] for i in tr], data.y[tr], data.groups[tr], len(data.labels))
        head = fit_head([fold_embs[i] for i in tr], data.y[tr], len(data.labels), l2)
        probs[te] = head.track_probs([fold_embs[i] for i in te])
        say(f"fold {f + 1}: {len(tr)} train, {len(te)} held out, l2 {l2:g}, accuracy {(probs[te].argmax(1) == data.y[te]).mean():.3f}")
    return probs


def fold_checkpoints(checkpoint: str | Path, folds: int) -> list[str]:
    """The checkpoint of each fold: CHECKPOINT with "{fold}" replaced by 1..folds (each fold's own network,
    e.g. adapted without that fold's clips), else the same one for every fold. FileNotFoundError names a missing one."""
    text = str(checkpoint)
    paths = [text.replace("{fold}", str(f + 1)) for f in range(folds)] if "{fold}" in text else [text] * folds
    for path in dict.fromkeys(paths):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such checkpoint")
    return paths


@dataclass
class FinetuneInputs:
    """What every fold's fine-tuning starts from, computed once: the distilled model, and per clip its
    front-end mels and teacher targets (a fold only ever reads those of its training clips)."""

    net: torch.nn.Module
    emb_mean: np.ndarray
    emb_std: np.ndarray
    mels: list[torch.Tensor]
    targets: list[tuple[np.ndarray, np.ndarray]]
    precision: str = "fp32"  # of the fine-tuning's forward passes: fp32 or bf16
    teacher_weight: float = 1.0  # the teacher's embedding and tags against the genre loss
    genre_teacher_weight: float = 0.0  # the teacher's cross-fitted genre opinion (0: not used; models/default.md, session 21)
    # Training clips -> their cross-fitted genre opinion: the same for every fine-tuning seed of a fold, so made once.
    genre_opinions: dict[bytes, list[np.ndarray]] = field(default_factory=dict, repr=False)


def finetune_inputs(net, window: int, checkpoint, data: Labelled, teacher, precision: str = "fp32") -> FinetuneInputs:
    """The distilled `net` (loaded by the caller) with its run's teacher statistics, found beside `checkpoint`;
    runs the front end and the teacher(s) on every clip. `teacher` is a path or a list, the distillation's
    teachers in the same order."""
    from trainer.distill.finetune import clip_mels, teacher_targets
    from trainer.distill.teacher import Teachers

    stats = teacher_stats(checkpoint)
    teachers = Teachers(teacher)
    # Older runs do not list their teachers (or list "" for targets that did not record theirs); the
    # embedding width below still tells how many there were.
    expected = [str(t) for t in stats["teachers"]] if "teachers" in stats.files else None
    if expected is not None and (len(expected) != len(teachers.names)
                                 or any(e and e != n for e, n in zip(expected, teachers.names, strict=False))):
        raise ValueError(f"{checkpoint} was distilled from {', '.join(expected)}; fine-tuning was given "
                         f"{', '.join(teachers.names)} (give the same teachers in the same order)")
    targets = teacher_targets(teachers, data.audios, window)
    if targets[0][1].shape[1] != len(stats["mean"]):
        raise ValueError(f"{checkpoint} learnt a {len(stats['mean'])}-wide teacher embedding; "
                         f"{', '.join(teachers.names)} give {targets[0][1].shape[1]}")
    return FinetuneInputs(net, stats["mean"], stats["std"], clip_mels(net, data.audios, window), targets, precision)


def teacher_stats(checkpoint):
    """The distillation run's teacher statistics (mean, std, teachers), found beside `checkpoint`."""
    from trainer.distill.distill import TEACHER_STATS

    stats_file = Path(checkpoint).parent / TEACHER_STATS
    if not stats_file.is_file():
        raise FileNotFoundError(f"{stats_file}: the distillation run's teacher statistics are missing")
    return np.load(stats_file)


def inputs_for_checkpoint(inputs: FinetuneInputs, net, checkpoint) -> FinetuneInputs:
    """The same clips' mels and teacher targets for another checkpoint of the same distillation (a fold's own)."""
    stats = teacher_stats(checkpoint)
    if stats["mean"].shape != inputs.emb_mean.shape:
        raise ValueError(f"{checkpoint} learnt a {len(stats['mean'])}-wide teacher embedding, not {len(inputs.emb_mean)}")
    return replace(inputs, net=net, emb_mean=stats["mean"], emb_std=stats["std"])


@torch.no_grad()
def mel_embeddings(net, mels: list[torch.Tensor]) -> list[np.ndarray]:
    """Embeddings from cached front-end output (the front end is frozen, no need to run it again): [n_windows, D] per clip."""
    return [net.forward_mel(m)[1].numpy() for m in mels]


def finetune_embeddings(inputs: FinetuneInputs, data: Labelled, train_idx: np.ndarray, epochs: int = 4, seed: int = 0):
    """Fine-tune a copy of the distilled model on the clips `train_idx`; embeddings of every clip and genre-head probabilities."""
    import copy

    from trainer.distill.finetune import cross_fitted_genre_targets, finetune

    opinion = None
    if inputs.genre_teacher_weight:  # from the training clips' teacher embeddings only, once per set of clips
        key = np.asarray(train_idx).tobytes()
        if key not in inputs.genre_opinions:
            inputs.genre_opinions[key] = cross_fitted_genre_targets(
                [inputs.targets[i][1] for i in train_idx], data.y[train_idx], data.groups[train_idx], len(data.labels))
        opinion = inputs.genre_opinions[key]
    net = finetune(copy.deepcopy(inputs.net), [inputs.mels[i] for i in train_idx], data.y[train_idx],
                   [inputs.targets[i] for i in train_idx], inputs.emb_mean, inputs.emb_std, len(data.labels), epochs=epochs,
                   seed=seed, precision=inputs.precision, teacher_weight=inputs.teacher_weight,
                   genre_targets=opinion, genre_teacher_weight=inputs.genre_teacher_weight)
    embs = mel_embeddings(net, inputs.mels)  # [n_windows, D] per clip
    with torch.no_grad():
        head_probs = np.stack([torch.softmax(net.genre_head(torch.from_numpy(e)), dim=1).mean(0).numpy() for e in embs])
    return net, embs, head_probs


def finetune_predictions(inputs: FinetuneInputs | list[FinetuneInputs], data: Labelled, fold_of: np.ndarray,
                         epochs: int = 4, seed: int = 0, say=print):
    """Out-of-fold probabilities of fine-tuned models with a linear probe, and of their trained genre heads;
    `inputs` one per fold where each fold has its own network."""
    probs = np.zeros((len(data.records), len(data.labels)))
    head = np.zeros_like(probs)
    for f in range(fold_of.max() + 1):
        tr, te = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        fold_inputs = inputs[f] if isinstance(inputs, list) else inputs
        _, embs, head_probs = finetune_embeddings(fold_inputs, data, tr, epochs=epochs, seed=seed)
        l2 = choose_l2([embs[i] for i in tr], data.y[tr], data.groups[tr], len(data.labels))
        probs[te] = fit_head([embs[i] for i in tr], data.y[tr], len(data.labels), l2).track_probs([embs[i] for i in te])
        head[te] = head_probs[te]
        say(f"fold {f + 1}: probe accuracy {(probs[te].argmax(1) == data.y[te]).mean():.3f}, "
            f"trained head {(head[te].argmax(1) == data.y[te]).mean():.3f}")
    return probs, head


def final_head(embs: list[np.ndarray], data: Labelled) -> tuple[LinearHead, float]:
    """The head fitted on every clip, with the L2 strength chosen by grouped cross-validation."""
    l2 = choose_l2(embs, data.y, data.groups, len(data.labels))
    return fit_head(embs, data.y, len(data.labels), l2), l2


@torch.no_grad()
def mel_statistics(frontend, audios: list[np.ndarray], window: int) -> list[np.ndarray]:
    """Window features of the classic baseline: mean and std of each log-mel band, [n, 2 * n_mels] per clip."""
    out = []
    for audio in audios:
        mel = frontend(torch.from_numpy(track_windows(audio, window)))  # [n, n_mels, T]
        out.append(torch.cat([mel.mean(2), mel.std(2)], dim=1).numpy())  # [n, 2 * n_mels]
    return out


def scratch_predictions(data: Labelled, fold_of: np.ndarray, overrides: dict, workdir: Path, say=print) -> np.ndarray:
    """Out-of-fold probabilities from networks trained from scratch with the trainer's own loop."""
    from trainer.checkpoint import load_checkpoint, model_from_checkpoint
    from trainer.config import TrainConfig
    from trainer.train import predict_tracks, train

    probs = np.zeros((len(data.records), len(data.labels)))
    for f in range(fold_of.max() + 1):
        tr, te = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        inner = grouped_folds(data.y[tr], data.groups[tr], 5, seed=2)  # a fifth of the training artists validate
        manifest = workdir / f"fold{f + 1}.csv"
        with open(manifest, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["path", "label", "artist", "split"])
            for j, i in enumerate(tr):
                r = data.records[i]
                w.writerow([r.path.resolve(), r.label, r.artist or "", "valid" if inner[j] == 0 else "train"])
            # The held-out clips are listed as the test split, which train() never looks at.
            w.writerows([data.records[i].path.resolve(), data.records[i].label, "", "test"] for i in te)
        cfg = TrainConfig.from_dict({**overrides, "data": str(manifest), "out": str(workdir / f"fold{f + 1}")})
        best = train(cfg, say=lambda *_: None)
        model, cfg, labels = model_from_checkpoint(load_checkpoint(best))
        if labels != data.labels:
            raise DatasetError(f"fold {f + 1} lacks some genres in training: {labels}")
        probs[te], _ = predict_tracks(model, [data.audios[i] for i in te], cfg.window_samples, "cpu")
        say(f"fold {f + 1}: accuracy {(probs[te].argmax(1) == data.y[te]).mean():.3f}")
    return probs


def peer_predictions(peer: str | Path, data: Labelled, window: int) -> np.ndarray:
    """Track probabilities of a fixed musicnn-feature peer classifier on the same windows [N, labels]."""
    import onnxruntime as ort

    from trainer.distill.teacher import teacher_mel

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(peer), options, providers=["CPUExecutionProvider"])
    name_in, name_out = session.get_inputs()[0].name, session.get_outputs()[0].name
    probs = []
    for audio in data.audios:
        scores = session.run([name_out], {name_in: teacher_mel(track_windows(audio, window))})[0]  # [n, 10]
        probs.append(scores.mean(axis=0))
    return np.stack(probs)


def write_cv_report(out: Path, method: str, data: Labelled, probs: np.ndarray, fold_of: np.ndarray | None, extra: dict) -> dict:
    """report.json, per_track.csv and confusion.png for one method."""
    figures = classification_figures(data.y, probs.argmax(1), data.labels)
    k = int(fold_of.max() + 1) if fold_of is not None else 0
    figures.update({"method": method, "split": f"{k}-fold artist-grouped cross-validation" if k else "all clips (fixed model)", **extra})
    save_figures(out, figures)
    with open(out / "per_track.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "fold", "predicted", "confidence", *data.labels])
        for i, (r, p) in enumerate(zip(data.records, probs, strict=True)):
            fold = int(fold_of[i]) + 1 if fold_of is not None else ""
            w.writerow([r.path, r.label, fold, data.labels[int(p.argmax())], f"{p.max():.4f}", *(f"{x:.4f}" for x in p)])
    return figures


def save_figures(out: Path, figures: dict) -> None:
    """report.json and confusion.png of one method's figures under out."""
    from trainer.evaluate import plot_confusion

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(figures, indent=2))
    plot_confusion(figures["confusion_matrix"], figures["labels"], out / "confusion.png")


def finetune_run(inputs: FinetuneInputs | list[FinetuneInputs], data: Labelled, fold_of: np.ndarray, epochs: int, seed: int, extra: dict,
                 say=print) -> tuple[np.ndarray, dict]:
    """One fine-tuning cross-validation: out-of-fold probabilities and the run's report extras."""
    probs, head = finetune_predictions(inputs, data, fold_of, epochs, seed, say)
    return probs, {**extra, "trained_head_accuracy": float((head.argmax(1) == data.y).mean()),
                   "finetune_epochs": epochs, "finetune_seed": seed}


def finetune_over_seeds(inputs: FinetuneInputs | list[FinetuneInputs], data: Labelled, fold_of: np.ndarray, seeds: list[int], out: Path,
                        epochs: int, extra: dict, say=print) -> dict:
    """Fine-tuning cross-validated once per seed on the same folds: each run's report under
    out/finetune-seed<S>, and out/finetune with the figures averaged over the runs.

    One run on ~150 clips varies by a few points with the seed alone; the mean is the honest figure.
    """
    runs = []
    for seed in seeds:
        probs, run_extra = finetune_run(inputs, data, fold_of, epochs, seed, extra, say)
        runs.append(write_cv_report(out / f"finetune-seed{seed}", "finetune", data, probs, fold_of, run_extra))
        say(f"finetune seed {seed}: accuracy {runs[-1]['accuracy']:.3f}")
    return write_mean_report(out, "finetune", runs, "seed", f"seeds {seeds}",
                             {"split": runs[0]["split"], **extra, "finetune_epochs": epochs, "finetune_seeds": seeds}, say)


def mean_of_runs(runs: list[dict], per: str = "seed") -> dict:
    """Figures of several runs on the same clips: accuracy, macro F1 and per-label figures averaged,
    confusion matrices summed (each clip counted once per run), every run's accuracy listed (as
    accuracy_per_<per>)."""
    labels = runs[0]["labels"]
    per_label = {g: {k: float(np.mean([r["per_label"][g][k] for r in runs])) for k in ("precision", "recall", "f1")}
                 for g in labels}
    for g in labels:
        per_label[g]["support"] = runs[0]["per_label"][g]["support"]
    return {
        "accuracy": float(np.mean([r["accuracy"] for r in runs])),
        "macro_f1": float(np.mean([r["macro_f1"] for r in runs])),
        f"accuracy_per_{per}": [r["accuracy"] for r in runs],
        f"macro_f1_per_{per}": [r["macro_f1"] for r in runs],
        "tracks": runs[0]["tracks"],
        "per_label": per_label,
        "confusion_matrix": np.sum([r["confusion_matrix"] for r in runs], axis=0).tolist(),
        "labels": labels,
    }


def write_mean_report(out: Path, method: str, runs: list[dict], per: str, over: str, extra: dict, say=print) -> dict:
    """out/<method>: several runs' figures averaged (mean_of_runs, each run's accuracy as accuracy_per_<per>) with
    `extra`; says the mean and every run's accuracy (`over` names what the runs vary, e.g. "seeds [0, 1]")."""
    figures = {**mean_of_runs(runs, per), "method": method, **extra}
    save_figures(out / method, figures)
    say(f"{method} over {over}: accuracy {figures['accuracy']:.3f} "
        f"({', '.join(f'{a:.3f}' for a in figures[f'accuracy_per_{per}'])})  macro F1 {figures['macro_f1']:.3f}")
    return figures


def fixed_features(method: str, nets: dict, per_fold: list[str], data: Labelled, base, teachers, features: str) -> list:
    """What a probe-style method's head reads, per clip [n_windows, D] (a list per fold for per-fold networks):
    the distilled network's features (probe), mel statistics (features) or the teacher's own embedding (teacher)."""
    window = base.window_samples
    if method == "probe":
        if not nets:
            raise ValueError("--checkpoint (a distilled model) is needed for the probe method")
        from trainer.distill.yardstick import probe_features

        # features "embedding+tags": the head also reads the student's copy of the teacher's 50 tags.
        embs = {path: probe_features(n, data.audios, window, features) for path, n in nets.items()}
        return embs[per_fold[0]] if len(embs) == 1 else [embs[path] for path in per_fold]
    if method == "teacher":
        if teachers is None:
            raise ValueError("--teacher (the musicnn file(s) a student learns from) is needed for the teacher method")
        from trainer.distill.finetune import teacher_targets

        return [emb for _tags, emb in teacher_targets(teachers, data.audios, window)]  # [n, 200 * teachers] per clip
    from trainer.frontend import MelFrontEnd

    return mel_statistics(MelFrontEnd(base.frontend()).eval(), data.audios, window)


def probe_over_fold_seeds(method: str, embs: list, data: Labelled, folds: int, seeds: list[int], out: Path, extra: dict,
                          say=print) -> dict:
    """The probe's head on fixed features, cross-validated on several draws of the artist-grouped folds:
    each draw's report under out/<method>-folds<S>, and out/<method> with the figures averaged over draws."""
    runs = []
    for seed in seeds:
        fold_of = grouped_folds(data.y, data.groups, folds, seed)
        probs = probe_predictions(embs, data, fold_of, say)
        runs.append(write_cv_report(out / f"{method}-folds{seed}", method, data, probs, fold_of, {**extra, "fold_seed": seed}))
        say(f"{method} on fold draw {seed}: accuracy {runs[-1]['accuracy']:.3f}")
    split = f"{folds}-fold artist-grouped cross-validation, mean of {len(seeds)} draws of the folds"
    return write_mean_report(out, method, runs, "fold_seed", f"fold draws {seeds}", {"split": split, **extra, "fold_seeds": seeds},
                             say)


def crossval(method: str, data_path: str, out: str | Path, *, checkpoint=None, peer=None, teacher=None, folds=5,
             fold_seed=0, cache=".cache/decoded", scratch=None, finetune_epochs=4, finetune_seed=0, precision="fp32",
             features="embedding", teacher_weight=1.0, genre_teacher_weight=0.0, say=print) -> dict:
    """Run one method over the folds and write its report under out/<method>. A checkpoint with "{fold}" in
    its path is one network per fold (fold_checkpoints), for the probe and finetune methods. `fold_seed`
    draws the folds; several (probe, features, teacher): one report per draw and their mean. `teacher_weight`
    and `genre_teacher_weight` weigh the finetune method's teacher terms (FinetuneInputs)."""
    from trainer.checkpoint import load_checkpoint, model_from_checkpoint
    from trainer.config import TrainConfig

    draws = [fold_seed] if isinstance(fold_seed, int) else list(fold_seed)
    if len(draws) > 1 and method not in FOLD_DRAW_METHODS:
        raise ValueError(f"several fold draws are for the {', '.join(FOLD_DRAW_METHODS)} methods, not {method} "
                         "(finetune varies its runs with --finetune-seed)")
    base = TrainConfig()
    nets = {}  # checkpoint path -> network, each loaded once
    per_fold = fold_checkpoints(checkpoint, folds) if checkpoint else []
    if len(set(per_fold)) > 1 and draws != [0]:
        # adapt --hold-out-fold N leaves out the clips of draw 0's fold N: on another draw its network
        # would score clips it has heard.
        raise ValueError(f"{checkpoint}: one network per fold belongs to the folds of fold seed 0, not {draws}")
    for path in dict.fromkeys(per_fold):
        nets[path], base, _ = model_from_checkpoint(load_checkpoint(path))
    net = nets[per_fold[0]] if per_fold else None
    data = load_labelled(data_path, cache, base.sample_rate, say=say)
    fold_of = grouped_folds(data.y, data.groups, folds, draws[0])
    window = base.window_samples
    extra: dict = {"clips": len(data.records), "groups": len(set(data.groups))}
    if method != "peer" and len(draws) == 1:  # several draws: each draw's report names its own
        extra["fold_seed"] = draws[0]
    if method in FOLD_DRAW_METHODS:
        from trainer.distill.teacher import Teachers

        teachers = Teachers(teacher) if method == "teacher" and teacher else None
        embs = fixed_features(method, nets, per_fold, data, base, teachers, features)
        if method == "probe":
            extra["checkpoint"], extra["features"] = str(checkpoint), features
        elif method == "teacher":
            extra["teacher"] = teachers.names
        if len(draws) > 1:
            return probe_over_fold_seeds(method, embs, data, folds, draws, Path(out), extra, say)
        probs = probe_predictions(embs, data, fold_of, say)
    elif method == "finetune":
        if not (checkpoint and teacher):
            raise ValueError("--checkpoint (distilled) and --teacher are needed for the finetune method")
        # Another fine-tuning seed on the same folds shows how much one run's figure owes to chance.
        if teacher_weight < 0 or genre_teacher_weight < 0:
            raise ValueError(f"the teacher's weights must not be negative (got {teacher_weight}, {genre_teacher_weight})")
        inputs = replace(finetune_inputs(net, window, per_fold[0], data, teacher, precision),
                         teacher_weight=teacher_weight, genre_teacher_weight=genre_teacher_weight)
        if len(nets) > 1:  # the clips' mels and teacher targets are the same for every fold's network
            inputs = [inputs_for_checkpoint(inputs, nets[path], path) for path in per_fold]
        seeds = [finetune_seed] if isinstance(finetune_seed, int) else list(finetune_seed)
        extra.update(checkpoint=str(checkpoint), teacher_weight=teacher_weight, genre_teacher_weight=genre_teacher_weight)
        if len(seeds) > 1:
            return finetune_over_seeds(inputs, data, fold_of, seeds, Path(out), finetune_epochs, extra, say)
        probs, extra = finetune_run(inputs, data, fold_of, finetune_epochs, seeds[0], extra, say)
    elif method == "scratch":
        with tempfile.TemporaryDirectory() as tmp:
            probs = scratch_predictions(data, fold_of, {"cache": cache, **(scratch or {})}, Path(tmp), say)
        extra["config"] = scratch or {}
    elif method == "peer":
        if not peer:
            raise ValueError("--peer (an ONNX classifier on musicnn input) is needed for the peer method")
        probs = peer_predictions(peer, data, window)
        fold_of, extra["peer"] = None, Path(peer).name
    else:
        raise ValueError(f"unknown method {method!r}; choose {', '.join(METHODS)}")
    figures = write_cv_report(Path(out) / method, method, data, probs, fold_of, extra)
    say(f"{method}: accuracy {figures['accuracy']:.3f}  macro F1 {figures['macro_f1']:.3f} on {figures['tracks']} clips")
    return figures


def fit_genre_model(checkpoint, data_path: str, out: str | Path, cv_report: str | Path | None = None,
                    cache=".cache/decoded", dataset_name: str | None = None, teacher: str | Path | None = None,
                    finetune_epochs: int = 4, precision: str = "fp32", say=print) -> Path:
    """A distilled model (fine-tuned on every clip when a teacher is given) + a genre head fitted on every
    clip -> an ordinary genre checkpoint, ready for export."""
    from trainer.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
    from trainer.models import build_model

    state = load_checkpoint(checkpoint)
    net, cfg, _ = model_from_checkpoint(state)
    data = load_labelled(data_path, cache, cfg.sample_rate, say=say)
    if teacher:
        inputs = finetune_inputs(net, cfg.window_samples, checkpoint, data, teacher, precision)
        net, embs, _ = finetune_embeddings(inputs, data, np.arange(len(data.records)), epochs=finetune_epochs)
    else:
        embs = embed_tracks(net, data.audios, cfg.window_samples)
    head, l2 = final_head(embs, data)
    model = build_model(cfg.model, len(data.labels), cfg.frontend(), dropout=cfg.dropout, width=cfg.width)
    own = {k: v for k, v in net.state_dict().items() if not k.startswith(("classifier.", "genre_head."))}
    model.load_state_dict(own, strict=False)
    model.classifier.weight.data = torch.from_numpy(head.weight)  # [labels, D]
    model.classifier.bias.data = torch.from_numpy(head.bias)  # [labels]
    cfg = replace(cfg, data=str(data_path), dataset_name=dataset_name or cfg.dataset_name, out=str(out))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    from trainer.distill.teacher import path_list

    how = f"fine-tuned {finetune_epochs} epochs with {' + '.join(p.name for p in path_list(teacher))}" if teacher else "frozen"
    history = state["history"] + [{"epoch": state["epoch"], "head_l2": l2, "clips": len(data.records), "network": how}]
    save_checkpoint(out / "model.pt", model=model, optimizer=None, scheduler=None, cfg=cfg, labels=data.labels,
                    epoch=state["epoch"], history=history, best=state["best"], splits={"train": data.records})
    if cv_report:
        (out / "report").mkdir(exist_ok=True)
        (out / "report" / "report.json").write_text(Path(cv_report).read_text())
    say(f"genre head (l2 {l2:g}, network {how}) on {len(data.records)} clips -> {out / 'model.pt'}")
    return out / "model.pt"
