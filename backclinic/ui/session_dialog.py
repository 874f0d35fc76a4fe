"""Log a treatment session, or amend one, fast enough to do between patients.

The form opens at once; what it needs from the records (the patient, the clinicians, the
safety status and its needling advice, the prefill) is read off the GUI thread, with the
form disabled, "Loading…" in the safety panel and Save off until it is in.

The whole form works from the keyboard. The pain rows take number keys when focused:
0–9 choose that score; "1" then "0" within a short moment gives 10, and so does End
(Home gives 0); Left/Right step; Delete clears. Ctrl+Enter (or Ctrl+Return) saves.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QDateTime,
    QElapsedTimer,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTime,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician
from backclinic.services.context import Actor
from backclinic.services.errors import ConflictError, StaleRecord, ValidationFailed
from backclinic.services.safety import NeedlingAdvice, SafetyStatus
from backclinic.services.sessions import (
    ADVERSE_EVENTS,
    MAX_NEEDLES,
    MAX_RETENTION_MINUTES,
    TOLERANCES,
    TREATING_ROLES,
    SessionInput,
    SessionRecord,
)
from backclinic.ui.acupoint_picker import AcupointPicker
from backclinic.ui.field_errors import ERROR_STYLE, FieldErrors
from backclinic.ui.local_drafts import DraftKeeper, DraftKey, watch_edits
from backclinic.ui.operations import Operations
from backclinic.ui.tasks import LOADING, LatestRead, expected_failure, read_failure
from backclinic.ui.unsaved_changes import discard_confirmed, in_use
from backclinic.ui.unusual_input import unusual_confirmed

TEN_WINDOW_MS = 800
NOT_RECORDED = "Not recorded"
URGENT_STYLE = "color: white; background: #b00020; padding: 6px; font-weight: bold;"
CAUTION_STYLE = "background: #fff4ce; padding: 6px;"


class PainScale(QFrame):
    """Eleven exclusive toggle buttons 0–10 that take number keys while the row has focus."""

    score_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("PainScale:focus { border: 2px solid palette(highlight); }")
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(3, 3, 3, 3)
        row.setSpacing(2)
        for score in range(11):
            button = QToolButton()
            button.setText(str(score))
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumWidth(28)
            self.group.addButton(button, score)
            row.addWidget(button)
        row.addStretch(1)
        self.group.idClicked.connect(self._on_group_id_clicked)
        self._one_pressed = QElapsedTimer()

    def value(self) -> int | None:
        score = self.group.checkedId()
        return None if score < 0 else score

    def set_value(self, score: int | None) -> None:
        if score == self.value():
            return
        if score is None:
            checked = self.group.checkedButton()
            if checked is not None:
                self.group.setExclusive(False)
                checked.setChecked(False)
                self.group.setExclusive(True)
        else:
            button = self.group.button(score)
            button.setChecked(True)
        self.score_changed.emit(score)

    def button(self, score: int) -> QToolButton:
        return self.group.button(score)  # type: ignore[return-value]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        current = self.value()
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
            digit = key - Qt.Key.Key_0
            ten = (
                digit == 0
                and current == 1
                and self._one_pressed.isValid()
                and not self._one_pressed.hasExpired(TEN_WINDOW_MS)
            )
            self.set_value(10 if ten else digit)
            if digit == 1:
                self._one_pressed.start()
            else:
                self._one_pressed.invalidate()
        elif key == Qt.Key.Key_Home:
            self.set_value(0)
        elif key == Qt.Key.Key_End:
            self.set_value(10)
        elif key == Qt.Key.Key_Left:
            self.set_value(max(0, (current if current is not None else 1) - 1))
        elif key == Qt.Key.Key_Right:
            self.set_value(min(10, (current if current is not None else -1) + 1))
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.set_value(None)
        else:
            super().keyPressEvent(event)

    def _on_group_id_clicked(self, score: int) -> None:
        self.setFocus()
        self.score_changed.emit(score)


class InterventionsModel(QAbstractTableModel):
    """PT interventions done this session as (code, dosage); the dosage is editable."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("Intervention", "Dosage")

    def __init__(self, labels: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels = labels
        self._rows: list[list[str]] = []

    def set_rows(self, rows: tuple[tuple[str, str], ...]) -> None:
        self.beginResetModel()
        self._rows = [[code, dosage] for code, dosage in rows]
        self.endResetModel()

    def rows(self) -> tuple[tuple[str, str], ...]:
        return tuple((code, dosage) for code, dosage in self._rows)

    def add(self, code: str, dosage: str) -> None:
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
        self._rows.append([code, dosage])
        self.endInsertRows()

    def remove(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        code, dosage = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._labels.get(code, code) if index.column() == 0 else dosage
        if role == Qt.ItemDataRole.UserRole:
            return code
        return None

    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = 2
    ) -> bool:
        if not index.isValid() or index.column() != 1 or role != Qt.ItemDataRole.EditRole:
            return False
        self._rows[index.row()][1] = str(value)
        self.dataChanged.emit(index, index, [role])
        return True

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == 1:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.COLUMNS[section]
        return None


def _optional_spin(maximum: int, suffix: str = "") -> QSpinBox:
    """A spin box whose lowest step means "not recorded" rather than zero."""
    spin = QSpinBox()
    spin.setRange(-1, maximum)
    spin.setSpecialValueText(NOT_RECORDED)
    spin.setSuffix(suffix)
    spin.setValue(-1)
    return spin


@dataclass(frozen=True)
class SessionFormRead:
    """What the form needs from the records, read together off the GUI thread."""

    patient_name: str
    # Who may be named as having given the session: active clinicians of a treating role.
    clinicians: list[Clinician]
    safety: SafetyStatus
    needling: NeedlingAdvice
    # What the form opens with: the prefill of a new session, or the session amended.
    opened_with: SessionInput
    visit_id: int | None
    amending: SessionRecord | None


def read_session_form(
    services: Services,
    actor: Actor,
    patient_id: int,
    visit_id: int | None,
    amending: SessionRecord | None,
) -> SessionFormRead:
    """Everything the session form shows before the clinician types; touches no widget."""
    patient = services.patients.get(actor, patient_id)
    safety = services.safety.status(actor, patient_id)
    needling = services.safety.needling(safety.precautions_in_force)
    clinicians = [
        c for c in services.clinic.clinicians(actor) if c.active and c.role in TREATING_ROLES
    ]
    if amending is not None:
        # Read again: the version amended is the one on record now.
        current = services.sessions.get(actor, amending.id)
        return SessionFormRead(
            patient.display_name,
            clinicians,
            safety,
            needling,
            current.data,
            current.data.visit_id,
            current,
        )
    prefill = services.sessions.prefill(actor, patient_id, services.context.clock.now())
    chosen = visit_id if visit_id is not None else prefill.visit_id
    planned = _planned_modalities(services, actor, patient_id, chosen)
    if planned:
        # Fulfilling an overdue visit: offer what that visit planned, not today's phase.
        prefill = replace(prefill, modalities=planned)
    return SessionFormRead(
        patient.display_name, clinicians, safety, needling, prefill, chosen, None
    )


def _section(title: str) -> QLabel:
    label = QLabel(title)
    label.setStyleSheet("font-weight: 600; margin-top: 8px;")
    return label


class SessionDialog(QDialog):
    """The session form; it stays open with the input kept until the service accepts it."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        *,
        visit_id: int | None = None,
        amending: SessionRecord | None = None,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._patient_id = patient_id
        self._amending = amending
        self._operations = operations or Operations(self)
        self.record: SessionRecord | None = None
        catalogue = services.catalogue
        self._patient_name = ""
        self._verb = "Amend session" if amending else "Log session"
        self.setWindowTitle(f"{self._verb} — {LOADING}")
        self._visit_id = visit_id
        # None until the records are read: then the status of today and what it rules out.
        self.safety: SafetyStatus | None = None
        self.needling: NeedlingAdvice | None = None
        self._electro_refusal: str | None = None
        self._pending_draft: SessionInput | None = None
        self.drafts: DraftKeeper | None = None

        self.reason = QLineEdit()
        self.reason.setPlaceholderText("What was wrong, and why it is corrected")
        self.performed_by = QComboBox()
        self.performed_at = QDateTimeEdit()
        self.performed_at.setCalendarPopup(True)
        self.performed_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self._show_moment(services.context.clock.now())  # the clock needs no read
        self.modalities = QWidget()
        modality_row = QHBoxLayout(self.modalities)
        modality_row.setContentsMargins(0, 0, 0, 0)
        self.modality_boxes: dict[str, QCheckBox] = {}
        for code, label in catalogue.codes["modalities"].items():
            box = QCheckBox(label)
            box.setObjectName(f"modality_{code}")
            self.modality_boxes[code] = box
            modality_row.addWidget(box)
        modality_row.addStretch(1)
        self.pain_before = PainScale()
        self.pain_after = PainScale()

        # Safety first: what the patient's current status rules out is shown, not offered
        # (the status and its refusals are filled in when the records are read).
        self.safety_panel = QLabel(LOADING)
        self.safety_panel.setObjectName("safety_panel")
        self.safety_panel.setWordWrap(True)
        self.safety_panel.setStyleSheet(CAUTION_STYLE)

        self.points_box = AcupointPicker(catalogue)
        # Pregnancy: lumbosacral and lower abdominal points only with an explicit
        # acknowledgement, asked for as soon as such a point is on the list.
        self.acknowledgement = QCheckBox()
        self.acknowledgement_advice = QLabel()
        self.acknowledgement_advice.setWordWrap(True)
        self.acknowledgement_row = QWidget()
        acknowledgement_layout = QVBoxLayout(self.acknowledgement_row)
        acknowledgement_layout.setContentsMargins(0, 0, 0, 0)
        acknowledgement_layout.addWidget(self.acknowledgement)
        acknowledgement_layout.addWidget(self.acknowledgement_advice)
        self.acknowledgement_row.hide()
        self.points_box.list.model().rowsInserted.connect(lambda *_: self._points_changed())
        self.points_box.list.model().rowsRemoved.connect(lambda *_: self._points_changed())
        self.points_box.list.model().modelReset.connect(lambda *_: self._points_changed())
        self.acupoints = self.points_box.list
        self.point_picker = self.points_box.picker
        self.add_point_button = self.points_box.add_button
        self.remove_point_button = self.points_box.remove_button
        self.needle_count = _optional_spin(MAX_NEEDLES)
        self.retention_minutes = _optional_spin(MAX_RETENTION_MINUTES, " min")
        self.electro = QCheckBox("Electro-acupuncture")
        self.electro_reason = QLabel(self._electro_refusal or "")
        self.electro_reason.setObjectName("electro_reason")
        self.electro_reason.setWordWrap(True)
        self.electro_reason.setVisible(self._electro_refusal is not None)
        self.electro_row = QWidget()
        electro_layout = QVBoxLayout(self.electro_row)
        electro_layout.setContentsMargins(0, 0, 0, 0)
        electro_layout.addWidget(self.electro)
        electro_layout.addWidget(self.electro_reason)
        self.technique = QLineEdit()
        self.technique.setPlaceholderText("e.g. even method, de qi obtained")

        labels = {code: item.label for code, item in catalogue.interventions.items()}
        self.interventions_model = InterventionsModel(labels, self)
        self.interventions_table = QTableView()
        self.interventions_table.setModel(self.interventions_model)
        self.interventions_table.setTabKeyNavigation(False)
        self.interventions_table.setSelectionBehavior(
            QAbstractItemView.SelectionBehavior.SelectRows
        )
        self.interventions_table.verticalHeader().hide()
        self.interventions_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.interventions_table.horizontalHeader().setStretchLastSection(True)
        self.interventions_table.setFixedHeight(110)
        self.intervention_picker = QComboBox()
        for code, item in catalogue.interventions.items():
            self.intervention_picker.addItem(item.label, code)
        self.add_intervention_button = QPushButton("Add")
        self.remove_intervention_button = QPushButton("Remove")
        self.interventions = QWidget()
        pt_layout = QVBoxLayout(self.interventions)
        pt_layout.setContentsMargins(0, 0, 0, 0)
        pt_layout.addWidget(self.interventions_table)
        pt_row = QHBoxLayout()
        pt_row.addWidget(self.intervention_picker, 1)
        pt_row.addWidget(self.add_intervention_button)
        pt_row.addWidget(self.remove_intervention_button)
        pt_layout.addLayout(pt_row)

        self.tolerance = QComboBox()
        self.tolerance.addItem(NOT_RECORDED, None)
        for code in TOLERANCES:
            self.tolerance.addItem(catalogue.label("tolerances", code), code)
        self.adverse_events = QWidget()
        events_row = QGridLayout(self.adverse_events)
        events_row.setContentsMargins(0, 0, 0, 0)
        self.adverse_boxes: dict[str, QCheckBox] = {}
        for code in ADVERSE_EVENTS:
            box = QCheckBox(catalogue.label("adverse_events", code))
            box.setObjectName(f"adverse_{code}")
            self.adverse_boxes[code] = box
            position = len(self.adverse_boxes) - 1
            events_row.addWidget(box, position // 3, position % 3)
        self.adverse_event_note = QLineEdit()
        self.subjective = self._notes()
        self.objective = self._notes()
        self.assessment_note = self._notes()
        self.plan_note = self._notes()

        self.general_error = QLabel()
        self.general_error.setObjectName("general_error")
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()

        form = QFormLayout()
        self.errors = FieldErrors(form)
        if amending is not None:
            self.errors.add_row("reason", "Reason for amendment", self.reason)
        self.errors.add_row("performed_at", "Date and time", self.performed_at)
        self.errors.add_row("performed_by", "Clinician", self.performed_by)
        self.errors.add_row("modalities", "Modalities", self.modalities)
        self.errors.add_row("pain_before", "Pain before (0–10)", self.pain_before)
        self.errors.add_row("pain_after", "Pain after (0–10)", self.pain_after)
        form.addRow(_section("Acupuncture"))
        self.errors.add_row("acupoints", "Points", self.points_box)
        self.errors.add_row("acknowledged_points", "", self.acknowledgement_row)
        self.acknowledgement.setObjectName("acknowledge_points")
        self.errors.add_row("needle_count", "Needles", self.needle_count)
        self.errors.add_row("retention_minutes", "Retention", self.retention_minutes)
        self.errors.add_row("electro", "", self.electro_row)
        self.errors.add_row("technique", "Technique", self.technique)
        form.addRow(_section("Physical therapy"))
        self.errors.add_row("interventions", "Interventions", self.interventions)
        form.addRow(_section("Response"))
        self.errors.add_row("tolerance", "Tolerance", self.tolerance)
        self.errors.add_row("adverse_events", "Adverse events", self.adverse_events)
        self.errors.add_row("adverse_event_note", "Adverse event note", self.adverse_event_note)
        form.addRow(_section("Notes (SOAP)"))
        self.errors.add_row("subjective", "Subjective", self.subjective)
        self.errors.add_row("objective", "Objective", self.objective)
        self.errors.add_row("assessment_note", "Assessment", self.assessment_note)
        self.errors.add_row("plan_note", "Plan", self.plan_note)

        page = QWidget()
        page.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._page = page
        self._scroll = scroll

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        for button in self.buttons.buttons():
            # Plain Enter must not save a half-filled clinical record; Ctrl+Enter does.
            if isinstance(button, QPushButton):
                button.setAutoDefault(False)
                button.setDefault(False)
        self.save_button().setToolTip("Save (Ctrl+Enter)")
        hint = QLabel("Pain rows: number keys; 1 then 0 or End for 10. Ctrl+Enter saves.")
        hint.setStyleSheet("color: palette(mid);")
        layout = QVBoxLayout(self)
        layout.addWidget(self.safety_panel)
        layout.addWidget(self.general_error)
        layout.addWidget(scroll, 1)
        layout.addWidget(hint)
        layout.addWidget(self.buttons)
        # A 1366×768 screen, less the title bar and the taskbar: the form scrolls inside.
        self.resize(820, 680)
        self.setMaximumHeight(720)

        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self._on_buttons_accepted)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.add_intervention_button.clicked.connect(self._on_add_intervention_button_clicked)
        self.remove_intervention_button.clicked.connect(self._on_remove_intervention_button_clicked)
        for box in self.modality_boxes.values():
            box.toggled.connect(self._on_modality_toggled)
        self._set_tab_order()
        # Nothing to type into or save until the records are in.
        scroll.setEnabled(False)
        self.save_button().setEnabled(False)
        self.save_button().setToolTip(LOADING)
        self._as_opened = self._typed()
        self._reads = LatestRead(self._operations.tasks, self)
        self._reads.run(
            lambda: read_session_form(services, actor, patient_id, visit_id, amending),
            self._on_read,
            self._on_read_failed,
        )

    @property
    def loading(self) -> bool:
        """True until the records the form opens with are in (or failed)."""
        return self._reads.loading

    @property
    def loaded(self) -> bool:
        """True once the form shows the records and can be saved from."""
        return self.needling is not None

    def _on_read_failed(self, error: Exception) -> None:
        self.safety_panel.setText(read_failure(error, "The records this form needs"))
        self.safety_panel.setStyleSheet(URGENT_STYLE)
        self.save_button().setToolTip("")
        if not expected_failure(error):
            raise error

    def _on_read(self, read: SessionFormRead) -> None:
        self._patient_name = read.patient_name
        self.setWindowTitle(f"{self._verb} — {read.patient_name}")
        for clinician in read.clinicians:
            self.performed_by.addItem(
                f"{clinician.full_name} ({clinician.role_label})", clinician.id
            )
        self.safety, self.needling = read.safety, read.needling
        self._electro_refusal = read.needling.electro_refusal
        self.safety_panel.setText(self._safety_text())
        self.safety_panel.setStyleSheet(
            URGENT_STYLE if read.safety.blocks_sessions else CAUTION_STYLE
        )
        self.points_box.set_refusals(read.needling.forbidden)
        self.acknowledgement_advice.setText(read.needling.acknowledgement)
        self.electro_reason.setText(self._electro_refusal or "")
        self.electro_reason.setVisible(self._electro_refusal is not None)
        self._scroll.setEnabled(True)
        blocked = read.safety.blocks_sessions and self._amending is None
        self.save_button().setEnabled(not blocked)
        self.save_button().setToolTip(
            f"{read.safety.message} {self._where_to_lift()}" if blocked else "Save (Ctrl+Enter)"
        )
        self._visit_id = read.visit_id
        if read.amending is not None:
            self._amending = read.amending
        opened_with = read.opened_with
        forbidden = read.needling.forbidden
        # Planned (or last given) points a precaution recorded since rules out are not
        # proposed, and the form says which and why.
        left_out = [c for c in opened_with.acupoints if c in forbidden] if not read.amending else []
        if left_out:
            kept = tuple(c for c in opened_with.acupoints if c not in left_out)
            opened_with = replace(opened_with, acupoints=kept)
        self._fill(opened_with)
        if left_out:
            self.points_box.say(_left_out_words(left_out, forbidden))
        (self.reason if self._amending is not None else self.pain_before).setFocus()
        self._as_opened = self._typed()
        if self._pending_draft is not None:
            self.restore_draft(self._pending_draft)
        # A new session keeps a draft on this workstation, in case the app does not close.
        actor = self._actor
        if self._amending is None and actor.clinician_id is not None:
            identity = self._services.clinic.database_identity()
            self.drafts = DraftKeeper(
                self,
                DraftKey("session", identity, actor.clinician_id, self._patient_id),
                read.patient_name,
                self.draft_data,
                self.has_changes,
            )
            watch_edits(self._page, self.drafts.changed)
            for model in (self.interventions_model, self.acupoints.model()):
                model.rowsInserted.connect(lambda *_args: self._on_draft_model_changed())
                model.rowsRemoved.connect(lambda *_args: self._on_draft_model_changed())
                model.dataChanged.connect(lambda *_args: self._on_draft_model_changed())

    def _on_draft_model_changed(self) -> None:
        if self.drafts is not None:
            self.drafts.changed()

    def draft_data(self) -> SessionInput:
        """What the form would save now: a draft holds this."""
        return self.data()

    def restore_draft(self, data: SessionInput) -> None:
        """Put a draft's session back in the form (it counts as unsaved changes); while
        the records are read, once they are in."""
        if not self.loaded:
            self._pending_draft = data
            return
        self._pending_draft = None
        if data.visit_id is not None:
            self._visit_id = data.visit_id
        self._fill(data)

    @classmethod
    def log(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        patient_id: int,
        visit_id: int | None = None,
        *,
        operations: Operations | None = None,
    ) -> SessionRecord | None:
        dialog = cls(services, actor, patient_id, parent, visit_id=visit_id, operations=operations)
        dialog.exec()
        return dialog.record

    @classmethod
    def amend(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        original: SessionRecord,
        *,
        operations: Operations | None = None,
    ) -> SessionRecord | None:
        """Amend ``original`` (as listed; the form reads it again, off the GUI thread)."""
        dialog = cls(
            services, actor, original.patient_id, parent, amending=original, operations=operations
        )
        dialog.exec()
        return dialog.record

    def _where_to_lift(self) -> str:
        """Where the stop is lifted, for the clinician looking at a disabled Save."""
        if self.safety is not None and self.safety.on_hold:
            return (
                "Record the outcome of the referral on the patient's Overview tab "
                "(Record referral outcome…)."
            )
        return "Record the clearance on the patient's Overview tab (Record clearance…)."

    def _safety_text(self) -> str:
        """The status in words: the hold or needed clearance first, then each precaution
        in force with its needling advice."""
        status, needling = self.safety, self.needling
        if status is None or needling is None:
            return LOADING
        lines = [f"{status.message} {self._where_to_lift()}"] if status.blocks_sessions else []
        rules = needling.precautions
        if rules:
            lines.append("Precautions in force:")
            lines += [f"• {label}: {needling}" for label, needling in rules]
        elif status.precautions:
            lines.append("No acupuncture precaution recorded at the latest screen.")
        else:
            lines.append("Acupuncture precautions have not been screened.")
        return "\n".join(lines)

    def save_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def has_changes(self) -> bool:
        return self._typed() != self._as_opened

    def reject(self) -> None:
        # Escape, Cancel and the window's close button all come here.
        if in_use(self) and self.has_changes() and not discard_confirmed(self, "session form"):
            return
        super().reject()

    def _typed(self) -> tuple[SessionInput, str]:
        return self.data(), self.reason.text()

    def point_codes(self) -> tuple[str, ...]:
        return self.points_box.codes()

    def add_point(self, code: str) -> None:
        self.points_box.add(code)

    def data(self) -> SessionInput:
        """What the form holds, as the service takes it; disabled sections record nothing."""
        chosen = tuple(code for code, box in self.modality_boxes.items() if box.isChecked())
        acupuncture = "acupuncture" in chosen
        pt = "pt" in chosen
        performed = self.performed_at.dateTime().toPython()
        assert isinstance(performed, dt.datetime)
        return SessionInput(
            performed_at=self._services.context.clock.at(performed.date(), performed.time()),
            modalities=chosen,
            pain_before=self.pain_before.value(),
            pain_after=self.pain_after.value(),
            acupoints=self.point_codes() if acupuncture else (),
            needle_count=_spin_value(self.needle_count) if acupuncture else None,
            retention_minutes=_spin_value(self.retention_minutes) if acupuncture else None,
            electro=self.electro.isChecked() and self.electro.isEnabled() if acupuncture else False,
            technique=self.technique.text().strip() if acupuncture else "",
            interventions=self.interventions_model.rows() if pt else (),
            tolerance=self.tolerance.currentData(),
            adverse_events=tuple(
                code for code, box in self.adverse_boxes.items() if box.isChecked()
            ),
            adverse_event_note=self.adverse_event_note.text().strip(),
            subjective=self.subjective.toPlainText().strip(),
            objective=self.objective.toPlainText().strip(),
            assessment_note=self.assessment_note.toPlainText().strip(),
            plan_note=self.plan_note.toPlainText().strip(),
            visit_id=self._visit_id,
            performed_by=self.performed_by.currentData(),
            acknowledged_points=(
                self.needs_acknowledgement()
                if acupuncture and self.acknowledgement.isChecked()
                else ()
            ),
        )

    def needs_acknowledgement(self) -> tuple[str, ...]:
        """The chosen points that the precautions in force allow only when acknowledged."""
        if self.needling is None:
            return ()
        acknowledge = self.needling.acknowledge
        return tuple(code for code in self.point_codes() if code in acknowledge)

    def _points_changed(self) -> None:
        # Connected through a lambda: the list's model signals while the form is destroyed.
        if not (isValid(self) and isValid(self.acknowledgement)):
            return
        needed = self.needs_acknowledgement()
        self.acknowledgement_row.setVisible(bool(needed))
        if needed and self.needling is not None:
            self.acknowledgement.setText(
                f"I acknowledge needling {', '.join(needed)} under the precaution in force"
            )
            self.acknowledgement.setToolTip(self.needling.acknowledge[needed[0]])

    def _notes(self) -> QPlainTextEdit:
        edit = QPlainTextEdit()
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(52)
        return edit

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = []
        if self._amending is not None:
            chain.append(self.reason)
        chain += [self.performed_at, self.performed_by, *self.modality_boxes.values()]
        chain += [self.pain_before, self.pain_after]
        chain += [
            self.acupoints,
            self.point_picker,
            self.add_point_button,
            self.remove_point_button,
            self.needle_count,
            self.retention_minutes,
            self.electro,
            self.technique,
            self.interventions_table,
            self.intervention_picker,
            self.add_intervention_button,
            self.remove_intervention_button,
            self.tolerance,
            *self.adverse_boxes.values(),
            self.adverse_event_note,
            self.subjective,
            self.objective,
            self.assessment_note,
            self.plan_note,
            self.save_button(),
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel),
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _fill(self, data: SessionInput) -> None:
        giver = data.performed_by if data.performed_by is not None else self._actor.clinician_id
        index = self.performed_by.findData(giver)
        if index >= 0:
            self.performed_by.setCurrentIndex(index)
        self._show_moment(data.performed_at)
        for code, box in self.modality_boxes.items():
            box.setChecked(code in data.modalities)
        self.pain_before.set_value(data.pain_before)
        self.pain_after.set_value(data.pain_after)
        self.points_box.set_points(dict.fromkeys(data.acupoints, ""))
        self.acknowledgement.setChecked(bool(data.acknowledged_points))
        self.needle_count.setValue(-1 if data.needle_count is None else data.needle_count)
        self.retention_minutes.setValue(
            -1 if data.retention_minutes is None else data.retention_minutes
        )
        self.electro.setChecked(data.electro)
        self.technique.setText(data.technique)
        self.interventions_model.set_rows(data.interventions)
        self.tolerance.setCurrentIndex(max(0, self.tolerance.findData(data.tolerance)))
        for code, box in self.adverse_boxes.items():
            box.setChecked(code in data.adverse_events)
        self.adverse_event_note.setText(data.adverse_event_note)
        self.subjective.setPlainText(data.subjective)
        self.objective.setPlainText(data.objective)
        self.assessment_note.setPlainText(data.assessment_note)
        self.plan_note.setPlainText(data.plan_note)
        self._on_modality_toggled()

    def _show_moment(self, moment: dt.datetime) -> None:
        # The form shows and takes the clinic's wall clock, whatever zone this computer is in.
        wall = self._services.context.clock.in_zone(moment)
        self.performed_at.setDateTime(
            QDateTime(
                QDate(wall.year, wall.month, wall.day),
                QTime(wall.hour, wall.minute, wall.second),
            )
        )

    def _on_modality_toggled(self, _checked: bool = False) -> None:
        acupuncture = self.modality_boxes["acupuncture"].isChecked()
        pt = self.modality_boxes["pt"].isChecked()
        for widget in (
            self.points_box,
            self.needle_count,
            self.retention_minutes,
            self.electro,
            self.technique,
        ):
            widget.setEnabled(acupuncture)
        if self._electro_refusal is not None:
            self.electro.setChecked(False)
            self.electro.setEnabled(False)
        self.interventions.setEnabled(pt)

    def _on_add_intervention_button_clicked(self) -> None:
        code = self.intervention_picker.currentData()
        if code is None or code in {c for c, _d in self.interventions_model.rows()}:
            return
        self.interventions_model.add(code, self._services.catalogue.interventions[code].dosage)

    def _on_remove_intervention_button_clicked(self) -> None:
        self.interventions_model.remove(self.interventions_table.currentIndex().row())

    def unusual(self, data: SessionInput) -> list[str]:
        """What the clinician confirms before this session is saved."""
        findings = []
        if data.pain_before is not None and data.pain_after is None:
            findings.append("Pain after the session is not recorded.")
        if self._amending is None:
            day = self._services.context.clock.date_of(data.performed_at)
            same_day = [
                record
                for record in self._services.sessions.history(self._actor, self._patient_id)
                if record.performed_on == day
            ]
            if same_day:
                count = len(same_day)
                findings.append(
                    f"{self._patient_name} already has {count} "
                    f"session{'' if count == 1 else 's'} on {day.isoformat()}; this would be "
                    "another one that day."
                )
        return findings

    def _on_buttons_accepted(self) -> None:
        if not self.loaded:
            return  # Ctrl+Enter before the records are in: there is nothing to save yet
        data = self.data()
        if in_use(self) and not unusual_confirmed(self, self.unusual(data)):
            return
        try:
            if self._amending is None:
                self.record = self._operations.run(
                    self._services.sessions.log, self._actor, self._patient_id, data
                )
            else:
                self.record = self._operations.run(
                    self._services.sessions.amend,
                    self._actor,
                    self._amending.id,
                    data,
                    self.reason.text(),
                    self._amending.version,
                )
        except ValidationFailed as error:
            self._show_errors(error.by_field)
            return
        except (StaleRecord, ConflictError) as error:
            QMessageBox.warning(self, "Changed by someone else", str(error))
            return
        self.accept()

    def _show_errors(self, by_field: dict[str, str]) -> None:
        # "acupoints[2]" belongs under the points list; keep the first message per field.
        placed: dict[str, str] = {}
        for field, message in by_field.items():
            placed.setdefault(re.sub(r"\[.*$", "", field), message)
        unplaced = self.errors.show(placed)
        self.general_error.setText("\n".join(unplaced.values()))
        self.general_error.setVisible(bool(unplaced))


def _spin_value(spin: QSpinBox) -> int | None:
    return None if spin.value() < 0 else spin.value()


def _planned_modalities(
    services: Services, actor: Actor, patient_id: int, visit_id: int | None
) -> tuple[str, ...]:
    if visit_id is None:
        return ()
    plan = services.plans.active_plan(actor, patient_id)
    visit = next((v for v in plan.visits if v.id == visit_id), None) if plan else None
    return visit.modalities if visit else ()


def _left_out_words(codes: Sequence[str], why: Mapping[str, str]) -> str:
    """'SP6 and LI4 are in the plan but not offered because of …', from the reasons the
    safety service gives for each point (one sentence per precaution)."""
    groups: dict[str, list[str]] = {}
    for code in codes:
        text = why[code]
        reason = text.removeprefix(f"{code} is not offered")
        groups.setdefault(reason if reason != text else f": {text}", []).append(code)
    sentences = []
    for reason, points in groups.items():
        listed = points[0] if len(points) == 1 else f"{', '.join(points[:-1])} and {points[-1]}"
        verb = "is" if len(points) == 1 else "are"
        sentences.append(f"{listed} {verb} in the plan but not offered{reason}")
    return " ".join(sentences) + " Left out of this session."
