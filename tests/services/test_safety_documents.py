"""A stop means stop on paper too: the plan summary of a patient on hold prints the urgent
referral instead of a programme (issue 11)."""

from __future__ import annotations

import datetime as dt

import pytest

from backclinic.db.database import OpenDatabase
from backclinic.domain.intake import Intake
from backclinic.domain.screening import FlagAnswer
from backclinic.reports.plan_summary import render_plan_summary
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.documents import DocumentService
from tests.services.test_documents import (
    NOW,
    TODAY,
    document_service,
    one_line,
    set_up_clinic,
    treated_patient,
)
from tests.services.test_plan_under_later_precautions import grace_with_sp6_and_li4
from tests.services.test_plans import article_intake, no_red_flags
from tests.services.test_safety_through_the_episode import reassess


@pytest.fixture
def services(database: OpenDatabase) -> Services:
    """Services whose clock stands in week 7 of the article patient's plan."""
    return build_services(database.session_factory, clock=lambda: NOW)


def test_the_plan_summary_of_a_patient_on_hold_prints_the_referral_not_a_programme(
    services: Services,
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor, reassess=False)
    screen = Intake(
        **{
            **article_intake(services).__dict__,
            "assessed_on": TODAY,
            "red_flags": no_red_flags(services, saddle_anaesthesia=FlagAnswer.PRESENT),
        }
    )
    services.assessments.record(actor, patient_id, AssessmentInput("reassessment", screen))
    documents: DocumentService = document_service(services)
    summary = documents.plan_summary(actor, patient_id)
    assert summary.urgent_referral is not None
    text = one_line(render_plan_summary(summary).pdf)
    assert "Urgent referral" in text and "saddle anaesthesia" in text
    assert "Your home programme" not in text and "phase by phase" not in text


def test_the_clinicians_summary_prints_each_clearance_and_referral_outcome_in_words(
    services: Services,
) -> None:
    from backclinic.reports.discharge_summary import render_discharge_summary
    from backclinic.services.safety import ClearanceInput

    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor, reassess=False)
    screen = Intake(
        **{
            **article_intake(services).__dict__,
            "assessed_on": TODAY,
            "red_flags": no_red_flags(services, night_pain=FlagAnswer.PRESENT),
        }
    )
    services.assessments.record(actor, patient_id, AssessmentInput("reassessment", screen))
    services.safety.record_clearance(
        actor,
        patient_id,
        ClearanceInput(("night_pain",), "clinical_reasoning", "Night pain eases when turning over"),
    )
    documents: DocumentService = document_service(services)
    summary = documents.discharge_summary(actor, patient_id)
    (line,) = summary.safety_records
    assert "of severe night or rest pain, by clinical reasoning" in line.lower()
    text = one_line(render_discharge_summary(summary).pdf)
    assert "Red-flag clearances and referral outcomes" in text
    assert "by clinical reasoning: Night pain eases when turning over" in text
    assert "clinical_reasoning" not in text and "night_pain" not in text


def test_supine_exercises_are_flagged_for_adaptation_after_the_first_trimester(
    services: Services,
) -> None:
    from dataclasses import replace

    from backclinic.domain.plan import InterventionDose
    from backclinic.reports.plan_summary import render_plan_summary
    from backclinic.services.patients import PatientInput
    from backclinic.services.plans import choices_from_proposal
    from tests.services.test_plans import MON_TO_FRI, START

    actor = set_up_clinic(services)
    patient = services.patients.register(
        actor, PatientInput("Okafor", "Grace", dt.date(1990, 3, 1), mrn="CASE-0046")
    )
    intake = article_intake(services, precautions=("pregnancy",), pregnancy_weeks=8)
    services.assessments.record(actor, patient.id, AssessmentInput("intake", intake))
    choices = choices_from_proposal(
        services.plans.propose(actor, patient.id), start=START, clinic_days=MON_TO_FRI
    )
    first = choices.phases[0]
    first = replace(
        first,
        pt_interventions=(*first.pt_interventions, InterventionDose("core_stabilization", "")),
    )
    choices = replace(
        choices,
        phases=(first, *choices.phases[1:]),
        acknowledged_points=tuple({p for ph in choices.phases for p in ph.acupoints}),
    )
    services.plans.create(actor, patient.id, choices)
    # Eight weeks at 5 Jan 2026; the clock stands on 18 Feb 2026, week 14.
    note = services.safety.supine_note(actor, patient.id)
    assert note is not None and "first trimester is over (week 14 of pregnancy)" in note
    summary = document_service(services).plan_summary(actor, patient.id)
    adapted = {e.label: e.adaptation for e in summary.home_programme}
    assert "lying on the side or propped up" in adapted["Core stabilisation"]
    assert adapted["Posture correction"] == ""
    text = one_line(render_plan_summary(summary).pdf)
    assert (
        "Adapt: Exercises lying on the back: adapt them (lying on the side or propped up)" in text
    )


