"""Windows of the labelled clips' audio, varied and answered by the teacher: distillation targets in the
music the corpus lacks (rock, blues, hip-hop, reggae, country), with no label anywhere.

The student copies the teacher well on the game-music corpus and poorly on other music
(models/default.md, "fidelity"). The labelled clips are 78 minutes of exactly that other music. Each
clip gives `variants` windows: a random 3 s piece at a random speed, over a quiet corpus track half
of the time, at a random level (mixing's range); the teacher answers each. One shard per clip, named like a corpus
shard and recording the clip's path, so `adapt` can leave out the clips of a held-out fold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainer.data.cache import DecodeCache, DecodeError
from trainer.distill.mixing import at_random_level, corpus_tracks, random_segment, random_speed, rms
from trainer.distill.targets import TARGETS_FRONTEND, refuse_other_teacher, shard_name, write_shard
from trainer.distill.teacher import TEACHER_RATE, Teacher

CLIP_SOURCE = "labelled-clip"  # the shards' source: their windows are never validation windows
UNDERLAY_CHANCE = 0.5  # share of windows with a corpus track underneath
CLIP_SHARE = (0.6, 0.9)  # the clip's share of such a mix: the clip stays what the teacher hears most
TRIES = 50  # draws per window before the clip is given up as too short or silent


class ClipError(ValueError):
    """A clip that cannot give windows (shorter than one window at the fastest speed, or silent); names it."""


def clip_variant(clip: np.ndarray, underlays: list[np.ndarray], length: int, rng: np.random.Generator) -> np.ndarray | None:
    """One varied window of a clip [length]; None when the draw hit silence or a too-short track."""
    piece = random_segment(clip, length, random_speed(rng), rng)
    if piece is None:
        return None
    window = piece / rms(piece)  # [length], unit RMS (random_segment refused silence)
    if underlays and rng.random() < UNDERLAY_CHANCE:
        under = random_segment(underlays[int(rng.integers(len(underlays)))], length, random_speed(rng), rng)
        if under is None:
            return None
        share = rng.uniform(*CLIP_SHARE)
        window = share * window + (1 - share) * (under / rms(under))  # [length]
    return at_random_level(window, rng)


def clip_variants(clip: np.ndarray, underlays: list[np.ndarray], count: int, length: int, seed) -> np.ndarray:
    """`count` varied windows of one clip [count, length], the same for the same seed; ClipError when it cannot give them."""
    rng = np.random.default_rng(seed)
    out = np.zeros((count, length), np.float32)
    for i in range(count):
        for _ in range(TRIES):
            window = clip_variant(clip, underlays, length, rng)
            if window is not None:
                out[i] = window
                break
        else:
            raise ClipError(f"no audible {length / TEACHER_RATE:g} s window in {TRIES} draws")
    return out


def prepare_clip_targets(data, teacher_path, out, variants: int, corpus=None, cache=".cache/decoded", seed: int = 0,
                         window_seconds: float = 3.0, say=print) -> Path:
    """Write `variants` teacher-answered windows of every labelled clip under `out`, one shard per clip; returns `out`.

    Clip i's windows are drawn from seed (seed, i) alone, so a resumed run (or another teacher's
    folder) holds the same windows. `corpus` (a manifest) supplies the underlay tracks; None for none.
    Unreadable or unusable clips are named and skipped.
    """
    from trainer.data.sources import discover
    from trainer.frontend import MelFrontEnd

    if variants <= 0:
        raise ValueError(f"--variants must be a positive number of windows per clip, got {variants}")
    length = int(round(window_seconds * TEACHER_RATE))
    records = discover(data)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    refuse_other_teacher(out, teacher_path)
    # Clip i keeps its index (and so its windows' seed) whichever clips are already done.
    todo = [(i, r, out / shard_name(r.path)) for i, r in enumerate(records) if not (out / shard_name(r.path)).exists()]
    if not todo:
        return out
    decoder = DecodeCache(Path(cache), TEACHER_RATE)
    underlays = corpus_tracks(corpus, cache, say)[0] if corpus else []
    teacher, frontend = None, None
    for i, record, shard in todo:
        try:
            windows = clip_variants(decoder.load(record.path), underlays, variants, length, seed=[seed, i])  # [V, S]
        except DecodeError as exc:
            say(f"skipped {exc.path}: {exc.reason}")
            continue
        except ClipError as exc:
            say(f"skipped {record.path}: {exc}")
            continue
        if teacher is None:  # loaded once, and only when there is something to answer
            teacher, frontend = Teacher(teacher_path), MelFrontEnd(TARGETS_FRONTEND).eval()
        write_shard(shard, windows, teacher, frontend, source=CLIP_SOURCE, path=str(record.path))
        say(f"[{i + 1}/{len(records)}] {record.path.name}: {variants} windows")
    return out
