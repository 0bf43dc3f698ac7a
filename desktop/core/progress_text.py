"""How long a scan has left and how far it is, in words a person reads at a glance."""

from __future__ import annotations


def time_left(seconds: float) -> str:
    """'40 s', '12 min', '2 h 05 min' ('2000 s' asked the reader to do the sum)."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def scan_progress(done: int, total: int, rate: float, sep: str = " · ", noun: str = "tracks") -> str:
    """'1,234 / 10,000 tracks · 5.2/s · 28 min left' (no time left until there is a rate to go by)."""
    text = f"{done:,} / {total:,} {noun}"
    if rate > 0:
        text += f"{sep}{rate:.1f}/s{sep}{time_left((total - done) / rate)} left"
    return text
