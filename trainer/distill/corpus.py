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

import numpy as np

from trainer.data.sources import AUDIO_EXTENSIONS, read_csv


@dataclass(frozen=True)
class PackageMusic:
    """Where a package keeps its music: a folder inside the package, and archive members."""

    folder: str
    archive_prefix: str | None = None  # for .pk3 (zip) archives: the member folder holding music
    # Multitrack songs (one folder per song, one file per instrument): mixed into one file per song,
    # because a lone guitar or backing stem is not what a listener's library holds.
    stems: tuple[str, ...] = ()
    # Which files under the folder (a pathlib rglob pattern): for packages whose music lies beside sound effects.
    pattern: str = "*"
    # In the shipped recipe's corpus; the others are fetched only when named (see models/default.md).
    default: bool = True


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
    # Not in the default corpus: adding these 4.4 hours (and 10 epochs) scored 3 points lower held out.
    # Rock and metal songs with vocals (Frets on Fire): backing track + guitar, mixed per song.
    "fretsonfire-songs-muldjord": PackageMusic("usr/share/games/fretsonfire/data/songs", stems=("song.ogg", "guitar.ogg"),
                                               default=False),
    "fretsonfire-songs-sectoid": PackageMusic("usr/share/games/fretsonfire/data/songs", stems=("song.ogg", "guitar.ogg"),
                                              default=False),
    "warmux-data": PackageMusic("usr/share/games/warmux/music", default=False),
    "supertuxkart-data": PackageMusic("usr/share/games/supertuxkart/data/music", default=False),
    "supertux-data": PackageMusic("usr/share/games/supertux2/music", default=False),
    "xmoto-data": PackageMusic("usr/share/games/xmoto/Textures/Musics", default=False),
    "megaglest-data": PackageMusic("usr/share/games/megaglest", pattern="music/*", default=False),
    "frozen-bubble-data": PackageMusic("usr/share/games/frozen-bubble/snd", pattern="*zik*", default=False),
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
        if spec.stems:
            return mix_stem_folders(root, spec.stems, dest)
        for path in sorted(root.rglob(spec.pattern)):
            rel = path.relative_to(root)
            if path.is_file() and is_audio(path.name) and spec.archive_prefix is None:
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                copied.append(target)
            elif path.is_file() and path.suffix.lower() == ".pk3" and spec.archive_prefix:
                copied += extract_archive_members(path, spec.archive_prefix, dest)
    return copied


def mix_stems(stems: list[Path], target: Path) -> Path:
    """Sum the stems of one song (mono, each at its own length) into one FLAC file; peak kept below clipping."""
    import librosa
    import soundfile

    tracks, rates = [], set()
    for stem in stems:
        try:
            audio, rate = librosa.load(stem, sr=None, mono=True)
        except Exception as exc:  # librosa raises several types for unreadable audio
            raise CorpusError(f"{stem}: cannot decode stem: {exc}") from exc
        tracks.append(audio)
        rates.add(rate)
    if len(rates) != 1:
        raise CorpusError(f"{stems[0].parent}: stems at different sample rates {sorted(rates)}")
    mix = np.zeros(max(len(t) for t in tracks), dtype=np.float32)  # [samples]
    for track in tracks:
        mix[: len(track)] += track
    peak = float(np.abs(mix).max(initial=0.0))
    if peak > 0.99:
        mix *= 0.99 / peak
    target.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(target, mix, rates.pop(), format="FLAC")
    return target


def mix_stem_folders(root: Path, stems: tuple[str, ...], dest: Path) -> list[Path]:
    """One mixed FLAC per folder under root that holds the stems (those it holds of them)."""
    mixed = []
    for folder in sorted({p.parent for p in root.rglob("*") if p.is_file() and p.name in stems}):
        parts = [folder / name for name in stems if (folder / name).is_file()]
        mixed.append(mix_stems(parts, dest / folder.relative_to(root).parent / f"{folder.name}.flac"))
    return mixed


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


def default_packages() -> list[str]:
    """The packages of the shipped recipe's corpus, in registry order."""
    return [name for name, spec in PACKAGES.items() if spec.default]


def build_corpus(out: str | Path, packages: list[str] | None = None, folders: list[str] | None = None, say=print) -> Path:
    """Download, unpack and list the corpus; returns the manifest path. Safe to re-run."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    audio_root = out / "audio"
    rows: list[tuple[str, str]] = []
    for name in packages if packages is not None else default_packages():
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
    manifest = write_manifest(out, rows)
    say(f"{len(rows)} files listed in {manifest}")
    return manifest


def write_manifest(out: Path, rows: list[tuple[str, str]]) -> Path:
    """out/manifest.csv with a (path, source) row per file, replaced whole (never left half-written)."""
    manifest = out / "manifest.csv"
    partial = manifest.with_suffix(".part")
    with open(partial, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "source"])
        writer.writerows(rows)
    partial.replace(manifest)
    return manifest


def read_corpus(manifest: str | Path) -> list[tuple[Path, str]]:
    """(absolute path, source) for every file of a corpus manifest."""
    manifest = Path(manifest)
    if not manifest.is_file():
        raise CorpusError(f"{manifest}: no corpus manifest (run python -m trainer corpus first)")
    names, rows = read_csv(manifest)
    if not {"path", "source"} <= set(names):
        raise CorpusError(f"{manifest}: a corpus manifest needs the columns path and source")
    return [(manifest.parent / row["path"], row["source"]) for row in rows]
