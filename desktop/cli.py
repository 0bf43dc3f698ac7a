"""`genre-tagger`: the command-line face over the same services as the GUI."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from desktop import __version__
from desktop.core.analysis import DEFAULT_THRESHOLD, ERROR, status_words
from desktop.core.errors import GenreTaggerError
from desktop.core.genres import join_genres
from desktop.core.progress_text import scan_progress, walk_progress
from desktop.core.wording import count, sureness
from desktop.services.learning import LearnSettings
from desktop.services.settings import POLICIES, TaggingSettings

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR, EXIT_CANCELLED = 0, 1, 2, 130


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1 (a confidence threshold)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value


def at_least(low: int):
    """An argparse type: a whole number of at least `low`."""
    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value
    return whole


MAP_SIZES = (400, 200, 10_000)  # least width (the legend takes 240 px), least height, most of either


def image_size(text: str) -> tuple[int, int]:
    """An argparse type: WIDTHxHEIGHT in pixels, within MAP_SIZES (10000x10000 is 400 MB of image already)."""
    least_w, least_h, most = MAP_SIZES
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be WIDTHxHEIGHT, not {text!r}") from None
    if not (least_w <= width <= most and least_h <= height <= most):
        raise argparse.ArgumentTypeError(f"must be from {least_w}x{least_h} to {most}x{most} pixels, not {text}")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    from desktop.core.paths import locations_text

    # No abbreviated options: `--mode replace` would silently be `--model replace`.
    p = argparse.ArgumentParser(prog="genre-tagger", description="Tag a music library with genres, offline.",
                                allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="exit codes: 0 ok, 1 done with some files failing, 2 error, 130 cancelled\n\n"
                                       + locations_text())
    p.add_argument("--version", action="version", version=f"genre-tagger {__version__}\n{locations_text()}")
    add_global_options(p, defaults=True)
    # The same options after the subcommand (`scan DIR --json`): SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_global_options(common, defaults=False)
    sub = p.add_subparsers(dest="command", required=True)
    add = lambda name, **kw: sub.add_parser(name, parents=[common], allow_abbrev=False, **kw)  # noqa: E731

    scan = add("scan", help="scan folders (or single files), predict genres, and (with --write) tag files")
    scan.add_argument("paths", nargs="*", metavar="PATH", help="a music folder (walked with its subfolders) or a music file; "
                      "none: the folders the library's scans walked before (here or in the window)")
    scan.add_argument("--write", action="store_true", help="write tags; without it nothing is written (dry run)")
    scan.add_argument("--policy", choices=POLICIES, default="fill", help="fill: only files without a genre or with a placeholder such as Unknown (default); replace; never")
    scan.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto", help="where the model runs (auto: a GPU when there is one)")
    scan.add_argument("--threshold", type=fraction, default=DEFAULT_THRESHOLD, help="below this confidence a prediction is uncertain and never written")
    scan.add_argument("--multi-genre", action="store_true", help="write up to 3 genres above --multi-threshold")
    scan.add_argument("--multi-threshold", type=fraction, default=0.25, help="with --multi-genre: the least confidence of a second or third genre (default 0.25)")
    add_id3_options(scan)
    scan.add_argument("--separator", default="; ", help="ID3v2.3 multi-genre separator")
    scan.add_argument("--provenance", action="store_true", help="also write a GENRE_TAGGER field saying where the genre came from")
    scan.add_argument("--workers", type=at_least(1), default=2, help="decoding threads")
    scan.add_argument("--watch", action="store_true", help="keep running: scan again (and with --write, write) a few "
                      "seconds after music comes, goes or is renamed in the folders, until Ctrl+C; with --json, one "
                      "line per scan")

    ls = add("list", help="list tracks")
    ls.add_argument("--genre", help="only tracks of this genre (any spelling: hip hop finds Hip-Hop)")
    ls.add_argument("--no-genre", action="store_true",
                    help="only tracks with no genre at all (not analysed, unreadable, no music, unlike your genres), each with why")
    ls.add_argument("--review", action="store_true", help="only tracks to review, each with why (uncertain, the tag disagrees, the album disagrees)")
    ls.add_argument("--threshold", type=fraction, default=DEFAULT_THRESHOLD,
                    help="predictions under this confidence are uncertain: left out of --counts and --genre, shown by --review")
    ls.add_argument("--search", help="only tracks whose title, artist, album, genre or path holds this text (case-blind)")
    ls.add_argument("--counts", action="store_true", help="genres with track counts")

    show = add("show", help="everything known about one file")
    show.add_argument("file", help="a music file in the library")

    st = add("set", help="set a genre by hand (recorded, written, protected from automatic tagging)")
    st.add_argument("paths", nargs="+", metavar="PATH",
                    help="a music file, or a folder: every music file in it and its subfolders (one undo step)")
    st.add_argument("genre", help="the genre to set (several: 'Rock; Pop')")
    st.add_argument("--no-write", action="store_true", help="record in the database only")
    add_id3_options(st)

    fg = add("forget", help="forget the genre set by hand: the prediction shows again (files are not changed)")
    fg.add_argument("paths", nargs="+", metavar="PATH",
                    help="a music file, or a folder: every music file in it and its subfolders")

    undo = add("undo", help="revert the last batch of tag writes (or --batch N)")
    undo.add_argument("--batch", type=at_least(1), help="the batch number to revert (see --list)")
    undo.add_argument("--list", action="store_true", help="list recent batches instead")

    pl = add("playlist", help="write an M3U8 playlist of one genre, or of every genre to a folder (--all)")
    pl.add_argument("genre", nargs="?", help="the genre, any spelling (hip hop finds Hip-Hop)")
    pl.add_argument("--all", action="store_true", help="one playlist per genre, <genre>.m3u8 in the folder -o names "
                    "(playlists written before are replaced)")
    pl.add_argument("-o", "--output", required=True, help="the playlist file to write (.m3u8); with --all, the folder")
    pl.add_argument("--force", action="store_true", help="replace a file that is not a playlist (never an audio file)")
    pl.add_argument("--threshold", type=fraction, default=DEFAULT_THRESHOLD, help="leave out predictions under this confidence")

    add("models", help="list available models")

    lr = add("learn", help="learn your library's own genres from its tags and corrections (no audio is decoded)")
    lr.add_argument("--base", help="the network whose embeddings to learn on (default: the shipped model)")
    lr.add_argument("--min-tracks", type=at_least(2), default=LearnSettings.min_tracks, help="tracks a genre needs")
    lr.add_argument("--min-artists", type=at_least(1), default=LearnSettings.min_artists, help="artists a genre needs")
    lr.add_argument("--folds", type=at_least(2), default=LearnSettings.folds, help="cross-validation folds (grouped by artist)")
    act = lr.add_mutually_exclusive_group()
    act.add_argument("--activate", dest="activate", action="store_true", default=None,
                     help="use the learned model even where the shipped one scores better")
    act.add_argument("--no-activate", dest="activate", action="store_false", help="save the model but keep using the current one")

    mp = add("map", help="draw the library as a 2-D map of its stored embeddings (PNG, or a self-contained HTML page)")
    mp.add_argument("-o", "--output", required=True, help="map.png, or map.html for an interactive page")
    mp.add_argument("--html", action="store_true", help="write the interactive page whatever the file name")
    mp.add_argument("--force", action="store_true", help="replace a file that is not a map, or write a PNG without .png (never an audio file)")
    mp.add_argument("--by-file-genre", action="store_true", help="colour by the files' own tags instead of the genre")
    mp.add_argument("--size", type=image_size, default=(1200, 900), help="PNG size in pixels, WIDTHxHEIGHT (default 1200x900)")
    mp.add_argument("--threshold", type=fraction, default=DEFAULT_THRESHOLD, help="predictions under this are uncertain (grey)")

    cl = add("classify", help="the genre of one recording outside the library (FILE, or - for WAV on standard input)")
    cl.add_argument("file", help="an audio file, or - to read WAV from standard input")
    cl.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto", help="where the model runs (auto: a GPU when there is one)")

    gn = add("genres", help="the library's genres (spellings merged) and where they come from; merge or rename them")
    gn.add_argument("--merge", nargs=2, metavar=("GENRE", "INTO"), help="treat GENRE as INTO from now on (also renames)")
    gn.add_argument("--folder-names", choices=("on", "off"), help="on: a track with no genre of its own is learned as "
                    "the genre its folder is named for (~/Music/Jazz/…), the outermost such folder in its music folder")
    gn.add_argument("--folder-genre", nargs="+", metavar="NAME", help="with --folder-names on, folders named NAME "
                    "are learned as the genre NAME too (one no list names: Schlager, Chanson française)")
    gn.add_argument("--not-folder-genre", nargs="+", metavar="NAME", help="folders named NAME are no genre again")
    gn.add_argument("--per-album", choices=("on", "off"), help="on: every track of an album shows (and is written with) "
                    "the genre its tracks share, except on compilations; off: each track its own (the default)")

    fo = add("folders", help="the library's music folders, and those left out of it (audiobooks, podcasts); "
                             "leave one out or take it back")
    which = fo.add_mutually_exclusive_group()
    which.add_argument("--leave-out", metavar="DIR", nargs="+", help="scans skip DIR from now on; its tracks leave the "
                                                                     "library (their corrections kept, for when it is taken back)")
    which.add_argument("--take-back", metavar="DIR", nargs="+", help="scan a folder left out again (the next scan brings "
                                                                     "its tracks back)")
    which.add_argument("--keep", metavar="DIR", nargs="+", help="a folder that looks like spoken word (audiobooks, "
                                                                "podcasts) is music: scans stop asking about it, and scan "
                                                                "--write tags it")
    which.add_argument("--ask-again", metavar="DIR", nargs="+", help="a folder kept as music is asked about again: "
                                                                     "scans name it while it looks like spoken word")
    return p


def add_global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """--db, --json and --model, accepted before and after the subcommand."""
    keep = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument("--db", help="library database file", **({"default": None} if defaults else keep))
    parser.add_argument("--json", action="store_true", help="machine-readable output", **({"default": False} if defaults else keep))
    parser.add_argument("--model", help="ONNX genre model (default: the shipped one)", **({"default": None} if defaults else keep))


def add_id3_options(parser: argparse.ArgumentParser) -> None:
    """--id3v23 / --id3v24; without either each MP3 keeps its own ID3 version."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--id3v23", action="store_true", help="write ID3v2.3 (converting v2.4-only frames)")
    group.add_argument("--id3v24", action="store_true", help="write ID3v2.4")


