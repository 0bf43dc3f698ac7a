"""Corrections of many tracks at once (Set Genre… on a whole selection, a drop on a sidebar genre, `set DIR`),
recorded without writing files: ours (the tracks read 500 paths a query) against one query per path, as before
2026-12-05, in the same run on the same synthetic library.

    .venv/bin/python -m benchmarks.bench_corrections [--tracks 20000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from unittest import mock

from benchmarks.common import seconds


def one_query_a_path(s, paths):
    """The tracks of `paths` as they were looked up before 2026-12-05: a query each, as the loop asks (so each query
    first flushes the corrections added before it)."""
    from desktop.store import queries

    return ((p, queries.track_by_path(s, str(Path(p).expanduser().absolute()))) for p in paths)


def main(argv=None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=20_000)
    args = parser.parse_args(argv)
    from sqlalchemy import select

    from benchmarks.bench_learn import synthetic_library
    from desktop.services import tagging
    from desktop.store.database import open_database
    from desktop.store.schema import Track

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        synthetic_library(db, "bench", args.tracks, 8)
        sessions = open_database(db)
        with sessions() as s:
            paths = list(s.scalars(select(Track.path)))
        service = tagging.TagService(sessions)

        def nothing() -> None:
            """Every track as it was: no genre set by hand."""
            service.forget_corrections(paths)

        def corrected() -> None:
            """Every track with a genre set by hand, to be forgotten."""
            nothing()
            service.correct(paths, "Jazz", source="gui", write=False)

        steps = {"corrected (Set Genre…)": (nothing, lambda: service.correct(paths, "Jazz", source="gui", write=False)),
                 "forgotten": (corrected, lambda: service.forget_corrections(paths)),
                 "kept as their tags say": (nothing, lambda: service.keep_file_genres(paths, source="gui"))}
        print(f"{args.tracks:,} tracks given a genre at once, nothing written to files; seconds (ours: 500 paths a "
              "query; a query a path as before; ratio)")
        for name, (before, step) in steps.items():
            took = []
            for lookup in (tagging.tracks_of, one_query_a_path):
                before()
                with mock.patch.object(tagging, "tracks_of", lookup):
                    took.append(seconds(step))
            print(f"  {name:<34} {took[0]:7.2f} {took[1]:7.2f}  {took[1] / max(took[0], 1e-9):6.1f}x faster")
        sessions.kw["bind"].dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
