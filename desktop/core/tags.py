"""Tag fields declared once, each with a storage style per tag system (beets' mediafile idea)."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core import id3_frames, riff_info
from desktop.core.errors import TagReadError, TagWriteError, unless_empty
from desktop.core.fingerprint import is_wav_64, unfinished_header
from desktop.core.formats import MP4, OGG_CODECS, AudioFormat, format_of, mp4_index_trouble
from desktop.core.genres import join_genres, same_genres, split_genres
from desktop.core.ogg_end import stops_before_its_last_page
from desktop.core.safe_write import safe_modify, temp_copy_path

KEEP_ID3_VERSION = 0
# Raised whenever read_tags learns to read more of what files hold (2: an MP3's APEv2 tag and a FLAC's leading ID3
# tag fill in what the first tag lacks); a library's files read by an older reader are read again once.
# 3: album artist and the compilation flag; 4: track and disc numbers, the year, iTunes' media kind; 5: the provenance
# field (stored since schema 13)
TAG_READER_VERSION = 5


@dataclass(frozen=True)
class TagOptions:
    """How genres are written: ID3 version, the ID3v2.3 separator, the provenance field, and whether a written file
    keeps its modification time."""

    id3_version: int = KEEP_ID3_VERSION  # 3 or 4; 0 keeps each file's own version (new tags: v2.4)
    id3_separator: str = "; "  # v2.3 has no multi-value frames: values are joined with this
    write_provenance: bool = False
    keep_times: bool = False  # players sorting by "date modified" keep their order; backups by time miss the write

    def __post_init__(self):
        if self.id3_version not in (KEEP_ID3_VERSION, 3, 4):
            raise ValueError("id3_version must be 3, 4, or 0 (keep the file's own)")


class StorageStyle:
    """How one field is kept in one tag system."""

    def get(self, tags, options: TagOptions) -> list[str]:
        """Values of the field, empty when absent."""
        raise NotImplementedError

    def set(self, tags, values: list[str], options: TagOptions) -> None:
        """Replace the field's values (an empty list removes it)."""
        raise NotImplementedError


@dataclass(frozen=True)
class ID3Text(StorageStyle):
    """A standard text frame (TCON, TIT2, ...)."""

    frame: str

    def get(self, tags, options):
        values = []
        for frame in tags.getall(self.frame):
            # TCON's .genres resolves ID3v1 numeric references like "(17)" to names.
            values += list(frame.genres) if self.frame == "TCON" else [str(t) for t in frame.text]
        return _split(values, options.id3_separator)

    def set(self, tags, values, options):
        import mutagen.id3

        tags.delall(self.frame)
        if values:
            v23 = options.id3_version == 3
            text = [options.id3_separator.join(values)] if v23 else values
            tags.add(getattr(mutagen.id3, self.frame)(encoding=1 if v23 else 3, text=text))


@dataclass(frozen=True)
class ID3UserText(StorageStyle):
    """A TXXX frame with a description."""

    desc: str

    def get(self, tags, options):
        return [str(t) for f in tags.getall(f"TXXX:{self.desc}") for t in f.text]

    def set(self, tags, values, options):
        import mutagen.id3

        tags.delall(f"TXXX:{self.desc}")
        if values:
            tags.add(mutagen.id3.TXXX(encoding=1 if options.id3_version == 3 else 3, desc=self.desc, text=values))


@dataclass(frozen=True)
class KeyedValues(StorageStyle):
    """A list of values under one key of a tag container that takes lists (Vorbis, ASF, APEv2, Matroska)."""

    key: str

    def get(self, tags, options):
        return [v for v in tags.get(self.key, []) if v]

    def set(self, tags, values, options):
        if self.key in tags:
            del tags[self.key]
        if values:
            tags[self.key] = list(values)


@dataclass(frozen=True)
class VorbisKey(KeyedValues):
    """A Vorbis comment; several values are several fields (GENRE=a, GENRE=b)."""


