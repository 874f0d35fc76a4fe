"""A plan made before a precaution was recorded (issue 11): a phase change and a new plan
are checked against the precautions in force on the day of the change, not those stored
with the plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.plans import PlanView, choices_from_proposal
from tests.services.test_plans import MON_TO_FRI, START, article_intake, grace
from tests.services.test_safety_through_the_episode import REASSESSED, reassess
from tests.services.test_sessions import visit_input

CHANGED_ON = dt.date(2026, 1, 19)  # week 3, in phase 2


def messages(error: ValidationFailed, field: str) -> str:
    return " ".join(e.message for e in error.errors if e.field == field)


def grace_with_sp6_and_li4(services: Services, actor: Actor) -> tuple[int, PlanView]:
    """Grace's plan made at intake, with SP6 and LI4 added to phases 2 and 3."""
    patient_id = grace(services, actor)
    choices = choices_from_proposal(
        services.plans.propose(actor, patient_id), start=START, clinic_days=MON_TO_FRI
    )
    phases = tuple(
        replace(p, acupoints=(*p.acupoints, "SP6", "LI4")) if p.number > 1 else p
        for p in choices.phases
    )
    return patient_id, services.plans.create(actor, patient_id, replace(choices, phases=phases))


def change_phase_two(services: Services, actor: Actor, plan: PlanView, **extra: object) -> PlanView:
    phase = plan.phases[1]
    return services.plans.change_phase(
        actor,
        plan.id,
        2,
        weeks=phase.end_week - phase.start_week + 2,
        acupuncture_per_week=phase.acupuncture_per_week,
        acupuncture_as_needed=phase.acupuncture_as_needed,
        pt_per_week=phase.pt_per_week,
        expected_version=plan.version,
        effective_from=CHANGED_ON,
        **extra,  # type: ignore[arg-type]
    )


