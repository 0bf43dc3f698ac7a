"""Supported file formats as small classes: which tag system each uses and how to open it."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from desktop.core.errors import UnsupportedFormatError


@dataclass(frozen=True)
class AudioFormat:
    """A file type: its name, tag system and mutagen class path."""

    name: str
    tag_kind: str  # 'id3', 'vorbis', 'mp4', 'asf', 'ape', 'matroska' or 'caf': which storage style of each field it uses
    mutagen_class: str
    soundfile_decodes: bool  # libsndfile reads it (and seeks); otherwise ffmpeg decodes it
    riff_info: bool = False  # also keeps tags in a RIFF LIST/INFO chunk (WAV), which many readers use alone
    chatty_decoder: bool = False  # libsndfile's decoder for it prints to stderr (libmpg123): decode_quietly filters it
    # A second tag some files carry, which some players read: 'ape' (an APEv2 tag at the end of an MP3, written by
    # foobar2000 and mp3gain) or 'id3' (an ID3v2 tag in front of a FLAC or True Audio stream, written by some rippers
    # and by mutagen).
    second_tag: str = ""
    # ffmpeg seeks into it. Not so for Musepack: a part from 1 s in came back short; its parts come from one decode
    # from the start.
    ffmpeg_seeks: bool = True
    # Its length comes from its header (mutagen), not from ffprobe, which guesses Musepack's (3.3 s for 4 s) and
    # measures a DSF, DSDIFF or WMA file by its size (so one cut short looked whole; a header with no length, as a
    # WMA broadcast's, leaves it to ffprobe where ffmpeg seeks); WAV and AIFF: from their audio
    # chunk's declared size where the file holds less, as libsndfile measures what is there.
    length_from_header: bool = False

    @property
    def mutagen_module(self) -> str:
        """The module of its mutagen class ("mutagen.flac"), imported by name when a file is opened."""
        return self.mutagen_class.rsplit(".", 1)[0]

    def open(self, path: Path, **options):
        """The mutagen object for `path` (tags read, audio untouched); `options` go to mutagen (ID3: translate)."""
        import importlib

        cls = self.mutagen_class.rsplit(".", 1)[1]
        return getattr(importlib.import_module(self.mutagen_module), cls)(path, **options)


MP3 = AudioFormat("MP3", "id3", "mutagen.mp3.MP3", True, chatty_decoder=True, second_tag="ape")
# MPEG-1/2 layer II (broadcast archives, old rips, DVB recordings): an MP3 file's layout and tags, another layer of the
# same codec; libsndfile decodes it through libmpg123 as it does MP3.
MPEG_LAYER_2 = AudioFormat("MPEG layer II", "id3", "mutagen.mp3.MP3", True, chatty_decoder=True, second_tag="ape")
FLAC = AudioFormat("FLAC", "vorbis", "mutagen.flac.FLAC", True, second_tag="id3")
OGG_VORBIS = AudioFormat("Ogg Vorbis", "vorbis", "mutagen.oggvorbis.OggVorbis", True)
OPUS = AudioFormat("Opus", "vorbis", "mutagen.oggopus.OggOpus", True)
OGG_FLAC = AudioFormat("Ogg FLAC", "vorbis", "mutagen.oggflac.OggFLAC", False)  # libsndfile cannot decode it
# Speex (.spx; a speech codec some audiobooks, podcasts and old low-bitrate rips use): Vorbis comments in its second
# packet, as Vorbis's; libsndfile cannot decode it, ffmpeg does.
SPEEX = AudioFormat("Speex", "vorbis", "mutagen.oggspeex.OggSpeex", False)
MP4 = AudioFormat("MP4", "mp4", "mutagen.mp4.MP4", False)
# A WAV file may hold MP3 (format tag 0x55), which libsndfile decodes through libmpg123 as it does MP3 files.
WAV = AudioFormat("WAV", "id3", "mutagen.wave.WAVE", True, chatty_decoder=True, riff_info=True, length_from_header=True)
AIFF = AudioFormat("AIFF", "id3", "mutagen.aiff.AIFF", True, length_from_header=True)
WMA = AudioFormat("WMA", "asf", "mutagen.asf.ASF", False, length_from_header=True)
WAVPACK = AudioFormat("WavPack", "ape", "mutagen.wavpack.WavPack", False)
MUSEPACK = AudioFormat("Musepack", "ape", "mutagen.musepack.Musepack", False, ffmpeg_seeks=False,
                       length_from_header=True)
MONKEYS_AUDIO = AudioFormat("Monkey's Audio", "ape", "mutagen.monkeysaudio.MonkeysAudio", False)
# True Audio (lossless): APEv2 at the end, as ffmpeg and foobar2000 write it; an ID3v2 tag in front (mutagen's and
# Quod Libet's way) is its second tag, as a FLAC stream's is.
TRUE_AUDIO = AudioFormat("True Audio", "ape", "desktop.core.apev2_streams.TrueAudioAPEv2", False, second_tag="id3")
# Raw AAC (ADTS) and AC-3 streams: tagged the same way (APEv2 at the end, as ffmpeg's `write_apetag`, foobar2000 and
# Picard write it; ID3v2 in front as Mp3tag may write it). No header gives their length: ffprobe estimates it.
RAW_AAC = AudioFormat("AAC (ADTS)", "ape", "desktop.core.apev2_streams.AACAPEv2", False, second_tag="id3")
AC3 = AudioFormat("AC-3", "ape", "desktop.core.apev2_streams.AC3APEv2", False, second_tag="id3")
# DSD (1-bit audio, SACD rips): ID3v2 tag at the file's end, found through the pointer in its first chunk.
DSF = AudioFormat("DSF", "id3", "mutagen.dsf.DSF", False, length_from_header=True)
# DSD in Philips' DSDIFF: ID3v2 tag in an `ID3 ` chunk of its FRM8 form (as foobar2000 and mutagen write it).
DSDIFF = AudioFormat("DSDIFF", "id3", "mutagen.dsdiff.DSDIFF", False, length_from_header=True)
# Matroska and WebM (YouTube's audio, as yt-dlp saves it): the global tag's SimpleTags, read and written here
# (desktop/core/matroska.py; mutagen reads no Matroska).
MATROSKA = AudioFormat("Matroska", "matroska", "desktop.core.matroska.Matroska", False)
# Apple's Core Audio Format (Logic, GarageBand, afconvert): the info chunk's entries, read and written here
# (desktop/core/caf.py). ffmpeg decodes it (PCM, ALAC, AAC, ...): libsndfile reads no ALAC and refuses a PCM file cut
# short. Its length comes from its header (the packet table's frames, or the audio chunk's declared size), so a file
# cut short is said to be.
CAF = AudioFormat("CAF", "caf", "desktop.core.caf.CAF", False, length_from_header=True)

# What an MP4 file without its index says, to readers that call it "not a MP4 file" or "moov atom not found": most
# writers put the index after the audio, so a file cut short has none.
MP4_CUT_BEFORE_INDEX = "no moov atom: its audio's index is missing, as in a copy or download that did not finish"
# ... and one cut short inside its index (the last few KB of a download): mutagen says "truncated data".
MP4_CUT_IN_INDEX = "moov atom cut short: its audio's index is incomplete, as in a copy or download that did not finish"

# What an MP4 file whose audio is encrypted says: iTunes Store purchases before 2009 (.m4p) use FairPlay, whose
# sample entry is 'drms' (mutagen's codec) in place of 'mp4a'; ffmpeg would decode its bytes as plain AAC (noise).
MP4_PROTECTED_CODECS = frozenset({"drms", "drmi", "enca"})
MP4_PROTECTED = ("copy-protected (iTunes Store FairPlay): its audio cannot be decoded, so it is not analysed; its genre "
                 "can be set by hand")

# What a compressed CAF file without its packet table says: its writers put the table after the audio.
CAF_CUT_BEFORE_INDEX = "no packet table: its audio's index is missing, as in a copy or download that did not finish"

# Extension -> format. The single place that decides what a scan picks up.
FORMATS: dict[str, AudioFormat] = {
    ".mp3": MP3,
    ".mp2": MPEG_LAYER_2,
    ".flac": FLAC,
    ".ogg": OGG_VORBIS,
    ".oga": OGG_VORBIS,
    ".opus": OPUS,
    ".spx": SPEEX,
    ".m4a": MP4,
    ".mp4": MP4,
    ".m4b": MP4,
    ".m4p": MP4,  # an iTunes Store purchase with copy protection: its tags are read and written, its audio not decoded
    ".wav": WAV,
    ".aif": AIFF,
    ".aiff": AIFF,
    ".aifc": AIFF,  # AIFF-C: compressed or little-endian ('sowt') PCM, as Apple's tools export it
    ".wma": WMA,
    ".wv": WAVPACK,
    ".mpc": MUSEPACK,
    ".ape": MONKEYS_AUDIO,
    ".tta": TRUE_AUDIO,
    ".aac": RAW_AAC,
    ".ac3": AC3,
    ".dsf": DSF,
    ".dff": DSDIFF,
    ".mka": MATROSKA,
    ".webm": MATROSKA,
    ".weba": MATROSKA,
    ".caf": CAF,
}


# The Ogg container holds several codecs, and its extensions do not say which: Opus is often saved as
# .ogg and FLAC as .oga. The first packet of the stream names its codec.
OGG_EXTENSIONS = {".ogg", ".oga", ".opus", ".spx"}
OGG_CODECS: dict[bytes, AudioFormat] = {
    b"\x01vorbis": OGG_VORBIS, b"OpusHead": OPUS, b"\x7fFLAC": OGG_FLAC, b"Speex   ": SPEEX,
}
OTHER_OGG_CODECS = {b"\x80theora": "Theora video", b"fishead\x00": "Ogg Skeleton"}
OGG_PAGE_HEADER = 27  # bytes before a page's segment table


# What a file's first bytes say it is, for sure, whatever its name says: an M4A or a FLAC saved as .mp3 (some
# downloaders and renamers do it) plays everywhere, by its contents; read by its extension, it could not be read at
# all. (offset, bytes) pairs that must all match. MP3, MPEG layer II, raw AAC and AC-3 have no such signature: a
# frame's sync word is a couple of bits, found by chance in anything.
OGG_CONTAINER = AudioFormat("Ogg", "vorbis", "mutagen.oggvorbis.OggVorbis", True)  # its codec, from its first packet
SIGNATURES: tuple[tuple[AudioFormat, tuple[tuple[int, bytes], ...]], ...] = (
    (FLAC, ((0, b"fLaC"),)),
    (OGG_CONTAINER, ((0, b"OggS"),)),
    (MP4, ((4, b"ftyp"),)),
    (WAV, ((0, b"RIFF"), (8, b"WAVE"))),
    (AIFF, ((0, b"FORM"), (8, b"AIF"))),  # AIFF and AIFC
    (WMA, ((0, bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")),)),  # the ASF header object's GUID
    (WAVPACK, ((0, b"wvpk"),)),
    (MUSEPACK, ((0, b"MPCK"),)),
    (MUSEPACK, ((0, b"MP+"),)),  # stream version 7
    (MONKEYS_AUDIO, ((0, b"MAC "),)),
    (TRUE_AUDIO, ((0, b"TTA1"),)),
    (MATROSKA, ((0, b"\x1a\x45\xdf\xa3"),)),  # EBML
    (CAF, ((0, b"caff"),)),
    (DSF, ((0, b"DSD "),)),
    (DSDIFF, ((0, b"FRM8"),)),
)
# Formats whose ID3v2 tag in front is their own tag (what follows it is judged without it): for the others it is a
# second tag in front of the stream (FLAC, True Audio), so the signature is looked for after it.
OWN_ID3_IN_FRONT = frozenset({"MP3", "MPEG layer II"})


def format_of(path: str | Path) -> AudioFormat:
    """The format for a path by its contents where their first bytes say for sure (for Ogg, by its codec), else by
    its extension; UnsupportedFormatError for an extension not read."""
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise UnsupportedFormatError(path, f"unsupported file type {path.suffix or '(none)'}")
    head = first_bytes(path, skip_id3=fmt.name not in OWN_ID3_IN_FRONT)  # read once for every check below
    inside = signature_format(head)
    if inside is OGG_CONTAINER or (inside is None and suffix in OGG_EXTENSIONS):
        return _ogg_format(path, fmt if suffix in OGG_EXTENSIONS else OGG_VORBIS)
    if inside is not None:
        return inside
    if any(known is fmt for known, _ in SIGNATURES) and (mpeg := mpeg_frame_format(head)):
        return mpeg  # an MP3 saved as .flac, .m4a, ...: its own signature is missing, an MPEG frame is there
    if fmt in (MP4, RAW_AAC) and is_adts(head):
        return RAW_AAC  # a raw stream saved as .m4a (AAC in an MP4 file saved as .aac has MP4's signature)
    return fmt


def first_bytes(path: Path, skip_id3: bool = True, size: int = 16) -> bytes:
    """The file's first `size` bytes (after an ID3v2 tag in front, with `skip_id3`); b"" for a file that cannot be
    read (its reader says why)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(id3v2_size(fh) if skip_id3 else 0)
            return fh.read(size)
    except OSError:
        return b""