@dataclass(frozen=True)
class MP4Atom(StorageStyle):
    """An iTunes text atom (©gen, ©nam, ...)."""

    atom: str
    drop: tuple[str, ...] = ()  # atoms that mean the same and must go when this one is written

    def get(self, tags, options):
        return [str(v) for v in tags.get(self.atom, []) if str(v)]

    def set(self, tags, values, options):
        for name in (self.atom, *self.drop):
            if name in tags:
                del tags[name]
        if values:
            tags[self.atom] = list(values)


@dataclass(frozen=True)
class MP4FreeForm(StorageStyle):
    """A '----:com.apple.iTunes:NAME' free-form atom."""

    name: str

    @property
    def key(self) -> str:
        return f"----:com.apple.iTunes:{self.name}"

    def get(self, tags, options):
        return [bytes(v).decode("utf-8", "replace") for v in tags.get(self.key, [])]

    def set(self, tags, values, options):
        from mutagen.mp4 import MP4FreeForm as FreeForm

        if self.key in tags:
            del tags[self.key]
        if values:
            tags[self.key] = [FreeForm(v.encode("utf-8")) for v in values]


@dataclass(frozen=True)
class ASFAttribute(KeyedValues):
    """A Windows Media (ASF) attribute; several values are several attributes (WM/Genre, WM/Genre)."""

    follower: str = ""  # an older attribute of the same meaning (WM/GenreID), kept in step where it agreed

    def get(self, tags, options):
        return [text for text in map(str, tags.get(self.key, [])) if text]

    def set(self, tags, values, options):
        follower = [str(v) for v in tags.get(self.follower, [])] if self.follower else []
        agreed = bool(follower) and [v.casefold() for v in follower] == [v.casefold() for v in self.get(tags, options)]
        super().set(tags, values, options)
        if agreed:  # Windows Media Player writes both; one saying the old genre beside the new would mislead its readers
            KeyedValues(self.follower).set(tags, values, options)


@dataclass(frozen=True)
class APEItem(KeyedValues):
    """An APEv2 text item (WavPack); several values are one item, NUL-separated."""

    def get(self, tags, options):
        from mutagen.apev2 import TEXT

        value = tags.get(self.key)
        return [v for v in value if v] if value is not None and value.kind == TEXT else []


@dataclass(frozen=True)
class MP4Flag(StorageStyle):
    """An iTunes yes/no atom (cpil: part of a compilation), read as ["1"] when set."""

    atom: str

    def get(self, tags, options):
        return ["1"] if tags.get(self.atom) else []

    def set(self, tags, values, options):
        if self.atom in tags:
            del tags[self.atom]
        if values and is_yes(values[0]):
            tags[self.atom] = True


@dataclass(frozen=True)
class MP4Number(StorageStyle):
    """An iTunes number atom (stik, the media kind: ["2"]), or the first of a pair (trkn, track 3 of 12: ["3"]); only
    read, never written."""

    atom: str

    def get(self, tags, options):
        return [str(value[0] if isinstance(value, tuple) else value) for value in tags.get(self.atom, []) if value]

    def set(self, tags, values, options):
        raise ValueError("Genre Tagger writes no numbers")


@dataclass(frozen=True)
class FirstOf(StorageStyle):
    """One field under several names in the wild (Vorbis ALBUMARTIST, "ALBUM ARTIST"): read from the first that
    has values; written under the first, the others removed."""

    styles: tuple[StorageStyle, ...]

    def get(self, tags, options):
        return next((values for style in self.styles if (values := style.get(tags, options))), [])

    def set(self, tags, values, options):
        for style in self.styles[1:]:
            style.set(tags, [], options)
        self.styles[0].set(tags, values, options)


@dataclass(frozen=True)
class NotKept(StorageStyle):
    """A tag system with no place for the field (CAF has no album artist): nothing to read, nothing written."""

    def get(self, tags, options):
        return []

    def set(self, tags, values, options):
        if values:
            raise ValueError("this tag system has no place for the field")


def is_yes(text: str) -> bool:
    """A yes/no tag's value as taggers write it ("1", "true", "yes")."""
    return text.strip().casefold() in ("1", "true", "yes")