def id3_version(args) -> int:
    """The ID3 version asked for on the command line; 0 keeps each file's own."""
    return 3 if args.id3v23 else 4 if args.id3v24 else 0


# Control characters from tags and file names (ESC starts terminal escape sequences); line breaks stay.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Text with control characters shown as '?' and undecodable name bytes as \\xNN, safe to print."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return CONTROL.sub("?", text)


class Output:
    """Prints for people, or collects JSON for scripts."""

    def __init__(self, as_json: bool):
        self.as_json, self.data = as_json, {}
        self.tty = sys.stderr.isatty() and not as_json
        self.line_open = False  # a progress line is on the terminal, to be covered by the next or cleared

    def say(self, text: str) -> None:
        """A line for people (suppressed in JSON mode)."""
        if not self.as_json:
            self.end_line()
            print(terminal_safe(text))

    def note(self, text: str) -> None:
        """A hint for people on stderr (an empty listing's why), left out in JSON mode."""
        if not self.as_json:
            self.end_line()
            print(terminal_safe(text), file=sys.stderr)

    def warn(self, text: str) -> None:
        """A line on stderr, also in JSON mode."""
        self.end_line()
        print(terminal_safe(text), file=sys.stderr)

    def progress(self, done: int, total: int, started: float, noun: str = "tracks") -> None:
        """A one-line progress bar on a terminal."""
        if not self.tty or not total:
            return
        rate = done / max(1e-6, time.monotonic() - started)
        bar = "#" * int(30 * done / total)
        self.progress_line(f"[{bar:<30}] {scan_progress(done, total, rate, sep='  ', noun=noun)}")
        if done == total:  # a finished bar stays on screen
            sys.stderr.write("\n")
            self.line_open = False

    def walking(self, p) -> None:
        """A scan's walk on a terminal, before its analysis ('Looking for music… 1,234 files so far')."""
        if self.tty:
            self.progress_line(walk_progress(p.done, p.total, p.rate, sep="  "))

    def stage(self, text: str) -> None:
        """What a long step is doing, on the progress line of a terminal ("Learning 12 genres from 4,321 tracks…")."""
        if self.tty:
            self.progress_line(text)

    def progress_line(self, line: str) -> None:
        """Write `line` over the progress line before it (on a terminal only)."""
        sys.stderr.write(f"\r{line[:79]:<79}")  # padded: a shorter line must cover the longer one before it
        sys.stderr.flush()
        self.line_open = True

    def end_line(self) -> None:
        """Clear an open progress line, so what is printed next has the line (the next update draws it again)."""
        if self.line_open:
            sys.stderr.write(f"\r{'':<79}\r")
            sys.stderr.flush()
            self.line_open = False

    def file_progress(self):
        """progress(done, total) for a write or an undo: its own bar, counting files."""
        started = time.monotonic()
        return lambda done, total: self.progress(done, total, started, noun="files")

    def finish(self) -> None:
        """Print the collected JSON (unless `emit` printed it)."""
        if self.as_json and self.data is not None:
            print(json.dumps(self.data, indent=2, default=str))

    def emit(self) -> None:
        """Print the JSON collected so far as one line and start afresh (`scan --watch`: a line per scan)."""
        if self.as_json and self.data is not None:
            print(json.dumps(self.data, default=str), flush=True)
        self.data = None


