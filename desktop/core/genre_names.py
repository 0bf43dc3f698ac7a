"""One genre per concept: spelling variants share a key, junk is no genre, ID3v1 numbers are names."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from desktop.core.genres import CONTROL, join_genres, split_genres

# Keys (see genre_key) of names that say nothing about the music.
JUNK = {"", "unknown", "other", "others", "misc", "miscellaneous", "genre", "none", "null", "undefined", "various",
        "na", "nogenre", "unknowngenre", "default", "music", "general", "musik", "musique", "musica", "muziek"}
# The same in scripts whose names key on their own letters (Russian, Chinese, Japanese, Korean: unknown, other,
# misc, music), as written; their keys join JUNK below genre_key.
PLACEHOLDERS_IN_OTHER_SCRIPTS = ("Неизвестно", "Неизвестный", "Неизвестный жанр", "Другое", "Разное", "Музыка", "未知",
                                 "其他", "不明", "その他", "音楽", "音乐", "音樂", "음악")

# Spellings that mean the same genre, by key -> the key they merge into. Small on purpose: only
# variants a listener would call one genre, not sub-genres.
ALIASES = {
    "altrock": "alternativerock", "alternrock": "alternativerock", "alternative": "alternativerock",
    "hiphoprap": "hiphop", "raphiphop": "hiphop", "hiphoprandb": "hiphop",
    "randb": "rnb", "rhythmandblues": "rnb", "rb": "rnb",
    "electronica": "electronic", "electro": "electronic", "electronicdance": "electronic",
    "rocknroll": "rockandroll", "rockroll": "rockandroll",
    "drumnbass": "drumandbass", "dnb": "drumandbass",
    "worldmusic": "world", "classic": "classical", "classicalmusic": "classical",
    "countryandwestern": "country", "softrock": "softrock", "jazzfusion": "fusion",
    "ost": "soundtrack", "filmscore": "soundtrack", "score": "soundtrack",
    "singersongwriter": "singersongwriter", "lofi": "lofi", "newage": "newage",
}

# The same genres in the languages libraries are most often kept in (German, French, Spanish, Italian, Portuguese,
# Dutch, Scandinavian, Polish): a tag or folder "Klassik" is Classical. Only genres whose name is translated; most
# (Jazz, Rock, Pop, Blues, Hip-Hop) are written alike everywhere.
TRANSLATED = {
    "classical": ("klassik", "klassisch", "klassischemusik", "musiqueclassique", "classique", "clasica",
                  "musicaclasica", "classica", "musicaclassica", "klassiek", "klassiekemuziek", "klassisk",
                  "klassiskmusik", "klassiskmusikk", "klasyczna", "muzykaklasyczna", "klassinen", "klasszikus"),
    "electronic": ("elektronisch", "elektronischemusik", "elektronik", "electronique", "musiqueelectronique",
                   "musicaelectronica", "eletronica", "elettronica", "musicaelettronica",
                   "elektronischemuziek", "elektronisk", "elektroniczna", "elektroninen"),
    "soundtrack": ("filmmusik", "filmmuziek", "bandeoriginale", "bandesoriginales", "bandeoriginaledefilm",
                   "bandasonora", "bandassonoras", "colonnasonora", "colonnesonore", "trilhasonora", "muzykafilmowa"),
    "world": ("weltmusik", "musiquedumonde", "musiquesdumonde", "musicadelmundo", "wereldmuziek", "varldsmusik"),
    "latin": ("latino", "latina", "musicalatina", "lateinamerikanisch"),
    "opera": ("oper", "operas", "opern"),
}
ALIASES |= {name: key for key, names in TRANSLATED.items() for name in names}
# The genres the shipped model knows, and a few as common, in Russian, Japanese, Korean and Chinese, as written: their
# keys join ALIASES below genre_key. A library tagged "Рок" then shows and is written the model's rock as Рок.
TRANSLATED_IN_OTHER_SCRIPTS = {
    "rock": ("Рок", "ロック", "록", "摇滚", "搖滾"),
    "pop": ("Поп", "ポップ", "ポップス", "팝", "流行", "流行音乐", "流行音樂"),
    "jazz": ("Джаз", "ジャズ", "재즈", "爵士", "爵士乐", "爵士樂"),
    "blues": ("Блюз", "ブルース", "블루스", "蓝调", "藍調"),
    "classical": ("Классика", "Классическая музыка", "クラシック", "클래식", "古典音乐", "古典音樂"),
    "country": ("Кантри", "カントリー", "컨트리", "乡村", "鄉村", "乡村音乐", "鄉村音樂"),
    "disco": ("Диско", "ディスコ", "디스코", "迪斯科"),
    "hiphop": ("Хип-хоп", "ヒップホップ", "힙합", "嘻哈"),
    "metal": ("Метал", "メタル", "메탈", "金属", "金屬"),
    "reggae": ("Регги", "レゲエ", "레게", "雷鬼"),
    "electronic": ("Электроника", "Электронная музыка", "エレクトロニカ", "電子音楽", "일렉트로닉", "电子", "电子音乐",
                   "電子音樂"),
    "soundtrack": ("Саундтрек", "サウンドトラック", "サントラ", "사운드트랙", "原声", "原声带", "原聲帶", "配乐"),
}


def id3v1_name(number: int) -> str | None:
    """The ID3v1 genre name for its number (0-191), None otherwise."""
    from mutagen.id3 import TCON

    return TCON.GENRES[number] if 0 <= number < len(TCON.GENRES) else None


def as_id3_reads_it(name: str) -> str:
    """A genre as an ID3 reader takes it: "17" or "(17)" is ID3v1's Rock, "(RX)" Remix, "(CR)" Cover; else unchanged
    ("" for a number ID3v1 has no name for)."""
    name = CONTROL.sub(" ", unicodedata.normalize("NFC", str(name))).strip()
    numeric = re.fullmatch(r"\(?(\d{1,3})\)?", name)
    if numeric:
        return id3v1_name(int(numeric.group(1))) or ""
    return {"(RX)": "Remix", "(CR)": "Cover"}.get(name.upper(), name)


def typed_genres(text: str) -> str:
    """Genres a listener typed, as files will give them back ("Rock; 80" is "Rock; Folk"); ValueError for none."""
    genres = []
    for typed in split_genres(text):
        name = as_id3_reads_it(typed)
        if not name:
            raise ValueError(f"{typed!r} is not a genre: ID3 takes a number for an ID3v1 genre, and there is none "
                             f"with that number; give its name")
        if not has_a_letter(name):  # "..", "-": written, but never shown, counted or learned as a genre (clean_name)
            raise ValueError(f"{typed!r} is not a genre: it has no letter")
        genres.append(name)
    if not genres:
        raise ValueError("a genre cannot be empty")
    return join_genres(genres)


def clean_name(name: str) -> str | None:
    """A genre as a listener would write it, or None for junk: numbers become ID3v1 names."""
    name = as_id3_reads_it(name)
    if genre_key(name) in JUNK or not has_a_letter(name):
        return None
    return name


def has_a_letter(name: str) -> bool:
    """Whether a name holds a letter, in any script: one without ("..", "-", "1000") is no genre."""
    return any(ch.isalpha() for ch in name)


def names_a_genre(values: Iterable[str]) -> bool:
    """True when any value is a genre, not a placeholder a ripper left (Unknown, Other, Misc, (255), Genre)."""
    return any(clean_name(v) is not None for v in values)


def holds_genre(text: str | None, key: str) -> bool:
    """Whether a genre text names the genre of `key` (see genre_key), alone or among several ("Rock; Pop")."""
    return any(genre_key(g) == key for g in split_genres(text or ""))


def tag_genres(file_genre: str | None, merged: dict[str, str] | None = None) -> str | None:
    """The genres a file's tag names, placeholders left out ("Unknown; Rock" -> "Rock"), each under the listener's
    merges (`merged`: genre key -> name), "; "-joined; None for none."""
    named = [(merged or {}).get(genre_key(name), name) for name in map(clean_name, split_genres(file_genre or "")) if name]
    return join_genres(named) or None


@functools.lru_cache(maxsize=4096)  # a library has few distinct genre tags; the review's album check asks for every track
def first_named(file_genre: str | None) -> str | None:
    """The first genre a file's tag names ("Unknown; Rock" names Rock); a placeholder says nothing, like no tag."""
    return next((name for name in map(clean_name, split_genres(file_genre or "")) if name), None)


