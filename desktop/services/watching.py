"""Wait for music to come, go or be renamed in the music folders, and for its copying to end (`scan --watch`)."""

from __future__ import annotations

import time
from collections.abc import Callable

from desktop.core.folder_changes import SETTLE_S, FolderPoll, written_within

POLL_S = 5.0  # one stat per folder each time: 40 ms for 5,500 folders on a local disk


def wait_for_music(poll: FolderPoll, sleep: Callable[[float], None] = time.sleep, poll_s: float = POLL_S,
                   settle_s: float = SETTLE_S, clock: Callable[[], float] = time.monotonic) -> str:
    """Block until music came, went or was renamed under the poll's folders and settled (a look found nothing
    more, and no music file there was written in the last `settle_s`); the first folder that changed."""
    changed: list[str] = []
    took = 0.0
    while True:
        # A slow look (thousands of folders on a network share) is made less often: looking takes at most a fifth.
        sleep(max(poll_s, 4 * took))
        started = clock()
        more = poll.look()
        took = clock() - started
        changed += [folder for folder in more or () if folder not in changed]
        if changed and not more:
            seen = poll.folders()
            if not written_within({folder: seen.get(folder, frozenset()) for folder in changed}, settle_s):
                return changed[0]
