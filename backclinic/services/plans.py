"""Integrative plans: propose from the latest intake, create with dated visits, change later.

The wizard and the command line go through the same two steps: ``propose`` runs the
domain's recommendation; ``create`` checks the clinician's choices again (screening,
frequencies, precautions), builds the schedule, and stores plan, phases and visits in one
transaction with one audit entry. Changing an active plan reschedules future visits only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backclinic.db.models import (
    AssessmentRow,
    ClinicianRow,
    ClinicSettingsRow,
    PatientRow,
    PlanPhaseRow,
    PlanRow,
    ScheduledVisitRow,
)
from backclinic.domain.casefile.model import CaseVisit
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.intake import Intake
from backclinic.domain.plan import InterventionDose as InterventionDose  # named from here too
from backclinic.domain.plan import PlanChoices as PlanChoices  # named from here too
from backclinic.domain.plan import PlanPhase as PlanPhase  # named from here too
from backclinic.domain.protocol import Protocol

# The proposal's types are re-exported for the plan views, which take them from here rather
# than from the domain's rule module.
from backclinic.domain.recommend import PhaseProposal as PhaseProposal
from backclinic.domain.recommend import PlanProposal as PlanProposal
from backclinic.domain.recommend import Reason as Reason
from backclinic.domain.recommend import recommend, screen_intake
from backclinic.domain.safety import Violation, ViolationKind, acupuncture_violations
from backclinic.domain.schedule import (
    ScheduleError,
    VisitDraft,
    build_schedule,
    reschedule_from,
)
from backclinic.domain.screening import FlagAnswer, ScreeningOutcome
from backclinic.services import queries
from backclinic.services.assessments import (
    AssessmentInput,
    AssessmentService,
    intake_from_row,
    validate_assessment,
)
from backclinic.services.clinic import visit_time_errors
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import FieldError, NotFound, ValidationFailed
from backclinic.services.patients import PatientService
from backclinic.services.permissions import Permission
from backclinic.services.safety import clearance_on_record, screen_instant, status_on
from backclinic.services.use_case import Change, reads_no_records, use_case

FREQUENCY_WORDS = {1: "once a week", 2: "twice a week", 3: "three times a week"}
# Why a plan ended (the four reasons), with the words the screens and documents use.
DISCHARGE_REASONS = {
    "goals_met": "Goals met",
    "plateau": "Plateau",
    "referred": "Referred on",
    "stopped_attending": "Stopped attending",
}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class PhaseView(PlanPhase):
    """A stored plan's phase: the domain's phase, with the dates its weeks fall on."""

    start_date: dt.date
    end_date: dt.date

    @property
    def acupuncture_words(self) -> str:
        if self.acupuncture_as_needed or self.acupuncture_per_week is None:
            return "as needed"
        return FREQUENCY_WORDS.get(
            self.acupuncture_per_week, f"{self.acupuncture_per_week} times a week"
        )

    @property
    def pt_words(self) -> str:
        if self.pt_per_week == 0:
            return "no scheduled visits"
        return FREQUENCY_WORDS.get(self.pt_per_week, f"{self.pt_per_week} times a week")


@dataclass(frozen=True)
class VisitView:
    id: int
    visit_date: dt.date
    phase_number: int
    modalities: tuple[str, ...]
    status: str
    # The row's version for optimistic locking (reschedule_visit); 0 when not read from one.
    version: int = 0
    # "HH:MM" and the booked clinician; visits booked before times existed have neither.
    visit_time: str | None = None
    clinician_id: int | None = None
    clinician_username: str | None = None
    clinician_name: str | None = None


@dataclass(frozen=True)
class PlanView:
    id: int
    patient_id: int
    protocol_id: str
    protocol_version: int
    start_date: dt.date
    status: str
    clinic_days: tuple[int, ...]
    phases: tuple[PhaseView, ...]
    visits: tuple[VisitView, ...]
    target_pain: int | None
    target_odi: float | None
    functional_goals: tuple[str, ...]
    precautions: tuple[str, ...]
    red_flag_clearance: str | None
    reasons: tuple[dict[str, Any], ...]
    version: int
    ended_on: dt.date | None = None
    end_reason: str | None = None
    end_note: str = ""
    acknowledged_points: tuple[str, ...] = ()

    def choices(self) -> PlanChoices:
        """The plan's terms and phases as they were settled on (what a case file keeps):
        every term of PlanChoices the stored plan has, so none can be left out."""
        kept = {f.name: getattr(self, f.name) for f in fields(PlanChoices) if hasattr(self, f.name)}
        return PlanChoices(**{**kept, "clinic_days": frozenset(self.clinic_days)})

    def describe(self, label: Callable[[str], str] = str) -> str:
        """The plan in a few lines; ``label`` words an intervention code."""
        acupuncture = sum("acupuncture" in v.modalities for v in self.visits)
        pt = sum("pt" in v.modalities for v in self.visits)
        lines = [
            f"Plan {self.id} ({self.protocol_id} v{self.protocol_version}) from "
            f"{self.start_date.isoformat()}: {len(self.visits)} visits "
            f"({acupuncture} with acupuncture, {pt} with PT)."
        ]
        for phase in self.phases:
            lines.append(
                f"  Phase {phase.number} {phase.name}, weeks {phase.start_week}–{phase.end_week}"
                f" ({phase.start_date.isoformat()} to {phase.end_date.isoformat()}): "
                f"acupuncture {phase.acupuncture_words}, PT {phase.pt_words}: "
                f"{', '.join(label(code) for code in phase.pt_focus)}."
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class Closed:
    """What closing a plan did: the final assessment stored, the visits cancelled."""

    assessment_id: int | None
    cancelled_visits: int


def reason_record(reason: Reason, about: str) -> dict[str, Any]:
    return {"about": about, "rule": reason.rule, "text": reason.text, "source": reason.source}


def choices_from_proposal(
    proposal: PlanProposal, *, start: dt.date, clinic_days: frozenset[int]
) -> PlanChoices:
    """The model's recommendation, unchanged, as choices the service can store."""
    reasons: list[dict[str, Any]] = []
    for proposed in proposal.phases:
        number = proposed.phase.number
        reasons += [reason_record(r, f"phase {number}") for r in proposed.reasons]
        for intervention in proposed.interventions:
            reasons += [
                reason_record(r, f"phase {number} {intervention.code}")
                for r in intervention.reasons
            ]
        for point in proposed.points:
            reasons += [reason_record(r, f"phase {number} {point.code}") for r in point.reasons]
    goals = proposal.goals
    return PlanChoices(
        start_date=start,
        clinic_days=clinic_days,
        phases=proposal.plan_phases(),
        target_pain=goals.target_nprs,
        target_odi=goals.target_odi_percent,
        functional_goals=goals.patient_goals,
        red_flag_clearance=None,
        protocol_id=proposal.protocol_id,
        protocol_version=proposal.protocol_version,
        reasons=tuple(reasons),
    )


