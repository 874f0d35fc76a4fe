"""A plan as the clinician settled on it: its terms and its phases, one type for each.

``PlanPhase`` is the package's one phase type: a protocol's phase template holds the phase
it proposes, a recommendation holds the phase it proposes with its reasons, the schedule
dates a plan's phases, progress and the episode's course place a week in them, and the
wizard's choices, a stored plan's phases and a case file's plan are all of it; rows, files
and forms are mapped to and from it at their edges.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InterventionDose:
    """A PT intervention with the dosage the clinician gave it (``3 x 10``, ``5 min``)."""

    code: str
    dosage: str


@dataclass(frozen=True)
class PlanPhase:
    """One phase of a plan, weeks counted from the plan's start (week 1 starts on the start
    date). With ``acupuncture_as_needed`` no fixed acupuncture visits are booked, whatever
    ``acupuncture_per_week`` says."""

    number: int
    name: str
    start_week: int
    end_week: int
    acupuncture_per_week: int | None
    acupuncture_as_needed: bool
    pt_per_week: int
    pt_interventions: tuple[InterventionDose, ...]
    acupoints: tuple[str, ...]
    aim: str

    @property
    def pt_focus(self) -> tuple[str, ...]:
        return tuple(dose.code for dose in self.pt_interventions)


@dataclass(frozen=True)
class PlanChoices:
    """What the clinician settled on in the wizard (or the model's defaults, unchanged)."""

    start_date: dt.date
    clinic_days: frozenset[int]
    phases: tuple[PlanPhase, ...]
    target_pain: int | None
    target_odi: float | None
    functional_goals: tuple[str, ...]
    red_flag_clearance: str | None
    protocol_id: str
    protocol_version: int
    # Why each part was proposed (the recommendation's reasons), as stored with the plan.
    reasons: tuple[dict[str, Any], ...] = ()
    status: str = "active"
    # The time of day ("HH:MM") the plan's new visits are booked at; None books them at the
    # clinic's opening time.
    visit_time: str | None = None
    # A plan that has ended (a case file's discharged plan): when, why, and the note.
    ended_on: dt.date | None = None
    end_reason: str | None = None
    end_note: str = ""
    # Points planned under a precaution that allows them only with the clinician's explicit
    # acknowledgement (pregnancy: lumbosacral and lower abdominal points).
    acknowledged_points: tuple[str, ...] = ()
