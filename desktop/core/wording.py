"""Counts and sureness in words: '1 file', '3 files', '12,000 tracks'; '0.49', '49%'; long names cut for a listing."""

from __future__ import annotations

import functools
import math
import unicodedata


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and its noun, singular for one ('1 file would change', not '1 files')."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


# Characters of a genre's name a listing shows: a corrupt tag of 200,000 characters filled the terminal with one line of
# `genres`, and pushed the sidebar's counts out of sight.
LISTED_NAME = 60


def shortened(name: str, limit: int = LISTED_NAME) -> str:
    """A name as a listing shows it: whole up to `limit` characters, else cut with an ellipsis ('Weirdxxxx…')."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


@functools.lru_cache(maxsize=4096)  # a listing pads the same few genres on every row
def columns(text: str) -> int:
    """The terminal columns `text` takes: a Chinese, Japanese or Korean letter (wide, full-width) two, a combining
    mark none, any other character one."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fitted(text: str, width: int) -> str:
    """`text` in exactly `width` terminal columns: cut with an ellipsis where it is wider, else padded with spaces
    (by characters, a column of "ロック" and "Rock" went out of line)."""
    if columns(text) > width:
        text = text[:width]  # a character takes a column at least (a combining mark aside): no more can fit
        while text and columns(text) > width - 1:
            text = text[:-1]
        text += "…"
    return padded(text, width)


def padded(text: str, width: int) -> str:
    """`text` and the spaces that make it `width` terminal columns wide (never cut)."""
    return text + " " * (width - columns(text))


def _cut(value: float, places: int) -> float:
    # Cut, not rounded: a confidence of 0.4998 under the threshold 0.5 is uncertain, and rounded it read
    # "0.50" or "50%", the threshold it did not reach. A shown figure is never more than the value.
    # The 1e-9 keeps 0.57 (0.56999999... in binary) at 0.57.
    scale = 10 ** places
    return math.floor(value * scale + 1e-9) / scale


def sureness(value: float, places: int = 2) -> str:
    """A probability with `places` decimals, cut rather than rounded ('0.49' for 0.4998)."""
    return f"{_cut(value, places):.{places}f}"


def percent(value: float) -> str:
    """A probability in whole percent, cut rather than rounded ('49%' for 0.4998)."""
    return f"{_cut(value, 2):.0%}"


def play_length(seconds: float) -> str:
    """How long a track plays, as players show it: '3:07', '1:02:05'; '' when unknown (0)."""
    if not seconds or seconds <= 0:
        return ""
    whole = int(seconds + 0.5)  # rounded, as players round it: 187.6 s is 3:08
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def album_place(track: int, disc: int, year: int) -> str:
    """Where a track is on its album and its year, as its tags say: 'disc 2, track 3, 2003'; '' where they say
    none (0)."""
    parts = [f"disc {disc}" if disc > 1 else "", f"track {track}" if track else "", str(year) if year else ""]
    return ", ".join(part for part in parts if part)
