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

from sqlalchemy import BindParameter, Text, bindparam, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session, aliased

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
    acknowledgement_points,
    acupuncture_violations,
    came_after,
    forbidden_points,
    precaution_rules,
    safety_status,
    supine_adaptation,
)
from backclinic.domain.safety import (
    SafetyStatus as SafetyStatus,
)
from backclinic.domain.screening import (
    MIN_REASON_WORDS,
    FlagAnswer,
    age_flag_words,
    derive_age_flag,
    is_reason,
)
from backclinic.services import queries
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import FieldError, NotFound, ValidationFailed
from backclinic.services.permissions import Permission
from backclinic.services.use_case import Change, reads_no_records, use_case


@dataclass(frozen=True)
class ClearanceInput:
    """A clinician's clearance: which present red flags, how and why."""

    flags: tuple[str, ...]
    method: str
    reason: str


@dataclass(frozen=True)
class NeedlingAdvice:
    """What the precautions in force mean for a session or a plan, in words: each
    precaution's advice, the points not offered and why, the points offered only with the
    clinician's acknowledgement and why (with the sentence the acknowledgement says), and
    why electro-acupuncture is not offered (None: it is)."""

    precautions: tuple[tuple[str, str], ...]
    forbidden: Mapping[str, str]
    acknowledge: Mapping[str, str]
    acknowledgement: str
    electro_refusal: str | None


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
    precautions_not_asked: Sequence[str] = (),
    at: dt.datetime | None = None,
) -> SafetyScreen:
    # Precautions are stored as the list present and the list not asked; the rest are absent.
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
            code: FlagAnswer.PRESENT
            if code in precautions
            else FlagAnswer.NOT_ASKED
            if code in precautions_not_asked
            else FlagAnswer.ABSENT
            for code in catalogue.codes.get("precautions", {})
        },
        clearance_note=clearance_note,
        at=at,
    )


def warning_signs(adverse_events: Sequence[str], catalogue: Catalogue) -> tuple[str, ...]:
    """The adverse events the catalogue marks as neurological warning signs."""
    return tuple(
        code for code in adverse_events if catalogue.knows("neurological_warning_signs", code)
    )


def original_instants(session: Session, assessment_ids: Collection[int]) -> dict[int, dt.datetime]:
    """For each assessment, the instant its original record was made: an amendment is the
    record it corrects, followed through ``amends_id`` to the first (a correction of a
    correction included), so a screen keeps its place among the day's outcomes and
    clearances however often it is corrected. One read per step back along the longest
    chain."""
    cursor = {start: start for start in assessment_ids}
    found: dict[int, dt.datetime] = {}
    while cursor:
        steps = {
            row_id: (amends_id, created_at)
            for row_id, amends_id, created_at in session.execute(
                select(AssessmentRow.id, AssessmentRow.amends_id, AssessmentRow.created_at).where(
                    AssessmentRow.id.in_(set(cursor.values()))
                )
            )
        }
        following: dict[int, int] = {}
        for start, at_id in cursor.items():
            amends_id, created_at = steps[at_id]
            # An amendment is always newer than what it corrects: the chain ends.
            if amends_id is None or amends_id >= at_id:
                found[start] = created_at
            else:
                following[start] = amends_id
        cursor = following
    return found


def screen_instant(session: Session, row: AssessmentRow) -> dt.datetime:
    """The instant the screen ``row`` holds was first recorded (``original_instants``)."""
    if row.amends_id is None:
        return row.created_at
    return original_instants(session, [row.amends_id])[row.amends_id]


