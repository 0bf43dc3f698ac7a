"""Give a process started without stdin, stdout or stderr harmless ones before it opens any file, and
output streams that never fail on a character the terminal's encoding lacks."""

from __future__ import annotations

import os
import sys

_STREAMS = ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w"))


def ensure_standard_streams() -> None:
    """Point missing fds 0-2 at the null device and give Python a stream for each (call first in main)."""
    # Started with `2>&-` (cron, some launchers) or windowless, fd 2 is free: the next file opened would
    # take its number, and every line a native library prints to stderr would land in that file (the
    # library database, a track being tagged). sys.stderr is then None, and writing to it failed.
    for fd, name, mode in _STREAMS:
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, closefd=False, encoding="utf-8", errors="backslashreplace"))
        elif mode == "w" and callable(getattr(getattr(sys, name), "reconfigure", None)):
            # A terminal in Latin-1 or ASCII (LANG=C on old systems, PYTHONIOENCODING) cannot show every file
            # name; printing one ended the command with exit 2 after its work was done. Escape instead.
            getattr(sys, name).reconfigure(errors="backslashreplace")
