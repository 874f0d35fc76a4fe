"""A realistic demo clinic: staff accounts and a registry of varied patients, fast.

The patient step writes with bulk Core inserts (a few thousand rows per statement) in one
transaction with one audit entry, so 100,000 patients take seconds, not an afternoon of
ORM flushes. Everything drawn at random comes from one seeded generator: the same seed,
start MRN and day give the same clinic. Phone numbers come from Ofcom's ranges reserved
for drama and e-mail addresses from the example domains (RFC 2606), so no demo record
can reach a real person.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import accumulate
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from backclinic.db.models import (
    AuditEventRow,
    ClinicianRow,
    ClinicSettingsRow,
    PatientRow,
    PatientSearchTermRow,
    PlanPhaseRow,
    PlanRow,
    ScheduledVisitRow,
    TreatmentSessionRow,
)
from backclinic.domain.demo_names import DemoNames, NameCulture, load_demo_names
from backclinic.domain.intake import Intake
from backclinic.domain.protocol import Protocol
from backclinic.domain.recommend import recommend
from backclinic.domain.screening import FlagAnswer
from backclinic.domain.session import SessionDetails
from backclinic.services import queries
from backclinic.services.accounts import Account, AccountService
from backclinic.services.assessments import AssessmentInput, AssessmentService, PsfsItem
from backclinic.services.clinic import Clinician, ClinicService, NewClinician
from backclinic.services.clock import ClinicClock
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import FieldError, ServiceError, ValidationFailed
from backclinic.services.patients import fold, search_terms
from backclinic.services.permissions import ROLE_NAMES, Permission
from backclinic.services.plans import PlanService, choices_from_proposal
from backclinic.services.sessions import session_details, session_row
from backclinic.services.use_case import Change, use_case

DEMO_CLINIC_NAME = "Harbourside Integrative Back Clinic"
DEMO_CLINIC_ADDRESS = "4 Chandlers Wharf, Harbourside HB1 2QW"
DEMO_CLINIC_PHONE = "0117 496 0123"
DEMO_CLINIC_EMAIL = "reception@harbourside-clinic.example.org"
DEMO_PASSWORD = "demo-password"
# The first account is the administrator who sets the clinic up.
DEMO_CLINICIANS = (
    NewClinician("Sarah Whitfield", "sarah.whitfield", "admin", DEMO_PASSWORD),
    NewClinician("Mei Lin", "mei.lin", "acupuncturist", DEMO_PASSWORD),
    NewClinician("Tomás Herrera", "tomas.herrera", "acupuncturist", DEMO_PASSWORD),
    NewClinician("Aisha Okafor", "aisha.okafor", "physical_therapist", DEMO_PASSWORD),
    NewClinician("Jonas Østergaard", "jonas.ostergaard", "physical_therapist", DEMO_PASSWORD),
    NewClinician("Priya Nair", "priya.nair", "front_desk", DEMO_PASSWORD),
)
# Rows per INSERT statement: large enough to amortise round trips, small enough to stay
# well inside SQLite's bound-parameter limit (32,766) for a 17-column patient row.
BATCH_SIZE = 1_500
MAX_PATIENTS = 1_000_000
_PATIENT_TABLE = cast(Table, PatientRow.__table__)
_TERM_TABLE = cast(Table, PatientSearchTermRow.__table__)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str


@dataclass(frozen=True)
class DemoSummary:
    """What a demo fill did; every account listed signs in with `password`."""

    clinic_name: str
    clinic_set_up: bool
    clinicians: tuple[DemoAccount, ...]
    password: str | None
    patients_created: int
    first_mrn: str | None
    last_mrn: str | None
    elapsed_seconds: float
    intakes_created: int = 0
    plans_created: int = 0
    sessions_created: int = 0
    plans_discharged: int = 0

    @property
    def clinicians_created(self) -> int:
        return len(self.clinicians)

    def describe(self) -> str:
        """A few lines for the command line: what was made and how to sign in."""
        lines = [
            f"Set up {self.clinic_name}." if self.clinic_set_up else f"Added to {self.clinic_name}."
        ]
        if self.clinicians:
            lines.append(f"Staff accounts (password for each: {self.password}):")
            lines += [
                f"  {a.username:<18} {a.full_name} ({ROLE_NAMES.get(a.role, a.role)})"
                for a in self.clinicians
            ]
        if self.patients_created:
            lines.append(
                f"{self.patients_created:,} patients, MRN {self.first_mrn} to {self.last_mrn}."
            )
        else:
            lines.append("No patients added.")
        if self.intakes_created:
            active = self.plans_created - self.plans_discharged
            lines.append(
                f"{self.intakes_created} intakes and {active} active plans (in every phase)."
            )
        if self.sessions_created:
            lines.append(
                f"{self.sessions_created} sessions logged (responders, partial responders and "
                f"non-responders, with missed visits and amendments); "
                f"{self.plans_discharged} plans discharged."
            )
        lines.append(f"Took {self.elapsed_seconds:.1f} s.")
        return "\n".join(lines)


class _Pools:
    """The demo names as the generator draws from them: cumulative weights, a letter table."""

    def __init__(self, names: DemoNames) -> None:
        self.names = names
        self.culture_weights = tuple(accumulate(c.weight for c in names.cultures))
        self.occupation_names = tuple(name for name, _ in names.occupations)
        self.occupation_weights = tuple(accumulate(weight for _, weight in names.occupations))
        self.to_ascii = str.maketrans(dict(names.email_letters))

    def culture(self, rng: random.Random) -> NameCulture:
        return rng.choices(self.names.cultures, cum_weights=self.culture_weights)[0]


def ascii_name(name: str, pools: _Pools | None = None) -> str:
    """A lower-case a-z spelling of a name for an e-mail address ('Παπαδόπουλος' -> ...)."""
    pools = pools or _Pools(load_demo_names())
    romanised = pools.names.email_names.get(name)
    if romanised is not None:
        return romanised
    folded = fold(name).replace("ου", "ou").translate(pools.to_ascii)
    return "".join(ch for ch in folded if "a" <= ch <= "z")


@dataclass(frozen=True)
class DemoPerson:
    """One generated patient before it has an MRN."""

    family_name: str
    given_name: str
    date_of_birth: dt.date
    sex: str
    occupation: str
    phone: str
    email: str
    address: str


def demo_people(seed: int | str, today: dt.date) -> Iterator[DemoPerson]:
    """An endless, deterministic stream of plausible patients for a seed and a day."""
    rng = random.Random(seed)
    pools = _Pools(load_demo_names())
    while True:
        yield _person(rng, today, pools)


def _person(rng: random.Random, today: dt.date, pools: _Pools) -> DemoPerson:
    draw = rng.random()
    sex = "female" if draw < 0.56 else "male" if draw < 0.99 else rng.choice(("other", "unknown"))
    culture = pools.culture(rng)
    index = rng.randrange(len(culture.family))
    family = (
        culture.family_female[index]
        if sex == "female" and culture.family_female
        else culture.family[index]
    )
    if sex == "female" or (sex not in ("female", "male") and rng.random() < 0.5):
        given = rng.choice(culture.female)
    else:
        given = rng.choice(culture.male)
    if rng.random() < 0.03:
        # A double-barrelled family name from a second tradition, as after a marriage.
        other = pools.culture(rng)
        family = f"{family}-{rng.choice(other.family)}"
    age = _age(rng)
    date_of_birth = today - dt.timedelta(days=int((age + rng.random()) * 365.2425))
    return DemoPerson(
        family_name=family,
        given_name=given,
        date_of_birth=date_of_birth,
        sex=sex,
        occupation=_occupation(rng, age, pools),
        phone=_phone(rng, pools),
        email=_email(rng, pools, family, given, date_of_birth, age),
        address=_address(rng, pools),
    )


def _age(rng: random.Random) -> int:
    """18-90, most between 30 and 65 (where low back pain peaks in clinic lists)."""
    draw = rng.random()
    if draw < 0.72:
        return rng.randint(30, 65)
    if draw < 0.86:
        return rng.randint(18, 29)
    return int(rng.triangular(66, 91, 66))


def _occupation(rng: random.Random, age: int, pools: _Pools) -> str:
    if age >= 67 or (age >= 60 and rng.random() < (age - 59) / 8):
        return "retired"
    if age <= 23 and rng.random() < 0.4:
        return "student"
    return rng.choices(pools.occupation_names, cum_weights=pools.occupation_weights)[0]


def _phone(rng: random.Random, pools: _Pools) -> str:
    if rng.random() < 0.8:
        return f"{pools.names.mobile_stem}{rng.randrange(1000):03d}"
    return f"{rng.choice(pools.names.landline_stems)}{rng.randrange(1000):03d}"


def _email(
    rng: random.Random, pools: _Pools, family: str, given: str, born: dt.date, age: int
) -> str:
    if rng.random() < (0.45 if age >= 70 else 0.1):
        return ""
    first = ascii_name(given.split()[0], pools) or "patient"
    last = ascii_name(family, pools) or "mail"
    style = rng.randrange(4)
    if style == 0:
        local = f"{first}.{last}"
    elif style == 1:
        local = f"{first[0]}{last}{born.year % 100:02d}"
    elif style == 2:
        local = f"{first}_{last}{rng.randrange(10, 100)}"
    else:
        local = f"{last}.{first}"
    return f"{local}@{rng.choice(pools.names.email_domains)}"


def _address(rng: random.Random, pools: _Pools) -> str:
    number = rng.randint(1, 180)
    street = rng.choice(pools.names.streets)
    town, district = rng.choice(pools.names.towns)
    letters = "".join(rng.choices(pools.names.postcode_letters, k=2))
    postcode = f"{district} {rng.randint(1, 9)}{letters}"
    flat = f"Flat {rng.randint(1, 24)}, " if rng.random() < 0.2 else ""
    return f"{flat}{number} {street}, {town} {postcode}"


@dataclass(frozen=True)
class DemoPatients:
    """The patient step's result; later steps (intakes, plans, sessions) start from here."""

    patient_ids: tuple[int, ...]
    first_mrn: str | None
    last_mrn: str | None


