"""One clinic clock: "today" is the clinic's calendar day in its own time zone, whatever zone
the workstation runs in, for every date rule (intakes, missed visits, the day list)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backclinic.db.database import OpenDatabase
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import ClinicSettings
from backclinic.services.clock import ClinicClock
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from tests.services.test_plans import article_intake, grace
from tests.services.test_sessions import visit_input

CASES = Path(__file__).resolve().parents[1] / "cases"
SYDNEY = "Australia/Sydney"  # UTC+11 in December (daylight saving)
HONOLULU = "Pacific/Honolulu"  # UTC−10 all year
MONDAY = dt.date(2026, 12, 14)
TUESDAY = MONDAY + dt.timedelta(days=1)

# (clinic zone, the clinic's wall clock, the clinic's today): one minute either side of
# local midnight, where the clinic's day and the UTC day differ in one case or the other.
AROUND_MIDNIGHT = [
    pytest.param(SYDNEY, dt.datetime(2026, 12, 14, 23, 59), MONDAY, id="sydney-23:59"),
    pytest.param(SYDNEY, dt.datetime(2026, 12, 15, 0, 1), TUESDAY, id="sydney-00:01"),
    pytest.param(SYDNEY, dt.datetime(2026, 12, 15, 9, 30), TUESDAY, id="sydney-09:30"),
    pytest.param(HONOLULU, dt.datetime(2026, 12, 14, 23, 59), MONDAY, id="honolulu-23:59"),
    pytest.param(HONOLULU, dt.datetime(2026, 12, 15, 0, 1), TUESDAY, id="honolulu-00:01"),
]


def set_time_zone(services: Services, actor: Actor, zone: str) -> ClinicSettings:
    current = services.clinic.settings()
    return services.clinic.update_settings(
        actor,
        clinic_name=current.clinic_name,
        address=current.address,
        phone=current.phone,
        email=current.email,
        idle_lock_minutes=current.idle_lock_minutes,
        clinic_days=current.clinic_days,
        expected_version=current.version,
        time_zone=zone,
    )


def clinic_at(
    database: OpenDatabase, services: Services, actor: Actor, zone: str, wall: dt.datetime
) -> Services:
    """Services of a clinic in ``zone`` whose clock stands at ``wall`` on its own clock."""
    set_time_zone(services, actor, zone)
    instant = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
    return build_services(database.session_factory, clock=lambda: instant)


@dataclass(frozen=True)
class Midnight:
    clinic: Services
    wall: dt.datetime
    today: dt.date


@pytest.fixture(params=[pytest.param(p.values, id=p.id) for p in AROUND_MIDNIGHT])
def midnight(
    request: pytest.FixtureRequest, database: OpenDatabase, services: Services, actor: Actor
) -> Midnight:
    """The clinic at one of the instants around its local midnight."""
    zone, wall, today = request.param
    return Midnight(clinic_at(database, services, actor, zone, wall), wall, today)


def test_today_is_the_clinic_calendar_day_for_every_service(
    midnight: Midnight, actor: Actor
) -> None:
    clinic, today = midnight.clinic, midnight.today
    assert clinic.context.clock.today() == today
    assert clinic.patients.today() == today
    assert clinic.schedule.today() == today
    now = clinic.context.clock.now()
    assert now.tzinfo is not None
    assert now.replace(tzinfo=None) == midnight.wall


def test_an_intake_dated_the_clinic_today_is_accepted_and_tomorrow_refused(
    midnight: Midnight, actor: Actor
) -> None:
    clinic, today = midnight.clinic, midnight.today
    patient_id = grace(clinic, actor, assessed_on=today)
    tomorrow = AssessmentInput(
        "reassessment", article_intake(clinic, assessed_on=today + dt.timedelta(days=1))
    )
    with pytest.raises(ValidationFailed, match="future"):
        clinic.assessments.record(actor, patient_id, tomorrow)
    assert [a.intake.assessed_on for a in clinic.assessments.for_patient(actor, patient_id)] == [
        today
    ]


def test_the_day_list_and_marking_missed_use_the_clinic_date(
    midnight: Midnight, actor: Actor
) -> None:
    clinic, today = midnight.clinic, midnight.today
    grace(clinic, actor, assessed_on=today)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=today)
    first, second = plan.visits[0], plan.visits[1]
    assert first.visit_date == today < second.visit_date
    due = clinic.schedule.due(actor, clinic.schedule.today())
    assert [(d.visit_id, d.overdue) for d in due] == [(first.id, False)]
    with pytest.raises(ValidationFailed, match="future"):
        clinic.sessions.mark_missed(actor, second.id)
    clinic.sessions.mark_missed(actor, first.id)
    missed = clinic.plans.active_plan(actor, plan.patient_id)
    assert missed is not None
    assert [v.status for v in missed.visits[:2]] == ["missed", "planned"]


def test_a_session_just_after_local_midnight_belongs_to_that_clinic_day(
    database: OpenDatabase, services: Services, actor: Actor
) -> None:
    # 00:20 in Sydney is 13:20 UTC the day before: the visit held is the Tuesday one.
    clinic = clinic_at(database, services, actor, SYDNEY, dt.datetime(2026, 12, 15, 0, 30))
    patient_id = grace(clinic, actor, assessed_on=TUESDAY)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=TUESDAY)
    moment = dt.datetime(2026, 12, 15, 0, 20, tzinfo=ZoneInfo(SYDNEY))
    record = clinic.sessions.log(actor, patient_id, visit_input(TUESDAY, performed_at=moment))
    assert record.performed_on == TUESDAY
    assert record.data.visit_id == plan.visits[0].id
    assert record.data.performed_at.utcoffset() == dt.timedelta(hours=11)


def test_the_time_zone_setting_takes_an_iana_name_and_blank_means_the_workstation(
    services: Services, actor: Actor
) -> None:
    before = services.clinic.settings()
    with pytest.raises(ValidationFailed) as refused:
        set_time_zone(services, actor, "Sydney time")
    assert refused.value.by_field == {
        "time_zone": "Time zone must be an IANA time zone name such as Australia/Sydney or "
        "Pacific/Honolulu; 'Sydney time' is not one."
    }
    assert services.clinic.settings() == before
    assert set_time_zone(services, actor, HONOLULU).time_zone == HONOLULU
    assert services.context.clock.zone_name == HONOLULU
    assert set_time_zone(services, actor, "").time_zone is None
    assert services.context.clock.zone_name is None


def test_another_workstation_sees_the_changed_zone_when_it_reads_the_settings(
    database: OpenDatabase, services: Services, actor: Actor
) -> None:
    elsewhere = build_services(database.session_factory)
    set_time_zone(services, actor, SYDNEY)
    elsewhere.clinic.settings()
    assert elsewhere.context.clock.zone_name == SYDNEY


def test_a_zone_this_computer_does_not_know_falls_back_to_the_workstation_zone() -> None:
    instant = dt.datetime(2026, 12, 14, 12, tzinfo=dt.UTC)
    clock = ClinicClock(lambda: instant, "Nowhere/Atlantis")
    assert clock.zone_name is None
    assert clock.now() == instant
    assert clock.now().utcoffset() == instant.astimezone().utcoffset()


def test_a_case_file_exports_as_imported_when_the_clinic_zone_is_not_the_workstation_zone(
    database: OpenDatabase, services: Services, actor: Actor
) -> None:
    # A date-only session sits at noon on the clinic's clock, on the way in and on the way out.
    clinic = clinic_at(database, services, actor, SYDNEY, dt.datetime(2026, 12, 15, 9, 30))
    case = CASES / "acute-lifter.json"
    imported = clinic.cases.import_file(actor, case)
    written = [s["date"] for s in json.loads(case.read_text("utf-8"))["sessions"]]
    exported = [s["date"] for s in clinic.cases.export_document(actor, imported.mrn)["sessions"]]
    assert exported[0] == written[0] == "2026-02-03"
    assert dt.datetime.fromisoformat(exported[1]) == dt.datetime.fromisoformat(written[1])
    assert clinic.cases.import_file(actor, case, update=True).mrn == imported.mrn
