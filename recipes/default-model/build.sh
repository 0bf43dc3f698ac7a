#!/usr/bin/env bash
# Rebuild the shipped default model (models/default.onnx) from its sources, and its figures.
#   recipes/default-model/build.sh [WORK]      # WORK defaults to .cache/default-model
#   MODEL=cnn-fast recipes/default-model/build.sh [WORK]   # models/fast.onnx, the quicker alternative
# Steps (each resumes or is skipped when its output exists):
#   1. corpus   unlabelled music from Debian packages (apt-get download; no root needed)
#   2. teach    musicnn-msd (ISC, ../shared/peers) tags + embedding for every 3 s corpus window
#      band     (BAND=1) rendered band arrangements, taught alike, as more training windows
#   3. distill  our CNN learns the teacher's outputs from the corpus; the frozen probe on the GTZAN clips
#               is measured after every epoch (history.json, probe_curve.png; labels never reach the loss)
#      adapt    (ADAPT=1) the student continues on varied windows of the GTZAN clips' audio answered by the
#               teacher (teach --clips; no labels): once per fold without that fold's clips, for crossval,
#               and once on every clip, for the shipped model
#   4. crossval artist-grouped 5-fold CV on the labelled GTZAN clips: probe (ours), finetune (ours, the
#               shipped recipe; three fine-tuning seeds, their mean reported), features and scratch
#               (baselines), peer (essentia's GTZAN model, a yardstick we never train on)
#   5. fit-head the genre head on every labelled clip; export to ONNX; quantize to int8 (calibrated
#               on corpus windows, checked against the float model); copy to models/
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-.cache/default-model}
PY=${PYTHON:-.venv/bin/python}
PEERS=${PEERS:-../shared/peers}
GTZAN=${GTZAN:-../shared/datasets/gtzan}
EPOCHS=${EPOCHS:-24}  # the probe stops improving early, the fine-tuned recipe does not (models/default.md, session 10)
WIDTH=${WIDTH:-0.5}
PRECISION=${PRECISION:-auto}  # bf16 where the CPU or GPU computes it natively (3x faster here), else fp32
FOLDS=${FOLDS:-5}
SEEDS=${SEEDS:-0 1 2}  # fine-tuning seeds: one run varies by a few points with the seed alone
MODEL=${MODEL:-cnn}
# INNER=1 adds the teacher's pooled inner maps as a second target (one more `teach` pass): it lifted
# cnn-fast's recipe by 3 points and left cnn's within noise (models/fast.md, models/default.md, session 13).
# VERSION: the app keeps analyses per model version, so a model that answers differently needs a new one.
case "$MODEL" in
  cnn) NAME=default RUN=$WORK INNER=${INNER:-0} VERSION=${VERSION:-0.2.0} ;;  # the default keeps earlier builds' folders
  cnn-fast) NAME=fast RUN=$WORK/cnn-fast INNER=${INNER:-1} VERSION=${VERSION:-0.3.0} ;;
  *) NAME=$MODEL RUN=$WORK/$MODEL INNER=${INNER:-0} VERSION=${VERSION:-0.1.0} ;;
esac
# ADAPT=1: the adapt step above. The student copies the teacher better on the clips' music, but neither the
# probe, the recipe nor the held-out genres moved beyond noise (models/default.md, session 14): off by default.
ADAPT=${ADAPT:-0}
# BAND=1 adds band arrangements rendered from General MIDI (`python -m trainer band`, Debian fluidsynth and
# fluid-soundfont-gm) as more unlabelled windows, each teacher answering them too; the run gets its own
# folder. Measured over three distillation seeds in models/default.md, session 19: off by default.
BAND=${BAND:-0}
# MASTERING=amp renders them with the guitars through an amplifier and the mix at a record's loudness instead of
# driving the whole mix (`band --mastering`, models/default.md, session 20); its own band, targets and run folders.
MASTERING=${MASTERING:-drive}
BAND_NAME=band$([ "$MASTERING" = drive ] || echo "-$MASTERING")  # band, band-amp
[ "$BAND" = 1 ] && RUN=$RUN/$BAND_NAME
mkdir -p "$RUN"

[ -f "$WORK/corpus/manifest.csv" ] || "$PY" -m trainer corpus --out "$WORK/corpus"
"$PY" -m trainer teach --corpus "$WORK/corpus/manifest.csv" --teacher "$PEERS/musicnn-msd.onnx" \
  --out "$WORK/targets-msd" --cache "$WORK/decoded"
TARGETS=("$WORK/targets-msd")
TEACHERS=("$PEERS/musicnn-msd.onnx")
TAUGHT="musicnn-msd"
if [ "$INNER" = 1 ]; then
  "$PY" -m trainer teach --corpus "$WORK/corpus/manifest.csv" --teacher "$PEERS/musicnn-msd.onnx#pooled-maps" \
    --out "$WORK/targets-msd-pooled" --cache "$WORK/decoded"
  TARGETS+=("$WORK/targets-msd-pooled")
  TEACHERS+=("$PEERS/musicnn-msd.onnx#pooled-maps")
  TAUGHT="musicnn-msd (embedding, tags and pooled inner maps)"
