"""Whether an Ogg file reaches its stream's last page (one cut short stops before it, and no header gives its length),
and whether it chains streams one after another."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from desktop.core.formats import OGG_PAGE_HEADER

END_OF_STREAM = 0x04  # a page's header-type flag: the last page of its logical stream
LARGEST_PAGE = OGG_PAGE_HEADER + 255 + 255 * 255  # header, a full segment table, 255 segments of 255 bytes
# Each byte with its bits reversed: Ogg's CRC-32 runs most significant bit first, zlib's least significant first.
_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def stops_before_its_last_page(path: str | Path) -> bool:
    """True when an Ogg file's last whole page is not its stream's last (no end-of-stream flag): a copy or download
    cut short. False when it is, or when its tail holds no whole page (nothing to say) or cannot be read."""
    last = _last_whole_page(path)
    return last is not None and not last[0] & END_OF_STREAM


def is_chained(path: str | Path) -> bool:
    """True when an Ogg file holds streams one after another (recordings joined, a radio stream saved across its
    songs): its last page belongs to another stream than its first (each has its own serial number)."""
    last = _last_whole_page(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(OGG_PAGE_HEADER)
    except OSError:
        return False
    return last is not None and head[:4] == b"OggS" and len(head) == OGG_PAGE_HEADER and head[14:18] != last[1]


def _last_whole_page(path: str | Path) -> tuple[int, bytes] | None:
    """(header-type flags, serial number) of an Ogg file's last whole page; None when its tail holds none or cannot
    be read."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - 2 * LARGEST_PAGE))  # the last whole page lies within, whatever follows it
            tail = fh.read()
    except OSError:
        return None
    pos = len(tail)
    while (pos := tail.rfind(b"OggS", 0, pos)) >= 0:
        flags = _whole_page_flags(tail, pos)
        if flags is not None:
            return flags, tail[pos + 14:pos + 18]
    return None


def is_cut_page(data: bytes) -> bool:
    """True when `data` is the start of an Ogg page that the data ends inside (a file cut short through its last
    page), not something else."""
    if len(data) < OGG_PAGE_HEADER:
        return b"OggS".startswith(data[:4]) and len(data) > 0
    if data[:4] != b"OggS" or data[4] != 0:
        return False
    end = _page_end(data, 0)
    return end is None or end > len(data)


def _page_end(data: bytes, pos: int) -> int | None:
    """Where the page whose header starts at `pos` ends, by its segment table; None when the table is cut off."""
    count = data[pos + 26]
    lacing = data[pos + OGG_PAGE_HEADER:pos + OGG_PAGE_HEADER + count]
    return None if len(lacing) < count else pos + OGG_PAGE_HEADER + count + sum(lacing)


def _whole_page_flags(data: bytes, pos: int) -> int | None:
    """The header-type flags of the page at `pos` when it is whole and its checksum holds (so "OggS" inside a packet,
    or a page cut through, is no page); None otherwise."""
    head = data[pos:pos + OGG_PAGE_HEADER]
    if len(head) < OGG_PAGE_HEADER or head[4] != 0:  # stream structure version 0
        return None
    end = _page_end(data, pos)
    if end is None or end > len(data):
        return None
    page = data[pos:pos + 22] + b"\0\0\0\0" + data[pos + 26:end]  # checksummed with its own field zeroed
    return head[5] if ogg_crc(page) == struct.unpack("<I", head[22:26])[0] else None


def ogg_crc(data: bytes) -> int:
    """Ogg's page checksum (CRC-32, polynomial 0x04C11DB7, most significant bit first, no initial or final
    inversion), through zlib's reflected CRC-32 of the bit-reversed bytes."""
    reflected = zlib.crc32(data.translate(_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF  # zlib inverts before and after
    return int(f"{reflected:032b}"[::-1], 2)
