"""Data set discovery, manifests, splits and the decode cache."""

import numpy as np
import pytest
import soundfile as sf

from trainer.data.cache import DecodeCache, DecodeError, decode_all
from trainer.data.sources import DatasetError, TrackRecord, discover
from trainer.data.splits import assign_splits, class_report
from trainer.data.windows import RandomWindows, track_windows


def write_tone(path, seconds=1.0, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.1 * np.sin(np.arange(int(seconds * sr)) * 0.05)).astype(np.float32), sr)


def test_folder_per_genre_skips_hidden_and_non_audio(tmp_path):
    write_tone(tmp_path / "rock" / "a.wav")
    write_tone(tmp_path / "jazz" / "sub" / "b.flac")
    write_tone(tmp_path / "jazz" / ".hidden.wav")
    (tmp_path / "jazz" / "notes.txt").write_text("x")
    records = discover(tmp_path)
    assert sorted((r.label, r.path.name) for r in records) == [("jazz", "b.flac"), ("rock", "a.wav")]


def test_folder_per_genre_takes_every_kind_of_audio_the_trainer_decodes(tmp_path):
    # AAC, WavPack and Matroska files in a genre folder were passed over without a word.
    import shutil
    import subprocess

    if shutil.which("ffmpeg") is None:
        pytest.skip("needs ffmpeg")
    write_tone(tmp_path / "tone.wav")
    for name in ("rock/a.aac", "rock/b.wv", "jazz/c.mka"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(tmp_path / "tone.wav"), str(tmp_path / name)],
                       check=True)
    (tmp_path / "tone.wav").unlink()
    records = discover(tmp_path)
    assert sorted((r.label, r.path.name) for r in records) == [("jazz", "c.mka"), ("rock", "a.aac"), ("rock", "b.wv")]
    decoded, errors = decode_all(records, DecodeCache(tmp_path / "cache", 16000))
    assert not errors and all(abs(len(d.audio) - 16000) < 2000 for d in decoded)  # AAC: its encoder delay


def test_manifest_with_artist_and_split(tmp_path):
    write_tone(tmp_path / "audio" / "x.wav")
    (tmp_path / "m.csv").write_text("path,label,artist,split\naudio/x.wav,pop,Someone,test\n")
    (record,) = discover(tmp_path / "m.csv")
    assert record == TrackRecord(tmp_path / "audio" / "x.wav", "pop", "Someone", "test")


def test_manifest_without_label_column_is_a_clear_error(tmp_path):
    (tmp_path / "m.csv").write_text("file,genre\na.wav,pop\n")
    with pytest.raises(DatasetError, match=r"m\.csv: a manifest needs the columns path and label"):
        discover(tmp_path / "m.csv")


def test_manifest_bad_split_names_the_line(tmp_path):
    (tmp_path / "m.csv").write_text("path,label,split\na.wav,pop,holdout\n")
    with pytest.raises(DatasetError, match=r"m\.csv:2: split must be"):
        discover(tmp_path / "m.csv")


def test_a_file_given_as_a_csv_that_is_not_one_is_named_by_every_command_reading_one(tmp_path, capsys, exported_model):
    # A song given as a manifest, a calibration list or a corpus: "'utf-8' codec can't decode byte 0xff", naming nothing.
    from trainer.__main__ import main

    song = tmp_path / "song.csv"
    song.write_bytes(b"ID3\x04\x00\xff\xfe\x00music")
    with pytest.raises(DatasetError, match=f"{song}: not a CSV file \\(not text"):
        discover(song)
    model = str(exported_model)
    for args in (["quantize", "--model", model, "--out", str(tmp_path / "q.onnx"), "--calibration", str(song)],
                 ["teach", "--corpus", str(song), "--teacher", model, "--out", str(tmp_path / "t")],
                 ["train", "--data", str(song), "--out", str(tmp_path / "run")]):
        assert main(args) == 2
        assert capsys.readouterr().err.startswith(f"error: {song}: not a CSV file (not text"), args


def test_missing_data_folder(tmp_path):
    with pytest.raises(DatasetError, match="no such file or folder"):
        discover(tmp_path / "nope")


def test_split_lists_assign_by_name_and_leave_out_unlisted(tmp_path):
    records = [TrackRecord(tmp_path / f"blues/blues.0000{i}.flac", "blues") for i in range(4)]
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "train_filtered.txt").write_text("blues/blues.00000.wav\nblues/blues.00001.wav\n")
    (lists / "valid_filtered.txt").write_text("blues/blues.00002.wav\n")
    (lists / "test_filtered.txt").write_text("\n")
    splits = assign_splits(records, split_dir=lists)
    assert [r.key for r in splits["train"]] == ["blues.00000", "blues.00001"]
    assert [r.key for r in splits["valid"]] == ["blues.00002"]
    assert splits["test"] == []


