from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from backclinic.db.database import OpenDatabase
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.schedule_view import DayScheduleService, due_query
from tests.records import stored_records
from tests.services.test_plans import START, grace
from tests.services.test_sessions import visit_input


def test_the_day_lists_todays_and_overdue_visits_in_date_order_with_the_patient(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    today = plan.visits[3].visit_date
    services.sessions.log(actor, patient_id, visit_input(plan.visits[0].visit_date))
    due = DayScheduleService(services.context).due(actor, today)
    assert [d.visit_id for d in due] == [v.id for v in plan.visits[1:4]]
    assert [d.overdue for d in due] == [True, True, False]
    first = due[0]
    assert (first.patient_id, first.patient_name, first.mrn) == (
        patient_id,
        "Okafor, Grace",
        "CASE-0045",
    )
    assert first.modalities == plan.visits[1].modalities
    assert first.phase_number == plan.visits[1].phase_number


def test_a_missed_visit_is_shown_marked_and_not_overdue(services: Services, actor: Actor) -> None:
    grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    services.sessions.mark_missed(actor, plan.visits[0].id)
    today = plan.visits[1].visit_date
    due = DayScheduleService(services.context).due(actor, today)
    assert [(d.visit_id, d.status, d.overdue) for d in due] == [
        (plan.visits[0].id, "missed", False),
        (plan.visits[1].id, "planned", False),
    ]
    later = today + dt.timedelta(days=30)
    assert plan.visits[0].id not in {
        d.visit_id for d in DayScheduleService(services.context).due(actor, later)
    }


def test_archived_patients_and_other_days_are_left_out(services: Services, actor: Actor) -> None:
    patient_id = grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    schedule = DayScheduleService(services.context)
    assert schedule.due(actor, START - dt.timedelta(days=1)) == []
    patient = services.patients.get(actor, patient_id)
    services.patients.archive(actor, patient_id, patient.version)
    assert schedule.due(actor, plan.visits[2].visit_date) == []


def test_the_day_query_searches_visits_by_index_never_by_scan(services: Services) -> None:
    query = due_query(START, START - dt.timedelta(days=7))
    with stored_records(services) as session:
        dialect = session.get_bind().dialect
        if dialect.name != "sqlite":
            pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        plan = session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
    steps = [str(row[-1]) for row in plan]
    # SQLite may start from the date/status index or from each active plan's date index;
    # either way the visits are searched by index, never scanned.
    assert any(step.startswith("SEARCH scheduled_visit USING") for step in steps), steps
    assert not any(step.startswith("SCAN scheduled_visit") for step in steps), steps


def test_the_day_marks_holds_from_screens_and_sessions_and_lifts_them_after_the_outcome(
    database: OpenDatabase, services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    first, second, third = sorted(v.visit_date for v in plan.visits)[:3]
    services.sessions.log(actor, patient_id, visit_input(first, adverse_events=("new_numbness",)))
    assert {d.urgent_referral for d in services.schedule.due(actor, second)} == {True}
    # The outcome is recorded on the day of the third visit, by the clinic's clock.
    that_day = build_services(
        database.session_factory,
        clock=lambda: dt.datetime.combine(third, dt.time(8), tzinfo=dt.UTC),
    )
    that_day.safety.record_referral_outcome(
        actor, patient_id, "Seen by the spine team, no compression found"
    )
    assert {d.urgent_referral for d in that_day.schedule.due(actor, third)} == {False}


def test_the_day_works_out_the_full_status_only_of_patients_who_may_be_on_hold(
    services: Services, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three hundred active plans made the day view five times slower when every patient's
    whole safety status was worked out; only a patient with a present red flag or an
    adverse event at a session can be on hold, so only those are worked out."""
    import backclinic.services.safety as safety_service

    grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    worked_out: list[int] = []
    real = safety_service.safety_status

    def counting(*args: object, **kwargs: object) -> object:
        worked_out.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(safety_service, "safety_status", counting)
    due = services.schedule.due(actor, plan.visits[1].visit_date)
    assert due and not any(d.urgent_referral for d in due)
    assert worked_out == []


def test_the_day_marks_a_hold_from_a_cauda_equina_sign_at_a_reassessment(
    services: Services, actor: Actor
) -> None:
    from backclinic.domain.screening import FlagAnswer
    from backclinic.services.assessments import AssessmentInput
    from tests.services.test_plans import article_intake, no_red_flags

    patient_id = grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    day = plan.visits[2].visit_date
    services.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(
                services,
                assessed_on=day - dt.timedelta(days=1),
                red_flags=no_red_flags(services, bladder_dysfunction=FlagAnswer.PRESENT),
            ),
        ),
    )
    assert {d.urgent_referral for d in services.schedule.due(actor, day)} == {True}
    before = day - dt.timedelta(days=2)
    assert {d.urgent_referral for d in services.schedule.due(actor, before)} == {False}