# The rows behind a safety status, read in one statement (a save reads them every time, so
# each round trip counts) and built once: the screens, the sessions that recorded an
# adverse event, and the clearances and referral outcomes, each with its clinician's name,
# for the expanding "patients". Columns a kind of row lacks are NULL.
_SCREEN, _WARNING, _RECORD = 0, 1, 2
_PATIENTS: BindParameter[int] = bindparam("patients", expanding=True)
_screened, _screener = AssessmentRow, aliased(ClinicianRow, name="screener")
_amended = aliased(AssessmentRow, name="amended")
_treated, _giver = TreatmentSessionRow, aliased(ClinicianRow, name="giver")
_recorded, _recorder = SafetyRecordRow, aliased(ClinicianRow, name="recorder")
_NO_DAY = cast(null(), _screened.assessed_on.type)
_NO_LIST = cast(null(), _screened.precautions.type)
_NO_TEXT = cast(null(), _screened.red_flag_clearance.type)
_NO_ID = cast(null(), _screened.amends_id.type)
_SAFETY_ROWS = union_all(
    # Only the screening columns: an assessment row holds every questionnaire answer too.
    select(
        literal(_SCREEN).label("source"),
        _screened.patient_id,
        _screened.id.label("row_id"),
        _screened.assessed_on.label("on_day"),
        # The instant each row was recorded, which orders a day's screens against its
        # outcomes and clearances: an amendment keeps the instant of the record it corrects;
        # a session's is when it was given.
        func.coalesce(_amended.created_at, _screened.created_at).label("at"),
        # Set when the corrected record is itself a correction: the rare deeper chain is
        # followed to its original after (original_instants).
        _amended.amends_id.label("amends_further"),
        _screened.kind.label("kind"),
        _screener.full_name.label("by"),
        _screened.red_flags.label("items"),
        _screened.precautions.label("present"),
        _screened.precautions_not_asked.label("not_asked"),
        _screened.red_flag_clearance.label("words"),
    )
    .outerjoin(_screener, _screener.id == _screened.created_by)
    .outerjoin(_amended, _amended.id == _screened.amends_id)
    .where(_screened.patient_id.in_(_PATIENTS), queries.current_assessment()),
    # Only the columns the warning signs need: sessions are the largest table.
    select(
        literal(_WARNING),
        _treated.patient_id,
        _treated.id,
        _NO_DAY,
        _treated.performed_at,
        _NO_ID,
        _NO_TEXT,
        _giver.full_name,
        _treated.adverse_events,
        _NO_LIST,
        _NO_LIST,
        _NO_TEXT,
    )
    .outerjoin(_giver, _giver.id == func.coalesce(_treated.clinician_id, _treated.created_by))
    .where(
        _treated.patient_id.in_(_PATIENTS),
        _treated.superseded.is_(False),
        # Most sessions record no adverse event: only the others are read (a patient with a
        # hundred sessions would otherwise be read whole at every save).
        cast(_treated.adverse_events, Text) != "[]",
    ),
    select(
        literal(_RECORD),
        _recorded.patient_id,
        _recorded.id,
        _recorded.recorded_on,
        _recorded.created_at,
        _NO_ID,
        _recorded.kind,
        _recorder.full_name,
        _recorded.flags,
        _NO_LIST,
        _NO_LIST,
        _recorded.reason,
    )
    .outerjoin(_recorder, _recorder.id == _recorded.clinician_id)
    .where(_recorded.patient_id.in_(_PATIENTS)),
).order_by("source", "on_day", "row_id")


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
    """Each patient's safety status on ``day``: one read for all of them, so the day view
    over hundreds of plans, and every session save, stays fast."""
    wanted = sorted(set(patient_ids))
    screens: dict[int, list[SafetyScreen]] = {pid: [] for pid in wanted}
    events: dict[int, list[SafetyEvent]] = {pid: [] for pid in wanted}
    if not wanted:
        return {}

    # Screens in the order they were made (day, then entry); events in entry order.
    rows = session.execute(_SAFETY_ROWS, {"patients": wanted}).all()
    originals = original_instants(
        session, {row.amends_further for row in rows if row.amends_further is not None}
    )
    for row in rows:
        if row.source == _SCREEN:
            screens[row.patient_id].append(
                _screen(
                    on=row.on_day,
                    kind=row.kind,
                    by=row.by,
                    red_flags=row.items,
                    precautions=row.present or (),
                    clearance_note=row.words,
                    catalogue=catalogue,
                    precautions_not_asked=row.not_asked or (),
                    at=originals.get(row.amends_further, row.at),
                )
            )
        elif row.source == _WARNING:
            signs = warning_signs(row.items or (), catalogue)
            if signs:
                events[row.patient_id].append(
                    SafetyEvent(
                        on=row.at.astimezone().date(),
                        by=row.by,
                        kind=SafetyEventKind.NEUROLOGICAL_WARNING,
                        items=signs,
                        at=row.at,
                    )
                )
        else:
            events[row.patient_id].append(
                SafetyEvent(
                    on=row.on_day,
                    by=row.by,
                    kind=SafetyEventKind(row.kind),
                    items=tuple(row.items),
                    text=row.words,
                    at=row.at,
                )
            )
    return {
        pid: safety_status(screens[pid], events[pid], protocol, catalogue, as_of=day)
        for pid in wanted
    }