def signature_format(head: bytes) -> AudioFormat | None:
    """The format a file's first bytes name for sure (OGG_CONTAINER for any Ogg stream), or None."""
    for fmt, parts in SIGNATURES:
        if all(head[at:at + len(part)] == part for at, part in parts):
            return fmt
    return None


def mpeg_frame_format(head: bytes) -> AudioFormat | None:
    """MP3 or MPEG layer II where the first bytes (after an ID3v2 tag) are such a frame's header; else None. Only
    for a file whose extension's own signature is missing: a frame's sync bits alone are found by chance."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0 or head[2] & 0xF0 == 0xF0:  # sync; not a bad bitrate
        return None
    return {0x02: MP3, 0x04: MPEG_LAYER_2}.get(head[1] & 0x06)  # the layer bits: III, II


def is_adts(head: bytes) -> bool:
    """Whether the first bytes (after an ID3v2 tag in front, as Mp3tag writes one) are an ADTS frame's sync word."""
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0  # sync, layer 0


def id3v2_size(fh, offset: int = 0) -> int:
    """Bytes taken by an ID3v2 tag at `offset` (0 when none)."""
    fh.seek(offset)
    head = fh.read(10)
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    return 10 + size + (10 if head[5] & 0x10 else 0)


def mp4_index_trouble(path: Path) -> str | None:
    """Why an MP4 file's index (its top-level moov atom) cannot be read: missing, or cut short; None when it is whole
    (or the file cannot be walked: its reader says why)."""
    try:
        with open(path, "rb") as fh:
            end, pos = fh.seek(0, 2), 0
            while pos + 8 <= end:
                fh.seek(pos)
                size, kind = struct.unpack(">I4s", fh.read(8))
                if size == 1:  # a 64-bit size follows the name
                    size = struct.unpack(">Q", fh.read(8))[0]
                elif size == 0:  # it runs to the file's end
                    size = end - pos
                if kind == b"moov":
                    return MP4_CUT_IN_INDEX if pos + size > end else None
                if size < 8:  # damage: its reader says what
                    return None
                pos += size
    except (OSError, struct.error):
        return None
    return MP4_CUT_BEFORE_INDEX


