"""Treatment sessions: log one, amend it without overwriting, read history and progress.

Logging is what clinicians do all day: one transaction links the session to the active
plan and its phase, fulfils the scheduled visit, and writes one audit entry. Sessions are
never edited in place: an amendment marks the original superseded and stores a new row
pointing back at it, with who, when and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from backclinic.db.models import (
    AssessmentRow,
    ClinicianRow,
    PatientRow,
    PlanPhaseRow,
    PlanRow,
    ScheduledVisitRow,
    TreatmentSessionRow,
)
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.progress import (
    PhaseWeeks,
    VisitCounts,
    phase_for_week,
    plan_week,
    progress,
)

# The progress report's types are re-exported for the Progress tab, which takes them from
# here rather than from the domain's rule module.
from backclinic.domain.progress import ProgressReport as ProgressReport
from backclinic.domain.progress import Suggestion as Suggestion
from backclinic.domain.protocol import Protocol
from backclinic.domain.safety import ViolationKind, acupuncture_violations
from backclinic.domain.scoring import score_odi
from backclinic.domain.session import HeldSession, SessionDetails
from backclinic.services import queries
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import FieldError, NotFound, ValidationFailed
from backclinic.services.permissions import Permission
from backclinic.services.safety import status_on
from backclinic.services.use_case import Change, use_case

# The session form's adverse-event choices, in the order of codes.toml [adverse_events].
ADVERSE_EVENTS = (
    "bruising",
    "dizziness",
    "pain_flare",
    "new_numbness",
    "new_weakness",
    "saddle_symptoms",
    "bladder_bowel_change",
    "both_legs",
    "other",
)
TOLERANCES = ("good", "fair", "poor")
MAX_NEEDLES = 60
MAX_RETENTION_MINUTES = 120


TREATING_ROLES = ("acupuncturist", "physical_therapist", "admin")


class _Unread:
    """A row that has not been read yet (None is 'there is none')."""


UNREAD = _Unread()


# What the session form records is the domain's one session type.
SessionInput = SessionDetails


@dataclass(frozen=True)
class _Chosen:
    """The visit a session was logged against: whose it is, its session and status."""

    patient_id: int
    session_id: int | None
    status: str


@dataclass(frozen=True)
class _Chart:
    """What a save reads first, in one query: whether the patient is archived, their
    active plan's id, start and phases (none without an active plan), and the account
    and the visit the session names, if it names them (None also when there is none)."""

    archived: bool
    plan_id: int | None
    plan_start: dt.date | None
    phases: tuple[PhaseWeeks, ...]
    # (active, role) of the account named as giving the session.
    giver: tuple[bool, str] | None
    visit: _Chosen | None

    def phase_on(self, day: dt.date) -> int | None:
        """The number of the active plan's phase on ``day``, or None."""
        if self.plan_start is None:
            return None
        span = phase_for_week(self.phases, plan_week(self.plan_start, day))
        return span.number if span else None


@dataclass(frozen=True)
class SessionRecord:
    """A stored session; ``data.visit_id`` is the scheduled visit it fulfils, if any."""

    id: int
    patient_id: int
    plan_id: int | None
    phase_number: int | None
    clinician_id: int | None
    data: SessionInput
    amends_id: int | None
    superseded: bool
    amendment_reason: str | None
    recorded_at: dt.datetime
    recorded_by: int | None
    version: int
    # The clinic's calendar day of data.performed_at: the day the clinic saw the patient.
    performed_on: dt.date

    def held(self, phase_number: int | None = None) -> HeldSession:
        """The session as the course of care counts it, given in ``phase_number``."""
        return HeldSession(
            self.performed_on, self.data.pain_before, self.data.pain_after, phase_number
        )


