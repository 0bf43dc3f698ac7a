"""A hash of a file's audio data that ignores its tag blocks, so tag edits keep a track's identity."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

from desktop.core import caf, matroska
from desktop.core.errors import AudioDecodeError, unless_empty
from desktop.core.formats import format_of, id3v2_size, mp4_index_trouble
from desktop.core.ogg_end import LARGEST_PAGE, is_cut_page

SAMPLE_BYTES = 1 << 20  # quick mode: hash 1 MiB at the start, middle and end of long audio regions


def audio_hash(path: str | Path, full: bool = False) -> str:
    """Hex digest of the audio region(s); `full` hashes every byte, else a sample of large regions."""
    path = Path(path)
    fmt = format_of(path)
    regions = {
        "MP3": _stream_regions, "FLAC": _flac_regions, "MP4": _mp4_regions, "WAV": _riff_regions, "AIFF": _aiff_regions,
        "WMA": _asf_regions, "WavPack": _stream_regions,
        "Musepack": _stream_regions, "Monkey's Audio": _stream_regions, "True Audio": _stream_regions,
        "MPEG layer II": _stream_regions, "AAC (ADTS)": _stream_regions, "AC-3": _stream_regions,
        "DSF": _dsf_regions,
        "DSDIFF": _dsdiff_regions,
        "Matroska": matroska.audio_regions,
        "CAF": caf.audio_regions,
    }
    h = hashlib.blake2b(digest_size=20)
    try:
        with open(path, "rb") as fh:
            if fmt.name in OGG_LAST_HEADER:
                _hash_ogg(fh, h, OGG_LAST_HEADER[fmt.name])
            else:
                for start, end in regions[fmt.name](fh):
                    _hash_region(fh, h, start, end, full)
    except OSError as exc:
        raise AudioDecodeError(path, f"cannot read file ({exc.strerror or exc})") from exc
    except (struct.error, ValueError, EOFError) as exc:
        raise AudioDecodeError(path, unless_empty(path, f"damaged file structure ({exc})")) from exc
    return h.hexdigest()


def _hash_region(fh, h, start: int, end: int, full: bool) -> None:
    size = end - start
    h.update(struct.pack("<q", size))
    if full or size <= 3 * SAMPLE_BYTES:
        fh.seek(start)
        remaining = size
        while remaining > 0:
            chunk = fh.read(min(remaining, 1 << 20))
            if not chunk:
                raise ValueError("file ends inside its audio data")
            h.update(chunk)
            remaining -= len(chunk)
        return
    for offset in (start, start + size // 2 - SAMPLE_BYTES // 2, end - SAMPLE_BYTES):
        fh.seek(offset)
        h.update(fh.read(SAMPLE_BYTES))


def _file_size(fh) -> int:
    fh.seek(0, 2)
    return fh.tell()


def _stream_regions(fh) -> Iterator[tuple[int, int]]:
    """A bare audio stream with tags at either end: ID3v2 before it, ID3v1 and APEv2 after it (MP3, MPEG layer II,
    WavPack, Musepack, Monkey's Audio, True Audio, raw AAC, AC-3)."""
    start, end = 0, _file_size(fh)
    while (skip := id3v2_size(fh, start)) > 0:  # several tags may be stacked
        start += skip
    # Tags at the end, in either order: mp3gain and foobar put APEv2 before ID3v1, mutagen after it. An APE footer
    # is looked for first: in an APE tag of 131 bytes its header's "APETAGEX" puts "TAG" where ID3v1 would start.
    while True:
        fh.seek(max(0, end - 32))
        if end >= 32 and fh.read(8) == b"APETAGEX":  # APE footer: version, size (footer and items), items, flags
            _version, size, _items, flags = struct.unpack("<4I", fh.read(16))
            size += 32 if flags & 0x80000000 else 0  # a header too (APEv2 writers add one; APEv1 has none)
            if 32 <= size <= end:
                end -= size
                continue
        fh.seek(max(0, end - 128))
        if end >= 128 and fh.read(3) == b"TAG":  # ID3v1
            end -= 128
            continue
        break
    yield start, end


def _flac_regions(fh) -> Iterator[tuple[int, int]]:
    pos = id3v2_size(fh, 0)
    fh.seek(pos)
    if fh.read(4) != b"fLaC":
        raise ValueError("no FLAC signature")
    pos += 4
    while True:
        fh.seek(pos)
        header = fh.read(4)
        if len(header) < 4:
            raise ValueError("file ends inside its metadata blocks")
        pos += 4 + int.from_bytes(header[1:4], "big")
        if header[0] & 0x80:  # last metadata block
            break
    yield pos, _file_size(fh)


ASF_HEADER_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


def _asf_regions(fh) -> Iterator[tuple[int, int]]:
    """WMA: the tags live in the ASF header object; the data and index objects after it are the audio."""
    fh.seek(0)
    head = fh.read(24)
    if len(head) < 24 or head[:16] != ASF_HEADER_GUID:
        raise ValueError("no ASF header object")
    size = struct.unpack("<Q", head[16:24])[0]
    end = _file_size(fh)
    if not 24 <= size < end:
        raise ValueError("ASF header object larger than the file")
    yield size, end


def _mp4_regions(fh) -> Iterator[tuple[int, int]]:
    from mutagen.mp4 import Atoms

    fh.seek(0)
    try:
        atoms = Atoms(fh)
    except Exception as exc:  # noqa: BLE001 (mutagen's AtomError is no MutagenError): it stopped the whole scan
        raise ValueError(mp4_index_trouble(Path(fh.name)) or f"damaged MP4 atoms ({exc})") from exc
    found, end = False, _file_size(fh)
    for atom in atoms.atoms:
        if atom.name == b"mdat":
            found = True
            yield atom.offset + 8, min(end, atom.offset + atom.length)  # a file cut short: the audio that is there
    if not found:
        raise ValueError("no mdat atom")


def _iff_chunks(fh, start: int, end: int, endian: str) -> Iterator[tuple[bytes, int, int]]:
    """(id, data start, data end as its size declares it) of each chunk from `start` to `end`."""
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        cid, size = struct.unpack(endian + "4sI", fh.read(8))
        yield cid, pos + 8, pos + 8 + size
        pos += 8 + size + (size & 1)


# An IFF-style file's audio chunk: WAV, RIFF/data little-endian; AIFF, FORM/SSND big-endian.
IFF_AUDIO = {"WAV": (b"RIFF", "<", b"data"), "AIFF": (b"FORM", ">", b"SSND")}
# A WAV in 64-bit form (RF64, EBU Tech 3306; BW64, ITU-R BS.2088: recorders past 4 GB): its sizes in a ds64 chunk
WAV_64_MAGICS = (b"RF64", b"BW64")


def _iff_audio_chunk(fh, magic: bytes, endian: str, chunk: bytes) -> tuple[int, int]:
    """(data start, data end as its size declares it) of the audio chunk of an IFF-style file."""
    fh.seek(0)
    found = fh.read(4)
    wav_64 = magic == b"RIFF" and found in WAV_64_MAGICS
    if found != magic and not wav_64:
        raise ValueError(f"no {magic.decode()} header")
    data_size = None  # a 64-bit WAV's, from its ds64 chunk
    for cid, start, end in _iff_chunks(fh, 12, _file_size(fh), endian):
        if wav_64 and cid == b"ds64" and end - start >= 16:
            fh.seek(start + 8)  # after the RIFF size: the data chunk's
            data_size = struct.unpack("<Q", fh.read(8))[0]
        if cid == chunk:
            return start, start + data_size if data_size is not None and end - start == 0xFFFFFFFF else end
    raise ValueError(f"no {chunk.decode()} chunk")


def is_wav_64(path: str | Path) -> bool:
    """A WAV file in 64-bit form (RF64 or BW64), which the tag library cannot read or write."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in WAV_64_MAGICS
    except OSError:
        return False


# A streamed WAV's audio chunk size: a placeholder its writer never went back to fill in (ffmpeg writing to a pipe, a
# recorder stopped by a crash or a flat battery), which gives no length: the audio runs to the file's end.
PLACEHOLDER_SIZES = (0, 0xFFFFFFFF)


def _iff_audio(fh, magic: bytes, endian: str, chunk: bytes) -> Iterator[tuple[int, int]]:
    """The audio chunk of an IFF-style file, up to the file's end (a file cut short: the audio that is there; one
    streamed, its size a placeholder: all that follows, where a size of 0 hashed nothing, one hash for all such)."""
    start, end = _iff_audio_chunk(fh, magic, endian, chunk)
    yield start, _file_size(fh) if end - start in PLACEHOLDER_SIZES else min(end, _file_size(fh))


def _audio_chunk_sizes(path: str | Path) -> tuple[int, int, int] | None:
    """(bytes its header gives a WAV or AIFF file's audio chunk, bytes from its start to the file's end, the size its
    RIFF or FORM header gives the whole); None for other files and a header not walked."""
    layout = IFF_AUDIO.get(format_of(path).name)
    if layout is None:
        return None
    try:
        with open(path, "rb") as fh:
            start, end = _iff_audio_chunk(fh, *layout)
            fh.seek(4)
            whole = struct.unpack(layout[1] + "I", fh.read(4))[0]
            return end - start, _file_size(fh) - start, whole
    except (OSError, struct.error, ValueError):
        return None


def declared_audio_bytes(path: str | Path) -> tuple[int, int] | None:
    """(bytes its header gives a WAV or AIFF file's audio chunk, bytes of it the file holds); None for other files,
    a header not walked, or a streamed WAV's placeholder size (which gives no length)."""
    sizes = _audio_chunk_sizes(path)
    if sizes is None or sizes[0] in PLACEHOLDER_SIZES:
        return None
    return sizes[0], min(sizes[:2])


def sized_as_empty(path: str | Path) -> bool:
    """A WAV file whose data chunk says 0 bytes with audio after it (streamed, never finished): libsndfile finds no
    frames in it, where ffmpeg (and every player built on it) reads on to the file's end. (libsndfile reads such an
    AIFF file whole, and ffmpeg not at all.)"""
    if format_of(path).name != "WAV":
        return False
    sizes = _audio_chunk_sizes(path)
    return sizes is not None and sizes[0] == 0 and sizes[1] > 0


def unfinished_header(path: str | Path) -> bool:
    """A WAV or AIFF file whose header gives its whole or its audio no size (0, or a streamed WAV's 0xFFFFFFFF) with
    audio after it (written to a pipe by ffmpeg, a recording never finished): the tag library cannot read it, would
    write its tag into the audio, or fails on the size it cannot grow, while the audio itself decodes."""
    sizes = _audio_chunk_sizes(path)
    return sizes is not None and any(size in PLACEHOLDER_SIZES for size in (sizes[0], sizes[2])) and sizes[1] > 0


def _riff_regions(fh) -> Iterator[tuple[int, int]]:
    return _iff_audio(fh, *IFF_AUDIO["WAV"])


def _aiff_regions(fh) -> Iterator[tuple[int, int]]:
    return _iff_audio(fh, *IFF_AUDIO["AIFF"])


DSF_HEADER = 28  # 'DSD ', its size, the file's size and the ID3 tag's offset


def _dsf_regions(fh) -> Iterator[tuple[int, int]]:
    """A DSF file's format and data chunks, in one region: its first chunk (file size, tag pointer) and the ID3 tag
    after the data change with every tag write."""
    fh.seek(0)
    head = fh.read(DSF_HEADER)
    if len(head) < DSF_HEADER or head[:4] != b"DSD ":
        raise ValueError("no DSD header")
    pos, end = DSF_HEADER, _file_size(fh)
    while pos + 12 <= end:
        fh.seek(pos)
        cid, size = struct.unpack("<4sQ", fh.read(12))
        if cid == b"data":
            yield DSF_HEADER, min(end, pos + size)
            return
        if size < 12:
            break
        pos += size
    raise ValueError("no data chunk")


def _dsdiff_regions(fh) -> Iterator[tuple[int, int]]:
    """A DSDIFF file's sound properties and its audio (`PROP`, then `DSD ` or DST-compressed `DST `): the form's size
    and its other chunks (the ID3 tag, comments, edited-master titles) change with tag writes."""
    fh.seek(0)
    head = fh.read(16)
    if len(head) < 16 or head[:4] != b"FRM8" or head[12:] != b"DSD ":
        raise ValueError("no FRM8 DSD form")
    end = min(_file_size(fh), 12 + struct.unpack(">Q", head[4:12])[0])
    prop = None
    for cid, start, stop in _dsdiff_chunks(fh, 16, end):
        if cid == b"PROP":
            prop = (start, stop)
        elif cid in (b"DSD ", b"DST ") and prop:
            yield prop
            yield start, stop
            return
    raise ValueError("no PROP chunk before the audio chunk")


def _dsdiff_chunks(fh, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(id, data start, data end) of each chunk from `start`: 4-byte id, 64-bit big-endian size, even-padded."""
    pos = start
    while pos + 12 <= end:
        fh.seek(pos)
        cid, size = struct.unpack(">4sQ", fh.read(12))
        yield cid, pos + 12, min(end, pos + 12 + size)
        pos += 12 + size + (size & 1)


def _last_flac_header(index: int, packet: bytes) -> bool:
    """Ogg FLAC: the mapping packet holds STREAMINFO (its block header at byte 13), then one packet per
    metadata block; the block whose header has the top bit set is the last (the packet count the mapping
    packet also gives may be 0, "unknown")."""
    if index == 0:
        return len(packet) > 13 and bool(packet[13] & 0x80)
    return bool(packet) and bool(packet[0] & 0x80)


# Ogg codec -> whether the packet at (index, start of its data) is the stream's last header packet.
OGG_LAST_HEADER: dict[str, Callable[[int, bytes], bool]] = {
    "Ogg Vorbis": lambda index, packet: index == 2,  # identification, comment, setup
    "Opus": lambda index, packet: index == 1,  # OpusHead, OpusTags
    "Ogg FLAC": _last_flac_header,
    # header, comment; the extra header packets a Speex header may announce (no encoder writes any) are hashed as
    # audio: a tag write never changes them
    "Speex": lambda index, packet: index == 1,
}


def _hash_ogg(fh, h, is_last_header: Callable[[int, bytes], bool]) -> None:
    """Hash packet data after the header packets (the comment header is where tags live).

    The codecs' Ogg mappings start the audio on a fresh page, so every page after the one where the
    last header packet ends is audio.
    """
    from mutagen.ogg import OggPage

    fh.seek(0)
    index, last_started, headers_done = -1, False, False
    while True:
        start = fh.tell()
        try:
            page = OggPage(fh)
        except EOFError:
            break
        except Exception as exc:  # mutagen.ogg.error on a damaged page
            fh.seek(start)
            rest = fh.read(LARGEST_PAGE + 1)  # more than any page: not the last page cut through
            if headers_done and is_cut_page(rest):  # a file cut short through its last page: its bytes as they are
                h.update(rest)
                break
            raise ValueError(str(exc)) from exc
        if headers_done:
            for packet in page.packets:
                h.update(packet)
            continue
        last_piece = 0 if last_started else None  # where on this page the last header packet (or its rest) lies
        if not last_started:
            for j, packet in enumerate(page.packets):
                if j == 0 and page.continued:
                    continue  # the rest of a packet that began on an earlier page
                index += 1
                if is_last_header(index, packet):
                    last_started, last_piece = True, j
                    break
        # the last header packet ends here unless it is this page's unfinished final piece
        if last_piece is not None and (last_piece < len(page.packets) - 1 or page.complete):
            headers_done = True
    if not headers_done:
        raise ValueError("file ends inside its Ogg headers")
