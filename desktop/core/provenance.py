"""The words of the GENRE_TAGGER field: what Genre Tagger says in a file of the genre it wrote there.

"Genre Tagger: Rock 0.93" (predicted, with its confidence) or "Genre Tagger: corrected by hand". Written with each
genre (unless turned off), it lets any library, not only the one whose journal holds the write, tell a genre Genre
Tagger guessed from one the listener gave: a new computer, a library made again, a music folder two computers share.
"""

from __future__ import annotations

from desktop.core.genre_names import genre_key
from desktop.core.genres import split_genres
from desktop.core.wording import sureness

PREFIX = "Genre Tagger: "
BY_HAND = "corrected by hand"


def by_hand() -> str:
    """The field of a genre the listener set."""
    return PREFIX + BY_HAND


def predicted(genre: str, confidence: float | None) -> str:
    """The field of a genre a model predicted ("Genre Tagger: Rock 0.93")."""
    return f"{PREFIX}{genre} {sureness(confidence or 0.0)}"


def claimed_prediction(value: str) -> str | None:
    """The genre a field says Genre Tagger predicted ("Rock" of "Genre Tagger: Rock 0.93"); None for a genre set by
    hand, a field of no such words, or none."""
    if not value.startswith(PREFIX):
        return None
    genre, _, sure = value[len(PREFIX):].strip().rpartition(" ")
    try:
        float(sure)
    except ValueError:
        return None  # "corrected by hand", or words of another program's
    return genre.strip() or None


def predicted_here(value: str, file_genre: str) -> bool:
    """True where the field says Genre Tagger predicted a genre the file's tag still names (in any spelling, first or
    among several): that genre is no word of the listener's. A tag another tagger changed since, keeping the field,
    names another genre, and is the listener's again."""
    claimed = claimed_prediction(value)
    return claimed is not None and genre_key(claimed) in {genre_key(g) for g in split_genres(file_genre)}
