"""`genre-tagger models`, `learn` and `classify`: the models at hand, learning the library's own, hearing one recording."""

from __future__ import annotations

import sys

from desktop.cli.genres import say_unnamed_folders
from desktop.cli.output import (
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_PARTIAL,
    Output,
    open_sessions,
    say_bars,
    say_window_tops,
    stop_on_interrupt,
)
from desktop.core.analysis import ERROR, status_words
from desktop.core.errors import GenreTaggerError
from desktop.core.wording import count, padded, shortened, sureness
from desktop.services.learning import LearnSettings


def measured_on(metrics: dict) -> str:
    """What a model's test figure was measured on, as its metadata says ('' when it does not)."""
    parts = [f"{metrics['tracks']} tracks" if "tracks" in metrics else "", str(metrics.get("evaluation") or metrics.get("split") or "")]
    parts = [p for p in parts if p]
    return f" (on {', '.join(parts)})" if parts else ""


def cmd_models(args, out: Output) -> int:
    """List the models the app can use."""
    from desktop.core.model import read_model_info
    from desktop.services.models import model_files

    rows = []
    for path in model_files():
        try:
            info = read_model_info(path)
            rows.append({"path": str(path), "name": info.name, "version": info.version, "labels": list(info.labels),
                         "accuracy": info.metrics.get("accuracy"), "trained_on": info.trained_on})
            out.say(str(path))
            out.say(f"   {info.key}, {len(info.labels)} genres, trained on {info.trained_on or '?'}"
                    + (f", test accuracy {info.metrics['accuracy']:.3f}{measured_on(info.metrics)}" if "accuracy" in info.metrics else ""))
        except GenreTaggerError as exc:
            rows.append({"path": str(path), "error": exc.reason})
            out.warn(f"error: {exc}")
    if not rows:
        out.say("no models found; pass --model FILE to scan")
    out.data = {"models": rows}
    # a model folder with a file that is not a usable model is a listing that finished with a problem
    return EXIT_PARTIAL if any("error" in row for row in rows) else EXIT_OK


def say_mix_ups(out: Output, mix_ups: list) -> None:
    """The genres learn told apart least from another (library_head.MixUp), and what helps: more labels, or a merge."""
    if not mix_ups:
        return
    out.say("told apart least: " + ", ".join(
        f"{shortened(m.genre)} ({m.taken} of its {m.tracks} tracks taken for {shortened(m.taken_for)})" for m in mix_ups))
    # No merge named: Disco taken for Pop wants more labels, and only the listener knows whether one is part of the other.
    out.say("  more of their tracks tagged or corrected teach them apart; where one is part of the other to you, merge "
            "it into the other (genre-tagger genres --merge GENRE INTO)")


