from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from backclinic.reports.content import Letterhead
from backclinic.services.bundle import Services
from backclinic.services.clinic import SIGN_IN_FAILED, Clinician
from backclinic.services.context import Actor
from backclinic.services.patients import Patient, PatientInput
from backclinic.ui.first_run import FirstRunDialog
from backclinic.ui.patient_dialog import PatientDialog
from backclinic.ui.sign_in import SignInDialog
from tests.actors import COMMAND_LINE
from tests.conftest import PASSWORD
from tests.ui.conftest import Handler, ModalDriver


def ok(dialog: FirstRunDialog | SignInDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_first_run_shows_each_missing_field_by_the_field_and_focuses_the_first(
    qtbot: QtBot, services: Services
) -> None:
    dialog = FirstRunDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.clinic_name.setText("Harbour Back Clinic")
    dialog.password.setText("short")
    dialog.password_confirm.setText("short")
    ok(dialog)
    assert dialog.isVisible()
    assert dialog.errors.label("full_name").text() == "Full name is required."
    assert dialog.errors.label("username").text() == "User name is required."
    assert "at least 8 characters" in dialog.errors.label("password").text()
    assert not dialog.errors.label("clinic_name").isVisible()
    assert dialog.focusWidget() is dialog.full_name
    assert not services.clinic.is_set_up()


def test_first_run_refuses_passwords_that_differ_before_setting_anything_up(
    qtbot: QtBot, services: Services
) -> None:
    dialog = FirstRunDialog(services)
    qtbot.addWidget(dialog)
    dialog.clinic_name.setText("Harbour Back Clinic")
    dialog.full_name.setText("Mei Lin")
    dialog.username.setText("mei")
    dialog.password.setText(PASSWORD)
    dialog.password_confirm.setText(PASSWORD + "!")
    ok(dialog)
    assert dialog.findChild(QWidget, "password_confirm_error").text() == (
        "The two passwords do not match."
    )
    assert not services.clinic.is_set_up()


def test_first_run_sets_up_the_clinic_with_the_chosen_role(
    qtbot: QtBot, services: Services, modal: ModalDriver
) -> None:
    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, FirstRunDialog)
        dialog.clinic_name.setText("Harbour Back Clinic")
        dialog.full_name.setText("Sam Okoro")
        dialog.username.setText("sam")
        dialog.role.setCurrentText("Physical therapist")
        dialog.password.setText(PASSWORD)
        dialog.password_confirm.setText(PASSWORD)
        ok(dialog)

    modal.then(fill)
    founder = FirstRunDialog.run(None, services)
    modal.check()
    assert founder is not None
    assert (founder.username, founder.role) == ("sam", "physical_therapist")
    assert services.clinic.settings().clinic_name == "Harbour Back Clinic"


def test_sign_in_shows_the_services_refusal_verbatim_and_clears_the_password(
    qtbot: QtBot, services: Services, clinician: Clinician
) -> None:
    dialog = SignInDialog(services)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Sign in — Harbour Back Clinic"
    dialog.username.setText("mei")
    dialog.password.setText("wrong password")
    ok(dialog)
    assert dialog.message.text() == SIGN_IN_FAILED
    assert dialog.password.text() == ""
    assert dialog.clinician is None
    dialog.password.setText(PASSWORD)
    ok(dialog)
    assert dialog.clinician == clinician


def fill_patient(dialog: PatientDialog, **fields: str) -> None:
    for name, text in fields.items():
        widget = getattr(dialog, name)
        if name == "address":
            widget.setPlainText(text)
        elif name == "sex":
            widget.setCurrentText(text)
        else:
            widget.setText(text)


