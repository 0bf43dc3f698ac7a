"""The per-window genres of a shown track whose analysis keeps none, heard again in the background."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.analysis import AnalysisSettings
from desktop.core.errors import GenreTaggerError
from desktop.core.model import GenreModel
from desktop.services.classify import hear_again
from desktop.ui.workers import background

KEEP = 200  # timelines kept for the session: a listener going up and down the table hears each track once


@dataclass(frozen=True)
class Wanted:
    """A track's analysis whose timeline is asked for (the same file and model give the same timeline)."""

    track_id: int
    path: str
    model_key: str
    audio_hash: str


@dataclass(frozen=True)
class _Ask:
    wanted: Wanted
    model_path: Path
    settings: AnalysisSettings
    device: str


def _hear(ask: _Ask, loaded: tuple | None) -> tuple[Wanted, tuple, list[float], list[list[float]]]:
    # On the job's thread. `loaded`: (model path, device, model) from the last track, handed back to the GUI thread
    # with the result so that the model is loaded once, not once per track shown.
    if loaded is None or loaded[:2] != (ask.model_path, ask.device):
        loaded = (ask.model_path, ask.device, GenreModel(ask.model_path, device=ask.device))
    model = loaded[2]
    if model.info.key != ask.wanted.model_key:  # another model chosen since: its windows would not be this analysis's
        raise GenreTaggerError(ask.wanted.path, f"analysed by {ask.wanted.model_key}, and {model.info.key} is in use "
                                                "now (Scan analyses it again)")
    result = hear_again(model, ask.wanted.path, ask.settings)
    return ask.wanted, loaded, list(result.window_starts), result.window_probabilities.tolist()


class TimelineFiller(QObject):
    """`learn` re-predicts every track from its stored embedding, which keeps no windows, so the details panel's
    timeline stayed empty for a whole learned library. A shown track's file is heard again with the model in use,
    one track at a time, the latest asked for next; timelines are kept for the session, not stored (showing a
    track writes nothing). `heard(track_id, starts, window_probabilities)` or `not_heard(track_id, why)`."""

    heard = Signal(int, object, object)
    not_heard = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kept: OrderedDict[Wanted, tuple[list, list]] = OrderedDict()
        self.job = None
        self._running: _Ask | None = None
        self._next: _Ask | None = None
        self._loaded: tuple | None = None  # (model path, device, GenreModel)

    def timeline(self, wanted: Wanted) -> tuple[list, list] | None:
        """The timeline heard before for this analysis (starts, window probabilities), or None."""
        if wanted in self.kept:
            self.kept.move_to_end(wanted)
        return self.kept.get(wanted)

    def ask(self, wanted: Wanted, model_path: Path, settings: AnalysisSettings, device: str) -> None:
        """Hear the track again in the background (after the one in hand, if any; an older wait is dropped)."""
        ask = _Ask(wanted, Path(model_path), settings, device)
        if self.job is not None:
            self._next = None if self._running.wanted == wanted else ask
            return
        self._start(ask)

    def _start(self, ask: _Ask) -> None:
        self._running, loaded = ask, self._loaded
        self.job = background(lambda: _hear(ask, loaded), "timeline", self._done, self._failed)

    def _done(self, result) -> None:
        wanted, self._loaded, starts, probabilities = result
        self.kept[wanted] = (starts, probabilities)
        while len(self.kept) > KEEP:
            self.kept.popitem(last=False)
        self._finish()
        self.heard.emit(wanted.track_id, starts, probabilities)

    def _failed(self, message: str) -> None:
        error = self.job.error
        wanted = self._running.wanted
        self._finish()
        self.not_heard.emit(wanted.track_id, getattr(error, "reason", message))

    def _finish(self) -> None:
        self.job, self._running = None, None
        ask, self._next = self._next, None
        if ask is not None and self.timeline(ask.wanted) is None:
            self._start(ask)
