"""Move the distillation's targets to a machine that takes little per transfer (a lent GPU: 64 MiB per call), and back.

    python scripts/lent_gpu.py pack TARGETS PARTS [--mib 58]   # teach's shards -> PARTS/part0/shards.pkl, ...
    python scripts/lent_gpu.py unpack OUT PART.pkl...          # there: the shards again, in OUT
    python scripts/lent_gpu.py librosa DIR                     # DIR/librosa: the one librosa call distill makes
    python scripts/lent_gpu.py collect RUNS OUT                # there: the runs' results in tars of at most 15 MiB

The student's log-mels are most of the bytes (36 KB per 3 s window as float16, 0.8 GB for the corpus). They travel
as uint8 in 135/255 dB steps from the -100 dB floor (at most 0.27 dB off, far below distill's random gain of
±6 dB) and lzma-compressed: about 12 KB per window, so the corpus goes in five parts. The teacher's outputs
travel as they are. recipes/default-model/lent-gpu.sh runs the distillations there (DEVELOPERS.md).
"""

from __future__ import annotations

import argparse
import io
import lzma
import pickle
import sys
import tarfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

FLOOR_DB, STEP_DB = -100.0, 135.0 / 255  # uint8 0..255 covers -100 dB (the front end's floor) to +35 dB
MEL_BASIS = "mel_16000_512_96.npy"


def quantize(mel: np.ndarray) -> np.ndarray:
    """log-mel dB [..] -> uint8 [..] in STEP_DB steps from FLOOR_DB."""
    return np.clip(np.round((mel.astype(np.float32) - FLOOR_DB) / STEP_DB), 0, 255).astype(np.uint8)


def dequantize(q: np.ndarray) -> np.ndarray:
    """uint8 [..] -> log-mel dB [..] float16, as teach stores it."""
    return (q.astype(np.float32) * STEP_DB + FLOOR_DB).astype(np.float16)


def in_groups(items: list, size_of, limit: int) -> list[list]:
    """`items` in order, in groups of at most `limit` bytes by `size_of` (an item larger alone is a group of one)."""
    groups, group, size = [], [], 0
    for item in items:
        n = size_of(item)
        if group and size + n > limit:
            groups.append(group)
            group, size = [], 0
        group.append(item)
        size += n
    groups.append(group)
    return groups


def pack_shard(path: Path) -> tuple[str, tuple, bytes, dict]:
    """One shard: its name, mel shape, compressed quantized mel and its other arrays unchanged."""
    with np.load(path) as d:
        rest = {k: d[k] for k in d.files if k != "mel"}
        mel = d["mel"]
    return path.name, mel.shape, lzma.compress(quantize(mel).tobytes(), preset=6), rest


def pack(targets: Path, parts: Path, mib: float) -> list[Path]:
    """Every shard of `targets` into parts of at most `mib` MiB each (PARTS/partN/shards.pkl)."""
    shards = sorted(targets.glob("*.npz"))
    if not shards:
        raise SystemExit(f"{targets}: no target shards (written by `python -m trainer teach`)")
    with ProcessPoolExecutor() as pool:
        items = list(pool.map(pack_shard, shards, chunksize=4))
    groups = in_groups(items, lambda item: len(item[2]) + sum(v.nbytes for v in item[3].values()) + 1024, int(mib * 2**20))
    written = []
    for i, items in enumerate(groups):
        out = parts / f"part{i}" / "shards.pkl"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pickle.dumps(items))
        written.append(out)
    return written


def unpack_shard(item: tuple, out: Path) -> int:
    """Write one packed shard back as teach's .npz; its window count."""
    name, shape, packed, rest = item
    mel = dequantize(np.frombuffer(lzma.decompress(packed), dtype=np.uint8).reshape(shape))
    np.savez(out / name, mel=mel, **rest)
    return shape[0]


def unpack(out: Path, parts: list[Path]) -> tuple[int, int]:
    """The shards of `parts` into `out`; (shards, windows)."""
    out.mkdir(parents=True, exist_ok=True)
    items = [item for part in parts for item in pickle.loads(part.read_bytes())]  # our own files, made by pack
    with ProcessPoolExecutor() as pool:
        windows = sum(pool.map(unpack_shard, items, [out] * len(items), chunksize=4))
    return len(items), windows


