"""Classifying the episode of back pain by how long it has lasted."""

from __future__ import annotations

from typing import Literal

from backclinic.domain.protocol import DurationClasses

DurationClass = Literal["acute", "subacute", "chronic"]


def duration_class(onset_weeks: float, thresholds: DurationClasses) -> DurationClass:
    """Acute below ``acute_below_weeks``, chronic above ``chronic_above_weeks``, else subacute.

    With the ACP 2017 defaults: < 4 weeks acute, 4–12 subacute, > 12 chronic (so exactly 4
    and exactly 12 weeks are subacute).
    """
    if onset_weeks < 0:
        raise ValueError(f"Weeks since onset cannot be negative, got {onset_weeks}.")
    if onset_weeks < thresholds.acute_below_weeks:
        return "acute"
    if onset_weeks > thresholds.chronic_above_weeks:
        return "chronic"
    return "subacute"
