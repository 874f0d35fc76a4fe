"""The workspace's Plan tab: the active plan (phases, visits, goals) or how to build one."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

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

from backclinic.domain.wording import continued
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ServiceError, ValidationFailed
from backclinic.services.plans import PhaseView, PlanProposal, PlanView
from backclinic.services.safety import NeedlingAdvice
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


@dataclass(frozen=True)
class PrecautionNotes:
    """What the precautions in force now mean for a plan's points, in words.

    ``forbidden`` and ``unacknowledged`` map each planned point the precautions rule out,
    or allow only with an acknowledgement the plan does not hold, to the precaution's
    label; ``sentences`` say why, one per precaution and kind (``guidance``: what to do
    about each, on the Plan tab), and ``electro`` why electro-acupuncture is not offered
    (None: it is)."""

    precautions: tuple[str, ...] = ()
    forbidden: Mapping[str, str] = field(default_factory=dict)
    unacknowledged: Mapping[str, str] = field(default_factory=dict)
    sentences: tuple[str, ...] = ()
    # What to do about each sentence on the Plan tab (the dialog has its tick boxes).
    guidance: tuple[str, ...] = ()
    electro: str | None = None
    acknowledgement: str = ""


def precaution_notes(
    phases: Sequence[PhaseView],
    acknowledged: Sequence[str],
    advice: Mapping[str, NeedlingAdvice],
    electro: str | None,
) -> PrecautionNotes:
    """The notes for ``phases`` from the advice of each precaution in force (by code, from
    the safety service's ``needling``)."""
    planned = list(dict.fromkeys(code for p in phases for code in p.acupoints))
    forbidden: dict[str, str] = {}
    unacknowledged: dict[str, str] = {}
    sentences: list[str] = []
    guidance: list[str] = []
    acknowledgement = ""
    labels: list[str] = []
    for needling in advice.values():
        label, how = needling.precautions[0] if needling.precautions else ("", "")
        labels.append(label)
        ruled_out = [c for c in planned if c in needling.forbidden and c not in forbidden]
        if ruled_out:
            forbidden.update(dict.fromkeys(ruled_out, label))
            them = "it" if len(ruled_out) == 1 else "them"
            sentences.append(
                f"{_listed(ruled_out)} {'is' if len(ruled_out) == 1 else 'are'} planned but "
                f"not offered because of the precaution '{label}': {continued(how)}"
            )
            guidance.append(
                f"Take {them} out of the plan with Change phase…; a session will not accept {them}."
            )
        careful = [
            c
            for c in planned
            if c in needling.acknowledge
            and c not in acknowledged
            and c not in forbidden
            and c not in unacknowledged
        ]
        if careful:
            unacknowledged.update(dict.fromkeys(careful, label))
            acknowledgement = needling.acknowledgement
            sentences.append(
                f"{_listed(careful)} {'needs' if len(careful) == 1 else 'need'} your "
                f"acknowledgement because of the precaution '{label}': "
                f"{continued(needling.acknowledgement)}"
            )
            guidance.append(
                f"Acknowledge {'it' if len(careful) == 1 else 'them'} with Change phase… and "
                "at each session."
            )
    return PrecautionNotes(
        precautions=tuple(labels),
        forbidden=forbidden,
        unacknowledged=unacknowledged,
        sentences=tuple(sentences),
        guidance=tuple(guidance),
        electro=electro,
        acknowledgement=acknowledgement,
    )


def _listed(codes: Sequence[str]) -> str:
    return codes[0] if len(codes) == 1 else f"{', '.join(codes[:-1])} and {codes[-1]}"


def needling_advice(
    services: Services, actor: Actor, patient_id: int
) -> tuple[dict[str, NeedlingAdvice], str | None]:
    """The needling advice of each precaution in force today (by code), and why
    electro-acupuncture is not offered (None: it is): what ``precaution_notes`` reads."""
    safety = services.safety
    in_force = safety.status(actor, patient_id).precautions_in_force
    advice = {code: safety.needling([code]) for code in in_force}
    return advice, safety.needling(in_force).electro_refusal if in_force else None


def phases_ahead(phases: Sequence[PhaseView], day: dt.date) -> tuple[PhaseView, ...]:
    """The phases not over by ``day``: those a change from that day reschedules."""
    return tuple(p for p in phases if p.end_date >= day)


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
        notes: PrecautionNotes | None = None,
        phase_number: int | None = None,
        weeks: int | None = None,
        refusal: ValidationFailed | None = None,
    ) -> None:
        """``phase_number`` and ``weeks`` preset the change (the Progress tab's "extend
        phase"), and ``refusal`` is the service's refusal of it, shown as a save would."""
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._plan = plan
        self._operations = operations or Operations(self)
        self.plan: PlanView | None = None
        self.notes = notes or PrecautionNotes()
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
        # Points planned before a precaution now in force: taken out, or acknowledged, by
        # the clinician here, never silently.
        self.withdraw = QCheckBox()
        self.withdraw.setObjectName("withdraw_points")
        self.acknowledge = QCheckBox()
        self.acknowledge.setObjectName("acknowledge_points")
        self.precaution_note = QLabel()
        self.precaution_note.setObjectName("precaution_note")
        self.precaution_note.setWordWrap(True)
        self.precaution_note.setStyleSheet("background: #fff4ce; padding: 6px;")
        points = QWidget()
        points_layout = QVBoxLayout(points)
        points_layout.setContentsMargins(0, 0, 0, 0)
        points_layout.addWidget(self.precaution_note)
        points_layout.addWidget(self.withdraw)
        points_layout.addWidget(self.acknowledge)
        form = QFormLayout()
        self.errors = FieldErrors(form)
        self.errors.add_row("phase", "Phase", self.phase)
        self.errors.add_row("weeks", "Duration", self.weeks)
        self.errors.add_row("acupuncture_per_week", "Acupuncture", acupuncture)
        self.errors.add_row("pt_per_week", "PT visits", self.pt_per_week)
        points_error = self.errors.add_row("acupoints", "Points", points)
        self._show_precaution_notes()
        holder = points_error.parentWidget()
        if holder is not None:
            form.setRowVisible(holder, bool(self.notes.forbidden or self.notes.unacknowledged))
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
        if phase_number is not None:
            self.phase.setCurrentIndex(max(0, self.phase.findData(phase_number)))
        if weeks is not None:
            self.weeks.setValue(weeks)
        if refusal is not None:
            self._show_refusal(refusal)

    @classmethod
    def change(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        plan: PlanView,
        *,
        operations: Operations | None = None,
        notes: PrecautionNotes | None = None,
        phase_number: int | None = None,
        weeks: int | None = None,
        refusal: ValidationFailed | None = None,
    ) -> PlanView | None:
        dialog = cls(
            services,
            actor,
            plan,
            parent,
            operations=operations,
            notes=notes,
            phase_number=phase_number,
            weeks=weeks,
            refusal=refusal,
        )
        dialog.exec()
        return dialog.plan

    def _show_precaution_notes(self) -> None:
        notes = self.notes
        forbidden, careful = list(notes.forbidden), list(notes.unacknowledged)
        self.precaution_note.setText(" ".join(notes.sentences))
        self.withdraw.setText(
            f"Take {_listed(forbidden)} out of the plan's phases from today" if forbidden else ""
        )
        self.acknowledge.setText(
            f"I acknowledge planning {_listed(careful)} under the precaution in force"
            if careful
            else ""
        )
        self.acknowledge.setToolTip(notes.acknowledgement)
        self.withdraw.setVisible(bool(forbidden))
        self.acknowledge.setVisible(bool(careful))

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
                acknowledged_points=(
                    tuple(self.notes.unacknowledged) if self.acknowledge.isChecked() else ()
                ),
                withdrawn_points=tuple(self.notes.forbidden) if self.withdraw.isChecked() else (),
            )
        except ValidationFailed as error:
            self._show_refusal(error)
            return
        except ServiceError as error:
            self.general_error.setText(str(error))
            self.general_error.show()
            return
        self.accept()

    def _show_refusal(self, error: ValidationFailed) -> None:
        # Field names like "phases[2].pt_per_week" belong to the row after the dot; a
        # field refused for several points or phases shows every sentence.
        by_field: dict[str, str] = {}
        summarised = any(item.field == "acupoints" for item in error.errors)
        for item in error.errors:
            key = item.field.rsplit(".", 1)[-1]
            if summarised and key == "acupoints" and item.field != "acupoints":
                # Which points and why are in the note above the tick boxes.
                continue
            by_field[key] = f"{by_field[key]} {item.message}" if key in by_field else item.message
        leftover = self.errors.show(by_field)
        self.general_error.setText(" ".join(leftover.values()))
        self.general_error.setVisible(bool(leftover))
        self.adjustSize()


