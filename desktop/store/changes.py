"""The library's change mark: which rows changed since a reader's last look, exactly.

Every transaction that changes rows raises the mark (meta `change_mark`) as it commits, and each track row it writes
carries the mark as it stood inside it (schema `Track.change_mark`). SQLite lets one writer at a time hold the write
lock from its first change to its commit, so a writer stamps the mark the last writer left and raises it only after
all its rows: a reader that saw mark M, in the same read as its rows, has seen every row stamped below M, and every
row a writer not yet committed stamps is at M or above. A time stamp cannot say this: a row stamped when a scan's
batch began commits when the batch ends, seconds later, after readers looked past it.
"""

from __future__ import annotations

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from desktop.store.schema import CHANGE_MARK, CHANGE_MARK_NOW

_RAISE = f"UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = '{CHANGE_MARK}'"


def raise_mark_on_commit(engine: Engine) -> None:
    """Have every transaction on `engine` that changed rows raise the change mark just before it commits."""

    @event.listens_for(engine, "begin")
    def _note_changes(conn):
        conn.info["changes_at_begin"] = conn.connection.dbapi_connection.total_changes

    @event.listens_for(engine, "commit")
    def _raise_mark(conn):
        dbapi = conn.connection.dbapi_connection
        if dbapi.total_changes != conn.info.get("changes_at_begin", dbapi.total_changes):
            dbapi.execute(_RAISE)  # inside the transaction about to commit: its rows and the raise, or neither


def change_mark(session: Session) -> int:
    """The mark in this session's read: every row stamped below it is in the same read (one_read), later writes stamp
    it or more (0 in a library whose mark was never set)."""
    return session.scalar(select(CHANGE_MARK_NOW))


def one_read(session: Session) -> None:
    """Have this session's reads see the library at one moment until it ends. Python's SQLite driver begins a
    transaction only before a write, so each SELECT otherwise reads the library as it is by then: a scan's batch that
    committed between a look's rows and its mark was in neither, and the window never showed those tracks' new state."""
    dbapi = session.connection().connection.dbapi_connection
    if not dbapi.in_transaction:  # a session that wrote already holds one
        dbapi.execute("BEGIN")  # deferred: a snapshot from its first read, no lock that a writer waits for
