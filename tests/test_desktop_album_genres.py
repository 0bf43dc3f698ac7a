"""One genre per album: the consensus, compilations kept apart, the setting on and off, scans, relearns and writes."""

import json

import numpy as np
import pytest
from sqlalchemy import select

from desktop.cli import EXIT_OK, main
from desktop.core.album_genre import album_folder, album_probabilities, is_compilation, lead_artist
from desktop.core.analysis import OK, TOO_SHORT, UNCERTAIN
from desktop.core.tags import read_tags
from desktop.services.album_genres import (
    AgainstYourAlbums,
    against_your_albums,
    album_genre_of,
    set_album_genres,
    settle_albums,
)
from desktop.services.learning import restore_base_verdicts
from desktop.services.library import store_verdict
from desktop.services.settings import TaggingSettings
from desktop.services.tagging import TagService
from desktop.store import queries
from desktop.store.database import open_database
from desktop.store.schema import Analysis, JournalEntry, Track, WriteBatch
from tests.audio_files import make_track

LABELS = ["rock", "jazz", "blues"]


# ---- the rule -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("artist, lead", [("Daft Punk feat. Pharrell Williams", "daft punk"), ("Simon & Garfunkel", "simon"),
                                          ("A, B", "a"), ("Lil Nas X", "lil nas x"), ("DJ X vs. Y", "dj x"), ("  ", "")])
def test_a_tracks_lead_artist(artist, lead):
    assert lead_artist(artist) == lead


def test_an_album_of_many_artists_is_a_compilation():
    assert not is_compilation(["Björk", "björk feat. Thom Yorke", "Björk", "Other"])
    assert is_compilation(["A", "B", "C", "A", "D"]) and is_compilation(["A", "B", "C"])
    assert not is_compilation(["A", "B", "C", "A"])  # half of them by A
    assert is_compilation(["Various Artists"] * 12) and is_compilation(["VA", "va", "V.A."])  # a ripper's word for it
    assert not is_compilation(["", ""]) and not is_compilation(["A", "", "B", ""])  # half name A
    np.testing.assert_allclose(album_probabilities([[0.8, 0.2], [0.4, 0.6]]), [0.6, 0.4])


def test_an_album_artist_or_a_compilation_flag_says_what_the_tracks_artists_would_guess():
    mix = ["A", "B feat. C", "D", "E"]
    assert is_compilation(mix) and not is_compilation(mix, ["DJ Shadow"] * 4)  # a DJ mix: one artist's album
    assert not is_compilation(mix, ["", "DJ Shadow", "", ""])  # named on one track only: still the album's artist
    assert is_compilation(["Nas"] * 3, ["Various Artists"] * 3)  # a ripper's album artist for a compilation
    assert is_compilation(["Nas"] * 4, marked=[True, True, False, False])  # iTunes' flag on half of them
    assert not is_compilation(["Nas"] * 4, marked=[True, False, False, False])
    assert is_compilation(["Nas"] * 2, ["Nas"] * 2, [True, True])  # the flag first


# ---- the setting over a library ---------------------------------------------------------------------------------
def add(s, n, probs, folder="/m/a", album="Album", artist="Band", status=OK, corrected=None, model="base", tag="",
        album_artist="", compilation=False):
    """A track with its analysis, its columns showing its own verdict (as a scan leaves them)."""
    track = Track(path=f"{folder}/{n}.flac", folder=folder, size=1, mtime_ns=1, audio_hash=f"h{n}", format="flac",
                  artist=artist, album=album, corrected_genre=corrected, file_genre=tag, album_artist=album_artist,
                  compilation=compilation)
    s.add(track)
    s.flush()
    top = int(np.argmax(probs))
    s.add(Analysis(track_id=track.id, model_key=model, audio_hash=track.audio_hash, status=status, labels=LABELS,
                   top_genre=LABELS[top] if status != TOO_SHORT else None, confidence=float(probs[top]),
                   probabilities=list(probs) if status != TOO_SHORT else []))
    store_verdict(track, status, LABELS[top].title() if status != TOO_SHORT else None, float(probs[top]), None)
    return track.id


def shown(sessions):
    with sessions() as s:
        return {t.path.rsplit("/", 1)[1]: (t.genre, None if t.confidence is None else round(t.confidence, 3), t.verdict)
                for t in s.scalars(select(Track))}