def _point_html(code: str, notes: PrecautionNotes) -> str:
    if code in notes.forbidden:
        return (
            f'<span style="color:#a4262c"><s>{html.escape(code)}</s> (not offered: '
            f"{html.escape(notes.forbidden[code].lower())})</span>"
        )
    if code in notes.unacknowledged:
        return (
            f'<span style="color:#8a5300">{html.escape(code)} (needs your acknowledgement: '
            f"{html.escape(notes.unacknowledged[code].lower())})</span>"
        )
    return html.escape(code)


def phase_html(
    phase: PhaseView, label: Callable[[str, str], str], notes: PrecautionNotes | None = None
) -> str:
    interventions = ", ".join(
        f"{html.escape(label('interventions', d.code))} ({html.escape(d.dosage)})"
        for d in phase.pt_interventions
    )
    marks = notes or PrecautionNotes()
    points = ", ".join(_point_html(code, marks) for code in phase.acupoints) or "none"
    return (
        f"<h4>Phase {phase.number}: {html.escape(phase.name)} — weeks {phase.start_week}–"
        f"{phase.end_week} ({phase.start_date.isoformat()} to {phase.end_date.isoformat()})</h4>"
        f"<p>Acupuncture {phase.acupuncture_words}; PT {phase.pt_words}.<br>"
        f"<b>Interventions:</b> {interventions or 'none'}<br>"
        f"<b>Points:</b> {points}<br>"
        f"<b>Aim:</b> {html.escape(phase.aim)}</p>"
    )


