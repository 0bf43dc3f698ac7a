"""The benchmarks still run: each at a toy size, to its last figure, with the code as it is now.

No figure is checked (timings belong to the benchmarks, on a quiet machine); what is checked is that a benchmark
does not rot when the code it times changes: bench_scan called a query that had been removed and bench_table's
filter "as before" read an attribute the filter no longer had, and neither was noticed until someone ran them.
bench_model is left out: it compares against a peer model and data that live only in ../shared.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each benchmark at a toy size, and a line its last section prints (its end reached).
TOY_RUNS = {
    "bench_scan": (["--tracks", "1", "--minutes", "0.2", "--repeats", "1", "--rescan-files", "40",
                    "--query-tracks", "300"], "every file touched (chmod -R)"),
    "bench_corrections": (["--tracks", "300"], "kept as their tags say"),
    "bench_learn": (["--tracks", "300", "--skip-curve"], "fit total"),
    "bench_map": (["--tracks", "300"], "full redraw"),
    "bench_table": (["--tracks", "300"], "every row selected (Ctrl+A)"),
    "bench_trainer": (["--steps", "1", "--batch", "2", "--models", "cnn"], "exported ONNX"),
}


@pytest.mark.parametrize("name", sorted(TOY_RUNS))
def test_benchmark_runs_to_its_end_at_a_toy_size(name, tmp_path):
    args, last_section = TOY_RUNS[name]
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    assert last_section in done.stdout, done.stdout[-2000:]
