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


def walk_progress(done: int, total: int | None, rate: float, sep: str = " · ") -> str:
    """'Looking for music… 12,345 files so far · 480/s' while a scan walks its folders; once after an update
    that reads more from tags, 'Reading tags again (once)… 1,234 / 5,000 tracks · 2 min left'."""
    if total is not None:
        return f"Reading tags again (once)… {scan_progress(done, total, rate, sep)}"
    return f"Looking for music… {done:,} {'file' if done == 1 else 'files'} so far" + (f"{sep}{rate:.0f}/s" if rate > 0 else "")
