"""The listener's own words for genres: corrections, and genre tags Genre Tagger did not write itself.

What `learn` learns from and what an album's tags say (one genre per album); never our own predictions.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from desktop.core.genre_folders import genre_folder
from desktop.core.genre_names import display_names, first_named, genre_key
from desktop.core.genres import same_genres
from desktop.core.provenance import predicted_here
from desktop.core.spoken_word import spoken_name
from desktop.core.wording import count
from desktop.store import queries
from desktop.store.queries import genre_folders_on, genre_merges, known_genre_keys
from desktop.store.schema import JournalEntry, Track


@dataclass(frozen=True)
class Label:
    """One trusted example: a track and the genre the listener gave it."""

    track_id: int
    key: str
    source: str  # "correction", "tag", or "folder" (a genre folder's name, where the library learns from those)
    group: str  # artist, else album, else folder: kept on one side of every cross-validation split


def our_writes(s: Session, tracks: ColumnElement[bool] | None = None) -> dict[int, list]:
    """track id -> genres the newest standing write of ours put in its file (never learned from); with
    `tracks` (a condition on Track), only for those tracks."""
    q = (select(JournalEntry.track_id, JournalEntry.new_genres)
         .where(JournalEntry.state == "written", JournalEntry.track_id.is_not(None)).order_by(JournalEntry.id))
    if tracks is not None:
        q = q.join(Track, Track.id == JournalEntry.track_id).where(tracks)
    return {track_id: genres for track_id, genres in s.execute(q)}


def written_audio(s: Session, tracks: ColumnElement[bool] | None = None) -> dict[str, list[tuple[int, list]]]:
    """audio hash -> (track id, genres) of each write of ours into a file of that audio, standing or undone since: a
    copy of such a file (another album folder, a backup scanned in) carries our genre under a track id the journal
    does not know, and keeps it after the original's write is undone. With `tracks` (a condition on Track), only for
    the audio of those tracks (an album's look asks per folder)."""
    written: dict[str, list[tuple[int, list]]] = {}
    # Only audio two tracks or more hold can be a copy: a few, where every write of ours would be read and decoded.
    copied = select(Track.audio_hash).where(Track.audio_hash != "")
    if tracks is not None:  # not correlated: the condition is on the tracks asked about, not on those written
        copied = copied.where(Track.audio_hash.in_(select(Track.audio_hash).where(tracks).correlate(None)))
    copied = copied.group_by(Track.audio_hash).having(func.count() > 1).correlate(None)
    q = (select(Track.audio_hash, JournalEntry.track_id, JournalEntry.new_genres)
         .join(Track, Track.id == JournalEntry.track_id)
         .where(JournalEntry.state.in_(("written", "undone")), Track.audio_hash.in_(copied)))
    for digest, track_id, genres in s.execute(q):
        written.setdefault(digest, []).append((track_id, genres))
    return written


class OurTag:
    """Why a file's genre tag is Genre Tagger's own, never the listener's word (None: it is the listener's)."""

    JOURNAL = "its tag was written by Genre Tagger, never learned from"
    FIELD = "its GENRE_TAGGER field says Genre Tagger predicted it (this library or another), never learned from"
    COPY = "its tag is the one Genre Tagger wrote into a copy of this file (the same audio), never learned from"


def our_tag(track_id: int, file_genre: str, provenance: str, audio_hash: str, ours: dict[int, list],
            written: dict[str, list[tuple[int, list]]]) -> str | None:
    """Why a track's genre tag is Genre Tagger's own (an OurTag reason), or None where it is the listener's: our
    journal's standing write put it there, its GENRE_TAGGER field says a Genre Tagger predicted it, or we wrote it
    into a copy of the same audio (the track's own undone writes aside: its genre since is the listener's)."""
    if track_id in ours and same_genres(ours[track_id], file_genre):
        return OurTag.JOURNAL
    if predicted_here(provenance or "", file_genre):
        return OurTag.FIELD
    if any(other != track_id and same_genres(genres, file_genre) for other, genres in written.get(audio_hash, ())):
        return OurTag.COPY
    return None


def folder_genre_of(path: str, roots: list[str], known: frozenset[str], seen: dict[str, str | None]) -> str | None:
    """genre_folder of a track, the answer for its folder kept in `seen`: a scan asked for every track of a library
    filed by genre (1.3 s at 30,000 tracks, each path taken apart again)."""
    parent = os.path.dirname(path)
    if parent not in seen:
        seen[parent] = genre_folder(path, roots, known)
    return seen[parent]


def gather_labels(s: Session, tracks: ColumnElement[bool] | None = None,
                  folders: bool | None = None) -> tuple[list[Label], dict[str, str]]:
    """Trusted labels (corrections, tags not written by us, and with `folders` its genre folders' names; None: where
    the library learns from those) and key -> display name; with `tracks` (a condition on Track), only of those
    tracks (some albums' look, not the whole library's)."""
    ours, written = our_writes(s, tracks), written_audio(s, tracks)
    merged = genre_merges(s)
    folders = genre_folders_on(s) if folders is None else folders
    roots = queries.meta_folder_list(s, queries.LIBRARY_FOLDERS) if folders else []
    known = known_genre_keys(s, merged) if roots else frozenset()
    q = select(Track.id, Track.file_genre, Track.corrected_genre, Track.artist, Track.album, Track.folder, Track.path,
               Track.tag_provenance, Track.audio_hash).where(Track.missing.is_(False))
    rows = s.execute(q if tracks is None else q.where(tracks))
    labels, names = [], []
    folder_genres: dict[str, str | None] = {}  # a track's folder -> its genre folder's name: worked out once a folder
    for track_id, file_genre, corrected, artist, album, folder, path, provenance, digest in rows:
        first = source = None
        if corrected:
            first, source = first_named(corrected), "correction"
        elif file_genre and not our_tag(track_id, file_genre, provenance, digest, ours, written):
            first, source = first_named(file_genre), "tag"  # junk ("Unknown", "Other", numbers) names none
        if first is None and roots and (first := folder_genre_of(path, roots, known, folder_genres)):
            source = "folder"  # the listener's own words too: the folder they filed it in
        if first is None:
            continue
        key = genre_key(first)
        if key in merged:
            first, key = merged[key], genre_key(merged[key])
        names.append(first)
        group = f"artist:{artist.casefold()}" if artist else f"album:{album.casefold()}" if album else f"folder:{folder}"
        labels.append(Label(track_id, key, source, group))
    display = display_names(names)
    display.update({genre_key(v): v for v in merged.values()})
    return labels, display


LABEL_SOURCES = {"tag": "its genre tag", "correction": "your correction", "folder": "the genre folder it is in"}


@dataclass(frozen=True)
class Teaches:
    """The genre one track gives `learn` and whence (`source`: a Label's), or, with no genre, why none."""

    genre: str | None
    source: str | None = None
    why_none: str = ""


def what_it_teaches(s: Session, track: Track, spellings: dict[str, str]) -> Teaches:
    """The genre a track gives `learn` (its correction, its tag, its genre folder) and whence; or why none.
    `spellings` (queries.library_spellings): the genre named as the library names it, as `learn` does ("Noise Rock"
    for a tag "noise rock" where most tags say so), not as this one track spells it."""
    labels, display = gather_labels(s, Track.id == track.id)
    if labels:
        return Teaches(spellings.get(labels[0].key, display[labels[0].key]), labels[0].source)
    if track.missing:
        why = "not in the library now"
    elif track.file_genre and not first_named(track.file_genre):
        why = f"its tag, {track.file_genre!r}, names no genre"
    elif track.file_genre:  # a tag not learned from is one of ours: say which way it is known
        why = our_tag(track.id, track.file_genre, track.tag_provenance, track.audio_hash,
                      our_writes(s, Track.id == track.id), written_audio(s, Track.id == track.id)) or OurTag.JOURNAL
    else:
        why = "no genre tag or correction" + (", and no genre folder" if genre_folders_on(s) else "")
    return Teaches(None, why_none=why)


def unnamed_folders(s: Session) -> dict[str, int]:
    """The outermost folders holding tracks with no genre of their own and no genre folder, with how many such tracks
    each holds, most first: named for a genre no list knows ("Schlager"), or for none ("Incoming")."""
    unnamed = Counter()
    queries.genre_folder_names(s, known_genre_keys(s, genre_merges(s)), unnamed)
    return {name: n for name, n in unnamed.most_common() if not spoken_name(name)}  # Audiobooks: asked about apart


UNNAMED_SHOWN = 5  # folders named for no genre either face names, the largest first


def unnamed_listed(unnamed: dict[str, int]) -> str:
    """unnamed_folders in words, the largest first: "Schlager (212 tracks), Incoming (3 tracks), …"."""
    shown = ", ".join(f"{name} ({count(n, 'track')})" for name, n in list(unnamed.items())[:UNNAMED_SHOWN])
    return shown + (", …" if len(unnamed) > UNNAMED_SHOWN else "")
