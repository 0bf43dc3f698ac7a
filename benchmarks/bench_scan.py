"""Scan speed end to end on several-minute MP3 and FLAC tracks, against decoding alone; the library queries at
100,000 tracks; and a rescan of many unchanged files, against a query per file walked and every track loaded to find
those gone (the way before 2026-12-06).

    python -m benchmarks.bench_scan [--tracks 6] [--minutes 3] [--model FILE] [--baseline OLD.onnx] [--repeats 3]
                                    [--rescan-files 20000] [--query-tracks 100000]

Target (issue 3): analysis costs at most 1.5x the decode time of the analysed segments.
Decoding alone and the analysis run in turns, `--repeats` times each, and the fastest run of each
is compared, so a burst of other work on a shared machine does not decide the ratio.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import export_untrained
from desktop.core.analysis import AnalysisSettings, Analyzer
from desktop.core.audio import probe, read_segments
from desktop.core.model import GenreModel
from desktop.core.windows import plan_windows
from desktop.services.library import Library
from desktop.services.models import shipped_models_dir
from desktop.store import queries
from desktop.store.database import open_database
from desktop.store.schema import Track
from tests.audio_files import make_track


def decode_only(paths, model: GenreModel, settings: AnalysisSettings) -> float:
    """Seconds to probe and decode exactly the segments the analysis reads, on the same threads."""
    info = model.info

    def one(path):
        audio = probe(path)
        starts = plan_windows(audio.duration, info.window_seconds, settings.plan)
        return read_segments(path, audio, [(s, info.window_seconds) for s in starts], info.sample_rate)

    start = time.perf_counter()
    with ThreadPoolExecutor(settings.workers) as pool:
        list(pool.map(one, paths))
    return time.perf_counter() - start


def every_track_as_before(s) -> list:
    """queries.listed_tracks(s) as it was until 2026-12-06: every present track loaded as a Track object, then ordered."""
    from sqlalchemy import select

    from desktop.core.natural_order import album_order

    return sorted(s.scalars(select(Track).where(Track.missing.is_(False))),
                  key=lambda t: album_order(t.artist, t.album, t.disc_number, t.track_number, t.path, t.album_artist))


def review_as_before(s) -> list:
    """queries.needs_review(s) as it was until 2026-12-06: the tracks to review loaded as Track objects."""
    from sqlalchemy import select

    from desktop.core.analysis import DEFAULT_THRESHOLD

    flagged = queries.album_disagreements(s)
    review = queries._review_clause(DEFAULT_THRESHOLD)
    tracks = {t.id: t for t in s.scalars(select(Track).where(Track.missing.is_(False), review))
              if queries.row_needs_review(t.file_genre or "", t.predicted_genre, t.confidence, bool(t.corrected_genre))}
    for chunk in queries.id_chunks(sorted(flagged - set(tracks))):
        tracks.update({t.id: t for t in s.scalars(select(Track).where(Track.id.in_(chunk)))})
    return sorted(tracks.values(), key=lambda t: t.path)


def bench_queries(folder: Path, n: int = 100_000) -> None:
    """Time the GUI's queries on a database of n tracks."""
    sessions = open_database(folder / "big.db")
    genres = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
    rng = random.Random(0)
    rows = []
    for i in range(n):
        g = rng.choice(genres)
        rows.append(dict(path=f"/music/artist{i % 3000}/album{i % 700}/track{i}.flac", folder=f"/music/artist{i % 3000}",
                         size=1, mtime_ns=1, audio_hash=f"{i:040x}", format="flac", title=f"Song {i}",
                         artist=f"Artist {i % 3000}", album=f"Album {i % 700}", file_genre=rng.choice(genres + [""]),
                         predicted_genre=g, genre=g, confidence=rng.random(), verdict=rng.choice(["analysed", "uncertain"])))
    start = time.perf_counter()
    with sessions() as s:
        s.execute(Track.__table__.insert(), rows)
        s.commit()
    print(f"\nqueries on {n} tracks (insert took {time.perf_counter() - start:.1f} s)")
    with sessions() as s:
        for name, fn in [("genre counts", lambda: queries.genre_counts(s)),
                         ("tracks of one genre", lambda: queries.listed_tracks(s, "jazz")),
                         ("every track (list)", lambda: queries.listed_tracks(s)),
                         ("  as Tracks (before)", lambda: every_track_as_before(s)),
                         ("search 'Song 4242'", lambda: queries.listed_tracks(s, matches=queries.search_matches("Song 4242"))),
                         ("needs review", lambda: queries.needs_review(s)),
                         ("  as Tracks (before)", lambda: review_as_before(s))]:
            start = time.perf_counter()
            result = fn()
            print(f"  {name:<22} {(time.perf_counter() - start) * 1000:8.1f} ms  ({len(result)} rows)")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=6, help="tracks per format")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--model", help="ONNX model (default: models/default.onnx, else an untrained CNN of its size)")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: its default, all cores)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="runs of decode and of analysis; the fastest counts")
    parser.add_argument("--baseline", help="another model (e.g. the previous default) timed in the same turns")
    parser.add_argument("--rescan-files", type=int, default=20_000, help="tiny files for the rescan's figures (0: none)")
    parser.add_argument("--query-tracks", type=int, default=100_000, help="tracks in the database the queries are timed on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shipped = shipped_models_dir() / "default.onnx"
        model_path = Path(args.model) if args.model else shipped if shipped.is_file() else export_untrained("cnn", tmp / "cnn.onnx", width=0.5)
        model = GenreModel(model_path, device="cpu", threads=args.threads or None)
        settings = AnalysisSettings(workers=args.workers)
        paths = []
        for fmt in ("mp3", "flac"):
            for i in range(args.tracks):
                paths.append(make_track(tmp / "music" / fmt, f"t{i}", ["tones", "noise", "beats"][i % 3], fmt,
                                        args.minutes * 60, seed=i, sample_rate=44100))
        print(f"{len(paths)} tracks of {args.minutes:g} min (MP3 and FLAC, 44.1 kHz), model {model.info.key}, "
              f"{settings.plan.max_windows} windows of {model.info.window_seconds:g} s per track, {args.workers} workers, "
              f"onnxruntime threads {args.threads or 'default'}")
        baseline = GenreModel(Path(args.baseline), device="cpu", threads=args.threads or None) if args.baseline else None
        decode = analysis = old_analysis = float("inf")
        for _ in range(max(1, args.repeats)):
            decode = min(decode, decode_only(paths, model, settings))
            start = time.perf_counter()
            list(Analyzer(model, settings).analyse(paths))
            analysis = min(analysis, time.perf_counter() - start)
            if baseline is not None:  # in the same turns, so both ratios share the machine's moods
                start = time.perf_counter()
                list(Analyzer(baseline, settings).analyse(paths))
                old_analysis = min(old_analysis, time.perf_counter() - start)
        library = Library(open_database(tmp / "scan.db"))
        start = time.perf_counter()
        library.sync([tmp / "music"])
        library.analyse(Analyzer(model, settings))
        scan = time.perf_counter() - start
        n = len(paths)
        print(f"{'decode analysed segments only':<32} {decode:7.2f} s  {n / decode:7.2f} tracks/s")
        print(f"{'analysis (decode + inference)':<32} {analysis:7.2f} s  {n / analysis:7.2f} tracks/s  {analysis / decode:5.2f}x decode")
        if baseline is not None:
            print(f"{'analysis, baseline ' + baseline.info.key:<32} {old_analysis:7.2f} s  {n / old_analysis:7.2f} tracks/s  "
                  f"{old_analysis / decode:5.2f}x decode")
        print(f"{'full scan (walk, hash, tags, db)':<32} {scan:7.2f} s  {n / scan:7.2f} tracks/s  {scan / decode:5.2f}x decode")
        bench_queries(tmp, args.query_tracks)
        if args.rescan_files:
            bench_rescan(tmp / "many", args.rescan_files)


def mark_missing_as_before(s, roots, seen=frozenset(), kept=lambda _path: False) -> int:
    """Library._mark_missing as it was: every track under each folder loaded whole, to find the few not walked."""
    from sqlalchemy import select

    from desktop.core.scan import root_prefix

    count = 0
    for root in roots:
        prefix = root_prefix(root)
        for track in s.scalars(select(Track).where(Track.path.startswith(prefix, autoescape=True), Track.missing.is_(False))):
            if track.path.startswith(prefix) and track.path not in seen and not kept(track.path):
                track.missing = True
                count += 1
    return count


def bench_rescan(folder: Path, n: int) -> None:
    """A rescan that finds n files unchanged (a window's start, `scan --watch` after a copy): ours, every track's size
    and time read in one query, against a query per file walked and every track loaded to find those gone (as before
    2026-12-06), in turns."""
    from unittest import mock

    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(0)
    for i in range(n):  # a tenth of a second of noise each: the walk, not the audio, is what is timed
        album = folder / "music" / f"Artist {i % 300}" / f"Album {i % 7}"
        album.mkdir(parents=True, exist_ok=True)
        sf.write(album / f"{i:06d} Song.flac", (rng.standard_normal(2205) * 0.1).astype("float32"), 22050)
    library = Library(open_database(folder / "rescan.db"))
    start = time.perf_counter()
    library.sync([folder / "music"])
    print(f"\nrescan of {n:,} unchanged files (their first sync took {time.perf_counter() - start:.1f} s); seconds "
          "(ours; a query per file and every track loaded, as before; ratio)")
    for _ in range(2):
        start = time.perf_counter()
        ours = library.sync([folder / "music"])
        a = time.perf_counter() - start
        with (mock.patch.object(Library, "_known_files", return_value={}),
              mock.patch.object(Library, "_mark_missing", staticmethod(mark_missing_as_before))):
            start = time.perf_counter()
            before = library.sync([folder / "music"])
            b = time.perf_counter() - start
        assert ours.unchanged == before.unchanged == n
        print(f"  {'nothing changed':<32} {a:7.2f} {b:7.2f}  {b / max(a, 1e-9):6.1f}x faster")
    bench_rescan_once(library, folder / "music", n)


def bench_rescan_once(library: Library, music: Path, n: int) -> None:
    """What a rescan costs once: the first after the update that keeps change times (schema 12: each file's taken in,
    none read), and one after every file was touched (`chmod -R`: each file's tags read again)."""
    from sqlalchemy import update

    with library.sessions() as s:
        s.execute(update(Track).values(ctime_ns=0))  # as the migration to version 12 leaves a library
        s.commit()
    start = time.perf_counter()
    first = library.sync([music])
    a = time.perf_counter() - start
    for path in music.rglob("*.flac"):
        path.chmod(0o644 if path.stat().st_mode & 0o777 != 0o644 else 0o640)
    start = time.perf_counter()
    touched = library.sync([music])
    b = time.perf_counter() - start
    assert first.unchanged == touched.unchanged == n
    print(f"  {'first after the update':<32} {a:7.2f}  (once: each file's change time taken in, none read)")
    print(f"  {'every file touched (chmod -R)':<32} {b:7.2f}  (each file's tags read again; none analysed)")


if __name__ == "__main__":
    main()
