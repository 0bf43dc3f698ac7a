"""The library map: layout, filters, hover/click/rubber-band selection, and the CLI's PNG and HTML."""

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from desktop.cli import EXIT_ERROR, EXIT_OK, main
from desktop.services.library_map import (
    NO_GENRE,
    NO_TAG,
    UNCERTAIN,
    LibraryMap,
    compute_map,
    layout_2d,
)
from desktop.ui.map_view import MapView


def test_layout_separates_clusters_and_fits_the_unit_square():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal((50, 16)) + 6, rng.standard_normal((50, 16)) - 6]).astype(np.float32)
    xy, method = layout_2d(x)
    assert method in ("pca", "umap") and xy.shape == (100, 2) and xy.min() >= 0 and xy.max() <= 1
    a, b = xy[:50].mean(0), xy[50:].mean(0)
    assert np.linalg.norm(a - b) > 0.5


def test_copies_of_one_recording_and_a_track_alone_are_drawn_at_the_middle():
    # Thirty copies of one song differ only by rounding: scaled to the canvas they were flung to two corners.
    rng = np.random.default_rng(1)
    one = rng.standard_normal(256).astype(np.float32)
    copies = np.tile(one, (30, 1)) + rng.standard_normal((30, 256)).astype(np.float32) * 1e-7
    for x in (copies, one[None, :]):
        xy, _ = layout_2d(x)
        assert np.allclose(xy, 0.5), xy[:3]
    # A library with one song apart from its copies still spreads as before
    xy, _ = layout_2d(np.concatenate([copies, rng.standard_normal((1, 256)).astype(np.float32)]))
    assert np.ptp(xy[:, 0]) == pytest.approx(1.0) and np.allclose(xy[:30], xy[0], atol=1e-3)


def toy_map():
    xy = np.array([[0.1, 0.1], [0.12, 0.1], [0.9, 0.9], [0.5, 0.5]], np.float32)
    return LibraryMap(np.array([10, 11, 12, 13]), xy, ["Jazz", "Jazz", "Rock", UNCERTAIN], ["", "Rock", "Rock", ""],
                      ["a", "b", "c", "d"], ["x", "x", "y", "z"], ["prediction"] * 3 + ["uncertain"],
                      np.array([False, True, False, True]))


def shown_view(qtbot) -> MapView:
    """A map view on screen (offscreen) showing the toy map."""
    view = MapView()
    qtbot.addWidget(view)
    view.resize(400, 340)
    view.show()
    qtbot.waitExposed(view)
    view.set_map(toy_map())
    return view


def test_the_map_view_follows_the_theme(qtbot):
    # The map was a white plate (dark legend) in a dark theme; it now takes the theme's colours, and follows a change.
    from PySide6.QtGui import QColor, QPalette

    view = shown_view(qtbot)
    canvas = view.canvas
    qtbot.wait(10)
    light = canvas.palette().color(QPalette.ColorRole.Base)
    assert canvas.grab().toImage().pixelColor(canvas.width() - 3, canvas.height() - 3) == light
    dark = QPalette(canvas.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    canvas.setPalette(dark)
    image = canvas.grab().toImage()
    assert image.pixelColor(canvas.width() - 3, canvas.height() - 3) == QColor("#1e1e1e")
    legend = [image.pixelColor(x, y) for x in range(30, 120) for y in range(8, 26)]  # the first legend line's text
    assert QColor("#e0e0e0") in legend or any(c.lightness() > 150 for c in legend)


def test_map_view_filters_click_and_rubber_band(qtbot):
    view = shown_view(qtbot)
    canvas = view.canvas
    clicked, selected = [], []
    view.track_clicked.connect(clicked.append)
    view.tracks_selected.connect(selected.append)
    qtbot.wait(10)  # let the layout give the canvas its size before reading positions
    xy = canvas.positions()
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(int(xy[2, 0]), int(xy[2, 1])))
    assert clicked == [12]
    top_left = QPoint(int(xy[0, 0]) - 5, int(xy[0, 1]) - 5)
    bottom_right = QPoint(int(xy[1, 0]) + 5, int(xy[1, 1]) + 5)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, top_left)
    QTest.mouseMove(canvas, bottom_right)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, bottom_right)
    assert selected == [[10, 11]]
    view.genre.setCurrentIndex(view.genre.findData("Rock"))
    assert canvas.visible.tolist() == [False, False, True, False]
    assert canvas.ids_in(canvas.rect()) == [12]
    view.genre.setCurrentIndex(0)
    view.review_only.setChecked(True)
    assert canvas.visible.tolist() == [False, True, False, True]
    view.by_file.setChecked(True)
    assert canvas.keys == [NO_TAG, "Rock", "Rock", NO_TAG]  # an untagged file is not "Uncertain"
    assert canvas.point_at(QPointF(-50, -50)) is None