@dataclass(frozen=True)
class _CaseloadStep:
    intakes: int
    plans: int
    sessions: int = 0
    discharged: int = 0


# How many registered patients are in active care, and how long ago their plans started
# (None: intake recorded, plan not built yet).
CASELOAD = 60
PLAN_AGES: tuple[int | None, ...] = (0, 1, 3, 4, 6, 7, None, 2, 5, 8)
# Visit times of the demo's plans: half-hourly from 08:00, within default opening hours.
VISIT_SLOTS = tuple(f"{8 + half // 2:02d}:{30 * (half % 2):02d}" for half in range(19))

_FACTOR_SETS = (
    ("posture", "muscle_imbalance", "sedentary"),
    ("disc", "radiculopathy"),
    ("muscle_imbalance", "stress"),
    ("posture", "sedentary", "stress"),
    ("disc", "muscle_imbalance"),
)
_AGGRAVATING = ("sitting", "standing", "bending", "lifting", "walking", "posture", "sleep")


def _demo_intake(rng: random.Random, protocol: Protocol, *, assessed_on: dt.date) -> Intake:
    factors = rng.choice(_FACTOR_SETS)
    radiating = "radiculopathy" in factors or rng.random() < 0.3
    worst = rng.randint(6, 9)
    current = rng.randint(4, worst)
    odi: list[int | None] = [rng.randint(1, 4) for _ in range(10)]
    if rng.random() < 0.4:
        odi[7] = None  # sex life: commonly left unanswered
    return Intake(
        assessed_on=assessed_on,
        onset_weeks=rng.choice((14, 20, 30, 52, 104)),
        recurrent=rng.random() < 0.6,
        radiating_present=radiating,
        radiating_side=rng.choice(("left", "right")) if radiating else None,
        radiating_below_knee=(rng.random() < 0.4) if radiating else None,
        radiating_to=rng.choice(("buttock", "hip", "thigh")) if radiating else None,
        aggravated_by=tuple(sorted(rng.sample(_AGGRAVATING, 2))),
        contributing_factors=factors,
        red_flags={code: FlagAnswer.ABSENT for code in protocol.red_flag_items()},
        nprs_current=current,
        nprs_worst=worst,
        nprs_best=rng.randint(1, current),
        odi_answers=tuple(odi),
        startback_answers=tuple([rng.randint(0, 1) for _ in range(8)] + [rng.randint(0, 4)]),
        goals=tuple(
            rng.sample(
                (
                    "sit through a working day",
                    "walk the dog for 30 minutes",
                    "lift my grandchild",
                    "sleep through the night",
                    "avoid long-term painkillers",
                ),
                2,
            )
        ),
    )


