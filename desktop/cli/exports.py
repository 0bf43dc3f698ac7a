"""`genre-tagger playlist` and `map`: files made from the library (M3U8 playlists, a map as PNG or HTML)."""

from __future__ import annotations

from pathlib import Path

from desktop.cli.output import (
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_PARTIAL,
    Output,
    open_sessions,
    stop_on_interrupt,
)
from desktop.cli.tracks import absent_genre_words
from desktop.core.errors import GenreTaggerError
from desktop.core.wording import count


def cmd_playlist(args, out: Output) -> int:
    """Write an M3U8 playlist of one genre, or one of every genre to a folder."""
    from desktop.services.playlists import write_m3u8
    from desktop.store import queries

    if args.all == bool(args.genre or args.search):
        raise GenreTaggerError(None, "name a genre, or --all for every genre (not both); or a --search, alone or with a "
                                     "genre")
    if args.all:
        return playlists_of_every_genre(args, out)
    with open_sessions(args, out)() as s:
        # A search alone takes every track it finds: a listener asking for Miles Davis' 1950s asks for all of them.
        tracks = queries.listed_tracks(s, args.genre, threshold=args.threshold if args.genre else None,
                                       matches=queries.search_matches(args.search) if args.search else None)
        why = absent_genre_words(s, args.genre, args.threshold) if not tracks and args.genre and not args.search else ""
    if why:
        raise GenreTaggerError(None, f"no tracks with genre {why}")
    if not tracks:
        asked = " ".join(filter(None, (args.genre and f"with genre {args.genre!r}",
                                       args.search and f"matching {args.search!r}")))
        raise GenreTaggerError(None, f"no tracks {asked} (`genre-tagger list --counts` shows the library's genres, "
                                     f"`list --search` what a search finds)")
    path, skipped = write_m3u8(tracks, args.output, force=args.force)
    for p in skipped:
        out.warn(f"left out: {p}: its name holds a line break or control character, which a playlist line cannot")
    out.say(f"wrote {count(len(tracks) - len(skipped), 'track')} to {path}")
    out.data = {"playlist": str(path), "tracks": len(tracks) - len(skipped), "left_out": skipped}
    return EXIT_PARTIAL if skipped else EXIT_OK


def playlists_of_every_genre(args, out: Output) -> int:
    """`playlist --all -o FOLDER`: each genre's playlist in the folder."""
    from desktop.services.playlists import write_genre_playlists

    with stop_on_interrupt(out) as stop:
        written = write_genre_playlists(open_sessions(args, out), args.output, args.threshold, args.force, stop)
    for entry in written:
        if entry.error:
            out.warn(f"error: {entry.path}: {entry.error}")
        for p in entry.left_out:
            out.warn(f"left out of {entry.path.name}: {p}: its name holds a line break or control character")
    made = [e for e in written if not e.error]
    for entry in made:
        out.say(f"{entry.path.name}: {count(entry.tracks, 'track')}")
    folder = Path(args.output).expanduser().absolute()
    out.say(f"wrote {count(len(made), 'playlist')} to {folder}")
    out.data = {"folder": str(folder), "playlists": [{"genre": e.genre, "playlist": str(e.path), "tracks": e.tracks,
                                                      "left_out": e.left_out, "error": e.error} for e in written]}
    if stop.is_set():
        out.warn("cancelled; the playlists written so far are kept")
        return EXIT_CANCELLED
    return EXIT_PARTIAL if any(e.error or e.left_out for e in written) else EXIT_OK


def cmd_map(args, out: Output) -> int:
    """Draw the library's embeddings as a 2-D map (PNG or HTML)."""
    from desktop.services.library_map import compute_map
    from desktop.services.map_image import render_html, render_png

    width, height = args.size
    library_map = compute_map(open_sessions(args, out), args.threshold)
    if not len(library_map):
        raise GenreTaggerError(None, "no analysed tracks to draw; scan a folder first")
    target = Path(args.output)
    if args.html or target.suffix.lower() in (".html", ".htm"):
        path = render_html(library_map, target, force=args.force, any_name=args.html)
    else:
        path = render_png(library_map, target, width, height, by_file_genre=args.by_file_genre, force=args.force)
    out.say(f"drew {count(len(library_map), 'track')} ({library_map.method.upper()} layout) to {path}")
    out.data = {"map": str(path), "tracks": len(library_map), "layout": library_map.method, "genres": library_map.genres()}
    return EXIT_OK
