"""Load a genre model that follows the ONNX contract (DEVELOPERS.md) and run it on windows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop.core.errors import ModelError
from desktop.core.onnx_meta import not_a_model_file, plainly_not_a_model, read_metadata

REQUIRED_METADATA = ("labels", "sample_rate", "window_seconds")
# Bounds that keep a lying model from asking for absurd memory (1e8 Hz would be gigabytes per track).
MIN_RATE, MAX_RATE, MAX_WINDOW_SECONDS = 4000, 192000, 60.0
PROVIDERS = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}


@dataclass(frozen=True)
class ModelInfo:
    """What the model's metadata says about it."""

    path: Path
    labels: tuple[str, ...]
    sample_rate: int
    window_seconds: float
    window_samples: int
    name: str
    version: str
    trained_on: str = ""
    metrics: dict = field(default_factory=dict, hash=False, compare=False)
    metadata: dict = field(default_factory=dict, hash=False, compare=False, repr=False)  # every metadata_props entry

    @property
    def key(self) -> str:
        """Identifies the model in the database: analyses are stored per key."""
        return f"{self.name}:{self.version}"


def parse_metadata(path: Path, meta: dict[str, str]) -> ModelInfo:
    """Validate contract metadata into ModelInfo; ModelError naming what is missing or wrong."""
    missing = [k for k in REQUIRED_METADATA if not meta.get(k)]
    if missing:
        raise ModelError(path, f"not a Genre Tagger model: metadata lacks {', '.join(missing)}")
    try:
        labels = tuple(json.loads(meta["labels"]))
        sample_rate = int(meta["sample_rate"])
        window_seconds = float(meta["window_seconds"])
        window_samples = int(meta.get("window_samples") or round(window_seconds * sample_rate))
        metrics = json.loads(meta["test_metrics"]) if meta.get("test_metrics") else {}
    except (ValueError, TypeError) as exc:
        raise ModelError(path, f"malformed metadata ({exc})") from exc
    if len(labels) < 2 or not all(isinstance(x, str) and x for x in labels):
        raise ModelError(path, "metadata 'labels' must list at least two genre names")
    if not MIN_RATE <= sample_rate <= MAX_RATE:
        raise ModelError(path, f"metadata sample_rate {sample_rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz")
    if not 0 < window_seconds <= MAX_WINDOW_SECONDS or window_samples <= 0:
        raise ModelError(path, f"metadata window of {window_seconds:g} s is outside 0-{MAX_WINDOW_SECONDS} s")
    if abs(window_samples - window_seconds * sample_rate) > 1:
        raise ModelError(path, f"metadata window_samples {window_samples} does not match {window_seconds:g} s at {sample_rate} Hz")
    return ModelInfo(path, labels, sample_rate, window_seconds, window_samples, meta.get("model_name", path.stem),
                     meta.get("model_version", "0"), meta.get("trained_on", ""), metrics, dict(meta))


def choose_providers(device: str, available: list[str]) -> list[str]:
    """'auto' uses CUDA when onnxruntime offers it, 'cuda' insists on it, 'cpu' never uses it."""
    if device not in ("auto", "cuda", "cpu"):
        raise ValueError(f"device must be auto, cuda or cpu, not {device!r}")
    if device == "cpu":
        return [PROVIDERS["cpu"]]
    if PROVIDERS["cuda"] in available:
        return [PROVIDERS["cuda"], PROVIDERS["cpu"]]
    if device == "cuda":
        raise ValueError("CUDA was asked for but this onnxruntime has no CUDA provider")
    return [PROVIDERS["cpu"]]


# Int8 models place their quantize steps after the first max-pool on purpose; this onnxruntime pass
# would move them in front of it, where the pool then runs as a slow plain float op (1.1 -> 1.9 ms
# per window for the shipped model). Float models have no quantize steps, so it changes nothing there.
DISABLED_OPTIMIZERS = ["QDQPropagationTransformer"]


# onnxruntime's words: "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model from /m/x.onnx failed:Protobuf parsing
# failed." said the path again, behind a status code.
RUNTIME_PREAMBLE = re.compile(r"^\[ONNXRuntimeError\] : \d+ : \w+ : (Load model from .* failed:)?\s*")


