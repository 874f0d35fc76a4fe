"""Safety through the whole episode (issue 11): the latest screen or safety event is the
current status, and a stop means stop at session save."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from backclinic.domain.screening import FlagAnswer
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.safety import ClearanceInput
from tests.services.test_plans import START, article_intake, grace, no_red_flags
from tests.services.test_sessions import planned, visit_input

REASSESSED = START + dt.timedelta(days=7)


def reassess(services: Services, actor: Actor, patient_id: int, **changes: object) -> None:
    services.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment", article_intake(services, assessed_on=REASSESSED, **changes)
        ),
    )


def with_flags(services: Services, *present: str) -> dict[str, FlagAnswer]:
    answers = dict(no_red_flags(services))
    answers.update({code: FlagAnswer.PRESENT for code in present})
    return answers


def next_visit_day(plan_visits: object, after: dt.date) -> dt.date:
    return min(v.visit_date for v in plan_visits if v.visit_date > after)  # type: ignore[attr-defined]


def test_a_pregnancy_recorded_at_a_reassessment_refuses_sp6_at_the_next_session(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    reassess(services, actor, patient_id, precautions=("pregnancy",))
    day = next_visit_day(plan.visits, REASSESSED)
    with pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(day, acupoints=("BL40", "SP6")))
    assert "Pregnancy" in refused.value.by_field["acupoints[1]"]


def test_saddle_anaesthesia_at_a_reassessment_stops_sessions_until_the_referral_outcome(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    reassess(
        services,
        actor,
        patient_id,
        red_flags=with_flags(services, "saddle_anaesthesia", "bladder_dysfunction"),
    )
    day = next_visit_day(plan.visits, REASSESSED)
    with pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(day))
    message = refused.value.by_field["patient"]
    assert message.startswith("Urgent referral: possible cauda equina syndrome")
    assert "saddle anaesthesia" in message and "saddle_anaesthesia" not in message
    status = services.episodes.course(actor, patient_id).safety
    assert status.on_hold
    with pytest.raises(ValidationFailed) as short:
        services.safety.record_referral_outcome(actor, patient_id, "seen")
    assert "reason" in short.value.by_field
    services.safety.record_referral_outcome(
        actor, patient_id, "Emergency MRI excluded cauda equina compression"
    )
    lifted = services.safety.status(actor, patient_id)
    assert not lifted.on_hold
    # Cauda-equina signs are referred, not "cleared": the status says what was done.
    assert lifted.message == (
        "Referred for possible cauda equina syndrome, outcome recorded: saddle anaesthesia, "
        "new bladder retention or incontinence."
    )
    # The outcome is recorded today; a session after it may be logged.
    just_now = services.context.clock.now() - dt.timedelta(minutes=1)
    assert services.sessions.log(actor, patient_id, visit_input(START, performed_at=just_now)).id


def test_new_numbness_at_a_session_puts_the_plan_on_hold(services: Services, actor: Actor) -> None:
    patient_id, plan = planned(services, actor)
    first, second = sorted(v.visit_date for v in plan.visits)[:2]
    services.sessions.log(actor, patient_id, visit_input(first, adverse_events=("new_numbness",)))
    with pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(second))
    message = refused.value.by_field["patient"]
    assert "neurological warning sign" in message and "new numbness" in message
    assert services.episodes.course(actor, patient_id).safety.on_hold


def test_a_fracture_flag_appearing_mid_plan_needs_a_clearance_record_before_the_next_session(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    reassess(services, actor, patient_id, red_flags=with_flags(services, "cancer_history"))
    day = next_visit_day(plan.visits, REASSESSED)
    with pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(day))
    assert "history of cancer" in refused.value.by_field["patient"]
    assert "clearance" in refused.value.by_field["patient"]
    for reason in (".", "cleared"):
        with pytest.raises(ValidationFailed) as weak:
            services.safety.record_clearance(
                actor,
                patient_id,
                ClearanceInput(("cancer_history",), "physician_letter", reason),
            )
        assert "reason" in weak.value.by_field
    with pytest.raises(ValidationFailed) as urgent:
        services.safety.record_clearance(
            actor,
            patient_id,
            ClearanceInput(("saddle_anaesthesia",), "imaging", "MRI shows no compression"),
        )
    assert "cauda equina" in urgent.value.by_field["flags[0]"]
    record = services.safety.record_clearance(
        actor,
        patient_id,
        ClearanceInput(
            ("cancer_history",), "physician_letter", "Oncologist: in remission 10 years"
        ),
    )
    assert record.clinician == actor.name and record.method == "physician_letter"
    just_now = services.context.clock.now() - dt.timedelta(minutes=1)
    assert services.sessions.log(actor, patient_id, visit_input(START, performed_at=just_now)).id


def test_the_course_carries_each_precaution_with_when_and_by_whom(
    services: Services, actor: Actor
) -> None:
    patient_id, _plan = planned(services, actor)
    reassess(services, actor, patient_id, precautions=("pacemaker",))
    safety = services.episodes.course(actor, patient_id).safety
    assert safety.precautions_in_force == ("pacemaker",)
    pacemaker = next(p for p in safety.precautions if p.code == "pacemaker")
    assert (pacemaker.on, pacemaker.by) == (REASSESSED, actor.name)
    assert pacemaker.label == "Cardiac pacemaker or implanted device"
    assert not safety.on_hold and safety.uncleared == ()
    saddle = next(f for f in safety.red_flags if f.code == "saddle_anaesthesia")
    assert saddle.answer == FlagAnswer.ABSENT and saddle.on == REASSESSED


def test_a_reassessment_that_does_not_re_screen_keeps_the_earlier_answers(
    services: Services, actor: Actor
) -> None:
    patient_id, _plan = planned(services, actor)
    reassess(services, actor, patient_id, red_flags=None)
    saddle = next(
        f
        for f in services.safety.status(actor, patient_id).red_flags
        if f.code == "saddle_anaesthesia"
    )
    assert (saddle.answer, saddle.on) == (FlagAnswer.ABSENT, START)
    assert replace(saddle, on=None).on is None


def test_a_pt_only_session_with_acupoints_is_refused_by_the_points_field(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    day = plan.visits[0].visit_date
    with pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(day, modalities=("pt",)))
    assert "without acupuncture" in refused.value.by_field["acupoints"]
    pt_only = visit_input(day, modalities=("pt",), acupoints=(), needle_count=None)
    assert services.sessions.log(actor, patient_id, pt_only).data.acupoints == ()


def test_a_cauda_equina_sign_at_a_reassessment_refuses_a_plan_too(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    reassess(services, actor, patient_id, red_flags=with_flags(services, "bilateral_sciatica"))
    with pytest.raises(ValidationFailed) as refused:
        services.plans.create_recommended(actor, "CASE-0045", start=REASSESSED)
    assert refused.value.by_field["red_flags"].startswith("Urgent referral")
    assert services.plans.active_plan(actor, patient_id) is None
