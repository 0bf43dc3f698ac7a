"""Export tracks as M3U8 playlists with paths relative to the playlist file: one genre, or every genre to a folder."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from desktop.core.analysis import DEFAULT_THRESHOLD
from desktop.core.errors import GenreTaggerError
from desktop.core.output_files import check_output
from desktop.core.paths import cut_name
from desktop.core.safe_write import atomic_write_text
from desktop.store import queries

PLAYLIST_SUFFIXES = (".m3u8", ".m3u")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class EntryLines:
    """Each track's line in a playlist kept in `folder`: relative where possible, each music folder's relative path
    worked out once (os.path.relpath for every track was most of the time a playlist of 100,000 took)."""

    def __init__(self, folder: Path):
        self.folder = os.fspath(folder)
        self._relative: dict[str, str | None] = {}  # a track's folder -> that folder from the playlist's

    def __call__(self, path: str) -> str | None:
        """A track's line; None for a name no playlist line can hold."""
        if CONTROL.search(path):
            return None  # a newline in a file name would split the entry into two lines
        parent, name = os.path.split(path)
        if parent not in self._relative:
            try:
                self._relative[parent] = os.path.relpath(parent or ".", self.folder)
            except ValueError:  # another drive on Windows: no relative path exists
                self._relative[parent] = None
        relative = self._relative[parent]
        line = path if relative is None else name if relative == "." else os.path.join(relative, name)
        return f"./{line}" if line.startswith("#") else line  # '#' would make it a comment


# A playlist's name before ".m3u8": a genre's whole name fits (a corrupt tag's thousands of characters made a name
# no file system takes, which stopped the export of every genre after it), with room for " (2)" and on eCryptfs.
PLAYLIST_NAME_MOST = 100  # bytes


def playlist_file_name(genre: str) -> str:
    """A file name for a genre's playlist ("Hip-Hop.m3u8"): characters file systems refuse become "-", and a name
    too long for one is cut."""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", genre).strip(" .-")
    return f"{cut_name(safe, PLAYLIST_NAME_MOST) or 'playlist'}.m3u8"


def check_target(out: Path, force: bool) -> None:
    """Refuse to replace an audio file, or anything that is not a playlist, unless forced."""
    check_output(out, "playlist", PLAYLIST_SUFFIXES, lambda head: head.startswith(b"#EXTM3U"), force)


class PlaylistTrack(Protocol):
    """What a playlist's entry reads of a track: a Track, or a row of the window's table."""

    path: str
    title: str | None
    artist: str | None
    duration: float | None


def write_m3u8(tracks: Sequence[PlaylistTrack], out: str | Path, force: bool = False) -> tuple[Path, list[str]]:
    """Write an extended M3U in UTF-8, relative paths; return it and the tracks left out (odd names)."""
    out = Path(out).expanduser().absolute()
    check_target(out, force)
    lines, skipped, entry_line = ["#EXTM3U"], [], EntryLines(out.parent)
    for t in tracks:
        line = entry_line(t.path)
        if line is None:
            skipped.append(t.path)
            continue
        label = " - ".join(x for x in (t.artist, t.title) if x) or Path(t.path).stem
        lines.append(f"#EXTINF:{int(round(t.duration or 0))},{CONTROL.sub(' ', label)}")
        lines.append(line)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, "\n".join(lines) + "\n")
    except OSError as exc:
        blocking = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocking} is a file, not a folder" if blocking else exc.strerror or exc  # mkdir says "File exists"
        raise GenreTaggerError(out, f"cannot write playlist ({reason})") from exc
    return out, skipped


@dataclass
class GenrePlaylist:
    """One genre's playlist written (or not: `error`) by write_genre_playlists."""

    genre: str
    path: Path
    tracks: int = 0
    left_out: list[str] = field(default_factory=list)  # tracks whose names no playlist line can hold
    error: str | None = None


def unique_file_names(genres: list[str]) -> list[str]:
    """playlist_file_name of each genre, made distinct where two would meet ("Rock/Pop" and "Rock:Pop"), also on a
    file system blind to case."""
    taken, names = set(), []
    for genre in genres:
        name = base = playlist_file_name(genre)
        n = 2
        while name.casefold() in taken:
            name, n = f"{base.removesuffix('.m3u8')} ({n}).m3u8", n + 1
        taken.add(name.casefold())
        names.append(name)
    return names


def write_genre_playlists(sessions: sessionmaker[Session], folder: str | Path, threshold: float = DEFAULT_THRESHOLD,
                          force: bool = False, cancel: threading.Event | None = None) -> list[GenrePlaylist]:
    """One playlist per genre of the library (as the sidebar and `list --counts` count them: confident and
    corrected tracks), each `<genre>.m3u8` in `folder`; a playlist written before is replaced. A playlist that
    cannot be written is reported in its entry and the others are still written; `cancel` stops between two."""
    folder = Path(folder).expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise GenreTaggerError(folder, "is a file; name a folder to write the playlists in")
    with sessions() as s:
        genres = [genre for genre, _ in queries.genre_counts(s, threshold)]
    if not genres:
        raise GenreTaggerError(None, "no genres to export yet (scan a folder, or set genres by hand)")
    done = []
    for genre, name in zip(genres, unique_file_names(genres), strict=True):
        if cancel is not None and cancel.is_set():
            break
        with sessions() as s:
            tracks = queries.listed_tracks(s, genre, threshold=threshold)
        entry = GenrePlaylist(genre, folder / name)
        try:
            entry.path, entry.left_out = write_m3u8(tracks, entry.path, force)
            entry.tracks = len(tracks) - len(entry.left_out)
        except GenreTaggerError as exc:
            entry.error = exc.reason
        done.append(entry)
    return done
