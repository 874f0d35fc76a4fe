"""Documents tell the course as it happened (issue 10): the phase by treatment received,
the home programme of the phases reached, and a referred or worsening patient's summary
saying so first, with no progression or maintenance advice."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from backclinic.db.database import OpenDatabase
from backclinic.domain.intake import Intake
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.documents import DocumentService
from tests.services.test_documents import (
    document_service,
    one_line,
    set_up_clinic,
    treated_patient,
)

# Wednesday of week 3 of a plan starting on Monday 5 Jan 2026.
WEEK3 = dt.datetime(2026, 1, 21, 16, 0, tzinfo=dt.UTC)
WEEK7 = dt.datetime(2026, 2, 18, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def week7(database: OpenDatabase) -> Services:
    return build_services(database.session_factory, clock=lambda: WEEK7)


@pytest.fixture
def week3(database: OpenDatabase) -> Services:
    return build_services(database.session_factory, clock=lambda: WEEK3)


def test_a_plan_with_no_session_logged_is_in_phase_one_whatever_the_calendar_says(
    week7: Services,
) -> None:
    actor = set_up_clinic(week7)
    patient_id = treated_patient(week7, actor, pain=[], reassess=False)
    text = one_line(document_service(week7).print_plan_summary(actor, patient_id).pdf)
    assert "Phase 1: Calm and correct — not started" in text
    assert "you are here" not in text
    assert "Your home programme now (phase 1: Calm and correct)" in text
    assert "Functional strength training" not in text.split("Your home programme now")[1]


def test_a_discharged_plans_summary_marks_no_phase_as_current(week3: Services) -> None:
    actor = set_up_clinic(week3)
    patient_id = treated_patient(week3, actor, pain=[(6, 4), (5, 4)], reassess=False)
    plan = week3.plans.active_plan(actor, patient_id)
    assert plan is not None
    week3.plans.discharge(
        actor,
        plan.id,
        reason="goals_met",
        note="",
        final_assessment=None,
        expected_version=plan.version,
    )
    text = one_line(document_service(week3).print_plan_summary(actor, patient_id).pdf)
    assert "you are here" not in text
    assert "This plan ended on 21 Jan 2026 (goals met)" in text
    assert text.index("This plan ended") < text.index("Your plan, phase by phase")


def referred_and_worse(services: Services) -> tuple[DocumentService, int, str]:
    actor = set_up_clinic(services)
    patient_id = treated_patient(
        services, actor, pain=[(6, 6), (7, 7), (8, 8), (9, 9)], reassess=False
    )
    plan = services.plans.active_plan(actor, patient_id)
    assert plan is not None
    services.plans.discharge(
        actor,
        plan.id,
        reason="referred",
        note="Progressive leg weakness: referred to the spinal clinic the same day.",
        final_assessment=AssessmentInput(
            "discharge", Intake(assessed_on=WEEK3.date(), nprs_current=9)
        ),
        expected_version=plan.version,
    )
    documents = document_service(services)
    return documents, patient_id, one_line(documents.print_discharge_summary(actor, patient_id).pdf)


def test_a_referred_and_worse_patients_summary_says_so_first_without_progression_advice(
    week3: Services,
) -> None:
    _documents, _patient_id, text = referred_and_worse(week3)
    first = text.index("Referred on 21 Jan 2026: Progressive leg weakness")
    assert first < text.index("Episode of care")
    assert (
        "Progressive leg weakness: referred to the spinal clinic" in text[: text.index("Episode")]
    )
    assert "Pain is 3 points worse (6 → 9" in text
    assert "beyond the 2-point measurement error" in text
    for advice in ("Maintenance", "progressing the load", "If pain returns"):
        assert advice not in text


def test_the_home_programme_holds_only_the_phases_the_patient_reached(week3: Services) -> None:
    _documents, _patient_id, text = referred_and_worse(week3)
    programme = text[text.index("Home programme to continue") :]
    assert "Posture correction" in programme
    for later in ("Functional strength training", "Core stabilisation"):
        assert later not in programme


def test_an_interim_summary_in_phase_one_lists_phase_one_exercises(week3: Services) -> None:
    actor = set_up_clinic(week3)
    patient_id = treated_patient(week3, actor, pain=[(6, 4), (6, 4)], reassess=False)
    text = one_line(document_service(week3).print_discharge_summary(actor, patient_id).pdf)
    programme = text[text.index("Home programme to continue") :]
    assert "Posture correction" in programme
    assert "Functional strength training" not in programme
    assert "(1 weeks)" not in text
    assert not re.search(r"(?<![\w-])1 (visits|weeks|sessions)\b", text)


def test_an_interim_summary_before_any_session_says_treatment_has_not_started(
    week7: Services,
) -> None:
    actor = set_up_clinic(week7)
    patient_id = treated_patient(week7, actor, pain=[], reassess=False)
    text = one_line(document_service(week7).print_discharge_summary(actor, patient_id).pdf)
    assert "Treatment has not started: no session is recorded" in text
    programme = text[text.index("Home programme to continue") : text.index("Recommendations")]
    assert "None prescribed" in programme
    assert "Posture correction" not in programme
    for advice in ("Maintenance", "progressing the load", "If pain returns"):
        assert advice not in text


def test_an_interim_summary_gives_no_discharge_advice(week3: Services) -> None:
    actor = set_up_clinic(week3)
    patient_id = treated_patient(week3, actor, pain=[(6, 4), (5, 4), (4, 3)], reassess=False)
    text = one_line(document_service(week3).print_discharge_summary(actor, patient_id).pdf)
    recommendations = text[text.index("Recommendations") :]
    assert "hold phase 1 (Calm and correct)" in recommendations
    for advice in ("Maintenance", "If pain returns"):
        assert advice not in recommendations


def test_no_change_within_sessions_is_said_in_words(week3: Services) -> None:
    _documents, _patient_id, text = referred_and_worse(week3)
    assert "fell by 0.0" not in text
    assert "Immediate response: pain did not change within a session on average" in text


@pytest.mark.parametrize("ended", [False, True])
def test_the_clinicians_summaries_set_acp_and_nice_side_by_side_with_sources(
    week3: Services, ended: bool
) -> None:
    actor = set_up_clinic(week3)
    patient_id = treated_patient(week3, actor, pain=[(6, 4), (5, 4)], reassess=False)
    if ended:
        plan = week3.plans.active_plan(actor, patient_id)
        assert plan is not None
        week3.plans.discharge(
            actor,
            plan.id,
            reason="goals_met",
            note="",
            final_assessment=None,
            expected_version=plan.version,
        )
    text = one_line(document_service(week3).print_discharge_summary(actor, patient_id).pdf)
    evidence = text[text.index("What the guidelines say about acupuncture") :]
    assert "ACP 2017" in evidence
    assert "Acupuncture is recommended for acute and chronic low back pain" in evidence
    assert "Ann Intern Med 2017;166:514" in evidence
    assert "NICE NG59 (2016)" in evidence
    assert "Do not offer acupuncture" in evidence
    assert "NICE guideline NG59" in evidence
    assert "the clinic decides" in evidence


def test_the_roland_morris_change_is_judged_on_paper(week3: Services) -> None:
    actor = set_up_clinic(week3)
    patient_id = treated_patient(week3, actor, pain=[(6, 4), (5, 4)], reassess=False)
    plan = week3.plans.active_plan(actor, patient_id)
    assert plan is not None
    for kind, on, score in (("intake", plan.start_date, 14), ("reassessment", WEEK3.date(), 8)):
        week3.assessments.record(
            actor,
            patient_id,
            AssessmentInput(kind, Intake(assessed_on=on, nprs_current=6), rmdq_score=score),
        )
    text = one_line(document_service(week3).print_discharge_summary(actor, patient_id).pdf)
    assert "Disability (RMDQ-24)" in text
    assert "Disability (Roland-Morris) is 6 points better (14 → 8, 43 % of baseline)" in text


@pytest.fixture
def day_one(database: OpenDatabase) -> Services:
    return build_services(
        database.session_factory, clock=lambda: dt.datetime(2026, 1, 5, 16, 0, tzinfo=dt.UTC)
    )


def test_one_of_anything_is_singular_and_changes_are_in_plain_words(day_one: Services) -> None:
    actor = set_up_clinic(day_one)
    patient_id = treated_patient(day_one, actor, pain=[(4, 2)], reassess=False)
    documents = document_service(day_one)
    texts = [one_line(documents.print_plan_summary(actor, patient_id).pdf)]
    texts.append(one_line(documents.print_discharge_summary(actor, patient_id).pdf))
    plan = day_one.plans.active_plan(actor, patient_id)
    assert plan is not None
    day_one.plans.discharge(
        actor,
        plan.id,
        reason="goals_met",
        note="",
        final_assessment=None,
        expected_version=plan.version,
    )
    texts.append(one_line(documents.print_discharge_summary(actor, patient_id).pdf))
    texts.append(one_line(documents.print_plan_summary(actor, patient_id).pdf))
    for text in texts:
        assert not re.search(r"(?<![\w.,-])1 (visits|weeks|sessions|points|days)\b", text), text
        assert not re.search(r"[+−-]\d+ points?\b", text), text
    discharge = texts[2]
    assert "(1 week)" in discharge
    assert "1 of 1 scheduled visit attended" in discharge
    assert "2 points better" in discharge


def test_a_plan_never_started_is_not_started_after_its_last_week_too(
    database: OpenDatabase,
) -> None:
    week12 = build_services(
        database.session_factory, clock=lambda: dt.datetime(2026, 3, 25, 16, 0, tzinfo=dt.UTC)
    )
    actor = set_up_clinic(week12)
    patient_id = treated_patient(week12, actor, pain=[], reassess=False)
    text = one_line(document_service(week12).print_plan_summary(actor, patient_id).pdf)
    assert "Phase 1: Calm and correct — not started" in text
    assert "you are here" not in text
