"""Loading models by the contract, window planning, and windowed analysis."""

import json

import numpy as np
import onnx
import pytest

from desktop.core.analysis import TOO_SHORT, UNCERTAIN, AnalysisSettings, Analyzer, top_genres
from desktop.core.errors import ModelError
from desktop.core.model import GenreModel, choose_providers, read_model_info
from desktop.core.windows import WindowPlan, plan_windows
from tests.audio_files import make_track


def test_model_metadata_comes_from_the_file(exported_model):
    info = read_model_info(exported_model)
    assert info.labels == ("beats", "noise", "tones") and info.sample_rate == 16000
    assert info.window_seconds == 1.0 and info.window_samples == 16000 and info.key.startswith("cnn:")
    assert "accuracy" in info.metrics


def strip_metadata(src, dst, drop):
    proto = onnx.load(str(src))
    keep = [(p.key, p.value) for p in proto.metadata_props if p.key not in drop]
    del proto.metadata_props[:]
    for k, v in keep:
        e = proto.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(proto, str(dst))
    return dst


def test_model_without_metadata_is_a_clear_error(exported_model, tmp_path):
    bad = strip_metadata(exported_model, tmp_path / "plain.onnx", {"labels", "sample_rate"})
    with pytest.raises(ModelError, match=r"plain\.onnx: not a Genre Tagger model: metadata lacks labels, sample_rate"):
        GenreModel(bad)


def test_model_with_malformed_labels(exported_model, tmp_path):
    proto = onnx.load(str(exported_model))
    for p in proto.metadata_props:
        if p.key == "labels":
            p.value = json.dumps(["only-one"])
    onnx.save(proto, str(tmp_path / "one.onnx"))
    with pytest.raises(ModelError, match="at least two genre names"):
        GenreModel(tmp_path / "one.onnx")


