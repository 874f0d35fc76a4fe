"""Intakes and reassessments: history, contributing factors, red-flag screen, outcome measures.

The domain's Intake is what is stored and read back; derived scores (ODI %, STarT Back
risk, duration class) are computed by domain functions on the way out, never stored, so
they cannot drift from the answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backclinic.db.models import (
    ASSESSMENT_KINDS,
    AssessmentRow,
    ClinicianRow,
    PatientRow,
    PlanRow,
    PsfsItemRow,
)
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.episode import DurationClass, duration_class
from backclinic.domain.intake import Intake
from backclinic.domain.protocol import Protocol
from backclinic.domain.safety import precaution_sex_refusal
from backclinic.domain.scoring import (
    OdiResult,
    StartBackResult,
    nprs_band,
    score_odi,
    score_psfs,
    score_startback,
)
from backclinic.domain.screening import MIN_REASON_WORDS, Screening, evaluate_red_flags, is_reason

# FlagAnswer and ScreeningOutcome are re-exported for the intake form, which takes its
# screening words from here rather than from the domain's rule module.
from backclinic.domain.screening import FlagAnswer as FlagAnswer
from backclinic.domain.screening import ScreeningOutcome as ScreeningOutcome
from backclinic.services import queries
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import FieldError, NotFound, ValidationFailed
from backclinic.services.patients import age_on
from backclinic.services.permissions import Permission
from backclinic.services.use_case import Change, reads_no_records, use_case

ODI_VERSION = "2.1a"
RMDQ_VERSION = "RMDQ-24"


@dataclass(frozen=True)
class PsfsItem:
    activity: str
    score: int


@dataclass(frozen=True)
class AssessmentInput:
    """What the intake form (or a case file) records; ``intake`` holds the clinical answers."""

    kind: str
    intake: Intake
    psfs: tuple[PsfsItem, ...] = ()
    rmdq_score: int | None = None
    notes: str = ""


@dataclass(frozen=True)
class Assessment:
    id: int
    patient_id: int
    kind: str
    intake: Intake
    psfs: tuple[PsfsItem, ...]
    rmdq_score: int | None
    notes: str
    odi: OdiResult | None
    startback: StartBackResult | None
    duration: DurationClass | None
    psfs_mean: float | None
    version: int
    # Corrections: an amendment names the record it corrected and why; the corrected
    # original is ``superseded``; one entered in error keeps its reason. Only a current
    # assessment (neither) counts in scores, the course, progress and reports.
    amends_id: int | None = None
    superseded: bool = False
    amendment_reason: str | None = None
    entered_in_error_reason: str | None = None
    recorded_at: dt.datetime | None = None
    recorded_by: str | None = None
    corrected_at: dt.datetime | None = None
    corrected_by: str | None = None
    screening: Screening | None = None

    @property
    def assessed_on(self) -> dt.date:
        return self.intake.assessed_on

    @property
    def current(self) -> bool:
        return not self.superseded and self.entered_in_error_reason is None

    @property
    def entered_in_error(self) -> bool:
        return self.entered_in_error_reason is not None


@dataclass(frozen=True)
class LiveScores:
    """What the intake form shows as it is filled: each score from the domain's rules,
    None where its answers are not given."""

    odi: OdiResult | None
    startback: StartBackResult | None
    nprs_band: str | None
    screening: Screening


def validate_assessment(
    data: AssessmentInput, catalogue: Catalogue, today: dt.date
) -> list[FieldError]:
    """Every rule an assessment must satisfy, each error naming its field."""
    errors: list[FieldError] = []
    intake = data.intake
    if data.kind not in ASSESSMENT_KINDS:
        errors.append(FieldError("kind", f"Kind must be one of: {', '.join(ASSESSMENT_KINDS)}."))
    if intake.assessed_on > today:
        errors.append(FieldError("date", "The assessment date cannot be in the future."))
    if intake.onset_weeks is not None and intake.onset_weeks < 0:
        errors.append(FieldError("onset_weeks", "Weeks since onset cannot be negative."))
    for name in ("current", "worst", "best"):
        value = getattr(intake, f"nprs_{name}")
        if value is not None and not 0 <= value <= 10:
            errors.append(FieldError(f"nprs.{name}", f"Pain ({name}) must be from 0 to 10."))
    if (
        intake.nprs_best is not None
        and intake.nprs_worst is not None
        and intake.nprs_best > intake.nprs_worst
    ):
        errors.append(FieldError("nprs.best", "Best pain cannot be higher than worst pain."))
    if intake.radiating_side is not None and not catalogue.knows("sides", intake.radiating_side):
        errors.append(FieldError("radiating_pain.side", "Side must be left, right or both."))
    for field, kind, codes in (
        ("aggravated_by", "aggravated_by", intake.aggravated_by),
        ("contributing_factors", "contributing_factors", intake.contributing_factors),
        ("precautions", "precautions", intake.precautions),
        ("precautions_not_asked", "precautions", intake.precautions_not_asked),
        ("red_flags", "red_flags", tuple(intake.red_flags or ())),
    ):
        for position, code in enumerate(codes):
            if not catalogue.knows(kind, code):
                errors.append(FieldError(f"{field}[{position}]", f"{code!r} is not a known code."))
    for position, code in enumerate(intake.precautions_not_asked):
        if code in intake.precautions:
            label = (
                catalogue.label("precautions", code)
                if catalogue.knows("precautions", code)
                else code
            )
            errors.append(
                FieldError(
                    f"precautions_not_asked[{position}]",
                    f"{label} cannot be both present and not asked.",
                )
            )
    if intake.pregnancy_weeks is not None:
        if "pregnancy" not in intake.precautions:
            errors.append(
                FieldError(
                    "pregnancy_weeks",
                    "Weeks of pregnancy can only be recorded with pregnancy as a precaution.",
                )
            )
        elif not 0 <= intake.pregnancy_weeks <= 42:
            errors.append(FieldError("pregnancy_weeks", "Weeks of pregnancy must be from 0 to 42."))
    if intake.age_flag_ruled_out is not None and not is_reason(intake.age_flag_ruled_out):
        errors.append(
            FieldError(
                "age_flag_ruled_out",
                f"Ruling out age over 50 with new pain needs a reason of at least "
                f"{MIN_REASON_WORDS} words, for a later reader to check.",
            )
        )
    if intake.odi_answers is not None:
        if len(intake.odi_answers) != 10:
            errors.append(FieldError("odi_answers", "The Oswestry questionnaire has 10 sections."))
        for section, answer in enumerate(intake.odi_answers, 1):
            if answer is not None and not 0 <= answer <= 5:
                errors.append(
                    FieldError(f"odi_answers[{section - 1}]", f"Section {section} must be 0 to 5.")
                )
    if intake.startback_answers is not None:
        try:
            score_startback(intake.startback_answers)
        except ValueError as error:
            errors.append(FieldError("startback_answers", str(error)))
    if data.rmdq_score is not None and not 0 <= data.rmdq_score <= 24:
        errors.append(FieldError("rmdq_score", "The Roland-Morris score must be from 0 to 24."))
    if data.psfs and not 3 <= len(data.psfs) <= 5:
        errors.append(FieldError("psfs", "The PSFS needs 3 to 5 activities."))
    for position, item in enumerate(data.psfs):
        if not item.activity.strip():
            errors.append(FieldError(f"psfs[{position}].activity", "Name the activity."))
        if not 0 <= item.score <= 10:
            errors.append(FieldError(f"psfs[{position}].score", "PSFS ratings are 0 to 10."))
    return errors


def _odi_columns(answers: Sequence[int | None] | None) -> dict[str, int | None]:
    values = list(answers) if answers is not None else [None] * 10
    return {f"odi_{n}": values[n - 1] for n in range(1, 11)}


def _startback_columns(answers: Sequence[int] | None) -> dict[str, int | None]:
    values: list[int | None] = list(answers) if answers is not None else [None] * 9
    return {f"startback_{n}": values[n - 1] for n in range(1, 10)}


class AssessmentService:
    def __init__(self, context: ServiceContext, protocol: Protocol, catalogue: Catalogue) -> None:
        self._context = context
        self._protocol = protocol
        self._catalogue = catalogue

    @use_case(Permission.WRITE_CLINICAL, changes={Change.ASSESSMENTS})
    def record(self, actor: Actor, patient_id: int, data: AssessmentInput) -> Assessment:
        errors = validate_assessment(data, self._catalogue, self._context.clock.today())
        if errors:
            raise ValidationFailed(errors)
        with self._context.writing() as session:
            self._refuse_precautions(session, patient_id, data)
            row = self._insert(session, actor, patient_id, data)
            assessment = self._assessment_of(session, row)
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "create",
                    "assessment",
                    row.id,
                    patient_id,
                    {"kind": data.kind, "date": data.intake.assessed_on.isoformat()},
                ),
            )
            return assessment

    @reads_no_records
    def live_scores(self, intake: Intake) -> LiveScores:
        """The scores and the screening outcome of answers not yet saved (the form's live
        figures), by the same rules as a stored assessment."""
        odi = (
            score_odi(intake.odi_answers, self._protocol.thresholds.odi_max_skipped)
            if intake.odi_answers is not None
            else None
        )
        startback = (
            score_startback(intake.startback_answers)
            if intake.startback_answers is not None
            else None
        )
        current = intake.nprs_current
        band = str(nprs_band(current)) if current is not None and 0 <= current <= 10 else None
        screening = evaluate_red_flags(
            intake.red_flags, self._protocol, intake.red_flag_clearance or ""
        )
        return LiveScores(odi, startback, band, screening)

    @use_case(Permission.WRITE_CLINICAL, changes={Change.ASSESSMENTS, Change.PLAN})
    def amend(
        self,
        actor: Actor,
        assessment_id: int,
        data: AssessmentInput,
        reason: str,
        expected_version: int,
    ) -> Assessment:
        """Supersede an assessment with a corrected copy; the original is kept unchanged
        and shown beside it. A plan built on the original follows the correction."""
        with self._correcting(assessment_id, expected_version, reason, "amended") as (
            session,
            original,
        ):
            # An amendment corrects the record; it does not turn it into another kind.
            data = replace(data, kind=original.kind)
            errors = []
            if not reason.strip():
                errors.append(FieldError("reason", "Give the reason for the amendment."))
            errors += validate_assessment(data, self._catalogue, self._context.clock.today())
            if errors:
                raise ValidationFailed(errors)
            self._refuse_precautions(session, original.patient_id, data)
            before = self._assessment_of(session, original)
            original.superseded = True
            self._context.stamp_change(original, actor)
            session.flush()
            row = self._insert(session, actor, original.patient_id, data)
            row.amends_id = original.id
            row.amendment_reason = reason.strip()
            for plan in session.scalars(select(PlanRow).where(PlanRow.intake_id == original.id)):
                # The plan follows the current version of the intake it was built on.
                plan.intake_id = row.id
                self._context.stamp_change(plan, actor)
            session.flush()
            after = self._assessment_of(session, row)
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "amend",
                    "assessment",
                    row.id,
                    original.patient_id,
                    {
                        "amends_id": original.id,
                        "kind": original.kind,
                        "reason": row.amendment_reason,
                        "before": _changed(before, after, side="before"),
                        "after": _changed(before, after, side="after"),
                    },
                ),
            )
            return after

    @use_case(Permission.WRITE_CLINICAL, changes={Change.ASSESSMENTS})
    def mark_entered_in_error(
        self, actor: Actor, assessment_id: int, reason: str, expected_version: int
    ) -> Assessment:
        """Keep the assessment, struck through and with the reason, and stop counting it."""
        with self._correcting(
            assessment_id, expected_version, reason, "marked entered in error"
        ) as (session, row):
            if not reason.strip():
                raise ValidationFailed(
                    [FieldError("reason", "Give the reason the assessment was entered in error.")]
                )
            row.entered_in_error_reason = reason.strip()
            self._context.stamp_change(row, actor)
            session.flush()
            marked = self._assessment_of(session, row)
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "entered_in_error",
                    "assessment",
                    row.id,
                    row.patient_id,
                    {
                        "kind": row.kind,
                        "date": row.assessed_on.isoformat(),
                        "reason": row.entered_in_error_reason,
                        "before": {"status": "current"},
                        "after": {"status": "entered in error"},
                    },
                ),
            )
            return marked

    @contextmanager
    def _correcting(
        self, assessment_id: int, expected_version: int, reason: str, verb: str
    ) -> Iterator[tuple[Session, AssessmentRow]]:
        """The unit of work of a correction: the assessment at the version the clinician saw,
        refused if it was already corrected; a race ends in the one stale-record sentence."""
        with self._context.updating(
            AssessmentRow,
            assessment_id,
            expected_version,
            noun="Assessment",
            record="This assessment",
            yours={"reason": reason},
        ) as (session, row):
            self._refuse_corrected(row, verb)
            yield session, row

    @staticmethod
    def _refuse_corrected(row: AssessmentRow, verb: str) -> None:
        if row.entered_in_error_reason is not None:
            raise ValidationFailed(
                [
                    FieldError(
                        "assessment",
                        f"This assessment was marked entered in error; it cannot be {verb}.",
                    )
                ]
            )
        if row.superseded:
            raise ValidationFailed(
                [
                    FieldError(
                        "assessment",
                        f"This assessment has already been amended; its latest version can "
                        f"be {verb} instead.",
                    )
                ]
            )

    def _refuse_precautions(self, session: Session, patient_id: int, data: AssessmentInput) -> None:
        patient = session.get(PatientRow, patient_id)
        sex = patient.sex if patient is not None else None
        for code in data.intake.precautions:
            refusal = precaution_sex_refusal(code, sex, self._catalogue)
            if refusal is not None:
                raise ValidationFailed([FieldError("precautions", refusal)])

    def _insert(
        self, session: Session, actor: Actor | None, patient_id: int, data: AssessmentInput
    ) -> AssessmentRow:
        """Insert inside a caller's unit of work (case import uses this); no audit here."""
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"Patient {patient_id} does not exist.")
        intake = data.intake
        row = AssessmentRow(
            patient_id=patient_id,
            kind=data.kind,
            assessed_on=intake.assessed_on,
            onset_weeks=intake.onset_weeks,
            recurrent=intake.recurrent,
            radiating_present=intake.radiating_present,
            radiating_side=intake.radiating_side,
            radiating_below_knee=intake.radiating_below_knee,
            radiating_to=intake.radiating_to,
            aggravated_by=list(intake.aggravated_by),
            contributing_factors=list(intake.contributing_factors),
            red_flags=(
                None
                if intake.red_flags is None
                else {
                    code: str(answer)
                    for code, answer in intake.red_flags.items()
                    if answer != FlagAnswer.NOT_ASKED
                }
            ),
            red_flag_clearance=intake.red_flag_clearance,
            precautions=list(intake.precautions),
            precautions_not_asked=list(intake.precautions_not_asked),
            neurological_signs=intake.neurological_signs,
            age_flag_ruled_out=(
                " ".join(intake.age_flag_ruled_out.split()) if intake.age_flag_ruled_out else None
            ),
            pregnancy_weeks=intake.pregnancy_weeks,
            nprs_current=intake.nprs_current,
            nprs_worst=intake.nprs_worst,
            nprs_best=intake.nprs_best,
            odi_version=ODI_VERSION if intake.odi_answers is not None else None,
            **_odi_columns(intake.odi_answers),
            **_startback_columns(intake.startback_answers),
            rmdq_version=RMDQ_VERSION if data.rmdq_score is not None else None,
            rmdq_score=data.rmdq_score,
            goals=list(intake.goals),
            notes=data.notes,
        )
        self._context.stamp_new(row, actor)
        session.add(row)
        session.flush()
        session.add_all(
            PsfsItemRow(
                assessment_id=row.id, position=n, activity=item.activity.strip(), score=item.score
            )
            for n, item in enumerate(data.psfs, 1)
        )
        session.flush()
        return row

    @use_case(Permission.VIEW_CLINICAL)
    def for_patient(self, actor: Actor, patient_id: int) -> list[Assessment]:
        """The patient's current assessments, oldest first: what scores, the course,
        progress and reports count (amended originals and errors left out)."""
        with self._context.reading() as session:
            rows = queries.assessment_rows(session, patient_id)
            return [self._assessment_of(session, row) for row in rows]

    @use_case(Permission.VIEW_CLINICAL)
    def history(self, actor: Actor, patient_id: int) -> list[Assessment]:
        """Every assessment on record, oldest first: the current ones, the originals later
        amended and those entered in error (the intake tab shows them all, marked)."""
        with self._context.reading() as session:
            rows = queries.assessment_rows(session, patient_id, include_corrected=True)
            return [self._assessment_of(session, row) for row in rows]

    @use_case(Permission.VIEW_CLINICAL)
    def latest_intake(self, actor: Actor, patient_id: int) -> Assessment | None:
        with self._context.reading() as session:
            row = queries.latest_intake_row(session, patient_id)
            return None if row is None else self._assessment_of(session, row)

    @use_case(Permission.VIEW_CLINICAL)
    def get(self, actor: Actor, assessment_id: int) -> Assessment:
        with self._context.reading() as session:
            row = session.get(AssessmentRow, assessment_id)
            if row is None:
                raise NotFound(f"Assessment {assessment_id} does not exist.")
            return self._assessment_of(session, row)

    def _assessment_of(self, session: Session, row: AssessmentRow) -> Assessment:
        """The stored row as an Assessment with its derived scores."""
        patient = session.get(PatientRow, row.patient_id)
        assert patient is not None
        intake = intake_from_row(row, patient)
        psfs = tuple(
            PsfsItem(item.activity, item.score)
            for item in session.scalars(
                select(PsfsItemRow)
                .where(PsfsItemRow.assessment_id == row.id)
                .order_by(PsfsItemRow.position)
            )
        )
        derived = derive(
            row.id,
            row.patient_id,
            row.kind,
            intake,
            psfs,
            row.rmdq_score,
            row.notes,
            row.version,
            self._protocol,
        )
        corrected = row.superseded or row.entered_in_error_reason is not None
        return replace(
            derived,
            amends_id=row.amends_id,
            superseded=row.superseded,
            amendment_reason=row.amendment_reason,
            entered_in_error_reason=row.entered_in_error_reason,
            recorded_at=self._context.clock.in_zone(row.created_at),
            recorded_by=_clinician_name(session, row.created_by),
            corrected_at=self._context.clock.in_zone(row.updated_at) if corrected else None,
            corrected_by=_clinician_name(session, row.updated_by) if corrected else None,
        )


