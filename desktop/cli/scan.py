"""`genre-tagger scan`: scan folders, predict genres, write them with --write; with --watch, again as music comes."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from desktop.cli.arguments import id3_version
from desktop.cli.output import (
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_PARTIAL,
    WRITE_LEFT,
    Output,
    open_sessions,
    say_recovery,
    say_skipped_and_failed,
    say_stopped,
    stop_on_interrupt,
)
from desktop.core.errors import GenreTaggerError
from desktop.core.genres import join_genres
from desktop.core.wording import count
from desktop.services.settings import TaggingSettings


def cmd_scan(args, out: Output) -> int:
    """Scan folders or files, predict genres, and with --write tag the files; with --watch, again whenever music
    comes, goes or is renamed, until stopped."""
    from desktop.core.model import GenreModel
    from desktop.services.learning import active_model, lost_model_warning
    from desktop.services.library import Library
    from desktop.services.models import MODEL_ENV, resolve_model
    from desktop.services.scanning import UNPLUGGED

    settings = TaggingSettings(policy=args.policy, threshold=args.threshold, multi_genre=args.multi_genre,
                               multi_threshold=args.multi_threshold, id3_version=id3_version(args),
                               id3_separator=args.separator, write_provenance=args.provenance, workers=args.workers,
                               keep_times=args.keep_times)
    sessions = open_sessions(args)
    if not args.paths:  # `genre-tagger scan`: the library again, as the window's Scan does
        library = Library(sessions)
        for folder in library.forget_emptied_folders():
            out.warn(f"note: {folder}: not there now, and none of the library's tracks is in it any more (moved "
                     "elsewhere); no longer one of its music folders")
        args.paths = library.folders()
        absent = sorted(set(library.recorded_folders()) - set(args.paths))
        for folder in absent:
            out.warn(f"note: {folder}: {UNPLUGGED}")
        if absent and not args.paths:  # a library on a drive unplugged: it has folders, none of them here
            raise GenreTaggerError(None, "none of the library's music folders is there now (named above); connect "
                                         "the drive that holds them and scan again, or name a folder to scan")
        if not args.paths:
            raise GenreTaggerError(None, "no folder to scan: name one (genre-tagger scan ~/Music); "
                                         "later scans with no folder walk the library's folders again")
        out.say(f"scanning the library's folders: {', '.join(args.paths)}")
    active = active_model(sessions)
    lost = None if args.model or os.environ.get(MODEL_ENV) else lost_model_warning(sessions)
    if lost:
        out.warn(f"warning: {lost}")
    model = GenreModel(resolve_model(args.model, active), device=args.device)
    if not args.watch:
        return scan_once(args, out, sessions, settings, model, active)
    return watch_and_scan(args, out, sessions, settings, model, active)


RETRY_S = 5.0  # `scan --watch`: how long to wait for another process's scan or write to end before trying again


def watch_and_scan(args, out: Output, sessions, settings: TaggingSettings, model, active) -> int:
    """`scan --watch`: scan, then again whenever music comes, goes or is renamed, until Ctrl+C or SIGTERM."""
    from desktop.core.folder_changes import FolderPoll
    from desktop.services.library import Library

    # Folders left out of the library are not looked at (a scan would skip them anyway); one left out later is
    # skipped by the scans it starts.
    poll = FolderPoll([p for p in args.paths if Path(p).expanduser().is_dir()], left_out=Library(sessions).left_out())
    if not poll.roots:
        raise GenreTaggerError(None, "--watch watches folders: name one (it scans the files named on their own once)")
    # A service manager's stop: a write ends with its file in hand. The caller's own handler is put back after.
    on_term = signal.signal(signal.SIGTERM, stop_as_if_interrupted)
    try:
        return _watch(args, out, sessions, settings, model, active, poll)
    finally:
        signal.signal(signal.SIGTERM, on_term)


def _watch(args, out: Output, sessions, settings: TaggingSettings, model, active, poll) -> int:
    from desktop.core.folder_changes import outside_unplugged
    from desktop.core.model import GenreModel
    from desktop.services.learning import active_model
    from desktop.services.models import MODEL_ENV, resolve_model
    from desktop.services.watching import wait_for_music
    from desktop.store.lock import LibraryBusy

    poll.look()  # before the scan: music that comes while it runs is seen next
    code = scan_once(args, out, sessions, settings, model, active)
    named = args.model or os.environ.get(MODEL_ENV)  # a model named keeps being used; else the library's
    try:
        while code != EXIT_CANCELLED:  # a scan or a write stopped by Ctrl+C stops the watch too
            out.emit()
            out.say(f"watching {', '.join(map(str, poll.roots))} for music that comes, goes or is renamed (Ctrl+C stops)")
            folder = wait_for_music(poll)
            # A folder gone or emptied at once is a drive unplugged (a network share dropped), not music deleted:
            # it is left out (its tracks left as they are), and scanned again when the poll sees it come back.
            gone, paths = outside_unplugged(poll.roots, args.paths)
            if gone:
                out.warn(f"note: {', '.join(gone)}: gone or empty (a drive unplugged?); its tracks are left as they are")
            if not paths:
                code = EXIT_OK
                continue
            out.say(f"music came or went in {folder}: scanning")
            if (now := active_model(sessions)) != active and not named:  # `learn` made another model active meanwhile
                active, path = now, resolve_model(None, now)
                model = GenreModel(path, device=args.device)
                out.say(f"the library's model is now {model.info.key} ({path}): this scan and the next use it")
            while True:
                try:
                    code = scan_once(args, out, sessions, settings, model, active, paths)
                    break
                except LibraryBusy as exc:  # the window or a `set` from another terminal: a moment, not an end
                    out.warn(f"note: {exc}; trying again in {RETRY_S:.0f} s")
                    time.sleep(RETRY_S)
    except KeyboardInterrupt:
        out.warn("stopped watching")
        code = EXIT_CANCELLED
    out.emit()
    return code


def stop_as_if_interrupted(_signum, frame):
    """SIGTERM does what Ctrl+C does where it comes (a write stops after the file in hand)."""
    on_interrupt = signal.getsignal(signal.SIGINT)
    if not callable(on_interrupt):  # ignored, as in a job started in the background by a script: stop all the same
        raise KeyboardInterrupt
    on_interrupt(signal.SIGINT, frame)


def scan_once(args, out: Output, sessions, settings: TaggingSettings, model, active, paths: list[str] | None = None) -> int:
    """One scan of `paths` (default: args.paths) and with --write its write, reported; the exit code."""
    from desktop.core.analysis import Analyzer
    from desktop.core.genre_names import shown_genre
    from desktop.services.album_genres import against_your_albums
    from desktop.services.learning import readiness, relearn_hint
    from desktop.services.scanning import UNPLUGGED, scan_library
    from desktop.services.tagging import TagService, hold_back
    from desktop.store import queries

    paths = args.paths if paths is None else paths
    cancel = threading.Event()
    started = time.monotonic()
    try:
        report = scan_library(sessions, paths, settings, lambda: Analyzer(model, settings.analysis()),
                              lambda p: out.progress(p.done, p.total, started), cancel,
                              on_problem=lambda p: out.warn(f"{'note' if p.away else 'warning'}: {p.path}: {p.reason}"), walk_progress=out.walking)
    except KeyboardInterrupt:
        cancel.set()
        out.warn("cancelled; what was analysed is saved and the next scan carries on")
        return EXIT_CANCELLED
    sync, results = report.sync, report.results
    say_recovery(out, report.recovered)
    for folder in sync.unplugged:
        out.warn(f"note: {folder}: {UNPLUGGED}")
    out.say(f"{count(sync.found, 'file')}: {sync.new} new, {sync.changed} changed, {sync.moved} moved, "
            f"{sync.retagged} retagged, {sync.unchanged} unchanged, {sync.missing} missing"
            + (f", {sync.unreadable} could not be read (named above)" if sync.unreadable else "")
            + (f", {sync.returned} back from missing" if sync.returned else "")
            + (f"; {count(sync.merged, 'track')} the library held twice (one file by two names) made one" if sync.merged else "")
            + (f"; removed {sync.cleaned} temporary copies an interrupted write left behind" if sync.cleaned else ""))
    if report.nothing_found:
        out.say(f"{', '.join(paths)}: {report.nothing_found}")
    errors = [(str(r.path), r.error) for r in results if r.status == "error"]
    for path, reason in errors:
        out.warn(f"error: {path}: {reason}")
    for r in results:
        if r.note:  # analysed, but from part of the file only
            out.warn(f"warning: {r.path}: {r.note}")
    tagger = TagService(sessions, settings)
    # Only what this scan was asked to look at, and could reach: a drive not connected is no place to write.
    changes = tagger.plan(under=sync.reached(paths))
    spoken = report.spoken_word
    changes, held = hold_back(changes, [f.path for f in spoken])
    failed = f"; {report.failed} more could not be (named above)" if report.failed else ""
    out.say(f"analysed {count(report.analysed, 'track')} with {model.info.key} on {', '.join(model.providers)}{failed}")
    if active is None and not args.model:
        out.say(readiness(sessions))
    elif not args.model and (relearn := relearn_hint(sessions)):
        out.say(relearn)
    say_spoken_word(out, spoken, held, args.write)
    with sessions() as s:
        against = against_your_albums(s, changes)  # before the write: what it gives them is no genre of theirs
    written = None
    if args.write and changes:
        with stop_on_interrupt(out) as stop:
            written = tagger.apply(changes, f"scan {' '.join(paths)} ({args.policy})", progress=out.file_progress(),
                                   cancel=stop)
        say_skipped_and_failed(out, written)
        out.say(f"wrote {count(len(written.written), 'file')}" + (" (undo with: genre-tagger undo)" if written.written else ""))
    else:
        for c in changes:
            out.say(f"would change {c.path}: {join_genres(c.old) or '(none)'} -> {join_genres(c.new)}")
        if changes and args.policy != "never":
            out.say(f"{count(len(changes), 'file')} would change; nothing written (add --write)")
    if against:
        out.say(f"{against.wording()}: genre-tagger genres --per-album on")
    with sessions() as s:
        spellings = queries.library_spellings(s)  # each genre as the library shows (and writes) it
    out.data = {
        "paths": list(paths),
        "sync": {k: v for k, v in vars(sync).items() if k != "problems"},
        "problems": [{"path": str(p.path), "reason": p.reason} for p in sync.problems],
        "analysed": [{"path": str(r.path), "status": r.status, "genre": r.top_genre and shown_genre(r.top_genre, spellings),
                      "confidence": round(r.confidence, 4),
                      "error": r.error, "note": r.note} for r in results],
        "changes": [{"path": c.path, "old": list(c.old), "new": list(c.new)} for c in changes],
        "against_your_albums": against and {"tracks": against.tracks,
                                            "albums": [{"album": a, "genre": g} for a, g in against.albums]},
        "written": bool(written), "write_failures": [{"path": p, "reason": r} for p, r in (written.failed if written else [])],
        "write_skipped": [{"path": p, "reason": r} for p, r in (written.skipped if written else [])],
        "spoken_word": [vars(f) for f in spoken], "held_back": [c.path for c in held],
    }
    if written and say_stopped(out, len(written.left), WRITE_LEFT):
        return EXIT_CANCELLED
    # A link to a share not mounted is noted, as a music folder of a drive not connected is: no failure of a scan
    # run from cron each night while the NAS sleeps.
    failed = errors or [p for p in sync.problems if not p.away] or (written and written.failed)
    return EXIT_PARTIAL if failed else EXIT_OK


SPOKEN_SHOWN = 10  # a scan names this many folders that look like spoken word; `folders` lists them all


def say_spoken_word(out: Output, folders: list, held: list, write: bool, shown: int | None = SPOKEN_SHOWN) -> None:
    """Ask about folders that look like spoken word (the first `shown`; None: all), naming the commands that answer,
    and what waits on them."""
    for f in folders[:shown]:
        out.say(f"spoken word? {f.path}  ({count(f.tracks, 'track')}; {f.reason})")
    if shown is not None and len(folders) > shown:
        out.say(f"spoken word? {len(folders) - shown:,} more folders: `genre-tagger folders` lists them all")
    if folders:
        out.say("  `genre-tagger folders --leave-out DIR…` leaves such folders out of the library (audiobooks, podcasts); "
                "`genre-tagger folders --keep DIR…` keeps them as music")
    if held:
        out.say(f"{'not written' if write else 'would not write'}: {count(len(held), 'file')} in those folders, "
                "until you leave them out or keep them")
