from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from backclinic.launcher import Launcher
from backclinic.services.bundle import Services
from backclinic.services.clinic import SIGN_IN_FAILED, Clinician, NewClinician
from backclinic.services.patients import Patient
from backclinic.ui.first_run import FirstRunDialog
from backclinic.ui.main_window import MainWindow
from backclinic.ui.patient_dialog import PatientDialog
from backclinic.ui.patient_workspace import PatientWorkspace
from backclinic.ui.sign_in import SignInDialog
from tests.actors import COMMAND_LINE
from tests.conftest import PASSWORD
from tests.ui.conftest import ModalDriver, person


def activate(qtbot: QtBot, window: QWidget) -> None:
    """Keyboard shortcuts reach only the active window, as on a desktop."""
    handle = window.windowHandle()
    assert handle is not None
    handle.requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def set_up_clinic(dialog: QWidget) -> None:
    assert isinstance(dialog, FirstRunDialog)
    dialog.clinic_name.setText("Harbour Back Clinic")
    dialog.full_name.setText("Mei Lin")
    dialog.username.setText("mei")
    dialog.role.setCurrentText("Acupuncturist")
    dialog.password.setText(PASSWORD)
    dialog.password_confirm.setText(PASSWORD)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def sign_in_after_one_wrong_password(dialog: QWidget) -> None:
    assert isinstance(dialog, SignInDialog)
    assert dialog.username.text() == "mei", "the new account's name is filled in"
    dialog.password.setText("not the password")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.message.isVisible()
    assert dialog.message.text() == SIGN_IN_FAILED
    dialog.password.setText(PASSWORD)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_a_new_clinic_is_set_up_signed_into_and_used_from_the_keyboard(
    qtbot: QtBot, services: Services, modal: ModalDriver
) -> None:
    launcher = Launcher(services, database_label="sqlite:///clinic.db")
    modal.then(set_up_clinic).then(sign_in_after_one_wrong_password)
    window = launcher.start()
    modal.check()
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    assert window.windowTitle() == "BackClinic — Harbour Back Clinic — Mei Lin"
    assert window.user_label.text().startswith("Signed in as Mei Lin (Acupuncturist)")
    assert window.database_label.text() == "Database: sqlite:///clinic.db"

    register_two_patients(services, window.clinician)
    window.patients.reload()
    search = window.patients.search_edit
    qtbot.keyClicks(search, "riv")
    qtbot.waitUntil(lambda: window.patients.model.query == "riv")
    qtbot.waitUntil(lambda: not window.patients.model.busy)
    qtbot.keyClick(search, Qt.Key.Key_Down)
    qtbot.keyClick(window.patients.table, Qt.Key.Key_Down)
    qtbot.keyClick(window.patients.table, Qt.Key.Key_Return)
    workspace = window.tabs.currentWidget()
    assert isinstance(workspace, PatientWorkspace)
    qtbot.waitUntil(lambda: workspace.name_label.text() == "Rivera, Ana")
    assert workspace.patient is not None
    age = workspace.patient.age(services.patients.today())
    assert workspace.facts_label.text() == (
        f"{age} years · born 1980-03-14 · MRN A-1001 · office worker"
    )

    tomorrow = (services.patients.today() + dt.timedelta(days=1)).isoformat()

    def register_after_fixing(dialog: QWidget) -> None:
        assert isinstance(dialog, PatientDialog)
        dialog.family_name.setText("Okafor")
        dialog.date_of_birth.setText(tomorrow)
        dialog.save_button().click()
        assert dialog.errors.label("given_name").text() == "Given name is required."
        assert dialog.errors.label("date_of_birth").text() == (
            "Date of birth cannot be in the future."
        )
        assert dialog.focusWidget() is dialog.given_name
        dialog.given_name.setText("Ada")
        dialog.date_of_birth.setText("1990-01-30")
        dialog.save_button().click()

    modal.then(register_after_fixing)
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    modal.check()
    assert modal.pending == 0, "Ctrl+N opened the patient form"
    opened = window.tabs.currentWidget()
    assert isinstance(opened, PatientWorkspace)
    qtbot.waitUntil(lambda: opened.name_label.text() == "Okafor, Ada")

    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.patients
    assert search.hasFocus()
    qtbot.keyClicks(search, "okaf")
    qtbot.waitUntil(lambda: window.patients.model.rowCount() == 1)
    assert window.patients.model.index(0, 0).data() == "Okafor"


def register_two_patients(services: Services, clinician: Clinician) -> None:
    actor = clinician.as_actor()
    services.patients.register(actor, person(mrn="A-1001"))
    services.patients.register(actor, person(family_name="Rivas", given_name="Tomás"))


def open_window(qtbot: QtBot, services: Services, clinician: Clinician) -> MainWindow:
    window = MainWindow(services, clinician, database_label="sqlite:///clinic.db")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_workspace_has_a_tab_for_each_part_of_the_record(
    qtbot: QtBot, services: Services, clinician: Clinician, registry: list[Patient]
) -> None:
    window = open_window(qtbot, services, clinician)
    workspace = window.open_patient(registry[0].id)
    names = [workspace.tabs.tabText(i) for i in range(workspace.tabs.count())]
    assert names == [
        "Overview",
        "Intake",
        "Plan",
        "Sessions",
        "Progress",
        "Outcomes",
        "Documents",
    ]
    assert workspace.tab("Documents") is workspace.documents_tab