class PlanService:
    def __init__(
        self,
        context: ServiceContext,
        protocol: Protocol,
        catalogue: Catalogue,
        patients: PatientService,
        assessments: AssessmentService,
    ) -> None:
        self._context = context
        self.protocol = protocol
        self.catalogue = catalogue
        self._patients = patients
        self._assessments = assessments

    @use_case(None)
    def clinic_days(self, actor: Actor) -> frozenset[int]:
        with self._context.reading() as session:
            settings = session.get(ClinicSettingsRow, 1)
            if settings is None:
                return frozenset(self.protocol.clinic_defaults.clinic_days)
            return frozenset(settings.clinic_days)

    @use_case(None)
    def closed_dates(self, actor: Actor) -> frozenset[dt.date]:
        """The clinic's closures (holidays), which no visit is booked on."""
        with self._context.reading() as session:
            return _closed_dates(session)

    @use_case(Permission.VIEW_CLINICAL)
    def propose(self, actor: Actor, patient_id: int) -> PlanProposal:
        """The model's recommendation from the latest intake (blocked ones say why)."""
        with self._context.reading() as session:
            row = queries.latest_intake_row(session, patient_id)
            patient = session.get(PatientRow, patient_id)
            if patient is None:
                raise NotFound(f"Patient {patient_id} does not exist.")
            if row is None:
                raise ValidationFailed(
                    [FieldError("intake", "Record an intake before building a plan.")]
                )
            intake = self._planning_intake(session, row, patient)
        return recommend(intake, self.protocol, self.catalogue)

    def _planning_intake(self, session: Session, row: AssessmentRow, patient: PatientRow) -> Intake:
        """The intake a plan is proposed and checked from: its flags cleared by the
        clearances on record, its precautions as of the latest screen that asked them (a
        pregnancy recorded at a reassessment after the intake), as create checks the points
        against."""
        patient_id = patient.id
        intake = self._with_recorded_clearance(
            session, patient_id, intake_from_row(row, patient), screen_instant(session, row)
        )
        status = status_on(
            session, patient_id, self.protocol, self.catalogue, self._context.clock.today()
        )
        if not any(i.answer != FlagAnswer.NOT_ASKED for i in status.precautions):
            return intake
        return replace(
            intake,
            precautions=status.precautions_in_force,
            precautions_not_asked=tuple(
                i.code for i in status.precautions if i.answer == FlagAnswer.NOT_ASKED
            ),
        )

    def _with_recorded_clearance(
        self, session: Session, patient_id: int, intake: Intake, recorded_at: dt.datetime
    ) -> Intake:
        """The intake (first recorded at ``recorded_at``), its present flags cleared by the
        clearances on record since it was taken (who, when, which flags, how and why) where
        it has no clearance note."""
        if intake.red_flag_clearance:
            return intake
        screening = screen_intake(intake, self.protocol, self.catalogue)
        if screening.outcome != ScreeningOutcome.NEEDS_CLEARANCE:
            return intake
        recorded = clearance_on_record(
            session,
            patient_id,
            screening.present,
            intake.assessed_on,
            self.catalogue,
            since_at=recorded_at,
        )
        return replace(intake, red_flag_clearance=recorded) if recorded else intake

    @reads_no_records
    def preview(
        self, choices: PlanChoices, *, closed_dates: frozenset[dt.date] = frozenset()
    ) -> list[VisitDraft]:
        """The dated visits these choices would produce; ScheduleError as a field error."""
        try:
            return build_schedule(
                choices.phases,
                choices.start_date,
                choices.clinic_days,
                closed_dates,
            )
        except ScheduleError as error:
            raise ValidationFailed([FieldError("clinic_days", str(error))]) from error

    @use_case(Permission.WRITE_CLINICAL, changes={Change.PLAN, Change.SCHEDULE})
    def create(self, actor: Actor, patient_id: int, choices: PlanChoices) -> PlanView:
        with self._context.writing() as session:
            intake_row = queries.latest_intake_row(session, patient_id)
            patient = session.get(PatientRow, patient_id)
            if patient is None:
                raise NotFound(f"Patient {patient_id} does not exist.")
            if patient.archived:
                raise ValidationFailed(
                    [FieldError("patient", "An archived patient cannot be given a new plan.")]
                )
            if intake_row is None:
                raise ValidationFailed(
                    [FieldError("intake", "Record an intake before building a plan.")]
                )
            cleared_by = self._check_screening(session, intake_row, patient, choices)
            if choices.red_flag_clearance is None and cleared_by is not None:
                # Kept with the plan, as a note typed in the wizard is.
                choices = replace(choices, red_flag_clearance=cleared_by)
            # A later screen or a session's warning sign can stop treatment the intake allowed.
            status = status_on(
                session,
                patient_id,
                self.protocol,
                self.catalogue,
                self._context.clock.today(),
            )
            if status.on_hold:
                raise ValidationFailed([FieldError("red_flags", status.message)])
            active = session.scalar(
                select(PlanRow.id).where(
                    PlanRow.patient_id == patient_id, PlanRow.status == "active"
                )
            )
            if active is not None:
                raise ValidationFailed(
                    [
                        FieldError(
                            "plan",
                            "This patient already has an active plan; change it or "
                            "discharge it first.",
                        )
                    ]
                )
            # Points are checked against the precautions in force today (a pregnancy at a
            # reassessment after the intake counts), as a session would be.
            row = self._insert_plan(
                session,
                actor,
                patient_id,
                intake_row.id,
                choices,
                precautions=set(status.precautions_in_force),
            )
            view = self._view(session, row)
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "create",
                    "plan",
                    row.id,
                    patient_id,
                    {
                        "protocol": f"{row.protocol_id} v{row.protocol_version}",
                        "start_date": row.start_date.isoformat(),
                        "visits": len(view.visits),
                    },
                ),
            )
            return view

    @use_case(Permission.WRITE_CLINICAL, changes={Change.PLAN, Change.SCHEDULE})
    def create_recommended(
        self, actor: Actor, mrn: str, *, start: dt.date | None = None, acknowledge: bool = False
    ) -> PlanView:
        """The model's plan from the latest intake, unchanged (``plan MRN --recommend``).

        ``acknowledge``: the clinician acknowledges the planned points a precaution allows
        only with an acknowledgement (pregnancy: lumbosacral and lower abdominal points)."""
        patient = self._patients.by_mrn(actor, mrn)
        proposal = self.propose(actor, patient.id)
        if proposal.blocked:
            raise ValidationFailed(
                [FieldError("red_flags", f"No plan for {mrn}: {proposal.blocked_reason}")]
            )
        choices = choices_from_proposal(
            proposal,
            start=start or self._context.clock.today(),
            clinic_days=self.clinic_days(actor),
        )
        if acknowledge:
            choices = replace(
                choices,
                acknowledged_points=tuple(
                    sorted({p for phase in choices.phases for p in phase.acupoints})
                ),
            )
        return self.create(actor, patient.id, choices)

    def _insert_plan(
        self,
        session: Session,
        actor: Actor | None,
        patient_id: int,
        intake_row_id: int | None,
        choices: PlanChoices,
        visits: Sequence[Any] | None = None,
        *,
        imported: bool = False,
        precautions: set[str] | None = None,
    ) -> PlanRow:
        """Insert plan, phases and visits inside the caller's unit of work (no audit).

        ``imported``: a case file's plan, whose points planned without the acknowledgement
        a precaution asks for were reported by the import rather than refused.
        ``precautions``: those in force, when not the intake's."""
        if precautions is None:
            precautions = self._patient_precautions(session, intake_row_id)
        self._check_choices(choices, precautions, imported=imported)
        if choices.visit_time is not None and visits is None:
            settings = session.get(ClinicSettingsRow, 1)
            if settings is not None and (
                errors := visit_time_errors(
                    choices.visit_time, settings.opens_at, settings.closes_at
                )
            ):
                raise ValidationFailed(errors)
        drafts: Sequence[Any] = (
            visits
            if visits is not None
            else self.preview(choices, closed_dates=_closed_dates(session))
        )
        plan = PlanRow(
            patient_id=patient_id,
            intake_id=intake_row_id,
            protocol_id=choices.protocol_id,
            protocol_version=choices.protocol_version,
            start_date=choices.start_date,
            status=choices.status,
            clinic_days=sorted(choices.clinic_days),
            target_pain=choices.target_pain,
            target_odi=choices.target_odi,
            functional_goals=list(choices.functional_goals),
            precautions=sorted(precautions),
            red_flag_clearance=choices.red_flag_clearance,
            acknowledged_points=sorted(choices.acknowledged_points),
            reasons=list(choices.reasons),
            ended_on=choices.ended_on,
            end_reason=choices.end_reason,
            end_note=choices.end_note,
        )
        self._context.stamp_new(plan, actor)
        session.add(plan)
        session.flush()
        for phase in choices.phases:
            phase_row = PlanPhaseRow(plan_id=plan.id, **_phase_columns(phase))
            self._context.stamp_new(phase_row, actor)
            session.add(phase_row)
        self._add_visits(session, actor, plan.id, drafts, at=choices.visit_time)
        session.flush()
        return plan

    @use_case(Permission.WRITE_CLINICAL, changes={Change.PLAN, Change.SCHEDULE})
    def change_phase(
        self,
        actor: Actor,
        plan_id: int,
        phase_number: int,
        *,
        weeks: int,
        acupuncture_per_week: int | None,
        acupuncture_as_needed: bool,
        pt_per_week: int,
        expected_version: int,
        effective_from: dt.date | None = None,
        acknowledged_points: Collection[str] = (),
        withdrawn_points: Collection[str] = (),
    ) -> PlanView:
        """Extend or shorten a phase or change its frequencies; only future visits move.

        Later phases shift so the phases stay contiguous. Visits before ``effective_from``
        (today by default) and every visit already held or missed stay exactly as they were.

        The points of the phases not over by then are checked against the precautions in
        force today (a pregnancy recorded after the plan was made counts): a point they
        rule out is refused unless the clinician takes it out (``withdrawn_points``, from
        those phases only), one they allow only with an acknowledgement unless it is among
        ``acknowledged_points`` or was acknowledged with the plan.
        """
        today = self._context.clock.today()
        from_date = effective_from or today
        with self._context.writing() as session:
            plan = self._plan_at(
                session,
                plan_id,
                expected_version,
                {
                    "phase": phase_number,
                    "weeks": weeks,
                    "acupuncture_per_week": acupuncture_per_week,
                    "acupuncture_as_needed": acupuncture_as_needed,
                    "pt_per_week": pt_per_week,
                },
            )
            if plan.status != "active":
                raise ValidationFailed([FieldError("plan", "Only an active plan can be changed.")])
            phases = queries.phase_rows(session, plan.id)
            target = next((p for p in phases if p.number == phase_number), None)
            if target is None:
                raise NotFound(f"Plan {plan_id} has no phase {phase_number}.")
            if weeks < 1:
                raise ValidationFailed([FieldError("weeks", "A phase lasts at least one week.")])
            before = _phase_columns_of(target)
            shift = (target.start_week + weeks - 1) - target.end_week
            target.end_week = target.start_week + weeks - 1
            target.acupuncture_as_needed = acupuncture_as_needed
            target.acupuncture_per_week = None if acupuncture_as_needed else acupuncture_per_week
            target.pt_per_week = pt_per_week
            for later in phases:
                if later.number > phase_number:
                    later.start_week += shift
                    later.end_week += shift
            for phase_row in phases:
                self._context.stamp_change(phase_row, actor)
            in_force = status_on(
                session, plan.patient_id, self.protocol, self.catalogue, today
            ).precautions_in_force
            ahead = [p for p in phases if _phase_end(plan.start_date, p) >= from_date]
            withdrawn = sorted(
                {code for p in ahead for code in p.acupoints if code in set(withdrawn_points)}
            )
            for phase_row in ahead:
                phase_row.acupoints = [c for c in phase_row.acupoints if c not in withdrawn]
            newly_acknowledged = sorted(
                set(acknowledged_points) - set(plan.acknowledged_points or ())
            )
            if newly_acknowledged:
                plan.acknowledged_points = sorted(
                    {*(plan.acknowledged_points or ()), *newly_acknowledged}
                )
            choices = [_choice_of(p) for p in phases]
            self._check_choices(_choices_of(plan, tuple(choices)), set())
            if ahead:
                try:
                    self._check_choices(
                        _choices_of(plan, tuple(_choice_of(p) for p in ahead)), set(in_force)
                    )
                except ValidationFailed as refused:
                    summary = _points_refusal(
                        acupuncture_violations(
                            in_force,
                            self.protocol,
                            self.catalogue,
                            acupoints=[c for p in ahead for c in p.acupoints],
                            acknowledged=plan.acknowledged_points or (),
                        )
                    )
                    raise ValidationFailed(
                        [FieldError("acupoints", summary), *refused.errors]
                    ) from refused
            existing = session.scalars(
                select(ScheduledVisitRow).where(ScheduledVisitRow.plan_id == plan.id)
            ).all()
            movable = [v for v in existing if v.status == "planned" and v.visit_date >= from_date]
            kept = [
                VisitDraft(v.visit_date, v.phase_number, tuple(v.modalities))
                for v in existing
                if v not in movable
            ]
            try:
                schedule = reschedule_from(
                    kept,
                    choices,
                    plan.start_date,
                    frozenset(plan.clinic_days),
                    from_date,
                    _closed_dates(session),
                )
            except ScheduleError as error:
                raise ValidationFailed([FieldError("frequency", str(error))]) from error
            for visit in movable:
                visit.status = "cancelled"
                self._context.stamp_change(visit, actor)
            taken = {v.visit_date for v in existing if v not in movable}
            self._add_visits(
                session,
                actor,
                plan.id,
                [d for d in schedule if d.visit_date >= from_date and d.visit_date not in taken],
                at=_booked_time(existing),
            )
            self._context.stamp_change(plan, actor)
            session.flush()
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "change",
                    "plan",
                    plan.id,
                    plan.patient_id,
                    {
                        "phase": phase_number,
                        "before": before,
                        "after": _phase_columns_of(target),
                        "effective_from": from_date.isoformat(),
                        **({"withdrawn_points": withdrawn} if withdrawn else {}),
                        **(
                            {"acknowledged_points": newly_acknowledged}
                            if newly_acknowledged
                            else {}
                        ),
                        **({"precautions": sorted(in_force)} if in_force else {}),
                    },
                ),
            )
            return self._view(session, plan)

    @use_case(Permission.VIEW_SCHEDULE, changes={Change.SCHEDULE, Change.PLAN})
    def reschedule_visit(
        self, actor: Actor, visit_id: int, new_date: dt.date, expected_version: int
    ) -> VisitView:
        """Move one planned or missed visit of an active plan to a clinic day from today on.

        A missed visit moved this way is planned again (the miss stays in the audit trail).
        Each refusal is one sentence on the field ``visit_date``.
        """
        today = self._context.clock.today()
        with self._context.updating(
            ScheduledVisitRow,
            visit_id,
            expected_version,
            noun="Visit",
            record="This visit",
            yours={"visit_date": new_date.isoformat()},
        ) as (session, visit):
            plan = session.get(PlanRow, visit.plan_id)
            assert plan is not None
            refusal = self._reschedule_refusal(session, plan, visit, new_date, today)
            if refusal is not None:
                raise ValidationFailed([FieldError("visit_date", refusal)])
            before = {"visit_date": visit.visit_date.isoformat(), "status": visit.status}
            visit.visit_date = new_date
            visit.status = "planned"
            self._context.stamp_change(visit, actor)
            session.flush()
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "reschedule",
                    "scheduled_visit",
                    visit.id,
                    plan.patient_id,
                    {
                        "plan_id": plan.id,
                        "before": before,
                        "after": {
                            "visit_date": visit.visit_date.isoformat(),
                            "status": visit.status,
                        },
                    },
                ),
            )
            return VisitView(
                visit.id,
                visit.visit_date,
                visit.phase_number,
                tuple(visit.modalities),
                visit.status,
                visit.version,
                visit.visit_time,
                visit.clinician_id,
            )

    def _reschedule_refusal(
        self,
        session: Session,
        plan: PlanRow,
        visit: ScheduledVisitRow,
        new_date: dt.date,
        today: dt.date,
    ) -> str | None:
        if visit.status == "done":
            return "This visit already has a session logged, so it cannot be moved."
        if visit.status == "cancelled":
            return "This visit was cancelled, so it cannot be moved."
        if plan.status != "active":
            return f"This visit belongs to a plan that is {plan.status}, so it cannot be moved."
        if new_date < today:
            return f"{new_date.isoformat()} is in the past; choose today or a later day."
        settings = session.get(ClinicSettingsRow, 1)
        open_days = (
            set(settings.clinic_days)
            if settings is not None
            else set(self.protocol.clinic_defaults.clinic_days)
        )
        if settings is not None and new_date.isoformat() in settings.closed_dates:
            return f"The clinic is closed on {new_date.isoformat()}; choose another day."
        if new_date.weekday() not in open_days:
            return (
                f"The clinic is closed on {WEEKDAY_NAMES[new_date.weekday()]}s; "
                "choose a clinic day."
            )
        if new_date == visit.visit_date:
            return f"The visit is already on {new_date.isoformat()}."
        clash = session.scalar(
            select(ScheduledVisitRow.id).where(
                ScheduledVisitRow.plan_id == plan.id,
                ScheduledVisitRow.visit_date == new_date,
                ScheduledVisitRow.status != "cancelled",
                ScheduledVisitRow.id != visit.id,
            )
        )
        if clash is not None:
            return f"This plan already has a visit on {new_date.isoformat()}; choose another day."
        return None

    @use_case(Permission.WRITE_CLINICAL, changes={Change.PLAN, Change.SCHEDULE, Change.ASSESSMENTS})
    def discharge(
        self,
        actor: Actor,
        plan_id: int,
        *,
        reason: str,
        note: str,
        final_assessment: AssessmentInput | None,
        expected_version: int,
    ) -> PlanView:
        """Close an active plan today, with its final assessment, in one transaction.

        The plan becomes "discharged" with ``ended_on`` today, the reason and the note; the
        final assessment is stored as kind "discharge" (whatever kind it was given with);
        planned visits after today are cancelled. One audit entry.
        """
        today = self._context.clock.today()
        errors: list[FieldError] = []
        if reason not in DISCHARGE_REASONS:
            errors.append(
                FieldError(
                    "reason",
                    "Choose why the plan ends: "
                    + ", ".join(label.lower() for label in DISCHARGE_REASONS.values())
                    + ".",
                )
            )
        if final_assessment is not None:
            final_assessment = replace(final_assessment, kind="discharge")
            errors += [
                FieldError(f"final_assessment.{e.field}", e.message)
                for e in validate_assessment(final_assessment, self.catalogue, today)
            ]
        with self._context.updating(
            PlanRow,
            plan_id,
            expected_version,
            noun="Plan",
            record="This plan",
            yours={"end_reason": reason, "end_note": note},
        ) as (session, plan):
            if plan.status != "active":
                errors.insert(
                    0,
                    FieldError(
                        "plan",
                        f"Only an active plan can be discharged; this one is {plan.status}.",
                    ),
                )
            if errors:
                raise ValidationFailed(errors)
            outcome = self._close_plan(
                session,
                actor,
                plan,
                ended_on=today,
                reason=reason,
                note=note,
                final_assessment=final_assessment,
            )
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "discharge",
                    "plan",
                    plan.id,
                    plan.patient_id,
                    {
                        "before": {"status": "active"},
                        "after": {
                            "status": plan.status,
                            "ended_on": today.isoformat(),
                            "end_reason": reason,
                        },
                        "note": plan.end_note,
                        "final_assessment_id": outcome.assessment_id,
                        "cancelled_visits": outcome.cancelled_visits,
                    },
                ),
            )
            return self._view(session, plan)

    def _close_plan(
        self,
        session: Session,
        actor: Actor | None,
        plan: PlanRow,
        *,
        ended_on: dt.date,
        reason: str,
        note: str,
        final_assessment: AssessmentInput | None,
    ) -> Closed:
        """Discharge ``plan`` inside the caller's unit of work (no checks, no audit)."""
        plan.status = "discharged"
        plan.ended_on = ended_on
        plan.end_reason = reason
        plan.end_note = note.strip()
        self._context.stamp_change(plan, actor)
        assessment_id = None
        if final_assessment is not None:
            row = self._assessments._insert(
                session, actor, plan.patient_id, replace(final_assessment, kind="discharge")
            )
            assessment_id = row.id
        remaining = session.scalars(
            select(ScheduledVisitRow).where(
                ScheduledVisitRow.plan_id == plan.id,
                ScheduledVisitRow.status == "planned",
                ScheduledVisitRow.visit_date > ended_on,
            )
        ).all()
        for visit in remaining:
            visit.status = "cancelled"
            self._context.stamp_change(visit, actor)
        session.flush()
        return Closed(assessment_id, len(remaining))

    @use_case(Permission.VIEW_CLINICAL)
    def active_plan(self, actor: Actor, patient_id: int) -> PlanView | None:
        with self._context.reading() as session:
            row = queries.active_plan_row(session, patient_id)
            return None if row is None else self._view(session, row)

    @use_case(Permission.VIEW_CLINICAL)
    def latest_plan(self, actor: Actor, patient_id: int) -> PlanView | None:
        with self._context.reading() as session:
            return self._plan_for_export(session, patient_id)

    def _earlier_plans_for_export(self, session: Session, patient_id: int) -> list[PlanView]:
        """Every plan before the latest one, oldest first."""
        rows = queries.plan_rows(session, patient_id)
        return [self._view(session, row) for row in rows[:-1]]

    def _plan_for_export(self, session: Session, patient_id: int) -> PlanView | None:
        row = queries.latest_plan_row(session, patient_id)
        return None if row is None else self._view(session, row)

    @use_case(Permission.VIEW_CLINICAL)
    def get(self, actor: Actor, plan_id: int) -> PlanView:
        with self._context.reading() as session:
            row = session.get(PlanRow, plan_id)
            if row is None:
                raise NotFound(f"Plan {plan_id} does not exist.")
            return self._view(session, row)

    def _check_screening(
        self, session: Session, intake_row: AssessmentRow, patient: PatientRow, choices: PlanChoices
    ) -> str | None:
        """Refuse a plan the screen does not allow; the clearance it stands on, if any."""
        intake = self._planning_intake(session, intake_row, patient)
        clearance = choices.red_flag_clearance or intake.red_flag_clearance
        screening = screen_intake(intake, self.protocol, self.catalogue, clearance)
        if screening.blocks_planning:
            field = {
                ScreeningOutcome.NEEDS_CLEARANCE: "red_flag_clearance",
                ScreeningOutcome.PRECAUTIONS_NOT_ASKED: "precautions",
            }.get(screening.outcome, "red_flags")
            raise ValidationFailed([FieldError(field, screening.message)])
        return clearance

    def _patient_precautions(self, session: Session, intake_row_id: int | None) -> set[str]:
        if intake_row_id is None:
            return set()
        row = session.get(AssessmentRow, intake_row_id)
        return set(row.precautions) if row is not None else set()

    def _check_choices(
        self, choices: PlanChoices, precautions: set[str], *, imported: bool = False
    ) -> None:
        errors: list[FieldError] = []
        if not choices.phases:
            errors.append(FieldError("phases", "A plan needs at least one phase."))
        if choices.target_pain is not None and not 0 <= choices.target_pain <= 10:
            errors.append(FieldError("target_pain", "Target pain must be from 0 to 10."))
        if choices.target_odi is not None and not 0 <= choices.target_odi <= 100:
            errors.append(FieldError("target_odi", "Target ODI must be from 0 to 100 %."))
        for phase in choices.phases:
            where = f"phases[{phase.number}]"
            if not phase.acupuncture_as_needed and not 1 <= (phase.acupuncture_per_week or 0) <= 7:
                errors.append(
                    FieldError(
                        f"{where}.acupuncture_per_week",
                        f"Phase {phase.number}: acupuncture must be 1 to 7 times a week, "
                        "or as needed.",
                    )
                )
            if not 0 <= phase.pt_per_week <= 7:
                errors.append(
                    FieldError(
                        f"{where}.pt_per_week",
                        f"Phase {phase.number}: PT visits must be 0 to 7 a week.",
                    )
                )
            if phase.end_week < phase.start_week:
                errors.append(
                    FieldError(f"{where}.weeks", f"Phase {phase.number} ends before it starts.")
                )
            for dose in phase.pt_interventions:
                if not self.catalogue.knows("interventions", dose.code):
                    errors.append(
                        FieldError(
                            f"{where}.pt_interventions",
                            f"{dose.code!r} is not a PT intervention in the catalogue.",
                        )
                    )
            for code in phase.acupoints:
                if code not in self.catalogue.acupoints:
                    errors.append(
                        FieldError(f"{where}.acupoints", f"{code!r} is not a known acupoint.")
                    )
            for violation in acupuncture_violations(
                precautions,
                self.protocol,
                self.catalogue,
                acupoints=phase.acupoints,
                acknowledged=choices.acknowledged_points,
            ):
                if imported and violation.kind == ViolationKind.UNACKNOWLEDGED:
                    continue
                errors.append(
                    FieldError(f"{where}.acupoints", f"Phase {phase.number}: {violation.text}")
                )
        if errors:
            raise ValidationFailed(errors)

    def _add_visits(
        self,
        session: Session,
        actor: Actor | None,
        plan_id: int,
        drafts: Sequence[Any],
        *,
        at: str | None = None,
    ) -> None:
        # A new visit is booked with the clinician who planned it, at the time they chose
        # (else the clinic's opening time), until someone moves it; imported visits bring
        # their own.
        settings = session.get(ClinicSettingsRow, 1)
        opening = at or (settings.opens_at if settings is not None else None)
        named_in_file = {d.clinician for d in drafts if isinstance(d, CaseVisit)} - {None}
        account_ids: dict[str, int] = (
            {
                username: account_id
                for account_id, username in session.execute(
                    select(ClinicianRow.id, ClinicianRow.username).where(
                        ClinicianRow.username.in_(named_in_file)
                    )
                ).tuples()
            }
            if named_in_file
            else {}
        )
        for draft in drafts:
            # A visit a case file gives is stored as the file gives it, so it exports the
            # same; only visits scheduled here are booked at opening time with their planner.
            from_file = isinstance(draft, CaseVisit)
            named = draft.clinician if from_file else None
            if from_file:
                clinician_id = account_ids.get(named) if named else None
            else:
                clinician_id = _actor_id(actor)
            visit = ScheduledVisitRow(
                plan_id=plan_id,
                phase_number=draft.phase_number,
                visit_date=draft.visit_date,
                modalities=list(draft.modalities),
                status=getattr(draft, "status", "planned"),
                visit_time=draft.visit_time if from_file else opening,
                clinician_id=clinician_id,
                booked_with=named if named and named not in account_ids else None,
            )
            self._context.stamp_new(visit, actor)
            session.add(visit)

    def _plan_at(
        self, session: Session, plan_id: int, expected_version: int, yours: dict[str, Any]
    ) -> PlanRow:
        return self._context.row_at_version(
            session,
            PlanRow,
            plan_id,
            expected_version,
            noun="Plan",
            record="This plan",
            yours=yours,
        )

    def _view(self, session: Session, plan: PlanRow) -> PlanView:
        session.flush()
        phases = queries.phase_rows(session, plan.id)
        visits = session.scalars(
            select(ScheduledVisitRow)
            .where(ScheduledVisitRow.plan_id == plan.id, ScheduledVisitRow.status != "cancelled")
            .order_by(ScheduledVisitRow.visit_date, ScheduledVisitRow.id)
        ).all()
        booked = {v.clinician_id for v in visits if v.clinician_id is not None}
        accounts: dict[int, tuple[str, str]] = (
            {
                account_id: (username, full_name)
                for account_id, username, full_name in session.execute(
                    select(ClinicianRow.id, ClinicianRow.username, ClinicianRow.full_name).where(
                        ClinicianRow.id.in_(booked)
                    )
                ).tuples()
            }
            if booked
            else {}
        )

        return PlanView(
            id=plan.id,
            patient_id=plan.patient_id,
            protocol_id=plan.protocol_id,
            protocol_version=plan.protocol_version,
            start_date=plan.start_date,
            status=plan.status,
            clinic_days=tuple(plan.clinic_days),
            phases=tuple(_phase_view(p, plan.start_date) for p in phases),
            visits=tuple(
                VisitView(
                    v.id,
                    v.visit_date,
                    v.phase_number,
                    tuple(v.modalities),
                    v.status,
                    v.version,
                    v.visit_time,
                    v.clinician_id,
                    accounts[v.clinician_id][0] if v.clinician_id in accounts else v.booked_with,
                    accounts[v.clinician_id][1] if v.clinician_id in accounts else None,
                )
                for v in visits
            ),
            target_pain=plan.target_pain,
            target_odi=plan.target_odi,
            functional_goals=tuple(plan.functional_goals),
            precautions=tuple(plan.precautions),
            red_flag_clearance=plan.red_flag_clearance,
            acknowledged_points=tuple(plan.acknowledged_points or ()),
            reasons=tuple(plan.reasons),
            version=plan.version,
            ended_on=plan.ended_on,
            end_reason=plan.end_reason,
            end_note=plan.end_note,
        )


