"""Writing from the window: corrections, applying predictions, undo; one writer at a time, off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QGuiApplication

from desktop.core.progress_text import scan_progress
from desktop.core.scan import within
from desktop.core.wording import count
from desktop.services.album_genres import against_your_albums
from desktop.services.library import Library
from desktop.services.tagging import TagService, hold_back
from desktop.ui.column_fit import shown_columns
from desktop.ui.dialogs import choose_folder_to_leave
from desktop.ui.file_links import copy_paths, show_in_folder
from desktop.ui.history_dialog import WriteHistoryDialog
from desktop.ui.review_dialog import ReviewDialog
from desktop.ui.window_words import kept_words, stopped_words, tab_separated
from desktop.ui.workers import background

# Apply Predicted Genres writes nothing under the policy "never"; this writes a genre set by hand under every policy.
AWAY_UNWRITTEN = ("on a drive not connected, so not written now: its genre is set, and Apply Predicted Genre to "
                  "Selection writes it once the drive is back")
WRITE_PROGRESS_AFTER_MS = 400  # a write still running after this shows its progress and Stop


class Planned(NamedTuple):
    """What Apply would write (`changes`, some `against` the genre the listener gave their albums), and what waits:
    the predictions `held` in the folders that look like spoken word (`spoken`, asked about first), and the changes
    `away` on a drive not connected (its music folders `drives`)."""
    changes: list
    held: list
    spoken: list
    against: object
    away: list
    drives: list[str]


class WriteActions:
    """Writing from the window: mixed into MainWindow, whose widgets, settings and sessions it uses."""

    # ---- writing (one writer at a time, off the GUI thread) ---------------------------------
    def tag_service(self) -> TagService:
        """A TagService with the current settings."""
        return TagService(self.sessions, self.settings.tagging())

    def run_write(self, fn, done_text: str | Callable[[object], str], also_finished: tuple = (), doing: str = "Writing tags"):
        """Run a write/undo function, fn(report, cancel), on the single writer thread; its progress shows as `doing`
        with Stop once it runs a moment; report its result (`done_text`, or made from it)."""
        if self._refused_read_only():
            return None
        if self.write_busy:
            self.statusBar().showMessage("A write is still running", 3000)
            return None
        self.write_busy, self._write_text, self._write_doing = True, done_text, doing
        self.write_job = background(fn, "write", self._write_finished, self._write_failed, also_finished,
                                    progress=self._write_progress)
        QTimer.singleShot(WRITE_PROGRESS_AFTER_MS, self._show_write_progress)  # a quick write shows nothing
        return self.write_job

    def _show_write_progress(self):
        if self.write_job is None:
            return
        if not self.write_label.text():
            self.write_label.setText(f"{self._write_doing}…")
            self.write_progress.setRange(0, 0)
        for widget in self._write_widgets:
            widget.show()
        self.write_stop.setEnabled(True)

    def _write_progress(self, done: int, total: int, rate: float):
        self.write_progress.setRange(0, total)
        self.write_progress.setValue(done)
        self.write_label.setText(f"{self._write_doing}: {scan_progress(done, total, rate, noun='files')}")

    def stop_write(self):
        """Stop the running write or undo after the file in hand; what is done stays (and can be undone)."""
        if self.write_job is not None:
            self.write_job.cancel()
            self.write_stop.setEnabled(False)
            self.write_label.setText("Stopping…")

    def _write_done(self):
        self.write_busy, self.write_job = False, None
        for widget in self._write_widgets:
            widget.hide()
        self.write_label.clear()
        QTimer.singleShot(0, self._scan_changed_music)  # after the write's own refresh

    def _write_finished(self, result):
        self._write_done()
        for path, reason in getattr(result, "failed", []):
            # A genre set on a greyed track stands: the file takes it once the drive is back (AWAY_UNWRITTEN).
            self.report_problem(path, AWAY_UNWRITTEN if self.table_model.is_away(path) else reason)
        for path, reason in getattr(result, "refused", []):  # an undo's: said of its genre set, AWAY_UNWRITTEN misled
            self.report_problem(path, reason)
        self.refresh_changed()
        text = stopped_words(result) or (self._write_text(result) if callable(self._write_text) else self._write_text)
        self.statusBar().showMessage(text, 8000)

    def _write_failed(self, message: str):
        self._write_done()
        self.report_problem("write", message)
        self.refresh_changed()

    def correct(self, track_ids: list[int], genre: str):
        """Record a hand correction for tracks, write it to their files (journalled)."""
        # From the table's rows, as the other actions on the selection: reading each track from the database held the
        # window 11 s for all of 100,000 (0.11 s for 1,000). A track a scan took out meanwhile is left out.
        paths = [row.path for row in map(self.table_model.track, track_ids) if row is not None]
        if not paths:
            return None
        service = self.tag_service()
        return self.run_write(lambda report, cancel: service.correct(paths, genre, source="gui", progress=report, cancel=cancel),
                              f"Set {count(len(paths), 'track')} to {genre}", also_finished=self._relearn_after())

    def correct_files(self, paths: list[str], genre: str):
        """Files and folders dropped from a file manager onto a genre: the library's tracks among them get it, as
        tracks dragged from the table do; a file or folder holding none of its tracks is named in Problems."""
        dropped = within(paths)
        # Present tracks, shown or filtered out: a folder's every track.
        found = {row.path: row.id for row in self.table_model.all_rows() if dropped(row.path)}
        for path in paths:  # a file found is looked up; a folder's tracks are among those found
            if str(Path(path).expanduser().absolute()) not in found and not any(map(within([path]), found)):
                self.report_problem(path, "not in the library, so its genre was not set: add its folder first "
                                          "(drop it on the table, or File → Add Folder…)")
        return self.correct(list(found.values()), genre) if found else None

    def _relearn_after(self) -> tuple:
        """`also_finished` for a write that changes labels (corrections): a relearn where a learned model is in use."""
        return (self._schedule_relearn,) if self.learned_model_in_use() else ()

    def _update_selection_actions(self, *_):
        selected = self.table.selectionModel().hasSelection()
        for action in self.selection_actions:
            action.setEnabled(selected and not (self.read_only and action in self.changing_selection_actions))

    def track_menu_actions(self) -> list[QAction | None]:
        """The table's right-click menu: what can be done with the selected tracks (None: a separator)."""
        return [self.set_genre_action, self.keep_action, self.forget_action, self.apply_selection_action, self.play_action, None,
                self.show_folder_action, self.copy_action, self.copy_paths_action, None, self.leave_out_action]

    def _table_menu(self, pos):
        if not self.table.indexAt(pos).isValid():
            return
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        for action in self.track_menu_actions():
            menu.addSeparator() if action is None else menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def selected_paths(self) -> list[str]:
        """Paths of the selected rows, in the table's order."""
        return [self.shown_row(row).path for row in self.table.selected_rows()]

    def forget_selected_corrections(self):
        """Forget the genres set by hand on the selected tracks (files unchanged): their predictions show again."""
        paths, service = self.selected_paths(), self.tag_service()
        return self.run_write(lambda _report, _cancel: service.forget_corrections(paths)[0], lambda forgotten: (
            f"Forgot the genre set by hand of {count(len(forgotten), 'track')}; predictions show again (files unchanged)"
            if forgotten else "No genre set by hand among the selected tracks"), also_finished=self._relearn_after())

    def keep_selected_file_genres(self):
        """The selected tracks keep the genre their own tags say, as set by hand (the tag was right, the prediction
        not): one step for tracks of different genres, where Set Genre… gives them all one. Files unchanged."""
        paths, service = self.selected_paths(), self.tag_service()
        return self.run_write(lambda _report, _cancel: service.keep_file_genres(paths, source="gui"), kept_words,
                              also_finished=self._relearn_after(), doing="Keeping the files' genres")

    def show_selected_in_folder(self):
        """Show the (first) selected track in the file manager, selected in its folder."""
        paths = self.selected_paths()
        if paths:
            show_in_folder(paths[0], lambda why: self.report_problem(paths[0], f"cannot show it in its folder: {why}"), self)

    def leave_out_selected_folder(self):
        """Leave the (first) selected track's folder, or a folder above it inside its music folder, out of the
        library: the next scan sets it, and its tracks leave the table."""
        paths = self.selected_paths()
        if not paths or self._refused_read_only():
            return
        folder = Path(paths[0]).parent
        music = next((Path(m).expanduser().absolute() for m in self.settings.folders if within([m])(str(folder))), None)
        above = [folder, *folder.parents]
        candidates = [str(f) for f in above[:above.index(music)]] if music in above else [str(folder)]
        if not candidates:  # the track lies in a music folder itself
            self.statusBar().showMessage(f"{folder} is one of your music folders: Settings removes it", 10000)
            return
        chosen = choose_folder_to_leave(self, candidates)
        if not chosen:
            return
        self._left_out = sorted({*self.left_out_folders(), chosen})
        self.statusBar().showMessage(f"Leaving out {chosen}: its tracks leave the library (Settings takes it back)", 10000)
        self.start_scan()  # or, while one runs, the one after it

    def copy_selected_paths(self):
        """Copy the selected tracks' paths to the clipboard, one per line, in the table's order."""
        paths = self.selected_paths()
        if paths:
            copy_paths(paths)
            self.statusBar().showMessage(f"Copied {count(len(paths), 'path')}", 3000)

    def copy_selected_rows(self):
        """Copy the selected tracks as the table shows them: a line each, the shown columns in their order, tab
        between (a spreadsheet takes them as rows and columns)."""
        columns = shown_columns(self.table.horizontalHeader())
        rows = [self.shown_row(row) for row in self.table.selected_rows()]
        if rows:
            QGuiApplication.clipboard().setText(tab_separated([[row.cell(c) for c in columns] for row in rows]))
            self.statusBar().showMessage(f"Copied {count(len(rows), 'track')}", 3000)

    def set_genre_for_selection(self):
        """Assign one genre to every selected track."""
        self.set_genre_for_tracks(self.selected_track_ids())

    def review_and_apply(self):
        """Plan the changes in the background (seconds at 100,000 tracks), then show them; write only what the
        listener accepts. Predictions for folders that look like spoken word wait for the listener's answer."""
        service, library = self.tag_service(), Library(self.sessions)

        def plan() -> tuple[list, list, list]:
            spoken = library.spoken_word()
            changes, held = hold_back(service.plan(), [f.path for f in spoken])
            return changes, held, [f for f in spoken if any(within([f.path])(c.path) for c in held)]

        return self._plan_and_review(plan, "Nothing to write under the current policy", None)

    def review_and_apply_selection(self):
        """Apply Predicted Genre to Selection: the selected tracks' genres (confident prediction, or correction)
        whatever their files say now, as asked for by hand, each shown for review before anything is written."""
        ids = self.selected_track_ids()
        if not ids:
            return None
        service = self.tag_service()

        def plan() -> tuple[list, list, list]:  # asked for by hand: nothing held back
            return service.plan(ids, "replace"), [], []

        return self._plan_and_review(plan, "Nothing to write: the selected files already say their genre, or its "
                                     "prediction is uncertain (set one with Set Genre…)", "applied to selected tracks")

    def _plan_and_review(self, plan: Callable[[], tuple[list, list, list]], nothing: str, description: str | None):
        if self.plan_job is not None or self._refused_read_only():
            return None
        # Read by _plan_ready (background() takes bound methods only), and asked again after One Genre per Album is
        # turned on from the review.
        self._plan_asked = (plan, nothing, description)
        sessions = self.sessions

        def plan_and_albums() -> Planned:
            changes, held, spoken = plan()
            # A drive not connected is no place to write (each file "not found"): its changes wait for it.
            drives = Library(sessions).unplugged()
            on_drive = within(drives)
            away = [c for c in changes + held if on_drive(c.path)]
            changes, held = [c for c in changes if not on_drive(c.path)], [c for c in held if not on_drive(c.path)]
            with sessions() as s:  # predictions against the genre the listener gave their albums: the review says so
                return Planned(changes, held, spoken, against_your_albums(s, changes), away,
                               [d for d in drives if any(within([d])(c.path) for c in away)])

        self.statusBar().showMessage("Planning the changes…")
        self.plan_job = background(plan_and_albums, "plan", self._plan_ready, self._plan_failed)
        return self.plan_job

    def _plan_ready(self, planned: Planned):
        self.plan_job = None
        changes = planned.changes
        _plan, nothing, description = self._plan_asked
        waiting = []
        if planned.held:  # the listener asked to write: asked now, also after Ask Later
            kept = self._ask_spoken(planned.spoken)
            changes = sorted(changes + [c for c in planned.held if kept and within(kept)(c.path)], key=lambda c: c.path)
            if kept is None:
                waiting.append(f"{count(len(planned.held), 'track')} in folders that look like spoken word wait for "
                               "your answer (asked again at the next Apply)")
        if planned.away:
            waiting.append(f"{count(len(planned.away), 'track')} on a drive not connected "
                           f"({', '.join(planned.drives)}) wait: connect it and Apply again")
        if not changes:
            self.statusBar().showMessage("; ".join([nothing, *waiting]), 10000)
            return
        if waiting:
            self.statusBar().showMessage("; ".join(waiting), 10000)
        else:
            self.statusBar().clearMessage()
        dialog = ReviewDialog(changes, self, against=planned.against if self.album_genres_action.isEnabled() else None)
        if dialog.exec() == ReviewDialog.DialogCode.Accepted:
            self.apply_changes(dialog.accepted_changes(), description)
        elif dialog.share_albums and self.album_genres_action.isEnabled() and not self.album_genres_action.isChecked():
            # Nothing written: the albums get their genre, then the changes are shown again.
            self._review_after_albums = self._plan_asked
            self.album_genres_action.trigger()  # as Edit > One Genre per Album

    def _plan_failed(self, message: str):
        self.plan_job = None
        self.statusBar().clearMessage()
        self.report_problem("apply", message)

    def apply_changes(self, changes, description: str | None = None):
        """Write accepted changes as one batch (`description` names it in the undo list)."""
        service = self.tag_service()
        description = description or f"applied from the app ({self.settings.policy})"
        return self.run_write(lambda report, cancel: service.apply(changes, description, progress=report, cancel=cancel),
                              lambda result: f"Wrote {count(len(result.written), 'file')}")

    def undo_last(self):
        """Undo the newest batch of writes."""
        return self.undo_batch(None)

    def show_write_history(self):
        """Edit > Write History: the batches of writes; undo the one chosen (an older one too, as `undo --batch`)."""
        service = self.tag_service()
        dialog = self.history_dialog = WriteHistoryDialog(service.batches(limit=500), self, can_undo=not self.read_only)
        dialog.accepted.connect(lambda: dialog.chosen is not None and self.undo_batch(dialog.chosen))
        dialog.open()
        return dialog

    def undo_batch(self, batch_id: int | None):
        """Undo one batch of writes (None: the newest); files changed since are named in the problems panel."""
        service = self.tag_service()
        done = "Undo done" if batch_id is None else f"Undid batch {batch_id}"

        def said(result) -> str:  # an undo of a correction's write forgets the correction too
            # "Undo done" was said of an undo that restored nothing, every file refused (a drive not connected).
            refused = (f": restored {count(len(result.restored), 'file')}, refused {len(result.refused)} (named in "
                       "Problems; undo again once they can be)" if result.refused else "")
            return done + refused + (f"; took back {count(result.corrections, 'genre')} set by hand"
                                     if result.corrections else "")

        return self.run_write(lambda report, cancel: service.undo(batch_id, progress=report, cancel=cancel), said,
                              also_finished=self._relearn_after(), doing="Undoing")
