from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from backclinic.db.models import AuditEventRow, ScheduledVisitRow, TreatmentSessionRow
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import StaleRecord, ValidationFailed
from backclinic.services.plans import PlanView
from backclinic.services.sessions import SessionInput, SessionService
from tests.records import stored_records
from tests.services.test_plans import START, grace


@pytest.fixture
def sessions(services: Services) -> SessionService:
    return SessionService(services.context, services.protocol, services.catalogue)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).astimezone()


def visit_input(day: dt.date, **changes: object) -> SessionInput:
    values: dict[str, object] = {
        "performed_at": at(day),
        "modalities": ("acupuncture", "pt"),
        "pain_before": 6,
        "pain_after": 4,
        "acupoints": ("BL23", "BL40"),
        "needle_count": 8,
        "retention_minutes": 20,
        "interventions": (("posture_correction", "10 minutes"),),
        "tolerance": "good",
    }
    values.update(changes)
    return SessionInput(**values)  # type: ignore[arg-type]


def planned(services: Services, actor: Actor, **changes: object) -> tuple[int, PlanView]:
    patient_id = grace(services, actor, **changes)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    return patient_id, plan


def audit_count(services: Services, entity: str) -> int:
    with stored_records(services) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditEventRow)
                .where(AuditEventRow.entity == entity)
            )
            or 0
        )


