"""`genre-tagger list` and `show`: the library's tracks, filtered, and everything known about one of them."""

from __future__ import annotations

import functools
import logging
import shlex
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from desktop.cli.output import (
    EXIT_OK,
    NO_TRACKS_YET,
    Output,
    open_sessions,
    say_bars,
    say_window_tops,
)
from desktop.core.analysis import status_words
from desktop.core.errors import GenreTaggerError
from desktop.core.scan import holding_root, within
from desktop.core.search import read_as_words
from desktop.core.wording import columns, count, fitted, shortened, sureness
from desktop.services.settings import TaggingSettings
from desktop.store.schema import display_status

log = logging.getLogger(__name__)

# Said of tracks or a track on a music folder not there now (Library.unplugged), after a count or "away:".
AWAY = "on a drive not connected ({drive})"


# How long a listing waits for the music folders to answer whether they are there (Library.unplugged).
FOLDERS_ANSWER_S = 2.0


def unplugged_if_answered(library) -> list[str]:
    """The library's music folders on a drive not connected, where they all answer within FOLDERS_ANSWER_S; else none
    said: `list` and `show` read the database, and a share that does not answer (a NAS waking, a hard NFS mount whose
    server is down) must not hold them up."""
    found: list[list[str]] = []

    def look() -> None:
        try:
            found.append(library.unplugged())
        except (OSError, SQLAlchemyError):  # what the listing itself read, it has said: nothing more to say here
            log.debug("could not tell which music folders are there", exc_info=True)

    looking = threading.Thread(target=look, daemon=True)  # left behind if stuck
    looking.start()
    looking.join(FOLDERS_ANSWER_S)
    return found[0] if found else []


def shown_status(t) -> str:
    """The status word of a Track or of a row of queries.LISTED_COLUMNS (which has no `status` property)."""
    return display_status(t.verdict, t.write_state, t.corrected_genre)


def track_dict(t) -> dict:
    """A track row for output."""
    return {"path": t.path, "title": t.title, "artist": t.artist, "album": t.album, "album_artist": t.album_artist,
            "compilation": t.compilation, "track_number": t.track_number or None, "disc_number": t.disc_number or None,
            "year": t.year or None, "media_kind": t.media_kind or None, "file_genre": t.file_genre,
            "predicted": t.predicted_genre, "confidence": t.confidence, "corrected": t.corrected_genre,
            "genre": t.genre, "status": shown_status(t), "verdict": t.verdict, "write_state": t.write_state,
            "error": t.error}


def cmd_list(args, out: Output) -> int:
    """List the library's tracks (filtered by genre, search or review), or its genres with counts."""
    from desktop.services.library import Library
    from desktop.store import queries

    sessions = open_sessions(args, out)
    with sessions() as s:
        if args.counts:
            counts = queries.genre_counts(s, args.threshold)
            uncertain, unnamed = queries.uncertain_count(s, args.threshold), queries.no_genre_count(s)
            out.data = {"genres": [{"genre": g, "tracks": n} for g, n in counts], "uncertain": uncertain,
                        "no_genre": unnamed}
            for g, n in counts:
                out.say(f"{n:6d}  {shortened(g)}")
            if uncertain:
                out.say(f"{uncertain:6d}  (uncertain: predictions under {args.threshold:g}, see list --review)")
            if unnamed:  # every track counted somewhere: these were in none of the lines above
                out.say(f"{unnamed:6d}  (no genre: not analysed, unreadable, no music or unlike your genres; see list --no-genre)")
            if not (counts or uncertain or unnamed):  # every present track is on a line above: there is none
                out.note(empty_listing_hint(s, args))
            return EXIT_OK
        why: dict[int, str] = {}  # --review: why each track is there, in the status column's place
        # The filters combine (--search ignored --genre and --review, and stopped at 1,000 tracks unsaid).
        if args.review:
            reviewed = queries.review_with_reasons(s, threshold=args.threshold)
            tracks, why = [t for t, _ in reviewed], {t.id: reason for t, reason in reviewed}
            if args.genre:
                tracks = list(filter(queries.of_genre(args.genre), tracks))
            if args.no_genre:
                tracks = [t for t in tracks if not t.genre]
            if args.search:
                tracks = list(filter(queries.search_matches(args.search), tracks))
        else:
            tracks = queries.listed_tracks(s, args.genre, threshold=args.threshold if args.genre else None,
                                           without_genre=args.no_genre,
                                           matches=queries.search_matches(args.search) if args.search else None)
        if not tracks:
            out.note(empty_listing_hint(s, args))
        drives = unplugged_if_answered(Library(sessions)) if tracks else []  # no library yet: none to look for
        is_away = within(drives) if drives else lambda path: False
        if out.as_json:  # one or the other: building both took a second of 100,000 tracks
            out.data = {"tracks": [dict(track_dict(t), away=is_away(t.path), **({"review": why[t.id]} if why else {}))
                                   for t in tracks]}
            return EXIT_OK
        # The genre column fits the longest genre up to 24 characters; longer ones are shortened, so the
        # paths stay in one column ("Contemporary Christian" pushed its row's path out of line).
        width = max(14, min(24, max((columns(t.genre or "") for t in tracks), default=0)))
        # --no-genre: each says why in its status's place ("unlike every genre learned from your library (closest:
        # Disco 0.96)", a decoding error), where its status alone said "unlike" or "error".
        status = {t.id: why.get(t.id) or (args.no_genre and t.error) or status_words(shown_status(t)) for t in tracks}
        status_width = max(10, max((columns(text) for text in status.values()), default=0))
        for t in tracks:
            conf = sureness(t.confidence) if t.confidence is not None else "  - "
            out.say(f"{fitted(t.genre or '-', width)} {conf}  {fitted(status[t.id], status_width)} {t.path}")
        if away := sum(1 for t in tracks if is_away(t.path)):
            out.note(f"note: {count(away, 'track is', 'tracks are')} {AWAY.format(drive=', '.join(drives))}: listed as "
                     "the last scan found them")
    return EXIT_OK