def open_sessions(args, out: Output | None = None, incidental: bool = False):
    """The database named by --db / $GENRE_TAGGER_DB / the user data folder. With `out` (commands that only
    read), a library on read-only media is opened for reading, and none is created where there is none (an empty
    one is read instead); `out` says so, unless the library is `incidental` to the command (classify)."""
    from desktop.core.paths import database_file
    from desktop.store.database import NoLibraryYet, is_read_only, open_database

    path = database_file(args.db)
    try:
        sessions = open_database(path, read_only=out is not None, create=out is None)
    except NoLibraryYet:  # a mistyped --db: said, and nothing made there (it made the folder, a library and its copy)
        if not incidental:
            out.warn(f"note: {path}: no library there yet (nothing was created)")
        return open_database(":memory:")  # read as the empty library it is
    if out is not None and is_read_only(sessions):
        out.warn(f"note: {path} cannot be written where it is; read as it is")
    return sessions


def cmd_scan(args, out: Output) -> int:
    """Scan folders or files, predict genres, and with --write tag the files; with --watch, again whenever music
    comes, goes or is renamed, until stopped."""
    from desktop.core.model import GenreModel
    from desktop.services.learning import active_model, lost_model_warning
    from desktop.services.library import Library
    from desktop.services.models import MODEL_ENV, resolve_model

    settings = TaggingSettings(policy=args.policy, threshold=args.threshold, multi_genre=args.multi_genre,
                               multi_threshold=args.multi_threshold, id3_version=id3_version(args),
                               id3_separator=args.separator, write_provenance=args.provenance, workers=args.workers)
    sessions = open_sessions(args)
    if not args.paths:  # `genre-tagger scan`: the library again, as the window's Scan does
        library = Library(sessions)
        args.paths = library.folders()
        for folder in sorted(set(library.recorded_folders()) - set(args.paths)):
            out.warn(f"note: {folder}: not there now (a drive not mounted?); its tracks are left as they are")
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
    from desktop.services.learning import readiness, relearn_hint
    from desktop.services.scanning import scan_library
    from desktop.services.tagging import TagService, hold_back
    from desktop.store import queries

    paths = args.paths if paths is None else paths
    cancel = threading.Event()
    started = time.monotonic()
    try:
        report = scan_library(sessions, paths, settings, lambda: Analyzer(model, settings.analysis()),
                              lambda p: out.progress(p.done, p.total, started), cancel,
                              on_problem=lambda p: out.warn(f"warning: {p.path}: {p.reason}"), walk_progress=out.walking)
    except KeyboardInterrupt:
        cancel.set()
        out.warn("cancelled; what was analysed is saved and the next scan carries on")
        return EXIT_CANCELLED
    sync, results = report.sync, report.results
    say_recovery(out, report.recovered)
    out.say(f"{count(sync.found, 'file')}: {sync.new} new, {sync.changed} changed, {sync.moved} moved, "
            f"{sync.retagged} retagged, {sync.unchanged} unchanged, {sync.missing} missing"
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
    changes = tagger.plan(under=paths)  # only what this scan was asked to look at
    spoken = report.spoken_word
    changes, held = hold_back(changes, [f.path for f in spoken])
    failed = f"; {report.failed} more could not be (named above)" if report.failed else ""
    out.say(f"analysed {count(report.analysed, 'track')} with {model.info.key} on {', '.join(model.providers)}{failed}")
    if active is None and not args.model:
        out.say(readiness(sessions))
    elif not args.model and (relearn := relearn_hint(sessions)):
        out.say(relearn)
    say_spoken_word(out, spoken, held, args.write)
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
        "written": bool(written), "write_failures": [{"path": p, "reason": r} for p, r in (written.failed if written else [])],
        "write_skipped": [{"path": p, "reason": r} for p, r in (written.skipped if written else [])],
        "spoken_word": [vars(f) for f in spoken], "held_back": [c.path for c in held],
    }
    if written and say_stopped(out, len(written.left), WRITE_LEFT):
        return EXIT_CANCELLED
    failed = errors or sync.problems or (written and written.failed)
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


def track_dict(t) -> dict:
    """A track row for output."""
    return {"path": t.path, "title": t.title, "artist": t.artist, "album": t.album, "album_artist": t.album_artist,
            "compilation": t.compilation, "file_genre": t.file_genre,
            "predicted": t.predicted_genre, "confidence": t.confidence, "corrected": t.corrected_genre,
            "genre": t.genre, "status": t.status, "verdict": t.verdict, "write_state": t.write_state, "error": t.error}


