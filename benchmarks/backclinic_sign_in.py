"""Child process for startup.py and idle_memory.py: BackClinic started as `python main.py` does.

Runs the real start (backclinic.app.run_app) on a database and plays the clinician: it
notes when the sign-in dialog is shown (ready for typing), waits until the services have
loaded behind it (as a person typing would), enters the user name and password, presses
Enter and notes when the main window with the Today list is shown and painted. With
--open-patient it then opens that patient and hands over their discharge summary from its
preview, as the clinician does (idle_memory.open_patient_and_print), and with --idle it
idles before reading resident memory. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

started = time.time()

if TYPE_CHECKING:
    from backclinic.ui.sign_in import SignInDialog

POLL_MS = 5


def main() -> int:
    # Imported here, as main.py imports the app under its __main__ guard: the child process
    # that draws a document imports this module again, and must not load Qt or the app.
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialogButtonBox

    from backclinic import app as app_module
    from backclinic.ui.garbage import GuiThreadCollector
    from backclinic.ui.sign_in import SignInDialog
    from benchmarks.window_probe import rss_kib

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("--username", default="mei.lin")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--idle", type=float, default=0.0, help="seconds to idle at the end")
    parser.add_argument("--open-patient", type=int, metavar="ID", help="open and print first")
    parser.add_argument("--send-to-printer", action="store_true", help="print, not save as PDF")
    arguments = parser.parse_args()
    report: dict[str, object] = {"imports": time.time() - started}
    phases: dict[str, float] = {}
    application = QApplication(sys.argv)
    # backclinic.app installs its collector only on an application it makes itself.
    GuiThreadCollector(application)

    def sign_in_shown(dialog: SignInDialog) -> None:
        application.processEvents()
        report["shown"] = time.time()
        report["sign_in_title"] = dialog.windowTitle()
        report["rss_at_sign_in_kib"] = rss_kib()
        wait_for_services(dialog)

    def wait_for_services(dialog: SignInDialog) -> None:
        if not dialog.attached:
            QTimer.singleShot(POLL_MS, lambda: wait_for_services(dialog))
            return
        report["services_loaded"] = time.time()
        dialog.username.setText(arguments.username)
        dialog.password.setText(arguments.password)
        # Let the worker's last events settle, as they would while a person types.
        QTimer.singleShot(300, lambda: press_enter(dialog))

    def press_enter(dialog: SignInDialog) -> None:
        report["enter"] = time.time()
        instrument()
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    def instrument() -> None:
        # Imported by now (the worker loaded them); wrapped to time Enter's phases.
        from backclinic import launcher
        from backclinic.services.clinic import ClinicService

        check_password = ClinicService.sign_in

        def timed_sign_in(self: ClinicService, username: str, password: str) -> object:
            mark = time.time()
            try:
                return check_password(self, username, password)
            finally:
                phases["sign_in (argon2)"] = time.time() - mark

        ClinicService.sign_in = timed_sign_in  # type: ignore[method-assign,assignment]
        open_window = launcher.Launcher.open_window
        build_window = launcher.MainWindow.__init__

        def timed_window(self: object, *args: object, **kwargs: object) -> None:
            mark = time.time()
            build_window(self, *args, **kwargs)  # type: ignore[arg-type]
            phases["main_window"] = time.time() - mark

        def opened(self: launcher.Launcher, clinician: object) -> object:
            window = open_window(self, clinician)  # type: ignore[arg-type]
            QTimer.singleShot(0, lambda: main_window_shown(window))
            return window

        launcher.MainWindow.__init__ = timed_window  # type: ignore[method-assign]
        launcher.Launcher.open_window = opened  # type: ignore[method-assign,assignment]

    def main_window_shown(window: object) -> None:
        application.processEvents()
        report["main_window_shown"] = time.time()
        report["main_window_title"] = window.windowTitle()  # type: ignore[attr-defined]
        enter = report["enter"]
        assert isinstance(enter, float)
        phases["paint"] = report["main_window_shown"] - enter - sum(phases.values())  # type: ignore[operator]
        report["phases"] = phases
        report["rss_kib"] = rss_kib()
        if arguments.open_patient is not None:
            from benchmarks.idle_memory import open_patient_and_print

            report["printing"] = open_patient_and_print(
                window, arguments.open_patient, printer=arguments.send_to_printer
            )
        if arguments.idle > 0:
            QTimer.singleShot(int(arguments.idle * 1000), finish)
        else:
            finish()

    def finish() -> None:
        report["idle_rss_kib"] = rss_kib()
        report["peak_rss_kib"] = rss_kib("VmHWM")
        print(json.dumps(report), flush=True)
        for widget in application.topLevelWidgets():
            widget.close()
        application.quit()

    def watch_for_sign_in() -> None:
        for widget in application.topLevelWidgets():
            if isinstance(widget, SignInDialog) and widget.isVisible():
                sign_in_shown(widget)
                return
        QTimer.singleShot(1, watch_for_sign_in)

    QTimer.singleShot(0, watch_for_sign_in)
    return app_module.run_app(arguments.database_url, sys.argv[:1])


if __name__ == "__main__":
    sys.exit(main())
