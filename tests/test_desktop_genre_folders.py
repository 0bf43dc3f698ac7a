"""Genre folders (~/Music/Jazz/…): which folder names give a genre, and the labels learning takes from them."""

import json

import pytest
from sqlalchemy import select

from desktop.cli import EXIT_ERROR, EXIT_OK, main
from desktop.core.genre_folders import folder_genre, genre_folder
from desktop.core.genre_names import genre_key, standard_genre_keys
from desktop.services.labels import gather_labels
from desktop.services.learning import active_model, readiness, set_genre_folders
from desktop.store.database import open_database
from desktop.store.schema import JournalEntry, Meta, Track, WriteBatch
from tests.audio_files import make_track
from tests.test_desktop_learning import add_track

KNOWN = standard_genre_keys() | {genre_key("Shoegaze")}


def test_a_folder_named_for_a_genre_gives_it_in_any_spelling_and_other_folders_do_not():
    assert folder_genre("Jazz", KNOWN) == "Jazz" and folder_genre("Hip-Hop", KNOWN) == "Hip-Hop"
    assert folder_genre("Soundtracks", KNOWN) == "Soundtrack" and folder_genre("shoegaze", KNOWN) == "shoegaze"
    assert folder_genre("Klassik", KNOWN) == "Klassik" and folder_genre("Rockmusik", KNOWN) == "Rock"
    assert folder_genre("Música Pop", KNOWN) == "Pop" and folder_genre("Country Music", KNOWN) == "Country"
    assert folder_genre("Рок-музыка", KNOWN) == "Рок" and folder_genre("摇滚音乐", KNOWN) == "摇滚"  # in other scripts
    assert folder_genre("Джаз", KNOWN) == "Джаз" and folder_genre("Музыка", KNOWN) is None
    for name in ("Music", "Musik", "Various", "Compilations", "New", "Singles", "Unknown", "Radiohead", "Volksmusik",
                 "Chris", "s", "Musik von Bach"):
        assert folder_genre(name, KNOWN) is None, name


def test_the_outermost_genre_folder_inside_the_innermost_music_folder_holding_the_file_names_it():
    roots = ["/m", "/m/Rock/Inbox"]
    assert genre_folder("/m/Rock/Blues Brothers/Blues/01.flac", roots, KNOWN) == "Rock"  # an album named Blues
    assert genre_folder("/m/Jazz/x.flac", roots, KNOWN) == "Jazz"
    assert genre_folder("/m/Rock/Inbox/Jazz/x.flac", roots, KNOWN) == "Jazz"  # its own music folder's
    assert genre_folder("/m/x.flac", roots, KNOWN) is None and genre_folder("/elsewhere/Jazz/x.flac", roots, KNOWN) is None


def add(s, n, path, file_genre="", corrected=None):
    return add_track(s, n, file_genre, corrected, artist=f"a{n}", folder=path.rsplit("/", 1)[0], path=path)


def test_a_track_with_no_genre_of_its_own_is_labelled_by_its_genre_folder_only_where_the_library_says_so(tmp_path):
    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s:
        s.add(Meta(key="library_folders", value=json.dumps(["/m"])))
        add(s, 1, "/m/Jazz/a/1.flac")  # no tag: Jazz from its folder
        add(s, 2, "/m/Jazz/a/2.flac", "Bebop")  # its own tag wins
        add(s, 3, "/m/Jazz/a/3.flac", "Unknown")  # a placeholder says nothing: its folder does
        add(s, 4, "/m/Jazz/a/4.flac", corrected="Swing")  # a correction wins
        ours = add(s, 5, "/m/Rock/5.flac", "Pop")  # a tag we wrote is no label: its folder is
        batch = WriteBatch(description="scan")
        s.add(batch)
        s.flush()
        s.add(JournalEntry(batch_id=batch.id, track_id=ours.id, path=ours.path, old_genres=[], new_genres=["Pop"],
                           state="written"))
        add(s, 6, "/m/Inbox/6.flac")  # no genre folder: no label
        s.commit()
        assert {lab.track_id: lab.key for lab in gather_labels(s)[0]} == {2: "bebop", 4: "swing"}
    assert set_genre_folders(sessions, True).foldered == 3
    with sessions() as s:
        labels, display = gather_labels(s)
        assert {lab.track_id: (lab.key, lab.source) for lab in labels} == {
            1: ("jazz", "folder"), 2: ("bebop", "tag"), 3: ("jazz", "folder"), 4: ("swing", "correction"),
            5: ("rock", "folder")}
        assert display["jazz"] == "Jazz"
    assert set_genre_folders(sessions, False).foldered == 0
    with sessions() as s:
        assert not any(lab.source == "folder" for lab in gather_labels(s)[0])


