"""The distillation recipe end to end on synthetic audio, with a small musicnn-shaped teacher built here:
corpus -> teacher targets -> distillation -> grouped cross-validation -> fine-tune + head -> export -> app."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from trainer.distill.folds import grouped_folds


def make_teacher(path: Path, with_embedding: bool = True, seed: int = 0) -> Path:
    """A musicnn-shaped ONNX model: melspec:0 [N, 187, 96] -> model/dense/Relu:0 [N, 200] -> tags:0 [N, 50],
    with model/concat_2:0 [N, 96, 1] (musicnn's pooled maps are [N, 753, 2]) beside them."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w1 = numpy_helper.from_array(rng.standard_normal((96, 200)).astype(np.float32) * 0.1, "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((200, 50)).astype(np.float32) * 0.1, "w2")
    hidden = "model/dense/Relu:0" if with_embedding else "hidden"
    nodes = [
        helper.make_node("ReduceMax", ["melspec:0"], ["max"], axes=[1], keepdims=1),  # [N, 1, 96]
        helper.make_node("Transpose", ["max"], ["model/concat_2:0"], perm=[0, 2, 1]),  # [N, 96, 1]
        helper.make_node("ReduceMean", ["melspec:0"], ["pooled"], axes=[1], keepdims=0),  # [N, 96]
        helper.make_node("MatMul", ["pooled", "w1"], ["pre"]),  # [N, 200]
        helper.make_node("Relu", ["pre"], [hidden]),
        helper.make_node("MatMul", [hidden, "w2"], ["logits"]),  # [N, 50]
        helper.make_node("Sigmoid", ["logits"], ["tags:0"]),
    ]
    graph = helper.make_graph(
        nodes, "teacher", [helper.make_tensor_value_info("melspec:0", TensorProto.FLOAT, ["N", 187, 96])],
        [helper.make_tensor_value_info("tags:0", TensorProto.FLOAT, ["N", 50])], initializer=[w1, w2])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    return make_teacher(tmp_path_factory.mktemp("teacher") / "musicnn-like.onnx")


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """Synthetic clips of 3 genres with an artist column: 2 artists per genre, 3 clips each."""
    from trainer.synth import write_dataset

    root = tmp_path_factory.mktemp("labelled")
    paths = write_dataset(root / "audio", per_genre=6, seconds=6.0, seed=3)
    manifest = root / "manifest.csv"
    with open(manifest, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "artist"])
        for p in paths:
            index = int(p.stem.split(".")[1])
            w.writerow([p, p.parent.name, f"{p.parent.name}-artist-{index // 3}"])
    return manifest


@pytest.fixture(scope="module")
def distilled(tmp_path_factory, teacher):
    """Corpus (a folder and a .pk3 archive) -> targets -> a one-epoch distilled CNN (512 hop: reads every other stored frame)."""
    from trainer.distill.corpus import build_corpus, extract_archive_members
    from trainer.distill.distill import DistillConfig, distill
    from trainer.distill.targets import prepare_targets
    from trainer.synth import write_dataset

    root = tmp_path_factory.mktemp("corpus")
    loose = write_dataset(root / "loose", per_genre=3, seconds=7.0, seed=5)
    with zipfile.ZipFile(root / "music.pk3", "w") as zf:
        zf.write(loose[0], "sound/cdtracks/packed.wav")
        zf.writestr("maps/readme.txt", "not audio")
    packed = extract_archive_members(root / "music.pk3", "sound/cdtracks/", root / "from-archive")
    assert [p.name for p in packed] == ["packed.wav"]
    manifest = build_corpus(root / "out", packages=[], folders=[root / "loose", root / "from-archive"], say=lambda *_: None)
    targets = prepare_targets(manifest, teacher, root / "targets", cache=root / "cache", say=lambda *_: None)
    shards = sorted(targets.glob("*.npz"))
    assert len(shards) == 10  # 9 loose files + 1 from the archive, one shard each
    data = np.load(shards[0])
    assert data["mel"].shape[1:] == (96, 188) and data["tags"].shape[1] == 50 and data["embedding"].shape[1] == 200
    mtimes = [s.stat().st_mtime_ns for s in shards]
    prepare_targets(manifest, teacher, root / "targets", cache=root / "cache", say=lambda *_: None)
    assert [s.stat().st_mtime_ns for s in shards] == mtimes, "a second run must resume, not redo"
    cfg = DistillConfig(targets=str(targets), out=str(root / "run"), width=0.25, hop_length=512, epochs=1, batch_size=8,
                        device="cpu")
    return distill(cfg, say=lambda *_: None)


def test_grouped_folds_keep_artists_together_and_spread_genres():
    labels = np.array(["a"] * 12 + ["b"] * 12)
    groups = np.array([f"x{i // 2}" for i in range(12)] + [f"y{i // 3}" for i in range(12)])
    folds = grouped_folds(labels, groups, 3, seed=0)
    for g in set(groups):
        assert len(set(folds[groups == g])) == 1, f"artist {g} is split across folds"
    for f in range(3):
        assert {"a", "b"} <= set(labels[folds == f]), "every fold holds every genre"
    with pytest.raises(ValueError):
        grouped_folds(labels, groups, 1)


def test_distillation_learns_the_teacher(distilled):
    from trainer.checkpoint import load_checkpoint

    state = load_checkpoint(distilled)
    assert len(state["labels"]) == 250 and state["history"][0]["val_loss"] > 0
    assert state["config"]["hop_length"] == 512, "the student keeps its own hop, not the targets'"
    assert (Path(distilled).parent / "teacher_stats.npz").is_file()


def test_two_teachers_teach_side_by_side(distilled, labelled, teacher, tmp_path):
    """A second teacher's targets line up window by window; the student learns both; fine-tuning needs the same teachers in order."""
    from trainer.checkpoint import load_checkpoint
    from trainer.distill.crossval import crossval
    from trainer.distill.distill import DistillConfig, distill
    from trainer.distill.targets import load_targets, prepare_targets

    root = Path(distilled).parent.parent  # the corpus fixture's folder: out/manifest.csv, targets/, cache/
    second = make_teacher(tmp_path / "second.onnx", seed=1)
    prepare_targets(root / "out" / "manifest.csv", second, tmp_path / "targets2", cache=root / "cache", say=lambda *_: None)
    one, two = load_targets(root / "targets"), load_targets(tmp_path / "targets2")
    both = load_targets([root / "targets", tmp_path / "targets2"])
    assert list(both["teachers"]) == ["musicnn-like.onnx", "second.onnx"]
    assert both["tags"].shape == (len(one["mel"]), 100) and both["embedding"].shape == (len(one["mel"]), 400)
    np.testing.assert_array_equal(both["embedding"][:, 200:], two["embedding"])
    np.testing.assert_array_equal(both["tags"][:, :50], one["tags"])
    assert not np.allclose(one["embedding"], two["embedding"]), "the second teacher must differ for this test to mean anything"
    with pytest.raises(ValueError, match="holds targets of second.onnx"):  # resuming would mix two teachers in one folder
        prepare_targets(root / "out" / "manifest.csv", teacher, tmp_path / "targets2", cache=root / "cache", say=lambda *_: None)

    cfg = DistillConfig(targets=[str(root / "targets"), str(tmp_path / "targets2")], out=str(tmp_path / "run"),
                        width=0.25, hop_length=512, epochs=1, batch_size=8, device="cpu")
    student = distill(cfg, say=lambda *_: None)
    assert len(load_checkpoint(student)["labels"]) == 500
    assert list(np.load(tmp_path / "run" / "teacher_stats.npz")["teachers"]) == ["musicnn-like.onnx", "second.onnx"]
    figures = crossval("finetune", str(labelled), tmp_path / "cv", checkpoint=student, teacher=[teacher, second], folds=2,
                       cache=str(root / "cache"), finetune_epochs=1, say=lambda *_: None)
    assert figures["tracks"] == 18
    with pytest.raises(ValueError, match="same order"):
        crossval("finetune", str(labelled), tmp_path / "cv", checkpoint=student, teacher=[second, teacher], folds=2,
                 cache=str(root / "cache"), say=lambda *_: None)
    with pytest.raises(ValueError, match="same order"):
        crossval("finetune", str(labelled), tmp_path / "cv", checkpoint=student, teacher=teacher, folds=2,
                 cache=str(root / "cache"), say=lambda *_: None)
    stats = tmp_path / "run" / "teacher_stats.npz"  # as a run from before the statistics named their teachers
    np.savez(stats, **{k: v for k, v in np.load(stats).items() if k != "teachers"})
    with pytest.raises(ValueError, match="400-wide teacher embedding; musicnn-like.onnx give 200"):
        crossval("finetune", str(labelled), tmp_path / "cv", checkpoint=student, teacher=teacher, folds=2,
                 cache=str(root / "cache"), say=lambda *_: None)


