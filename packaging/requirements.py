"""Print the app's runtime requirements from pyproject.toml, with the CPU onnxruntime by default.

The bundle gets exactly what `pip install .[app]` would, minus the GPU runtime (hundreds of MB of
CUDA libraries most listeners cannot use); ORT_PACKAGE=onnxruntime-gpu builds a GPU bundle.
"""

import os
from pathlib import Path

import tomllib


def app_requirements(pyproject: Path, ort_package: str) -> list[str]:
    """Requirement strings of the `app` extra, every onnxruntime variant replaced by ort_package."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for req in project["optional-dependencies"]["app"]:
        name = req.split(";")[0].split(">")[0].split("=")[0].strip()
        if not name.startswith("onnxruntime"):
            reqs.append(req)
    return reqs + [ort_package]


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    print("\n".join(app_requirements(root / "pyproject.toml", os.environ.get("ORT_PACKAGE", "onnxruntime"))))
