"""Learn the listener's genres: labels from the library, a head on stored embeddings, a model, re-prediction."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from desktop.core.album_genre import album_consensus, album_key, is_compilation_of
from desktop.core.analysis import DEFAULT_THRESHOLD, verdict
from desktop.core.errors import GenreTaggerError
from desktop.core.genre_names import clean_name, display_names, genre_key, holds_genre, shown_genre
from desktop.core.genres import split_genres
from desktop.core.learned_model import (
    LEARNED_KEY_PREFIX,
    LIBRARY_MODEL_NAME,
    build_learned_model,
    learned_version,
)
from desktop.core.library_head import Estimate, GenreHead, MixUp, fit_head, often_taken_for
from desktop.core.model import ModelInfo, read_model_info
from desktop.core.wording import count, shortened
from desktop.services.album_genres import album_genres_on, settle_albums
from desktop.services.labels import Label, gather_labels, genre_folders_on, unnamed_folders
from desktop.services.library import respell_predictions, settle_tag_genres, verdict_values
from desktop.store import queries
from desktop.store.lock import writer_lock
from desktop.store.queries import FOLDER_GENRES, GENRE_FOLDERS, genre_merges
from desktop.store.schema import Analysis, Correction, GenreMerge, Meta, Track

log = logging.getLogger(__name__)
ACTIVE_MODEL = "active_model"  # Meta key: the model a scan uses when none is named
LIBRARY_ID = "library_id"  # Meta key: names this library's learned model files (libraries share the folder)
# Meta key: what the last learn learned from (JSON: tracks per genre key), whether its model is used, and why. A scan
# says when the labels have changed since (learn again), or, while they have not, why its model is not used.
LAST_LEARN = "last_learn"
RELEARN_AFTER = 0.05  # labels changed (added, removed, moved between genres) on this share of those learned from


class LearnError(GenreTaggerError):
    """The library cannot teach a model (yet); the reason says what is missing."""


class LearnCancelled(LearnError):
    """The listener stopped a learn before it changed anything: no model made active, no track's genre changed."""

    def __init__(self):
        super().__init__(None, "learning stopped; nothing changed")


def stop_if_cancelled(cancel: threading.Event | None) -> None:
    """Raise LearnCancelled once `cancel` is set (checked between a learn's steps)."""
    if cancel is not None and cancel.is_set():
        raise LearnCancelled()


@dataclass(frozen=True)
class LearnSettings:
    """How `learn` chooses genres and checks itself."""

    min_tracks: int = 5
    min_artists: int = 2
    folds: int = 5


ALBUMS_HELP_BY = 0.03  # the held-out accuracy one genre per album must add before it is offered (beyond fold noise)


@dataclass
class LearnReport:
    """What `learn` did, for the CLI and the GUI to tell the listener."""

    genres: list[str] = field(default_factory=list)
    tracks: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (genre, why)
    estimate: Estimate | None = None
    base_accuracy: float | None = None  # the base model on the same tracks, where its labels apply
    base_tracks: int = 0
    # The estimate again with one genre per album (each album's held-out probabilities averaged, as
    # `genres --per-album on` does for tracks without the listener's genre), and how many tracks share an album.
    album_accuracy: float | None = None
    album_tracks: int = 0
    model_path: Path | None = None
    repredicted: int = 0
    seconds: float = 0.0
    activated: bool = False
    why: str = ""  # why it was (not) made the active model
    sources: dict[str, int] = field(default_factory=dict)  # the labels learned from, by source (Label.source)
    unnamed: dict[str, int] = field(default_factory=dict)  # learned from genre folders: labels.unnamed_folders

    @property
    def albums_help(self) -> bool:
        """Whether one genre per album got clearly more of the held-out tracks right than each track alone did."""
        return self.album_accuracy is not None and self.album_accuracy - self.estimate.accuracy >= ALBUMS_HELP_BY

    def mix_ups(self) -> list[MixUp]:
        """The genres a third of whose held-out tracks or more were taken for one other genre: where more labels, or
        a merge, would help most."""
        return often_taken_for(self.estimate.per_genre) if self.estimate is not None else []

    def where_from(self) -> str:
        """Where the tracks' genres came from, in words: "from 1,234 genre tags, 56 corrections and 78 folder names"."""
        words = {"tag": "genre tag", "correction": "correction", "folder": "folder name"}
        parts = [count(self.sources[source], word) for source, word in words.items() if self.sources.get(source)]
        return "from " + (" and ".join(parts) if len(parts) < 3 else f"{', '.join(parts[:-1])} and {parts[-1]}")

    def summary(self) -> str:
        """One sentence: what was learned and how right it is on artists it had not seen."""
        unseen = "artists" if self.estimate.grouped_by == "artist" else "artists (or albums)"
        return (f"Learned {len(self.genres)} genres from {self.tracks:,} of your tracks, about "
                f"{self.estimate.accuracy:.0%} right on {unseen} it had not seen")


