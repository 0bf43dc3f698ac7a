"""Genre folders: a library sorted into folders named for genres (~/Music/Jazz/…) gives each track's genre in the
listener's own words, as a tag does."""

from __future__ import annotations

import os
import re

from desktop.core.genre_names import JUNK, genre_key
from desktop.core.scan import holding_root

# A word for music around a genre's name: "Rock Music", "Rockmusik", "Música Pop", "Musique rock", "Рок-музыка",
# "摇滚音乐".
_MUSIC_AFTER = re.compile(r"[\s_-]*(?:music|musik|muziek|musikk|musique|musica|música|музыка|音楽|音乐|音樂|음악)$",
                          re.IGNORECASE)
_MUSIC_BEFORE = re.compile(r"^(?:music|musik|musique|musica|música|muziek)[\s_-]+(?:(?:de|del|di)\s+)?",
                           re.IGNORECASE)


def folder_genre(name: str, known: frozenset[str] | set[str]) -> str | None:
    """The genre a folder's name gives where it names one of the `known` genre keys, as the folder spells it
    ("Jazz", "Hip-Hop", "Klassik"; "Soundtracks" gives "Soundtrack", "Rockmusik" "Rock"); None otherwise."""
    name = name.strip()
    plural = name[:-1] if name[-1:] in "sS" and len(name) > 3 else ""  # "Soundtracks", "Classics"
    for candidate in (name, plural, _MUSIC_AFTER.sub("", name), _MUSIC_BEFORE.sub("", name)):
        key = genre_key(candidate)
        if candidate and key not in JUNK and key in known:
            return candidate  # its own genre_key is the genre's: learned as one genre with its tags
    return None


def folders_between(path: str, roots: list[str]) -> list[str]:
    """The names of the folders between the file `path` and the innermost of `roots` holding it, outermost first;
    [] where it lies in a root itself, or in none."""
    root = holding_root(path, roots)
    if root is None:
        return []
    relative = os.path.relpath(os.path.dirname(path), root)
    return [] if relative == os.curdir else relative.split(os.sep)


def outermost_genre(folders: list[str], known: frozenset[str] | set[str]) -> str | None:
    """The genre (see folder_genre) of the outermost of `folders` (names, outermost first) that names one; None.

    The outermost: in ~/Music/Rock/Blues Brothers/Blues (an album named for a genre) the listener sorted by Rock."""
    return next(filter(None, (folder_genre(name, known) for name in folders)), None)


def genre_folder(path: str, roots: list[str], known: frozenset[str] | set[str]) -> str | None:
    """The genre of the outermost folder that names one between the file `path` and the innermost of `roots` holding
    it (outermost_genre); None where none does (or no root holds it)."""
    return outermost_genre(folders_between(path, roots), known)
