"""Open the database: WAL mode, schema version and migrations (its location: desktop.core.paths)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from desktop.core.errors import GenreTaggerError
from desktop.store.schema import Base, Meta

SCHEMA_VERSION = 2


class DatabaseError(GenreTaggerError):
    """A database that cannot be opened or is newer than this program."""


def _create_v1(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def _index_updated_at(engine: Engine) -> None:
    # The GUI asks "what changed since my last look?" every few seconds during a scan.
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_tracks_updated_at ON tracks (updated_at)")


# version -> step that brings a database from version-1 to version. Add one per schema change.
MIGRATIONS: dict[int, Callable[[Engine], None]] = {1: _create_v1, 2: _index_updated_at}


def schema_version(engine: Engine) -> int:
    """The stored schema version, 0 for an empty database."""
    if not inspect(engine).has_table("meta"):
        return 0
    with Session(engine) as s:
        row = s.get(Meta, "schema_version")
        return int(row.value) if row else 0


def migrate(engine: Engine, path: Path) -> None:
    """Run every migration step between the stored version and SCHEMA_VERSION."""
    current = schema_version(engine)
    if current > SCHEMA_VERSION:
        raise DatabaseError(path, f"database schema version {current} is newer than this program's {SCHEMA_VERSION}; update Genre Tagger")
    for version in range(current + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](engine)
        with Session(engine) as s, s.begin():
            s.merge(Meta(key="schema_version", value=str(version)))


def open_database(path: str | Path) -> sessionmaker[Session]:
    """Open (creating or migrating) the SQLite database at `path`; return a session factory."""
    path = Path(path)
    if str(path) != ":memory:":
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

    try:
        migrate(engine, path)
        with Session(engine) as s:
            s.execute(select(Meta).limit(1))
    except DatabaseError:
        raise
    except Exception as exc:  # sqlite3.DatabaseError "file is not a database" and friends
        raise DatabaseError(path, f"cannot open database ({exc.__class__.__name__}: {str(exc).splitlines()[0]})") from exc
    return sessionmaker(engine, expire_on_commit=False)