def test_colour_by_file_tag_reads_tags_as_a_listener_means_them():
    # Each raw tag was its own colour: "Unknown" and "(255)" were genres, "Hip-Hop" and "hip hop" two of them,
    # "(17)" a number, and an untagged file showed as "Uncertain".
    tags = ["Hip-Hop", "hip hop", "Hip-Hop", "Unknown", "(255)", "", "(17)", "Unknown; Jazz", "Rock"]
    n = len(tags)
    m = LibraryMap(np.arange(n), np.zeros((n, 2), np.float32), ["Jazz"] * n, tags, [""] * n, [""] * n,
                   ["prediction"] * n, np.zeros(n, bool))
    assert m.colour_keys(by_file_tag=True) == ["Hip-Hop", "Hip-Hop", "Hip-Hop", NO_TAG, NO_TAG, NO_TAG, "Rock", "Jazz", "Rock"]
    assert m.colour_keys() == ["Jazz"] * n


def test_tracks_with_no_genre_are_apart_from_the_uncertain_on_the_map(tmp_path):
    # A track unlike every genre learned from the library (no genre at all) was drawn and counted as "Uncertain",
    # where the sidebar and list --counts count it apart, under "No genre".
    from desktop.store.database import open_database
    from desktop.store.schema import Analysis, Track

    sessions = open_database(tmp_path / "map.db")
    unlike = "unlike every genre learned from your library (closest: Jazz 0.41)"
    with sessions() as s, s.begin():
        for n, (genre, confidence, error) in enumerate([("Jazz", 0.9, None), ("Jazz", 0.3, None), (None, None, unlike),
                                                        ("Polka", None, unlike)]):  # unlike, with a tag of its own
            track = Track(path=f"/m/{n}.mp3", folder="/m", size=1, mtime_ns=1, audio_hash=f"h{n}", format="mp3",
                          genre=genre, predicted_genre=genre if confidence else None, confidence=confidence, error=error)
            s.add(track)
            s.flush()
            s.add(Analysis(track_id=track.id, model_key="m:1", audio_hash=f"h{n}", status="analysed", labels=["Jazz"],
                           probabilities=[1.0], embedding=(np.arange(4, dtype="<f4") * (n + 1)).tobytes()))
    shown = compute_map(sessions)
    assert shown.genre == ["Jazz", UNCERTAIN, NO_GENRE, "Polka"]
    assert shown.source == ["prediction", "uncertain", unlike, "its tag"]  # the tag's genre was "prediction"


