"""The CLI's argument parser: its subcommands, their options, and the option types that check them."""

from __future__ import annotations

import argparse

from desktop import __version__
from desktop.core.analysis import DEFAULT_THRESHOLD
from desktop.core.paths import named_path
from desktop.core.search import HOW_TO_SEARCH
from desktop.services.learning import LearnSettings
from desktop.services.settings import POLICIES


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1 (a confidence threshold)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value


def at_least(low: int, most: int | None = None):
    """An argparse type: a whole number of at least `low` (and at most `most`, where given)."""
    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most}, not {value}")
        return value
    return whole


# Decoding threads: each runs a decoder at once, and twice as many files wait decoded in memory. --workers 100000
# queued every file of the library and started as many decoders as it held.
MOST_WORKERS = 64
# SQLite's largest integer: a batch number past it (undo --batch 99999999999999999999) was an internal error
MOST_BATCH = (1 << 63) - 1


def genre_text(text: str) -> str:
    """An argparse type for a genre to look for: any name but an empty or blank one (which matched no track and was
    then said to be no filter at all)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a genre cannot be empty")
    return text


MAP_SIZES = (400, 200, 10_000)  # least width (the legend takes 240 px), least height, most of either


def image_size(text: str) -> tuple[int, int]:
    """An argparse type: WIDTHxHEIGHT in pixels, within MAP_SIZES (10000x10000 is 400 MB of image already)."""
    least_w, least_h, most = MAP_SIZES
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be WIDTHxHEIGHT, not {text!r}") from None
    if not (least_w <= width <= most and least_h <= height <= most):
        raise argparse.ArgumentTypeError(f"must be from {least_w}x{least_h} to {most}x{most} pixels, not {text}")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    from desktop.core.paths import locations_text

    # No abbreviated options: `--mode replace` would silently be `--model replace`.
    p = argparse.ArgumentParser(prog="genre-tagger", description="Tag a music library with genres, offline.",
                                allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="exit codes: 0 ok, 1 done with some files failing, 2 error, 130 cancelled\n\n"
                                       + locations_text())
    p.add_argument("--version", action="version", version=f"genre-tagger {__version__}\n{locations_text()}")
    add_global_options(p, defaults=True)
    # The same options after the subcommand (`scan DIR --json`): SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_global_options(common, defaults=False)
    sub = p.add_subparsers(dest="command", required=True)
    add = lambda name, **kw: sub.add_parser(name, parents=[common], allow_abbrev=False, **kw)  # noqa: E731

    scan = add("scan", help="scan folders (or single files), predict genres, and (with --write) tag files")
    scan.add_argument("paths", nargs="*", metavar="PATH", type=named_path, help="a music folder (walked with its subfolders) or a music file; "
                      "none: the folders the library's scans walked before (here or in the window)")
    scan.add_argument("--write", action="store_true", help="write tags; without it nothing is written (dry run)")
    scan.add_argument("--policy", choices=POLICIES, default="fill", help="fill: only files with no genre of yours: none, a placeholder such as Unknown, or one this library "
                      "wrote that the model now sees otherwise (default); replace; never")
    scan.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto", help="where the model runs (auto: a GPU when there is one)")
    scan.add_argument("--threshold", type=fraction, default=DEFAULT_THRESHOLD, help="below this confidence a prediction is uncertain and never written")
    scan.add_argument("--multi-genre", action="store_true", help="write up to 3 genres above --multi-threshold")
    scan.add_argument("--multi-threshold", type=fraction, default=0.25, help="with --multi-genre: the least confidence of a second or third genre (default 0.25)")
    add_id3_options(scan)
    add_keep_times_option(scan)
    scan.add_argument("--separator", default="; ", help="ID3v2.3 multi-genre separator")
    add_provenance_option(scan)
    scan.add_argument("--workers", type=at_least(1, MOST_WORKERS), default=2, help=f"decoding threads (1 to {MOST_WORKERS})")
    scan.add_argument("--watch", action="store_true", help="keep running: scan again (and with --write, write) a few "
                      "seconds after music comes, goes or is renamed in the folders, until Ctrl+C; with --json, one "
                      "line per scan")

    ls = add("list", help="list tracks")
    ls.add_argument("--genre", type=genre_text, help="only tracks of this genre (any spelling: hip hop finds Hip-Hop)")
    ls.add_argument("--no-genre", action="store_true",
                    help="only tracks with no genre at all (not analysed, unreadable, no music, unlike your genres), each with why")
    ls.add_argument("--review", action="store_true", help="only tracks to review, each with why (uncertain, the tag disagrees, the album disagrees)")
    ls.add_argument("--threshold", type=fraction, default=DEFAULT_THRESHOLD,
                    help="predictions under this confidence are uncertain: left out of --counts and --genre, shown by --review")
    ls.add_argument("--search", help=f"only tracks this finds: {'; '.join(HOW_TO_SEARCH)}")
    ls.add_argument("--counts", action="store_true", help="genres with track counts")

    show = add("show", help="everything known about one file")
    show.add_argument("file", type=named_path, help="a music file in the library")

    st = add("set", help="set a genre by hand (recorded, written, protected from automatic tagging)")
    st.add_argument("paths", nargs="+", metavar="PATH", type=named_path,
                    help="a music file, or a folder: every music file in it and its subfolders (one undo step)")
    st.add_argument("genre", help="the genre to set (several: 'Rock; Pop')")
    st.add_argument("--no-write", action="store_true", help="record in the database only")
    add_id3_options(st)
    add_keep_times_option(st)
    add_provenance_option(st)

    kp = add("keep", help="keep the genre each file's own tag says, as set by hand: the tag is right and the "
                          "prediction not (recorded, protected from automatic tagging; files are not changed)")
    kp.add_argument("paths", nargs="+", metavar="PATH", type=named_path,
                    help="a music file, or a folder: every music file in it and its subfolders, each its own tag's genre")

    fg = add("forget", help="forget the genre set by hand: the prediction shows again (files are not changed)")
    fg.add_argument("paths", nargs="+", metavar="PATH", type=named_path,
                    help="a music file, or a folder: every music file in it and its subfolders")

    undo = add("undo", help="revert the last batch of tag writes (or --batch N)")
    undo.add_argument("--batch", type=at_least(1, MOST_BATCH), help="the batch number to revert (see --list)")
    undo.add_argument("--list", action="store_true", help="list recent batches instead")
    add_keep_times_option(undo)

    pl = add("playlist", help="write an M3U8 playlist of one genre or a search, or of every genre to a folder (--all)")
    pl.add_argument("genre", nargs="?", type=genre_text, help="the genre, any spelling (hip hop finds Hip-Hop)")
    pl.add_argument("--search", help="only tracks this finds, as `list --search` (with no genre: of any genre, however "
                    "confident, so 'artist:davis year:1955-1960' is a playlist)")
    pl.add_argument("--all", action="store_true", help="one playlist per genre, <genre>.m3u8 in the folder -o names "
                    "(playlists written before are replaced)")
    pl.add_argument("-o", "--output", required=True, type=named_path, help="the playlist file to write (.m3u8); with --all, the folder")
    pl.add_argument("--force", action="store_true", help="replace a file that is not a playlist (never an audio file)")
    pl.add_argument("--threshold", type=fraction, default=DEFAULT_THRESHOLD, help="leave out predictions under this confidence")

    add("models", help="list available models")

    lr = add("learn", help="learn your library's own genres from its tags and corrections (no audio is decoded)")
    lr.add_argument("--base", type=named_path, help="the network whose embeddings to learn on (default: the shipped model)")
    lr.add_argument("--min-tracks", type=at_least(2), default=LearnSettings.min_tracks, help="tracks a genre needs")
    lr.add_argument("--min-artists", type=at_least(1), default=LearnSettings.min_artists, help="artists a genre needs")
    lr.add_argument("--folds", type=at_least(2), default=LearnSettings.folds, help="cross-validation folds (grouped by artist)")
    act = lr.add_mutually_exclusive_group()
    act.add_argument("--activate", dest="activate", action="store_true", default=None,
                     help="use the learned model even where the shipped one scores better")
    act.add_argument("--no-activate", dest="activate", action="store_false", help="save the model but keep using the current one")

    mp = add("map", help="draw the library as a 2-D map of its stored embeddings (PNG, or a self-contained HTML page)")
    mp.add_argument("-o", "--output", required=True, type=named_path, help="map.png, or map.html for an interactive page")
    mp.add_argument("--html", action="store_true", help="write the interactive page whatever the file name")
    mp.add_argument("--force", action="store_true", help="replace a file that is not a map, or write a PNG without .png (never an audio file)")
    mp.add_argument("--by-file-genre", action="store_true", help="colour by the files' own tags instead of the genre")
    mp.add_argument("--size", type=image_size, default=(1200, 900), help="PNG size in pixels, WIDTHxHEIGHT (default 1200x900)")
    mp.add_argument("--threshold", type=fraction, default=DEFAULT_THRESHOLD, help="predictions under this are uncertain (grey)")

    cl = add("classify", help="the genre of one recording outside the library (FILE, or - for WAV on standard input)")
    cl.add_argument("file", type=named_path, help="an audio file, or - to read WAV from standard input")
    cl.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto", help="where the model runs (auto: a GPU when there is one)")

    gn = add("genres", help="the library's genres (spellings merged) and where they come from; merge or rename them")
    gn.add_argument("--merge", nargs=2, metavar=("GENRE", "INTO"), help="treat GENRE as INTO from now on (also renames)")
    gn.add_argument("--folder-names", choices=("on", "off"), help="on: a track with no genre of its own is learned as "
                    "the genre its folder is named for (~/Music/Jazz/…), the outermost such folder in its music folder")
    gn.add_argument("--folder-genre", nargs="+", metavar="NAME", help="with --folder-names on, folders named NAME "
                    "are learned as the genre NAME too (one no list names: Schlager, Chanson française)")
    gn.add_argument("--not-folder-genre", nargs="+", metavar="NAME", help="folders named NAME are no genre again")
    gn.add_argument("--per-album", choices=("on", "off"), help="on: every track of an album shows (and is written with) "
                    "the genre its tracks share, except on compilations; off: each track its own (the default)")

    fo = add("folders", help="the library's music folders, and those left out of it (audiobooks, podcasts); "
                             "leave one out or take it back")
    which = fo.add_mutually_exclusive_group()
    which.add_argument("--leave-out", metavar="DIR", nargs="+", type=named_path, help="scans skip DIR from now on; its tracks leave the "
                                                                     "library (their corrections kept, for when it is taken back)")
    which.add_argument("--take-back", metavar="DIR", nargs="+", type=named_path, help="scan a folder left out again (the next scan brings "
                                                                     "its tracks back)")
    which.add_argument("--keep", metavar="DIR", nargs="+", type=named_path, help="a folder that looks like spoken word (audiobooks, "
                                                                "podcasts) is music: scans stop asking about it, and scan "
                                                                "--write tags it")
    which.add_argument("--ask-again", metavar="DIR", nargs="+", type=named_path, help="a folder kept as music is asked about again: "
                                                                     "scans name it while it looks like spoken word")
    return p


def add_global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """--db, --json and --model, accepted before and after the subcommand."""
    keep = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument("--db", type=named_path, help="library database file", **({"default": None} if defaults else keep))
    parser.add_argument("--json", action="store_true", help="machine-readable output", **({"default": False} if defaults else keep))
    parser.add_argument("--model", type=named_path, help="ONNX genre model (default: the shipped one)", **({"default": None} if defaults else keep))


def add_id3_options(parser: argparse.ArgumentParser) -> None:
    """--id3v23 / --id3v24; without either each MP3 keeps its own ID3 version."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--id3v23", action="store_true", help="write ID3v2.3 (converting v2.4-only frames)")
    group.add_argument("--id3v24", action="store_true", help="write ID3v2.4")


