"""The patient's safety status through the episode, and the records that change it: a
clinician's clearance of red flags and the outcome of an urgent referral.

The status itself is ``domain.safety.safety_status``; this module only reads the screens
(assessments), the neurological warning signs of sessions and the safety records, so the
session check, the episode course and the screens all agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backclinic.db.models import (
    CLEARANCE_METHODS,
    AssessmentRow,
    AuditEventRow,
    ClinicianRow,
    PatientRow,
    SafetyRecordRow,
    TreatmentSessionRow,
)
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol
from backclinic.domain.safety import (
    SafetyEvent,
    SafetyEventKind,
    SafetyScreen,
    SafetyStatus,
    safety_status,
)
from backclinic.domain.screening import FlagAnswer
from backclinic.services import queries
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import FieldError, NotFound, ValidationFailed
from backclinic.services.permissions import Permission
from backclinic.services.use_case import Change, use_case

# A reason is a few words: "." or "ok" says nothing a later reader can check.
MIN_REASON_WORDS = 3


@dataclass(frozen=True)
class ClearanceInput:
    """A clinician's clearance: which present red flags, how and why."""

    flags: tuple[str, ...]
    method: str
    reason: str


@dataclass(frozen=True)
class SafetyRecord:
    id: int
    patient_id: int
    kind: str
    recorded_on: dt.date
    clinician: str | None
    flags: tuple[str, ...]
    method: str | None
    reason: str


def _name(session: Session, clinician_id: int | None) -> str | None:
    row = session.get(ClinicianRow, clinician_id) if clinician_id is not None else None
    return row.full_name if row is not None else None


def _names(session: Session) -> dict[int, str]:
    """Every account's full name by id, in one read (there are a handful)."""
    return {
        cid: name for cid, name in session.execute(select(ClinicianRow.id, ClinicianRow.full_name))
    }


def _screen(
    *,
    on: dt.date,
    kind: str,
    by: str | None,
    red_flags: Mapping[str, str] | None,
    precautions: Sequence[str],
    clearance_note: str | None,
    catalogue: Catalogue,
) -> SafetyScreen:
    # Precautions are stored as the list present; the form asks every one of them.
    return SafetyScreen(
        on=on,
        by=by,
        source=kind,
        red_flags=(
            None
            if red_flags is None
            else {code: FlagAnswer(answer) for code, answer in red_flags.items()}
        ),
        precautions={
            code: FlagAnswer.PRESENT if code in precautions else FlagAnswer.ABSENT
            for code in catalogue.codes.get("precautions", {})
        },
        clearance_note=clearance_note,
    )


def warning_signs(adverse_events: Sequence[str], catalogue: Catalogue) -> tuple[str, ...]:
    """The adverse events the catalogue marks as neurological warning signs."""
    return tuple(
        code for code in adverse_events if catalogue.knows("neurological_warning_signs", code)
    )


def status_on(
    session: Session,
    patient_id: int,
    protocol: Protocol,
    catalogue: Catalogue,
    day: dt.date,
) -> SafetyStatus:
    """The patient's safety status on ``day``, read in the caller's session."""
    return statuses_on(session, [patient_id], protocol, catalogue, day)[patient_id]


