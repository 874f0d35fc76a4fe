"""Views reload themselves when a use case changes what they show: no Refresh button needed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import Clinician
from backclinic.services.context import Actor
from backclinic.ui.main_window import MainWindow
from backclinic.ui.progress_tab import ProgressTab
from backclinic.ui.session_dialog import SessionDialog
from backclinic.ui.sessions_tab import SessionsTab
from tests.services.test_plans import START, grace
from tests.ui.conftest import ModalDriver, person

NOW = dt.datetime(START.year, START.month, START.day, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def clinic(database: OpenDatabase, services: Services) -> Services:
    """Services whose clock stands still on the plan's first visit day."""
    return build_services(database.session_factory, clock=lambda: NOW)


def open_window(qtbot: QtBot, services: Services, clinician: Clinician) -> MainWindow:
    window = MainWindow(services, clinician)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def log_pain(qtbot: QtBot, before: int, after: int) -> Callable[[QWidget], None]:
    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, SessionDialog)
        qtbot.waitUntil(lambda: dialog.loaded)
        dialog.pain_before.set_value(before)
        dialog.pain_after.set_value(after)
        dialog.save_button().click()

    return fill


def today_statuses(qtbot: QtBot, window: MainWindow) -> list[str]:
    qtbot.waitUntil(lambda: not window.day_view.loading)
    model = window.day_view.model
    return [model.index(row, model.columnCount() - 1).data() for row in range(model.rowCount())]


def test_logging_a_session_from_the_patients_tab_updates_today_and_progress(
    qtbot: QtBot, clinic: Services, clinician: Clinician, actor: Actor, modal: ModalDriver
) -> None:
    patient_id = grace(clinic, actor)
    clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    window = open_window(qtbot, clinic, clinician)
    assert today_statuses(qtbot, window) == ["Planned"]
    workspace = window.open_patient(patient_id)
    sessions = workspace.tab("Sessions")
    progress = workspace.tab("Progress")
    assert isinstance(sessions, SessionsTab) and isinstance(progress, ProgressTab)
    qtbot.waitUntil(lambda: progress.figure_labels["latest"].text() == "Not recorded")
    qtbot.waitUntil(sessions.log_button.isEnabled)

    modal.then(log_pain(qtbot, 6, 3))
    qtbot.mouseClick(sessions.log_button, Qt.MouseButton.LeftButton)
    modal.check()

    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1)
    assert today_statuses(qtbot, window) == ["Done"]
    # The latest pre-treatment score, read again off the GUI thread.
    qtbot.waitUntil(lambda: progress.figure_labels["latest"].text() == "6")
    assert window.day_view.refresh_button.isEnabled()


def test_logging_from_the_today_list_updates_the_open_patients_sessions_and_progress(
    qtbot: QtBot, clinic: Services, clinician: Clinician, actor: Actor, modal: ModalDriver
) -> None:
    patient_id = grace(clinic, actor)
    clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    window = open_window(qtbot, clinic, clinician)
    workspace = window.open_patient(patient_id)
    sessions = workspace.tab("Sessions")
    progress = workspace.tab("Progress")
    assert isinstance(sessions, SessionsTab) and isinstance(progress, ProgressTab)
    window.tabs.setCurrentWidget(window.day_view)
    qtbot.waitUntil(lambda: not window.day_view.loading)
    window.day_view.table.selectRow(0)

    modal.then(log_pain(qtbot, 5, 2))
    qtbot.mouseClick(window.day_view.log_button, Qt.MouseButton.LeftButton)
    modal.check()

    assert today_statuses(qtbot, window) == ["Done"]
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1)
    qtbot.waitUntil(lambda: progress.figure_labels["latest"].text() == "5")


def test_a_session_logged_for_one_patient_leaves_another_patients_tabs_as_they_were(
    qtbot: QtBot, clinic: Services, clinician: Clinician, actor: Actor, modal: ModalDriver
) -> None:
    patient_id = grace(clinic, actor)
    clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    bystander = clinic.patients.register(actor, person(mrn="A-2001"))
    window = open_window(qtbot, clinic, clinician)
    other = window.open_patient(bystander.id)
    other_sessions = other.tab("Sessions")
    assert isinstance(other_sessions, SessionsTab)
    qtbot.waitUntil(lambda: not other_sessions.loading)
    reloads: list[int] = []
    other_sessions.model.modelReset.connect(lambda: reloads.append(1))
    workspace = window.open_patient(patient_id)
    sessions = workspace.tab("Sessions")
    assert isinstance(sessions, SessionsTab)
    qtbot.waitUntil(sessions.log_button.isEnabled)

    modal.then(log_pain(qtbot, 6, 3))
    qtbot.mouseClick(sessions.log_button, Qt.MouseButton.LeftButton)
    modal.check()

    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1)
    assert reloads == [], "another patient's sessions were not read again"
