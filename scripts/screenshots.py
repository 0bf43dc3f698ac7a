"""Start the app on a generated library with a real trained model and save screenshots.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshots.py --out screenshots

Writes main-window.png, genre-view.png, track-details.png and library-map.png.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_model(tmp: Path) -> Path:
    """Train a small CNN on synthetic genres and export it (about a minute on a CPU)."""
    from trainer.config import TrainConfig
    from trainer.evaluate import evaluate
    from trainer.export import export
    from trainer.synth import write_dataset
    from trainer.train import train

    write_dataset(tmp / "data", per_genre=8, seconds=3.0, seed=1)
    cfg = TrainConfig(data=str(tmp / "data"), out=str(tmp / "run"), cache=str(tmp / "cache"), window_seconds=1.0,
                      epochs=12, batch_size=16, windows_per_track=12, lr=3e-3, augment="gain,noise", dataset_name="synthetic")
    best = train(cfg, say=lambda *_: None)
    evaluate(best, say=lambda *_: None)
    return export(best, tmp / "synth-cnn.onnx", say=lambda *_: None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.core.tags import write_genres
    from desktop.store.database import open_database
    from desktop.ui.app_settings import AppSettings
    from desktop.ui.main_window import MainWindow
    from tests.audio_files import make_track

    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = build_model(tmp)
        music = tmp / "Music"
        artists = ["Aurora Lane", "The Gridlocks", "Mono Tide", "Kettle Drum Club", "Static Bloom"]
        for i in range(45):
            genre = ["tones", "noise", "beats"][i % 3]
            ext = ["mp3", "flac", "ogg", "m4a", "opus"][i % 5]
            path = make_track(music / artists[i % 5], f"{i + 1:02d} Song {i + 1}", genre, ext, 8.0, seed=i,
                              tags={"title": f"Song {i + 1}", "artist": artists[i % 5], "album": f"Album {i % 4 + 1}"})
            if i % 4 == 0:
                write_genres(path, ["Rock"])  # a few disagreeing tags, for the review filter
        settings = AppSettings(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
        settings.model_path, settings.folders, settings.device = str(model), [str(music)], "cpu"
        window = MainWindow(open_database(tmp / "library.db"), settings)
        window.resize(1300, 800)
        window.show()
        window.start_scan()
        while window.scan_job is not None:  # wait for the background scan, a few times a second
            app.processEvents()
            time.sleep(0.05)
        app.processEvents()
        window.grab().save(str(out / "main-window.png"))
        window._genre_chosen(window.genres.index(1, 0))
        window.sidebar.setCurrentIndex(window.genres.index(1, 0))
        app.processEvents()
        window.grab().save(str(out / "genre-view.png"))
        window.table.selectRow(0)
        window._show_details(window.proxy.index(0, 0))
        app.processEvents()
        window.details.grab().save(str(out / "track-details.png"))
        window.map_dock.show()
        window.map_dock.setFloating(True)
        window.map_dock.resize(760, 560)
        window.update_map()
        while window.map_job is not None:
            app.processEvents()
            time.sleep(0.05)
        app.processEvents()
        window.map_view.grab().save(str(out / "library-map.png"))
        window.close()
    print(f"screenshots in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
