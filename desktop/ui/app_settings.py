"""The GUI's remembered settings, kept in QSettings and handed to services as plain values."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from desktop.core.analysis import DEFAULT_THRESHOLD
from desktop.services.settings import TaggingSettings

FIELDS = {"folders": list, "model_path": str, "device": str, "policy": str, "threshold": float,
          "multi_genre": bool, "multi_threshold": float, "id3_version": int, "id3_separator": str,
          "write_provenance": bool}
DEFAULTS = {"folders": [], "model_path": "", "device": "auto", "policy": "fill", "threshold": DEFAULT_THRESHOLD,
            "multi_genre": False, "multi_threshold": TaggingSettings.multi_threshold,
            "id3_version": 0,  # 0: keep each file's ID3 version
            "id3_separator": TaggingSettings.id3_separator, "write_provenance": False}


class AppSettings:
    """Attribute access to the stored settings; `save()` writes them back."""

    def __init__(self, store: QSettings):
        self.store = store
        for name, kind in FIELDS.items():
            value = store.value(name, DEFAULTS[name])
            if kind is list:
                value = [value] if isinstance(value, str) else list(value or [])
            elif kind is bool:
                value = value in (True, "true", "1", 1)
            else:
                value = kind(value)
            setattr(self, name, value)

    def save(self) -> None:
        """Persist every field."""
        for name in FIELDS:
            self.store.setValue(name, getattr(self, name))
        self.store.sync()

    def tagging(self) -> TaggingSettings:
        """The services' view of these settings."""
        return TaggingSettings(policy=self.policy, threshold=self.threshold, multi_genre=self.multi_genre,
                               multi_threshold=self.multi_threshold, id3_version=self.id3_version,
                               id3_separator=self.id3_separator, write_provenance=self.write_provenance)
