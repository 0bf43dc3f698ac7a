"""Open the database: WAL mode, schema version and migrations (its location: desktop.core.paths)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from desktop.core.errors import GenreTaggerError
from desktop.core.formats import is_supported, unread_audio_kind
from desktop.core.genre_names import tag_genres
from desktop.core.paths import on_read_only_mount, read_only_uri
from desktop.store.backup import (
    BackupError,
    LibraryDamaged,
    daily_backup,
    library_copy_file,
    make_backup,
    restore_hint,
)
from desktop.store.changes import raise_mark_on_commit
from desktop.store.schema import CHANGE_MARK, Base, Meta

SCHEMA_VERSION = 13


class DatabaseError(GenreTaggerError):
    """A database that cannot be opened or is newer than this program."""


class ReadOnlyLibrary(DatabaseError):
    """A library this program cannot write where it is (it can still be read: open_database(read_only=True))."""


class NoLibraryYet(DatabaseError):
    """No library at the path a command that only reads was given (nothing is created there for it)."""


def describe_database_error(exc: Exception) -> str:
    """SQLite's own words for a failure (disk full, malformed image, locked), without the SQL."""
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: {str(orig).splitlines()[0] if str(orig) else 'no detail'}"


LOW_ROOM = 1024 * 1024  # bytes: a disk I/O error with less room than this on the library's disk is that disk being full


def room_if_full(exc: Exception, path: Path | None) -> int | None:
    """The bytes left on the disk holding the library at `path` where its failure is for want of room, else None.
    SQLite says "disk I/O error" where it cannot make the -shm file an open needs: a full disk, not a damaged library
    (whose copy, offered for it, would have undone every change since the copy)."""
    words = describe_database_error(exc)
    if path is None or str(path) == ":memory:" or not ("disk is full" in words or "disk I/O error" in words):
        return None
    try:
        room = shutil.disk_usage(path.parent).free
    except OSError:
        return None
    return room if room < LOW_ROOM or "disk is full" in words else None


def database_failure(exc: Exception, path: Path | None, opening: bool = False) -> str:
    """'cannot open database (SQLite's words)' (`opening`) or 'database error (…)' for one in use (`path` None: not
    known here), no SQL, and what to do: make room on a full disk; put the copy in place of a library that may be
    damaged (any that will not open; a malformed page in use)."""
    words = describe_database_error(exc)
    said = f"{'cannot open database' if opening else 'database error'} ({words})"
    if (room := room_if_full(exc, path)) is not None:
        return f"{said}: the disk holding it is full ({room // 1024:,} KB free); make room on it and try again"
    damaged = path is not None and (opening or "malformed" in words)
    return said + (copy_hint(path) if damaged else "")


# Each step runs inside the one transaction that also sets its version number (migrate), so a step stopped halfway
# leaves the library at the version before it.
def _create_v1(conn: Connection) -> None:
    Base.metadata.create_all(conn)


def _index_updated_at(conn: Connection) -> None:
    # The GUI asks "what changed since my last look?" every few seconds during a scan (by change mark since version 10).
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_tracks_updated_at ON tracks (updated_at)")


def _create_new_tables(conn: Connection) -> None:
    # Version 3: genre_merges (learning the listener's genres). create_all only adds what is missing.
    Base.metadata.create_all(conn)


def _split_status(conn: Connection) -> None:
    # Version 4: tracks.status held the verdict, the write state and "corrected" in one word.
    if "status" not in {c["name"] for c in inspect(conn).get_columns("tracks")}:
        return  # created by this version's create_all: already split
    conn.exec_driver_sql("ALTER TABLE tracks ADD COLUMN verdict VARCHAR NOT NULL DEFAULT 'new'")
    conn.exec_driver_sql("ALTER TABLE tracks ADD COLUMN write_state VARCHAR NOT NULL DEFAULT 'none'")
    # A written or corrected track's verdict is its newest analysis's, else 'new' (analysed again).
    conn.exec_driver_sql(
        "UPDATE tracks SET verdict = CASE WHEN status IN ('written', 'corrected') THEN COALESCE("
        "(SELECT a.status FROM analyses a WHERE a.track_id = tracks.id AND a.audio_hash = tracks.audio_hash "
        "ORDER BY a.created_at DESC LIMIT 1), 'new') ELSE status END, "
        "write_state = CASE WHEN status = 'written' THEN 'written' WHEN status = 'corrected' AND EXISTS ("
        "SELECT 1 FROM journal j WHERE j.track_id = tracks.id AND j.state = 'written') THEN 'written' ELSE 'none' END")
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_tracks_status")
    conn.exec_driver_sql("ALTER TABLE tracks DROP COLUMN status")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_tracks_verdict ON tracks (verdict)")


