"""Qt models over the store: the library table, its filter proxy, and the genre sidebar."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from pathlib import PurePath

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QUrl,
    Signal,
)
from sqlalchemy import select

from desktop.core.analysis import DEFAULT_THRESHOLD, status_words
from desktop.core.genre_names import clean_name, genre_key, holds_genre
from desktop.core.genres import split_genres
from desktop.core.natural_order import album_artist_of, album_sort_artists, natural_key, track_album
from desktop.core.scan import within
from desktop.core.search import Search, everywhere, parse_search
from desktop.core.wording import percent, play_length, shortened
from desktop.store import queries
from desktop.store.changes import change_mark, one_read
from desktop.store.schema import Track, display_status
from desktop.ui.track_drag import (
    TRACK_IDS_MIME,
    comes_from,
    drag_owner,
    local_paths,
    put_track_ids,
    track_ids_from,
)

# A column added later goes at the end: a header's saved state keeps the earlier ones where the listener left them,
# and the new ones are laid out as at a first start (HIDDEN_AT_FIRST, PLACED_AFTER).
TITLE, ARTIST, ALBUM, FILE_GENRE, GENRE, CONFIDENCE, STATUS, LENGTH, FOLDER, YEAR, TRACK_NUMBER = range(11)
HEADERS = ("Title", "Artist", "Album", "File genre", "Genre", "Confidence", "Status", "Length", "Folder", "Year", "#")
HIDDEN_AT_FIRST = {FOLDER}  # until shown from the header's menu or View > Columns
# Shown right of this column at first, as players show them: Album, #, Year, Length (laid out in column order).
PLACED_AFTER = {LENGTH: ALBUM, YEAR: ALBUM, TRACK_NUMBER: ALBUM}
# What a column title says on hover: in a narrow window the title itself may end in "…" ("Con…"); the others say
# their title alone.
HEADER_TIPS = {FILE_GENRE: "File genre: what the file's own genre tag says",
               GENRE: "Genre: the genre shown and written (yours where you set one; double-click to correct)",
               CONFIDENCE: "Confidence: how sure the predicted genre is", STATUS: "Status: how the track's analysis went",
               LENGTH: "Length: how long the track plays", FOLDER: "Folder: where the file is",
               YEAR: "Year: when the track came out, as its tags say",
               TRACK_NUMBER: "#: the track's number on its album (sorted disc by disc)"}
TRACK_ID_ROLE = Qt.ItemDataRole.UserRole + 2
PATH_ROLE = Qt.ItemDataRole.UserRole + 3
GENRE_ROLE = Qt.ItemDataRole.UserRole + 4
# Draggable: tracks dragged to a player or a file manager go as their files' addresses (copied, never moved).
CELL = (Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
        | Qt.ItemFlag.ItemIsDragEnabled)
EDITABLE_CELL = CELL | Qt.ItemFlag.ItemIsEditable
NO_FLAGS = Qt.ItemFlag.NoItemFlags
UNCERTAIN_ITEM = "\x00uncertain"  # the sidebar's entry for predictions under the threshold; no genre has this name
NO_GENRE_ITEM = "\x00no genre"  # its entry for tracks with no genre at all (not analysed, unreadable, unlike yours)
SIDEBAR_NAMES = {UNCERTAIN_ITEM: "Uncertain", NO_GENRE_ITEM: "No genre"}  # the entries that are not genres
# The sidebar cuts a name too wide for it in the middle (its count kept in sight) and its tooltip gives the name; these
# cut a corrupt tag's 200,000 characters before Qt lays them out: at most SIDEBAR_NAME characters, TOOLTIP_NAME in a tooltip.
SIDEBAR_NAME, TOOLTIP_NAME = 200, 300
LONG_SIDEBAR_NAME = 24  # characters beyond which an entry may be cut at the sidebar's usual width: its tooltip names it
# Prefix of an entry for a genre only files' own tags name, which no track shows (one the model in use does not know,
# before Learn My Genres): the tracks whose tags name it, by their tags.
TAGGED_ITEM = "\x00tagged:"
AWAY_TIP = "On a drive not connected: shown as it was, and written to once the drive is back"


def tagged_item(name: str) -> str:
    """The sidebar entry of a genre only the files' tags name."""
    return TAGGED_ITEM + name


def is_tagged_item(item: str | None) -> bool:
    """Whether a sidebar entry stands for a genre only the files' tags name."""
    return item is not None and item.startswith(TAGGED_ITEM)


def item_genre(item: str | None) -> str | None:
    """The genre a sidebar entry stands for (a tagged one's too); None for "All tracks", "Uncertain" and "No genre"."""
    if item is None or item in SIDEBAR_NAMES:
        return None
    return item.removeprefix(TAGGED_ITEM)


def is_genre_item(item: str | None) -> bool:
    """Whether a sidebar entry is a genre tracks show: one its menu renames or merges (a tagged one takes drops too)."""
    return item is not None and not item.startswith("\x00")