# ---- labels ---------------------------------------------------------------------------------------
def merges_in_effect(s: Session) -> list[tuple[str, str]]:
    """The merges that change a genre, as (the genre as the library spells it, the genre it counts as)."""
    merged = {k: v for k, v in genre_merges(s).items() if k != genre_key(v)}  # "Metal" -> "Metal" is no merge
    if not merged:
        return []
    texts = s.execute(select(Track.file_genre, Track.corrected_genre).where(Track.missing.is_(False)))
    spelled = display_names(name for row in texts for text in row if text for name in split_genres(text))
    return sorted(((shown_genre(k, spelled), v) for k, v in merged.items()), key=lambda pair: genre_key(pair[0]))


def genre_in_library(s: Session, name: str) -> bool:
    """Whether a present track's tag, correction or prediction names genre `name` (by key), or a merge leads to it."""
    key = genre_key(name)
    rows = s.execute(select(Track.file_genre, Track.corrected_genre, Track.predicted_genre).where(Track.missing.is_(False)))
    if any(holds_genre(text, key) for row in rows for text in row):
        return True
    return any(key in (from_key, genre_key(to_name)) for from_key, to_name in genre_merges(s).items())


def merge_genres(sessions: sessionmaker[Session], source: str, target: str) -> None:
    """Remember that genre `source` is `target` (a merge, or a rename when `target` is new)."""
    name = clean_name(target)
    if name is None or clean_name(source) is None:
        raise LearnError(None, f"cannot merge {source!r} into {target!r}: not a genre name")
    # "Rock; Pop" is two genres everywhere else: merged as one, it became the key of a genre no track names ("rockpop").
    if several := next((given for given in (source, name) if len(split_genres(given)) > 1), None):
        raise LearnError(None, f"cannot merge {source!r} into {target!r}: {several!r} names several genres; "
                               "merge one genre at a time")
    with sessions() as s:
        for from_key in {genre_key(source), genre_key(name)}:
            s.merge(GenreMerge(from_key=from_key, to_name=name))
        for m in s.scalars(select(GenreMerge).where(GenreMerge.to_name != name)):
            if genre_key(m.to_name) == genre_key(source):  # an earlier merge into `source` follows it
                m.to_name = name
        s.commit()


def merge_and_rename(sessions: sessionmaker[Session], source: str, target: str) -> int:
    """Remember that `source` is `target` and show the library's tracks so at once; how many tracks changed."""
    merge_genres(sessions, source, target)
    name = clean_name(target)
    changed = rename_shown_genre(sessions, source, name)
    if genre_key(name) == genre_key(source):  # a merge taken back: the listener's own words come back too
        changed += restore_corrections(sessions, genre_key(source))
    return changed


def restore_corrections(sessions: sessionmaker[Session], key: str) -> int:
    """Give back corrections of genre `key` (by key) that a merge renamed in the library; how many tracks.

    A merge renames `Track.corrected_genre` but never the correction history, so the newest
    `Correction` of a track still holds what the listener said; a later correction is a newer row.
    """
    newest = select(Correction.track_id, func.max(Correction.id).label("id")).group_by(Correction.track_id).subquery()
    with writer_lock(sessions), sessions() as s:
        rows = s.execute(select(Track, Correction.genre)
                         .join(newest, newest.c.track_id == Track.id).join(Correction, Correction.id == newest.c.id)
                         .where(Track.corrected_genre.is_not(None), Track.corrected_genre != Correction.genre)).all()
        restored = 0
        for track, said in rows:
            if genre_key(said) == key:
                track.corrected_genre = track.genre = said
                restored += 1
        s.commit()
    return restored


def rename_shown_genre(sessions: sessionmaker[Session], source: str, target: str) -> int:
    """Show tracks whose predicted or corrected genre is `source` (by key) as `target`; how many changed.

    Only the library's view changes: files are not rewritten (a write of the new name goes through
    the usual journalled path when the listener applies genres).
    """
    key, changed = genre_key(source), 0
    with writer_lock(sessions), sessions() as s:
        corrected = [n for n in s.scalars(select(Track.corrected_genre).where(Track.corrected_genre.is_not(None)).distinct())
                     if genre_key(n) == key]
        predicted = [n for n in s.scalars(select(Track.predicted_genre).where(Track.predicted_genre.is_not(None)).distinct())
                     if genre_key(n) == key]
        if corrected:  # a correction is the shown genre
            changed += s.execute(update(Track).where(Track.corrected_genre.in_(corrected))
                                 .values(corrected_genre=target, genre=target)).rowcount
        if predicted:  # a prediction is shown only where nobody corrected the track
            s.execute(update(Track).where(Track.predicted_genre.in_(predicted), Track.corrected_genre.is_not(None))
                      .values(predicted_genre=target))
            changed += s.execute(update(Track).where(Track.predicted_genre.in_(predicted), Track.corrected_genre.is_(None))
                                 .values(predicted_genre=target, genre=target)).rowcount
        changed += settle_tag_genres(s)  # a genre from a file's tag: shown under the merge too
        s.commit()
    return changed