def _add_columns(conn: Connection, table: str, columns: dict[str, str]) -> None:
    """Add columns to a table (none when this version's create_all made it with them)."""
    if next(iter(columns)) in {c["name"] for c in inspect(conn).get_columns(table)}:
        return
    for name, kind in columns.items():
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def _link_corrections(conn: Connection) -> None:
    # Version 5: corrections.batch_id, so undoing a correction's write takes the correction back too.
    # Corrections made before stay as they are (no batch known).
    _add_columns(conn, "corrections", {"batch_id": "INTEGER REFERENCES write_batches (id)"})


def _journal_provenance(conn: Connection) -> None:
    # Version 6: the journal keeps the provenance field's old value, so undo restores it with the genre (it left
    # "Genre Tagger: Jazz 0.97" in a file whose genre it had put back). Older entries: NULL, undone as before.
    _add_columns(conn, "journal", {"provenance_written": "BOOLEAN", "old_provenance": "TEXT"})


def _journal_tag_genres(conn: Connection) -> None:
    # Version 7: the journal keeps which tag held the old genres (a second tag, a WAV's INFO chunk), so undo puts
    # them back there alone. Older entries: NULL, undone into the first tag as before.
    _add_columns(conn, "journal", {"old_tag_genres": "JSON"})


def _album_artists(conn: Connection) -> None:
    # Version 8: the album artist and compilation flag, to tell one artist's album from a compilation. Filled in by
    # the next scan, which reads every album track's tags again once (library.TAGS_READ_BY).
    _add_columns(conn, "tracks", {"album_artist": "VARCHAR NOT NULL DEFAULT ''", "compilation": "BOOLEAN NOT NULL DEFAULT 0"})


def _tag_genres_shown(conn: Connection) -> None:
    # Version 9: a track with no prediction (the model could not hear it, or not yet) shows the genre its own tag
    # names (services.library.library_genre); before, it showed none and was in no genre's list or playlist.
    # Under the listener's merges, as services.library.settle_tag_genres shows them.
    merged = dict(conn.exec_driver_sql("SELECT from_key, to_name FROM genre_merges").all())
    rows = conn.exec_driver_sql("SELECT id, file_genre FROM tracks WHERE genre IS NULL AND file_genre != ''").all()
    shown = [(genre, track_id) for track_id, text in rows if (genre := tag_genres(text, merged))]
    if shown:
        conn.exec_driver_sql("UPDATE tracks SET genre = ? WHERE id = ?", shown)


def _change_marks(conn: Connection) -> None:
    # Version 10: rows carry the change mark of the transaction that wrote them (store.changes), so the window asks
    # exactly what changed since its last look; it asked by time and looked 5 s back, and missed a row whose
    # transaction committed more than 5 s after writing it. Rows written before: mark 0, seen by a window's first read.
    _add_columns(conn, "tracks", {"change_mark": "INTEGER NOT NULL DEFAULT 0"})
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_tracks_change_mark ON tracks (change_mark)")
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_tracks_updated_at")  # what the window asked by: kept up for nothing
    conn.exec_driver_sql(f"INSERT OR IGNORE INTO meta (key, value) VALUES ('{CHANGE_MARK}', '1')")


def _track_numbers(conn: Connection) -> None:
    # Version 11: track and disc numbers and the year, so an album plays and sorts in its own order, and iTunes' media
    # kind, which tells its audiobooks and podcasts. Filled in by the next scan, which reads every present track's
    # tags again once (library.TAGS_READ_BY).
    _add_columns(conn, "tracks", {"track_number": "INTEGER NOT NULL DEFAULT 0", "disc_number": "INTEGER NOT NULL DEFAULT 0",
                                  "year": "INTEGER NOT NULL DEFAULT 0", "media_kind": "VARCHAR NOT NULL DEFAULT ''"})


def _change_times(conn: Connection) -> None:
    # Version 12: the file's change time, so a scan sees a tag written under a kept modification time and size.
    # Rows before: 0, not known; the next scan takes each from its file's stat, reading no file (Library._keep_change_times).
    _add_columns(conn, "tracks", {"ctime_ns": "INTEGER NOT NULL DEFAULT 0"})


