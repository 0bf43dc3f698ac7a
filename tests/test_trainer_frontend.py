"""The in-model front end matches librosa, in PyTorch and in exported ONNX."""

import librosa
import numpy as np
import onnxruntime as ort
import pytest
import torch

from trainer.frontend import FrontEndConfig, MelFrontEnd, mel_bands, mel_filterbank, split_factor

# Stated tolerance: within 0.01 dB of librosa on every bin within 80 dB of the loudest one (the
# range power_to_db's default top_db keeps), and within 0.25 dB on all bins (float32 rounding of
# near-silent bins more than 100 dB below the peak).
TOLERANCE_DB = 0.01
TOLERANCE_ALL_DB = 0.25


def assert_close_to_librosa(ours, ref, name):
    assert ours.shape == ref.shape, name
    loud = ref > ref.max() - 80.0
    assert np.abs(ours - ref)[loud].max() < TOLERANCE_DB, name
    assert np.abs(ours - ref).max() < TOLERANCE_ALL_DB, name


def librosa_reference(y, cfg):
    mel = librosa.feature.melspectrogram(y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                         n_mels=cfg.n_mels, center=True, pad_mode="constant")
    return librosa.power_to_db(mel, ref=1.0, amin=cfg.amin, top_db=None)


def signals():
    rng = np.random.default_rng(0)
    t = np.arange(48000) / 16000
    return {
        "noise": (rng.standard_normal(48000) * 0.1).astype(np.float32),
        "chord": (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1234 * t)).astype(np.float32),
    }


@pytest.mark.parametrize("cfg", [FrontEndConfig(), FrontEndConfig(sample_rate=22050, n_fft=1024, hop_length=512, n_mels=128)])
def test_torch_front_end_matches_librosa(cfg):
    frontend = MelFrontEnd(cfg)
    for name, y in signals().items():
        ours = frontend(torch.from_numpy(y)[None])[0].numpy()
        assert_close_to_librosa(ours, librosa_reference(y, cfg), name)


def test_onnx_front_end_matches_librosa(tmp_path):
    cfg = FrontEndConfig()
    path = tmp_path / "frontend.onnx"
    torch.onnx.export(MelFrontEnd(cfg), (torch.zeros(1, 48000),), str(path), dynamo=False, opset_version=17,
                      input_names=["waveform"], output_names=["mel"], dynamic_axes={"waveform": {0: "batch"}})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for name, y in signals().items():
        (ours,) = session.run(None, {"waveform": y[None]})
        assert_close_to_librosa(ours[0], librosa_reference(y, cfg), name)


def test_frame_count_matches_librosa():
    cfg = FrontEndConfig()
    assert cfg.frames(48000) == librosa_reference(np.zeros(48000, np.float32), cfg).shape[1]


@pytest.mark.parametrize("n_fft,hop", [(512, 256), (512, 160), (400, 100), (1023, 256)])
def test_split_dft_matches_librosa_for_any_factor(n_fft, hop):
    """Every split the factoring picks (including none, for odd sizes) gives librosa's mel."""
    cfg = FrontEndConfig(n_fft=n_fft, hop_length=hop, n_mels=64)
    y = signals()["chord"]
    ours = MelFrontEnd(cfg)(torch.from_numpy(y)[None])[0].numpy()
    assert_close_to_librosa(ours, librosa_reference(y, cfg), f"{n_fft}/{hop}")


def test_split_factor():
    assert split_factor(512, 256) == 16
    assert split_factor(512, 100) == 4  # 100 = 4 * 25: limited by the hop
    assert split_factor(1023, 256) == 1


@pytest.mark.parametrize("cfg", [FrontEndConfig(), FrontEndConfig(sample_rate=22050, n_fft=1024, hop_length=512, n_mels=128)])
def test_mel_bands_hold_every_weight_and_skip_most_of_the_matrix(cfg):
    mel = mel_filterbank(cfg)  # [n_mels, bins]
    bands = mel_bands(mel, MelFrontEnd.MEL_GROUPS)
    assert [b[0] for b in bands] == sorted(b[0] for b in bands) and bands[-1][1] == cfg.n_mels
    covered = torch.zeros_like(mel, dtype=torch.bool)
    for f0, f1, b0, b1 in bands:
        covered[f0:f1, b0:b1] = True
    assert not (mel[~covered] != 0).any(), "a nonzero filter weight fell outside its band"
    assert covered.float().mean() < 0.35, "banding should skip most of the dense product"
