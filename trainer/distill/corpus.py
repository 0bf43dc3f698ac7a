"""Rebuild the unlabelled distillation corpus from Debian packages and local folders.

Nothing is committed: the corpus is downloaded (``apt-get download``, no root needed) and
unpacked into a folder of plain audio files plus ``manifest.csv`` (path, source).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from trainer.data.sources import AUDIO_EXTENSIONS


@dataclass(frozen=True)
class PackageMusic:
    """Where a package keeps its music: a folder inside the package, and archive members."""

    folder: str
    archive_prefix: str | None = None  # for .pk3 (zip) archives: the member folder holding music


# Debian packages with real music (game soundtracks, several styles; see ../shared/datasets/README.md).
PACKAGES: dict[str, PackageMusic] = {
    "wesnoth-1.16-music": PackageMusic("usr/share/games/wesnoth/1.16/data/core/music"),
    "ufoai-music": PackageMusic("usr/share/games/ufoai/base", archive_prefix="music/"),
    "warzone2100-music": PackageMusic("usr/share/games/warzone2100/music"),
    "planetblupi-music-ogg": PackageMusic("usr/share/planetblupi/music"),
    "hedgewars-data": PackageMusic("usr/share/games/hedgewars/Data/Music"),
    "nexuiz-music": PackageMusic("usr/share/games/nexuiz/data", archive_prefix="sound/cdtracks/"),
    "singularity-music": PackageMusic("usr/share/games/singularity/music"),
    "drascula-music": PackageMusic("usr/share/scummvm/drascula/audio"),
    "hyperrogue-music": PackageMusic("usr/share/hyperrogue/music"),
    "asc-music": PackageMusic("usr/share/games/asc/music"),
}


class CorpusError(RuntimeError):
    """A corpus source that could not be fetched or read: names it and the reason."""


def is_audio(name: str) -> bool:
    """True for a file name with an audio extension."""
    return Path(name).suffix.lower() in AUDIO_EXTENSIONS


def download_package(name: str, into: Path) -> Path:
    """`apt-get download NAME` into a folder; the .deb path, or CorpusError with apt's message."""
    into.mkdir(parents=True, exist_ok=True)
    existing = sorted(into.glob(f"{name}_*.deb"))
    if existing:
        return existing[-1]
    result = subprocess.run(["apt-get", "download", name], cwd=into, capture_output=True, text=True)
    found = sorted(into.glob(f"{name}_*.deb"))
    if result.returncode != 0 or not found:
        raise CorpusError(f"apt-get download {name} failed: {result.stderr.strip() or result.stdout.strip()}")
    return found[-1]


def extract_package_music(deb: Path, spec: PackageMusic, dest: Path) -> list[Path]:
    """Unpack a .deb and copy its music (loose files and archive members) under dest."""
    copied: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
        root = Path(tmp) / spec.folder
        if not root.is_dir():
            raise CorpusError(f"{deb.name}: no folder {spec.folder} inside")
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and is_audio(path.name) and spec.archive_prefix is None:
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                copied.append(target)
            elif path.is_file() and path.suffix.lower() == ".pk3" and spec.archive_prefix:
                copied += extract_archive_members(path, spec.archive_prefix, dest)
    return copied


def extract_archive_members(archive: Path, prefix: str, dest: Path) -> list[Path]:
    """Copy the audio members under `prefix` of a zip archive (.pk3) into dest."""
    copied = []
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            if member.startswith(prefix) and is_audio(member) and ".." not in Path(member).parts:
                target = dest / Path(member).relative_to(prefix)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                copied.append(target)
    return copied


def build_corpus(out: str | Path, packages: list[str] | None = None, folders: list[str] | None = None, say=print) -> Path:
    """Download, unpack and list the corpus; returns the manifest path. Safe to re-run."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    audio_root = out / "audio"
    rows: list[tuple[str, str]] = []
    for name in packages if packages is not None else list(PACKAGES):
        if name not in PACKAGES:
            raise CorpusError(f"unknown package {name!r}; known: {', '.join(PACKAGES)}")
        dest = audio_root / name
        if not (dest.is_dir() and any(dest.rglob("*"))):
            deb = download_package(name, out / "debs")
            files = extract_package_music(deb, PACKAGES[name], dest)
            say(f"{name}: {len(files)} audio files")
        rows += [(str(p.relative_to(out)), name) for p in sorted(dest.rglob("*")) if p.is_file() and is_audio(p.name)]
    for folder in folders or []:
        root = Path(folder)
        if not root.is_dir():
            raise CorpusError(f"{root}: not a folder")
        rows += [(str(p.resolve()), root.name) for p in sorted(root.rglob("*")) if p.is_file() and is_audio(p.name)]
    manifest = out / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "source"])
        writer.writerows(rows)
    say(f"{len(rows)} files listed in {manifest}")
    return manifest


def read_corpus(manifest: str | Path) -> list[tuple[Path, str]]:
    """(absolute path, source) for every file of a corpus manifest."""
    manifest = Path(manifest)
    if not manifest.is_file():
        raise CorpusError(f"{manifest}: no corpus manifest (run python -m trainer corpus first)")
    with open(manifest, newline="", encoding="utf-8") as fh:
        return [(manifest.parent / row["path"], row["source"]) for row in csv.DictReader(fh)]
