"""Recording what lifts a stop: a clinician's clearance of red flags, and the outcome of an
urgent referral. Reached from the patient's Overview tab.

Who and when are not typed: the signed-in clinician and the clinic clock's date are shown and
recorded by the service. Each rule broken shows under its field in one sentence.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ServiceError, ValidationFailed
from backclinic.services.safety import ClearanceInput, SafetyRecord, SafetyStatus
from backclinic.ui.field_errors import ERROR_STYLE, FieldErrors
from backclinic.ui.operations import Operations

URGENT_STYLE = "color: white; background: #b00020; padding: 6px; font-weight: bold;"


def day_words(services: Services) -> str:
    day = services.context.clock.today()
    return f"{day.day} {day:%b} {day.year}"


class _RecordDialog(QDialog):
    """The shared frame: who and when (read-only), the fields, the general error, Save."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        status: SafetyStatus,
        parent: QWidget | None,
        operations: Operations | None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._patient_id = patient_id
        self._status = status
        self._operations = operations or Operations(self)
        self.record: SafetyRecord | None = None
        self.summary = QLabel(status.message)
        self.summary.setObjectName("safety_summary")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(URGENT_STYLE if status.on_hold else "padding: 6px;")
        self.form = QFormLayout()
        self.form.addRow("Clinician", QLabel(actor.name))
        self.form.addRow("Date", QLabel(day_words(services)))
        self.errors = FieldErrors(self.form)
        self.reason = QPlainTextEdit()
        self.reason.setFixedHeight(90)
        self.general_error = QLabel()
        self.general_error.setObjectName("general_error")
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.resize(620, 460)

    def _finish_layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(self.form)
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def save_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def _save(self) -> SafetyRecord:
        raise NotImplementedError

    def _on_buttons_accepted(self) -> None:
        try:
            self.record = self._save()
        except ValidationFailed as error:
            leftover = self.errors.show(error.by_field)
            self.general_error.setText(" ".join(leftover.values()))
            self.general_error.setVisible(bool(leftover))
            return
        except ServiceError as error:
            self.errors.clear()
            self.general_error.setText(str(error))
            self.general_error.show()
            return
        self.accept()


class ClearanceDialog(_RecordDialog):
    """Which present red flags are cleared, how, and why (a few words at least)."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        status: SafetyStatus,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(services, actor, patient_id, status, parent, operations)
        self.setWindowTitle("Record a clearance of red flags")
        urgent = {i for g in services.protocol.red_flag_groups if g.urgent for i in g.items}
        uncleared = {i.code for i in status.uncleared}
        self.flags = QWidget()
        column = QVBoxLayout(self.flags)
        column.setContentsMargins(0, 0, 0, 0)
        self.flag_boxes: dict[str, QCheckBox] = {}
        for item in status.red_flags_present:
            if item.code in urgent:
                continue
            box = QCheckBox(item.label + (" (cleared before)" if item.cleared else ""))
            box.setObjectName(f"clear_{item.code}")
            box.setChecked(item.code in uncleared)
            self.flag_boxes[item.code] = box
            column.addWidget(box)
        if not self.flag_boxes:
            column.addWidget(QLabel("No red flag present that a clearance can lift."))
        self.method = QComboBox()
        self.method.addItem("Choose how it was cleared", "")
        for code, words in services.safety.clearance_methods():
            self.method.addItem(words, code)
        self.reason.setPlaceholderText(
            "Why the flags are cleared, e.g. 'GP letter of 2 Jan: bloods and X-ray normal'"
        )
        self.errors.add_row("flags", "Flags it clears", self.flags)
        self.errors.add_row("method", "How", self.method)
        self.errors.add_row("reason", "Reason", self.reason)
        self._finish_layout()

    def chosen_flags(self) -> tuple[str, ...]:
        return tuple(code for code, box in self.flag_boxes.items() if box.isChecked())

    def _save(self) -> SafetyRecord:
        data = ClearanceInput(
            flags=self.chosen_flags(),
            method=str(self.method.currentData() or ""),
            reason=self.reason.toPlainText(),
        )
        record: SafetyRecord = self._operations.run(
            self._services.safety.record_clearance,
            self._actor,
            self._patient_id,
            data,
            patient_id=self._patient_id,
        )
        return record


class ReferralOutcomeDialog(_RecordDialog):
    """What the urgent referral found: recording it lifts the hold on treatment."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        status: SafetyStatus,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(services, actor, patient_id, status, parent, operations)
        self.setWindowTitle("Record the outcome of the urgent referral")
        self.reason.setPlaceholderText(
            "What the referral found, e.g. 'Emergency MRI 3 Feb: no cauda equina compression'"
        )
        self.errors.add_row("reason", "Outcome", self.reason)
        note = QLabel(
            "Recording the outcome lifts the hold: sessions can be logged again. Re-screen red "
            "flags at the next visit."
        )
        note.setWordWrap(True)
        note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form.addRow("", note)
        self._finish_layout()

    def _save(self) -> SafetyRecord:
        record: SafetyRecord = self._operations.run(
            self._services.safety.record_referral_outcome,
            self._actor,
            self._patient_id,
            self.reason.toPlainText(),
            patient_id=self._patient_id,
        )
        return record