# ---- learning ---------------------------------------------------------------------------------------
def embeddings_of(s: Session, base_key: str) -> dict[int, np.ndarray]:
    """track id -> the base network's stored embedding of the track's current audio."""
    library_prefix = f"{LEARNED_KEY_PREFIX}{learned_version(base_key, '')}"
    rows = s.execute(select(Analysis.track_id, Analysis.embedding).join(Track, Track.id == Analysis.track_id)
                     .where(or_(Analysis.model_key == base_key, Analysis.model_key.startswith(library_prefix)),
                            Analysis.audio_hash == Track.audio_hash, Analysis.embedding.is_not(None)))
    return {track_id: np.frombuffer(blob, "<f4") for track_id, blob in rows}


def choose_genres(labels: list[Label], display: dict[str, str], settings: LearnSettings) -> tuple[list[str], list[tuple[str, str]]]:
    """Keys of genres with enough tracks and artists; (name, why) for the rest."""
    tracks, groups = Counter(), defaultdict(set)
    for label in labels:
        tracks[label.key] += 1
        groups[label.key].add(label.group)
    keep, skipped = [], []
    broader = broader_genres(tracks, display)
    for key, n in tracks.most_common():
        hint = f" (or merge it into {display[broader[key]]})" if key in broader else ""
        if n < settings.min_tracks:
            skipped.append((display[key], f"{n} track{'s' if n != 1 else ''}; needs {settings.min_tracks}{hint}"))
        elif len(groups[key]) < settings.min_artists:
            skipped.append((display[key], f"{len(groups[key])} artist; needs {settings.min_artists} so it can be "
                                          f"checked on an unseen one{hint}"))
        else:
            keep.append(key)
    return sorted(keep, key=lambda k: display[k].casefold()), skipped


def broader_genres(tracks: Counter, display: dict[str, str]) -> dict[str, str]:
    """For genre keys whose name holds another genre's every word ("Heavy Metal" holds "Metal"), the
    broader one the library tags most: a merge the listener may want when the narrow one is too small."""
    words = {key: frozenset(re.findall(r"[^\W_]+", display[key].casefold())) for key in tracks}  # any script's
    out = {}
    for key, own in words.items():
        wider = [k for k, w in words.items() if w and w < own]  # a proper subset: fewer words, all of them ours
        if wider:
            out[key] = max(wider, key=lambda k: (tracks[k], display[k]))
    return out


def base_accuracy(s: Session, base_key: str, base_labels: tuple[str, ...], labels: list[Label]) -> tuple[float | None, int]:
    """The base model's accuracy on the labelled tracks whose genre it knows (its labels matched by key)."""
    known = {genre_key(name) for name in base_labels}
    wanted = {lab.track_id: lab.key for lab in labels if lab.key in known}
    if not wanted:
        return None, 0
    rows = s.execute(select(Analysis.track_id, Analysis.top_genre).where(Analysis.model_key == base_key))
    hits = [genre_key(top or "") == wanted[track_id] for track_id, top in rows if track_id in wanted]
    return (float(np.mean(hits)) if hits else None), len(hits)


def album_accuracy(s: Session, labels: list[Label], probabilities: np.ndarray, y: np.ndarray) -> tuple[float | None, int]:
    """The held-out accuracy when each album's labelled tracks share the genre of their mean probabilities
    [tracks, genres] (compilations and lone tracks keep their own); None where no two labelled tracks share an
    album. Also how many tracks do."""
    ids = {lab.track_id: n for n, lab in enumerate(labels)}
    albums: dict[tuple[str, str], list] = {}
    for chunk in queries.id_chunks(sorted(ids)):
        for row in s.execute(select(Track.id, Track.folder, Track.album, Track.artist, Track.album_artist, Track.compilation)
                             .where(Track.id.in_(chunk), Track.album != "")):
            albums.setdefault(album_key(row.folder, row.album), []).append(row)
    pred = probabilities.argmax(1)  # [tracks]
    shared = 0
    for tracks in albums.values():
        rows = [ids[t.id] for t in tracks]
        album = album_consensus(probabilities[rows], is_compilation_of(tracks))
        if album is not None:
            pred[rows] = album.argmax()
            shared += len(rows)
    return (float(np.mean(pred == y)) if shared else None), shared


