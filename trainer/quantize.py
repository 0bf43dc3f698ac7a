"""An 8-bit version of an exported model: the backbone's convolutions in int8, everything else as it was.

Static quantization (QDQ format) calibrated on real audio windows. The front end stays float: the
STFT sees quiet and loud music alike and its log-mel needs the dynamic range. Convolutions that read
one input channel per group (the first layer, depthwise layers) stay float too: onnxruntime's int8
kernels are slower than its float ones there (first CNN layer 0.46 ms vs 0.06 ms per window).
Weights use 7 of their 8 bits (`reduce_range`): CPUs without VNNI (most AVX2 desktops) multiply
8-bit pairs into 16-bit sums that can saturate at full range; it costs nothing measurable here.
The ReLU and max-pool right after a quantized convolution run in int8 as well, which saves a
dequantize/requantize pair per block and follows the float model more closely.
The result is checked against the float model on windows the calibration did not see and refused
when the two disagree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from trainer.data.cache import DecodeCache, DecodeError
from trainer.data.sources import AUDIO_EXTENSIONS, read_csv
from trainer.model_file import model_out, scratch_name, written_whole

FRONTEND_PREFIX = "/net/frontend/"  # node names of the exported front end (InferenceModel.net.frontend)
FOLLOWERS = {"Relu", "Clip", "MaxPool"}  # run in int8 when they directly follow a quantized convolution
MIN_AGREEMENT = 0.98  # top-1 agreement with the float model on unseen windows (the default model's bar)
MAX_MEAN_PROB_DIFF = 0.02  # mean |p_int8 - p_float| over every label of those windows


class QuantizeError(RuntimeError):
    """Quantization failed or the int8 model strays too far from the float one."""


def audio_sources(source: str | Path) -> list[Path]:
    """Audio files of a folder (recursive), or the `path` column of a CSV (a corpus or data manifest)."""
    source = Path(source)
    if source.is_dir():
        return sorted(p for p in source.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()
                      and not any(part.startswith(".") for part in p.relative_to(source).parts))
    if source.is_file():
        names, rows = read_csv(source)
        if "path" not in names:
            raise QuantizeError(f"{source}: calibration CSV needs a 'path' column")
        return [p if p.is_absolute() else source.parent / p for p in (Path(row["path"]) for row in rows)]
    raise QuantizeError(f"{source}: no such calibration folder or CSV")


def sample_windows(paths: list[Path], cache: DecodeCache, samples: int, count: int, seed: int) -> np.ndarray:
    """`count` windows [count, samples] at random places of files spread over `paths` (unreadable files skipped)."""
    rng = np.random.default_rng(seed)
    per_file = max(2, -(-count // max(1, len(paths))))  # more windows than 2 per file take more from each file
    spread = np.linspace(0, len(paths) - 1, min(len(paths), -(-count // per_file))).astype(int)  # file indices
    windows = []
    for path in (paths[i] for i in spread):
        try:
            audio = cache.load(path)  # [n]
        except DecodeError:
            continue
        if len(audio) < samples:
            continue
        for start in rng.integers(0, len(audio) - samples + 1, per_file):
            windows.append(np.array(audio[start : start + samples], dtype=np.float32))  # [samples]
    if not windows:
        raise QuantizeError("no calibration window: the calibration source has no readable audio as long as one window")
    return np.stack(windows[:count])  # [count, samples]


def quantizable_convs(proto) -> list[str]:
    """Conv nodes outside the front end that read more than one input channel per group."""
    weights = {init.name: tuple(init.dims) for init in proto.graph.initializer}
    names = []
    for node in proto.graph.node:
        if node.op_type != "Conv" or node.name.startswith(FRONTEND_PREFIX):
            continue
        shape = weights.get(node.input[1])  # [out, in / groups, kh, kw]
        if shape is not None and len(shape) >= 2 and shape[1] > 1:
            names.append(node.name)
    return names


def with_followers(proto, convs: list[str]) -> list[str]:
    """`convs` and the ReLU/clip/max-pool chain right after each: int8 through them saves a dequantize and a requantize."""
    consumers: dict[str, list] = {}
    for node in proto.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    chosen, wanted = list(convs), set(convs)
    for node in proto.graph.node:
        if node.name not in wanted:
            continue
        while len(node.output) == 1 and len(consumers.get(node.output[0], [])) == 1 \
                and consumers[node.output[0]][0].op_type in FOLLOWERS:
            node = consumers[node.output[0]][0]
            chosen.append(node.name)
    return chosen


def _run(path: Path, windows: np.ndarray, batch: int = 16) -> np.ndarray:
    """Probabilities [n, labels] of a model file on CPU."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(["probabilities"], {"waveform": windows[i : i + batch]})[0]
                           for i in range(0, len(windows), batch)])


