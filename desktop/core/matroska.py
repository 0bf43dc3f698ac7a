"""Matroska and WebM audio (.mka, .webm, .weba): the global tag read and written in EBML (mutagen reads no Matroska).

A write changes only the `Tags` element: in its place where it fits (the rest becomes a `Void`), else at the
segment's end, with the old one made a `Void` and the `SeekHead` pointed at the new one (players find elements
after the audio through it). Clusters, cues and everything else keep their bytes and their places.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path

EBML_HEADER, SEGMENT, SEEK_HEAD, SEEK, SEEK_ID, SEEK_POSITION = 0x1A45DFA3, 0x18538067, 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
INFO, TIMESTAMP_SCALE, DURATION, SEGMENT_TITLE = 0x1549A966, 0x2AD7B1, 0x4489, 0x7BA9
TRACKS, TRACK_ENTRY, TRACK_TYPE, AUDIO, SAMPLING_FREQUENCY, CHANNELS = 0x1654AE6B, 0xAE, 0x83, 0xE1, 0xB5, 0x9F
TAGS, TAG, TARGETS, TARGET_TYPE_VALUE, SIMPLE_TAG, TAG_NAME, TAG_STRING = 0x1254C367, 0x7373, 0x63C0, 0x68CA, 0x67C8, 0x45A3, 0x4487
TAG_BINARY = 0x4485
CLUSTER, VOID, CRC32 = 0x1F43B675, 0xEC, 0xBF
AUDIO_TRACK = 2
PADDING = 256  # bytes of Void after a tag written at the end, so the next write fits in its place
ALBUM_LEVEL = 50  # a Tag's TargetTypeValue for the whole file (an album, a concert): its global tag
# Elements a tag write changes or makes; the audio hash passes over them.
TAG_ELEMENTS = frozenset({SEEK_HEAD, TAGS, VOID, CRC32})


class MatroskaError(ValueError):
    """A Matroska file that cannot be read, or tagged without moving its audio (a ValueError: damaged structure)."""


@dataclass(frozen=True)
class Element:
    """One EBML element: its ID, where its header starts, where its data starts, and its data's size (None: unknown,
    it runs to its parent's end)."""

    id: int
    start: int
    data: int
    size: int | None

    @property
    def end(self) -> int:
        """Where the element ends (its data's end)."""
        return self.data + (self.size or 0)


