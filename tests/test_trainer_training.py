"""Every model learns the synthetic genres; checkpoints resume; export reproduces PyTorch."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from tests.conftest import train_synth
from trainer.checkpoint import load_checkpoint, model_from_checkpoint
from trainer.evaluate import evaluate
from trainer.export import ExportParityError, check_parity, export
from trainer.frontend import FrontEndConfig
from trainer.models import build_model, model_names
from trainer.models.mobilenet import MobileNetV2, load_initial_weights

CHANCE = 1 / 3


@pytest.mark.parametrize("name", ["cnn", "cnn-fast", "mobilenet", "ffnn"])
def test_model_learns_synthetic_genres(tmp_path, synth_data, synth_holdout, name):
    extra = {"width": 0.5, "lr": 2e-3, "epochs": 16} if name == "mobilenet" else {}
    best = train_synth(tmp_path, synth_data, model=name, **extra)
    figures = evaluate(best, tmp_path / "report", data=str(synth_holdout), say=lambda *_: None)
    assert figures["tracks"] == 15
    assert figures["accuracy"] >= 0.8 > CHANCE + 0.4, figures["confusion_matrix"]


def test_all_models_return_logits_and_embedding():
    for name in model_names():
        model = build_model(name, 4, FrontEndConfig(), width=0.5).eval()
        logits, embedding = model(torch.randn(2, 16000))
        assert logits.shape == (2, 4) and embedding.shape[0] == 2 and embedding.shape[1] == model.backbone.embedding_dim


def test_evaluate_writes_report_folder(cnn_checkpoint, tmp_path):
    figures = evaluate(cnn_checkpoint, tmp_path, say=lambda *_: None)
    for name in ("report.json", "per_track.csv", "confusion.png", "curves.png"):
        assert (tmp_path / name).stat().st_size > 0
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["accuracy"] == figures["accuracy"] and set(saved["per_label"]) == {"beats", "noise", "tones"}
    assert np.array(saved["confusion_matrix"]).sum() == saved["tracks"]


def test_resume_continues_from_the_checkpoint(tmp_path, synth_data):
    train_synth(tmp_path, synth_data, epochs=2, patience=99)
    last = tmp_path / "cnn" / "last.pt"
    assert load_checkpoint(last)["epoch"] == 1
    from trainer.config import TrainConfig
    from trainer.train import train

    cfg = TrainConfig.from_dict(dict(load_checkpoint(last)["config"], epochs=4))
    train(cfg, resume=last, say=lambda *_: None)
    state = load_checkpoint(last)
    assert state["epoch"] == 3 and [h["epoch"] for h in state["history"]] == [0, 1, 2, 3]


def test_cli_resume_reuses_the_checkpoint_config(tmp_path, synth_data):
    from trainer.__main__ import build_parser, config_for

    train_synth(tmp_path, synth_data, epochs=1)
    args = build_parser().parse_args(["train", "--resume", str(tmp_path / "cnn" / "last.pt"), "--epochs", "3"])
    cfg = config_for(args)
    assert cfg.epochs == 3 and cfg.window_seconds == 1.0 and cfg.data == str(synth_data)


@pytest.mark.parametrize(("flags", "said"), [
    (["--epochs", "0"], "epochs: 0 is out of range; it must be at least 1"),  # "trained" and saved an untrained model
    (["--window-seconds", "0"], "window_seconds: 0.0 is out of range; it must be more than 0"),  # was PyTorch's "random_ expects"
    (["--n-mels", "0"], "n_mels: 0 is out of range"),  # was "torch.cat(): expected a non-empty list of Tensors"
    (["--hop-length", "0"], "hop_length: 0 is out of range"),  # was "non-positive stride is not supported"
    (["--sample-rate", "0"], "sample_rate: 0 is out of range"),  # was "at least two genres are needed, found []"
    (["--mixup-alpha", "-1"], "mixup_alpha: -1.0 is out of range"),  # was taken as no mixup
    (["--valid-fraction", "0.6", "--test-fraction", "0.4"], "valid_fraction + test_fraction: 0.6 + 0.4 leaves no track"),
    (["--n-mels", "300"], "n_mels: 300 mel bands from 257 frequency bins"),
    (["--window-seconds", "0.01"], "window_seconds: a 0.01 s window holds 160 samples, fewer than n_fft"),
    (["--early-stop", "val_los"], "unknown early_stop 'val_los'; choose one of val_loss, val_acc"),
    (["--model", "cnnn"], "unknown model 'cnnn'"),
    (["--augment", "gain,noize"], "unknown augmentation noize"),
])
def test_a_setting_a_run_cannot_use_is_named_before_any_decoding(tmp_path, monkeypatch, capsys, flags, said):
    import trainer.train as train_module
    from trainer.__main__ import main

    monkeypatch.setattr(train_module, "load_dataset", lambda *_a, **_k: pytest.fail("decoding began"))
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), *flags]) == 2
    assert capsys.readouterr().err.startswith(f"error: {said}")
    assert not (tmp_path / "run").exists()


def test_every_optimizer_and_schedule_a_setting_allows_can_be_built():
    # the names a config accepts and the builders train.py holds live in two files; a name in one only failed mid-run
    import torch

    from trainer.config import OPTIMIZERS, SCHEDULES, TrainConfig
    from trainer.train import OPTIMIZER_BUILDERS, SCHEDULE_BUILDERS, make_optimizer, make_scheduler

    assert set(OPTIMIZERS) == set(OPTIMIZER_BUILDERS) and set(SCHEDULES) == set(SCHEDULE_BUILDERS)
    for optimizer_name in OPTIMIZERS:
        optimizer = make_optimizer(TrainConfig(optimizer=optimizer_name), [torch.nn.Parameter(torch.zeros(1))])
        for schedule in SCHEDULES:
            make_scheduler(schedule, optimizer, epochs=3).step()


def test_a_file_where_a_commands_folder_goes_is_named_so(cnn_checkpoint, tmp_path, capsys):
    # `evaluate --out song.mp3` said "File exists"; a report folder under a file, "Not a directory".
    from trainer.__main__ import main

    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3 music")
    for out in (song, song / "report"):
        assert main(["evaluate", "--checkpoint", str(cnn_checkpoint), "--out", str(out)]) == 2
        assert capsys.readouterr().err.startswith(f"error: {out}: a file stands where a folder is needed")
    assert song.read_bytes() == b"ID3 music"


def test_a_config_file_that_is_not_one_is_named(tmp_path, capsys):
    from trainer.__main__ import main

    files = {"song.yaml": b"ID3\xff\xfe music", "broken.yaml": b"epochs: [1\n", "broken.json": b'{"epochs": }',
             "list.json": b"[1]", "words.yaml": b"epochs: forty\n"}
    said = {"song.yaml": "song.yaml: not a config file (not text", "broken.yaml": "broken.yaml: not a readable config file",
            "broken.json": "broken.json: not a readable config file", "list.json": "list.json: a config file holds a mapping",
            "words.yaml": "epochs: 'forty' is not a number (a whole one)"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        assert main(["train", "--config", str(tmp_path / name), "--data", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert said[name] in err and "Traceback" not in err, err


def test_a_runs_files_and_folders_are_kept_as_absolute_paths(tmp_path, monkeypatch):
    # `train --data data/synth` kept "data/synth": `evaluate` of its checkpoint from another folder found no data.
    from trainer.__main__ import build_parser, config_for

    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["train", "--data", "data/synth", "--out", "runs/x", "--cache", ".cache"])
    cfg = config_for(args)
    assert (cfg.data, cfg.out, cfg.cache) == (str(tmp_path / "data/synth"), str(tmp_path / "runs/x"),
                                              str(tmp_path / ".cache"))
    assert cfg.splits is None and cfg.init_weights is None


def test_export_contract_and_parity(exported_model, cnn_checkpoint):
    proto = onnx.load(str(exported_model))
    assert proto.opset_import[0].version >= 17
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["labels"]) == ["beats", "noise", "tones"]
    assert meta["sample_rate"] == "16000" and float(meta["window_seconds"]) == 1.0 and meta["window_samples"] == "16000"
    assert meta["model_name"] == "cnn" and meta["model_version"]
    assert "accuracy" in json.loads(meta["test_metrics"])
    session = ort.InferenceSession(str(exported_model), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["waveform"]
    assert [o.name for o in session.get_outputs()] == ["probabilities", "embedding"]
    x = np.random.default_rng(0).standard_normal((7, 16000)).astype(np.float32) * 0.1  # a batch size never exported
    probs, emb = session.run(None, {"waveform": x})
    model, _, _ = model_from_checkpoint(load_checkpoint(cnn_checkpoint))
    with torch.no_grad():
        logits, ref_emb = model(torch.from_numpy(x))
    np.testing.assert_allclose(probs, torch.softmax(logits, 1).numpy(), atol=1e-4)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(emb, ref_emb.numpy(), rtol=1e-3, atol=1e-3)


def test_export_fails_loudly_when_onnx_differs(exported_model, cnn_checkpoint, tmp_path):
    model, cfg, _ = model_from_checkpoint(load_checkpoint(cnn_checkpoint))
    copy = tmp_path / "m.onnx"
    copy.write_bytes(exported_model.read_bytes())

    class Skewed(torch.nn.Module):
        def forward(self, w):
            p, e = torch.softmax(model(w)[0], 1), model(w)[1]
            return torch.roll(p, 1, dims=1), e

    with pytest.raises(ExportParityError, match="differs from PyTorch"):
        check_parity(Skewed(), copy, cfg.window_samples, cfg.sample_rate)


def test_an_export_that_fails_its_check_leaves_the_model_that_was_there(cnn_checkpoint, exported_model, tmp_path,
                                                                         monkeypatch):
    # It wrote over the old model first and deleted the new one when the check failed: no model at all was left.
    import trainer.export as export_module

    out = tmp_path / "models" / "mine.onnx"
    out.parent.mkdir()
    out.write_bytes(exported_model.read_bytes())
    monkeypatch.setattr(export_module, "PROB_TOLERANCE", -1.0)  # no export can pass: stands in for a faulty one
    with pytest.raises(ExportParityError, match=f"{out}: onnxruntime differs from PyTorch .*; nothing written"):
        export(cnn_checkpoint, out, say=lambda *_: None)
    assert out.read_bytes() == exported_model.read_bytes() and sorted(out.parent.iterdir()) == [out]


def test_kill_9_during_an_export_keeps_the_model_there_whole_and_the_next_export_sweeps_what_it_left(
        cnn_checkpoint, exported_model, tmp_path):
    import random
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "models" / "mine.onnx"
    out.parent.mkdir()
    out.write_bytes(exported_model.read_bytes())
    command = [sys.executable, "-m", "trainer", "export", "--checkpoint", str(cnn_checkpoint), "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    models = {exported_model.read_bytes(), out.read_bytes()}  # the one there before, or the new one: nothing else
    rng, killed_writing = random.Random(0), 0
    for pause in (rng.uniform(0, 0.1), rng.uniform(0, 0.1), 0.0):  # the last at once: it surely leaves its file
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and not list(out.parent.glob(".mine.onnx.*.tmp")):
            time.sleep(0.005)  # until it is writing: killed while its model is half there
        time.sleep(pause)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_writing += 1
        proc.wait()
        assert out.read_bytes() in models
        assert not [p for p in out.parent.iterdir() if p != out and not p.name.startswith(".mine.onnx.")]
    assert killed_writing and len(list(out.parent.iterdir())) > 1  # something was left: the case swept below
    subprocess.run(command, check=True, capture_output=True)
    assert sorted(out.parent.iterdir()) == [out] and out.read_bytes() in models


def test_export_writes_only_a_file_named_onnx_and_names_what_it_refuses(cnn_checkpoint, tmp_path, capsys):
    # `--out song.mp3` replaced the song with the model; `--out FOLDER` ended in a traceback.
    from trainer.__main__ import main

    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3 music")
    for out, said in ((song, "a model's file name ends in .onnx"), (tmp_path, "is a folder; give the .onnx file"),
                      (tmp_path / "notes.txt", "a model's file name ends in .onnx")):
        assert main(["export", "--checkpoint", str(cnn_checkpoint), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {out}: {said}") and "Traceback" not in err
    assert song.read_bytes() == b"ID3 music" and sorted(tmp_path.iterdir()) == [song]
    out = tmp_path / "new folder" / "Mine.ONNX"
    assert main(["export", "--checkpoint", str(cnn_checkpoint), "--out", str(out)]) == 0
    assert onnx.load(str(out)).producer_name == "genre-tagger-trainer" and sorted(out.parent.iterdir()) == [out]


def test_export_of_a_non_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.pt"
    torch.save({"weights": 1}, bad)
    with pytest.raises(ValueError, match="not a Genre Tagger checkpoint"):
        export(bad, tmp_path / "x.onnx")
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(b"junk\n")  # a pickle error escaped as a traceback before
    with pytest.raises(ValueError, match=r"damaged\.pt: not a readable checkpoint \(UnpicklingError"):
        export(damaged, tmp_path / "x.onnx")


def test_mobilenet_initial_weights_file(tmp_path):
    source = MobileNetV2(96, width=0.5)
    state = source.state_dict()
    state["features.0.0.weight"] = state["features.0.0.weight"].repeat(1, 3, 1, 1)  # an "RGB" first conv
    torch.save(state, tmp_path / "init.pt")
    target = MobileNetV2(96, width=0.5)
    loaded, skipped = load_initial_weights(target, tmp_path / "init.pt")
    assert "features.0.0.weight" in loaded and not skipped
    torch.testing.assert_close(target.state_dict()["features.1.body.0.0.weight"], source.state_dict()["features.1.body.0.0.weight"])
    torch.save({"unrelated": torch.zeros(3)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="no tensor matches"):
        load_initial_weights(target, tmp_path / "bad.pt")
    (tmp_path / "damaged.pt").write_bytes(b"junk\n")
    with pytest.raises(ValueError, match=r"damaged\.pt: not a readable weights file"):
        load_initial_weights(target, tmp_path / "damaged.pt")


def test_torchrun_distributed_training_on_cpu(tmp_path, synth_data):
    """The multi-GPU path (DistributedDataParallel under torchrun), exercised with gloo on CPU."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "trainer", "train", "--data", str(synth_data), "--out", str(tmp_path / "ddp"),
           "--cache", str(tmp_path / "cache"), "--model", "ffnn", "--epochs", "2", "--window-seconds", "1",
           "--batch-size", "8", "--windows-per-track", "2", "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("best checkpoint:") == 1
    state = load_checkpoint(tmp_path / "ddp" / "last.pt")
    assert state["epoch"] == 1 and len(state["history"]) == 2
