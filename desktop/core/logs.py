"""Logging to a rotating file in the user log folder (and warnings to stderr)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FILE = "genre-tagger.log"
MAX_BYTES = 1_000_000  # rotate at 1 MB, keep 5 old files: a few MB at most, ever
BACKUPS = 5


def setup_logging(folder: Path, level: int = logging.INFO) -> Path | None:
    """Attach a rotating file handler once; returns the log file, or None when the folder is not writable."""
    root = logging.getLogger()
    path = Path(folder) / LOG_FILE
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == path:
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as exc:
        # A read-only home must not stop the app; the reason still reaches stderr.
        logging.getLogger(__name__).warning("no log file in %s: %s", folder, exc)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:  # never silence what another handler asked for
        root.setLevel(level)
    return path