def test_the_map_sweeps_the_cache_copy_an_earlier_builds_killed_save_left_once_ten_minutes_old(tmp_path, monkeypatch):
    # Earlier builds cached the layout through `library.db.map.npz.partial.npz`; one killed while saving stayed for good.
    import time

    import desktop.core.safe_write as safe_write
    from desktop.store.database import open_database
    from desktop.store.schema import Analysis, Track

    sessions = open_database(tmp_path / "map.db")
    with sessions() as s, s.begin():
        for n in range(3):
            track = Track(path=f"/m/{n}.mp3", folder="/m", size=1, mtime_ns=1, audio_hash=f"h{n}", format="mp3",
                          genre="Jazz", predicted_genre="Jazz", confidence=0.9)
            s.add(track)
            s.flush()
            s.add(Analysis(track_id=track.id, model_key="m:1", audio_hash=f"h{n}", status="analysed", labels=["Jazz"],
                           probabilities=[1.0], embedding=(np.arange(4, dtype="<f4") * (n + 1)).tobytes()))
    cache, left = tmp_path / "map.db.map.npz", tmp_path / "map.db.map.npz.partial.npz"
    left.write_bytes(b"half a layout")
    compute_map(sessions)
    assert cache.exists() and left.exists()  # just made: an earlier build still running may be writing it
    cache.unlink()
    later = time.time() + safe_write.STALE_UNLOCKABLE_S + 1
    monkeypatch.setattr(safe_write, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    compute_map(sessions)
    assert cache.exists() and not left.exists()


def test_panning_moves_the_cached_image_without_redrawing(qtbot, monkeypatch):
    view = shown_view(qtbot)
    view.canvas.grab()  # first paint renders the points
    renders = []
    real = view.canvas._render
    monkeypatch.setattr(view.canvas, "_render", lambda: renders.append(1) or real())
    QTest.mousePress(view.canvas, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 100))
    for step in range(1, 6):
        QTest.mouseMove(view.canvas, QPoint(100 + 10 * step, 100))
        view.canvas.grab()
    assert renders == [] and view.canvas.offset.x() == pytest.approx(50)
    QTest.mouseRelease(view.canvas, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, QPoint(150, 100))
    view.canvas.grab()
    assert renders == [1]


@pytest.mark.usefixtures("need_ffmpeg")
def test_the_legend_keeps_counts_visible_and_says_how_many_more(qtbot):
    # A long name hid its count (cut at the legend's edge); a library of 80 genres ran off the image's bottom.
    from PySide6.QtGui import QFont, QFontMetrics

    from desktop.services.map_image import LEGEND_WIDTH, legend_lines

    metrics = QFontMetrics(QFont())
    names = ["Contemporary Christian Progressive Metalcore Fusion"] + [f"G{i}" for i in range(79)]
    counts = dict.fromkeys(names, 12)
    lines = legend_lines(metrics, names, counts, rows=10)
    assert len(lines) == 10 and lines[-1] == "… and 71 more"
    assert lines[0].endswith("… (12)") and metrics.horizontalAdvance(lines[0]) <= LEGEND_WIDTH
    assert lines[1:9] == [f"G{i} (12)" for i in range(8)]
    assert legend_lines(metrics, names[1:4], counts, rows=3) == ["G0 (12)", "G1 (12)", "G2 (12)"]


def test_the_html_page_takes_library_names_as_text_only(tmp_path):
    # A genre tag is anything a file says: it went into the legend through innerHTML.
    from desktop.services.map_image import render_html

    evil = "<img src=x onerror=alert(1)>"
    m = LibraryMap(np.array([1, 2]), np.array([[0.1, 0.1], [0.9, 0.9]], np.float32), [evil, "</script><b>"],
                   [evil, ""], [evil, "t"], ["a", evil], ["prediction"] * 2, np.array([False, False]))
    page = render_html(m, tmp_path / "m.html").read_text(encoding="utf-8")
    script = page.split("<script>", 1)[1]
    assert script.count("</script>") == 1 and script.endswith("</script>")  # the data cannot close the script
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in page
    data = json.loads(script.split("const D=", 1)[1].split(";const c=", 1)[0])
    assert set(data["names"]) == {evil, "</script><b>"}