def _clinician_name(session: Session, clinician_id: int | None) -> str | None:
    if clinician_id is None:
        return None
    clinician = session.get(ClinicianRow, clinician_id)
    return clinician.full_name if clinician is not None else None


def _record_values(assessment: Assessment) -> dict[str, Any]:
    """What an assessment records (not what is derived from it), as JSON-ready values."""
    intake = asdict(assessment.intake)
    intake.pop("age", None)
    intake.pop("occupation", None)
    values = {
        **intake,
        "psfs": [[item.activity, item.score] for item in assessment.psfs],
        "rmdq_score": assessment.rmdq_score,
        "notes": assessment.notes,
    }
    return {key: _json(value) for key, value in values.items()}


def _changed(before: Assessment, after: Assessment, *, side: str) -> dict[str, Any]:
    """The fields an amendment changed, from one side."""
    old, new = _record_values(before), _record_values(after)
    chosen = old if side == "before" else new
    return {key: chosen[key] for key in old if old[key] != new[key]}


def _json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in sorted(value.items())}
    if isinstance(value, (tuple, list)):
        return [_json(v) for v in value]
    return value


def derive(
    assessment_id: int,
    patient_id: int,
    kind: str,
    intake: Intake,
    psfs: tuple[PsfsItem, ...],
    rmdq_score: int | None,
    notes: str,
    version: int,
    protocol: Protocol,
) -> Assessment:
    """An Assessment with its derived scores, computed by the domain from the answers."""
    odi = (
        score_odi(intake.odi_answers, protocol.thresholds.odi_max_skipped)
        if intake.odi_answers is not None
        else None
    )
    startback = (
        score_startback(intake.startback_answers) if intake.startback_answers is not None else None
    )
    duration = (
        duration_class(intake.onset_weeks, protocol.duration)
        if intake.onset_weeks is not None
        else None
    )
    psfs_mean = score_psfs([item.score for item in psfs]) if psfs else None
    screening = evaluate_red_flags(intake.red_flags, protocol, intake.red_flag_clearance)
    return Assessment(
        id=assessment_id,
        patient_id=patient_id,
        kind=kind,
        intake=intake,
        psfs=psfs,
        rmdq_score=rmdq_score,
        notes=notes,
        odi=odi,
        startback=startback,
        duration=duration,
        psfs_mean=psfs_mean,
        version=version,
        screening=screening,
    )


