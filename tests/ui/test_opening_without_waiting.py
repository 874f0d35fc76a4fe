"""Opening a patient or the session form never waits for the database: they appear at once
saying "Loading…", fill in when their reads (off the GUI thread) are in, and a read that
comes back after its view was closed is shown nowhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from PySide6.QtCore import Qt, QThreadPool
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician
from backclinic.services.context import Actor
from backclinic.services.errors import NotFound
from backclinic.services.patients import Patient
from backclinic.ui.main_window import MainWindow
from backclinic.ui.patient_tab import PatientTab
from backclinic.ui.patient_workspace import PatientWorkspace
from backclinic.ui.session_dialog import SessionDialog
from tests.services.test_plans import START, grace

TABS = ("Overview", "Intake", "Plan", "Sessions", "Progress", "Outcomes", "Documents")


class Gate:
    """Holds every read off the GUI thread until ``open()``: a slow database, on demand."""

    def __init__(self, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
        self._open = threading.Event()
        self.waiting = 0
        reading = services.context.reading

        @contextmanager
        def gated() -> Iterator[Session]:
            if threading.current_thread() is not threading.main_thread():
                self.waiting += 1
                assert self._open.wait(10), "the test never opened the gate"
            with reading() as session:
                yield session

        monkeypatch.setattr(services.context, "reading", gated)

    def open(self) -> None:
        self._open.set()


@pytest.fixture
def gate(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate(services, monkeypatch)
    yield held
    held.open()


def window_of(qtbot: QtBot, services: Services, clinician: Clinician) -> MainWindow:
    window = MainWindow(services, clinician)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def covered(tab: PatientTab) -> str:
    """What covers the tab instead of its content ("" when the content shows)."""
    return tab.status.text() if tab.status.isVisibleTo(tab) else ""


def tab_of(workspace: PatientWorkspace, name: str) -> PatientTab:
    page = workspace.tab(name)
    assert isinstance(page, PatientTab)
    return page


def test_a_patient_opens_at_once_saying_loading_and_fills_in_when_the_reads_are_in(
    qtbot: QtBot, services: Services, clinician: Clinician, actor: Actor, gate: Gate
) -> None:
    patient_id = grace(services, actor)
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    window = window_of(qtbot, services, clinician)

    workspace = window.open_patient(patient_id)
    assert window.tabs.currentWidget() is workspace
    assert workspace.name_label.text() == "Loading…"
    assert window.tabs.tabText(window.tabs.indexOf(workspace)) == "Loading…"
    assert not workspace.edit_button.isEnabled() and not workspace.archive_button.isEnabled()
    for name in TABS:
        workspace.tabs.setCurrentWidget(tab_of(workspace, name))
        assert covered(tab_of(workspace, name)) == "Loading…", name
    assert not tab_of(workspace, "Sessions").log_button.isEnabled()  # type: ignore[attr-defined]

    gate.open()
    qtbot.waitUntil(lambda: workspace.name_label.text() == "Okafor, Grace")
    assert window.tabs.tabText(window.tabs.indexOf(workspace)) == "Okafor, Grace"
    assert "MRN CASE-0045" in workspace.facts_label.text()
    assert workspace.edit_button.isEnabled() and workspace.archive_button.isEnabled()
    for name in TABS:
        tab = tab_of(workspace, name)
        qtbot.waitUntil(lambda tab=tab: not tab.loading)
        assert covered(tab) == "", name
    overview = workspace.overview
    assert "Phase 1" in overview.plan.text()
    workspace.tabs.setCurrentWidget(overview)
    assert not overview.plan.visibleRegion().isEmpty()


def test_a_patient_closed_before_the_reads_return_is_painted_nowhere(
    qtbot: QtBot,
    services: Services,
    clinician: Clinician,
    actor: Actor,
    registry: list[Patient],
    gate: Gate,
) -> None:
    patient_id = grace(services, actor)
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    window = window_of(qtbot, services, clinician)
    first = window.open_patient(patient_id)
    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(first))
    assert window.workspace(patient_id) is None
    # Another patient opened meanwhile, in the same window.
    other = window.open_patient(registry[0].id)

    gate.open()
    qtbot.waitUntil(lambda: other.name_label.text() == "Rivera, Ana")
    qtbot.waitUntil(lambda: all(not tab_of(other, name).loading for name in TABS))
    window.operations.tasks.wait_for_done(5000)
    qtbot.wait(50)  # the closed patient's results, if any, are delivered now
    assert other.name_label.text() == "Rivera, Ana"
    assert "CASE-0045" not in other.facts_label.text()
    assert other.overview.plan.text() == "No plan."
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "Today",
        "Patients",
        "Rivera, Ana",
    ]


def test_a_header_that_cannot_be_read_says_so_in_one_sentence(
    qtbot: QtBot,
    services: Services,
    clinician: Clinician,
    registry: list[Patient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def gone(_actor: Actor, patient_id: int) -> Patient:
        raise NotFound(f"No patient with id {patient_id} is on record.")

    monkeypatch.setattr(services.patients, "get", gone)
    window = window_of(qtbot, services, clinician)
    workspace = window.open_patient(registry[0].id)
    qtbot.waitUntil(lambda: not workspace.loading)
    assert workspace.name_label.text() == (
        f"The patient's details could not be read: No patient with id {registry[0].id} is "
        "on record."
    )
    assert not workspace.edit_button.isEnabled()


def test_a_tab_whose_read_fails_shows_one_sentence_in_place_of_its_content(
    qtbot: QtBot,
    services: Services,
    clinician: Clinician,
    actor: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient_id = grace(services, actor)

    def unreachable(*_args: object, **_kwargs: object) -> AbstractContextManager[Session]:
        raise OSError("connection refused")

    monkeypatch.setattr(services.sessions, "history", unreachable)
    window = window_of(qtbot, services, clinician)
    workspace = window.open_patient(patient_id)
    sessions = tab_of(workspace, "Sessions")
    workspace.tabs.setCurrentWidget(sessions)
    qtbot.waitUntil(lambda: not sessions.loading)
    assert covered(sessions) == (
        "The sessions could not be read: the database did not answer. Close and reopen the "
        "patient to try again."
    )
    qtbot.waitUntil(lambda: workspace.name_label.text() == "Okafor, Grace")


def test_the_session_form_opens_at_once_and_is_saved_from_only_once_its_records_are_in(
    qtbot: QtBot, services: Services, actor: Actor, gate: Gate
) -> None:
    patient_id = grace(services, actor, precautions=("pacemaker",))
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    dialog = SessionDialog(services, actor, patient_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.loading
    assert dialog.safety_panel.text() == "Loading…"
    assert dialog.windowTitle() == "Log session — Loading…"
    assert not dialog.save_button().isEnabled()
    assert not dialog.pain_before.isEnabled() and not dialog.points_box.isEnabled()
    # Ctrl+Enter before the records are in saves nothing.
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.record is None

    gate.open()
    qtbot.waitUntil(lambda: dialog.loaded)
    assert dialog.windowTitle() == "Log session — Okafor, Grace"
    assert "Cardiac pacemaker or implanted device" in dialog.safety_panel.text()
    assert dialog.save_button().isEnabled() and dialog.pain_before.isEnabled()
    prefill = services.sessions.prefill(actor, patient_id, services.context.clock.now())
    assert dialog.point_codes() == prefill.acupoints != ()
    assert not dialog.has_changes(), "what was read in is not a change of the clinician's"
    dialog.modality_boxes["acupuncture"].setChecked(True)
    assert not dialog.electro.isEnabled()
    assert "pacemaker" in dialog.electro_reason.text().lower()
    assert dialog.performed_by.currentData() == actor.clinician_id


def test_a_session_form_closed_before_its_records_are_in_is_filled_by_nobody(
    qtbot: QtBot, services: Services, actor: Actor, gate: Gate
) -> None:
    patient_id = grace(services, actor)
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    dialog = SessionDialog(services, actor, patient_id)
    dialog.show()
    dialog.reject()  # untouched: closes without asking
    dialog.deleteLater()
    qtbot.wait(20)
    gate.open()
    QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(50)  # its result, were it not dropped, would land now
    assert services.sessions.history(actor, patient_id) == []


def test_a_session_form_whose_records_cannot_be_read_says_so_and_saves_nothing(
    qtbot: QtBot, services: Services, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id = grace(services, actor)

    def gone(_actor: Actor, patient_id: int) -> Patient:
        raise NotFound(f"No patient with id {patient_id} is on record.")

    monkeypatch.setattr(services.patients, "get", gone)
    dialog = SessionDialog(services, actor, patient_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.loading)
    assert dialog.safety_panel.text() == (
        f"The records this form needs could not be read: No patient with id {patient_id} "
        "is on record."
    )
    assert not dialog.save_button().isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.record is None
