"""Distillation variants: attention- and GRU-pooled and five-block CNNs, the musicnn-shaped student (learn, export,
quantize), the probe yardstick."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.conftest import train_synth
from trainer.frontend import FrontEndConfig
from trainer.models import build_model
from trainer.models.cnn import AttentionPool, CompactCNN, GRUPool
from trainer.models.musicnn_student import MusicnnStudent


def test_attention_pool_weights_frames_and_sums_to_one():
    pool = AttentionPool(4)
    x = torch.randn(2, 4, 9)  # [B, C, T]
    out = pool(x)
    assert out.shape == (2, 4)
    weights = torch.softmax(pool.score(x), dim=2)  # [B, 1, T]
    torch.testing.assert_close(weights.sum(dim=2), torch.ones(2, 1))
    # A constant sequence pools to itself whatever the weights: a weighted mean, not a sum.
    constant = torch.ones(1, 4, 9) * 3.0
    torch.testing.assert_close(pool(constant), torch.full((1, 4), 3.0))


def test_gru_pool_reads_frames_in_order():
    torch.manual_seed(0)
    pool = GRUPool(4)
    x = torch.randn(2, 4, 9)  # [B, C, T]
    assert pool(x).shape == (2, 4)
    # Unlike a mean, a recurrent summary changes when the frames come in another order.
    assert not torch.allclose(pool(x), pool(x.flip(2)), atol=1e-4)


def test_unknown_time_pooling_is_refused():
    with pytest.raises(ValueError, match="unknown time pooling 'lstm'"):
        CompactCNN(96, time_pool="lstm")


@pytest.mark.parametrize("name", ["cnn-attn", "cnn-gru"])
def test_pooled_cnns_differ_from_cnn_only_in_their_pooling(name):
    cnn = build_model("cnn", 3, FrontEndConfig(), width=0.5)
    pooled = build_model(name, 3, FrontEndConfig(), width=0.5)
    extra = {k for k in pooled.state_dict() if k not in cnn.state_dict()}
    assert extra and all(k.startswith("backbone.time_pool.") for k in extra)


def test_cnn_deep_has_a_fifth_block():
    deep = build_model("cnn-deep", 3, FrontEndConfig(), width=0.5)
    assert len(deep.backbone.blocks) == 5
    mel = torch.randn(2, 1, 96, 188)  # [B, 1, n_mels, T]: one 3 s window
    x = deep.backbone.blocks(mel)  # five halvings: 96 -> 3 bands, 188 -> 5 frames
    assert x.shape == (2, 128, 3, 5)
    assert deep.backbone(mel).shape == (2, 256)


def test_musicnn_student_has_timbral_and_temporal_filters():
    student = MusicnnStudent(96, width=0.5)
    # Timbral filters span 90% and 40% of the 48 pooled bands for 7 frames; temporal ones one band, 0.5-2 s.
    assert [tuple(b.conv.kernel_size) for b in student.timbral] == [(43, 7), (19, 7)]
    assert [tuple(b.conv.kernel_size) for b in student.temporal] == [(1, 127), (1, 63), (1, 31)]
    mel = torch.randn(2, 1, 96, 188)  # [B, 1, n_mels, T]: one 3 s window
    pooled = student.band_pool(mel)  # [B, 1, 48, T]
    for branch in (*student.timbral, *student.temporal):
        assert branch(pooled).shape == (2, branch.conv.out_channels, 188)  # every frame kept, frequency maxed out
    assert student(mel).shape == (2, 256)
    # The mid-end's later layers add their input back; the first changes the number of channels.
    assert [layer.residual for layer in student.midend] == [False, True, True]
    # Frame features keep time: a click in the second half of the window leaves the first half's unchanged.
    student.eval()
    quiet = torch.zeros(1, 1, 48, 188)
    click = quiet.clone()
    click[..., 150] = 5.0
    with torch.no_grad():
        before, after = student.timbral[0](quiet), student.timbral[0](click)
    torch.testing.assert_close(before[..., :140], after[..., :140])
    assert not torch.allclose(before[..., 145:155], after[..., 145:155])


@pytest.mark.parametrize("name", ["cnn-attn", "cnn-gru", "cnn-deep", "musicnn"])
def test_student_variant_trains_exports_and_quantizes(name, tmp_path, synth_data, synth_holdout):
    from desktop.core.model import GenreModel
    from trainer.evaluate import evaluate
    from trainer.export import export
    from trainer.quantize import quantize

    best = train_synth(tmp_path, synth_data, model=name)
    figures = evaluate(best, tmp_path / "report", data=str(synth_holdout), say=lambda *_: None)
    assert figures["accuracy"] >= 0.8, figures["confusion_matrix"]
    float_onnx = export(best, tmp_path / f"{name}.onnx", say=lambda *_: None)  # export checks onnxruntime against torch
    int8_onnx = quantize(float_onnx, tmp_path / f"{name}-int8.onnx", synth_data, cache=tmp_path / "cache",
                         say=lambda *_: None)  # refuses a result whose top genre strays
    window = np.random.default_rng(1).standard_normal((3, 16000)).astype(np.float32) * 0.1
    for path in (float_onnx, int8_onnx):
        model = GenreModel(path, device="cpu")
        probs, emb = model.predict(window)
        assert probs.shape == (3, 3) and emb.shape == (3, 256) and model.info.name == name


def test_probe_yardstick_records_a_curve(tmp_path, synth_data):
    """Every distillation epoch gets a probe accuracy in the history, and the curve is drawn."""
    import csv

    from trainer.distill.yardstick import ProbeYardstick, plot_probe_curve, probe_features

    manifest = tmp_path / "labelled.csv"
    paths = sorted(synth_data.rglob("*.wav"))
    with open(manifest, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "artist"])
        for i, p in enumerate(paths):
            w.writerow([p, p.parent.name, f"{p.parent.name}-{i % 3}"])
    yardstick = ProbeYardstick(str(manifest), str(tmp_path / "cache"), 16000, 16000, folds=3, say=lambda *_: None)
    net = build_model("cnn", 53, FrontEndConfig(), width=0.25)
    net.eval()
    assert 0.0 <= yardstick.accuracy(net) <= 1.0
    assert not net.training  # the yardstick leaves the network's mode as it found it
    net.train()
    yardstick.accuracy(net)
    assert net.training
    feats = probe_features(net, yardstick.data.audios[:2], 16000, "embedding+tags")
    plain = probe_features(net, yardstick.data.audios[:2], 16000, "embedding")
    assert feats[0].shape == (plain[0].shape[0], plain[0].shape[1] + 50)
    np.testing.assert_allclose(feats[0][:, :256], plain[0], rtol=1e-5, atol=1e-6)
    assert ((feats[0][:, 256:] >= 0) & (feats[0][:, 256:] <= 1)).all()
    copy = probe_features(net, yardstick.data.audios[:2], 16000, "teacher-embedding")
    assert copy[0].shape == (plain[0].shape[0], 3)  # 53 outputs, the last 50 of them tags
    with pytest.raises(ValueError, match="unknown probe features"):
        probe_features(net, yardstick.data.audios[:1], 16000, "logits")
    history = [{"epoch": 0, "val_loss": 1.0, "probe_accuracy": 0.4}, {"epoch": 1, "val_loss": 0.8, "probe_accuracy": 0.5}]
    png = plot_probe_curve(history, tmp_path / "curve.png", baseline=0.45, reference=0.7)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    both = plot_probe_curve({"width 0.5": history, "width 1.0": history[:1]}, tmp_path / "both.png")
    assert both.read_bytes()[:4] == b"\x89PNG"
    json.dumps(history)


def test_export_takes_a_new_model_version(cnn_checkpoint, tmp_path):
    """A retrained model gets its own version: the app keeps analyses (and learns from embeddings) per version."""
    import onnx

    from trainer.export import export

    out = export(cnn_checkpoint, tmp_path / "v2.onnx", version="0.2.0", say=lambda *_: None)
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["model_version"] == "0.2.0"
    plain = export(cnn_checkpoint, tmp_path / "v1.onnx", say=lambda *_: None)
    assert {p.key: p.value for p in onnx.load(str(plain)).metadata_props}["model_version"] == "0.1.0"