def empty_listing_hint(session, args) -> str:
    """Why `list` found nothing: an empty library, or nothing of what was asked."""
    from desktop.store import queries

    if not queries.has_tracks(session):
        return NO_TRACKS_YET
    asked = [words for words in (args.review and "to review", args.genre and f"of the genre {args.genre!r}",
                                 args.no_genre and "with no genre", args.search and f"matching {args.search!r}") if words]
    if len(asked) > 1:  # filters combined: say all of them, not the first one's own reason
        return f"no track {', '.join(asked)}"
    if args.review:
        return f"nothing to review (no uncertain prediction under {args.threshold:g}, no disagreeing tag or album)"
    if args.search:
        return f"no track matches {args.search!r}" + "".join(f"; {note}" for note in read_as_words(args.search))
    if args.genre:
        why = absent_genre_words(session, args.genre, args.threshold)
        return f"no track is confidently {why or args.genre + ' (list --counts shows the genres)'}"
    if args.no_genre:
        return "every track has a genre"
    missing, left_out = queries.missing_counts(session)
    take_back = "`genre-tagger folders` lists them, `folders --take-back DIR` brings one back"
    if left_out == missing:
        return f"no track is present: every track is in a folder left out of the library ({take_back})"
    if left_out:
        return (f"no track is present: {count(left_out, 'track')} in folders left out ({take_back}), the others "
                "missing (moved, or on a drive not mounted); scan their folder")
    return "no track is present: the library's files are missing (moved, or on a drive not mounted); scan their folder"


def absent_genre_words(session, genre: str, threshold: float | None) -> str:
    """Why a listing or playlist of `genre` came out empty, and what gets its tracks, after the genre's name
    ("Soundtrack: 21 files' own tags say Soundtrack, …"); "" when the library holds it nowhere."""
    from desktop.store import queries

    absence = queries.genre_absence(session, genre, threshold)
    name, reasons = absence.name, []
    if absence.uncertain:
        reasons.append(f"{count(absence.uncertain, 'track is', 'tracks are')} {name} under the threshold {threshold:g} "
                       f"(list --review shows the uncertain; a lower --threshold takes them)")
    if absence.tagged:
        shown = ", ".join(f"{g} ({n:,})" for g, n in absence.tagged_shown_as[:3])
        more = ", …" if len(absence.tagged_shown_as) > 3 else ""
        says = "file's own tag says" if absence.tagged == 1 else "files' own tags say"
        # A genre the model does not know is never predicted: its tracks show the model's nearest genres until the
        # library's own genres are learned, and the search reads the files' tags now.
        reasons.append(f"{absence.tagged:,} {says} {name}, and predictions in the model's genres stand in its place"
                       + (f": they show as {shown}{more}" if shown else "")
                       + f"; `genre-tagger learn` learns your tags' genres, and {tag_searches(absence.tag_spellings)} "
                         f"takes those tracks by their tags now")
    return f"{name}: " + "; ".join(reasons) if reasons else ""


def tag_searches(spellings: list[str]) -> str:
    """The searches that find the tracks whose tags spell a genre so: --search genre:Jazz, --search 'genre:"Game
    Music"' (or genre:VGM) where merges join several."""
    searches = [shlex.quote(f'genre:"{g}"' if any(ch.isspace() for ch in g) else f"genre:{g}") for g in spellings]
    return f"--search {searches[0]}" + (f" (or {', '.join(searches[1:3])}{', …' if len(searches) > 3 else ''})"
                                        if len(searches) > 1 else "")