def test_cli_map_png_and_html_and_the_cache(env, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENRE_TAGGER_DB", str(env.sessions.kw["bind"].url.database))
    assert main(["map", "-o", str(tmp_path / "empty.png")]) == EXIT_ERROR
    assert "no analysed tracks" in capsys.readouterr().err
    env.scan()
    assert main(["map", "-o", str(tmp_path / "map.png"), "--size", "640x480", "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["tracks"] == len(env.files) and data["layout"] == "pca"
    image = QImage(str(tmp_path / "map.png"))
    assert (image.width(), image.height()) == (640, 480)
    assert main(["map", "-o", str(tmp_path / "map.html")]) == EXIT_OK
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "Track 1" in page and "<script" in page
    # The layout is cached until the analysed tracks change.
    import desktop.services.library_map as library_map

    monkeypatch.setattr(library_map, "layout_2d", lambda x: pytest.fail("recomputed an unchanged layout"))
    assert len(compute_map(env.sessions)) == len(env.files)
    # ... and until the layout itself changes: one an earlier version cached is drawn again
    drawn = []
    monkeypatch.setattr(library_map, "layout_2d", lambda x: drawn.append(len(x)) or (np.full((len(x), 2), 0.5), "pca"))
    monkeypatch.setattr(library_map, "LAYOUT_VERSION", b"layout next")
    assert len(compute_map(env.sessions)) == len(env.files) and drawn == [len(env.files)]


def test_the_map_is_never_drawn_over_music_or_a_file_that_is_not_a_map(env, tmp_path, capsys, monkeypatch):
    # `map -o song.mp3` wrote a PNG over the song, and `-o notes.txt` or a page of the listener's own went the same way.
    monkeypatch.setenv("GENRE_TAGGER_DB", str(env.sessions.kw["bind"].url.database))
    env.scan()
    song, notes, page, misnamed = (tmp_path / n for n in ("song.mp3", "notes.txt", "mine.html", "cover.png"))
    for path, content in ((song, b"ID3 music"), (notes, b"mine"), (page, b"<html>mine</html>"), (misnamed, b"ID3 music")):
        path.write_bytes(content)
    refused = [(["map", "-o", str(song)], "is an audio file's name; a map image never replaces music"),
               (["map", "-o", str(song), "--html", "--force"], "is an audio file's name; a map page never replaces music"),
               (["map", "-o", str(notes)], "a map image file should end in .png (add --force)"),
               (["map", "-o", str(notes), "--html"], "exists and is not a map page; not overwriting it (add --force)"),
               (["map", "-o", str(page)], "exists and is not a map page; not overwriting it (add --force)"),
               (["map", "-o", str(misnamed)], "exists and is not a map image; not overwriting it (add --force)")]
    for argv, reason in refused:
        assert main(argv) == EXIT_ERROR
        assert f"{Path(argv[2]).name}: {reason}" in capsys.readouterr().err
    assert [p.read_bytes() for p in (song, notes, page, misnamed)] == [b"ID3 music", b"mine", b"<html>mine</html>", b"ID3 music"]
    # A map replaces a map of its kind; --force anything but music; nothing is left beside it.
    for name in ("map.png", "map.png", "map.html", "map.html", "map.page"):
        assert main(["map", "-o", str(tmp_path / name), *(["--html"] if name == "map.page" else [])]) == EXIT_OK
    assert main(["map", "-o", str(misnamed), "--force"]) == EXIT_OK and QImage(str(misnamed)).width() == 1200
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_points_are_big_enough_to_see_and_ten_genres_have_ten_colours():
    # 60 tracks in 3-pixel dots were hard to see, and the ninth and tenth genres (Blues, Disco) shared a teal.
    import itertools

    from desktop.services.map_image import GREY_COLOUR, PALETTE, point_size

    assert point_size(60) == 8.0 and point_size(10_000) == 4.0 and point_size(100_000) == 3.0 and point_size(0) == 8.0
    rgb = lambda h: np.array([int(h[i:i + 2], 16) for i in (1, 3, 5)], float)  # noqa: E731
    closest = min(np.linalg.norm(rgb(a) - rgb(b)) for a, b in itertools.combinations([*PALETTE[:10], GREY_COLOUR], 2))
    assert closest > 60


def test_an_empty_map_says_so_without_a_layout_method(qtbot):
    view = shown_view(qtbot)
    assert view.info.text() == "4 tracks (PCA)"
    xy, method = layout_2d(np.zeros((0, 8), np.float32))
    view.set_map(LibraryMap(np.array([], int), xy, [], [], [], [], [], np.zeros(0, bool), method))
    assert view.info.text() == "no tracks"  # it said "0 tracks (NONE)"
