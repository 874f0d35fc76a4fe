"""Writing case files with no database: fixed order, derived scores, and read → write → read."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backclinic.domain.casefile.model import (
    CASE_FORMAT,
    Case,
    CaseAssessment,
    CasePatient,
    CaseScores,
    CaseSession,
)
from backclinic.domain.casefile.reader import read_case
from backclinic.domain.casefile.writer import case_document, case_text, session_document
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol
from backclinic.domain.session import SessionDetails

REPOSITORY = Path(__file__).resolve().parents[2]
OWN_CASES = sorted((REPOSITORY / "tests" / "cases").glob("*.json"))
NOW = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)


class NoRecordRules:
    def patient(self, patient: CasePatient, today: dt.date) -> tuple[str, str] | None:
        return None

    def assessment(self, assessment: CaseAssessment, today: dt.date) -> tuple[str, str] | None:
        return None


@pytest.fixture
def read(protocol: Protocol, catalogue: Catalogue) -> Callable[[Any], Case]:
    def reading(document: Any) -> Case:
        return read_case(
            document, protocol=protocol, catalogue=catalogue, now=NOW, checks=NoRecordRules()
        )

    return reading


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize("path", OWN_CASES, ids=lambda path: path.name)
def test_a_written_case_reads_back_as_the_same_case_and_writes_the_same_document(
    read: Callable[[Any], Case], protocol: Protocol, path: Path
) -> None:
    case = read(load(path))
    if case.plan is not None and case.plan.visits is None:
        case = dataclasses.replace(case, plan=dataclasses.replace(case.plan, visits=()))
    written = case_document(case, protocol.red_flag_items())

    again = read(json.loads(case_text(written)))

    assert again == case
    assert case_document(again, protocol.red_flag_items()) == written


def test_the_document_lists_its_parts_in_the_formats_order(
    read: Callable[[Any], Case], protocol: Protocol
) -> None:
    case = read(load(REPOSITORY / "tests" / "cases" / "discharged-with-amendments.json"))
    assert case.plan is not None
    with_earlier = dataclasses.replace(case, earlier_plans=(case.plan,))

    document = case_document(with_earlier, protocol.red_flag_items())

    assert list(document) == [
        "format",
        "patient",
        "assessments",
        "plan",
        "earlier_plans",
        "sessions",
    ]
    assert document["format"] == CASE_FORMAT
    assert list(case_document(case, protocol.red_flag_items())) == [
        "format",
        "patient",
        "assessments",
        "plan",
        "sessions",
    ]


def test_an_assessment_carries_its_derived_scores_only_when_given(
    read: Callable[[Any], Case], protocol: Protocol
) -> None:
    case = read(load(REPOSITORY / "tests" / "cases" / "article-office-worker.json"))
    intake = case.assessments[0]
    scored = dataclasses.replace(
        intake,
        scores=CaseScores(
            odi_percent=44.4, odi_complete=False, startback_risk=None, duration_class="chronic"
        ),
    )

    plain = case_document(case, protocol.red_flag_items())["assessments"][0]
    exported = case_document(
        dataclasses.replace(case, assessments=(scored,)), protocol.red_flag_items()
    )["assessments"][0]

    assert "odi_percent" not in plain
    assert exported["odi_percent"] == 44.4
    assert exported["odi_complete"] is False
    assert exported["duration_class"] == "chronic"
    assert "startback_risk" not in exported
    assert exported["red_flags"] == []


def test_a_date_only_session_is_written_as_its_date_leaving_out_empty_and_app_only_fields() -> None:
    noon = dt.datetime.combine(dt.date(2026, 1, 6), dt.time(12, 0)).astimezone()
    session = CaseSession(
        SessionDetails(
            performed_at=noon.astimezone(dt.UTC),
            modalities=("pt", "acupuncture"),
            pain_before=7,
            pain_after=5,
            acupoints=("BL23",),
            interventions=(("posture_correction", ""),),
            visit_id=12,
            performed_by=3,
        ),
        notes="tolerated well",
    )

    assert session_document(session) == {
        "date": "2026-01-06",
        "modalities": ["acupuncture", "pt"],
        "pain_before": 7,
        "pain_after": 5,
        "acupoints": ["BL23"],
        "exercises": ["posture_correction"],
        "notes": "tolerated well",
    }


def test_the_text_keeps_non_ascii_letters_and_ends_with_a_newline() -> None:
    text = case_text({"patient": {"family_name": "Núñez"}})

    assert "Núñez" in text
    assert text.endswith("}\n")
    assert text.startswith('{\n  "patient"')
