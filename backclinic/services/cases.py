"""Case files (``backclinic-case/1``): import a patient's record from JSON, export it back.

A case file is validated against ``resources/schemas/case.schema.json`` and then against
the rules the schema cannot express (real dates not in the future, best pain not above
worst, known acupoints, contiguous plan phases…). The first problem is reported as the
JSON path of the offending value and a readable reason, e.g.
``assessments[0].nprs.current: 11 is above 10``. An import is one transaction with one
audit entry: any error and nothing is stored.

Export writes everything import reads, in a fixed order (lists sorted by date), plus the
derived scores, so export → import into an empty database → export gives the same file.

``--update`` (``update=True``) never deletes or overwrites clinical data: it updates the
patient's demographics and adds the file's assessments, sessions and plan that are not yet
on record. A record already on record (an assessment of the same kind and date, a session
at the same time, a plan — the patient's latest) is kept as stored; if the file's version of
it differs, the import is refused, because clinical records are amended in the app, never
replaced by a file. Records on record but absent from the file are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from typing import Protocol as Structural

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backclinic.db.models import (
    AssessmentRow,
    PatientRow,
    PatientSearchTermRow,
    PlanRow,
    PsfsItemRow,
    ScheduledVisitRow,
    TreatmentSessionRow,
)
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.intake import Intake
from backclinic.domain.json_input import JsonInputError, read_json_file
from backclinic.domain.protocol import Protocol
from backclinic.domain.resources import resources_dir
from backclinic.domain.schedule import VisitDraft
from backclinic.domain.screening import FlagAnswer, red_flags_from_case
from backclinic.services.assessments import (
    Assessment,
    AssessmentInput,
    AssessmentService,
    PsfsItem,
    derive,
    intake_from_row,
    validate_assessment,
)
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import NotFound, ServiceError, ValidationFailed
from backclinic.services.patients import (
    PatientInput,
    PatientService,
    fold,
    search_terms,
    validate_patient,
)
from backclinic.services.permissions import Permission, require
from backclinic.services.plans import (
    InterventionDose,
    PhaseChoice,
    PlanChoices,
    PlanService,
    PlanView,
)
from backclinic.services.sessions import SessionInput, session_row

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

CASE_FORMAT = "backclinic-case/1"
SCHEMA_FILE = "case.schema.json"
# A date-only session is taken to have happened at noon, local time: the middle of the
# clinic day, so the date survives any reasonable time-zone shift on the way back out.
DATE_ONLY_SESSION_TIME = dt.time(12, 0)
_ENUM_SHOWN = 8
_SHOWN_CHARACTERS = 60
_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "array": "a list",
    "object": "an object",
    "boolean": "true or false",
    "null": "null",
}
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
_DERIVED_ASSESSMENT_FIELDS = ("odi_percent", "odi_complete", "startback_risk", "duration_class")


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

    def in_file(self, file: str) -> CaseFileError:
        return CaseFileError(self.location, self.reason, file=file)


@dataclass(frozen=True)
class CaseVisit(VisitDraft):
    """A visit as a case file gives it, with the status it had (the plan stores it as is)."""

    status: str = "planned"


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

    def describe(self) -> str:
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


@dataclass(frozen=True)
class _Session:
    """A treatment session as a case file describes it."""

    performed_at: dt.datetime
    modalities: tuple[str, ...]
    pain_before: int | None
    pain_after: int | None
    acupoints: tuple[str, ...]
    exercises: tuple[tuple[str, str], ...]
    notes: str
    needle_count: int | None = None
    retention_minutes: int | None = None
    electro: bool = False
    technique: str = ""
    tolerance: str | None = None
    adverse_events: tuple[str, ...] = ()
    adverse_event_note: str = ""
    subjective: str = ""
    objective: str = ""
    assessment: str = ""
    plan_note: str = ""
    # An amendment: why, and the session it corrected (itself perhaps an amendment).
    amendment_reason: str | None = None
    amends: _Session | None = None


@dataclass(frozen=True)
class _Plan:
    choices: PlanChoices
    visits: tuple[CaseVisit, ...] | None


@dataclass(frozen=True)
class _Case:
    patient: PatientInput
    assessments: tuple[AssessmentInput, ...]
    plan: _Plan | None
    sessions: tuple[_Session, ...]
    earlier_plans: tuple[_Plan, ...] = ()


class _PhaseLike(Structural):
    @property
    def number(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def start_week(self) -> int: ...
    @property
    def end_week(self) -> int: ...
    @property
    def acupuncture_per_week(self) -> int | None: ...
    @property
    def acupuncture_as_needed(self) -> bool: ...
    @property
    def pt_per_week(self) -> int: ...
    @property
    def pt_interventions(self) -> tuple[InterventionDose, ...]: ...
    @property
    def acupoints(self) -> tuple[str, ...]: ...
    @property
    def aim(self) -> str: ...


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
    ) -> None:
        self._context = context
        self._protocol = protocol
        self._catalogue = catalogue
        self._patients = patients
        self._assessments = assessments
        self._plans = plans

    @cached_property
    def _validator(self) -> Draft202012Validator:
        # Imported on first use: jsonschema costs start-up time the app never needs.
        import jsonschema

        schema = json.loads((resources_dir() / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8"))
        return jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )

    def validate(self, document: Any) -> None:
        """Raise CaseFileError naming the first problem, in document order; else return."""
        self._parse(document)

    def _parse(self, document: Any) -> _Case:
        errors = list(self._validator.iter_errors(document))
        if errors:
            first = min(errors, key=lambda error: _document_order(document, error))
            raise _schema_error(document, first)
        return _CaseReader(document, self._protocol, self._catalogue, self._context.clock()).read()

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
        require(actor, Permission.WRITE_CLINICAL)
        source = Path(path)
        document = _read_json(source)
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
        if exported is None or row is None or _details_fingerprint(row) == exported:
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
        case: _Case,
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
        if existing is None:
            try:
                patient = self._patients.insert(session, actor, case.patient)
            except ValidationFailed as error:
                raise CaseFileError(f"patient.{error.errors[0].field}", _reason(error)) from None
            assessments, sessions, kept, plan = case.assessments, case.sessions, 0, case.plan
            earlier = case.earlier_plans
        else:
            patient = existing
            demographics = self._update_demographics(session, actor, patient, case.patient)
            assessments, sessions, plan, kept = self._not_on_record(session, patient, case)
            earlier = ()
        intake_ids: list[tuple[dt.date, int]] = []
        for assessment in assessments:
            row = self._assessments.insert(session, actor, patient.id, assessment)
            if assessment.kind == "intake":
                intake_ids.append((assessment.intake.assessed_on, row.id))
        plan_row: PlanRow | None = None
        placed: list[tuple[PlanRow, _Plan]] = []
        if plan is not None:
            if not intake_ids:
                latest = self._assessments.latest_intake_row(session, patient.id)
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
                },
            ),
        )
        return result

    def _visit_count(self, session: Session, patient_id: int) -> int:
        view = self._plans.plan_for_export(session, patient_id)
        return 0 if view is None else len(view.visits)

    def _update_demographics(
        self, session: Session, actor: Actor, row: PatientRow, data: PatientInput
    ) -> dict[str, object]:
        """Update the patient's details; what changed, before and after, as the window audits."""
        before = {name: _plain_value(getattr(row, name)) for name in _DEMOGRAPHICS}
        row.family_name = data.family_name.strip()
        row.given_name = data.given_name.strip()
        row.family_key = fold(data.family_name)
        row.given_key = fold(data.given_name)
        assert data.date_of_birth is not None
        row.date_of_birth = data.date_of_birth
        row.sex = data.sex
        row.occupation = data.occupation.strip()
        row.phone = data.phone.strip()
        row.email = data.email.strip()
        row.address = data.address.strip()
        if session.is_modified(row):
            self._context.stamp_change(row, actor)
        session.flush()
        session.execute(
            delete(PatientSearchTermRow).where(PatientSearchTermRow.patient_id == row.id)
        )
        session.add_all(
            PatientSearchTermRow(patient_id=row.id, term=term, kind=kind, archived=row.archived)
            for term, kind in search_terms(row.family_name, row.given_name, row.mrn)
        )
        after = {name: _plain_value(getattr(row, name)) for name in _DEMOGRAPHICS}
        changed = [name for name in _DEMOGRAPHICS if before[name] != after[name]]
        if not changed:
            return {}
        return {
            "before": {name: before[name] for name in changed},
            "after": {name: after[name] for name in changed},
        }

    def _not_on_record(
        self, session: Session, patient: PatientRow, case: _Case
    ) -> tuple[tuple[AssessmentInput, ...], tuple[_Session, ...], _Plan | None, int]:
        """The file's records that are new; refuse one that differs from its stored twin."""
        kept = 0
        order = self._protocol.red_flag_items()
        stored_assessments = {
            (a.kind, a.assessed_on): _assessment_record(
                a.kind, a.intake, a.psfs, a.rmdq_score, a.notes, order
            )
            for a in self._stored_assessments(session, patient.id)
        }
        new_assessments = []
        for index, item in enumerate(case.assessments):
            key = (item.kind, item.intake.assessed_on)
            stored = stored_assessments.get(key)
            if stored is None:
                new_assessments.append(item)
                continue
            record = _assessment_record(
                item.kind, item.intake, item.psfs, item.rmdq_score, item.notes, order
            )
            if record != stored:
                raise CaseFileError(
                    f"assessments[{index}]",
                    f"differs from the {item.kind} of {key[1].isoformat()} on record; "
                    "records are amended in the app, never replaced by a file",
                )
            kept += 1
        stored_sessions = {
            item.performed_at: _session_doc(item)
            for item in self._stored_sessions(session, patient.id)
        }
        new_sessions = []
        for index, entry in enumerate(case.sessions):
            stored_session = stored_sessions.get(entry.performed_at)
            if stored_session is None:
                new_sessions.append(entry)
                continue
            if _session_doc(entry) != stored_session:
                raise CaseFileError(
                    f"sessions[{index}]",
                    f"differs from the session of {_session_when(entry.performed_at)} on record; "
                    "sessions are amended in the app, never replaced by a file",
                )
            kept += 1
        plan = case.plan
        stored_plan = self._plans.plan_for_export(session, patient.id)
        if case.earlier_plans:
            stored_earlier = self._plans.earlier_plans_for_export(session, patient.id)
            theirs_earlier = [_plan_doc(view) for view in stored_earlier]
            ours_earlier = [
                _plan_choices_doc(older, stored["visits"])
                for older, stored in zip(case.earlier_plans, theirs_earlier, strict=False)
            ]
            if ours_earlier != theirs_earlier:
                raise CaseFileError(
                    "earlier_plans",
                    "differ from the earlier plans on record; plans are changed in the app, "
                    "never replaced by a file",
                )
        if plan is not None and stored_plan is not None:
            theirs = _plan_doc(stored_plan)
            ours = _plan_choices_doc(plan, theirs["visits"])
            if ours != theirs:
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
        plan: _Plan,
        intakes: Sequence[tuple[dt.date, int]],
        where: str = "plan",
    ) -> PlanRow:
        start = plan.choices.start_date
        before_start = [item for item in intakes if item[0] <= start] or list(intakes)
        intake_id = max(before_start)[1] if before_start else None
        try:
            return self._plans.insert_plan(
                session, actor, patient_id, intake_id, plan.choices, plan.visits
            )
        except ValidationFailed as error:
            raise CaseFileError(where, _reason(error)) from None

    def _insert_session(
        self,
        session: Session,
        actor: Actor,
        patient_id: int,
        item: _Session,
        plans: Sequence[tuple[PlanRow, _Plan]],
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
            days = (item.performed_at.astimezone().date() - plan.choices.start_date).days
            week = days // 7 + 1
            phase = next(
                (p for p in plan.choices.phases if p.start_week <= week <= p.end_week), None
            )
            if days >= 0 and phase is not None:
                plan_id, phase_number = plan_row.id, phase.number
                break
        row = session_row(
            SessionInput(
                performed_at=item.performed_at,
                modalities=item.modalities,
                pain_before=item.pain_before,
                pain_after=item.pain_after,
                acupoints=item.acupoints,
                needle_count=item.needle_count,
                retention_minutes=item.retention_minutes,
                electro=item.electro,
                technique=item.technique,
                interventions=item.exercises,
                tolerance=item.tolerance,
                adverse_events=item.adverse_events,
                adverse_event_note=item.adverse_event_note,
                subjective=item.subjective,
                objective=item.objective,
                assessment_note=item.assessment,
                plan_note=item.plan_note,
            ),
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
            visit = open_visits.pop(row.performed_at.astimezone().date(), None)
            if visit is not None:
                visit.session_id = row.id
        session.flush()

    def export_document(self, actor: Actor, mrn: str) -> dict[str, Any]:
        """The patient's case file as a JSON-ready dict; audited as an export."""
        require(actor, Permission.PRINT)
        with self._context.writing() as session:
            return self._export(session, actor, mrn, {"format": CASE_FORMAT})

    def export_file(self, actor: Actor, mrn: str, out: str | os.PathLike[str]) -> Path:
        """Write the case file (UTF-8, indented, trailing newline); nothing half-written."""
        require(actor, Permission.PRINT)
        target = Path(out)
        if target.is_dir():
            raise ServiceError(f"{target} is a folder; give a file name for the case file.")
        folder = target.parent
        if not folder.is_dir():
            raise ServiceError(
                f"Folder {folder} does not exist; create it or choose another place to export to."
            )
        with self._context.writing() as session:
            document = self._export(
                session, actor, mrn, {"format": CASE_FORMAT, "file": target.name}
            )
            text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
            # Written before the audit entry commits, and renamed into place: a failed
            # write leaves neither a partial file nor an export that did not happen.
            handle, temporary = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=folder
            )
            try:
                with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                    stream.write(text)
                os.replace(temporary, target)
            except OSError as error:
                Path(temporary).unlink(missing_ok=True)
                raise ServiceError(f"Could not write {target}: {error.strerror}.") from error
        return target

    def _export(
        self, session: Session, actor: Actor, mrn: str, details: dict[str, Any]
    ) -> dict[str, Any]:
        patient = session.scalars(select(PatientRow).where(PatientRow.mrn == mrn.strip())).first()
        if patient is None:
            raise NotFound(f"No patient has MRN {mrn.strip()}.")
        plan = self._plans.plan_for_export(session, patient.id)
        document: dict[str, Any] = {
            "format": CASE_FORMAT,
            "patient": _patient_doc(patient, fingerprint=True),
            "assessments": [
                _assessment_doc(a, self._protocol.red_flag_items())
                for a in self._stored_assessments(session, patient.id)
            ],
            "plan": None if plan is None else _plan_doc(plan),
            "sessions": [_session_doc(item) for item in self._stored_sessions(session, patient.id)],
        }
        earlier = self._plans.earlier_plans_for_export(session, patient.id)
        if earlier:
            # After "plan", before "sessions", in the order the format lists them.
            sessions_doc = document.pop("sessions")
            document["earlier_plans"] = [_plan_doc(view) for view in earlier]
            document["sessions"] = sessions_doc
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

    def _stored_assessments(self, session: Session, patient_id: int) -> list[Assessment]:
        patient = session.get(PatientRow, patient_id)
        assert patient is not None
        rows = session.scalars(
            select(AssessmentRow)
            .where(AssessmentRow.patient_id == patient_id)
            .order_by(AssessmentRow.assessed_on, AssessmentRow.id)
        ).all()
        result = []
        for row in rows:
            psfs = tuple(
                PsfsItem(item.activity, item.score)
                for item in session.scalars(
                    select(PsfsItemRow)
                    .where(PsfsItemRow.assessment_id == row.id)
                    .order_by(PsfsItemRow.position)
                )
            )
            result.append(
                derive(
                    row.id,
                    row.patient_id,
                    row.kind,
                    intake_from_row(row, patient),
                    psfs,
                    row.rmdq_score,
                    row.notes,
                    row.version,
                    self._protocol,
                )
            )
        return result

    def _stored_sessions(self, session: Session, patient_id: int) -> list[_Session]:
        """The current sessions, oldest first, each carrying the originals it amends."""
        rows = session.scalars(
            select(TreatmentSessionRow)
            .where(TreatmentSessionRow.patient_id == patient_id)
            .order_by(TreatmentSessionRow.performed_at, TreatmentSessionRow.id)
        ).all()
        by_id = {row.id: row for row in rows}
        return [_session_of(row, by_id) for row in rows if not row.superseded]


def _plain_value(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _read_json(path: Path) -> Any:
    try:
        return read_json_file(path)
    except JsonInputError as error:
        raise CaseFileError(error.location, error.reason) from None


def _json_path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _document_order(document: Any, error: ValidationError) -> tuple[tuple[int, ...], int]:
    """Where an error sits in the file: key positions as written, then list indexes."""
    order = []
    node = document
    for part in error.absolute_path:
        if isinstance(node, Mapping):
            keys = list(node)
            order.append(keys.index(part) if part in keys else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            order.append(part)
            node = node[part] if part < len(node) else None
        else:
            order.append(0)
    # Among errors on the same value, the schema's own order of keywords decides.
    return tuple(order), _keyword_rank(error)


def _keyword_rank(error: ValidationError) -> int:
    ranks = ("type", "const", "enum", "required", "additionalProperties")
    return ranks.index(str(error.validator)) if error.validator in ranks else len(ranks)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 1] + "…"


def _schema_error(document: Any, error: ValidationError) -> CaseFileError:
    if error.validator in ("oneOf", "anyOf") and error.context:
        error = _best_branch(document, error.context)
    location = _json_path(error.absolute_path)
    value = error.instance
    keyword = error.validator
    argument: Any = error.validator_value
    reason: str
    if keyword == "maximum":
        reason = f"{_show(value)} is above {argument}"
    elif keyword == "minimum":
        reason = f"{_show(value)} is below {argument}"
    elif keyword == "enum":
        choices = [_show(c) for c in argument if c is not None]
        shown = ", ".join(choices[:_ENUM_SHOWN]) + (", …" if len(choices) > _ENUM_SHOWN else "")
        reason = f"{_show(value)} is not one of {shown}"
    elif keyword == "const":
        reason = f"{_show(value)} is not {_show(argument)}"
    elif keyword == "required":
        missing = next(name for name in argument if name not in value)
        reason = f"`{missing}` is required"
    elif keyword == "type":
        kinds = [argument] if isinstance(argument, str) else list(argument)
        words = " or ".join(_TYPE_WORDS.get(kind, kind) for kind in kinds)
        reason = f"expected {words}, got {_show(value)}"
    elif keyword == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = next(name for name in value if name not in allowed)
        reason = f"unexpected field {extra!r}"
    elif keyword in ("format", "pattern") and error.schema.get("format") == "date":
        reason = f"{_show(value)} is not a date (YYYY-MM-DD)"
    elif keyword == "pattern" and "ASHI" in str(argument):
        reason = f"{_show(value)} is not an acupoint code (e.g. BL23, EX-B2, ASHI)"
    elif keyword == "pattern" and str(argument).startswith(r"^\d{4}-\d{2}-\d{2}(T"):
        reason = f"{_show(value)} is not a date (YYYY-MM-DD) or date-time"
    elif keyword == "pattern":
        reason = f"{_show(value)} is not in the expected form"
    elif keyword in ("minItems", "maxItems") and error.schema.get("minItems") == error.schema.get(
        "maxItems"
    ):
        reason = f"has {len(value)} items, expected exactly {argument}"
    elif keyword == "minItems":
        reason = f"has {len(value)} items, expected at least {argument}"
    elif keyword == "maxItems":
        reason = f"has {len(value)} items, expected at most {argument}"
    elif keyword == "minLength":
        reason = "must not be empty"
    elif keyword == "maxLength":
        reason = f"is longer than {argument} characters"
    elif keyword == "uniqueItems":
        reason = "lists the same entry twice"
    else:
        reason = error.message
    return CaseFileError(location or "case file", reason)


def _best_branch(document: Any, errors: Sequence[ValidationError]) -> ValidationError:
    """Of the alternatives a value failed, the one it came closest to (fewest errors)."""
    branches: dict[Any, list[ValidationError]] = {}
    for error in errors:
        branches.setdefault(error.relative_schema_path[0], []).append(error)
    closest = min(branches.values(), key=len)
    return min(closest, key=lambda error: _document_order(document, error))


def _reason(error: ValidationFailed) -> str:
    message = str(error).rstrip(".")
    return message[:1].lower() + message[1:] if message[1:2].islower() else message


class _CaseReader:
    """Turns a schema-valid document into service inputs, checking what the schema cannot."""

    def __init__(
        self,
        document: Mapping[str, Any],
        protocol: Protocol,
        catalogue: Catalogue,
        now: dt.datetime,
    ) -> None:
        self._document = document
        self._protocol = protocol
        self._catalogue = catalogue
        self._now = now
        self._today = now.astimezone().date()

    def read(self) -> _Case:
        patient = self._patient(self._document["patient"])
        assert patient.date_of_birth is not None
        assessments = tuple(
            self._assessment(f"assessments[{i}]", item, patient.date_of_birth)
            for i, item in enumerate(self._document.get("assessments") or [])
        )
        sessions = tuple(
            self._session(f"sessions[{i}]", item)
            for i, item in enumerate(self._document.get("sessions") or [])
        )
        plan_document = self._document.get("plan")
        plan = None
        if plan_document is not None:
            plan = self._plan(plan_document, _plan_precautions(assessments, plan_document))
        earlier = tuple(
            self._plan(item, _plan_precautions(assessments, item), f"earlier_plans[{index}]")
            for index, item in enumerate(self._document.get("earlier_plans") or [])
        )
        if earlier and plan is None:
            raise CaseFileError("plan", "earlier plans need the current plan beside them")
        return _Case(patient, assessments, plan, sessions, earlier)

    def _date(self, location: str, text: str, *, future: bool = False) -> dt.date:
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise CaseFileError(location, f"{text!r} is not a date (YYYY-MM-DD)") from None
        if not future and value > self._today:
            raise CaseFileError(location, f"{text} is in the future")
        return value

    def _patient(self, item: Mapping[str, Any]) -> PatientInput:
        data = PatientInput(
            family_name=item["family_name"],
            given_name=item["given_name"],
            date_of_birth=self._date("patient.date_of_birth", item["date_of_birth"]),
            mrn=item["mrn"],
            sex=item["sex"],
            occupation=item.get("occupation", ""),
            phone=item.get("phone", ""),
            email=item.get("email", ""),
            address=item.get("address", ""),
        )
        errors = validate_patient(data, self._today)
        if errors:
            raise CaseFileError(f"patient.{errors[0].field}", _reason(ValidationFailed(errors)))
        return data

    def _assessment(self, where: str, item: Mapping[str, Any], born: dt.date) -> AssessmentInput:
        assessed_on = self._date(f"{where}.date", item["date"])
        if assessed_on < born:
            raise CaseFileError(f"{where}.date", f"{item['date']} is before the date of birth")
        radiating = item.get("radiating_pain") or {}
        nprs = item.get("nprs") or {}
        red_flags = red_flags_from_case(item.get("red_flags"), self._protocol)
        not_asked = item.get("red_flags_not_asked") or []
        if not_asked:
            if red_flags is None:
                raise CaseFileError(
                    f"{where}.red_flags_not_asked", "needs red_flags (the items that were asked)"
                )
            for position, code in enumerate(not_asked):
                if red_flags.get(code) == FlagAnswer.PRESENT:
                    raise CaseFileError(
                        f"{where}.red_flags_not_asked[{position}]",
                        f"{code!r} is also listed as present",
                    )
                red_flags[code] = FlagAnswer.NOT_ASKED
        odi = item.get("odi_answers")
        startback = item.get("startback_answers")
        onset = item.get("onset_weeks")
        intake = Intake(
            assessed_on=assessed_on,
            onset_weeks=None if onset is None else float(onset),
            recurrent=item.get("recurrent"),
            radiating_present=bool(radiating.get("present", False)),
            radiating_side=radiating.get("side"),
            radiating_below_knee=radiating.get("below_knee"),
            radiating_to=radiating.get("to"),
            aggravated_by=tuple(item.get("aggravated_by") or ()),
            contributing_factors=tuple(item.get("contributing_factors") or ()),
            red_flags=red_flags,
            red_flag_clearance=item.get("red_flag_clearance"),
            precautions=tuple(item.get("precautions") or ()),
            nprs_current=nprs.get("current"),
            nprs_worst=nprs.get("worst"),
            nprs_best=nprs.get("best"),
            odi_answers=None if odi is None else tuple(odi),
            startback_answers=None if startback is None else tuple(startback),
            goals=tuple(item.get("goals") or ()),
        )
        data = AssessmentInput(
            kind=item["kind"],
            intake=intake,
            psfs=tuple(PsfsItem(p["activity"], p["score"]) for p in item.get("psfs") or ()),
            rmdq_score=item.get("rmdq_score"),
            notes=item.get("notes", ""),
        )
        errors = validate_assessment(data, self._catalogue, self._today)
        if errors:
            raise CaseFileError(f"{where}.{errors[0].field}", _reason(ValidationFailed(errors)))
        return data

    def _session(self, where: str, item: Mapping[str, Any]) -> _Session:
        performed_at = self._when(f"{where}.date", item["date"])
        original = None
        if "amends" in item:
            if not (item.get("amendment_reason") or "").strip():
                raise CaseFileError(
                    f"{where}.amendment_reason", "an amendment needs the reason it was made"
                )
            original = self._session(f"{where}.amends", item["amends"])
        elif "amendment_reason" in item:
            raise CaseFileError(
                f"{where}.amendment_reason", "needs `amends`, the session it corrected"
            )
        for position, code in enumerate(item.get("acupoints") or ()):
            self._acupoint(f"{where}.acupoints[{position}]", code)
        return _Session(
            performed_at=performed_at,
            modalities=tuple(item["modalities"]),
            pain_before=item.get("pain_before"),
            pain_after=item.get("pain_after"),
            acupoints=tuple(item.get("acupoints") or ()),
            exercises=self._exercises(where, item),
            notes=item.get("notes", ""),
            needle_count=item.get("needle_count"),
            retention_minutes=item.get("retention_minutes"),
            electro=item.get("electro", False),
            technique=item.get("technique", ""),
            tolerance=item.get("tolerance"),
            adverse_events=tuple(item.get("adverse_events") or ()),
            adverse_event_note=item.get("adverse_event_note", ""),
            subjective=item.get("subjective", ""),
            objective=item.get("objective", ""),
            assessment=item.get("assessment", ""),
            plan_note=item.get("plan_note", ""),
            amendment_reason=item["amendment_reason"].strip() if original else None,
            amends=original,
        )

    def _exercises(self, where: str, item: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        codes = list(item.get("exercises") or ())
        dosed = item.get("interventions")
        if dosed is None:
            return tuple((code, "") for code in codes)
        if "exercises" in item and codes != [dose["code"] for dose in dosed]:
            raise CaseFileError(
                f"{where}.exercises", "must list the codes of interventions, in the same order"
            )
        return tuple((dose["code"], dose["dosage"]) for dose in dosed)

    def _when(self, location: str, text: str) -> dt.datetime:
        if "T" not in text:
            day = self._date(location, text)
            return dt.datetime.combine(day, DATE_ONLY_SESSION_TIME).astimezone().astimezone(dt.UTC)
        try:
            stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CaseFileError(location, f"{text!r} is not a date or date-time") from None
        if stamp.tzinfo is None:
            stamp = stamp.astimezone()
        if stamp > self._now:
            raise CaseFileError(location, f"{text} is in the future")
        return stamp.astimezone(dt.UTC)

    def _acupoint(self, location: str, code: str) -> None:
        if not self._catalogue.knows("acupoints", code):
            raise CaseFileError(location, f"{code!r} is not an acupoint in the catalogue")

    def _plan(
        self, item: Mapping[str, Any], precautions: set[str], where_plan: str = "plan"
    ) -> _Plan:
        start = self._date(f"{where_plan}.start_date", item["start_date"], future=True)
        phases = []
        expected_start = 1
        for index, phase in enumerate(item["phases"]):
            where = f"{where_plan}.phases[{index}]"
            if phase["number"] != index + 1:
                raise CaseFileError(
                    f"{where}.number",
                    f"phases are numbered 1, 2, 3 … in order; expected {index + 1}",
                )
            if phase["start_week"] != expected_start:
                raise CaseFileError(
                    f"{where}.start_week",
                    f"{phase['start_week']} should be {expected_start}, right after the "
                    "previous phase",
                )
            if phase["end_week"] < phase["start_week"]:
                raise CaseFileError(
                    f"{where}.end_week", f"{phase['end_week']} is before the start week"
                )
            expected_start = phase["end_week"] + 1
            for position, code in enumerate(phase.get("acupoints") or ()):
                self._acupoint(f"{where}.acupoints[{position}]", code)
                clash = sorted(set(self._catalogue.acupoints[code].cautions) & precautions)
                if clash:
                    raise CaseFileError(
                        f"{where}.acupoints[{position}]",
                        f"{code} is not offered because of the precaution "
                        f"'{self._catalogue.label('precautions', clash[0])}'",
                    )
            phases.append(self._phase(where, phase))
        numbers = {phase.number for phase in phases}
        visits = None
        if "visits" in item:
            visits = []
            for index, visit in enumerate(item["visits"]):
                where = f"{where_plan}.visits[{index}]"
                day = self._date(f"{where}.date", visit["date"], future=True)
                if day < start:
                    raise CaseFileError(
                        f"{where}.date", f"{visit['date']} is before the plan start"
                    )
                if visit["phase"] not in numbers:
                    raise CaseFileError(f"{where}.phase", f"there is no phase {visit['phase']}")
                visits.append(
                    CaseVisit(
                        visit_date=day,
                        phase_number=visit["phase"],
                        modalities=tuple(sorted(visit["modalities"])),
                        status=visit.get("status", "planned"),
                    )
                )
        clinic_days = item.get("clinic_days")
        status = item.get("status", "active")
        ended_on = None
        if "ended_on" in item:
            ended_on = self._date(f"{where_plan}.ended_on", item["ended_on"])
            if ended_on < start:
                raise CaseFileError(
                    f"{where_plan}.ended_on", f"{item['ended_on']} is before the plan start"
                )
        if status == "active":
            for name in ("ended_on", "end_reason"):
                if name in item:
                    raise CaseFileError(f"{where_plan}.{name}", "an active plan has not ended")
        choices = PlanChoices(
            start_date=start,
            clinic_days=frozenset(
                self._protocol.clinic_defaults.clinic_days if clinic_days is None else clinic_days
            ),
            phases=tuple(phases),
            target_pain=item.get("target_pain"),
            target_odi=item.get("target_odi"),
            functional_goals=tuple(item.get("functional_goals") or ()),
            red_flag_clearance=item.get("red_flag_clearance"),
            protocol_id=item["protocol"],
            protocol_version=item["protocol_version"],
            status=status,
            ended_on=ended_on,
            end_reason=item.get("end_reason"),
            end_note=item.get("end_note", ""),
        )
        return _Plan(choices, None if visits is None else tuple(visits))

    def _phase(self, where: str, phase: Mapping[str, Any]) -> PhaseChoice:
        focus = list(phase.get("pt_focus") or ())
        given = phase.get("pt_interventions")
        if given is None:
            doses = tuple(
                InterventionDose(code, self._catalogue.interventions[code].dosage) for code in focus
            )
        else:
            doses = tuple(
                InterventionDose(
                    dose["code"],
                    dose.get("dosage", self._catalogue.interventions[dose["code"]].dosage),
                )
                for dose in given
            )
            if "pt_focus" in phase and set(focus) != {dose.code for dose in doses}:
                raise CaseFileError(
                    f"{where}.pt_focus", "must list the same codes as pt_interventions"
                )
        template = next((t for t in self._protocol.phases if t.number == phase["number"]), None)
        acupuncture = phase["acupuncture"]
        pt_per_week = phase.get("pt_per_week")
        if pt_per_week is None:
            if template is None:
                raise CaseFileError(where, "`pt_per_week` is required")
            pt_per_week = template.pt_per_week
        return PhaseChoice(
            number=phase["number"],
            name=phase.get("name") or (template.name if template else f"Phase {phase['number']}"),
            start_week=phase["start_week"],
            end_week=phase["end_week"],
            acupuncture_per_week=acupuncture.get("per_week"),
            acupuncture_as_needed=bool(acupuncture.get("as_needed", False)),
            pt_per_week=pt_per_week,
            pt_interventions=doses,
            acupoints=tuple(phase.get("acupoints") or ()),
            aim=phase.get("aim", ""),
        )


def _plan_precautions(assessments: Sequence[AssessmentInput], plan: Mapping[str, Any]) -> set[str]:
    """Precautions of the intake the plan will be attached to (latest by its start)."""
    start = plan.get("start_date", "")
    intakes = [a for a in assessments if a.kind == "intake"]
    before = [a for a in intakes if a.intake.assessed_on.isoformat() <= start] or intakes
    if not before:
        return set()
    chosen = max(enumerate(before), key=lambda pair: (pair[1].intake.assessed_on, pair[0]))[1]
    return set(chosen.intake.precautions)


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _details_fingerprint(row: PatientRow) -> str:
    """What the patient's details were: written on export, compared by import --update."""
    details = {key: value for key, value in _patient_doc(row).items() if key != "exported_details"}
    canonical = json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _patient_doc(row: PatientRow, *, fingerprint: bool = False) -> dict[str, Any]:
    document: dict[str, Any] = {
        "mrn": row.mrn,
        "family_name": row.family_name,
        "given_name": row.given_name,
        "date_of_birth": row.date_of_birth.isoformat(),
        "sex": row.sex or "unknown",
        "occupation": row.occupation,
    }
    for name in ("phone", "email", "address"):
        if getattr(row, name):
            document[name] = getattr(row, name)
    if fingerprint:
        document["exported_details"] = _details_fingerprint(row)
    return document


def _red_flag_fields(intake: Intake, protocol_order: Sequence[str]) -> dict[str, Any]:
    if intake.red_flags is None:
        return {"red_flags": None}
    answers = intake.red_flags
    order = list(protocol_order) + sorted(set(answers) - set(protocol_order))
    fields: dict[str, Any] = {
        "red_flags": [code for code in order if answers.get(code) == FlagAnswer.PRESENT]
    }
    unasked = [
        code
        for code in protocol_order
        if answers.get(code, FlagAnswer.NOT_ASKED) == FlagAnswer.NOT_ASKED
    ]
    if unasked:
        fields["red_flags_not_asked"] = unasked
    return fields


def _assessment_record(
    kind: str,
    intake: Intake,
    psfs: Sequence[PsfsItem],
    rmdq_score: int | None,
    notes: str,
    red_flag_order: Sequence[str],
) -> dict[str, Any]:
    """An assessment as the case file holds it, without the derived scores.

    ``red_flag_order`` is the protocol's screening order: present flags are listed in it.
    """
    return {
        "kind": kind,
        "date": intake.assessed_on.isoformat(),
        "onset_weeks": _number(intake.onset_weeks),
        "recurrent": intake.recurrent,
        "radiating_pain": {
            "present": intake.radiating_present,
            "side": intake.radiating_side,
            "below_knee": intake.radiating_below_knee,
            "to": intake.radiating_to,
        },
        "aggravated_by": list(intake.aggravated_by),
        "contributing_factors": list(intake.contributing_factors),
        **_red_flag_fields(intake, red_flag_order),
        "red_flag_clearance": intake.red_flag_clearance,
        "precautions": list(intake.precautions),
        "nprs": {
            "current": intake.nprs_current,
            "worst": intake.nprs_worst,
            "best": intake.nprs_best,
        },
        "odi_answers": None if intake.odi_answers is None else list(intake.odi_answers),
        "startback_answers": (
            None if intake.startback_answers is None else list(intake.startback_answers)
        ),
        "psfs": [{"activity": item.activity, "score": item.score} for item in psfs],
        "rmdq_score": rmdq_score,
        "goals": list(intake.goals),
        "notes": notes,
    }


def _assessment_doc(assessment: Assessment, red_flag_order: Sequence[str]) -> dict[str, Any]:
    document = _assessment_record(
        assessment.kind,
        assessment.intake,
        assessment.psfs,
        assessment.rmdq_score,
        assessment.notes,
        red_flag_order,
    )
    odi = assessment.odi
    document["odi_percent"] = None if odi is None else odi.percent
    document["odi_complete"] = odi is not None and odi.complete
    if assessment.startback is not None:
        document["startback_risk"] = assessment.startback.risk
    document["duration_class"] = assessment.duration
    return document


def _phase_doc(phase: _PhaseLike) -> dict[str, Any]:
    acupuncture: dict[str, Any] = (
        {"as_needed": True}
        if phase.acupuncture_as_needed or phase.acupuncture_per_week is None
        else {"per_week": phase.acupuncture_per_week}
    )
    return {
        "number": phase.number,
        "name": phase.name,
        "start_week": phase.start_week,
        "end_week": phase.end_week,
        "acupuncture": acupuncture,
        "pt_per_week": phase.pt_per_week,
        "pt_focus": [dose.code for dose in phase.pt_interventions],
        "pt_interventions": [
            {"code": dose.code, "dosage": dose.dosage} for dose in phase.pt_interventions
        ],
        "acupoints": list(phase.acupoints),
        "aim": phase.aim,
    }


def _plan_fields(
    *,
    protocol_id: str,
    protocol_version: int,
    start_date: dt.date,
    status: str,
    phases: Sequence[_PhaseLike],
    visits: list[dict[str, Any]],
    target_pain: int | None,
    target_odi: float | None,
    functional_goals: Sequence[str],
    clinic_days: Iterable[int],
    red_flag_clearance: str | None,
    ended_on: dt.date | None = None,
    end_reason: str | None = None,
    end_note: str = "",
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "protocol": protocol_id,
        "protocol_version": protocol_version,
        "start_date": start_date.isoformat(),
        "status": status,
        "clinic_days": sorted(clinic_days),
        "target_pain": target_pain,
        "target_odi": _number(target_odi),
        "functional_goals": list(functional_goals),
        "phases": [_phase_doc(phase) for phase in sorted(phases, key=lambda p: p.number)],
        "visits": visits,
    }
    if red_flag_clearance:
        document["red_flag_clearance"] = red_flag_clearance
    if ended_on is not None:
        document["ended_on"] = ended_on.isoformat()
    if end_reason is not None:
        document["end_reason"] = end_reason
    if end_note:
        document["end_note"] = end_note
    return document


def _visit_doc(day: dt.date, phase: int, modalities: Sequence[str], status: str) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "phase": phase,
        "modalities": sorted(modalities),
        "status": status,
    }


def _plan_doc(plan: PlanView) -> dict[str, Any]:
    return _plan_fields(
        protocol_id=plan.protocol_id,
        protocol_version=plan.protocol_version,
        start_date=plan.start_date,
        status=plan.status,
        phases=plan.phases,
        visits=[
            _visit_doc(v.visit_date, v.phase_number, v.modalities, v.status) for v in plan.visits
        ],
        target_pain=plan.target_pain,
        target_odi=plan.target_odi,
        functional_goals=plan.functional_goals,
        clinic_days=plan.clinic_days,
        red_flag_clearance=plan.red_flag_clearance,
        ended_on=plan.ended_on,
        end_reason=plan.end_reason,
        end_note=plan.end_note,
    )


def _plan_choices_doc(plan: _Plan, stored_visits: list[dict[str, Any]]) -> dict[str, Any]:
    """A file's plan in export form; without visits of its own it is compared on the rest."""
    choices = plan.choices
    visits = (
        stored_visits
        if plan.visits is None
        else [
            _visit_doc(v.visit_date, v.phase_number, v.modalities, v.status)
            for v in sorted(plan.visits, key=lambda v: v.visit_date)
            if v.status != "cancelled"
        ]
    )
    return _plan_fields(
        protocol_id=choices.protocol_id,
        protocol_version=choices.protocol_version,
        start_date=choices.start_date,
        status=choices.status,
        phases=choices.phases,
        visits=visits,
        target_pain=choices.target_pain,
        target_odi=choices.target_odi,
        functional_goals=choices.functional_goals,
        clinic_days=choices.clinic_days,
        red_flag_clearance=choices.red_flag_clearance,
        ended_on=choices.ended_on,
        end_reason=choices.end_reason,
        end_note=choices.end_note,
    )


def _session_of(
    row: TreatmentSessionRow, by_id: Mapping[int, TreatmentSessionRow] | None = None
) -> _Session:
    original = None
    if row.amends_id is not None and by_id is not None and row.amends_id in by_id:
        original = _session_of(by_id[row.amends_id], by_id)
    return _Session(
        performed_at=row.performed_at,
        modalities=tuple(row.modalities),
        pain_before=row.pain_before,
        pain_after=row.pain_after,
        acupoints=tuple(row.acupoints),
        exercises=tuple((item["code"], item["dosage"]) for item in row.interventions),
        notes=row.notes,
        needle_count=row.needle_count,
        retention_minutes=row.retention_minutes,
        electro=row.electro,
        technique=row.technique,
        tolerance=row.tolerance,
        adverse_events=tuple(row.adverse_events),
        adverse_event_note=row.adverse_event_note,
        subjective=row.subjective,
        objective=row.objective,
        assessment=row.assessment_note,
        plan_note=row.plan_note,
        amendment_reason=row.amendment_reason,
        amends=original,
    )


def _session_when(stamp: dt.datetime) -> str:
    """A date alone for a date-only session (local noon), else the local date-time."""
    local = stamp.astimezone()
    if local.time() == DATE_ONLY_SESSION_TIME:
        return local.date().isoformat()
    return local.isoformat()


def _session_doc(item: _Session) -> dict[str, Any]:
    document: dict[str, Any] = {
        "date": _session_when(item.performed_at),
        "modalities": sorted(item.modalities),
        "pain_before": item.pain_before,
        "pain_after": item.pain_after,
        "acupoints": list(item.acupoints),
        "exercises": [code for code, _dosage in item.exercises],
        "notes": item.notes,
    }
    if any(dosage for _code, dosage in item.exercises):
        document["interventions"] = [
            {"code": code, "dosage": dosage} for code, dosage in item.exercises
        ]
    optional: dict[str, Any] = {
        "needle_count": item.needle_count,
        "retention_minutes": item.retention_minutes,
        "electro": item.electro or None,
        "technique": item.technique,
        "tolerance": item.tolerance,
        "adverse_events": list(item.adverse_events),
        "adverse_event_note": item.adverse_event_note,
        "subjective": item.subjective,
        "objective": item.objective,
        "assessment": item.assessment,
        "plan_note": item.plan_note,
    }
    document.update({key: value for key, value in optional.items() if value not in (None, "", [])})
    if item.amends is not None:
        document["amendment_reason"] = item.amendment_reason or ""
        document["amends"] = _session_doc(item.amends)
    return document
