"""The first screen after sign-in: today's visits and the overdue ones, across active plans."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import NotFound, ServiceError, ValidationFailed
from backclinic.services.permissions import Permission, allows
from backclinic.services.plans import VisitView
from backclinic.services.schedule_view import DayScheduleService, DueVisit
from backclinic.services.use_case import Change
from backclinic.ui.field_errors import FieldErrors
from backclinic.ui.operations import Changes, Operations
from backclinic.ui.row_table import RowTableModel, row_table_view
from backclinic.ui.tasks import LatestRead

CLINICIAN_ROLES_WITH_VISITS = frozenset({"acupuncturist", "physical_therapist"})
MISSED_COLOUR = QColor("#b00020")
OVERDUE_COLOUR = QColor("#a15c00")


URGENT_BACKGROUND = QColor("#fde0e0")


def _empty_text(mine: bool, *, hidden: int) -> str:
    """What an empty Today list says, and what to do next."""
    if mine and hidden:
        others = f"{hidden} visit{'s' if hidden != 1 else ''}"
        return (
            f"Nothing scheduled for you today. {others} of colleagues are due; untick "
            "“My visits only” to see them."
        )
    return (
        "Nothing scheduled today. Visits appear here once a patient has a plan: open a "
        "patient from the Patients list and build one with the plan wizard."
    )


def status_text(visit: DueVisit, labels: Callable[[str, str], str]) -> str:
    """The visit's status in words: a hold or an overdue visit says so first."""
    if visit.urgent_referral:
        return "Urgent referral"
    return "Overdue" if visit.overdue else labels("visit_statuses", visit.status)


class DueVisitsModel(RowTableModel[DueVisit]):
    """Due visits as rows; missed and overdue ones stand out in colour."""

    def __init__(self, labels: Callable[[str, str], str], parent: QWidget | None = None) -> None:
        super().__init__(
            [
                ("Date", lambda v: v.visit_date.strftime("%a %d %b")),
                ("Time", lambda v: v.visit_time or "—"),
                ("Patient", lambda v: v.patient_name),
                ("MRN", lambda v: v.mrn),
                ("Clinician", lambda v: v.clinician_name or "Anyone"),
                ("Phase", lambda v: str(v.phase_number)),
                ("Planned", lambda v: ", ".join(labels("modalities", m) for m in v.modalities)),
                ("Status", lambda v: status_text(v, labels)),
            ],
            parent,
        )

    def set_visits(self, visits: list[DueVisit]) -> None:
        self.set_rows(visits)

    def visit(self, row: int) -> DueVisit | None:
        return self.row(row)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        # A visit's id is its visit_id.
        if role == Qt.ItemDataRole.UserRole and index.isValid():
            visit = self.row(index.row())
            return visit.visit_id if visit else None
        return super().data(index, role)

    def extra(self, item: DueVisit, column: int, role: int) -> Any:
        if item.urgent_referral and role == Qt.ItemDataRole.BackgroundRole:
            return URGENT_BACKGROUND
        if role == Qt.ItemDataRole.ForegroundRole:
            if item.urgent_referral or item.status == "missed":
                return MISSED_COLOUR
            if item.overdue:
                return OVERDUE_COLOUR
        return None


