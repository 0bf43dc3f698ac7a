"""Tag fields declared once, each with a storage style per tag system (beets' mediafile idea)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.errors import AudioDecodeError, TagReadError, TagWriteError
from desktop.core.fingerprint import audio_hash
from desktop.core.formats import format_of


@dataclass(frozen=True)
class TagOptions:
    """How genres are written: ID3 version, the ID3v2.3 separator, and the provenance field."""

    id3_version: int = 4  # 4 or 3
    id3_separator: str = "; "  # v2.3 has no multi-value frames: values are joined with this
    write_provenance: bool = False

    def __post_init__(self):
        if self.id3_version not in (3, 4):
            raise ValueError("id3_version must be 3 or 4")


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
            text = values if options.id3_version == 4 else [options.id3_separator.join(values)]
            tags.add(getattr(mutagen.id3, self.frame)(encoding=3 if options.id3_version == 4 else 1, text=text))


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
            tags.add(mutagen.id3.TXXX(encoding=3 if options.id3_version == 4 else 1, desc=self.desc, text=values))


@dataclass(frozen=True)
class VorbisKey(StorageStyle):
    """A Vorbis comment; several values are several fields (GENRE=a, GENRE=b)."""

    key: str

    def get(self, tags, options):
        return [v for v in tags.get(self.key, []) if v]

    def set(self, tags, values, options):
        if self.key in tags:
            del tags[self.key]
        if values:
            tags[self.key] = list(values)


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
class TagField:
    """One field, declared once, with its storage style per tag system."""

    name: str
    styles: dict[str, StorageStyle] = field(hash=False)

    def get(self, kind: str, tags, options: TagOptions) -> list[str]:
        """Values from a tag container of `kind` ('id3', 'vorbis', 'mp4')."""
        return self.styles[kind].get(tags, options) if tags is not None else []

    def set(self, kind: str, tags, values: list[str], options: TagOptions) -> None:
        """Store values in a tag container of `kind`."""
        self.styles[kind].set(tags, values, options)


GENRE = TagField("genre", {"id3": ID3Text("TCON"), "vorbis": VorbisKey("GENRE"), "mp4": MP4Atom("\xa9gen", drop=("gnre",))})
TITLE = TagField("title", {"id3": ID3Text("TIT2"), "vorbis": VorbisKey("TITLE"), "mp4": MP4Atom("\xa9nam")})
ARTIST = TagField("artist", {"id3": ID3Text("TPE1"), "vorbis": VorbisKey("ARTIST"), "mp4": MP4Atom("\xa9ART")})
ALBUM = TagField("album", {"id3": ID3Text("TALB"), "vorbis": VorbisKey("ALBUM"), "mp4": MP4Atom("\xa9alb")})
PROVENANCE = TagField(
    "genre_tagger", {"id3": ID3UserText("GENRE_TAGGER"), "vorbis": VorbisKey("GENRE_TAGGER"), "mp4": MP4FreeForm("GENRE_TAGGER")}
)


@dataclass(frozen=True)
class FileTags:
    """The tags Genre Tagger reads from a file."""

    genres: tuple[str, ...] = ()
    title: str = ""
    artist: str = ""
    album: str = ""
    provenance: str = ""


def _split(values: list[str], separator: str) -> list[str]:
    """ID3v2.3 files hold several genres in one string; split on the separator (trimmed)."""
    sep = separator.strip() or separator
    out = []
    for v in values:
        out += [p.strip() for p in v.split(sep)] if sep and sep in v else [v]
    return [v for v in out if v]


def _open(path: Path):
    fmt = format_of(path)
    try:
        return fmt, fmt.open(path)
    except Exception as exc:  # mutagen raises format-specific errors (HeaderNotFoundError, FLACNoHeaderError, ...)
        raise TagReadError(path, f"cannot read tags ({type(exc).__name__}: {exc})") from exc


def read_tags(path: str | Path, options: TagOptions = TagOptions()) -> FileTags:
    """Genre, title, artist, album and provenance of a file."""
    path = Path(path)
    fmt, audio = _open(path)
    tags, kind = audio.tags, fmt.tag_kind

    def first(f):
        values = f.get(kind, tags, options)
        return values[0] if values else ""

    return FileTags(tuple(GENRE.get(kind, tags, options)), first(TITLE), first(ARTIST), first(ALBUM), first(PROVENANCE))


def write_genres(path: str | Path, genres: list[str], options: TagOptions = TagOptions(), provenance: str | None = None) -> None:
    """Set the genre field (and provenance when enabled); the audio data is never touched.

    The write goes to a copy beside the file; the copy's audio is checked byte for byte against
    the original, and only then replaces it. A failure at any step leaves the original as it was.
    """
    path = Path(path)

    def modify(copy: Path) -> None:
        fmt = format_of(path)
        audio = fmt.open(copy)
        if audio.tags is None:
            audio.add_tags()
        GENRE.set(fmt.tag_kind, audio.tags, list(genres), options)
        if options.write_provenance and provenance is not None:
            PROVENANCE.set(fmt.tag_kind, audio.tags, [provenance] if provenance else [], options)
        if fmt.tag_kind == "id3":
            audio.save(v2_version=options.id3_version)
        else:
            audio.save()

    safe_modify(path, modify)


def safe_modify(path: Path, modify: Callable[[Path], None]) -> None:
    """Apply `modify` to a temporary copy, verify the audio is unchanged, then swap it in atomically."""
    if not path.is_file():
        raise TagWriteError(path, "file not found")
    # The mode bits count too: root may write anything, but a file marked read-only stays so.
    if not os.access(path, os.W_OK) or not path.stat().st_mode & stat.S_IWUSR:
        raise TagWriteError(path, "file is read-only; not forcing a write")
    if not os.access(path.parent, os.W_OK):
        raise TagWriteError(path, "folder is read-only; cannot write safely")
    _open(path)  # unreadable tags: refuse before copying anything
    try:
        before = audio_hash(path, full=True)
    except AudioDecodeError as exc:
        raise TagWriteError(path, exc.reason) from exc
    tmp = path.with_name(f".{path.stem}.genre-tagger-tmp{path.suffix}")  # hidden: scans skip it
    try:
        shutil.copy2(path, tmp)
        modify(tmp)
        if audio_hash(tmp, full=True) != before:
            raise TagWriteError(path, "tag write would change the audio data; file left untouched")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except TagWriteError:
        raise
    except Exception as exc:  # mutagen and the OS raise many types; the original is intact either way
        raise TagWriteError(path, f"cannot write tags ({type(exc).__name__}: {exc})") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
