"""EpisodeService: the course of a patient's plan, read with VIEW_CLINICAL."""

from __future__ import annotations

import pytest

from backclinic.domain.outcomes import Verdict
from backclinic.services.bundle import Services
from backclinic.services.clinic import NewClinician
from backclinic.services.context import Actor
from backclinic.services.errors import PermissionDenied
from backclinic.services.sessions import SessionInput
from tests.services.test_plans import START, grace
from tests.services.test_sessions import at, visit_input

PASSWORD = "correct horse battery"


def test_front_desk_may_not_read_the_course(services: Services, actor: Actor) -> None:
    patient_id = grace(services, actor)
    desk = services.accounts.create(
        actor, NewClinician("Sam Desk", "sam", "front_desk", PASSWORD)
    ).as_actor()
    with pytest.raises(PermissionDenied):
        services.episodes.course(desk, patient_id)


def test_without_a_plan_the_course_judges_the_sessions_against_the_intake(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor, nprs_current=7)
    services.sessions.log(
        actor,
        patient_id,
        SessionInput(performed_at=at(START), modalities=("pt",), pain_before=4),
    )
    course = services.episodes.course(actor, patient_id)
    assert course.status == "no plan" and course.current_phase is None
    pain = course.outcome("nprs").change
    assert pain is not None and pain.verdict == Verdict.IMPROVED
    assert pain.text.startswith("Pain is 3 points better (7 → 4")


def test_a_plans_course_counts_its_sessions_and_phase(services: Services, actor: Actor) -> None:
    patient_id = grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    first = plan.visits[0]
    services.sessions.log(
        actor, patient_id, visit_input(first.visit_date, pain_before=6, visit_id=first.id)
    )
    course = services.episodes.course(actor, patient_id)
    assert course.sessions == 1
    assert course.current_phase == 1 and course.phases_reached == (1,)
    assert course.attendance.attended == 1
