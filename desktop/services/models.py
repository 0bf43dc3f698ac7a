"""Where models live and which one is the default."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from desktop.core.errors import GenreTaggerError, ModelError
from desktop.core.paths import data_dir
from desktop.core.safe_write import is_temp_copy

MODEL_ENV = "GENRE_TAGGER_MODEL"


def shipped_models_dir() -> Path:
    """`models/` of the source tree or of a bundle (PyInstaller puts it beside the package)."""
    return Path(__file__).resolve().parents[2] / "models"


def user_models_dir() -> Path:
    """Models a user added: <user data>/models."""
    return data_dir() / "models"


def model_files() -> list[Path]:
    """Every .onnx file in the shipped and the user's model folders (not the hidden copy a learn is saving)."""
    files = []
    for folder in (shipped_models_dir(), user_models_dir()):
        if folder.is_dir():
            files += sorted(p for p in folder.glob("*.onnx") if not is_temp_copy(p.name))
    return files


@functools.cache  # the shipped folder does not change while the app runs
def shipped_model_keys() -> frozenset[str]:
    """The keys (name:version) of the models shipped in models/."""
    from desktop.core.model import read_model_info

    keys = set()
    for path in sorted(shipped_models_dir().glob("*.onnx")):
        try:
            keys.add(read_model_info(path).key)
        except (GenreTaggerError, ValueError):  # a damaged file: `genre-tagger models` names it
            continue
    return frozenset(keys)


def resolve_model(explicit: str | Path | None, active: Path | None = None) -> Path:
    """--model, then $GENRE_TAGGER_MODEL, then the library's learned model, then models/default.onnx."""
    for candidate in (explicit, os.environ.get(MODEL_ENV), active):
        if candidate:
            return Path(candidate).expanduser()
    default = shipped_models_dir() / "default.onnx"
    if default.is_file():
        return default
    raise ModelError(None, f"no model given and no default model at {default}; pass --model FILE or set ${MODEL_ENV}")
