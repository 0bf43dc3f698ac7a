"""The shipped model next to the peer on the GTZAN clips we hold: held-out accuracy and speed.

    python -m benchmarks.bench_model [--model models/default.onnx] [--baseline OLD.onnx] [--data MANIFEST] [--peer ONNX]

Held-out accuracy of our model is the artist-grouped cross-validation that built it (`python -m
trainer crossval finetune`, carried in the model's `test_metrics` metadata): every clip scored by a
model fine-tuned and fitted without it or its artist. The shipped model itself was fitted on all
clips, so scoring it here again is not held out; that in-sample figure is printed too, marked as
such. The peer is scored as it is, on the same clips and the same 3 s windows; it was trained on all
of GTZAN, so it has seen these clips. Speed: front end + model per 3 s window on one core, and per
30 s clip (10 windows) on all cores; the peer's time includes its librosa mel, part of running it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PEER = "../shared/peers/essentia-genre_tzanetakis-musicnn-msd-1.onnx"
GTZAN = "../shared/datasets/gtzan"


def session(path: str, threads: int = 0):
    """A CPU onnxruntime session with quiet logs, optimised as the app's (int8 models depend on it)."""
    import onnxruntime as ort

    from desktop.core.model import DISABLED_OPTIMIZERS

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"], disabled_optimizers=DISABLED_OPTIMIZERS)


def best_time(fn, repeats: int = 5) -> float:
    """Fastest of a few runs, in seconds (the least disturbed by other work on the machine)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/default.onnx")
    parser.add_argument("--peer", default=PEER)
    parser.add_argument("--baseline", help="another of our models (e.g. the previous default), measured in the same run")
    parser.add_argument("--data", help="manifest path,label,artist (default: built from ../shared/datasets/gtzan)")
    parser.add_argument("--cache", default=".cache/decoded")
    args = parser.parse_args(argv)

    from trainer.data.windows import track_windows
    from trainer.distill.crossval import load_labelled, peer_predictions
    from trainer.metrics import classification_figures

    data_path = args.data
    if not data_path:
        data_path = str(Path(args.cache).parent / "gtzan.csv")
        subprocess.run([sys.executable, "scripts/gtzan_manifest.py", "--gtzan", GTZAN, "--out", data_path], check=True)
    models = [args.model] + ([args.baseline] if args.baseline else [])
    rows = []
    data = None
    for path in models:
        ours = session(path)
        meta = ours.get_modelmeta().custom_metadata_map
        labels, window = json.loads(meta["labels"]), int(meta["window_samples"])
        if data is None:
            data = load_labelled(data_path, args.cache, int(meta["sample_rate"]), say=lambda *_: None)
        if labels != data.labels:
            print(f"error: {path}: model labels {labels} differ from the data's {data.labels}", file=sys.stderr)
            return 2
        ours_cv = json.loads(meta.get("test_metrics", "{}"))
        if "accuracy" not in ours_cv:
            print(f"error: {path} carries no cross-validation figures (test_metrics)", file=sys.stderr)
            return 2
        probs = [ours.run(["probabilities"], {"waveform": track_windows(a, window)})[0].mean(axis=0) for a in data.audios]
        rows.append((path, ours, ours_cv, classification_figures(data.y, np.stack(probs).argmax(1), labels)))
    peer = classification_figures(data.y, peer_predictions(args.peer, data, window).argmax(1), labels)

    one = track_windows(data.audios[0], window)  # [10, S]: a 30 s clip
    timings = {path: [] for path in models}
    singles = {path: session(path, threads=1) for path in models}
    for _ in range(3):  # our models in turns, so a burst of other work on the machine hits them alike
        for path, ours, _, _ in rows:
            single = singles[path]
            timings[path].append((best_time(lambda s=single: s.run(["probabilities"], {"waveform": one[:1]})) * 1000,
                                  best_time(lambda o=ours: o.run(["probabilities"], {"waveform": one}))))
    from trainer.distill.teacher import teacher_mel

    peer_session = session(args.peer)
    peer_in = peer_session.get_inputs()[0].name
    peer_single = session(args.peer, threads=1)
    peer_ms = best_time(lambda: peer_single.run(None, {peer_in: teacher_mel(one[:1])})) * 1000
    peer_clip = best_time(lambda: peer_session.run(None, {peer_in: teacher_mel(one)}))

    print(f"{len(data.records)} clips, {len(set(data.groups))} artist groups; ours held out: {rows[0][2].get('split', '?')}")
    print(f"{'model':<44} {'accuracy':>9} {'macro F1':>9} {'ms/window 1 core':>17} {'s/30 s clip':>12} {'MB':>6}")
    for path, _, ours_cv, ours_seen in rows:
        name = Path(path).name if len(rows) == 1 or Path(path).name != Path(models[0]).name else str(path)
        ms_window = min(t[0] for t in timings[path])
        s_clip = min(t[1] for t in timings[path])
        size = Path(path).stat().st_size / 1e6
        print(f"{name + ' (held out, cross-validated)':<44} {ours_cv['accuracy']:>9.3f} {ours_cv['macro_f1']:>9.3f} {ms_window:>17.2f} {s_clip:>12.3f} {size:>6.2f}")
        print(f"{name + ' (shipped head, clips seen)':<44} {ours_seen['accuracy']:>9.3f} {ours_seen['macro_f1']:>9.3f}")
    print(f"{Path(args.peer).name[:34] + ' (peer, seen)':<44} {peer['accuracy']:>9.3f} {peer['macro_f1']:>9.3f} {peer_ms:>17.2f} {peer_clip:>12.3f} {Path(args.peer).stat().st_size / 1e6:>6.2f}")
    ours_cv = rows[0][2]
    print("per-genre F1 held out (ours | peer): " + ", ".join(
        f"{g} {ours_cv['per_label'][g]['f1']:.2f}|{peer['per_label'][g]['f1']:.2f}" for g in labels))
    if args.baseline:
        new, old = min(t[0] for t in timings[args.model]), min(t[0] for t in timings[args.baseline])
        print(f"ms per window, {Path(args.model).name} / baseline: {new / old:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
