"""Find labelled tracks: a folder per genre (GTZAN's layout) or a CSV manifest."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

# What librosa decodes (libsndfile, else ffmpeg through audioread): a genre folder's AAC, WavPack or Matroska files
# were passed over without a word.
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".au", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aif", ".aiff", ".wma",
     ".aac", ".ac3", ".aifc", ".ape", ".caf", ".mka", ".mp2", ".mpc", ".spx", ".tta", ".webm", ".wv"}
)


class DatasetError(ValueError):
    """A data set that cannot be read: names the path and the reason."""


@dataclass(frozen=True)
class TrackRecord:
    """One labelled track; `artist` and `split` come from a manifest when it has them."""

    path: Path
    label: str
    artist: str | None = None
    split: str | None = None

    @property
    def key(self) -> str:
        """Name used to match split lists: the file name without extension (blues.00029)."""
        return self.path.stem


def discover(source: str | Path) -> list[TrackRecord]:
    """Tracks of a data set: a CSV manifest file, or a folder with one sub-folder per genre."""
    source = Path(source)
    if not source.exists():
        raise DatasetError(f"{source}: no such file or folder")
    records = read_manifest(source) if source.is_file() else scan_genre_folders(source)
    if not records:
        raise DatasetError(f"{source}: no audio files found")
    return records


def scan_genre_folders(root: Path) -> list[TrackRecord]:
    """<root>/<genre>/<...>/<name>.<audio ext>: the genre is the first folder below root."""
    records = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if len(rel.parts) < 2 or any(p.startswith(".") for p in rel.parts):
            continue
        if path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file():
            records.append(TrackRecord(path=path, label=rel.parts[0]))
    return records


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The column names and rows of a CSV file; DatasetError naming the file when it is not text, or not CSV (a
    song given as a manifest was "'utf-8' codec can't decode byte 0xff in position 3148", naming nothing)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            return list(reader.fieldnames or []), list(reader)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not a CSV file (not text: {exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise DatasetError(f"{path}: not a readable CSV file ({exc})") from exc


def read_manifest(csv_path: Path) -> list[TrackRecord]:
    """CSV with columns path,label[,artist][,split]; relative paths are relative to the CSV."""
    names, rows = read_csv(csv_path)
    fields = {f.strip().lower() for f in names}
    if not {"path", "label"} <= fields:
        raise DatasetError(f"{csv_path}: a manifest needs the columns path and label (has: {', '.join(sorted(fields))})")
    records = []
    for line_no, row in enumerate(rows, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not row.get("path") or not row.get("label"):
            raise DatasetError(f"{csv_path}:{line_no}: empty path or label")
        path = Path(row["path"])
        if not path.is_absolute():
            path = csv_path.parent / path
        split = row.get("split") or None
        if split is not None and split not in ("train", "valid", "test"):
            raise DatasetError(f"{csv_path}:{line_no}: split must be train, valid or test, not {split!r}")
        records.append(TrackRecord(path=path, label=row["label"], artist=row.get("artist") or None, split=split))
    return records