def _tag_provenance(conn: Connection) -> None:
    # Version 13: the file's GENRE_TAGGER field, so a genre another Genre Tagger library predicted and wrote is never
    # learned from as the listener's. Filled in by the next scan, which reads the tags of tagged tracks again once.
    _add_columns(conn, "tracks", {"tag_provenance": "VARCHAR NOT NULL DEFAULT ''"})
    # And the journal by track: which tracks of a folder (or copies of an audio) we wrote was a scan of the whole
    # journal, once per folder an album look asked about.
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_journal_track ON journal (track_id)")


# version -> step that brings a database from version-1 to version. Add one per schema change.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _create_v1, 2: _index_updated_at, 3: _create_new_tables,
                                                       4: _split_status, 5: _link_corrections, 6: _journal_provenance,
                                                       7: _journal_tag_genres, 8: _album_artists, 9: _tag_genres_shown,
                                                       10: _change_marks, 11: _track_numbers,
                                                       12: _change_times, 13: _tag_provenance}


def _transactional_engine(path: Path) -> Engine:
    """An engine whose transactions hold schema changes too: Python's SQLite driver otherwise commits each
    ALTER TABLE at once (SQLAlchemy's recipe: the driver's own BEGIN off, ours at the start)."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _no_driver_begin(conn, _record):
        conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def schema_version(engine: Engine) -> int:
    """The stored schema version, 0 for an empty database."""
    if not inspect(engine).has_table("meta"):
        return 0
    with Session(engine) as s:
        row = s.get(Meta, "schema_version")
        return int(row.value) if row else 0


def copy_hint(path: Path) -> str:
    """'; a copy from DATE is at FILE: ...' where the library has a copy, else nothing."""
    hint = restore_hint(path, without_copy="")  # a file that never was a library has no copy: nothing to add
    return f"; {hint}" if hint else ""


def check_ours(path: Path, immutable: bool = False) -> None:
    """Refuse, before touching it (read-only, no WAL switch), a database that holds tables but is not ours.
    `immutable`: on read-only media, where SQLite could not make the -shm file a WAL library needs. SQLite's own
    errors are the caller's to say (database_failure)."""
    if str(path) == ":memory:" or not path.is_file() or path.stat().st_size == 0:
        return
    uri = read_only_uri(path, immutable)
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and "meta" not in tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise DatabaseError(path, f"not a Genre Tagger library (it holds other tables: {shown}); choose another --db")


def check_writable(path: Path) -> None:
    """Refuse a library this program cannot write: a read-only file, folder or file system."""
    # SQLite's own word for each of these is "unable to open database file" or, later, "attempt to write
    # a readonly database"; WAL also needs its -wal and -shm files beside the library.
    if str(path) == ":memory:":
        return
    for where in ([path] if path.exists() else []) + [path.parent]:
        if not os.access(where, os.W_OK):
            why = "is on a read-only file system" if on_read_only_mount(where) else "is read-only for this user"
            if not path.exists():
                raise DatabaseError(path, f"cannot create a library there: folder {where} {why}; choose another --db")
            what = "file" if where == path else f"folder {where}"
            raise ReadOnlyLibrary(path, f"the library's {what} {why}; nothing can change it where it is, `genre-tagger list` can read it "
                                        "(copy it somewhere writable, or choose another --db)")


def check_schema(engine: Engine, path: Path) -> None:
    """Every table and column this program uses must be there (a damaged or hand-edited file is named)."""
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            raise DatabaseError(path, f"damaged library: table {table.name!r} is missing; {restore_hint(path)}")
        have = {c["name"] for c in inspector.get_columns(table.name)}
        lacking = [c.name for c in table.columns if c.name not in have]
        if lacking:
            raise DatabaseError(path, f"damaged library: table {table.name!r} lacks {', '.join(lacking)}; {restore_hint(path)}")


