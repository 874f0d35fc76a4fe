"""Typed SQLAlchemy rows for the whole clinical record.

Rows are not domain objects: services turn them into frozen dataclasses before anything
leaves a session. Every mutable table carries a version column (optimistic locking) and
who/when stamps; every bounded clinical value has a CHECK constraint behind it so that a
bug above the database cannot store a pain score of 15.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CLINICIAN_ROLES = ("admin", "acupuncturist", "physical_therapist", "front_desk")
ASSESSMENT_KINDS = ("intake", "reassessment", "discharge")
PLAN_STATUSES = ("active", "completed", "discharged", "cancelled")
VISIT_STATUSES = ("planned", "done", "missed", "cancelled")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every engine (SQLite stores no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp: dt.datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _between(column: str, low: int, high: int, *, nullable: bool = True) -> str:
    bounded = f"{column} BETWEEN {low} AND {high}"
    return f"{column} IS NULL OR {bounded}" if nullable else bounded


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Stamped:
    """Version and who/when columns shared by every mutable table.

    The version column is SQLAlchemy's optimistic lock: an UPDATE whose WHERE clause no
    longer matches the version it read raises StaleDataError instead of overwriting.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(nullable=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(nullable=False)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


class ClinicSettingsRow(Stamped, Base):
    __tablename__ = "clinic_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("idle_lock_minutes BETWEEN 1 AND 30", name="idle_lock_range"),
        CheckConstraint("length(clinic_name) > 0", name="name_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_name: Mapped[str] = mapped_column(String(200), nullable=False)
    address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    logo_path: Mapped[str | None] = mapped_column(Text)
    idle_lock_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    clinic_days: Mapped[list[Any]] = mapped_column(nullable=False)
    mrn_prefix: Mapped[str] = mapped_column(String(10), nullable=False, default="BC")
    # IANA name; null means the workstation's own zone (what versions before 0004 used).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    opens_at: Mapped[str] = mapped_column(String(5), nullable=False, default="08:00")
    closes_at: Mapped[str] = mapped_column(String(5), nullable=False, default="18:00")
    # ISO dates the clinic is closed on (holidays), sorted.
    closed_dates: Mapped[list[Any]] = mapped_column(nullable=False, default=list)


class ClinicianRow(Stamped, Base):
    __tablename__ = "clinician"
    __table_args__ = (
        CheckConstraint(_in("role", CLINICIAN_ROLES), name="role_known"),
        CheckConstraint("failed_sign_ins >= 0", name="failed_non_negative"),
        CheckConstraint("length(username) > 0", name="username_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(30), nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column()


class PatientRow(Stamped, Base):
    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint("length(family_name) > 0", name="family_name_present"),
        CheckConstraint("length(given_name) > 0", name="given_name_present"),
        CheckConstraint("length(mrn) > 0", name="mrn_present"),
        CheckConstraint(
            "sex IS NULL OR sex IN ('female', 'male', 'other', 'unknown')", name="sex_known"
        ),
        Index("ix_patient_name_order", "archived", "family_key", "given_key", "id"),
        # A unique index rather than a table constraint: SQLite adds one in place.
        Index("uq_patient_mrn_key", "mrn_key", unique=True),
        # Birth-date search reads one date's patients already in name order.
        Index(
            "ix_patient_birth_order", "date_of_birth", "archived", "family_key", "given_key", "id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    # The MRN folded (services.patients.mrn_key): "case-0045" and "CASE-0045." cannot both
    # be stored beside "CASE-0045". A lookalike an older database already held has "~" and
    # its id appended (migration 0011).
    mrn_key: Mapped[str] = mapped_column(String(60), nullable=False)
    family_name: Mapped[str] = mapped_column(String(200), nullable=False)
    given_name: Mapped[str] = mapped_column(String(200), nullable=False)
    # Folded copies (casefold, accents stripped) so that search can use a plain index
    # instead of wrapping an indexed column in lower().
    family_key: Mapped[str] = mapped_column(String(200), nullable=False)
    given_key: Mapped[str] = mapped_column(String(200), nullable=False)
    date_of_birth: Mapped[dt.date] = mapped_column(Date, nullable=False)
    sex: Mapped[str | None] = mapped_column(String(10))
    occupation: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column()


class PatientSearchTermRow(Base):
    """One searchable term per patient name part and MRN, kept folded and indexed.

    A prefix search is then a single index range scan with keyset paging, whatever the
    size of the registry; derived from the patient row and rewritten with it.
    """

    __tablename__ = "patient_search_term"
    __table_args__ = (
        Index("ix_patient_search_term_lookup", "archived", "term", "patient_id"),
        CheckConstraint("kind IN ('family', 'given', 'mrn')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Byte-wise collation on PostgreSQL so that a prefix is exactly an index range.
    term: Mapped[str] = mapped_column(
        String(200).with_variant(String(200, collation="C"), "postgresql"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class AssessmentRow(Stamped, Base):
    __tablename__ = "assessment"
    __table_args__ = (
        CheckConstraint(_in("kind", ASSESSMENT_KINDS), name="kind_known"),
        CheckConstraint(_between("nprs_current", 0, 10), name="nprs_current_range"),
        CheckConstraint(_between("nprs_worst", 0, 10), name="nprs_worst_range"),
        CheckConstraint(_between("nprs_best", 0, 10), name="nprs_best_range"),
        CheckConstraint("onset_weeks IS NULL OR onset_weeks >= 0", name="onset_non_negative"),
        CheckConstraint(
            "radiating_side IS NULL OR radiating_side IN ('left', 'right', 'both')",
            name="radiating_side_known",
        ),
        *(CheckConstraint(_between(f"odi_{n}", 0, 5), name=f"odi_{n}_range") for n in range(1, 11)),
        *(
            CheckConstraint(_between(f"startback_{n}", 0, 1), name=f"startback_{n}_range")
            for n in range(1, 9)
        ),
        CheckConstraint(_between("startback_9", 0, 4), name="startback_9_range"),
        CheckConstraint(_between("rmdq_score", 0, 24), name="rmdq_range"),
        CheckConstraint(_between("pregnancy_weeks", 0, 42), name="pregnancy_weeks_range"),
        Index("ix_assessment_patient_date", "patient_id", "assessed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    assessed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    onset_weeks: Mapped[float | None] = mapped_column(Float)
    recurrent: Mapped[bool | None] = mapped_column(Boolean)
    radiating_present: Mapped[bool | None] = mapped_column(Boolean)
    radiating_side: Mapped[str | None] = mapped_column(String(10))
    radiating_below_knee: Mapped[bool | None] = mapped_column(Boolean)
    radiating_to: Mapped[str | None] = mapped_column(String(100))
    aggravated_by: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    contributing_factors: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    # None means never screened; otherwise code -> "absent" | "present" (missing = not asked).
    red_flags: Mapped[dict[str, Any] | None] = mapped_column()
    red_flag_clearance: Mapped[str | None] = mapped_column(Text)
    # The precautions present, and those not asked (the rest were asked and are absent).
    precautions: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    precautions_not_asked: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    # Numbness, weakness or reflex change in the leg (radicular pain even above the knee).
    neurological_signs: Mapped[bool | None] = mapped_column(Boolean)
    # Why the clinician ruled out the derived "age over 50 with new pain".
    age_flag_ruled_out: Mapped[str | None] = mapped_column(Text)
    # Weeks of gestation on the day of the assessment, when recorded with a pregnancy.
    pregnancy_weeks: Mapped[int | None] = mapped_column(Integer)
    nprs_current: Mapped[int | None] = mapped_column(Integer)
    nprs_worst: Mapped[int | None] = mapped_column(Integer)
    nprs_best: Mapped[int | None] = mapped_column(Integer)
    odi_version: Mapped[str | None] = mapped_column(String(20))
    odi_1: Mapped[int | None] = mapped_column(Integer)
    odi_2: Mapped[int | None] = mapped_column(Integer)
    odi_3: Mapped[int | None] = mapped_column(Integer)
    odi_4: Mapped[int | None] = mapped_column(Integer)
    odi_5: Mapped[int | None] = mapped_column(Integer)
    odi_6: Mapped[int | None] = mapped_column(Integer)
    odi_7: Mapped[int | None] = mapped_column(Integer)
    odi_8: Mapped[int | None] = mapped_column(Integer)
    odi_9: Mapped[int | None] = mapped_column(Integer)
    odi_10: Mapped[int | None] = mapped_column(Integer)
    startback_1: Mapped[int | None] = mapped_column(Integer)
    startback_2: Mapped[int | None] = mapped_column(Integer)
    startback_3: Mapped[int | None] = mapped_column(Integer)
    startback_4: Mapped[int | None] = mapped_column(Integer)
    startback_5: Mapped[int | None] = mapped_column(Integer)
    startback_6: Mapped[int | None] = mapped_column(Integer)
    startback_7: Mapped[int | None] = mapped_column(Integer)
    startback_8: Mapped[int | None] = mapped_column(Integer)
    startback_9: Mapped[int | None] = mapped_column(Integer)
    rmdq_version: Mapped[str | None] = mapped_column(String(20))
    rmdq_score: Mapped[int | None] = mapped_column(Integer)
    goals: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Corrections never overwrite: an amendment is a new row pointing back at the original,
    # which is kept (superseded); a record entered in error is kept with the reason, and
    # neither counts in scores, the course, progress or reports.
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    superseded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    entered_in_error_reason: Mapped[str | None] = mapped_column(Text)


class PsfsItemRow(Base):
    """One Patient-Specific Functional Scale activity and its 0–10 rating."""

    __tablename__ = "psfs_item"
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        CheckConstraint("position BETWEEN 1 AND 5", name="position_range"),
        UniqueConstraint("assessment_id", "position", name="uq_psfs_item_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    activity: Mapped[str] = mapped_column(String(200), nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)


class PlanRow(Stamped, Base):
    __tablename__ = "plan"
    __table_args__ = (
        CheckConstraint(_in("status", PLAN_STATUSES), name="status_known"),
        CheckConstraint(_between("target_pain", 0, 10), name="target_pain_range"),
        CheckConstraint(
            "target_odi IS NULL OR (target_odi >= 0 AND target_odi <= 100)",
            name="target_odi_range",
        ),
        CheckConstraint("protocol_version >= 1", name="protocol_version_positive"),
        Index("ix_plan_patient_status", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    protocol_id: Mapped[str] = mapped_column(String(100), nullable=False)
    protocol_version: Mapped[int] = mapped_column(Integer, nullable=False)
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    clinic_days: Mapped[list[Any]] = mapped_column(nullable=False)
    target_pain: Mapped[int | None] = mapped_column(Integer)
    target_odi: Mapped[float | None] = mapped_column(Float)
    functional_goals: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    precautions: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    red_flag_clearance: Mapped[str | None] = mapped_column(Text)
    # Points the clinician acknowledged planning under a precaution that asks for it.
    acknowledged_points: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    reasons: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    end_note: Mapped[str] = mapped_column(Text, nullable=False, default="")


class PlanPhaseRow(Stamped, Base):
    __tablename__ = "plan_phase"
    __table_args__ = (
        UniqueConstraint("plan_id", "number", name="uq_plan_phase_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("start_week >= 1 AND end_week >= start_week", name="weeks_ordered"),
        CheckConstraint(_between("acupuncture_per_week", 1, 7), name="acupuncture_range"),
        CheckConstraint("pt_per_week BETWEEN 0 AND 7", name="pt_range"),
        CheckConstraint(
            "(acupuncture_as_needed AND acupuncture_per_week IS NULL)"
            " OR (NOT acupuncture_as_needed AND acupuncture_per_week IS NOT NULL)",
            name="acupuncture_fixed_or_as_needed",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    start_week: Mapped[int] = mapped_column(Integer, nullable=False)
    end_week: Mapped[int] = mapped_column(Integer, nullable=False)
    acupuncture_per_week: Mapped[int | None] = mapped_column(Integer)
    acupuncture_as_needed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    pt_per_week: Mapped[int] = mapped_column(Integer, nullable=False)
    pt_focus: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    # [{"code": ..., "dosage": ...}]
    pt_interventions: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    acupoints: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    aim: Mapped[str] = mapped_column(Text, nullable=False, default="")


class ScheduledVisitRow(Stamped, Base):
    __tablename__ = "scheduled_visit"
    __table_args__ = (
        CheckConstraint(_in("status", VISIT_STATUSES), name="status_known"),
        CheckConstraint("phase_number >= 1", name="phase_positive"),
        Index("ix_scheduled_visit_date_status", "visit_date", "status"),
        Index("ix_scheduled_visit_plan_date", "plan_id", "visit_date"),
        # The visit a session fulfils (migration 0012).
        Index("ix_scheduled_visit_session", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), nullable=False)
    phase_number: Mapped[int] = mapped_column(Integer, nullable=False)
    visit_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    modalities: Mapped[list[Any]] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="planned")
    session_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_session.id"))
    # "HH:MM" in the clinic's local time; visits booked before 0007 have none.
    visit_time: Mapped[str | None] = mapped_column(String(5))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    # A case file's clinician user name that no account here has (kept for export).
    booked_with: Mapped[str | None] = mapped_column(String(100))


class TreatmentSessionRow(Stamped, Base):
    __tablename__ = "treatment_session"
    __table_args__ = (
        CheckConstraint(_between("pain_before", 0, 10), name="pain_before_range"),
        CheckConstraint(_between("pain_after", 0, 10), name="pain_after_range"),
        CheckConstraint("needle_count IS NULL OR needle_count BETWEEN 0 AND 60", name="needles"),
        CheckConstraint(
            "retention_minutes IS NULL OR retention_minutes BETWEEN 0 AND 120", name="retention"
        ),
        CheckConstraint(
            "tolerance IS NULL OR tolerance IN ('good', 'fair', 'poor')", name="tolerance_known"
        ),
        Index("ix_treatment_session_patient_time", "patient_id", "performed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    phase_number: Mapped[int | None] = mapped_column(Integer)
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    performed_at: Mapped[dt.datetime] = mapped_column(nullable=False)
    modalities: Mapped[list[Any]] = mapped_column(nullable=False)
    pain_before: Mapped[int | None] = mapped_column(Integer)
    pain_after: Mapped[int | None] = mapped_column(Integer)
    acupoints: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    needle_count: Mapped[int | None] = mapped_column(Integer)
    retention_minutes: Mapped[int | None] = mapped_column(Integer)
    electro: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    technique: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # [{"code": ..., "dosage": ...}]
    interventions: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    tolerance: Mapped[str | None] = mapped_column(String(10))
    adverse_events: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    adverse_event_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Points the clinician acknowledged needling under a precaution that asks for it
    # (pregnancy: lumbosacral and lower abdominal points).
    acknowledged_points: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    subjective: Mapped[str] = mapped_column(Text, nullable=False, default="")
    objective: Mapped[str] = mapped_column(Text, nullable=False, default="")
    assessment_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    plan_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Amendments never overwrite: the original stays, the amendment points back at it.
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_session.id"))
    superseded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    amendment_reason: Mapped[str | None] = mapped_column(Text)


SAFETY_RECORD_KINDS = ("clearance", "referral_outcome")
CLEARANCE_METHODS = ("physician_letter", "imaging", "specialist_review", "clinical_reasoning")


class SafetyRecordRow(Stamped, Base):
    """A clinician's clearance of red flags, or the recorded outcome of an urgent referral:
    who (``clinician_id``), on which day, which flags, how and why."""

    __tablename__ = "safety_record"
    __table_args__ = (
        CheckConstraint(_in("kind", SAFETY_RECORD_KINDS), name="kind_known"),
        CheckConstraint(
            f"method IS NULL OR {_in('method', CLEARANCE_METHODS)}", name="method_known"
        ),
        Index("ix_safety_record_patient_date", "patient_id", "recorded_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    recorded_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    flags: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    method: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, nullable=False)


DOCUMENT_KINDS = ("plan_summary", "discharge_summary")


class DocumentRow(Base):
    """A printed document exactly as it was handed over: kept so it can be reprinted as is.

    Append-only, like the audit trail: a changed plan gets a new document, never an edit.
    """

    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint(_in("kind", DOCUMENT_KINDS), name="kind_known"),
        CheckConstraint("pages >= 1", name="pages_positive"),
        Index("ix_document_patient", "patient_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(nullable=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    pages: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # The printer's name or the saved file's path; documents kept before 0007 have none.
    destination: Mapped[str | None] = mapped_column(Text)


class AuditEventRow(Base):
    """Append-only: who did what, when, to which record; each entry hashes the one before."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_patient", "patient_id", "id"),
        Index("ix_audit_event_time", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(nullable=False)
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    details: Mapped[dict[str, Any]] = mapped_column(nullable=False, default=dict)
    previous_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # 1 for the first entry: with the anchor kept outside the database, it shows how many
    # entries there must be, so a cut-off tail is seen.
    chain_position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class AuditChainRow(Base):
    """One row: this database's random id (seeding the chain) and its audit key's fingerprint.

    The key itself is never stored here; see backclinic.db.audit_chain.
    """

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    database_id: Mapped[str] = mapped_column(String(36), nullable=False)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