LIBROSA_STAND_IN = '''"""Where librosa is not installed: the one call distill makes when it builds a model (the mel basis, saved)."""
import types
from pathlib import Path

import numpy as np


def _mel(*, sr, n_fft, n_mels, fmin=0.0, fmax=None, htk=False, norm="slaney"):
    if (sr, n_fft, n_mels, fmin, fmax, htk, norm) != (16000, 512, 96, 0.0, None, False, "slaney"):
        raise NotImplementedError("only the targets' front end (16 kHz, 512, 96 mels) was saved")
    return np.load(Path(__file__).with_name("{basis}"))


filters = types.SimpleNamespace(mel=_mel)
'''.replace("{basis}", MEL_BASIS)


def write_librosa_stand_in(folder: Path) -> Path:
    """FOLDER/librosa: a package that answers librosa.filters.mel for the targets' front end with librosa's own basis."""
    import librosa

    package = folder / "librosa"
    package.mkdir(parents=True, exist_ok=True)
    basis = librosa.filters.mel(sr=16000, n_fft=512, n_mels=96, fmin=0.0, fmax=None, htk=False, norm="slaney")
    np.save(package / MEL_BASIS, basis)
    (package / "__init__.py").write_text(LIBROSA_STAND_IN)
    return package


def collect(runs: Path, out: Path, limit: int = 15 * 2**20, most: int = 8) -> list[Path]:
    """Each run's logs, history, config, teacher stats and kept weights (distill --keep-every) into at most `most`
    tars of at most `limit` bytes: optimiser state dropped, every keep but a run's last stored as float16."""
    import torch

    items = [(f.name, f.read_bytes()) for f in sorted(runs.glob("*.log"))]
    for run in sorted(p for p in runs.iterdir() if p.is_dir()):
        for name in ("history.json", "distill_config.json", "teacher_stats.npz"):
            if (run / name).exists():
                items.append((f"{run.name}/{name}", (run / name).read_bytes()))
        keeps = sorted(run.glob("epoch-*.pt"))
        for i, keep in enumerate(keeps):
            state = torch.load(keep, map_location="cpu", weights_only=False)
            state["optimizer_state"] = state["scheduler_state"] = None
            if i < len(keeps) - 1:  # the curve's points; the last keep, the run's result, stays float32
                state["model_state"] = {k: t.half() if t.is_floating_point() else t for k, t in state["model_state"].items()}
            buffer = io.BytesIO()
            torch.save(state, buffer)
            items.append((f"{run.name}/{keep.name}", buffer.getvalue()))
    groups = in_groups(items, lambda item: len(item[1]), limit)
    if len(groups) > most:
        left = [name for g in groups[most:] for name, _ in g]
        raise SystemExit(f"{runs}: results need {len(groups)} tars, {most} come back; keep fewer epochs ({', '.join(left[:5])}…)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, group in enumerate(groups):
        with tarfile.open(out / f"part{i}.tar", "w") as tar:
            for name, data in group:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        written.append(out / f"part{i}.tar")
    return written


def main(argv=None) -> int:
    """The command line above."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="teach's shards into parts small enough for one transfer each")
    p.add_argument("targets", type=Path)
    p.add_argument("parts", type=Path)
    p.add_argument("--mib", type=float, default=58.0, help="most MiB per part (the tree and scripts travel beside it)")
    u = sub.add_parser("unpack", help="the shards again, from parts")
    u.add_argument("out", type=Path)
    u.add_argument("parts", type=Path, nargs="+")
    s = sub.add_parser("librosa", help="a stand-in for librosa's mel basis, where librosa is not installed")
    s.add_argument("folder", type=Path)
    c = sub.add_parser("collect", help="runs' results into tars small enough to come back")
    c.add_argument("runs", type=Path)
    c.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "pack":
        for part in pack(args.targets, args.parts, args.mib):
            print(f"{part}: {part.stat().st_size / 2**20:.1f} MiB")
    elif args.command == "unpack":
        shards, windows = unpack(args.out, args.parts)
        print(f"unpacked {shards} shards, {windows} windows into {args.out}")
    elif args.command == "librosa":
        print(write_librosa_stand_in(args.folder))
    else:
        for tar in collect(args.runs, args.out):
            print(f"{tar}: {tar.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
