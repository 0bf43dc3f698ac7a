"""Folders that look like spoken word (audiobooks, podcasts): which are found, and which are not."""

from desktop.core.spoken_word import SpokenFolder, spoken_folders, spoken_name, spoken_track


def test_folders_named_as_audiobooks_and_podcasts_are_shelved_are_spoken_and_music_named_alike_is_not():
    for name in ("Audiobooks", "audio books", "Podcasts", "Hörbücher", "Hoerbuecher", "Livres audio", "Audiobooks & Podcasts"):
        assert spoken_name(name), name
    for name in ("The Podcast Sessions", "Speech", "Books", "Audiobooks Vol. 2 (band)", "Rock"):
        assert not spoken_name(name), name

def test_folders_and_tags_in_other_scripts_say_spoken_word_too():
    # Only a-z and 0-9 were read: "Аудиокниги" or "オーディオブック" had no name at all, and their books were tagged as music.
    for name in ("Аудиокниги", "Подкасты", "オーディオブック", "ポッドキャスト", "有声书", "오디오북"):
        assert spoken_name(name), name
    assert not spoken_name("Рок") and not spoken_name("Аудиокниги 2")
    assert spoken_track("/m/x/1.mp3", "Аудиокнига") == "genre tags saying Аудиокнига"
    assert spoken_track("/m/x/1.mp3", "오디오북") == "genre tags saying 오디오북"



def test_a_track_is_spoken_by_its_genre_tag_or_the_audiobook_container():
    assert spoken_track("/m/x/book.M4B", "") == "audiobook files (.m4b)"
    assert spoken_track("/m/x/e1.mp3", "Podcast") == "genre tags saying Podcast"
    assert spoken_track("/m/x/e1.mp3", "Rock; Spoken Word") == "genre tags saying Spoken Word"
    assert spoken_track("/m/x/e1.mp3", "Books & Spoken") == "genre tags saying Books & Spoken"
    assert spoken_track("/m/x/song.mp3", "Rock") is None and spoken_track("/m/x/song.m4a", "") is None


def untagged(tracks: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(path, genre tag) as spoken_folders takes tracks: with no media kind of iTunes'."""
    return [(path, genre, "") for path, genre in tracks]


def test_a_track_marked_by_itunes_as_an_audiobook_or_a_podcast_is_spoken():
    # iTunes' media kind said an .m4a was an audiobook or a podcast episode; with no genre tag and no telling folder
    # name, its folder was music, and `scan --write` gave it a music genre.
    assert spoken_track("/m/x/ch1.m4a", "", "audiobook") == "marked as audiobooks by iTunes"
    assert spoken_track("/m/x/e1.m4a", "Rock", "podcast") == "marked as podcasts by iTunes"
    tracks = [("/m/Stories/Dune/1.m4a", "", "audiobook"), ("/m/Stories/Dune/2.m4a", "", "audiobook"),
              ("/m/Shows/e1.m4a", "", "podcast"), ("/m/Shows/song.m4a", "", ""), ("/m/Pop/song.m4a", "Pop", "")]
    assert spoken_folders(tracks, ["/m"]) == [SpokenFolder("/m/Stories", 2, "marked as audiobooks by iTunes")]


def test_the_outermost_folder_inside_a_music_folder_is_offered_once_and_only_where_every_track_is_spoken():
    tracks = [("/m/Audiobooks/Author/Book/01.mp3", ""), ("/m/Audiobooks/Author/Book/02.mp3", ""),
              ("/m/Rock/x.mp3", "Rock"),
              ("/m/Pods/Show/e1.mp3", "Podcast"), ("/m/Pods/Show/e2.mp3", "Podcast"), ("/m/Pods/song.mp3", "Rock"),
              ("/m/Books/Dune/Dune.m4b", ""), ("/m/Books/Emma/Emma.m4b", ""),
              ("/m/Mixed/talk.mp3", "Speech"), ("/m/Mixed/song.mp3", "Jazz"),
              ("/m/loose.m4b", ""), ("/elsewhere/e.mp3", "Podcast")]
    assert spoken_folders(untagged(tracks), ["/m"]) == [
        SpokenFolder("/m/Audiobooks", 2, "the folder's name"),  # not each book inside it
        SpokenFolder("/m/Books", 2, "audiobook files (.m4b)"),
        SpokenFolder("/m/Pods/Show", 2, "genre tags saying Podcast"),  # not Pods: a song of it is music
    ]  # not Mixed, not the music folder itself (/m/loose.m4b), not a file outside every music folder


def test_a_music_folder_itself_named_podcasts_is_not_offered_and_folders_kept_as_music_are_not_either():
    tracks = [("/p/Podcasts/Show/e1.mp3", "Podcast"), ("/m/Audiobooks/A/01.mp3", ""), ("/m/Audiobooks/B/01.mp3", "Audiobook")]
    assert spoken_folders(untagged(tracks), ["/p/Podcasts", "/m"], kept=["/m/Audiobooks"]) == [
        SpokenFolder("/p/Podcasts/Show", 1, "genre tags saying Podcast")]  # its show, inside it, is
    assert spoken_folders(untagged(tracks), ["/p/Podcasts", "/m"], kept=["/m", "/p"]) == []  # kept: all under them too