def test_distillation_tracks_the_frozen_probe_every_epoch(distilled, labelled, tmp_path):
    """--probe: each epoch's history row has the probe's accuracy (labels never reach the loss), and the curve is drawn."""
    from trainer.checkpoint import load_checkpoint
    from trainer.distill.distill import DistillConfig, distill

    root = Path(distilled).parent.parent
    cfg = DistillConfig(targets=str(root / "targets"), out=str(tmp_path / "run"), width=0.25, hop_length=512, epochs=2,
                        batch_size=8, device="cpu", probe=str(labelled), probe_cache=str(root / "cache"), precision="bf16",
                        keep_every=2)
    best = distill(cfg, say=lambda *_: None)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [r["epoch"] for r in history] == [0, 1]
    # --keep-every 2: the weights at epoch 2 only, without the optimiser's state, a checkpoint the probe reads
    assert sorted(p.name for p in (tmp_path / "run").glob("epoch-*.pt")) == ["epoch-002.pt"]
    kept = load_checkpoint(tmp_path / "run" / "epoch-002.pt")
    assert kept["epoch"] == 1 and kept["optimizer_state"] is None
    assert all(torch.equal(kept["model_state"][k], v) for k, v in load_checkpoint(tmp_path / "run" / "last.pt")["model_state"].items())
    assert all(0.0 <= r["probe_accuracy"] <= 1.0 for r in history)
    assert all(r["seconds"] > 0 for r in history)  # each epoch's own time, for the recipe's timings
    assert load_checkpoint(best)["history"][0]["probe_accuracy"] == history[0]["probe_accuracy"]
    assert (tmp_path / "run" / "probe_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "run" / "distill_config.json").read_text())["precision"] == "bf16"
    with pytest.raises(ValueError, match="unknown precision"):
        distill(DistillConfig(targets=str(root / "targets"), out=str(tmp_path / "bad"), epochs=1, precision="fp8"),
                say=lambda *_: None)
    with pytest.raises(ValueError, match="--keep-every must be 0"):
        DistillConfig(targets=str(root / "targets"), keep_every=-1)


def test_probe_on_embedding_and_tags_and_bf16_finetuning(distilled, labelled, teacher, tmp_path):
    """crossval probe --features embedding+tags and crossval finetune --precision bf16 score every clip once."""
    from trainer.distill.crossval import crossval

    root = Path(distilled).parent.parent
    figures = crossval("probe", str(labelled), tmp_path / "cv", checkpoint=distilled, folds=2, cache=str(root / "cache"),
                       features="embedding+tags", say=lambda *_: None)
    report = json.loads((tmp_path / "cv" / "probe" / "report.json").read_text())
    assert figures["tracks"] == 18 and report["features"] == "embedding+tags"
    figures = crossval("finetune", str(labelled), tmp_path / "cv", checkpoint=distilled, teacher=teacher, folds=2,
                       cache=str(root / "cache"), finetune_epochs=1, precision="bf16", say=lambda *_: None)
    assert figures["tracks"] == 18


def test_teacher_genre_targets_come_from_heads_that_never_heard_the_artist():
    """Each clip's soft targets come from a head fitted without its artist (a head that heard it answers otherwise),
    tempered, one distribution per window; one artist alone is refused."""
    from trainer.distill.finetune import cross_fitted_genre_targets
    from trainer.distill.probe import fit_head

    rng = np.random.default_rng(0)

    def clip(x0, x1):
        """Four windows near (x0, x1); only the first feature varies."""
        return np.stack([x0 + 0.05 * rng.standard_normal(4), np.full(4, float(x1))], axis=1).astype(np.float32)

    # Artist a1 plays genre 0 but sounds like genre 1 except on a feature only a1 has: only a head that
    # heard a1 can learn that feature, so a cross-fitted head must call a1 genre 1.
    embs = [clip(-1, 0), clip(-1, 0), clip(1, 0), clip(1, 0), clip(1, 0), clip(1, 0), clip(1, 3), clip(1, 3)]
    labels = np.array([0, 0, 1, 1, 1, 1, 0, 0])
    groups = np.array(["a2", "a2", "b1", "b1", "b2", "b2", "a1", "a1"])
    assert fit_head(embs, labels, 2, 1e-4).window_probs(embs[6]).mean(0).argmax() == 0, "a head that heard a1 knows it"
    targets = cross_fitted_genre_targets(embs, labels, groups, 2)
    assert [t.shape for t in targets] == [(4, 2)] * 8
    assert all(np.allclose(t.sum(axis=1), 1.0) for t in targets)
    assert targets[6].mean(0).argmax() == 1 and targets[7].mean(0).argmax() == 1
    sharp = cross_fitted_genre_targets(embs, labels, groups, 2, temperature=1.0)
    assert (targets[6].max(axis=1) < sharp[6].max(axis=1)).all(), "a temperature above 1 softens the targets"
    with pytest.raises(ValueError, match="at least two artists"):
        cross_fitted_genre_targets(embs[:2], labels[:2], groups[:2], 2)


def test_finetune_with_the_teachers_weights_and_genre_opinion(distilled, labelled, teacher, tmp_path):
    """finetune's teacher weight and genre opinion change the trained network (the defaults are the plain recipe);
    crossval finetune --teacher-weight / --genre-teacher-weight reports them and refuses negatives."""
    import copy

    import torch

    from trainer.__main__ import main
    from trainer.checkpoint import load_checkpoint, model_from_checkpoint
    from trainer.distill.finetune import clip_mels, finetune

    net, cfg, _ = model_from_checkpoint(load_checkpoint(distilled))
    rng = np.random.default_rng(0)
    audios = [0.1 * rng.standard_normal(2 * cfg.window_samples).astype(np.float32) for _ in range(4)]
    mels = clip_mels(net, audios, cfg.window_samples)  # two windows per clip
    targets = [(rng.uniform(size=(2, 50)), rng.standard_normal((2, 200))) for _ in audios]
    opinion = [np.tile([[0.9, 0.1]], (2, 1)).astype(np.float32) for _ in audios]

    def weights(**kw):
        """Every trained parameter, genre head included, after one epoch with these settings."""
        tuned = finetune(copy.deepcopy(net), mels, np.array([0, 1, 0, 1]), targets, np.zeros(200), np.ones(200), 2,
                         epochs=1, batch=4, seed=0, **kw)
        return torch.cat([p.detach().flatten() for p in [*tuned.parameters(), *tuned.genre_head.parameters()]])

    plain = weights()
    assert torch.equal(plain, weights(teacher_weight=1.0, genre_targets=opinion, genre_teacher_weight=0.0))
    assert not torch.equal(plain, weights(teacher_weight=2.0))
    assert not torch.equal(plain, weights(genre_targets=opinion, genre_teacher_weight=1.0))
    with pytest.raises(ValueError, match="needs the targets"):
        weights(genre_teacher_weight=1.0)

    root = Path(distilled).parent.parent
    common = ["crossval", "finetune", "--data", str(labelled), "--checkpoint", str(distilled), "--teacher", str(teacher),
              "--folds", "2", "--cache", str(root / "cache"), "--finetune-epochs", "1"]
    assert main([*common, "--out", str(tmp_path / "kd"), "--teacher-weight", "2", "--genre-teacher-weight", "1"]) == 0
    report = json.loads((tmp_path / "kd" / "finetune" / "report.json").read_text())
    assert report["tracks"] == 18 and report["teacher_weight"] == 2.0 and report["genre_teacher_weight"] == 1.0
    assert main([*common, "--out", str(tmp_path / "bad"), "--genre-teacher-weight", "-1"]) == 2
    assert not (tmp_path / "bad").exists(), "refused before anything is written"


def test_fidelity_compares_student_and_teacher_on_clips_and_corpus(distilled, labelled, teacher):
    """python -m trainer fidelity: correlations in [-1, 1] on both sets, written beside the checkpoint."""
    from trainer.__main__ import main
    from trainer.distill.fidelity import block_correlations, fidelity, unit_correlation

    root = Path(distilled).parent.parent
    x = np.random.default_rng(0).standard_normal((50, 3))
    assert unit_correlation(x, 2 * x + 1) == pytest.approx(1.0) and unit_correlation(x, -x) == pytest.approx(-1.0)
    assert main(["fidelity", "--checkpoint", str(distilled), "--data", str(labelled), "--teacher", str(teacher),
                 "--targets", str(root / "targets"), "--cache", str(root / "cache")]) == 0
    result = json.loads((Path(distilled).parent / "fidelity.json").read_text())
    assert result["labelled_windows"] == 36
    for key in ("labelled_embedding_correlation", "labelled_tag_correlation"):
        assert -1.0 <= result[key] <= 1.0
    # The tiny corpus holds out one validation window: no correlation is defined there, and none is made up.
    assert result["corpus_valid_windows"] == 1 and result["corpus_embedding_correlation"] is None
    assert unit_correlation(x[:1], x[:1]) is None and unit_correlation(np.ones((5, 2)), x[:5, :2]) is None
    # Each teacher's block of units is correlated on its own: a second teacher's thousands of map units
    # would otherwise swamp the first's embedding in one mean.
    y = np.concatenate([x[:, :1], -x[:, 1:]], axis=1)  # the first unit copied, the other two reversed
    assert block_correlations(x, y, [1, 2]) == [pytest.approx(1.0), pytest.approx(-1.0)]
    assert result["per_teacher"][0]["teacher"] == Path(teacher).name
    assert result["per_teacher"][0]["labelled_embedding_correlation"] == result["labelled_embedding_correlation"]
    # Teachers other than the distillation's, or targets of fewer teachers, are refused with the reason.
    with pytest.raises(ValueError, match="learnt 200 teacher embedding units, the teachers .* give 400"):
        fidelity(distilled, str(labelled), [teacher, teacher], cache=str(root / "cache"), say=lambda *_: None)
    with pytest.raises(ValueError, match="targets of 400 embedding units, the teachers .* give 200"):
        fidelity(distilled, str(labelled), teacher, cache=str(root / "cache"), say=lambda *_: None,
                 targets=[root / "targets", root / "targets"])


def test_targets_refuse_a_window_step_that_is_not_positive(distilled, teacher, tmp_path):
    """--hop-seconds of zero or below is refused before a targets folder is made."""
    from trainer.distill.targets import prepare_targets

    manifest = Path(distilled).parent.parent / "out" / "manifest.csv"
    for hop in (0.0, -1.5, 0.00001):
        with pytest.raises(ValueError, match="--hop-seconds must be positive"):
            prepare_targets(manifest, teacher, tmp_path / "targets", cache=tmp_path / "cache", hop_seconds=hop,
                            say=lambda *_: None)
    assert not (tmp_path / "targets").exists()


def test_targets_resume_past_a_write_cut_short(distilled, teacher, tmp_path):
    """A half-written shard left by an interrupted teach run neither stops the resume nor counts as a shard."""
    import shutil

    from trainer.distill.targets import load_targets, prepare_targets

    root = Path(distilled).parent.parent
    targets = tmp_path / "targets"
    shutil.copytree(root / "targets", targets)
    shards = sorted(targets.glob("*.npz"))
    (targets / shards[0].name.replace(".npz", ".tmp.npz")).write_bytes(b"PK\x03\x04 cut short")
    shards[0].unlink()
    prepare_targets(root / "out" / "manifest.csv", teacher, targets, cache=root / "cache", say=lambda *_: None)
    assert shards[0].is_file()
    assert len(load_targets(targets)["tags"]) == len(load_targets(root / "targets")["tags"])


def test_targets_of_another_corpus_are_refused(distilled, teacher, tmp_path):
    """A second targets folder missing shards, or with other windows, is named rather than misaligned."""
    import shutil

    from trainer.distill.targets import load_targets

    first = Path(distilled).parent.parent / "targets"
    partial = tmp_path / "partial"
    shutil.copytree(first, partial)
    shards = sorted(partial.glob("*.npz"))
    data = dict(np.load(shards[1]))
    np.savez(shards[1], **{k: v[:1] if k in ("tags", "embedding") else v for k, v in data.items()})
    with pytest.raises(ValueError, match=shards[1].name):
        load_targets([first, partial])
    shards[0].unlink()
    with pytest.raises(FileNotFoundError, match="partial"):
        load_targets([first, partial])
    older = tmp_path / "older"  # shards written before they recorded their teacher
    older.mkdir()
    for shard in sorted(first.glob("*.npz")):
        np.savez(older / shard.name, **{k: v for k, v in np.load(shard).items() if k != "teacher"})
    assert list(load_targets([first, older])["teachers"]) == ["musicnn-like.onnx", ""]
    grown = sorted(older.glob("*.npz"))  # a folder of old shards grown with new ones (a larger corpus) keeps the name
    np.savez(grown[0], **dict(np.load(first / grown[0].name)))
    assert list(load_targets(older)["teachers"]) == ["musicnn-like.onnx"]
    np.savez(grown[1], **{**dict(np.load(first / grown[1].name)), "teacher": "other.onnx"})
    with pytest.raises(ValueError, match="several teachers"):
        load_targets(older)


def test_crossval_scores_every_clip_once_by_a_model_that_never_saw_it(distilled, labelled, teacher, tmp_path):
    from trainer.distill.crossval import crossval

    cache = tmp_path / "cache"
    for method in ("probe", "features", "finetune"):
        figures = crossval(method, str(labelled), tmp_path / "cv", checkpoint=distilled, teacher=teacher, folds=2,
                           cache=str(cache), finetune_epochs=1, say=lambda *_: None)
        assert figures["tracks"] == 18 and figures["split"] == "2-fold artist-grouped cross-validation"
        with open(tmp_path / "cv" / method / "per_track.csv") as fh:
            rows = list(csv.DictReader(fh))
        by_artist: dict[str, set] = {}
        for r in rows:
            by_artist.setdefault(Path(r["path"]).parent.name + str(int(Path(r["path"]).stem.split(".")[1]) // 3), set()).add(r["fold"])
        assert all(len(f) == 1 for f in by_artist.values()), "an artist's clips were scored in different folds"
        assert (tmp_path / "cv" / method / "confusion.png").is_file()


def test_finetune_seed_changes_the_run_not_the_folds(distilled, labelled, teacher, tmp_path):
    from trainer.distill.crossval import crossval

    reports = {}
    for seed in (0, 1):
        reports[seed] = crossval("finetune", str(labelled), tmp_path / f"cv{seed}", checkpoint=distilled, teacher=teacher,
                                 folds=2, cache=str(tmp_path / "cache"), finetune_epochs=1, finetune_seed=seed,
                                 say=lambda *_: None)
        assert reports[seed]["finetune_seed"] == seed
    rows = {}
    for seed in (0, 1):
        with open(tmp_path / f"cv{seed}" / "finetune" / "per_track.csv") as fh:
            rows[seed] = list(csv.DictReader(fh))
    assert [r["fold"] for r in rows[0]] == [r["fold"] for r in rows[1]], "the seed must not move clips between folds"
    assert [r["confidence"] for r in rows[0]] != [r["confidence"] for r in rows[1]], "another seed must give another run"

    both = crossval("finetune", str(labelled), tmp_path / "cv01", checkpoint=distilled, teacher=teacher, folds=2,
                    cache=str(tmp_path / "cache"), finetune_epochs=1, finetune_seed=[0, 1], say=lambda *_: None)
    assert both["finetune_seeds"] == [0, 1] and both["fold_seed"] == 0
    for seed in (0, 1):  # each run as it is alone, and its own report beside the mean
        run = json.loads((tmp_path / "cv01" / f"finetune-seed{seed}" / "report.json").read_text())
        assert run["accuracy"] == reports[seed]["accuracy"] == both["accuracy_per_seed"][seed]
    assert both["accuracy"] == pytest.approx((reports[0]["accuracy"] + reports[1]["accuracy"]) / 2)
    assert np.sum(both["confusion_matrix"]) == 2 * 18, "each clip counts once per run"
    assert json.loads((tmp_path / "cv01" / "finetune" / "report.json").read_text())["accuracy"] == both["accuracy"]

    from trainer.checkpoint import load_checkpoint, model_from_checkpoint
    from trainer.export import model_metadata

    state = load_checkpoint(distilled)
    _, cfg, labels = model_from_checkpoint(state)
    carried = json.loads(model_metadata(state, cfg, labels, both)["test_metrics"])
    assert carried["accuracy"] == both["accuracy"] and carried["accuracy_per_seed"] == both["accuracy_per_seed"]


def test_fold_draws_average_the_probe_and_score_the_teacher_alike(distilled, labelled, teacher, tmp_path):
    from trainer.__main__ import main
    from trainer.distill.crossval import crossval, load_labelled
    from trainer.distill.folds import grouped_folds

    cache = str(Path(distilled).parent.parent / "cache")
    data = load_labelled(str(labelled), cache, 16000, say=lambda *_: None)
    first = grouped_folds(data.y, data.groups, 2, 0)
    draws = [0] + [s for s in range(1, 20) if (grouped_folds(data.y, data.groups, 2, s) != first).any()][:1]
    assert len(draws) == 2, "two draws that put clips in different folds"
    alone = {s: crossval("teacher", str(labelled), tmp_path / f"cv{s}", teacher=teacher, folds=2, fold_seed=s, cache=cache,
                         say=lambda *_: None) for s in draws}
    assert alone[draws[1]]["fold_seed"] == draws[1] and alone[0]["teacher"] == [Path(teacher).name]
    out = tmp_path / "cv"
    assert main(["crossval", "teacher", "--data", str(labelled), "--teacher", str(teacher), "--folds", "2", "--cache", cache,
                 "--out", str(out), "--fold-seed", *map(str, draws)]) == 0
    mean = json.loads((out / "teacher" / "report.json").read_text())
    assert mean["fold_seeds"] == draws and "mean of 2 draws" in mean["split"]
    assert mean["accuracy_per_fold_seed"] == [alone[s]["accuracy"] for s in draws]
    assert mean["accuracy"] == pytest.approx(np.mean(mean["accuracy_per_fold_seed"]))
    folds = {}
    for s in draws:  # each draw's own report beside the mean, its clips in that draw's folds
        with open(out / f"teacher-folds{s}" / "per_track.csv") as fh:
            folds[s] = [r["fold"] for r in csv.DictReader(fh)]
        assert json.loads((out / f"teacher-folds{s}" / "report.json").read_text())["accuracy"] == alone[s]["accuracy"]
    assert folds[draws[0]] != folds[draws[1]]
    probe = crossval("probe", str(labelled), tmp_path / "cvp", checkpoint=distilled, folds=2, fold_seed=draws, cache=cache,
                     say=lambda *_: None)
    assert probe["fold_seeds"] == draws and probe["checkpoint"] == str(distilled) and len(probe["accuracy_per_fold_seed"]) == 2
    with pytest.raises(ValueError, match="several fold draws are for"):
        crossval("finetune", str(labelled), tmp_path / "cvf", checkpoint=distilled, teacher=teacher, folds=2, fold_seed=draws,
                 cache=cache, say=lambda *_: None)
    with pytest.raises(ValueError, match="--teacher"):
        crossval("teacher", str(labelled), tmp_path / "cvt", folds=2, cache=cache, say=lambda *_: None)


def test_scratch_baseline_trains_per_fold(labelled, tmp_path):
    from trainer.distill.crossval import crossval

    scratch = dict(model="ffnn", window_seconds=1.0, epochs=2, batch_size=8, windows_per_track=4, workers=1,
                   augment="gain")
    figures = crossval("scratch", str(labelled), tmp_path / "cv", folds=2, cache=str(tmp_path / "cache"),
                       scratch=scratch, say=lambda *_: None)
    assert figures["tracks"] == 18 and 0.0 <= figures["accuracy"] <= 1.0


def test_fit_head_exports_a_contract_model_the_app_loads(distilled, labelled, teacher, tmp_path):
    from desktop.core.model import GenreModel
    from trainer.distill.crossval import crossval, fit_genre_model
    from trainer.export import export

    crossval("probe", str(labelled), tmp_path / "cv", checkpoint=distilled, folds=2, cache=str(tmp_path / "cache"),
             say=lambda *_: None)
    ckpt = fit_genre_model(distilled, str(labelled), tmp_path / "final", tmp_path / "cv" / "probe" / "report.json",
                           cache=str(tmp_path / "cache"), dataset_name="synthetic", teacher=teacher, finetune_epochs=1,
                           say=lambda *_: None)
    onnx_path = export(ckpt, tmp_path / "final" / "model.onnx", say=lambda *_: None)
    model = GenreModel(onnx_path, device="cpu")
    assert model.info.labels == ("beats", "noise", "tones") and model.info.window_samples == 48000
    probs, emb = model.predict(np.zeros((2, 48000), np.float32))
    assert probs.shape == (2, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    meta = model.session.get_modelmeta().custom_metadata_map
    assert meta["split"] == "2-fold artist-grouped cross-validation" and json.loads(meta["test_metrics"])["tracks"] == 18


def test_teacher_without_an_embedding_layer_is_named(tmp_path):
    from trainer.distill.teacher import Teacher, TeacherError

    path = make_teacher(tmp_path / "no-embedding.onnx", with_embedding=False)
    with pytest.raises(TeacherError, match="no-embedding.onnx"):
        Teacher(path)
    (tmp_path / "garbage.onnx").write_bytes(b"nope")
    with pytest.raises(TeacherError, match="garbage.onnx"):
        Teacher(tmp_path / "garbage.onnx")


def test_corpus_errors_name_the_source(tmp_path):
    from trainer.distill.corpus import CorpusError, build_corpus, read_corpus

    with pytest.raises(CorpusError, match="no-such-package"):
        build_corpus(tmp_path, packages=["no-such-package"], say=lambda *_: None)
    with pytest.raises(CorpusError, match="not a folder"):
        build_corpus(tmp_path, packages=[], folders=[tmp_path / "missing"], say=lambda *_: None)
    with pytest.raises(CorpusError, match="manifest.csv"):
        read_corpus(tmp_path / "elsewhere" / "manifest.csv")


def _deb(root: Path, files: dict[str, np.ndarray | bytes]) -> Path:
    """A minimal .deb holding the given files (audio arrays become 8 kHz WAV)."""
    import subprocess

    import soundfile

    tree = root / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text("Package: fake-music\nVersion: 1\nArchitecture: all\n"
                                              "Maintainer: t <t@t>\nDescription: test\n")
    for rel, content in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (tree / rel).write_bytes(content)
        else:
            soundfile.write(tree / rel, content, 8000)
    deb = root / "fake-music_1_all.deb"
    subprocess.run(["dpkg-deb", "--build", str(tree), str(deb)], check=True, capture_output=True)
    return deb


def test_package_music_pattern_and_stems(tmp_path):
    import soundfile

    from trainer.distill.corpus import CorpusError, PackageMusic, extract_package_music

    tone = 0.6 * np.ones(8000, dtype=np.float32)
    deb = _deb(tmp_path, {
        "usr/share/game/faction/music/theme.wav": tone,
        "usr/share/game/faction/sounds/click.wav": tone,
        "usr/share/game/songs/rock/song.wav": tone,
        "usr/share/game/songs/rock/guitar.wav": tone[:4000],
        "usr/share/game/songs/rock/notes.txt": b"not audio",
        "usr/share/game/songs/solo.v2/song.wav": 0.1 * tone,
    })
    picked = extract_package_music(deb, PackageMusic("usr/share/game", pattern="music/*"), tmp_path / "a")
    assert [p.relative_to(tmp_path / "a").as_posix() for p in picked] == ["faction/music/theme.wav"]

    mixed = extract_package_music(deb, PackageMusic("usr/share/game/songs", stems=("song.wav", "guitar.wav")), tmp_path / "b")
    assert [p.name for p in mixed] == ["rock.flac", "solo.v2.flac"]  # one file per song, a dotted name kept whole
    rock, rate = soundfile.read(mixed[0], dtype="float32")
    assert rate == 8000 and len(rock) == 8000, "the mix is as long as the longest stem"
    assert np.abs(rock).max() <= 0.99 + 1e-4, "1.2 summed is scaled below clipping"
    assert rock[0] == pytest.approx(2 * rock[-1], abs=1e-3), "both stems at the start, only the song at the end"
    solo, _ = soundfile.read(mixed[1], dtype="float32")
    assert solo[0] == pytest.approx(0.06, abs=1e-3), "a quiet song is not made louder"

    from trainer.distill.corpus import PACKAGES, default_packages

    # The shipped model's card names ten packages; the wider ones are fetched only when asked for.
    assert len(default_packages()) == 10 and "fretsonfire-songs-muldjord" in set(PACKAGES) - set(default_packages())

    broken = _deb(tmp_path / "broken", {"usr/share/game/songs/bad/song.ogg": b"garbage, not vorbis"})
    with pytest.raises(CorpusError, match="song.ogg"):
        extract_package_music(broken, PackageMusic("usr/share/game/songs", stems=("song.ogg",)), tmp_path / "c")


def test_corpus_windows_drop_silence():
    from trainer.distill.targets import corpus_windows

    audio = np.concatenate([np.zeros(48000), 0.1 * np.ones(48000), np.zeros(1000)]).astype(np.float32)
    windows = corpus_windows(audio, 48000)
    assert windows.shape == (1, 48000) and windows[0, 0] == pytest.approx(0.1)


def test_corpus_windows_overlap_when_asked():
    from trainer.distill.targets import corpus_windows

    audio = np.random.default_rng(0).normal(0, 0.1, 4 * 48000 + 100).astype(np.float32)
    plain = corpus_windows(audio, 48000)
    half = corpus_windows(audio, 48000, hop=24000)
    assert plain.shape == (4, 48000) and half.shape == (7, 48000)
    np.testing.assert_array_equal(half[::2], plain)  # every other overlapping window is a plain one
    np.testing.assert_array_equal(half[1], audio[24000:72000])
    assert corpus_windows(audio[:1000], 48000).shape == (0, 48000)
    with pytest.raises(ValueError, match="positive"):
        corpus_windows(audio, 48000, hop=-1)


def test_targets_serve_a_student_with_a_longer_hop_exactly():
    import torch

    from trainer.distill.targets import TARGETS_FRONTEND, mels_at_hop
    from trainer.frontend import FrontEndConfig, MelFrontEnd

    waveform = torch.from_numpy(np.random.default_rng(0).normal(0, 0.1, (2, 48000)).astype(np.float32))
    stored = MelFrontEnd(TARGETS_FRONTEND)(waveform).numpy()  # [2, 96, 188]
    coarse = MelFrontEnd(FrontEndConfig(hop_length=512))(waveform).numpy()  # [2, 96, 94]
    np.testing.assert_allclose(mels_at_hop(stored, 512), coarse, atol=1e-4)
    assert mels_at_hop(stored, 256) is stored
    with pytest.raises(ValueError, match="not a multiple"):
        mels_at_hop(stored, 384)


def test_mixed_windows_mix_two_sources_at_random_speeds_and_levels():
    """Each window holds both tracks (of different sources), sped up or slowed within range, never clipped; seeded."""
    from trainer.distill.mixing import LEVEL_DB, SPEED_RANGE, mixed_windows

    rate, length = 16000, 16000
    t = np.arange(rate * 4) / rate
    tracks = [np.sin(2 * np.pi * 500 * t).astype(np.float32), 0.01 * np.sin(2 * np.pi * 2000 * t).astype(np.float32)]
    windows = mixed_windows(tracks, ["game-a", "game-b"], 16, length, seed=[0, 1])  # [16, length]
    np.testing.assert_array_equal(windows, mixed_windows(tracks, ["game-a", "game-b"], 16, length, seed=[0, 1]))
    assert not np.allclose(windows, mixed_windows(tracks, ["game-a", "game-b"], 16, length, seed=[0, 2]))
    spectrum = np.abs(np.fft.rfft(windows, axis=1))  # [16, length / 2 + 1], 1 Hz per bin
    low = spectrum[:, int(500 * SPEED_RANGE[0]) : int(500 * SPEED_RANGE[1]) + 2].max(axis=1)
    high = spectrum[:, int(2000 * SPEED_RANGE[0]) : int(2000 * SPEED_RANGE[1]) + 2].max(axis=1)
    # the quiet track is brought to the same level first: both are clearly present in every mix
    assert (low > 0.05 * spectrum.max(axis=1)).all() and (high > 0.05 * spectrum.max(axis=1)).all()
    peaks = spectrum[:, 300:].argmax(axis=1) + 300  # the dominant tone moved by the window's speed
    assert len(set(peaks)) > 4, "speeds must vary between windows"
    assert np.abs(windows).max() <= 1.0
    level = 20 * np.log10(np.sqrt((windows**2).mean(axis=1)))
    assert (level > LEVEL_DB[0] - 0.5).all() and (level < LEVEL_DB[1] + 0.5).all()


def test_mixed_windows_train_a_student_beside_the_corpus(distilled, teacher, tmp_path, monkeypatch):
    """teach --mixed: shards resume and redraw the same windows; distill --more-windows trains on them, validates on the corpus."""
    from trainer.distill import mixing
    from trainer.distill.distill import DistillConfig, distill
    from trainer.distill.targets import load_targets, prepare_targets

    root = Path(distilled).parent.parent
    manifest = root / "out" / "manifest.csv"
    monkeypatch.setattr(mixing, "SHARD_WINDOWS", 8)
    mixed = mixing.prepare_mixed_targets(manifest, teacher, tmp_path / "mixed", 20, cache=root / "cache", say=lambda *_: None)
    shards = sorted(mixed.glob("mix-*.npz"))
    assert [len(np.load(s)["tags"]) for s in shards] == [8, 8, 4]
    first = dict(np.load(shards[1]))
    shards[1].unlink()
    mtime = shards[0].stat().st_mtime_ns
    mixing.prepare_mixed_targets(manifest, teacher, mixed, 20, cache=root / "cache", say=lambda *_: None)
    assert shards[0].stat().st_mtime_ns == mtime, "a second run must resume, not redo"
    np.testing.assert_array_equal(np.load(shards[1])["mel"], first["mel"])  # the shard redrawn is the one lost
    corpus = load_targets(root / "targets")
    assert not np.allclose(load_targets(mixed)["mel"][:4].astype(np.float32), corpus["mel"][:4].astype(np.float32))

    said = []
    cfg = DistillConfig(targets=str(root / "targets"), more_windows=[str(mixed)], out=str(tmp_path / "run"), width=0.25,
                        hop_length=512, epochs=1, batch_size=8, device="cpu")
    distill(cfg, say=said.append)
    n = len(corpus["tags"])
    valid = max(1, round(n * cfg.valid_fraction))
    assert f"{n} windows (+20 more)" in said[0] and f"{n - valid + 20} train, {valid} valid" in said[0]

    second = make_teacher(tmp_path / "second.onnx", seed=1)  # windows by another teacher do not join these targets
    other = prepare_targets(manifest, second, tmp_path / "other", cache=root / "cache", say=lambda *_: None)
    with pytest.raises(ValueError, match="same teachers, same order"):
        distill(DistillConfig(targets=str(root / "targets"), more_windows=[str(other)], out=str(tmp_path / "bad"),
                              device="cpu"), say=lambda *_: None)
    with pytest.raises(ValueError, match="holds targets of musicnn-like.onnx"):
        mixing.prepare_mixed_targets(manifest, second, mixed, 20, cache=root / "cache", say=lambda *_: None)


def test_mixed_windows_need_two_readable_tracks(distilled, teacher, tmp_path):
    """A corpus of one track, or a count below one, is refused with the manifest or the option named."""
    from trainer.distill.mixing import MixError, prepare_mixed_targets

    root = Path(distilled).parent.parent
    lines = (root / "out" / "manifest.csv").read_text().splitlines()
    single = tmp_path / "single.csv"
    single.write_text("\n".join(lines[:2]) + "\n")
    with pytest.raises(MixError, match="single.csv: 1 readable track"):
        prepare_mixed_targets(single, teacher, tmp_path / "mixed", 4, cache=root / "cache", say=lambda *_: None)
    with pytest.raises(ValueError, match="--mixed must be a positive"):
        prepare_mixed_targets(root / "out" / "manifest.csv", teacher, tmp_path / "mixed", 0, cache=root / "cache")


def test_an_inner_teacher_layer_teaches_beside_the_embedding(distilled, labelled, teacher, tmp_path):
    """FILE#pooled-maps: targets of the teacher's pooled inner maps, named apart, learnt side by side and fine-tuned with."""
    from trainer.distill.crossval import crossval
    from trainer.distill.distill import DistillConfig, distill
    from trainer.distill.targets import load_targets, prepare_targets
    from trainer.distill.teacher import Teacher, TeacherError

    root = Path(distilled).parent.parent
    inner = prepare_targets(root / "out" / "manifest.csv", f"{teacher}#pooled-maps", tmp_path / "inner", cache=root / "cache",
                            say=lambda *_: None)
    both = load_targets([root / "targets", inner])
    assert list(both["teachers"]) == ["musicnn-like.onnx", "musicnn-like.onnx#pooled-maps"]
    assert both["embedding"].shape[1] == 200 + 96  # the test teacher's pooled maps, [N, 96, 1], flattened
    assert list(both["embedding_widths"]) == [200, 96]
    with pytest.raises(TeacherError, match="unknown teacher layer 'conv9'"):
        Teacher(f"{teacher}#conv9")
    with pytest.raises(ValueError, match="holds targets of musicnn-like.onnx#pooled-maps"):
        prepare_targets(root / "out" / "manifest.csv", teacher, inner, cache=root / "cache", say=lambda *_: None)

    cfg = DistillConfig(targets=[str(root / "targets"), str(inner)], out=str(tmp_path / "run"), width=0.25, hop_length=512,
                        epochs=1, batch_size=8, device="cpu")
    student = distill(cfg, say=lambda *_: None)
    figures = crossval("finetune", str(labelled), tmp_path / "cv", checkpoint=student, folds=2, cache=str(root / "cache"),
                       teacher=[teacher, f"{teacher}#pooled-maps"], finetune_epochs=1, say=lambda *_: None)
    assert figures["tracks"] == 18
    with pytest.raises(ValueError, match="same order"):  # the plain embedding is not the inner layer it learnt
        crossval("finetune", str(labelled), tmp_path / "cv", checkpoint=student, folds=2, cache=str(root / "cache"),
                 teacher=[teacher, teacher], say=lambda *_: None)


def test_relation_term_compares_batch_geometry_not_units():
    """The relation term is blind to a rotation, scale and shift of the features and not to their arrangement;
    it reads the first teacher's columns only, and its gradient reaches the student's own embedding."""
    import torch

    from trainer.distill.distill import DistillLoss, batch_similarities, distill_loss, relation_loss

    gen = torch.Generator().manual_seed(0)
    teacher = torch.randn(16, 20, generator=gen)  # [B, E]
    rotation, _ = torch.linalg.qr(torch.randn(20, 20, generator=gen))  # [E, E] orthogonal
    similar = 3 * teacher @ rotation + 5  # [B, E]: the same windows arranged alike
    sims = batch_similarities(teacher)  # [B, B]
    assert sims.shape == (16, 16) and torch.allclose(sims.diagonal(), torch.ones(16), atol=1e-5)
    assert relation_loss(similar, teacher) < 1e-10
    assert relation_loss(torch.randn(16, 20, generator=gen), teacher) > 0.02

    out, tags = torch.randn(16, 296 + 50, generator=gen), torch.rand(16, 50, generator=gen)  # [B, E + K], [B, K]
    emb = torch.cat([teacher, torch.randn(16, 276, generator=gen)], dim=1)  # [B, 296]: first teacher 20 units, then more
    own = torch.randn(16, 32, generator=gen, requires_grad=True)  # [B, D]
    plain = DistillLoss(tag_weight=0.5)
    assert torch.equal(plain(out, own, emb, tags), distill_loss(out, emb, tags, 0.5)), "weight 0 leaves the term out"
    related = DistillLoss(tag_weight=0.5, relation_weight=2.0, relation_units=20)
    other = emb.clone()
    other[:, 20:] = torch.randn(16, 276, generator=gen)  # only the columns past the first teacher's change
    extra = related(out, own, emb, tags) - plain(out, own, emb, tags)
    assert torch.allclose(extra, 2.0 * relation_loss(own, teacher))
    assert torch.allclose(related(out, own, other, tags) - plain(out, own, other, tags), extra)
    extra.backward()
    assert own.grad is not None and own.grad.abs().sum() > 0


def test_relation_weight_enters_training_and_validation(distilled, tmp_path):
    """distill --relation-weight: the term is in the training loss and in the validation loss the run records
    (recomputed here from the checkpoint), over the first teacher's columns; the setting is kept with the run."""
    import torch

    from trainer.checkpoint import load_checkpoint, model_from_checkpoint
    from trainer.distill.distill import (
        DistillConfig,
        DistillLoss,
        distill,
        split_windows,
        training_windows,
        validation_loss,
        window_batches,
    )

    root = Path(distilled).parent.parent
    history = {}
    for weight in (0.0, 20.0):
        cfg = DistillConfig(targets=str(root / "targets"), out=str(tmp_path / f"run{weight:g}"), width=0.25, hop_length=512,
                            epochs=1, batch_size=8, valid_fraction=0.5, relation_weight=weight, device="cpu")
        best = distill(cfg, say=lambda *_: None)
        history[weight] = load_checkpoint(best)["history"][0]
        assert json.loads((tmp_path / f"run{weight:g}" / "distill_config.json").read_text())["relation_weight"] == weight
    # Same seed, same first batches: the weighted run's loss carries 20x a similarity mismatch on top.
    assert history[20.0]["train_loss"] > history[0.0]["train_loss"] + 1.0, history

    net, _, _ = model_from_checkpoint(load_checkpoint(best))  # the weighted run
    mel, emb, tags, data = training_windows([root / "targets"], [], 512)
    stats = np.load(tmp_path / "run20" / "teacher_stats.npz")
    batch = window_batches(mel, ((emb - stats["mean"]) / stats["std"]).astype(np.float32), tags, torch.device("cpu"))
    _, valid_idx = split_windows(data["corpus_windows"], cfg.valid_fraction, cfg.seed)
    weighted = validation_loss(net, batch, valid_idx, 8, DistillLoss(1.0, 20.0, 200))
    plain = validation_loss(net, batch, valid_idx, 8, DistillLoss(1.0))
    assert weighted == pytest.approx(history[20.0]["val_loss"], rel=1e-5)
    assert weighted > plain
    with pytest.raises(ValueError, match="--relation-weight must be 0 or more, got -1"):
        distill(DistillConfig(targets=str(root / "targets"), out=str(tmp_path / "bad"), epochs=1, relation_weight=-1.0,
                              device="cpu"), say=lambda *_: None)
    assert not (tmp_path / "bad").exists(), "refused before anything is written"


def test_held_out_genres_script_scores_unseen_genres_only(distilled, labelled, teacher, tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("held_out_genres", Path(__file__).parents[1] / "scripts" / "held_out_genres.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--data", str(labelled), "--cache", str(tmp_path / "cache"), "--run", f"tiny={distilled}:{teacher}",
                        "--splits", "1", "--folds", "2", "--epochs", "1", "--precision", "fp32"]) == 0
    row = json.loads(next(line for line in capsys.readouterr().out.splitlines() if line.startswith("{")))
    assert len(row["unseen"]) == 2, "three genres: one seen, two unseen"
    assert set(row) == {"split", "unseen", "tiny frozen", "teacher frozen", "tiny fine-tuned on the seen genres"}
    assert all(0.0 <= row[k] <= 1.0 for k in row if k not in ("split", "unseen"))
    with pytest.raises(SystemExit, match="NAME=CHECKPOINT:TEACHER"):
        script.main(["--data", str(labelled), "--cache", str(tmp_path / "cache"), "--run", str(distilled)])


def test_clip_variants_vary_speed_and_level_and_keep_the_clip_on_top():
    """Seeded; every window at a level in range, never clipped; the clip's tone leads where a corpus track lies under it."""
    from trainer.distill.clips import ClipError, clip_variants
    from trainer.distill.mixing import LEVEL_DB, SPEED_RANGE

    rate = 16000
    t = np.arange(rate * 4) / rate
    clip = np.sin(2 * np.pi * 500 * t).astype(np.float32)
    under = 0.5 * np.sin(2 * np.pi * 3000 * t).astype(np.float32)
    windows = clip_variants(clip, [under], 24, rate, seed=[0, 3])  # [24, rate]
    np.testing.assert_array_equal(windows, clip_variants(clip, [under], 24, rate, seed=[0, 3]))
    assert not np.allclose(windows, clip_variants(clip, [under], 24, rate, seed=[0, 4]))
    spectrum = np.abs(np.fft.rfft(windows, axis=1))  # [24, rate / 2 + 1], 1 Hz per bin
    tone = spectrum[:, int(500 * SPEED_RANGE[0]) : int(500 * SPEED_RANGE[1]) + 2].max(axis=1)
    other = spectrum[:, int(3000 * SPEED_RANGE[0]) : int(3000 * SPEED_RANGE[1]) + 2].max(axis=1)
    assert (tone > other).all(), "the clip must stay what the teacher hears most"
    assert 4 < (other > 0.05 * tone).sum() < 24, "about half the windows carry an underlay"
    assert len(set(spectrum[:, 300:1000].argmax(axis=1))) > 4, "speeds must vary between windows"
    level = 20 * np.log10(np.sqrt((windows**2).mean(axis=1)))
    assert np.abs(windows).max() <= 1.0 and (level > LEVEL_DB[0] - 0.5).all() and (level < LEVEL_DB[1] + 0.5).all()
    assert clip_variants(clip, [], 3, rate, seed=0).shape == (3, rate)  # no corpus: the clip alone
    with pytest.raises(ClipError, match="no audible 1 s window"):
        clip_variants(np.zeros(rate * 2, np.float32), [], 1, rate, seed=0)


def test_adapt_learns_the_clips_audio_and_leaves_a_fold_out(distilled, labelled, teacher, tmp_path):
    """teach --clips writes one resumable shard per clip; adapt --hold-out-fold never trains on crossval's fold;
    crossval reads one adapted network per fold through {fold}."""
    import torch

    from trainer.checkpoint import load_checkpoint
    from trainer.distill.adapt import AdaptConfig, adapt
    from trainer.distill.clips import CLIP_SOURCE, prepare_clip_targets
    from trainer.distill.crossval import crossval, load_labelled
    from trainer.distill.fidelity import fidelity

    root = Path(distilled).parent.parent
    cache = str(root / "cache")
    clips = prepare_clip_targets(labelled, teacher, tmp_path / "clips", 4, corpus=root / "out" / "manifest.csv", cache=cache,
                                 say=lambda *_: None)
    shards = sorted(clips.glob("*.npz"))
    assert len(shards) == 18 and all(len(np.load(s)["tags"]) == 4 for s in shards)
    assert {str(np.load(s)["source"]) for s in shards} == {CLIP_SOURCE}
    mtimes = [s.stat().st_mtime_ns for s in shards]
    prepare_clip_targets(labelled, teacher, clips, 4, corpus=root / "out" / "manifest.csv", cache=cache, say=lambda *_: None)
    assert [s.stat().st_mtime_ns for s in shards] == mtimes, "a second run must resume, not redo"

    data = load_labelled(str(labelled), cache, 16000, say=lambda *_: None)
    fold_of = grouped_folds(data.y, data.groups, 2, 0)
    before = load_checkpoint(distilled)["model_state"]
    for fold in (1, 2):
        cfg = AdaptConfig(checkpoint=str(distilled), targets=[str(root / "targets")], clips=[str(clips)], data=str(labelled),
                          cache=cache, hold_out_fold=fold, folds=2, out=str(tmp_path / f"fold{fold}"), epochs=1,
                          corpus_per_epoch=8, batch_size=8, device="cpu", seed=fold)
        adapted = adapt(cfg, say=lambda *_: None)
        record = json.loads((tmp_path / f"fold{fold}" / "adapt.json").read_text())
        held = {str(r.path) for r, f in zip(data.records, fold_of, strict=True) if f == fold - 1}
        assert set(record["clips_left_out"]) == held and not held & set(record["clips_learnt"])
        assert len(record["clips_learnt"]) + len(held) == 18
        after = load_checkpoint(adapted)["model_state"]
        assert any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point())
        assert (tmp_path / f"fold{fold}" / "teacher_stats.npz").is_file()
        assert record["corpus_split"] == {"valid_fraction": 0.05, "seed": 0}, "the distillation's split, not a new one"
    # fidelity finds an adapted student's corpus validation windows through adapt's record (its distillation's split)
    result = fidelity(adapted, str(labelled), teacher, cache=cache, targets=root / "targets", say=lambda *_: None)
    assert result["corpus_valid_windows"] == 1 and result["labelled_windows"] == 36
    bare = tmp_path / "bare"  # a checkpoint with its teacher statistics but no record of its run
    bare.mkdir()
    shutil.copy(adapted, bare / "adapted.pt")
    shutil.copy(Path(adapted).parent / "teacher_stats.npz", bare)
    with pytest.raises(FileNotFoundError, match="bare: neither distill_config.json nor an adapt.json"):
        fidelity(bare / "adapted.pt", str(labelled), teacher, cache=cache, targets=root / "targets", say=lambda *_: None)
    assert fidelity(bare / "adapted.pt", str(labelled), teacher, cache=cache, say=lambda *_: None)["labelled_windows"] == 36
    template = str(tmp_path / "fold{fold}" / "adapted.pt")
    for method in ("probe", "finetune"):
        figures = crossval(method, str(labelled), tmp_path / "cv", checkpoint=template, teacher=teacher, folds=2, cache=cache,
                           finetune_epochs=1, say=lambda *_: None)
        assert figures["tracks"] == 18 and figures["checkpoint"] == template
    with pytest.raises(FileNotFoundError, match="fold3"):
        crossval("probe", str(labelled), tmp_path / "cv", checkpoint=template, folds=3, cache=cache, say=lambda *_: None)
    with pytest.raises(ValueError, match="folds of fold seed 0"):  # fold N's network heard other draws' fold N
        crossval("probe", str(labelled), tmp_path / "cv", checkpoint=template, folds=2, fold_seed=1, cache=cache,
                 say=lambda *_: None)


def test_adapt_refuses_bad_settings_with_the_reason(distilled, labelled, teacher, tmp_path):
    from trainer.__main__ import main
    from trainer.distill.adapt import AdaptConfig, adapt
    from trainer.distill.clips import prepare_clip_targets

    root = Path(distilled).parent.parent
    with pytest.raises(ValueError, match="--variants must be a positive"):
        prepare_clip_targets(labelled, teacher, tmp_path / "clips", 0, cache=str(root / "cache"))
    clips = prepare_clip_targets(labelled, teacher, tmp_path / "clips", 2, cache=str(root / "cache"), say=lambda *_: None)
    base = dict(checkpoint=str(distilled), targets=[str(root / "targets")], clips=[str(clips)], cache=str(root / "cache"),
                out=str(tmp_path / "run"), epochs=1, batch_size=8, corpus_per_epoch=8, device="cpu")
    with pytest.raises(ValueError, match="--hold-out-fold needs --data"):
        adapt(AdaptConfig(**base, hold_out_fold=1), say=lambda *_: None)
    with pytest.raises(ValueError, match="between 1 and 5"):
        adapt(AdaptConfig(**base, hold_out_fold=6, data=str(labelled)), say=lambda *_: None)
    with pytest.raises(ValueError, match="no clip windows"):
        adapt(AdaptConfig(**{**base, "clips": []}), say=lambda *_: None)
    unrecorded = tmp_path / "unrecorded"  # a student whose run left no record of its corpus split
    unrecorded.mkdir()
    shutil.copy(distilled, unrecorded / "best.pt")
    with pytest.raises(FileNotFoundError, match="unrecorded: neither distill_config.json"):
        adapt(AdaptConfig(**{**base, "checkpoint": str(unrecorded / "best.pt")}), say=lambda *_: None)
    inner = tmp_path / "inner"  # two teachers' targets for a student that learnt one
    from trainer.distill.targets import prepare_targets

    prepare_targets(root / "out" / "manifest.csv", f"{teacher}#pooled-maps", inner, cache=root / "cache", say=lambda *_: None)
    inner_clips = prepare_clip_targets(labelled, f"{teacher}#pooled-maps", tmp_path / "inner-clips", 2, cache=str(root / "cache"),
                                       say=lambda *_: None)
    with pytest.raises(ValueError, match="learnt 250 teacher outputs"):
        adapt(AdaptConfig(**{**base, "targets": [str(root / "targets"), str(inner)], "clips": [str(clips), str(inner_clips)]}),
              say=lambda *_: None)
    assert main(["teach", "--corpus", str(root / "out" / "manifest.csv"), "--teacher", str(teacher), "--out",
                 str(tmp_path / "x"), "--mixed", "4", "--clips", str(labelled)]) == 2


def test_targets_travel_in_parts_to_a_lent_gpu_and_results_come_back(distilled, tmp_path):
    """scripts/lent_gpu.py: teach's shards packed into parts under a size limit and unpacked alike (the mel within
    0.27 dB, the teacher's outputs exact); a student distils from them; its kept weights come back in tars."""
    import importlib.util
    import pickle
    import tarfile

    import librosa

    from scripts.lent_gpu import collect, pack, unpack, write_librosa_stand_in
    from trainer.checkpoint import load_checkpoint
    from trainer.distill.distill import DistillConfig, distill

    targets = Path(distilled).parent.parent / "targets"
    shards = sorted(targets.glob("*.npz"))
    parts = pack(targets, tmp_path / "parts", mib=0.05)  # small parts: several of them
    assert len(parts) > 1 and all(p.stat().st_size < 0.05 * 2**20 or len(pickle.loads(p.read_bytes())) == 1 for p in parts)
    count, windows = unpack(tmp_path / "there", parts)
    assert count == len(shards) and windows == sum(len(np.load(s)["mel"]) for s in shards)
    for shard in shards:
        with np.load(shard) as before, np.load(tmp_path / "there" / shard.name) as after:
            assert sorted(before.files) == sorted(after.files) and after["mel"].dtype == np.float16
            assert np.abs(before["mel"].astype(np.float32) - after["mel"].astype(np.float32)).max() <= 0.27
            for key in set(before.files) - {"mel"}:
                assert np.array_equal(before[key], after[key]), key
    runs = tmp_path / "runs"
    distill(DistillConfig(targets=str(tmp_path / "there"), out=str(runs / "w"), width=0.25, hop_length=512, epochs=2,
                          batch_size=8, device="cpu", keep_every=1), say=lambda *_: None)
    (runs / "w.log").write_text("rc 0")
    tars = collect(runs, tmp_path / "back")
    (tmp_path / "got").mkdir()
    for tar in tars:
        with tarfile.open(tar) as t:
            t.extractall(tmp_path / "got", filter="data")
    got = tmp_path / "got"
    assert (got / "w.log").read_text() == "rc 0" and (got / "w" / "history.json").exists()
    first, last = load_checkpoint(got / "w" / "epoch-001.pt"), load_checkpoint(got / "w" / "epoch-002.pt")
    assert first["optimizer_state"] is None and last["optimizer_state"] is None
    assert next(iter(first["model_state"].values())).dtype == torch.float16  # the curve's point, halved to travel
    assert all(torch.equal(v, load_checkpoint(runs / "w" / "epoch-002.pt")["model_state"][k])
               for k, v in last["model_state"].items())  # the run's result, exact
    # The device has no librosa: a stand-in gives distill's one call librosa's own mel basis.
    package = write_librosa_stand_in(tmp_path / "stub")
    spec = importlib.util.spec_from_file_location("librosa_stand_in", package / "__init__.py")
    stand_in = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stand_in)
    kwargs = dict(sr=16000, n_fft=512, n_mels=96, fmin=0.0, fmax=None, htk=False, norm="slaney")
    assert np.array_equal(stand_in.filters.mel(**kwargs), librosa.filters.mel(**kwargs))
    with pytest.raises(NotImplementedError):
        stand_in.filters.mel(**{**kwargs, "n_mels": 128})
