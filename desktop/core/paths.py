"""Where Genre Tagger keeps its files: the platform's user folders (platformdirs), overridable."""

from __future__ import annotations

import argparse
import os
import unicodedata
from pathlib import Path

from desktop.core.errors import GenreTaggerError

APP = "genre-tagger"
DB_ENV = "GENRE_TAGGER_DB"


NAME_MAX = 255  # bytes in one name of a path, on every file system we write to


def named_path(text: str) -> str:
    """An argparse type for a file or folder argument: any text but an empty one, which Path() reads as "here"
    (`set "$FILE" Rock` with $FILE unset tagged every file under the current folder), one with a name longer than
    file systems allow (every look at it failed as an internal error), or one not in UTF-8 (which no look in the
    library could encode)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path names no file or folder (an unset shell variable?)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, kept by Python as surrogate escapes: SQLite takes none
        shown = os.fsencode(text).decode("utf-8", "backslashreplace")
        raise argparse.ArgumentTypeError(f"{shown}: the name is not valid UTF-8; rename it (as a scan asks)") from None
    longest = max(Path(text).parts, key=lambda part: len(os.fsencode(part)), default="")  # "." has no parts
    if (size := len(os.fsencode(longest))) > NAME_MAX:
        raise argparse.ArgumentTypeError(f"{text}: a name in it is {size} bytes long, where file systems allow "
                                         f"{NAME_MAX} (beginning {longest[:40]!r})")
    return spelled_as_on_disk(text)


def spelled_as_on_disk(text: str) -> str:
    """A path with each part that names a file or folder spelled as its folder lists it, where a case-insensitive file
    system (macOS, Windows, a USB stick's exFAT) let the typed spelling reach it: `set ~/music/song.flac` stored a
    second track of ~/Music/Song.flac, and its write renamed the file song.flac. `text` itself where nothing differs."""
    path = Path(text)
    if not path.parts:
        return text
    fixed = Path(path.anchor) if path.anchor else Path(listed_name(Path(os.curdir), path.parts[0]))
    for part in path.parts[1:]:
        fixed /= listed_name(fixed, part)
    return text if str(fixed) == str(path) else str(fixed)  # compared as text: Windows' paths compare case aside


def _folded(name: str) -> str:
    """A name as a case-insensitive file system compares it: case and Unicode composition aside (macOS keeps é as
    e and an accent)."""
    return unicodedata.normalize("NFC", name).casefold()


def listed_name(folder: Path, name: str) -> str:
    """`name` as `folder` lists it: the spelling of the file or folder a case-insensitive file system finds by `name`;
    `name` itself where the folder lists it so, holds no other spelling of it, or cannot be read."""
    other = name.swapcase()
    if name in ("", os.curdir, os.pardir) or other == name:
        return name  # no letters: no other spelling to find
    try:
        # Only a name found, in a folder that also finds another spelling of it, is looked for in the listing (3 ms for
        # a folder of 10,000 files): a case-sensitive file system finds no other spelling, and a name not found there
        # is no other file's (/tmp/W3 is not /tmp/w3).
        if not (os.path.lexists(folder / name) and os.path.lexists(folder / other)):
            return name
        listed = os.listdir(folder)
    except (OSError, ValueError):  # unreadable, or a name no file system takes: looked at by the caller, as given
        return name
    if name in listed:
        return name
    matches = [entry for entry in listed if _folded(entry) == _folded(name)]
    return matches[0] if len(matches) == 1 else name


def cut_name(text: str, most: int) -> str:
    """`text` in at most `most` bytes (UTF-8, as file systems count a name), cut at a character and ended with "…"
    where it was cut."""
    if len(os.fsencode(text)) <= most:
        return text
    return os.fsencode(text)[: most - 3].decode("utf-8", "ignore") + "…"


def data_dir() -> Path:
    """User data: the library database and added models (~/.local/share/genre-tagger on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP, appauthor=False))


def config_dir() -> Path:
    """User settings (~/.config/genre-tagger on Linux)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP, appauthor=False))


def log_dir() -> Path:
    """Log files, rotated (~/.local/state/genre-tagger/log on Linux)."""
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP, appauthor=False))


def settings_file() -> Path:
    """The GUI's settings (an INI file, the same format on every platform)."""
    return config_dir() / "settings.ini"


def database_file(override: str | Path | None = None) -> Path:
    """--db flag, then $GENRE_TAGGER_DB, then library.db in the user data folder."""
    text = str(override or os.environ.get(DB_ENV) or "")
    if not text:
        return data_dir() / "library.db"
    if text.endswith(("/", os.sep)):  # Path() drops the slash, and a missing "music/" became a database named music
        raise GenreTaggerError(Path(text), "names a folder (it ends in /); give a database file (e.g. library.db inside it)")
    return Path(text).expanduser()


def library_copy_file(db: Path, version: int | None = None) -> Path:
    """The library's daily copy beside it (`library.db.backup`), or the one kept before converting a version `version` library."""
    return db.with_name(f"{db.name}.v{version}.backup" if version else f"{db.name}.backup")


def library_copy_files(db: Path) -> list[Path]:
    """The copies of the library beside it: the daily one, then those kept before converting it (as named above)."""
    return [library_copy_file(db), *sorted(db.parent.glob(f"{db.name}.v*.backup"))]


def on_read_only_mount(where: str | Path) -> bool:
    """True where `where` lies on a file system mounted read-only (a locked SD card, a Windows disk left hibernated,
    a backup mounted so): no file there can change, whatever its permissions say."""
    try:
        return bool(os.statvfs(where).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def unreadable_now(path: Path) -> str | None:
    """The system's reason a file cannot be read now (gone; its drive or network share not there), None when it can."""
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def read_only_uri(path: Path, immutable: bool = False) -> str:
    """SQLite's URI for reading a library without writing anything (immutable: not even a lock or -shm)."""
    return f"{path.absolute().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")


def locations_text() -> str:
    """Lines for --help and --version: where the database, settings, models and logs are."""
    return "\n".join([
        f"database:  {_shown(database_file)}  (--db or ${DB_ENV})",
        f"its copy:  {_shown(lambda: library_copy_file(database_file()))}  (refreshed daily)",
        f"settings:  {settings_file()}",
        f"models:    {data_dir() / 'models'}  (add your own .onnx here)",
        f"logs:      {log_dir()}  (rotated)",
    ])


def _shown(where) -> str:
    """A location for --help, or why it is not one (help must show even when $GENRE_TAGGER_DB is wrong)."""
    try:
        return str(where())
    except GenreTaggerError as exc:
        return str(exc)