def tag_only_genres(rows: list[TrackRow], spellings: dict[str, str]) -> list[tuple[str, int, frozenset[str]]]:
    """The genres the rows' own tags name that no row shows (a genre the model in use does not know), each under the
    listener's merges and spelling (`spellings`: key -> name, queries.library_spellings), with how many rows' tags name
    it and the tag values that do; the most tagged first. From the table's rows: on the GUI thread, every 1.5 s of a
    scan, where asking the database took 0.26 s at 100,000 tracks."""
    tags = Counter(row.file_genre for row in rows if row.file_genre)  # few distinct values
    shown = {genre_key(g) for text in {row.genre for row in rows} if text for g in split_genres(text)}
    counts: Counter = Counter()
    names: dict[str, str] = {}
    values: dict[str, set[str]] = {}
    for value, n in tags.items():
        named = {}  # key -> name, once a tag
        for g in split_genres(value):
            if clean_name(g) is not None:
                name = spellings.get(genre_key(g), g)
                named.setdefault(genre_key(name), name)
        for key, name in named.items():
            if key not in shown:
                counts[key] += n
                names.setdefault(key, name)
                values.setdefault(key, set()).add(value)
    return sorted(((names[key], n, frozenset(values[key])) for key, n in counts.items()),
                  key=lambda entry: (-entry[1], natural_key(entry[0])))


@dataclass(frozen=True)
class TrackRow:
    """One row of the library table: plain data, safe to build on any thread."""

    id: int
    path: str
    title: str
    artist: str
    album: str
    file_genre: str
    genre: str
    predicted: str
    confidence: float | None
    corrected: bool
    status: str
    error: str
    duration: float = 0.0  # seconds; 0 when unknown (unreadable)
    year: int = 0  # these three: 0 where the tags say none
    track_number: int = 0
    disc_number: int = 0
    album_artist: str = ""  # "" where the tags name none
    # The album the track is on (natural_order.track_album), made with the row: every sort asks it of every row (as a
    # cached_property, 0.37 s of 100,000 rows, most of it functools' lock; made here, 0.13 s, once).
    album_place: tuple[str, str] | None = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        # frozen: set once, as the dataclass itself does
        object.__setattr__(self, "album_place", track_album(os.path.dirname(self.path), self.album))

    def cells(self) -> tuple[str, ...]:
        """The row as the table shows it, one text per column."""
        return tuple(text(self) for text in CELL_TEXTS)

    def cell(self, column: int) -> str:
        """One column's text as the table shows it (sorting by a column made every column's text, 0.2 s at 100,000)."""
        return CELL_TEXTS[column](self)

    @cached_property
    def search_text(self) -> str:
        """What a search's words are looked for in: title, artist, album, both genres and path, folded (made once a
        row: the filter searches every row on each keystroke)."""
        return everywhere(self)

    def needs_review(self, threshold: float) -> bool:
        """Uncertain, or the file's tag disagrees with the prediction (and nobody corrected it)."""
        return queries.row_needs_review(self.file_genre, self.predicted, self.confidence, self.corrected, threshold)


# Each column's text for a row, in column order.
CELL_TEXTS: tuple[Callable[[TrackRow], str], ...] = (
    lambda r: r.title or PurePath(r.path).name, attrgetter("artist"), attrgetter("album"), attrgetter("file_genre"),
    attrgetter("genre"), lambda r: "" if r.confidence is None else percent(r.confidence),
    lambda r: status_words(r.status), lambda r: play_length(r.duration), lambda r: str(PurePath(r.path).parent),
    lambda r: str(r.year or ""), lambda r: str(r.track_number or ""))

ROW_COLUMNS = (Track.id, Track.path, Track.title, Track.artist, Track.album, Track.file_genre, Track.genre,
               Track.predicted_genre, Track.confidence, Track.corrected_genre, Track.verdict, Track.write_state, Track.error,
               Track.duration, Track.year, Track.track_number, Track.disc_number, Track.album_artist)


def _row(values) -> TrackRow:
    i, p, t, a, al, fg, g, pr, c, cg, verdict, written, e, duration, year, number, disc, album_artist = values
    return TrackRow(i, p, t or "", a or "", al or "", fg or "", g or "", pr or "", c, bool(cg),
                    display_status(verdict, written, cg), e or "", duration or 0.0, year or 0, number or 0, disc or 0,
                    album_artist or "")


def load_rows(sessions) -> list[TrackRow]:
    """All present tracks as rows, in one column-only query (fast at 100,000 tracks)."""
    with sessions() as s:
        rows = s.execute(select(*ROW_COLUMNS).where(Track.missing.is_(False)).order_by(Track.artist, Track.album, Track.title))
        return [_row(values) for values in rows]


@dataclass(frozen=True)
class TableChanges:
    """What changed since a look, read in one transaction: so `present` counts the library these changes leave, and
    `mark` is where the next look starts (store.changes: exactly the rows committed after this read)."""

    rows: list[TrackRow]  # present tracks changed or new
    gone: set[int]  # ids of tracks now missing
    present: int  # how many tracks are present
    mark: int


def change_mark_now(sessions) -> int:
    """Where a look starts that misses nothing committed after this call (taken before a full read of the rows)."""
    with sessions() as s:
        return change_mark(s)


