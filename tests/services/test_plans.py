from __future__ import annotations

import datetime as dt

import pytest

from backclinic.domain.intake import Intake
from backclinic.domain.screening import FlagAnswer
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.patients import PatientInput
from backclinic.services.plans import choices_from_proposal

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
    intake = services.assessments.latest_intake(patient_id)
    assert intake is not None and intake.odi is not None
    assert intake.odi.percent == 44.4


def test_a_cauda_equina_flag_stops_the_plan_with_a_referral(
    services: Services, actor: Actor
) -> None:
    grace(services, actor, red_flags=no_red_flags(services, saddle_anaesthesia=FlagAnswer.PRESENT))
    with pytest.raises(ValidationFailed, match=r"(?i)urgent"):
        services.plans.create_recommended(actor, "CASE-0045", start=START)
    assert services.plans.active_plan(services.patients.by_mrn("CASE-0045").id) is None


def test_unscreened_red_flags_block_planning(services: Services, actor: Actor) -> None:
    grace(services, actor, red_flags=None)
    with pytest.raises(ValidationFailed, match="not been screened"):
        services.plans.create_recommended(actor, "CASE-0045", start=START)


def test_a_non_urgent_flag_needs_a_recorded_clearance(services: Services, actor: Actor) -> None:
    patient_id = grace(
        services, actor, red_flags=no_red_flags(services, night_pain=FlagAnswer.PRESENT)
    )
    proposal = services.plans.propose(patient_id)
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
    assert services.plans.active_plan(patient_id) == changed


def test_pregnancy_keeps_contraindicated_points_out_of_a_plan(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor, precautions=("pregnancy",))
    proposal = services.plans.propose(patient_id)
    offered = {p.code for phase in proposal.phases for p in phase.acupoints}
    assert not offered & {"LI4", "SP6", "BL60", "BL67"}
    choices = choices_from_proposal(proposal, start=START, clinic_days=MON_TO_FRI)
    from dataclasses import replace

    phases = list(choices.phases)
    phases[0] = replace(phases[0], acupoints=(*phases[0].acupoints, "SP6"))
    with pytest.raises(ValidationFailed, match="SP6 is not offered"):
        services.plans.create(actor, patient_id, replace(choices, phases=tuple(phases)))