def _ogg_format(path: Path, by_extension: AudioFormat) -> AudioFormat:
    """The Ogg codec named by the stream's first packet; the extension's format when it names none we know.

    An unreadable or damaged file keeps its extension's format, so the reader that opens it next
    reports why it cannot be read.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(OGG_PAGE_HEADER + 255 + 8)  # page header, the largest segment table, a codec signature
    except OSError:
        return by_extension
    if len(head) < OGG_PAGE_HEADER or head[:4] != b"OggS":
        return by_extension
    packet = head[OGG_PAGE_HEADER + head[26]:]
    for signature, fmt in OGG_CODECS.items():
        if packet.startswith(signature):
            return fmt
    for signature, name in OTHER_OGG_CODECS.items():
        if packet.startswith(signature):
            raise UnsupportedFormatError(path, f"unsupported Ogg stream ({name})")
    return by_extension


def every_format() -> list[AudioFormat]:
    """Each format a file can be read as, once: by extension, and by an Ogg stream's codec (Ogg FLAC only so)."""
    return list({fmt.name: fmt for fmt in [*FORMATS.values(), *OGG_CODECS.values()]}.values())


def unloadable_formats() -> list[str]:
    """The formats whose tag reader does not load: "Name (module)" each (a bundle built without the module)."""
    import importlib

    missing = []
    for fmt in every_format():
        try:
            importlib.import_module(fmt.mutagen_module)
        except ImportError:
            missing.append(f"{fmt.name} ({fmt.mutagen_module})")
    return missing


def is_supported(path: str | Path) -> bool:
    """True when a scan should pick the file up."""
    # A Path is not made again: Path(path) parses it anew, and a scan asks of every file (0.35 s of 30,000's walk).
    return (path if isinstance(path, Path) else Path(path)).suffix.lower() in FORMATS


# Audio a library may hold that Genre Tagger does not read: a scan names these files rather than
# passing over them in silence (covers, playlists, a WavPack file's .wvc companion and other files are passed over).
UNREAD_AUDIO: dict[str, str] = {
    ".shn": "Shorten", ".ra": "RealAudio", ".amr": "AMR speech",
    # A scan passed over these in silence: an album missing from the library with no word why.
    ".w64": "Sony Wave64", ".tak": "TAK", ".ofr": "OptimFROG", ".aa": "Audible", ".aax": "Audible",
    ".mid": "MIDI", ".midi": "MIDI", ".mod": "Tracker module", ".xm": "Tracker module", ".it": "Tracker module",
    ".s3m": "Tracker module",
}


def unread_audio_kind(path: str | Path) -> str | None:
    """The kind of audio file a scan does not read ("Shorten"), None for any other file."""
    return UNREAD_AUDIO.get(Path(path).suffix.lower())
