"""The workspace's Plan tab: the active plan (phases, visits, goals) or how to build one."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedLayout,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ServiceError, ValidationFailed
from backclinic.services.plans import PhaseView, PlanProposal, PlanView
from backclinic.services.use_case import Change
from backclinic.ui.discharge_dialog import DischargeDialog
from backclinic.ui.field_errors import ERROR_STYLE, FieldErrors
from backclinic.ui.operations import Operations
from backclinic.ui.patient_tab import PatientTab
from backclinic.ui.plan_wizard import PlanWizard, visit_table

BUILD_PLAN = "Build plan…"
NEW_PLAN = "New plan…"
PROPOSING = "Proposing a plan…"
NO_PLAN = "No treatment plan yet."


class ChangePhaseDialog(QDialog):
    """Change one phase's length or frequencies; only future visits are rescheduled."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        plan: PlanView,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._plan = plan
        self._operations = operations or Operations(self)
        self.plan: PlanView | None = None
        self.setWindowTitle("Change phase")
        self.phase = QComboBox()
        for phase in plan.phases:
            self.phase.addItem(f"{phase.number}. {phase.name}", phase.number)
        self.weeks = QSpinBox()
        self.weeks.setRange(1, 52)
        self.weeks.setSuffix(" weeks")
        self.acupuncture_per_week = QSpinBox()
        self.acupuncture_per_week.setRange(1, 7)
        self.acupuncture_per_week.setSuffix(" per week")
        self.acupuncture_as_needed = QCheckBox("As needed")
        self.pt_per_week = QSpinBox()
        self.pt_per_week.setRange(0, 7)
        self.pt_per_week.setSuffix(" per week")
        note = QLabel(
            "Only visits from today on are rescheduled; visits already held, missed or in "
            "the past stay as they are. Later phases move so the phases stay back to back."
        )
        note.setWordWrap(True)
        acupuncture = QWidget()
        row = QHBoxLayout(acupuncture)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.acupuncture_per_week)
        row.addWidget(self.acupuncture_as_needed)
        form = QFormLayout()
        self.errors = FieldErrors(form)
        self.errors.add_row("phase", "Phase", self.phase)
        self.errors.add_row("weeks", "Duration", self.weeks)
        self.errors.add_row("acupuncture_per_week", "Acupuncture", acupuncture)
        self.errors.add_row("pt_per_week", "PT visits", self.pt_per_week)
        self.general_error = QLabel()
        self.general_error.setObjectName("general_error")
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.phase.currentIndexChanged.connect(self._on_phase_current_index_changed)
        self.acupuncture_as_needed.toggled.connect(self._on_acupuncture_as_needed_toggled)
        self._on_phase_current_index_changed(0)

    @classmethod
    def change(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        plan: PlanView,
        *,
        operations: Operations | None = None,
    ) -> PlanView | None:
        dialog = cls(services, actor, plan, parent, operations=operations)
        dialog.exec()
        return dialog.plan

    def save_button(self) -> QAbstractButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def _selected(self) -> PhaseView:
        number = self.phase.currentData()
        return next(p for p in self._plan.phases if p.number == number)

    def _on_phase_current_index_changed(self, _index: int) -> None:
        phase = self._selected()
        self.weeks.setValue(phase.end_week - phase.start_week + 1)
        self.acupuncture_per_week.setValue(phase.acupuncture_per_week or 1)
        self.acupuncture_as_needed.setChecked(phase.acupuncture_as_needed)
        self.pt_per_week.setValue(phase.pt_per_week)
        self._on_acupuncture_as_needed_toggled(phase.acupuncture_as_needed)

    def _on_acupuncture_as_needed_toggled(self, checked: bool) -> None:
        self.acupuncture_per_week.setEnabled(not checked)

    def _on_buttons_accepted(self) -> None:
        as_needed = self.acupuncture_as_needed.isChecked()
        try:
            self.plan = self._operations.run(
                self._services.plans.change_phase,
                self._actor,
                self._plan.id,
                self.phase.currentData(),
                weeks=self.weeks.value(),
                acupuncture_per_week=None if as_needed else self.acupuncture_per_week.value(),
                acupuncture_as_needed=as_needed,
                pt_per_week=self.pt_per_week.value(),
                expected_version=self._plan.version,
            )
        except ValidationFailed as error:
            # Field names like "phases[2].pt_per_week" belong to the row after the dot.
            by_field = {k.rsplit(".", 1)[-1]: v for k, v in error.by_field.items()}
            leftover = self.errors.show(by_field)
            self.general_error.setText(" ".join(leftover.values()))
            self.general_error.setVisible(bool(leftover))
            return
        except ServiceError as error:
            self.general_error.setText(str(error))
            self.general_error.show()
            return
        self.accept()


