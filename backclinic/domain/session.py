"""One treatment session as the clinician records it: the one session type of the package.

The session form, the session service, the demo and case files all use ``SessionDetails``;
the service maps it to and from its row in one place each way. ``HeldSession`` is what the
rules over a course of care (progress, the episode's course) read of a session once held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SessionDetails:
    """What was done in one visit. ``interventions`` are (code, dosage) pairs.

    ``visit_id`` is the scheduled visit the session fulfils, if any; ``performed_by`` the
    clinician who gave it (None: whoever logs it).
    """

    performed_at: dt.datetime
    modalities: tuple[str, ...]
    pain_before: int | None = None
    pain_after: int | None = None
    acupoints: tuple[str, ...] = ()
    needle_count: int | None = None
    retention_minutes: int | None = None
    electro: bool = False
    technique: str = ""
    interventions: tuple[tuple[str, str], ...] = ()
    tolerance: str | None = None
    adverse_events: tuple[str, ...] = ()
    adverse_event_note: str = ""
    subjective: str = ""
    objective: str = ""
    assessment_note: str = ""
    plan_note: str = ""
    visit_id: int | None = None
    performed_by: int | None = None
    # Points needled under a precaution that allows them only with the clinician's explicit
    # acknowledgement (pregnancy: lumbosacral and lower abdominal points).
    acknowledged_points: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeldSession:
    """A session as the course of care counts it: the clinic's calendar day it was held on,
    its pain scores (0–10; None when not asked) and the plan phase it was given in (None
    when it was not given in one)."""

    on: dt.date
    pain_before: int | None
    pain_after: int | None
    phase_number: int | None = None