@dataclass(frozen=True)
class TagField:
    """One field, declared once, with its storage style per tag system."""

    name: str
    styles: dict[str, StorageStyle] = field(hash=False)

    def get(self, kind: str, tags, options: TagOptions) -> list[str]:
        """Values from a tag container of `kind` ('id3', 'vorbis', 'mp4', 'asf', 'ape', 'matroska', 'caf')."""
        return self.styles[kind].get(tags, options) if tags is not None else []

    def set(self, kind: str, tags, values: list[str], options: TagOptions) -> None:
        """Store values in a tag container of `kind`."""
        self.styles[kind].set(tags, values, options)


GENRE = TagField("genre", {
    "id3": ID3Text("TCON"), "vorbis": VorbisKey("GENRE"), "mp4": MP4Atom("\xa9gen", drop=("gnre",)),
    "asf": ASFAttribute("WM/Genre", follower="WM/GenreID"), "ape": APEItem("Genre"), "matroska": KeyedValues("GENRE"),
    "caf": KeyedValues("genre"),  # (CAF: one text a key, several genres joined with "; ")
})
TITLE = TagField("title", {
    "id3": ID3Text("TIT2"), "vorbis": VorbisKey("TITLE"), "mp4": MP4Atom("\xa9nam"), "asf": ASFAttribute("Title"),
    "ape": APEItem("Title"), "matroska": KeyedValues("TITLE"),  # (Matroska: else the segment's title, as ffmpeg writes it)
    "caf": KeyedValues("title"),
})
ARTIST = TagField("artist", {
    "id3": ID3Text("TPE1"), "vorbis": VorbisKey("ARTIST"), "mp4": MP4Atom("\xa9ART"), "asf": ASFAttribute("Author"),
    "ape": APEItem("Artist"), "matroska": KeyedValues("ARTIST"), "caf": KeyedValues("artist"),
})
ALBUM = TagField("album", {
    "id3": ID3Text("TALB"), "vorbis": VorbisKey("ALBUM"), "mp4": MP4Atom("\xa9alb"), "asf": ASFAttribute("WM/AlbumTitle"),
    "ape": APEItem("Album"), "matroska": KeyedValues("ALBUM"), "caf": KeyedValues("album"),
})
# Only read: they tell an album by one artist (a DJ mix, a soundtrack by its composer) from a compilation.
# Each under the names taggers use: foobar2000 and Mp3tag ("ALBUM ARTIST"), ffmpeg ("album_artist", TXXX:TCMP).
ALBUM_ARTIST = TagField("album_artist", {
    "id3": ID3Text("TPE2"), "vorbis": FirstOf((VorbisKey("ALBUMARTIST"), VorbisKey("ALBUM ARTIST"), VorbisKey("ALBUM_ARTIST"))),
    "mp4": MP4Atom("aART"), "asf": ASFAttribute("WM/AlbumArtist"),
    "ape": FirstOf((APEItem("Album Artist"), APEItem("album_artist"), APEItem("AlbumArtist"))),  # (APEv2 keys: case-blind)
    "matroska": KeyedValues("ALBUM_ARTIST"), "caf": NotKept(),
})
COMPILATION = TagField("compilation", {  # iTunes' "part of a compilation"; "1" when set
    "id3": FirstOf((ID3Text("TCMP"), ID3UserText("TCMP"), ID3UserText("COMPILATION"))),
    "vorbis": VorbisKey("COMPILATION"), "mp4": MP4Flag("cpil"),
    "asf": FirstOf((ASFAttribute("WM/IsCompilation"), ASFAttribute("compilation"))), "ape": APEItem("Compilation"),
    "matroska": KeyedValues("COMPILATION"), "caf": NotKept(),
})
# Only read: an album's tracks in their order (playlists, the table sorted by album), and the year. Each under the
# names taggers use; ffmpeg writes Matroska's track as PART_NUMBER, APEv2's and ASF's year as "date".
TRACK_NUMBER = TagField("track_number", {
    "id3": ID3Text("TRCK"), "vorbis": FirstOf((VorbisKey("TRACKNUMBER"), VorbisKey("TRACK"))), "mp4": MP4Number("trkn"),
    "asf": FirstOf((ASFAttribute("WM/TrackNumber"), ASFAttribute("WM/Track"))), "ape": APEItem("Track"),
    "matroska": FirstOf((KeyedValues("PART_NUMBER"), KeyedValues("TRACKNUMBER"), KeyedValues("TRACK"))),
    "caf": FirstOf((KeyedValues("track number"), KeyedValues("track"))),
})
DISC_NUMBER = TagField("disc_number", {
    "id3": ID3Text("TPOS"), "vorbis": FirstOf((VorbisKey("DISCNUMBER"), VorbisKey("DISC"))), "mp4": MP4Number("disk"),
    "asf": ASFAttribute("WM/PartOfSet"), "ape": APEItem("Disc"),
    "matroska": FirstOf((KeyedValues("DISC"), KeyedValues("DISCNUMBER"))), "caf": KeyedValues("disc"),
})
YEAR = TagField("year", {  # (ID3: mutagen reads a v2.3 tag's TYER as TDRC, unless a second tag is read as it is)
    "id3": FirstOf((ID3Text("TDRC"), ID3Text("TYER"), ID3Text("TDOR"), ID3Text("TORY"))),
    "vorbis": FirstOf((VorbisKey("DATE"), VorbisKey("YEAR"))), "mp4": MP4Atom("\xa9day"), "asf": FirstOf((ASFAttribute("WM/Year"), ASFAttribute("date"))),
    "ape": FirstOf((APEItem("Year"), APEItem("Date"))),
    "matroska": FirstOf((KeyedValues("DATE_RELEASED"), KeyedValues("DATE_RECORDED"), KeyedValues("DATE"))),
    "caf": FirstOf((KeyedValues("year"), KeyedValues("recorded date"), KeyedValues("date"))),
})
# iTunes' media kind (stik: 2 an audiobook, 21 a podcast) and its podcast flag: only MP4 files keep them. Read only,
# to tell spoken word from music (desktop.core.spoken_word).
_ONLY_MP4 = {kind: NotKept() for kind in ("id3", "vorbis", "asf", "ape", "matroska", "caf")}
MEDIA_KIND = TagField("media_kind", {"mp4": MP4Number("stik"), **_ONLY_MP4})
PODCAST = TagField("podcast", {"mp4": MP4Flag("pcst"), **_ONLY_MP4})
SPOKEN_MEDIA_KINDS = {"2": "audiobook", "21": "podcast"}  # stik -> what FileTags.media_kind says