def runtime_reason(exc: Exception) -> str:
    """onnxruntime's reason for refusing a model file, in a line: a file that is no ONNX model at all said so."""
    said = RUNTIME_PREAMBLE.sub("", str(exc).splitlines()[0] if str(exc) else "")[:200]
    if type(exc).__name__ == "InvalidProtobuf":
        return f"not an ONNX model: its bytes do not parse as one ({said or type(exc).__name__})"
    return f"{type(exc).__name__}: {said}"


class GenreModel:
    """An onnxruntime session over a contract model: windows [n, samples] -> (probs, embeddings)."""

    def __init__(self, path: str | Path, device: str = "auto", threads: int | None = None):
        import onnxruntime as ort

        path = Path(path)
        if reason := not_a_model_file(path) or plainly_not_a_model(path):
            raise ModelError(path, reason)
        ort.set_default_logger_severity(4)  # a missing CUDA library is reported through `providers`, not stderr noise
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # Idle onnxruntime threads sleep instead of spinning: during a scan they share the cores with
        # the decoding threads, and spinning took CPU from them (analysis 2.2x decode -> 1.9x).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # CUDA fallback chatter is reported through `providers` instead
        try:
            self.session = ort.InferenceSession(str(path), options, providers=choose_providers(device, ort.get_available_providers()),
                                                disabled_optimizers=DISABLED_OPTIMIZERS)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/InvalidProtobuf errors
            raise ModelError(path, f"cannot load model ({runtime_reason(exc)})") from exc
        if device == "cuda" and PROVIDERS["cuda"] not in self.session.get_providers():
            # A CUDA build of onnxruntime without a usable GPU falls back to the CPU in silence.
            raise ModelError(path, "CUDA was asked for but no GPU is usable here (driver or CUDA libraries "
                                   "missing); use --device auto or cpu")
        self.info = parse_metadata(path, self.session.get_modelmeta().custom_metadata_map)
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = {o.name for o in self.session.get_outputs()}
        if "waveform" not in inputs or not {"probabilities", "embedding"} <= outputs:
            raise ModelError(path, "model must take 'waveform' and give 'probabilities' and 'embedding'")
        width = inputs["waveform"].shape[-1]
        if isinstance(width, int) and width != self.info.window_samples:
            raise ModelError(path, f"input takes {width} samples but metadata says {self.info.window_samples}")
        self._check_outputs(path)

    def _check_outputs(self, path: Path) -> None:
        """One quiet test window: the outputs must have the contract's shapes and be proper probabilities."""
        rng = np.random.default_rng(0)
        window = (0.01 * rng.standard_normal((1, self.info.window_samples))).astype(np.float32)  # [1, samples]
        try:
            probs, emb = self.predict(window)
        except Exception as exc:  # onnxruntime's own errors: wrong input rank, type, ...
            raise ModelError(path, f"model fails on a test window ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from exc
        if probs.shape != (1, len(self.info.labels)):
            raise ModelError(path, f"model gives {probs.shape[-1]} probabilities but its metadata names {len(self.info.labels)} labels")
        if emb.ndim != 2 or emb.shape[0] != 1:
            raise ModelError(path, f"embedding has shape {list(emb.shape)}, expected [batch, dim]")
        if not (np.isfinite(probs).all() and np.isfinite(emb).all()):
            raise ModelError(path, "model returns values that are not numbers (NaN or infinity) on a test window")
        if abs(float(probs.sum()) - 1.0) > 1e-3 or probs.min() < 0:
            raise ModelError(path, "model's 'probabilities' do not sum to 1; is it missing its softmax?")

    @property
    def providers(self) -> list[str]:
        """The providers the session really uses (CUDA may have fallen back to CPU)."""
        return self.session.get_providers()

    def predict(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """windows [n, window_samples] float32 -> (probabilities [n, labels], embeddings [n, dim])."""
        probs, emb = self.session.run(["probabilities", "embedding"], {"waveform": np.ascontiguousarray(windows, np.float32)})
        return probs, emb


def read_model_info(path: str | Path) -> ModelInfo:
    """Metadata of a model file, parsed from the file alone (no inference session is built)."""
    path = Path(path)
    return parse_metadata(path, read_metadata(path))
