"""A peer tagger (musicnn, ONNX) as a teacher: its tags and penultimate embedding per 3 s window.

Several teachers (musicnn-msd and -mtt learnt different tag sets from different music) teach side
by side: a student learns all their outputs at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PATCH_FRAMES = 187  # musicnn's input patch: 187 frames of 256 samples at 16 kHz, about 3 s
TEACHER_RATE = 16000
EMBEDDING_TENSOR = "model/dense/Relu:0"  # the 200-unit dense layer before the tag layer
# Layers a student can copy, named after the teacher file as FILE.onnx#LAYER ("embedding" when no
# layer is named). pooled-maps is musicnn's mean and max over time of its front-end and mid-end maps
# ([N, 753, 2], flattened): the 1,506 values its dense layer reads.
LAYERS = {"embedding": EMBEDDING_TENSOR, "pooled-maps": "model/concat_2:0"}


class TeacherError(RuntimeError):
    """A teacher model that cannot be loaded or run; names the file."""


def teacher_mel(windows: np.ndarray) -> np.ndarray:
    """Waveform windows [N, S] at 16 kHz -> musicnn input [N, 187, 96] (librosa mel, log10(1+10000x))."""
    import librosa

    mel = librosa.feature.melspectrogram(y=windows, sr=TEACHER_RATE, n_fft=512, hop_length=256, n_mels=96)  # [N, 96, T]
    mel = np.log10(1.0 + 10000.0 * mel.astype(np.float32))  # [N, 96, T], float32 (float16 overflows)
    if mel.shape[2] < PATCH_FRAMES:
        raise ValueError(f"windows of {windows.shape[1]} samples give {mel.shape[2]} frames; musicnn needs {PATCH_FRAMES}")
    return np.ascontiguousarray(mel[:, :, :PATCH_FRAMES].transpose(0, 2, 1))  # [N, 187, 96]


def teacher_spec(spec: str | Path) -> tuple[Path, str]:
    """"FILE.onnx" or "FILE.onnx#LAYER" (a name in LAYERS) -> (file, layer name)."""
    head, sep, layer = str(spec).rpartition("#")
    if not sep:
        return Path(spec), "embedding"
    if layer not in LAYERS:
        raise TeacherError(f"{spec}: unknown teacher layer {layer!r}; choose {', '.join(LAYERS)}")
    return Path(head), layer


class Teacher:
    """musicnn-msd/-mtt from ../shared/peers ("FILE.onnx" or "FILE.onnx#LAYER"): windows -> (tag probabilities
    [N, 50], embedding [N, 200] or the named layer's values)."""

    def __init__(self, path: str | Path, threads: int = 0):
        import onnx
        import onnxruntime as ort

        self.path, layer = teacher_spec(path)
        self.name = Path(path).name  # what targets and fine-tuning record: the file, and the layer when not the default
        self.layer = LAYERS[layer]
        try:
            proto = onnx.load(str(self.path))
        except Exception as exc:  # protobuf and IO errors alike
            raise TeacherError(f"{self.path}: cannot read the teacher model ({exc})") from exc
        self.input = proto.graph.input[0].name
        self.tags = proto.graph.output[0].name
        produced = {out for node in proto.graph.node for out in node.output}
        if self.layer not in produced:
            raise TeacherError(f"{self.path}: no tensor {self.layer}; is this a musicnn model?")
        # Expose the penultimate (or an inner) layer as an extra graph output: a richer target than 50 tags.
        proto.graph.output.append(onnx.helper.make_tensor_value_info(self.layer, onnx.TensorProto.FLOAT, None))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])

    def __call__(self, windows: np.ndarray, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Windows [N, S] at 16 kHz -> (tags [N, 50], embedding [N, 200], or the chosen layer's values)."""
        tags, embs = [], []
        for i in range(0, len(windows), batch):
            mel = teacher_mel(windows[i : i + batch])  # [b, 187, 96]
            t, e = self.session.run([self.tags, self.layer], {self.input: mel})  # [b, 50], [b, 200 or the layer's width]
            tags.append(t)
            embs.append(e.reshape(len(e), -1))  # [b, D]: pooled-maps is [b, 753, 2] (max and mean over time)
        return np.concatenate(tags), np.concatenate(embs)


def path_list(paths: str | Path | list) -> list[Path]:
    """One path or several (teachers, or their targets folders) as a list, order kept."""
    return [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]


class Teachers:
    """Several teachers side by side: their tags and embeddings concatenated in the given order."""

    def __init__(self, paths: str | Path | list, threads: int = 0):
        paths = path_list(paths)
        if not paths:
            raise TeacherError("no teacher model given")
        self.members = [Teacher(p, threads) for p in paths]

    @property
    def names(self) -> list[str]:
        """The teachers' file names (with the layer where not the default), in order."""
        return [m.name for m in self.members]

    def __call__(self, windows: np.ndarray, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Windows [N, S] at 16 kHz -> (tags [N, 50 * teachers], embedding [N, 200 * teachers])."""
        outs = [m(windows, batch) for m in self.members]
        return np.concatenate([t for t, _ in outs], axis=1), np.concatenate([e for _, e in outs], axis=1)
