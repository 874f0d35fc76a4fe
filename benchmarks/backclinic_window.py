"""Child process for startup.py and idle_memory.py: BackClinic's main window on a database.

Does what the app does between launch and the main window (open and migrate the database,
build the services, sign in), except that the credentials come from the command line
instead of the sign-in dialog. Prints one JSON line (see window_probe.report_when_shown).
"""

from __future__ import annotations

import argparse
import sys
import time

started = time.time()

from PySide6.QtWidgets import QApplication  # noqa: E402

from backclinic.db.database import open_database  # noqa: E402
from backclinic.db.engine import APP_NAME  # noqa: E402
from backclinic.services.bundle import build_services  # noqa: E402
from backclinic.ui.main_window import MainWindow  # noqa: E402
from benchmarks.window_probe import report_when_shown  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("--username", default="sarah.whitfield")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--idle", type=float, default=0.0, help="seconds to idle after shown")
    arguments = parser.parse_args()
    phases: dict[str, float] = {"imports": time.time() - started}

    mark = time.time()
    app = QApplication(sys.argv)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    phases["qapplication"], mark = time.time() - mark, time.time()
    database = open_database(arguments.database_url)
    phases["open_database"], mark = time.time() - mark, time.time()
    services = build_services(database.session_factory)
    phases["build_services"], mark = time.time() - mark, time.time()
    clinician = services.clinic.sign_in(arguments.username, arguments.password)
    phases["sign_in"], mark = time.time() - mark, time.time()
    window = MainWindow(services, clinician, database_label=database.display_url)
    phases["main_window"], mark = time.time() - mark, time.time()
    window.show()
    report_when_shown(app, phases=phases, idle_seconds=arguments.idle)
    try:
        return app.exec()
    finally:
        database.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