def holds_on(
    session: Session,
    patient_ids: Collection[int],
    protocol: Protocol,
    catalogue: Catalogue,
    day: dt.date,
) -> set[int]:
    """The patients among ``patient_ids`` whose treatment is on hold on ``day``.

    Only a patient with a red flag answered present at some screen, or an adverse event at
    some session, can be on hold; two narrow reads find those few, and only their whole
    status is worked out (the day view over hundreds of plans stays as fast as without
    holds)."""
    wanted = set(patient_ids)
    if not wanted:
        return set()
    screened, treated = AssessmentRow, TreatmentSessionRow
    candidates = set(
        session.scalars(
            select(screened.patient_id)
            .where(
                screened.patient_id.in_(wanted),
                screened.assessed_on <= day,
                queries.current_assessment(),
                cast(screened.red_flags, Text).like('%"present"%'),
            )
            .distinct()
        )
    )
    candidates |= set(
        session.scalars(
            select(treated.patient_id)
            .where(
                treated.patient_id.in_(wanted - candidates),
                treated.superseded.is_(False),
                cast(treated.adverse_events, Text) != "[]",
            )
            .distinct()
        )
    )
    statuses = statuses_on(session, candidates, protocol, catalogue, day)
    return {pid for pid, status in statuses.items() if status.on_hold}


def supine_note_on(
    session: Session,
    patient_id: int,
    protocol: Protocol,
    catalogue: Catalogue,
    day: dt.date,
) -> str | None:
    """When the patient's exercises lying on the back are adapted, from the precautions in
    force on ``day`` and the weeks of pregnancy of the latest screen that recorded them."""
    status = status_on(session, patient_id, protocol, catalogue, day)
    in_force = status.precautions_in_force
    if not in_force:
        return None
    latest = session.execute(
        select(AssessmentRow.assessed_on, AssessmentRow.pregnancy_weeks)
        .where(
            AssessmentRow.patient_id == patient_id,
            AssessmentRow.assessed_on <= day,
            AssessmentRow.pregnancy_weeks.is_not(None),
            queries.current_assessment(),
        )
        .order_by(AssessmentRow.assessed_on.desc(), AssessmentRow.id.desc())
        .limit(1)
    ).first()
    return supine_adaptation(
        in_force,
        protocol,
        on=day,
        weeks_at_screen=latest.pregnancy_weeks if latest else None,
        screened_on=latest.assessed_on if latest else None,
    )


def record_words(record: SafetyRecord, catalogue: Catalogue) -> str:
    """A clearance or referral outcome in one sentence: when, who, what, how and why."""
    when = f"{record.recorded_on.day} {record.recorded_on:%b} {record.recorded_on.year}"
    who = record.clinician or "an unknown clinician"
    if record.kind == "referral_outcome":
        return f"Referral outcome recorded {when} by {who}: {record.reason}"
    flags = ", ".join(
        catalogue.label("red_flags", code).lower()
        if catalogue.knows("red_flags", code)
        else code.replace("_", " ")
        for code in record.flags
    )
    how = (
        catalogue.label("clearance_methods", record.method).lower()
        if record.method and catalogue.knows("clearance_methods", record.method)
        else "an unrecorded method"
    )
    return f"Clearance recorded {when} by {who} of {flags}, by {how}: {record.reason}"


def _record_of(row: SafetyRecordRow, names: Mapping[int, str]) -> SafetyRecord:
    return SafetyRecord(
        id=row.id,
        patient_id=row.patient_id,
        kind=row.kind,
        recorded_on=row.recorded_on,
        clinician=names.get(row.clinician_id) if row.clinician_id else None,
        flags=tuple(row.flags),
        method=row.method,
        reason=row.reason,
    )