@pytest.fixture
def library(tmp_path):
    sessions = open_database(tmp_path / "albums.db")
    with sessions() as s:
        add(s, 1, [0.8, 0.1, 0.1])
        add(s, 2, [0.7, 0.2, 0.1])
        add(s, 3, [0.3, 0.6, 0.1])  # the album's odd one out: its own genre is Jazz
        add(s, 4, [0.1, 0.1, 0.8], status=TOO_SHORT)  # too short to tell alone: it takes the album's genre
        add(s, 8, [0.1, 0.1, 0.8], folder="/m/b", album="Single", status=TOO_SHORT, tag="Unknown; Ambient")  # nothing to take
        add(s, 5, [0.2, 0.7, 0.1], corrected="Fusion")  # its correction stays its genre
        add(s, 6, [0.1, 0.8, 0.1], folder="/m/b")  # another folder's "Album": another album
        add(s, 7, [0.1, 0.1, 0.8], folder="/m/b", album="")  # no album
        for n, (artist, probs) in enumerate((("A", [0.9, 0.05, 0.05]), ("B", [0.1, 0.8, 0.1]), ("C", [0.1, 0.1, 0.8]))):
            add(s, 10 + n, probs, folder="/m/various", album="Hits", artist=artist)  # a compilation
        s.commit()
    return sessions


def test_an_albums_tracks_share_its_mean_genre_and_turning_it_off_gives_each_its_own(library):
    own = shown(library)
    assert own["3.flac"] == ("Jazz", 0.6, OK)
    assert own["4.flac"] == (None, None, TOO_SHORT)
    assert own["8.flac"] == ("Ambient", None, TOO_SHORT)  # too short to hear: its tag's genre (not the placeholder)
    assert set_album_genres(library, True) == 2  # tracks 3 and 4; 1, 2 and the corrected 5 change their confidence
    shared = shown(library)
    mean = round((0.8 + 0.7 + 0.3 + 0.2) / 4, 3)
    assert shared["1.flac"] == shared["2.flac"] == shared["3.flac"] == shared["4.flac"] == ("Rock", mean, OK)
    assert shared["5.flac"][0] == "Fusion"  # corrected: the correction is its genre
    unchanged = ("6.flac", "7.flac", "8.flac", "10.flac", "11.flac", "12.flac")
    assert {k: shared[k] for k in unchanged} == {k: own[k] for k in unchanged}
    with library() as s:
        album = album_genre_of(s, s.scalar(select(Track.id).where(Track.path == "/m/a/3.flac")))
        assert album.top == ("rock", pytest.approx(mean)) and album.tracks == 4
        assert album_genre_of(s, s.scalar(select(Track.id).where(Track.path == "/m/various/10.flac"))) is None
    assert set_album_genres(library, False) == 2
    assert shown(library) == own
    with library() as s:
        assert album_genre_of(s, 3) is None


def test_an_album_artists_mix_shares_a_genre_and_a_flagged_compilation_keeps_each_its_own(library):
    with library() as s:
        mix = {add(s, 20 + n, probs, folder="/m/mix", album="Mix", artist=artist, album_artist="DJ Shadow")
               for n, (artist, probs) in enumerate((("A", [0.8, 0.1, 0.1]), ("B", [0.7, 0.2, 0.1]),
                                                    ("C", [0.15, 0.75, 0.1])))}
        flagged = {add(s, 30 + n, probs, folder="/m/flagged", album="Hits", artist="Same", compilation=True)
                   for n, probs in enumerate(([0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.15, 0.75, 0.1]))}
        s.commit()
        various = set(s.scalars(select(Track.id).where(Track.folder == "/m/various")))
        assert mix <= queries.album_disagreements(s)  # predicted Rock and Jazz on one artist's album
        assert not (flagged | various) & queries.album_disagreements(s)  # compilations: many genres
    set_album_genres(library, True)
    genres = shown(library)
    assert [genres[f"{n}.flac"][0] for n in (20, 21, 22)] == ["Rock", "Rock", "Rock"]
    assert [genres[f"{n}.flac"][0] for n in (30, 31, 32)] == ["Rock", "Rock", "Jazz"]  # each its own


def test_a_track_knows_when_its_album_is_a_compilation(library):
    from desktop.services.album_genres import in_compilation

    with library() as s:
        ids = {t.path.rsplit("/", 1)[1]: t.id for t in s.scalars(select(Track))}
        lone = add(s, 50, [0.8, 0.1, 0.1], folder="/m/lone", album="Solo", artist="X", compilation=True)
        s.commit()
        assert in_compilation(s, ids["10.flac"]) and in_compilation(s, ids["12.flac"])  # artists A, B, C
        assert not in_compilation(s, ids["1.flac"]) and not in_compilation(s, ids["7.flac"])  # one artist; no album
        assert not in_compilation(s, lone)  # an album of one shares nothing anyway


