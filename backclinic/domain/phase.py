"""One phase of a plan as the clinician settled on it: the one phase type of the package.

The wizard's choices, a stored plan's phases and a case file's phases are all this type;
rows, files and forms are mapped to and from it at their edges.
"""

from __future__ import annotations

from dataclasses import dataclass

from backclinic.domain.schedule import PhaseFrequency


@dataclass(frozen=True)
class InterventionDose:
    """A PT intervention with the dosage the clinician gave it (``3 x 10``, ``5 min``)."""

    code: str
    dosage: str


@dataclass(frozen=True)
class PlanPhase:
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

    def frequency(self) -> PhaseFrequency:
        return PhaseFrequency(
            number=self.number,
            start_week=self.start_week,
            end_week=self.end_week,
            acupuncture_per_week=None if self.acupuncture_as_needed else self.acupuncture_per_week,
            acupuncture_as_needed=self.acupuncture_as_needed,
            pt_per_week=self.pt_per_week,
        )
