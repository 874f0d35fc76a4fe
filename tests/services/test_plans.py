from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from backclinic.db.database import OpenDatabase
from backclinic.db.models import AuditEventRow, ScheduledVisitRow
from backclinic.domain.intake import Intake
from backclinic.domain.plan import PlanChoices
from backclinic.domain.screening import FlagAnswer, ScreeningOutcome
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.errors import PermissionDenied, StaleRecord, ValidationFailed
from backclinic.services.patients import PatientInput
from backclinic.services.plans import PlanView, choices_from_proposal
from backclinic.services.sessions import SessionInput
from tests.records import stored_records

START = dt.date(2026, 1, 5)
MON_TO_FRI = frozenset(range(5))


def no_red_flags(services: Services, **present: FlagAnswer) -> dict[str, FlagAnswer]:
    answers = {code: FlagAnswer.ABSENT for code in services.protocol.red_flag_items()}
    answers.update(present)
    return answers


def article_intake(services: Services, **changes: object) -> Intake:
    values: dict[str, object] = {
        "assessed_on": START,
        "onset_weeks": 30,
        "recurrent": True,
        "radiating_present": True,
        "radiating_side": "left",
        "radiating_below_knee": False,
        "radiating_to": "hip",
        "aggravated_by": ("sitting", "posture"),
        "contributing_factors": ("posture", "muscle_imbalance", "sedentary"),
        "red_flags": no_red_flags(services),
        "nprs_current": 6,
        "nprs_worst": 8,
        "nprs_best": 3,
        "odi_answers": (3, 1, 2, 1, 4, 2, 2, None, 2, 3),
        "goals": ("sit through a working day without pain",),
    }
    values.update(changes)
    return Intake(**values)  # type: ignore[arg-type]


def grace(services: Services, actor: Actor, **changes: object) -> int:
    patient = services.patients.register(
        actor,
        PatientInput(
            "Okafor", "Grace", dt.date(1980, 11, 2), mrn="CASE-0045", occupation="office worker"
        ),
    )
    services.assessments.record(
        actor, patient.id, AssessmentInput("intake", article_intake(services, **changes))
    )
    return patient.id


def test_the_article_case_gets_the_article_plan(services: Services, actor: Actor) -> None:
    grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    acupuncture = [v.visit_date for v in plan.visits if "acupuncture" in v.modalities]
    weeks = lambda d: (d - START).days // 7 + 1  # noqa: E731
    assert len([d for d in acupuncture if weeks(d) <= 2]) == 4
    assert len([d for d in acupuncture if 3 <= weeks(d) <= 5]) == 3
    assert [d for d in acupuncture if weeks(d) >= 6] == []
    assert all(
        any("pt" in v.modalities and weeks(v.visit_date) == week for v in plan.visits)
        for week in range(1, 6)
    )
    assert [(p.start_week, p.end_week, p.acupuncture_words) for p in plan.phases] == [
        (1, 2, "twice a week"),
        (3, 5, "once a week"),
        (6, 9, "as needed"),
    ]
    assert (plan.protocol_id, plan.protocol_version) == ("integrative_lbp", 1)
    assert {"posture_correction", "myofascial_release"} <= set(plan.phases[0].pt_focus)


