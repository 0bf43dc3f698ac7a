"""Export tracks as an M3U8 playlist with paths relative to the playlist file."""

from __future__ import annotations

import os
import re
from pathlib import Path

from desktop.core.errors import GenreTaggerError
from desktop.core.output_files import check_output
from desktop.core.safe_write import atomic_write_text
from desktop.store.schema import Track

PLAYLIST_SUFFIXES = (".m3u8", ".m3u")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def entry_line(path: str, folder: Path) -> str | None:
    """A track's line, relative when possible; None for a name no playlist line can hold."""
    if CONTROL.search(path):
        return None  # a newline in a file name would split the entry into two lines
    try:
        line = os.path.relpath(path, folder)
    except ValueError:  # another drive on Windows: no relative path exists
        line = path
    return f"./{line}" if line.startswith("#") else line  # '#' would make it a comment


def playlist_file_name(genre: str) -> str:
    """A file name for a genre's playlist ("Hip-Hop.m3u8"): characters file systems refuse become "-"."""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", genre).strip(" .-")
    return f"{safe or 'playlist'}.m3u8"


def check_target(out: Path, force: bool) -> None:
    """Refuse to replace an audio file, or anything that is not a playlist, unless forced."""
    check_output(out, "playlist", PLAYLIST_SUFFIXES, lambda head: head.startswith(b"#EXTM3U"), force)


def write_m3u8(tracks: list[Track], out: str | Path, force: bool = False) -> tuple[Path, list[str]]:
    """Write an extended M3U in UTF-8, relative paths; return it and the tracks left out (odd names)."""
    out = Path(out).expanduser().absolute()
    check_target(out, force)
    lines, skipped = ["#EXTM3U"], []
    for t in tracks:
        line = entry_line(t.path, out.parent)
        if line is None:
            skipped.append(t.path)
            continue
        label = " - ".join(x for x in (t.artist, t.title) if x) or Path(t.path).stem
        lines.append(f"#EXTINF:{int(round(t.duration or 0))},{CONTROL.sub(' ', label)}")
        lines.append(line)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, "\n".join(lines) + "\n")
    except OSError as exc:
        blocking = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocking} is a file, not a folder" if blocking else exc.strerror or exc  # mkdir says "File exists"
        raise GenreTaggerError(out, f"cannot write playlist ({reason})") from exc
    return out, skipped
