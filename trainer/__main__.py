"""Command line: python -m trainer {train,evaluate,export,quantize,corpus,band,teach,distill,adapt,crossval,fidelity,fit-head,synth} ..."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import fields

from trainer.augment import AUGMENTATIONS
from trainer.config import TrainConfig, load_config_file
from trainer.models import model_names

# The training precisions of trainer.distill.distill.PRECISIONS, for three subcommands' --precision.
PRECISION_CHOICES = ("fp32", "bf16", "auto")


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
    ex.add_argument("--version", help="model_version in the metadata (default: the checkpoint's); a retrained model needs a new one")
    qu = sub.add_parser("quantize", help="int8 version of an exported model, calibrated on real audio")
    qu.add_argument("--model", required=True, help="the exported float .onnx")
    qu.add_argument("--out", required=True, help="the int8 .onnx to write")
    qu.add_argument("--calibration", required=True, help="folder of audio, or a CSV with a path column (e.g. the corpus manifest)")
    qu.add_argument("--windows", type=int, default=256, help="calibration windows (as many again check the result)")
    qu.add_argument("--cache", default=".cache/decoded")
    co = sub.add_parser("corpus", help="rebuild the unlabelled corpus from Debian packages and folders")
    co.add_argument("--out", required=True, help="corpus folder (audio/, debs/, manifest.csv)")
    co.add_argument("--packages", help="comma list of package names, or all (default: the shipped recipe's)")
    co.add_argument("--folder", action="append", default=[], help="add every audio file of a folder (repeatable)")
    ba = sub.add_parser("band", help="compose and render band arrangements in popular styles into an unlabelled corpus")
    ba.add_argument("--out", required=True, help="corpus folder (audio/, manifest.csv); teach --corpus takes its manifest")
    ba.add_argument("--pieces", type=int, default=600, help="pieces, the styles taken in turn")
    ba.add_argument("--seconds", type=float, default=30.0, help="length of each piece")
    ba.add_argument("--soundfont", help="General MIDI soundfont (.sf2; default: Debian fluid-soundfont-gm's FluidR3_GM.sf2)")
    ba.add_argument("--styles", help="comma list of styles (default: all)")
    ba.add_argument("--seed", type=int, default=0)
    ba.add_argument("--mastering", default="drive",
                    help="drive: the whole mix into a soft clipper (session 19); amp: the guitars through an "
                         "amplifier, the mix at a record's loudness")
    te = sub.add_parser("teach", help="teacher outputs for every 3 s window of a corpus")
    te.add_argument("--corpus", required=True, help="the corpus manifest.csv (with --clips: the underlay tracks)")
    te.add_argument("--teacher", required=True,
                    help="musicnn ONNX model (e.g. ../shared/peers/musicnn-msd.onnx); FILE#pooled-maps stores its pooled "
                         "inner maps (1,506 values) instead of its 200-unit embedding")
    te.add_argument("--out", required=True, help="folder for the target shards")
    te.add_argument("--cache", default=".cache/decoded")
    te.add_argument("--hop-seconds", type=float,
                    help="step between windows (default: the 3 s window, no overlap); 1.5 gives twice the windows")
    te.add_argument("--mixed", type=int, metavar="N",
                    help="instead of the corpus windows, N windows each mixing two corpus tracks at random speeds and "
                         "levels (distill --more-windows takes the folder)")
    te.add_argument("--clips", metavar="DATA",
                    help="instead of the corpus windows, --variants varied windows of every clip of a labelled set "
                         "(manifest or folder; its labels are not read), for adapt")
    te.add_argument("--variants", type=int, default=64, help="windows per clip (--clips)")
    te.add_argument("--seed", type=int, default=0, help="seed of the mixed or varied windows (--mixed, --clips)")
    di = sub.add_parser("distill", help="train a student on teacher targets")
    di.add_argument("--targets", required=True, nargs="+", help="targets folder(s), one per teacher, same corpus")
    di.add_argument("--more-windows", nargs="+", default=[],
                    help="folder(s) of more windows by the same teacher(s), e.g. teach --mixed; they only train")
    di.add_argument("--out", required=True)
    di.add_argument("--model", default="cnn", choices=model_names())
    di.add_argument("--width", type=float, default=1.0)
    di.add_argument("--hop-length", type=int, default=256, help="student STFT hop, a multiple of the targets' 256")
    di.add_argument("--epochs", type=int, default=6)
    di.add_argument("--batch-size", type=int, default=64)
    di.add_argument("--lr", type=float, default=2e-3)
    di.add_argument("--relation-weight", type=float, default=0.0,
                    help="weight of the term that keeps the batch's pairwise similarities of the student's embedding "
                         "those of the first teacher's (0: none)")
    di.add_argument("--seed", type=int, default=0,
                    help="seed of the initial weights, the validation windows and the batch order")
    di.add_argument("--device", default="auto")
    di.add_argument("--probe", default="", help="labelled clips (manifest or folder): frozen-probe accuracy after every epoch")
    di.add_argument("--probe-cache", default=".cache/decoded", help="decoded-audio cache for the probe clips")
    di.add_argument("--keep-every", type=int, default=0,
                    help="keep the weights every K epochs as epoch-NNN.pt (model only), to probe later elsewhere; 0: none")
    di.add_argument("--precision", default="fp32", choices=PRECISION_CHOICES,
                    help="bf16: the forward pass under bfloat16 autocast (3x faster where the CPU or GPU has it); auto: bf16 where native")
    ad = sub.add_parser("adapt", help="continue a distilled student on corpus windows and the clips' varied windows")
    ad.add_argument("--checkpoint", required=True, help="distilled checkpoint (distill's best.pt)")
    ad.add_argument("--targets", required=True, nargs="+", help="its distillation's targets folder(s), teachers in order")
    ad.add_argument("--clips", required=True, nargs="+", help="teach --clips folder(s), the same teachers in the same order")
    ad.add_argument("--out", required=True, help="run folder for adapted.pt")
    ad.add_argument("--data", default="", help="the labelled set the clips came from (needed by --hold-out-fold)")
    ad.add_argument("--hold-out-fold", type=int, default=0,
                    help="1..FOLDS: leave out the clips crossval puts in that fold (honest cross-validation); 0: none")
    ad.add_argument("--folds", type=int, default=5)
    ad.add_argument("--cache", default=".cache/decoded")
    ad.add_argument("--epochs", type=int, default=4)
    ad.add_argument("--corpus-per-epoch", type=int, default=12000, help="corpus windows drawn each epoch beside the clips'")
    ad.add_argument("--lr", type=float, default=1e-3)
    ad.add_argument("--device", default="auto")
    ad.add_argument("--precision", default="fp32", choices=PRECISION_CHOICES)
    cv = sub.add_parser("crossval", help="artist-grouped cross-validation of one method on a labelled set")
    cv.add_argument("method", choices=["probe", "finetune", "features", "scratch", "peer", "teacher"])
    cv.add_argument("--data", required=True, help="folder per genre or manifest (path,label,artist)")
    cv.add_argument("--out", required=True, help="report folder; the method's report goes to OUT/METHOD")
    cv.add_argument("--checkpoint", help="distilled checkpoint (probe, finetune); a path with {fold} in it names each fold's own "
                                          "(e.g. adapt --hold-out-fold N)")
    cv.add_argument("--peer", help="peer ONNX classifier on musicnn input (peer)")
    cv.add_argument("--teacher", nargs="+", help="musicnn teacher ONNX file(s) (finetune: the distillation's, in order; "
                                                 "teacher: whose own embedding the probe's head reads)")
    cv.add_argument("--finetune-epochs", type=int, default=4)
    cv.add_argument("--finetune-seed", type=int, nargs="+", default=[0],
                    help="seed(s) of the fine-tuning runs (the folds stay the same); several: one report each and their mean")
    cv.add_argument("--folds", type=int, default=5)
    cv.add_argument("--fold-seed", type=int, nargs="+", default=[0],
                    help="draw(s) of the artist-grouped folds; several (probe, features, teacher): one report each and their mean")
    cv.add_argument("--cache", default=".cache/decoded")
    cv.add_argument("--config", help="YAML/JSON training config for the scratch method")
    cv.add_argument("--precision", default="fp32", choices=PRECISION_CHOICES, help="of the fine-tuning runs (finetune)")
    cv.add_argument("--teacher-weight", type=float, default=1.0,
                    help="finetune: weight of the teacher's embedding and tags against the genre loss")
    cv.add_argument("--genre-teacher-weight", type=float, default=0.0,
                    help="finetune: weight of the teacher's genre opinion (a head on its embedding, cross-fitted by "
                         "artist, tempered) as soft targets; 0: off (models/default.md, session 21)")
    cv.add_argument("--features", default="embedding", choices=["embedding", "embedding+tags", "teacher-embedding"],
                    help="what the probe's head reads (probe): the embedding, also the student's copy of the teacher's "
                         "50 tags, or its copy of the teacher's embedding")
    fi = sub.add_parser("fidelity", help="how faithfully a distilled student copies its teacher, on labelled clips and corpus windows")
    fi.add_argument("--checkpoint", required=True, help="distilled checkpoint")
    fi.add_argument("--data", required=True, help="labelled clips (manifest or folder)")
    fi.add_argument("--teacher", required=True, nargs="+", help="the distillation's teacher(s), in order")
    fi.add_argument("--targets", nargs="+",
                    help="the distillation's targets folder(s), teachers in order: also measure its validation windows")
    fi.add_argument("--cache", default=".cache/decoded")
    fh = sub.add_parser("fit-head", help="genre head on a distilled model, fitted on every clip -> checkpoint")
    fh.add_argument("--checkpoint", required=True, help="distilled checkpoint")
    fh.add_argument("--data", required=True)
    fh.add_argument("--out", required=True, help="run folder for model.pt")
    fh.add_argument("--report", help="cross-validation report.json to carry into the export")
    fh.add_argument("--dataset-name", help="what the model says it was trained on")
    fh.add_argument("--cache", default=".cache/decoded")
    fh.add_argument("--teacher", nargs="+", help="musicnn teacher ONNX file(s), the distillation's in order: fine-tune the network on the clips first")
    fh.add_argument("--finetune-epochs", type=int, default=4)
    fh.add_argument("--precision", default="fp32", choices=PRECISION_CHOICES, help="of the fine-tuning run")
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
    return cfg.with_paths_resolved()


def run_corpus(args) -> None:
    """python -m trainer corpus."""
    from trainer.distill.corpus import PACKAGES, build_corpus

    chosen = list(PACKAGES) if args.packages == "all" else args.packages.split(",") if args.packages else None
    build_corpus(args.out, chosen, args.folder)


def run_band(args) -> None:
    """python -m trainer band."""
    from trainer.distill.band_corpus import DEFAULT_SOUNDFONT, build_band_corpus

    build_band_corpus(args.out, args.pieces, args.soundfont or DEFAULT_SOUNDFONT, args.seconds, args.seed,
                      args.styles.split(",") if args.styles else None, args.mastering)


def run_teach(args) -> None:
    """python -m trainer teach."""
    if args.mixed is not None and args.clips:
        raise ValueError("--mixed and --clips are two kinds of windows; make each in its own folder")
    if args.clips:
        from trainer.distill.clips import prepare_clip_targets

        prepare_clip_targets(args.clips, args.teacher, args.out, args.variants, corpus=args.corpus, cache=args.cache,
                             seed=args.seed)
        return
    if args.mixed is not None:
        from trainer.distill.mixing import prepare_mixed_targets

        prepare_mixed_targets(args.corpus, args.teacher, args.out, args.mixed, cache=args.cache, seed=args.seed)
        return
    from trainer.distill.targets import prepare_targets

    prepare_targets(args.corpus, args.teacher, args.out, cache=args.cache, hop_seconds=args.hop_seconds)


def run_distill(args) -> None:
    """python -m trainer distill."""
    from trainer.distill.distill import DistillConfig, distill

    cfg = DistillConfig(targets=args.targets, more_windows=args.more_windows, out=args.out, model=args.model,
                        width=args.width, hop_length=args.hop_length, epochs=args.epochs, batch_size=args.batch_size,
                        lr=args.lr, relation_weight=args.relation_weight, seed=args.seed, device=args.device, probe=args.probe,
                        probe_cache=args.probe_cache, precision=args.precision, keep_every=args.keep_every)
    print(f"best checkpoint: {distill(cfg)}")


def run_adapt(args) -> None:
    """python -m trainer adapt."""
    from trainer.distill.adapt import AdaptConfig, adapt

    cfg = AdaptConfig(checkpoint=args.checkpoint, targets=args.targets, clips=args.clips, data=args.data, cache=args.cache,
                      hold_out_fold=args.hold_out_fold, folds=args.folds, out=args.out, epochs=args.epochs,
                      corpus_per_epoch=args.corpus_per_epoch, lr=args.lr, precision=args.precision, device=args.device)
    print(f"adapted checkpoint: {adapt(cfg)}")


def run_crossval(args) -> None:
    """python -m trainer crossval."""
    from trainer.distill.crossval import crossval

    scratch = load_config_file(args.config) if args.config else None
    crossval(args.method, args.data, args.out, checkpoint=args.checkpoint, peer=args.peer, teacher=args.teacher,
             folds=args.folds, fold_seed=args.fold_seed,
             cache=args.cache, scratch=scratch, finetune_epochs=args.finetune_epochs,
             finetune_seed=args.finetune_seed, precision=args.precision, features=args.features,
             teacher_weight=args.teacher_weight, genre_teacher_weight=args.genre_teacher_weight)


def run_fit_head(args) -> None:
    """python -m trainer fit-head."""
    from trainer.distill.crossval import fit_genre_model

    fit_genre_model(args.checkpoint, args.data, args.out, args.report, cache=args.cache, dataset_name=args.dataset_name,
                    teacher=args.teacher, finetune_epochs=args.finetune_epochs, precision=args.precision)


def run_quantize(args) -> None:
    """python -m trainer quantize."""
    from trainer.quantize import quantize

    quantize(args.model, args.out, args.calibration, cache=args.cache, windows=args.windows)


def run_fidelity(args) -> None:
    """python -m trainer fidelity."""
    from trainer.distill.fidelity import fidelity

    fidelity(args.checkpoint, args.data, args.teacher, cache=args.cache, targets=args.targets)


# Subcommands of the distillation recipe: name -> runner (a registry, not an if-chain).
RECIPE_COMMANDS = {"corpus": run_corpus, "band": run_band, "teach": run_teach, "distill": run_distill, "adapt": run_adapt,
                   "crossval": run_crossval, "fidelity": run_fidelity, "fit-head": run_fit_head, "quantize": run_quantize}


FILE_IN_THE_WAY = "a file stands where a folder is needed (this, or one on its path); nothing written"


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

            export(args.checkpoint, args.out, args.report, args.opset, version=args.version)
        elif args.command in RECIPE_COMMANDS:
            RECIPE_COMMANDS[args.command](args)
        elif args.command == "synth":
            from trainer.synth import write_dataset

            paths = write_dataset(args.out, args.per_genre, args.seconds)
            print(f"wrote {len(paths)} tracks under {args.out}")
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder it could not read or write (our own words where we raised it): no traceback
        # "File exists" said of `--out song.mp3` where a report folder was to be made
        reason = (FILE_IN_THE_WAY if isinstance(exc, FileExistsError | NotADirectoryError) else exc.strerror)
        print(f"error: {exc.filename}: {reason}" if exc.filename and reason else f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
