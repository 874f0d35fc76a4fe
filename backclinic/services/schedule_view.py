"""The day's schedule across every active plan: what is due today, overdue, or just missed.

One indexed read (scheduled_visit on visit_date, status) joined to plan and patient, so the
day view opens fast with hundreds of active plans.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_, select

from backclinic.db.models import ClinicianRow, PatientRow, PlanRow, ScheduledVisitRow
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol
from backclinic.services.context import Actor, ServiceContext
from backclinic.services.permissions import Permission
from backclinic.services.safety import statuses_on
from backclinic.services.use_case import reads_no_records, use_case

# Missed and overdue visits stay on the day view for a week, so someone can follow them up;
# older ones are the plan's history (on the patient's Plan tab), not this morning's work.
MISSED_SHOWN_DAYS = 7


@dataclass(frozen=True)
class DueVisit:
    visit_id: int
    patient_id: int
    patient_name: str
    mrn: str
    visit_date: dt.date
    phase_number: int
    modalities: tuple[str, ...]
    status: str
    overdue: bool
    version: int = 1
    # The patient's treatment is on hold for an urgent referral (safety status).
    urgent_referral: bool = False
    # "HH:MM" and the booked clinician; visits booked before times existed have neither.
    visit_time: str | None = None
    clinician_id: int | None = None
    clinician_name: str | None = None


class DayScheduleService:
    def __init__(
        self,
        context: ServiceContext,
        *,
        protocol: Protocol | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self._context = context
        self._protocol = protocol
        self._catalogue = catalogue

    @reads_no_records
    def today(self) -> dt.date:
        return self._context.clock.today()

    @use_case(Permission.VIEW_SCHEDULE)
    def due(
        self, actor: Actor, today: dt.date, *, missed_within_days: int = MISSED_SHOWN_DAYS
    ) -> list[DueVisit]:
        """Visits of active plans of unarchived patients, oldest first: every visit dated
        ``today`` (except cancelled ones), and planned (overdue) or missed visits of the
        last ``missed_within_days`` days."""
        query = due_query(today, today - dt.timedelta(days=missed_within_days))
        with self._context.reading() as session:
            rows = list(session.execute(query))
            on_hold: set[int] = set()
            if self._protocol is not None and self._catalogue is not None:
                statuses = statuses_on(
                    session,
                    {row.patient_id for row in rows},
                    self._protocol,
                    self._catalogue,
                    today,
                )
                on_hold = {pid for pid, status in statuses.items() if status.on_hold}
            return [
                DueVisit(
                    visit_id=row.id,
                    patient_id=row.patient_id,
                    patient_name=f"{row.family_name}, {row.given_name}",
                    mrn=row.mrn,
                    visit_date=row.visit_date,
                    phase_number=row.phase_number,
                    modalities=tuple(row.modalities),
                    status=row.status,
                    overdue=row.status == "planned" and row.visit_date < today,
                    version=row.version,
                    visit_time=row.visit_time,
                    clinician_id=row.clinician_id,
                    clinician_name=row.full_name,
                    urgent_referral=row.patient_id in on_hold,
                )
                for row in rows
            ]


def due_query(today: dt.date, missed_since: dt.date) -> Select[Any]:
    """The day view's read; public so a test can check the database plans it on the index."""
    visit = ScheduledVisitRow
    return (
        select(
            visit.id,
            PlanRow.patient_id,
            PatientRow.family_name,
            PatientRow.given_name,
            PatientRow.mrn,
            visit.visit_date,
            visit.phase_number,
            visit.modalities,
            visit.status,
            visit.version,
            visit.visit_time,
            visit.clinician_id,
            ClinicianRow.full_name,
        )
        .join(PlanRow, PlanRow.id == visit.plan_id)
        .outerjoin(ClinicianRow, ClinicianRow.id == visit.clinician_id)
        .join(PatientRow, PatientRow.id == PlanRow.patient_id)
        .where(
            visit.visit_date <= today,
            or_(
                and_(visit.visit_date == today, visit.status != "cancelled"),
                and_(visit.status.in_(("planned", "missed")), visit.visit_date >= missed_since),
            ),
            PlanRow.status == "active",
            PatientRow.archived.is_(False),
        )
        .order_by(
            visit.visit_date,
            visit.visit_time,
            PatientRow.family_name,
            PatientRow.given_name,
            visit.id,
        )
    )