fi
MORE=()
if [ "$BAND" = 1 ]; then
  [ -f "$WORK/$BAND_NAME/manifest.csv" ] || "$PY" -m trainer band --out "$WORK/$BAND_NAME" --mastering "$MASTERING"
  MORE=(--more-windows)
  for i in "${!TEACHERS[@]}"; do
    BAND_TARGETS="$WORK/targets-$BAND_NAME-${TARGETS[$i]##*/targets-}"  # targets-band-msd beside targets-msd
    "$PY" -m trainer teach --corpus "$WORK/$BAND_NAME/manifest.csv" --teacher "${TEACHERS[$i]}" --out "$BAND_TARGETS" \
      --cache "$WORK/decoded"
    MORE+=("$BAND_TARGETS")
  done
fi
"$PY" scripts/gtzan_manifest.py --gtzan "$GTZAN" --out "$WORK/gtzan.csv"
[ -f "$RUN/distilled/best.pt" ] || "$PY" -m trainer distill --targets "${TARGETS[@]}" ${MORE[@]+"${MORE[@]}"} \
  --out "$RUN/distilled" --model "$MODEL" --width "$WIDTH" --epochs "$EPOCHS" --precision "$PRECISION" \
  --probe "$WORK/gtzan.csv" --probe-cache "$WORK/decoded"
STUDENT="$RUN/distilled/best.pt"  # what fit-head fine-tunes for the shipped model
CV_STUDENT=$STUDENT  # what crossval scores: one checkpoint, or one per fold ({fold})
CV=$RUN/cv
METHODS="probe finetune features peer scratch"
if [ "$ADAPT" = 1 ]; then
  CLIPS=()
  for i in "${!TEACHERS[@]}"; do
    CLIPS+=("$WORK/clips-${TARGETS[$i]##*/targets-}")  # clips-msd beside targets-msd: one folder per teacher
    "$PY" -m trainer teach --clips "$WORK/gtzan.csv" --corpus "$WORK/corpus/manifest.csv" --teacher "${TEACHERS[$i]}" \
      --out "${CLIPS[$i]}" --cache "$WORK/decoded"
  done
  for fold in $(seq 1 "$FOLDS") all; do
    HOLD=$([ "$fold" = all ] && echo 0 || echo "$fold")
    [ -f "$RUN/adapted/$fold/adapted.pt" ] || "$PY" -m trainer adapt --checkpoint "$STUDENT" --targets "${TARGETS[@]}" \
      --clips "${CLIPS[@]}" --data "$WORK/gtzan.csv" --cache "$WORK/decoded" --hold-out-fold "$HOLD" --folds "$FOLDS" \
      --out "$RUN/adapted/$fold" --precision "$PRECISION"
  done
  STUDENT="$RUN/adapted/all/adapted.pt"
  CV_STUDENT="$RUN/adapted/{fold}/adapted.pt"  # fold N scored by the student that never heard its clips
  CV=$RUN/cv-adapted
  METHODS="probe finetune"  # the baselines do not read the student
fi
for method in $METHODS; do
  [ -f "$CV/$method/report.json" ] && continue
  "$PY" -m trainer crossval "$method" --data "$WORK/gtzan.csv" --out "$CV" --folds "$FOLDS" \
    --cache "$WORK/decoded" --checkpoint "$CV_STUDENT" --teacher "${TEACHERS[@]}" --finetune-seed $SEEDS \
    --peer "$PEERS/essentia-genre_tzanetakis-musicnn-msd-1.onnx" --config recipes/default-model/scratch.yaml \
    --precision "$PRECISION"
done
"$PY" -m trainer fit-head --checkpoint "$STUDENT" --data "$WORK/gtzan.csv" --out "$RUN/final" \
  --report "$CV/finetune/report.json" --cache "$WORK/decoded" --teacher "${TEACHERS[@]}" --precision "$PRECISION" \
  --dataset-name "GTZAN clips we hold (156) + distilled from $TAUGHT on Debian game music$([ "$BAND" = 1 ] && echo " and rendered band arrangements")"
"$PY" -m trainer export --checkpoint "$RUN/final/model.pt" --out "$RUN/final/$NAME-float.onnx" --version "$VERSION"
"$PY" -m trainer quantize --model "$RUN/final/$NAME-float.onnx" --out "$RUN/final/$NAME.onnx" \
  --calibration "$WORK/corpus/manifest.csv" --cache "$WORK/decoded" --windows 1024
cp "$RUN/final/$NAME.onnx" "models/$NAME.onnx"
"$PY" -m benchmarks.bench_model --model "models/$NAME.onnx" --data "$WORK/gtzan.csv" --cache "$WORK/decoded"
