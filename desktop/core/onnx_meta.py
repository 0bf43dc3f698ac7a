"""Read an ONNX file's metadata_props without building an inference session (or importing onnx).

An ONNX file is a protobuf ModelProto; metadata_props is its field 14, a repeated
StringStringEntryProto (key = 1, value = 2). Every other field is skipped by its length.
"""

from __future__ import annotations

from pathlib import Path

from desktop.core.errors import EMPTY_FILE, ModelError, is_web_page

METADATA_FIELD = 14


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes):
    """(field number, wire type, value) of each top-level field; value is bytes for length-delimited ones."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = None, pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = None, pos + 4
        else:
            raise ValueError(f"unknown wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated field")
        yield number, wire, value


# What a model path that names no file is, said the same wherever a model is opened.
NOT_A_MODEL_FILE = {FileNotFoundError: "no such model file", IsADirectoryError: "is a folder, not a model file (.onnx)"}


def not_a_model_file(path: Path) -> str | None:
    """Why `path` cannot be a model file (missing, a folder, a pipe or device: read, /dev/zero never ends and a pipe
    waits for good); None for a regular file."""
    if path.is_file():
        return None
    if path.is_dir():
        return NOT_A_MODEL_FILE[IsADirectoryError]
    if path.exists():
        return "not a regular file (a named pipe, device or socket), not a model file (.onnx)"
    return NOT_A_MODEL_FILE[FileNotFoundError]


def plainly_not_a_model(path: Path, head: bytes | None = None) -> str | None:
    """What a file plainly is instead of a model (empty, a web page), from its first bytes (`head`: read if not given);
    None otherwise. Either parsed as a model without metadata ("not a Genre Tagger model: metadata lacks labels")
    or without a graph ("InvalidArgument: No graph was found in the protobuf")."""
    if head is None:
        try:
            with open(path, "rb") as fh:
                head = fh.read(256)
        except OSError:
            return None  # said by whatever reads it next
    if not head:
        return EMPTY_FILE
    if is_web_page(head):
        return "a web page, not a model (a download that failed saves the site's page under the model's name)"
    return None


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata_props of an ONNX model as a dict; ModelError when the file is not a readable model."""
    path = Path(path)
    if reason := not_a_model_file(path):
        raise ModelError(path, reason)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(path, NOT_A_MODEL_FILE.get(type(exc), f"cannot read ({exc.strerror})")) from exc
    if reason := plainly_not_a_model(path, data[:256]):
        raise ModelError(path, reason)
    meta: dict[str, str] = {}
    try:
        for number, wire, value in _fields(data):
            if number == METADATA_FIELD and wire == 2:
                entry = {n: v for n, w, v in _fields(value) if w == 2}
                meta[entry.get(1, b"").decode("utf-8")] = entry.get(2, b"").decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(path, f"cannot load model (not an ONNX file: {exc})") from exc
    return meta
