"""Safety rules at the other entries (issue 11): the intake record and the case import."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.cases import CaseFileError
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.patients import PatientInput
from tests.services.test_cases import ARTICLE_CASE
from tests.services.test_plans import article_intake


def test_pregnancy_for_a_patient_recorded_as_male_is_refused_with_the_rule(
    services: Services, actor: Actor
) -> None:
    patient = services.patients.register(
        actor, PatientInput("Okafor", "Sam", dt.date(1980, 11, 2), sex="male")
    )
    with pytest.raises(ValidationFailed) as refused:
        services.assessments.record(
            actor,
            patient.id,
            AssessmentInput("intake", article_intake(services, precautions=("pregnancy",))),
        )
    message = refused.value.by_field["precautions"]
    assert "Pregnancy" in message and "male" in message
    assert services.assessments.for_patient(actor, patient.id) == []


def test_a_case_file_with_pregnancy_for_a_male_patient_is_refused_naming_the_path(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    document = json.loads(ARTICLE_CASE.read_text(encoding="utf-8"))
    document["patient"]["sex"] = "male"
    document["assessments"][0]["precautions"] = ["pregnancy"]
    path = tmp_path / "him.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CaseFileError) as refused:
        services.cases.import_file(actor, path)
    assert "assessments[0].precautions[0]" in str(refused.value)
    assert "male" in str(refused.value)


def test_imported_history_that_broke_precautions_is_imported_and_reported_once_per_session(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    from backclinic.db.models import AuditEventRow
    from tests.records import stored_records

    document = json.loads(ARTICLE_CASE.read_text(encoding="utf-8"))
    document["assessments"][0]["precautions"] = ["pregnancy", "pacemaker"]
    document["sessions"] = [
        {
            "date": "2026-01-06",
            "modalities": ["acupuncture"],
            "acupoints": ["SP6", "LI4", "BL67"],
            "electro": True,
        },
        {"date": "2026-01-08", "modalities": ["acupuncture"], "acupoints": ["BL23"]},
    ]
    path = tmp_path / "her.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = services.cases.import_file(actor, path)
    assert result.sessions == 2
    (notice,) = result.notices
    assert notice.startswith("Session of 6 Jan 2026:")
    for words in ("SP6", "LI4", "BL67", "electro-acupuncture", "Pregnancy", "pacemaker"):
        assert words in notice
    with stored_records(services) as session:
        entry = session.query(AuditEventRow).filter_by(action="import").one()
        assert entry.details["safety_notices"] == [notice]
