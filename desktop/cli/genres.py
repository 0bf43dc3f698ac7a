"""`genre-tagger genres`: the library's genres and their sources; merges, renames and the genre settings."""

from __future__ import annotations

import shlex

from desktop.cli.output import EXIT_OK, NO_TRACKS_YET, Output, open_sessions
from desktop.core.wording import count, shortened
from desktop.services.learning import LearnSettings


def cmd_genres(args, out: Output) -> int:
    """List the library's genres and their sources; merge one into another, or turn a library setting on or off."""
    from collections import Counter

    from desktop.core.genre_names import clean_name, genre_key
    from desktop.services.album_genres import album_genres_on, set_album_genres
    from desktop.services.labels import gather_labels, genre_folders_on, unnamed_folders
    from desktop.services.learning import (
        FOLDERS_COMMAND,
        genre_folders_hint,
        genre_in_library,
        merge_and_rename,
        merges_in_effect,
        set_folder_genres,
        set_genre_folders,
    )
    from desktop.store import queries

    sessions = open_sessions(args, None if args.merge or args.per_album or args.folder_names else out)  # these write
    changed = None
    if args.per_album:
        changed = set_album_genres(sessions, args.per_album == "on")
        out.say(f"one genre per album: {args.per_album} ({count(changed, 'track')} changed; remembered for later scans)")
    if args.folder_names:
        change = set_genre_folders(sessions, args.folder_names == "on")
        out.say(f"learning from genre folders' names: {args.folder_names}"
                + (f" ({count(change.foldered, 'track')} with no genre of its own take their folder's; run `genre-tagger "
                   "learn` to learn from them)" if args.folder_names == "on" else
                   " (nothing else in the library teaches two genres: the model learned set aside, the shipped model's "
                   "genres are back)" if change.set_aside else " (run `genre-tagger learn` to relearn)"))
    for names, on in ((args.folder_genre, True), (args.not_folder_genre, False)):
        if names:
            folder_change = set_folder_genres(sessions, names, on)
            with sessions() as s:
                later = "" if genre_folders_on(s) else ", once `genre-tagger genres --folder-names on`"
            if already := folder_change.known_already:
                out.say(f"{', '.join(already)}: a genre already (folders so named teach it{later})")
                names = [n for n in names if n not in already]
            if names:
                out.say(f"folders named {', '.join(names)} " + (("now teach that genre" if len(names) == 1 else
                                                                  "now teach those genres") + later if on else
                                                                 "teach no genre now")
                        + f" (folder genres: {', '.join(folder_change.kept) or 'none'}; run `genre-tagger learn` to "
                          "relearn)")
    if args.merge:
        with sessions() as s:
            known = genre_in_library(s, args.merge[0])
        renamed = merge_and_rename(sessions, *args.merge)  # first: a name that is no genre is an error, not a warning
        if not known:  # most likely a misspelling; a merge for genres still to come is allowed
            out.warn(f"warning: no track has the genre {args.merge[0]!r}; remembered for tracks tagged so later "
                     f"(`genre-tagger genres` lists the library's genres)")
        source, target = (clean_name(name) or name for name in args.merge)  # as remembered: "Hip\nHop" is "Hip Hop"
        if genre_key(source) != genre_key(target):
            done = f"{source} is now {target}"
        else:  # the same genre: a merge into another taken back, in the spelling given
            done = f"{target} is its own genre again" if source == target else f"{source} is now spelled {target}"
        out.say(f"{done} ({count(renamed, 'track')} shown so; remembered; run `genre-tagger learn` to relearn)")
    with sessions() as s:  # what the listing shows, read at once
        labels, display = gather_labels(s)
        merged = merges_in_effect(s)
        per_album, folder_names = album_genres_on(s), genre_folders_on(s)
        counted = queries.meta_folder_list(s, queries.FOLDER_GENRES)
        unnamed = unnamed_folders(s) if folder_names else None
        has_tracks = queries.has_tracks(s)
        folders_hint = has_tracks and not labels and genre_folders_hint(s, LearnSettings(), FOLDERS_COMMAND)
    by = {source: Counter(lab.key for lab in labels if lab.source == source) for source in ("tag", "correction", "folder")}
    tags, fixes, filed = by["tag"], by["correction"], by["folder"]
    rows = sorted(display, key=lambda k: -(tags[k] + fixes[k] + filed[k]))
    out.data = {"genres": [{"genre": display[k], "tagged": tags[k], "corrected": fixes[k], "by_folder": filed[k]} for k in rows],
                "merges": [{"genre": source, "into": target} for source, target in merged], "per_album": per_album,
                "folder_names": folder_names, **({} if changed is None else {"per_album_changed": changed})}
    for k in rows:
        out.say(f"{tags[k] + fixes[k] + filed[k]:6d}  {shortened(display[k])}  ({tags[k]} tagged, {fixes[k]} corrected"
                + (f", {filed[k]} by folder name)" if folder_names else ")"))
    for source, target in merged:  # what a merge hid from the list above, and how to take it back
        out.say(f"merged: {source} counts as {target}  (undo: genre-tagger genres --merge {shlex.quote(source)} {shlex.quote(source)})")
    if per_album and not args.per_album:
        out.say("one genre per album: on (`genre-tagger genres --per-album off` gives each track its own)")
    out.data["folder_genres"] = counted
    if counted and not (args.folder_genre or args.not_folder_genre):  # said above when just changed
        out.say(f"folder genres: {', '.join(counted)} (folders so named teach them"
                + ("" if folder_names else ", once `genre-tagger genres --folder-names on`")
                + "; `genre-tagger genres --not-folder-genre NAME` takes one back)")
    if unnamed is not None:
        say_unnamed_folders(out, unnamed)
    if not rows:
        out.note(NO_TRACKS_YET if not has_tracks else "no genres yet: no file has a genre tag and nothing was corrected"
                 + (f"; {folders_hint}" if folders_hint else " (genre-tagger set FILE GENRE)"))
    return EXIT_OK


def say_unnamed_folders(out: Output, unnamed: dict[str, int]) -> None:
    """Where the library learns from its genre folders: the folders holding tracks with no genre of their own that
    name no genre (`unnamed`, labels.unnamed_folders: "Schlager", which no list names), and how to count one."""
    from desktop.services.labels import unnamed_listed

    out.data["unnamed_folders"] = unnamed
    if unnamed:
        out.say(f"folders named for no genre: {unnamed_listed(unnamed)}; "
                "`genre-tagger genres --folder-genre NAME` learns folders so named as a genre")
