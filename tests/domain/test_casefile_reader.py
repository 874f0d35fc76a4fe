"""Reading case files with no database: every shipped case parses, every error is one sentence."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backclinic.domain.casefile.model import Case, CaseAssessment, CaseFileProblem, CasePatient
from backclinic.domain.casefile.reader import load_case_document, parse_case_text, read_case
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol
from backclinic.domain.screening import FlagAnswer
from tests.case_file_errors import BROKEN_ARTICLE, BROKEN_DISCHARGED_COURSE

REPOSITORY = Path(__file__).resolve().parents[2]
OWN_CASES = REPOSITORY / "tests" / "cases"
# The clinic's shared cases sit beside the checkout (../shared), or beside its worktrees.
SHARED_CASES = [
    path
    for folder in (REPOSITORY.parent, REPOSITORY.parents[1])
    for path in sorted((folder / "shared" / "cases").glob("*.json"))
]
SHIPPED = sorted(OWN_CASES.glob("*.json")) + SHARED_CASES
NOW = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)


class NoRecordRules:
    """The forms' own rules are the service's; here every record passes them."""

    def patient(self, patient: CasePatient, today: dt.date) -> tuple[str, str] | None:
        return None

    def assessment(self, assessment: CaseAssessment, today: dt.date) -> tuple[str, str] | None:
        return None


class RefusesTheSecondAssessment:
    def __init__(self) -> None:
        self.seen = 0

    def patient(self, patient: CasePatient, today: dt.date) -> tuple[str, str] | None:
        return None

    def assessment(self, assessment: CaseAssessment, today: dt.date) -> tuple[str, str] | None:
        self.seen += 1
        if self.seen == 2:
            return ("nprs.best", "best pain cannot be higher than worst pain")
        return None


def document_of(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((OWN_CASES / name).read_text(encoding="utf-8"))
    return document


@pytest.fixture
def read(protocol: Protocol, catalogue: Catalogue) -> Callable[[Any], Case]:
    def reading(document: Any) -> Case:
        return read_case(
            document, protocol=protocol, catalogue=catalogue, now=NOW, checks=NoRecordRules()
        )

    return reading


def problem_of(read: Callable[[Any], Case], document: Any) -> str:
    with pytest.raises(CaseFileProblem) as raised:
        read(document)
    return str(raised.value)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_every_shipped_case_reads_without_a_database(
    read: Callable[[Any], Case], path: Path
) -> None:
    document = load_case_document(path)

    case = read(document)

    assert case.patient.mrn == document["patient"]["mrn"]
    assert len(case.assessments) == len(document.get("assessments") or [])
    assert len(case.sessions) == len(document.get("sessions") or [])
    assert (case.plan is None) == (document.get("plan") is None)


def test_the_article_intake_reads_as_the_domain_intake(read: Callable[[Any], Case]) -> None:
    case = read(document_of("article-office-worker.json"))

    intake = case.assessments[0].intake
    assert case.patient.date_of_birth == dt.date(1980, 11, 2)
    assert intake.assessed_on == dt.date(2026, 1, 5)
    assert intake.odi_answers == (3, 1, 2, 1, 4, 2, 2, None, 2, 3)
    assert intake.red_flags is not None
    assert set(intake.red_flags.values()) == {FlagAnswer.ABSENT}
    assert case.assessments[0].scores is None


def test_a_plan_without_visits_is_left_to_be_scheduled_and_pt_focus_takes_the_catalogue_dosage(
    read: Callable[[Any], Case], catalogue: Catalogue
) -> None:
    document = document_of("article-office-worker.json")
    document["plan"] = {
        "protocol": "integrative_lbp",
        "protocol_version": 1,
        "start_date": "2026-01-05",
        "phases": [
            {
                "number": 1,
                "start_week": 1,
                "end_week": 2,
                "acupuncture": {"per_week": 2},
                "pt_focus": ["posture_correction"],
            }
        ],
    }

    plan = read(document).plan

    assert plan is not None and plan.visits is None
    phase = plan.choices.phases[0]
    assert phase.name == "Calm and correct"
    assert phase.pt_focus == ("posture_correction",)
    assert phase.pt_interventions[0].dosage == catalogue.interventions["posture_correction"].dosage


@pytest.mark.parametrize(("change", "message"), BROKEN_ARTICLE)
def test_a_bad_case_names_the_path_of_its_first_error(
    read: Callable[[Any], Case], change: Callable[[dict[str, Any]], None], message: str
) -> None:
    document = document_of("article-office-worker.json")
    change(document)

    assert problem_of(read, document).startswith(message)


def _earlier_plans_alone(document: dict[str, Any]) -> None:
    document["earlier_plans"] = [document["plan"]]
    document["plan"] = None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        *BROKEN_DISCHARGED_COURSE,
        (_earlier_plans_alone, "plan: earlier plans need the current plan beside them"),
    ],
)
def test_amendments_discharges_and_earlier_plans_are_checked(
    read: Callable[[Any], Case], change: Callable[[dict[str, Any]], None], message: str
) -> None:
    document = document_of("discharged-with-amendments.json")
    change(document)

    assert problem_of(read, document).startswith(message)


def test_a_schema_error_comes_before_a_gap_between_phases(read: Callable[[Any], Case]) -> None:
    document = document_of("article-office-worker.json")
    document["plan"] = {
        "protocol": "integrative_lbp",
        "protocol_version": 1,
        "start_date": "2026-01-05",
        "phases": [
            {
                "number": 1,
                "start_week": 1,
                "end_week": 2,
                "acupuncture": {"per_week": 2},
                "pt_per_week": 2,
            },
            {
                "number": 2,
                "start_week": 4,
                "end_week": 5,
                "acupuncture": {"per_week": 9},
                "pt_per_week": 1,
            },
        ],
    }

    assert problem_of(read, document) == "plan.phases[1].acupuncture.per_week: 9 is above 7"
    document["plan"]["phases"][1]["acupuncture"] = {"per_week": 1}
    assert problem_of(read, document) == (
        "plan.phases[1].start_week: 4 should be 3, right after the previous phase"
    )


def test_a_point_the_intakes_precaution_rules_out_is_named_with_the_precaution(
    read: Callable[[Any], Case], catalogue: Catalogue
) -> None:
    document = document_of("pregnancy-precaution.json")
    forbidden = next(
        code for code, point in catalogue.acupoints.items() if "pregnancy" in point.cautions
    )
    document["plan"] = {
        "protocol": "integrative_lbp",
        "protocol_version": 1,
        "start_date": "2026-04-06",
        "phases": [
            {
                "number": 1,
                "start_week": 1,
                "end_week": 2,
                "acupuncture": {"per_week": 1},
                "pt_per_week": 1,
                "pt_focus": ["posture_correction"],
                "acupoints": ["BL23", forbidden],
            }
        ],
    }

    assert problem_of(read, document).startswith(
        f"plan.phases[0].acupoints[1]: {forbidden} is not offered because of the precaution "
        f"'{catalogue.label('precautions', 'pregnancy')}'."
    )


def test_a_document_that_is_not_an_object_is_refused_at_the_top(
    read: Callable[[Any], Case],
) -> None:
    assert problem_of(read, [1, 2]) == "case file: expected an object, got [1, 2]"


def test_a_record_rule_of_the_caller_is_reported_at_its_records_path(
    protocol: Protocol, catalogue: Catalogue
) -> None:
    document = document_of("article-office-worker.json")
    document["assessments"].append(copy.deepcopy(document["assessments"][0]))
    document["assessments"][1]["kind"] = "reassessment"
    document["sessions"] = [{"date": "2026-01-06", "modalities": ["pt"], "acupoints": ["BL99"]}]

    with pytest.raises(CaseFileProblem) as raised:
        read_case(
            document,
            protocol=protocol,
            catalogue=catalogue,
            now=NOW,
            checks=RefusesTheSecondAssessment(),
        )

    # The assessment comes before the session in the file, so its problem is the one named.
    assert str(raised.value) == (
        "assessments[1].nprs.best: best pain cannot be higher than worst pain"
    )


def test_text_that_is_not_json_names_line_and_column() -> None:
    with pytest.raises(CaseFileProblem) as raised:
        parse_case_text('{"format": "backclinic-case/1",\n  "patient": {,}\n}')

    assert raised.value.location == ""
    assert str(raised.value) == "not valid JSON at line 2 column 15."


def test_a_file_that_is_missing_or_a_folder_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(CaseFileProblem, match=r"nowhere\.json does not exist\.$"):
        load_case_document(tmp_path / "nowhere.json")
    with pytest.raises(CaseFileProblem, match=r"is a folder, not a case file\.$"):
        load_case_document(tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text("[1,", encoding="utf-8")
    with pytest.raises(CaseFileProblem, match=r"broken\.json: not valid JSON at line 1"):
        load_case_document(broken)