@dataclass(frozen=True)
class PlanRead:
    """What the Plan tab reads off the GUI thread."""

    plan: PlanView | None
    has_intake: bool
    supine: str | None
    advice: Mapping[str, NeedlingAdvice]
    electro: str | None


class PlanTab(PatientTab):
    """The active plan, or an honest empty state with the way to build one.

    The wizard's proposal is worked out off the GUI thread (``operations.tasks``).
    """

    # Sessions mark visits done; an intake makes a plan possible.
    shows = frozenset({Change.PLAN, Change.SCHEDULE, Change.SESSIONS, Change.ASSESSMENTS})
    reads_what = "The treatment plan"

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
        # Precautions in force now that the plan's points predate: which points are not
        # offered, or need the acknowledgement, and why.
        self.precaution_notice = QLabel()
        self.precaution_notice.setObjectName("plan_precautions")
        self.precaution_notice.setWordWrap(True)
        self.precaution_notice.setTextFormat(Qt.TextFormat.RichText)
        self.precaution_notice.setStyleSheet("background: #fde7e9; padding: 6px;")
        self.precaution_notice.hide()
        self.notes = PrecautionNotes()
        self._advice: Mapping[str, NeedlingAdvice] = {}
        self._electro: str | None = None
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
        page.addWidget(self.precaution_notice)
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

        def read() -> PlanRead:
            # The active plan, or else the last one (discharged plans stay readable here).
            plan = plans.active_plan(actor, patient_id) or plans.latest_plan(actor, patient_id)
            has_intake = (
                plan is not None or assessments.latest_intake(actor, patient_id) is not None
            )
            advice: dict[str, NeedlingAdvice] = {}
            electro = None
            if plan is not None and plan.status == "active":
                advice, electro = needling_advice(self._services, actor, patient_id)
            return PlanRead(
                plan, has_intake, safety.supine_note(actor, patient_id), advice, electro
            )

        self._read(read, self._show_plan)

    def _show_plan(self, read: PlanRead) -> None:
        self.plan, has_intake, self._supine = read.plan, read.has_intake, read.supine
        self._advice, self._electro = read.advice, read.electro
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
        self.notes = precaution_notes(
            plan.phases, plan.acknowledged_points, self._advice, self._electro
        )
        self.phases.setHtml(
            "".join(phase_html(p, catalogue.label, self.notes) for p in plan.phases)
        )
        notice = [
            f"{sentence} {what}"
            for sentence, what in zip(self.notes.sentences, self.notes.guidance, strict=True)
        ] + ([self.notes.electro] if self.notes.electro else [])
        in_force = ", ".join(self.notes.precautions)
        self.precaution_notice.setText(
            f"<b>Under the precautions in force now ({html.escape(in_force)}):</b>"
            "<ul style='margin:0'>"
            + "".join(f"<li>{html.escape(line, quote=False)}</li>" for line in notice)
            + "</ul>"
            if notice
            else ""
        )
        self.precaution_notice.setVisible(bool(notice))
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
        ahead = phases_ahead(self.plan.phases, self._services.patients.today())
        changed = ChangePhaseDialog.change(
            self,
            self._services,
            self._actor,
            self.plan,
            operations=self._operations,
            notes=precaution_notes(
                ahead, self.plan.acknowledged_points, self._advice, self._electro
            ),
        )
        if changed is not None:
            self._after_reload(lambda: self.plan_changed.emit(changed.id))