def test_the_genre_folder_of_each_folder_is_worked_out_once_however_many_tracks_it_holds(tmp_path, monkeypatch):
    # Every track's path was taken apart again: 1.3 s of each scan's closing words at 30,000 tracks.
    from desktop.services import labels as labels_module

    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s:
        s.add(Meta(key="library_folders", value=json.dumps(["/m"])))
        for n in range(1, 31):
            add(s, n, f"/m/{['Jazz', 'Rock', 'Inbox'][n % 3]}/album/{n}.flac")
        s.commit()
    asked = []
    monkeypatch.setattr(labels_module, "genre_folder", lambda path, *rest: asked.append(path) or genre_folder(path, *rest))
    with sessions() as s:
        labels, _ = gather_labels(s, folders=True)
    assert sorted({lab.key for lab in labels}) == ["jazz", "rock"] and len(labels) == 20  # Inbox names no genre
    assert len(asked) == 3  # one a folder


def test_a_plural_or_foreign_genre_folder_is_the_same_genre_as_its_tags(tmp_path):
    # "Soundtracks/" untagged beside tracks tagged Soundtrack were learned as two genres, Soundtracks and Soundtrack;
    # "Klassik/" (a German library) named no genre at all.
    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s:
        s.add(Meta(key="library_folders", value=json.dumps(["/m"])))
        add(s, 1, "/m/Soundtracks/a/1.flac")
        add(s, 2, "/m/Films/2.flac", "Soundtrack")
        add(s, 3, "/m/Klassik/Bach/3.flac")
        add(s, 4, "/m/Música clásica/4.flac")
        add(s, 5, "/m/Filmmusik/5.flac")
        add(s, 6, "/m/Elektronische Musik/6.flac")
        s.commit()
    set_genre_folders(sessions, True)
    with sessions() as s:
        labels, display = gather_labels(s)
        assert {lab.track_id: lab.key for lab in labels} == {1: "soundtrack", 2: "soundtrack", 3: "classical",
                                                            4: "classical", 5: "soundtrack", 6: "electronic"}
        assert display["soundtrack"] == "Soundtrack"  # no genre named "Soundtracks"


def test_the_shipped_models_genres_are_spelled_as_the_librarys_genre_folders_where_it_learns_from_them(tmp_path):
    # A German library filed in Klassik/ saw (and had written) "Classical", a name it never used.
    from desktop.store.queries import library_spellings

    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s:
        s.add(Meta(key="library_folders", value=json.dumps(["/m"])))
        for n in range(3):
            track = add(s, n, f"/m/Klassik/Bach/{n}.flac")
            track.predicted_genre = track.genre = "Classical"
        tagged = add(s, 9, "/m/Jazz/9.flac", "jazz")
        tagged.predicted_genre = "Jazz"
        s.commit()
        assert "classical" not in library_spellings(s)  # no tag or correction names it: the model's own spelling
    set_genre_folders(sessions, True)
    with sessions() as s:
        assert library_spellings(s)["classical"] == "Klassik" and library_spellings(s)["jazz"] == "jazz"
        assert set(s.scalars(select(Track.genre).where(Track.folder == "/m/Klassik/Bach"))) == {"Klassik"}
    set_genre_folders(sessions, False)
    with sessions() as s:
        assert "classical" not in library_spellings(s)
        assert set(s.scalars(select(Track.genre).where(Track.folder == "/m/Klassik/Bach"))) == {"Classical"}


def test_a_prediction_goes_back_to_its_models_label_when_the_librarys_spelling_goes(tmp_path):
    # The shipped model's "classical", shown as the library's "Klassik", goes back to Classical; a model trained in
    # Russian keeps its own "Хип-хоп" (it was respelt "Hip-Hop" after every scan).
    from desktop.store.schema import Analysis

    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s:
        s.add(Meta(key="library_folders", value=json.dumps(["/m"])))
        for n, (folder, label) in enumerate((("Klassik", "classical"), ("Klassik", "classical"), ("Rap", "Хип-хоп"))):
            track = add(s, n, f"/m/{folder}/{n}.flac")
            track.predicted_genre = track.genre = "Klassik" if label == "classical" else label
            s.add(Analysis(track_id=track.id, model_key="m:1", audio_hash=track.audio_hash, status="analysed",
                           top_genre=label, confidence=0.9))
        s.commit()
    set_genre_folders(sessions, True)
    set_genre_folders(sessions, False)
    with sessions() as s:
        assert dict(s.execute(select(Track.path, Track.genre)).tuples().all()) == {
            "/m/Klassik/0.flac": "Classical", "/m/Klassik/1.flac": "Classical", "/m/Rap/2.flac": "Хип-хоп"}


