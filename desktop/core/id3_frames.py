"""The frames of a file's ID3v2 tag, counted from its bytes, so a genre write can show it carried every one over.

mutagen drops a frame it cannot parse (a damaged text encoding, say), and when a tag changes version it drops the
frames it does not know; a write that would lose one is refused instead. The count is read from the bytes, not
through mutagen, which cannot report what it passed over.
"""

from __future__ import annotations

import functools
import re
import struct
from collections import Counter
from pathlib import Path

FRAME_ID = re.compile(rb"[A-Z0-9]{4}\Z")
OURS = "TXXX:GENRE_TAGGER"  # the provenance field a write may set or clear
# What a version change turns each frame into (mutagen's update_to_v24 / update_to_v23).
CONVERTED = {
    (3, 4): {"TYER": "TDRC", "TDAT": "TDRC", "TIME": "TDRC", "TORY": "TDOR", "IPLS": "TIPL",
             "XSOP": "TSOP", "XSOA": "TSOA", "XSOT": "TSOT"},  # iTunes' sort orders (desktop.core.tags)
    (4, 3): {"TDRC": "TYER", "TDOR": "TORY", "TIPL": "IPLS", "TMCL": "IPLS"},
}


TEXT_CODECS = ("latin-1", "utf-16", "utf-16-be", "utf-8")  # an ID3 text frame's first byte picks one


def text_values(raw_frame: bytes) -> list[str]:
    """The values of a raw v2.3/v2.4 text frame (its 10-byte header, then its body); none when compressed,
    encrypted or of no known encoding."""
    flags, body = raw_frame[8:10], raw_frame[10:]
    if flags[1] or not body or body[0] > 3:
        return []
    return [v for v in body[1:].decode(TEXT_CODECS[body[0]], "replace").split("\0") if v]