def test_logging_a_session_fulfils_the_visit_planned_that_day(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    first = plan.visits[0]
    record = sessions.log(actor, patient_id, visit_input(first.visit_date))
    assert (record.plan_id, record.phase_number) == (plan.id, 1)
    assert record.data.visit_id == first.id
    assert record.clinician_id == actor.clinician_id
    visit = next(v for v in services.plans.get(actor, plan.id).visits if v.id == first.id)
    assert visit.status == "done"
    assert audit_count(services, "treatment_session") == 1


def test_logging_against_a_chosen_visit_fulfils_that_visit(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    later = plan.visits[1]
    # Seen a day late: the session is dated after the visit it fulfils.
    record = sessions.log(
        actor,
        patient_id,
        visit_input(later.visit_date + dt.timedelta(days=1), visit_id=later.id),
    )
    assert record.data.visit_id == later.id
    statuses = {v.id: v.status for v in services.plans.get(actor, plan.id).visits}
    assert statuses[later.id] == "done"
    assert statuses[plan.visits[0].id] == "planned"


def test_a_session_in_phase_two_is_linked_to_phase_two(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    week3 = START + dt.timedelta(weeks=2)
    record = sessions.log(actor, patient_id, visit_input(week3))
    assert (record.plan_id, record.phase_number) == (plan.id, 2)


def test_an_amendment_keeps_the_original_and_records_who_and_why(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    original = sessions.log(actor, patient_id, visit_input(plan.visits[0].visit_date))
    amended = sessions.amend(
        actor,
        original.id,
        replace(original.data, pain_before=7),
        "Patient corrected her score before leaving",
        expected_version=original.version,
    )
    assert amended.amends_id == original.id
    assert amended.amendment_reason == "Patient corrected her score before leaving"
    assert amended.recorded_by == actor.clinician_id
    kept = sessions.get(actor, original.id)
    assert kept.superseded and kept.data.pain_before == 6
    assert [s.id for s in sessions.history(actor, patient_id)] == [amended.id]
    assert [s.id for s in sessions.history(actor, patient_id, include_superseded=True)] == [
        original.id,
        amended.id,
    ]
    # The visit follows the current version of its session.
    assert amended.data.visit_id == plan.visits[0].id
    with stored_records(services) as session:
        entry = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "amend")).one()
        assert entry.clinician_id == actor.clinician_id
        assert entry.details["reason"] == "Patient corrected her score before leaving"
        assert entry.details["before"] == {"pain_before": 6}
        assert entry.details["after"] == {"pain_before": 7}
        assert session.scalar(select(func.count()).select_from(TreatmentSessionRow)) == 2


def test_an_amendment_needs_a_reason_and_the_current_version(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    original = sessions.log(actor, patient_id, visit_input(plan.visits[0].visit_date))
    with pytest.raises(ValidationFailed) as refused:
        sessions.amend(actor, original.id, original.data, "  ", expected_version=original.version)
    assert "reason" in refused.value.by_field
    sessions.amend(actor, original.id, original.data, "typo", expected_version=original.version)
    with pytest.raises(StaleRecord):
        sessions.amend(actor, original.id, original.data, "again", original.version)


def test_a_pain_score_of_eleven_is_refused_by_field(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    with pytest.raises(ValidationFailed) as refused:
        sessions.log(actor, patient_id, visit_input(plan.visits[0].visit_date, pain_after=11))
    assert set(refused.value.by_field) == {"pain_after"}
    assert "0 to 10" in refused.value.by_field["pain_after"]
    assert sessions.history(actor, patient_id) == []


def test_a_session_in_the_future_is_refused(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, _ = planned(services, actor)
    tomorrow = services.context.clock.now() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        sessions.log(actor, patient_id, visit_input(START, performed_at=tomorrow))
    assert "future" in refused.value.by_field["performed_at"]


def test_a_pacemaker_refuses_electro_acupuncture_with_the_reason(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor, precautions=("pacemaker",))
    day = plan.visits[0].visit_date
    with pytest.raises(ValidationFailed) as refused:
        sessions.log(actor, patient_id, visit_input(day, electro=True))
    message = refused.value.by_field["electro"]
    assert "pacemaker" in message.lower() and "no electro-acupuncture" in message
    assert sessions.log(actor, patient_id, visit_input(day)).data.electro is False


def test_unknown_codes_and_an_unexplained_other_event_are_refused_by_field(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    data = visit_input(
        plan.visits[0].visit_date,
        modalities=(),
        acupoints=("BL23", "XX99"),
        interventions=(("levitation", "5 min"),),
        adverse_events=("other",),
    )
    with pytest.raises(ValidationFailed) as refused:
        sessions.log(actor, patient_id, data)
    assert set(refused.value.by_field) == {
        "modalities",
        "acupoints[1]",
        "interventions[0]",
        "adverse_event_note",
    }


def test_prefill_takes_the_phase_prescription_then_the_last_session(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    first = plan.visits[0]
    blank = sessions.prefill(actor, patient_id, at(first.visit_date))
    assert blank.acupoints == plan.phases[0].acupoints
    assert {code for code, _ in blank.interventions} == set(plan.phases[0].pt_focus)
    assert blank.visit_id == first.id and blank.pain_before is None
    sessions.log(actor, patient_id, visit_input(first.visit_date, acupoints=("BL25", "GB30")))
    second = plan.visits[1]
    assert sessions.prefill(actor, patient_id, at(second.visit_date)).acupoints == ("BL25", "GB30")


def test_progress_of_a_non_responder_suggests_re_evaluation(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    threshold = services.protocol.thresholds.non_response_sessions
    visits = list(plan.visits)
    sessions.mark_missed(actor, visits[0].id)
    for visit in visits[1 : threshold + 1]:
        sessions.log(actor, patient_id, visit_input(visit.visit_date, pain_before=6))
    today = visits[threshold].visit_date
    report = sessions.progress(actor, patient_id, today)
    assert report.nprs_baseline == 6 and report.nprs_baseline_source == "intake"
    assert report.sessions == threshold
    [suggestion] = [s for s in report.suggestions if s.kind == "re-evaluate"]
    assert f"After {threshold} sessions" in suggestion.why
    assert (report.adherence.attended, report.adherence.missed) == (threshold, 1)
    assert report.adherence.scheduled == threshold + 1


def test_only_a_planned_past_visit_can_be_marked_missed(
    services: Services, actor: Actor, sessions: SessionService
) -> None:
    patient_id, plan = planned(services, actor)
    record = sessions.log(actor, patient_id, visit_input(plan.visits[0].visit_date))
    assert record.data.visit_id is not None
    with pytest.raises(ValidationFailed):
        sessions.mark_missed(actor, record.data.visit_id)
    with stored_records(services) as session:
        status = session.get(ScheduledVisitRow, plan.visits[1].id)
        assert status is not None and status.status == "planned"


def test_a_session_given_by_a_front_desk_account_is_refused_by_the_clinician_field(
    services: Services, actor: Actor
) -> None:
    from backclinic.services.clinic import NewClinician
    from backclinic.services.sessions import SessionService

    desk = services.accounts.create(
        actor, NewClinician("Priya Nair", "priya", "front_desk", "front desk pass")
    )
    sessions = SessionService(services.context, services.protocol, services.catalogue)
    patient_id = grace(services, actor)
    with pytest.raises(ValidationFailed) as refused:
        sessions.log(
            actor,
            patient_id,
            SessionInput(
                performed_at=dt.datetime(2026, 1, 6, 10, tzinfo=dt.UTC),
                modalities=("pt",),
                pain_before=5,
                performed_by=desk.id,
            ),
        )
    assert "performed_by" in refused.value.by_field
    assert sessions.history(actor, patient_id) == []
