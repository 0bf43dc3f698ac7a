"""Dialogs: review changes before writing, the settings, and the question about folders that look like spoken word."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.scan import within
from desktop.core.wording import count
from desktop.ui.labels import plain_label

# What the MP3 tags setting offers: keeping each file's version never rewrites a v2.3 file as v2.4.
ID3_CHOICES = (("Keep each file's ID3 version", 0), ("ID3v2.4", 4), ("ID3v2.3", 3))
# The settings' own words ("fill", "auto") said little: each choice says what it does.
POLICY_CHOICES = (("Fill: files with no genre of yours (none, Unknown, or one Genre Tagger wrote)", "fill"),
                  ("Replace: every file's genre", "replace"), ("Never: keep genres in the library only", "never"))
DEVICE_CHOICES = (("Automatic: a GPU when there is one", "auto"), ("CPU", "cpu"), ("GPU (CUDA)", "cuda"))


def choose_music_folder(parent) -> str:
    """Ask for a music folder, starting in the user's Music folder (else home); '' when cancelled."""
    music = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MusicLocation)
    start = music if music and Path(music).is_dir() else str(Path.home())  # not the process's working folder
    return QFileDialog.getExistingDirectory(parent, "Add a music folder", start)


def choices_box(choices, current) -> QComboBox:
    """A combo box of (shown text, stored value) pairs, on the current value (the first when unknown)."""
    box = QComboBox()
    for text, value in choices:
        box.addItem(text, value)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


def choose_folder_to_leave_out(parent, start: str) -> str:
    """Ask for a folder inside the music folders to leave out of the library; '' when cancelled."""
    return QFileDialog.getExistingDirectory(parent, "Leave a folder out of the library", start)


def choose_folder_to_leave(parent, folders: list[str]) -> str:
    """Ask which of `folders` (a track's folder, then those above it) to leave out of the library; '' when
    cancelled."""
    folder, ok = QInputDialog.getItem(parent, "Leave Out a Folder",
                                      "Scans skip this folder and its tracks leave the library; the genres you set on "
                                      "them are kept, for when Settings takes it back:", folders, 0, False)
    return folder if ok else ""


