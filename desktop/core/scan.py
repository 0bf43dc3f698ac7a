"""Walk music folders: supported files only, hidden ones skipped, symlink loops never followed."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop.core.formats import is_supported


@dataclass(frozen=True)
class FoundFile:
    """A music file and the stat figures that tell whether it changed."""

    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class ScanProblem:
    """A folder or file that could not be read, and why."""

    path: Path
    reason: str


def walk_music(roots: Iterable[str | Path], on_problem: Callable[[ScanProblem], None]) -> Iterator[FoundFile]:
    """Yield supported files under `roots` in a stable order; report problems and carry on."""
    seen_dirs: set[tuple[int, int]] = set()
    for root in roots:
        root = Path(root).expanduser()
        if not root.is_dir():
            on_problem(ScanProblem(root, "not a folder" if root.exists() else "folder not found"))
            continue
        yield from _walk(root.absolute(), seen_dirs, on_problem)


def _walk(folder: Path, seen: set, on_problem) -> Iterator[FoundFile]:
    try:
        st = folder.stat()
        if (st.st_dev, st.st_ino) in seen:  # a symlink back into a folder already walked
            return
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        on_problem(ScanProblem(folder, f"cannot read folder ({exc.strerror or exc})"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=True):
                yield from _walk(path, seen, on_problem)
            elif is_supported(path) and entry.is_file(follow_symlinks=True):
                st = entry.stat(follow_symlinks=True)
                if not os.access(path, os.R_OK):
                    on_problem(ScanProblem(path, "file is not readable (permission denied)"))
                    continue
                yield FoundFile(path, st.st_size, st.st_mtime_ns)
        except OSError as exc:  # a dangling symlink, a file removed during the walk
            on_problem(ScanProblem(path, f"cannot read ({exc.strerror or exc})"))