def cmd_show(args, out: Output) -> int:
    """Print everything the library knows about one file."""
    from sqlalchemy import select

    from desktop.core.genre_names import shown_genre
    from desktop.core.model import GenreModel
    from desktop.core.scan import left_out_reason
    from desktop.services.album_genres import album_genre_of, album_genres_on, in_compilation
    from desktop.services.learning import active_model
    from desktop.services.library import Library
    from desktop.services.models import resolve_model
    from desktop.store import queries
    from desktop.store.schema import Analysis

    sessions = open_sessions(args, out)
    library = Library(sessions)
    with sessions() as s:
        track = queries.track_of_file(s, str(Path(args.file).expanduser().absolute()))
        if track is None:
            raise GenreTaggerError(args.file, library.why_not_here(args.file))
        analyses = list(s.scalars(select(Analysis).where(Analysis.track_id == track.id)))
        out.data = dict(track_dict(track), analyses=[
            {"model": a.model_key, "status": a.status, "top": a.top_genre, "confidence": a.confidence,
             "probabilities": dict(zip(a.labels, a.probabilities, strict=False)), "window_starts": a.window_starts,
             "window_probabilities": a.window_probabilities} for a in analyses])
        for k, v in track_dict(track).items():
            shown = ("-" if v in (None, "") or v is False else "yes" if v is True
                     else sureness(v, 3) if isinstance(v, float) else v)  # not 0.43240758776664734
            out.say(f"{k:>12}: {shown}")
        # Kept as it was: neither heard nor written until it is back (a missing track's file was gone before).
        drive = None if track.missing else holding_root(track.path, unplugged_if_answered(library))
        out.data["away"] = drive is not None
        if drive is not None:
            out.say(f"        away: {AWAY.format(drive=drive)}: shown as the last scan found it")
        if track.missing:  # kept with its history: a moved file, a drive not mounted, a folder left out or removed
            out.data["missing"] = True
            left_out = left_out_reason(track.path, library.left_out())
            out.say(f"     missing: not in the library now ({left_out or 'not found by the last scan of its folder'})")
        spellings = queries.library_spellings(s)
        album = album_genre_of(s, track.id)
        if album is not None:
            label, confidence = album.top
            out.data["album_genre"] = {"genre": shown_genre(label, spellings), "confidence": confidence, "tracks": album.tracks,
                                       "tagged": album.tagged}
            source = (f"your genre on {album.tagged} of its {album.tracks} tracks" if album.tagged
                      else f"{sureness(confidence, 3)}, from {count(album.tracks, 'track')}")
            out.say(f"album genre: {shown_genre(label, spellings)} ({source} of {track.album}; "
                    "`genre-tagger genres --per-album off` gives each track its own)")
        elif album_genres_on(s) and in_compilation(s, track.id):
            out.data["in_compilation"] = True
            out.say(f"album genre: none, {track.album} is a compilation (each of its tracks keeps its own genre)")
        say_what_it_teaches(out, s, track, spellings)
        in_use = functools.cache(lambda: GenreModel(resolve_model(args.model, active_model(sessions)), device="cpu"))
        for a, as_json in zip(analyses, out.data["analyses"], strict=True):
            out.say(f"model {a.model_key}: {status_words(a.status)}")
            labels = [shown_genre(label, spellings) for label in a.labels]
            say_bars(out, sorted(zip(labels, a.probabilities, strict=False), key=lambda x: -x[1]), 12)
            say_windows(out, track, a, labels, in_use if drive is None else None, as_json)
    return EXIT_OK


def say_windows(out: Output, track, analysis, labels: list[str], in_use: Callable | None, as_json: dict) -> None:
    """An analysis's top genre window by window; heard again with the model in use where the analysis keeps
    none (`learn` re-predicts from stored embeddings), and then put in `as_json` (its JSON) too; not heard where
    `in_use` is None (the file on a drive not connected)."""
    from desktop.services.classify import hear_again

    starts, probabilities, how = analysis.window_starts, analysis.window_probabilities, ""
    if not probabilities and analysis.probabilities and not track.missing:
        if in_use is None:
            out.say("  per window: none kept, and the file is on a drive not connected (shown once it is back)")
            return
        try:
            model = in_use()
            if model.info.key != analysis.model_key:
                out.say(f"  per window: none kept, and {model.info.key} is in use now (a scan analyses it again)")
                return
            heard = hear_again(model, track.path, TaggingSettings().analysis())
        except GenreTaggerError as exc:
            out.warn(f"warning: {exc.path or track.path}: no per-window genres: {exc.reason}")
            return
        starts, probabilities, how = heard.window_starts, heard.window_probabilities.tolist(), " (heard again now)"
        as_json.update(window_starts=starts, window_probabilities=probabilities, windows_heard_again=True)
    if probabilities:
        out.say(f"  per window{how}:")
    say_window_tops(out, starts, probabilities, labels)


def say_what_it_teaches(out: Output, s, track, spellings: dict[str, str]) -> None:
    """The genre a track gives `learn` (its correction, its tag, its genre folder) and whence; or why none."""
    from desktop.services.labels import LABEL_SOURCES, what_it_teaches

    teaches = what_it_teaches(s, track, spellings)
    out.data["teaches"] = {"genre": teaches.genre, "source": teaches.source} if teaches.genre else None
    out.say(f"  learned as: {teaches.genre} (from {LABEL_SOURCES[teaches.source]})" if teaches.genre
            else f"  learned as: - ({teaches.why_none})")
