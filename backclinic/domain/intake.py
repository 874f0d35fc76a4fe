"""The domain's view of an intake or reassessment: what the recommendation works from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from backclinic.domain.screening import FlagAnswer


@dataclass(frozen=True)
class Intake:
    """One assessment. ``None`` means not recorded — never "no" or "zero".

    ``red_flags`` None means the patient was never screened; a mapping holds one
    FlagAnswer per item asked. Pain scores are 0–10 integers; ``odi_answers`` has ten
    entries (None = section skipped); ``startback_answers`` nine (see scoring).
    """

    assessed_on: date
    onset_weeks: float | None = None
    recurrent: bool | None = None
    radiating_present: bool = False
    radiating_side: str | None = None
    radiating_below_knee: bool | None = None
    radiating_to: str | None = None
    # Numbness, weakness or reflex change in the leg: with them, pain that stops above the
    # knee is radicular too (REFERENCE.md, "Radiating pain: referred or radicular").
    neurological_signs: bool | None = None
    aggravated_by: tuple[str, ...] = ()
    contributing_factors: tuple[str, ...] = ()
    red_flags: Mapping[str, FlagAnswer] | None = None
    red_flag_clearance: str | None = None
    precautions: tuple[str, ...] = ()
    nprs_current: int | None = None
    nprs_worst: int | None = None
    nprs_best: int | None = None
    odi_answers: tuple[int | None, ...] | None = None
    startback_answers: tuple[int, ...] | None = None
    goals: tuple[str, ...] = ()
    age: int | None = None
    occupation: str | None = None