def how_many_more(labels: list[Label], display: dict[str, str], settings: LearnSettings) -> str:
    """What the listener could tag so that learning can start."""
    tracks = Counter(label.key for label in labels)
    artists: dict[str, set[str]] = {}
    for label in labels:
        artists.setdefault(label.key, set()).add(label.group)
    best = tracks.most_common(3)
    if not best:
        return (f"tag (or correct) at least {settings.min_tracks} tracks of each of two genres, "
                f"by {settings.min_artists} or more artists each")

    def said(key: str, n: int) -> str:
        # Enough tracks but too few artists: "Soundtrack: 21" alone left the listener wondering why 21 were not enough.
        few = len(artists[key]) if n >= settings.min_tracks and len(artists[key]) < settings.min_artists else 0
        return f"{shortened(display[key])}: {n}" + (f" by {count(few, 'artist')}" if few else "")

    shown = ", ".join(said(k, n) for k, n in best)
    merges = [f"merging {shortened(display[narrow])} into {shortened(display[wide])} gives {tracks[narrow] + tracks[wide]}"
              for narrow, wide in broader_genres(tracks, display).items()
              if max(tracks[narrow], tracks[wide]) < settings.min_tracks <= tracks[narrow] + tracks[wide]]
    hint = f"; {', '.join(merges)} (genres --merge, or Merge Into… in the sidebar)" if merges else ""
    return (f"it needs two genres with {settings.min_tracks}+ tracks by {settings.min_artists}+ artists each "
            f"(most tagged so far: {shown}){hint}")


def learn(sessions: sessionmaker[Session], base_model: Path, out_dir: Path,
          settings: LearnSettings = LearnSettings(), activate: bool | None = None,
          stage: Callable[[str], None] = lambda _text: None, how_to_use_folders: str = "",
          cancel: threading.Event | None = None) -> LearnReport:
    """Fit the listener's genres on stored embeddings, save the model, make it active, re-predict the library.

    `activate` None decides by the figures: the learned model becomes active unless the base model,
    on the same tracks, knows nearly all of their genres and gets clearly more of them right.
    `stage` hears what it is doing, in words ("Learning 12 genres from 4,321 tracks…"): seconds each at 100,000.
    `how_to_use_folders`: how the face turns genre folders on, said where they would teach what the tags cannot.
    `cancel` set stops it between steps with LearnCancelled, the library as it was (the model file made meanwhile removed).
    """
    how_to_use_folders = how_to_use_folders or FOLDERS_COMMAND
    started = time.monotonic()
    base = read_model_info(base_model)
    if base.metadata.get("library_head"):
        raise LearnError(base.path, "is itself learned from a library; learn from its base network (--base FILE)")
    stage("Reading your library's genres…")
    with writer_lock(sessions), sessions() as s:
        labels, display = gather_labels(s)
        learned_from = what_labels_teach(labels, display, settings)  # as readiness sees the library: analysed or not
        embeddings = embeddings_of(s, base.key)
        stop_if_cancelled(cancel)
        analysed = len(embeddings)
        labels = [lab for lab in labels if lab.track_id in embeddings]
        if not analysed:
            raise LearnError(base.path, f"no track has been analysed by {base.key} yet; scan your music first "
                                      "(`genre-tagger scan`, or Scan in the window)")
        keep, skipped = choose_genres(labels, display, settings)
        if len(keep) < 2:
            what = "no usable genre tags" if not labels else (f"only one genre ({display[keep[0]]}) is usable" if keep
                                                                else "no genre has enough tracks and artists")
            how = genre_folders_hint(s, settings, how_to_use_folders) or how_many_more(labels, display, settings)
            raise LearnError(None, f"cannot learn yet: {what} among {analysed:,} analysed tracks; {how}")
        used = [lab for lab in labels if lab.key in set(keep)]
        x = np.stack([embeddings[lab.track_id] for lab in used])  # [n, dim]
        y = np.array([keep.index(lab.key) for lab in used])
        groups = np.array([lab.group for lab in used])
        names = tuple(display[k] for k in keep)
        grouped_by = "artist" if all(g.startswith("artist:") for g in groups) else "artist (album or folder where missing)"
        folds = max(2, min(settings.folds, len(set(groups))))
        stage(f"Learning {len(names)} genres from {count(len(used), 'track')}…")
        head, estimate = fit_head(x, y, groups, names, folds=folds, grouped_by=grouped_by)
        stop_if_cancelled(cancel)
        report = LearnReport(list(names), len(used), skipped, estimate)
        report.sources = dict(Counter(lab.source for lab in used))
        report.unnamed = unnamed_folders(s) if report.sources.get("folder") else {}  # what it could not learn from
        report.base_accuracy, report.base_tracks = base_accuracy(s, base.key, base.labels, used)
        report.album_accuracy, report.album_tracks = album_accuracy(s, used, estimate.probabilities, y)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")  # microseconds: two learns never share a name
    prefix = f"library-{library_id(sessions)}-"
    out = out_dir / f"{prefix}{stamp}.onnx"
    report.model_path = build_learned_model(base.path, head, out, learned_metadata(base, report, stamp, settings))
    prune_learned_models(out_dir, prefix, keep=KEEP_LEARNED, spare=active_model(sessions))
    log.info("learn: %s; model %s", report.summary(), out)
    report.activated, report.why = should_activate(report) if activate is None else (activate, "as asked")
    try:
        stop_if_cancelled(cancel)
        # The model made active and the tracks' verdicts change in one transaction: killed between the two, the
        # library held a learned model with no analyses by it, and its next scan decoded every file again.
        if not report.activated and activate is None and active_model(sessions) is not None:
            # The figures say the base model is better: the library goes back to it, not to an older learned one.
            stage("Giving your tracks the shipped model's genres again…")
            report.repredicted = restore_base_verdicts(sessions, base.key, deactivate=True, cancel=cancel)
        if report.activated:
            stage(f"Giving {count(analysed, 'track')} their learned genres…")
            report.repredicted = repredict(sessions, read_model_info(out), head, base.key, activate=True, cancel=cancel)
    except LearnCancelled:
        out.unlink(missing_ok=True)  # never made active: nothing would use it
        raise
    remember_learn(sessions, {"genres": learned_from, "used": report.activated, "why": report.why})
    report.seconds = time.monotonic() - started
    return report


