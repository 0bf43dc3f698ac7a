"""One genre per album, as a library setting: tracks' shown (and written) genres from their album's.

An album's genre is the one the listener gave at least half of its tracks (tags, corrections), else the
mean of its tracks' probabilities. Each track's own verdict stays in its analysis; the track's columns
show either that or the album's, so turning the setting off gives every track its own back. Settled after
every scan, relearn and toggle, and after corrections are made, forgotten or undone.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from desktop.core.album_genre import (
    MIN_TRACKS,
    album_consensus,
    album_folder,
    album_key,
    is_compilation_of,
)
from desktop.core.analysis import DEFAULT_THRESHOLD, NO_MUSIC, OK, TOO_SHORT, UNCERTAIN, verdict
from desktop.core.genre_names import genre_key, shown_genre
from desktop.core.natural_order import natural_key
from desktop.core.scan import root_prefix, within
from desktop.core.wording import count
from desktop.services.labels import gather_labels
from desktop.services.library import verdict_values
from desktop.store import queries
from desktop.store.lock import writer_lock
from desktop.store.queries import genre_merges
from desktop.store.schema import Analysis, Meta, Track

ALBUM_GENRES = "album_genres"  # meta key: "on" when an album's tracks share one genre, "off" once turned off
SHARED = (OK, UNCERTAIN)  # verdicts whose probabilities make an album's genre
# Too short or silent to tell on their own (an interlude, a hidden track's gap): they take their album's genre.
# Unlike (a learned model's "none of your genres") and failed tracks keep their own verdict.
FOLLOWING = (TOO_SHORT, NO_MUSIC)
NARROWED_FOLDERS = 50  # more folders are picked out of the whole table (SQLite bounds an expression's depth)


@dataclass(frozen=True)
class AlbumGenre:
    """An album's genre. From the model: its labels, the mean probabilities [genres] of `tracks` analysed tracks.
    From the listener (`tagged` > 0): one genre, tagged or corrected on `tagged` of the album's `tracks`, its
    share as the probability."""

    labels: tuple[str, ...]
    probabilities: np.ndarray
    tracks: int
    tagged: int = 0

    @property
    def top(self) -> tuple[str, float]:
        """The album's genre (the model's label, or the listener's name) and its probability."""
        best = int(self.probabilities.argmax())
        return self.labels[best], float(self.probabilities[best])


def album_genres_on(s: Session) -> bool:
    """Whether this library gives an album's tracks one genre."""
    row = s.get(Meta, ALBUM_GENRES)
    return row is not None and row.value == "on"


def set_album_genres(sessions: sessionmaker[Session], on: bool, threshold: float = DEFAULT_THRESHOLD) -> int:
    """Turn one genre per album on or off for the library; how many tracks' genres changed."""
    with writer_lock(sessions), sessions() as s:
        # "off" rather than nothing: turned off by the listener, it is no longer suggested (against_your_albums).
        s.merge(Meta(key=ALBUM_GENRES, value="on" if on else "off"))
        s.flush()
        changed = settle_albums(s, threshold, force=True)
        s.commit()
    return changed


def _in_folders(folders: Iterable[str | Path] | None, folder: str | None) -> tuple[ColumnElement[bool] | None, Callable | None]:
    """A condition on Track narrowing to `folders` (and below) or to `folder` itself (None: all), and the exact
    test of a row's folder (None: every row the condition lets through is in). A disc's folder ("Album/CD2")
    widens to its album's, so every disc of an album is looked at together."""
    if folder is not None:
        if album_folder(folder) == folder:
            return Track.folder == folder, None  # indexed: one folder's albums for each track of a write plan
        folders = [folder]
    if folders is None:
        return None, None
    folders = [album_folder(str(Path(f).expanduser().absolute())) for f in folders]
    if len(folders) > NARROWED_FOLDERS:
        return None, within(folders)
    # SQLite's LIKE is case-blind, so this only narrows; `within` decides.
    # root_prefix: the system's separator ("/" alone missed every folder under C:\Music on Windows).
    return or_(Track.folder.in_(folders), *(Track.folder.startswith(root_prefix(Path(f)), autoescape=True)
                                           for f in folders)), within(folders)


