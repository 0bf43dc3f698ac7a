"""Export tracks as an M3U8 playlist with paths relative to the playlist file."""

from __future__ import annotations

import os
from pathlib import Path

from desktop.core.errors import GenreTaggerError
from desktop.store.schema import Track


def write_m3u8(tracks: list[Track], out: str | Path) -> Path:
    """Write an extended M3U in UTF-8; paths are relative so the playlist moves with the music."""
    out = Path(out).expanduser().absolute()
    lines = ["#EXTM3U"]
    for t in tracks:
        label = " - ".join(x for x in (t.artist, t.title) if x) or Path(t.path).stem
        lines.append(f"#EXTINF:{int(round(t.duration or 0))},{label}")
        try:
            lines.append(os.path.relpath(t.path, out.parent))
        except ValueError:  # another drive on Windows: no relative path exists
            lines.append(t.path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise GenreTaggerError(out, f"cannot write playlist ({exc.strerror or exc})") from exc
    return out