def migrate(engine: Engine, path: Path) -> None:
    """Run every migration step between the stored version and SCHEMA_VERSION."""
    current = schema_version(engine)
    if current > SCHEMA_VERSION:
        raise DatabaseError(path, f"database schema version {current} is newer than this program's {SCHEMA_VERSION}; update Genre Tagger")
    if 0 < current < SCHEMA_VERSION and str(path) != ":memory:":
        # An older program cannot read the converted library: the listener can go back to this copy.
        try:
            make_backup(path, library_copy_file(path, current))
        except (BackupError, LibraryDamaged) as exc:
            raise DatabaseError(path, f"cannot keep a copy of this version {current} library before converting it "
                                      f"({exc.reason}); nothing was changed") from exc
    steps = engine if str(path) == ":memory:" else _transactional_engine(path)
    try:
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with steps.begin() as conn:  # the step and its version number: both, or neither
                MIGRATIONS[version](conn)
                conn.exec_driver_sql("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                                     (str(version),))
    finally:
        if steps is not engine:
            steps.dispose()


ON_READ_ONLY_MEDIA = ("where it is", "copy it somewhere writable")


def open_read_only(path: Path, why: tuple[str, str] = ON_READ_ONLY_MEDIA) -> sessionmaker[Session]:
    """Open an existing library for reading only (on read-only media): no WAL switch, no migration, no lock.
    `why`: why it cannot be written ("where it is") and what would let it be ("copy it somewhere writable")."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise ReadOnlyLibrary(path, f"its last changes are still in {wal.name}, which cannot be merged in {why[0]}; "
                                    + ("copy both files somewhere writable" if why == ON_READ_ONLY_MEDIA else why[1]))
    # immutable: SQLite neither locks nor looks for -shm (which it could not create here); safe, nothing writes it.
    uri = read_only_uri(path, immutable=True)
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    try:
        check_ours(path, immutable=True)
        version = schema_version(engine)
        if version != SCHEMA_VERSION:
            raise ReadOnlyLibrary(path, f"it is a version {version} library and this program reads version {SCHEMA_VERSION}; "
                                        "it cannot be converted where it is: copy it somewhere writable")
        check_schema(engine, path)
    except DatabaseError:
        raise
    except Exception as exc:
        raise DatabaseError(path, database_failure(exc, path, opening=True)) from exc
    return sessionmaker(engine, expire_on_commit=False, info={"read_only": True, "path": path, "why": why})


def is_read_only(sessions: sessionmaker[Session]) -> bool:
    """Whether these sessions were opened read-only (open_read_only)."""
    return bool(sessions.kw.get("info", {}).get("read_only"))


def read_only_why(sessions: sessionmaker[Session]) -> tuple[str, str]:
    """Why a library opened read-only cannot be written ("where it is", "while its disk is full (…)") and what
    would let it be."""
    return sessions.kw.get("info", {}).get("why", ON_READ_ONLY_MEDIA)


def open_database(path: str | Path, read_only: bool = False, create: bool = True) -> sessionmaker[Session]:
    """Open (creating or migrating) the SQLite database at `path`; return a session factory.

    `read_only`: a library that cannot be written where it is (ReadOnlyLibrary) is opened for reading.
    `create`: False raises NoLibraryYet where there is none, so a command that only reads creates no library (nor its
    folder) at a mistyped path.
    """
    path = Path(path)
    if is_supported(path) or unread_audio_kind(path):  # `--db song.mp3`: a slip, never a library to create
        raise DatabaseError(path, "is an audio file's name; the library database needs a file of its own (e.g. library.db)")
    if not create and str(path) != ":memory:" and not path.exists():
        raise NoLibraryYet(path, "no library there yet")
    if read_only and str(path) != ":memory:" and path.is_file():
        try:
            check_writable(path)
        except ReadOnlyLibrary:
            return open_read_only(path)
    if str(path) != ":memory:":
        if path.is_dir():
            raise DatabaseError(path, "is a folder; give a database file (e.g. library.db inside it)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(path, f"cannot create the database folder ({exc.strerror})") from exc
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record):
        cur = conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # readers (the GUI) never block the scanner's writes
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    raise_mark_on_commit(engine)
    check_writable(path)
    try:
        check_ours(path)
        migrate(engine, path)
        check_schema(engine, path)
        with Session(engine) as s:
            s.execute(select(Meta).limit(1))
        if str(path) != ":memory:":
            daily_backup(path)
    except LibraryDamaged as exc:
        raise DatabaseError(path, f"damaged library: {exc.reason}; {restore_hint(path)}") from exc
    except DatabaseError:
        raise
    except Exception as exc:  # sqlite3.DatabaseError "file is not a database" and friends
        engine.dispose()
        if read_only and path.is_file() and (room := room_if_full(exc, path)) is not None:
            # Browsed and listed all the same, as on read-only media: nothing can be written to a full disk anyway.
            return open_read_only(path, (f"while its disk is full ({room // 1024:,} KB free)",
                                         "make room on its disk and open it again"))
        raise DatabaseError(path, database_failure(exc, path, opening=True)) from exc
    return sessionmaker(engine, expire_on_commit=False)