def test_a_new_patient_with_bad_input_keeps_the_form_open_with_errors_by_the_fields(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    dialog = PatientDialog(services, actor)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    tomorrow = services.patients.today() + dt.timedelta(days=1)
    fill_patient(dialog, family_name="Rivera", date_of_birth=tomorrow.isoformat())
    dialog.save_button().click()
    assert dialog.isVisible()
    assert dialog.errors.label("given_name").text() == "Given name is required."
    assert dialog.errors.label("date_of_birth").text() == "Date of birth cannot be in the future."
    assert dialog.focusWidget() is dialog.given_name
    assert dialog.family_name.text() == "Rivera", "input is kept"
    assert services.patients.count(actor) == 0


def test_an_unreadable_date_of_birth_is_named_as_unreadable_not_missing(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    dialog = PatientDialog(services, actor)
    qtbot.addWidget(dialog)
    fill_patient(dialog, family_name="Rivera", given_name="Ana", date_of_birth="14th March")
    dialog.save_button().click()
    assert dialog.errors.label("date_of_birth").text() == (
        "Date of birth must be a date such as 1980-03-14."
    )
    assert not dialog.errors.label("given_name").isVisible()


def test_saving_a_new_patient_generates_an_mrn_when_left_blank(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, PatientDialog)
        assert dialog.mrn.placeholderText() == "Leave blank to generate"
        fill_patient(
            dialog,
            family_name="Okafor",
            given_name="Ada",
            date_of_birth="1990-01-30",
            sex="Female",
            phone="+44 20 7946 0000",
            address="1 Quay Street",
        )
        dialog.save_button().click()

    modal.then(fill)
    patient = PatientDialog.create(None, services, actor)
    modal.check()
    assert patient is not None
    assert patient.mrn == "BC-000001"
    assert (patient.sex, patient.address) == ("female", "1 Quay Street")


def test_editing_a_patient_shows_their_details_and_saves_the_change(
    qtbot: QtBot, services: Services, actor: Actor, registry: list[Patient], modal: ModalDriver
) -> None:
    ana = registry[0]

    def change(dialog: QWidget) -> None:
        assert isinstance(dialog, PatientDialog)
        assert dialog.windowTitle() == "Edit Rivera, Ana"
        assert (dialog.date_of_birth.text(), dialog.mrn.text()) == ("1980-03-14", "A-1001")
        dialog.occupation.setText("teacher")
        dialog.save_button().click()

    modal.then(change)
    saved = PatientDialog.edit(None, services, actor, ana.id)
    modal.check()
    assert saved is not None
    assert services.patients.get(actor, ana.id).occupation == "teacher"


def test_a_save_that_lost_a_race_shows_both_versions_and_keeps_the_input(
    qtbot: QtBot, services: Services, actor: Actor, registry: list[Patient], modal: ModalDriver
) -> None:
    ana = registry[0]
    dialog = PatientDialog(services, actor, patient=ana)
    qtbot.addWidget(dialog)
    nurse = dataclasses.replace(ana.as_input(), occupation="nurse")
    services.patients.update(actor, ana.id, nurse, ana.version)
    dialog.occupation.setText("teacher")
    seen: list[str] = []

    def read(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen.extend([box.text(), box.informativeText()])
        box.accept()

    modal.then(read)
    dialog.save_button().click()
    modal.check()
    assert "was changed by Mei Lin" in seen[0]
    assert "nothing was saved" in seen[0]
    assert "nurse" in seen[1] and "teacher" in seen[1]
    assert dialog.occupation.text() == "teacher"
    assert dialog.patient is None
    dialog.save_button().click()
    assert services.patients.get(COMMAND_LINE, ana.id).occupation == "teacher", (
        "a second save applies"
    )
    assert QApplication.activeModalWidget() is None


def test_sign_in_remembers_the_last_user_on_this_workstation_and_focuses_the_password(
    qtbot: QtBot, services: Services, clinician: Clinician
) -> None:
    first = SignInDialog(services)
    qtbot.addWidget(first)
    first.username.setText("mei")
    first.password.setText(PASSWORD)
    ok(first)
    assert first.clinician == clinician

    # The app is started again on this workstation: nothing is passed in.
    again = SignInDialog(services)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.username.text() == "mei"
    assert again.focusWidget() is again.password
    assert again.password.text() == ""


def test_a_failed_sign_in_is_not_remembered_as_the_workstation_user(
    qtbot: QtBot, services: Services, clinician: Clinician
) -> None:
    first = SignInDialog(services)
    qtbot.addWidget(first)
    first.username.setText("intruder")
    first.password.setText(PASSWORD)
    ok(first)
    assert first.clinician is None
    again = SignInDialog(services)
    qtbot.addWidget(again)
    assert again.username.text() == ""


def test_first_run_asks_for_the_clinics_address_phone_and_logo_for_the_letterhead(
    qtbot: QtBot, services: Services, tmp_path: Path
) -> None:
    logo = tmp_path / "logo.png"
    image = QImage(40, 20, QImage.Format.Format_RGB32)
    image.fill(0x1D6F72)
    assert image.save(str(logo))
    dialog = FirstRunDialog(services)
    qtbot.addWidget(dialog)
    dialog.clinic_name.setText("Harbour Back Clinic")
    dialog.address.setPlainText("12 Quay Street\nPortsmouth PO1 2AB")
    dialog.phone.setText("023 9200 1234")
    dialog.logo_path.setText(str(tmp_path / "missing.png"))
    dialog.full_name.setText("Mei Lin")
    dialog.username.setText("mei")
    dialog.password.setText(PASSWORD)
    dialog.password_confirm.setText(PASSWORD)
    ok(dialog)
    assert dialog.errors.label("logo_path").text() == (
        "The logo must be an existing PNG or JPEG file."
    )
    assert not services.clinic.is_set_up()
    dialog.logo_path.setText(str(logo))
    ok(dialog)
    assert dialog.clinician is not None
    settings = services.clinic.settings()
    assert settings.address == "12 Quay Street\nPortsmouth PO1 2AB"
    assert settings.phone == "023 9200 1234"
    assert settings.logo_path == str(logo)
    letterhead = Letterhead(settings.clinic_name, settings.address, settings.phone)
    assert letterhead.contact_line == ("12 Quay Street, Portsmouth PO1 2AB · Tel. 023 9200 1234")


def _register_hung_again(dialog: QWidget) -> None:
    assert isinstance(dialog, PatientDialog)
    fill_patient(dialog, family_name="PHAM", given_name="van hung", date_of_birth="1975-06-02")
    dialog.save_button().click()


def _duplicate_answer(button: str, seen: list[str]) -> Handler:
    def answer(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        chosen = next(b for b in box.buttons() if b.text() == button)
        chosen.click()

    return answer


def test_registering_the_same_name_and_birth_date_shows_the_existing_record_to_open(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    hung = services.patients.register(
        actor,
        PatientInput(family_name="Phạm", given_name="Văn Hùng", date_of_birth=dt.date(1975, 6, 2)),
    )
    seen: list[str] = []
    modal.then(_register_hung_again).then(_duplicate_answer("Open it", seen))
    opened = PatientDialog.create(None, services, actor)
    modal.check()
    assert hung.mrn in seen[0] and "same name and date of birth" in seen[0]
    assert opened is not None and opened.id == hung.id
    assert services.patients.count(actor) == 1, "nothing registered twice"


def test_registering_anyway_after_the_duplicate_warning_registers_a_second_patient(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    hung = services.patients.register(
        actor,
        PatientInput(family_name="Phạm", given_name="Văn Hùng", date_of_birth=dt.date(1975, 6, 2)),
    )
    seen: list[str] = []
    modal.then(_register_hung_again).then(_duplicate_answer("Register anyway", seen))
    second = PatientDialog.create(None, services, actor)
    modal.check()
    assert seen and second is not None and second.id != hung.id
    assert services.patients.count(actor) == 2


def test_a_refused_sign_in_shows_its_whole_sentence(
    qtbot: QtBot, services: Services, clinician: Clinician
) -> None:
    dialog = SignInDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.username.setText("mei")
    dialog.password.setText("wrong password")
    ok(dialog)
    QApplication.processEvents()
    message = dialog.message
    # The sentence wraps over several lines; the dialog grows to show every one of them.
    assert message.height() >= message.heightForWidth(message.width()) > 0
    assert dialog.height() >= dialog.sizeHint().height()