def compare(float_path: Path, int8_path: Path, windows: np.ndarray) -> dict:
    """How closely the int8 model follows the float one on `windows`."""
    p_float, p_int8 = _run(float_path, windows), _run(int8_path, windows)  # [n, labels] each
    return {
        "windows": len(windows),
        "top1_agreement": float((p_float.argmax(1) == p_int8.argmax(1)).mean()),
        "mean_prob_diff": float(np.abs(p_float - p_int8).mean()),
        "max_prob_diff": float(np.abs(p_float - p_int8).max()),
    }


def quantize(model: str | Path, out: str | Path, calibration: str | Path, cache: str | Path = ".cache/decoded",
             windows: int = 256, say=print) -> Path:
    """Write the int8 model to `out`, calibrated on audio from `calibration`; QuantizeError when it strays."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    model, out = Path(model), model_out(out)  # a wrong name is said before the slow work
    try:
        proto = onnx.load(str(model))
    except Exception as exc:
        raise QuantizeError(f"{model}: cannot read the model ({exc})") from exc
    meta = {p.key: p.value for p in proto.metadata_props}
    if "window_samples" not in meta or "sample_rate" not in meta:
        raise QuantizeError(f"{model}: not a Genre Tagger model (no window_samples/sample_rate metadata)")
    if "quantization" in meta:
        raise QuantizeError(f"{model}: already quantized; quantize the float export instead")
    nodes = quantizable_convs(proto)
    if not nodes:
        raise QuantizeError(f"{model}: no convolution worth quantizing outside the front end")
    samples, rate = int(meta["window_samples"]), int(meta["sample_rate"])
    decoded = DecodeCache(Path(cache), rate)
    paths = audio_sources(calibration)
    # Calibrate on half of the files and check on the other half, so the check judges windows the
    # calibration never saw (a single file serves both, at other places).
    calib = sample_windows(paths[0::2], decoded, samples, windows, seed=0)  # [n, samples]
    check = sample_windows(paths[1::2] or paths, decoded, samples, windows, seed=1)  # [n, samples]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"waveform": calib[i : i + 8]} for i in range(0, len(calib), 8)])

        def get_next(self):
            return next(self.batches, None)

    with written_whole(out) as final:
        tmp = scratch_name(final, "quantized")  # the quantizer's own output, before the contract is added
        try:
            try:
                quantize_static(str(model), str(tmp), Reader(), quant_format=QuantFormat.QDQ,
                                nodes_to_quantize=with_followers(proto, nodes), per_channel=True, reduce_range=True,
                                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                                calibrate_method=CalibrationMethod.MinMax)
            except Exception as exc:  # onnxruntime's quantizer raises its own and onnx's errors
                raise QuantizeError(f"{model}: quantization failed ({type(exc).__name__}: "
                                    f"{str(exc).splitlines()[0][:200]})") from exc
            fidelity = compare(model, tmp, check)
            if fidelity["top1_agreement"] < MIN_AGREEMENT or fidelity["mean_prob_diff"] > MAX_MEAN_PROB_DIFF:
                raise QuantizeError(f"{model}: the int8 model strays from the float one ({fidelity}); nothing written")
            quantized = onnx.load(str(tmp))
        finally:
            tmp.unlink(missing_ok=True)  # the quantizer keeps its own intermediate files in a temporary folder
        del quantized.metadata_props[:]  # the quantizer drops some keys; carry the float model's contract over
        # Analyses are stored per model name and version: the int8 model's answers are its own.
        meta["model_version"] = meta.get("model_version", "0") + "+int8"
        meta["quantization"] = json.dumps({"format": "int8 QDQ, per-channel weights", "convolutions": len(nodes),
                                           "calibration_windows": len(calib), "calibration": Path(calibration).name,
                                           **{k: round(v, 4) if isinstance(v, float) else v for k, v in fidelity.items()}})
        for key, value in meta.items():
            entry = quantized.metadata_props.add()
            entry.key, entry.value = key, value
        quantized.producer_name, quantized.doc_string = proto.producer_name, proto.doc_string
        onnx.save(quantized, str(final))
    say(f"quantized {len(nodes)} convolutions: {out} ({out.stat().st_size / 1e6:.2f} MB); against the float model on "
        f"{fidelity['windows']} unseen windows: top-1 agreement {fidelity['top1_agreement']:.3f}, "
        f"mean prob diff {fidelity['mean_prob_diff']:.4f}")
    return out
