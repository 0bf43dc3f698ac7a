"""`genre-tagger`: the command-line face over the same services as the GUI."""

from __future__ import annotations

import sys

from sqlalchemy.exc import SQLAlchemyError

from desktop.cli.arguments import build_parser, option_names, with_searches_joined
from desktop.cli.exports import cmd_map, cmd_playlist
from desktop.cli.folders import cmd_folders
from desktop.cli.genres import cmd_genres
from desktop.cli.models import cmd_classify, cmd_learn, cmd_models
from desktop.cli.output import (
    EXIT_CANCELLED,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    Output,
    OutputError,
    fail,
    flush_out,
    quiet_stdout,
)
from desktop.cli.scan import cmd_scan
from desktop.cli.tracks import cmd_list, cmd_show
from desktop.cli.writes import cmd_forget, cmd_keep, cmd_set, cmd_undo
from desktop.core.errors import GenreTaggerError, refused_file

# The package's face: `main` (the `genre-tagger` entry point), its exit codes, and the table of commands.
__all__ = ["COMMANDS", "EXIT_CANCELLED", "EXIT_ERROR", "EXIT_OK", "EXIT_PARTIAL", "main"]


COMMANDS = {"scan": cmd_scan, "list": cmd_list, "show": cmd_show, "set": cmd_set, "keep": cmd_keep, "forget": cmd_forget, "undo": cmd_undo,
            "playlist": cmd_playlist, "models": cmd_models, "learn": cmd_learn, "genres": cmd_genres,
            "classify": cmd_classify, "map": cmd_map, "folders": cmd_folders}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    from desktop.core.standard_streams import ensure_standard_streams

    ensure_standard_streams()
    if argv is None:  # the command itself, not a test calling in
        from desktop.core.utf8_mode import restart_in_utf8_mode

        restart_in_utf8_mode()
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # a bare `genre-tagger`: what it can do, not a usage error
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    args = parser.parse_args(with_searches_joined(argv, option_names(parser)))
    from desktop.core.logs import setup_logging
    from desktop.core.paths import log_dir

    setup_logging(log_dir())
    out = Output(args.json)
    try:
        code = COMMANDS[args.command](args, out)
        out.finish()
        flush_out()  # here, not at exit: a full disk under `list > file` is said, not a traceback
    except OutputError as exc:
        quiet_stdout()
        return fail(out, args, str(exc))
    except (GenreTaggerError, ValueError) as exc:
        return fail(out, args, str(exc), exc if isinstance(exc, GenreTaggerError) else None)
    except SQLAlchemyError as exc:  # the database failed under us: disk full, a malformed page, ...
        from desktop.core.paths import database_file
        from desktop.store.database import database_failure

        db = database_file(args.db)
        return fail(out, args, f"{db}: {database_failure(exc, db)}")
    except KeyboardInterrupt:
        out.warn("cancelled")
        return EXIT_CANCELLED
    except BrokenPipeError:
        quiet_stdout()  # the reader went away (`show FILE | head`): stop quietly, and keep Python's exit flush quiet too
        return EXIT_OK
    except Exception as exc:  # a bug of ours: a message and the log, never a traceback on the listener's screen
        if refused := refused_file(exc):  # a file the system would not let us use, in a check not foreseen: named
            import logging

            logging.getLogger("desktop.cli").warning("%s in %s", exc, args.command, exc_info=True)
            return fail(out, args, refused)
        return internal_error(out, args, exc)
    return code


def internal_error(out: Output, args, exc: Exception) -> int:
    """Say a bug of ours in one line and put its traceback in the log; the exit code of an error."""
    import logging

    from desktop.core.paths import log_dir

    logging.getLogger("desktop.cli").error("internal error in %s", args.command, exc_info=exc)
    return fail(out, args, f"internal error in {args.command} ({type(exc).__name__}: {exc}); "
                           f"the details are in the log ({log_dir()}); please report it")
