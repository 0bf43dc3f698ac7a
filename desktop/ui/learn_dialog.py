"""What Learn My Genres learned: each genre's held-out figures, what was left out and why, and whether it is used."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop.core.wording import count, shortened
from desktop.services.labels import unnamed_listed

COLUMNS = ("Genre", "Tracks", "Precision", "Recall", "F1", "Most Often Taken For")


def skipped_text(skipped: list[tuple[str, str]]) -> str:
    """The genres left out, one per line with what each needs."""
    return "Not learned yet (tag or correct more tracks of these):\n" + "\n".join(f"• {name}: {why}" for name, why in skipped)


def unnamed_text(unnamed: dict[str, int]) -> str:
    """The folders holding tracks with no genre of their own that name no genre it knows (nothing learned from them)."""
    return f"Not learned from: folders named for no genre it knows: {unnamed_listed(unnamed)}."


def mix_ups_text(mix_ups: list) -> str:
    """The genres told apart least from another (library_head.MixUp), and what helps: more of their tracks tagged or
    corrected, or a merge."""
    named = "; ".join(f"{shortened(m.genre)} ({m.taken} of its {m.tracks} tracks taken for {shortened(m.taken_for)})"
                      for m in mix_ups)
    return (f"Told apart least: {named}. More of their tracks tagged or corrected teach them apart; where one is part "
            "of the other to you, merge it (Merge Into… in the genre's menu in the sidebar).")


def in_use_text(report) -> str:
    """Whether the learned model is now the one scans use, and why."""
    if report.activated:
        return (f"It is now the model your scans use ({report.why}); "
                f"{count(report.repredicted, 'track')} re-predicted from their stored analyses.")
    return f"Not used: {report.why}."


class LearnReportDialog(QDialog):
    """The report of a learn the listener asked for; `use_anyway` is True when they chose the learned model.

    With `offer_albums` (one genre per album is off and can be turned on), where it got clearly more of the
    held-out tracks right, a button offers it: `share_albums` is emitted when pressed.
    """

    share_albums = Signal()
    count_folder_genres = Signal()  # Folder Genres… pressed: which folders named for no genre it knows are genres

    def __init__(self, report, parent=None, offer_albums: bool = False):
        super().__init__(parent)
        self.setWindowTitle("Your genres, learned")
        self.use_anyway = False
        est = report.estimate
        layout = QVBoxLayout(self)
        self.summary = QLabel(f"<b>{report.summary()}.</b>")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(len(est.per_genre), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)  # figures to read, nothing to pick
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        for row, (name, f) in enumerate(est.per_genre.items()):
            # A name cut at 60 characters (a corrupt tag of thousands made the dialog wider than the screen), whole
            # in its tooltip.
            taken_for = f.get("taken_for") or ""
            taken = f"{shortened(taken_for)} ({f['taken_for_tracks']})" if taken_for else ""
            cells = (shortened(name), f"{f['tracks']:,}", f"{f['precision']:.0%}", f"{f['recall']:.0%}", f"{f['f1']:.2f}",
                     taken)
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
            for column, whole in ((0, name), (len(cells) - 1, taken_for)):
                if shortened(whole) != whole:
                    self.table.item(row, column).setToolTip(whole)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        held_out = (f"Your tracks' genres came {report.where_from()}. "
                    f"Checked on artists it had not seen ({est.folds}-fold cross-validation grouped by {est.grouped_by}): "
                    f"accuracy {est.accuracy:.0%}, {est.balanced_accuracy:.0%} averaged over genres.")
        if report.base_accuracy is not None:
            held_out += (f" The shipped model gets {report.base_accuracy:.0%} of the "
                         f"{count(report.base_tracks, 'track')} whose genre it knows.")
        if report.album_accuracy is not None:
            held_out += (f" With one genre per album (Edit → One Genre per Album): {report.album_accuracy:.0%}, "
                         f"{report.album_tracks:,} of these tracks sharing an album.")
        self.figures = QLabel(held_out)
        self.mix_ups = QLabel(mix_ups_text(mix_ups) if (mix_ups := report.mix_ups()) else "")
        self.skipped = QLabel(skipped_text(report.skipped) if report.skipped else "")
        self.unnamed = QLabel(unnamed_text(report.unnamed) if report.unnamed else "")
        self.in_use = QLabel(in_use_text(report))
        for label in (self.figures, self.mix_ups, self.skipped, self.unnamed, self.in_use):
            label.setWordWrap(True)
            label.setVisible(bool(label.text()))
            layout.addWidget(label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.use_button = None
        if not report.activated:
            self.use_button = QPushButton("Use It Anyway")
            self.use_button.setToolTip("Scans use the learned genres instead of the shipped model's")
            buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
            self.use_button.clicked.connect(self._use_anyway)
        self.albums_button = None
        if offer_albums and report.albums_help:
            self.albums_button = QPushButton("Turn On One Genre per Album")
            self.albums_button.setToolTip("Every track of an album shows (and is written with) one genre; "
                                          "Edit → One Genre per Album turns it off again")
            buttons.addButton(self.albums_button, QDialogButtonBox.ButtonRole.ActionRole)  # the report stays open
            self.albums_button.clicked.connect(self._share_albums)
        self.folders_button = None
        if report.unnamed:
            self.folders_button = QPushButton("Folder Genres…")
            self.folders_button.setToolTip("Say which of those folders are named for a genre: their tracks teach it")
            buttons.addButton(self.folders_button, QDialogButtonBox.ButtonRole.ActionRole)
            self.folders_button.clicked.connect(self._count_folder_genres)
        layout.addWidget(buttons)
        self.resize(560, 460)

    def _count_folder_genres(self) -> None:
        self.count_folder_genres.emit()
        self.accept()  # a learn with them follows, and its own report

    def _share_albums(self) -> None:
        self.albums_button.setEnabled(False)
        self.albums_button.setText("One Genre per Album: On")
        self.share_albums.emit()

    def _use_anyway(self) -> None:
        self.use_anyway = True
        self.accept()
