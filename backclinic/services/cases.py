"""Case files (``backclinic-case/1``): store an imported case, load a patient's case to export.

Reading a file, wording its first problem and writing the document are the domain's
(``backclinic.domain.casefile``); this service maps the parsed case to rows in one
transaction with one audit entry (any error and nothing is stored), and rows back to a
case for export.

``--update`` (``update=True``) never deletes or overwrites clinical data: it updates the
patient's demographics and adds the file's assessments, sessions and plan that are not yet
on record. A record already on record (an assessment of the same kind and date, a session
at the same time, a plan — the patient's latest) is kept as stored; if the file's version of
it differs, the import is refused, because clinical records are amended in the app, never
replaced by a file. Records on record but absent from the file are kept.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backclinic.db.models import (
    AssessmentRow,
    PatientRow,
    PlanRow,
    ScheduledVisitRow,
    TreatmentSessionRow,
)
from backclinic.domain.casefile.model import (
    CASE_FORMAT,
    Case,
    CaseAssessment,
    CaseFileProblem,
    CasePatient,
    CasePlan,
    CasePsfsItem,
    CaseScores,
    CaseSession,
    CaseVisit,
)
from backclinic.domain.casefile.reader import load_case_document, read_case
from backclinic.domain.casefile.writer import (
    assessment_correction,
    assessment_record,
    case_document,
    case_text,
    details_fingerprint,
    plan_document,
    session_document,
    session_when,
)
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol
from backclinic.services import queries
from backclinic.services.assessments import (
    Assessment,
    AssessmentInput,
    AssessmentService,
    PsfsItem,
    validate_assessment,
)
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.episodes import EpisodeService
from backclinic.services.errors import FieldError, NotFound, ServiceError, ValidationFailed
from backclinic.services.files import check_output, write_atomically
from backclinic.services.patients import (
    PatientInput,
    PatientService,
    PossibleDuplicate,
    find_duplicates,
    validate_patient,
    write_details,
    write_search_terms,
)
from backclinic.services.permissions import Permission
from backclinic.services.plans import PlanService, PlanView
from backclinic.services.sessions import session_details, session_row
from backclinic.services.use_case import Change, reads_no_records, use_case


class CaseFileError(ServiceError):
    """A case file cannot be read or broke a rule; nothing was stored.

    ``location`` is the JSON path of the first problem (``assessments[0].nprs.current``),
    empty for problems with the file itself; ``reason`` says what is wrong with it.
    """

    def __init__(self, location: str, reason: str, *, file: str | None = None) -> None:
        self.location = location
        self.reason = reason
        self.file = file
        where = f"{location}: " if location else ""
        prefix = f"{file}: " if file else ""
        super().__init__(f"{prefix}{where}{reason}")

    @classmethod
    def of(cls, problem: CaseFileProblem) -> CaseFileError:
        return cls(problem.location, problem.reason)

    def in_file(self, file: str) -> CaseFileError:
        return CaseFileError(self.location, self.reason, file=file)


@dataclass(frozen=True)
class ImportResult:
    mrn: str
    family_name: str
    given_name: str
    assessments: int
    sessions: int
    plan_visits: int | None
    updated: bool = False
    kept: int = 0
    skipped: bool = False
    # Patients already on record who may be the same person (PossibleDuplicate.describe()).
    possible_duplicates: tuple[str, ...] = ()
    # Sessions imported although they broke a precaution in force on their date.
    notices: tuple[str, ...] = ()

    def describe(self) -> str:
        warnings = "".join(
            f"\nWarning: {self.mrn} may be a duplicate: {duplicate}"
            for duplicate in self.possible_duplicates
        )
        return self._summary() + warnings

    def _summary(self) -> str:
        if self.skipped:
            return f"Skipped {self.mrn} ({self.family_name}, {self.given_name}): already on record."
        counts = (
            f"{_count(self.assessments, 'assessment')}, {_count(self.sessions, 'session')}, "
            + ("no plan" if self.plan_visits is None else f"a plan with {self.plan_visits} visits")
        )
        who = f"{self.mrn} ({self.family_name}, {self.given_name})"
        if not self.updated:
            return f"Imported {who}: {counts}."
        kept = f"; kept {_count(self.kept, 'record')} already on record" if self.kept else ""
        return f"Updated {who}: added {counts}{kept}."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# The patient's details an --update may change, audited before and after.
_DEMOGRAPHICS = (
    "family_name",
    "given_name",
    "date_of_birth",
    "sex",
    "occupation",
    "phone",
    "email",
    "address",
)

# An import adds or replaces a whole patient record.
_IMPORT_CHANGES = frozenset(
    {Change.PATIENTS, Change.ASSESSMENTS, Change.PLAN, Change.SESSIONS, Change.SCHEDULE}
)


class CaseService:
    """Import and export of case files; each call is one transaction and one audit entry."""

    def __init__(
        self,
        context: ServiceContext,
        protocol: Protocol,
        catalogue: Catalogue,
        patients: PatientService,
        assessments: AssessmentService,
        plans: PlanService,
        episodes: EpisodeService | None = None,
    ) -> None:
        self._episodes = episodes
        self._context = context
        self._protocol = protocol
        self._catalogue = catalogue
        self._patients = patients
        self._assessments = assessments
        self._plans = plans

    @reads_no_records
    def validate(self, document: Any) -> None:
        """Raise CaseFileError naming the first problem, in document order; else return."""
        self._parse(document)

    def _parse(self, document: Any) -> Case:
        try:
            return read_case(
                document,
                protocol=self._protocol,
                catalogue=self._catalogue,
                now=self._context.clock.now(),
                checks=_RecordChecks(self._catalogue),
                zone=self._context.clock.zone,
            )
        except CaseFileProblem as problem:
            raise CaseFileError.of(problem) from None

    @use_case(Permission.WRITE_CLINICAL, changes=_IMPORT_CHANGES)
    def import_file(
        self,
        actor: Actor,
        path: str | os.PathLike[str],
        *,
        update: bool = False,
        skip_existing: bool = False,
        force: bool = False,
    ) -> ImportResult:
        """Import one case file in one transaction; refuse it whole on the first problem.

        ``skip_existing`` leaves an MRN already on record as it is (a rerun of a batch
        that stopped half-way); ``update`` adds to it instead, and refuses when the
        patient's details were changed on record after the file was exported (its
        ``exported_details``), unless ``force``.
        """
        source = Path(path)
        try:
            document = load_case_document(source)
        except CaseFileProblem as problem:
            raise CaseFileError.of(problem) from None
        try:
            case = self._parse(document)
            try:
                with self._context.writing() as session:
                    if update and not force:
                        self._refuse_details_changed_since_export(session, document)
                    return self._store(
                        session, actor, case, source.name, update=update, skip=skip_existing
                    )
            except IntegrityError:
                # Another workstation stored the same new MRN between our check and our
                # insert (PostgreSQL; SQLite lets one writer in at a time): answered as
                # SQLite answers it, from what is on record now.
                try:
                    with self._context.writing() as session:
                        return self._store(
                            session, actor, case, source.name, update=False, skip=skip_existing
                        )
                except IntegrityError:
                    raise ServiceError(
                        f"MRN {case.patient.mrn} could not be stored: another workstation "
                        "saved a record that conflicts with it at the same moment; nothing "
                        "was stored. Import the file again."
                    ) from None
            except StaleDataError:
                raise self._context.stale(
                    f"The record of MRN {case.patient.mrn}",
                    PatientRow,
                    self._patient_id(case.patient.mrn),
                ) from None
        except CaseFileError as error:
            raise error.in_file(source.name) from None

    def _refuse_details_changed_since_export(self, session: Session, document: Any) -> None:
        exported = document["patient"].get("exported_details")
        mrn = document["patient"]["mrn"]
        row = session.scalars(select(PatientRow).where(PatientRow.mrn == mrn)).first()
        if exported is None or row is None or details_fingerprint(_case_patient(row)) == exported:
            return
        change = self._context.concurrent_change(session, row)
        when = change.changed_at.astimezone().strftime("%Y-%m-%d %H:%M")
        raise ServiceError(
            f"The details of MRN {mrn} were changed by {change.changed_by} at {when}, after "
            "this file was exported; nothing was stored. Export the patient again, or use "
            "--force to replace their changes."
        )

    def _patient_id(self, mrn: str) -> int:
        with self._context.reading() as session:
            found = session.scalar(select(PatientRow.id).where(PatientRow.mrn == mrn))
            return -1 if found is None else found

    def _store(
        self,
        session: Session,
        actor: Actor,
        case: Case,
        file_name: str,
        *,
        update: bool,
        skip: bool = False,
    ) -> ImportResult:
        mrn = case.patient.mrn
        existing = session.scalars(select(PatientRow).where(PatientRow.mrn == mrn)).first()
        if existing is not None and not update and skip:
            return ImportResult(
                existing.mrn, existing.family_name, existing.given_name, 0, 0, None, skipped=True
            )
        if existing is not None and not update:
            raise ServiceError(f"MRN {mrn} already exists; use --update to replace its record.")
        demographics: dict[str, object] = {}
        duplicates: tuple[PossibleDuplicate, ...] = ()
        if existing is None:
            duplicates = find_duplicates(session, _patient_input(case.patient))
            try:
                patient = self._patients._insert(session, actor, _patient_input(case.patient))
            except ValidationFailed as error:
                raise CaseFileError(f"patient.{error.errors[0].field}", _reason(error)) from None
            assessments, sessions, kept, plan = case.assessments, case.sessions, 0, case.plan
            earlier = case.earlier_plans
        else:
            patient = existing
            demographics = self._update_demographics(
                session, actor, patient, _patient_input(case.patient)
            )
            assessments, sessions, plan, kept = self._not_on_record(session, patient, case)
            earlier = ()
        intake_ids: list[tuple[dt.date, int]] = []
        for assessment in assessments:
            row = self._insert_assessment(session, actor, patient.id, assessment)
            if assessment.kind == "intake" and assessment.entered_in_error_reason is None:
                intake_ids.append((assessment.intake.assessed_on, row.id))
        plan_row: PlanRow | None = None
        placed: list[tuple[PlanRow, CasePlan]] = []
        if plan is not None:
            if not intake_ids:
                latest = queries.latest_intake_row(session, patient.id)
                if latest is not None:
                    intake_ids.append((latest.assessed_on, latest.id))
            # Oldest first, so the current plan stays the latest one on record.
            for index, older in enumerate(earlier):
                older_row = self._insert_plan(
                    session, actor, patient.id, older, intake_ids, f"earlier_plans[{index}]"
                )
                placed.append((older_row, older))
            plan_row = self._insert_plan(session, actor, patient.id, plan, intake_ids)
            placed.append((plan_row, plan))
        current = [
            self._insert_session(session, actor, patient.id, item, placed) for item in sessions
        ]
        session.flush()
        for placed_row, _placed_plan in placed:
            self._link_visits(session, placed_row, current)
        result = ImportResult(
            mrn=patient.mrn,
            family_name=patient.family_name,
            given_name=patient.given_name,
            assessments=len(assessments),
            sessions=len(sessions),
            plan_visits=None if plan_row is None else self._visit_count(session, patient.id),
            updated=existing is not None,
            kept=kept,
            possible_duplicates=tuple(duplicate.describe() for duplicate in duplicates),
            notices=case.safety_notices,
        )
        self._context.audit(
            session,
            actor,
            AuditEntry(
                "import",
                "patient",
                patient.id,
                patient.id,
                {
                    "file": file_name,
                    "format": CASE_FORMAT,
                    "update": existing is not None,
                    "assessments": result.assessments,
                    "sessions": result.sessions,
                    "plan": plan_row is not None,
                    "kept": kept,
                    **demographics,
                    "safety_notices": list(case.safety_notices),
                }
                | (
                    {"possible_duplicates": [d.patient.mrn for d in duplicates]}
                    if duplicates
                    else {}
                ),
            ),
        )
        return result

    def _visit_count(self, session: Session, patient_id: int) -> int:
        view = self._plans._plan_for_export(session, patient_id)
        return 0 if view is None else len(view.visits)

    def _update_demographics(
        self, session: Session, actor: Actor, row: PatientRow, data: PatientInput
    ) -> dict[str, object]:
        """Update the patient's details; what changed, before and after, as the window audits."""
        before = {name: _plain_value(getattr(row, name)) for name in _DEMOGRAPHICS}
        write_details(row, data)
        if session.is_modified(row):
            self._context.stamp_change(row, actor)
        session.flush()
        write_search_terms(session, row)
        after = {name: _plain_value(getattr(row, name)) for name in _DEMOGRAPHICS}
        changed = [name for name in _DEMOGRAPHICS if before[name] != after[name]]
        if not changed:
            return {}
        return {
            "before": {name: before[name] for name in changed},
            "after": {name: after[name] for name in changed},
        }

    def _not_on_record(
        self, session: Session, patient: PatientRow, case: Case
    ) -> tuple[tuple[CaseAssessment, ...], tuple[CaseSession, ...], CasePlan | None, int]:
        """The file's records that are new; refuse one that differs from its stored twin."""
        kept = 0
        order = self._protocol.red_flag_items()

        def recorded(item: CaseAssessment) -> dict[str, Any]:
            return {**assessment_record(item, order), **assessment_correction(item, order)}

        stored_assessments = {
            (a.kind, a.intake.assessed_on, a.entered_in_error_reason is not None): recorded(a)
            for a in self._stored_assessments(session, patient.id)
        }
        new_assessments = []
        for index, item in enumerate(case.assessments):
            key = (item.kind, item.intake.assessed_on, item.entered_in_error_reason is not None)
            stored = stored_assessments.get(key)
            if stored is None:
                new_assessments.append(item)
                continue
            if recorded(item) != stored:
                raise CaseFileError(
                    f"assessments[{index}]",
                    f"differs from the {item.kind} of {item.intake.assessed_on.isoformat()} "
                    "on record; "
                    "records are amended in the app, never replaced by a file",
                )
            kept += 1
        stored_sessions = {
            item.performed_at: session_document(item, self._context.clock.zone)
            for item in self._stored_sessions(session, patient.id)
        }
        new_sessions = []
        for index, entry in enumerate(case.sessions):
            stored_session = stored_sessions.get(entry.performed_at)
            if stored_session is None:
                new_sessions.append(entry)
                continue
            if session_document(entry, self._context.clock.zone) != stored_session:
                when = session_when(entry.performed_at, self._context.clock.zone)
                raise CaseFileError(
                    f"sessions[{index}]",
                    f"differs from the session of {when} on record; "
                    "sessions are amended in the app, never replaced by a file",
                )
            kept += 1
        plan = case.plan
        stored_plan = self._plans._plan_for_export(session, patient.id)
        if case.earlier_plans:
            stored_earlier = self._plans._earlier_plans_for_export(session, patient.id)
            theirs_earlier = [plan_document(_case_plan(view)) for view in stored_earlier]
            ours_earlier = [
                plan_document(_with_visits_of(older, view))
                for older, view in zip(case.earlier_plans, stored_earlier, strict=False)
            ]
            if ours_earlier != theirs_earlier:
                raise CaseFileError(
                    "earlier_plans",
                    "differ from the earlier plans on record; plans are changed in the app, "
                    "never replaced by a file",
                )
        if plan is not None and stored_plan is not None:
            theirs = plan_document(_case_plan(stored_plan))
            if plan_document(_with_visits_of(plan, stored_plan)) != theirs:
                raise CaseFileError(
                    "plan",
                    f"differs from the plan of {stored_plan.start_date.isoformat()} on record; "
                    "plans are changed in the app, never replaced by a file",
                )
            plan = None
            kept += 1
        return tuple(new_assessments), tuple(new_sessions), plan, kept

    def _insert_plan(
        self,
        session: Session,
        actor: Actor,
        patient_id: int,
        plan: CasePlan,
        intakes: Sequence[tuple[dt.date, int]],
        where: str = "plan",
    ) -> PlanRow:
        start = plan.choices.start_date
        before_start = [item for item in intakes if item[0] <= start] or list(intakes)
        intake_id = max(before_start)[1] if before_start else None
        try:
            return self._plans._insert_plan(
                session, actor, patient_id, intake_id, plan.choices, plan.visits, imported=True
            )
        except ValidationFailed as error:
            raise CaseFileError(where, _reason(error)) from None

    def _insert_session(
        self,
        session: Session,
        actor: Actor,
        patient_id: int,
        item: CaseSession,
        plans: Sequence[tuple[PlanRow, CasePlan]],
    ) -> TreatmentSessionRow:
        """Insert a session, after the originals it amends (kept, superseded); returns it.

        It belongs to the latest plan whose weeks hold its day, if any."""
        amends_id = None
        if item.amends is not None:
            original = self._insert_session(session, actor, patient_id, item.amends, plans)
            original.superseded = True
            session.flush()
            amends_id = original.id
        plan_id = phase_number = None
        for plan_row, plan in reversed(plans):
            days = (self._context.clock.date_of(item.performed_at) - plan.choices.start_date).days
            week = days // 7 + 1
            phases = plan.choices.phases
            phase = next((p for p in phases if p.start_week <= week <= p.end_week), None)
            if days >= 0 and phase is not None:
                plan_id, phase_number = plan_row.id, phase.number
                break
        row = session_row(
            item.details,
            patient_id=patient_id,
            plan_id=plan_id,
            phase_number=phase_number,
            clinician_id=actor.clinician_id,
            amends_id=amends_id,
            amendment_reason=item.amendment_reason,
            notes=item.notes,
        )
        self._context.stamp_new(row, actor)
        session.add(row)
        session.flush()
        return row

    def _link_visits(
        self, session: Session, plan_row: PlanRow, rows: Sequence[TreatmentSessionRow]
    ) -> None:
        """Tie each done visit to the session of its day (a case file names no link)."""
        open_visits = {
            visit.visit_date: visit
            for visit in session.scalars(
                select(ScheduledVisitRow)
                .where(
                    ScheduledVisitRow.plan_id == plan_row.id,
                    ScheduledVisitRow.status == "done",
                    ScheduledVisitRow.session_id.is_(None),
                )
                .order_by(ScheduledVisitRow.visit_date.desc(), ScheduledVisitRow.id.desc())
            )
        }
        for row in sorted(rows, key=lambda r: (r.performed_at, r.id)):
            visit = open_visits.pop(self._context.clock.date_of(row.performed_at), None)
            if visit is not None:
                visit.session_id = row.id
        session.flush()

    @use_case(Permission.PRINT)
    def export_document(self, actor: Actor, mrn: str) -> dict[str, Any]:
        """The patient's case file as a JSON-ready dict; audited as an export."""
        with self._context.writing() as session:
            return self._export(session, actor, mrn, {"format": CASE_FORMAT})

    @use_case(Permission.PRINT)
    def export_file(
        self, actor: Actor, mrn: str, out: str | os.PathLike[str], *, force: bool = False
    ) -> Path:
        """Write the case file (UTF-8, indented, trailing newline); nothing half-written.

        An existing file is replaced only with ``force``; the live database never is.
        """
        protected = self._context.database_files()
        target = check_output(out, force=force, protected=protected)
        with self._context.writing() as session:
            document = self._export(
                session, actor, mrn, {"format": CASE_FORMAT, "file": target.name}
            )
            text = case_text(document)
            # Written before the audit entry commits, and renamed into place: a failed
            # write leaves neither a partial file nor an export that did not happen.
            write_atomically(target, text.encode("utf-8"), force=force, protected=protected)
        return target

    def _export(
        self, session: Session, actor: Actor, mrn: str, details: dict[str, Any]
    ) -> dict[str, Any]:
        patient = session.scalars(select(PatientRow).where(PatientRow.mrn == mrn.strip())).first()
        if patient is None:
            raise NotFound(f"No patient has MRN {mrn.strip()}.")
        plan = self._plans._plan_for_export(session, patient.id)
        on_record = _case_patient(patient)
        case = Case(
            patient=replace(on_record, exported_details=details_fingerprint(on_record)),
            assessments=tuple(self._stored_assessments(session, patient.id)),
            plan=None if plan is None else _case_plan(plan),
            sessions=tuple(self._stored_sessions(session, patient.id)),
            earlier_plans=tuple(
                _case_plan(view)
                for view in self._plans._earlier_plans_for_export(session, patient.id)
            ),
        )
        # The course is derived: regenerated on every export from the records just read.
        course = None if self._episodes is None else self._episodes.course(actor, patient.id)
        document = case_document(
            case, self._protocol.red_flag_items(), self._context.clock.zone, course
        )
        self._context.audit(
            session,
            actor,
            AuditEntry(
                "export",
                "patient",
                patient.id,
                patient.id,
                {
                    **details,
                    "assessments": len(document["assessments"]),
                    "sessions": len(document["sessions"]),
                    "plan": plan is not None,
                },
            ),
        )
        return document

    def _insert_assessment(
        self, session: Session, actor: Actor, patient_id: int, item: CaseAssessment
    ) -> AssessmentRow:
        """Insert an assessment, after the originals it amends (kept, superseded)."""
        amends_id = None
        if item.amends is not None:
            original = self._insert_assessment(session, actor, patient_id, item.amends)
            original.superseded = True
            session.flush()
            amends_id = original.id
        row = self._assessments._insert(session, actor, patient_id, _assessment_input(item))
        if amends_id is not None or item.entered_in_error_reason is not None:
            row.amends_id = amends_id
            row.amendment_reason = item.amendment_reason
            row.entered_in_error_reason = item.entered_in_error_reason
            session.flush()
        return row

    def _stored_assessments(self, session: Session, patient_id: int) -> list[CaseAssessment]:
        """Every assessment not amended since, oldest first (those entered in error too,
        marked), each carrying the originals it amends."""
        by_id = {
            row.id: _case_assessment(self._assessments._assessment_of(session, row))
            for row in queries.assessment_rows(session, patient_id, include_corrected=True)
        }
        rows = queries.assessment_rows(session, patient_id, include_corrected=True)
        return [
            _with_originals(by_id[row.id], row, rows, by_id) for row in rows if not row.superseded
        ]

    def _stored_sessions(self, session: Session, patient_id: int) -> list[CaseSession]:
        """The current sessions, oldest first, each carrying the originals it amends."""
        rows = queries.session_rows(session, patient_id, include_superseded=True)
        by_id = {row.id: row for row in rows}
        return [_case_session(row, by_id) for row in rows if not row.superseded]