# Each caseload patient's response to treatment, in turn by position (a cycle of 7 against
# the 10 plan ages, so every kind meets every phase). Position 4 (plan started 6 weeks ago)
# is always a non-responder with enough sessions for progress to suggest re-evaluation.
TRAJECTORIES = (
    "responder",
    "responder",
    "partial",
    "responder",
    "non-responder",
    "responder",
    "partial",
)
# Caseload positions whose plan (8 weeks old) ends in discharge, with the reason and note.
DISCHARGES: dict[int, tuple[str, str]] = {
    9: (
        "plateau",
        "Pain has plateaued after a partial response; home programme and GP review advised.",
    ),
    19: ("goals_met", "Working full days without pain; continues the home exercise programme."),
}
DISCHARGED_DAYS_AGO = 3
AMEND_EVERY = 6  # every sixth patient with sessions has one amended session
MISSED_SHARE = 0.08
OVERDUE_DAYS = 2
OVERDUE_SHARE = 0.3
REASSESS_AFTER_WEEKS = 5  # end of phase 2
_PSFS_ACTIVITIES = (
    "sitting at my desk for an hour",
    "putting on socks",
    "lifting a shopping bag",
    "walking for 30 minutes",
    "getting out of the car",
    "gardening",
    "sleeping through the night",
)
_AMENDMENT_REASONS = (
    "Pain score entered on the wrong row; corrected from the paper form.",
    "Patient corrected the pain score before leaving.",
    "Needle count recounted at removal.",
)
_SUBJECTIVE = {
    "falling": "Reports less pain than last week; sitting tolerance better.",
    "flat": "Pain much the same as last visit.",
    "rising": "Pain a little worse after a long drive.",
}
_ACUPUNCTURISTS = ("acupuncturist",)
_THERAPISTS = ("physical_therapist",)


