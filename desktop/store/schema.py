"""Tables: tracks, analyses per model, corrections, and the journal of tag writes."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now, for timestamps."""
    return datetime.now(timezone.utc)


def stored_utc(stamp: datetime) -> datetime:
    """A stored timestamp with its zone: UTC, which SQLite gives back without one."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


WRITTEN, NOT_WRITTEN = "written", "none"


def display_status(verdict: str, write_state: str, corrected: str | None) -> str:
    """The status word the table and the CLI show, derived from the two stored facts."""
    return "corrected" if corrected else WRITTEN if write_state == WRITTEN else verdict


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Meta(Base):
    """Key/value facts about the database itself (schema_version)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(String)


CHANGE_MARK = "change_mark"  # meta key: raised by every transaction that changes rows, as it commits (store.changes)


# The library's change mark as a statement reads it: what a row written now is stamped with.
CHANGE_MARK_NOW = func.coalesce(select(Meta.value).where(Meta.key == CHANGE_MARK).scalar_subquery().cast(Integer), 0)


class Track(Base):
    """A music file; the row survives moves (matched by audio hash) and keeps its history."""

    __tablename__ = "tracks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String, unique=True)
    folder: Mapped[str] = mapped_column(String, index=True)
    size: Mapped[int] = mapped_column(Integer)
    mtime_ns: Mapped[int] = mapped_column(Integer)
    # The inode's change time as the scan last saw it (0: not known yet): a tagger that keeps the modification time
    # (Picard, kid3 and Mp3tag can) and fits its tag in the padding changes nothing else a scan looks at.
    ctime_ns: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    audio_hash: Mapped[str] = mapped_column(String, index=True)
    format: Mapped[str] = mapped_column(String)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    title: Mapped[str] = mapped_column(String, default="")
    artist: Mapped[str] = mapped_column(String, default="")
    album: Mapped[str] = mapped_column(String, default="")
    album_artist: Mapped[str] = mapped_column(String, default="", server_default="")
    compilation: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # marked part of a compilation in its tags
    # From the tags; 0 where they say none. An album's tracks in their order, and the year (the table, playlists).
    track_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disc_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    year: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # iTunes' media kind where it marks spoken word ("audiobook", "podcast"; MP4 only), else "" (spoken_word).
    media_kind: Mapped[str] = mapped_column(String, default="", server_default="")
    file_genre: Mapped[str] = mapped_column(String, default="", index=True)  # the tag as found, "; "-joined
    # The file's GENRE_TAGGER field as found ("Genre Tagger: Rock 0.93", "Genre Tagger: corrected by hand"): a genre
    # some Genre Tagger library predicted and wrote, perhaps another library's (a new computer, a shared folder).
    tag_provenance: Mapped[str] = mapped_column(String, default="", server_default="")
    # Denormalised from the current model's analysis and the correction, so the GUI's queries stay
    # single-table and indexed at 100,000 tracks.
    predicted_genre: Mapped[str | None] = mapped_column(String, nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    corrected_genre: Mapped[str | None] = mapped_column(String, nullable=True)
    genre: Mapped[str | None] = mapped_column(String, nullable=True, index=True)  # corrected, else predicted
    # Two separate facts: what the analysis concluded (new, analysed, uncertain, too_short, no_music,
    # unlike, error) and whether the file holds a genre we wrote (none, written).
    verdict: Mapped[str] = mapped_column(String, default="new", index=True)
    write_state: Mapped[str] = mapped_column(String, default="none")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # The change mark of the transaction that last wrote the row, read inside it: exact where a time is not (a row
    # stamped at 12:00:00 may commit at 12:00:09, after a reader looked at 12:00:05). store.changes.
    change_mark: Mapped[int] = mapped_column(Integer, default=CHANGE_MARK_NOW, onupdate=CHANGE_MARK_NOW,
                                             server_default="0", index=True)
    analyses: Mapped[list[Analysis]] = relationship(back_populates="track", cascade="all, delete-orphan")

    @property
    def status(self) -> str:
        """One word for people: corrected, written, else the analysis verdict."""
        return display_status(self.verdict, self.write_state, self.corrected_genre)


class Analysis(Base):
    """A model's verdict on a track's audio; one per (track, model key)."""

    __tablename__ = "analyses"
    __table_args__ = (UniqueConstraint("track_id", "model_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    model_key: Mapped[str] = mapped_column(String)
    audio_hash: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    top_genre: Mapped[str | None] = mapped_column(String, nullable=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    labels: Mapped[list] = mapped_column(JSON, default=list)
    probabilities: Mapped[list] = mapped_column(JSON, default=list)
    window_starts: Mapped[list] = mapped_column(JSON, default=list)
    window_probabilities: Mapped[list] = mapped_column(JSON, default=list)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # float32 little-endian
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    track: Mapped[Track] = relationship(back_populates="analyses")


class Correction(Base):
    """A genre set by hand; the newest active one wins and automatic tagging never overrides it."""

    __tablename__ = "corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    genre: Mapped[str] = mapped_column(String)
    source: Mapped[str] = mapped_column(String, default="cli")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The write batch that put it in the file: undoing that write takes the correction back too.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("write_batches.id"), nullable=True)


class WriteBatch(Base):
    """One run of tag writes; undo works batch by batch."""

    __tablename__ = "write_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    entries: Mapped[list[JournalEntry]] = relationship(back_populates="batch", order_by="JournalEntry.id")


class JournalEntry(Base):
    """A single tag write: the old values recorded before it, the file's state after it."""

    __tablename__ = "journal"
    # By track too: which of a folder's tracks (or of one audio's copies) a write of ours tagged is asked per folder.
    __table_args__ = (Index("ix_journal_batch", "batch_id"), Index("ix_journal_track", "track_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("write_batches.id"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id", ondelete="SET NULL"), nullable=True)
    path: Mapped[str] = mapped_column(String)
    old_genres: Mapped[list] = mapped_column(JSON)
    new_genres: Mapped[list] = mapped_column(JSON)
    # Whether the write set the provenance field, and what that field held before (None: absent), so undo puts
    # it back too. None for writes journalled before schema 6: their undo clears the field where it is written.
    provenance_written: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    old_provenance: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Where the old genres were: [the first tag's values, a second tag's or WAV INFO chunk's values or None], so undo
    # puts each back in its own place. None for writes journalled before schema 7: undone into the first tag.
    old_tag_genres: Mapped[list | None] = mapped_column(JSON, nullable=True)
    state: Mapped[str] = mapped_column(String, default="pending")  # pending | written | failed | undone
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    size_after: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mtime_ns_after: Mapped[int | None] = mapped_column(Integer, nullable=True)
    batch: Mapped[WriteBatch] = relationship(back_populates="entries")


class GenreMerge(Base):
    """A listener's merge or rename: every genre with key `from_key` is shown and learned as `to_name`."""

    __tablename__ = "genre_merges"
    from_key: Mapped[str] = mapped_column(String, primary_key=True)
    to_name: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
