"""Distillation targets: every 3 s window of the corpus, its student log-mel and its teacher outputs.

One shard (.npz) per audio file, written atomically, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from trainer.data.cache import DecodeCache, DecodeError
from trainer.distill.corpus import read_corpus
from trainer.distill.teacher import TEACHER_RATE, Teacher, path_list
from trainer.frontend import FrontEndConfig, MelFrontEnd

SILENCE_RMS = 10 ** (-50 / 20)  # windows quieter than -50 dBFS teach nothing
# The student log-mel stored in every shard: the teacher's own STFT settings (16 kHz, 512 / 256, 96 mels).
TARGETS_FRONTEND = FrontEndConfig(sample_rate=TEACHER_RATE)


def corpus_windows(audio: np.ndarray, length: int, hop: int | None = None) -> np.ndarray:
    """Windows of a track every `hop` samples (default `length`: no overlap) [N, length], silent ones dropped."""
    hop = hop or length
    if hop <= 0:
        raise ValueError(f"window step must be positive, got {hop} samples")
    if len(audio) < length:
        return np.zeros((0, length), np.float32)
    audio = np.asarray(audio, dtype=np.float32)
    windows = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(audio, length)[::hop])  # [N, length]
    rms = np.sqrt((windows**2).mean(axis=1))  # [N]
    return windows[rms > SILENCE_RMS]


def shard_files(folder: Path) -> list[Path]:
    """The target shards in a folder, sorted by name; a write cut short (its .tmp.npz) is not one."""
    return sorted(p for p in folder.glob("*.npz") if not p.name.endswith(".tmp.npz"))


def shard_name(path: Path) -> str:
    """A stable shard file name for an audio file."""
    return hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16] + ".npz"


@torch.no_grad()
def prepare_targets(manifest, teacher_path, out, cache=".cache/decoded", window_seconds=3.0, hop_seconds=None,
                    say=print) -> Path:
    """Write one shard per corpus file under `out`; returns `out`.

    `hop_seconds` below the window length makes overlapping windows: more distinct inputs (and
    teacher answers) from the same audio; every teacher of one student needs the same value.
    """
    length = int(round(window_seconds * TEACHER_RATE))
    hop = length if hop_seconds is None else int(round(hop_seconds * TEACHER_RATE))
    if hop <= 0:  # checked before anything is created or decoded
        raise ValueError(f"--hop-seconds must be positive, got {hop_seconds}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = read_corpus(manifest)
    teacher = Teacher(teacher_path)
    frontend = MelFrontEnd(TARGETS_FRONTEND).eval()
    decoder = DecodeCache(Path(cache), TEACHER_RATE)
    # Resuming skips shards that exist: a folder begun with another teacher would end up mixing two.
    refuse_other_teacher(out, teacher_path)
    for i, (path, source) in enumerate(files, start=1):
        shard = out / shard_name(path)
        if shard.exists():
            continue
        try:
            audio = decoder.load(path)
        except DecodeError as exc:
            say(f"skipped {exc.path}: {exc.reason}")
            continue
        windows = corpus_windows(audio, length, hop)  # [N, S]
        if len(windows) == 0:
            continue
        write_shard(shard, windows, teacher, frontend, source=source, path=str(path))
        say(f"[{i}/{len(files)}] {path.name}: {len(windows)} windows")
    return out


def refuse_other_teacher(out: Path, teacher_path) -> None:
    """ValueError when `out` holds shards of another teacher (or layer): resuming there would mix two."""
    name = Path(teacher_path).name  # what each shard records: the file, and its layer when not the default
    made_by = folder_teacher(out, [np.load(s) for s in shard_files(out)])
    if made_by and made_by != name:
        raise ValueError(f"{out}: holds targets of {made_by}, not {name}; use one folder per teacher")


@torch.no_grad()
def write_shard(shard: Path, windows: np.ndarray, teacher: Teacher, frontend: MelFrontEnd, source: str, path: str) -> None:
    """Windows [N, S] at 16 kHz -> one shard of their student log-mels and teacher outputs, written atomically."""
    tags, emb = teacher(windows)  # [N, 50], [N, 200 or the teacher layer's width]
    mel = torch.cat([frontend(torch.from_numpy(windows[j : j + 64])) for j in range(0, len(windows), 64)])  # [N, 96, T]
    tmp = shard.with_suffix(".tmp.npz")
    np.savez(tmp, mel=mel.numpy().astype(np.float16), tags=tags, embedding=emb, source=source, path=path,
             teacher=teacher.name)
    os.replace(tmp, shard)  # a killed run never leaves a half shard under the final name


def mels_at_hop(mel: np.ndarray, hop_length: int) -> np.ndarray:
    """Stored log-mels [N, n_mels, T] as a front end with a longer hop would compute them [N, n_mels, T'].

    With the same FFT size and centred frames, frame t at hop k*h is frame k*t at hop h, so a
    coarser student needs no new targets: every k-th stored frame is exactly its input.
    """
    stored = TARGETS_FRONTEND.hop_length
    if hop_length % stored:
        raise ValueError(f"hop length {hop_length} is not a multiple of the targets' hop {stored}")
    return mel if hop_length == stored else np.ascontiguousarray(mel[:, :, :: hop_length // stored])


def load_targets(folders: str | Path | list) -> dict[str, np.ndarray]:
    """All shards of one or more targets folders (one per teacher, same corpus): mel [N, 96, T] float16,
    tags [N, 50 * teachers], embedding [N, 200 * teachers], source [N], path [N] (the audio each window
    came from), teachers (file names, in order; "" unknown), embedding_widths (each teacher's columns
    of embedding, in order).

    The mel comes from the first folder; every other folder must hold the same shards with the
    same windows, so its teacher's outputs line up window by window.
    """
    folders = path_list(folders)
    names = [s.name for s in shard_files(folders[0])]
    if not names:
        raise FileNotFoundError(f"{folders[0]}: no distillation targets (run python -m trainer teach first)")
    first = [np.load(folders[0] / n) for n in names]
    tags, embs, teachers = [[p["tags"] for p in first]], [[p["embedding"] for p in first]], [folder_teacher(folders[0], first)]
    for folder in folders[1:]:
        if not all((folder / n).is_file() for n in names):
            raise FileNotFoundError(f"{folder}: lacks some shards of {folders[0]}; run teach on the same corpus")
        parts = [np.load(folder / n) for n in names]
        for n, a, b in zip(names, first, parts, strict=True):
            if len(a["tags"]) != len(b["tags"]):
                raise ValueError(f"{folder / n}: {len(b['tags'])} windows, {folders[0] / n} has {len(a['tags'])}")
        tags.append([p["tags"] for p in parts])
        embs.append([p["embedding"] for p in parts])
        teachers.append(folder_teacher(folder, parts))
    return {
        "mel": np.concatenate([p["mel"] for p in first]),
        "tags": np.concatenate([np.concatenate(t) for t in tags], axis=1),
        "embedding": np.concatenate([np.concatenate(e) for e in embs], axis=1),
        "source": np.concatenate([np.full(len(p["tags"]), str(p["source"])) for p in first]),
        "path": np.concatenate([np.full(len(p["tags"]), str(p["path"])) for p in first]),
        "teachers": np.array(teachers),
        "embedding_widths": np.array([e[0].shape[1] for e in embs]),
    }


def teacher_name(shard) -> str:
    """The teacher's file name a shard was made with; "" for shards older than that record."""
    return str(shard["teacher"]) if "teacher" in shard.files else ""


def folder_teacher(folder: Path, shards: list) -> str:
    """The one teacher a folder's shards name ("" when none records it); ValueError when they name several."""
    named = sorted({teacher_name(s) for s in shards} - {""})
    if len(named) > 1:
        raise ValueError(f"{folder}: shards from several teachers ({', '.join(named)}); use one folder per teacher")
    return named[0] if named else ""
