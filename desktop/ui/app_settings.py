"""The GUI's remembered settings, kept in QSettings and handed to services as plain values."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings

from desktop.core.analysis import DEFAULT_THRESHOLD
from desktop.core.errors import GenreTaggerError
from desktop.services.settings import POLICIES, TaggingSettings

log = logging.getLogger(__name__)

FIELDS = {"folders": list, "model_path": str, "device": str, "policy": str, "threshold": float,
          "multi_genre": bool, "multi_threshold": float, "id3_version": int, "id3_separator": str,
          "write_provenance": bool, "keep_times": bool, "watch_folders": bool}
DEFAULTS = {"folders": [], "model_path": "", "device": "auto", "policy": "fill", "threshold": DEFAULT_THRESHOLD,
            "multi_genre": False, "multi_threshold": TaggingSettings.multi_threshold,
            "id3_version": 0,  # 0: keep each file's ID3 version
            "id3_separator": TaggingSettings.id3_separator, "write_provenance": TaggingSettings.write_provenance, "keep_times": False,
            "watch_folders": True}  # new music in the folders is scanned while the window is open

# Settings stored under another key than their name: before Settings had a checkbox for the provenance field, every
# save stored its old default (off), which no listener chose; under a new key the new default (on) reaches them.
STORED_AS = {"write_provenance": "provenance_field"}


# What a stored value must satisfy; anything else (a hand edit, another version's file) falls back to the default.
VALID = {"device": lambda v: v in ("auto", "cuda", "cpu"), "policy": lambda v: v in POLICIES,
         "threshold": lambda v: 0.0 <= v <= 1.0, "multi_threshold": lambda v: 0.0 <= v <= 1.0,
         "id3_version": lambda v: v in (0, 3, 4), "id3_separator": bool}


class SettingsNotSaved(GenreTaggerError):
    """The settings file the system would not let us write: the settings hold until the window closes."""


class AppSettings:
    """Attribute access to the stored settings; `save()` writes them back."""

    def __init__(self, store: QSettings):
        self.store = store
        # A file the system would not let us read (a folder in its place, one a `sudo` run left its owner's): every
        # setting is its default, which is said, not taken for a first start.
        self.unreadable = (None if store.status() == QSettings.Status.NoError
                           else f"settings not read ({system_reason(store.fileName(), 'r')}); the defaults are used")
        for name, kind in FIELDS.items():
            raw = store.value(STORED_AS.get(name, name), DEFAULTS[name])
            try:
                value = _convert(raw, kind)
                if not VALID.get(name, lambda _v: True)(value):
                    raise ValueError("out of range")
            except (TypeError, ValueError):
                # A bad line must not keep the window from opening; it is named, and saving replaces it.
                log.warning("%s: setting %s=%r is not usable; using %r", store.fileName(), name, raw, DEFAULTS[name])
                value = DEFAULTS[name]
            setattr(self, name, value)

    def save(self) -> None:
        """Persist every field; SettingsNotSaved where the system refuses the file."""
        for name in FIELDS:
            self.store.setValue(STORED_AS.get(name, name), getattr(self, name))
        self.sync()

    def sync(self) -> None:
        """Write what was set to the file; SettingsNotSaved where the system refuses it (QSettings only notes that)."""
        if self.store.status() != QSettings.Status.NoError:
            # A QSettings keeps its first error for good: a fresh one, holding what this one holds, says whether the
            # system refuses this save too.
            fresh = QSettings(self.store.fileName(), self.store.format())
            for key in self.store.allKeys():
                fresh.setValue(key, self.store.value(key))
            self.store = fresh
        self.store.sync()
        if self.store.status() != QSettings.Status.NoError:
            path = self.store.fileName()
            raise SettingsNotSaved(path, f"settings not saved ({system_reason(path, 'a')}); "
                                         "they hold until the window closes")

    def tagging(self) -> TaggingSettings:
        """The services' view of these settings."""
        return TaggingSettings(policy=self.policy, threshold=self.threshold, multi_genre=self.multi_genre,
                               multi_threshold=self.multi_threshold, id3_version=self.id3_version,
                               id3_separator=self.id3_separator, write_provenance=self.write_provenance,
                               keep_times=self.keep_times)


def system_reason(path: str, mode: str) -> str:
    """The system's reason it refuses `path` opened with `mode` ("r" or "a"), which QSettings does not keep."""
    folder = Path(path).parent
    standing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
    if not standing.is_dir():
        return f"{standing} is not a folder"
    if Path(path).exists() and not (Path(path).is_file() or Path(path).is_dir()):
        return "not a file (a device, pipe or socket)"  # never opened: a pipe would wait for good
    try:
        if mode == "a":  # Qt makes the file's folders first
            folder.mkdir(parents=True, exist_ok=True)
        with open(path, mode, encoding="utf-8"):  # "a" adds nothing: only asks
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return "the system refused it"


def _convert(raw, kind):
    """A QSettings value (strings in an INI file) as `kind`."""
    if kind is list:
        return [raw] if isinstance(raw, str) else list(raw or [])
    if kind is bool:
        return raw in (True, "true", "1", 1)
    return kind(raw)