def phase_html(phase: PhaseView, label: Callable[[str, str], str]) -> str:
    interventions = ", ".join(
        f"{html.escape(label('interventions', d.code))} ({html.escape(d.dosage)})"
        for d in phase.pt_interventions
    )
    points = ", ".join(phase.acupoints) or "none"
    return (
        f"<h4>Phase {phase.number}: {html.escape(phase.name)} — weeks {phase.start_week}–"
        f"{phase.end_week} ({phase.start_date.isoformat()} to {phase.end_date.isoformat()})</h4>"
        f"<p>Acupuncture {phase.acupuncture_words}; PT {phase.pt_words}.<br>"
        f"<b>Interventions:</b> {interventions or 'none'}<br>"
        f"<b>Points:</b> {html.escape(points)}<br>"
        f"<b>Aim:</b> {html.escape(phase.aim)}</p>"
    )


class PlanTab(PatientTab):
    """The active plan, or an honest empty state with the way to build one.

    The wizard's proposal is worked out off the GUI thread (``operations.tasks``).
    """

    # Sessions mark visits done; an intake makes a plan possible.
    shows = frozenset({Change.PLAN, Change.SCHEDULE, Change.SESSIONS, Change.ASSESSMENTS})

    # Emitted once the tab shows the new or changed plan.
    plan_changed = Signal(int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(services, actor, patient_id, parent, operations=operations)
        self.plan: PlanView | None = None

        self.empty_page = QWidget()
        self.empty_label = QLabel(NO_PLAN)
        self.empty_label.setObjectName("empty_state")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.build_button = QPushButton(BUILD_PLAN)
        self.build_reason = QLabel()
        self.build_reason.setObjectName("build_reason")
        self.build_reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty = QVBoxLayout(self.empty_page)
        empty.addStretch(1)
        empty.addWidget(self.empty_label)
        empty.addWidget(self.build_button, 0, Qt.AlignmentFlag.AlignCenter)
        empty.addWidget(self.build_reason)
        empty.addStretch(1)

        self.plan_page = QWidget()
        self.header = QLabel()
        self.header.setObjectName("plan_header")
        self.header.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.change_button = QPushButton("Change phase…")
        self.discharge_button = QPushButton("Discharge…")
        self.discharge_button.setObjectName("discharge_button")
        self.new_plan_button = QPushButton(NEW_PLAN)
        self.phases = QTextBrowser()
        self.phases.setObjectName("plan_phases")
        self.goals = QLabel()
        self.goals.setObjectName("plan_goals")
        self.goals.setWordWrap(True)
        # Pregnancy: exercises lying on the back are adapted after the first trimester.
        self.adaptation = QLabel()
        self.adaptation.setObjectName("plan_adaptation")
        self.adaptation.setWordWrap(True)
        self.adaptation.setStyleSheet("background: #fff4ce; padding: 6px;")
        self.adaptation.hide()
        self._supine: str | None = None
        self.visits, self.visit_table = visit_table(services, "plan_visits", self)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.change_button)
        top.addWidget(self.discharge_button)
        top.addWidget(self.new_plan_button)
        body = QHBoxLayout()
        body.addWidget(self.phases, 3)
        body.addWidget(self.visit_table, 2)
        page = QVBoxLayout(self.plan_page)
        page.addLayout(top)
        page.addWidget(self.goals)
        page.addWidget(self.adaptation)
        page.addLayout(body, 1)

        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(self.plan_page)
        self.build_button.clicked.connect(self._on_build_button_clicked)
        self.change_button.clicked.connect(self._on_change_button_clicked)
        self.discharge_button.clicked.connect(self._on_discharge_button_clicked)
        self.new_plan_button.clicked.connect(self._on_build_button_clicked)
        # Until the first read is shown: nothing to build from, and saying so.
        self.build_button.setEnabled(False)
        self.empty_label.setText("Loading…")
        self.reload()

    def reload(self) -> None:
        plans, assessments = self._services.plans, self._services.assessments
        safety = self._services.safety
        patient_id, actor = self._patient_id, self._actor

        def read() -> tuple[PlanView | None, bool, str | None]:
            # The active plan, or else the last one (discharged plans stay readable here).
            plan = plans.active_plan(actor, patient_id) or plans.latest_plan(actor, patient_id)
            has_intake = (
                plan is not None or assessments.latest_intake(actor, patient_id) is not None
            )
            return plan, has_intake, safety.supine_note(actor, patient_id)

        self._reads.run(read, self._show_plan)

    def _show_plan(self, read: tuple[PlanView | None, bool, str | None]) -> None:
        self.plan, has_intake, self._supine = read
        self.empty_label.setText(NO_PLAN)
        if self.plan is None:
            self.build_button.setEnabled(has_intake)
            self.build_reason.setText(
                "" if has_intake else "Record an intake first: the plan is built from it."
            )
            self.stack.setCurrentWidget(self.empty_page)
            return
        self._show(self.plan)
        active = self.plan.status == "active"
        self.change_button.setVisible(active)
        self.discharge_button.setVisible(active)
        self.new_plan_button.setVisible(not active)
        self.stack.setCurrentWidget(self.plan_page)

    def _show(self, plan: PlanView) -> None:
        catalogue = self._services.catalogue
        protocol = self._services.protocol
        name = protocol.name if protocol.id == plan.protocol_id else plan.protocol_id
        self.header.setText(
            f"{name} (v{plan.protocol_version}) — from {plan.start_date.isoformat()}, "
            f"{catalogue.label('plan_statuses', plan.status).lower()}"
        )
        self.phases.setHtml("".join(phase_html(p, catalogue.label) for p in plan.phases))
        targets = []
        if plan.target_pain is not None:
            targets.append(f"pain {plan.target_pain}/10 or less")
        if plan.target_odi is not None:
            targets.append(f"ODI {plan.target_odi:g} % or less")
        goals = "; ".join(plan.functional_goals)
        self.goals.setText(
            f"Targets: {', '.join(targets) or 'none set'}."
            + (f" Patient's goals: {goals}." if goals else "")
        )
        self.visits.set_rows(plan.visits)
        supine = [
            catalogue.interventions[d.code].label
            for p in plan.phases
            for d in p.pt_interventions
            if d.code in catalogue.interventions and catalogue.interventions[d.code].supine
        ]
        supine = list(dict.fromkeys(supine))
        self.adaptation.setText(
            f"{', '.join(supine)}: {self._supine}" if self._supine and supine else ""
        )
        self.adaptation.setVisible(bool(self._supine and supine))

    def _on_build_button_clicked(self) -> None:
        for button in (self.build_button, self.new_plan_button):
            button.setEnabled(False)
            button.setText(PROPOSING)
        self.setCursor(Qt.CursorShape.BusyCursor)
        patient_id, actor = self._patient_id, self._actor
        self._operations.tasks.run(
            lambda: self._services.plans.propose(actor, patient_id),
            on_result=self._on_proposal_ready,
            on_error=self._on_proposal_failed,
            owner=self,
        )

    def _proposal_finished(self) -> None:
        self.unsetCursor()
        self.build_button.setText(BUILD_PLAN)
        self.new_plan_button.setText(NEW_PLAN)
        self.new_plan_button.setEnabled(True)
        self.reload()

    def _on_proposal_ready(self, proposal: PlanProposal) -> None:
        self._proposal_finished()
        plan = PlanWizard.build(
            self,
            self._services,
            self._actor,
            self._patient_id,
            proposal=proposal,
            operations=self._operations,
        )
        if plan is not None:
            self._after_reload(lambda: self.plan_changed.emit(plan.id))

    def _on_proposal_failed(self, error: Exception) -> None:
        self._proposal_finished()
        if not isinstance(error, ServiceError):
            raise error
        QMessageBox.warning(self, "No plan can be built", str(error))

    def _on_discharge_button_clicked(self) -> None:
        discharged = DischargeDialog.discharge(
            self, self._services, self._actor, self._patient_id, operations=self._operations
        )
        if discharged is not None:
            self._after_reload(lambda: self.plan_changed.emit(discharged.id))

    def _on_change_button_clicked(self) -> None:
        if self.plan is None:
            return
        changed = ChangePhaseDialog.change(
            self, self._services, self._actor, self.plan, operations=self._operations
        )
        if changed is not None:
            self._after_reload(lambda: self.plan_changed.emit(changed.id))