# The statements of a save, built once (a clinic logs sessions all day).
_plan, _phase, _visit = PlanRow, PlanPhaseRow, ScheduledVisitRow
_giver = aliased(ClinicianRow, name="giver")
_chosen, _chosen_plan = aliased(ScheduledVisitRow, name="chosen"), aliased(PlanRow, name="whose")
# The patient; their active plan and its phases, the latest active plan first should there
# ever be two (as queries.active_plan_row); the account named as giving the session; and
# the visit named, with the patient whose plan it is in. Joined on a value that is None,
# the last two find nothing.
_CHART = (
    select(
        PatientRow.archived,
        _plan.id,
        _plan.start_date,
        _phase.number,
        _phase.name,
        _phase.start_week,
        _phase.end_week,
        _giver.active,
        _giver.role,
        _chosen_plan.patient_id.label("visit_patient_id"),
        _chosen.session_id.label("visit_session_id"),
        _chosen.status.label("visit_status"),
    )
    .select_from(PatientRow)
    .outerjoin(_plan, and_(_plan.patient_id == PatientRow.id, _plan.status == "active"))
    .outerjoin(_phase, _phase.plan_id == _plan.id)
    .outerjoin(_giver, _giver.id == bindparam("giver"))
    .outerjoin(_chosen, _chosen.id == bindparam("visit"))
    .outerjoin(_chosen_plan, _chosen_plan.id == _chosen.plan_id)
    .where(PatientRow.id == bindparam("patient"))
    .order_by(_plan.id.desc(), _phase.number)
)
# The visit updates and the session insert go through the tables, not the ORM's unit of
# work: a save stores one row and changes one, and the ORM's bookkeeping would cost more
# than the statements themselves. Each sets the version as the ORM would.
_visits = cast(Table, ScheduledVisitRow.__table__)
_sessions = cast(Table, TreatmentSessionRow.__table__)
_DONE = {
    "status": "done",
    "session_id": bindparam("session"),
    "version": _visits.c.version + 1,
    "updated_at": bindparam("now", type_=_visits.c.updated_at.type),
    "updated_by": bindparam("by"),
}
# Each changes a visit only while it is still open, so one another workstation fulfilled
# meanwhile is left alone.
_FULFIL_VISIT = (
    update(_visits)
    .where(
        _visits.c.id == bindparam("visit"),
        _visits.c.session_id.is_(None),
        _visits.c.status != "cancelled",
    )
    .values(_DONE)
    .returning(_visits.c.id)
)
_FIRST_PLANNED = (
    select(_visits.c.id)
    .where(
        _visits.c.plan_id == bindparam("plan"),
        _visits.c.visit_date == bindparam("day"),
        _visits.c.status == "planned",
    )
    .order_by(_visits.c.id)
    .limit(1)
    .scalar_subquery()
)
_FULFIL_PLANNED = (
    update(_visits)
    .where(_visits.c.id == _FIRST_PLANNED, _visits.c.status == "planned")
    .values(_DONE)
    .returning(_visits.c.id)
)
_INSERT_SESSION = insert(_sessions).returning(_sessions.c.id)
# A new row's version, as the ORM's version counter starts it.
FIRST_VERSION = 1


