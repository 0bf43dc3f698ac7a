"""The order a listener expects: case-blind, numbers by value ("Track 2" before "Track 10")."""

from __future__ import annotations

import functools
import re

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
