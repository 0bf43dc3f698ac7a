#!/usr/bin/env bash
# The distillations of RUNS side by side on a lent GPU (the device tool), from targets sent there in parts.
# Here, once: python scripts/lent_gpu.py pack .cache/default-model/targets-msd .gpu/parts
#             python scripts/lent_gpu.py librosa .gpu/stub      (the device has no librosa)
# There, one call per part (each within the machine's warm time of the last):
#             mkdir -p /tmp/stage && cp .gpu/parts/partN/shards.pkl /tmp/stage/N.pkl
# There, with the last part (carry .gpu/parts/partN, .gpu/stub, RUNS):
#             recipes/default-model/lent-gpu.sh RUNS      # results in $OUT/part*.tar
# RUNS: lines of NAME MODEL WIDTH EPOCHS KEEP_EVERY SEED. LIMIT: seconds each run may take (killed past it).
# Back here: unpack the tars and measure each kept epoch-NNN.pt with `python -m trainer crossval probe --checkpoint`.
set -uo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:?a file of runs: NAME MODEL WIDTH EPOCHS KEEP_EVERY SEED}
STAGE=${STAGE:-/tmp/stage} WORK=${WORK:-/tmp/lent-gpu}
export PYTHONPATH=$PWD/.gpu/stub${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2  # six runs share 16 cores
PY=${PYTHON:-python3}
started=$(date +%s)
"$PY" scripts/lent_gpu.py unpack "$WORK/targets-msd" "$STAGE"/*.pkl || exit 1
mkdir -p "$WORK/runs"
while read -r name model width epochs keep seed; do
  [ -z "${name:-}" ] && continue
  ( s=$(date +%s)
    timeout "${LIMIT:-400}" "$PY" -m trainer distill --targets "$WORK/targets-msd" --out "$WORK/runs/$name" --model "$model" \
      --width "$width" --epochs "$epochs" --keep-every "$keep" --seed "$seed" --precision auto > "$WORK/runs/$name.log" 2>&1
    echo "rc $? after $(( $(date +%s) - s )) s" >> "$WORK/runs/$name.log" ) &
done < "$RUNS"
wait
for f in "$WORK"/runs/*.log; do echo "== $f"; grep -v "it/s\]" "$f" | tail -3; done
"$PY" scripts/lent_gpu.py collect "$WORK/runs" "${OUT:-$WORK/out}"
echo "all in $(( $(date +%s) - started )) s"