def _phase_columns(phase: PlanPhase) -> dict[str, Any]:
    return {
        "number": phase.number,
        "name": phase.name,
        "start_week": phase.start_week,
        "end_week": phase.end_week,
        "acupuncture_per_week": None if phase.acupuncture_as_needed else phase.acupuncture_per_week,
        "acupuncture_as_needed": phase.acupuncture_as_needed,
        "pt_per_week": phase.pt_per_week,
        "pt_focus": [dose.code for dose in phase.pt_interventions],
        "pt_interventions": [{"code": d.code, "dosage": d.dosage} for d in phase.pt_interventions],
        "acupoints": list(phase.acupoints),
        "aim": phase.aim,
    }


def _choice_of(row: PlanPhaseRow) -> PlanPhase:
    return PlanPhase(
        number=row.number,
        name=row.name,
        start_week=row.start_week,
        end_week=row.end_week,
        acupuncture_per_week=row.acupuncture_per_week,
        acupuncture_as_needed=row.acupuncture_as_needed,
        pt_per_week=row.pt_per_week,
        pt_interventions=tuple(
            InterventionDose(item["code"], item["dosage"]) for item in row.pt_interventions
        ),
        acupoints=tuple(row.acupoints),
        aim=row.aim,
    )


def _phase_columns_of(row: PlanPhaseRow) -> dict[str, Any]:
    return {
        "weeks": f"{row.start_week}-{row.end_week}",
        "acupuncture_per_week": row.acupuncture_per_week,
        "acupuncture_as_needed": row.acupuncture_as_needed,
        "pt_per_week": row.pt_per_week,
    }


