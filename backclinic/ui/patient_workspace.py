"""One opened patient: who they are at a glance, and a tab per part of their record."""

from __future__ import annotations

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

    Each tab reloads itself on the changes ``operations`` broadcasts; none reloads another.
    ``patient_saved`` says the header shows new details (for the window's tab title).
    """

    patient_saved = Signal(int)
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
        self.patient = services.patients.get(actor, patient_id)

        self.name_label = QLabel()
        self.name_label.setObjectName("patient_name")
        self.name_label.setStyleSheet("font-size: 18px; font-weight: 600;")
        self.facts_label = QLabel()
        self.facts_label.setObjectName("patient_facts")
        self.facts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.edit_button = QPushButton("Edit details…")
        self.archive_button = QPushButton("Archive…")
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)

        self.overview = OverviewTab(services, actor, patient_id, operations=self._operations)
        self.tabs.addTab(self.overview, "Overview")
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
        self._show(self.patient)

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
        return self.patient.id

    def tab(self, name: str) -> QWidget | None:
        """The page of the tab called ``name``, or None where this role has no such tab."""
        index = self._index(name)
        return self.tabs.widget(index) if index >= 0 else None

    def _index(self, name: str) -> int:
        return next((i for i in range(self.tabs.count()) if self.tabs.tabText(i) == name), -1)

    def reload(self) -> None:
        self.patient = self._services.patients.get(self._actor, self.patient.id)
        self._show(self.patient)

    def _show(self, patient: Patient) -> None:
        archived = " (archived)" if patient.archived else ""
        self.name_label.setText(f"{patient.family_name}, {patient.given_name}{archived}")
        age = patient.age(self._services.patients.today())
        facts = [
            f"{age} years",
            f"born {patient.date_of_birth.isoformat()}",
            f"MRN {patient.mrn}",
        ]
        if patient.occupation:
            facts.append(patient.occupation)
        self.facts_label.setText(" · ".join(facts))
        self.archive_button.setEnabled(not patient.archived)
        self.overview.show_patient(patient)

    def _on_operations_changed(self, changes: Changes) -> None:
        if changes.touches_patient(self.patient.id, Change.PATIENTS):
            self.reload()
            self.patient_saved.emit(self.patient.id)

    def _on_progress_tab_plan_requested(self, _plan_id: int) -> None:
        self.tabs.setCurrentWidget(self.plan_tab)

    def _on_edit_button_clicked(self) -> None:
        PatientDialog.edit(
            self, self._services, self._actor, self.patient.id, operations=self._operations
        )

    def _on_archive_button_clicked(self) -> None:
        answer = QMessageBox.question(
            self,
            "Archive patient",
            f"Archive {self.patient.display_name}? They leave the patient list; "
            "their records are kept and can be found with “Include archived”.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            archived = self._operations.run(
                self._services.patients.archive, self._actor, self.patient.id, self.patient.version
            )
        except ConflictError as error:
            QMessageBox.warning(self, "Changed by someone else", str(error))
            self.reload()
            return
        self.patient_archived.emit(archived.id)
