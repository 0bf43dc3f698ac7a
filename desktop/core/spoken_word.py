"""Folders inside the music folders that look like spoken word (audiobooks, podcasts): found from the folders' names,
the tracks' genre tags, iTunes' media kind and the audiobook container, so the listener can be asked once whether to
leave them out."""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from desktop.core.genre_names import genre_key, split_genres
from desktop.core.scan import holding_root, root_prefix, within

# Folder names, as `_name_key` writes them. Whole names only: an album called "The Podcast Sessions" or a band named
# Speech is music. In the languages whose listeners we have heard of shelving audiobooks beside their music.
SPOKEN_FOLDER_NAMES = frozenset({
    "audiobook", "audiobooks", "audio book", "audio books", "audio books and podcasts", "audiobooks and podcasts",
    "podcast", "podcasts", "my podcasts", "spoken word", "radio plays", "hoerbuch", "hoerbuecher", "horbuch",
    "horbucher", "horspiel", "horspiele", "hoerspiele", "livre audio", "livres audio", "audiolibro", "audiolibros",
    "audiolibri", "audiolivro", "audiolivros", "luisterboek", "luisterboeken", "ljudbok", "ljudbocker", "lydbok",
    "lydboker", "lydboger", "aanikirja", "aanikirjat", "audiobooki", "audioknihy",
})
# The same in other scripts, as written (Russian, Ukrainian, Japanese, Chinese, Korean): their keys join the names
# above `_name_key`.
SPOKEN_FOLDER_NAMES_IN_OTHER_SCRIPTS = ("Аудиокниги", "Аудиокнига", "Аудіокниги", "Подкасты", "Подкасти",
                                        "オーディオブック", "ポッドキャスト", "有声书", "有声读物", "播客", "오디오북", "팟캐스트")

# Genre tags (as genre_key spells them) that say a track is speech: ID3v1's Speech, Audiobook and Podcast, iTunes'
# "Books & Spoken" and "Spoken & Audio", and the German shelves' Hörbuch and Hörspiel.
SPOKEN_GENRES = frozenset(genre_key(name) for name in (
    "Audiobook", "Audiobooks", "Audio Book", "Podcast", "Podcasts", "Speech", "Spoken Word", "Spoken",
    "Books & Spoken", "Spoken & Audio", "Hörbuch", "Hörbücher", "Hörspiel", "Livre audio", "Audiolibro", "Lecture",
    "Аудиокнига", "Аудиокниги", "Подкаст", "オーディオブック", "ポッドキャスト", "有声书", "播客", "오디오북", "팟캐스트",
))

AUDIOBOOK_SUFFIX = ".m4b"  # the audiobook container: an MP4 that players open as a book, with its place kept


@dataclass(frozen=True)
class SpokenFolder:
    """A folder whose tracks look like spoken word, how many it holds, and what says so."""

    path: str
    tracks: int
    reason: str


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("&", " and ")
    return " ".join(re.findall(r"[^\W_]+", text))  # words of any script ("Аудиокниги", "オーディオブック")


SPOKEN_FOLDER_NAMES |= frozenset(map(_name_key, SPOKEN_FOLDER_NAMES_IN_OTHER_SCRIPTS))


def spoken_name(name: str) -> bool:
    """True for a folder named as audiobooks or podcasts are shelved ("Audiobooks", "Podcasts", "Hörbücher")."""
    return _name_key(name) in SPOKEN_FOLDER_NAMES


def spoken_track(path: str, file_genre: str, media_kind: str = "") -> str | None:
    """What says a track is spoken word (the audiobook container, iTunes' media kind: "audiobook" or "podcast", or its
    genre tag); None where nothing does."""
    if path[-len(AUDIOBOOK_SUFFIX):].casefold() == AUDIOBOOK_SUFFIX:
        return "audiobook files (.m4b)"
    if media_kind:
        return f"marked as {media_kind}s by iTunes"
    return _spoken_genre(file_genre or "")


@functools.lru_cache(maxsize=4096)  # a library has few distinct genre tags, asked about for every track
def _spoken_genre(file_genre: str) -> str | None:
    name = next((name for name in split_genres(file_genre) if genre_key(name) in SPOKEN_GENRES), None)
    return None if name is None else f"genre tags saying {name.strip()}"


def spoken_folders(tracks: Iterable[tuple[str, str, str]], roots: Iterable[str],
                   kept: Iterable[str] = ()) -> list[SpokenFolder]:
    """The outermost folders inside `roots` (never a root itself: scanning it was asked for) that look like spoken
    word: named so, or whose every track is. `tracks` are (path, genre tag, media kind) of the library's present tracks;
    folders in or under `kept` (the listener said they are music) are not named. Sorted by path."""
    roots = [str(Path(r)) for r in roots]
    is_kept = within(kept)
    # Counted per track's own folder first (a library has ten times fewer folders than tracks), then carried up.
    own_total: Counter[str] = Counter()
    own_spoken: dict[str, Counter[str]] = {}
    root_of: dict[str, str] = {}
    for path, genre, media_kind in tracks:
        folder = os.path.dirname(path)
        if folder not in root_of:
            root_of[folder] = holding_root(path, roots) or ""  # the innermost holding it is its music folder
        if not root_of[folder]:  # a file scanned on its own, outside every music folder: no folder of it to offer
            continue
        own_total[folder] += 1
        if signal := spoken_track(path, genre, media_kind):
            own_spoken.setdefault(folder, Counter())[signal] += 1
    total: Counter[str] = Counter()
    spoken: dict[str, Counter[str]] = {}
    named: set[str] = set()
    for folder, n in own_total.items():
        for above in _folders_between(root_of[folder], folder):
            total[above] += n
            if folder in own_spoken:
                spoken.setdefault(above, Counter()).update(own_spoken[folder])
            if spoken_name(os.path.basename(above)):
                named.add(above)
    found: dict[str, str] = {}
    for folder in sorted(named | {f for f, c in spoken.items() if c.total() == total[f]}, key=len):
        if is_kept(folder) or any(within([f])(folder) for f in found):
            continue  # the outermost only: ~/Music/Audiobooks, not each book inside it
        if folder in named:
            found[folder] = "the folder's name"
        else:
            found[folder] = spoken[folder].most_common(1)[0][0]
    return [SpokenFolder(f, total[f], found[f]) for f in sorted(found)]


def _folders_between(root: str, folder: str) -> list[str]:
    """`folder` and the folders holding it inside `root`, outermost first; `root` itself not among them."""
    parts = folder[len(root_prefix(Path(root))):].split(os.sep) if folder != root else []
    return [os.path.join(root, *parts[:i]) for i in range(1, len(parts) + 1)]