class SessionService:
    def __init__(self, context: ServiceContext, protocol: Protocol, catalogue: Catalogue) -> None:
        self._context = context
        self.protocol = protocol
        self.catalogue = catalogue

    @use_case(Permission.WRITE_CLINICAL, changes={Change.SESSIONS, Change.SCHEDULE, Change.PLAN})
    def log(self, actor: Actor, patient_id: int, data: SessionInput) -> SessionRecord:
        with self._context.writing() as session:
            # One read for the checks and both steps: the patient (NotFound for an unknown
            # one), its active plan and the plan's phases.
            chart = self._chart(session, patient_id, data)
            self._validate(session, chart, patient_id, data)
            row = self._insert(session, actor, chart, patient_id, data, stored_by_orm=False)
            visit_id = self._fulfil(session, actor, chart, row, data.visit_id)
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "create",
                    "treatment_session",
                    row.id,
                    patient_id,
                    {
                        "performed_at": row.performed_at.isoformat(),
                        "plan_id": row.plan_id,
                        "phase": row.phase_number,
                        "visit_id": visit_id,
                        "pain_before": row.pain_before,
                        "pain_after": row.pain_after,
                    },
                ),
            )
            return self._record(session, row, visit_id=visit_id)

    @use_case(Permission.WRITE_CLINICAL, changes={Change.SESSIONS, Change.SCHEDULE, Change.PLAN})
    def amend(
        self,
        actor: Actor,
        session_id: int,
        data: SessionInput,
        reason: str,
        expected_version: int,
    ) -> SessionRecord:
        """Supersede a session with a corrected copy; the original is kept unchanged."""
        try:
            with self._context.writing() as session:
                original = self._context.row_at_version(
                    session,
                    TreatmentSessionRow,
                    session_id,
                    expected_version,
                    noun="Session",
                    record="This session",
                    yours={"reason": reason},
                )
                if original.superseded:
                    raise ValidationFailed(
                        [
                            FieldError(
                                "session",
                                "This session has already been amended; amend its latest "
                                "version instead.",
                            )
                        ]
                    )
                errors = []
                if not reason.strip():
                    errors.append(FieldError("reason", "Give the reason for the amendment."))
                chart = self._chart(session, original.patient_id, data)
                errors += self._errors(
                    session, chart, original.patient_id, data, amending=original.id
                )
                if errors:
                    raise ValidationFailed(errors)
                before = self._record(session, original)
                original.superseded = True
                self._context.stamp_change(original, actor)
                session.flush()
                row = self._insert(
                    session,
                    actor,
                    chart,
                    original.patient_id,
                    data,
                    amends=original.id,
                    reason=reason.strip(),
                )
                visit = session.scalars(
                    select(ScheduledVisitRow).where(ScheduledVisitRow.session_id == original.id)
                ).first()
                if visit is not None:
                    # The visit follows the current version of its session.
                    visit.session_id = row.id
                    self._context.stamp_change(visit, actor)
                elif data.visit_id is not None:
                    self._fulfil(session, actor, chart, row, data.visit_id)
                session.flush()
                after = self._record(session, row)
                self._context.audit(
                    session,
                    actor,
                    AuditEntry(
                        "amend",
                        "treatment_session",
                        row.id,
                        original.patient_id,
                        {
                            "amends_id": original.id,
                            "reason": row.amendment_reason,
                            "before": _changed(before.data, after.data, side="before"),
                            "after": _changed(before.data, after.data, side="after"),
                        },
                    ),
                )
                return after
        except StaleDataError as error:
            raise self._context.stale(
                "This session",
                TreatmentSessionRow,
                session_id,
                {"reason": reason},
                expected_version=expected_version,
            ) from error

    @use_case(Permission.VIEW_SCHEDULE, changes={Change.SCHEDULE, Change.PLAN})
    def mark_missed(self, actor: Actor, visit_id: int) -> None:
        """Record that a planned visit on or before today did not happen."""
        with self._context.writing() as session:
            visit = session.get(ScheduledVisitRow, visit_id)
            if visit is None:
                raise NotFound(f"Visit {visit_id} does not exist.")
            if visit.status != "planned":
                raise ValidationFailed(
                    [
                        FieldError(
                            "visit", f"Only a planned visit can be missed; it is {visit.status}."
                        )
                    ]
                )
            today = self._context.clock.today()
            if visit.visit_date > today:
                raise ValidationFailed(
                    [FieldError("visit", "A visit in the future cannot be marked missed.")]
                )
            plan = session.get(PlanRow, visit.plan_id)
            assert plan is not None
            visit.status = "missed"
            self._context.stamp_change(visit, actor)
            session.flush()
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "missed",
                    "scheduled_visit",
                    visit.id,
                    plan.patient_id,
                    {"visit_date": visit.visit_date.isoformat(), "plan_id": plan.id},
                ),
            )

    @use_case(Permission.VIEW_CLINICAL)
    def get(self, actor: Actor, session_id: int) -> SessionRecord:
        with self._context.reading() as session:
            row = session.get(TreatmentSessionRow, session_id)
            if row is None:
                raise NotFound(f"Session {session_id} does not exist.")
            return self._record(session, row)

    @use_case(Permission.VIEW_CLINICAL)
    def history(
        self, actor: Actor, patient_id: int, include_superseded: bool = False
    ) -> list[SessionRecord]:
        """The patient's sessions, oldest first; amended originals only when asked."""
        with self._context.reading() as session:
            return [
                self._record(session, row)
                for row in queries.session_rows(
                    session, patient_id, include_superseded=include_superseded
                )
            ]

    @use_case(Permission.VIEW_CLINICAL)
    def prefill(self, actor: Actor, patient_id: int, when: dt.datetime) -> SessionInput:
        """The form's defaults for a session at ``when``.

        Points and needling come from the last session, or else the current phase's
        prescription; PT interventions and modalities from the current phase and the visit
        planned that day.
        """
        day = self._context.clock.date_of(when)
        with self._context.reading() as session:
            self._patient(session, patient_id)
            rows = queries.session_rows(session, patient_id, include_superseded=False)
            last = rows[-1] if rows else None
            plan = queries.active_plan_row(session, patient_id)
            phase = self._phase_row(session, plan, day) if plan else None
            visit = self._planned_visit(session, plan, day) if plan else None
            if last is not None and last.acupoints:
                points = tuple(last.acupoints)
            else:
                points = tuple(phase.acupoints) if phase else ()
            if visit is not None:
                modalities = tuple(visit.modalities)
            elif last is not None:
                modalities = tuple(last.modalities)
            else:
                modalities = ()
            return SessionInput(
                performed_at=when,
                modalities=modalities,
                acupoints=points,
                needle_count=last.needle_count if last else None,
                retention_minutes=last.retention_minutes if last else None,
                technique=last.technique if last else "",
                interventions=tuple(
                    (item["code"], item["dosage"]) for item in (phase.pt_interventions or [])
                )
                if phase
                else (),
                visit_id=visit.id if visit else None,
            )

    @use_case(Permission.VIEW_CLINICAL)
    def progress(self, actor: Actor, patient_id: int, today: dt.date) -> ProgressReport:
        """Progress of the patient's current sessions against the active plan on ``today``."""
        with self._context.reading() as session:
            self._patient(session, patient_id)
            rows = queries.session_rows(session, patient_id, include_superseded=False)
            points = [
                HeldSession(
                    self._context.clock.date_of(r.performed_at), r.pain_before, r.pain_after
                )
                for r in rows
            ]
            assessments = [
                a for a in queries.assessment_rows(session, patient_id) if a.assessed_on <= today
            ]
            odi: list[tuple[dt.date, float]] = []
            for a in assessments:
                if a.odi_version is None:
                    continue
                scored = score_odi(
                    [getattr(a, f"odi_{n}") for n in range(1, 11)],
                    self.protocol.thresholds.odi_max_skipped,
                )
                if scored.percent is not None:
                    odi.append((a.assessed_on, scored.percent))
            plan = queries.active_plan_row(session, patient_id)
            intake = None
            if plan is not None and plan.intake_id is not None:
                intake = session.get(AssessmentRow, plan.intake_id)
                if intake is not None and (intake.superseded or intake.entered_in_error_reason):
                    # The plan's intake was corrected: its latest current intake stands in.
                    intake = queries.latest_intake_row(session, patient_id)
            elif assessments:
                intake = next((a for a in reversed(assessments) if a.kind == "intake"), None)
            phases: list[PlanPhaseRow] = []
            counts = VisitCounts(0, 0, 0)
            if plan is not None:
                phases = queries.phase_rows(session, plan.id)
                visits = session.scalars(
                    select(ScheduledVisitRow).where(
                        ScheduledVisitRow.plan_id == plan.id,
                        ScheduledVisitRow.visit_date <= today,
                    )
                ).all()
                attended = sum(v.status == "done" for v in visits)
                missed = sum(v.status == "missed" for v in visits)
                # A visit planned for today is not yet overdue; earlier planned ones are due.
                overdue = sum(v.status == "planned" and v.visit_date < today for v in visits)
                counts = VisitCounts(attended + missed + overdue, attended, missed)
            return progress(
                points,
                odi,
                phases=phases,
                plan_start=plan.start_date if plan else None,
                visits=counts,
                thresholds=self.protocol.thresholds,
                today=today,
                intake_nprs=intake.nprs_current if intake else None,
                last_assessed_on=assessments[-1].assessed_on if assessments else None,
            )

    def _patient(self, session: Session, patient_id: int) -> PatientRow:
        patient = session.get(PatientRow, patient_id)
        if patient is None:
            raise NotFound(f"Patient {patient_id} does not exist.")
        return patient

    def _chart(self, session: Session, patient_id: int, data: SessionInput) -> _Chart:
        """What the checks and the save need to know first, in one read."""
        rows = session.execute(
            _CHART,
            {"patient": patient_id, "giver": data.performed_by, "visit": data.visit_id},
        ).all()
        if not rows:
            raise NotFound(f"Patient {patient_id} does not exist.")
        first = rows[0]
        plan_id = first[1]
        return _Chart(
            archived=first.archived,
            plan_id=plan_id,
            plan_start=first.start_date,
            # Each row holds a phase's number, name and weeks, as progress reads a phase.
            phases=tuple(r for r in rows if r[1] == plan_id and r.number is not None),
            giver=None if first.role is None else (first.active, first.role),
            visit=None
            if first.visit_patient_id is None
            else _Chosen(first.visit_patient_id, first.visit_session_id, first.visit_status),
        )

    def _validate(
        self, session: Session, chart: _Chart, patient_id: int, data: SessionInput
    ) -> None:
        errors = self._errors(session, chart, patient_id, data)
        if errors:
            raise ValidationFailed(errors)

    def _errors(
        self,
        session: Session,
        chart: _Chart,
        patient_id: int,
        data: SessionInput,
        *,
        amending: int | None = None,
    ) -> list[FieldError]:
        """Every rule a session must satisfy, each error naming its field."""
        errors: list[FieldError] = []
        if chart.archived and amending is None:
            errors.append(FieldError("patient", "An archived patient cannot have new sessions."))
        if data.performed_at.tzinfo is None:
            errors.append(FieldError("performed_at", "The session time needs a time zone."))
        elif data.performed_at > self._context.clock.now():
            errors.append(FieldError("performed_at", "The session time cannot be in the future."))
        if data.performed_by is not None:
            giver = chart.giver
            if giver is None or not giver[0] or giver[1] not in TREATING_ROLES:
                errors.append(
                    FieldError(
                        "performed_by",
                        "The session must be given by an active acupuncturist, physical "
                        "therapist or administrator account.",
                    )
                )
        for name in ("pain_before", "pain_after"):
            value = getattr(data, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10
            ):
                label = name.replace("_", " ").capitalize()
                errors.append(FieldError(name, f"{label} must be a whole number from 0 to 10."))
        if not data.modalities:
            errors.append(FieldError("modalities", "Choose at least one modality."))
        for position, code in enumerate(data.modalities):
            if not self.catalogue.knows("modalities", code):
                errors.append(
                    FieldError(f"modalities[{position}]", f"{code!r} is not a known modality.")
                )
        if data.acupoints and data.modalities and "acupuncture" not in data.modalities:
            errors.append(
                FieldError("acupoints", "A session without acupuncture has no acupoints.")
            )
        for position, code in enumerate(data.acupoints):
            if code not in self.catalogue.acupoints:
                errors.append(
                    FieldError(f"acupoints[{position}]", f"{code!r} is not a known acupoint.")
                )
        status = status_on(
            session,
            patient_id,
            self.protocol,
            self.catalogue,
            self._context.clock.date_of(data.performed_at),
        )
        refusal = status.session_refusal
        if refusal is not None and amending is None:
            errors.append(FieldError("patient", refusal))
        for violation in acupuncture_violations(
            status.precautions_in_force,
            self.protocol,
            self.catalogue,
            acupoints=data.acupoints,
            electro=data.electro,
            acknowledged=data.acknowledged_points,
        ):
            field = (
                "electro"
                if violation.kind == ViolationKind.ELECTROACUPUNCTURE
                else f"acupoints[{data.acupoints.index(violation.subject)}]"
            )
            errors.append(FieldError(field, violation.text))
        if data.needle_count is not None and not 0 <= data.needle_count <= MAX_NEEDLES:
            errors.append(
                FieldError("needle_count", f"Needle count must be from 0 to {MAX_NEEDLES}.")
            )
        if data.retention_minutes is not None and not (
            0 <= data.retention_minutes <= MAX_RETENTION_MINUTES
        ):
            errors.append(
                FieldError(
                    "retention_minutes",
                    f"Retention must be from 0 to {MAX_RETENTION_MINUTES} minutes.",
                )
            )
        for position, (code, _dosage) in enumerate(data.interventions):
            if not self.catalogue.knows("interventions", code):
                errors.append(
                    FieldError(
                        f"interventions[{position}]",
                        f"{code!r} is not a PT intervention in the catalogue.",
                    )
                )
        if data.tolerance is not None and data.tolerance not in TOLERANCES:
            errors.append(FieldError("tolerance", "Tolerance must be good, fair or poor."))
        for position, code in enumerate(data.adverse_events):
            if not self.catalogue.knows("adverse_events", code):
                errors.append(
                    FieldError(
                        f"adverse_events[{position}]", f"{code!r} is not a known adverse event."
                    )
                )
        if "other" in data.adverse_events and not data.adverse_event_note.strip():
            errors.append(
                FieldError("adverse_event_note", "Describe the adverse event recorded as other.")
            )
        if data.visit_id is not None:
            errors += self._visit_errors(chart, patient_id, amending)
        return errors

    def _visit_errors(
        self, chart: _Chart, patient_id: int, amending: int | None
    ) -> list[FieldError]:
        visit = chart.visit
        if visit is None or visit.patient_id != patient_id:
            return [FieldError("visit_id", "That visit is not one of this patient's visits.")]
        if visit.session_id is not None and visit.session_id != amending:
            return [FieldError("visit_id", "That visit already has a session logged.")]
        if visit.status == "cancelled":
            return [FieldError("visit_id", "That visit was cancelled.")]
        return []

    def _insert(
        self,
        session: Session,
        actor: Actor,
        chart: _Chart,
        patient_id: int,
        data: SessionInput,
        *,
        amends: int | None = None,
        reason: str | None = None,
        stored_by_orm: bool = True,
    ) -> TreatmentSessionRow:
        """Store the session; ``stored_by_orm=False`` inserts it through the table (a new
        session the transaction changes no further) and returns the row unattached."""
        day = self._context.clock.date_of(data.performed_at)
        linked = chart.plan_start is not None and day >= chart.plan_start
        row = session_row(
            data,
            patient_id=patient_id,
            plan_id=chart.plan_id if linked else None,
            phase_number=chart.phase_on(day),
            clinician_id=data.performed_by if data.performed_by is not None else actor.clinician_id,
            amends_id=amends,
            amendment_reason=reason,
        )
        self._context.stamp_new(row, actor)
        if stored_by_orm:
            session.add(row)
            session.flush()
            return row
        row.version = FIRST_VERSION
        # The attributes set, as the ORM would send them (a column left unset takes its
        # default).
        given = sa_inspect(row).dict
        columns = {column.key: given[column.key] for column in _sessions.c if column.key in given}
        row.id = session.execute(_INSERT_SESSION, columns).scalar_one()
        return row

    def _fulfil(
        self,
        session: Session,
        actor: Actor,
        chart: _Chart,
        row: TreatmentSessionRow,
        visit_id: int | None,
    ) -> int | None:
        """Mark the given visit, or the active plan's first planned visit of the session's
        day, done by ``row``; its id, or None when there is none.

        One statement finds and changes the visit, and changes it only while it is still
        open: a visit another workstation fulfilled meanwhile is left alone.
        """
        stamp = {"session": row.id, "now": self._context.clock.now(), "by": actor.clinician_id}
        if visit_id is not None:
            fulfilled = session.execute(_FULFIL_VISIT, {**stamp, "visit": visit_id}).scalar()
        elif chart.plan_id is not None:
            day = self._context.clock.date_of(row.performed_at)
            fulfilled = session.execute(
                _FULFIL_PLANNED, {**stamp, "plan": chart.plan_id, "day": day}
            ).scalar()
        else:
            return None
        if fulfilled is None and visit_id is not None:
            # Checked a moment ago: another workstation logged a session for it since.
            raise ValidationFailed(
                [FieldError("visit_id", "That visit already has a session logged.")]
            )
        return fulfilled

    def _phase_row(self, session: Session, plan: PlanRow, day: dt.date) -> PlanPhaseRow | None:
        return phase_for_week(queries.phase_rows(session, plan.id), plan_week(plan.start_date, day))

    def _planned_visit(
        self, session: Session, plan: PlanRow, day: dt.date
    ) -> ScheduledVisitRow | None:
        return session.scalars(
            select(ScheduledVisitRow)
            .where(
                ScheduledVisitRow.plan_id == plan.id,
                ScheduledVisitRow.visit_date == day,
                ScheduledVisitRow.status == "planned",
            )
            .order_by(ScheduledVisitRow.id)
        ).first()

    def _record(
        self,
        session: Session,
        row: TreatmentSessionRow,
        *,
        visit_id: int | _Unread | None = UNREAD,
    ) -> SessionRecord:
        if isinstance(visit_id, _Unread):
            visit_id = session.scalar(
                select(ScheduledVisitRow.id).where(ScheduledVisitRow.session_id == row.id)
            )
        data = replace(
            session_details(row, visit_id=visit_id),
            performed_at=self._context.clock.in_zone(row.performed_at),
        )
        return SessionRecord(
            id=row.id,
            patient_id=row.patient_id,
            plan_id=row.plan_id,
            phase_number=row.phase_number,
            clinician_id=row.clinician_id,
            data=data,
            amends_id=row.amends_id,
            superseded=row.superseded,
            amendment_reason=row.amendment_reason,
            recorded_at=row.created_at,
            recorded_by=row.created_by,
            version=row.version,
            performed_on=self._context.clock.date_of(row.performed_at),
        )