def test_an_album_genre_under_the_threshold_is_uncertain(library):
    set_album_genres(library, True, threshold=0.6)
    assert shown(library)["3.flac"] == ("Rock", 0.5, UNCERTAIN)


def test_settling_does_nothing_while_the_setting_is_off(library):
    with library() as s:
        assert settle_albums(s) == 0
        s.commit()
    with library() as s:
        s.execute(Track.__table__.update().where(Track.path == "/m/a/3.flac").values(album="Other"))
        s.commit()
    set_album_genres(library, True)
    assert shown(library)["3.flac"] == ("Jazz", 0.6, OK)  # alone in its album now
    with library() as s:  # renamed back into the album: the next settle (a scan's) shares its genre again
        s.execute(Track.__table__.update().where(Track.path == "/m/a/3.flac").values(album="album"))
        assert settle_albums(s, folders=["/m/a"]) == 1
        s.commit()
    assert shown(library)["3.flac"][0] == "Rock"


@pytest.mark.parametrize("folder, holder", [("/m/A/CD1", "/m/A"), ("/m/A/Disc 2 - Live", "/m/A"), ("/m/A/disc01", "/m/A"),
                                            ("/m/A/CDs", "/m/A/CDs"), ("/m/Discography", "/m/Discography"), ("/m/A", "/m/A")])
def test_a_discs_folder_stands_for_its_albums(folder, holder):
    assert album_folder(folder) == holder


@pytest.mark.parametrize("separators, folder, holder", [
    ("/\\", "C:\\Music\\A\\CD1", "C:\\Music\\A"), ("/\\", "C:\\Music\\A\\Disc 2\\", "C:\\Music\\A"),
    ("/\\", "C:\\Music\\CDs", "C:\\Music\\CDs"), ("/\\", "//server/share/A/CD2", "//server/share/A"),
    ("/", "/m/A\\CD1", "/m/A\\CD1"), ("/", "/CD1", "/")])
def test_a_discs_folder_is_found_with_the_systems_separators(monkeypatch, separators, folder, holder):
    # On Windows a folder is C:\Music\A\CD1: split at "/" alone, each disc was an album of its own there. Elsewhere
    # a backslash is part of a name ("A\CD1" is one folder).
    import desktop.core.album_genre as album_genre

    monkeypatch.setattr(album_genre, "SEPARATORS", separators)
    album_folder.cache_clear()
    try:
        assert album_folder(folder) == holder
    finally:
        album_folder.cache_clear()


def test_the_discs_of_an_album_in_their_own_folders_are_one_album(library):
    with library() as s:
        add(s, 40, [0.8, 0.1, 0.1], folder="/m/two/CD1")
        add(s, 41, [0.7, 0.2, 0.1], folder="/m/two/CD1")
        disc_two = add(s, 42, [0.2, 0.7, 0.1], folder="/m/two/CD2")  # alone, its disc would be Jazz
        s.commit()
        assert disc_two in queries.album_disagreements(s)  # the review's album check sees both discs too
    set_album_genres(library, True)
    assert {shown(library)[f"{n}.flac"][0] for n in (40, 41, 42)} == {"Rock"}
    with library() as s:  # a scan of the second disc alone still weighs the first
        s.execute(Track.__table__.update().where(Track.path == "/m/two/CD2/42.flac").values(predicted_genre="Jazz"))
        settle_albums(s, folders=["/m/two/CD2"])
        assert album_genre_of(s, s.scalar(select(Track.id).where(Track.path == "/m/two/CD2/42.flac"))).tracks == 3
        s.commit()
    assert shown(library)["42.flac"][0] == "Rock"


def test_tracks_analysed_by_different_models_are_not_averaged_together(library):
    with library() as s:
        add(s, 20, [0.1, 0.8, 0.1], folder="/m/c", model="base")
        add(s, 21, [0.1, 0.1, 0.8], folder="/m/c", model="other")
        s.commit()
    set_album_genres(library, True)
    assert shown(library)["20.flac"][0] == "Jazz" and shown(library)["21.flac"][0] == "Blues"


