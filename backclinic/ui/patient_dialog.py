"""Register a patient or change their details; validation and conflicts come from the service."""

from __future__ import annotations

import html
from collections.abc import Mapping

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ConflictError, NotFound, ValidationFailed
from backclinic.services.patients import SEXES, Patient, PatientInput, parse_date_query
from backclinic.ui.field_errors import FieldErrors
from backclinic.ui.operations import Operations

FIELD_LABELS = {
    "family_name": "Family name",
    "given_name": "Given name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "mrn": "MRN",
    "occupation": "Occupation",
    "phone": "Phone",
    "email": "Email",
    "address": "Address",
}
NOT_RECORDED = "Not recorded"
REGISTER = "register"
KEEP_EDITING = "keep editing"


class PatientDialog(QDialog):
    """The patient form; it stays open with the input kept until the service accepts it."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        patient: Patient | None = None,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._operations = operations or Operations(self)
        self._patient_id = patient.id if patient else None
        self._version = patient.version if patient else None
        self.patient: Patient | None = None
        self.setWindowTitle(f"Edit {patient.display_name}" if patient else "New patient")

        self.family_name = QLineEdit()
        self.given_name = QLineEdit()
        self.date_of_birth = QLineEdit()
        self.date_of_birth.setPlaceholderText("YYYY-MM-DD")
        self.sex = QComboBox()
        self.sex.addItem(NOT_RECORDED, None)
        for sex in SEXES:
            self.sex.addItem(sex.capitalize(), sex)
        self.mrn = QLineEdit()
        self.mrn.setPlaceholderText("Leave blank to generate")
        self.occupation = QLineEdit()
        self.phone = QLineEdit()
        self.email = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(64)

        form = QFormLayout()
        self.errors = FieldErrors(form)
        for field, label in FIELD_LABELS.items():
            self.errors.add_row(field, label, getattr(self, field))

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
        if patient is not None:
            self._fill(patient)
        self.family_name.setFocus()

    # Shadows QWidget.create (a C++ non-virtual that Qt never calls through Python); the
    # name is the dialog's documented entry point.
    @classmethod
    def create(  # type: ignore[override]
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        *,
        operations: Operations | None = None,
    ) -> Patient | None:
        dialog = cls(services, actor, parent, operations=operations)
        dialog.exec()
        return dialog.patient

    @classmethod
    def edit(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        patient_id: int,
        *,
        operations: Operations | None = None,
    ) -> Patient | None:
        try:
            patient = services.patients.get(actor, patient_id)
        except NotFound as error:
            QMessageBox.warning(parent, "Patient not found", str(error))
            return None
        dialog = cls(services, actor, parent, patient=patient, operations=operations)
        dialog.exec()
        return dialog.patient

    def save_button(self) -> QWidget:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def _fill(self, patient: Patient) -> None:
        self.family_name.setText(patient.family_name)
        self.given_name.setText(patient.given_name)
        self.date_of_birth.setText(patient.date_of_birth.isoformat())
        self.sex.setCurrentIndex(max(0, self.sex.findData(patient.sex)))
        self.mrn.setText(patient.mrn)
        self.mrn.setPlaceholderText("")
        self.occupation.setText(patient.occupation)
        self.phone.setText(patient.phone)
        self.email.setText(patient.email)
        self.address.setPlainText(patient.address)

    def _input(self) -> tuple[PatientInput, dict[str, str]]:
        typed_date = self.date_of_birth.text().strip()
        date_of_birth = parse_date_query(typed_date) if typed_date else None
        unreadable = {}
        if typed_date and date_of_birth is None:
            unreadable["date_of_birth"] = "Date of birth must be a date such as 1980-03-14."
        data = PatientInput(
            family_name=self.family_name.text(),
            given_name=self.given_name.text(),
            date_of_birth=date_of_birth,
            mrn=self.mrn.text(),
            sex=self.sex.currentData(),
            occupation=self.occupation.text(),
            phone=self.phone.text(),
            email=self.email.text(),
            address=self.address.toPlainText(),
        )
        return data, unreadable

    def _on_buttons_accepted(self) -> None:
        data, unreadable = self._input()
        if self._patient_id is None and not unreadable:
            choice = self._existing_record_chosen(data)
            if choice == KEEP_EDITING:
                return
            if isinstance(choice, Patient):
                self.patient = choice
                self.accept()
                return
        try:
            if self._patient_id is None:
                self.patient = self._operations.run(
                    self._services.patients.register, self._actor, data
                )
            else:
                assert self._version is not None
                self.patient = self._operations.run(
                    self._services.patients.update,
                    self._actor,
                    self._patient_id,
                    data,
                    self._version,
                )
        except ValidationFailed as error:
            # A date we could not read reaches the service as missing; say what was wrong.
            self.errors.show({**error.by_field, **unreadable})
            return
        except ConflictError as error:
            self._show_conflict(error)
            return
        self.accept()

    def _existing_record_chosen(self, data: PatientInput) -> Patient | str:
        """Show patients already on record who may be this one first: the existing
        patient when the clinician opens it, else REGISTER or KEEP_EDITING."""
        duplicates = self._services.patients.possible_duplicates(self._actor, data)
        if not duplicates:
            return REGISTER
        box = QMessageBox(self)
        box.setObjectName("duplicate_message")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("This patient may already be registered")
        box.setText(
            "A patient already on record may be the same person:\n"
            + "\n".join(duplicate.describe() for duplicate in duplicates)
        )
        open_it = box.addButton("Open it", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Register anyway", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(open_it)
        box.setEscapeButton(keep)
        box.exec()
        clicked = box.clickedButton()
        if clicked is open_it:
            try:
                return self._services.patients.get(self._actor, duplicates[0].patient.id)
            except NotFound:
                return KEEP_EDITING
        if clicked is keep or clicked is None:
            return KEEP_EDITING
        return REGISTER

    def _show_conflict(self, error: ConflictError) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Changed by someone else")
        box.setText(str(error))
        box.setInformativeText(_versions_table(error.change.theirs, error.change.yours))
        box.setObjectName("conflict_message")
        box.exec()
        # Their save is now the base; saving again applies this form on top of it.
        if self._patient_id is not None:
            try:
                self._version = self._services.patients.get(self._actor, self._patient_id).version
            except NotFound:
                self._version = None


def _versions_table(theirs: Mapping[str, object], yours: Mapping[str, object]) -> str:
    rows = []
    for field, label in FIELD_LABELS.items():
        their_value, your_value = theirs.get(field), yours.get(field)
        if their_value == your_value:
            continue
        rows.append(
            f"<tr><td>{label}</td><td>{html.escape(str(their_value or '—'))}</td>"
            f"<td>{html.escape(str(your_value or '—'))}</td></tr>"
        )
    if not rows:
        return "Their version and yours hold the same details."
    return (
        "<table cellspacing='6'><tr><th align='left'></th><th align='left'>Their version</th>"
        "<th align='left'>Your version</th></tr>" + "".join(rows) + "</table>"
    )