def _syncsafe(raw: bytes) -> int | None:
    return None if any(b & 0x80 for b in raw) else (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def _split_string(encoding: int, text: bytes) -> tuple[bytes, bytes]:
    """A terminated string at the start of `text` and what follows it (UTF-16 ends with two NULs on a pair)."""
    if encoding in (1, 2):
        end = next((i for i in range(0, len(text) - 1, 2) if text[i:i + 2] == b"\0\0"), len(text))
        return text[:end], text[end + 2:]
    first, _, rest = text.partition(b"\0")
    return first, rest


def _holds_nothing(text: bytes) -> bool:
    return text.replace(b"\xff\xfe", b"").replace(b"\xfe\xff", b"").strip(b"\0") == b""  # byte order marks and NULs


def _empty(name: str, body: bytes, flags: bytes) -> bool:
    """A text frame, comment or lyrics with no text in it (mutagen drops those; nothing is lost with them)."""
    if flags[1] & 0x0F or not body or not (name.startswith("T") or name in ("COMM", "USLT")):
        return False  # compressed, encrypted, unsynchronised or with a length indicator: not looked into
    encoding, text = body[0], body[1:]
    if name == "TXXX":
        text = _split_string(encoding, text)[1]
    elif name in ("COMM", "USLT"):
        text = _split_string(encoding, text[3:])[1]  # after the language and the description
    return _holds_nothing(text)


def _txxx_key(body: bytes, flags: bytes) -> str:
    """'TXXX:GENRE_TAGGER' for our field, else 'TXXX' (a compressed or unreadable description is not ours)."""
    if flags[1] & 0x0F or not body or body[0] > 3:  # compressed, encrypted, ...; or no known text encoding
        return "TXXX"
    desc = _split_string(body[0], body[1:])[0].decode(TEXT_CODECS[body[0]], "replace")
    return OURS if desc == OURS.split(":", 1)[1] else "TXXX"


def _frames(data: bytes, syncsafe: bool) -> tuple[list[tuple[bytes, bytes]], bool]:
    """(10-byte header, body) of each frame in v2.3/v2.4 tag data, and whether the walk ended cleanly (no frame
    running past the tag)."""
    frames = []
    pos = 0
    while pos + 10 <= len(data):
        head = data[pos:pos + 10]
        if not FRAME_ID.match(head[:4]):  # padding, or junk after the last frame (mutagen passes over it too)
            break
        size = _syncsafe(head[4:8]) if syncsafe else struct.unpack(">I", head[4:8])[0]
        if size is None or pos + 10 + size > len(data):
            return frames, False
        frames.append((head, data[pos + 10:pos + 10 + size]))
        pos += 10 + size
    return frames, True


def _counts(frames: list[tuple[bytes, bytes]]) -> Counter:
    """Frame keys of a tag's frames, counting what a save can carry over."""
    counts: Counter = Counter()
    seen: set[bytes] = set()
    for head, body in frames:
        name, frame = head[:4].decode(), head[:4] + head[8:10] + body
        # An empty frame holds nothing, and a byte-for-byte repeat nothing more (mutagen drops both).
        if body and not _empty(name, body, head[8:10]) and frame not in seen:
            counts[_txxx_key(body, head[8:10]) if name == "TXXX" else name] += 1
            seen.add(frame)
    return counts


def _id3_offset(fh, path: Path) -> int | None:
    """Where the ID3v2 tag starts: the file's start (MP3), the offset a DSF file names, or inside the `id3 ` chunk
    of a WAV, AIFF or DSDIFF file."""
    start = fh.read(16)
    if start[:3] == b"ID3":
        return 0
    if start[:4] == b"DSD ":  # DSF: the tag's offset is in its first chunk (0: none)
        fh.seek(20)
        return struct.unpack("<Q", fh.read(8))[0] or None
    if start[:4] == b"RIFF" and start[8:12] == b"WAVE":
        pos, size_format = 12, "<I"
    elif start[:4] == b"FORM" and start[8:12] in (b"AIFF", b"AIFC"):
        pos, size_format = 12, ">I"
    elif start[:4] == b"FRM8" and start[12:16] == b"DSD ":  # DSDIFF: 64-bit chunk sizes
        pos, size_format = 16, ">Q"
    else:
        return None
    head_size = 4 + struct.calcsize(size_format)
    while True:
        fh.seek(pos)
        head = fh.read(head_size)
        if len(head) < head_size:
            return None
        size = struct.unpack(size_format, head[4:])[0]
        if head[:4] in (b"id3 ", b"ID3 "):
            return pos + head_size
        pos += head_size + size + (size & 1)


RawTag = tuple[int, list[tuple[bytes, bytes]]]  # (ID3v2 minor version, each frame's 10-byte header and body)


def frame_counts(path: str | Path) -> tuple[int, Counter] | None:
    """(ID3v2 minor version, frame counts) of the file's tag; None without one, for ID3v2.2, or a layout not walked."""
    return count_frames(read_tag(Path(path)))


def count_frames(tag: RawTag | None) -> tuple[int, Counter] | None:
    """frame_counts of a tag already read."""
    return None if tag is None else (tag[0], _counts(tag[1]))


def text_frames(tag: RawTag | None, names: tuple[str, ...]) -> dict[str, list[str]]:
    """The values of the named text frames as the tag holds them, byte for byte (repeats in order)."""
    values: dict[str, list[str]] = {}
    for head, body in tag[1] if tag is not None else []:
        if head[:4].decode() in names and (text := text_values(head + body)):
            values.setdefault(head[:4].decode(), []).extend(text)
    return values


def read_tag(path: Path) -> RawTag | None:
    """The raw frames of the file's ID3v2 tag; None as for frame_counts."""
    with open(path, "rb") as fh:
        offset = _id3_offset(fh, path)
        if offset is None:
            return None
        fh.seek(offset)
        header = fh.read(10)
        if len(header) < 10 or header[:3] != b"ID3" or header[3] not in (3, 4) or _syncsafe(header[6:10]) is None:
            return None
        major, flags = header[3], header[5]
        data = fh.read(_syncsafe(header[6:10]))
    if major == 3 and flags & 0x80:  # v2.3 unsynchronises the whole tag: frame sizes count the restored bytes
        data = data.replace(b"\xff\x00", b"\xff")
    if flags & 0x40 and len(data) >= 4:  # extended header
        skip = struct.unpack(">I", data[:4])[0] + 4 if major == 3 else (_syncsafe(data[:4]) or 0)
        data = data[skip:]
    frames, clean = _frames(data, syncsafe=major == 4)
    if not clean and major == 4:  # iTunes wrote v2.4 frame sizes as plain integers; mutagen reads those too
        frames, clean = _frames(data, syncsafe=False)
    return (major, frames) if clean else None


@functools.cache  # the same for every write
def _merged_frames() -> frozenset[str]:
    """Frames whose repeats mutagen merges into one frame holding every value: text frames and comments."""
    from mutagen.id3 import Frames, TextFrame

    return frozenset(name for name, kind in Frames.items() if issubclass(kind, TextFrame))


def lost_frames(before: tuple[int, Counter] | None, after: tuple[int, Counter] | None, changed: tuple[str, ...]) -> list[str]:
    """Frames the tag had before a write and lacks after it, leaving out the `changed` ones and those a version
    change converted. A text frame or comment counts once (mutagen merges repeats of one into a list, losing
    nothing); of any other frame, every copy must stay."""
    if before is None or after is None:
        return []
    (was, old), (now, new) = before, after
    converted, merged = CONVERTED.get((was, now), {}), _merged_frames()
    lost = []
    for key, count in sorted(old.items()):
        if key in changed:
            continue
        target = converted.get(key, key)
        needed = 1 if key.split(":")[0] in merged else count
        if new[target] < needed:
            lost.append(key if needed == 1 else f"{key} x{needed - new[target]}")
    return lost
