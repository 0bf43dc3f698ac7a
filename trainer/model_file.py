"""Where an exported model goes: a file named .onnx, which the app finds models by, written whole or not at all."""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterator
from pathlib import Path

ONNX_SUFFIX = ".onnx"


class ModelFileError(ValueError):
    """The place given for a model is not one a model can be written to; nothing was written."""


def model_out(out: str | Path) -> Path:
    """`out` checked as the name of a model to write; ModelFileError for a folder or a name not ending in .onnx (an
    audio file's among them: `--out song.mp3` replaced the song with the model)."""
    out = Path(out)
    if out.is_dir():
        raise ModelFileError(f"{out}: is a folder; give the .onnx file to write (e.g. {out / 'model.onnx'})")
    if out.suffix.lower() != ONNX_SUFFIX:
        raise ModelFileError(f"{out}: a model's file name ends in {ONNX_SUFFIX} (the app finds models by it); "
                             "nothing written")
    return out


@contextlib.contextmanager
def written_whole(out: str | Path) -> Iterator[Path]:
    """A hidden name beside `out` to write the model to, which takes `out`'s place when the block ends well and is
    removed when it fails: a failed check or a stopped run never leaves a half or wrong model where the app looks,
    nor takes away the model that was there."""
    out = model_out(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelFileError(f"{out}: cannot make its folder ({exc.strerror or exc})") from exc
    sweep_leftovers(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")  # not *.onnx: never listed as a model while written
    try:
        yield tmp
        os.replace(tmp, out)
    except OSError as exc:
        raise ModelFileError(f"{out}: cannot write the model ({exc.strerror or exc}); nothing written") from exc
    finally:
        tmp.unlink(missing_ok=True)


def scratch_name(tmp: Path, purpose: str) -> Path:
    """Another hidden name beside a model being written (a step's own output), swept as its leftovers are."""
    return tmp.with_name(f"{tmp.name.removesuffix('.tmp')}.{purpose}.tmp")


def sweep_leftovers(out: Path) -> None:
    """Delete what a stopped (killed) write of `out` left: the hidden files of a process no longer running."""
    for left in out.parent.glob(f".{glob.escape(out.name)}.*.tmp"):
        pid = left.name[len(out.name) + 2:].split(".")[0]
        if pid.isdigit() and not _running(int(pid)):
            left.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """A process with this id is running (another user's too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
