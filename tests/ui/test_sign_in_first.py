"""The sign-in dialog is the first window and is ready before the heavy layers load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from backclinic import app as app_module
from backclinic.db.database import open_database
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import SIGN_IN_FAILED, Clinician, NewClinician
from backclinic.ui.main_window import MainWindow
from backclinic.ui.sign_in import SignInDialog
from tests.conftest import PASSWORD
from tests.ui.conftest import ModalDriver
from tests.ui.test_main_window import set_up_clinic

HEAVY_MODULES = [
    "sqlalchemy",
    "alembic",
    "reportlab",
    "PySide6.QtCharts",
    "PySide6.QtPdf",
    "PySide6.QtPrintSupport",
]
# Qt's print support never loads in the window: printing has its own process.
ON_FIRST_USE = ["reportlab", "PySide6.QtCharts", "PySide6.QtPdf", "PySide6.QtPrintSupport"]

# Runs the real `python main.py` start in a fresh interpreter, noting what is loaded when the
# sign-in dialog is shown and when the main window is, and signing in as a person would.
PROBE = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from backclinic.app import run_app
from backclinic.ui.sign_in import SignInDialog

url, password, heavy = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
seen = {}
app = QApplication([])

def loaded():
    return [name for name in heavy if name in sys.modules]

class ShowWatcher(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Show and isinstance(watched, SignInDialog):
            seen.setdefault("sign_in", {"title": watched.windowTitle(), "loaded": loaded()})
        return False

watcher = ShowWatcher()
app.installEventFilter(watcher)

def poll():
    for widget in app.topLevelWidgets():
        if not widget.isVisible():
            continue
        if isinstance(widget, SignInDialog) and "typed" not in seen:
            seen["typed"] = True
            widget.username.setText("mei")
            widget.password.setText(password)
            widget.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        elif type(widget).__name__ == "MainWindow":
            seen["main_window"] = {"title": widget.windowTitle(), "loaded": loaded()}
            widget.close()
            return
    QTimer.singleShot(10, poll)

QTimer.singleShot(0, poll)
seen["status"] = run_app(url, [])
print(json.dumps(seen))
"""


def set_up_sqlite_clinic(path: Path) -> str:
    url = f"sqlite:///{path}"
    database = open_database(url)
    try:
        build_services(database.session_factory).clinic.set_up(
            clinic_name="Harbourside Integrative Back Clinic",
            first_clinician=NewClinician(
                full_name="Mei Lin", username="mei", role="acupuncturist", password=PASSWORD
            ),
        )
    finally:
        database.engine.dispose()
    return url


def test_the_sign_in_dialog_is_up_before_the_database_reports_and_charts_load(
    tmp_path: Path,
) -> None:
    url = set_up_sqlite_clinic(tmp_path / "clinic.db")
    finished = subprocess.run(
        [sys.executable, "-c", PROBE, url, PASSWORD, json.dumps(HEAVY_MODULES)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    seen = json.loads(finished.stdout.strip().splitlines()[-1])
    assert seen["sign_in"] == {
        "title": "Sign in — Harbourside Integrative Back Clinic",
        "loaded": [],
    }
    assert seen["main_window"]["title"] == (
        "BackClinic — Harbourside Integrative Back Clinic — Mei Lin"
    )
    assert "sqlalchemy" in seen["main_window"]["loaded"]
    waiting = [name for name in ON_FIRST_USE if name in seen["main_window"]["loaded"]]
    assert waiting == [], "reports, charts and the PDF viewer wait for their first use"
    assert seen["status"] == 0


def click_sign_in(dialog: SignInDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_a_password_entered_while_the_records_load_signs_in_once_they_have(
    qtbot: QtBot, services: Services, clinician: Clinician
) -> None:
    dialog = SignInDialog(None, clinic_name="Harbour Back Clinic")
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Sign in — Harbour Back Clinic"
    dialog.username.setText("mei")
    dialog.password.setText(PASSWORD)
    click_sign_in(dialog)
    assert dialog.message.text() == "Opening the clinic's records…"
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert dialog.clinician is None
    dialog.attach(services)
    assert dialog.clinician == clinician
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_a_sign_in_dialog_opened_before_the_clinic_is_known_names_it_once_it_is(
    qtbot: QtBot, services: Services, clinician: Clinician
) -> None:
    dialog = SignInDialog(None)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Sign in — BackClinic"
    dialog.attach(services)
    assert dialog.windowTitle() == "Sign in — Harbour Back Clinic"
    dialog.username.setText("mei")
    dialog.password.setText("not the password")
    click_sign_in(dialog)
    assert dialog.message.text() == SIGN_IN_FAILED
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def close_the_main_window_once_open() -> list[str]:
    """Closes the main window when it opens (ending run_app), keeping its title."""
    opened: list[str] = []

    def close() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                opened.append(widget.windowTitle())
                widget.close()
                return
        QTimer.singleShot(10, close)

    QTimer.singleShot(0, close)
    return opened


def sign_in_as_the_founder(dialog: QWidget) -> None:
    assert isinstance(dialog, SignInDialog)
    assert dialog.username.text() == "mei"
    dialog.password.setText(PASSWORD)
    click_sign_in(dialog)


def test_a_new_sqlite_clinic_is_set_up_behind_the_start_up_window_then_signed_into(
    qtbot: QtBot, modal: ModalDriver, tmp_path: Path
) -> None:
    opened = close_the_main_window_once_open()
    modal.then(set_up_clinic).then(sign_in_as_the_founder)
    status = app_module.run_app(f"sqlite:///{tmp_path / 'clinic.db'}", [])
    modal.check()
    assert status == 0
    assert opened == ["BackClinic — Harbour Back Clinic — Mei Lin"]


def test_a_clinic_server_not_yet_set_up_turns_the_first_sign_in_into_the_set_up(
    qtbot: QtBot, modal: ModalDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a PostgreSQL server: nothing can be read before the services load, so the
    # dialog opens with a generic title, and the loaded services find no clinic yet.
    monkeypatch.setattr(app_module, "existing_clinic_name", lambda _url: None)
    monkeypatch.setattr(app_module, "sqlite_file", lambda _url: None)
    titles: list[str] = []

    def note_the_title(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        titles.append(dialog.windowTitle())

    opened = close_the_main_window_once_open()
    modal.then(note_the_title).then(set_up_clinic).then(sign_in_as_the_founder)
    status = app_module.run_app(f"sqlite:///{tmp_path / 'clinic.db'}", [])
    modal.check()
    assert status == 0
    assert titles == ["Sign in — BackClinic"]
    assert opened == ["BackClinic — Harbour Back Clinic — Mei Lin"]
