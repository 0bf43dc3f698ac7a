#!/usr/bin/env bash
# Smoke-test a built bundle: no torch inside, --version, --self-test (start-up time), and the main
# window under Xvfb on a generated library (a screenshot to look at).
#   packaging/smoke-test.sh dist/genre-tagger [python-with-pillow]
set -euo pipefail
BUNDLE=${1:-dist/genre-tagger}
PY=${2:-python3}
OUT=$(realpath -m "${OUT:-dist/smoke}")  # absolute: XDG variables must be absolute paths
mkdir -p "$OUT"
rm -rf "$OUT/home" "$OUT/music"
# A throwaway home: the smoke test never touches the real user's database or settings.
export XDG_DATA_HOME="$OUT/home/data" XDG_CONFIG_HOME="$OUT/home/config" XDG_STATE_HOME="$OUT/home/state"

echo "bundle size: $(du -sh "$BUNDLE" | cut -f1)"
if find "$BUNDLE" -iname '*torch*' | grep -q .; then
  echo "FAIL: torch files inside the bundle" >&2
  exit 1
fi
"$BUNDLE/genre-tagger" --version
start=$EPOCHREALTIME
"$BUNDLE/genre-tagger-gui" --self-test
end=$EPOCHREALTIME
"$PY" -c "import sys; print(f'self-test wall time (start-up, model load, one analysis): {float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$start" "$end"

# A small library for the window: the self-test's own generator, from the source tree.
PYTHONPATH=. "$PY" - "$OUT/music" <<'PY'
import sys
from pathlib import Path
from desktop.services.selftest import test_tone
root = Path(sys.argv[1])
for album in ("Album A", "Album B"):
    (root / album).mkdir(parents=True, exist_ok=True)
    for i in range(3):
        test_tone(root / album / f"track {i + 1}.wav", seconds=10.0 + 5 * i)
PY
"$BUNDLE/genre-tagger" --db "$OUT/home/cli.db" scan "$OUT/music" | tail -3
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$0/genre-tagger-gui" --db "$1/home/gui.db" --settings "$1/home/settings.ini" --folder "$1/music" &
  app=$!
  sleep 20
  "$2" -c "import sys; from PIL import ImageGrab; ImageGrab.grab(xdisplay=None).save(sys.argv[1])" "$1/main-window.png"
  kill $app
  wait $app || true
' "$BUNDLE" "$OUT" "$PY"
echo "screenshot: $OUT/main-window.png"
