"""What a listener types in a search: words in any order, "quoted phrases", and field:value, blind to case and accents.

"miles blue" finds Miles Davis' Kind of Blue; "sigur ros" finds Sigur Rós; `artist:davis year:1955-1960` limits a
field. A track matches when each word begins a word of its title, artist, album, genres or path ("blu" finds Blue,
"3" finds "Track 3" but not every ".mp3"); a word before a colon that names no field ("AC/DC:", "http:") is an
ordinary word. A minus before a word, phrase or field leaves out what it finds: "genre:rock -live".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

# Letters Unicode does not decompose into a base letter and an accent, spelt as a listener without them types them.
UNACCENTED = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i",
                            "ħ": "h", "ŀ": "l"})

# A token: an optional minus (leave out what it finds), an optional field name and colon, then a quoted phrase (its
# closing quote may be missing while it is typed) or a run of anything but spaces (none: "artist:" as it is typed;
# the empty matches between tokens are skipped).
TOKEN = re.compile(r'(-)?(?:(\w+):)?(?:"([^"]*)"?|(\S*))')
# Latin, Greek and Cyrillic accents once taken apart from their letters (NFKD); other scripts' marks are their letters'.
ACCENTS = re.compile("[\u0300-\u036f]")
# Where a folded word begins with a letter or digit it is looked for at a word's start, in any script that spaces its
# words ("рок" in "Русский рок", not "ок"); in those that do not (Chinese, Japanese, Thai...), anywhere.
WORD_START = re.compile(r"[^\W_]")
UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
                      "\uff66-\uff9f\U00020000-\U0003ffff]")
YEARS = re.compile(r"(\d{1,4})?\s*(-|\.\.)?\s*(\d{1,4})?")
YEAR_FROM = re.compile(r"(>=?|<=?)\s*(\d{1,4})")  # year:>1990, year:<=1970, as other players' searches take them


# What the search box's tooltip (a line each) and `list --search`'s help say.
HOW_TO_SEARCH = ("every word, in any order, begins a word of the title, artist, album, genre or path (case and accents "
                 "aside)", '"a phrase" keeps words together', "artist:, album:, title:, genre: or path: limits a word "
                 "to one", "year:1959, year:1990-1999, year:2000.. or year:>2000", "-word (or -artist:name) leaves out what it finds")


class Searched(Protocol):
    """What a search reads from a track: the library table's rows and the store's tracks both have it."""

    title: str
    artist: str
    album: str
    file_genre: str
    genre: str
    path: str
    year: int


def fold(text: str) -> str:
    """`text` as the search compares it: lower case ("ß" as "ss") and without accents ("Motörhead" as "motorhead")."""
    if text.isascii():  # most titles and paths: 0.1 µs, where taking accents off costs 2-3 µs
        return text.lower()
    return ACCENTS.sub("", unicodedata.normalize("NFKD", text.casefold())).translate(UNACCENTED)


@lru_cache(maxsize=1 << 16)  # a field's values repeat (an artist's every track): each is folded once
def _folded(text: str) -> str:
    return fold(text)


def finder(word: str, text_of: Callable = str) -> Callable:
    """A test that `word` begins in a folded text where a word of it begins ("3" is in "Track 3" and "3rd", not in
    "mp3" or "13"; "ros" in "Sigur Rós"; "рок" in "Русский рок"), or anywhere when it begins with neither letter nor
    digit ("/jazz/") or is in a script that does not space its words ("ジャズ");
    `text_of` gives the text from what is tested (one call a row: the filter runs this over 100,000 of them)."""
    if not WORD_START.match(word) or UNSPACED.match(word):
        return lambda item: word in text_of(item)
    search = re.compile(r"(?<![^\W_])" + re.escape(word)).search

    def begins_a_word(item) -> bool:
        text = text_of(item)
        return word in text and search(text) is not None  # `in` first: most texts lack the word, and it is 5x faster

    return begins_a_word


def everywhere(track: Searched) -> str:
    """The one text an unqualified word is looked for in: title, artist, album, both genres and path, folded."""
    return fold("\n".join((track.title or "", track.artist or "", track.album or "", track.file_genre or "",
                           track.genre or "", track.path or "")))


# The fields a word can be limited to (`artist:davis`): each name -> the texts of a track it looks in.
TEXT_FIELDS: dict[str, Callable[[Searched], tuple[str, ...]]] = {
    "title": lambda t: (t.title or "",),
    "artist": lambda t: (t.artist or "",),
    "album": lambda t: (t.album or "",),
    "genre": lambda t: (t.genre or "", t.file_genre or ""),  # the genre shown, or the file's own
    "path": lambda t: (t.path or "",),
}
FIELD_NAMES = (*TEXT_FIELDS, "year")


@dataclass(frozen=True)
class Search:
    """A parsed search: plain words, words limited to a field and year ranges, each of which must hold, and the parts
    a minus left out, none of which may."""

    words: tuple[str, ...] = ()  # folded; each somewhere in everywhere()
    fields: tuple[tuple[str, str], ...] = ()  # (field name, folded word)
    years: tuple[tuple[int, int], ...] = ()  # inclusive ranges
    left_out: tuple[Search, ...] = ()  # -word, -artist:name, -year:1990: a track any of them finds is not shown

    def tests(self, haystack: Callable[[Searched], str] = everywhere) -> list[Callable[[Searched], bool]]:
        """One test a part, all of which a track must pass; `haystack` gives everywhere(track), kept made where the
        caller keeps it (the table's rows: the filter runs each test over the rows the one before it kept)."""
        return ([finder(word, haystack) for word in self.words]
                + [_found_in_field(finder(word), TEXT_FIELDS[name]) for name, word in self.fields]
                + [_of_years(low, high) for low, high in self.years]
                + [_none_of(part.tests(haystack)) for part in self.left_out])

    def matcher(self) -> Callable[[Searched], bool]:
        """One test of a track for the whole search, its parts' tests made once for every track it is given."""
        tests = self.tests()
        return lambda track: all(test(track) for test in tests)


def _found_in_field(found: Callable[[str], bool], texts: Callable[[Searched], tuple[str, ...]]) -> Callable[[Searched], bool]:
    return lambda track: any(found(_folded(text)) for text in texts(track))


def _of_years(low: int, high: int) -> Callable[[Searched], bool]:
    return lambda track: low <= (track.year or 0) <= high


def _none_of(tests: list[Callable[[Searched], bool]]) -> Callable[[Searched], bool]:
    return lambda track: not all(test(track) for test in tests)


def _year_range(text: str) -> tuple[int, int] | None:
    """1959 -> (1959, 1959); 1990-1999 or 1990..1999; 1990- (and after); -1970 (and before); >1990, >=1990, <1970,
    <=1970; None for anything else."""
    if compared := YEAR_FROM.fullmatch(text.strip()):
        sign, year = compared.group(1), int(compared.group(2))
        # 1: a year the tags gave (0: none), as below
        return {">": (year + 1, 9999), ">=": (year, 9999), "<": (1, year - 1), "<=": (1, year)}[sign]
    found = YEARS.fullmatch(text.strip())
    if not found or not (found.group(1) or found.group(3)):
        return None
    low, dash, high = found.groups()
    if not dash:
        return (int(low), int(low)) if low else None
    return tuple(sorted((int(low or 1), int(high or 9999))))  # 1: a year the tags gave (0: none); 1999-1990 as typed


def _part(name: str | None, value: str) -> Search | None:
    """One token as a search of that part alone; None for one that asks nothing yet ("artist:"; a minus alone)."""
    field = name.lower() if name else None
    if field == "year" and (span := _year_range(value)) is not None:
        return Search(years=(span,))
    if field in FIELD_NAMES and not value.strip():
        return None  # "artist:" while the rest is typed
    if field in TEXT_FIELDS:
        return Search(fields=((field, fold(value.strip())),))
    # No field, or a colon that names none ("AC/DC:", "http://…", "year:abc"): the word as typed.
    typed = (value if name is None else f"{name}:{value}").strip()
    return Search(words=(fold(typed),)) if typed else None


def read_as_words(text: str) -> list[str]:
    """The parts of a search that look like a field but were looked for as words ("rating:5": no such field;
    "year:90s": no year), each said with what is searched instead, for a search that found nothing."""
    said = []
    for found in TOKEN.finditer(text):
        _, name, phrase, word = found.groups()
        value = (phrase if phrase is not None else word or "").strip()
        if not name or not value or (name.lower() == "year" and _year_range(value) is not None):
            continue
        if name.lower() == "year":
            said.append(f"year:{value} is no year or range (year:1959, year:1990-1999, year:2000.., year:>2000), "
                        "so it was looked for as a word")
        elif name.lower() not in FIELD_NAMES:
            said.append(f"{name}: names no field ({', '.join(f + ':' for f in FIELD_NAMES)}), so {name}:{value} was "
                        "looked for as a word")
    return said


def parse_search(text: str) -> Search:
    """The search a listener typed (see the module's docstring); an empty text searches nothing."""
    kept: list[Search] = []
    left_out: list[Search] = []
    for found in TOKEN.finditer(text):
        minus, name, phrase, word = found.groups()
        part = _part(name, phrase if phrase is not None else word) if found.group(0) else None
        if part is not None:
            (left_out if minus else kept).append(part)
    return Search(tuple(w for p in kept for w in p.words), tuple(f for p in kept for f in p.fields),
                  tuple(y for p in kept for y in p.years), tuple(left_out))