def _album_rows(s: Session, folders: Iterable[str | Path] | None = None, folder: str | None = None):
    """Present album tracks (under `folders`, or in `folder` itself) with their newest analysis of the
    current audio, each track once."""
    q = (select(Track.id, Track.folder, Track.album, Track.artist, Track.album_artist, Track.compilation,
                Track.corrected_genre, Track.predicted_genre, Track.confidence, Track.file_genre, Track.verdict,
                Track.genre, Track.error, Analysis.model_key, Analysis.status, Analysis.top_genre,
                Analysis.confidence.label("own_confidence"), Analysis.labels, Analysis.probabilities,
                Analysis.error.label("own_error"))
         .join(Analysis, Analysis.track_id == Track.id)
         .where(Track.missing.is_(False), Track.album != "", Analysis.audio_hash == Track.audio_hash)
         .order_by(Track.id, Analysis.created_at, Analysis.id))  # the newest analysis of a track comes last
    narrow, inside = _in_folders(folders, folder)
    if narrow is not None:
        q = q.where(narrow)
    newest = {}
    for row in s.execute(q):
        if inside is None or inside(row.folder):
            newest[row.id] = row  # the newest analysis is the one in force (queries.latest_analysis)
    return newest.values()


def _present_albums(s: Session, narrow: ColumnElement[bool] | None, inside: Callable | None) -> dict[tuple[str, str], list]:
    """album_key -> the present tracks of each album that `_in_folders`' condition and test let through (id,
    folder, album and what tells a compilation: artist, album artist, compilation flag)."""
    q = select(Track.id, Track.folder, Track.album, Track.artist, Track.album_artist, Track.compilation).where(
        Track.missing.is_(False), Track.album != "")
    if narrow is not None:
        q = q.where(narrow)
    albums: dict[tuple[str, str], list] = {}
    for row in s.execute(q):
        if inside is None or inside(row.folder):
            albums.setdefault(album_key(row.folder, row.album), []).append(row)
    return albums


def listeners_album_genres(s: Session, folders: Iterable[str | Path] | None = None,
                           folder: str | None = None) -> dict[tuple[str, str], AlbumGenre]:
    """album_key -> the genre the listener gave at least half of the album's present tracks (tags Genre Tagger
    did not write, or corrections), for the albums (under `folders`, or in `folder`) that have one; a
    compilation is left out."""
    return {key: genre for key, _tracks, genre in _listeners_albums(s, folders, folder)}


def _listeners_albums(s: Session, folders: Iterable[str | Path] | None, folder: str | None):
    """(album_key, its present tracks, the genre the listener gave it) for each album of listeners_album_genres."""
    narrow, inside = _in_folders(folders, folder)
    labels, display = gather_labels(s, narrow)
    said = {label.track_id: label.key for label in labels}
    for key, tracks in _present_albums(s, narrow, inside).items():
        named = Counter(said[t.id] for t in tracks if t.id in said)
        if not named or len(tracks) < MIN_TRACKS or is_compilation_of(tracks):  # a lone track's tag is no album's
            continue
        (genre, tagged), *rest = named.most_common(2)
        if tagged * 2 >= len(tracks) and not (rest and rest[0][1] == tagged):  # half Rock, half Jazz: no genre
            yield key, tracks, AlbumGenre((display[genre],), np.array([tagged / len(tracks)]), len(tracks), tagged)


@dataclass(frozen=True)
class AgainstYourAlbums:
    """Planned changes that give tracks another genre than the one the listener gave their album: with one genre
    per album on, they would take the album's instead."""

    tracks: int
    albums: tuple[tuple[str, str], ...]  # (album name, the genre the listener gave it), one per album

    def wording(self) -> str:
        """"4 tracks are given … (Drascula: Soundtrack, and 2 more albums)": what is planned, what the setting does."""
        (album, genre), more = self.albums[0], len(self.albums) - 1
        also = f", and {count(more, 'more album')}" if more else ""
        one = self.tracks == 1
        whose = "its album" if one else "their album" if len(self.albums) == 1 else "their albums"
        return (f"{count(self.tracks, 'track')} {'is' if one else 'are'} given another genre than the one you gave "
                f"{whose} ({album}: {genre}{also}); with one genre per album "
                + ("it takes its album's" if one else "they take their album's"))


