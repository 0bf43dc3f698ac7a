"""Queries the CLI and the GUI share; all single-table and indexed for large libraries."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session

from desktop.core.album_genre import album_key, is_compilation_of
from desktop.core.analysis import DEFAULT_THRESHOLD
from desktop.core.genre_folders import folders_between, outermost_genre
from desktop.core.genre_names import (
    ALIASES,
    clean_name,
    display_names,
    first_named,
    genre_key,
    holds_genre,
    standard_genre_keys,
)
from desktop.core.genres import split_genres
from desktop.core.natural_order import in_playing_order
from desktop.core.scan import same_file, within
from desktop.core.search import parse_search
from desktop.store.schema import Analysis, GenreMerge, Meta, Track

GENRE_FOLDERS = "genre_folders"  # meta key: "on" when a track with no genre of its own takes its genre folder's name
FOLDER_GENRES = "folder_genres"  # meta key: names the listener said are genres, for folders so named (JSON list)
LIBRARY_FOLDERS = "library_folders"  # meta key: the folders scans walked (JSON list), so either face finds them again
LEFT_OUT_FOLDERS = "left_out_folders"  # meta key: folders the listener left out of the library (JSON list), never walked


def meta_folder_list(session: Session, key: str) -> list[str]:
    """A list of folders kept in the meta table under `key` (JSON); [] where it was never written or cannot be read
    (never written so by us: it starts again)."""
    row = session.get(Meta, key)
    try:
        folders = json.loads(row.value) if row else []
    except ValueError:
        return []
    return [f for f in folders if isinstance(f, str)] if isinstance(folders, list) else []


# ---- the "needs review" rule, once: for a row in Python (the GUI's filter) and in SQL (the CLI) ----
def is_uncertain(confidence: float | None, threshold: float) -> bool:
    """A prediction under the threshold (applied now, so a changed threshold counts for old tracks too)."""
    return confidence is not None and confidence < threshold


def tag_disagrees(file_genre: str, predicted: str | None) -> bool:
    """The file's first genre is another genre than the prediction, by key ("Hip-Hop" is the model's "hiphop";
    our own multi-genre writes agree)."""
    named = first_named(file_genre)
    return bool(named and predicted) and genre_key(named) != genre_key(predicted)


def row_needs_review(file_genre: str, predicted: str | None, confidence: float | None, corrected: bool,
                     threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Uncertain, or the tag disagrees with the prediction, and nobody corrected it."""
    return not corrected and (is_uncertain(confidence, threshold) or tag_disagrees(file_genre, predicted))


def _review_clause(threshold: float):
    # A superset of the rule in SQL (strings, not keys): needs_review narrows it with row_needs_review, which
    # also lets our own multi-genre writes ("rock; pop" for rock) and other spellings agree.
    tag, pred = func.lower(Track.file_genre), func.lower(Track.predicted_genre)
    disagree = and_(Track.file_genre != "", Track.predicted_genre.is_not(None), tag != pred)
    uncertain = and_(Track.confidence.is_not(None), Track.confidence < threshold)
    return and_(Track.corrected_genre.is_(None), or_(uncertain, disagree))


def genre_counts(session: Session, threshold: float = DEFAULT_THRESHOLD) -> list[tuple[str, int]]:
    """(genre, number of tracks) for every genre, largest first; uncertain predictions are not counted.

    By key, as `spellings_of` finds them: a correction typed "jazz" counts with the predicted "Jazz" (shown in
    the library's most used spelling), and a track of "Rock; Pop" counts for Rock and for Pop.
    """
    rows = session.execute(
        select(Track.genre, func.count()).where(Track.genre.is_not(None), Track.missing.is_(False), confident_clause(threshold))
        .group_by(Track.genre))
    counts, spellings, first = Counter(), Counter(), {}
    for text, n in rows:
        for name in split_genres(text):
            key = genre_key(name) or name
            counts[key] += n
            spellings[name] += n
            first.setdefault(key, name)  # for a name display_names leaves out (a correction typed "Other")
    shown = display_names(spellings)
    return sorted(((shown.get(key) or first[key], n) for key, n in counts.items()), key=lambda gn: (-gn[1], gn[0]))


