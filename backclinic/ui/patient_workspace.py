"""One opened patient: who they are at a glance, and a tab per part of their record."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ConflictError
from backclinic.services.patients import Patient
from backclinic.services.permissions import Permission, allows
from backclinic.services.use_case import Change
from backclinic.ui.documents_tab import DocumentsTab
from backclinic.ui.intake_tab import IntakeTab
from backclinic.ui.operations import Changes, Operations
from backclinic.ui.overview_tab import OverviewTab
from backclinic.ui.patient_dialog import PatientDialog
from backclinic.ui.plan_tab import PlanTab
from backclinic.ui.reassessment_view import ReassessmentView
from backclinic.ui.sessions_tab import SessionsTab
from backclinic.ui.tasks import LOADING, LatestRead, expected_failure, read_failure

if TYPE_CHECKING:
    from backclinic.ui.progress_tab import ProgressTab


def _progress_tab(
    services: Services, actor: Actor, patient_id: int, operations: Operations
) -> ProgressTab:
    # QtCharts is a large import: load it when the first patient opens, not at start-up.
    from backclinic.ui.progress_tab import ProgressTab

    return ProgressTab(services, actor, patient_id, operations=operations)


class PatientWorkspace(QWidget):
    """A patient's header (name, age, MRN, birth date, occupation), actions and record tabs.

    It appears at once: the header and each tab say "Loading…" until their reads (off the
    GUI thread) are in, and a read that fails says so in one sentence in their place. Each
    tab reloads itself on the changes ``operations`` broadcasts; none reloads another.
    ``patient_shown`` says the header shows the patient's details, first or new (for the
    window's tab title).
    """

    patient_shown = Signal(int)
    patient_archived = Signal(int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._operations = operations or Operations(self)
        self._patient_id = patient_id
        # None until the header's first read is in.
        self.patient: Patient | None = None
        self._reads = LatestRead(self._operations.tasks, self)

        self.name_label = QLabel(LOADING)
        self.name_label.setObjectName("patient_name")
        self.name_label.setStyleSheet("font-size: 18px; font-weight: 600;")
        self.facts_label = QLabel()
        self.facts_label.setObjectName("patient_facts")
        self.facts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_label.setWordWrap(True)
        self.edit_button = QPushButton("Edit details…")
        self.archive_button = QPushButton("Archive…")
        for button in (self.edit_button, self.archive_button):
            button.setEnabled(False)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)

        # Every tab is built before any of their reads runs (see TaskRunner.held).
        with self._operations.tasks.held():
            self.overview = OverviewTab(services, actor, patient_id, operations=self._operations)
            self.tabs.addTab(self.overview, "Overview")
            # The header's read next after the Overview's, which is what shows first.
            self.reload()
            # Front desk registers patients but sees no clinical record: build no clinical tab.
            if allows(actor, Permission.VIEW_CLINICAL):
                self._add_clinical_tabs(services, actor, patient_id)

        header = QHBoxLayout()
        who = QVBoxLayout()
        who.addWidget(self.name_label)
        who.addWidget(self.facts_label)
        header.addLayout(who, 1)
        header.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.archive_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.tabs, 1)

        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self.archive_button.clicked.connect(self._on_archive_button_clicked)
        self._operations.changed.connect(self._on_operations_changed)

    def _add_clinical_tabs(self, services: Services, actor: Actor, patient_id: int) -> None:
        operations = self._operations
        self.intake_tab = IntakeTab(services, actor, patient_id, operations=operations)
        self.plan_tab = PlanTab(services, actor, patient_id, operations=operations)
        self.sessions_tab = SessionsTab(services, actor, patient_id, operations=operations)
        self.progress_tab = _progress_tab(services, actor, patient_id, operations)
        self.outcomes_tab = ReassessmentView(services, actor, patient_id, operations=operations)
        self.documents_tab = DocumentsTab(services, actor, patient_id, operations=operations)
        for name, page in (
            ("Intake", self.intake_tab),
            ("Plan", self.plan_tab),
            ("Sessions", self.sessions_tab),
            ("Progress", self.progress_tab),
            ("Outcomes", self.outcomes_tab),
            ("Documents", self.documents_tab),
        ):
            self.tabs.addTab(page, name)
        self.progress_tab.plan_requested.connect(self._on_progress_tab_plan_requested)

    @property
    def patient_id(self) -> int:
        return self._patient_id

    @property
    def loading(self) -> bool:
        """True while the header's read is under way (the tabs say so of their own)."""
        return self._reads.loading

    def tab(self, name: str) -> QWidget | None:
        """The page of the tab called ``name``, or None where this role has no such tab."""
        index = self._index(name)
        return self.tabs.widget(index) if index >= 0 else None

    def _index(self, name: str) -> int:
        return next((i for i in range(self.tabs.count()) if self.tabs.tabText(i) == name), -1)

    def reload(self) -> None:
        patients, actor, patient_id = self._services.patients, self._actor, self._patient_id
        self._reads.run(
            lambda: (patients.get(actor, patient_id), patients.today()),
            self._show,
            self._on_read_failed,
        )

    def _on_read_failed(self, error: Exception) -> None:
        self.name_label.setText(read_failure(error, "The patient's details"))
        self.name_label.setStyleSheet("font-size: 14px;")
        self.facts_label.setText("")
        if not expected_failure(error):
            raise error

    def _show(self, read: tuple[Patient, dt.date]) -> None:
        patient, today = read
        self.patient = patient
        archived = " (archived)" if patient.archived else ""
        self.name_label.setStyleSheet("font-size: 18px; font-weight: 600;")
        self.name_label.setText(f"{patient.family_name}, {patient.given_name}{archived}")
        age = patient.age(today)
        facts = [
            f"{age} years",
            f"born {patient.date_of_birth.isoformat()}",
            f"MRN {patient.mrn}",
        ]
        if patient.occupation:
            facts.append(patient.occupation)
        self.facts_label.setText(" · ".join(facts))
        self.edit_button.setEnabled(True)
        self.archive_button.setEnabled(not patient.archived)
        self.overview.show_patient(patient)
        self.patient_shown.emit(patient.id)

    def _on_operations_changed(self, changes: Changes) -> None:
        if changes.touches_patient(self._patient_id, Change.PATIENTS):
            self.reload()

    def _on_progress_tab_plan_requested(self, _plan_id: int) -> None:
        self.tabs.setCurrentWidget(self.plan_tab)

    def _on_edit_button_clicked(self) -> None:
        PatientDialog.edit(
            self, self._services, self._actor, self._patient_id, operations=self._operations
        )

    def _on_archive_button_clicked(self) -> None:
        patient = self.patient
        if patient is None:
            return
        answer = QMessageBox.question(
            self,
            "Archive patient",
            f"Archive {patient.display_name}? They leave the patient list; "
            "their records are kept and can be found with “Include archived”.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            archived = self._operations.run(
                self._services.patients.archive, self._actor, patient.id, patient.version
            )
        except ConflictError as error:
            QMessageBox.warning(self, "Changed by someone else", str(error))
            self.reload()
            return
        self.patient_archived.emit(archived.id)
