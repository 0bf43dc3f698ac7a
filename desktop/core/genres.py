"""The one genre codec: how a list of genres becomes one text (database, display) and back.

A genre value never contains the separator: text such as "Rock; Pop" (typed by hand, or one
Vorbis value written by another tagger) means two genres, "Rock" and "Pop", everywhere in the app.
That keeps what is stored, compared, written and read back the same, so a rescan never sees a
difference that is only a matter of splitting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SEPARATOR = "; "
# Line breaks, tabs and other control characters are spaces in a genre: "Rock\nPop" typed in a shell was written
# as is, ID3 readers (mutagen's too) stop at the line break, and the write could then never be undone.
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def split_genres(values: str | Iterable[str]) -> tuple[str, ...]:
    """Genres from a joined text or a list of values: split on ';', control characters as spaces, trimmed, empty
    ones dropped."""
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values:
        out += [part.strip() for part in CONTROL.sub(" ", str(value)).split(SEPARATOR.strip())]
    return tuple(g for g in out if g)


def join_genres(values: str | Iterable[str]) -> str:
    """The one text for a list of genres (what the database keeps and the screen shows)."""
    return SEPARATOR.join(split_genres(values))


def same_genres(a: str | Iterable[str], b: str | Iterable[str]) -> bool:
    """True when two genre lists say the same once decoded (order kept, spacing ignored)."""
    return split_genres(a) == split_genres(b)