def missing_counts(session: Session) -> tuple[int, int]:
    """How many tracks are kept out of view (missing), and how many of them because they lie in a folder left out of
    the library (the others moved, deleted, or on a drive not mounted)."""
    inside = within(meta_folder_list(session, LEFT_OUT_FOLDERS))
    paths = session.scalars(select(Track.path).where(Track.missing.is_(True))).all()
    return len(paths), sum(1 for path in paths if inside(path))


def present_count(session: Session) -> int:
    """How many tracks are in the library's folders (not missing)."""
    return session.scalar(select(func.count()).select_from(Track).where(Track.missing.is_(False)))


def no_genre_clause():
    """Tracks with no genre at all, none predicted, set by hand or named by their own tag: not analysed yet, unreadable,
    too short, no music, or unlike every genre learned from the library."""
    return or_(Track.genre.is_(None), Track.genre == "")


def no_genre_count(session: Session) -> int:
    """Present tracks with no genre (no_genre_clause): in no genre's count and not uncertain either."""
    return session.scalar(select(func.count()).select_from(Track).where(Track.missing.is_(False), no_genre_clause()))


# A track's fields a listing (`list`, its --json) or a playlist gives: read as rows of these columns alone, `list` of
# 100,000 tracks took 1.5-1.6 s to read and sort them, where loading them as Track objects took 3.0-3.7 s.
LISTED_COLUMNS = (Track.id, Track.path, Track.folder, Track.title, Track.artist, Track.album, Track.album_artist,
                  Track.compilation, Track.track_number, Track.disc_number, Track.year, Track.media_kind, Track.file_genre,
                  Track.predicted_genre, Track.confidence, Track.corrected_genre, Track.genre, Track.verdict,
                  Track.write_state, Track.error, Track.duration)


def listed_tracks(session: Session, genre: str | None = None, threshold: float | None = None,
                  without_genre: bool = False, matches: Callable | None = None) -> list:
    """Present tracks, of one genre when given (with a threshold: confidently), or `without_genre`, and with `matches`
    those it takes (a search: search_matches), in playing order (in_playing_order: each album whole); each a row of
    LISTED_COLUMNS, its attributes named as Track's.

    The genre matches by key, as everywhere else: `blues` finds the library's `Blues`, `hip hop` its `Hip-Hop`.
    """
    q = select(*LISTED_COLUMNS).where(Track.missing.is_(False))
    if without_genre:
        q = q.where(no_genre_clause())
    if genre is not None:
        q = q.where(Track.genre.in_(spellings_of(session, genre)))
    if threshold is not None:
        q = q.where(confident_clause(threshold))
    # Sorted here, not by SQL: SQLite orders "Zappa" before "abba" and "Track 10" before "Track 2".
    # A search's tracks are chosen before the sort, not after: sorting every track first took 1-2 s of 100,000.
    return in_playing_order(filter(matches, session.execute(q)) if matches else session.execute(q))


@dataclass(frozen=True)
class GenreAbsence:
    """Why a genre has no settled track: its tracks under the threshold, and the files whose own tags name it while
    their genre in the library is another (a prediction in the model's genres), with the genres those show; `name`
    is the genre as the library spells it."""

    name: str
    uncertain: int
    tagged: int
    tagged_shown_as: list[tuple[str, int]]
    tag_spellings: list[str]  # as the tags spell it, case aside, the most used first ("Film Score", "OST")