def _vint(buf: bytes, pos: int, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at `pos`: (value, width); an ID keeps its length marker, a size does not."""
    if pos >= len(buf):
        raise MatroskaError("file ends inside an element's header")
    first, width = buf[pos], 1
    while width <= 8 and not first & (0x100 >> width):
        width += 1
    if width > 8 or pos + width > len(buf):
        raise MatroskaError("damaged element header")
    value = first if keep_marker else first & (0xFF >> width)
    for byte in buf[pos + 1:pos + width]:
        value = value << 8 | byte
    return value, width


def _header(buf: bytes, pos: int, base: int = 0) -> Element:
    """The element whose header starts at `pos` of `buf` (`base`: where `buf` starts in the file)."""
    eid, id_width = _vint(buf, pos, True)
    size, size_width = _vint(buf, pos + id_width, False)
    unknown = size == (1 << (7 * size_width)) - 1
    return Element(eid, base + pos, base + pos + id_width + size_width, None if unknown else size)


def children(buf: bytes, start: int = 0, end: int | None = None) -> Iterator[Element]:
    """The elements in `buf[start:end]`, positions within `buf`."""
    end = len(buf) if end is None else end
    pos = start
    while pos < end:
        element = _header(buf, pos)
        if element.size is None or element.end > end:
            raise MatroskaError("damaged element sizes")
        yield element
        pos = element.end


def top_level(fh) -> tuple[Element, list[Element], int]:
    """The Segment, its top-level elements (headers only: clusters are not read) and the file's size.

    An element of unknown size (a live recording's cluster) ends the list: what follows it cannot be found
    without reading it through.
    """
    file_size = fh.seek(0, 2)
    fh.seek(0)
    head = fh.read(12)
    ebml = _header(head, 0) if len(head) >= 5 else None
    if ebml is None or ebml.id != EBML_HEADER:
        raise MatroskaError("not a Matroska file")
    segment = _at(fh, ebml.end)
    if segment.id != SEGMENT:
        raise MatroskaError("no Segment after the EBML header")
    end = file_size if segment.size is None else min(segment.end, file_size)
    found, pos = [], segment.data
    while pos < end:
        element = _at(fh, pos)
        found.append(element)
        if element.size is None:
            break
        pos = element.end
    return segment, found, file_size


def _at(fh, pos: int) -> Element:
    fh.seek(pos)
    return _header(fh.read(12), 0, pos)


def _read(fh, element: Element) -> bytes:
    """An element's data (a small one: its tag, index, info or tracks)."""
    if element.end > fh.seek(0, 2):  # checked before reading: a damaged size could ask for terabytes
        raise MatroskaError("file ends inside its tag or index")
    fh.seek(element.data)
    return fh.read(element.size or 0)


def _uint(data: bytes) -> int:
    return int.from_bytes(data, "big") if data else 0


def _float(data: bytes) -> float:
    return struct.unpack(">f" if len(data) == 4 else ">d", data)[0] if len(data) in (4, 8) else 0.0


def size_vint(size: int, width: int = 0) -> bytes:
    """A size as an EBML integer, `width` bytes (0: the fewest; all ones is kept for "unknown")."""
    width = width or next(w for w in range(1, 9) if size < (1 << (7 * w)) - 1)
    if size >= (1 << (7 * width)) - 1:
        raise MatroskaError(f"{size} does not fit a {width}-byte size")
    return ((1 << (7 * width)) | size).to_bytes(width, "big")


def element(eid: int, data: bytes, size_width: int = 0) -> bytes:
    """An element's bytes: its ID, its size and `data`."""
    return eid.to_bytes((eid.bit_length() + 7) // 8, "big") + size_vint(len(data), size_width) + data


def void(total: int) -> bytes:
    """A Void element `total` bytes long in all (2 at least)."""
    if total < 2:
        raise MatroskaError("no room for a Void element")
    return element(VOID, bytes(total - 2)) if total - 2 < 127 else element(VOID, bytes(total - 9), 8)


def _with_crc(eid: int, body: bytes, had_crc: bool, size_width: int = 0) -> bytes:
    """A master element of `body`, led by a CRC-32 of it where the old one had one (Matroska's checksum, kept true)."""
    crc = element(CRC32, struct.pack("<I", zlib.crc32(body))) if had_crc else b""
    return element(eid, crc + body, size_width)


class MatroskaTags(MutableMapping):
    """The global tag's SimpleTags as name -> values (names upper-case, as Matroska writes them); SimpleTags not
    changed keep their bytes (a language, nested or binary ones)."""

    def __init__(self, entries: list[tuple[str, str, bytes | None]] | None = None, title: str = ""):
        # (NAME, text, the SimpleTag's bytes as read; None for one set here); ("", "", bytes) for one not read as text
        self.entries = entries or []
        self.title = title  # the segment's own title, which ffmpeg writes there rather than as a tag

    def __getitem__(self, key: str) -> list[str]:
        values = [v for name, v, _ in self.entries if name == key.upper()]
        if not values:
            raise KeyError(key)
        return values

    def get(self, key, default=None):
        """Values under `key`; TITLE falls back to the segment's title."""
        if key.upper() == "TITLE" and key not in self and self.title:
            return [self.title]
        return super().get(key, default)

    def __setitem__(self, key: str, values: list[str]) -> None:
        name = key.upper()
        rest = [e for e in self.entries if e[0] != name]
        first = next((i for i, e in enumerate(self.entries) if e[0] == name), len(rest))  # where the old ones began
        self.entries = rest[:first] + [(name, v, None) for v in values] + rest[first:]

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self.entries = [e for e in self.entries if e[0] != key.upper()]

    def __iter__(self):
        return iter(dict.fromkeys(name for name, _, _ in self.entries if name))

    def __len__(self) -> int:
        return len(list(iter(self)))

    def simple_tags(self) -> bytes:
        """The SimpleTag elements, in order."""
        return b"".join(raw if raw is not None else element(SIMPLE_TAG, element(TAG_NAME, name.encode())
                                                                         + element(TAG_STRING, value.encode()))
                        for name, value, raw in self.entries)

    def texts(self) -> list[tuple[str, str]]:
        """(NAME, text) of each SimpleTag read as text, in order: what a write must read back."""
        return [(name, value) for name, value, _ in self.entries if name]


def _is_global(tag: bytes) -> bool:
    """A Tag for the whole file: no Targets, or Targets naming no track, edition, chapter or attachment at album level."""
    for child in children(tag):
        if child.id == TARGETS:
            targets = list(children(tag, child.data, child.end))
            level = next((_uint(tag[t.data:t.end]) for t in targets if t.id == TARGET_TYPE_VALUE), ALBUM_LEVEL)
            return level == ALBUM_LEVEL and all(t.id in (TARGET_TYPE_VALUE, 0x63CA) for t in targets)  # 0x63CA: TargetType
    return True


def _parse_tags(data: bytes, title: str) -> tuple[MatroskaTags | None, list[bytes], bool]:
    """The global tag (None when there is none), the other Tag elements as bytes, and whether a CRC-32 led them."""
    tags, others, had_crc = None, [], False
    for child in children(data):
        raw = data[child.start:child.end]
        if child.id == CRC32:
            had_crc = True
        elif child.id == TAG and tags is None and _is_global(data[child.data:child.end]):
            tags = MatroskaTags(_parse_tag(data[child.data:child.end]), title)
        elif child.id != VOID:
            others.append(raw)
    return tags, others, had_crc


def _parse_tag(tag: bytes) -> list[tuple[str, str, bytes | None]]:
    entries: list[tuple[str, str, bytes | None]] = []
    for child in children(tag):
        if child.id != SIMPLE_TAG:
            continue  # its Targets: written anew (empty: the whole file)
        fields = {f.id: tag[f.data:f.end] for f in children(tag, child.data, child.end)}
        plain = SIMPLE_TAG not in fields and TAG_BINARY not in fields  # text, whatever its language fields say
        raw = tag[child.start:child.end]
        if plain and TAG_NAME in fields and TAG_STRING in fields:
            entries.append((fields[TAG_NAME].decode("utf-8", "replace").upper(),
                            fields[TAG_STRING].decode("utf-8", "replace"), raw))
        else:
            entries.append(("", "", raw))
    return entries


@dataclass(frozen=True)
class MatroskaInfo:
    """The segment's length and its first audio track's rate and channels."""

    length: float
    sample_rate: int
    channels: int


class Matroska:
    """A Matroska or WebM file's global tag (mutagen's FileType interface: `info`, `tags`, `add_tags`, `save`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            _, top, _ = top_level(fh)
            parts = {e.id: _read(fh, e) for e in top if e.id in (INFO, TRACKS) and e.size is not None}
            tags_element = next((e for e in top if e.id == TAGS and e.size is not None), None)
            tags_data = _read(fh, tags_element) if tags_element else None
        self.info, title = _info(parts.get(INFO, b""), parts.get(TRACKS, b""))
        self.tags = _parse_tags(tags_data, title)[0] if tags_data is not None else None
        self._title = title

    def add_tags(self) -> None:
        """Give the file an empty global tag."""
        self.tags = MatroskaTags(title=self._title)

    def save(self) -> None:
        """Write the global tag into the file, changing nothing else but the index's pointer to it."""
        with open(self.path, "r+b") as fh:
            patches, appended = _plan(fh, self.tags or MatroskaTags())
            for offset, data in patches:
                fh.seek(offset)
                fh.write(data)
            if appended:
                fh.seek(0, 2)
                fh.write(appended)
        written = Matroska(self.path).tags or MatroskaTags()
        if written.texts() != (self.tags or MatroskaTags()).texts():  # read back: a write that did not land is refused
            raise MatroskaError("the tag read back differs from the tag written")


def _info(info: bytes, tracks: bytes) -> tuple[MatroskaInfo, str]:
    """Length, rate and channels from the Info and Tracks elements, and the segment's title."""
    fields = {e.id: info[e.data:e.end] for e in children(info)}
    scale = _uint(fields.get(TIMESTAMP_SCALE, b"")) or 1_000_000
    length = _float(fields.get(DURATION, b"")) * scale / 1e9
    title = fields.get(SEGMENT_TITLE, b"").decode("utf-8", "replace")
    for entry in (e for e in children(tracks) if e.id == TRACK_ENTRY):
        track = {e.id: tracks[e.data:e.end] for e in children(tracks, entry.data, entry.end)}
        if _uint(track.get(TRACK_TYPE, b"")) == AUDIO_TRACK:
            settings = track.get(AUDIO, b"")
            audio = {e.id: settings[e.data:e.end] for e in children(settings)}
            rate = _float(audio.get(SAMPLING_FREQUENCY, b"")) or 8000.0
            return MatroskaInfo(length, int(rate), _uint(audio.get(CHANNELS, b"")) or 1), title
    raise MatroskaError("no audio track")


def _plan(fh, tags: MatroskaTags) -> tuple[list[tuple[int, bytes]], bytes]:
    """The byte patches (offset, bytes) and the bytes to append that put `tags` in the file."""
    segment, top, file_size = top_level(fh)
    old = next((e for e in top if e.id == TAGS), None)
    others, had_crc = ([], False) if old is None else _parse_tags(_read(fh, old), "")[1:]
    body = (element(TAG, element(TARGETS, b"") + tags.simple_tags()) if tags.entries else b"") + b"".join(others)
    if not body:  # nothing left to keep: no Tags element (one must hold a Tag), nor an index entry to it
        return ([] if old is None else [(old.start, void(old.end - old.start))]) + _point_index(fh, top, None), b""
    if old is not None:
        if (fitted := _fit(lambda width: _with_crc(TAGS, body, had_crc, width), _room(top, old))) is not None:
            return [(old.start, fitted)], b""
    # At the segment's end: the old tag becomes a Void, the segment grows and the index points to the new place.
    if top and top[-1].size is None:
        raise MatroskaError("its clusters give no sizes (as a live recording's), so a tag cannot be added after them")
    segment_end = file_size if segment.size is None else segment.end
    if segment_end > file_size:
        raise MatroskaError("it ends before its segment does (cut short?), so its tag cannot grow at the end")
    if segment_end < file_size:
        raise MatroskaError("something follows its segment, so its tag cannot grow at the end")
    new = _with_crc(TAGS, body, had_crc) + void(PADDING)  # with room for the next write to fit in place
    patches = [] if old is None else [(old.start, void(old.end - old.start))]
    if segment.size is not None:
        width = segment.data - segment.start - (SEGMENT.bit_length() + 7) // 8
        patches.append((segment.data - width, size_vint(segment.size + len(new), width)))
    return patches + _point_index(fh, top, file_size - segment.data), new


def _room(top: list[Element], first: Element) -> int:
    """Bytes from `first`'s start through the Voids that follow it."""
    end = first.end
    for e in top[top.index(first) + 1:]:
        if e.id != VOID or e.start != end:
            break
        end = e.end
    return end - first.start


def _fit(build, room: int) -> bytes | None:
    """The element `build(size_width)` makes (0: the fewest size bytes), filling `room` with a Void after it, or with a
    wider size where one byte would be left (a Void takes two); None when it does not fit."""
    new = build(0)
    if len(new) == room:
        return new
    if len(new) + 2 <= room:
        return new + void(room - len(new))
    for width in range(1, 9):
        try:
            widened = build(width)
        except MatroskaError:  # too narrow for its size
            continue
        if len(widened) == room:
            return widened
    return None


def _point_index(fh, top: list[Element], position: int | None) -> list[tuple[int, bytes]]:
    """The patch that makes the SeekHead give the tag's new position (its entry changed, or one added to the first
    SeekHead); `position` None drops the entry. Refused where the SeekHead has no room to grow into."""
    heads = [(head, _read(fh, head)) for head in top if head.id == SEEK_HEAD]
    if not heads:
        if position is None:
            return []
        raise MatroskaError("it has no index of its elements (SeekHead) through which players would find a tag at its end")
    entries = [(head, data, [(c, _seek_target(data, c)) for c in children(data)]) for head, data in heads]
    pointing = [e for e in entries if any(target == TAGS for _, target in e[2])]
    if not pointing and position is None:
        return []
    head, data, items = pointing[0] if pointing else entries[0]
    had_crc = any(c.id == CRC32 for c, _ in items)
    seeks = [data[c.start:c.end] if target != TAGS else (b"" if position is None else _seek_entry(position))
             for c, target in items if c.id != CRC32]
    if not pointing:
        seeks.append(_seek_entry(position))
    body = b"".join(seeks)
    fitted = _fit(lambda width: _with_crc(SEEK_HEAD, body, had_crc, width), _room(top, head))
    if fitted is None:
        raise MatroskaError("its index of elements (SeekHead) has no room to point to a tag at its end")
    return [(head.start, fitted)]


def _seek_target(data: bytes, child: Element) -> int | None:
    """The element ID a Seek entry points to (None for any other child)."""
    if child.id != SEEK:
        return None
    fields = {f.id: data[f.data:f.end] for f in children(data, child.data, child.end)}
    return _uint(fields.get(SEEK_ID, b""))


def _seek_entry(position: int) -> bytes:
    return element(SEEK, element(SEEK_ID, TAGS.to_bytes(4, "big"))
                   + element(SEEK_POSITION, position.to_bytes(max(1, (position.bit_length() + 7) // 8), "big")))


def audio_regions(fh) -> Iterator[tuple[int, int]]:
    """The byte ranges a tag write never changes: the EBML header and every top-level element but the index, the
    tags and Voids (an element of unknown size runs to the file's end)."""
    segment, top, file_size = top_level(fh)
    yield 0, segment.start  # the EBML header, which the segment follows
    for e in top:
        if e.id not in TAG_ELEMENTS:
            yield e.start, file_size if e.size is None else min(e.end, file_size)
