"""User settings for tagging, passed into services (never read from globals deep inside)."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.analysis import DEFAULT_THRESHOLD, AnalysisSettings
from desktop.core.tags import TagOptions
from desktop.core.windows import WindowPlan

POLICIES = ("fill", "replace", "never")


@dataclass(frozen=True)
class TaggingSettings:
    """How predictions become tags."""

    policy: str = "fill"  # fill: only files with no genre; replace: overwrite; never: database only
    threshold: float = DEFAULT_THRESHOLD
    multi_genre: bool = False
    multi_max: int = 3
    multi_threshold: float = 0.25
    id3_version: int = 0  # 0 keeps each file's own ID3 version; 3 or 4 converts
    id3_separator: str = "; "
    # The GENRE_TAGGER field beside each genre written: how any library (another computer's, one made again) knows a
    # genre Genre Tagger guessed from one the listener gave (core.provenance).
    write_provenance: bool = True
    keep_times: bool = False  # a written file keeps its modification time
    workers: int = 2
    max_windows: int = 8

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {self.policy!r}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1")

    def tag_options(self) -> TagOptions:
        """The tag-format part of the settings."""
        return TagOptions(self.id3_version, self.id3_separator, self.write_provenance, self.keep_times)

    def analysis(self) -> AnalysisSettings:
        """The analysis part of the settings."""
        return AnalysisSettings(WindowPlan(max_windows=self.max_windows), self.threshold, workers=self.workers)