def genre_absence(session: Session, genre: str, threshold: float | None) -> GenreAbsence:
    """Where the present tracks of `genre` (by key) are, for a listing or playlist of it that came out empty."""
    key = genre_key(genre)
    merged = genre_merges(session)
    stored = spellings_of(session, genre)
    name = library_spellings(session).get(key) or next(
        (g for value in stored for g in split_genres(value) if genre_key(g) == key), genre)
    uncertain = 0
    if threshold is not None:
        uncertain = session.scalar(select(func.count()).select_from(Track).where(
            Track.missing.is_(False), Track.genre.in_(stored), ~confident_clause(threshold)))
    # Few distinct tag values: each is tested once, under the listener's merges ("OST" merged into Soundtrack).
    shown_as: Counter = Counter()
    tag_names: Counter = Counter()  # the tags' own spellings of it, which a search by genre: finds
    for value, shown, n in session.execute(select(Track.file_genre, Track.genre, func.count()).where(
            Track.missing.is_(False), Track.file_genre != "").group_by(Track.file_genre, Track.genre)):
        naming = [g for g in map(clean_name, split_genres(value)) if g and genre_key(merged.get(genre_key(g), g)) == key]
        if not naming or holds_genre(shown, key):
            continue  # its tag does not name the genre, or it shows it (an uncertain one, counted above)
        shown_as[shown or ""] += n
        tag_names.update(dict.fromkeys(naming, n))
    spellings: dict[str, str] = {}  # one of each, case aside (a search is blind to it), its most used spelling
    for g, _ in tag_names.most_common():
        spellings.setdefault(g.casefold(), g)
    return GenreAbsence(name, uncertain, sum(shown_as.values()),
                        sorted(((g, n) for g, n in shown_as.items() if g), key=lambda gn: (-gn[1], gn[0])),
                        list(spellings.values()))


def spellings_of(session: Session, genre: str) -> list[str]:
    """The library's stored genre values that hold `genre` by key, alone or among several ("Rock; Pop" for
    Rock); few distinct values, read from the index."""
    key = genre_key(genre)
    values = session.scalars(select(Track.genre).where(Track.genre.is_not(None)).distinct())
    return [v for v in values if holds_genre(v, key)] or [genre]


def _literal(text: str) -> str:
    """`text` for a LIKE pattern with escape "\\": its % and _ match themselves."""
    return re.sub(r"([\\%_])", r"\\\1", text)


def search_matches(text: str) -> Callable[[Track], bool]:
    """A test of a track: it holds what `text` asks, as the window's search box takes it (core.search: every word in
    any order, "phrases", field:value; blind to case and accents)."""
    return parse_search(text).matcher()


def of_genre(genre: str) -> Callable[[Track], bool]:
    """A test of a track: its genre holds `genre` by key, alone or among several."""
    key = genre_key(genre)
    return lambda t: holds_genre(t.genre, key)


def album_disagreements(session: Session, threshold: float = DEFAULT_THRESHOLD) -> set[int]:
    """Ids of uncorrected, predicted tracks on albums whose genres disagree.

    Tracks of one album usually share a genre: an album is flagged when its confident predictions
    name more than one genre, or a genre none of its tagged (or corrected) tracks has. A compilation's tracks
    are many genres: it is never flagged.
    """
    albums: dict[tuple[str, str], list] = {}
    rows = session.execute(select(Track.id, Track.folder, Track.album, Track.artist, Track.album_artist, Track.compilation,
                                  Track.file_genre, Track.predicted_genre, Track.confidence, Track.corrected_genre)
                           .where(Track.missing.is_(False), Track.album != ""))
    for row in rows:
        albums.setdefault(album_key(row.folder, row.album), []).append(row)
    flagged: set[int] = set()
    for tracks in albums.values():
        if len(tracks) < 2 or is_compilation_of(tracks):
            continue
        predicted: set[str] = set()  # the album's confident predictions, by key
        said: set[str] = set()  # what its corrections and its tags say, by key
        # One pass, each row unpacked once: with the names cached, 0.8 s at 100,000 tracks where it took 1.4 s.
        for _id, _folder, _album, _artist, _album_artist, _compilation, file_genre, guess, confidence, corrected in tracks:
            if corrected:
                said.add(genre_key(corrected))
                continue
            if guess and not is_uncertain(confidence, threshold):
                predicted.add(genre_key(guess))
            if named := first_named(file_genre):
                said.add(genre_key(named))
        if len(predicted) > 1 or (said and predicted - said):
            flagged.update(t.id for t in tracks if t.predicted_genre and not t.corrected_genre)
    return flagged


def needs_review(session: Session, limit: int | None = None, threshold: float = DEFAULT_THRESHOLD) -> list[Row]:
    """Uncertain tracks, tracks whose tag disagrees with the prediction, and tracks of disagreeing albums (rows of
    LISTED_COLUMNS)."""
    return [track for track, _ in review_with_reasons(session, limit, threshold)]