def cmd_list(args, out: Output) -> int:
    """List the library's tracks (filtered by genre, search or review), or its genres with counts."""
    from desktop.store import queries

    with open_sessions(args, out)() as s:
        if args.counts:
            counts = queries.genre_counts(s, args.threshold)
            uncertain, unnamed = queries.uncertain_count(s, args.threshold), queries.no_genre_count(s)
            out.data = {"genres": [{"genre": g, "tracks": n} for g, n in counts], "uncertain": uncertain,
                        "no_genre": unnamed}
            for g, n in counts:
                out.say(f"{n:6d}  {g}")
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
        else:
            tracks = queries.tracks_by_genre(s, args.genre, threshold=args.threshold if args.genre else None,
                                             without_genre=args.no_genre)
        if args.search:
            tracks = list(filter(queries.search_matches(args.search), tracks))
        out.data = {"tracks": [dict(track_dict(t), **({"review": why[t.id]} if why else {})) for t in tracks]}
        if not tracks:
            out.note(empty_listing_hint(s, args))
        # The genre column fits the longest genre up to 24 characters; longer ones are shortened, so the
        # paths stay in one column ("Contemporary Christian" pushed its row's path out of line).
        width = max(14, min(24, max((len(t.genre or "") for t in tracks), default=0)))
        # --no-genre: each says why in its status's place ("unlike every genre learned from your library (closest:
        # Disco 0.96)", a decoding error), where its status alone said "unlike" or "error".
        status = {t.id: why.get(t.id) or (args.no_genre and t.error) or status_words(t.status) for t in tracks}
        status_width = max(10, max((len(text) for text in status.values()), default=0))
        for t in tracks:
            conf = sureness(t.confidence) if t.confidence is not None else "  - "
            genre = t.genre or "-"
            genre = genre if len(genre) <= width else genre[: width - 1] + "…"
            out.say(f"{genre:<{width}} {conf}  {status[t.id]:<{status_width}} {t.path}")
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
        return f"no track matches {args.search!r}"
    if args.genre:
        return f"no track is confidently {args.genre} (list --counts shows the genres)"
    if args.no_genre:
        return "every track has a genre"
    return "no track is present: the library's files are missing (moved, or on a drive not mounted); scan their folder"


NO_TRACKS_YET = "no tracks yet: scan a folder first (genre-tagger scan ~/Music)"


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
    with sessions() as s:
        track = queries.track_of_file(s, str(Path(args.file).expanduser().absolute()))
        if track is None:
            raise GenreTaggerError(args.file, Library(sessions).why_not_here(args.file))
        analyses = list(s.scalars(select(Analysis).where(Analysis.track_id == track.id)))
        out.data = dict(track_dict(track), analyses=[
            {"model": a.model_key, "status": a.status, "top": a.top_genre, "confidence": a.confidence,
             "probabilities": dict(zip(a.labels, a.probabilities, strict=False)), "window_starts": a.window_starts,
             "window_probabilities": a.window_probabilities} for a in analyses])
        for k, v in track_dict(track).items():
            shown = ("-" if v in (None, "") or v is False else "yes" if v is True
                     else sureness(v, 3) if isinstance(v, float) else v)  # not 0.43240758776664734
            out.say(f"{k:>12}: {shown}")
        if track.missing:  # kept with its history: a moved file, a drive not mounted, a folder left out or removed
            out.data["missing"] = True
            left_out = left_out_reason(track.path, Library(sessions).left_out())
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
            say_windows(out, track, a, labels, in_use, as_json)
    return EXIT_OK


def say_windows(out: Output, track, analysis, labels: list[str], in_use: Callable, as_json: dict) -> None:
    """An analysis's top genre window by window; heard again with the model in use where the analysis keeps
    none (`learn` re-predicts from stored embeddings), and then put in `as_json` (its JSON) too."""
    from desktop.services.classify import hear_again

    starts, probabilities, how = analysis.window_starts, analysis.window_probabilities, ""
    if not probabilities and analysis.probabilities and not track.missing:
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


def say_bars(out: Output, ranked: list[tuple[str, float]], width: int) -> None:
    """Each genre's probability and a bar, in the order given (most likely first), names padded to `width`."""
    for label, p in ranked:
        out.say(f"   {label:<{width}} {sureness(p, 3)} {'#' * int(p * 40)}")


def say_window_tops(out: Output, starts: list[float], probabilities: list[list[float]], labels: list[str]) -> None:
    """Each window's start and its most likely genre with its probability (show and classify alike)."""
    for start, row in zip(starts, probabilities, strict=True):
        top = max(range(len(row)), key=row.__getitem__)
        out.say(f"   {start:7.1f} s  {labels[top]} {sureness(row[top])}")


def say_what_it_teaches(out: Output, s, track, spellings: dict[str, str]) -> None:
    """The genre a track gives `learn` (its correction, its tag, its genre folder) and whence; or why none."""
    from desktop.services.labels import LABEL_SOURCES, what_it_teaches

    teaches = what_it_teaches(s, track, spellings)
    out.data["teaches"] = {"genre": teaches.genre, "source": teaches.source} if teaches.genre else None
    out.say(f"  learned as: {teaches.genre} (from {LABEL_SOURCES[teaches.source]})" if teaches.genre
            else f"  learned as: - ({teaches.why_none})")


def say_recovery(out: Output, report) -> None:
    """Tell what a crash left half-done and how it was settled."""
    for path in report.completed:
        out.warn(f"recovered: {path}: an interrupted write had finished; it is journalled and can be undone")
    for path in report.dropped:
        out.warn(f"recovered: {path}: an interrupted write never changed the file")
    for path, reason in report.unclear:
        out.warn(f"recovered: {path}: an interrupted write left it changed by someone else ({reason}); undo will refuse it")


def say_skipped_and_failed(out: Output, result) -> None:
    """The files a write batch left alone (on stdout) and those that failed (on stderr)."""
    for path, reason in result.skipped:
        out.say(f"skipped {path}: {reason}")
    for path, reason in result.failed:
        out.warn(f"error: {path}: {reason}")


