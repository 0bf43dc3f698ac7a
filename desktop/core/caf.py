"""Apple's Core Audio Format (.caf): its `info` chunk read and written (mutagen reads no CAF).

A CAF file is a header and chunks (type, 64-bit size, data). Tags are the `info` chunk: a count, then that many
pairs of NUL-terminated UTF-8 strings ("genre", "Jazz"), as ffmpeg, Logic and Apple's `afconvert` write them. A
write changes only that chunk: in its place where it fits (the rest becomes a `free` chunk), else the chunks after it
move on (no chunk holds a position in the file, so nothing else changes).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from desktop.core.genres import SEPARATOR

FILE_HEADER = 8  # 'caff', version, flags
CHUNK_HEADER = 12  # type, 64-bit size
UNKNOWN_SIZE = -1  # the last chunk's size, audio still being written (a recording): it runs to the file's end
PADDING = 1024  # bytes of `free` chunk after an info chunk that had to grow, so the next write fits in its place
TAG_CHUNKS = frozenset({b"info", b"free"})  # what a tag write changes; the audio hash passes over them


class CAFError(ValueError):
    """A CAF file that cannot be read (a ValueError: damaged structure)."""


@dataclass(frozen=True)
class Chunk:
    """One chunk: its type, where its header starts, and its data's size (to the file's end for an unknown size or a
    file cut short inside it)."""

    kind: bytes
    start: int
    size: int
    declared: int  # the size its header gives (UNKNOWN_SIZE: none)

    @property
    def end(self) -> int:
        """Where the next chunk starts."""
        return self.start + CHUNK_HEADER + self.size


def chunks(fh) -> list[Chunk]:
    """Every chunk of the file (the last cut to the file's end when it is cut short)."""
    file_size = fh.seek(0, 2)
    fh.seek(0)
    head = fh.read(FILE_HEADER)
    if len(head) < FILE_HEADER or head[:4] != b"caff":
        raise CAFError("not a CAF file (no 'caff' header)")
    found, pos = [], FILE_HEADER
    while pos + CHUNK_HEADER <= file_size:
        fh.seek(pos)
        kind, declared = struct.unpack(">4sq", fh.read(CHUNK_HEADER))
        if declared < 0 and declared != UNKNOWN_SIZE:
            raise CAFError(f"chunk '{kind.decode('latin-1')}' at byte {pos} has a negative size")
        size = declared
        if declared == UNKNOWN_SIZE or pos + CHUNK_HEADER + declared > file_size:
            size = file_size - pos - CHUNK_HEADER
        found.append(Chunk(kind, pos, size, declared))
        pos += CHUNK_HEADER + size
    if not found or found[0].kind != b"desc":
        raise CAFError("no 'desc' chunk first, as every CAF file has")
    return found


def _read(fh, chunk: Chunk) -> bytes:
    fh.seek(chunk.start + CHUNK_HEADER)
    return fh.read(chunk.size)


@dataclass(frozen=True)
class Entry:
    """One key and its value, with the bytes they were read from (None once changed): an entry not changed is written
    back byte for byte, even where it is not UTF-8 (an old Mac's MacRoman)."""

    key: str
    value: str
    raw: bytes | None = None

    def encoded(self) -> bytes:
        """The entry as the chunk holds it: both strings NUL-terminated."""
        return self.raw if self.raw is not None else f"{self.key}\0{self.value}\0".encode()


class CAFTags(MutableMapping):
    """The info chunk's entries, in their order; keys found without regard to case ("Genre" is "genre"). A list of
    values is stored as one text joined with "; ", as the dictionary holds one value a key; a key found more than
    once (a damaged chunk) gives every value, and a write replaces them all."""

    def __init__(self, entries: list[Entry] | None = None):
        self.entries = list(entries or [])

    def _matching(self, key: str) -> list[Entry]:
        return [e for e in self.entries if e.key.casefold() == key.casefold()]

    def __getitem__(self, key: str) -> list[str]:
        found = self._matching(key)
        if not found:
            raise KeyError(key)
        return [e.value for e in found]

    def __setitem__(self, key: str, values: list[str]) -> None:
        text = SEPARATOR.join(values) if isinstance(values, list | tuple) else str(values)
        found = self._matching(key)
        new = Entry(found[0].key if found else key, text)
        at = self.entries.index(found[0]) if found else len(self.entries)
        self.entries = [e for e in self.entries if e not in found]
        self.entries.insert(at, new)

    def __delitem__(self, key: str) -> None:
        found = self._matching(key)
        if not found:
            raise KeyError(key)
        self.entries = [e for e in self.entries if e not in found]

    def __iter__(self):
        return iter([e.key for e in self.entries])

    def __len__(self) -> int:
        return len(self.entries)

    def chunk(self) -> bytes:
        """The info chunk holding these entries, its header included."""
        body = struct.pack(">I", len(self.entries)) + b"".join(e.encoded() for e in self.entries)
        return b"info" + struct.pack(">q", len(body)) + body


def _parse_info(data: bytes) -> CAFTags:
    """The entries of an info chunk's data."""
    if len(data) < 4:
        raise CAFError("its info chunk is cut short")
    count, pos, entries = struct.unpack(">I", data[:4])[0], 4, []
    for _ in range(count):
        key_end = data.find(b"\0", pos)
        value_end = data.find(b"\0", key_end + 1) if key_end >= 0 else -1
        if value_end < 0:
            raise CAFError(f"its info chunk holds fewer than the {count} entries it declares")
        key, value = (data[pos:key_end], data[key_end + 1:value_end])
        entries.append(Entry(key.decode("utf-8", "replace"), value.decode("utf-8", "replace"), data[pos:value_end + 1]))
        pos = value_end + 1
    return CAFTags(entries)


@dataclass(frozen=True)
class CAFInfo:
    """The audio's length, rate and channels, from the `desc` chunk (and the packet table of a compressed one)."""

    length: float
    sample_rate: int
    channels: int


def _data_bytes(data: Chunk | None) -> int:
    """The audio chunk's size as its header gives it (a file cut short is measured whole), else what the file holds."""
    if data is None:
        return 0
    return data.size if data.declared == UNKNOWN_SIZE else data.declared


def _info(desc: bytes, pakt: bytes | None, data_size: int) -> CAFInfo:
    """Length, rate and channels: a packet table's valid frames, else the data's bytes over the bytes per packet."""
    if len(desc) < 32:
        raise CAFError("its desc chunk is cut short")
    rate, _codec, _flags, bytes_per_packet, frames_per_packet, channels, _bits = struct.unpack(">d4s5I", desc[:32])
    if not rate > 0:
        raise CAFError(f"its desc chunk gives a sample rate of {rate}")
    frames = 0
    if pakt is not None and len(pakt) >= 16:
        frames = struct.unpack(">q", pakt[8:16])[0]  # after the packet count: the valid frames (priming and remainder out)
    elif bytes_per_packet and frames_per_packet:
        frames = max(0, data_size - 4) // bytes_per_packet * frames_per_packet  # the data starts with an edit count
    return CAFInfo(frames / rate, int(rate), channels)


class CAF:
    """A CAF file's info chunk (mutagen's FileType interface: `info`, `tags`, `add_tags`, `save`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            found = chunks(fh)
            first = {}
            for c in found:
                first.setdefault(c.kind, c)
            data = first.get(b"data")
            self.info = _info(_read(fh, found[0]), _read(fh, first[b"pakt"]) if b"pakt" in first else None,
                              _data_bytes(data))
            self.tags = _parse_info(_read(fh, first[b"info"])) if b"info" in first else None

    def add_tags(self) -> None:
        """Give the file an empty info chunk (`info` and `tags`, as mutagen's file types have them)."""
        self.tags = CAFTags()

    def save(self) -> None:
        """Write the info chunk into the file, changing no other chunk."""
        from mutagen._util import resize_bytes

        new = (self.tags or CAFTags()).chunk()
        with open(self.path, "r+b") as fh:
            start, room = _place(chunks(fh))
            if len(new) != room and len(new) + CHUNK_HEADER > room:  # no room for it and a free chunk's header
                resize_bytes(fh, room, len(new) + PADDING, start)
                room = len(new) + PADDING
            fh.seek(start)
            fh.write(new + _free(room - len(new)))
        written = CAF(self.path).tags or CAFTags()
        if written.chunk() != new:  # read back: a write that did not land is refused
            raise CAFError("the tag read back differs from the tag written")


def _place(found: list[Chunk]) -> tuple[int, int]:
    """Where the info chunk goes and the bytes it may take there: the old one and the free chunks after it, else the
    free chunks before the audio (or none, before it: the chunks after it then move)."""
    kinds = [c.kind for c in found]
    if b"info" in kinds:
        i = kinds.index(b"info")
        start, j = found[i].start, i + 1
    else:
        j = kinds.index(b"data") if b"data" in kinds else len(found)
        i = j
        while i > 1 and kinds[i - 1] == b"free":  # never before desc, which must come first
            i -= 1
        start = found[i].start if i < len(found) else found[-1].end
    while j < len(found) and kinds[j] == b"free":
        j += 1
    end = found[j - 1].end if j > i else start
    return start, end - start


def _free(size: int) -> bytes:
    """A free chunk of `size` bytes in all (none for 0)."""
    return b"free" + struct.pack(">q", size - CHUNK_HEADER) + bytes(size - CHUNK_HEADER) if size else b""


def audio_regions(fh) -> Iterator[tuple[int, int]]:
    """The byte ranges a tag write never changes: the file header and every chunk but info and free ones."""
    found = chunks(fh)
    yield 0, FILE_HEADER
    for c in found:
        if c.kind not in TAG_CHUNKS:
            yield c.start, c.end
