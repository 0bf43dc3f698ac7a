"""Learning a library's genres: fit and re-prediction time at 100,000 tracks; a learning curve on real clips.

    python -m benchmarks.bench_learn [--tracks 100000] [--model models/default.onnx] [--skip-curve]

Part 1 builds a library database of synthetic tracks (embeddings drawn around genre and artist
centres, two thirds tagged in several spellings), then times what `genre-tagger learn` does: read
labels and stored embeddings, fit the head with its nested artist-grouped cross-validation, save
the learned model, and re-predict every track from its stored embedding. Targets on a 2-core CPU:
fit under 5 s, re-prediction under 10 s.

Part 2 (needs ../shared/datasets/gtzan) analyses the labelled clips with the shipped model, as a
scan would, and fits the library head on growing numbers of labelled tracks per genre: for each of
five artist-grouped folds, the head learns from at most N clips per genre of the other folds and is
scored on the held-out artists; three draws per N. Part 3 scores the same held-out predictions with
one genre per album (`genres --per-album on`), artists standing in for albums.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GTZAN = "../shared/datasets/gtzan"
SPELLINGS = ["{}", "{} ", "{}".lower, "{}".upper]


def synthetic_library(db: Path, base_key: str, n: int, dim: int, genres: int = 20, seed: int = 0) -> None:
    """A database of n analysed tracks by n/25 artists; 2 in 3 carry a genre tag in one of several spellings, the
    third a genre a `scan --write` of ours wrote (journalled: never a label)."""
    from sqlalchemy import insert

    from desktop.store.database import open_database
    from desktop.store.schema import Analysis, JournalEntry, Track, WriteBatch

    rng = np.random.default_rng(seed)
    n_artists = max(genres * 2, n // 25)
    centres = rng.standard_normal((genres, dim)).astype(np.float32)
    artist_genre = np.arange(n_artists) % genres
    artist_shift = (rng.standard_normal((n_artists, dim)) * 0.8).astype(np.float32)
    artist = rng.integers(0, n_artists, n)
    y = artist_genre[artist]
    x = centres[y] + artist_shift[artist] + (rng.standard_normal((n, dim)) * 3.0).astype(np.float32)
    names = [f"Genre {g}" for g in range(genres)]
    sessions = open_database(db)
    tracks, analyses, journal = [], [], []
    for i in range(n):
        tag = names[y[i]] if i % 3 == 2 else (names[y[i]] if i % 4 else names[y[i]].lower())
        if i % 3 == 2:
            journal.append({"batch_id": 1, "track_id": i + 1, "path": f"/music/{artist[i]}/{i}.flac", "old_genres": [],
                            "new_genres": [tag], "state": "written"})
        tracks.append({"id": i + 1, "path": f"/music/{artist[i]}/{i}.flac", "folder": f"/music/{artist[i]}", "size": 1,
                       "mtime_ns": 1, "audio_hash": f"h{i}", "format": "flac", "file_genre": tag,
                       "artist": f"Artist {artist[i]}", "album": f"Album {artist[i]}", "title": f"Track {i}"})
        analyses.append({"track_id": i + 1, "model_key": base_key, "audio_hash": f"h{i}", "status": "analysed",
                         "top_genre": "rock", "confidence": 0.6, "labels": [], "probabilities": [], "window_starts": [],
                         "window_probabilities": [], "embedding": x[i].astype("<f4").tobytes()})
    with sessions() as s:
        s.execute(insert(Track), tracks)
        s.execute(insert(Analysis), analyses)
        s.add(WriteBatch(id=1, description="scan --write"))
        s.flush()
        s.execute(insert(JournalEntry), journal)
        s.commit()


def timed(fn):
    """`fn()`'s result and the seconds it took."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


ALBUM_LOOKS = 500  # album folders whose labels are read one by one, as a scan's look at the albums it met does