class DayView(QWidget):
    """Visits due today and overdue; open the patient, log the session, or mark it missed.

    Rescheduling a single visit is not offered: no service moves one visit yet.
    """

    patient_opened = Signal(int)
    session_requested = Signal(int, int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        schedule: DayScheduleService | None = None,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._schedule = schedule or services.schedule
        self._operations = operations or Operations(self)
        self._reads = LatestRead(self._operations.tasks, self)
        self._reads.settled.connect(self._on_reads_settled)
        self.title = QLabel()
        self.title.setObjectName("day_title")
        self.title.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.model = DueVisitsModel(services.catalogue.label, self)
        self.table = row_table_view(self.model)
        self.mine_only = QCheckBox("&My visits only")
        self.mine_only.setObjectName("my_visits")
        # Clinicians start on their own list; the front desk books for everyone.
        self.mine_only.setChecked(
            actor.clinician_id is not None and actor.role in CLINICIAN_ROLES_WITH_VISITS
        )
        self.mine_only.setVisible(actor.clinician_id is not None)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("empty_state")
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()
        self._due: tuple[dt.date, list[DueVisit]] | None = None
        self.open_button = QPushButton("Open patient")
        self.log_button = QPushButton("Log session…")
        self.missed_button = QPushButton("Mark missed")
        self.reschedule_button = QPushButton("Reschedule…")
        self.refresh_button = QPushButton("Refresh")
        buttons = QHBoxLayout()
        for button in (
            self.open_button,
            self.log_button,
            self.missed_button,
            self.reschedule_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.mine_only)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(buttons)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table, 1)
        # Takes the room the hidden table leaves, so an empty day reads from the top.
        layout.addStretch(0)
        self.mine_only.toggled.connect(self._on_mine_only_toggled)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.log_button.clicked.connect(self._on_log_button_clicked)
        self.missed_button.clicked.connect(self._on_missed_button_clicked)
        self.reschedule_button.clicked.connect(self._on_reschedule_button_clicked)
        self.refresh_button.clicked.connect(self.reload)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self._operations.changed.connect(self._on_operations_changed)
        self._on_table_selection_changed()
        self.reload()

    @property
    def loading(self) -> bool:
        """True while the due visits are being read (off the GUI thread)."""
        return self._reads.loading

    def reload(self) -> None:
        self.refresh_button.setEnabled(False)
        self.setCursor(Qt.CursorShape.BusyCursor)
        schedule, actor = self._schedule, self._actor

        def read() -> tuple[dt.date, list[DueVisit]]:
            today = schedule.today()
            return today, schedule.due(actor, today)

        self._reads.run(read, self._show_due)

    def _on_reads_settled(self) -> None:
        self.refresh_button.setEnabled(True)
        self.unsetCursor()

    def _show_due(self, due: tuple[dt.date, list[DueVisit]]) -> None:
        self._due = due
        today, everyone = due
        mine = self.mine_only.isChecked()
        # Visits booked before they had a clinician belong to no one, so everyone sees them.
        visits = [
            v for v in everyone if not mine or v.clinician_id in (None, self._actor.clinician_id)
        ]
        selected = self.selected()
        self.model.set_visits(visits)
        overdue = sum(v.overdue for v in visits)
        todays = sum(v.visit_date == today for v in visits)
        whose = "your visits: " if mine else ""
        self.title.setText(
            f"{today.strftime('%A %d %B %Y')} — {whose}{todays} today, {overdue} overdue"
        )
        self.empty_label.setText(_empty_text(mine, hidden=len(everyone) - len(visits)))
        self.empty_label.setVisible(not visits)
        self.table.setVisible(bool(visits))
        if selected is not None:
            for row, visit in enumerate(visits):
                if visit.visit_id == selected.visit_id:
                    self.table.selectRow(row)
        self._on_table_selection_changed()

    def _on_mine_only_toggled(self, _checked: bool) -> None:
        if self._due is not None:
            self._show_due(self._due)

    def selected(self) -> DueVisit | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.visit(rows[0].row()) if rows else None

    def _on_operations_changed(self, changes: Changes) -> None:
        # Names show here too; a plan's visits and their statuses are the list itself.
        if changes.touches(Change.SCHEDULE, Change.SESSIONS, Change.PLAN, Change.PATIENTS):
            self.reload()

    def _on_table_selection_changed(self, *_args: object) -> None:
        visit = self.selected()
        self.open_button.setEnabled(visit is not None)
        self.log_button.setEnabled(
            visit is not None
            and visit.status != "done"
            and allows(self._actor, Permission.WRITE_CLINICAL)
        )
        self.missed_button.setEnabled(visit is not None and visit.status == "planned")
        self.reschedule_button.setEnabled(
            visit is not None and visit.status in ("planned", "missed")
        )

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        visit = self.model.visit(index.row())
        if visit is not None:
            self.patient_opened.emit(visit.patient_id)

    def _on_open_button_clicked(self) -> None:
        visit = self.selected()
        if visit is not None:
            self.patient_opened.emit(visit.patient_id)

    def _on_log_button_clicked(self) -> None:
        visit = self.selected()
        if visit is not None:
            self.session_requested.emit(visit.patient_id, visit.visit_id)

    def _on_reschedule_button_clicked(self) -> None:
        visit = self.selected()
        if visit is None:
            return
        RescheduleDialog.reschedule(
            self, self._services, self._actor, visit, operations=self._operations
        )

    def _on_missed_button_clicked(self) -> None:
        visit = self.selected()
        if visit is None:
            return
        try:
            self._operations.run(
                self._services.sessions.mark_missed,
                self._actor,
                visit.visit_id,
                patient_id=visit.patient_id,
            )
        except (ValidationFailed, NotFound) as error:
            QMessageBox.warning(self, "Cannot mark missed", str(error))
            self.reload()


class RescheduleDialog(QDialog):
    """Move one planned or missed visit to another clinic day; refusals by the date field."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        visit: DueVisit,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._visit = visit
        self._operations = operations or Operations(self)
        self.moved: VisitView | None = None
        self.setWindowTitle(f"Reschedule — {visit.patient_name}")
        today = services.schedule.today()
        self.visit_date = QDateEdit(QDate(today.year, today.month, today.day))
        self.visit_date.setCalendarPopup(True)
        self.visit_date.setDisplayFormat("ddd yyyy-MM-dd")
        form = QFormLayout()
        self.errors = FieldErrors(form)
        planned = visit.visit_date.strftime("%a %d %b %Y")
        status = services.catalogue.label("visit_statuses", visit.status).lower()
        form.addRow("Planned for", QLabel(f"{planned} ({status})"))
        self.errors.add_row("visit_date", "New date", self.visit_date)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

    @classmethod
    def reschedule(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        visit: DueVisit,
        *,
        operations: Operations | None = None,
    ) -> VisitView | None:
        dialog = cls(services, actor, visit, parent, operations=operations)
        dialog.exec()
        return dialog.moved

    def _on_buttons_accepted(self) -> None:
        new_date = self.visit_date.date().toPython()
        assert isinstance(new_date, dt.date)
        try:
            self.moved = self._operations.run(
                self._services.plans.reschedule_visit,
                self._actor,
                self._visit.visit_id,
                new_date,
                self._visit.version,
                patient_id=self._visit.patient_id,
            )
        except ValidationFailed as error:
            self.errors.show(error.by_field)
            return
        except ServiceError as error:
            self.errors.show({"visit_date": str(error)})
            return
        self.accept()