def test_going_back_to_the_base_model_keeps_albums_shared(library):
    set_album_genres(library, True)
    restore_base_verdicts(library, "base")  # after a learned model is set aside
    assert shown(library)["3.flac"][0] == "Rock"


def test_an_album_the_listener_tagged_half_of_takes_their_genre(tmp_path):
    sessions = open_database(tmp_path / "tagged.db")
    rock = [0.8, 0.1, 0.1]
    with sessions() as s:
        for n, tag in enumerate(("Shoegaze", "shoegaze", "", "")):  # half tagged, in two spellings
            add(s, n, rock, folder="/m/half", tag=tag)
        for n, tag in enumerate(("Shoegaze", "", "", "")):  # a quarter: the model's genre
            add(s, 10 + n, rock, folder="/m/quarter", tag=tag)
        ours = [add(s, 20 + n, rock, folder="/m/ours", tag=tag)  # our own writes are not the listener's words
                for n, tag in enumerate(("Jazz", "Jazz", "", ""))]
        add(s, 24, rock, folder="/m/fixed", corrected="Dream Pop")
        add(s, 25, rock, folder="/m/fixed")
        for n, artist in enumerate(("A", "B", "C")):  # a compilation keeps each track's own
            add(s, 30 + n, rock, folder="/m/various", artist=artist, tag="Shoegaze" if n < 2 else "")
        batch = WriteBatch(description="ours")
        s.add(batch)
        s.flush()
        for n, track_id in enumerate(ours[:2]):
            s.add(JournalEntry(batch_id=batch.id, track_id=track_id, path=f"/m/ours/{20 + n}.flac", old_genres=[],
                               new_genres=["Jazz"], state="written"))
        s.commit()
    assert set_album_genres(sessions, True) == 5  # /m/half 4 and /m/fixed 25
    genres = shown(sessions)
    assert {genres[f"{n}.flac"] for n in range(4)} == {("Shoegaze", 0.5, OK)}
    assert {genres[f"{n}.flac"][0] for n in (10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32)} == {"Rock"}
    assert genres["24.flac"][0] == "Dream Pop" and genres["25.flac"] == ("Dream Pop", 0.5, OK)
    with sessions() as s:
        album = album_genre_of(s, s.scalar(select(Track.id).where(Track.path == "/m/half/3.flac")))
        assert (album.tagged, album.tracks, album.top) == (2, 4, ("Shoegaze", 0.5))
    settings = TaggingSettings(policy="fill", multi_genre=True)
    assert {c.path: c.new for c in TagService(sessions, settings).plan() if c.path.startswith("/m/half")} == {
        "/m/half/2.flac": ("Shoegaze",), "/m/half/3.flac": ("Shoegaze",)}  # the untagged half filled in
    assert set_album_genres(sessions, False) == 5 and {genres[0] for genres in shown(sessions).values()} == {"Rock", "Dream Pop"}


def test_predictions_against_the_genre_the_listener_gave_an_album_are_named_while_the_setting_is_off(tmp_path):
    # A half-tagged soundtrack's untagged tracks were planned as Rock, Blues, Reggae, and nothing said the setting
    # that gives them the album's genre was there (`learn` says so, but only once a library can learn).
    from dataclasses import replace

    sessions = open_database(tmp_path / "against.db")
    rock, jazz = [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]
    with sessions() as s:
        for n, tag in enumerate(("Soundtrack", "soundtrack", "", "")):  # half tagged: the untagged half heard as Rock
            add(s, n, rock, folder="/m/ost", album="Drascula", tag=tag)
        for n, tag in enumerate(("JAZZ", "Jazz", "", "")):  # heard as the genre the album has, in another spelling
            add(s, 10 + n, jazz, folder="/m/agrees", album="Blue", tag=tag)
        for n, tag in enumerate(("Ambient", "", "", "")):  # a quarter tagged: no genre of the album's
            add(s, 20 + n, rock, folder="/m/quarter", album="Q", tag=tag)
        for n, artist in enumerate(("A", "B", "C")):  # a compilation keeps each track's own
            add(s, 30 + n, rock, folder="/m/various", album="Hits", artist=artist, tag="Soundtrack" if n < 2 else "")
        s.commit()
    changes = TagService(sessions, TaggingSettings(policy="fill")).plan()
    assert len(changes) == 2 + 2 + 3 + 1
    with sessions() as s:
        against = against_your_albums(s, changes)
        assert (against.tracks, against.albums) == (2, (("Drascula", "Soundtrack"),))
        assert against_your_albums(s, [replace(c, confidence=None) for c in changes]) is None  # set by hand: theirs
        assert against_your_albums(s, []) is None
    assert against.wording() == ("2 tracks are given another genre than the one you gave their album (Drascula: "
                                 "Soundtrack); with one genre per album they take their album's")
    set_album_genres(sessions, True)
    with sessions() as s:  # on: the plan gives them their album's genre already
        assert against_your_albums(s, changes) is None
    set_album_genres(sessions, False)
    with sessions() as s:  # turned off by the listener: their choice, not suggested again
        assert against_your_albums(s, changes) is None


