"""Genre folders: a library sorted into folders named for genres (~/Music/Jazz/…) gives each track's genre in the
listener's own words, as a tag does."""

from __future__ import annotations

import os

from desktop.core.genre_names import ALIASES, JUNK, genre_key
from desktop.core.scan import holding_root


def folder_genre_key(name: str, known: frozenset[str] | set[str]) -> str | None:
    """The genre key a folder's name gives where it names one of the `known` genres ("Jazz", "Hip-Hop",
    "Soundtracks"); None otherwise."""
    key = genre_key(name)
    if key in JUNK:
        return None
    if key in known:
        return key
    singular = ALIASES.get(key[:-1], key[:-1]) if key.endswith("s") else ""  # "Soundtracks", "Classics"
    return singular if singular in known else None


def genre_folder(path: str, roots: list[str], known: frozenset[str] | set[str]) -> str | None:
    """The name of the outermost folder that names a genre between the file `path` and the innermost of `roots`
    holding it; None where none does (or no root holds it).

    The outermost: in ~/Music/Rock/Blues Brothers/Blues (an album named for a genre) the listener sorted by Rock."""
    root = holding_root(path, roots)
    if root is None:
        return None
    relative = os.path.relpath(os.path.dirname(path), root)
    if relative == os.curdir:
        return None
    return next((part for part in relative.split(os.sep) if folder_genre_key(part, known)), None)