def test_unreadable_and_missing_model_files(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a protobuf")
    with pytest.raises(ModelError, match=r"junk\.onnx: cannot load model") as caught:
        GenreModel(junk)
    # onnxruntime's "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model from <the path again> failed:..."
    assert caught.value.reason.startswith("cannot load model (not an ONNX model: its bytes do not parse as one (")
    assert str(junk) not in caught.value.reason and "ONNXRuntimeError" not in caught.value.reason
    with pytest.raises(ModelError, match=r"nope\.onnx: no such model file"):
        GenreModel(tmp_path / "nope.onnx")


def test_an_empty_model_file_or_a_web_page_saved_as_one_is_said_so(tmp_path):
    # Both parsed: "InvalidArgument: No graph was found in the protobuf", or, listed by `models`, "not a Genre Tagger
    # model: metadata lacks labels, sample_rate, window_seconds".
    from desktop.core.model import read_model_info

    empty, page = tmp_path / "empty.onnx", tmp_path / "page.onnx"
    empty.write_bytes(b"")
    page.write_bytes(b"\n<!DOCTYPE html><html><body>Not found</body></html>")
    for load in (GenreModel, read_model_info):
        with pytest.raises(ModelError, match=r"empty\.onnx: empty file \(0 bytes"):
            load(empty)
        with pytest.raises(ModelError, match=r"page\.onnx: a web page, not a model"):
            load(page)


def test_provider_choice():
    assert choose_providers("cpu", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert choose_providers("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"])[0] == "CUDAExecutionProvider"
    assert choose_providers("auto", ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    with pytest.raises(ValueError, match="CUDA was asked for"):
        choose_providers("cuda", ["CPUExecutionProvider"])


def test_cuda_asked_for_is_cuda_or_a_clear_error(exported_model):
    # onnxruntime's CUDA build lists CUDA on a machine without a GPU and then ran on the CPU in silence.
    try:
        model = GenreModel(exported_model, device="cuda")
    except (ModelError, ValueError) as exc:
        assert "CUDA was asked for" in str(exc)
    else:
        assert "CUDAExecutionProvider" in model.providers  # a machine with a usable GPU


def test_window_plans():
    assert plan_windows(0.5, 1.0) == []
    assert plan_windows(3.0, 1.0) == [0.0, 1.0, 2.0]
    assert plan_windows(3.7, 1.0) == [0.0, 1.0, 2.0, 2.7]  # the end is covered too
    starts = plan_windows(300.0, 3.0, WindowPlan(max_windows=8))
    assert len(starts) == 8 and starts[0] == 30.0 and starts[-1] == pytest.approx(267.0)
    assert all(b > a for a, b in zip(starts, starts[1:], strict=False))


def test_top_genres():
    labels = ("a", "b", "c")
    assert top_genres(np.array([0.5, 0.3, 0.2]), labels, 3, 0.25) == ["a", "b"]
    assert top_genres(np.array([0.2, 0.1, 0.15]), labels, 3, 0.25) == ["a"]


@pytest.mark.usefixtures("need_ffmpeg")
def test_analysis_results(exported_model, tmp_path):
    model = GenreModel(exported_model, device="cpu")
    paths = [make_track(tmp_path, "noise", "noise", "flac", 6.0, seed=5),
             make_track(tmp_path, "short", "tones", "wav", 0.5, seed=6),
             make_track(tmp_path, "beats", "beats", "m4a", 4.0, seed=7)]
    broken = tmp_path / "broken.ogg"
    broken.write_bytes(b"OggS" + b"\x00" * 100)
    results = list(Analyzer(model, AnalysisSettings(batch_windows=4)).analyse(paths + [broken]))
    noise, short, beats, bad = results
    assert noise.top_genre == "noise" and noise.window_probabilities.shape == (6, 3) and len(noise.window_starts) == 6
    assert noise.probabilities.sum() == pytest.approx(1.0, abs=1e-4) and noise.embedding.shape == (256,)
    assert short.status == TOO_SHORT and "shorter than one 1 s window" in short.error
    assert beats.top_genre == "beats"
    assert bad.status == "error" and bad.error
    strict = list(Analyzer(model, AnalysisSettings(threshold=1.01)).analyse([paths[0]]))
    assert strict[0].status == UNCERTAIN


@pytest.mark.parametrize("name", ["default", "fast"])
def test_shipped_models_follow_the_contract(name):
    from desktop.services.models import shipped_models_dir

    path = shipped_models_dir() / f"{name}.onnx"
    assert path.with_suffix(".md").is_file(), "every shipped model has a card"
    assert path.stat().st_size < 10e6
    model = GenreModel(path, device="cpu")
    assert model.info.sample_rate == 16000 and len(model.info.labels) == 10 and model.info.metrics["tracks"] == 156
    meta = onnx.load(str(path)).metadata_props
    quantization = json.loads({p.key: p.value for p in meta}["quantization"])
    # Both meet the int8 bar `quantize` enforces: the top genre kept on at least 0.98 of unseen windows.
    assert model.info.version.endswith("+int8") and quantization["top1_agreement"] >= 0.98
    t = np.arange(model.info.window_samples) / model.info.sample_rate
    windows = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), np.zeros_like(t)]).astype(np.float32)  # [2, samples]
    probs, emb = model.predict(windows)
    assert probs.shape == (2, 10) and np.allclose(probs.sum(1), 1, atol=1e-4) and np.isfinite(emb).all()


def test_metadata_is_read_without_a_session(exported_model, tmp_path, monkeypatch):
    import onnxruntime

    from desktop.core.onnx_meta import read_metadata

    expected = {p.key: p.value for p in onnx.load(str(exported_model)).metadata_props}
    monkeypatch.setattr(onnxruntime, "InferenceSession", lambda *a, **k: pytest.fail("built a session"))
    assert read_metadata(exported_model) == expected
    assert read_model_info(exported_model).labels == ("beats", "noise", "tones")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\xff" * 40)
    with pytest.raises(ModelError, match=r"junk\.onnx: cannot load model"):
        read_model_info(junk)
