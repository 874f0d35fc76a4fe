"""The one place that wires BackClinic together: database URL → database → services → windows."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from backclinic.db.database import open_database
from backclinic.db.engine import APP_NAME, DatabaseUnavailable, resolve_database_url
from backclinic.services.bundle import Services, build_services
from backclinic.ui.first_run import FirstRunDialog
from backclinic.ui.main_window import MainWindow
from backclinic.ui.sign_in import SignInDialog

EXIT_DATABASE_UNAVAILABLE = 2


class Launcher:
    """First-run set-up, sign-in and the main window, again after every sign-out."""

    def __init__(self, services: Services, *, database_label: str) -> None:
        self._services = services
        self._database_label = database_label
        self.window: MainWindow | None = None
        self._username = ""

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
        window = MainWindow(self._services, clinician, database_label=self._database_label)
        window.signed_out.connect(self._on_window_signed_out)
        window.show()
        self.window = window
        return window

    def _on_window_signed_out(self) -> None:
        previous = self.window
        self.sign_in()
        if previous is not None:
            previous.deleteLater()


def _report_unavailable(error: DatabaseUnavailable) -> int:
    message = str(error)
    print(message, file=sys.stderr)
    if QApplication.instance() is not None:
        QMessageBox.critical(None, APP_NAME, message)
    return EXIT_DATABASE_UNAVAILABLE


def run_app(database_url: str | None, argv: list[str]) -> int:
    """Open the database (migrating it), sign a clinician in, and run until the window closes."""
    url = resolve_database_url(database_url)
    try:
        database = open_database(url)
    except DatabaseUnavailable as error:
        return _report_unavailable(error)
    try:
        services = build_services(database.session_factory)
        existing = QApplication.instance()
        app = existing if isinstance(existing, QApplication) else QApplication(argv)
        app.setApplicationName(APP_NAME)
        app.setApplicationDisplayName(APP_NAME)
        launcher = Launcher(services, database_label=database.display_url)
        if launcher.start() is None:
            return 0
        return app.exec()
    finally:
        database.engine.dispose()