@dataclass(frozen=True)
class _Course:
    trajectory: str
    discharge: tuple[str, str] | None
    amend: bool


@dataclass(frozen=True)
class _Staff:
    """Who logs the demo sessions: an acupuncturist for needling, a PT otherwise."""

    acupuncturists: tuple[int | None, ...]
    therapists: tuple[int | None, ...]

    @classmethod
    def of(cls, session: Session, actor: Actor | None) -> _Staff:
        rows = session.execute(
            select(ClinicianRow.id, ClinicianRow.role)
            .where(ClinicianRow.active.is_(True))
            .order_by(ClinicianRow.id)
        ).all()
        fallback = (actor.clinician_id if actor else None,)
        acupuncturists = tuple(i for i, role in rows if role in _ACUPUNCTURISTS) or fallback
        therapists = tuple(i for i, role in rows if role in _THERAPISTS) or fallback
        return cls(acupuncturists, therapists)


class _PainCurve:
    """Pain before each session: from the baseline towards the course's end level over
    about ten sessions, with a point of noise either way, clamped to the course's kind
    (a non-responder never improves by 30 %, a responder ends 2 points and 30 % better)."""

    def __init__(self, rng: random.Random, trajectory: str, baseline: int) -> None:
        self._rng = rng
        self._baseline = baseline
        self._count = 0
        self.scores: list[int] = []
        if trajectory == "responder":
            end = min(round(baseline * (1 - rng.uniform(0.45, 0.75))), baseline - 2)
            self._floor, self._ceiling = 0, baseline
        elif trajectory == "partial":
            end = round(baseline * (1 - rng.uniform(0.12, 0.22)))
            self._floor, self._ceiling = baseline - int(baseline * 0.25), baseline
        else:
            end = baseline + rng.choice((0, 0, 1))
            self._floor, self._ceiling = baseline - int(baseline * 0.2), min(10, baseline + 1)
        self._end = max(0, end)

    def next(self) -> int:
        self._count += 1
        share = min(1.0, self._count / 10)
        expected = self._baseline + (self._end - self._baseline) * share
        noisy = round(expected + self._rng.choice((-1, 0, 0, 0, 1)))
        if self._count >= 10:
            noisy = round(expected)  # settled: the end level itself
        score = max(self._floor, min(self._ceiling, noisy, 10), 0)
        self.scores.append(score)
        return score

    def level(
        self, day: dt.date, rows: Sequence[tuple[ScheduledVisitRow, TreatmentSessionRow]]
    ) -> int:
        """The pain before the last session on or before ``day`` (the baseline if none)."""
        scores = [row.pain_before for visit, row in rows if visit.visit_date <= day]
        known = [s for s in scores if s is not None]
        return known[-1] if known else self._baseline


def _demo_psfs(rng: random.Random) -> tuple[PsfsItem, ...]:
    activities = rng.sample(_PSFS_ACTIVITIES, 3)
    return tuple(PsfsItem(activity, rng.randint(2, 5)) for activity in activities)


def _follow_up(intake: AssessmentInput, kind: str, day: dt.date, pain: int) -> AssessmentInput:
    """A reassessment or discharge assessment: the intake's answers, with pain, ODI, STarT
    Back and PSFS moved as far as the pain has."""
    base = intake.intake
    baseline = base.nprs_current or 5
    share = 0.0 if baseline == 0 else max(-0.2, (baseline - pain) / baseline)
    odi = tuple(
        None if answer is None else max(0, min(5, round(answer * (1 - share))))
        for answer in (base.odi_answers or ())
    )
    startback = base.startback_answers
    if startback is not None and share >= 0.3:
        startback = (*(0 if n >= 4 else a for n, a in enumerate(startback[:8])), 1)
    worst = base.nprs_worst if base.nprs_worst is not None else 10
    follow = replace(
        base,
        assessed_on=day,
        nprs_current=pain,
        nprs_worst=max(pain, min(worst, pain + 2)),
        nprs_best=max(0, pain - 2),
        odi_answers=odi or None,
        startback_answers=startback,
    )
    psfs = tuple(
        PsfsItem(item.activity, max(0, min(10, item.score + round(6 * share))))
        for item in intake.psfs
    )
    return AssessmentInput(kind, follow, psfs=psfs)