def session_details(row: TreatmentSessionRow, *, visit_id: int | None = None) -> SessionDetails:
    """The session a row holds; ``visit_id`` is the visit it fulfils (a separate row)."""
    return SessionDetails(
        performed_at=row.performed_at,
        modalities=tuple(row.modalities),
        pain_before=row.pain_before,
        pain_after=row.pain_after,
        acupoints=tuple(row.acupoints),
        needle_count=row.needle_count,
        retention_minutes=row.retention_minutes,
        electro=row.electro,
        technique=row.technique,
        interventions=tuple((item["code"], item["dosage"]) for item in row.interventions),
        tolerance=row.tolerance,
        adverse_events=tuple(row.adverse_events),
        adverse_event_note=row.adverse_event_note,
        subjective=row.subjective,
        objective=row.objective,
        assessment_note=row.assessment_note,
        plan_note=row.plan_note,
        visit_id=visit_id,
        performed_by=row.clinician_id,
        acknowledged_points=tuple(row.acknowledged_points or ()),
    )


def session_row(
    data: SessionDetails,
    *,
    patient_id: int,
    plan_id: int | None,
    phase_number: int | None,
    clinician_id: int | None,
    amends_id: int | None = None,
    amendment_reason: str | None = None,
    notes: str = "",
) -> TreatmentSessionRow:
    """The row for a session, unstamped; logging, case import and the demo build it here."""
    return TreatmentSessionRow(
        patient_id=patient_id,
        plan_id=plan_id,
        phase_number=phase_number,
        clinician_id=clinician_id,
        performed_at=data.performed_at,
        modalities=list(data.modalities),
        pain_before=data.pain_before,
        pain_after=data.pain_after,
        acupoints=list(data.acupoints),
        needle_count=data.needle_count,
        retention_minutes=data.retention_minutes,
        electro=data.electro,
        technique=data.technique,
        interventions=[{"code": code, "dosage": dosage} for code, dosage in data.interventions],
        tolerance=data.tolerance,
        adverse_events=list(data.adverse_events),
        adverse_event_note=data.adverse_event_note,
        subjective=data.subjective,
        objective=data.objective,
        assessment_note=data.assessment_note,
        plan_note=data.plan_note,
        acknowledged_points=[p for p in data.acknowledged_points if p in data.acupoints],
        notes=notes,
        amends_id=amends_id,
        superseded=False,
        amendment_reason=amendment_reason,
    )


def _changed(before: SessionInput, after: SessionInput, *, side: str) -> dict[str, Any]:
    """The fields an amendment changed, as JSON-ready values from one side."""
    old, new = asdict(before), asdict(after)
    chosen = old if side == "before" else new
    return {key: _json(chosen[key]) for key in old if key != "visit_id" and old[key] != new[key]}


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return value
