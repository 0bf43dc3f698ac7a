"""Run in Python's UTF-8 mode whatever the locale says: file names are taken as UTF-8, as the library keeps them."""

from __future__ import annotations

import codecs
import os
import sys


def restart_in_utf8_mode() -> None:
    """Start this command again in UTF-8 mode (`python -X utf8`) when the locale gives file names another encoding.

    Under `LC_ALL=C` with `PYTHONUTF8=0` every name outside ASCII was refused as "not valid UTF-8"; under a Latin-1
    locale (`LANG=de_DE.ISO-8859-1`) names were read as Latin-1: shown garbled, and written so into playlists that
    then named no file. A bundled build is set to UTF-8 mode when built (packaging/genre-tagger.spec)."""
    if sys.flags.utf8_mode or os.name != "posix" or getattr(sys, "frozen", False) or not sys.executable:
        return
    if codecs.lookup(sys.getfilesystemencoding()).name == "utf-8":
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-X", "utf8", *sys.orig_argv[1:]])
