"""Where BackClinic starts: a window on screen first, then the wiring in backclinic.launcher.

Importing the database and service layers takes most of a second; the person sees the
start-up window within a bare Qt window's time, and the rest loads behind it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from backclinic.ui.startup_window import APP_NAME, StartupWindow


def show_startup_window(argv: list[str]) -> tuple[QApplication, StartupWindow]:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    startup = StartupWindow()
    startup.show()
    app.processEvents()
    return app, startup


def run_app(database_url: str | None, argv: list[str]) -> int:
    """Show the start-up window, then open the database, sign in and run the main window."""
    app, startup = show_startup_window(argv)
    # Imported here on purpose, after the window is shown: this is the slow part of start-up.
    from backclinic.launcher import launch

    return launch(app, startup, database_url)