def against_your_albums(s: Session, changes: Iterable) -> AgainstYourAlbums | None:
    """Of planned changes (track_id, new genres, confidence: None where set by hand), the predicted ones whose new
    genre is not the one the listener gave the track's album (half of its tracks or more); None when there are
    none, or one genre per album is on already (the plan gives them their album's), or the listener turned it off."""
    changes = [c for c in changes if c.confidence is not None]
    if not changes or s.get(Meta, ALBUM_GENRES) is not None:  # on, or turned off: decided either way
        return None
    predicted = {c.track_id: c.new for c in changes}
    folders = {os.path.dirname(c.path) for c in changes}  # a track's folder is its file's (a stored path is absolute)
    tracks, albums = 0, []
    for _key, members, genre in _listeners_albums(s, folders, None):
        album_genre = genre.labels[0]
        given = genre_key(album_genre)  # in any spelling: the model's "hiphop" is the listener's "Hip-Hop"
        against = [t for t in members if t.id in predicted and given not in {genre_key(g) for g in predicted[t.id]}]
        if against:
            tracks += len(against)
            albums.append((against[0].album, album_genre))
    return AgainstYourAlbums(tracks, tuple(sorted(albums, key=lambda a: natural_key(a[0])))) if tracks else None


def _albums(rows) -> dict[tuple, list]:
    """Tracks an album's genre is made of or given to, by album and the model that analysed them."""
    albums: dict[tuple, list] = {}
    for row in rows:
        if (row.status in SHARED and row.probabilities) or row.status in FOLLOWING:
            albums.setdefault((*album_key(row.folder, row.album), row.model_key, tuple(row.labels)), []).append(row)
    return albums


def consensus(tracks: list) -> AlbumGenre | None:
    """The genre of these tracks of one album, from those analysed, or None (too few, a compilation)."""
    voters = [t for t in tracks if t.status in SHARED]
    probs = np.array([t.probabilities for t in voters], np.float64)  # [tracks, genres]
    shared = album_consensus(probs, is_compilation_of(tracks))
    return None if shared is None else AlbumGenre(tuple(voters[0].labels), shared, len(voters))


def _each_album(s: Session, folders: Iterable[str | Path] | None, folder: str | None, on: bool = True):
    """(tracks, their album's genre or None) for each album (under `folders`, or in `folder`) and the model that
    analysed its tracks; with `on` False, every album's genre is None (each track its own)."""
    said = listeners_album_genres(s, folders, folder) if on else {}
    for (*key, _model, _labels), tracks in _albums(_album_rows(s, folders, folder)).items():
        yield tracks, (said.get(tuple(key)) or consensus(tracks)) if on else None


def settle_albums(s: Session, threshold: float = DEFAULT_THRESHOLD, folders: Iterable[str | Path] | None = None,
                  force: bool = False) -> int:
    """Give album tracks (those in `folders`, else all) their album's genre when the setting is on, else their
    own; how many tracks' genres changed (confidences follow too). Without `force`, nothing is done while the
    setting is off (it was settled when turned off)."""
    on = album_genres_on(s)
    if not (on or force):
        return 0
    spellings, merged = queries.library_spellings(s), genre_merges(s)
    updates, new_genres = [], 0
    for tracks, shared in _each_album(s, folders, None, on):
        for t in tracks:
            if shared is None:
                values = verdict_values(t.status, shown_genre(t.top_genre, spellings) if t.top_genre else None,
                                        t.own_confidence or 0.0, t.own_error, t.corrected_genre, t.file_genre, merged)
            else:
                label, confidence = shared.top
                values = verdict_values(verdict(confidence, threshold), shown_genre(label, spellings), confidence,
                                        t.own_error, t.corrected_genre, t.file_genre)
            if any(getattr(t, column) != value for column, value in values.items()):
                updates.append(dict(values, id=t.id))
                new_genres += values["genre"] != t.genre
    if updates:
        s.execute(update(Track), updates)  # one executemany by primary key
    return new_genres


def folder_album_genres(s: Session, folder: str) -> dict[int, AlbumGenre]:
    """Track id -> the genre its album shares, for the albums of one folder (empty while the setting is off)."""
    if not album_genres_on(s):
        return {}
    shared = {}
    for tracks, album in _each_album(s, None, folder):
        if album is not None:
            shared.update(dict.fromkeys((t.id for t in tracks), album))
    return shared


def in_compilation(s: Session, track_id: int) -> bool:
    """Whether this track's album (two tracks or more) is a compilation, whose tracks keep their own genres
    while one genre per album is on (the details and `show` say why its genre is its own)."""
    track = s.get(Track, track_id)
    if track is None or not track.album:
        return False
    tracks = _present_albums(s, *_in_folders(None, track.folder)).get(album_key(track.folder, track.album), [])
    return len(tracks) >= MIN_TRACKS and is_compilation_of(tracks)


def album_genre_of(s: Session, track_id: int) -> AlbumGenre | None:
    """The genre this track's album shares, when the setting is on and the album has one (the details panel)."""
    track = s.get(Track, track_id)
    return None if track is None or not track.album else folder_album_genres(s, track.folder).get(track_id)
