"""The change mark (desktop.store.changes): which rows changed since a look, exactly, whatever the timing."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import select, update

from desktop.store.changes import change_mark
from desktop.store.database import open_database
from desktop.store.schema import Meta, Track


@pytest.fixture
def sessions(tmp_path):
    factory = open_database(tmp_path / "lib.db")
    yield factory
    factory.kw["bind"].dispose()


def add_track(s, name: str) -> Track:
    track = Track(path=f"/m/{name}.flac", folder="/m", size=1, mtime_ns=1, audio_hash=name, format="flac")
    s.add(track)
    return track


def mark(sessions) -> int:
    with sessions() as s:
        return change_mark(s)


def marks(sessions) -> dict[str, int]:
    with sessions() as s:
        return {t.audio_hash: t.change_mark for t in s.scalars(select(Track))}


def test_a_transaction_that_changes_rows_raises_the_mark_once_and_stamps_its_rows_with_the_mark_before(sessions):
    start = mark(sessions)
    assert start == 1  # a new library's
    with sessions() as s:
        add_track(s, "a"), add_track(s, "b")
        s.commit()
    assert mark(sessions) == start + 1 and marks(sessions) == {"a": start, "b": start}
    with sessions() as s:  # an ORM change of one row
        s.scalar(select(Track).where(Track.audio_hash == "b")).title = "B"
        s.commit()
    assert mark(sessions) == start + 2 and marks(sessions) == {"a": start, "b": start + 1}
    with sessions() as s:  # a statement over many rows
        s.execute(update(Track).values(genre="Jazz"))
        s.commit()
    assert mark(sessions) == start + 3 and marks(sessions) == {"a": start + 2, "b": start + 2}


def test_reading_writing_nothing_or_rolling_back_leaves_the_mark(sessions):
    start = mark(sessions)
    with sessions() as s:
        s.scalars(select(Track)).all()
        s.commit()
    with sessions() as s:
        add_track(s, "a")
        s.flush()
        s.rollback()
    with sessions() as s:
        s.execute(update(Track).where(Track.id == -1).values(genre="Jazz"))  # no row matched
        s.commit()
    assert mark(sessions) == start and marks(sessions) == {}


def test_other_tables_raise_the_mark_too_so_a_look_never_skips_a_transaction(sessions):
    start = mark(sessions)
    with sessions() as s:
        s.merge(Meta(key="some_setting", value="on"))
        s.commit()
    assert mark(sessions) == start + 1


def test_a_row_committed_after_a_look_is_at_or_above_that_looks_mark_however_long_it_waited(sessions):
    """The case a time stamp gets wrong: a writer writes, a reader looks, the writer commits later."""
    with sessions() as s:
        add_track(s, "old")
        s.commit()
    written, looked = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def reader():
        written.wait(10)
        with sessions() as s:  # reads while the writer's change is not committed
            seen["mark"] = change_mark(s)
            seen["rows"] = [t.audio_hash for t in s.scalars(select(Track))]
        looked.set()

    thread = threading.Thread(target=reader)
    thread.start()
    with sessions() as s:
        s.scalar(select(Track)).title = "changed"
        add_track(s, "new")
        s.flush()
        written.set()
        assert looked.wait(10)
        s.commit()
    thread.join()
    assert seen["rows"] == ["old"]  # the look saw neither change
    with sessions() as s:
        since = s.scalars(select(Track.audio_hash).where(Track.change_mark >= seen["mark"])).all()
    assert sorted(since) == ["new", "old"]  # the next look, from that mark, sees both


def test_a_look_at_the_changes_reads_its_rows_count_and_mark_at_one_moment(sessions, monkeypatch):
    """A writer that committed between a look's read of the rows and its read of the mark: in neither look's rows, so
    the window kept showing those tracks as they were (a scan's analysed track still "new")."""
    from desktop.store import queries
    from desktop.ui.table_model import load_changes

    with sessions() as s:
        add_track(s, "old")
        s.commit()
    start, real = mark(sessions), queries.present_count

    def counted_while_a_writer_commits(s):  # between the look's rows and its mark
        with sessions() as writer:
            add_track(writer, "new")
            writer.commit()
        return real(s)

    monkeypatch.setattr(queries, "present_count", counted_while_a_writer_commits)
    first = load_changes(sessions, start)
    monkeypatch.setattr(queries, "present_count", real)
    second = load_changes(sessions, first.mark)
    assert [r.path for r in first.rows] == [] and first.present == 1  # the look: the library as it was, throughout
    assert [r.path for r in second.rows] == ["/m/new.flac"] and second.present == 2  # the next look from its mark


def test_a_version_9_library_gains_change_marks_and_its_tracks_are_seen_by_a_first_look(tmp_path):
    db = tmp_path / "v9.db"
    open_database(db).kw["bind"].dispose()
    with sqlite3.connect(db) as con:  # back to version 9: no change marks
        con.execute("drop index ix_tracks_change_mark")
        con.execute("alter table tracks drop column change_mark")
        con.execute("delete from meta where key = 'change_mark'")
        con.execute("create index ix_tracks_updated_at on tracks (updated_at)")  # what the window asked by, then
        con.execute("update meta set value = '9' where key = 'schema_version'")
        con.execute("insert into tracks (path, folder, size, mtime_ns, audio_hash, format, duration, title, artist, album,"
                    " file_genre, missing, added_at, updated_at, verdict, write_state) values ('/m/a.flac', '/m', 1, 1,"
                    " 'a', 'flac', 1, '', '', '', '', 0, '2026-01-01', '2026-01-01', 'new', 'none')")
    sessions = open_database(db)
    assert marks(sessions) == {"a": 0} and mark(sessions) == 1
    with sessions() as s:
        s.scalar(select(Track)).title = "A"
        s.commit()
    assert marks(sessions) == {"a": 1} and mark(sessions) == 2
    with sqlite3.connect(db) as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == "13"
        indexes = {row[0] for row in con.execute("select name from sqlite_master where type = 'index'")}
        assert "ix_tracks_change_mark" in indexes and "ix_tracks_updated_at" not in indexes
    sessions.kw["bind"].dispose()
