"""Learning from the window: Learn My Genres and its relearns, genre folders, one genre per album."""

from __future__ import annotations

import functools

from PySide6.QtCore import QSignalBlocker, QTimer
from PySide6.QtWidgets import QMessageBox

from desktop.core.errors import GenreTaggerError
from desktop.core.wording import count
from desktop.services.album_genres import set_album_genres
from desktop.services.learning import LearnCancelled, learn, set_folder_genres, set_genre_folders
from desktop.services.models import resolve_model, user_models_dir
from desktop.ui.dialogs import ask_folder_genres
from desktop.ui.learn_dialog import LearnReportDialog
from desktop.ui.window_words import FOLDERS_HINT
from desktop.ui.workers import Job, background, start_job

UNNAMED_ASKED = 30  # folders named for no genre offered as genres, the largest first (an artist/album library has hundreds)


class LearnActions:
    """Learning from the window: mixed into MainWindow, whose widgets, settings and sessions it uses."""

    # ---- learning the listener's genres ---------------------------------------------------------
    def learn_genres_asked(self):
        """Learn My Genres: learn, then show the report (a relearn after corrections only updates the status)."""
        self._report_learn = True
        return self.learn_genres()

    def learn_genres(self, activate: bool | None = None):
        """Learn the library's own genres in the background; say what was learned. During a scan it waits
        for the scan: a model made active halfway would leave the scan's last tracks under the old one.
        `activate`: True uses the learned model whatever the figures say (None: they decide)."""
        if self.learn_job is not None or self._refused_read_only():
            return None
        if self.scan_job is not None:
            self._deferred["scan"] = functools.partial(self.learn_genres, activate)
            self.statusBar().showMessage("Learning your genres when the scan is done…", 6000)
            return None
        try:
            base = resolve_model(self.settings.model_path or None)
        except (GenreTaggerError, ValueError) as exc:
            self.report_problem("model", getattr(exc, "reason", str(exc)))
            return None
        sessions, out_dir = self.sessions, user_models_dir()
        self.progress_label.setText("Learning your genres…")
        self.progress.setRange(0, 0)  # busy: it says its steps, seconds each on a large library, and can be cancelled
        self.progress.show()
        self.cancel_button.show()
        self.learn_job = Job(lambda report, cancel: learn(sessions, base, out_dir, activate=activate, stage=report.stage,
                                                          how_to_use_folders=FOLDERS_HINT, cancel=cancel), "learn")
        self.learn_job.staged.connect(self._learn_stage)  # each step in words: seconds each on a large library
        self.learn_job.finished.connect(self._learn_finished)
        self.learn_job.failed.connect(self._learn_failed)
        start_job(self.learn_job)
        return self.learn_job

    def _learn_stage(self, text: str):
        if self.learn_job is not None and not self.learn_job.cancel_event.is_set():  # "Stopping…" stays
            self.progress_label.setText(text)

    def _learn_done(self):
        self.learn_job = None
        self.progress.hide()  # a scan asked for meanwhile waited for this learn (start_scan), and shows its own
        self.cancel_button.hide()

    def _schedule_relearn(self, _result=None):
        self._relearn_timer.start()

    def _relearn(self):
        if self.learn_job is not None or self.write_busy:
            self._relearn_timer.start()  # try again once the write or the last learn is done
            return
        self.learn_genres()

    def _learn_finished(self, report):
        self._learn_done()
        self.last_learned = report.summary() + ("" if report.activated else f"; not used: {report.why}")
        self.progress_label.setText(self.last_learned)
        self.load_model_labels()
        self.reload_rows()  # every track's genre and confidence may have changed
        if self._report_learn:  # asked for: what was learned, what was left out, and the choice to use it
            self._report_learn = False
            offer = self.album_genres_action.isEnabled() and not self.album_genres_action.isChecked()
            dialog = self.learn_report = LearnReportDialog(report, self, offer_albums=offer)
            # This dialog's choice (a report still open from an earlier learn answers for its own learn).
            dialog.finished.connect(lambda _result: dialog.use_anyway and self.learn_genres(activate=True))
            dialog.share_albums.connect(self._share_albums_from_report)
            dialog.count_folder_genres.connect(lambda: self.offer_folder_genres(report.unnamed))
            dialog.open()
        self._run_deferred("learn")

    def _learn_failed(self, message: str):
        cancelled = isinstance(self.learn_job.error, LearnCancelled)
        self._learn_done()
        if cancelled:  # the listener's own choice: no problem to report, no dialog
            self._report_learn = False
            self.last_learned = message
            self.progress_label.setText("Learning stopped; nothing changed")
            self._run_deferred("learn")
            return
        if self._report_learn:  # asked for: the reason where the listener is looking, not only in the problems panel
            self._report_learn = False
            self.learn_problem = QMessageBox(QMessageBox.Icon.Information, "Nothing learned yet", message,
                                             QMessageBox.StandardButton.Close, self)
            self.learn_problem.open()
        self.last_learned = message
        self.progress_label.setText("Nothing learned yet")
        self.report_problem("learn", message)
        self._run_deferred("learn")

    # ---- one genre per album ---------------------------------------------------------------------
    def _share_albums_from_report(self):
        if not self.album_genres_action.isChecked() and self.album_genres_action.isEnabled():
            self.album_genres_action.trigger()  # as Edit > One Genre per Album

    def learn_from_genre_folders(self, on: bool):
        """Learn From Genre Folders (a setting of the library): a track with no genre of its own is learned as its
        genre folder's name; then learned again."""
        sessions, threshold = self.sessions, self.settings.threshold
        self.genre_folders_action.setEnabled(False)  # one change at a time
        self.folders_job = background(lambda: set_genre_folders(sessions, on, threshold), "genre folders",
                                      self._genre_folders_set, self._genre_folders_failed)
        return self.folders_job

    def _genre_folders_set(self, change):
        self.folders_job = None
        self.genre_folders_action.setEnabled(True)
        on = self.genre_folders_action.isChecked()
        self.progress_label.setText(
            f"Learning from genre folders: {count(change.foldered, 'track')} take their folder's genre" if on else
            "No longer learning from genre folders: nothing else teaches two genres, so the shipped model's are back"
            if change.set_aside else "No longer learning from genre folders")
        self.load_model_labels()
        self.reload_rows()  # an album's genre may follow
        if on and change.unnamed:  # asked once the job's signal is handled, not inside it
            self._unnamed_found = dict(list(change.unnamed.items())[:UNNAMED_ASKED])
            QTimer.singleShot(0, self._ask_folder_genres)  # a bound method: dropped with the window if it closes first
        elif on:  # what was learned from the folders, where the listener looks
            self.learn_genres_asked()
        elif self.learned_model_in_use() and not change.set_aside:  # learned again without them
            self.learn_genres()

    def _ask_folder_genres(self):
        """Which folders named for no genre it knows are genres (Schlager); then learn from them all, and show it."""
        if names := ask_folder_genres(self, self._unnamed_found):
            self.count_folder_genres(names)  # then learns
        else:
            self.learn_genres_asked()

    def offer_folder_genres(self, unnamed: dict[str, int]):
        """The learn report's Folder Genres…: which of `unnamed` (labels.unnamed_folders) are genres; those checked
        teach them, and the learn with them shows its report (none checked: nothing changes)."""
        self._unnamed_found = dict(list(unnamed.items())[:UNNAMED_ASKED])
        QTimer.singleShot(0, self._offer_folder_genres)  # once the report's button is handled

    def _offer_folder_genres(self):
        if names := ask_folder_genres(self, self._unnamed_found):
            self.count_folder_genres(names)

    def count_folder_genres(self, names: list[str], on: bool = True):
        """Folders named `names` (genres no list knows: "Schlager") teach those genres, then learn and show it; or
        (not `on`, from Settings) no longer, then scan as Settings does and learn again where a learned model is in
        use."""
        sessions, threshold = self.sessions, self.settings.threshold
        self.genre_folders_action.setEnabled(False)
        done, failed = ((self._folder_genres_counted, self._folder_genres_failed) if on else
                        (self._folder_genres_uncounted, self._folder_genres_uncount_failed))  # bound: go with the window
        self.folders_job = background(lambda: set_folder_genres(sessions, names, on, threshold), "genre folders",
                                      done, failed)
        return self.folders_job

    def _folder_genres_counted(self, _kept):
        self.folders_job = None
        self.genre_folders_action.setEnabled(True)
        self.reload_rows()
        self.learn_genres_asked()

    def _folder_genres_uncounted(self, _kept):
        self.folders_job = None
        self.genre_folders_action.setEnabled(True)
        self.reload_rows()
        self.start_scan()  # Settings' scan, held back for this
        if self.learned_model_in_use():
            self.learn_genres()  # after the scan: it waits for it

    def _folder_genres_failed(self, message: str):
        self.folders_job = None
        self.genre_folders_action.setEnabled(True)
        self.report_problem("genre folders", message)

    def _folder_genres_uncount_failed(self, message: str):
        self._folder_genres_failed(message)
        self.start_scan()  # Settings' scan, held back for this

    def _genre_folders_failed(self, message: str):
        with QSignalBlocker(self.genre_folders_action):  # as the library still has it
            self.genre_folders_action.setChecked(not self.genre_folders_action.isChecked())
        self._folder_genres_failed(message)

    def share_album_genres(self, on: bool):
        """One Genre per Album (a setting of the library): its tracks show their album's genre, or their own again."""
        sessions, threshold = self.sessions, self.settings.threshold
        self.progress_label.setText("Giving every album one genre…" if on else "Giving every track its own genre…")
        self.album_genres_action.setEnabled(False)  # one change at a time: a second would race the first
        self.albums_job = background(lambda: set_album_genres(sessions, on, threshold), "albums",
                                     self._album_genres_set, self._album_genres_failed)
        return self.albums_job

    def _album_genres_set(self, changed: int):
        self.albums_job = None
        self.album_genres_action.setEnabled(True)
        on = self.album_genres_action.isChecked()
        self.progress_label.setText(f"One genre per album: {count(changed, 'track')} changed to their album's genre" if on
                                    else f"Every track shows its own genre again ({count(changed, 'track')} changed)")
        self.reload_rows()
        again, self._review_after_albums = self._review_after_albums, None
        if again and on:  # turned on from Apply Predicted Genres' review: the changes it makes now are shown
            self._plan_and_review(*again)

    def _album_genres_failed(self, message: str):
        self.albums_job = None
        self._review_after_albums = None
        self.album_genres_action.setEnabled(True)
        with QSignalBlocker(self.album_genres_action):  # as the library still has it
            self.album_genres_action.setChecked(not self.album_genres_action.isChecked())
        self.progress_label.setText("")
        self.report_problem("albums", message)
