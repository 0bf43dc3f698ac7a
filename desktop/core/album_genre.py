"""One genre per album, the pure part: what an album is, what a compilation is, and its tracks' mean.

Tracks of one album are usually one genre, and one track's prediction is noisy: on GTZAN, with artists
standing in for albums, the mean of a group's held-out probabilities named the genre of 0.671 of the
clips against 0.583 one by one (10 fold draws; models/default.md). A compilation (flagged so, its album
artist "Various Artists", or its tracks naming different artists) is many genres, so each of its tracks
keeps its own. The discs of an album in their own folders ("Album/CD1", "Album/CD2") are one album.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

MIN_TRACKS = 2  # an album of one track has nothing to share
# "CD1", "CD 2", "Disc 1", "Disk 2 - Live", "disc01": one disc of an album whose folder holds the others.
_DISC_FOLDER = re.compile(r"(?:cd|dis[ck])[\s._-]*\d+\b", re.IGNORECASE)


# What ends a folder's name: "/", and on Windows the backslash too (split at "/" alone, C:\Music\Box\CD1 and
# C:\Music\Box\CD2 were two albums). Elsewhere a backslash is a letter of a name.
SEPARATORS = "".join(dict.fromkeys("/" + os.sep + (os.altsep or "")))


@functools.lru_cache(maxsize=65536)  # asked for every track of a folder (the album check, one genre per album)
def album_folder(folder: str) -> str:
    """The folder that holds an album: a disc's folder ("Album/CD2") stands for its parent's."""
    stripped = folder.rstrip(SEPARATORS)
    cut = max(stripped.rfind(sep) for sep in SEPARATORS)
    if cut < 0 or not _DISC_FOLDER.match(stripped[cut + 1:]):
        return folder
    return stripped[:cut] or stripped[:cut + 1]  # "/CD1" is held by "/"


def album_key(folder: str, album: str) -> tuple[str, str]:
    """What makes tracks one album: its folder (discs' folders as one) and the album name (case-blind), so two
    "Greatest Hits" in different folders stay apart."""
    return album_folder(folder), album.casefold()


# "A feat. B", "A & B", "A, B", "A vs. B": the first name is the track's artist for telling a compilation apart.
_GUESTS = re.compile(r"\s+(?:feat\.?|ft\.?|featuring|with|vs\.?)\s+|\s*[&,;/]\s*", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)  # asked for every track of an artist's albums
def lead_artist(artist: str) -> str:
    """The first of a track's artists, case-blind ("Daft Punk feat. Pharrell" -> "daft punk")."""
    return _GUESTS.split(artist.strip(), maxsplit=1)[0].strip().casefold()


# What rippers put in a compilation's artist field when they do not name each track's.
VARIOUS = frozenset({"various artists", "various", "va", "v.a.", "verschiedene interpreten", "artistes divers"})


def is_compilation(artists: Sequence[str], album_artists: Sequence[str] = (), marked: Sequence[bool] = ()) -> bool:
    """Whether an album's tracks are a compilation (each keeps its own genre), from each track's artist, album
    artist and compilation flag: flagged on at least half of them, else its album artist ("Various Artists" is
    one; a single artist's name makes it their album, a DJ mix or a soundtrack too), else no one lead artist
    names at least half of the tracks that name one, or the one that does is "Various Artists"."""
    if sum(marked) * 2 >= len(marked) > 0:
        return True
    albums = [lead for a in album_artists if (lead := lead_artist(a))]
    if albums:
        return Counter(albums).most_common(1)[0][0] in VARIOUS
    named = [lead for a in artists if (lead := lead_artist(a))]
    if not named:
        return False  # no artist tags at all: one folder, one album name is all we know
    lead, tracks = Counter(named).most_common(1)[0]
    return tracks * 2 < len(named) or lead in VARIOUS


def is_compilation_of(tracks: Sequence) -> bool:
    """is_compilation for tracks (rows or objects) with .artist, .album_artist and .compilation."""
    return is_compilation([t.artist for t in tracks], [t.album_artist for t in tracks], [bool(t.compilation) for t in tracks])


def album_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """The album's genre probabilities [genres]: the mean over its tracks' [tracks, genres]."""
    return np.asarray(probabilities, np.float64).mean(0)  # [tracks, genres] -> [genres]


def album_consensus(probabilities: np.ndarray, compilation: bool) -> np.ndarray | None:
    """The genre probabilities an album's tracks share [genres], from its analysed tracks' [tracks, genres]; None
    for too few tracks or a compilation (each keeps its own)."""
    if len(probabilities) < MIN_TRACKS or compilation:
        return None
    return album_probabilities(probabilities)
