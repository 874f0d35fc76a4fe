"""What the patient list says of each patient: plan and phase, next visit, discharged, archived."""

from __future__ import annotations

import datetime as dt

from backclinic.db.database import OpenDatabase
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.patients import PatientInput
from tests.services.test_plans import START, article_intake, grace

# Wednesday of the plan's third week: phase 2 ("Stabilise") of the article's plan.
TODAY = START + dt.timedelta(days=16)
NOON = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 12, 0, tzinfo=dt.UTC)


def test_each_patient_on_a_page_comes_with_their_plan_phase_next_visit_or_end(
    database: OpenDatabase, services: Services, actor: Actor
) -> None:
    clinic = build_services(database.session_factory, clock=lambda: NOON)
    treated = grace(clinic, actor)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    finished = clinic.patients.register(actor, PatientInput("Rivera", "Ana", dt.date(1980, 3, 14)))
    clinic.assessments.record(actor, finished.id, AssessmentInput("intake", article_intake(clinic)))
    ended = clinic.plans.create_recommended(actor, finished.mrn, start=START)
    clinic.plans.discharge(
        actor,
        ended.id,
        reason="goals_met",
        note="",
        final_assessment=None,
        expected_version=ended.version,
    )
    new = clinic.patients.register(actor, PatientInput("Lee", "Lee", dt.date(1968, 11, 5)))
    gone = clinic.patients.register(actor, PatientInput("Nakamura", "Ken", dt.date(1975, 7, 2)))
    clinic.patients.archive(actor, gone.id, expected_version=gone.version)

    statuses = clinic.patients.statuses(actor, [treated, finished.id, new.id, gone.id])

    upcoming = min(v.visit_date for v in plan.visits if v.visit_date >= TODAY)
    assert statuses[treated].plan == "active"
    assert (statuses[treated].phase_number, statuses[treated].phase_name) == (2, "Stabilise")
    assert statuses[treated].next_visit == upcoming
    assert statuses[finished.id].plan == "discharged"
    assert statuses[finished.id].ended_on == TODAY
    assert statuses[finished.id].next_visit is None
    assert statuses[new.id].plan is None and statuses[new.id].phase_number is None
    assert statuses[gone.id].archived


def test_the_count_of_a_search_is_every_patient_its_pages_hold(
    services: Services, actor: Actor
) -> None:
    for family, given, born in [
        ("Rivera", "Ana", dt.date(1980, 3, 14)),
        ("Rivas", "Tomás", dt.date(1980, 3, 14)),
        ("Lee", "Rivka", dt.date(1968, 11, 5)),
        ("Okafor", "Ada", dt.date(1990, 1, 30)),
    ]:
        services.patients.register(actor, PatientInput(family, given, born))
    assert services.patients.count(actor, text="riv") == 3
    assert services.patients.count(actor, text="riv ana") == 1
    assert services.patients.count(actor, text="14.03.1980") == 2
    assert services.patients.count(actor, text="") == 4
    found = services.patients.search(actor, "riv", limit=100).rows
    assert len(found) == services.patients.count(actor, text="riv")
