"""Command line: python -m trainer {train,evaluate,export,synth} ..."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import fields

from trainer.augment import AUGMENTATIONS
from trainer.config import TrainConfig, load_config_file
from trainer.models import model_names


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One --flag per TrainConfig field; unset flags do not override the config file or checkpoint."""
    helps = {
        "data": "data set: a folder per genre or a CSV manifest (path,label[,artist][,split])",
        "splits": "folder with train*.txt, valid*.txt, test*.txt split lists (e.g. GTZAN fault-filtered)",
        "out": "run folder for checkpoints and reports",
        "cache": "folder for decoded audio",
        "model": f"one of {', '.join(model_names())}",
        "augment": f"comma list of {', '.join(AUGMENTATIONS)}, or none",
        "early_stop": "val_loss or val_acc",
        "device": "auto, cpu, cuda or cuda:N",
        "init_weights": "MobileNet initial weights (state dict file)",
    }
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            parser.add_argument(flag, dest=f.name, default=None, action=argparse.BooleanOptionalAction, help=helps.get(f.name))
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            parser.add_argument(flag, dest=f.name, default=None, type=kind, help=helps.get(f.name))


def build_parser() -> argparse.ArgumentParser:
    """The trainer's argument parser."""
    parser = argparse.ArgumentParser(prog="python -m trainer", description="Train, evaluate and export genre models.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model (torchrun --nproc-per-node N for several GPUs)")
    train.add_argument("--config", help="YAML or JSON file with config keys; flags override it")
    train.add_argument("--resume", help="checkpoint to continue from (its config is reused)")
    add_config_flags(train)
    ev = sub.add_parser("evaluate", help="write a report folder for a checkpoint")
    ev.add_argument("--checkpoint", required=True)
    ev.add_argument("--out", help="report folder (default: <run>/report)")
    ev.add_argument("--split", default="test", choices=["train", "valid", "test"])
    ev.add_argument("--data", help="evaluate on every track of another data set instead")
    ex = sub.add_parser("export", help="export a checkpoint to ONNX with metadata")
    ex.add_argument("--checkpoint", required=True)
    ex.add_argument("--out", required=True, help="the .onnx file to write")
    ex.add_argument("--report", help="report.json whose test figures go into the metadata (default: <run>/report)")
    ex.add_argument("--opset", type=int, default=17)
    sy = sub.add_parser("synth", help="write a small synthetic data set (for trying the trainer out)")
    sy.add_argument("out")
    sy.add_argument("--per-genre", type=int, default=10)
    sy.add_argument("--seconds", type=float, default=8.0)
    return parser


def config_for(args) -> TrainConfig:
    """Resume: checkpoint config; else defaults <- config file <- flags."""
    values: dict = {}
    if args.resume:
        from trainer.checkpoint import load_checkpoint

        values = load_checkpoint(args.resume)["config"]
    elif args.config:
        values = load_config_file(args.config)
    for f in fields(TrainConfig):
        if getattr(args, f.name, None) is not None:
            values[f.name] = getattr(args, f.name)
    cfg = TrainConfig.from_dict(values)
    if not cfg.data:
        raise SystemExit("error: --data (or data: in the config file) is required")
    return cfg


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            from trainer.train import train

            best = train(config_for(args), resume=args.resume)
            if os.environ.get("RANK", "0") == "0":  # under torchrun only the main process reports
                print(f"best checkpoint: {best}")
        elif args.command == "evaluate":
            from trainer.evaluate import evaluate

            evaluate(args.checkpoint, args.out, args.split, args.data)
        elif args.command == "export":
            from trainer.export import export

            export(args.checkpoint, args.out, args.report, args.opset)
        elif args.command == "synth":
            from trainer.synth import write_dataset

            paths = write_dataset(args.out, args.per_genre, args.seconds)
            print(f"wrote {len(paths)} tracks under {args.out}")
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