def intake_from_row(row: AssessmentRow, patient: PatientRow) -> Intake:
    odi = tuple(getattr(row, f"odi_{n}") for n in range(1, 11))
    startback = tuple(getattr(row, f"startback_{n}") for n in range(1, 10))
    return Intake(
        assessed_on=row.assessed_on,
        onset_weeks=row.onset_weeks,
        recurrent=row.recurrent,
        radiating_present=bool(row.radiating_present),
        radiating_side=row.radiating_side,
        radiating_below_knee=row.radiating_below_knee,
        radiating_to=row.radiating_to,
        aggravated_by=tuple(row.aggravated_by),
        contributing_factors=tuple(row.contributing_factors),
        red_flags=(
            None
            if row.red_flags is None
            else {code: FlagAnswer(answer) for code, answer in row.red_flags.items()}
        ),
        red_flag_clearance=row.red_flag_clearance,
        precautions=tuple(row.precautions),
        precautions_not_asked=tuple(row.precautions_not_asked or ()),
        neurological_signs=row.neurological_signs,
        age_flag_ruled_out=row.age_flag_ruled_out,
        pregnancy_weeks=row.pregnancy_weeks,
        nprs_current=row.nprs_current,
        nprs_worst=row.nprs_worst,
        nprs_best=row.nprs_best,
        odi_answers=odi if row.odi_version is not None else None,
        startback_answers=(
            tuple(int(a) for a in startback if a is not None)
            if all(a is not None for a in startback)
            else None
        ),
        goals=tuple(row.goals),
        age=age_on(patient.date_of_birth, row.assessed_on),
        occupation=patient.occupation or None,
        date_of_birth=patient.date_of_birth,
    )
