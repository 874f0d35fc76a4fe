"""Words, not codes (issue 11): safety messages, screens' service texts and documents name
red flags, precautions, methods and adverse events in words, never as snake_case codes."""

from __future__ import annotations

import re

import pytest

from backclinic.db.database import OpenDatabase
from backclinic.domain.intake import Intake
from backclinic.domain.screening import FlagAnswer
from backclinic.reports.discharge_summary import render_discharge_summary
from backclinic.reports.plan_summary import render_plan_summary
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.errors import ValidationFailed
from backclinic.services.safety import ClearanceInput
from tests.services.test_documents import (
    NOW,
    TODAY,
    document_service,
    one_line,
    set_up_clinic,
    treated_patient,
)
from tests.services.test_plans import article_intake, no_red_flags
from tests.services.test_sessions import visit_input

CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


@pytest.fixture
def services(database: OpenDatabase) -> Services:
    return build_services(database.session_factory, clock=lambda: NOW)


def codes_in(text: str) -> list[str]:
    return CODE.findall(text)


def test_no_code_reaches_the_safety_messages_or_the_documents(services: Services) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor, reassess=False)
    screen = Intake(
        **{
            **article_intake(services).__dict__,
            "assessed_on": TODAY,
            "red_flags": no_red_flags(
                services,
                cancer_history=FlagAnswer.PRESENT,
                minor_trauma_osteoporosis=FlagAnswer.PRESENT,
            ),
            "precautions": ("anticoagulants", "pacemaker", "skin_lesion", "needle_phobia"),
        }
    )
    services.assessments.record(actor, patient_id, AssessmentInput("reassessment", screen))
    texts: list[str] = []
    status = services.safety.status(actor, patient_id)
    texts.append(status.message)
    texts += [i.label for i in (*status.red_flags, *status.precautions)]
    with pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(TODAY, electro=True))
    texts += list(refused.value.by_field.values())
    for weak in (ClearanceInput(("major_trauma",), "x-ray", "."),):
        with pytest.raises(ValidationFailed) as bad:
            services.safety.record_clearance(actor, patient_id, weak)
        texts += list(bad.value.by_field.values())
    services.safety.record_clearance(
        actor,
        patient_id,
        ClearanceInput(
            ("cancer_history", "minor_trauma_osteoporosis"),
            "specialist_review",
            "Oncology and bone density review: no concern",
        ),
    )
    texts += list(services.safety.record_lines(actor, patient_id))
    advice = services.safety.needling(("pregnancy", "pacemaker"))
    texts += [*advice.forbidden.values(), *advice.acknowledge.values()]
    texts += [advice.electro_refusal or "", advice.acknowledgement]
    texts += [words for _code, words in services.safety.clearance_methods()]
    documents = document_service(services)
    texts.append(one_line(render_plan_summary(documents.plan_summary(actor, patient_id)).pdf))
    texts.append(
        one_line(render_discharge_summary(documents.discharge_summary(actor, patient_id)).pdf)
    )
    found = sorted({code for text in texts for code in codes_in(text)})
    assert found == []