def remember_learn(sessions: sessionmaker[Session], learned: dict) -> None:
    """Keep what a learn learned from and whether its model is used (LAST_LEARN), for the scans after it to say."""
    with sessions() as s:
        s.merge(Meta(key=LAST_LEARN, value=json.dumps(learned)))
        s.commit()


def what_labels_teach(labels: list[Label], display: dict[str, str], settings: LearnSettings) -> dict[str, int]:
    """Tracks per genre key among the genres the labels would teach: what a learn learns from."""
    keep = set(choose_genres(labels, display, settings)[0])
    return dict(Counter(lab.key for lab in labels if lab.key in keep))


def last_learn(s: Session) -> dict:
    """What the last learn learned from, and whether its model is used (see LAST_LEARN); {} before any."""
    row = s.get(Meta, LAST_LEARN)
    try:
        learned = json.loads(row.value) if row else {}
    except ValueError:  # never written so by us: as if never learned
        return {}
    return learned if isinstance(learned, dict) and isinstance(learned.get("genres"), dict) else {}


def labels_changed(learned: dict[str, int], teach: dict[str, int]) -> int:
    """How many labels differ between two what_labels_teach counts (added, removed, or in another genre, each one)."""
    return sum(abs(learned.get(key, 0) - teach.get(key, 0)) for key in {*learned, *teach})


def relearn_hint(sessions: sessionmaker[Session], settings: LearnSettings = LearnSettings(),
                 how_to_learn: str = "`genre-tagger learn` learns them again") -> str:
    """For a library whose learned model is in use: where its genres changed since (RELEARN_AFTER of the labels, and at
    least 5), words saying so ("your genres changed since they were learned: …"); else ''."""
    with sessions() as s:
        learned = last_learn(s)
        if not learned.get("used"):
            return ""
        labels, display = gather_labels(s)
        teach = what_labels_teach(labels, display, settings)
    before = learned["genres"]
    if labels_changed(before, teach) < max(5, RELEARN_AFTER * sum(before.values())):
        return ""
    deltas = [(d, k) for k in {*before, *teach} if (d := teach.get(k, 0) - before.get(k, 0))]
    deltas.sort(key=lambda dk: (-abs(dk[0]), dk[1]))  # the genres that changed most first
    shown = ", ".join(f"{display.get(k, k)} {d:+,d}" for d, k in deltas[:3]) + (", …" if len(deltas) > 3 else "")
    return f"your genres changed since they were learned ({shown} tracks): {how_to_learn}"


def should_activate(report: LearnReport) -> tuple[bool, str]:
    """Use the learned model unless the base model does clearly better on (nearly) the same tracks."""
    est = report.estimate
    if report.base_accuracy is None or report.base_tracks < 0.8 * report.tracks:
        return True, "it knows genres the shipped model does not"
    if report.base_accuracy > est.accuracy + 0.02:
        return False, (f"the shipped model gets more of these tracks right ({report.base_accuracy:.0%} against "
                       f"{est.accuracy:.0%}), so it stays in use")
    return True, f"it does as well or better than the shipped model on your tracks ({est.accuracy:.0%} against {report.base_accuracy:.0%})"