def load_changes(sessions, since: int) -> TableChanges:
    """Rows written since change mark `since` (indexed), and the library's count and mark in the same read."""
    with sessions() as s:
        one_read(s)  # the rows, the count and the mark at one moment: a commit between them lost its rows for good
        result = s.execute(select(*ROW_COLUMNS, Track.missing).where(Track.change_mark >= since))
        changed, gone = [], set()
        for values in result:
            if values[-1]:
                gone.add(values[0])
            else:
                changed.append(_row(values[:-1]))
        return TableChanges(changed, gone, queries.present_count(s), change_mark(s))


def load_genre_counts(sessions, threshold: float = DEFAULT_THRESHOLD,
                      total: int | None = None) -> tuple[list[tuple[str, int]], int]:
    """The sidebar's (genre, count) pairs: confident genres, then the uncertain ones apart, then those with no genre
    (each track in one entry, or in each of its genres); and every track (counted here unless `total` is given)."""
    with sessions() as s:
        counts = queries.genre_counts(s, threshold)
        apart = [(UNCERTAIN_ITEM, queries.uncertain_count(s, threshold)), (NO_GENRE_ITEM, queries.no_genre_count(s))]
        total = queries.present_count(s) if total is None else total
    return counts + [(item, n) for item, n in apart if n], total


def sort_key(row: TrackRow, column: int, album_artists: dict[tuple[str, str], str] | None = None) -> tuple:
    """How a row sorts by a column: its value as shown (confidence, length and year as numbers, # disc by disc), ties
    by the artist its album sorts under (`album_artists`, natural_order.album_sort_artists of the rows; else its album
    artist, else artist: an album stays whole, a compilation too, as in listings), album, then the album's own order
    (disc, track number), then title."""
    if column == CONFIDENCE:
        value = row.confidence if row.confidence is not None else -1.0
    elif column == LENGTH:
        value = row.duration  # "10:00" after "9:59", not before it as text
    elif column == YEAR:
        value = row.year
    elif column == TRACK_NUMBER:
        value = (row.disc_number, row.track_number)
    else:
        value = natural_key(row.cell(column))
    artist = album_artists.get(row.album_place) if album_artists else None
    return (value, natural_key(artist or row.album_artist or row.artist), natural_key(row.album), row.disc_number,
            row.track_number, natural_key(row.title), row.id)


@dataclass(frozen=True)
class SortedRows:
    """Rows in the order of one column, with the key of each (made off the GUI thread: sorted_rows)."""

    rows: list[TrackRow]
    keys: list[tuple]
    column: int
    descending: bool
    album_artists: dict[tuple[str, str], str]  # the artist each album sorts under (album_sort_artists)
    albums: dict[tuple[str, str], dict[int, TrackRow]] | None  # each album's rows that name an artist, by id


def filed_album(row: TrackRow) -> tuple[str, str] | None:
    """The album a row counts in for the artist its album sorts under: its album_place, where it names an artist."""
    return row.album_place if row.album_artist or row.artist else None


def album_fields(row: TrackRow) -> tuple:
    """What of a row the artist its album sorts under depends on (album_sort_artists)."""
    return filed_album(row), row.album_artist or row.artist, row.disc_number, row.track_number, row.path


def album_rows(rows: list[TrackRow]) -> dict[tuple[str, str], dict[int, TrackRow]]:
    """Each album's rows (filed_album), by track id."""
    albums: dict[tuple[str, str], dict[int, TrackRow]] = {}
    for row in rows:
        if (album := filed_album(row)) is not None:
            albums.setdefault(album, {})[row.id] = row
    return albums


def sorted_rows(rows: list[TrackRow], column: int, descending: bool,
                album_artists: dict[tuple[str, str], str] | None = None) -> SortedRows:
    """Rows sorted by a column as the table shows them, each key made once (a key costs more than a comparison);
    `album_artists` where the rows' albums are known already (a header clicked), else made from the rows, with
    each album's rows (off the GUI thread: filing 100,000 rows took it 0.05 s)."""
    albums = None
    if album_artists is None:
        albums = album_rows(rows)
        album_artists = album_sort_artists(rows, [r.album_place for r in rows], [r.album_artist or r.artist for r in rows])
    keys = [sort_key(r, column, album_artists) for r in rows]
    order = sorted(range(len(keys)), key=keys.__getitem__, reverse=descending)
    return SortedRows([rows[i] for i in order], [keys[i] for i in order], column, descending, album_artists, albums)


MOVED_ONE_BY_ONE = 1000  # more rows than this moving in one merge: every row is sorted again
FLAGGED_ONE_BY_ONE = 1000  # more rows than this flagged or unflagged at once: the proxy filters every row again


def adjacent_runs(values: list[int], step: int = 1) -> list[tuple[int, int]]:
    """The stretches of `values` in which each value is the one before plus `step`, as (begin, end) indexes into
    `values`, end excluded: rows 3, 4, 5, 9 are runs (0, 3) and (3, 4)."""
    starts = [i for i in range(len(values)) if i == 0 or values[i] != values[i - 1] + step]
    return list(zip(starts, starts[1:] + [len(values)], strict=False)) if values else []


