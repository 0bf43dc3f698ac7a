"""RIFF INFO tags of WAV files (IGNR is the genre): read them, and rewrite the LIST/INFO chunk.

ffprobe and several players read only these, not the ID3 chunk, so a WAV's genre is kept in both.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

from desktop.core.errors import TagReadError, TagWriteError

GENRE_KEY = b"IGNR"
ENCODING = "utf-8"  # the spec says ASCII; UTF-8 is what taggers write in practice


def _chunks(fh, end: int):
    """(id, data offset, size) of each chunk between the current position and `end`."""
    while fh.tell() + 8 <= end:
        header = fh.read(8)
        if len(header) < 8:
            return
        cid, size = header[:4], struct.unpack("<I", header[4:])[0]
        start = fh.tell()
        yield cid, start, size
        fh.seek(start + size + (size & 1))


def _layout(fh, path: Path) -> tuple[int, list[tuple[bytes, int, int]]]:
    head = fh.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise TagReadError(path, "not a RIFF WAVE file")
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    fh.seek(12)
    return end, list(_chunks(fh, end))


def read_info(path: str | Path) -> dict[str, str]:
    """The INFO fields of a WAV file, e.g. {'IGNR': 'Rock', 'INAM': 'Title'}."""
    path = Path(path)
    info: dict[str, str] = {}
    try:
        with open(path, "rb") as fh:
            end, chunks = _layout(fh, path)
            for cid, start, size in chunks:
                if cid != b"LIST" or _list_type(fh, start) != b"INFO":
                    continue
                for sub, sub_start, sub_size in _chunks(fh, min(start + size, end)):
                    here = fh.tell()
                    fh.seek(sub_start)
                    info[sub.decode("latin-1")] = fh.read(sub_size).split(b"\0", 1)[0].decode(ENCODING, "replace")
                    fh.seek(here)
    except OSError as exc:
        raise TagReadError(path, f"cannot read RIFF INFO ({exc.strerror})") from exc
    return info


def _info_chunk(fields: dict[str, str]) -> bytes:
    body = b"INFO"
    for key, value in fields.items():
        data = value.encode(ENCODING) + b"\0"
        body += key.encode("latin-1")[:4].ljust(4) + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")
    return b"LIST" + struct.pack("<I", len(body)) + body


def _list_type(fh, start: int) -> bytes:
    """The four-letter type of the LIST chunk whose data starts at `start`."""
    fh.seek(start)
    return fh.read(4)


def set_info(path: str | Path, key: str, value: str | None, scratch: Path) -> None:
    """Set (or with None remove) one INFO field, rewriting the file through `scratch`.

    The other chunks, the audio among them, are copied byte for byte in their order; the INFO list
    takes the place of the old one (or goes at the end). Call it on a copy: safe_modify checks the audio.
    """
    path = Path(path)
    try:
        fields = read_info(path)  # every INFO list's fields; they are written back as one list
        with open(path, "rb") as src:
            end, chunks = _layout(src, path)
            info_at = next((n for n, (cid, start, _size) in enumerate(chunks)
                            if cid == b"LIST" and _list_type(src, start) == b"INFO"), None)
            if value:
                fields[key] = value
            else:
                fields.pop(key, None)
            with open(scratch, "wb") as out:
                out.write(b"RIFF\0\0\0\0WAVE")
                for n, (cid, start, size) in enumerate(chunks):
                    if cid == b"LIST" and _list_type(src, start) == b"INFO":
                        if n == info_at and fields:
                            out.write(_info_chunk(fields))
                        continue
                    size = min(size, end - start)  # a truncated last chunk is copied as it is
                    src.seek(start - 8)
                    out.write(src.read(8))
                    shutil.copyfileobj(_Limited(src, size + (size & 1 if start + size < end else 0)), out)
                if info_at is None and fields:
                    out.write(_info_chunk(fields))
                total = out.tell()
                out.seek(4)
                out.write(struct.pack("<I", total - 8))
        os.replace(scratch, path)
    except OSError as exc:
        raise TagWriteError(path, f"cannot write RIFF INFO ({exc.strerror})") from exc
    finally:
        if scratch.exists():
            scratch.unlink()


class _Limited:
    """A file object that reads at most `left` bytes from another."""

    def __init__(self, fh, left: int):
        self.fh, self.left = fh, left

    def read(self, n: int = -1) -> bytes:
        """Read up to `n` bytes (all when negative), never past the chunk's end."""
        n = self.left if n < 0 else min(n, self.left)
        data = self.fh.read(n)
        self.left -= len(data)
        return data
