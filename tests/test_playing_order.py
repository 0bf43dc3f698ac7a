"""Playing order (core.natural_order): each album whole under one artist, in its own order."""

from __future__ import annotations

from dataclasses import dataclass, replace

from desktop.core.natural_order import album_sort_artists, in_playing_order, track_album


@dataclass
class Song:
    """What a listing reads of a track."""

    path: str
    artist: str
    album: str
    track_number: int = 0
    disc_number: int = 0
    album_artist: str = ""

    @property
    def folder(self) -> str:
        return self.path.rsplit("/", 1)[0]


def titles(tracks) -> list[str]:
    return [t.path.rsplit("/", 1)[1] for t in tracks]


def artists_of(tracks) -> dict:
    return album_sort_artists(tracks, [track_album(t.folder, t.album) for t in tracks],
                              [t.album_artist or t.artist for t in tracks])


def test_an_album_whose_tracks_name_two_artists_plays_whole_in_its_own_order():
    # A game's soundtrack by its two composers, no album-artist tag: ordered by each track's artist, its odd tracks
    # came first (Alcachofa Soft's), its even ones after another album (Sergio Ojeda's).
    drascula = [Song(f"/m/Drascula/{n:02d}.ogg", "Alcachofa Soft" if n % 2 else "Sergio Ojeda", "Drascula", n)
                for n in range(1, 8)]
    other = Song("/m/Other/01.ogg", "Phil Hassey", "Singularity", 1)
    assert titles(in_playing_order([other, *reversed(drascula)])) == [
        "01.ogg", "02.ogg", "03.ogg", "04.ogg", "05.ogg", "06.ogg", "07.ogg", "01.ogg"]
    assert in_playing_order([other, *drascula])[-1] is other  # the album sorts under Alcachofa Soft: 4 of 7 tracks
    assert set(artists_of(drascula).values()) == {"Alcachofa Soft"}


def test_the_artist_most_tracks_name_case_aside_wins_and_a_tie_goes_to_the_first_track():
    album = [Song("/m/a/1.mp3", "Wings", "Live", 1), Song("/m/a/2.mp3", "beatles", "Live", 2),
             Song("/m/a/3.mp3", "Beatles", "Live", 3)]
    assert list(artists_of(album).values())[0].casefold() == "beatles"  # two of three, however spelt
    tie = [Song("/m/b/1.mp3", "Zed", "Split", 1), Song("/m/b/2.mp3", "Abe", "Split", 2)]
    assert list(artists_of(tie).values()) == ["Zed"]  # the first track's, not the first by name
    assert list(artists_of(list(reversed(tie))).values()) == ["Zed"]  # whatever order the tracks come in
    tagged = [Song("/m/c/1.mp3", "Zed", "Mix", 1, album_artist="DJ"), Song("/m/c/2.mp3", "Abe", "Mix", 2, album_artist="DJ")]
    assert list(artists_of(tagged).values()) == ["DJ"]


def test_an_album_is_its_folder_and_name_discs_in_their_own_folders_are_one():
    discs = [Song("/m/Box/CD1/1.flac", "A", "Box", 1, 1), Song("/m/Box/CD2/1.flac", "B", "Box", 1, 2),
             Song("/m/Box/CD2/2.flac", "A", "Box", 2, 2)]
    elsewhere = Song("/m/Other/1.flac", "B", "Box", 1)  # another album of the same name: its own artist
    loose = [Song("/m/Loose/1.flac", "C", ""), Song("/m/Loose/2.flac", "A", "")]  # no album: each its own artist
    ordered = in_playing_order([elsewhere, *loose, *reversed(discs)])
    assert [t.path for t in ordered] == ["/m/Loose/2.flac", "/m/Box/CD1/1.flac", "/m/Box/CD2/1.flac",
                                         "/m/Box/CD2/2.flac", "/m/Other/1.flac", "/m/Loose/1.flac"]


def test_a_folder_of_tracks_by_many_artists_not_numbered_as_one_album_keeps_each_under_its_artist():
    # A downloads folder whose every track says "Unknown Album": kept whole under one artist, Abba's tracks and
    # Zappa's were listed together, apart from each artist's own albums.
    downloads = [Song("/m/Downloads/a.mp3", "Abba", "Unknown Album"), Song("/m/Downloads/z.mp3", "Zappa", "Unknown Album"),
                 Song("/m/Downloads/zz.mp3", "Zappa", "Unknown Album")]
    mids = Song("/m/Moby/1.mp3", "Moby", "Play", 1)
    assert titles(in_playing_order([mids, *downloads])) == ["a.mp3", "1.mp3", "z.mp3", "zz.mp3"]
    assert artists_of(downloads) == {}
    twice = [Song("/m/Box/1.mp3", "Abba", "Box", 1), Song("/m/Box/1b.mp3", "Zappa", "Box", 1)]  # two track 1s
    assert artists_of(twice) == {}
    assert len(artists_of([replace(twice[1], track_number=2), twice[0]])) == 1  # numbered one by one: one album