def clearance_on_record(
    session: Session,
    patient_id: int,
    flags: Collection[str],
    since: dt.date,
    catalogue: Catalogue,
    *,
    since_at: dt.datetime,
) -> str | None:
    """The clearance records made after the screen of ``since`` (recorded at ``since_at``)
    that together clear every one of ``flags``, in words; None while any of them is cleared
    by none. "After" is the status's rule (``came_after``): a later day, or the same day
    recorded later; a clearance from earlier that day cleared an earlier screen."""
    if not flags:
        return None
    rows = session.scalars(
        select(SafetyRecordRow)
        .where(
            SafetyRecordRow.patient_id == patient_id,
            SafetyRecordRow.kind == "clearance",
            SafetyRecordRow.recorded_on >= since,
        )
        .order_by(SafetyRecordRow.recorded_on, SafetyRecordRow.id)
    ).all()
    covering = [
        row
        for row in rows
        if set(row.flags) & set(flags)
        and came_after(row.recorded_on, row.created_at, since, since_at)
    ]
    if not set(flags) <= {flag for row in covering for flag in row.flags}:
        return None
    names = _names(session)
    return " ".join(record_words(_record_of(row, names), catalogue) for row in covering)


def records_in_words(session: Session, patient_id: int, catalogue: Catalogue) -> tuple[str, ...]:
    """The patient's clearances and referral outcomes in words, oldest first."""
    names = _names(session)
    rows = session.scalars(
        select(SafetyRecordRow)
        .where(SafetyRecordRow.patient_id == patient_id)
        .order_by(SafetyRecordRow.recorded_on, SafetyRecordRow.id)
    ).all()
    return tuple(record_words(_record_of(row, names), catalogue) for row in rows)


def reason_errors(reason: str) -> list[FieldError]:
    if not is_reason(reason):
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

    @reads_no_records
    def needling(self, precautions: Sequence[str]) -> NeedlingAdvice:
        """The needling advice of ``precautions`` (the codes in force), for the forms."""
        protocol, catalogue = self._protocol, self._catalogue
        rules = precaution_rules(precautions, protocol, catalogue)
        electro = acupuncture_violations(
            precautions, protocol, catalogue, acupoints=(), electro=True
        )
        return NeedlingAdvice(
            precautions=tuple((rule.label, rule.needling) for rule in rules),
            forbidden={
                code: v.text
                for code, v in forbidden_points(precautions, protocol, catalogue).items()
            },
            acknowledge=acknowledgement_points(precautions, protocol, catalogue),
            acknowledgement=" ".join(r.acknowledgement for r in rules if r.acknowledge_points),
            electro_refusal=electro[0].text if electro else None,
        )

    @reads_no_records
    def age_flag(
        self,
        date_of_birth: dt.date | None,
        assessed_on: dt.date,
        onset_weeks: float | None,
        recurrent: bool | None,
    ) -> str | None:
        """The derived "age over 50 with new pain" in words when it applies (or may, while
        the onset is not recorded: then what recording it would settle), else None."""
        flag = derive_age_flag(date_of_birth, assessed_on, onset_weeks, recurrent, self._protocol)
        return age_flag_words(flag) if flag is not None else None

    @reads_no_records
    def clearance_methods(self) -> tuple[tuple[str, str], ...]:
        """How a clearance can be made, as (code, words), in the order a form offers them."""
        return tuple(
            (code, self._catalogue.label("clearance_methods", code)) for code in CLEARANCE_METHODS
        )

    @reads_no_records
    def method_words(self, method: str | None) -> str:
        return self._catalogue.label("clearance_methods", method) if method else ""

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
    def supine_note(self, actor: Actor, patient_id: int) -> str | None:
        """When exercises lying on the back are adapted for this patient today, or None."""
        with self._context.reading() as session:
            self._patient(session, patient_id)
            return supine_note_on(
                session, patient_id, self._protocol, self._catalogue, self._today()
            )

    @use_case(Permission.VIEW_CLINICAL)
    def record_lines(self, actor: Actor, patient_id: int) -> tuple[str, ...]:
        """The patient's clearances and referral outcomes in words, oldest first."""
        with self._context.reading() as session:
            self._patient(session, patient_id)
            return records_in_words(session, patient_id, self._catalogue)

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
