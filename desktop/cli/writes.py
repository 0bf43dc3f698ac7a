"""`genre-tagger set`, `keep`, `forget` and `undo`: genres set by hand, and tag writes taken back."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from desktop.cli.arguments import id3_version
from desktop.cli.output import (
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_PARTIAL,
    Output,
    open_sessions,
    print_write,
    say_recovery,
    say_stopped,
    stop_on_interrupt,
)
from desktop.core.errors import GenreTaggerError
from desktop.core.wording import count
from desktop.services.settings import TaggingSettings


def cmd_set(args, out: Output) -> int:
    """Set a genre by hand on files or folders: recorded, written (unless --no-write), protected."""
    from desktop.core.genre_names import typed_genres
    from desktop.services.library import Library
    from desktop.services.tagging import TagService

    check_is_a_genre(args.genre)
    settings = TaggingSettings(id3_version=id3_version(args), keep_times=args.keep_times,
                               write_provenance=args.provenance)
    sessions = open_sessions(args)
    library = Library(sessions, settings.tag_options())
    files, problems = files_to_set(args.paths, library)
    report = library.sync_files(files)
    # A file whose audio an earlier scan could not decode (a copy-protected .m4p, a download cut short) still takes
    # a genre set by hand: its tags were read. `set` refused it, with exit 2.
    problems += [p for p in report.problems if not p.analysis_only and not (p.away and args.no_write)]
    problems = [dataclasses.replace(p, reason=f"{p.reason} (or `set --no-write` records the genre now, the file left "
                                              "as it is)") if p.away else p for p in problems]
    unusable = {str(p.path) for p in problems}
    files = [f for f in files if f not in unusable]
    if not files:
        raise GenreTaggerError(problems[0].path, problems[0].reason)
    for p in problems:  # several paths: the others are still set
        out.warn(f"warning: {p.path}: {p.reason}")
    genre = typed_genres(args.genre)  # as it will be set ("80" is Folk), and said below
    with stop_on_interrupt(out) as stop:
        result = TagService(sessions, settings).correct(files, genre, source="cli", write=not args.no_write,
                                                        progress=out.file_progress(), cancel=stop)
    what = files[0] if len(files) == 1 else count(len(files), "file")
    out.say(f"{what}: genre set to {genre} by hand (protected from automatic tagging)")
    code = print_write(out, result)
    if result.failed:  # "genre set … by hand", then an error: was it set or not?
        out.warn(f"note: the genre stays set by hand in the library on the {count(len(result.failed), 'file')} not "
                 "written; `genre-tagger set` again writes it once the file can be")
    return EXIT_PARTIAL if problems else code


def cmd_forget(args, out: Output) -> int:
    """Forget the genres set by hand on files or folders; the files are not changed."""
    from desktop.services.library import Library
    from desktop.services.tagging import TagService

    sessions = open_sessions(args)
    library = Library(sessions)
    files, problems = files_to_set(args.paths, library)
    for p in problems:
        out.warn(f"warning: {p.path}: {p.reason}")
    forgotten, unknown = TagService(sessions).forget_corrections(files)
    say_not_in_library(out, library, unknown, files, "nothing to forget")
    for path in forgotten:
        out.say(f"{path}: the genre set by hand is forgotten; its predicted genre shows again (the file is unchanged)")
    if not forgotten:
        out.note("no genre set by hand on " + (files[0] if len(files) == 1 else count(len(files), "file")) + "; nothing to forget")
    out.data = {"forgotten": forgotten, "not_in_library": unknown}
    return EXIT_PARTIAL if problems or unknown else EXIT_OK


SHOWN = 10  # `keep`: files whose tag names no genre, named one by one


def cmd_keep(args, out: Output) -> int:
    """Keep each file's own genre tag as its genre set by hand (the tag is right, the prediction not); files unchanged."""
    from desktop.services.library import Library
    from desktop.services.tagging import TagService

    sessions = open_sessions(args)
    library = Library(sessions)
    files, problems = files_to_set(args.paths, library)
    for p in problems:
        out.warn(f"warning: {p.path}: {p.reason}")
    result = TagService(sessions).keep_file_genres(files)
    say_not_in_library(out, library, result.unknown, files, "nothing to keep")
    for path in result.no_genre[:SHOWN]:  # a folder of untagged files: the first few, and how many more
        out.warn(f"warning: {path}: its tag names no genre; nothing to keep (genre-tagger set FILE GENRE sets one)")
    if len(result.no_genre) > SHOWN:
        out.warn(f"warning: {count(len(result.no_genre) - SHOWN, 'more file')} whose tag names no genre")
    for path, genre in result.kept:
        out.say(f"{path}: {genre} kept as its tag says, and set by hand (protected from automatic tagging; the file is "
                "unchanged)")
    out.data = {"kept": [{"path": path, "genre": genre} for path, genre in result.kept], "no_genre_tag": result.no_genre,
                "not_in_library": result.unknown}
    return EXIT_PARTIAL if problems or result.unknown or result.no_genre else EXIT_OK