def _session_row(
    rng: random.Random,
    staff: _Staff,
    plan: PlanRow,
    visit: ScheduledVisitRow,
    phase: PlanPhaseRow,
    before: int,
    clock: ClinicClock,
) -> TreatmentSessionRow:
    needling = "acupuncture" in visit.modalities
    hour = rng.choice((9, 10, 11, 14, 15, 16))
    moment = clock.at(visit.visit_date, dt.time(hour, rng.choice((0, 20, 40))))
    drop = rng.choice((1, 1, 2, 2, 3)) if needling else rng.choice((0, 1, 1))
    after = None if rng.random() < 0.05 else max(0, before - drop)
    points = list(phase.acupoints)
    chosen = sorted(rng.sample(points, min(len(points), rng.randint(4, 6)))) if needling else []
    events: list[str] = ["bruising"] if needling and rng.random() < 0.05 else []
    clinician_id = rng.choice(staff.acupuncturists if needling else staff.therapists)
    interventions = phase.pt_interventions if "pt" in visit.modalities else []
    details = SessionDetails(
        performed_at=moment.astimezone(dt.UTC),
        modalities=tuple(visit.modalities),
        pain_before=before,
        pain_after=after,
        acupoints=tuple(chosen),
        needle_count=min(2 * len(chosen), 60) if needling else None,
        retention_minutes=20 if needling else None,
        technique="even method" if needling else "",
        interventions=tuple((item["code"], item["dosage"]) for item in interventions),
        tolerance=rng.choice(("good", "good", "good", "fair")),
        adverse_events=tuple(events),
        adverse_event_note="Small bruise at BL23, resolved." if events else "",
        subjective=rng.choice(tuple(_SUBJECTIVE.values())),
    )
    return session_row(
        details,
        patient_id=plan.patient_id,
        plan_id=plan.id,
        phase_number=visit.phase_number,
        clinician_id=clinician_id,
    )


def _amendment(original: TreatmentSessionRow, rng: random.Random) -> TreatmentSessionRow:
    """A corrected copy of ``original`` pointing back at it, with the reason."""
    reason = rng.choice(_AMENDMENT_REASONS)
    before = original.pain_before
    if before is not None and "Pain" in reason:
        before = max(0, min(10, before + rng.choice((-1, 1))))
    needles = original.needle_count
    if needles is not None and "Needle" in reason:
        needles = max(0, needles - 2)
    return session_row(
        replace(session_details(original), pain_before=before, needle_count=needles),
        patient_id=original.patient_id,
        plan_id=original.plan_id,
        phase_number=original.phase_number,
        clinician_id=original.clinician_id,
        amends_id=original.id,
        amendment_reason=reason,
        notes=original.notes,
    )


@dataclass(frozen=True)
class _ClinicStep:
    set_up: bool
    accounts: tuple[Clinician | Account, ...]
    admin: Actor | None = field(default=None)


def _may_administer(service: DemoService, actor: Actor) -> bool:
    return service._clinic.may_administer(actor)