def test_the_words_for_predictions_against_albums_fit_one_track_and_many_albums():
    assert AgainstYourAlbums(1, (("Kind of Blue", "Jazz"),)).wording() == (
        "1 track is given another genre than the one you gave its album (Kind of Blue: Jazz); with one genre per "
        "album it takes its album's")
    assert "gave their albums (A: Rock, and 2 more albums); with" in AgainstYourAlbums(5, (("A", "Rock"), ("B", "Jazz"),
                                                                                       ("C", "Pop"))).wording()


def test_an_album_follows_corrections_made_and_forgotten(library):
    set_album_genres(library, True)
    tagger = TagService(library)
    tagger.correct(["/m/a/1.flac", "/m/a/2.flac"], "Post-Rock", write=False)  # and 5 is Fusion: 2 of 5
    assert shown(library)["4.flac"][0] == "Rock"
    tagger.correct(["/m/a/3.flac"], "Post-Rock", write=False)  # 3 of 5: the listener has named the album
    assert shown(library)["4.flac"] == ("Post-Rock", 0.6, OK)
    tagger.forget_corrections(["/m/a/1.flac"])
    assert shown(library)["4.flac"][0] == shown(library)["1.flac"][0] == "Rock"  # 2 of 5: the model's album genre
    set_album_genres(library, False)
    tagger.correct(["/m/a/1.flac"], "Post-Rock", write=False)
    assert shown(library)["4.flac"] == (None, None, TOO_SHORT)  # off: a correction is its own track's only


def test_learn_estimates_one_genre_per_album_on_the_held_out_probabilities(tmp_path):
    from desktop.services.learning import Label, album_accuracy

    sessions = open_database(tmp_path / "estimate.db")
    with sessions() as s:
        ids = [add(s, n, [0.5, 0.5, 0.0]) for n in range(3)]  # one album of three
        ids += [add(s, 10 + n, [0.5, 0.5, 0.0], folder="/m/v", artist=a) for n, a in enumerate("ABC")]  # a compilation
        ids.append(add(s, 20, [0.5, 0.5, 0.0], folder="/m/single"))
        s.commit()
        labels = [Label(i, "rock", "tag", "artist:x") for i in ids]
        y = np.zeros(len(ids), int)  # every track is rock (class 0)
        held_out = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7],  # the album's mean says rock: its third is fixed
                             [0.9, 0.1], [0.8, 0.2], [0.3, 0.7],  # a compilation's tracks keep their own
                             [0.4, 0.6]])  # alone in its album
        assert album_accuracy(s, labels, held_out, y) == (pytest.approx(5 / 7), 3)
        assert album_accuracy(s, labels[3:], held_out[3:], y[3:]) == (None, 0)


def test_multi_genre_writes_rank_the_albums_probabilities(library):
    set_album_genres(library, True)
    settings = TaggingSettings(policy="replace", multi_genre=True, multi_threshold=0.2)
    plan = {c.path: c.new for c in TagService(library, settings).plan()}
    # The album (tracks 1, 2, 3 and the corrected 5): rock 0.5, jazz 0.4; alone, track 1 would be Rock only.
    assert plan["/m/a/3.flac"] == ("Rock", "Jazz")
    assert plan["/m/a/1.flac"] == ("Rock", "Jazz")
    assert plan["/m/various/10.flac"] == ("Rock",)  # a compilation's track: its own probabilities


# ---- end to end: the CLI over a real model ----------------------------------------------------------------------
def listed(capsys) -> dict[str, str]:
    """Path -> genre of every track, as `list --json` gives them."""
    capsys.readouterr()
    assert main(["--json", "list"]) == EXIT_OK
    return {t["path"]: t["genre"] for t in json.loads(capsys.readouterr().out)["tracks"]}


