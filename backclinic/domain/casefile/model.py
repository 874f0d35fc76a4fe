"""A parsed case file: plain frozen dataclasses, the same for import and for export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from backclinic.domain.intake import Intake
from backclinic.domain.plan import PlanChoices
from backclinic.domain.schedule import VisitDraft
from backclinic.domain.session import SessionDetails

CASE_FORMAT = "backclinic-case/1"
# A date-only session is taken to have happened at noon, local time: the middle of the
# clinic day, so the date survives any reasonable time-zone shift on the way back out.
DATE_ONLY_SESSION_TIME = dt.time(12, 0)


class CaseFileProblem(Exception):
    """The first problem of a case file: where it is (a JSON path) and what is wrong.

    ``location`` is empty for problems with the file itself (missing, not JSON).
    """

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}" if location else reason)


@dataclass(frozen=True)
class CasePatient:
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: dt.date
    sex: str
    occupation: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    # On export, a fingerprint of the details above: import --update refuses a file whose
    # patient was changed on record since (written only, never read back as a detail).
    exported_details: str | None = None


@dataclass(frozen=True)
class CasePsfsItem:
    activity: str
    score: int


@dataclass(frozen=True)
class CaseScores:
    """What export adds to an assessment, worked out from its answers (import ignores it)."""

    odi_percent: float | None
    odi_complete: bool
    startback_risk: str | None
    duration_class: str | None


@dataclass(frozen=True)
class CaseAssessment:
    """An assessment; an amendment carries why it was made and the record it corrected
    (kept as it was, perhaps itself an amendment); one marked entered in error carries the
    reason, and neither the corrected original nor an error counts anywhere."""

    kind: str
    intake: Intake
    psfs: tuple[CasePsfsItem, ...] = ()
    rmdq_score: int | None = None
    notes: str = ""
    scores: CaseScores | None = None
    amendment_reason: str | None = None
    amends: CaseAssessment | None = None
    entered_in_error_reason: str | None = None


@dataclass(frozen=True)
class CaseVisit(VisitDraft):
    """A visit as a case file gives it, with the status it had (the plan stores it as is),
    its time ("HH:MM") and its clinician's user name where the file gives them."""

    status: str = "planned"
    visit_time: str | None = None
    clinician: str | None = None


@dataclass(frozen=True)
class CasePlan:
    """A plan's terms and phases, and its visits as the file gives them.

    ``visits`` None: the file gives none, so they are scheduled from the phases on import.
    """

    choices: PlanChoices
    visits: tuple[CaseVisit, ...] | None = None


@dataclass(frozen=True)
class CaseSession:
    """A treatment session as a case file describes it: the session, its free notes and,
    for an amendment, why it was made and the session it corrected (perhaps itself one)."""

    details: SessionDetails
    notes: str = ""
    amendment_reason: str | None = None
    amends: CaseSession | None = None

    @property
    def performed_at(self) -> dt.datetime:
        return self.details.performed_at


@dataclass(frozen=True)
class Case:
    patient: CasePatient
    assessments: tuple[CaseAssessment, ...]
    plan: CasePlan | None
    sessions: tuple[CaseSession, ...]
    earlier_plans: tuple[CasePlan, ...] = ()
    # Imported history that broke a precaution in force on its date: one sentence each.
    safety_notices: tuple[str, ...] = ()