def statuses_on(
    session: Session,
    patient_ids: Collection[int],
    protocol: Protocol,
    catalogue: Catalogue,
    day: dt.date,
) -> dict[int, SafetyStatus]:
    """Each patient's safety status on ``day``: three reads for all of them, so the day
    view over hundreds of plans stays fast."""
    wanted = sorted(set(patient_ids))
    screens: dict[int, list[SafetyScreen]] = {pid: [] for pid in wanted}
    events: dict[int, list[SafetyEvent]] = {pid: [] for pid in wanted}
    if not wanted:
        return {}
    names = _names(session)

    def name(clinician_id: int | None) -> str | None:
        return names.get(clinician_id) if clinician_id is not None else None

    # Only the screening columns: an assessment row holds every questionnaire answer too.
    screened = AssessmentRow
    for row in session.execute(
        select(
            screened.patient_id,
            screened.assessed_on,
            screened.kind,
            screened.created_by,
            screened.red_flags,
            screened.precautions,
            screened.red_flag_clearance,
        )
        .where(screened.patient_id.in_(wanted), queries.current_assessment())
        .order_by(screened.assessed_on, screened.id)
    ):
        screens[row.patient_id].append(
            _screen(
                on=row.assessed_on,
                kind=row.kind,
                by=name(row.created_by),
                red_flags=row.red_flags,
                precautions=row.precautions or (),
                clearance_note=row.red_flag_clearance,
                catalogue=catalogue,
            )
        )
    # Only the columns the warning signs need: sessions are the largest table.
    treated = TreatmentSessionRow
    for patient_id, performed_at, adverse_events, clinician_id, created_by in session.execute(
        select(
            treated.patient_id,
            treated.performed_at,
            treated.adverse_events,
            treated.clinician_id,
            treated.created_by,
        ).where(treated.patient_id.in_(wanted), treated.superseded.is_(False))
    ):
        signs = warning_signs(adverse_events or (), catalogue)
        if signs:
            events[patient_id].append(
                SafetyEvent(
                    on=performed_at.astimezone().date(),
                    by=name(clinician_id or created_by),
                    kind=SafetyEventKind.NEUROLOGICAL_WARNING,
                    items=signs,
                )
            )
    for record in session.scalars(
        select(SafetyRecordRow).where(SafetyRecordRow.patient_id.in_(wanted))
    ):
        events[record.patient_id].append(
            SafetyEvent(
                on=record.recorded_on,
                by=name(record.clinician_id),
                kind=SafetyEventKind(record.kind),
                items=tuple(record.flags),
                text=record.reason,
            )
        )
    return {
        pid: safety_status(screens[pid], events[pid], protocol, catalogue, as_of=day)
        for pid in wanted
    }


def reason_errors(reason: str) -> list[FieldError]:
    if len(reason.split()) < MIN_REASON_WORDS or not any(c.isalpha() for c in reason):
        return [
            FieldError(
                "reason",
                f"The reason must say in at least {MIN_REASON_WORDS} words why, for a later "
                "reader to check.",
            )
        ]
    return []


