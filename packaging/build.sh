#!/usr/bin/env bash
# Build the one-folder bundle in dist/genre-tagger, then smoke-test it.
#   packaging/build.sh            # build + smoke test (self-test, screenshot under Xvfb, size, start-up time)
#   SMOKE=0 packaging/build.sh    # build only
# Environment: BUILD_VENV (default .build-venv), ORT_PACKAGE (onnxruntime | onnxruntime-gpu), PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${BUILD_VENV:-.build-venv}

if [ ! -f models/default.onnx ]; then
  echo "error: models/default.onnx is missing; the bundle ships the default model" >&2
  exit 2
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# A clean environment with the app's runtime only: no torch, no trainer dependencies.
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" packaging/requirements.py > "$VENV/requirements.txt"
"$VENV/bin/python" -m pip install -q -r "$VENV/requirements.txt" "pyinstaller>=6.5" pillow
if "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "error: torch is installed in $VENV; the bundle must not carry it" >&2
  exit 2
fi
started=$(date +%s)
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/genre-tagger.spec
echo "built dist/genre-tagger in $(( $(date +%s) - started )) s"
if [ "${SMOKE:-1}" != "0" ]; then
  packaging/smoke-test.sh dist/genre-tagger "$VENV/bin/python"
fi