def add_provenance_option(parser: argparse.ArgumentParser) -> None:
    """--provenance / --no-provenance: the GENRE_TAGGER field written beside a genre (on by default)."""
    parser.add_argument("--provenance", action=argparse.BooleanOptionalAction, default=True,
                        help="write a GENRE_TAGGER field beside each genre saying where it came from (\"Genre Tagger: "
                        "Rock 0.93\", \"Genre Tagger: corrected by hand\"), so no library, here or on another "
                        "computer, learns Genre Tagger's guesses as your genres (default: on)")


def add_keep_times_option(parser: argparse.ArgumentParser) -> None:
    """--keep-times: a written file keeps its modification time."""
    parser.add_argument("--keep-times", action="store_true", help="a file written keeps its modification time (for "
                        "players that sort by it; a backup that goes by size and time may then miss the new tag)")


def id3_version(args) -> int:
    """The ID3 version asked for on the command line; 0 keeps each file's own."""
    return 3 if args.id3v23 else 4 if args.id3v24 else 0


def option_names(parser: argparse.ArgumentParser) -> set[str]:
    """Every option the command line or any of its commands takes ("--json", "-o")."""
    names = set(parser._option_string_actions)  # argparse keeps them there; it offers no public list
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                names |= option_names(command)
    return names


def with_searches_joined(argv: list[str], options: set[str]) -> list[str]:
    """`--search -live` as `--search=-live`: argparse takes a value that begins with a minus for an option and says
    only "expected one argument", where a minus in a search leaves out what it finds."""
    joined, rest = [], iter(argv)
    for arg in rest:
        if arg == "--search" and (value := next(rest, None)) is not None:
            joined += [f"--search={value}"] if value.startswith("-") and value not in options else [arg, value]
        else:
            joined.append(arg)
    return joined
