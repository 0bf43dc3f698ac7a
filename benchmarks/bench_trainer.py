"""Training throughput (windows/s) per model, and exported ONNX inference speed per 3 s window.

    python benchmarks/bench_trainer.py [--steps 20] [--batch 32] [--device auto]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.common import export_untrained
from trainer.frontend import FrontEndConfig
from trainer.models import build_model, model_names

WINDOW = 48000  # 3 s at 16 kHz, the default model window


def train_throughput(name: str, device: torch.device, steps: int, batch: int) -> float:
    """Windows per second through forward, backward and an optimiser step."""
    model = build_model(name, 10, FrontEndConfig()).to(device).train()
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


def onnx_speed(path: Path, threads: int, batch: int, repeats: int = 30) -> float:
    """Milliseconds per 3 s window through onnxruntime on `threads` CPU threads."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    x = (np.random.default_rng(0).standard_normal((batch, WINDOW)) * 0.1).astype(np.float32)
    for _ in range(3):
        sess.run(None, {"waveform": x})
    start = time.perf_counter()
    for _ in range(repeats):
        sess.run(None, {"waveform": x})
    return (time.perf_counter() - start) / (repeats * batch) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    devices = [torch.device("cpu")]
    if args.device in ("auto", "cuda") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; window 3 s at 16 kHz, batch {args.batch}")
    print(f"{'model':<10} {'device':<6} {'train windows/s':>16}")
    for name in model_names():
        for device in devices:
            print(f"{name:<10} {device.type:<6} {train_throughput(name, device, args.steps, args.batch):16.1f}")
    print("\nexported ONNX (front end + model), CPU: ms per 3 s window")
    print(f"{'model':<10} {'size MB':>8} {'1 thread b=1':>13} {'1 thread b=8':>13} {'all threads b=32':>17}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in model_names():
            path = export_untrained(name, Path(tmp) / f"{name}.onnx")
            print(f"{name:<10} {path.stat().st_size / 1e6:8.2f} {onnx_speed(path, 1, 1):13.2f} "
                  f"{onnx_speed(path, 1, 8):13.2f} {onnx_speed(path, 0, 32):17.2f}")


if __name__ == "__main__":
    main()
