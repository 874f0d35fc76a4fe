"""Where each patient on a page of the registry stands: plan and phase, next visit, or end.

One read per page (at most a page's worth of ids), each query on an index: plans by
(patient_id, status), phases by (plan_id, number), visits by (plan_id, visit_date). The
phase is the domain's week rule (progress.phase_for_week), as every other view uses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from backclinic.db.models import PatientRow, PlanPhaseRow, PlanRow, ScheduledVisitRow
from backclinic.domain.progress import phase_for_week, plan_week

# A plan that ended without being discharged (completed, cancelled) still says how it ended.
ENDED_STATUSES = ("discharged", "completed", "cancelled")


@dataclass(frozen=True)
class PatientStatus:
    archived: bool
    # "active", or how the latest plan ended ("discharged", "completed", "cancelled"), or
    # None for a patient who has never had a plan.
    plan: str | None
    phase_number: int | None = None
    phase_name: str | None = None
    plan_starts: dt.date | None = None
    next_visit: dt.date | None = None
    ended_on: dt.date | None = None


def patient_statuses(
    session: Session, patient_ids: Sequence[int], today: dt.date
) -> dict[int, PatientStatus]:
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    archived = dict(
        session.execute(select(PatientRow.id, PatientRow.archived).where(PatientRow.id.in_(ids)))
        .tuples()
        .all()
    )
    plans = session.execute(
        select(PlanRow.id, PlanRow.patient_id, PlanRow.status, PlanRow.start_date, PlanRow.ended_on)
        .where(PlanRow.patient_id.in_(ids))
        .order_by(PlanRow.patient_id, PlanRow.id)
    ).all()
    active: dict[int, tuple[int, dt.date]] = {}
    ended: dict[int, tuple[str, dt.date | None]] = {}
    for plan_id, patient_id, status, start_date, ended_on in plans:
        if status == "active":
            active[patient_id] = (plan_id, start_date)
        elif status in ENDED_STATUSES:
            ended[patient_id] = (status, ended_on)  # ordered by id: the latest wins
    plan_ids = [plan_id for plan_id, _start in active.values()]
    # The phases' week columns only, read by name as the domain's phase is (PhaseWeeks).
    spans: dict[int, list[Row[tuple[int, int, str, int, int]]]] = {}
    next_visits: dict[int, dt.date] = {}
    if plan_ids:
        for span in session.execute(
            select(
                PlanPhaseRow.plan_id,
                PlanPhaseRow.number,
                PlanPhaseRow.name,
                PlanPhaseRow.start_week,
                PlanPhaseRow.end_week,
            ).where(PlanPhaseRow.plan_id.in_(plan_ids))
        ):
            spans.setdefault(span.plan_id, []).append(span)
        next_visits = dict(
            session.execute(
                select(ScheduledVisitRow.plan_id, func.min(ScheduledVisitRow.visit_date))
                .where(
                    ScheduledVisitRow.plan_id.in_(plan_ids),
                    ScheduledVisitRow.status == "planned",
                    ScheduledVisitRow.visit_date >= today,
                )
                .group_by(ScheduledVisitRow.plan_id)
            )
            .tuples()
            .all()
        )
    statuses = {}
    for patient_id in ids:
        if patient_id not in archived:
            continue
        is_archived = bool(archived[patient_id])
        if patient_id in active:
            plan_id, start_date = active[patient_id]
            phase = phase_for_week(spans.get(plan_id, []), plan_week(start_date, today))
            statuses[patient_id] = PatientStatus(
                archived=is_archived,
                plan="active",
                phase_number=phase.number if phase else None,
                phase_name=phase.name if phase else None,
                plan_starts=start_date if start_date > today else None,
                next_visit=next_visits.get(plan_id),
            )
        elif patient_id in ended:
            status, ended_on = ended[patient_id]
            statuses[patient_id] = PatientStatus(is_archived, status, ended_on=ended_on)
        else:
            statuses[patient_id] = PatientStatus(is_archived, None)
    return statuses
