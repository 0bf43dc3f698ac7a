"""Where Genre Tagger keeps its files: the platform's user folders (platformdirs), overridable."""

from __future__ import annotations

import os
from pathlib import Path

APP = "genre-tagger"
DB_ENV = "GENRE_TAGGER_DB"


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
    if override:
        return Path(override).expanduser()
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV]).expanduser()
    return data_dir() / "library.db"


def locations_text() -> str:
    """Lines for --help and --version: where the database, settings, models and logs are."""
    return "\n".join([
        f"database:  {database_file()}  (--db or ${DB_ENV})",
        f"settings:  {settings_file()}",
        f"models:    {data_dir() / 'models'}  (add your own .onnx here)",
        f"logs:      {log_dir()}  (rotated)",
    ])