@pytest.mark.usefixtures("need_ffmpeg")
def test_a_scan_names_predictions_against_the_genre_you_gave_their_album(tmp_path, exported_model, monkeypatch, capsys):
    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("GENRE_TAGGER_MODEL", str(exported_model))
    album = tmp_path / "Music" / "Band - Record"
    for n in range(4):
        make_track(album, f"0{n} song", "beats", "flac", 3.0, seed=n,
                   tags={"artist": "Band", "album": "Record", "title": f"Song {n}", **({"genre": "Soundtrack"} if n < 2 else {})})
    hint = ("2 tracks are given another genre than the one you gave their album (Record: Soundtrack); with one genre "
            "per album they take their album's: genre-tagger genres --per-album on")
    capsys.readouterr()
    assert main(["scan", str(album), "--threshold", "0.05"]) == EXIT_OK
    assert hint in capsys.readouterr().out.splitlines()
    assert main(["--json", "scan", str(album)]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["against_your_albums"] == {
        "tracks": 2, "albums": [{"album": "Record", "genre": "Soundtrack"}]}
    assert main(["genres", "--per-album", "on"]) == EXIT_OK
    capsys.readouterr()
    assert main(["scan", str(album), "--json"]) == EXIT_OK
    scanned = json.loads(capsys.readouterr().out)
    assert scanned["against_your_albums"] is None and {tuple(c["new"]) for c in scanned["changes"]} == {("Soundtrack",)}


@pytest.mark.usefixtures("need_ffmpeg")
def test_a_scan_gives_an_album_one_genre_and_writes_it(tmp_path, exported_model, monkeypatch, capsys):
    monkeypatch.setenv("GENRE_TAGGER_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("GENRE_TAGGER_MODEL", str(exported_model))
    album = tmp_path / "Music" / "Band - Record"
    tags = {"artist": "Band", "album": "Record"}
    songs = [make_track(album, f"0{n} song", genre, "flac", 3.0, seed=n, tags={**tags, "title": f"Song {n}"})
             for n, genre in enumerate(("beats", "beats", "noise"))]
    assert main(["scan", str(album)]) == EXIT_OK
    own = listed(capsys)
    assert len(set(own.values())) == 2  # the model hears the noise track as Noise on its own
    assert main(["genres", "--per-album", "on"]) == EXIT_OK
    assert "one genre per album: on (1 track changed" in capsys.readouterr().out
    new = make_track(album, "03 song", "noise", "flac", 3.0, seed=7, tags={**tags, "title": "Song 3"})
    assert main(["scan", str(album), "--write"]) == EXIT_OK  # the new track joins the album's genre
    capsys.readouterr()
    genres = {str(p): read_tags(p).genres for p in (*songs, new)}
    assert len(set(genres.values())) == 1 and genres[str(songs[0])] == (own[str(songs[0])],)
    assert main(["show", str(songs[2])]) == EXIT_OK
    assert f"album genre: {own[str(songs[0])]} (" in capsys.readouterr().out
    hits = [make_track(tmp_path / "Music" / "VA - Hits", f"0{n}", genre, "flac", 3.0, seed=20 + n,
                       tags={"artist": f"Artist {n}", "album": "Hits", "album_artist": "Various Artists"})
            for n, genre in enumerate(("beats", "noise"))]
    assert main(["scan", str(hits[0].parent)]) == EXIT_OK
    capsys.readouterr()
    assert main(["show", str(hits[1])]) == EXIT_OK  # why its genre is its own
    assert "album genre: none, Hits is a compilation (each of its tracks keeps its own genre)" in capsys.readouterr().out
    assert main(["genres"]) == EXIT_OK
    assert "one genre per album: on" in capsys.readouterr().out
    # Half the album set by hand (written, journalled): the rest follows; undoing it takes them back.
    assert main(["set", str(songs[0]), str(songs[1]), "Post-Rock"]) == EXIT_OK
    assert {listed(capsys)[str(p)] for p in (*songs, new)} == {"Post-Rock"}
    assert main(["undo"]) == EXIT_OK
    assert {listed(capsys)[str(p)] for p in (*songs, new)} == {own[str(songs[0])]}
    assert main(["genres", "--per-album", "off", "--json"]) == EXIT_OK
    toggled = json.loads(capsys.readouterr().out)
    back = {p: g for p, g in listed(capsys).items() if "VA - Hits" not in p}
    assert {p: back[p] for p in own} == own
    # Those whose own genre is not the album's (the noise tracks) changed back.
    assert toggled["per_album"] is False and toggled["per_album_changed"] == sum(g != own[str(songs[0])] for g in back.values()) > 0