def learned_metadata(base: ModelInfo, report: LearnReport, stamp: str, settings: LearnSettings) -> dict[str, str]:
    """The contract metadata of a learned model: its name, base network and honest estimate."""
    est = report.estimate
    metrics = {"accuracy": round(est.accuracy, 4), "balanced_accuracy": round(est.balanced_accuracy, 4),
               "per_label": est.per_genre, "tracks": report.tracks,
               "evaluation": f"{est.folds}-fold cross-validation grouped by {est.grouped_by}, on your library's own tags",
               "base_accuracy_same_tracks": report.base_accuracy, "base_tracks": report.base_tracks}
    return {"model_name": LIBRARY_MODEL_NAME, "model_version": learned_version(base.key, stamp),
            "trained_on": f"your library ({report.tracks} tracks, {len(report.genres)} genres)",
            "split": metrics["evaluation"], "test_metrics": json.dumps(metrics), "base_model": base.key,
            "learn_settings": json.dumps(vars(settings))}


LEARN_COMMAND = "run `genre-tagger learn`"  # how the command line learns; the window names its own button
FOLDERS_COMMAND = "`genre-tagger genres --folder-names on` learns from them"  # the window names its own menu item
ACTIVATE_COMMAND = "`genre-tagger learn --activate` uses it anyway"  # the window: its report's Use It Anyway


@dataclass
class GenreFoldersChange:
    """What turning genre folders on or off did."""

    foldered: int = 0  # tracks with no genre of their own that take their folder's now
    set_aside: bool = False  # the learned model went with them: nothing else in the library teaches two genres
    unnamed: dict[str, int] = field(default_factory=dict)  # turned on: labels.unnamed_folders, to ask about


def follow_labels(s: Session, threshold: float) -> None:
    """What follows a change in where labels come from (genre folders, the names counted as folder genres): genres
    shown in the library's spellings ("Klassik/" spells the shipped model's Classical so), albums' genres."""
    respell_predictions(s, queries.library_spellings(s))
    if album_genres_on(s):  # an album's genre is the one its listener labels give
        settle_albums(s, threshold, force=True)


def set_genre_folders(sessions: sessionmaker[Session], on: bool, threshold: float = DEFAULT_THRESHOLD,
                      settings: LearnSettings = LearnSettings()) -> GenreFoldersChange:
    """Learn from genre folders' names (~/Music/Jazz/…) where a track has no genre of its own, or stop (an album's
    genre follows, one genre per album being on). Stopped, a learned model nothing else could teach is set aside:
    the shipped model's genres come back."""
    change = GenreFoldersChange()
    with writer_lock(sessions), sessions() as s:
        if on:
            s.merge(Meta(key=GENRE_FOLDERS, value="on"))
        else:
            s.execute(delete(Meta).where(Meta.key == GENRE_FOLDERS))
        s.flush()
        follow_labels(s, threshold)
        s.commit()
        labels, display = gather_labels(s)
        change.foldered = sum(label.source == "folder" for label in labels)
        change.unnamed = unnamed_folders(s) if on else {}
        teachable = len(choose_genres(labels, display, settings)[0]) >= 2
    learned = active_model(sessions)
    if not on and learned is not None and not teachable:
        base_key = read_model_info(learned).metadata.get("base_model", "")
        restore_base_verdicts(sessions, base_key, threshold, deactivate=True)
        change.set_aside = True
    return change


@dataclass
class FolderGenresChange:
    """What set_folder_genres did."""

    kept: list[str]  # the names counted as genres now
    known_already: list[str] = field(default_factory=list)  # of those asked (on), genres known anyway: not kept


def set_folder_genres(sessions: sessionmaker[Session], names: list[str], on: bool,
                      threshold: float = DEFAULT_THRESHOLD) -> FolderGenresChange:
    """Count folders named `names` as genres ("Schlager": no list names it) where the library learns from its genre
    folders (on), or no longer (off). A genre known already is not kept: it counts anyway. LearnError for a name that
    is no genre or names several, or (off) one not counted."""
    asked = []
    for name in names:
        if (clean := clean_name(name)) is None:
            raise LearnError(None, f"{name!r} is not a genre name")
        if len(split_genres(clean)) > 1:
            raise LearnError(None, f"{name!r} names several genres: one folder name is one genre")
        asked.append(clean)
    with writer_lock(sessions), sessions() as s:
        kept, already = queries.meta_folder_list(s, FOLDER_GENRES), []
        if on:
            known = queries.known_genre_keys(s, genre_merges(s))  # those kept among them
            already = [given for given, name in zip(names, asked, strict=True) if genre_key(name) in known]
            kept += [name for i, name in enumerate(asked) if genre_key(name) not in known | {genre_key(n) for n in asked[:i]}]
        else:
            if missing := [name for name in asked if genre_key(name) not in {genre_key(k) for k in kept}]:
                raise LearnError(None, f"{missing[0]} is not counted as a folder genre ("
                                       + (f"those counted: {', '.join(kept)})" if kept else "none is)"))
            kept = [k for k in kept if genre_key(k) not in {genre_key(name) for name in asked}]
        s.merge(Meta(key=FOLDER_GENRES, value=json.dumps(kept)))
        s.flush()
        follow_labels(s, threshold)
        s.commit()
    return FolderGenresChange(kept, already)


