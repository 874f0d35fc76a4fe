"""The reads several services share, each written once: they take the caller's session.

Ordering is part of each query's meaning (oldest first, or the latest one), so every
service that lists or picks these rows agrees with the others.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from backclinic.db.models import AssessmentRow, PlanPhaseRow, PlanRow, TreatmentSessionRow


def current_assessment() -> ColumnElement[bool]:
    """An assessment that counts: neither amended since (superseded) nor entered in error."""
    return and_(
        AssessmentRow.superseded.is_(False), AssessmentRow.entered_in_error_reason.is_(None)
    )


def latest_intake_row(session: Session, patient_id: int) -> AssessmentRow | None:
    """The current intake with the latest date (the last recorded, on a tie)."""
    return session.scalars(
        select(AssessmentRow)
        .where(
            AssessmentRow.patient_id == patient_id,
            AssessmentRow.kind == "intake",
            current_assessment(),
        )
        .order_by(AssessmentRow.assessed_on.desc(), AssessmentRow.id.desc())
        .limit(1)
    ).first()


def assessment_rows(
    session: Session, patient_id: int, *, include_corrected: bool = False
) -> Sequence[AssessmentRow]:
    """The patient's current assessments, oldest first; with ``include_corrected`` also the
    amended originals and those entered in error (kept for the record, never counted)."""
    query = select(AssessmentRow).where(AssessmentRow.patient_id == patient_id)
    if not include_corrected:
        query = query.where(current_assessment())
    return session.scalars(query.order_by(AssessmentRow.assessed_on, AssessmentRow.id)).all()


def active_plan_row(session: Session, patient_id: int) -> PlanRow | None:
    """The patient's active plan (the latest, should there ever be two)."""
    return session.scalars(
        select(PlanRow)
        .where(PlanRow.patient_id == patient_id, PlanRow.status == "active")
        .order_by(PlanRow.id.desc())
    ).first()


def plan_rows(session: Session, patient_id: int) -> Sequence[PlanRow]:
    """Every plan the patient has had, oldest first; the last is the current or latest one."""
    return session.scalars(
        select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id)
    ).all()


def latest_plan_row(session: Session, patient_id: int) -> PlanRow | None:
    return session.scalars(
        select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc())
    ).first()


def phase_rows(session: Session, plan_id: int) -> list[PlanPhaseRow]:
    """A plan's phases in order."""
    return list(
        session.scalars(
            select(PlanPhaseRow)
            .where(PlanPhaseRow.plan_id == plan_id)
            .order_by(PlanPhaseRow.number)
        )
    )


def session_rows(
    session: Session, patient_id: int, *, include_superseded: bool
) -> Sequence[TreatmentSessionRow]:
    """The patient's treatment sessions, oldest first; amended originals only when asked."""
    query = select(TreatmentSessionRow).where(TreatmentSessionRow.patient_id == patient_id)
    if not include_superseded:
        query = query.where(TreatmentSessionRow.superseded.is_(False))
    return session.scalars(
        query.order_by(TreatmentSessionRow.performed_at, TreatmentSessionRow.id)
    ).all()
