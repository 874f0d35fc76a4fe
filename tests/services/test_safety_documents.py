"""A stop means stop on paper too: the plan summary of a patient on hold prints the urgent
referral instead of a programme (issue 11)."""

from __future__ import annotations

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
from tests.services.test_plans import article_intake, no_red_flags


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
