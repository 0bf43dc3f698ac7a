"""Scanning from the window: adding folders, a scan and its end, folders watched for new music, spoken word asked about."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from desktop.core.analysis import Analyzer
from desktop.core.errors import GenreTaggerError
from desktop.core.folder_changes import music_folder_names, outside_unplugged
from desktop.core.model import GenreModel
from desktop.core.progress_text import scan_progress, walk_progress
from desktop.core.scan import NO_SUCH_PATH, within
from desktop.core.wording import count
from desktop.services.learning import active_model, lost_model_warning, readiness, relearn_hint
from desktop.services.library import Library, SyncProgress
from desktop.store.lock import LibraryBusy
from desktop.ui.dialogs import ask_about_spoken_word, choose_music_folder
from desktop.ui.folder_watch import MAX_FOLDERS
from desktop.ui.window_words import FOLDERS_HINT, as_sentence
from desktop.ui.workers import Job, scan_function, start_job

BUSY_RETRY_MS = 5000  # a scan for music that came, refused while another process has the library, tries again


class ScanActions:
    """Scanning from the window: mixed into MainWindow, whose widgets, settings and sessions it uses."""

    # ---- scanning ---------------------------------------------------------------------------
    def add_folder(self):
        """Choose a music folder, remember it, and scan."""
        folder = choose_music_folder(self)
        if folder:
            self.add_folders([folder])

    def add_folders(self, folders: list[str]):
        """Remember folders and scan them."""
        if self._refused_read_only():
            return
        self.settings.folders = sorted(set(self.settings.folders) | set(folders))
        self.save_settings()
        self.start_scan()

    def left_out_folders(self) -> list[str]:
        """The folders left out of the library, as the next scan will leave them."""
        return list(self._left_out) if self._left_out is not None else Library(self.sessions).left_out()

    def folders_removed(self, before: list[str]):
        """Folders no longer in Settings leave the library at the next scan (their tracks kept as missing)."""
        self._set_aside = (self._set_aside | (set(before) - set(self.settings.folders))) - set(self.settings.folders)

    def scan_or_ask(self):
        """Scan the remembered folders; with none yet, the folders this library's scans walked before (the command
        line's too), else ask for one: Scan never does nothing, and a library scanned elsewhere is not asked for."""
        if self.read_only or self.settings.folders or self._set_aside:
            self.start_scan()
            return
        library = Library(self.sessions)
        # With those on a drive not connected: asked for a folder, the listener would give another, or none.
        known = sorted({*library.folders(), *library.unplugged()})
        if not known:
            self.add_folder()
            return
        self.add_folders(known)  # the scan names any not there now among the problems
        self.statusBar().showMessage(f"Your music folders, from this library's earlier scans: {', '.join(known)}"
                                     " (Settings changes them)", 15000)

    def start_scan(self, *, changed_folder: str = ""):
        """Scan the remembered folders in the background (no-op while one runs; after a learn in progress).
        `changed_folder`: the folder watch asked for it, as music came or went there."""
        if self.read_only:  # asked for at start and after Settings too: said once, by the status bar's label
            return
        if self.scan_job is not None or not (self.settings.folders or self._set_aside):
            return
        if self.learn_job is not None:  # it may make another model active: the scan uses whichever it leaves
            self._deferred["learn"] = self.start_scan
            return
        try:
            model_path = self.current_model_path()
            model = GenreModel(model_path, device=self.settings.device)
        except (GenreTaggerError, ValueError) as exc:
            self.report_problem(str(exc.path) if getattr(exc, "path", None) else "model", getattr(exc, "reason", str(exc)))
            return
        tagging = self.settings.tagging()
        self._setting_aside = sorted(self._set_aside)  # what this scan takes out; more may be removed meanwhile
        self._leaving_out = self._left_out
        fn = scan_function(self.sessions, tagging, lambda: Analyzer(model, tagging.analysis()), list(self.settings.folders),
                           self._setting_aside, self._leaving_out)
        self.scan_job = Job(fn, "scan")
        self._scanning_for_change = changed_folder
        self.scan_job.progress.connect(self._scan_progress)
        self.scan_job.staged.connect(self._walk_progress)
        self.scan_job.finished.connect(self._scan_finished)
        self.scan_job.failed.connect(self._scan_failed)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.table.viewport().update()  # an empty table says a scan is on
        self.progress_label.setText("Looking for music…")
        self._refresh_timer = QTimer(self, interval=1500, timeout=self.refresh_changes)  # the library fills in while it scans
        self._refresh_timer.start()
        start_job(self.scan_job)

    def cancel_scan(self):
        """Stop the scan after the track in hand; what is done is kept."""
        if self.scan_job is not None:
            self.scan_job.cancel()
            self.progress_label.setText("Cancelling…")

    def cancel_busy(self):
        """Cancel: stop the scan after the track in hand, or the learn before it changes anything."""
        if self.scan_job is not None:
            self.cancel_scan()
        elif self.learn_job is not None:
            self.learn_job.cancel()
            self.progress_label.setText("Stopping…")

    def _walk_progress(self, p: SyncProgress):
        if self.scan_job is None or self.scan_job.cancel_event.is_set():
            return  # a report queued before the scan ended or was cancelled must not cover what the window says now
        if p.total is None:
            self.progress.setRange(0, 0)  # busy: how many files there are is known only when the walk ends
        else:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.progress_label.setText(walk_progress(p.done, p.total, p.rate))

    def _scan_progress(self, done: int, total: int, rate: float):
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress_label.setText(scan_progress(done, total, rate))

    def _scan_done(self):
        self.scan_job = None
        self._refresh_timer.stop()
        self.progress.hide()
        self.cancel_button.hide()
        self.refresh_changed()  # the timer merged what the scan changed as it went: the rest, not every row again
        self._run_deferred("scan")
        self.watch_folders()
        self._scan_changed_music()

    # ---- watching the folders (new music scanned while the window is open) --------------------
    def watch_folders(self):
        """List the music folders off the GUI thread, then watch them (with the setting on; else watch none)."""
        if self.read_only or not self.settings.watch_folders or not self.settings.folders:
            self.folder_watch.stop()
            self.return_watch.wait_for([])
            return
        if self.watch_job is not None:  # one listing at a time: a second would be dropped with its last reference
            self._list_again = True
            return
        folders = list(self.settings.folders)
        left_out = self.left_out_folders()
        self.watch_job = Job(lambda _report, cancel: (music_folder_names(folders, MAX_FOLDERS + 1, cancel, left_out), left_out),
                             "watch")
        self.watch_job.finished.connect(self._watch_listed)
        self.watch_job.failed.connect(self._watch_failed)
        start_job(self.watch_job)

    def _watch_listed(self, listed: tuple[dict | None, list[str]]):
        folders, left_out = listed
        if folders is not None and self.settings.watch_folders:  # not stopped (quitting), not turned off meanwhile
            self.folder_watch.watch(folders, left_out=left_out)
            unwatched = self.folder_watch.unwatched
            if unwatched and not self._told_unwatched:  # said once a session: the log says it at every listing
                self._told_unwatched = True
                more = "more" if len(folders) > MAX_FOLDERS else f"{unwatched:,} more"  # the listing stopped there
                self.report_problem("watching the music folders",
                                    f"watching {count(self.folder_watch.watching(), 'folder')} for new music; {more} "
                                    f"are not watched (past {MAX_FOLDERS:,}, or the system's limit: "
                                    "fs.inotify.max_user_watches); "
                                    "Scan (F5) finds new music there")
        self._watch_listing_done()

    def _watch_failed(self, message: str):
        self.report_problem("watching the music folders", message)
        self._watch_listing_done()

    def _watch_listing_done(self):
        self.watch_job = None
        if self._list_again:  # a scan ended while the folders were being listed: list them as it left them
            self._list_again = False
            self.watch_folders()

    def _music_changed(self, folders: list[str]):
        """Music came, went or was renamed in `folders`: scan, now or once the scan or write in hand is done.

        Not for a music folder that went or emptied (a drive unplugged): there is nothing to scan there, and nothing
        is heard when the drive comes back. Scan looks again when asked."""
        gone, live = outside_unplugged(self.settings.folders, folders)
        if len(live) < len(folders):
            self.statusBar().showMessage(f"{', '.join(gone)}: gone or empty (a drive unplugged?); its tracks are "
                                         "left as they are", 15000)
            self._set_away([*self.table_model.away, *gone])
        if not live:
            return
        self._changed_folder = live[0]
        if self.scan_job is None and not self.write_busy:
            self._scan_changed_music()

    def _set_away(self, folders: list[str]):
        """Music folders not there now (a drive not connected): their tracks show greyed, and are scanned once back."""
        folders = list(dict.fromkeys(folders))
        self.table_model.set_away(folders)
        self.return_watch.wait_for(folders if self.settings.watch_folders and not self.read_only else [])

    def _folders_back(self, folders: list[str]):
        """Music folders not there at the last scan hold music again (a drive connected): scanned, as music that came."""
        self._set_away([f for f in self.table_model.away if f not in folders])
        self._changed_folder = self._changed_folder or folders[0]
        if self.scan_job is None and not self.write_busy:
            self._scan_changed_music()

    def _scan_changed_music(self):
        if not self._changed_folder or self.scan_job is not None or self.write_busy:
            return
        folder, self._changed_folder = self._changed_folder, ""
        self.statusBar().showMessage(f"Music came or went in {folder}: scanning", 8000)
        self.start_scan(changed_folder=folder)

    def _scan_finished(self, outcome):
        self._set_aside -= set(self._setting_aside)  # done before the sync, so a cancelled scan did it too
        if self._left_out == self._leaving_out:  # set by this scan (Settings may have changed it again meanwhile)
            self._left_out = None
        elif not outcome.cancelled:  # changed while this scan ran, which could not take it up: the next one does
            QTimer.singleShot(0, self.start_scan)
        if outcome.cancelled:  # the listener stopped scanning: music that came meanwhile waits for the next scan
            self._changed_folder = ""
        self._scan_done()
        if not outcome.cancelled:  # every music folder was scanned: all it found away
            self._set_away(outcome.sync.unplugged)
        for path, reason in outcome.problems:
            if reason == NO_SUCH_PATH and path in self.settings.folders:  # said at every scan: what ends it
                reason = f"{NO_SUCH_PATH} now (renamed or removed?); Settings takes it off your music folders"
            self.report_problem(path, reason)
        state = "cancelled" if outcome.cancelled else "done"
        aside = f", {count(outcome.set_aside, 'track')} of folders removed or left out taken out" if outcome.set_aside else ""
        failed = f", {outcome.not_analysed:,} could not be (see Problems)" if outcome.not_analysed else ""
        found = outcome.nothing_found or f"{count(outcome.found, 'file')}, {outcome.analysed:,} analysed{failed}"
        self.progress_label.setText(f"Scan {state}: {found}{aside}")
        if not outcome.cancelled and not self.settings.model_path and active_model(self.sessions) is None:
            self.statusBar().showMessage(as_sentence(
                lost_model_warning(self.sessions) or readiness(self.sessions, how_to_learn="Learn My Genres learns them",
                                                               how_to_use_folders=FOLDERS_HINT,
                                                               how_to_use_anyway="Learn My Genres offers Use It Anyway")),
                15000)
        elif (not outcome.cancelled and not self.settings.model_path and self.learn_job is None
              and not self._relearn_timer.isActive()  # relearning by itself already (after corrections here)
              and (relearn := relearn_hint(self.sessions, how_to_learn="learning them again"))):
            # Tags changed elsewhere (another player, the command line): relearned as after corrections here.
            self.statusBar().showMessage(as_sentence(relearn), 15000)
            self._schedule_relearn()
        if not outcome.cancelled and outcome.spoken_word:  # asked once the scan's signal is handled, not inside it
            self._spoken_found = outcome.spoken_word
            QTimer.singleShot(0, self._ask_after_scan)  # a bound method: dropped with the window if it closes first

    def _ask_after_scan(self):
        self.ask_about_spoken_word(self._spoken_found)

    def ask_about_spoken_word(self, folders: list):
        """Ask whether folders that look like spoken word (audiobooks, podcasts) leave the library or stay as music;
        each is asked once a session until answered."""
        left_out = self.left_out_folders()
        folders = [f for f in folders if f.path not in self._ask_later and not within(left_out)(f.path)]
        if folders and not self.read_only:
            self._ask_spoken(folders)

    def _ask_spoken(self, folders: list) -> list[str] | None:
        """Ask about `folders` and do what the listener answers; the folders kept as music (None: Ask Later)."""
        answer = ask_about_spoken_word(self, folders)
        if answer is None:
            self._ask_later |= {f.path for f in folders}
            return None
        leave, keep = answer
        try:
            if keep:
                Library(self.sessions).keep_as_music(keep)
        except GenreTaggerError as exc:  # deleted or moved while the question was open
            self.report_problem(str(exc.path), exc.reason)
            keep = []
        if leave:
            self._left_out = sorted({*self.left_out_folders(), *leave})
            self.statusBar().showMessage(f"Leaving out {', '.join(leave)}: their tracks leave the library "
                                         "(Settings takes them back)", 10000)
            self.start_scan()  # or, while one runs, the one after it
        return keep

    def _scan_failed(self, message: str):
        busy, folder = isinstance(self.scan_job.error, LibraryBusy), self._scanning_for_change
        self._scan_done()
        if busy and folder:  # `scan --watch` or a `set` in a terminal has the library: this scan waits its turn
            self.progress_label.setText("Another Genre Tagger is scanning or writing this library; scanning here after it")
            self._changed_folder = self._changed_folder or folder
            QTimer.singleShot(BUSY_RETRY_MS, self._scan_changed_music)
            return
        self.report_problem("scan", message)
        self.progress_label.setText("Scan failed")