def bench_scale(model: Path, n: int) -> None:
    """Part 1: the steps of `learn` at n tracks, each timed."""
    from desktop.core.learned_model import build_learned_model
    from desktop.core.library_head import fit_head
    from desktop.core.model import read_model_info
    from desktop.services import learning
    from desktop.store.database import open_database
    from desktop.store.schema import Track

    base = read_model_info(model)
    dim = int(next(iter(__import__("onnx").load(str(model)).graph.output[1].type.tensor_type.shape.dim[1:])).dim_value or 256)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        _, t_build = timed(lambda: synthetic_library(db, base.key, n, dim))
        sessions = open_database(db)
        with sessions() as s:
            (labels, display), t_labels = timed(lambda: learning.gather_labels(s))
            embeddings, t_emb = timed(lambda: learning.embeddings_of(s, base.key))
            folders = sorted({f"/music/{a}" for a in range(0, max(1, n // 25), max(1, n // 25 // ALBUM_LOOKS))})
            _, t_albums = timed(lambda: [learning.gather_labels(s, Track.folder == f) for f in folders])
        keep, _ = learning.choose_genres(labels, display, learning.LearnSettings())
        used = [lab for lab in labels if lab.key in set(keep)]
        x = np.stack([embeddings[lab.track_id] for lab in used])
        y = np.array([keep.index(lab.key) for lab in used])
        groups = np.array([lab.group for lab in used])
        (head, est), t_fit = timed(lambda: fit_head(x, y, groups, tuple(display[k] for k in keep)))
        out = Path(tmp) / "library.onnx"
        _, t_save = timed(lambda: build_learned_model(model, head, out, {"model_name": "library", "model_version": "bench"}))
        info = read_model_info(out)
        count, t_pred = timed(lambda: learning.repredict(sessions, info, head, base.key))
    print(f"library of {n:,} tracks ({len(used):,} tagged, {len(keep)} genres, embedding {dim}-d); building the database took {t_build:.1f} s")
    print(f"{'step':<44} {'seconds':>8}")
    for name, t in [("read labels (tags, corrections, journal)", t_labels), ("read stored embeddings", t_emb),
                    ("fit: nested grouped CV + calibration", t_fit), ("save the learned model (ONNX)", t_save),
                    (f"re-predict {count:,} tracks from stored embeddings", t_pred)]:
        print(f"{name:<44} {t:>8.2f}")
    print(f"fit total {t_labels + t_emb + t_fit:.2f} s (target < 5 s); re-prediction {t_pred:.2f} s (target < 10 s); "
          f"estimate on this synthetic library: accuracy {est.accuracy:.3f}")
    print(f"labels of {len(folders)} album folders one by one (a scan's album look, one genre per album): "
          f"{t_albums:.2f} s, {t_albums / len(folders) * 1000:.1f} ms each")


def bench_curve(model: Path, cache: Path) -> None:
    """Part 2: accuracy against labelled clips per genre, artist-grouped, on the GTZAN clips we hold."""
    from desktop.core.analysis import Analyzer
    from desktop.core.library_head import fit_head, group_folds
    from desktop.core.model import GenreModel

    manifest = cache / "gtzan.csv"
    subprocess.run([sys.executable, "scripts/gtzan_manifest.py", "--gtzan", GTZAN, "--out", str(manifest)], check=True,
                   stdout=subprocess.DEVNULL)
    with open(manifest, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    analyzer = Analyzer(GenreModel(model, device="cpu"))
    results, t_scan = timed(lambda: list(analyzer.analyse([Path(r["path"]) for r in rows])))
    ok = [(r, a) for r, a in zip(rows, results, strict=True) if a.embedding is not None]
    genres = sorted({r["label"] for r, _ in ok})
    x = np.stack([a.embedding for _, a in ok])
    y = np.array([genres.index(r["label"]) for r, _ in ok])
    groups = np.array([r["artist"] or r["path"] for r, _ in ok])
    shipped = np.mean([a.top_genre == r["label"] for r, a in ok])
    fold = group_folds(groups, 5)
    print(f"\n{len(ok)} GTZAN clips analysed with {model.name} in {t_scan:.0f} s; {len(set(groups))} artist groups, 5 folds")
    print(f"shipped model's own head on these clips (it was fitted on them, not held out): {shipped:.3f}")
    print(f"{'labelled tracks per genre':>26} {'held-out accuracy':>18} {'draws':>6}")
    for per_genre in (2, 4, 6, 8, 10, None):
        scores = []
        for draw in range(3):
            rng = np.random.default_rng(draw)
            hits = 0
            for f in range(5):
                train = np.flatnonzero(fold != f)
                if per_genre is not None:
                    train = np.concatenate([rng.permutation(train[y[train] == g])[:per_genre] for g in range(len(genres))])
                head, _ = fit_head(x[train], y[train], groups[train], tuple(genres), folds=min(4, len(set(groups[train]))))
                test = np.flatnonzero(fold == f)
                hits += int(np.sum(head.probabilities(x[test]).argmax(1) == y[test]))
            scores.append(hits / len(y))
            if per_genre is None:
                break
        label = "all (~12)" if per_genre is None else str(per_genre)
        print(f"{label:>26} {np.mean(scores):>18.3f} {len(scores):>6}")
    album_gain(x, y, groups, tuple(genres))


def album_gain(x: np.ndarray, y: np.ndarray, groups: np.ndarray, genres: tuple[str, ...], draws: int = 10) -> None:
    """Part 3: one genre per album. Each clip held out by artist is scored on its own, then with the mean of its
    artist group's held-out probabilities (artists stand in for albums: GTZAN has no album names)."""
    from desktop.core.album_genre import album_probabilities
    from desktop.core.library_head import fit_head, group_folds

    own, shared = [], []
    for draw in range(draws):
        fold = group_folds(groups, 5, draw)
        probs = np.zeros((len(y), len(genres)))  # [clips, genres], every clip held out once
        for f in range(5):
            train, test = fold != f, fold == f
            head, _ = fit_head(x[train], y[train], groups[train], genres, folds=min(4, len(set(groups[train]))))
            probs[test] = head.probabilities(x[test])
        pred = probs.argmax(1)
        own.append(np.mean(pred == y))
        for g in set(groups):  # a group of one clip keeps its own
            members = np.flatnonzero(groups == g)
            pred[members] = album_probabilities(probs[members]).argmax()
        shared.append(np.mean(pred == y))
    in_groups = sum(np.sum(groups == g) for g in set(groups) if np.sum(groups == g) > 1)
    print(f"\none genre per album ({draws} fold draws; {in_groups} of {len(y)} clips share an artist): held-out accuracy "
          f"{np.mean(own):.3f} ± {np.std(own):.3f} one by one, {np.mean(shared):.3f} ± {np.std(shared):.3f} with the group's mean")


def main(argv=None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--model", default="models/default.onnx")
    parser.add_argument("--cache", default=".cache")
    parser.add_argument("--skip-curve", action="store_true", help="part 1 only (no ../shared needed)")
    args = parser.parse_args(argv)
    model = Path(args.model)
    bench_scale(model, args.tracks)
    if args.skip_curve:
        return 0
    if not Path(GTZAN, "labels.csv").is_file():
        print(f"\nlearning curve skipped: {GTZAN} not found", file=sys.stderr)
        return 0
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    bench_curve(model, Path(args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