class DemoService:
    """Fills a database with a demo clinic, in steps.

    Steps run in order: the clinic and its staff (through ClinicService, so accounts are
    hashed and audited as usual), then the patient registry in batches of BATCH_SIZE, each
    one transaction with its own "demo_fill" audit entry, so that other workstations read
    and write between batches. The caseload (intakes, plans, sessions) goes in with the
    first batch and its counts into that batch's entry.
    """

    def __init__(
        self,
        context: ServiceContext,
        clinic: ClinicService | None = None,
        *,
        assessments: AssessmentService | None = None,
        plans: PlanService | None = None,
        accounts: AccountService | None = None,
    ) -> None:
        self._context = context
        self._clinic = clinic or ClinicService(context)
        self._accounts = accounts or AccountService(context)
        self._assessments = assessments
        self._plans = plans

    # It can set the clinic up, add accounts and write every kind of record: whoever runs
    # the clinic (an admin, or its clinicians while it has none) and the command line.
    @use_case(Permission.CHANGE_SETTINGS, changes=set(Change), also_allowed=_may_administer)
    def fill(self, actor: Actor, *, patients: int, seed: int = 7) -> DemoSummary:
        """Set the clinic up if it is not, then add `patients` patients after the last MRN.

        Demo accounts, which share a published password, are created only when this call
        sets the clinic up itself; an existing clinic gets patients only. The patients are
        written as `actor` when it is a clinician, else (the command line) as the clinic's
        first administrator.
        """
        if not 0 <= patients <= MAX_PATIENTS:
            raise ValidationFailed(
                [FieldError("patients", f"Patients must be between 0 and {MAX_PATIENTS:,}.")]
            )
        started = time.perf_counter()
        self._refuse_a_real_clinic()
        clinic = self._ensure_clinic()
        writer = (
            actor
            if actor.clinician_id is not None
            else clinic.admin or self._first_admin() or actor
        )
        with self._context.reading() as session:
            _stem, seed_number = _next_mrn_number(session)
        today = self._context.clock.today()
        # The start number is part of the seed so that a second fill adds new people.
        people = demo_people(f"{seed}:{seed_number}", today)
        patient_ids: list[int] = []
        first_mrn: str | None = None
        last_mrn: str | None = None
        caseload = _CaseloadStep(0, 0)
        # One transaction, and one audit entry, per batch: a fill of 100,000 patients must
        # not hold the write lock for a minute, so other workstations write in between.
        for batch_start in range(0, max(patients, 1), BATCH_SIZE):
            with self._context.writing() as session:
                registered = self._add_patients(
                    session, writer, count=min(BATCH_SIZE, patients - batch_start), people=people
                )
                step = _CaseloadStep(0, 0)
                if batch_start == 0:
                    step = caseload = self._add_caseload(session, writer, registered, seed=seed)
                self._context.audit(
                    session,
                    writer,
                    AuditEntry(
                        "demo_fill",
                        "clinic",
                        1,
                        details={
                            "seed": seed,
                            "clinicians": len(clinic.accounts) if batch_start == 0 else 0,
                            "patients": len(registered.patient_ids),
                            "first_mrn": registered.first_mrn,
                            "last_mrn": registered.last_mrn,
                            "intakes": step.intakes,
                            "plans": step.plans,
                            "sessions": step.sessions,
                            "discharged": step.discharged,
                        },
                    ),
                )
            patient_ids += registered.patient_ids
            first_mrn = first_mrn or registered.first_mrn
            last_mrn = registered.last_mrn or last_mrn
        self._refresh_statistics()
        return DemoSummary(
            clinic_name=self._clinic.settings().clinic_name,
            clinic_set_up=clinic.set_up,
            clinicians=tuple(
                DemoAccount(account.username, account.full_name, account.role)
                for account in clinic.accounts
            ),
            password=DEMO_PASSWORD if clinic.accounts else None,
            patients_created=len(patient_ids),
            first_mrn=first_mrn,
            last_mrn=last_mrn,
            elapsed_seconds=time.perf_counter() - started,
            intakes_created=caseload.intakes,
            plans_created=caseload.plans,
            sessions_created=caseload.sessions,
            plans_discharged=caseload.discharged,
        )

    def _add_caseload(
        self, session: Session, actor: Actor | None, registered: DemoPatients, *, seed: int
    ) -> _CaseloadStep:
        """Intakes for the first patients, and plans whose start dates put today in every
        phase (and one plan about to start), so every screen has something real to show."""
        if self._assessments is None or self._plans is None:
            return _CaseloadStep(0, 0)
        rng = random.Random(f"caseload-{seed}")
        protocol = self._plans.protocol
        today = self._context.clock.today()
        clinic_days = frozenset(
            session.scalar(select(ClinicSettingsRow.clinic_days)) or [0, 1, 2, 3, 4]
        )
        chosen = registered.patient_ids[:CASELOAD]
        staff = _Staff.of(session, actor)
        plans = sessions = discharged = 0
        for position, patient_id in enumerate(chosen):
            # Weeks since the plan started: phase 1, 2 and 3 in turn, or no plan yet.
            weeks_ago = PLAN_AGES[position % len(PLAN_AGES)]
            # Start days spread over the week, so the day view is not all one weekday.
            started = today - dt.timedelta(weeks=weeks_ago or 0, days=position % 5)
            intake = _demo_intake(rng, protocol, assessed_on=started - dt.timedelta(days=1))
            data = AssessmentInput("intake", intake, psfs=_demo_psfs(rng))
            intake_row = self._assessments._insert(session, actor, patient_id, data)
            if weeks_ago is None:
                continue
            proposal = recommend(
                self._assessments._assessment_of(session, intake_row).intake,
                protocol,
                self._plans.catalogue,
            )
            if proposal.blocked:
                continue
            # Each plan at its own time of day, its needling visits with one of the clinic's
            # acupuncturists and its exercise-only visits with one of its therapists, so the
            # day view reads like a clinic's day and "My visits" is not empty.
            choices = replace(
                choices_from_proposal(proposal, start=started, clinic_days=clinic_days),
                visit_time=VISIT_SLOTS[position % len(VISIT_SLOTS)],
            )
            plan = self._plans._insert_plan(session, actor, patient_id, intake_row.id, choices)
            needling = staff.acupuncturists[position % len(staff.acupuncturists)]
            exercise = staff.therapists[position % len(staff.therapists)]
            for visit in session.scalars(
                select(ScheduledVisitRow).where(ScheduledVisitRow.plan_id == plan.id)
            ):
                visit.clinician_id = needling if "acupuncture" in visit.modalities else exercise
            plans += 1
            course = _Course(
                trajectory=TRAJECTORIES[position % len(TRAJECTORIES)],
                discharge=DISCHARGES.get(position),
                amend=position % AMEND_EVERY == AMEND_EVERY - 1,
            )
            sessions += self._add_course(
                session, actor, rng, staff, plan, data, course, today=today
            )
            discharged += course.discharge is not None
        return _CaseloadStep(len(chosen), plans, sessions, discharged)

    def _add_course(
        self,
        session: Session,
        actor: Actor | None,
        rng: random.Random,
        staff: _Staff,
        plan: PlanRow,
        intake: AssessmentInput,
        course: _Course,
        *,
        today: dt.date,
    ) -> int:
        """Sessions for the plan's past visits along the course's pain trajectory, some
        visits missed, one amendment where asked; a reassessment at the end of phase 2,
        and the discharge (final assessment, later visits cancelled) where asked."""
        assert self._assessments is not None and self._plans is not None
        ended_on = today - dt.timedelta(days=DISCHARGED_DAYS_AGO) if course.discharge else None
        cutoff = ended_on or today - dt.timedelta(days=1)
        visits = session.scalars(
            select(ScheduledVisitRow)
            .where(ScheduledVisitRow.plan_id == plan.id, ScheduledVisitRow.visit_date <= cutoff)
            .order_by(ScheduledVisitRow.visit_date, ScheduledVisitRow.id)
        ).all()
        phases = {row.number: row for row in queries.phase_rows(session, plan.id)}
        baseline = intake.intake.nprs_current or 5
        pain = _PainCurve(rng, course.trajectory, baseline)
        rows: list[tuple[ScheduledVisitRow, TreatmentSessionRow]] = []
        for visit in visits:
            recent = (today - visit.visit_date).days <= OVERDUE_DAYS
            if ended_on is None and recent and rng.random() < OVERDUE_SHARE:
                continue  # not logged yet: the day view shows it overdue
            if rng.random() < MISSED_SHARE:
                visit.status = "missed"
                self._context.stamp_change(visit, actor)
                continue
            before = pain.next()
            row = _session_row(
                rng, staff, plan, visit, phases[visit.phase_number], before, self._context.clock
            )
            self._context.stamp_new(row, actor)
            rows.append((visit, row))
        session.add_all(row for _visit, row in rows)
        session.flush()
        if course.amend and len(rows) >= 3:
            index = rng.randrange(1, len(rows))
            visit, original = rows[index]
            original.superseded = True
            self._context.stamp_change(original, actor)
            amended = _amendment(original, rng)
            self._context.stamp_new(amended, actor)
            session.add(amended)
            session.flush()
            rows[index] = (visit, amended)
        for visit, row in rows:
            visit.status = "done"
            visit.session_id = row.id
            self._context.stamp_change(visit, actor)
        reassessed_on = plan.start_date + dt.timedelta(weeks=REASSESS_AFTER_WEEKS, days=-1)
        if reassessed_on <= cutoff and rows:
            self._assessments._insert(
                session,
                actor,
                plan.patient_id,
                _follow_up(intake, "reassessment", reassessed_on, pain.level(reassessed_on, rows)),
            )
        if course.discharge is not None and ended_on is not None:
            reason, note = course.discharge
            self._plans._close_plan(
                session,
                actor,
                plan,
                ended_on=ended_on,
                reason=reason,
                note=note,
                final_assessment=_follow_up(
                    intake, "discharge", ended_on, pain.level(ended_on, rows)
                ),
            )
        session.flush()
        created = len(rows) + (1 if course.amend and len(rows) >= 3 else 0)
        return created

    def _refresh_statistics(self) -> None:
        """Let PostgreSQL plan with the new row counts now rather than at autovacuum's leisure.

        Straight after a bulk load its planner still believes the tables are nearly empty and
        sorts every match of a one-letter search (about 40 ms at 100,000 patients instead of
        under 1 ms). SQLite is left alone: nothing analyses a clinic's file as it grows, so
        the demo should not be planned better than a real registry would be.
        """
        with self._context.writing() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("ANALYZE patient, patient_search_term"))

    def _refuse_a_real_clinic(self) -> None:
        """The demo fills a new database or a demo one, never a clinic's real records.

        Its accounts share a published password: set up beside real patients, they would be
        an administrator anyone can sign in as. A demo database is one the demo filled (its
        "demo_fill" audit entry) or set up (its clinic name, before any patient).
        """
        with self._context.reading() as session:
            settings = session.get(ClinicSettingsRow, 1)
            patients = session.scalar(select(func.count()).select_from(PatientRow)) or 0
            accounts = session.scalar(select(func.count()).select_from(ClinicianRow)) or 0
            filled_before = session.scalar(
                select(AuditEventRow.id).where(AuditEventRow.action == "demo_fill").limit(1)
            )
        if filled_before is not None:
            return
        if settings is None and patients == 0 and accounts == 0:
            return
        if settings is not None and settings.clinic_name == DEMO_CLINIC_NAME and patients == 0:
            return
        if patients:
            held = f"{patients:,} patient{'s' if patients != 1 else ''}"
        elif settings is not None:
            held = f"the accounts of {settings.clinic_name}"
        else:
            held = f"{accounts} clinician account{'s' if accounts != 1 else ''}"
        raise ServiceError(
            f"This database holds a clinic's own records ({held}); the demo fills only a new "
            "database or a demo one, so nothing was changed."
        )

    def _ensure_clinic(self) -> _ClinicStep:
        if self._clinic.is_set_up():
            return _ClinicStep(set_up=False, accounts=())
        admin_account, *others = DEMO_CLINICIANS
        admin = self._clinic.set_up(clinic_name=DEMO_CLINIC_NAME, first_clinician=admin_account)
        actor = admin.as_actor()
        settings = self._clinic.settings()
        self._clinic.update_settings(
            actor,
            clinic_name=settings.clinic_name,
            address=DEMO_CLINIC_ADDRESS,
            phone=DEMO_CLINIC_PHONE,
            email=DEMO_CLINIC_EMAIL,
            idle_lock_minutes=settings.idle_lock_minutes,
            clinic_days=settings.clinic_days,
            expected_version=settings.version,
        )
        accounts: list[Clinician | Account] = [admin]
        accounts += [self._accounts.create(actor, new) for new in others]
        return _ClinicStep(set_up=True, accounts=tuple(accounts), admin=actor)

    def _first_admin(self) -> Actor | None:
        with self._context.reading() as session:
            row = session.scalars(
                select(ClinicianRow)
                .where(ClinicianRow.active.is_(True))
                .order_by((ClinicianRow.role != "admin"), ClinicianRow.id)
                .limit(1)
            ).first()
            return Actor(row.id, row.full_name, row.role) if row else None

    def _add_patients(
        self,
        session: Session,
        actor: Actor | None,
        *,
        count: int,
        people: Iterator[DemoPerson],
    ) -> DemoPatients:
        """One batch of patients after the last MRN on record (read afresh: a colleague may
        have registered someone since the batch before)."""
        stem, first_number = _next_mrn_number(session)
        now = self._context.clock.now()
        stamps: dict[str, Any] = {
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "created_by": actor.clinician_id if actor else None,
            "updated_by": actor.clinician_id if actor else None,
            "archived": False,
        }
        numbers = range(first_number, first_number + count)
        batch = [_patient_values(f"{stem}{n:06d}", next(people), stamps) for n in numbers]
        patient_ids = _insert_batch(session, batch) if batch else []
        return DemoPatients(
            patient_ids=tuple(patient_ids),
            first_mrn=f"{stem}{first_number:06d}" if count else None,
            last_mrn=f"{stem}{first_number + count - 1:06d}" if count else None,
        )