PROVENANCE = TagField("genre_tagger", {
    "id3": ID3UserText("GENRE_TAGGER"), "vorbis": VorbisKey("GENRE_TAGGER"), "mp4": MP4FreeForm("GENRE_TAGGER"),
    "asf": ASFAttribute("GENRE_TAGGER"), "ape": APEItem("GENRE_TAGGER"), "matroska": KeyedValues("GENRE_TAGGER"),
    "caf": KeyedValues("genre_tagger"),
})


@dataclass(frozen=True)
class FileTags:
    """The tags Genre Tagger reads from a file."""

    genres: tuple[str, ...] = ()  # decoded by the genre codec (desktop.core.genres)
    title: str = ""
    artist: str = ""
    album: str = ""
    provenance: str = ""
    album_artist: str = ""
    compilation: bool = False  # marked part of a compilation (iTunes' flag)
    raw_genres: tuple[str, ...] = ()  # the values exactly as stored, journalled so undo restores them as they were
    # Where they are stored: the first tag's own values, and a second tag's or a WAV's INFO chunk's (None: the file
    # has no such place). raw_genres is the first's, else the second's; undo puts each back in its own place.
    first_tag_genres: tuple[str, ...] = ()
    second_tag_genres: tuple[str, ...] | None = None
    track_number: int = 0  # 0: not known
    disc_number: int = 0
    year: int = 0
    media_kind: str = ""  # "audiobook" or "podcast" where iTunes marked the file so; "" for music and the rest