def cmd_learn(args, out: Output) -> int:
    """Learn the library's own genres from its tags and corrections."""
    from desktop.services.album_genres import album_genres_on
    from desktop.services.learning import LearnCancelled, learn
    from desktop.services.models import resolve_model, user_models_dir

    settings = LearnSettings(args.min_tracks, args.min_artists, args.folds)
    sessions = open_sessions(args)
    # Ctrl+C stops it at its next step with nothing changed, as the window's Cancel does; a second, at once.
    with stop_on_interrupt(out, "stopping at the learn's next step, before it changes anything") as stop:
        try:
            report = learn(sessions, resolve_model(args.base or args.model), user_models_dir(), settings,
                           activate=args.activate, stage=out.stage, cancel=stop)
        except LearnCancelled as exc:
            out.warn(str(exc))
            return EXIT_CANCELLED
    est = report.estimate
    out.say(report.summary() + f"; their genres {report.where_from()}.")
    out.say(f"{'genre':<24} {'tracks':>6} {'precision':>9} {'recall':>6} {'F1':>5}  most often taken for")
    for name, f in est.per_genre.items():
        taken = f"{shortened(f['taken_for'])} ({f['taken_for_tracks']})" if f["taken_for"] else "-"
        out.say(f"{padded(shortened(name), 24)} {f['tracks']:>6} {f['precision']:>9.2f} {f['recall']:>6.2f} {f['f1']:>5.2f}  {taken}")
    out.say(f"overall: accuracy {est.accuracy:.3f}, balanced {est.balanced_accuracy:.3f} "
            f"({est.folds}-fold cross-validation grouped by {est.grouped_by})")
    mix_ups = report.mix_ups()
    say_mix_ups(out, mix_ups)
    if report.base_accuracy is not None:
        out.say(f"the shipped model on the {report.base_tracks} of these tracks whose genre it knows: {report.base_accuracy:.3f}")
    if report.album_accuracy is not None:
        out.say(f"with one genre per album (`genres --per-album on`; {report.album_tracks:,} of these tracks share an "
                f"album): {report.album_accuracy:.3f}")
        with sessions() as s:
            if report.albums_help and not album_genres_on(s):
                out.say(f"one genre per album gets {(report.album_accuracy - est.accuracy) * 100:.0f} in 100 more of them right: "
                        "`genre-tagger genres --per-album on` turns it on for this library")
    for name, why in report.skipped:
        out.say(f"skipped {name}: {why}")
    out.say(f"saved {report.model_path}")
    if report.activated:
        out.say(f"it is now the active model ({report.why}); {count(report.repredicted, 'track')} re-predicted from their stored embeddings")
    else:
        out.say(f"not made active: {report.why} (`genre-tagger learn --activate` uses the learned one anyway)")
    out.data = {"genres": report.genres, "tracks": report.tracks, "accuracy": est.accuracy,
                "balanced_accuracy": est.balanced_accuracy, "per_genre": est.per_genre, "folds": est.folds,
                "grouped_by": est.grouped_by, "base_accuracy": report.base_accuracy, "base_tracks": report.base_tracks,
                "album_accuracy": report.album_accuracy, "album_tracks": report.album_tracks, "albums_help": report.albums_help,
                "skipped": [{"genre": g, "why": w} for g, w in report.skipped], "model": str(report.model_path),
                "active": report.activated, "why": report.why, "repredicted": report.repredicted,
                "seconds": round(report.seconds, 2), "sources": report.sources,
                "told_apart_least": [{"genre": m.genre, "taken_for": m.taken_for, "tracks_taken": m.taken, "tracks": m.tracks}
                                     for m in mix_ups]}
    say_unnamed_folders(out, report.unnamed)  # learned from genre folders: those it could not learn from, and why
    return EXIT_OK


def cmd_classify(args, out: Output) -> int:
    """Classify one recording outside the library (a file, or WAV on standard input)."""
    from desktop.core.genre_names import shown_genre
    from desktop.core.model import GenreModel
    from desktop.services.classify import classify_file, classify_wav_bytes
    from desktop.services.learning import active_model
    from desktop.services.models import resolve_model
    from desktop.store import queries

    sessions = open_sessions(args, out, incidental=True)  # only for its spellings and learned model, if any
    active = active_model(sessions) if not args.model else None
    model = GenreModel(resolve_model(args.model, active), device=args.device)
    with sessions() as s:
        spellings = queries.library_spellings(s)
    if args.file == "-":
        result = classify_wav_bytes(model, sys.stdin.buffer.read())
    else:
        result = classify_file(model, args.file)
    if result.top_genre is None:  # "no music: silent", but not "error: error: ..."
        raise GenreTaggerError(args.file, result.error if result.status == ERROR else f"{status_words(result.status)}: {result.error}")
    labels = [shown_genre(label, spellings) for label in model.info.labels]  # as the library shows and writes them
    ranked = sorted(zip(labels, result.probabilities.tolist(), strict=True), key=lambda x: -x[1])
    genre = shown_genre(result.top_genre, spellings)
    out.say(f"{args.file}: {genre} ({sureness(result.confidence)}, {status_words(result.status)}) with {model.info.key}")
    if result.note:
        out.warn(f"warning: {args.file}: {result.note}")
    say_bars(out, ranked, 16)
    say_window_tops(out, result.window_starts, result.window_probabilities.tolist(), labels)
    out.data = {"file": args.file, "genre": genre, "confidence": result.confidence, "status": result.status,
                "note": result.note, "model": model.info.key, "probabilities": dict(ranked),
                "windows": [{"start": s, "probabilities": dict(zip(labels, p, strict=True))}
                            for s, p in zip(result.window_starts, result.window_probabilities.tolist(), strict=True)]}
    return EXIT_OK
