"""Training throughput (windows/s) per model, and exported ONNX inference speed per 3 s window.

    python -m benchmarks.bench_trainer [--steps 20] [--batch 32] [--device auto] [--models cnn cnn-attn ...]
        [--width 0.5] [--no-train]

The ONNX exports are untrained (weights do not change the speed) and float; the shipped models are
int8 in their convolutions, about 0.6x. The "x first" column times every model on one thread in
batches of 8 (as the app runs) in turns over several rounds, fastest round kept, against the first
model named: a student's cost relative to the shipped architecture in one run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.bench_model import session as onnx_session  # configured as the app's sessions
from benchmarks.common import export_untrained
from trainer.frontend import FrontEndConfig
from trainer.models import build_model, model_names

WINDOW = 48000  # 3 s at 16 kHz, the default model window


def train_throughput(name: str, device: torch.device, steps: int, batch: int, width: float = 1.0) -> float:
    """Windows per second through forward, backward and an optimiser step."""
    model = build_model(name, 10, FrontEndConfig(), width=width).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    x = torch.randn(batch, WINDOW, device=device) * 0.1
    y = torch.randint(0, 10, (batch,), device=device)
    amp = device.type == "cuda"

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = F.cross_entropy(model(x)[0].float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def onnx_speed(sess, batch: int, repeats: int = 30) -> float:
    """Milliseconds per 3 s window through an onnxruntime session."""
    x = (np.random.default_rng(0).standard_normal((batch, WINDOW)) * 0.1).astype(np.float32)  # [B, S]
    for _ in range(3):
        sess.run(None, {"waveform": x})
    start = time.perf_counter()
    for _ in range(repeats):
        sess.run(None, {"waveform": x})
    return (time.perf_counter() - start) / (repeats * batch) * 1000


def relative_costs(paths: dict[str, Path], rounds: int = 3) -> dict[str, float]:
    """ms per window on one thread in batches of 8, the models timed in turns; the fastest round counts."""
    sessions = {name: onnx_session(str(path), 1) for name, path in paths.items()}
    best = {name: float("inf") for name in paths}
    for _ in range(rounds):  # in turns, so a burst of other work on the machine hits every model alike
        for name, sess in sessions.items():
            best[name] = min(best[name], onnx_speed(sess, 8, repeats=20))
    return best


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", nargs="+", choices=model_names(), default=model_names(),
                        help="the first is the baseline of the 'x first' column (e.g. cnn, the shipped architecture)")
    parser.add_argument("--width", type=float, default=0.5, help="width multiplier (the shipped models: 0.5)")
    parser.add_argument("--no-train", action="store_true", help="only the exported models' inference speed")
    args = parser.parse_args()
    devices = [torch.device("cpu")]
    if args.device in ("auto", "cuda") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; window 3 s at 16 kHz, width {args.width:g}")
    if not args.no_train:
        print(f"{'model':<13} {'device':<6} {'train windows/s':>16}  (batch {args.batch})")
        for name in args.models:
            for device in devices:
                print(f"{name:<13} {device.type:<6} {train_throughput(name, device, args.steps, args.batch, args.width):16.1f}")
    print("\nexported ONNX (front end + model, float), CPU: ms per 3 s window")
    print(f"{'model':<13} {'size MB':>8} {'1 thread b=1':>13} {'all threads b=32':>17} {'1 thread b=8':>13} {'x ' + args.models[0]:>10}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: export_untrained(name, Path(tmp) / f"{name}.onnx", width=args.width) for name in args.models}
        turns = relative_costs(paths)
        for name, path in paths.items():
            print(f"{name:<13} {path.stat().st_size / 1e6:8.2f} {onnx_speed(onnx_session(str(path), 1), 1):13.2f} "
                  f"{onnx_speed(onnx_session(str(path), 0), 32):17.2f} {turns[name]:13.2f} {turns[name] / turns[args.models[0]]:10.2f}")


if __name__ == "__main__":
    main()
