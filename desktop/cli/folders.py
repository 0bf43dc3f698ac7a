"""`genre-tagger folders`: the library's music folders, those left out, and those that look like spoken word."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from desktop.cli.output import EXIT_OK, Output, fail, open_sessions
from desktop.cli.scan import say_spoken_word
from desktop.core.wording import count


def cmd_folders(args, out: Output) -> int:
    """List the library's folders, those left out and those that look like spoken word; leave folders out, take them
    back, keep them as music, or have them asked about again."""
    from desktop.core.scan import left_out_holder
    from desktop.services.library import Library

    changing = args.leave_out or args.take_back or args.keep or args.ask_again
    library = Library(open_sessions(args, None if changing else out))
    done = {}
    asked = [str(Path(f).expanduser().absolute()) for f in (changing or [])]
    before = library.left_out()
    if args.leave_out:
        library.check_leave_out(asked)
        done = {"left_out_now": [], "tracks_out": 0, "music_folders_out": []}
        for folder in asked:
            change = library.leave_out(folder)
            done["left_out_now"] += change.left_out
            done["tracks_out"] += change.tracks
            if change.left_out:
                out.say(f"left out: {folder} ({count(change.tracks, 'track')} out of the library, corrections kept; "
                        f"`genre-tagger folders --take-back {shlex.quote(folder)}` brings them back)")
                done["music_folders_out"] += change.music_folders_out
                for music in change.music_folders_out:
                    out.say(f"  no longer a music folder: {music} (scans walk it again once {folder} is taken back)")
            else:
                holder = str(left_out_holder(folder, library.left_out()))
                out.say(f"{folder} was already left out" + ("" if holder == folder else f" (it is in {holder}, which is)"))
    if args.take_back:
        if not_left_out := [f for f in asked if f not in before]:
            return fail(out, args, f"{not_left_out[0]}: not left out ("
                                   + (f"the folders left out: {', '.join(before)})" if before else "no folder is)"))
        done = {"taken_back": asked, "music_folders_back": []}
        for folder in asked:
            change = library.take_back(folder)
            out.say(f"taken back: {folder} (the next scan brings its tracks back: `genre-tagger scan`)")
            done["music_folders_back"] += change.music_folders_back
            for music in change.music_folders_back:
                out.say(f"  a music folder again: {music}")
    if args.keep:
        library.keep_as_music(asked)  # each checked before any is kept
        for folder in asked:
            out.say(f"kept as music: {folder} (scans stop asking whether it is spoken word)")
        done = {"kept_now": asked}
    if args.ask_again:
        kept = library.kept_as_music()
        if not_kept := [f for f in asked if f not in kept]:  # each checked first, as --take-back
            return fail(out, args, f"{not_kept[0]}: not kept as music ("
                                   + (f"the folders kept: {', '.join(kept)})" if kept else "no folder is)"))
        library.ask_again(asked)
        for folder in asked:
            out.say(f"asked about again: {folder} (scans name it while it looks like spoken word)")
        done = {"asked_again": asked}
    folders, left_out = library.recorded_folders(), library.left_out()
    tracks = {folder: library.tracks_under(folder) for folder in folders}
    kept = {folder: library.tracks_under(folder, missing=True) for folder in left_out}
    spoken, unplugged, emptied = library.spoken_word(), library.unplugged(), library.emptied_folders()
    out.data = {"folders": folders, "left_out": left_out, "tracks": tracks, "left_out_tracks": kept, "unplugged": unplugged,
                "spoken_word": [vars(f) for f in spoken], "kept_as_music": library.kept_as_music(), **done}
    for folder in folders:
        out.say(f"music folder: {folder}  ({count(tracks[folder], 'track')}"
                + ("; not there now, or empty: a drive not connected? its tracks are kept as they are until it is back)"
                   if folder in unplugged else ")" if os.path.isdir(folder)
                   else "; not there now, and holding no track of the library: the next `genre-tagger scan` forgets it)"
                   if folder in emptied else "; not there now)"))
    for folder in left_out:
        out.say(f"left out:     {folder}  ({count(kept[folder], 'track')} kept out of view, with their corrections)")
    for folder in out.data["kept_as_music"]:
        out.say(f"kept as music: {folder}  (not asked about as spoken word: `--ask-again` asks again)")
    say_spoken_word(out, spoken, [], False, shown=None)
    if not folders and not left_out:
        out.note("no music folders yet: `genre-tagger scan ~/Music` scans one and remembers it")
    return EXIT_OK