def _choices_of(plan: PlanRow, phases: tuple[PlanPhase, ...]) -> PlanChoices:
    return PlanChoices(
        start_date=plan.start_date,
        clinic_days=frozenset(plan.clinic_days),
        phases=phases,
        target_pain=plan.target_pain,
        target_odi=plan.target_odi,
        functional_goals=tuple(plan.functional_goals),
        red_flag_clearance=plan.red_flag_clearance,
        protocol_id=plan.protocol_id,
        protocol_version=plan.protocol_version,
        acknowledged_points=tuple(plan.acknowledged_points or ()),
    )


def _phase_view(row: PlanPhaseRow, start: dt.date) -> PhaseView:
    choice = _choice_of(row)
    return PhaseView(
        **{field.name: getattr(choice, field.name) for field in fields(PlanPhase)},
        start_date=start + dt.timedelta(weeks=row.start_week - 1),
        end_date=start + dt.timedelta(weeks=row.end_week, days=-1),
    )


def _points_refusal(violations: Sequence[Violation]) -> str:
    """One sentence for a phase change the precautions in force refuse: which planned
    points they rule out, which need the acknowledgement, and what to do."""

    def listed(codes: Sequence[str]) -> str:
        return codes[0] if len(codes) == 1 else f"{', '.join(codes[:-1])} and {codes[-1]}"

    out = [v.subject for v in violations if v.kind == ViolationKind.ACUPOINT]
    careful = [v.subject for v in violations if v.kind == ViolationKind.UNACKNOWLEDGED]
    said = []
    if out:
        said.append(f"{listed(out)} {'is' if len(out) == 1 else 'are'} not offered")
    if careful:
        said.append(
            f"{listed(careful)} {'needs' if len(careful) == 1 else 'need'} your acknowledgement"
        )
    if out and careful:
        what = "take those not offered out of the plan and acknowledge the others"
    elif out:
        what = f"take {'it' if len(out) == 1 else 'them'} out of the plan"
    else:
        what = f"acknowledge {'it' if len(careful) == 1 else 'them'}"
    labels = [f"'{label}'" for label in sorted({v.precaution_label for v in violations})]
    return (
        f"{' and '.join(said)} because of the precaution{'s' if len(labels) > 1 else ''} "
        f"{listed(labels)} in force now: {what} as you change the phase."
    )


def _phase_end(start: dt.date, row: PlanPhaseRow) -> dt.date:
    """The last day of a stored phase."""
    return start + dt.timedelta(weeks=row.end_week, days=-1)


def _closed_dates(session: Session) -> frozenset[dt.date]:
    settings = session.get(ClinicSettingsRow, 1)
    if settings is None:
        return frozenset()
    return frozenset(dt.date.fromisoformat(day) for day in settings.closed_dates)


def _booked_time(visits: Sequence[ScheduledVisitRow]) -> str | None:
    """The time the plan's latest booked visit is at, for the visits a change adds."""
    timed = [v for v in visits if v.visit_time is not None]
    return max(timed, key=lambda v: (v.visit_date, v.id)).visit_time if timed else None


def _actor_id(actor: Actor | None) -> int | None:
    return None if actor is None else actor.clinician_id
