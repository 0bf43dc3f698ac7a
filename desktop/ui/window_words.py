"""What the main window says about tracks, models and finished jobs: pure functions from data to the listener's words."""

from __future__ import annotations

from desktop.core.analysis import ERROR, NEW, NO_MUSIC, TOO_SHORT, UNLIKE, status_words
from desktop.core.errors import GenreTaggerError
from desktop.core.genre_names import shown_genre
from desktop.core.learned_model import is_learned_key
from desktop.core.model import read_model_info
from desktop.core.wording import count, percent
from desktop.services.album_genres import AlbumGenre
from desktop.services.labels import LABEL_SOURCES, Teaches
from desktop.services.models import resolve_model, shipped_model_keys
from desktop.services.tagging import KeptGenres, UndoResult, WriteResult
from desktop.store.schema import Track

FOLDERS_HINT = "Edit > Learn From Genre Folders learns from them"  # the window's words for genres --folder-names on


def as_sentence(words: str) -> str:
    """`words` begun with a capital, as the window's messages are (the services' begin in lower case, for the
    command line's lines: "nothing learned from your library yet; …" stood out in the status bar)."""
    return words[:1].upper() + words[1:]


def stopped_words(result) -> str:
    """What a write or undo stopped by the listener did and left ('' when it ran to the end, or for other jobs)."""
    if isinstance(result, UndoResult) and result.left:
        return (f"Undo stopped: restored {count(len(result.restored), 'file')}, {count(result.left, 'file')} still to undo "
                "(Undo again goes on)")
    if isinstance(result, WriteResult) and result.left:
        return (f"Stopped: wrote {count(len(result.written), 'file')}, left {count(len(result.left), 'file')} as they were "
                "(Undo takes back what was written)")
    return ""


def kept_words(result: KeptGenres) -> str:
    """What Keep the File's Genre did, for the status bar."""
    kept = (f"Kept the genre its tag says on {count(len(result.kept), 'track')}, as set by hand (Forget Genre Set by "
            "Hand takes it back)" if result.kept else "Nothing kept")
    return kept + (f"; {count(len(result.no_genre), 'track')} left: no genre in the tag (Set Genre… sets one)"
                   if result.no_genre else "")


def undo_words(description: str, files: int) -> str:
    """A write batch as the Undo action names it: its description, cut to a menu's length, and its file count."""
    short = description if len(description) <= 40 else description[:39] + "…"
    return f"“{short}” ({count(files, 'file')})"


def describe_model(path: str, spellings: dict[str, str] | None = None) -> str:
    """One line about a model file for the settings dialog: its genres as the library spells them."""
    try:
        info = read_model_info(resolve_model(path or None))
    except (GenreTaggerError, ValueError) as exc:
        return f"Cannot use this model: {exc}"
    acc = f", test accuracy {info.metrics['accuracy']:.0%}" if "accuracy" in info.metrics else ""
    return f"{info.key}: {', '.join(shown_genre(label, spellings) for label in info.labels)}{acc}"


# Why a track has no prediction, for the details' "Genre from: its tag (Jazz); …".
UNHEARD = {NEW: "not analysed yet", ERROR: "it could not be analysed", TOO_SHORT: "too short for the model to tell",
           NO_MUSIC: "the model heard no music in it", UNLIKE: "unlike every genre learned from your library"}


def teaches_words(teaches: Teaches) -> str:
    """What a track gives Learn My Genres, in the listener's words ("learns it as Jazz (from its genre tag)")."""
    if teaches.genre:
        return f"Learn My Genres learns it as {teaches.genre} (from {LABEL_SOURCES[teaches.source]})"
    return f"Learn My Genres learns nothing from it ({teaches.why_none})"


def genre_source(track: Track, analysis, album: AlbumGenre | None = None, spellings: dict[str, str] | None = None,
                 compilation: bool = False) -> str:
    """Where a track's genre comes from, in the listener's words (`album`: the genre its album shares;
    `compilation`: albums share one, but this track's is a compilation)."""
    if track.corrected_genre:
        return f"your correction ({track.corrected_genre})"
    if track.predicted_genre and analysis is not None:
        key = analysis.model_key
        model = ("learned from your library" if is_learned_key(key) else
                 f"the shipped model ({key})" if key in shipped_model_keys() else f"the model {key}")
        tag = f"; the file's tag says {track.file_genre}" if track.file_genre else ""
        if album is not None:
            own = (f"{shown_genre(analysis.top_genre, spellings or {})}, {percent(analysis.confidence)}" if analysis.top_genre
                   else status_words(analysis.status))
            if album.tagged:  # the listener named most of the album
                return f"your genre on {album.tagged} of the {album.tracks} tracks of its album (this track alone: {own}){tag}"
            return f"the {album.tracks} tracks of its album, {model}, {percent(track.confidence)} sure (this track alone: {own}){tag}"
        apart = " (its album is a compilation: each of its tracks keeps its own genre)" if compilation else ""
        return f"{model}, {percent(track.confidence)} sure{apart}{tag}"
    if track.genre:  # no prediction: its own tag's genre (services.library.library_genre)
        return f"its tag ({track.genre}); {UNHEARD.get(track.verdict, status_words(track.verdict))}"
    # No genre at all: why ("nothing yet" said the same for a track waiting and one unlike every learned genre).
    why = UNHEARD.get(track.verdict, status_words(track.verdict)) if track.verdict else "nothing yet"
    if track.file_genre:  # a placeholder ("Unknown"): no genre
        return f"none: {why} (its tag says {track.file_genre})"
    return f"none: {why}"


def tab_separated(lines: list[list[str]]) -> str:
    """Rows of cells as a spreadsheet pastes them: tab between cells, a line a row (a tab or line break inside a cell
    becomes a space, so no cell spills into the next)."""
    def flat(cell: str) -> str:
        return cell.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")

    return "\n".join("\t".join(map(flat, cells)) for cells in lines)