def test_without_weeks_of_pregnancy_the_adaptation_waits_for_the_first_trimester(
    services: Services,
) -> None:
    from backclinic.domain.safety import supine_adaptation

    note = supine_adaptation(("pregnancy",), services.protocol, on=TODAY)
    assert note is not None and "once the first trimester is over" in note
    assert "not recorded" in note
    early = supine_adaptation(
        ("pregnancy",), services.protocol, on=TODAY, weeks_at_screen=4, screened_on=TODAY
    )
    assert early is not None and "from 22 Apr 2026, when the first trimester ends" in early
    assert supine_adaptation(("pacemaker",), services.protocol, on=TODAY) is None


def test_a_precaution_recorded_after_the_plan_is_printed_on_the_patients_plan_summary(
    services: Services,
) -> None:
    """The plan summary tells the patient what is taken care of now: a pregnancy recorded at
    a reassessment after the plan was made is on it, not only what the intake said."""
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor, reassess=False)
    before = document_service(services).plan_summary(actor, patient_id)
    assert [p.label for p in before.precautions] == []

    services.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(
                services, assessed_on=TODAY, precautions=("pregnancy",), pregnancy_weeks=6
            ),
        ),
    )

    summary = document_service(services).plan_summary(actor, patient_id)
    assert [p.label for p in summary.precautions] == ["Pregnancy"]
    assert "Pregnancy" in one_line(render_plan_summary(summary).pdf)

    # The next screen finds the pregnancy over: the page no longer says so.
    services.assessments.record(
        actor,
        patient_id,
        AssessmentInput("reassessment", article_intake(services, assessed_on=TODAY)),
    )
    assert document_service(services).plan_summary(actor, patient_id).precautions == ()


def test_the_plan_summary_never_prints_a_point_a_later_pregnancy_rules_out(
    services: Services,
) -> None:
    """A plan made at intake with SP6 and LI4 (and BL23, BL25, GV3, EX-B2), then a pregnancy
    and a pacemaker at a reassessment: the patient's page prints the precautions and how
    the acupuncture is adapted, and no planned point as part of the programme (the plan
    summary names no point at all), nor electro-acupuncture except to say it is not used."""
    actor = set_up_clinic(services)
    patient_id, plan = grace_with_sp6_and_li4(services, actor)
    assert {"SP6", "LI4", "BL23"} <= {code for p in plan.phases for code in p.acupoints}
    reassess(services, actor, patient_id, precautions=("pregnancy", "pacemaker"))

    summary = document_service(services).plan_summary(actor, patient_id)
    text = one_line(render_plan_summary(summary).pdf)

    assert [p.label for p in summary.precautions] == [
        "Pregnancy",
        "Cardiac pacemaker or implanted device",
    ]
    assert "Your plan, phase by phase" in text
    for point in ("SP6", "LI4", "BL23", "BL25", "GV3", "EX-B2", "BL40", "KI3"):
        assert point not in text
    assert "manual needling only, no electro-acupuncture" in text.lower()
    assert text.lower().count("electro") == 1