@functools.lru_cache(maxsize=4096)  # a library has few distinct genre names, asked about for every track
def genre_key(name: str) -> str:
    """The key that spelling variants share: case, spaces, punctuation and '&'/'and' ignored; aliases merged."""
    key = spelling_key(name)
    return ALIASES.get(key, key)


def spelling_key(name: str) -> str:
    """A name's key before aliases: lower case, accents, spaces and punctuation aside, '&' as 'and'."""
    text = unicodedata.normalize("NFKD", str(name)).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", "and").replace("+", "and")
    text = re.sub(r"\b'?n'?\b", "and", text) if re.search(r"\b'n'?\b|\bn'\b", text) else text
    key = re.sub(r"[^0-9a-z]+", "", text.replace("alt.", "alt "))
    if not key:
        # A name in another script ("Поп", "ロック", "روك"): its own letters, digits and the vowel signs some scripts
        # write letters with ("रॉक" is not "रक"). Keeping only a-z and 0-9 left none, and such a genre was junk
        # (dropped from learning; `fill` wrote over it). Only then: a name with a Latin letter keeps the key stored
        # merges know it by.
        key = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNM")
    return key


JUNK |= {spelling_key(name) for name in PLACEHOLDERS_IN_OTHER_SCRIPTS}
ALIASES |= {spelling_key(name): key for key, names in TRANSLATED_IN_OTHER_SCRIPTS.items() for name in names}
# Keys of a genre's name in another language: a word of its own, which groups with the genre but is not respelt
TRANSLATION_KEYS = frozenset({name for names in TRANSLATED.values() for name in names}
                             | {spelling_key(name) for names in TRANSLATED_IN_OTHER_SCRIPTS.values() for name in names})


