"""Text padded to terminal columns: a genre table whose labels are Chinese, Japanese or Korean stays in line.

The app has the same rule (desktop.core.wording); the trainer keeps its own, as neither package imports the other.
"""

from __future__ import annotations

import unicodedata


def columns(text: str) -> int:
    """The terminal columns `text` takes: a wide (Chinese, Japanese, Korean) letter two, a combining mark none."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def padded(text: str, width: int) -> str:
    """`text` and the spaces that make it `width` terminal columns wide (never cut)."""
    return text + " " * (width - columns(text))
