"""Export a checkpoint to ONNX: waveform in, probabilities and embedding out, metadata inside."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from trainer.checkpoint import load_checkpoint, model_from_checkpoint
from trainer.model_file import model_out, written_whole

OPSET = 17
CONTRACT_VERSION = "1"
PROB_TOLERANCE = 1e-4  # max |p_onnx - p_torch| over every label of every test window
EMBED_TOLERANCE = 1e-3  # max |e_onnx - e_torch| / (max |e_torch| + 1e-6)


class ExportParityError(RuntimeError):
    """onnxruntime and PyTorch disagree on the exported model."""


class InferenceModel(nn.Module):
    """The exported graph: waveform [B, S] -> (probabilities [B, L], embedding [B, D])."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, waveform: torch.Tensor):
        logits, embedding = self.net(waveform)  # [B, L], [B, D]
        return torch.softmax(logits, dim=1), embedding


def model_metadata(state: dict, cfg, labels, report: dict | None) -> dict[str, str]:
    """The contract's metadata_props (see DEVELOPERS.md)."""
    split = "split lists " + Path(cfg.splits).name if cfg.splits else "seeded stratified split"
    meta = {
        "genre_tagger_contract": CONTRACT_VERSION,
        "labels": json.dumps(labels),
        "sample_rate": str(cfg.sample_rate),
        "window_seconds": repr(cfg.window_seconds),
        "window_samples": str(cfg.window_samples),
        "model_name": cfg.model,
        "model_version": cfg.version,
        "trained_on": cfg.dataset_name or Path(cfg.data).name,
        "split": split,
        "epoch": str(state["epoch"]),
    }
    if report:
        meta["split"] = report.get("split", split)  # e.g. "5-fold artist-grouped cross-validation"
        # A mean over several fine-tuning seeds keeps each run's figure beside it.
        keep = ("accuracy", "macro_f1", "tracks", "split", "per_label", "accuracy_per_seed", "finetune_seeds")
        meta["test_metrics"] = json.dumps({k: report[k] for k in keep if k in report})
    return meta


def export(checkpoint: str | Path, out: str | Path, report: str | Path | None = None, opset: int = OPSET,
           version: str | None = None, say=print) -> Path:
    """Write the ONNX model and check it against PyTorch; ExportParityError when they differ.

    `version` overrides the checkpoint's model_version: the app stores analyses (and embeddings a
    library head learns from) per model name and version, so a retrained model needs a new one.
    """
    import dataclasses

    import onnx

    out = model_out(out)  # before loading anything: a wrong name is said at once
    state = load_checkpoint(checkpoint)
    net, cfg, labels = model_from_checkpoint(state)
    if version:
        cfg = dataclasses.replace(cfg, version=version)
    wrapper = InferenceModel(net).eval()
    report_path = Path(report) if report else Path(checkpoint).parent / "report" / "report.json"
    report_data = json.loads(report_path.read_text()) if report_path.is_file() else None
    if report_data is None:
        say(f"note: no evaluation report at {report_path}; the model carries no test metrics")
    with written_whole(out) as tmp:
        example = torch.zeros(2, cfg.window_samples)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                wrapper, (example,), str(tmp), dynamo=False, opset_version=opset,
                input_names=["waveform"], output_names=["probabilities", "embedding"],
                dynamic_axes={"waveform": {0: "batch"}, "probabilities": {0: "batch"}, "embedding": {0: "batch"}},
            )
        proto = onnx.load(str(tmp))
        for key, value in model_metadata(state, cfg, labels, report_data).items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        proto.producer_name = "genre-tagger-trainer"
        proto.doc_string = f"Genre Tagger {cfg.model} model: waveform at {cfg.sample_rate} Hz -> genre probabilities"
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
        try:
            diff = check_parity(wrapper, tmp, cfg.window_samples, cfg.sample_rate)
        except ExportParityError as exc:  # never a model the app would trust: the one there before (if any) stays
            raise ExportParityError(f"{out}: {exc}; nothing written") from exc
    say(f"exported {out} ({out.stat().st_size / 1e6:.2f} MB); onnxruntime vs PyTorch: "
        f"max prob diff {diff['probabilities']:.2e} (<= {PROB_TOLERANCE}), embedding rel diff {diff['embedding']:.2e} (<= {EMBED_TOLERANCE})")
    return out


def parity_waveforms(samples: int, sample_rate: int, seed: int = 0) -> np.ndarray:
    """Test inputs: noise at three levels, a chord and silence [5, samples]."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / sample_rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3
    rows = [rng.standard_normal(samples) * a for a in (0.01, 0.1, 0.5)] + [chord, np.zeros(samples)]
    return np.stack(rows).astype(np.float32)


def check_parity(wrapper: nn.Module, path: Path, samples: int, sample_rate: int) -> dict:
    """Run PyTorch and onnxruntime on the same waveforms; raise when they differ."""
    import onnxruntime as ort

    x = parity_waveforms(samples, sample_rate)
    with torch.no_grad():
        p_ref, e_ref = (t.numpy() for t in wrapper(torch.from_numpy(x)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    p_onnx, e_onnx = session.run(["probabilities", "embedding"], {"waveform": x})
    diff = {
        "probabilities": float(np.abs(p_onnx - p_ref).max()),
        "embedding": float(np.abs(e_onnx - e_ref).max() / (np.abs(e_ref).max() + 1e-6)),
    }
    if diff["probabilities"] > PROB_TOLERANCE or diff["embedding"] > EMBED_TOLERANCE:
        raise ExportParityError(f"onnxruntime differs from PyTorch ({diff})")
    return diff