def test_the_intake_odi_skips_a_section_out_of_the_denominator(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    intake = services.assessments.latest_intake(actor, patient_id)
    assert intake is not None and intake.odi is not None
    assert intake.odi.percent == 44.4


def test_a_cauda_equina_flag_stops_the_plan_with_a_referral(
    services: Services, actor: Actor
) -> None:
    grace(services, actor, red_flags=no_red_flags(services, saddle_anaesthesia=FlagAnswer.PRESENT))
    with pytest.raises(ValidationFailed, match=r"(?i)urgent"):
        services.plans.create_recommended(actor, "CASE-0045", start=START)
    assert (
        services.plans.active_plan(actor, services.patients.by_mrn(actor, "CASE-0045").id) is None
    )


def test_unscreened_red_flags_block_planning(services: Services, actor: Actor) -> None:
    grace(services, actor, red_flags=None)
    with pytest.raises(ValidationFailed, match="not been screened"):
        services.plans.create_recommended(actor, "CASE-0045", start=START)


def test_a_non_urgent_flag_needs_a_recorded_clearance(services: Services, actor: Actor) -> None:
    patient_id = grace(
        services, actor, red_flags=no_red_flags(services, night_pain=FlagAnswer.PRESENT)
    )
    proposal = services.plans.propose(actor, patient_id)
    choices = choices_from_proposal(proposal, start=START, clinic_days=MON_TO_FRI)
    with pytest.raises(ValidationFailed) as refused:
        services.plans.create(actor, patient_id, choices)
    assert "red_flag_clearance" in refused.value.by_field
    from dataclasses import replace

    plan = services.plans.create(
        actor, patient_id, replace(choices, red_flag_clearance="Cleared by GP on 2026-01-03")
    )
    assert plan.red_flag_clearance == "Cleared by GP on 2026-01-03"


def test_changing_a_phase_reschedules_only_future_visits(services: Services, actor: Actor) -> None:
    patient_id = grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    today = dt.date(2026, 1, 19)  # week 3
    past = [v for v in plan.visits if v.visit_date < today]
    changed = services.plans.change_phase(
        actor,
        plan.id,
        2,
        weeks=4,
        acupuncture_per_week=2,
        acupuncture_as_needed=False,
        pt_per_week=2,
        expected_version=plan.version,
        effective_from=today,
    )
    assert [v for v in changed.visits if v.visit_date < today] == past
    assert [(p.start_week, p.end_week) for p in changed.phases] == [(1, 2), (3, 6), (7, 10)]
    week3 = [v for v in changed.visits if today <= v.visit_date < today + dt.timedelta(days=7)]
    assert sum("acupuncture" in v.modalities for v in week3) == 2
    assert services.plans.active_plan(actor, patient_id) == changed


def test_pregnancy_keeps_contraindicated_points_out_of_a_plan(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor, precautions=("pregnancy",))
    proposal = services.plans.propose(actor, patient_id)
    offered = {p.code for phase in proposal.phases for p in phase.points}
    assert not offered & {"LI4", "SP6", "BL60", "BL67"}
    choices = choices_from_proposal(proposal, start=START, clinic_days=MON_TO_FRI)
    from dataclasses import replace

    # The lumbosacral points the model keeps are acknowledged, as the wizard asks.
    choices = replace(
        choices, acknowledged_points=tuple(p for ph in choices.phases for p in ph.acupoints)
    )
    phases = list(choices.phases)
    phases[0] = replace(phases[0], acupoints=(*phases[0].acupoints, "SP6"))
    with pytest.raises(ValidationFailed, match="SP6 is not offered"):
        services.plans.create(actor, patient_id, replace(choices, phases=tuple(phases)))


# ----------------------------------------------------------------- reschedule and discharge

# Monday of week 3 of a plan started on START, mid-morning.
WEEK3 = dt.datetime(2026, 1, 19, 10, tzinfo=dt.UTC)


@pytest.fixture
def clinic(database: OpenDatabase, services: Services) -> Services:
    """Services whose clock stands on Monday of the plan's third week."""
    return build_services(database.session_factory, clock=lambda: WEEK3)


def planned_grace(clinic: Services, actor: Actor) -> tuple[int, PlanView]:
    patient_id = grace(clinic, actor)
    return patient_id, clinic.plans.create_recommended(actor, "CASE-0045", start=START)


def audit_rows(clinic: Services, action: str) -> list[AuditEventRow]:
    with stored_records(clinic) as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def final_assessment(clinic: Services, **changes: object) -> AssessmentInput:
    values: dict[str, object] = {
        "assessed_on": WEEK3.date(),
        "nprs_current": 2,
        "odi_answers": (1, 0, 1, 0, 1, 1, 0, None, 1, 1),
    }
    values.update(changes)
    return AssessmentInput("discharge", article_intake(clinic, **values))


def visit_input(day: dt.date) -> SessionInput:
    moment = dt.datetime(day.year, day.month, day.day, 10, tzinfo=dt.UTC).astimezone()
    return SessionInput(performed_at=moment, modalities=("acupuncture", "pt"), pain_before=5)


def test_a_missed_visit_is_rescheduled_to_a_clinic_day_and_audited(
    clinic: Services, actor: Actor
) -> None:
    _patient_id, plan = planned_grace(clinic, actor)
    first = plan.visits[0]
    clinic.sessions.mark_missed(actor, first.id)
    missed = next(v for v in clinic.plans.get(actor, plan.id).visits if v.id == first.id)
    assert missed.status == "missed" and missed.version > first.version
    taken = {v.visit_date for v in plan.visits}
    free_day = next(
        WEEK3.date() + dt.timedelta(days=n)
        for n in range(14)
        if (WEEK3.date() + dt.timedelta(days=n)).weekday() < 5
        and WEEK3.date() + dt.timedelta(days=n) not in taken
    )

    moved = clinic.plans.reschedule_visit(actor, first.id, free_day, missed.version)

    assert (moved.id, moved.visit_date, moved.status) == (first.id, free_day, "planned")
    assert moved.version > missed.version
    [entry] = audit_rows(clinic, "reschedule")
    assert entry.entity == "scheduled_visit" and entry.entity_id == first.id
    assert entry.details["before"] == {
        "visit_date": first.visit_date.isoformat(),
        "status": "missed",
    }
    assert entry.details["after"] == {"visit_date": free_day.isoformat(), "status": "planned"}


def test_rescheduling_refuses_each_impossible_day_in_one_sentence(
    clinic: Services, actor: Actor
) -> None:
    patient_id, plan = planned_grace(clinic, actor)
    today = WEEK3.date()
    future = [v for v in plan.visits if v.visit_date > today]
    visit, other = future[0], future[1]
    saturday = today + dt.timedelta(days=5)
    cases = [
        (today - dt.timedelta(days=1), "in the past"),
        (saturday, "closed on Saturdays"),
        (other.visit_date, "already has a visit on"),
    ]
    for day, words in cases:
        with pytest.raises(ValidationFailed, match=words) as refused:
            clinic.plans.reschedule_visit(actor, visit.id, day, visit.version)
        assert list(refused.value.by_field) == ["visit_date"]
        assert str(refused.value).count(".") <= 3 and str(refused.value).endswith(".")

    done = plan.visits[0]
    clinic.sessions.log(actor, patient_id, visit_input(done.visit_date))
    done_now = next(v for v in clinic.plans.get(actor, plan.id).visits if v.id == done.id)
    with pytest.raises(ValidationFailed, match="session logged") as refused:
        clinic.plans.reschedule_visit(
            actor, done.id, saturday + dt.timedelta(days=2), done_now.version
        )
    assert list(refused.value.by_field) == ["visit_date"]
    with pytest.raises(StaleRecord):
        clinic.plans.reschedule_visit(actor, visit.id, saturday + dt.timedelta(days=2), 99)
    assert audit_rows(clinic, "reschedule") == []


def test_a_cancelled_visit_cannot_be_moved(clinic: Services, actor: Actor) -> None:
    _patient_id, plan = planned_grace(clinic, actor)
    last = plan.visits[-1]
    discharged = clinic.plans.discharge(
        actor,
        plan.id,
        reason="goals_met",
        note="",
        final_assessment=None,
        expected_version=plan.version,
    )
    assert last.id not in {v.id for v in discharged.visits}
    with stored_records(clinic) as session:
        row = session.get(ScheduledVisitRow, last.id)
        assert row is not None and row.status == "cancelled"
        version = row.version
    with pytest.raises(ValidationFailed, match="cancelled") as refused:
        clinic.plans.reschedule_visit(actor, last.id, WEEK3.date() + dt.timedelta(days=1), version)
    assert list(refused.value.by_field) == ["visit_date"]


def test_discharge_closes_the_plan_with_its_final_assessment_in_one_transaction(
    clinic: Services, actor: Actor
) -> None:
    patient_id, plan = planned_grace(clinic, actor)
    today = WEEK3.date()

    closed = clinic.plans.discharge(
        actor,
        plan.id,
        reason="goals_met",
        note="Back at work full days; home exercises to continue.",
        final_assessment=final_assessment(clinic),
        expected_version=plan.version,
    )

    assert (closed.status, closed.ended_on, closed.end_reason) == ("discharged", today, "goals_met")
    assert closed.end_note == "Back at work full days; home exercises to continue."
    assert clinic.plans.active_plan(actor, patient_id) is None
    assert all(v.visit_date <= today for v in closed.visits)
    assert [v.id for v in closed.visits] == [v.id for v in plan.visits if v.visit_date <= today]
    kinds = [a.kind for a in clinic.assessments.for_patient(actor, patient_id)]
    assert kinds == ["intake", "discharge"]
    [entry] = audit_rows(clinic, "discharge")
    assert entry.entity == "plan" and entry.entity_id == plan.id
    assert entry.details["after"]["end_reason"] == "goals_met"
    assert entry.details["cancelled_visits"] == len(plan.visits) - len(closed.visits)
    assert entry.details["final_assessment_id"] is not None
    # A new plan may now be made.
    assert clinic.plans.create_recommended(actor, "CASE-0045", start=today).status == "active"


def test_discharge_stores_nothing_when_the_final_assessment_is_refused(
    clinic: Services, actor: Actor
) -> None:
    patient_id, plan = planned_grace(clinic, actor)
    with pytest.raises(ValidationFailed) as refused:
        clinic.plans.discharge(
            actor,
            plan.id,
            reason="plateau",
            note="",
            final_assessment=final_assessment(clinic, nprs_current=11),
            expected_version=plan.version,
        )
    assert "final_assessment.nprs.current" in refused.value.by_field
    assert clinic.plans.get(actor, plan.id).status == "active"
    assert [a.kind for a in clinic.assessments.for_patient(actor, patient_id)] == ["intake"]
    assert audit_rows(clinic, "discharge") == []


def test_discharge_refuses_an_unknown_reason_a_closed_plan_and_a_stale_version(
    clinic: Services, actor: Actor
) -> None:
    _patient_id, plan = planned_grace(clinic, actor)
    with pytest.raises(ValidationFailed) as refused:
        clinic.plans.discharge(
            actor,
            plan.id,
            reason="bored",
            note="",
            final_assessment=None,
            expected_version=plan.version,
        )
    assert "reason" in refused.value.by_field
    with pytest.raises(StaleRecord):
        clinic.plans.discharge(
            actor,
            plan.id,
            reason="plateau",
            note="",
            final_assessment=None,
            expected_version=plan.version + 5,
        )
    closed = clinic.plans.discharge(
        actor,
        plan.id,
        reason="referred",
        note="To spinal surgeon",
        final_assessment=None,
        expected_version=plan.version,
    )
    with pytest.raises(ValidationFailed, match="Only an active plan") as again:
        clinic.plans.discharge(
            actor,
            plan.id,
            reason="plateau",
            note="",
            final_assessment=None,
            expected_version=closed.version,
        )
    assert "plan" in again.value.by_field
    assert len(audit_rows(clinic, "discharge")) == 1


def test_front_desk_cannot_discharge(clinic: Services, actor: Actor) -> None:
    _patient_id, plan = planned_grace(clinic, actor)
    desk = Actor(actor.clinician_id, "Priya Nair", "front_desk")
    with pytest.raises(PermissionDenied):
        clinic.plans.discharge(
            desk,
            plan.id,
            reason="plateau",
            note="",
            final_assessment=None,
            expected_version=plan.version,
        )


def grace_and_her_choices(clinic: Services, actor: Actor) -> tuple[int, PlanChoices]:
    """Grace registered with her intake, and the model's choices for her plan."""
    patient_id = grace(clinic, actor)
    proposal = clinic.plans.propose(actor, patient_id)
    return patient_id, choices_from_proposal(proposal, start=START, clinic_days=MON_TO_FRI)


def test_new_visits_are_booked_at_the_time_the_clinician_chose(
    clinic: Services, actor: Actor
) -> None:
    patient_id, choices = grace_and_her_choices(clinic, actor)

    plan = clinic.plans.create(actor, patient_id, replace(choices, visit_time="14:30"))

    assert {(v.visit_time, v.clinician_username) for v in plan.visits} == {("14:30", "mei")}


def test_without_a_chosen_time_visits_are_booked_at_opening(clinic: Services, actor: Actor) -> None:
    _patient_id, plan = planned_grace(clinic, actor)

    assert {v.visit_time for v in plan.visits} == {clinic.clinic.settings().opens_at}


@pytest.mark.parametrize(
    ("visit_time", "rule"),
    [
        ("07:30", "between 08:00 and 18:00, when the clinic is open"),
        ("18:00", "between 08:00 and 18:00, when the clinic is open"),
        ("2pm", "as HH:MM"),
        ("25:00", "as HH:MM"),
    ],
)
def test_a_visit_time_outside_opening_hours_is_refused_and_nothing_is_stored(
    clinic: Services, actor: Actor, visit_time: str, rule: str
) -> None:
    patient_id, choices = grace_and_her_choices(clinic, actor)

    with pytest.raises(ValidationFailed) as refused:
        clinic.plans.create(actor, patient_id, replace(choices, visit_time=visit_time))

    assert rule in refused.value.by_field["visit_time"]
    assert clinic.plans.active_plan(actor, patient_id) is None


def test_a_changed_phase_books_its_new_visits_at_the_plan_s_time(
    clinic: Services, actor: Actor
) -> None:
    patient_id, choices = grace_and_her_choices(clinic, actor)
    plan = clinic.plans.create(actor, patient_id, replace(choices, visit_time="16:15"))
    phase = plan.phases[1]

    changed = clinic.plans.change_phase(
        actor,
        plan.id,
        phase.number,
        weeks=phase.end_week - phase.start_week + 1,
        acupuncture_per_week=2,
        acupuncture_as_needed=False,
        pt_per_week=phase.pt_per_week,
        expected_version=plan.version,
    )

    assert {v.visit_time for v in changed.visits if v.status == "planned"} == {"16:15"}


def test_a_clearance_on_record_lifts_the_block_at_planning_and_is_printed_with_the_plan(
    services: Services, actor: Actor
) -> None:
    """The clearance a clinician records (who, when, which flags, how, why) is what lets the
    plan be made: no free-text note is needed beside it, and one that clears only some of
    the flags does not lift the block."""
    from backclinic.services.safety import ClearanceInput

    patient_id = grace(
        services,
        actor,
        red_flags=no_red_flags(
            services, night_pain=FlagAnswer.PRESENT, cancer_history=FlagAnswer.PRESENT
        ),
    )
    services.safety.record_clearance(
        actor,
        patient_id,
        ClearanceInput(
            ("night_pain",), "clinical_reasoning", "Mechanical pattern, eases on movement"
        ),
    )
    partly = services.plans.propose(actor, patient_id)
    assert partly.blocked
    with pytest.raises(ValidationFailed) as refused:
        services.plans.create(
            actor, patient_id, choices_from_proposal(partly, start=START, clinic_days=MON_TO_FRI)
        )
    assert "red_flag_clearance" in refused.value.by_field

    services.safety.record_clearance(
        actor,
        patient_id,
        ClearanceInput(
            ("cancer_history",), "physician_letter", "Oncologist: in remission ten years"
        ),
    )
    cleared = services.plans.propose(actor, patient_id)
    assert not cleared.blocked and cleared.screening.outcome == ScreeningOutcome.CLEARED
    plan = services.plans.create(
        actor, patient_id, choices_from_proposal(cleared, start=START, clinic_days=MON_TO_FRI)
    )
    assert plan.red_flag_clearance is not None
    assert "history of cancer" in plan.red_flag_clearance.lower()
    assert "by physician letter: Oncologist: in remission ten years" in plan.red_flag_clearance
