"""The int8 export: same contract, same answers as the float model, refused when it strays."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from trainer import quantize as quantize_module
from trainer.data.cache import DecodeCache
from trainer.quantize import QuantizeError, audio_sources, quantize, sample_windows


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory, exported_model, synth_data):
    """The synthetic CNN quantized, calibrated on its own training folder."""
    root = tmp_path_factory.mktemp("int8")
    return quantize(exported_model, root / "synth-cnn-int8.onnx", synth_data, cache=root / "cache", say=lambda *_: None)


def test_int8_model_keeps_the_contract_and_the_answers(int8_model, exported_model, synth_holdout, tmp_path):
    from desktop.core.model import GenreModel

    float_meta = {p.key: p.value for p in onnx.load(str(exported_model)).metadata_props}
    proto = onnx.load(str(int8_model))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta.pop("model_version") == float_meta.pop("model_version") + "+int8"
    assert {k: meta[k] for k in float_meta} == float_meta
    report = json.loads(meta["quantization"])
    assert report["convolutions"] == 3 and report["top1_agreement"] >= quantize_module.MIN_AGREEMENT
    # The backbone's later convolutions are int8; the front end and the one-channel first layer stay float.
    producer = {out: n.op_type for n in proto.graph.node for out in n.output}
    int8_convs = {n.name for n in proto.graph.node if n.op_type == "Conv" and producer.get(n.input[1]) == "DequantizeLinear"}
    assert int8_convs == {f"/net/backbone/blocks/blocks.{i}/layers/layers.0/Conv" for i in (1, 2, 3)}
    # Their ReLU and max-pool run in int8 too (fed by a dequantize step), the first block's pool in float.
    int8_pools = {n.name for n in proto.graph.node if n.op_type == "MaxPool" and producer.get(n.input[0]) == "DequantizeLinear"}
    assert int8_pools == {f"/net/backbone/blocks/blocks.{i}/layers/layers.3/MaxPool" for i in (1, 2, 3)}

    fp, q8 = GenreModel(exported_model, device="cpu"), GenreModel(int8_model, device="cpu")
    assert (q8.info.labels, q8.info.window_samples, q8.info.name) == (fp.info.labels, fp.info.window_samples, fp.info.name)
    assert q8.info.key == fp.info.key + "+int8"  # its analyses are stored apart from the float model's
    windows = sample_windows(audio_sources(synth_holdout), DecodeCache(tmp_path / "cache", fp.info.sample_rate),
                             fp.info.window_samples, 30, seed=3)  # [30, samples]: tracks never trained or calibrated on
    (p_fp, e_fp), (p_q8, e_q8) = fp.predict(windows), q8.predict(windows)
    assert (p_fp.argmax(1) == p_q8.argmax(1)).mean() >= 0.9
    assert np.abs(p_fp - p_q8).mean() < quantize_module.MAX_MEAN_PROB_DIFF
    assert np.corrcoef(e_fp.ravel(), e_q8.ravel())[0, 1] > 0.98


def test_quantize_refuses_a_model_that_strays(exported_model, synth_data, tmp_path, monkeypatch):
    monkeypatch.setattr(quantize_module, "MIN_AGREEMENT", 1.01)  # no int8 model can pass: stands in for a bad one
    out = tmp_path / "bad.onnx"
    with pytest.raises(QuantizeError, match="strays from the float one"):
        quantize(exported_model, out, synth_data, cache=tmp_path / "cache", say=lambda *_: None)
    assert list(tmp_path.glob("*.onnx")) == []  # nothing the app could pick up is left behind
    assert not [p for p in tmp_path.iterdir() if p.name != "cache"]  # nor anything else


def test_quantize_writes_only_a_file_named_onnx(exported_model, synth_data, tmp_path):
    song = tmp_path / "song.flac"
    song.write_bytes(b"fLaC music")
    with pytest.raises(ValueError, match=f"{song}: a model's file name ends in .onnx"):
        quantize(exported_model, song, synth_data, cache=tmp_path / "cache", say=lambda *_: None)
    with pytest.raises(ValueError, match=f"{tmp_path}: is a folder"):
        quantize(exported_model, tmp_path, synth_data, cache=tmp_path / "cache", say=lambda *_: None)
    assert song.read_bytes() == b"fLaC music" and sorted(tmp_path.iterdir()) == [song]  # refused before any work


def test_quantizing_an_int8_model_again_is_refused(int8_model, synth_data, tmp_path):
    with pytest.raises(QuantizeError, match=f"{int8_model}: already quantized"):
        quantize(int8_model, tmp_path / "again.onnx", synth_data, cache=tmp_path / "cache", say=lambda *_: None)


def test_quantize_bad_inputs_name_the_file(exported_model, synth_data, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no audio here")
    with pytest.raises(QuantizeError, match="no calibration window"):
        quantize(exported_model, tmp_path / "a.onnx", empty, cache=tmp_path / "cache", say=lambda *_: None)
    with pytest.raises(QuantizeError, match=f"{tmp_path / 'missing'}: no such calibration folder or CSV"):
        quantize(exported_model, tmp_path / "a.onnx", tmp_path / "missing", cache=tmp_path / "cache", say=lambda *_: None)
    bad_csv = tmp_path / "list.csv"
    bad_csv.write_text("file\nx.wav\n")
    with pytest.raises(QuantizeError, match="needs a 'path' column"):
        quantize(exported_model, tmp_path / "a.onnx", bad_csv, cache=tmp_path / "cache", say=lambda *_: None)
    stripped = onnx.load(str(exported_model))
    del stripped.metadata_props[:]
    plain = tmp_path / "plain.onnx"
    onnx.save(stripped, str(plain))
    with pytest.raises(QuantizeError, match=f"{plain}: not a Genre Tagger model"):
        quantize(plain, tmp_path / "a.onnx", empty, cache=tmp_path / "cache", say=lambda *_: None)
    lying = onnx.load(str(exported_model))  # metadata says 0.5 s windows, the graph takes 1 s ones
    for entry in lying.metadata_props:
        if entry.key == "window_samples":
            entry.value = "8000"
    lying_path = tmp_path / "lying.onnx"
    onnx.save(lying, str(lying_path))
    with pytest.raises(QuantizeError, match=f"{lying_path}: quantization failed"):
        quantize(lying_path, tmp_path / "a.onnx", synth_data, cache=tmp_path / "cache", say=lambda *_: None)
    assert not (tmp_path / "a.onnx").exists()
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(QuantizeError, match=f"{garbage}: cannot read the model"):
        quantize(garbage, tmp_path / "a.onnx", empty, cache=tmp_path / "cache", say=lambda *_: None)


def test_quantize_cli(exported_model, synth_data, tmp_path, capsys):
    from trainer.__main__ import main

    out = tmp_path / "cli-int8.onnx"
    assert main(["quantize", "--model", str(exported_model), "--out", str(out), "--calibration", str(synth_data),
                 "--cache", str(tmp_path / "cache"), "--windows", "16"]) == 0
    assert out.is_file() and "top-1 agreement" in capsys.readouterr().out
    assert main(["quantize", "--model", str(exported_model), "--out", str(out), "--calibration", str(tmp_path / "nope"),
                 "--cache", str(tmp_path / "cache")]) == 2
    assert "no such calibration folder" in capsys.readouterr().err