def test_stratified_split_keeps_each_artist_on_one_side(tmp_path):
    records = [TrackRecord(tmp_path / f"{g}{i}.wav", g, artist=f"{g}-artist{i % 5}") for g in "ab" for i in range(20)]
    splits = assign_splits(records, valid_fraction=0.2, test_fraction=0.2, seed=3)
    sides = {}
    for split, recs in splits.items():
        for r in recs:
            assert sides.setdefault(r.artist, split) == split
    assert all(splits[s] for s in ("train", "valid", "test"))
    assert assign_splits(records, seed=3) == assign_splits(records, seed=3)  # seeded


def test_class_report_warns_on_imbalance(tmp_path):
    splits = {"train": [TrackRecord(tmp_path / f"{i}", "a") for i in range(10)] + [TrackRecord(tmp_path / "x", "b")],
              "valid": [], "test": []}
    table, warnings = class_report(splits)
    assert "a" in table and any("imbalanced" in w for w in warnings)


def test_genre_tables_stay_in_line_with_wide_and_long_genre_names(tmp_path):
    # Padded by characters, a Japanese label (two columns a letter) and one past 12 letters pushed their figures out
    from trainer.evaluate import per_label_lines
    from trainer.text_columns import columns

    names = ["ロック", "Rock", "Progressive Electronic", "Jazz"]
    splits = {"train": [TrackRecord(tmp_path / f"{n}{i}", n) for n in names for i in range(3)], "valid": [], "test": []}
    table, _ = class_report(splits)
    figures = {"precision": 0.5, "recall": 0.25, "f1": 0.333, "support": 4}
    for lines in (table.splitlines(), per_label_lines(dict.fromkeys(names, figures))):  # figures of one width each
        assert len({columns(line) for line in lines}) == 1, lines


def test_corrupt_file_is_reported_by_name_and_skipped(tmp_path):
    good, bad = tmp_path / "good.wav", tmp_path / "bad.wav"
    write_tone(good)
    bad.write_bytes(b"RIFF\x00\x00not really a wave file")
    cache = DecodeCache(tmp_path / "cache", 16000)
    decoded, errors = decode_all([TrackRecord(good, "x"), TrackRecord(bad, "x")], cache)
    assert [d.record.path for d in decoded] == [good]
    assert len(errors) == 1 and errors[0].path == bad and "cannot decode" in str(errors[0])
    noise = tmp_path / "noise.wav"  # no RIFF header at all: audioread's fallback says nothing ("NoBackendError: ")
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    _, errors = decode_all([TrackRecord(noise, "x")], cache)
    (said,) = [str(e) for e in errors]
    assert said.startswith(f"{noise}: cannot decode (") and ": )" not in said and said.endswith("damaged, or not audio)")


def test_cache_decodes_once_and_again_after_a_change(tmp_path, monkeypatch):
    import trainer.data.cache as cache_mod

    path = tmp_path / "t.wav"
    write_tone(path, sr=22050)
    cache = DecodeCache(tmp_path / "cache", 16000)
    first = np.array(cache.load(path))
    assert len(first) == 16000  # resampled from 22050
    calls = []
    monkeypatch.setattr(cache_mod, "decode_file", lambda *a: calls.append(a) or np.zeros(5, np.float32))
    np.testing.assert_array_equal(cache.load(path), first)
    assert calls == []
    write_tone(path, seconds=2.0, sr=22050)
    cache.load(path)
    assert len(calls) == 1


def test_empty_file_is_a_decode_error(tmp_path):
    path = tmp_path / "empty.flac"
    path.write_bytes(b"")
    with pytest.raises(DecodeError, match="empty.flac"):
        DecodeCache(tmp_path / "c", 16000).load(path)


def test_windows_cover_the_track_and_short_tracks_repeat():
    audio = np.arange(10, dtype=np.float32)
    w = track_windows(audio, 4)
    assert w.shape == (3, 4) and w[-1].tolist() == [6, 7, 8, 9]
    assert track_windows(np.array([1, 2], np.float32), 5).tolist() == [[1, 2, 1, 2, 1]]
    ds = RandomWindows([audio], [0], 4, per_track=3, seed=1)
    assert len(ds) == 3 and ds[0][0].shape == (4,)
    assert ds[1][0].tolist() == RandomWindows([audio], [0], 4, 3, seed=1)[1][0].tolist()