def readiness(sessions: sessionmaker[Session], settings: LearnSettings = LearnSettings(),
              how_to_learn: str = LEARN_COMMAND, how_to_use_folders: str = FOLDERS_COMMAND,
              how_to_use_anyway: str = ACTIVATE_COMMAND) -> str:
    """One line for a library with nothing learned in use: can `learn` run (`how_to_learn` says how), or what would
    let it (the library's genre folders, where it does not learn from them yet: `how_to_use_folders`); where the last
    learn learned the same and was not used, why (`how_to_use_anyway` uses it)."""
    with sessions() as s:
        labels, display = gather_labels(s)
        teach = what_labels_teach(labels, display, settings)
        learned, n = last_learn(s), len(teach)
        if n >= 2 and learned.get("genres") == teach and not learned.get("used"):  # learned just this, not used
            return (f"learned your {n} genres from {count(sum(teach.values()), 'track')}; not used: {learned.get('why')} "
                    f"({how_to_use_anyway})")
        if n >= 2:
            return f"{n} of your library's genres are ready to learn: {how_to_learn}"
        if hint := genre_folders_hint(s, settings, how_to_use_folders):
            return f"nothing learned from your library yet; {hint}"
    return f"nothing learned from your library yet; {how_many_more(labels, display, settings)}"


def genre_folders_hint(s: Session, settings: LearnSettings, how_to_use_folders: str) -> str:
    """Where the library does not learn from its genre folders yet and they would teach two genres or more, the
    words that say so ("your folders are named for genres (Classical, Jazz, …): <how>"); else ''."""
    if genre_folders_on(s):
        return ""
    labels, names = gather_labels(s, folders=True)
    kept, _ = choose_genres(labels, names, settings)
    if len(kept) < 2:
        return ""
    shown = ", ".join(names[k] for k in kept[:4]) + (", …" if len(kept) > 4 else "")
    return f"your folders are named for genres ({shown}): {how_to_use_folders}"


# ---- the active model and re-prediction -----------------------------------------------------------
KEEP_LEARNED = 3  # the newest learned models kept in the user's folder (the active one and two before it)


def library_id(sessions: sessionmaker[Session]) -> str:
    """This library's short random id, made once and kept in its database."""
    with sessions() as s:
        row = s.get(Meta, LIBRARY_ID)
        if row is None:
            row = s.merge(Meta(key=LIBRARY_ID, value=uuid.uuid4().hex[:8]))
            s.commit()
        return row.value


def prune_learned_models(folder: Path, prefix: str, keep: int, spare: Path | None = None) -> None:
    """Delete this library's older learned models (each a copy of the base network) beyond the newest `keep`.

    Only files named with this library's `prefix`: another library's active model is never touched,
    and neither is `spare` (this library's active one). Files of versions before library ids are left.
    """
    for old in sorted(folder.glob(f"{prefix}*.onnx"))[:-keep]:
        if spare is None or old.resolve() != spare.resolve():
            old.unlink(missing_ok=True)


def set_active_model(sessions: sessionmaker[Session], path: Path | None) -> None:
    """The model scans use when none is named (None: back to the shipped one)."""
    with sessions() as s:
        _set_active(s, path)
        s.commit()


def _set_active(s: Session, path: Path | None) -> None:
    if path is None:
        s.execute(delete(Meta).where(Meta.key == ACTIVE_MODEL))
    else:
        s.merge(Meta(key=ACTIVE_MODEL, value=str(path)))


def active_model(sessions: sessionmaker[Session]) -> Path | None:
    """The library's active model, if one was learned and its file is still there."""
    with sessions() as s:
        row = s.get(Meta, ACTIVE_MODEL)
    if row is None:
        return None
    path = Path(row.value)
    if not path.is_file():
        log.warning("the learned model %s is gone; using the shipped model", path)
        return None
    return path


def lost_model_warning(sessions: sessionmaker[Session]) -> str | None:
    """What to tell the listener when the library's learned model file is gone (else None)."""
    with sessions() as s:
        row = s.get(Meta, ACTIVE_MODEL)
    if row is None or Path(row.value).is_file():
        return None
    return (f"{row.value}: your learned model is gone, so the shipped model's genres are used; "
            "`genre-tagger learn` (in the window: Edit > Learn My Genres) makes it again from your tags and corrections")


