"""How the CLI speaks: lines for people or JSON for scripts, its exit codes, and the sayings commands share."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
import threading
import time

from desktop.core.errors import GenreTaggerError
from desktop.core.genres import join_genres
from desktop.core.progress_text import scan_progress, walk_progress
from desktop.core.wording import count, padded, sureness

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR, EXIT_CANCELLED = 0, 1, 2, 130


# Control characters from tags and file names (ESC starts terminal escape sequences), line breaks and tabs too: a file
# named with a line break split its line of `list` in two. A message of several lines says each on its own.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Text with control characters shown as '?' and undecodable name bytes as \\xNN, safe to print."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return CONTROL.sub("?", text)


class OutputError(Exception):
    """Standard output refused what a command printed (a disk that filled under `list > file`; /dev/full). Not a
    GenreTaggerError: a loop that reports a file's failure and goes on must not take it for that file's."""


@contextlib.contextmanager
def _refusals_as_output_error():
    """Standard output's refusal inside as an OutputError (a reader gone stays a BrokenPipeError, on which `main`
    ends quietly)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"standard output: cannot write ({exc.strerror or exc})") from exc


def print_out(text: str, flush: bool = False) -> None:
    """Print a line on standard output; OutputError where the system refuses it."""
    with _refusals_as_output_error():
        print(text, flush=flush)


def flush_out() -> None:
    """Hand what is printed but still buffered to standard output, OutputError where it is refused (at the exit of
    the process it was a traceback, or "Exception ignored")."""
    with _refusals_as_output_error():
        sys.stdout.flush()


def quiet_stdout() -> None:
    """Send what standard output still holds to nothing: its reader is gone, or it refuses more, and Python's own
    flush at exit would say so in a traceback."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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
            print_out(terminal_safe(text))

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
            print_out(json.dumps(self.data, indent=2, default=str))

    def emit(self) -> None:
        """Print the JSON collected so far as one line and start afresh (`scan --watch`: a line per scan)."""
        if self.as_json and self.data is not None:
            print_out(json.dumps(self.data, default=str), flush=True)
        self.data = None


def open_sessions(args, out: Output | None = None, incidental: bool = False):
    """The database named by --db / $GENRE_TAGGER_DB / the user data folder. With `out` (commands that only
    read), a library on read-only media is opened for reading, and none is created where there is none (an empty
    one is read instead); `out` says so, unless the library is `incidental` to the command (classify)."""
    from desktop.core.paths import database_file
    from desktop.store.database import NoLibraryYet, is_read_only, open_database, read_only_why

    path = database_file(args.db)
    try:
        sessions = open_database(path, read_only=out is not None, create=out is None)
    except NoLibraryYet:  # a mistyped --db: said, and nothing made there (it made the folder, a library and its copy)
        if not incidental:
            out.warn(f"note: {path}: no library there yet (nothing was created)")
        return open_database(":memory:")  # read as the empty library it is
    if out is not None and is_read_only(sessions):
        out.warn(f"note: {path} cannot be written {read_only_why(sessions)[0]}; read as it is")
    return sessions


NO_TRACKS_YET = "no tracks yet: scan a folder first (genre-tagger scan ~/Music)"


def say_bars(out: Output, ranked: list[tuple[str, float]], width: int) -> None:
    """Each genre's probability and a bar, in the order given (most likely first), names padded to `width`."""
    for label, p in ranked:
        out.say(f"   {padded(label, width)} {sureness(p, 3)} {'#' * int(p * 40)}")


def say_window_tops(out: Output, starts: list[float], probabilities: list[list[float]], labels: list[str]) -> None:
    """Each window's start and its most likely genre with its probability (show and classify alike)."""
    for start, row in zip(starts, probabilities, strict=True):
        top = max(range(len(row)), key=row.__getitem__)
        out.say(f"   {start:7.1f} s  {labels[top]} {sureness(row[top])}")


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
        out.warn("")  # off the line the terminal's ^C is on
        out.warn(f"{stopping} (Ctrl+C again to stop at once)")

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


def fail(out: Output, args, message: str, named: GenreTaggerError | None = None) -> int:
    """Report a command's failure (also as JSON when asked, with the file and the reason apart where `named` names
    a file); exit code 2."""
    out.warn(f"error: {message}")
    if args.json:
        said = {"error": terminal_safe(message)}
        if named is not None and named.path is not None:  # a script need not split "PATH: REASON" at a colon
            said.update(path=str(named.path), reason=named.reason)
        with contextlib.suppress(OutputError):  # standard output refusing was the failure: stderr has said it
            print_out(json.dumps(said))
    return EXIT_ERROR
