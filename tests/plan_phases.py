"""Plan phases for tests: the domain's one phase type with the fields a test leaves out."""

from __future__ import annotations

from backclinic.domain.plan import PlanPhase


def plan_phase(
    number: int,
    start_week: int,
    end_week: int,
    acupuncture_per_week: int | None = 1,
    acupuncture_as_needed: bool = False,
    pt_per_week: int = 0,
    *,
    name: str = "",
) -> PlanPhase:
    return PlanPhase(
        number=number,
        name=name or f"Phase {number}",
        start_week=start_week,
        end_week=end_week,
        acupuncture_per_week=acupuncture_per_week,
        acupuncture_as_needed=acupuncture_as_needed,
        pt_per_week=pt_per_week,
        pt_interventions=(),
        acupoints=(),
        aim="",
    )


def phase_weeks(number: int, name: str, start_week: int, end_week: int) -> PlanPhase:
    """A phase as progress and the episode's course read it: its number, name and weeks."""
    return plan_phase(number, start_week, end_week, name=name)