def test_a_merge_remembered_before_a_name_joined_its_translation_still_holds(tmp_path):
    # "Klassik" renamed "Ernste Musik" was remembered under the key "klassik"; once Klassik is Classical (key
    # "classical"), the rename no longer reached the listener's Klassik tracks.
    from desktop.services.learning import merges_in_effect
    from desktop.store.queries import library_spellings
    from desktop.store.schema import GenreMerge

    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s:
        s.add_all([GenreMerge(from_key="klassik", to_name="Ernste Musik"),
                   GenreMerge(from_key="ernstemusik", to_name="Ernste Musik"),
                   GenreMerge(from_key="filmmusik", to_name="Film"),  # stale, but the listener merged Soundtrack too
                   GenreMerge(from_key="soundtrack", to_name="Soundtrack")])
        add(s, 1, "/m/1.flac", "Klassik")
        add(s, 2, "/m/2.flac", "Filmmusik")
        s.commit()
        assert library_spellings(s)["classical"] == "Ernste Musik" and library_spellings(s)["soundtrack"] == "Soundtrack"
        labels, display = gather_labels(s)
        assert {lab.track_id: lab.key for lab in labels} == {1: "ernstemusik", 2: "soundtrack"}
        assert merges_in_effect(s) == [("Klassik", "Ernste Musik")]