def say_not_in_library(out: Output, library, unknown: list[str], files: list[str], nothing: str) -> None:
    """Files named that the library does not know: an error naming why when it knows none of them, else a warning
    each ("PATH: in a folder left out; nothing to forget")."""
    from desktop.core.scan import left_out_reason

    if unknown and len(unknown) == len(files):
        raise GenreTaggerError(unknown[0], library.why_not_here(unknown[0]))
    left_out = library.left_out() if unknown else []  # read once, not once per file
    for path in unknown:
        out.warn(f"warning: {path}: {left_out_reason(path, left_out) or 'not in the library'}; {nothing}")


def check_is_a_genre(genre: str) -> None:
    """Refuse a genre that is a file's name: the genre typed first (`set Rock song.flac` set the genre "song.flac"
    on every file of a folder named Rock, where there was one, or else said "Rock: file not found")."""
    from desktop.core.formats import is_supported

    if is_supported(genre) or os.path.isfile(os.path.expanduser(genre)):
        raise GenreTaggerError(genre, "a file, not a genre: the genre comes last (genre-tagger set PATH... GENRE)")


def files_to_set(paths: list[str], library) -> tuple[list[str], list]:
    """Absolute paths of the files named and of the music files in the folders named (of a folder not there now, on a
    drive not connected, the library's tracks in it); problems on the way."""
    from desktop.core.scan import ScanProblem, walk_music

    files, problems = [], []
    for given in paths:
        path = Path(given).expanduser().absolute()
        if not os.path.lexists(path) and (known := library.paths_under(path)):
            files += known  # "not in the library; scan its folder first", it said of an album on a USB stick unplugged
            continue
        if not path.is_dir():
            files.append(str(path))  # a missing or unreadable file is named by the sync that follows
            continue
        found = [str(f.path) for f in walk_music([path], problems.append)]
        if not found:
            problems.append(ScanProblem(path, "no music files in this folder"))
        files += found
    return list(dict.fromkeys(files)), problems


def cmd_undo(args, out: Output) -> int:
    """Undo the newest (or a chosen) batch of tag writes, or list the batches."""
    from desktop.services.tagging import TagService
    from desktop.store.schema import stored_utc

    service = TagService(open_sessions(args, out if args.list else None),  # listing only reads
                         TaggingSettings(keep_times=args.keep_times))
    if args.list:
        batches = service.batches()
        # JSON: ISO 8601 with the zone (UTC); the listing: the listener's local time, as the window shows it.
        iso = lambda stamp: stored_utc(stamp).isoformat() if stamp else None  # noqa: E731
        out.data = {"batches": [{"id": b.id, "description": b.description, "created": iso(b.created_at),
                                 "undone": iso(b.undone_at), "files": files, "restored": restored}
                                for b, files, restored in batches]}
        for summary in batches:
            b, state = summary.batch, summary.state()
            out.say(f"{b.id:5d}  {stored_utc(b.created_at).astimezone():%Y-%m-%d %H:%M}  {count(summary.files, 'file'):>11}  "
                    f"{state + ': ' if state else ''}{b.description}")
        if not batches:
            out.note("nothing written yet: no batch to undo")
        return EXIT_OK
    say_recovery(out, service.recover_interrupted())
    with stop_on_interrupt(out) as stop:
        result = service.undo(args.batch, progress=out.file_progress(), cancel=stop)
    for path in result.restored:
        out.say(f"restored {path}")
    for path, reason in result.refused:
        out.warn(f"refused: {path}: {reason}")
    out.say(f"batch {result.batch_id} ({result.description}): restored {count(len(result.restored), 'file')}, "
            f"refused {len(result.refused)}" + ("" if result.complete or result.left else "; the batch stays undoable for the refused files"))
    if result.corrections:
        out.say(f"took back {count(result.corrections, 'genre')} set by hand with it (those tracks show their "
                "earlier genre again)")
    out.data = {"batch": result.batch_id, "restored": result.restored, "complete": result.complete,
                "corrections_taken_back": result.corrections, "refused": [{"path": p, "reason": r} for p, r in result.refused],
                "left": result.left}
    if say_stopped(out, result.left, "still to undo (undo again goes on)"):
        return EXIT_CANCELLED
    return EXIT_PARTIAL if result.refused else EXIT_OK
