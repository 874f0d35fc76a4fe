"""The wiring behind the first window: database URL → database → services → windows.

Imported by backclinic.app only once its first window (sign-in or start-up) is on screen,
and then off the GUI thread: it is the slow part of start-up.
"""

from __future__ import annotations

import linecache
import sys
from dataclasses import dataclass

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from sqlalchemy.orm import Session, sessionmaker

from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.engine import APP_NAME, DatabaseUnavailable, resolve_database_url
from backclinic.db.migrate import SchemaTooNew
from backclinic.reports.renderer import ChildProcessRenderer
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import Clinician
from backclinic.services.errors import ServiceError
from backclinic.ui.first_run import FirstRunDialog
from backclinic.ui.garbage import freeze_what_start_up_loaded
from backclinic.ui.idle_lock import DraftStore, IdleLock, WindowLock, idle_interval_ms
from backclinic.ui.main_window import MainWindow
from backclinic.ui.patient_list import PAGE_SIZE
from backclinic.ui.sign_in import SignInDialog

EXIT_DATABASE_UNAVAILABLE = 2


class Launcher:
    """First-run set-up, sign-in and the main window, again after every sign-out."""

    def __init__(self, services: Services, *, database_label: str) -> None:
        self._services = services
        self._database_label = database_label
        self.window: MainWindow | None = None
        self._username = ""
        self._drafts = DraftStore()
        self._idle: IdleLock | None = None

    def start(self) -> MainWindow | None:
        """Returns the shown main window, or None when the person cancelled."""
        if not self._services.clinic.is_set_up():
            founder = FirstRunDialog.run(None, self._services)
            if founder is None:
                return None
            self._username = founder.username
        return self.sign_in()

    def sign_in(self) -> MainWindow | None:
        clinician = SignInDialog.sign_in(None, self._services, username=self._username)
        if clinician is None:
            self.window = None
            return None
        self._username = clinician.username
        return self.open_window(clinician)

    def open_window(self, clinician: Clinician) -> MainWindow:
        """Show the main window for a signed-in clinician, with its idle lock."""
        window = MainWindow(self._services, clinician, database_label=self._database_label)
        window.signed_out.connect(self._on_window_signed_out)
        interval = idle_interval_ms(self._services.clinic.settings().idle_lock_minutes)
        if self._idle is None:
            application = QApplication.instance()
            assert application is not None, "the Launcher runs inside a QApplication"
            self._idle = IdleLock(application, interval_ms=interval)
        self._idle.set_interval_ms(interval)
        lock = WindowLock(
            window,
            clinician,
            clinic=self._services.clinic,
            accounts=self._services.accounts,
            drafts=self._drafts,
            idle=self._idle,
        )
        lock.switched.connect(self._on_lock_switched)
        window.show()
        self.window = window
        # From now on a full collection goes through what the day adds, not start-up's.
        freeze_what_start_up_loaded()
        self._drafts.restore(clinician.id, window)
        # Forms a crash left unsaved are offered back once the window is up.
        QTimer.singleShot(0, window.offer_saved_drafts)
        self._idle.start()
        return window

    def shutdown(self) -> None:
        """Stop watching for idleness (the app is closing)."""
        if self._idle is not None:
            self._idle.stop()
            self._idle.deleteLater()
            self._idle = None

    def _on_lock_switched(self, clinician: Clinician) -> None:
        previous = self.window
        self._username = clinician.username
        self.open_window(clinician)
        if previous is not None:
            previous.hide()
            previous.deleteLater()

    def _on_window_signed_out(self) -> None:
        if self._idle is not None:
            self._idle.stop()
        previous = self.window
        self.sign_in()
        if previous is not None:
            previous.deleteLater()


@dataclass(frozen=True)
class OpenedClinic:
    """An open, migrated database and the services over it."""

    database: OpenDatabase
    services: Services


def open_clinic(url: str) -> OpenedClinic:
    """Open the database (migrating it), build the services, take the day's first backup.

    Makes no Qt object, so the app runs it off the GUI thread while the sign-in dialog
    takes the clinician's password. Raises DatabaseUnavailable or SchemaTooNew.
    """
    database = open_database(url)
    try:
        services = window_services(database.session_factory)
        try:
            services.backups.automatic_daily_backup(services.context.clock.now())
        except ServiceError as error:
            print(f"The daily backup was not written: {error}", file=sys.stderr)
        _warm_up(services)
        # PySide6 reads the source of every module imported after it into linecache (it
        # looks for `from __feature__`); those copies are about 8 MB of idle memory.
        linecache.clearcache()
    except BaseException:
        database.engine.dispose()
        raise
    return OpenedClinic(database, services)


def window_services(session_factory: sessionmaker[Session]) -> Services:
    """The services as the window uses them: documents are drawn in a child process, one
    per document, so reportlab and its fonts never stay in the window's memory."""
    return build_services(session_factory, renderer=ChildProcessRenderer())


def _warm_up(services: Services) -> None:
    """Run the reads the main window opens with, once, while the clinician types.

    Their SQL is then compiled and cached, and the database pages read, so that Enter
    costs the password check and the window, not a cold first query.
    """
    if not services.clinic.is_set_up():
        return
    services.clinic.settings()
    # Nobody has signed in yet: the reads run as the workstation's own account, and what
    # they return is thrown away (only their compiled SQL and the pages read stay warm).
    workstation = services.clinic.system_actor()
    services.schedule.due(workstation, services.schedule.today())
    services.patients.search(workstation, "", limit=PAGE_SIZE)


def report_unavailable(error: DatabaseUnavailable | SchemaTooNew) -> int:
    message = str(error)
    print(message, file=sys.stderr)
    if QApplication.instance() is not None:
        QMessageBox.critical(None, APP_NAME, message)
    return EXIT_DATABASE_UNAVAILABLE


def run_opened(app: QApplication, opened: OpenedClinic, clinician: Clinician | None) -> int:
    """Run the app on an opened clinic until its window closes, then close the database.

    With a clinician (signed in already) the main window opens at once; without one, the
    first-run set-up (if the clinic has none yet) and the sign-in come first.
    """
    launcher = Launcher(opened.services, database_label=opened.database.display_url)
    try:
        if clinician is not None:
            launcher.open_window(clinician)
        elif launcher.start() is None:
            return 0
        return app.exec()
    finally:
        launcher.shutdown()
        opened.database.engine.dispose()


def launch(app: QApplication, startup: QWidget, database_url: str | None) -> int:
    """Open the database behind the start-up window, then set up or sign in, and run."""
    try:
        opened = open_clinic(resolve_database_url(database_url))
    except (DatabaseUnavailable, SchemaTooNew) as error:
        startup.close()
        return report_unavailable(error)
    startup.close()
    return run_opened(app, opened, None)