def display_names(names: Iterable[str] | Counter) -> dict[str, str]:
    """key -> the spelling the library uses most (ties: one with capitals, then the first seen).

    `names` is every genre as found (repeats count), or a Counter of them.
    """
    counted = names if isinstance(names, Counter) else Counter(names)
    by_key: dict[str, Counter] = {}
    for name, n in counted.items():
        clean = clean_name(name)
        if clean is not None:
            by_key.setdefault(genre_key(clean), Counter())[clean] += n
    return {key: max(c, key=lambda name: (c[name], name != name.lower())) for key, c in by_key.items()}


@functools.cache
def _standard_names() -> dict[str, str]:
    """genre key -> the ID3v1 list's spelling (the names taggers and players have used for decades)."""
    from mutagen.id3 import TCON

    names: dict[str, str] = {}
    for name in TCON.GENRES:
        if clean_name(name) is not None:  # not "Other"
            names.setdefault(genre_key(name), name)
    return names


def standard_genre_keys() -> frozenset[str]:
    """The keys of the ID3v1 list's genres (the names taggers and players have used for decades)."""
    return frozenset(_standard_names())


def standard_name(label: str) -> str:
    """A model label as taggers spell it: 'hiphop' -> 'Hip-Hop', 'rock' -> 'Rock', 'noise rock' -> 'Noise Rock'. A
    label in another language ('Хип-хоп', 'Électronique') is its model's word for the genre and stays so: a model
    trained on a library tagged in Russian wrote "Hip-Hop" into its files."""
    if spelling_key(label) in TRANSLATION_KEYS:
        return _capitalised(label)
    return standard_spelling(label)


def standard_spelling(name: str) -> str:
    """A genre as taggers spell it in English, a name in another language too ('Klassik' -> 'Classical'): what a
    prediction shown in a spelling the library no longer uses goes back to where its model's label is not known."""
    return _standard_names().get(genre_key(name)) or _capitalised(name)


def _capitalised(label: str) -> str:
    """A label written in lower case only, capitalised as a genre tag is; any other as it is."""
    if label.islower():
        return " ".join(word[:1].upper() + word[1:] for word in label.split(" "))
    return label


def shown_genre(label: str, spellings: dict[str, str] | None = None) -> str:
    """How the library shows a model's label: its own spelling (or the listener's merge), else standard_name."""
    return (spellings or {}).get(genre_key(label)) or standard_name(label)

