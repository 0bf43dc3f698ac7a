"""Our own errors: each keeps the path it is about and a reason a listener can read."""

from __future__ import annotations

from pathlib import Path


class GenreTaggerError(Exception):
    """Base error: `path` (may be None) and `reason`."""

    def __init__(self, path: str | Path | None, reason: str):
        self.path = Path(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path is not None else reason)


def refused_file(exc: BaseException) -> str | None:
    """"FILE: the system's reason" for an OSError that names its file (a name too long, in a check not foreseen), as
    every face says one; None for any other error, which stays a bug of ours to report."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return None


# What a file of no bytes at all is called, whatever its format: each reader has its own words for it ("can't sync to
# MPEG frame", "no FLAC signature", "Invalid data found when processing input"), none of which says it is empty.
EMPTY_FILE = "empty file (0 bytes: a copy, download or sync that never started)"


# What a "music file" that is a web page says: a download that failed saves the server's error page under the
# song's name, and each reader's own words ("can't sync to MPEG frame") do not say so.
WEB_PAGE = "a web page, not audio (a download that failed saves the site's page under the song's name)"
WEB_PAGE_STARTS = (b"<!doctype html", b"<html", b"<head", b"<?xml")


def unless_empty(path: Path, reason: str) -> str:
    """`reason` for a file that failed to read, or what it plainly is instead of audio: EMPTY_FILE where it holds no
    bytes at all, WEB_PAGE where it is an HTML page."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return reason
    if not head:
        return EMPTY_FILE
    return WEB_PAGE if is_web_page(head) else reason


def is_web_page(head: bytes) -> bool:
    """Whether a file's first bytes are an HTML page's (a download that failed, saved under the file's name)."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(WEB_PAGE_STARTS)


class AudioDecodeError(GenreTaggerError):
    """Audio that cannot be opened or decoded."""


class DecoderMissing(AudioDecodeError):
    """A program that decodes the file (ffmpeg, ffprobe) is not installed: nothing said about the file itself."""


class ModelError(GenreTaggerError):
    """A model file that is unreadable or does not follow the contract."""


class TagReadError(GenreTaggerError):
    """Tags that cannot be read."""


class TagWriteError(GenreTaggerError):
    """Tags that could not be written; the file was left as it was."""


class UnsupportedFormatError(GenreTaggerError):
    """A file type Genre Tagger does not handle."""