def restore_base_verdicts(sessions: sessionmaker[Session], base_key: str, threshold: float = DEFAULT_THRESHOLD,
                          deactivate: bool = False, cancel: threading.Event | None = None) -> int:
    """Give tracks back the base model's stored verdicts (after a learned model is set aside); with `deactivate`,
    set the learned model aside in the same transaction. `cancel` set before it commits: LearnCancelled, nothing changed."""
    with writer_lock(sessions), sessions() as s:
        if deactivate:
            _set_active(s, None)
        rows = s.execute(select(Track.id, Track.corrected_genre, Track.file_genre, Analysis.status, Analysis.top_genre,
                                Analysis.confidence, Analysis.error).join(Analysis, Analysis.track_id == Track.id)
                         .where(Analysis.model_key == base_key, Analysis.audio_hash == Track.audio_hash)).all()
        spellings, merged = queries.library_spellings(s), genre_merges(s)
        if rows:
            s.execute(update(Track), [dict(verdict_values(status, shown_genre(top, spellings) if top else None,
                                                          confidence or 0.0, error, fixed, tag, merged), id=track_id)
                                      for track_id, fixed, tag, status, top, confidence, error in rows])
        s.execute(delete(Analysis).where(Analysis.model_key.startswith(LEARNED_KEY_PREFIX)))
        settle_albums(s, threshold)
        stop_if_cancelled(cancel)  # leaving the block unfinished rolls the transaction back
        s.commit()
    return len(rows)


def repredict(sessions: sessionmaker[Session], info: ModelInfo, head: GenreHead, base_key: str,
              threshold: float = DEFAULT_THRESHOLD, activate: bool = False, cancel: threading.Event | None = None) -> int:
    """Give every analysed track the learned verdict from its stored embedding (nothing is decoded); with
    `activate`, make the learned model (`info.path`) the active one in the same transaction. `cancel` set before
    it commits: LearnCancelled, nothing changed."""
    with writer_lock(sessions), sessions() as s:
        if activate:
            _set_active(s, info.path)
        stored = embeddings_of(s, base_key)
        if not stored:
            s.commit()
            return 0
        ids = np.fromiter(stored, int, len(stored))
        x = np.stack([stored[i] for i in ids])  # [n, dim]
        probs = head.probabilities(x)  # [n, genres]
        novel = head.novel(x)  # [n]
        top = probs.argmax(1)
        # Whole-table column reads: an IN list of 100,000 ids would pass SQLite's limit on parameters.
        hashes, corrected, tags = {}, {}, {}
        for track_id, audio_hash, fixed, tag in s.execute(select(Track.id, Track.audio_hash, Track.corrected_genre,
                                                                 Track.file_genre)):
            hashes[track_id], corrected[track_id], tags[track_id] = audio_hash, fixed, tag
        # What the base analysis said beside its verdict (a file decoded only in part) still holds for the new one.
        notes = dict(s.execute(select(Analysis.track_id, Analysis.error).where(Analysis.model_key == base_key,
                                                                                 Analysis.error.is_not(None))).all())
        labels = list(info.labels)
        stop_if_cancelled(cancel)  # before the writes, most of its time
        s.execute(delete(Analysis).where(Analysis.model_key.startswith(LEARNED_KEY_PREFIX), Analysis.model_key != info.key))
        s.execute(delete(Analysis).where(Analysis.model_key == info.key))
        rows, verdicts = [], []
        for n, track_id in enumerate(ids.tolist()):
            confidence = float(probs[n, top[n]])
            status = verdict(confidence, threshold, bool(novel[n]))
            rows.append({"track_id": track_id, "model_key": info.key, "audio_hash": hashes[track_id], "status": status,
                         "top_genre": labels[top[n]], "confidence": confidence, "labels": labels,
                         "probabilities": np.round(probs[n], 6).tolist(), "window_starts": [], "window_probabilities": [],
                         "embedding": stored[track_id].astype("<f4").tobytes(), "error": notes.get(track_id)})
            verdicts.append((track_id, status, info.labels[top[n]], confidence))
        s.execute(insert(Analysis), rows)
        # One executemany UPDATE by primary key: 100,000 ORM objects would take many times longer.
        merged = genre_merges(s)
        s.execute(update(Track), [dict(verdict_values(status, genre, confidence, notes.get(track_id), corrected[track_id],
                                                      tags[track_id], merged), id=track_id)
                                  for track_id, status, genre, confidence in verdicts])
        settle_albums(s, threshold)
        stop_if_cancelled(cancel)  # leaving the block unfinished rolls the transaction back
        s.commit()
    return len(ids)