class LibraryTableModel(QAbstractTableModel):
    """The library as a table, kept sorted here (a proxy sorting 100,000 rows calls data() ~2 million times);
    editing the Genre column asks for a correction (it writes nothing)."""

    correction_requested = Signal(list, str)  # track ids, genre

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[TrackRow] = []
        self._position: dict[int, int] = {}  # track id -> row
        self._column, self._descending = ARTIST, False
        self.editable = True  # False for a read-only library: no Genre cell opens an editor
        self.drag_owner = drag_owner(self)  # the mark on its dragged tracks: a sidebar takes ids from its own table only
        self._keys: list[tuple] = []  # sort_key of each row, in row order, for inserting in place
        # The artist each album sorts under (album_sort_artists of every row), and each album's rows that name one,
        # kept as rows change: a merge leaves the order a reload would.
        self._album_artists: dict[tuple[str, str], str] = {}
        self._albums: dict[tuple[str, str], dict[int, TrackRow]] = {}
        self.away: list[str] = []  # music folders not there now (a drive not connected): their rows show greyed
        self._is_away = within(())

    def _key(self, row: TrackRow) -> tuple:
        return sort_key(row, self._column, self._album_artists)

    def _reorder(self, same_rows: bool = False) -> None:
        """Sort every row by the current column; `same_rows`: the rows are those the albums' artists were made of."""
        ordered = sorted_rows(self._rows, self._column, self._descending, self._album_artists if same_rows else None)
        self._rows, self._keys = ordered.rows, ordered.keys
        self._position = {r.id: i for i, r in enumerate(self._rows)}
        if not same_rows:
            self._album_artists, self._albums = ordered.album_artists, ordered.albums

    def _regroup(self, changed: list[TrackRow], gone: set[int]) -> set[tuple[str, str]]:
        """File changed rows under their albums (and gone ones under none); the albums that now sort under another
        artist, whose other rows move too."""
        touched = set()
        for row in [self._rows[at] for i in gone if (at := self._position.get(i)) is not None] + changed:
            at = self._position.get(row.id)
            if at is not None and row.id not in gone and album_fields(row) == album_fields(self._rows[at]):
                continue  # its album counts it as before (a genre or a confidence changed): 0.3 s of a write of 100,000
            if at is not None and (was := filed_album(self._rows[at])) is not None:
                self._albums.get(was, {}).pop(row.id, None)  # its row before this change
                touched.add(was)
            if row.id not in gone and (album := filed_album(row)) is not None:
                self._albums.setdefault(album, {})[row.id] = row
                touched.add(album)
        rekeyed = set()
        for album in touched:
            rows = list(self._albums.get(album, {}).values())
            artist = album_artist_of(rows, [r.album_artist or r.artist for r in rows])
            if not rows:
                self._albums.pop(album, None)
            if artist != self._album_artists.get(album):
                rekeyed.add(album)
                if artist is None:
                    del self._album_artists[album]
                else:
                    self._album_artists[album] = artist
        return rekeyed

    @property
    def order(self) -> tuple[int, bool]:
        """The column the rows are sorted by, and whether descending."""
        return self._column, self._descending

    def _insert_at(self, key: tuple) -> int:
        """The row a new key goes to, keeping the order (ascending or descending)."""
        lo, hi = 0, len(self._keys)
        while lo < hi:
            mid = (lo + hi) // 2
            if (self._keys[mid] > key) if self._descending else (self._keys[mid] < key):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sort every row by a column; selections and the current row follow their tracks."""
        if (column, order == Qt.SortOrder.DescendingOrder) == self.order:
            return  # the rows are kept in this order (set_rows, merge_rows): sorting 100,000 again took 0.2-0.3 s
        self.layoutAboutToBeChanged.emit()
        kept = self.persistentIndexList()
        kept_ids = [self._rows[ix.row()].id for ix in kept]
        self._column, self._descending = column, order == Qt.SortOrder.DescendingOrder
        self._reorder(same_rows=True)
        self.changePersistentIndexList(kept, [self.index(self._position[i], ix.column()) for i, ix in zip(kept_ids, kept, strict=True)])
        self.layoutChanged.emit()

    def set_rows(self, rows: list[TrackRow] | SortedRows) -> None:
        """Replace every row, in the current order (rows sorted by it already, SortedRows, are not sorted again)."""
        self.beginResetModel()
        if isinstance(rows, SortedRows) and (rows.column, rows.descending) == self.order:
            self._rows, self._keys, self._album_artists = rows.rows, rows.keys, rows.album_artists
            self._albums = album_rows(self._rows) if rows.albums is None else rows.albums
            self._position = {r.id: i for i, r in enumerate(self._rows)}
        else:  # plain rows, or sorted by a column the listener has sorted away from since
            self._rows = list(rows.rows if isinstance(rows, SortedRows) else rows)
            self._reorder()
        self.endResetModel()

    def merge_rows(self, changed: list[TrackRow], gone: set[int] = frozenset()) -> None:
        """Apply changes in place: update known rows, insert new ones where they sort, drop missing ones.

        Unlike set_rows this keeps the selection, the scroll position and the editor open, and costs
        only the changed rows, so the table can follow a scan of 100,000 tracks. Each kind of change is told
        to the views in as few signals as it takes: a filtering proxy maps every row again after a move (0.15 s
        at 100,000 rows), so a move per row froze the window for seconds when a correction of many tracks moved
        them (the table sorted by genre); an insertion or a removal costs it about 0.3 ms.
        """
        last = len(HEADERS) - 1
        rekeyed = self._regroup(changed, gone)
        moved, new = {}, {}  # moved: row number -> its new data, its place to change; new: id -> row
        for row in changed:
            at = self._position.get(row.id)
            if row.id in gone:
                continue
            if at is None:
                new[row.id] = row
            elif self._rows[at] == row:
                continue
            elif self._keys[at] == self._key(row):
                self._rows[at] = row
                self.dataChanged.emit(self.index(at, 0), self.index(at, last))
            else:
                moved[at] = row
        for album in rekeyed:  # its rows sort under another artist now: those that did not change move too
            for track_id in self._albums.get(album, {}):
                at = self._position.get(track_id)
                if at is not None and at not in moved and self._keys[at] != self._key(self._rows[at]):
                    moved[at] = self._rows[at]  # as updated in place above, where it was
        if moved:
            self._move_all(moved)
        if leaving := sorted(self._position[i] for i in gone if i in self._position):
            self._remove_all(leaving)
        if new:
            self._insert_all(list(new.values()))
        if leaving or new:
            self._position = {r.id: i for i, r in enumerate(self._rows)}  # once: the rows below each change moved

    def _move_all(self, moved: dict[int, TrackRow]) -> None:
        """Give these rows their new data and every row its place again, as one layout change (selections and the
        current row follow their tracks)."""
        self.layoutAboutToBeChanged.emit()
        kept = self.persistentIndexList()
        kept_ids = [self._rows[ix.row()].id for ix in kept]
        if len(moved) > MOVED_ONE_BY_ONE:  # a sort of every row costs what about a thousand moves do
            for at, row in moved.items():
                self._rows[at], self._keys[at] = row, self._key(row)
            order = sorted(range(len(self._keys)), key=self._keys.__getitem__, reverse=self._descending)
            self._rows, self._keys = [self._rows[i] for i in order], [self._keys[i] for i in order]
        else:
            for row, old_key in [(row, self._keys[at]) for at, row in moved.items()]:
                at = self._insert_at(old_key)  # keys end with the track id: the exact row, whatever moved before
                del self._rows[at], self._keys[at]
                key = self._key(row)
                to = self._insert_at(key)
                self._rows.insert(to, row)
                self._keys.insert(to, key)
        self._position = {r.id: i for i, r in enumerate(self._rows)}
        self.changePersistentIndexList(kept, [self.index(self._position[i], ix.column()) for i, ix in zip(kept_ids, kept, strict=True)])
        self.layoutChanged.emit()

    def _remove_all(self, leaving: list[int]) -> None:
        """Remove these rows (numbers in ascending order), one signal per run of adjacent rows, from the bottom up
        so the runs still to remove keep their numbers."""
        for begin, end in reversed(adjacent_runs(leaving)):
            first, last = leaving[begin], leaving[end - 1]
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first:last + 1], self._keys[first:last + 1]
            self.endRemoveRows()

    def _insert_all(self, new: list[TrackRow]) -> None:
        """Insert these rows where they sort, one signal per run that lands between the same two rows (an album
        a scan found lands in one run)."""
        keyed = sorted(((self._key(r), r) for r in new), key=lambda kr: kr[0], reverse=self._descending)
        places = [self._insert_at(key) for key, _ in keyed]  # in the rows as they are now: runs share a place
        for begin, end in adjacent_runs(places, step=0):
            at = places[begin] + begin  # the rows of the runs before this one are in by now
            self.beginInsertRows(QModelIndex(), at, at + end - begin - 1)
            self._keys[at:at] = [key for key, _ in keyed[begin:end]]
            self._rows[at:at] = [row for _, row in keyed[begin:end]]
            self.endInsertRows()

    def rows_changed(self, track_ids: set[int]) -> None:
        """Tell the views that these tracks' rows show otherwise though their data did not (the review's album flags):
        one signal per run of adjacent rows, and a filtering proxy filters only those rows again."""
        rows = sorted(at for i in track_ids if (at := self._position.get(i)) is not None)
        last = len(HEADERS) - 1
        for begin, end in adjacent_runs(rows):
            self.dataChanged.emit(self.index(rows[begin], 0), self.index(rows[end - 1], last))

    def set_away(self, folders: list[str]) -> None:
        """Show the rows under these music folders greyed, with why in their tooltips: on a drive not connected."""
        if folders != self.away:
            self.away, self._is_away = list(folders), within(folders)
            if self._rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1))

    def is_away(self, path: str) -> bool:
        """Whether a track's file lies under a music folder not there now (`set_away`)."""
        return bool(self.away) and self._is_away(path)

    def row_of(self, track_id: int) -> int | None:
        """The source row showing a track, None when it is not in the table."""
        return self._position.get(track_id)

    def all_rows(self) -> list[TrackRow]:
        """Every row, in the table's order (the model's own list: read it, never change it)."""
        return self._rows

    def row_at(self, row: int) -> TrackRow:
        """The data of a source row."""
        return self._rows[row]

    def track(self, track_id: int) -> TrackRow | None:
        """The data of a track, None when it is not in the table."""
        row = self._position.get(track_id)
        return None if row is None else self._rows[row]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section, HEADERS[section])
        return None

    def flags(self, index):
        # Constants, not super().flags(): a selection of 100,000 rows asks for every cell's flags.
        if not index.isValid():
            return NO_FLAGS
        return EDITABLE_CELL if index.column() == GENRE and self.editable else CELL

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt's name)
        return ["text/uri-list", TRACK_IDS_MIME]

    def mimeData(self, indexes) -> QMimeData:  # noqa: N802
        """The dragged tracks as their files' addresses, each once, in the table's order (a player queues them, a file
        manager copies them)."""
        rows = sorted({index.row() for index in indexes if index.isValid()})
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(self._rows[row].path) for row in rows])
        put_track_ids(data, self.drag_owner, [self._rows[row].id for row in rows])  # for the sidebar's genres
        return data

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction  # never Move: a file manager would take the file out of the music folder

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r, col = self._rows[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return r.cell(col)
        away = self.is_away(r.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(filter(None, (r.path, r.error, away and AWAY_TIP)))
        if role == Qt.ItemDataRole.ForegroundRole and away:
            from PySide6.QtGui import QGuiApplication, QPalette

            return QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if role == Qt.ItemDataRole.FontRole and col == GENRE and r.corrected:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)  # hand corrections stand out
            return font
        if role == TRACK_ID_ROLE:
            return r.id
        if role == PATH_ROLE:
            return r.path
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or index.column() != GENRE or not str(value).strip():
            return False
        if str(value).strip() == self._rows[index.row()].genre:
            return False
        self.correction_requested.emit([self._rows[index.row()].id], str(value).strip())
        return True


def passing(rows: list[TrackRow], tests: list[Callable[[TrackRow], bool]]) -> list[int]:
    """Positions of the rows that pass every test, each test run over the rows the one before it kept."""
    kept = range(len(rows))
    for test in tests:
        kept = [i for i in kept if test(rows[i])]
    return list(kept)


class LibraryFilter(QSortFilterProxyModel):
    """Search text, the "needs review" switch, and the genre chosen in the sidebar.

    Qt asks filterAcceptsRow about every row whenever the filter changes or the rows are sorted again. Deciding a row
    there took 2 µs, 0.2 s a keystroke at 100,000 rows; so every row is decided in one pass over the source's rows,
    each test over the rows the tests before it kept, and filterAcceptsRow reads the decision. Rows the source
    inserts, removes or changes are decided on their own, before the proxy asks about them.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._search, self._review, self._genre = Search(), False, None
        self._tag_values: frozenset[str] = frozenset()  # a tagged entry's tag values (set_genre)
        self._matches: dict[str | None, bool] = {}  # genre text -> holds the chosen genre
        self._threshold = DEFAULT_THRESHOLD
        self._album_flags: set[int] = set()  # tracks of albums whose genres disagree (queries.album_disagreements)
        self._tests: list[Callable[[TrackRow], bool]] = []  # what a row must pass to be shown, the most selective first
        self._accepted: list[bool] | None = None  # each source row's decision, in the source's order; None: decide again
        self._before_layout: tuple[list[TrackRow], list[bool]] | None = None  # the rows and decisions before a move
        self._found_alone: int | None = None  # rows the search finds, genre and review aside; None: count again

    def setSourceModel(self, model) -> None:  # noqa: N802 (Qt's name)
        """Follow the source's row changes before the proxy does: Qt calls handlers in the order they were connected,
        and the proxy's own handlers ask filterAcceptsRow about the rows inserted or changed."""
        model.modelReset.connect(self._forget)
        model.layoutAboutToBeChanged.connect(self._layout_changing)  # a sort, or rows moved with new data (merge_rows)
        model.layoutChanged.connect(self._layout_changed)
        model.rowsMoved.connect(self._forget)
        model.rowsInserted.connect(self._rows_inserted)
        model.rowsRemoved.connect(self._rows_removed)
        model.dataChanged.connect(self._rows_edited)
        for changed in (model.modelReset, model.layoutChanged, model.rowsInserted, model.rowsRemoved, model.dataChanged):
            changed.connect(self._count_again)
        super().setSourceModel(model)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """The header's sort goes to the source model, which keeps its rows in order; the proxy only filters."""
        self.sourceModel().sort(column, order)

    def set_search(self, text: str) -> None:
        """Rows that hold every word of `text` in any order, its "phrases" and field:value parts (core.search)."""
        self._search = parse_search(text)
        self._filter_again()

    def set_review_only(self, on: bool) -> None:
        """Only uncertain tracks and tracks whose tag disagrees."""
        self._review = on
        self._filter_again()

    def set_threshold(self, threshold: float) -> None:
        """The confidence under which a prediction needs review (the listener's setting)."""
        if threshold != self._threshold:  # Settings sets it on every OK
            self._threshold = threshold
            self._filter_again()

    def set_album_flags(self, track_ids: set[int]) -> None:
        """Tracks flagged by the album check; they show under "Needs review" too. Only the rows flagged or unflagged
        are filtered again, where they are few (a correction's album): filtering every row took 0.1-0.2 s at 100,000."""
        flagged = set(track_ids)
        changed, self._album_flags = flagged ^ self._album_flags, flagged
        if not self._review or not changed:
            return
        if len(changed) > FLAGGED_ONE_BY_ONE:
            self._filter_again()
        else:  # their dataChanged has each row decided again (_rows_edited), then filtered
            self.sourceModel().rows_changed(changed)

    @property
    def genre(self) -> str | None:
        """The genre the table is limited to (None: all)."""
        return self._genre

    def set_genre(self, genre: str | None, tag_values: frozenset[str] | None = None) -> None:
        """Only one genre (None: all), by key as the sidebar counts it: any spelling, alone or among several; for a
        genre only tags name (a tagged entry), the tracks whose tag is one of `tag_values`."""
        self._genre, self._matches, self._tag_values = genre, {}, tag_values or frozenset()
        self._filter_again()

    @property
    def tag_values(self) -> frozenset[str]:
        """The tag values a tagged entry takes tracks by (empty for any other)."""
        return self._tag_values

    def _of_genre(self, text: str | None) -> bool:
        if text not in self._matches:  # a library has few distinct genre texts: each is split and keyed once
            self._matches[text] = holds_genre(text, genre_key(self._genre))
        return self._matches[text]

    def _filter_again(self) -> None:
        self._tests = self._make_tests()
        self._accepted = self._found_alone = None
        self.invalidate()

    def _count_again(self, *_args) -> None:
        self._found_alone = None

    def found_by_search_alone(self) -> int:
        """How many rows the search finds with the genre and "Needs review" aside: the empty table says so (counted
        when asked, then kept until the rows or the filter change)."""
        if self._found_alone is None:
            self._found_alone = len(passing(self.sourceModel().all_rows(), self._search.tests(attrgetter("search_text"))))
        return self._found_alone

    def shown_rows(self) -> list[TrackRow]:
        """The rows the table shows, in its order (the source keeps them sorted; this proxy only filters), read from the
        decisions at once: a row at a time through the proxy's index took 0.3 s at 100,000."""
        rows = self.sourceModel().all_rows()
        if self._accepted is None:
            self._accepted = self._decide_all()
        return [row for row, shown in zip(rows, self._accepted, strict=True) if shown]

    def _make_tests(self) -> list[Callable[[TrackRow], bool]]:
        """The tests of the filter as it is set now; a row is shown when it passes them all."""
        tests, threshold = [], self._threshold
        if self._genre == UNCERTAIN_ITEM:
            tests.append(lambda r: not r.corrected and queries.is_uncertain(r.confidence, threshold))
        elif self._genre == NO_GENRE_ITEM:
            tests.append(lambda r: not r.genre)  # queries.no_genre_clause
        elif is_tagged_item(self._genre):
            values = self._tag_values
            tests.append(lambda r: r.file_genre in values)
        elif self._genre is not None:
            tests.append(lambda r: self._of_genre(r.genre) and (r.corrected or not queries.is_uncertain(r.confidence, threshold)))
        tests += self._search.tests(attrgetter("search_text"))
        if self._review:
            tests.append(lambda r: r.id in self._album_flags or r.needs_review(threshold))
        return tests

    def _decide(self, row: TrackRow) -> bool:
        return all(test(row) for test in self._tests)

    def _decide_all(self) -> list[bool]:
        rows = self.sourceModel().all_rows()
        if not self._tests:
            return [True] * len(rows)
        accepted = [False] * len(rows)
        for i in passing(rows, self._tests):
            accepted[i] = True
        return accepted

    def _forget(self, *_args) -> None:
        self._accepted = None

    def _layout_changing(self, *_args) -> None:
        if self._accepted is not None and self._tests:  # a copy: merge_rows moves rows within the model's own list
            self._before_layout = list(self.sourceModel().all_rows()), self._accepted

    def _layout_changed(self, *_args) -> None:
        """Each row keeps its decision where it moved to: a row never changes (new data comes as a new row, decided
        here), so a sort decides nothing again (0.1 s at 100,000 rows under a genre and "Needs review")."""
        before, self._before_layout = self._before_layout, None
        if before is None or self._accepted is None or not self._tests:
            self._accepted = None  # decided again on the next call (with no filter set, at once: every row shown)
            return
        # By identity: every row before is held in `before` meanwhile, so no two rows share an id().
        decided = dict(zip(map(id, before[0]), before[1], strict=True))
        self._accepted = [self._decide(r) if (known := decided.get(id(r))) is None else known
                          for r in self.sourceModel().all_rows()]

    def _rows_inserted(self, _parent, first: int, last: int) -> None:
        if self._accepted is not None:
            model = self.sourceModel()
            self._accepted[first:first] = [self._decide(model.row_at(i)) for i in range(first, last + 1)]

    def _rows_removed(self, _parent, first: int, last: int) -> None:
        if self._accepted is not None:
            del self._accepted[first:last + 1]

    def _rows_edited(self, top_left, bottom_right, _roles=()) -> None:
        if self._accepted is not None:
            model = self.sourceModel()
            for i in range(top_left.row(), bottom_right.row() + 1):
                self._accepted[i] = self._decide(model.row_at(i))

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        """The source's data; under "Needs review" a row's tooltip also says why it is there."""
        value = super().data(index, role)
        if role == Qt.ItemDataRole.ToolTipRole and self._review and index.isValid():
            r = self.sourceModel().row_at(self.mapToSource(index).row())
            why = queries.review_reason(r.file_genre, r.predicted, r.confidence, r.corrected, self._threshold,
                                        r.id in self._album_flags)
            return f"{value}\nTo review: {why}" if why else value
        return value

    def filterAcceptsRow(self, source_row, source_parent):  # noqa: N802
        accepted = self._accepted
        if accepted is None:  # the filter or the rows changed since the last pass
            accepted = self._accepted = self._decide_all()
        return accepted[source_row]


class GenreListModel(QAbstractListModel):
    """Sidebar: "All tracks" then each genre with its track count; tracks dragged from its window's table, or files and
    folders from a file manager, onto a genre ask for that genre (it writes nothing)."""

    tracks_dropped = Signal(list, str)  # track ids, genre
    files_dropped = Signal(list, str)  # paths of files and folders, genre

    def __init__(self, parent=None):
        super().__init__(parent)
        self._items: list[tuple[str | None, int]] = []
        self._tag_values: dict[str, frozenset[str]] = {}  # a tagged entry -> the tag values that name its genre
        self.drops_from: str | None = None  # the drag_owner of the table whose tracks it takes; None: no drops

    def _genre_at(self, index) -> str | None:
        """The genre a row stands for (a genre only tags name too: tracks dropped there are given it); None for "All
        tracks", "Uncertain", "No genre" and no row."""
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        return item_genre(self._items[index.row()][0])

    def flags(self, index):
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsDropEnabled if self.drops_from and self._genre_at(index) else flags

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt's name)
        return [TRACK_IDS_MIME, "text/uri-list"]

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction

    def canDropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802
        """Onto a genre (not between rows, not onto "All tracks", "Uncertain" or "No genre"), tracks from its own table
        or local files and folders (not another window's tracks)."""
        return (row == -1 and self._genre_at(parent) is not None and self.drops_from is not None
                and (comes_from(data, self.drops_from) or bool(local_paths(data))))

    def dropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802
        """Ask for the dropped tracks, or the library's tracks among the dropped files, to get the genre they were
        dropped on."""
        genre = self._genre_at(parent) if row == -1 and self.drops_from is not None else None  # as canDropMimeData
        if genre is None:
            return False
        if ids := track_ids_from(data, self.drops_from):  # the ids read once
            self.tracks_dropped.emit(ids, genre)
            return True
        if paths := local_paths(data):
            self.files_dropped.emit(paths, genre)
            return True
        return False

    def set_counts(self, counts: list[tuple[str, int]], total: int,
                   tagged: list[tuple[str, int, frozenset[str]]] = ()) -> None:
        """Replace the counts; `total`: every track ("All tracks" shows the unanalysed and the failed too,
        and a track of two genres counts under both); `tagged`: the genres only tags name, last (tag_only_genres)."""
        self.beginResetModel()
        self._items = [(None, total), *counts, *((tagged_item(name), n) for name, n, _ in tagged)]
        self._tag_values = {tagged_item(name): values for name, _, values in tagged}
        self.endResetModel()

    def tag_values(self, item: str | None) -> frozenset[str] | None:
        """The tag values that name a tagged entry's genre (None for any other entry)."""
        return self._tag_values.get(item) if item else None

    @property
    def total(self) -> int:
        """Every track, as "All tracks" counts them."""
        return self._items[0][1] if self._items else 0

    def row_of(self, genre: str | None) -> int | None:
        """The row showing `genre` (by key: the sidebar may now spell it otherwise); 0 for all tracks."""
        if genre is None:
            return 0
        key = _entry_key(genre)
        return next((n for n, (g, _) in enumerate(self._items) if g is not None and _entry_key(g) == key), None)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._items)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        genre, count = self._items[index.row()]
        tagged = is_tagged_item(genre)
        if role == Qt.ItemDataRole.DisplayRole:
            if tagged:
                return f"{shortened(item_genre(genre), SIDEBAR_NAME)}  ({count} tagged)"
            name = SIDEBAR_NAMES.get(genre, genre or "All tracks")
            return f"{shortened(name, SIDEBAR_NAME)}  ({count})"
        if role == GENRE_ROLE:
            return genre
        if role == Qt.ItemDataRole.ToolTipRole and tagged:
            return (f"{count} {'track whose own tag says' if count == 1 else 'tracks whose own tags say'} "
                    f"{shortened(item_genre(genre), TOOLTIP_NAME)}; no track shows it, as the model does not know it: "
                    "Learn My Genres learns your tags' genres")
        if role == Qt.ItemDataRole.ToolTipRole and genre and len(genre) > LONG_SIDEBAR_NAME:  # the name it may cut
            return shortened(genre, TOOLTIP_NAME)
        if role == Qt.ItemDataRole.FontRole and tagged:  # apart from the genres the tracks show
            from PySide6.QtGui import QFont

            font = QFont()
            font.setItalic(True)
            return font
        return None


def _entry_key(item: str) -> str:
    """What makes two sidebar entries the same: a genre's key (any spelling), a tagged genre's key apart from it."""
    if is_genre_item(item):
        return genre_key(item)
    return TAGGED_ITEM + genre_key(item_genre(item)) if is_tagged_item(item) else item