_LEADING_NUMBER = re.compile(r"\s*0*(\d{1,4})(?!\d)")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def number_in(text: str) -> int:
    """A track or disc number as taggers write it ("3", "03", "3/12"); 0 where there is none ("A1", "")."""
    found = _LEADING_NUMBER.match(text)
    return int(found.group(1)) if found else 0


def year_in(text: str) -> int:
    """The year of a date as taggers write it ("2003", "2003-05-01", "05/01/2003", "c. 1965"); 0 where there is none."""
    found = _YEAR.search(text)
    return int(found.group(1)) if found else 0


def _split(values: list[str], separator: str) -> list[str]:
    """ID3v2.3 files hold several genres in one string; split on the separator (trimmed)."""
    sep = separator.strip() or separator
    out = []
    for v in values:
        out += [p.strip() for p in v.split(sep)] if sep and sep in v else [v]
    return [v for v in out if v]


# Readers' errors that mean no audio of the format was found at all, which their words ("can't sync to MPEG frame")
# do not say to a listener. Formats with a signature are named by the audio hash first ("no FLAC signature").
NO_AUDIO_ERRORS = {"HeaderNotFoundError": "", "AACError": "sync not found"}  # error -> the words that mean it


def _said_by_a_reader(exc: Exception) -> bool:
    """An error a tag reader raised to say what is wrong (mutagen's own, our CAF and Matroska readers', the system's),
    not one it stumbled on in damaged bytes ("KeyError: 106" from a damaged WMA's header, a bare struct.error)."""
    from desktop.core.caf import CAFError
    from desktop.core.matroska import MatroskaError

    own = type(exc).__module__.split(".")[0] == "mutagen" or isinstance(exc, (CAFError, MatroskaError, OSError))
    return own and bool(str(exc))


def error_name(exc: Exception) -> str:
    """An error's class as a bug report names it: "KeyError", "struct.error" (not a bare "error")."""
    kind = type(exc)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _open(path: Path):
    fmt = format_of(path)
    try:
        return fmt, fmt.open(path)
    except Exception as exc:  # mutagen raises format-specific errors (HeaderNotFoundError, FLACNoHeaderError, ...)
        said = (fmt is MP4 and mp4_index_trouble(path)) or (f"{type(exc).__name__}: {exc}" if _said_by_a_reader(exc)
                                                            else f"damaged file structure ({error_name(exc)})")
        if NO_AUDIO_ERRORS.get(type(exc).__name__, "\0") in str(exc):
            said = f"no {fmt.name} audio found in it: damaged, or not {fmt.name} at all; {said}"
        raise TagReadError(path, unless_empty(path, f"cannot read tags ({said})")) from exc


def read_tags(path: str | Path, options: TagOptions = TagOptions()) -> FileTags:
    """Genre, title, artist, album, album artist, compilation flag, track and disc numbers, year, iTunes' media kind
    and provenance of a file."""
    path = Path(path)
    if is_wav_64(path):  # the tag library reads RIFF WAV only: its genre comes from listening, and is never written
        return FileTags()
    try:
        fmt, audio = _open(path)
    except TagReadError:
        if unfinished_header(path):  # its audio is there to hear; its tags (if any) are left as they are
            return FileTags()
        raise
    tags, kind = audio.tags, fmt.tag_kind

    def first(f, container=tags, of=kind):
        values = f.get(of, container, options)
        return values[0] if values else ""

    own = tuple(GENRE.get(kind, tags, options))
    other = None
    title, artist, album = first(TITLE), first(ARTIST), first(ALBUM)
    album_artist, compilation = first(ALBUM_ARTIST), first(COMPILATION)
    track, disc, year = number_in(first(TRACK_NUMBER)), number_in(first(DISC_NUMBER)), year_in(first(YEAR))
    media_kind = SPOKEN_MEDIA_KINDS.get(first(MEDIA_KIND), "podcast" if first(PODCAST) else "")
    if fmt.riff_info:  # WAV: the RIFF INFO chunk fills in what the ID3 chunk lacks
        info = riff_info.read_info(path)
        other = (info[riff_info.GENRE_KEY.decode()],) if info.get(riff_info.GENRE_KEY.decode()) else ()
        title, artist, album = title or info.get("INAM", ""), artist or info.get("IART", ""), album or info.get("IPRD", "")
        # ITRK as most taggers write it, IPRT as ffmpeg does
        track, year = track or number_in(info.get("ITRK") or info.get("IPRT", "")), year or year_in(info.get("ICRD", ""))
    if fmt.second_tag and (second := _second_tags(fmt.second_tag, path)) is not None:  # fills in what the first lacks
        of = fmt.second_tag
        other = tuple(GENRE.get(of, second, options))
        title, artist, album = (title or first(TITLE, second, of), artist or first(ARTIST, second, of),
                                album or first(ALBUM, second, of))
        album_artist, compilation = album_artist or first(ALBUM_ARTIST, second, of), compilation or first(COMPILATION, second, of)
        track, disc = track or number_in(first(TRACK_NUMBER, second, of)), disc or number_in(first(DISC_NUMBER, second, of))
        year = year or year_in(first(YEAR, second, of))
    raw = own or other or ()
    return FileTags(split_genres(raw), title, artist, album, first(PROVENANCE), album_artist, is_yes(compilation), raw,
                    own, other, track, disc, year, media_kind)