class _RecordChecks:
    """The patient form's and the intake form's rules, as the case reader asks for them."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    def patient(self, patient: CasePatient, today: dt.date) -> tuple[str, str] | None:
        return _first(validate_patient(_patient_input(patient), today))

    def assessment(self, assessment: CaseAssessment, today: dt.date) -> tuple[str, str] | None:
        return _first(validate_assessment(_assessment_input(assessment), self._catalogue, today))


def _first(errors: list[FieldError]) -> tuple[str, str] | None:
    return None if not errors else (errors[0].field, _reason(ValidationFailed(errors)))


def _reason(error: ValidationFailed) -> str:
    """A form's sentence as the second half of a case-file sentence (after the path)."""
    message = str(error).rstrip(".")
    return message[:1].lower() + message[1:] if message[1:2].islower() else message


def _patient_input(patient: CasePatient) -> PatientInput:
    return PatientInput(
        family_name=patient.family_name,
        given_name=patient.given_name,
        date_of_birth=patient.date_of_birth,
        mrn=patient.mrn,
        sex=patient.sex,
        occupation=patient.occupation,
        phone=patient.phone,
        email=patient.email,
        address=patient.address,
    )


def _plain_value(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _case_patient(row: PatientRow) -> CasePatient:
    return CasePatient(
        mrn=row.mrn,
        family_name=row.family_name,
        given_name=row.given_name,
        date_of_birth=row.date_of_birth,
        sex=row.sex or "unknown",
        occupation=row.occupation,
        phone=row.phone,
        email=row.email,
        address=row.address,
    )


def _assessment_input(assessment: CaseAssessment) -> AssessmentInput:
    return AssessmentInput(
        kind=assessment.kind,
        intake=assessment.intake,
        psfs=tuple(PsfsItem(item.activity, item.score) for item in assessment.psfs),
        rmdq_score=assessment.rmdq_score,
        notes=assessment.notes,
    )


def _with_originals(
    item: CaseAssessment,
    row: AssessmentRow,
    rows: Sequence[AssessmentRow],
    by_id: dict[int, CaseAssessment],
) -> CaseAssessment:
    if row.amends_id is None or row.amends_id not in by_id:
        return item
    original_row = next(r for r in rows if r.id == row.amends_id)
    original = _with_originals(by_id[row.amends_id], original_row, rows, by_id)
    return replace(item, amends=replace(original, scores=None))


def _case_assessment(assessment: Assessment) -> CaseAssessment:
    odi = assessment.odi
    return CaseAssessment(
        amendment_reason=assessment.amendment_reason,
        entered_in_error_reason=assessment.entered_in_error_reason,
        kind=assessment.kind,
        intake=assessment.intake,
        psfs=tuple(CasePsfsItem(item.activity, item.score) for item in assessment.psfs),
        rmdq_score=assessment.rmdq_score,
        notes=assessment.notes,
        scores=CaseScores(
            odi_percent=None if odi is None else odi.percent,
            odi_complete=odi is not None and odi.complete,
            startback_risk=None if assessment.startback is None else assessment.startback.risk,
            duration_class=assessment.duration,
        ),
    )


def _case_plan(view: PlanView) -> CasePlan:
    visits = tuple(
        CaseVisit(
            visit.visit_date,
            visit.phase_number,
            visit.modalities,
            visit.status,
            visit.visit_time,
            visit.clinician_username,
        )
        for visit in view.visits
    )
    return CasePlan(view.choices(), visits)


def _with_visits_of(plan: CasePlan, stored: PlanView) -> CasePlan:
    """A file's plan as export would write it: without visits of its own, the stored ones."""
    return plan if plan.visits is not None else replace(plan, visits=_case_plan(stored).visits)


def _case_session(
    row: TreatmentSessionRow, by_id: Mapping[int, TreatmentSessionRow] | None = None
) -> CaseSession:
    original = None
    if row.amends_id is not None and by_id is not None and row.amends_id in by_id:
        original = _case_session(by_id[row.amends_id], by_id)
    return CaseSession(
        details=session_details(row),
        notes=row.notes,
        amendment_reason=row.amendment_reason,
        amends=original,
    )