@contextlib.contextmanager
def stop_on_interrupt(out: Output, stopping: str = "stopping after the file in hand"):
    """Ctrl+C during a write or an undo stops it after the file in hand (the flag yielded); twice, at once.
    `stopping`: what the first Ctrl+C says (a learn stops at its next step)."""
    stop = threading.Event()

    def interrupted(_signum, _frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        out.warn(f"\n{stopping} (Ctrl+C again to stop at once)")

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


WRITE_LEFT = "left as they were (undo takes back what was written)"


def say_stopped(out: Output, left: int, what: str) -> int:
    """After a write or an undo stopped by Ctrl+C: what was left; exit code 130 (0 when it ran to the end)."""
    if not left:
        return EXIT_OK
    out.warn(f"stopped: {count(left, 'file')} {what}")
    return EXIT_CANCELLED


def print_write(out: Output, result) -> int:
    """Report a WriteResult; exit code 1 when any file failed."""
    for c in result.written:
        out.say(f"wrote {c.path}: {join_genres(c.old) or '(none)'} -> {join_genres(c.new)}")
    say_skipped_and_failed(out, result)
    out.data = {"batch": result.batch_id, "written": [c.path for c in result.written],
                "skipped": [{"path": p, "reason": r} for p, r in result.skipped],
                "failed": [{"path": p, "reason": r} for p, r in result.failed]}
    out.data["left"] = [c.path for c in result.left]
    if say_stopped(out, len(result.left), WRITE_LEFT):
        return EXIT_CANCELLED
    return EXIT_PARTIAL if result.failed else EXIT_OK


def cmd_set(args, out: Output) -> int:
    """Set a genre by hand on files or folders: recorded, written (unless --no-write), protected."""
    from desktop.core.genre_names import typed_genres
    from desktop.services.library import Library
    from desktop.services.tagging import TagService

    settings = TaggingSettings(id3_version=id3_version(args))
    sessions = open_sessions(args)
    files, problems = files_to_set(args.paths)
    report = Library(sessions, settings.tag_options()).sync_files(files)
    # A file whose audio an earlier scan could not decode (a copy-protected .m4p, a download cut short) still takes
    # a genre set by hand: its tags were read. `set` refused it, with exit 2.
    problems += [p for p in report.problems if not p.analysis_only]
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
    return EXIT_PARTIAL if problems else code


def cmd_forget(args, out: Output) -> int:
    """Forget the genres set by hand on files or folders; the files are not changed."""
    from desktop.core.scan import left_out_reason
    from desktop.services.library import Library
    from desktop.services.tagging import TagService

    files, problems = files_to_set(args.paths)
    for p in problems:
        out.warn(f"warning: {p.path}: {p.reason}")
    sessions = open_sessions(args)
    forgotten, unknown = TagService(sessions).forget_corrections(files)
    library = Library(sessions)
    if unknown and len(unknown) == len(files):
        raise GenreTaggerError(unknown[0], library.why_not_here(unknown[0]))
    left_out = library.left_out() if unknown else []  # read once, not once per file
    for path in unknown:
        out.warn(f"warning: {path}: {left_out_reason(path, left_out) or 'not in the library'}; nothing to forget")
    for path in forgotten:
        out.say(f"{path}: the genre set by hand is forgotten; its predicted genre shows again (the file is unchanged)")
    if not forgotten:
        out.note("no genre set by hand on " + (files[0] if len(files) == 1 else count(len(files), "file")) + "; nothing to forget")
    out.data = {"forgotten": forgotten, "not_in_library": unknown}
    return EXIT_PARTIAL if problems or unknown else EXIT_OK


def files_to_set(paths: list[str]) -> tuple[list[str], list]:
    """Absolute paths of the files named and of the music files in the folders named; problems on the way."""
    from desktop.core.scan import ScanProblem, walk_music

    files, problems = [], []
    for given in paths:
        path = Path(given).expanduser().absolute()
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

    service = TagService(open_sessions(args, out if args.list else None))  # listing only reads
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


def cmd_playlist(args, out: Output) -> int:
    """Write an M3U8 playlist of one genre, or one of every genre to a folder."""
    from desktop.services.playlists import write_m3u8
    from desktop.store import queries

    if args.all == bool(args.genre):
        raise GenreTaggerError(None, "name a genre, or --all for every genre (not both)")
    if args.all:
        return playlists_of_every_genre(args, out)
    with open_sessions(args, out)() as s:
        tracks = queries.tracks_by_genre(s, args.genre, threshold=args.threshold)
    if not tracks:
        raise GenreTaggerError(None, f"no tracks with genre {args.genre!r} (`genre-tagger list --counts` shows the library's genres)")
    path, skipped = write_m3u8(tracks, args.output, force=args.force)
    for p in skipped:
        out.warn(f"left out: {p}: its name holds a line break or control character, which a playlist line cannot")
    out.say(f"wrote {count(len(tracks) - len(skipped), 'track')} to {path}")
    out.data = {"playlist": str(path), "tracks": len(tracks) - len(skipped), "left_out": skipped}
    return EXIT_PARTIAL if skipped else EXIT_OK


def playlists_of_every_genre(args, out: Output) -> int:
    """`playlist --all -o FOLDER`: each genre's playlist in the folder."""
    from desktop.services.playlists import write_genre_playlists

    with stop_on_interrupt(out) as stop:
        written = write_genre_playlists(open_sessions(args, out), args.output, args.threshold, args.force, stop)
    for entry in written:
        if entry.error:
            out.warn(f"error: {entry.path}: {entry.error}")
        for p in entry.left_out:
            out.warn(f"left out of {entry.path.name}: {p}: its name holds a line break or control character")
    made = [e for e in written if not e.error]
    for entry in made:
        out.say(f"{entry.path.name}: {count(entry.tracks, 'track')}")
    folder = Path(args.output).expanduser().absolute()
    out.say(f"wrote {count(len(made), 'playlist')} to {folder}")
    out.data = {"folder": str(folder), "playlists": [{"genre": e.genre, "playlist": str(e.path), "tracks": e.tracks,
                                                      "left_out": e.left_out, "error": e.error} for e in written]}
    if stop.is_set():
        out.warn("cancelled; the playlists written so far are kept")
        return EXIT_CANCELLED
    return EXIT_PARTIAL if any(e.error or e.left_out for e in written) else EXIT_OK


def measured_on(metrics: dict) -> str:
    """What a model's test figure was measured on, as its metadata says ('' when it does not)."""
    parts = [f"{metrics['tracks']} tracks" if "tracks" in metrics else "", str(metrics.get("evaluation") or metrics.get("split") or "")]
    parts = [p for p in parts if p]
    return f" (on {', '.join(parts)})" if parts else ""


def cmd_models(args, out: Output) -> int:
    """List the models the app can use."""
    from desktop.core.model import read_model_info
    from desktop.services.models import model_files

    rows = []
    for path in model_files():
        try:
            info = read_model_info(path)
            rows.append({"path": str(path), "name": info.name, "version": info.version, "labels": list(info.labels),
                         "accuracy": info.metrics.get("accuracy"), "trained_on": info.trained_on})
            out.say(f"{path}\n   {info.key}, {len(info.labels)} genres, trained on {info.trained_on or '?'}"
                    + (f", test accuracy {info.metrics['accuracy']:.3f}{measured_on(info.metrics)}" if "accuracy" in info.metrics else ""))
        except GenreTaggerError as exc:
            rows.append({"path": str(path), "error": exc.reason})
            out.warn(f"error: {exc}")
    if not rows:
        out.say("no models found; pass --model FILE to scan")
    out.data = {"models": rows}
    # a model folder with a file that is not a usable model is a listing that finished with a problem
    return EXIT_PARTIAL if any("error" in row for row in rows) else EXIT_OK


def say_mix_ups(out: Output, mix_ups: list) -> None:
    """The genres learn told apart least from another (library_head.MixUp), and what helps: more labels, or a merge."""
    if not mix_ups:
        return
    out.say("told apart least: " + ", ".join(f"{m.genre} ({m.taken} of its {m.tracks} tracks taken for {m.taken_for})"
                                             for m in mix_ups))
    # No merge named: Disco taken for Pop wants more labels, and only the listener knows whether one is part of the other.
    out.say("  more of their tracks tagged or corrected teach them apart; where one is part of the other to you, merge "
            "it into the other (genre-tagger genres --merge GENRE INTO)")


def cmd_learn(args, out: Output) -> int:
    """Learn the library's own genres from its tags and corrections."""
    from desktop.services.album_genres import album_genres_on
    from desktop.services.learning import LearnCancelled, LearnSettings, learn
    from desktop.services.models import resolve_model, user_models_dir

    settings = LearnSettings(args.min_tracks, args.min_artists, args.folds)
    sessions = open_sessions(args)
    # Ctrl+C stops it at its next step with nothing changed, as the window's Cancel does; a second, at once.
    with stop_on_interrupt(out, "stopping at the learn's next step, before it changes anything") as stop:
        try:
            report = learn(sessions, resolve_model(args.base or args.model), user_models_dir(), settings,
                           activate=args.activate, stage=out.stage, cancel=stop)
        except LearnCancelled as exc:
            out.warn(str(exc))
            return EXIT_CANCELLED
    est = report.estimate
    out.say(report.summary() + f"; their genres {report.where_from()}.")
    out.say(f"{'genre':<24} {'tracks':>6} {'precision':>9} {'recall':>6} {'F1':>5}  most often taken for")
    for name, f in est.per_genre.items():
        taken = f"{f['taken_for']} ({f['taken_for_tracks']})" if f["taken_for"] else "-"
        out.say(f"{name:<24} {f['tracks']:>6} {f['precision']:>9.2f} {f['recall']:>6.2f} {f['f1']:>5.2f}  {taken}")
    out.say(f"overall: accuracy {est.accuracy:.3f}, balanced {est.balanced_accuracy:.3f} "
            f"({est.folds}-fold cross-validation grouped by {est.grouped_by})")
    mix_ups = report.mix_ups()
    say_mix_ups(out, mix_ups)
    if report.base_accuracy is not None:
        out.say(f"the shipped model on the {report.base_tracks} of these tracks whose genre it knows: {report.base_accuracy:.3f}")
    if report.album_accuracy is not None:
        out.say(f"with one genre per album (`genres --per-album on`; {report.album_tracks:,} of these tracks share an "
                f"album): {report.album_accuracy:.3f}")
        with sessions() as s:
            if report.albums_help and not album_genres_on(s):
                out.say(f"one genre per album gets {(report.album_accuracy - est.accuracy) * 100:.0f} in 100 more of them right: "
                        "`genre-tagger genres --per-album on` turns it on for this library")
    for name, why in report.skipped:
        out.say(f"skipped {name}: {why}")
    out.say(f"saved {report.model_path}")
    if report.activated:
        out.say(f"it is now the active model ({report.why}); {count(report.repredicted, 'track')} re-predicted from their stored embeddings")
    else:
        out.say(f"not made active: {report.why} (`genre-tagger learn --activate` uses the learned one anyway)")
    out.data = {"genres": report.genres, "tracks": report.tracks, "accuracy": est.accuracy,
                "balanced_accuracy": est.balanced_accuracy, "per_genre": est.per_genre, "folds": est.folds,
                "grouped_by": est.grouped_by, "base_accuracy": report.base_accuracy, "base_tracks": report.base_tracks,
                "album_accuracy": report.album_accuracy, "album_tracks": report.album_tracks, "albums_help": report.albums_help,
                "skipped": [{"genre": g, "why": w} for g, w in report.skipped], "model": str(report.model_path),
                "active": report.activated, "why": report.why, "repredicted": report.repredicted,
                "seconds": round(report.seconds, 2), "sources": report.sources,
                "told_apart_least": [{"genre": m.genre, "taken_for": m.taken_for, "tracks_taken": m.taken, "tracks": m.tracks}
                                     for m in mix_ups]}
    say_unnamed_folders(out, report.unnamed)  # learned from genre folders: those it could not learn from, and why
    return EXIT_OK


def cmd_map(args, out: Output) -> int:
    """Draw the library's embeddings as a 2-D map (PNG or HTML)."""
    from desktop.services.library_map import compute_map
    from desktop.services.map_image import render_html, render_png

    width, height = args.size
    library_map = compute_map(open_sessions(args, out), args.threshold)
    if not len(library_map):
        raise GenreTaggerError(None, "no analysed tracks to draw; scan a folder first")
    target = Path(args.output)
    if args.html or target.suffix.lower() in (".html", ".htm"):
        path = render_html(library_map, target, force=args.force, any_name=args.html)
    else:
        path = render_png(library_map, target, width, height, by_file_genre=args.by_file_genre, force=args.force)
    out.say(f"drew {count(len(library_map), 'track')} ({library_map.method.upper()} layout) to {path}")
    out.data = {"map": str(path), "tracks": len(library_map), "layout": library_map.method, "genres": library_map.genres()}
    return EXIT_OK


def cmd_classify(args, out: Output) -> int:
    """Classify one recording outside the library (a file, or WAV on standard input)."""
    from desktop.core.genre_names import shown_genre
    from desktop.core.model import GenreModel
    from desktop.services.classify import classify_file, classify_wav_bytes
    from desktop.services.learning import active_model
    from desktop.services.models import resolve_model
    from desktop.store import queries

    sessions = open_sessions(args, out, incidental=True)  # only for its spellings and learned model, if any
    active = active_model(sessions) if not args.model else None
    model = GenreModel(resolve_model(args.model, active), device=args.device)
    with sessions() as s:
        spellings = queries.library_spellings(s)
    if args.file == "-":
        result = classify_wav_bytes(model, sys.stdin.buffer.read())
    else:
        result = classify_file(model, args.file)
    if result.top_genre is None:  # "no music: silent", but not "error: error: ..."
        raise GenreTaggerError(args.file, result.error if result.status == ERROR else f"{status_words(result.status)}: {result.error}")
    labels = [shown_genre(label, spellings) for label in model.info.labels]  # as the library shows and writes them
    ranked = sorted(zip(labels, result.probabilities.tolist(), strict=True), key=lambda x: -x[1])
    genre = shown_genre(result.top_genre, spellings)
    out.say(f"{args.file}: {genre} ({sureness(result.confidence)}, {status_words(result.status)}) with {model.info.key}")
    if result.note:
        out.warn(f"warning: {args.file}: {result.note}")
    say_bars(out, ranked, 16)
    say_window_tops(out, result.window_starts, result.window_probabilities.tolist(), labels)
    out.data = {"file": args.file, "genre": genre, "confidence": result.confidence, "status": result.status,
                "note": result.note, "model": model.info.key, "probabilities": dict(ranked),
                "windows": [{"start": s, "probabilities": dict(zip(labels, p, strict=True))}
                            for s, p in zip(result.window_starts, result.window_probabilities.tolist(), strict=True)]}
    return EXIT_OK


def cmd_genres(args, out: Output) -> int:
    """List the library's genres and their sources; merge one into another, or turn a library setting on or off."""
    from collections import Counter

    from desktop.core.genre_names import clean_name, genre_key
    from desktop.services.album_genres import album_genres_on, set_album_genres
    from desktop.services.labels import gather_labels, genre_folders_on, unnamed_folders
    from desktop.services.learning import (
        FOLDERS_COMMAND,
        LearnSettings,
        genre_folders_hint,
        genre_in_library,
        merge_and_rename,
        merges_in_effect,
        set_folder_genres,
        set_genre_folders,
    )
    from desktop.store import queries

    sessions = open_sessions(args, None if args.merge or args.per_album or args.folder_names else out)  # these write
    changed = None
    if args.per_album:
        changed = set_album_genres(sessions, args.per_album == "on")
        out.say(f"one genre per album: {args.per_album} ({count(changed, 'track')} changed; remembered for later scans)")
    if args.folder_names:
        change = set_genre_folders(sessions, args.folder_names == "on")
        out.say(f"learning from genre folders' names: {args.folder_names}"
                + (f" ({count(change.foldered, 'track')} with no genre of its own take their folder's; run `genre-tagger "
                   "learn` to learn from them)" if args.folder_names == "on" else
                   " (nothing else in the library teaches two genres: the model learned set aside, the shipped model's "
                   "genres are back)" if change.set_aside else " (run `genre-tagger learn` to relearn)"))
    for names, on in ((args.folder_genre, True), (args.not_folder_genre, False)):
        if names:
            folder_change = set_folder_genres(sessions, names, on)
            with sessions() as s:
                later = "" if genre_folders_on(s) else ", once `genre-tagger genres --folder-names on`"
            if already := folder_change.known_already:
                out.say(f"{', '.join(already)}: a genre already (folders so named teach it{later})")
                names = [n for n in names if n not in already]
            if names:
                out.say(f"folders named {', '.join(names)} " + (("now teach that genre" if len(names) == 1 else
                                                                  "now teach those genres") + later if on else
                                                                 "teach no genre now")
                        + f" (folder genres: {', '.join(folder_change.kept) or 'none'}; run `genre-tagger learn` to "
                          "relearn)")
    if args.merge:
        with sessions() as s:
            known = genre_in_library(s, args.merge[0])
        renamed = merge_and_rename(sessions, *args.merge)  # first: a name that is no genre is an error, not a warning
        if not known:  # most likely a misspelling; a merge for genres still to come is allowed
            out.warn(f"warning: no track has the genre {args.merge[0]!r}; remembered for tracks tagged so later "
                     f"(`genre-tagger genres` lists the library's genres)")
        source, target = (clean_name(name) or name for name in args.merge)  # as remembered: "Hip\nHop" is "Hip Hop"
        if genre_key(source) != genre_key(target):
            done = f"{source} is now {target}"
        else:  # the same genre: a merge into another taken back, in the spelling given
            done = f"{target} is its own genre again" if source == target else f"{source} is now spelled {target}"
        out.say(f"{done} ({count(renamed, 'track')} shown so; remembered; run `genre-tagger learn` to relearn)")
    with sessions() as s:  # what the listing shows, read at once
        labels, display = gather_labels(s)
        merged = merges_in_effect(s)
        per_album, folder_names = album_genres_on(s), genre_folders_on(s)
        counted = queries.meta_folder_list(s, queries.FOLDER_GENRES)
        unnamed = unnamed_folders(s) if folder_names else None
        has_tracks = queries.has_tracks(s)
        folders_hint = has_tracks and not labels and genre_folders_hint(s, LearnSettings(), FOLDERS_COMMAND)
    by = {source: Counter(lab.key for lab in labels if lab.source == source) for source in ("tag", "correction", "folder")}
    tags, fixes, filed = by["tag"], by["correction"], by["folder"]
    rows = sorted(display, key=lambda k: -(tags[k] + fixes[k] + filed[k]))
    out.data = {"genres": [{"genre": display[k], "tagged": tags[k], "corrected": fixes[k], "by_folder": filed[k]} for k in rows],
                "merges": [{"genre": source, "into": target} for source, target in merged], "per_album": per_album,
                "folder_names": folder_names, **({} if changed is None else {"per_album_changed": changed})}
    for k in rows:
        out.say(f"{tags[k] + fixes[k] + filed[k]:6d}  {display[k]}  ({tags[k]} tagged, {fixes[k]} corrected"
                + (f", {filed[k]} by folder name)" if folder_names else ")"))
    for source, target in merged:  # what a merge hid from the list above, and how to take it back
        out.say(f"merged: {source} counts as {target}  (undo: genre-tagger genres --merge {shlex.quote(source)} {shlex.quote(source)})")
    if per_album and not args.per_album:
        out.say("one genre per album: on (`genre-tagger genres --per-album off` gives each track its own)")
    out.data["folder_genres"] = counted
    if counted and not (args.folder_genre or args.not_folder_genre):  # said above when just changed
        out.say(f"folder genres: {', '.join(counted)} (folders so named teach them"
                + ("" if folder_names else ", once `genre-tagger genres --folder-names on`")
                + "; `genre-tagger genres --not-folder-genre NAME` takes one back)")
    if unnamed is not None:
        say_unnamed_folders(out, unnamed)
    if not rows:
        out.note(NO_TRACKS_YET if not has_tracks else "no genres yet: no file has a genre tag and nothing was corrected"
                 + (f"; {folders_hint}" if folders_hint else " (genre-tagger set FILE GENRE)"))
    return EXIT_OK


def say_unnamed_folders(out: Output, unnamed: dict[str, int]) -> None:
    """Where the library learns from its genre folders: the folders holding tracks with no genre of their own that
    name no genre (`unnamed`, labels.unnamed_folders: "Schlager", which no list names), and how to count one."""
    from desktop.services.labels import unnamed_listed

    out.data["unnamed_folders"] = unnamed
    if unnamed:
        out.say(f"folders named for no genre: {unnamed_listed(unnamed)}; "
                "`genre-tagger genres --folder-genre NAME` learns folders so named as a genre")


def cmd_folders(args, out: Output) -> int:
    """List the library's folders, those left out and those that look like spoken word; leave folders out, take them
    back, keep them as music, or have them asked about again."""
    from desktop.core.scan import left_out_holder
    from desktop.services.library import Library

    changing = args.leave_out or args.take_back or args.keep or args.ask_again
    library = Library(open_sessions(args, None if changing else out))
    done = {}
    asked = [str(Path(f).expanduser().absolute()) for f in (changing or [])]
    before = library.left_out()
    if args.leave_out:
        for folder in asked:  # each checked first: a typo in the third leaves none out, not two
            if folder not in before and not os.path.isdir(folder):
                return fail(out, args, f"{folder}: {'not a folder' if os.path.exists(folder) else 'no such folder'}")
        done = {"left_out_now": [], "tracks_out": 0}
        for folder in asked:
            change = library.leave_out(folder)
            done["left_out_now"] += change.left_out
            done["tracks_out"] += change.tracks
            if change.left_out:
                out.say(f"left out: {folder} ({count(change.tracks, 'track')} out of the library, corrections kept; "
                        f"`genre-tagger folders --take-back {shlex.quote(folder)}` brings them back)")
            else:
                holder = str(left_out_holder(folder, library.left_out()))
                out.say(f"{folder} was already left out" + ("" if holder == folder else f" (it is in {holder}, which is)"))
    if args.take_back:
        if not_left_out := [f for f in asked if f not in before]:
            return fail(out, args, f"{not_left_out[0]}: not left out ("
                                   + (f"the folders left out: {', '.join(before)})" if before else "no folder is)"))
        for folder in asked:
            library.take_back(folder)
            out.say(f"taken back: {folder} (the next scan brings its tracks back: `genre-tagger scan`)")
        done = {"taken_back": asked}
    if args.keep:
        library.keep_as_music(asked)  # each checked before any is kept
        for folder in asked:
            out.say(f"kept as music: {folder} (scans stop asking whether it is spoken word)")
        done = {"kept_now": asked}
    if args.ask_again:
        kept = library.kept_as_music()
        if not_kept := [f for f in asked if f not in kept]:  # each checked first, as --take-back
            return fail(out, args, f"{not_kept[0]}: not kept as music ("
                                   + (f"the folders kept: {', '.join(kept)})" if kept else "no folder is)"))
        library.ask_again(asked)
        for folder in asked:
            out.say(f"asked about again: {folder} (scans name it while it looks like spoken word)")
        done = {"asked_again": asked}
    folders, left_out = library.recorded_folders(), library.left_out()
    tracks = {folder: library.tracks_under(folder) for folder in folders}
    kept = {folder: library.tracks_under(folder, missing=True) for folder in left_out}
    spoken = library.spoken_word()
    out.data = {"folders": folders, "left_out": left_out, "tracks": tracks, "left_out_tracks": kept,
                "spoken_word": [vars(f) for f in spoken], "kept_as_music": library.kept_as_music(), **done}
    for folder in folders:
        out.say(f"music folder: {folder}  ({count(tracks[folder], 'track')}"
                + (")" if os.path.isdir(folder) else "; not there now)"))
    for folder in left_out:
        out.say(f"left out:     {folder}  ({count(kept[folder], 'track')} kept out of view, with their corrections)")
    for folder in out.data["kept_as_music"]:
        out.say(f"kept as music: {folder}  (not asked about as spoken word: `--ask-again` asks again)")
    say_spoken_word(out, spoken, [], False, shown=None)
    if not folders and not left_out:
        out.note("no music folders yet: `genre-tagger scan ~/Music` scans one and remembers it")
    return EXIT_OK


COMMANDS = {"scan": cmd_scan, "list": cmd_list, "show": cmd_show, "set": cmd_set, "forget": cmd_forget, "undo": cmd_undo,
            "playlist": cmd_playlist, "models": cmd_models, "learn": cmd_learn, "genres": cmd_genres,
            "classify": cmd_classify, "map": cmd_map, "folders": cmd_folders}


def fail(out: Output, args, message: str) -> int:
    """Report a command's failure (also as JSON when asked); exit code 2."""
    out.warn(f"error: {message}")
    if args.json:
        print(json.dumps({"error": terminal_safe(message)}))
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    from desktop.core.standard_streams import ensure_standard_streams

    ensure_standard_streams()
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # a bare `genre-tagger`: what it can do, not a usage error
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    args = parser.parse_args(argv)
    from desktop.core.logs import setup_logging
    from desktop.core.paths import log_dir

    setup_logging(log_dir())
    out = Output(args.json)
    try:
        code = COMMANDS[args.command](args, out)
        out.finish()
    except (GenreTaggerError, ValueError) as exc:
        return fail(out, args, str(exc))
    except SQLAlchemyError as exc:  # the database failed under us: disk full, a malformed page, ...
        from desktop.core.paths import database_file
        from desktop.store.database import copy_hint, describe_database_error

        db, words = database_file(args.db), describe_database_error(exc)
        hint = copy_hint(db) if "malformed" in words else ""  # damaged, not merely full or locked
        return fail(out, args, f"{db}: database error ({words}){hint}")
    except KeyboardInterrupt:
        out.warn("cancelled")
        return EXIT_CANCELLED
    except BrokenPipeError:
        # The reader went away (`show FILE | head`): stop quietly, and keep Python's exit flush quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug of ours: a message and the log, never a traceback on the listener's screen
        import logging

        logging.getLogger("desktop.cli").exception("internal error in %s", args.command)
        return fail(out, args, f"internal error in {args.command} ({type(exc).__name__}: {exc}); "
                               f"the details are in the log ({log_dir()}); please report it")
    return code


if __name__ == "__main__":
    sys.exit(main())