def test_the_window_opens_on_the_day_view(
    qtbot: QtBot, services: Services, clinician: Clinician, registry: list[Patient]
) -> None:
    window = open_window(qtbot, services, clinician)
    assert window.tabs.currentWidget() is window.day_view
    assert window.tabs.tabText(0) == "Today"


def test_opening_an_open_patient_again_returns_to_their_tab(
    qtbot: QtBot, services: Services, clinician: Clinician, registry: list[Patient]
) -> None:
    window = open_window(qtbot, services, clinician)
    first = window.open_patient(registry[0].id)
    window.open_patient(registry[1].id)
    assert window.open_patient(registry[0].id) is first
    assert window.tabs.count() == 4  # Today, Patients and the two patients
    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(first))
    assert window.tabs.count() == 3
    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(window.day_view))
    assert window.tabs.count() == 3


def test_editing_from_the_workspace_updates_its_header_and_the_list(
    qtbot: QtBot,
    services: Services,
    clinician: Clinician,
    registry: list[Patient],
    modal: ModalDriver,
) -> None:
    window = open_window(qtbot, services, clinician)
    workspace = window.open_patient(registry[0].id)
    qtbot.waitUntil(lambda: workspace.edit_button.isEnabled())

    def rename(dialog: QWidget) -> None:
        assert isinstance(dialog, PatientDialog)
        dialog.family_name.setText("Rivera-Soto")
        dialog.save_button().click()

    modal.then(rename)
    workspace.edit_button.click()
    modal.check()
    qtbot.waitUntil(lambda: workspace.name_label.text() == "Rivera-Soto, Ana")
    assert window.tabs.tabText(window.tabs.indexOf(workspace)) == "Rivera-Soto, Ana"
    model = window.patients.model
    qtbot.waitUntil(lambda: "Rivera-Soto" in [model.index(r, 0).data() for r in range(5)])


def test_archiving_asks_first_and_then_takes_the_patient_off_the_list(
    qtbot: QtBot,
    services: Services,
    clinician: Clinician,
    registry: list[Patient],
    modal: ModalDriver,
) -> None:
    window = open_window(qtbot, services, clinician)
    workspace = window.open_patient(registry[0].id)
    qtbot.waitUntil(lambda: workspace.archive_button.isEnabled())

    def answer(button: QMessageBox.StandardButton) -> object:
        def press(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            assert "Archive Rivera, Ana?" in box.text()
            box.button(button).click()

        return press

    modal.then(answer(QMessageBox.StandardButton.No))
    workspace.archive_button.click()
    modal.check()
    assert not services.patients.get(COMMAND_LINE, registry[0].id).archived

    modal.then(answer(QMessageBox.StandardButton.Yes))
    workspace.archive_button.click()
    modal.check()
    assert services.patients.get(COMMAND_LINE, registry[0].id).archived
    qtbot.waitUntil(lambda: workspace.name_label.text() == "Rivera, Ana (archived)")
    assert not workspace.archive_button.isEnabled()
    qtbot.waitUntil(lambda: window.patients.model.row_of(registry[0].id) is None)


def test_signing_out_asks_for_a_sign_in_and_opens_a_fresh_window(
    qtbot: QtBot, services: Services, clinician: Clinician, modal: ModalDriver
) -> None:
    def sign_in(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        dialog.username.setText("mei")
        dialog.password.setText(PASSWORD)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    launcher = Launcher(services, database_label="")
    modal.then(sign_in)
    first = launcher.start()
    modal.check()
    assert first is not None
    qtbot.addWidget(first)

    def cancel(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        dialog.reject()

    modal.then(cancel)
    first.sign_out_action.trigger()
    modal.check()
    assert not first.isVisible()
    assert launcher.window is None


def test_front_desk_sees_the_patient_but_no_clinical_tab(
    qtbot: QtBot, services: Services, clinician: Clinician, registry: list[Patient]
) -> None:
    desk = services.accounts.create(
        clinician.as_actor(),
        NewClinician("Priya Nair", "priya", "front_desk", "front desk password"),
    )
    front_desk = services.clinic.sign_in("priya", "front desk password")
    assert front_desk.id == desk.id
    window = open_window(qtbot, services, front_desk)
    workspace = window.open_patient(registry[0].id)
    assert [workspace.tabs.tabText(i) for i in range(workspace.tabs.count())] == ["Overview"]
    assert workspace.tab("Sessions") is None
    assert not window.day_view.log_button.isEnabled()


def test_the_launcher_locks_an_idle_window_after_the_clinics_idle_time(
    qtbot: QtBot, services: Services, modal: ModalDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backclinic import launcher as launching
    from backclinic.ui.idle_lock import LockScreen

    # The clinic's setting is in minutes; the test runs the same wiring on milliseconds.
    minutes_seen: list[int] = []

    def short(minutes: int) -> int:
        minutes_seen.append(minutes)
        return 150

    monkeypatch.setattr(launching, "idle_interval_ms", short)
    launcher = Launcher(services, database_label="sqlite:///clinic.db")
    modal.then(set_up_clinic).then(sign_in_after_one_wrong_password)
    window = launcher.start()
    modal.check()
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    assert minutes_seen == [services.clinic.settings().idle_lock_minutes]
    try:
        qtbot.waitUntil(
            lambda: any(
                isinstance(w, LockScreen) and w.isVisible() for w in QApplication.topLevelWidgets()
            ),
            timeout=3000,
        )
    finally:
        launcher.shutdown()
