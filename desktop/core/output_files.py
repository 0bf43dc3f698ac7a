"""Files the app writes for the listener (playlists, map images and pages): never over music or other files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktop.core.errors import GenreTaggerError
from desktop.core.formats import is_supported, unread_audio_kind

UTF8_BOM = b"\xef\xbb\xbf"


def check_output(out: Path, what: str, suffixes: tuple[str, ...], is_one: Callable[[bytes], bool], force: bool,
                 force_hint: str = " (add --force)") -> None:
    """Refuse to write `what` over music ever; unless forced, under another suffix or over a file that is not one.

    `is_one` is given the first 512 bytes of an existing file and says whether it is a `what` (safe to replace);
    empty `suffixes` take any name; `force_hint` tells how to force it (empty where it cannot be).
    """
    if out.is_dir():
        raise GenreTaggerError(out, f"is a folder; name the {what} file to write in it")
    if out.exists() and not out.is_file():  # looked into, a named pipe would wait for a writer for good
        raise GenreTaggerError(out, f"is not a regular file (a named pipe, device or socket); a {what} never replaces "
                                    "one")
    if is_supported(out) or unread_audio_kind(out):  # music the app cannot read is music all the same
        raise GenreTaggerError(out, f"is an audio file's name; a {what} never replaces music")
    if suffixes and out.suffix.lower() not in suffixes and not force:
        raise GenreTaggerError(out, f"a {what} file should end in {suffixes[0]}{force_hint}")
    if out.exists() and not force:
        try:
            with open(out, "rb") as fh:
                head = fh.read(512)
        except OSError as exc:
            raise GenreTaggerError(out, f"cannot read ({exc.strerror})") from exc
        if not is_one(head.removeprefix(UTF8_BOM)):
            raise GenreTaggerError(out, f"exists and is not a {what}; not overwriting it{force_hint}")
