"""Where BackClinic starts: the sign-in dialog first, then the wiring in backclinic.launcher.

Importing the database, service and report layers takes most of a second. The clinician
gets the sign-in dialog within a bare Qt window's time (the clinic's name read with the
standard library) and types while the rest loads on a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from backclinic.db.location import existing_clinic_name, resolve_database_url, sqlite_file
from backclinic.domain.resources import resources_dir
from backclinic.ui.garbage import GuiThreadCollector
from backclinic.ui.qt_types import ready_wrapper_types
from backclinic.ui.sign_in import SignInDialog
from backclinic.ui.startup_window import APP_NAME, StartupWindow
from backclinic.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from backclinic.launcher import OpenedClinic

# The sign-in dialog's result when the services found a clinic with no set-up yet.
NEEDS_SET_UP = 2
SUPPORTED_SCHEMES = ("sqlite", "postgresql")


def _application(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        app = QApplication(argv)
        # Only on a new application: set later, the icon change reaches every open window.
        app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "backclinic.png")))
        # Matches StartupWMClass in the Linux .desktop file, so the dock shows its icon.
        app.setDesktopFileName("BackClinic")
        # Kept by the application for its whole life (parented to it).
        GuiThreadCollector(app)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    return app


def show_startup_window(argv: list[str]) -> tuple[QApplication, StartupWindow]:
    app = _application(argv)
    startup = StartupWindow()
    startup.show()
    app.processEvents()
    return app, startup


def show_sign_in_dialog(argv: list[str], url: str) -> tuple[QApplication, SignInDialog]:
    """The sign-in dialog, titled with the clinic's name when a SQLite file tells it."""
    app = _application(argv)
    dialog = SignInDialog(None, clinic_name=existing_clinic_name(url))
    # Modal from the start: it is exec()'d, already on screen, once the loading has begun.
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.show()
    app.processEvents()
    return app, dialog


def _open_clinic(url: str) -> OpenedClinic:
    # Runs on a worker thread: these imports are the slow part of start-up.
    from backclinic.launcher import open_clinic

    return open_clinic(url)


@dataclass
class _Loading:
    """What the worker opening the clinic handed back, to the dialog waiting for it."""

    dialog: SignInDialog
    opened: OpenedClinic | None = None
    error: Exception | None = None
    done: bool = False

    def loaded(self, opened: OpenedClinic) -> None:
        self.opened, self.done = opened, True
        if not self.dialog.isVisible():
            return
        if opened.services.clinic.is_set_up():
            self.dialog.attach(opened.services)
            # While the clinician types: the main window's first paint need not do it.
            ready_wrapper_types()
        else:
            self.dialog.done(NEEDS_SET_UP)

    def failed(self, error: Exception) -> None:
        self.error, self.done = error, True
        self.dialog.reject()


def _needs_set_up_first(url: str) -> bool:
    """A new SQLite clinic (or a URL no database accepts): no one can sign in to it yet."""
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in SUPPORTED_SCHEMES:
        return True
    return sqlite_file(url) is not None and existing_clinic_name(url) is None


def run_app(database_url: str | None, argv: list[str]) -> int:
    """Sign in (or set up a new clinic) while the database opens, then run the main window."""
    url = resolve_database_url(database_url)
    if _needs_set_up_first(url):
        app, startup = show_startup_window(argv)
        # Imported here on purpose, after the window is shown: this is the slow part.
        from backclinic.launcher import launch

        return launch(app, startup, url)
    app, dialog = show_sign_in_dialog(argv, url)
    loading = _Loading(dialog)
    runner = TaskRunner()
    runner.run(lambda: _open_clinic(url), on_result=loading.loaded, on_error=loading.failed)
    dialog.exec()
    if not loading.done:
        # Cancelled while loading: let the worker finish, so the database is closed cleanly.
        runner.wait_for_done()
        QCoreApplication.sendPostedEvents()
    from backclinic.db.engine import DatabaseUnavailable
    from backclinic.db.migrate import SchemaTooNew
    from backclinic.launcher import report_unavailable, run_opened

    if isinstance(loading.error, DatabaseUnavailable | SchemaTooNew):
        return report_unavailable(loading.error)
    if loading.error is not None:
        raise loading.error
    assert loading.opened is not None, "the worker delivered an opened clinic"
    if dialog.clinician is None and dialog.result() != NEEDS_SET_UP:
        loading.opened.database.engine.dispose()
        return 0
    return run_opened(app, loading.opened, dialog.clinician)
