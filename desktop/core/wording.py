"""Counts in words: '1 file', '3 files', '12,000 tracks'."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and its noun, singular for one ('1 file would change', not '1 files')."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