def _next_mrn_number(session: Session) -> tuple[str, int]:
    """The MRN stem and the number after the highest one in use.

    Mirrors PatientService's rule for generated MRNs, so demo and hand-registered
    patients share one sequence.
    """
    prefix = session.scalar(select(ClinicSettingsRow.mrn_prefix)) or "BC"
    stem = f"{prefix}-"
    latest = session.scalar(
        select(func.max(PatientRow.mrn)).where(
            PatientRow.mrn >= stem, PatientRow.mrn < stem + "\U0010ffff"
        )
    )
    digits = latest[len(stem) :] if latest else ""
    return stem, int(digits) + 1 if digits.isdigit() else 1


def _patient_values(mrn: str, person: DemoPerson, stamps: dict[str, Any]) -> dict[str, Any]:
    return {
        "mrn": mrn,
        "family_name": person.family_name,
        "given_name": person.given_name,
        "family_key": fold(person.family_name),
        "given_key": fold(person.given_name),
        "date_of_birth": person.date_of_birth,
        "sex": person.sex,
        "occupation": person.occupation,
        "phone": person.phone,
        "email": person.email,
        "address": person.address,
        **stamps,
    }


def _insert_batch(session: Session, batch: Sequence[dict[str, Any]]) -> list[int]:
    """Insert patients and their search terms; returns the ids in the batch's order.

    Ids are read back by MRN rather than with RETURNING, whose row order for a
    multi-row insert SQLite does not promise.
    """
    session.execute(insert(_PATIENT_TABLE), batch)
    mrns = [values["mrn"] for values in batch]
    by_mrn = dict(
        session.execute(select(PatientRow.mrn, PatientRow.id).where(PatientRow.mrn.in_(mrns)))
        .tuples()
        .all()
    )
    terms = [
        {"patient_id": by_mrn[values["mrn"]], "term": term, "kind": kind, "archived": False}
        for values in batch
        for term, kind in search_terms(values["family_name"], values["given_name"], values["mrn"])
    ]
    session.execute(insert(_TERM_TABLE), terms)
    return [by_mrn[mrn] for mrn in mrns]
