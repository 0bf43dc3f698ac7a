"""Keep a native decoder's chatter off the user's terminal while passing everything else on as it comes.

libsndfile decodes MP3 with a built-in libmpg123, which prints lines such as
`[src/libmpg123/layer3.c:INT123_do_layer3():1774] error: part2_3_length (3360) too large ...` to the
process's stderr on most seeks (the frame decoded before the target lacks its bit reservoir; the audio
returned is exact). libsndfile offers no way to set libmpg123's quiet flag, so while a decode runs,
file descriptor 2 is pointed at a pipe: a forwarding thread drops those lines (logged at debug) and
writes every other byte straight on to the real stderr, partial lines included (a progress bar's `\\r`
keeps moving). Only the C level is touched; nothing is buffered past the end of the decode.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

# Prefixes of the lines dropped: libmpg123's error/warning macros, and its plain notes on damaged
# streams ("Warning: Xing stream size off by more than 1%...", "Note: Illegal Audio-MPEG-Header...").
# Only lines printed while a decode runs are looked at.
CHATTER = (b"[src/libmpg123/", b"Warning: ", b"Note: ")
_DRAINED = b"\0genre-tagger: stderr drained\0"  # sent through the pipe to know everything before it went on
_DRAIN_WAIT_S = 5.0  # never hang a decode on a stuck terminal for longer than this


class _StderrFilter:
    """One per process: fd 2 goes through the pipe while at least one decode is inside `filtered()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0  # decodes inside, across threads
        self._pipe_in: int | None = None  # the pipe's write end (fd 2 points here while filtering)
        self._target: int | None = None  # a copy of the real stderr, taken when filtering starts
        self._drained = threading.Event()
        self._forwarder: threading.Thread | None = None

    @contextmanager
    def filtered(self) -> Iterator[None]:
        """Filter fd 2 for the duration; nested and concurrent uses share one redirection."""
        entered = self._enter()
        try:
            yield
        finally:
            if entered:
                self._leave()

    def _enter(self) -> bool:
        with self._lock:
            if self._depth == 0:
                try:
                    if not self._start_forwarder():
                        return False
                    target = os.dup(2)  # taken each time: a test harness or the app may have moved fd 2 since
                except OSError:  # no stderr at all (a windowless launch): nothing to protect
                    return False
                self._target = target
                os.dup2(self._pipe_in, 2)
            self._depth += 1
            return True

    def _leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth:
                return
            os.dup2(self._target, 2)  # new writes go straight to the terminal again
            # Everything written to the pipe before this point is forwarded before the copy is closed.
            self._drained.clear()
            try:
                os.write(self._pipe_in, _DRAINED + b"\n")
                drained = self._drained.wait(_DRAIN_WAIT_S)
            except OSError:
                drained = False
            target, self._target = self._target, None
            if drained:
                os.close(target)
            # else the forwarder may still be writing to it (a stuck terminal): the copy stays open, since
            # a closed number could be reused by a file the app opens next and receive stderr's bytes.

    def _start_forwarder(self) -> bool:
        """Start the forwarding thread once; False if it is not running (then nothing is redirected)."""
        if self._forwarder is None:
            pipe_out, self._pipe_in = os.pipe()
            self._forwarder = threading.Thread(target=self._forward, args=(pipe_out,), name="stderr-filter", daemon=True)
            self._forwarder.start()
        # A dead forwarder would leave writers to a full pipe blocked: never redirect into one.
        return self._forwarder.is_alive()

    def _forward(self, pipe_out: int) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(pipe_out, 65536)
            except OSError:
                return
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            out = []
            for line in lines:
                drained = line.endswith(_DRAINED)  # after a partial line, the mark shares its line
                if drained:
                    line = line[: -len(_DRAINED)]
                if line.startswith(CHATTER):
                    log.debug("decoder: %s", line.decode(errors="replace"))
                elif line or not drained:
                    out.append(line if drained else line + b"\n")
                if drained:
                    self._write(b"".join(out))
                    out = []
                    self._drained.set()
            if pending and not _may_become_dropped(pending):
                out.append(pending)  # a partial line of ours (a progress bar) is not held back
                pending = b""
            self._write(b"".join(out))

    def _write(self, data: bytes) -> None:
        target = self._target
        while data and target is not None:
            try:
                data = data[os.write(target, data):]
            except OSError:  # the terminal went away: drop it rather than block the decoders
                return


def _may_become_dropped(partial: bytes) -> bool:
    """True when a partial line may still turn out to be chatter or the drain mark."""
    return any(partial.startswith(p) or p.startswith(partial) for p in (*CHATTER, _DRAINED))


_FILTER = _StderrFilter()


def decoder_chatter_filtered():
    """Context manager: libmpg123's lines on stderr are dropped while a decode runs (see module doc)."""
    return _FILTER.filtered()