def id_chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    """`ids` in slices for `IN (...)`: SQLite limits the parameters of one statement."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def review_with_reasons(session: Session, limit: int | None = None,
                        threshold: float = DEFAULT_THRESHOLD) -> list[tuple[Row, str]]:
    """needs_review's tracks by path, each with why: "uncertain", "file says Rock", "album's genres differ"; each a row
    of LISTED_COLUMNS (as Track objects, 100,000 of them took `list --review` 6.3-6.5 s and 430 MB, as rows 4.3-4.5 s
    and 200 MB)."""
    q = select(*LISTED_COLUMNS).where(Track.missing.is_(False), _review_clause(threshold))
    tracks = {t.id: t for t in session.execute(q)
              if row_needs_review(t.file_genre or "", t.predicted_genre, t.confidence, bool(t.corrected_genre), threshold)}
    flagged = album_disagreements(session, threshold)
    album_ids = sorted(flagged - set(tracks))
    for chunk in id_chunks(album_ids):
        tracks.update({t.id: t for t in session.execute(select(*LISTED_COLUMNS).where(Track.id.in_(chunk)))})
    ordered = sorted(tracks.values(), key=lambda t: t.path)[:limit or None]
    return [(t, _reason(t, threshold, t.id in flagged)) for t in ordered]


def _reason(track, threshold: float, album_flagged: bool) -> str:
    return review_reason(track.file_genre or "", track.predicted_genre, track.confidence, bool(track.corrected_genre),
                         threshold, album_flagged)


def review_reason(file_genre: str, predicted: str | None, confidence: float | None, corrected: bool,
                  threshold: float = DEFAULT_THRESHOLD, album_flagged: bool = False) -> str:
    """Why a track is to review ("uncertain; file says Rock", "album's genres differ"), "" when it is not."""
    uncertain = not corrected and is_uncertain(confidence, threshold)
    disagrees = not corrected and tag_disagrees(file_genre, predicted)
    reasons = (["uncertain"] * uncertain + [f"file says {first_named(file_genre)}"] * disagrees
               + ["album's genres differ"] * album_flagged)
    return "; ".join(reasons)


def has_tracks(session: Session) -> bool:
    """True once a scan has found any track (present now or not)."""
    return session.scalar(select(Track.id).limit(1)) is not None


def track_by_path(session: Session, path: str) -> Track | None:
    """The track stored under an absolute path."""
    return session.scalar(select(Track).where(Track.path == path))


def tracks_by_paths(session: Session, paths: list[str]) -> dict[str, Track]:
    """The tracks stored under these absolute paths, by path, read 500 at a time (a query each, with a flush before
    each, took 1 ms a track: 19 s for 20,000 corrected)."""
    found: dict[str, Track] = {}
    for chunk in id_chunks(sorted(set(paths))):  # slices any list: paths too
        found.update((track.path, track) for track in session.scalars(select(Track).where(Track.path.in_(chunk))))
    return found


def track_by_real_path(session: Session, path: str) -> Track | None:
    """The track stored under the file's own path where `path` reaches it through a symlink (a "Best of" folder's
    link to a song, whatever the link's name); None otherwise. One indexed lookup: cheap for every file of a folder."""
    real = os.path.realpath(path)
    return track_by_path(session, real) if real != path else None


def track_of_file(session: Session, path: str) -> Track | None:
    """The track of a file named by any of its paths: its own, or another name of the same file (a symlink to it, or
    a folder reached through one); the others are looked for only when the first misses."""
    track = track_by_path(session, path)
    if track is not None or not os.path.isfile(path):
        return track
    if (track := track_by_real_path(session, path)) is not None:
        return track
    name = _literal(os.path.basename(path))
    for candidate in session.scalars(select(Track).where(Track.path.like(f"%{os.sep}{name}", escape="\\"))):
        if same_file(candidate.path, path):
            return candidate
    return None


def latest_analysis(session: Session, track_id: int) -> Analysis | None:
    """The newest analysis of a track (by any model): the one the details and multi-genre writes use."""
    q = select(Analysis).where(Analysis.track_id == track_id).order_by(Analysis.created_at.desc(), Analysis.id.desc())
    return session.scalar(q.limit(1))


