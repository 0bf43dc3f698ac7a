"""The order a listener expects: case-blind, numbers by value ("Track 2" before "Track 10")."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from operator import attrgetter

from desktop.core.album_genre import album_key

_DIGITS = re.compile(r"(\d+)")


@functools.lru_cache(maxsize=1 << 18)  # artists and albums repeat; a table of 100,000 rows asks 400,000 times
def natural_key(text: str) -> tuple:
    """A sort key for `text`: casefolded, each run of digits compared as a number."""
    folded = text.casefold()
    if not _DIGITS.search(folded):
        return (folded,)
    # split() puts text at even places and digit runs at odd ones, so two keys compare str to str, int to int
    return tuple(int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(folded)))


def album_order(artist: str | None, album: str | None, disc: int, track: int, path: str,
                album_artist: str | None = None) -> tuple:
    """Playing order across a library: by album artist (else artist), album, then the album's own order (disc, track
    number: 0 where the tags say none), then file name (which usually starts with the track number where the tags have
    none). The album artist keeps a compilation ("Various Artists") whole and in its order, as players list it; by
    track artist its tracks were scattered through the library, one artist's at a time."""
    return natural_key(album_artist or artist or ""), natural_key(album or ""), disc, track, natural_key(path)


def track_album(folder: str, album: str | None) -> tuple[str, str] | None:
    """The album a track in `folder` is on (album_key: its folder and name); None where its tags name no album."""
    return album_key(folder, album) if album else None


def album_sort_artists(tracks: Sequence, albums: Sequence, names: Sequence[str]) -> dict[tuple[str, str], str]:
    """The one artist each album of `tracks` sorts under (`albums`: each track's track_album; `names`: its album
    artist, else artist): of the names its tracks give, the one most of them give, case aside; a tie goes to the
    album's first track's; none where they give two names and are not numbered one by one (_most_named). By each
    track's own artist, an album with no album-artist tag whose tracks name two (a game's soundtrack by its two
    composers) sorted as two runs, one per artist. Tracks (rows or objects) are read for .path, .disc_number and
    .track_number where an album's tracks give two names."""
    artists: dict[tuple[str, str], str] = {}
    members: dict[tuple[str, str], list[int]] = {}
    mixed = set()
    for i, (album, name) in enumerate(zip(albums, names, strict=True)):
        if album is None or not name:
            continue
        members.setdefault(album, []).append(i)
        if artists.setdefault(album, name) != name:
            mixed.add(album)
    for album in mixed:  # most albums name one artist: only these are counted
        artist = _most_named([tracks[i] for i in members[album]], [names[i] for i in members[album]])
        if artist is None:
            del artists[album]
        else:
            artists[album] = artist
    return artists


def album_artist_of(tracks: list, names: list[str]) -> str | None:
    """The one artist an album's tracks sort under (album_sort_artists for one album), `names` each track's album
    artist, else artist (none empty); None for no tracks, or several names not numbered one by one."""
    if not names:
        return None
    return names[0] if len(set(names)) == 1 else _most_named(tracks, names)


def _most_named(tracks: list, names: list[str]) -> str | None:
    """Of an album's tracks' names (album artist, else artist), the one most of them give, case aside; a tie goes to
    the album's first track's (by disc, track number and path). None where its tracks are not numbered one by one
    (a folder of downloads all tagged "Unknown Album"): those are not one album's running order, each keeps its own
    artist."""
    places = {(t.disc_number or 0, t.track_number or 0) for t in tracks}
    if len(places) < len(tracks) or any(number == 0 for _, number in places):
        return None
    counts = Counter(name.casefold() for name in names)
    top = max(counts.values())
    first = min(range(len(tracks)), key=lambda i: (tracks[i].disc_number or 0, tracks[i].track_number or 0, tracks[i].path))
    lead = names[first].casefold()
    chosen = lead if counts[lead] == top else min(name for name, n in counts.items() if n == top)
    return next(name for name in names if name.casefold() == chosen)


_PLAYING_FIELDS = attrgetter("artist", "album", "disc_number", "track_number", "path", "album_artist", "folder")


def in_playing_order(tracks: Iterable) -> list:
    """`tracks` (rows or objects with .artist, .album, .disc_number, .track_number, .path, .album_artist and .folder)
    in album_order, each album whole under one artist (album_sort_artists)."""
    tracks = list(tracks)
    fields = [_PLAYING_FIELDS(t) for t in tracks]  # each read once: a row's attributes cost more than a tuple's
    albums = [track_album(folder, album) for _, album, _, _, _, _, folder in fields]
    names = [album_artist or artist or "" for artist, _, _, _, _, album_artist, _ in fields]
    artists = album_sort_artists(tracks, albums, names)
    keys = [album_order(artist, album_name, disc, number, path, artists.get(album) or album_artist)
            for (artist, album_name, disc, number, path, album_artist, _), album in zip(fields, albums, strict=True)]
    return [tracks[i] for i in sorted(range(len(tracks)), key=keys.__getitem__)]
