"""The search a listener types: words in any order, blind to case and accents, phrases, fields and years."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from desktop.core.search import fold, parse_search


@dataclass
class Song:
    """What a search reads of a track."""

    title: str
    artist: str
    album: str = ""
    genre: str = ""
    file_genre: str = ""
    path: str = ""
    year: int = 0


LIBRARY = [
    Song("So What", "Miles Davis", "Kind of Blue", "Jazz", "Jazz", "/music/Miles Davis/Kind of Blue/01 So What.mp3", 1959),
    Song("Hoppípolla", "Sigur Rós", "Takk...", "Post-Rock", "", "/music/Sigur Rós/Takk/03 Hoppípolla.flac", 2005),
    Song("Ace of Spades", "Motörhead", "Ace of Spades", "Metal", "Heavy Metal", "/music/Motorhead/01.mp3", 1980),
    Song("Jóga", "Björk", "Homogenic", "Electronic", "Trip-Hop", "/music/Bjork/Homogenic/03 Joga.ogg", 1997),
    Song("Track 3", "Nobody", "Demos", "Rock", "", "/music/demos/Track 3.mp3", 0),
    Song("Intro", "Straßenjungs", "Dänische Lieder", "Punk", "", "/music/Straßenjungs/1.mp3", 1979),
]


def found(text: str) -> list[str]:
    """The titles `text` finds in LIBRARY, in its order."""
    matches = parse_search(text).matcher()
    return [song.title for song in LIBRARY if matches(song)]


@pytest.mark.parametrize(("typed", "titles"), [
    ("miles blue", ["So What"]),  # in any order, in two fields: one substring of the typed text found nothing
    ("blue MILES", ["So What"]),
    ("sigur ros", ["Hoppípolla"]),  # without its accent, as a keyboard without one types it
    ("SIGUR RÓS", ["Hoppípolla"]),
    ("motorhead", ["Ace of Spades"]),
    ("bjork joga", ["Jóga"]),
    ("strassenjungs", ["Intro"]),  # ß as ss
    ("danische", ["Intro"]),
    ("blu", ["So What"]),  # the start of a word: as it is typed
    ("lue", []),  # not from inside one
    ("3", ["Track 3"]),  # the track's own number, not every ".mp3" nor Hoppípolla's "03"
    ("jazz", ["So What"]),
    ("trip-hop", ["Jóga"]),  # the file's own genre too
    ("/demos/", ["Track 3"]),  # a word that begins with neither letter nor digit is looked for anywhere
])
def test_a_search_finds_every_word_in_any_order_blind_to_case_and_accents(typed, titles):
    assert found(typed) == titles


OTHER_SCRIPTS = [Song("Группа крови", "Кино", "Группа крови", "Русский рок", "", "/music/Кино/01.mp3", 1988),
                 Song("夜に駆ける", "YOASOBI", "THE BOOK", "J-Pop", "Jポップ", "/music/YOASOBI/01.flac", 2019)]


@pytest.mark.parametrize(("typed", "titles"), [
    ("рок кино", ["Группа крови"]),  # in any script that spaces its words, at a word's start
    ("РОК", ["Группа крови"]),
    ("ок", []),  # not from inside one: "ок" was found in "рок"
    ("駆ける", ["夜に駆ける"]),  # Japanese spaces no words: anywhere
    ("ポップ", ["夜に駆ける"]),
])
def test_a_search_in_another_script_finds_words_as_that_script_writes_them(typed, titles):
    matches = parse_search(typed).matcher()
    assert [song.title for song in OTHER_SCRIPTS if matches(song)] == titles


@pytest.mark.parametrize(("typed", "titles"), [
    ('"kind of blue"', ["So What"]),
    ('"blue of kind"', []),  # a phrase keeps its words together and in order
    ('"ace of" metal', ["Ace of Spades"]),
    ("artist:davis", ["So What"]),
    ("artist:blue", []),  # Blue is the album's, not the artist's
    ('ARTIST:"sigur ros"', ["Hoppípolla"]),
    ("album:homogenic", ["Jóga"]),
    ("title:ace", ["Ace of Spades"]),
    ("genre:metal", ["Ace of Spades"]),  # the genre shown or the file's own
    ("genre:heavy", ["Ace of Spades"]),
    ("path:demos", ["Track 3"]),
    ("year:1959", ["So What"]),
    ("year:1975-1999", ["Ace of Spades", "Jóga", "Intro"]),
    ("year:1975..1999 artist:bjork", ["Jóga"]),
    ("year:1999-1975", ["Ace of Spades", "Jóga", "Intro"]),  # the later year first
    ("year:2000..", ["Hoppípolla"]),
    ("year:-1970", ["So What"]),  # and before: not the track whose tags give no year
    ("year:2005 year:1959", []),  # every part must hold
    ("year:>1997", ["Hoppípolla"]),  # as other players' searches take it (was looked for as the word "year:>1997")
    ("year:>=1997", ["Hoppípolla", "Jóga"]),
    ("year:<1980", ["So What", "Intro"]),  # not the track whose tags give no year
    ("year:<=1980", ["So What", "Ace of Spades", "Intro"]),
    ("year:>1975 -year:>1990", ["Ace of Spades", "Intro"]),
])
def test_a_phrase_a_field_or_a_year_limits_a_search(typed, titles):
    assert found(typed) == titles


@pytest.mark.parametrize(("typed", "titles"), [
    ("", [song.title for song in LIBRARY]),
    ("   ", [song.title for song in LIBRARY]),
    ("artist:", [song.title for song in LIBRARY]),  # a field not typed yet limits nothing
    ("year:", [song.title for song in LIBRARY]),
    ('"kind of', ["So What"]),  # a phrase whose closing quote is not typed yet
    ("year:abc", []),  # not a year: the word as typed, which nothing holds
    ("nofield:davis", []),  # a colon that names no field is part of the word
])
def test_a_search_half_typed_or_oddly_typed_finds_what_it_says(typed, titles):
    assert found(typed) == titles


@pytest.mark.parametrize(("typed", "titles"), [
    ("-jazz", ["Hoppípolla", "Ace of Spades", "Jóga", "Track 3", "Intro"]),
    ("metal -spades", []),
    ("-artist:davis -artist:bjork year:1975..", ["Hoppípolla", "Ace of Spades", "Intro"]),
    ('-"ace of" -year:1970-1999', ["So What", "Hoppípolla", "Track 3"]),
    ("-genre:rock", ["So What", "Ace of Spades", "Jóga", "Intro"]),  # Post-Rock's "rock" begins a word too
    ("-", [song.title for song in LIBRARY]),  # a minus not yet followed by what to leave out
    ("track - 3", ["Track 3"]),
])
def test_a_minus_leaves_out_what_its_word_phrase_field_or_year_finds(typed, titles):
    assert found(typed) == titles


def test_a_word_with_a_colon_that_names_no_field_is_searched_as_typed():
    song = Song("Live: Back in Black", "AC/DC:", path="/m/http://x.mp3")
    assert parse_search("AC/DC:").matcher()(song) and parse_search("live: black").matcher()(song)
    assert parse_search("http://x").matcher()(song)
    assert not parse_search("artist:live").matcher()(song)


def test_folding_takes_case_and_accents_off_letters_unicode_does_not_decompose_too():
    assert fold("Motörhead Sigur Rós ØRESUND Ærø Łódź Straße ﬁn") == "motorhead sigur ros oresund aero lodz strasse fin"
    assert fold("Plain ASCII") == "plain ascii"


def test_the_tables_search_box_finds_words_in_any_order_fields_and_years(qapp):
    from PySide6.QtCore import Qt

    from desktop.ui.table_model import (
        ARTIST,
        TRACK_ID_ROLE,
        LibraryFilter,
        LibraryTableModel,
        TrackRow,
    )

    rows = [TrackRow(i, song.path, song.title, song.artist, song.album, song.file_genre, song.genre, song.genre.lower(),
                     0.9, False, "analysed", "", year=song.year) for i, song in enumerate(LIBRARY)]
    model, proxy = LibraryTableModel(), LibraryFilter()
    proxy.setSourceModel(model)
    model.set_rows(rows)

    def shown(typed: str) -> list[str]:
        proxy.set_search(typed)
        found = [rows[proxy.index(r, 0).data(TRACK_ID_ROLE)] for r in range(proxy.rowCount())]
        assert proxy.shown_rows() == found  # all at once (what Export Playlist writes), in the table's order
        return [row.title for row in found]

    assert shown("miles blue") == ["So What"]  # one substring of the typed text, "miles blue", found nothing
    assert shown("sigur ros") == ["Hoppípolla"]
    assert shown("3") == ["Track 3"]  # every ".mp3" held a 3
    assert sorted(shown("year:1975-1999")) == ["Ace of Spades", "Intro", "Jóga"]
    assert shown("artist:davis year:1959") == ["So What"]
    assert sorted(shown("-artist:davis -genre:rock")) == ["Ace of Spades", "Intro", "Jóga"]
    assert len(shown("")) == len(LIBRARY)
    proxy.sort(ARTIST, Qt.SortOrder.DescendingOrder)  # the rows the table shows, sorted, found by shown_rows too
    assert shown("-genre:jazz") == ["Intro", "Hoppípolla", "Track 3", "Ace of Spades", "Jóga"]


@pytest.mark.parametrize(("typed", "said"), [
    ("rating:5", ["rating: names no field (title:, artist:, album:, genre:, path:, year:), so rating:5 was looked for "
                  "as a word"]),
    ('year:90s -live', ["year:90s is no year or range (year:1959, year:1990-1999, year:2000.., year:>2000), so it was "
                        "looked for as a word"]),
    ("artist:davis year:>1950 year:1959 genre:", []),  # fields, years, and one not typed yet: nothing to say
    ("AC/DC: live", []),  # a colon after a word that is no name: the word as typed, as meant
])
def test_a_search_says_which_parts_looking_like_a_field_it_took_as_words(typed, said):
    # `list --search rating:5` and the window said only "no track matches": the listener could not tell that rating
    # is no field, nor that year:90s is no year.
    from desktop.core.search import read_as_words

    assert read_as_words(typed) == said