def confident_clause(threshold: float):
    """Tracks whose genre is settled: corrected by hand, predicted at or above the threshold, or not predicted
    (a genre its own tag names: is_uncertain's rule for a row)."""
    return or_(Track.corrected_genre.is_not(None), Track.confidence.is_(None), Track.confidence >= threshold)


def uncertain_count(session: Session, threshold: float = DEFAULT_THRESHOLD) -> int:
    """Present tracks with a prediction under the threshold and no correction (shown apart from genres)."""
    return session.scalar(select(func.count()).select_from(Track).where(
        Track.missing.is_(False), Track.genre.is_not(None), ~confident_clause(threshold)))


def genre_merges(session: Session) -> dict[str, str]:
    """The listener's merges and renames: genre key -> the name it is shown and learned as.

    A merge remembered under a key that an alias now joins to another ("klassik", since Klassik is Classical) holds
    for that genre, unless the listener merged that genre itself."""
    rows = dict(session.execute(select(GenreMerge.from_key, GenreMerge.to_name)).all())
    merged = {key: name for key, name in rows.items() if ALIASES.get(key, key) == key}
    for key, name in rows.items():
        merged.setdefault(ALIASES.get(key, key), name)
    return merged


def genre_folders_on(session: Session) -> bool:
    """Whether this library learns from its genre folders' names (~/Music/Jazz/…) where a track has no genre of its
    own."""
    row = session.get(Meta, GENRE_FOLDERS)
    return row is not None and row.value == "on"


def known_genre_keys(session: Session, merged: dict[str, str]) -> frozenset[str]:
    """The genres a folder may be named for: the ID3v1 list's, and every genre the library's tags, corrections and
    merges (`merged`: genre key -> name) name."""
    named = {genre_key(g) for text in session.scalars(select(Track.file_genre).where(Track.file_genre != "").distinct())
             for g in split_genres(text)}
    named |= {genre_key(g) for g in session.scalars(select(Track.corrected_genre)
                                                    .where(Track.corrected_genre.is_not(None)).distinct())}
    named |= {genre_key(name) for name in merged.values()} | set(merged)
    named |= {genre_key(name) for name in meta_folder_list(session, FOLDER_GENRES)}  # not folders: names, kept alike
    return standard_genre_keys() | named


def library_spellings(session: Session) -> dict[str, str]:
    """Genre key -> how the library shows it (for model labels): the listener's merge or rename of it,
    else the spelling the library's own tags and corrections use most (and, where it learns from them, the names of
    the genre folders holding tracks with neither: "Klassik/" spells Classical so)."""
    counts: Counter = Counter()
    for column in (Track.file_genre, Track.corrected_genre):
        for text, n in session.execute(select(column, func.count()).where(column.is_not(None), column != "").group_by(column)):
            for name in split_genres(text)[:1]:
                counts[name] += n
    merged = genre_merges(session)
    if genre_folders_on(session):
        counts.update(genre_folder_names(session, known_genre_keys(session, merged)))
    # A merge renamed the tracks shown then; a track analysed later must come out the same way.
    return display_names(counts) | merged


def genre_folder_names(session: Session, known: frozenset[str], unnamed: Counter | None = None) -> Counter:
    """The genre folders' names (core genre_folder) as spellings, once per track with no genre of its own in them.
    `unnamed`, where given, counts the same tracks in no genre folder by the outermost folder holding them inside
    their music folder ("Schlager", a genre no list names; "Incoming")."""
    roots, named = meta_folder_list(session, LIBRARY_FOLDERS), Counter()
    untagged = (select(Track.folder, func.count()).where(Track.missing.is_(False), Track.corrected_genre.is_(None),
                                                         or_(Track.file_genre.is_(None), Track.file_genre == ""))
                .group_by(Track.folder))
    for folder, n in session.execute(untagged):  # per folder, not per track: 100,000 tracks sit in a few thousand
        folders = folders_between(os.path.join(folder, "_"), roots)  # its music folder found once, for both
        if name := outermost_genre(folders, known):
            named[name] += n
        elif unnamed is not None and folders:
            unnamed[folders[0]] += n
    return named
