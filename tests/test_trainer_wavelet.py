"""The wavelet branch: its decomposition against a NumPy reference, and cnn-wavelet trained, exported, loaded."""

import numpy as np
import pytest
import torch

from trainer.wavelet import DB4_HIGH, DB4_LOW, WaveletBands, WaveletFeatures


def reference_dwt(x: np.ndarray, levels: int) -> list[np.ndarray]:
    """One level: 'valid' convolution with each filter, every second sample kept; recurse on the low band."""
    bands, approx = [], x
    for _ in range(levels):
        low = np.convolve(approx, DB4_LOW, mode="valid")[::2]
        high = np.convolve(approx, DB4_HIGH, mode="valid")[::2]
        bands.append(high)
        approx = low
    return bands + [approx]


def test_daubechies_filters_are_orthogonal():
    low, high = np.array(DB4_LOW), np.array(DB4_HIGH)
    assert low.sum() == pytest.approx(np.sqrt(2)) and (low ** 2).sum() == pytest.approx(1) and high.sum() == pytest.approx(0, abs=1e-9)
    assert np.dot(low, high) == pytest.approx(0, abs=1e-12)


def test_bands_match_the_reference_decomposition():
    x = np.random.default_rng(0).standard_normal((2, 16000)).astype(np.float32)
    ours = WaveletBands(levels=6)(torch.from_numpy(x))
    assert len(ours) == 7
    for row in range(2):
        for got, want in zip(ours, reference_dwt(x[row].astype(np.float64), 6), strict=True):
            assert got.shape[1] == len(want)
            assert np.abs(got[row].numpy() - want).max() < 1e-4


def test_a_tone_lands_in_its_band():
    t = np.arange(16000) / 16000  # one second at 16 kHz
    tone = torch.from_numpy(np.sin(2 * np.pi * 3000 * t).astype(np.float32))[None]  # 3 kHz: D2 covers 2-4 kHz
    energy = [float(b.pow(2).mean()) for b in WaveletBands(6)(tone)]
    assert int(np.argmax(energy)) == 1
    features = WaveletFeatures()(tone)
    assert features.shape == (1, 21) and torch.isfinite(features).all()


def test_cnn_wavelet_trains_exports_and_loads(tmp_path, synth_data):
    from desktop.core.model import GenreModel
    from tests.conftest import train_synth
    from trainer.evaluate import evaluate
    from trainer.export import export

    best = train_synth(tmp_path, synth_data, model="cnn-wavelet", epochs=3)
    evaluate(best, say=lambda *_: None)
    onnx_path = export(best, tmp_path / "wavelet.onnx", say=lambda *_: None)  # export checks onnxruntime against torch
    model = GenreModel(onnx_path, device="cpu")
    window = np.random.default_rng(1).standard_normal((2, model.info.window_samples)).astype(np.float32) * 0.1
    probs, emb = model.predict(window)
    assert probs.shape == (2, 3) and emb.shape == (2, 256) and model.info.name == "cnn-wavelet"


def test_cnn_wavelet_refuses_cached_mels():
    from trainer.config import TrainConfig
    from trainer.models import build_model

    cfg = TrainConfig(data="x", model="cnn-wavelet", window_seconds=1.0)
    net = build_model("cnn-wavelet", 3, cfg.frontend())
    with pytest.raises(NotImplementedError, match="needs the waveform"):
        net.forward_mel(torch.zeros(1, 96, 63))