def test_a_folder_named_for_a_genre_no_list_names_is_one_once_the_listener_says_so(tmp_path, capsys, monkeypatch):
    # "Schlager/" (a genre of its own, in no list) taught nothing, and nothing said why its tracks were left out.
    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "lib.db"))
    sessions = open_database(tmp_path / "lib.db")
    with sessions() as s:
        s.add(Meta(key="library_folders", value=json.dumps(["/m"])))
        for n in range(3):
            add(s, n, f"/m/Schlager/Heino/{n}.flac")
        add(s, 5, "/m/Incoming/5.flac")
        add(s, 8, "/m/Hörbücher/8.flac")  # spoken word: asked about apart, not offered as a genre
        add(s, 6, "/m/Jazz/6.flac")
        add(s, 7, "/m/Tagged/7.flac", "Pop")
        s.commit()
    assert main(["genres", "--folder-genre", "Schlager"]) == EXIT_OK  # kept, but counts only once folders are on
    assert ("folders named Schlager now teach that genre, once `genre-tagger genres --folder-names on` (folder "
            "genres: Schlager; run `genre-tagger learn` to relearn)") in capsys.readouterr().out
    assert main(["genres", "--not-folder-genre", "Schlager"]) == EXIT_OK
    assert main(["genres", "--folder-names", "on"]) == EXIT_OK
    out = capsys.readouterr().out
    assert ("folders named for no genre: Schlager (3 tracks), Incoming (1 track); `genre-tagger genres --folder-genre "
            "NAME` learns folders so named as a genre") in out
    assert main(["genres", "--folder-genre", "schlager", "Chanson française"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "folders named schlager, Chanson française now teach those genres (folder genres: schlager, Chanson " in out
    assert "     3  Schlager  (0 tagged, 0 corrected, 3 by folder name)" in out  # as its folder spells it
    with sessions() as s:
        assert sorted(lab.key for lab in gather_labels(s)[0]) == ["jazz", "pop", "schlager", "schlager", "schlager"]
    code = main(["--json", "genres"])
    data = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and data["unnamed_folders"] == {"Incoming": 1}
    assert data["folder_genres"] == ["schlager", "Chanson française"]
    assert main(["genres"]) == EXIT_OK
    assert ("folder genres: schlager, Chanson française (folders so named teach them; `genre-tagger genres "
            "--not-folder-genre NAME` takes one back)") in capsys.readouterr().out
    for argv, error in ((["--not-folder-genre", "Volksmusik"], "Volksmusik is not counted as a folder genre (those "
                                                               "counted: schlager, Chanson française)"),
                        (["--folder-genre", "Unknown"], "'Unknown' is not a genre name"),
                        (["--folder-genre", "Rock; Pop"], "'Rock; Pop' names several genres: one folder name is one "
                                                          "genre")):
        assert main(["genres", *argv]) == EXIT_ERROR
        assert f"error: {error}" in capsys.readouterr().err
    assert main(["genres", "--folder-genre", "Jazz"]) == EXIT_OK  # known already: nothing to keep
    assert "Jazz: a genre already (folders so named teach it)" in capsys.readouterr().out
    assert main(["genres", "--not-folder-genre", "Schlager", "chanson francaise"]) == EXIT_OK
    with sessions() as s:
        assert not any(lab.key == "schlager" for lab in gather_labels(s)[0])


def test_genre_names_in_other_languages_share_the_genre_key():
    assert {genre_key(name) for name in ("Klassik", "Klassische Musik", "Musique classique", "Clásica", "Classica",
                                         "Klassisk", "Klassiek")} == {"classical"}
    assert {genre_key(name) for name in ("Elektronisch", "Électronique", "Electrónica", "Elettronica")} == {"electronic"}
    assert {genre_key(name) for name in ("Filmmusik", "Bande originale", "Banda sonora", "Colonna sonora")} == {
        "soundtrack"}
    assert genre_key("Weltmusik") == genre_key("Musique du monde") == genre_key("World Music")


@pytest.mark.usefixtures("need_ffmpeg")
def test_a_library_sorted_into_genre_folders_is_told_so_and_learns_from_their_names(tmp_path, exported_model, capsys,
                                                                                  monkeypatch):
    # No file had a genre tag: "nothing learned yet; tag at least 5 tracks…" though every folder said its genre.
    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "lib.db"))
    monkeypatch.setenv("GENRE_TAGGER_MODEL", str(exported_model))
    music = tmp_path / "Music"
    for g, (folder, sound) in enumerate((("Classical", "tones"), ("Hip-Hop", "beats"), ("Noise", "noise"))):
        for i in range(6):
            make_track(music / folder / f"{folder} artist {i % 3}", f"{folder}{i}", sound, "flac", 3.0, seed=10 * g + i,
                       tags={"artist": f"{folder} artist {i % 3}"})
    make_track(music / "Incoming", "new", "noise", "flac", 3.0, seed=99)  # in no genre folder
    assert main(["scan", str(music)]) == EXIT_OK
    assert ("your folders are named for genres (Classical, Hip-Hop, Noise): "
            "`genre-tagger genres --folder-names on` learns from them") in capsys.readouterr().out
    assert main(["learn"]) == EXIT_ERROR  # asked to learn: told what would teach it
    assert ("cannot learn yet: no usable genre tags among 19 analysed tracks; your folders are named for genres "
            "(Classical, Hip-Hop, Noise): `genre-tagger genres --folder-names on` learns from them") in capsys.readouterr().err
    assert main(["genres"]) == EXIT_OK  # the list of genres is empty: it says where they could come from
    assert ("no genres yet: no file has a genre tag and nothing was corrected; your folders are named for genres "
            "(Classical, Hip-Hop, Noise): `genre-tagger genres --folder-names on` learns from them") in capsys.readouterr().err
    assert main(["genres", "--folder-names", "on"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "learning from genre folders' names: on (18 tracks with no genre of its own take their folder's" in out
    assert "     6  Classical  (0 tagged, 0 corrected, 6 by folder name)" in out
    assert main(["show", str(next((music / "Classical").rglob("*.flac")))]) == EXIT_OK
    assert "  learned as: Classical (from the genre folder it is in)" in capsys.readouterr().out
    assert main(["--json", "learn", "--folds", "3", "--activate"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["genres"]) == ["Classical", "Hip-Hop", "Noise"] and report["tracks"] == 18 and report["active"]
    assert report["sources"] == {"folder": 18}
    assert report["unnamed_folders"] == {"Incoming": 1}  # what it could not learn from, and how it could
    assert main(["genres", "--json", "--folder-names", "off"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["folder_names"] is False and data["genres"] == []
    sessions = open_database(tmp_path / "lib.db")
    assert active_model(sessions) is None  # learned from the folders alone: set aside with them
    assert "your folders are named for genres" in readiness(sessions)  # off again: told again


@pytest.mark.usefixtures("need_ffmpeg")
def test_the_window_says_so_and_learn_from_genre_folders_learns_and_shows_what_it_learned(qtbot, tmp_path, exported_model,
                                                                                         monkeypatch):
    from PySide6.QtCore import QSettings

    import desktop.ui.learn_actions as learn_actions
    from desktop.services.labels import genre_folders_on
    from desktop.ui.app_settings import AppSettings
    from desktop.ui.main_window import MainWindow
    from desktop.ui.window_words import FOLDERS_HINT
    from desktop.ui.workers import finish_jobs

    music = tmp_path / "Music"
    asked = []  # Schlager, a genre no list names: the window asks whether it is one
    monkeypatch.setattr(learn_actions, "ask_folder_genres",
                        lambda parent, unnamed: asked.append(unnamed) or [n for n in unnamed if n in ("Schlager", "Incoming")])
    monkeypatch.setattr(learn_actions, "UNNAMED_ASKED", 1)  # the largest only (an artist/album library has hundreds)
    make_track(music / "Incoming", "new", "noise", "flac", 3.0, seed=99)
    for g, (folder, sound) in enumerate((("Classical", "tones"), ("Noise", "noise"), ("Schlager", "beats"))):
        for i in range(6):
            make_track(music / folder / f"{folder} artist {i % 3}", f"{folder}{i}", sound, "flac", 3.0, seed=10 * g + i,
                       tags={"artist": f"{folder} artist {i % 3}"})
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    monkeypatch.setenv("GENRE_TAGGER_MODEL", str(exported_model))  # as the shipped one: no model chosen in Settings
    settings.folders, settings.device = [str(music)], "cpu"
    win = MainWindow(open_database(tmp_path / "lib.db"), settings)
    qtbot.addWidget(win)
    win.start_scan()
    qtbot.waitUntil(lambda: win.scan_job is None, timeout=60_000)
    assert win.statusBar().currentMessage().endswith(f"your folders are named for genres (Classical, Noise): {FOLDERS_HINT}")
    win.learn_action.trigger()  # Learn My Genres with no tags: the answer names the menu item that would teach it
    qtbot.waitUntil(lambda: win.learn_job is None and win.reload_job is None and win.learn_problem is not None, timeout=60_000)
    assert win.learn_problem.text().endswith(f"your folders are named for genres (Classical, Noise): {FOLDERS_HINT}")
    win.learn_problem.close()
    win.clear_problems()  # it is in the problems panel too
    edit = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Edit")
    assert win.genre_folders_action in edit.actions()
    win.genre_folders_action.trigger()
    qtbot.waitUntil(lambda: win.learn_report is not None and win.learn_job is None and win.reload_job is None, timeout=60_000)
    with win.sessions() as s:
        assert genre_folders_on(s)
    assert asked == [{"Schlager": 6}]
    assert win.learn_report.summary.text().startswith("<b>Learned 3 genres from 18")
    assert win.learn_report.figures.text().startswith("Your tracks' genres came from 18 folder names. Checked on")
    # What it could not learn from, and the way to say it is a genre from the report.
    assert win.learn_report.unnamed.text() == "Not learned from: folders named for no genre it knows: Incoming (1 track)."
    first = win.learn_report
    first.folders_button.click()
    qtbot.waitUntil(lambda: win.learn_report is not first and win.learn_report is not None and win.learn_job is None and win.reload_job is None,
                    timeout=60_000)
    assert asked[1] == {"Incoming": 1}
    assert "Incoming: 1 track" in win.learn_report.skipped.text() and win.learn_report.folders_button is None
    win.learn_report.close()
    win.genre_folders_action.trigger()  # off
    qtbot.waitUntil(lambda: win.folders_job is None and win.reload_job is None and win.learn_job is None, timeout=60_000)
    with win.sessions() as s:
        assert not genre_folders_on(s)
    assert win.progress_label.text() == ("No longer learning from genre folders: nothing else teaches two genres, so "
                                         "the shipped model's are back")
    assert win.errors.count() == 0 and win.model_label.text().startswith("Genres: the shipped model's (")
    finish_jobs()  # the jobs' threads wind down after their results: as the app does when it quits


def test_folders_named_for_no_genre_are_listed_largest_first_five_at_most():
    from desktop.services.labels import unnamed_listed

    assert unnamed_listed({"Schlager": 212, "Incoming": 1}) == "Schlager (212 tracks), Incoming (1 track)"
    many = {f"Folder {n}": 10 - n for n in range(7)}
    assert unnamed_listed(many) == "Folder 0 (10 tracks), Folder 1 (9 tracks), Folder 2 (8 tracks), " \
                                   "Folder 3 (7 tracks), Folder 4 (6 tracks), …"
