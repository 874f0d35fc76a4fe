"""What the printed documents say, as plain frozen data: the reports' inputs.

Kept apart from the layout modules so that the services can build a document's content
without loading reportlab, which is imported only when a document is rendered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from backclinic.domain.outcomes import OutcomeChange
from backclinic.domain.protocol import EvidencePosition


@dataclass(frozen=True)
class Letterhead:
    """The clinic as its documents present it (the article's "[Your Clinic Name]")."""

    clinic_name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    logo_path: Path | None = None

    @property
    def contact_line(self) -> str:
        address = ", ".join(part.strip() for part in self.address.splitlines() if part.strip())
        parts = [address, f"Tel. {self.phone}" if self.phone else "", self.email]
        return " · ".join(part for part in parts if part)


@dataclass(frozen=True)
class PatientLine:
    name: str
    date_of_birth: dt.date
    mrn: str


@dataclass(frozen=True)
class DocumentFrame:
    """What every page of one document carries besides its story."""

    title: str
    letterhead: Letterhead
    patient: PatientLine
    protocol_name: str
    protocol_version: int
    printed_on: dt.date
    # None when no clinician signed in (the command line without --user).
    printed_by: str | None

    @property
    def prepared(self) -> str:
        """Who the document says prepared it."""
        return (
            "Prepared at the clinic"
            if self.printed_by is None
            else f"Prepared by {self.printed_by}"
        )


@dataclass(frozen=True)
class HomeExercise:
    """One item of a home programme, in the catalogue's patient-facing words."""

    label: str
    instructions: str
    dosage: str
    # Why and when the exercise is adapted (pregnancy: lying on the back after the first
    # trimester); empty when it is done as written.
    adaptation: str = ""


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    pages: int


@dataclass(frozen=True)
class ChartPhase:
    """A phase as the pain chart shades it: its number, name and the dates it spans.

    The reports keep their own plain inputs rather than the domain's ``PlanPhase``: a
    document is laid out from dates and words the document service has already worked
    out (the layout modules read no catalogue, clock or plan weeks)."""

    number: int
    name: str
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True)
class ChartPoint:
    when: dt.date
    before: int | None
    after: int | None


DISCHARGE_TITLE = "Discharge summary"
INTERIM_TITLE = "Interim treatment summary"


@dataclass(frozen=True)
class Outcome:
    """A measure's baseline and final value; ``change`` is None when there is nothing to
    compare (one measurement, or none)."""

    measure: str
    unit: str
    baseline: float | None
    baseline_on: dt.date | None
    final: float | None
    final_on: dt.date | None
    change: OutcomeChange | None


@dataclass(frozen=True)
class Attendance:
    """Visits due up to the end of the episode and what became of them."""

    scheduled: int
    attended: int
    missed: int
    not_held: int
    sessions: int

    @property
    def percent(self) -> float | None:
        return None if self.scheduled == 0 else self.attended / self.scheduled * 100


@dataclass(frozen=True)
class TreatedSession:
    """A session as the discharge summary lists it: the domain's ``SessionDetails`` put
    into the document's words (modalities, interventions, adverse events and tolerance as
    labels) on the clinic's calendar day; the reports' own input, for the reason
    ``ChartPhase`` gives."""

    when: dt.date
    phase_number: int | None
    modalities: tuple[str, ...]
    pain_before: int | None
    pain_after: int | None
    acupoints: tuple[str, ...]
    interventions: tuple[str, ...]
    adverse_events: tuple[str, ...]
    adverse_event_note: str
    tolerance: str | None


@dataclass(frozen=True)
class DischargeSummary:
    frame: DocumentFrame
    ended: bool
    start_date: dt.date
    end_date: dt.date
    end_reason: str | None
    end_note: str
    phases: tuple[ChartPhase, ...]
    attendance: Attendance
    nprs: Outcome
    odi: Outcome
    mean_immediate_drop: float | None
    sessions: tuple[TreatedSession, ...]
    home_programme: tuple[HomeExercise, ...]
    recommendations: tuple[str, ...]
    # What the reader must know first (a referral, worsening pain); empty when nothing.
    headline: str = ""
    # PSFS and RMDQ, when the episode measured them.
    more_outcomes: tuple[Outcome, ...] = ()
    # The guidelines' positions on acupuncture, side by side (protocol data).
    evidence: tuple[EvidencePosition, ...] = ()
    # Clearances of red flags and outcomes of urgent referrals, in words, oldest first.
    safety_records: tuple[str, ...] = ()


def discharge_title(ended: bool) -> str:
    return DISCHARGE_TITLE if ended else INTERIM_TITLE


@dataclass(frozen=True)
class PlanPhase:
    """A phase as the plan summary prints it: the domain's ``PlanPhase`` with the dates its
    weeks fall on and its frequencies and PT focus in words; the reports' own input, for
    the reason ``ChartPhase`` gives."""

    number: int
    name: str
    start_week: int
    end_week: int
    start_date: dt.date
    end_date: dt.date
    acupuncture: str
    """How often, in words: "twice a week", "once a week", "as needed"."""
    physical_therapy: str
    aim: str
    """The article's words for the phase."""
    focus: tuple[str, ...]
    """What the PT sessions work on, as labels."""


@dataclass(frozen=True)
class PlannedVisit:
    when: dt.date
    phase_number: int
    modalities: tuple[str, ...]
    """Labels: "Acupuncture", "Physical therapy"."""
    status: str
    """planned, done or missed."""
    time: str | None = None
    """"HH:MM"; visits booked before visit times existed have none."""
    clinician: str | None = None
    """Who the visit is booked with (full name), if anyone."""


@dataclass(frozen=True)
class PatientPrecaution:
    label: str
    how_treatment_adapts: str


@dataclass(frozen=True)
class PlanSummary:
    frame: DocumentFrame
    phases: tuple[PlanPhase, ...]
    visits: tuple[PlannedVisit, ...]
    current_phase: int | None
    home_programme: tuple[HomeExercise, ...]
    target_pain: int | None
    target_odi: float | None
    functional_goals: tuple[str, ...]
    precautions: tuple[PatientPrecaution, ...]
    # No session yet: the current phase is where treatment will begin, not where it is.
    not_started: bool = False
    # After discharge: when and why the plan ended, said before anything else.
    ended: str = ""
    # Treatment is on hold: the sentence saying why and what happens now, printed instead
    # of the programme.
    urgent_referral: str | None = None
