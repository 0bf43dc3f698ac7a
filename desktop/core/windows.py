"""Where in a track to listen: several windows spread over it, skipping intro and outro."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WindowPlan:
    """How many windows to analyse per track and how much of the ends to skip."""

    max_windows: int = 8
    skip_fraction: float = 0.1  # of the duration, at each end
    max_skip_seconds: float = 30.0


def plan_windows(duration: float, window_seconds: float, plan: WindowPlan = WindowPlan()) -> list[float]:
    """Start times (s) of the windows to analyse; empty when the track is shorter than one window.

    Short tracks (up to max_windows windows long) are covered whole, back to back, the last
    window flush with the end; longer ones get max_windows windows spread evenly between the
    skipped intro and outro, which are the least typical parts of a song.
    """
    if duration < window_seconds:
        return []
    if duration <= window_seconds * plan.max_windows:
        count = int(duration // window_seconds)
        starts = [i * window_seconds for i in range(count)]
        if duration - (starts[-1] + window_seconds) > window_seconds / 2:
            starts.append(duration - window_seconds)
        return starts
    skip = min(duration * plan.skip_fraction, plan.max_skip_seconds)
    first, last = skip, duration - skip - window_seconds
    if last <= first:
        first, last = 0.0, duration - window_seconds
    step = (last - first) / (plan.max_windows - 1) if plan.max_windows > 1 else 0.0
    return [first + i * step for i in range(plan.max_windows)]
