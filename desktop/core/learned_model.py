"""Save a library head as an ordinary contract model: the base network, its head replaced by ours.

The file keeps the base network whole (waveform -> embedding) and computes `probabilities` as
softmax(embedding @ W + b) with the head's calibrated weights, so every part of the app loads it
like any other model. Its metadata names the base network and carries the head's novelty check.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from desktop.core.errors import ModelError
from desktop.core.library_head import GenreHead, centre_distance
from desktop.core.safe_write import atomic_write, remove_old_leftover

LIBRARY_MODEL_NAME = "library"
HEAD_KEY = "library_head"  # metadata: base model key, centres and radius of the novelty check
LEARNED_KEY_PREFIX = f"{LIBRARY_MODEL_NAME}:"  # model keys (name:version) of learned models start so


def is_learned_key(model_key: str) -> bool:
    """True for the key of a model `genre-tagger learn` wrote."""
    return model_key.startswith(LEARNED_KEY_PREFIX)


def learned_version(base_key: str, stamp: str) -> str:
    """The learned model's version: its base network and when it was learned (keeps analyses apart)."""
    return f"{base_key.replace(':', '-')}+lib{stamp}"


def build_learned_model(base: Path, head: GenreHead, out: Path, metadata: dict[str, str]) -> Path:
    """Write `out`: `base` with `probabilities` recomputed by `head` from `embedding`; metadata merged in."""
    import onnx
    from onnx import helper, numpy_helper

    try:
        proto = onnx.load(str(base))
    except Exception as exc:  # onnx raises DecodeError, OSError, ...
        raise ModelError(base, f"cannot read the base network ({type(exc).__name__}: {exc})") from exc
    graph = proto.graph
    names = {o.name for o in graph.output}
    if not {"probabilities", "embedding"} <= names:
        raise ModelError(base, "the base network lacks the contract's 'probabilities' and 'embedding' outputs")
    for node in graph.node:  # the base head's softmax now feeds nothing the graph returns
        node.output[:] = ["base_probabilities" if o == "probabilities" else o for o in node.output]
    old = next(o for o in graph.output if o.name == "probabilities")
    graph.output.remove(old)
    weight = (head.weight / head.temperature).astype(np.float32)  # [dim, genres], calibration folded in
    bias = (head.bias / head.temperature).astype(np.float32)  # [genres]
    graph.initializer.extend([numpy_helper.from_array(weight, "library_head_weight"),
                              numpy_helper.from_array(bias, "library_head_bias")])
    graph.node.extend([
        helper.make_node("Gemm", ["embedding", "library_head_weight", "library_head_bias"], ["library_logits"],
                         name="library_head"),  # [batch, dim] @ [dim, genres] + [genres] -> [batch, genres]
        helper.make_node("Softmax", ["library_logits"], ["probabilities"], axis=1, name="library_softmax"),
    ])
    graph.output.insert(0, helper.make_tensor_value_info("probabilities", onnx.TensorProto.FLOAT, ["batch", len(head.labels)]))
    meta = {p.key: p.value for p in proto.metadata_props}
    meta.update(metadata)
    meta["labels"] = json.dumps(list(head.labels))
    meta[HEAD_KEY] = json.dumps({"mean": head.mean.tolist(), "scale": head.scale.tolist(),
                                 "centres": np.round(head.centres, 5).tolist(), "novelty_radius": head.novelty_radius})
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for left in out.parent.glob(f".{LIBRARY_MODEL_NAME}-*.onnx.partial"):  # earlier builds saved so (a killed save left it)
            remove_old_leftover(left)
        # Through a locked copy swapped in whole; the next learn sweeps the copy a killed one left (a new name each time).
        atomic_write(out, lambda tmp: onnx.save(proto, str(tmp)))
    except OSError as exc:  # a read-only or full disk, a file where the folder should be
        raise ModelError(out.parent, f"cannot save the learned model here ({exc.strerror or exc})") from exc
    return out


def novelty_check(meta: dict[str, str]):
    """A function embeddings [n, dim] -> bool [n] (unlike every learned genre), or None for other models."""
    if not meta.get(HEAD_KEY):
        return None
    data = json.loads(meta[HEAD_KEY])
    mean, scale = np.array(data["mean"], np.float32), np.array(data["scale"], np.float32)
    centres, radius = np.array(data["centres"], np.float32), float(data["novelty_radius"])

    return lambda x: centre_distance(x, mean, scale, centres) > radius