class SafetyService:
    def __init__(self, context: ServiceContext, protocol: Protocol, catalogue: Catalogue) -> None:
        self._context = context
        self._protocol = protocol
        self._catalogue = catalogue

    def _today(self) -> dt.date:
        return self._context.clock.today()

    @use_case(Permission.VIEW_CLINICAL)
    def status(self, actor: Actor, patient_id: int) -> SafetyStatus:
        """The patient's safety status today."""
        with self._context.reading() as session:
            self._patient(session, patient_id)
            return status_on(session, patient_id, self._protocol, self._catalogue, self._today())

    @use_case(Permission.WRITE_CLINICAL, changes={Change.ASSESSMENTS, Change.PLAN, Change.SCHEDULE})
    def record_clearance(self, actor: Actor, patient_id: int, data: ClearanceInput) -> SafetyRecord:
        """Record that the signed-in clinician cleared present non-urgent red flags."""
        with self._context.writing() as session:
            self._patient(session, patient_id)
            status = status_on(session, patient_id, self._protocol, self._catalogue, self._today())
            urgent = {i for g in self._protocol.red_flag_groups if g.urgent for i in g.items}
            present = {i.code for i in status.red_flags_present}
            errors: list[FieldError] = []
            if not data.flags:
                errors.append(FieldError("flags", "Choose the red flags this clearance clears."))
            for position, code in enumerate(data.flags):
                label = (
                    self._catalogue.label("red_flags", code)
                    if self._catalogue.knows("red_flags", code)
                    else repr(code)
                )
                if code in urgent:
                    errors.append(
                        FieldError(
                            f"flags[{position}]",
                            f"{label} is a sign of cauda equina syndrome: it needs an urgent "
                            "referral and its outcome, not a clearance.",
                        )
                    )
                elif code not in present:
                    errors.append(
                        FieldError(f"flags[{position}]", f"{label} is not a red flag present now.")
                    )
            if data.method not in CLEARANCE_METHODS:
                errors.append(
                    FieldError(
                        "method",
                        "How it was cleared must be a physician letter, imaging, a specialist "
                        "review or clinical reasoning.",
                    )
                )
            errors += reason_errors(data.reason)
            if errors:
                raise ValidationFailed(errors)
            return self._insert(
                session, actor, patient_id, "clearance", data.flags, data.method, data.reason
            )

    @use_case(Permission.WRITE_CLINICAL, changes={Change.ASSESSMENTS, Change.PLAN, Change.SCHEDULE})
    def record_referral_outcome(self, actor: Actor, patient_id: int, reason: str) -> SafetyRecord:
        """Record the outcome of an urgent referral, which lifts the hold on treatment."""
        with self._context.writing() as session:
            self._patient(session, patient_id)
            status = status_on(session, patient_id, self._protocol, self._catalogue, self._today())
            if not status.on_hold:
                raise ValidationFailed(
                    [FieldError("patient", "The patient is not on hold for an urgent referral.")]
                )
            errors = reason_errors(reason)
            if errors:
                raise ValidationFailed(errors)
            return self._insert(session, actor, patient_id, "referral_outcome", (), None, reason)

    @use_case(Permission.VIEW_CLINICAL)
    def records(self, actor: Actor, patient_id: int) -> list[SafetyRecord]:
        """The patient's clearances and referral outcomes, oldest first."""
        with self._context.reading() as session:
            rows = session.scalars(
                select(SafetyRecordRow)
                .where(SafetyRecordRow.patient_id == patient_id)
                .order_by(SafetyRecordRow.recorded_on, SafetyRecordRow.id)
            ).all()
            return [self._record(session, row) for row in rows]

    @use_case(Permission.VIEW_CLINICAL)
    def import_notices(self, actor: Actor, patient_id: int) -> tuple[str, ...]:
        """The sentences case imports recorded about history that broke a precaution."""
        with self._context.reading() as session:
            entries = session.scalars(
                select(AuditEventRow)
                .where(
                    AuditEventRow.patient_id == patient_id,
                    AuditEventRow.action == "import",
                )
                .order_by(AuditEventRow.id)
            ).all()
            return tuple(
                notice for entry in entries for notice in entry.details.get("safety_notices", [])
            )

    def _insert(
        self,
        session: Session,
        actor: Actor,
        patient_id: int,
        kind: str,
        flags: Sequence[str],
        method: str | None,
        reason: str,
    ) -> SafetyRecord:
        row = SafetyRecordRow(
            patient_id=patient_id,
            kind=kind,
            recorded_on=self._today(),
            clinician_id=actor.clinician_id,
            flags=list(flags),
            method=method,
            reason=" ".join(reason.split()),
        )
        self._context.stamp_new(row, actor)
        session.add(row)
        session.flush()
        self._context.audit(
            session,
            actor,
            AuditEntry(
                "create",
                "safety_record",
                row.id,
                patient_id,
                {"kind": kind, "flags": list(flags), "method": method, "reason": row.reason},
            ),
        )
        return self._record(session, row)

    def _record(self, session: Session, row: SafetyRecordRow) -> SafetyRecord:
        return SafetyRecord(
            id=row.id,
            patient_id=row.patient_id,
            kind=row.kind,
            recorded_on=row.recorded_on,
            clinician=_name(session, row.clinician_id),
            flags=tuple(row.flags),
            method=row.method,
            reason=row.reason,
        )

    def _patient(self, session: Session, patient_id: int) -> PatientRow:
        row = session.get(PatientRow, patient_id)
        if row is None:
            raise NotFound(f"Patient {patient_id} does not exist.")
        return row