class CheckListDialog(QDialog):
    """A question about several things at once: each a checkable line, checked or not to start with."""

    def __init__(self, title: str, words: str, items: list[tuple[str, str]], checked: bool, answer: str, later: str,
                 parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        label = QLabel(words)
        label.setWordWrap(True)
        self.listing = QListWidget()
        for text, value in items:  # (what the line says, what it stands for)
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.listing.addItem(item)
        buttons = QDialogButtonBox()
        buttons.addButton(answer, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(later, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (label, self.listing, buttons):
            layout.addWidget(widget)
        self.resize(640, 320)

    def _values(self, state: Qt.CheckState) -> list[str]:
        items = (self.listing.item(row) for row in range(self.listing.count()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == state]

    def checked(self) -> list[str]:
        """What the checked lines stand for."""
        return self._values(Qt.CheckState.Checked)

    def unchecked(self) -> list[str]:
        """What the unchecked lines stand for."""
        return self._values(Qt.CheckState.Unchecked)


class SpokenWordDialog(CheckListDialog):
    """Folders that look like spoken word (audiobooks, podcasts), each checked to leave it out of the library or
    unchecked to keep it as music; Ask Later decides nothing."""

    def __init__(self, folders: list, parent=None):
        super().__init__("Audiobooks or Podcasts?",
                         "These folders look like spoken word rather than music. Checked ones leave the library: scans "
                         "skip them and no genre is written to them (Settings takes them back). Unchecked ones stay as "
                         "music and are not asked about again.",
                         [(f"{f.path}  ({count(f.tracks, 'track')}; {f.reason})", f.path) for f in folders], True,
                         "Apply", "Ask Later", parent)

    def left_out(self) -> list[str]:
        """The folders checked: to leave out of the library."""
        return self.checked()

    def kept(self) -> list[str]:
        """The folders unchecked: music, not asked about again."""
        return self.unchecked()


def ask_folder_genres(parent, unnamed: dict[str, int]) -> list[str]:
    """Ask which folder names (with how many tracks with no genre of their own each holds) are genres no list
    names ("Schlager"); the names checked ([] for none, or Skip)."""
    dialog = CheckListDialog("Folders Named for Genres?",
                             "These folders hold tracks with no genre of their own, and their names are no genre "
                             "Genre Tagger knows. Check the ones named for a genre (Schlager, Volksmusik): their tracks "
                             "are learned as that genre (Settings takes one back).",
                             [(f"{name}  ({count(n, 'track')})", name) for name, n in unnamed.items()], False,
                             "Learn These Too", "Skip", parent)
    return dialog.checked() if dialog.exec() == QDialog.DialogCode.Accepted else []


def ask_about_spoken_word(parent, folders: list) -> tuple[list[str], list[str]] | None:
    """Ask which folders that look like spoken word to leave out: (to leave out, to keep as music), or None for
    Ask Later."""
    dialog = SpokenWordDialog(folders, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.left_out(), dialog.kept()


def take_selected(listing: QListWidget) -> None:
    """Remove the selected rows of a list."""
    for item in listing.selectedItems():
        listing.takeItem(listing.row(item))


def list_texts(listing: QListWidget) -> list[str]:
    """The lines of a list, top to bottom."""
    return [listing.item(i).text() for i in range(listing.count())]


def answers_list(items: list[str], button_text: str, tip: str, button_tip: str) -> tuple[QListWidget, QPushButton]:
    """A short list of the listener's answers and the button that takes the selected ones back (out of the list)."""
    listing = QListWidget()
    listing.addItems(items)
    listing.setMaximumHeight(listing.sizeHintForRow(0) * 3 + 8 if items else 60)
    listing.setToolTip(tip)
    button = QPushButton(button_text)
    button.setToolTip(button_tip)
    button.clicked.connect(lambda: take_selected(listing))
    return listing, button


class SettingsDialog(QDialog):
    """Folders (those left out, those kept as music, names counted as genres), model, device, policy, threshold,
    multi-genre, one genre per album, ID3 version and whether written files keep their modification times."""

    def __init__(self, settings, model_describer, parent=None, per_album: bool = False, left_out: list[str] = (),
                 kept: list[str] = (), folder_genres: list[str] = ()):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings, self.describe = settings, model_describer
        self.folders = QListWidget()
        self.folders.addItems(settings.folders)
        add, remove = QPushButton("Add folder…"), QPushButton("Remove")
        add.clicked.connect(self._add_folder)
        remove.clicked.connect(lambda: take_selected(self.folders))
        # A library's own setting (the command line's `folders` too): audiobooks, podcasts inside a music folder.
        self.left_out = QListWidget()
        self.left_out.addItems(left_out)
        self.left_out.setMaximumHeight(self.left_out.sizeHintForRow(0) * 4 + 8 if left_out else 60)
        self.left_out.setToolTip("Folders inside your music folders that scans skip (audiobooks, podcasts); their "
                                 "tracks leave the library, their corrections kept for when one is taken back")
        leave, take_back = QPushButton("Leave out a folder…"), QPushButton("Take back")
        leave.clicked.connect(self._leave_out_folder)
        take_back.clicked.connect(lambda: take_selected(self.left_out))
        self.left_out_buttons = (leave, take_back)
        self.left_out_note = plain_label("")
        self.left_out_note.setWordWrap(True)
        self.left_out_note.hide()
        # Answers the listener gave elsewhere, listed (only where there are some) to be taken back: folders the
        # spoken-word question was answered "music" for, and folder names counted as genres no list names.
        self.kept, self.ask_again = answers_list(kept, "Ask again", "Folders you said are music though they look like "
                                                 "audiobooks or podcasts: scans do not ask about them",
                                                 "The next scan asks about the selected folders again")
        self.genre_names, self.not_genres = answers_list(
            folder_genres, "Not a genre", "Folder names you said are genres (Learn From Genre Folders): folders so "
            "named teach that genre", "Folders so named teach no genre from now on")
        self.model_path = plain_label(settings.model_path or "(default)")
        self.model_info = plain_label(model_describer(settings.model_path))
        self.model_info.setWordWrap(True)
        browse = QPushButton("Choose model…")
        browse.clicked.connect(self._choose_model)
        # Once a model was chosen there was no way back to the automatic choice but editing the settings file.
        self.default_model = QPushButton("Use the default")
        self.default_model.setToolTip("Your library's learned model when it has one, else the shipped model")
        self.default_model.clicked.connect(self._use_default_model)
        self.default_model.setEnabled(bool(settings.model_path))
        self.device = choices_box(DEVICE_CHOICES, settings.device)
        self.policy = choices_box(POLICY_CHOICES, settings.policy)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(settings.threshold)
        self.multi = QCheckBox("Write several genres when the model is torn")
        self.multi.setChecked(settings.multi_genre)
        self.id3 = choices_box(ID3_CHOICES, settings.id3_version)
        self.keep_times = QCheckBox("Keep files' modification times")
        self.keep_times.setToolTip("A file given a genre keeps the date it was last modified, for players and file "
                                   "managers that sort by it; a backup that goes by size and date may then miss the "
                                   "new tag")
        self.keep_times.setChecked(settings.keep_times)
        self.provenance = QCheckBox("Note in each file that Genre Tagger chose its genre")
        self.provenance.setToolTip("A GENRE_TAGGER field beside the genre (\"Genre Tagger: Rock 0.93\", or \"corrected "
                                   "by hand\"): a library made again, or another computer's, then never learns "
                                   "Genre Tagger's guesses as your genres")
        self.provenance.setChecked(settings.write_provenance)
        # A setting of the library, not of this window (the command line follows it too): the window applies it.
        self.per_album = QCheckBox("One genre per album (this library)")
        self.per_album.setToolTip("Every track of an album shows, and is written with, the genre you gave most of it, "
                                  "else the one its tracks share; a compilation's tracks keep their own")
        self.per_album.setChecked(per_album)
        self.watch = QCheckBox("Scan new music as it arrives")
        self.watch.setToolTip("While the window is open, music files added to, removed from or renamed in these "
                              "folders are scanned a few seconds after copying ends")
        self.watch.setChecked(settings.watch_folders)
        folder_buttons = QWidget()
        fb = QHBoxLayout(folder_buttons)
        fb.setContentsMargins(0, 0, 0, 0)
        fb.addWidget(add)
        fb.addWidget(remove)
        form = QFormLayout()
        form.addRow("Music folders", self.folders)
        form.addRow("", folder_buttons)
        form.addRow("Left out", self.left_out)
        left_out_buttons = QWidget()
        lb = QHBoxLayout(left_out_buttons)
        lb.setContentsMargins(0, 0, 0, 0)
        lb.addWidget(leave)
        lb.addWidget(take_back)
        form.addRow("", left_out_buttons)
        form.addRow("", self.left_out_note)
        for title, listing, button in (("Kept as music", self.kept, self.ask_again),
                                       ("Folder genres", self.genre_names, self.not_genres)):
            if listing.count():
                form.addRow(title, listing)
                form.addRow("", button)
        form.addRow("", self.watch)
        form.addRow("Model", self.model_path)
        form.addRow("", self.model_info)
        model_buttons = QWidget()
        mb = QHBoxLayout(model_buttons)
        mb.setContentsMargins(0, 0, 0, 0)
        mb.addWidget(browse)
        mb.addWidget(self.default_model)
        form.addRow("", model_buttons)
        form.addRow("Run on", self.device)
        form.addRow("Write policy", self.policy)
        form.addRow("Uncertain below", self.threshold)
        form.addRow("", self.multi)
        form.addRow("", self.per_album)
        form.addRow("MP3 tags", self.id3)
        form.addRow("", self.keep_times)
        form.addRow("", self.provenance)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _add_folder(self):
        folder = choose_music_folder(self)
        if folder and folder not in self.music_folders():  # the same folder twice would be listed (and removed) twice
            self.folders.addItem(folder)

    def set_left_out_editable(self, editable: bool) -> None:
        """Let the folders left out be changed, or not (a library on read-only media)."""
        for widget in (self.left_out, *self.left_out_buttons, self.kept, self.ask_again, self.genre_names,
                       self.not_genres):
            widget.setEnabled(editable)

    def music_folders(self) -> list[str]:
        """The music folders as the dialog lists them now."""
        return list_texts(self.folders)

    def left_out_folders(self) -> list[str]:
        """The folders left out as the dialog lists them now."""
        return list_texts(self.left_out)

    def kept_folders(self) -> list[str]:
        """The folders kept as music as the dialog lists them now."""
        return list_texts(self.kept)

    def folder_genres(self) -> list[str]:
        """The folder names counted as genres as the dialog lists them now."""
        return list_texts(self.genre_names)

    def _leave_out_folder(self):
        music = self.music_folders()
        folder = choose_folder_to_leave_out(self, music[0] if music else str(Path.home()))
        if not folder:
            return
        folder = str(Path(folder).absolute())
        inside = [m for m in music if within([m])(folder) and Path(folder) != Path(m).absolute()]
        if not inside:  # a whole music folder is removed, not left out; one elsewhere is never scanned anyway
            self.left_out_note.setText(f"{folder} is not inside one of your music folders: choose a folder inside one"
                                       " (to stop scanning a whole music folder, Remove it above)")
            self.left_out_note.show()
            return
        self.left_out_note.hide()
        if not within(self.left_out_folders())(folder):  # listed already, or inside one listed
            self.left_out.addItem(folder)

    def _choose_model(self):
        path, _ = QFileDialog.getOpenFileName(self, "Choose a genre model", "", "ONNX models (*.onnx)")
        if path:
            self.model_path.setText(path)
            self.model_info.setText(self.describe(path))
            self.default_model.setEnabled(True)

    def _use_default_model(self):
        self.model_path.setText("(default)")
        self.model_info.setText(self.describe(""))
        self.default_model.setEnabled(False)

    def apply(self) -> None:
        """Copy the dialog's values into the settings."""
        s = self.settings
        s.folders = self.music_folders()
        s.model_path = "" if self.model_path.text() == "(default)" else self.model_path.text()
        s.device, s.policy, s.threshold = self.device.currentData(), self.policy.currentData(), self.threshold.value()
        s.multi_genre, s.id3_version = self.multi.isChecked(), self.id3.currentData()
        s.watch_folders, s.keep_times = self.watch.isChecked(), self.keep_times.isChecked()
        s.write_provenance = self.provenance.isChecked()
        s.save()
