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
    assert "Phase 1: Calm and correct — you are here" in text
    assert "Phase 3: Strengthen and prevent — you are here" not in text
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
    first = text.index("Referred on")
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