def _second_tags(kind: str, path: Path):
    """A file's second tag (MP3: APEv2 at its end; FLAC: ID3v2 in front); None without one, or with one mutagen
    cannot read (then left alone)."""
    from mutagen.apev2 import APEv2
    from mutagen.id3 import ID3

    try:  # ID3 as it is (not translated to v2.4), and never an ID3v1 tag taken for one in front
        return APEv2(path) if kind == "ape" else ID3(path, translate=False, load_v1=False)
    except Exception:  # noqa: BLE001 (none, or a damaged one: the first tag is still read and written as before)
        return None


def _has_id3v1(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() < 128:
            return False
        fh.seek(-128, os.SEEK_END)
        return fh.read(3) == b"TAG"


def _mirror_to_second(kind: str, copy: Path, before: list[str], genres: list[str], options: TagOptions,
                      dates: dict[str, list[str]]) -> None:
    """Give a second tag's genre the new value where it said what the first tag said (or the first said nothing).

    A genre of its own that differs, or none at all, is left as it is: nothing is lost and nothing is added.
    `dates`: an ID3 second tag's date frames as written (read before the write).
    """
    second = _second_tags(kind, copy)
    said = GENRE.get(kind, second, options) if second is not None else []
    if not said or (before and not same_genres(split_genres(before), split_genres(said))):
        return
    if kind == "ape":
        GENRE.set(kind, second, list(genres), options)
        second.save(copy)
        return
    if _has_id3v1(copy):  # mutagen would update it too, and in a FLAC file it lies in what counts as audio
        return
    version = 3 if second.version[1] == 3 else 4
    GENRE.set(kind, second, list(genres), TagOptions(version, options.id3_separator))
    _ready_to_save(second, version, second.version[1], dates)
    second.save(copy, v2_version=version)


# Frames ID3v2.3 lacks, which mutagen's update_to_v23 drops: the sort orders (players use them in v2.3 too, and
# Picard keeps them), mood, release and tagging times, the original date (v2.3 keeps only its year), volume and
# EQ adjustments. A genre write asked for in v2.3 must not lose them: they stay, and readers pass over what they lack.
ID3V24_FRAMES_KEPT = ("TSOP", "TSOA", "TSOT", "TSST", "TMOO", "TPRO", "TDRL", "TDEN", "TDTG", "TDOR", "RVA2", "EQU2",
                      "SIGN")


def _convert_keeping(tags, update, kept_keys: tuple[str, ...]) -> None:
    """Run one of mutagen's version updates, then put back the frames it dropped for lack of a form."""
    kept = [frame for key in kept_keys for frame in tags.getall(key)]
    update()
    for frame in kept:
        if frame.HashKey not in tags:
            tags.add(frame)


def to_id3v23(tags) -> None:
    """Make an ID3 tag ready to save as v2.3: dates and people converted to their v2.3 frames, no frame lost."""
    _convert_keeping(tags, tags.update_to_v23, ID3V24_FRAMES_KEPT)


# Frames ID3v2.4 has no form for, which mutagen's update_to_v24 drops: the volume and EQ adjustments of the players
# that wrote them, the recording dates, the size. A v2.3 file written in v2.4 keeps them as they are.
ID3V23_FRAMES_KEPT = ("RVAD", "EQUA", "TRDA", "TSIZ")


# iTunes wrote its sort orders into ID3v2.3 tags as XSOP, XSOA and XSOT, frames of no standard that mutagen keeps
# only in their own version (as raw bytes); written in v2.4 they become the standard TSOP, TSOA and TSOT.
ITUNES_SORT_ORDERS = {"XSOP": "TSOP", "XSOA": "TSOA", "XSOT": "TSOT"}


def _itunes_sort_orders(tags) -> list:
    """iTunes' v2.3 sort-order frames (kept raw by mutagen) as the v2.4 frames that mean the same."""
    import mutagen.id3

    frames = []
    for raw in getattr(tags, "unknown_frames", []):
        target = ITUNES_SORT_ORDERS.get(raw[:4].decode("latin-1"))
        # Another frame, one already given, or one unreadable (compressed, no known encoding): left to the frame check.
        if target is not None and target not in tags and (values := id3_frames.text_values(raw)):
            frames.append(getattr(mutagen.id3, target)(encoding=3, text=values))
    return frames


def to_id3v24(tags) -> None:
    """Make an ID3 tag from an older version ready to save as v2.4: dates and people converted, no frame lost."""
    sort_orders = _itunes_sort_orders(tags)
    _convert_keeping(tags, tags.update_to_v24, ID3V23_FRAMES_KEPT)
    for frame in sort_orders:
        tags.add(frame)


# Dates in the form ID3v2.4 gives them, which mutagen reads into its own and writes back so on every save:
# "01/05/2003" became "0001-05-2003" and "c. 1965" nothing. Where a tag keeps its version they stay as written.
DATE_FRAMES = ("TDRC", "TDOR", "TDRL", "TDTG", "TDEN")


@functools.cache
def _verbatim_frame(name: str) -> type:
    """A plain text frame saved under a date frame's ID (mutagen names a frame after its class): text as it is."""
    from mutagen.id3 import TextFrame

    return type(name, (TextFrame,), {"__doc__": f"{name} holding its text as written"})


def _keep_dates_as_written(tags, dates: dict[str, list[str]]) -> None:
    """Give each date frame mutagen reformatted (or could not read) the text the file's tag holds (`dates`)."""
    for name, values in dates.items():
        frame = tags.get(name)
        if frame is not None and [str(value) for value in frame.text] != values:
            tags.setall(name, [_verbatim_frame(name)(encoding=frame.encoding, text=values)])


def _ready_to_save(tags, version: int, was: int, dates: dict[str, list[str]]) -> None:
    """Convert an ID3 tag to the version it is saved in; one kept in its version is saved as it is (a v2.3 tag's
    stray TDRC stays a TDRC), its dates as written."""
    if version != was:
        (to_id3v23 if version == 3 else to_id3v24)(tags)
    else:
        _keep_dates_as_written(tags, dates)


def id3_version_to_write(audio, options: TagOptions) -> int:
    """The ID3v2 version a save uses: the one asked for, else the file's own (v2.4 for new tags)."""
    if options.id3_version in (3, 4):
        return options.id3_version
    version = getattr(audio.tags, "version", None)
    return 3 if version is not None and version[1] == 3 else 4


def _save(audio, path: Path, fmt: AudioFormat, **options) -> None:
    """mutagen's save, its failure on an Ogg file cut short said in words (mutagen renumbers every page after a tag
    that grows, and cannot read the cut last one)."""
    try:
        audio.save(**options)
    except Exception as exc:
        if fmt in OGG_CODECS.values() and stops_before_its_last_page(path):
            raise TagWriteError(path, f"cannot write tags ({type(exc).__name__}: {exc}; its stream stops before its "
                                      "end, as in a copy or download that did not finish, so a tag needing more room "
                                      "cannot be added; the file is untouched)") from exc
        raise


def write_genres(path: str | Path, genres: list[str], options: TagOptions = TagOptions(), provenance: str | None = None,
                 second_genres: list[str] | None = None, unchanged_since: os.stat_result | None = None) -> None:
    """Set the genre field (and provenance when enabled); the audio data is never touched.

    A second tag that said what the first said, and a WAV's INFO chunk, get `second_genres` (default: the same
    genres; undo gives each place its own old value). The write goes to a copy beside the file; the copy's audio
    is checked byte for byte against the original, and only then replaces it. A failure at any step leaves the
    original as it was, and so does another program's write since `unchanged_since` (the file's stat when the caller
    read what it journals) or during this one.
    """
    path = Path(path)
    fmt = format_of(path)
    other = list(genres) if second_genres is None else list(second_genres)
    if is_wav_64(path):
        raise TagWriteError(path, "an RF64 WAV (the 64-bit form recorders use past 4 GB): the tag library reads and "
                                  "writes RIFF WAV only; nothing written")
    if unfinished_header(path):  # a tag written after the audio would be read as its end, or the audio as the tag
        raise TagWriteError(path, f"its {fmt.name} header gives no size (written to a pipe, or a recording never "
                                  "finished: players read on to the file's end); a tag cannot be added safely until "
                                  "an audio editor saves it again; nothing written")

    def modify(copy: Path) -> None:
        # ID3 tags are read as they are (mutagen's translation to v2.4 dropped a v2.3 file's RVAD, TRDA and TSIZ even
        # when it was saved as v2.3 again); they are converted only where the version written differs.
        audio = fmt.open(copy, translate=False) if fmt.tag_kind == "id3" else fmt.open(copy)
        # The ID3 tag's bytes, read once: what the write must carry over, and the dates as written.
        id3_before = id3_frames.read_tag(copy) if "id3" in (fmt.tag_kind, fmt.second_tag) else None
        dates = id3_frames.text_frames(id3_before, DATE_FRAMES)
        if audio.tags is None:
            audio.add_tags()
        opts, version, was = options, 0, 0
        if fmt.tag_kind == "id3":
            version, was = id3_version_to_write(audio, options), audio.tags.version[1]
            opts = dataclasses.replace(options, id3_version=version)
        before = GENRE.get(fmt.tag_kind, audio.tags, opts) if fmt.second_tag else []  # what a second tag must agree with
        GENRE.set(fmt.tag_kind, audio.tags, list(genres), opts)
        if options.write_provenance and provenance is not None:
            PROVENANCE.set(fmt.tag_kind, audio.tags, [provenance] if provenance else [], opts)
        if version:
            _ready_to_save(audio.tags, version, was, dates)
            _save(audio, path, fmt, v2_version=version)
        else:
            _save(audio, path, fmt)
        if fmt.second_tag:  # players that read the second tag first see the same genre
            _mirror_to_second(fmt.second_tag, copy, before, other, opts, dates)
        after = id3_frames.frame_counts(copy) if id3_before is not None else None
        lost = id3_frames.lost_frames(id3_frames.count_frames(id3_before), after, ("TCON", id3_frames.OURS))
        if lost:  # mutagen passes over frames it cannot parse, and drops those it cannot convert to another version
            convert = f" or convert to ID3v2.{version}" if was in (3, 4) and was != version else ""
            raise TagWriteError(path, f"writing would lose ID3 frames the tag library cannot read{convert} "
                                      f"({', '.join(lost)}); the file is left as it is")
        if fmt.riff_info:  # every reader sees one genre: the INFO chunk says the same as the ID3 chunk
            scratch = temp_copy_path(path.with_name(f"{path.stem}-riff{path.suffix}"))
            riff_info.set_info(copy, riff_info.GENRE_KEY.decode(), join_genres(other) or None, scratch)

    safe_modify(path, modify, _open, keep_times=options.keep_times, unchanged_since=unchanged_since)