def test_a_phase_change_after_a_pregnancy_is_recorded_refuses_sp6_and_li4(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = grace_with_sp6_and_li4(services, actor)
    reassess(services, actor, patient_id, precautions=("pregnancy",))

    with pytest.raises(ValidationFailed) as refused:
        change_phase_two(services, actor, plan, acknowledged_points=("BL23", "BL25"))

    said = messages(refused.value, "phases[2].acupoints")
    assert "Phase 2: SP6 is not offered because of the precaution 'Pregnancy'" in said
    assert "Phase 2: LI4 is not offered because of the precaution 'Pregnancy'" in said
    assert "Phase 3: SP6" in messages(refused.value, "phases[3].acupoints")
    assert str(refused.value) == (
        "SP6 and LI4 are not offered because of the precaution 'Pregnancy' in force now: "
        "take them out of the plan as you change the phase."
    )
    assert services.plans.get(actor, plan.id).phases[1].end_week == plan.phases[1].end_week


def test_taking_the_ruled_out_points_out_lets_the_phase_change_and_keeps_past_phases(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = grace_with_sp6_and_li4(services, actor)
    reassess(services, actor, patient_id, precautions=("pregnancy",))

    changed = change_phase_two(
        services,
        actor,
        plan,
        withdrawn_points=("SP6", "LI4"),
        acknowledged_points=("BL23", "BL25"),
    )

    assert [p.acupoints for p in changed.phases] == [
        plan.phases[0].acupoints,
        ("BL23", "BL25", "BL40", "KI3", "ASHI"),
        ("BL23", "BL40", "KI3"),
    ]
    assert {"BL23", "BL25"} <= set(changed.acknowledged_points)
    assert changed.phases[1].end_week == plan.phases[1].end_week + 1


def test_lumbosacral_points_need_the_acknowledgement_at_a_phase_change_after_a_pregnancy(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    reassess(services, actor, patient_id, precautions=("pregnancy",))

    with pytest.raises(ValidationFailed) as refused:
        change_phase_two(services, actor, plan)
    said = messages(refused.value, "phases[2].acupoints")
    assert "Phase 2: BL23 needs your acknowledgement because of the precaution 'Pregnancy'" in said

    changed = change_phase_two(services, actor, plan, acknowledged_points=("BL23", "BL25"))
    assert changed.phases[1].end_week == plan.phases[1].end_week + 1


def test_a_pregnancy_since_ruled_out_no_longer_asks_anything_at_a_phase_change(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = grace_with_sp6_and_li4(services, actor)
    reassess(services, actor, patient_id, precautions=("pregnancy",))
    ruled_out = article_intake(services, assessed_on=REASSESSED + dt.timedelta(days=3))
    services.assessments.record(actor, patient_id, AssessmentInput("reassessment", ruled_out))

    changed = change_phase_two(services, actor, plan)

    assert "SP6" in changed.phases[1].acupoints


def test_a_new_plan_after_a_reassessment_records_a_pregnancy_refuses_sp6(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    reassess(services, actor, patient_id, precautions=("pregnancy",))
    choices = choices_from_proposal(
        services.plans.propose(actor, patient_id), start=REASSESSED, clinic_days=MON_TO_FRI
    )
    phases = tuple(replace(p, acupoints=(*p.acupoints, "SP6")) for p in choices.phases)

    with pytest.raises(ValidationFailed) as refused:
        services.plans.create(actor, patient_id, replace(choices, phases=phases))

    assert (
        "SP6 is not offered because of the precaution 'Pregnancy'"
        in (refused.value.by_field["phases[1].acupoints"])
    )


CASE = Path(__file__).resolve().parents[1] / "cases" / "plan-before-pregnancy.json"


def test_a_case_file_whose_reassessment_records_a_pregnancy_after_the_plan(
    services: Services, actor: Actor
) -> None:
    """The plan (SP6 and LI4 in phases 2 and 3) and three sessions predate the
    reassessment of 14 Jan 2026 that records a pregnancy and a pacemaker: the history
    imports without a notice, and from then on the plan and the sessions follow the
    precautions in force."""
    services.cases.import_file(actor, CASE)
    patient = services.patients.by_mrn(actor, "CASE-0111")
    plan = services.plans.active_plan(actor, patient.id)
    assert plan is not None and "SP6" in plan.phases[1].acupoints
    assert services.safety.import_notices(actor, patient.id) == ()
    assert services.safety.status(actor, patient.id).precautions_in_force == (
        "pregnancy",
        "pacemaker",
    )

    with pytest.raises(ValidationFailed) as refused:
        change_phase_two(services, actor, plan, acknowledged_points=("BL23", "BL25"))
    assert "SP6 is not offered because of the precaution 'Pregnancy'" in messages(
        refused.value, "phases[2].acupoints"
    )

    day = min(v.visit_date for v in plan.visits if v.visit_date > REASSESSED)
    with pytest.raises(ValidationFailed) as session_refused:
        services.sessions.log(
            actor, patient.id, visit_input(day, acupoints=("BL40", "SP6"), electro=True)
        )
    said = " ".join(e.message for e in session_refused.value.errors)
    assert "SP6 is not offered because of the precaution 'Pregnancy'" in said
    assert "Electro-acupuncture is not offered because of the precaution 'Cardiac pacemaker" in (
        said
    )


def test_the_proposal_after_a_reassessment_records_a_pregnancy_plans_for_it(
    services: Services, actor: Actor
) -> None:
    """No plan yet, and a reassessment after the intake records a pregnancy: the proposal
    is made for the precautions in force (points ruled out left out, lumbosacral points
    asking for the acknowledgement), so the wizard can offer what the service will take."""
    patient_id = grace(services, actor)
    reassess(services, actor, patient_id, precautions=("pregnancy",))

    proposal = services.plans.propose(actor, patient_id)

    assert [note.code for note in proposal.precautions] == ["pregnancy"]
    with pytest.raises(ValidationFailed) as refused:
        services.plans.create_recommended(actor, "CASE-0045", start=REASSESSED)
    assert "BL23 needs your acknowledgement because of the precaution 'Pregnancy'" in " ".join(
        e.message for e in refused.value.errors
    )
    plan = services.plans.create_recommended(actor, "CASE-0045", start=REASSESSED, acknowledge=True)
    assert plan.precautions == ("pregnancy",)


def test_precautions_not_asked_at_intake_but_asked_at_a_reassessment_let_a_plan_be_made(
    services: Services, actor: Actor
) -> None:
    codes = tuple(services.catalogue.codes["precautions"])
    patient_id = grace(services, actor, precautions_not_asked=codes)
    assert services.plans.propose(actor, patient_id).blocked
    reassess(services, actor, patient_id)

    assert not services.plans.propose(actor, patient_id).blocked
    plan = services.plans.create_recommended(actor, "CASE-0045", start=REASSESSED)
    assert plan.precautions == ()
