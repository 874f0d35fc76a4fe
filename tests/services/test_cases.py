"""Case files: import validates and stores in one transaction; export → import → export is exact."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import func, select

from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.models import AssessmentRow, AuditEventRow, PatientRow, TreatmentSessionRow
from backclinic.domain.resources import resources_dir
from backclinic.services.bundle import Services, build_services
from backclinic.services.cases import CaseFileError, CaseService
from backclinic.services.context import Actor
from backclinic.services.errors import NotFound, ServiceError, ValidationFailed
from backclinic.services.patients import PatientInput
from tests.case_file_errors import (
    BROKEN_ARTICLE,
    BROKEN_ARTICLE_RECORDS,
    BROKEN_DISCHARGED_COURSE,
)
from tests.records import stored_records

REPOSITORY = Path(__file__).resolve().parents[2]
# A copy of ../shared/cases/article-office-worker.json, so the suite never depends on it.
ARTICLE_CASE = REPOSITORY / "tests" / "cases" / "article-office-worker.json"
OWN_CASES = REPOSITORY / "tests" / "cases"
START = dt.date(2026, 1, 5)


def case_service(services: Services) -> CaseService:
    return services.cases


def article() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ARTICLE_CASE.read_text(encoding="utf-8"))
    return document


def own_case(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((OWN_CASES / name).read_text(encoding="utf-8"))
    return document


@pytest.fixture
def cases(services: Services) -> CaseService:
    return case_service(services)


@pytest.fixture
def write_case(tmp_path: Path) -> Callable[[Any, str], Path]:
    def write(document: Any, name: str = "case.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def other_services(tmp_path: Path) -> Iterator[Services]:
    """A second, empty database: where a round trip lands."""
    opened: OpenDatabase = open_database(f"sqlite:///{tmp_path / 'other.db'}")
    yield build_services(opened.session_factory)
    opened.engine.dispose()


def count(services: Services, row: type[Any], *where: Any) -> int:
    with stored_records(services) as session:
        return int(session.scalar(select(func.count()).select_from(row).where(*where)) or 0)


def audits(services: Services, action: str) -> list[AuditEventRow]:
    with stored_records(services) as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def test_the_schema_is_valid_draft_2020_12_and_accepts_every_shipped_case() -> None:
    schema = json.loads((resources_dir() / "schemas" / "case.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for path in sorted(OWN_CASES.glob("*.json")):
        if path.exists():
            errors = list(validator.iter_errors(json.loads(path.read_text("utf-8"))))
            assert errors == [], path.name


def test_the_article_case_imports_with_one_audit_entry(
    services: Services, cases: CaseService, actor: Actor
) -> None:
    result = cases.import_file(actor, ARTICLE_CASE)

    assert result.describe() == (
        "Imported CASE-0045 (Okafor, Grace): 1 assessment, 0 sessions, no plan."
    )
    patient = services.patients.by_mrn(actor, "CASE-0045")
    assert (patient.family_name, patient.occupation) == ("Okafor", "office worker")
    [entry] = audits(services, "import")
    assert entry.entity == "patient" and entry.patient_id == patient.id
    assert entry.details["file"] == "article-office-worker.json"
    assert entry.details["assessments"] == 1


def test_the_article_intake_exports_odi_44_4_with_its_derived_scores(
    cases: CaseService, actor: Actor, write_case: Callable[[Any, str], Path]
) -> None:
    cases.import_file(actor, write_case(article(), "her.json"))

    [intake] = cases.export_document(actor, "CASE-0045")["assessments"]

    assert intake["odi_percent"] == 44.4
    assert intake["odi_complete"] is True
    assert intake["duration_class"] == "chronic"
    assert "startback_risk" not in intake
    assert intake["odi_answers"][7] is None


def test_startback_risk_is_exported_where_it_was_answered(cases: CaseService, actor: Actor) -> None:
    cases.import_file(actor, OWN_CASES / "acute-lifter.json")

    [intake] = cases.export_document(actor, "CASE-0101")["assessments"]

    assert intake["startback_risk"] == "low"
    assert intake["duration_class"] == "acute"


def test_session_dosages_are_kept_beside_the_exercise_codes(
    cases: CaseService, actor: Actor
) -> None:
    cases.import_file(actor, OWN_CASES / "acute-lifter.json")

    first, second = cases.export_document(actor, "CASE-0101")["sessions"]

    assert first["exercises"] == ["myofascial_release"] and "interventions" not in first
    assert second["exercises"] == ["posture_correction", "stretching"]
    assert second["interventions"][1] == {"code": "stretching", "dosage": "hold 30 s, 3 times"}
    assert second["date"].startswith("2026-02-05T")


@pytest.mark.parametrize(("change", "message"), BROKEN_ARTICLE + BROKEN_ARTICLE_RECORDS)
def test_a_bad_case_is_refused_with_the_path_of_its_first_error_and_stores_nothing(
    services: Services,
    cases: CaseService,
    actor: Actor,
    write_case: Callable[[Any, str], Path],
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    document = article()
    change(document)
    path = write_case(document, "bad.json")

    with pytest.raises(CaseFileError) as raised:
        cases.import_file(actor, path)

    assert str(raised.value).startswith(f"bad.json: {message}")
    with pytest.raises(CaseFileError):
        cases.validate(document)
    assert count(services, PatientRow) == 0
    assert count(services, AssessmentRow) == 0
    assert audits(services, "import") == []


def test_a_file_that_is_not_json_is_refused_with_line_and_column(
    services: Services, cases: CaseService, actor: Actor, tmp_path: Path
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "backclinic-case/1",\n  "patient": {,}\n}', encoding="utf-8")

    with pytest.raises(CaseFileError, match=r"broken\.json: not valid JSON at line 2 column 15"):
        cases.import_file(actor, path)
    assert count(services, PatientRow) == 0


def test_a_missing_file_is_one_sentence(cases: CaseService, actor: Actor, tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match=r"nowhere\.json does not exist\.$"):
        cases.import_file(actor, tmp_path / "nowhere.json")


def test_an_existing_mrn_is_refused_without_update_and_left_unchanged(
    services: Services, cases: CaseService, actor: Actor, write_case: Callable[[Any, str], Path]
) -> None:
    cases.import_file(actor, write_case(article(), "first.json"))
    again = article()
    again["patient"]["occupation"] = "architect"

    with pytest.raises(ServiceError) as raised:
        cases.import_file(actor, write_case(again, "again.json"))

    assert str(raised.value) == (
        "MRN CASE-0045 already exists; use --update to replace its record."
    )
    assert services.patients.by_mrn(actor, "CASE-0045").occupation == "office worker"
    assert count(services, AssessmentRow) == 1
    assert len(audits(services, "import")) == 1


def test_update_changes_demographics_adds_new_records_and_keeps_the_rest(
    services: Services, cases: CaseService, actor: Actor, write_case: Callable[[Any, str], Path]
) -> None:
    first = own_case("acute-lifter.json")
    cases.import_file(actor, write_case(first, "first.json"))
    second = copy.deepcopy(first)
    second["patient"]["family_name"] = "Brennan-Hale"
    second["sessions"] = [
        second["sessions"][0],
        {"date": "2026-02-10", "modalities": ["pt"], "pain_before": 4, "pain_after": 3},
    ]

    result = cases.import_file(actor, write_case(second, "second.json"), update=True)

    assert result.describe() == (
        "Updated CASE-0101 (Brennan-Hale, Tom): added 0 assessments, 1 session, no plan; "
        "kept 2 records already on record."
    )
    assert services.patients.search(actor, "brennan-hale").rows[0].mrn == "CASE-0101"
    # The session of 5 February is not in the second file, and is kept.
    assert count(services, TreatmentSessionRow) == 3


def test_update_refuses_a_file_that_rewrites_a_stored_assessment(
    services: Services, cases: CaseService, actor: Actor, write_case: Callable[[Any, str], Path]
) -> None:
    cases.import_file(actor, write_case(article(), "first.json"))
    changed = article()
    changed["patient"]["occupation"] = "architect"
    changed["assessments"][0]["nprs"]["current"] = 2

    with pytest.raises(CaseFileError, match=r"assessments\[0\]: differs from the intake of"):
        cases.import_file(actor, write_case(changed, "changed.json"), update=True)

    assert services.patients.by_mrn(actor, "CASE-0045").occupation == "office worker"


@pytest.mark.parametrize(("red_flags", "exported"), [(None, None), ([], [])])
def test_red_flags_round_trip_keeping_unscreened_apart_from_none(
    cases: CaseService,
    actor: Actor,
    write_case: Callable[[Any, str], Path],
    red_flags: list[str] | None,
    exported: list[str] | None,
) -> None:
    document = article()
    document["assessments"][0]["red_flags"] = red_flags

    cases.import_file(actor, write_case(document, "case.json"))

    assert cases.export_document(actor, "CASE-0045")["assessments"][0]["red_flags"] == exported


def test_a_missing_red_flags_field_means_never_screened_and_blocks_planning(
    services: Services, cases: CaseService, actor: Actor
) -> None:
    cases.import_file(actor, OWN_CASES / "unscreened.json")

    assert cases.export_document(actor, "CASE-0106")["assessments"][0]["red_flags"] is None
    with pytest.raises(ValidationFailed, match="not been screened"):
        services.plans.create_recommended(actor, "CASE-0106", start=START)


def test_cauda_equina_signs_import_but_no_plan_can_be_made(
    services: Services, cases: CaseService, actor: Actor
) -> None:
    cases.import_file(actor, OWN_CASES / "cauda-equina-flag.json")

    exported = cases.export_document(actor, "CASE-0102")["assessments"][0]
    assert exported["red_flags"] == ["saddle_anaesthesia", "bilateral_sciatica"]
    with pytest.raises(ValidationFailed, match="cauda equina"):
        services.plans.create_recommended(actor, "CASE-0102", start=START)


def test_a_plan_needling_a_point_the_precaution_rules_out_is_refused_whole(
    services: Services, cases: CaseService, actor: Actor, write_case: Callable[[Any, str], Path]
) -> None:
    document = own_case("pregnancy-precaution.json")
    forbidden = next(
        code
        for code, point in services.catalogue.acupoints.items()
        if "pregnancy" in point.cautions
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

    with pytest.raises(CaseFileError, match=rf"plan\.phases\[0\]\.acupoints\[1\]: {forbidden}"):
        cases.import_file(actor, write_case(document, "pregnant.json"))
    assert count(services, PatientRow) == 0


def test_a_non_ascii_name_round_trips_and_is_written_as_utf8(
    cases: CaseService, actor: Actor, tmp_path: Path
) -> None:
    cases.import_file(actor, OWN_CASES / "non-ascii-name.json")

    written = cases.export_file(actor, "CASE-0105", tmp_path / "zoë.json")

    text = written.read_text(encoding="utf-8")
    assert '"family_name": "Núñez-Øster"' in text
    assert '"given_name": "Zoë 美玲"' in text
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert json.loads(text)["patient"]["address"] == "Große Straße 5, 10115 Berlin"


def test_export_names_a_missing_folder_and_an_unknown_mrn(
    services: Services, cases: CaseService, actor: Actor, tmp_path: Path
) -> None:
    cases.import_file(actor, OWN_CASES / "unscreened.json")

    with pytest.raises(ServiceError, match=r"^The folder .*missing does not exist"):
        cases.export_file(actor, "CASE-0106", tmp_path / "missing" / "out.json")
    with pytest.raises(NotFound, match=r"No patient has MRN NOPE-1\."):
        cases.export_file(actor, "NOPE-1", tmp_path / "out.json")
    assert audits(services, "export") == []


def test_export_writes_one_audit_entry(
    services: Services, cases: CaseService, actor: Actor, tmp_path: Path
) -> None:
    cases.import_file(actor, OWN_CASES / "unscreened.json")

    cases.export_file(actor, "CASE-0106", tmp_path / "out.json")

    [entry] = audits(services, "export")
    assert entry.entity == "patient" and entry.details["file"] == "out.json"


def _round_trip(
    cases: CaseService, actor: Actor, mrn: str, other: Services, tmp_path: Path
) -> tuple[str, str]:
    first = cases.export_file(actor, mrn, tmp_path / "first.json").read_text("utf-8")
    elsewhere = case_service(other)
    # The empty database has no clinicians: import there as the command line does.
    system = other.clinic.system_actor()
    elsewhere.import_file(system, tmp_path / "first.json")
    second = elsewhere.export_file(system, mrn, tmp_path / "second.json").read_text("utf-8")
    return first, second


@pytest.mark.parametrize("name", sorted(p.name for p in OWN_CASES.glob("*.json")))
def test_export_import_export_is_exact_for_every_edge_case(
    cases: CaseService, actor: Actor, other_services: Services, tmp_path: Path, name: str
) -> None:
    result = cases.import_file(actor, OWN_CASES / name)

    first, second = _round_trip(cases, actor, result.mrn, other_services, tmp_path)

    assert first == second


def test_export_import_export_is_exact_with_a_plan_and_sessions(
    services: Services,
    cases: CaseService,
    actor: Actor,
    other_services: Services,
    tmp_path: Path,
    write_case: Callable[[Any, str], Path],
) -> None:
    document = article()
    document["sessions"] = [
        {
            "date": "2026-01-05",
            "modalities": ["acupuncture", "pt"],
            "pain_before": 6,
            "pain_after": 4,
            "acupoints": ["BL23", "BL25", "BL40"],
            "exercises": ["posture_correction"],
            "notes": "tolerated well",
            "electro": True,
        },
        {
            "date": "2026-01-08T09:45:00+00:00",
            "modalities": ["pt"],
            "pain_before": 5,
            "pain_after": 4,
            "acupoints": [],
            "exercises": ["myofascial_release"],
            "notes": "",
        },
    ]
    cases.import_file(actor, write_case(document, "her.json"))
    services.plans.create_recommended(actor, "CASE-0045", start=START)

    first, second = _round_trip(cases, actor, "CASE-0045", other_services, tmp_path)

    assert first == second
    exported = json.loads(first)
    assert [phase["acupuncture"] for phase in exported["plan"]["phases"]] == [
        {"per_week": 2},
        {"per_week": 1},
        {"as_needed": True},
    ]
    assert len(exported["sessions"]) == 2
    assert exported["sessions"][0]["date"] == "2026-01-05"


def test_a_plan_without_visits_is_scheduled_from_its_phases(
    services: Services, cases: CaseService, actor: Actor, write_case: Callable[[Any, str], Path]
) -> None:
    document = article()
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
                "pt_focus": ["posture_correction", "myofascial_release"],
            },
            {
                "number": 2,
                "start_week": 3,
                "end_week": 5,
                "acupuncture": {"as_needed": True},
                "pt_per_week": 1,
                "pt_focus": ["core_stabilization"],
            },
        ],
    }

    result = cases.import_file(actor, write_case(document, "planned.json"))

    assert result.plan_visits == 7
    plan = cases.export_document(actor, "CASE-0045")["plan"]
    assert plan["phases"][0]["name"] == "Calm and correct"
    assert plan["phases"][1]["pt_interventions"][0]["dosage"]
    assert sum("acupuncture" in v["modalities"] for v in plan["visits"]) == 4


def test_plan_phases_must_follow_each_other(
    cases: CaseService, write_case: Callable[[Any, str], Path], actor: Actor
) -> None:
    document = article()
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

    with pytest.raises(CaseFileError) as raised:
        cases.validate(document)

    # The schema error (9 a week) comes before the semantic one (the gap at week 3).
    assert str(raised.value) == "plan.phases[1].acupuncture.per_week: 9 is above 7"
    document["plan"]["phases"][1]["acupuncture"] = {"per_week": 1}
    with pytest.raises(CaseFileError, match=r"plan\.phases\[1\]\.start_week: 4 should be 3"):
        cases.validate(document)


def test_a_document_that_is_not_an_object_is_refused_at_the_top(cases: CaseService) -> None:
    with pytest.raises(CaseFileError) as raised:
        cases.validate([1, 2])

    assert str(raised.value) == "case file: expected an object, got [1, 2]"


def test_sessions_amendments_reassessments_and_discharge_round_trip_exactly(
    cases: CaseService, actor: Actor, other_services: Services, tmp_path: Path
) -> None:
    """A discharged course: sessions (one amended twice), missed visits, a reassessment, and
    the discharge (plan status, date, reason, note, and the discharge assessment)."""
    result = cases.import_file(actor, OWN_CASES / "discharged-with-amendments.json")

    first, second = _round_trip(cases, actor, result.mrn, other_services, tmp_path)

    assert first == second
    exported = json.loads(first)
    # The file predates the derived course block, which export adds; the rest is as read.
    assert exported.pop("course")["status"] == "discharged"
    assert exported == json.loads(json.dumps(own_case("discharged-with-amendments.json")))
    assert [a["kind"] for a in exported["assessments"]] == ["intake", "reassessment", "discharge"]
    assert [len(a["psfs"]) for a in exported["assessments"]] == [3, 3, 3]
    plan = exported["plan"]
    assert (plan["status"], plan["ended_on"], plan["end_reason"]) == (
        "discharged",
        "2026-02-23",
        "goals_met",
    )
    assert plan["end_note"].startswith("Teaching full days")
    assert [v["status"] for v in plan["visits"]].count("missed") == 2
    [amended] = [s for s in exported["sessions"] if "amends" in s]
    assert amended["amendment_reason"] == "Needle count recounted at removal."
    assert amended["amends"]["amends"]["pain_before"] == 6
    # In the second database: the originals are kept, superseded, each amendment points back.
    patient = other_services.patients.by_mrn(actor, result.mrn)
    history = other_services.sessions.history(actor, patient.id, include_superseded=True)
    chain = [s for s in history if s.data.performed_at == history[2].data.performed_at]
    assert [s.superseded for s in chain] == [True, True, False]
    assert [s.amends_id for s in chain] == [None, chain[0].id, chain[1].id]
    assert len(other_services.sessions.history(actor, patient.id)) == len(exported["sessions"])
    stored_plan = other_services.plans.latest_plan(actor, patient.id)
    assert stored_plan is not None and stored_plan.end_reason == "goals_met"
    assert other_services.plans.active_plan(actor, patient.id) is None
    # Every done visit is tied again to the session of its day.
    linked = {s.data.visit_id for s in other_services.sessions.history(actor, patient.id)}
    done = {v.id for v in stored_plan.visits if v.status == "done"}
    assert done == linked


@pytest.mark.parametrize(("change", "message"), BROKEN_DISCHARGED_COURSE)
def test_amendments_and_discharge_in_a_case_file_are_checked(
    services: Services,
    cases: CaseService,
    actor: Actor,
    write_case: Callable[[Any, str], Path],
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    document = own_case("discharged-with-amendments.json")
    change(document)
    with pytest.raises(CaseFileError, match=re.escape(message)):
        cases.import_file(actor, write_case(document, "bad.json"))
    assert count(services, PatientRow) == 0


def test_updating_from_the_same_discharged_course_keeps_every_record(
    cases: CaseService, actor: Actor
) -> None:
    path = OWN_CASES / "discharged-with-amendments.json"
    cases.import_file(actor, path)

    again = cases.import_file(actor, path, update=True)

    assert (again.assessments, again.sessions, again.plan_visits) == (0, 0, None)
    assert again.kept == 3 + 10 + 1


def test_a_second_course_keeps_the_first_plan_through_export_and_import(
    database: Any,
    cases: CaseService,
    actor: Actor,
    other_services: Services,
    tmp_path: Path,
) -> None:
    """A discharged first plan and a new active one: neither is lost on export."""
    from backclinic.services.bundle import build_services

    result = cases.import_file(actor, OWN_CASES / "discharged-with-amendments.json")
    later = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
    clinic = build_services(database.session_factory, clock=lambda: later)
    second = clinic.plans.create_recommended(actor, result.mrn, start=later.date())
    assert second.status == "active"

    first_json, second_json = _round_trip(cases, actor, result.mrn, other_services, tmp_path)

    assert first_json == second_json
    exported = json.loads(first_json)
    assert list(exported) == [
        "format",
        "patient",
        "assessments",
        "plan",
        "earlier_plans",
        "sessions",
        "course",
    ]
    assert exported["plan"]["start_date"] == "2026-06-01"
    assert [p["status"] for p in exported["earlier_plans"]] == ["discharged"]
    patient = other_services.patients.by_mrn(actor, result.mrn)
    active = other_services.plans.active_plan(actor, patient.id)
    assert active is not None and active.start_date == dt.date(2026, 6, 1)
    # The first course's sessions still belong to the first plan.
    owners = {s.plan_id for s in other_services.sessions.history(actor, patient.id)}
    assert len(owners) == 1 and None not in owners and active.id not in owners


def test_earlier_plans_without_a_current_plan_are_refused(
    cases: CaseService, actor: Actor, write_case: Callable[[Any, str], Path]
) -> None:
    document = own_case("discharged-with-amendments.json")
    document["earlier_plans"] = [document["plan"]]
    document["plan"] = None
    with pytest.raises(CaseFileError, match="earlier plans need the current plan"):
        cases.import_file(actor, write_case(document, "odd.json"))


def test_exported_visits_carry_their_time_and_clinician_through_a_round_trip(
    cases: CaseService,
    services: Services,
    actor: Actor,
    other_services: Services,
    tmp_path: Path,
) -> None:
    cases.import_file(actor, ARTICLE_CASE)
    services.plans.create_recommended(actor, "CASE-0045", start=dt.date(2026, 1, 5))

    first, second = _round_trip(cases, actor, "CASE-0045", other_services, tmp_path)

    visits = json.loads(first)["plan"]["visits"]
    assert visits and all(v["time"] == "08:00" for v in visits)
    assert {v["clinician"] for v in visits} == {"mei"}
    assert first == second


def test_a_visit_time_that_is_not_hh_mm_is_refused_with_its_path(
    cases: CaseService, actor: Actor, write_case: Callable[[Any, str], Path]
) -> None:
    case = own_case("discharged-with-amendments.json")
    case["plan"]["visits"][0]["time"] = "25:00"

    with pytest.raises(CaseFileError) as refused:
        cases.import_file(actor, write_case(case, "bad-time.json"))

    assert "plan.visits[0].time" in str(refused.value)


def _article_treated(services: Services, cases: CaseService, actor: Actor, write: Any) -> str:
    document = article()
    document["sessions"] = [
        {
            "date": day,
            "modalities": ["acupuncture", "pt"],
            "pain_before": before,
            "pain_after": after,
            "acupoints": ["BL23", "BL40"],
            "exercises": ["posture_correction"],
            "notes": "",
        }
        for day, before, after in (("2026-01-05", 7, 5), ("2026-01-08", 6, 4), ("2026-01-12", 4, 3))
    ]
    cases.import_file(actor, write(document, "her.json"))
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    return "CASE-0045"


def test_the_export_carries_the_course_with_the_verdicts_the_progress_tab_reads(
    services: Services,
    cases: CaseService,
    actor: Actor,
    write_case: Callable[[Any, str], Path],
) -> None:
    mrn = _article_treated(services, cases, actor, write_case)
    exported = cases.export_document(actor, mrn)
    jsonschema.validate(
        exported,
        json.loads((resources_dir() / "schemas" / "case.schema.json").read_text("utf-8")),
    )
    patient = services.patients.by_mrn(actor, mrn)
    assert patient is not None
    course = services.episodes.course(actor, patient.id)
    block = exported["course"]
    assert block["status"] == course.status
    assert block["phase"] == course.current_phase
    assert block["attendance"]["attended"] == course.attendance.attended
    pain = next(v for v in block["verdicts"] if v["measure"] == "nprs")
    assert pain["verdict"] == "improved"
    assert (pain["baseline"], pain["latest"], pain["points_better"]) == (6, 4, 2)
    assert pain["thresholds"] == {
        "meaningful_points": 2,
        "meaningful_percent": 30,
        "measurement_error": 2,
        "either": True,
    }
    assert "Ostelo" in pain["source"]
    assert pain["rule"].startswith("a change of at least 2 points or 30 % of baseline")
    assert [s["text"] for s in block["suggestions"]] == [s.why for s in course.suggestions]
    assert all(s["rule"] for s in block["suggestions"])


def test_a_course_block_in_a_file_is_ignored_on_import_and_regenerated_on_export(
    services: Services,
    cases: CaseService,
    actor: Actor,
    other_services: Services,
    tmp_path: Path,
    write_case: Callable[[Any, str], Path],
) -> None:
    mrn = _article_treated(services, cases, actor, write_case)
    exported = cases.export_document(actor, mrn)
    doctored = copy.deepcopy(exported)
    for verdict in doctored["course"]["verdicts"]:
        verdict["verdict"] = "worse"
    doctored["course"]["suggestions"] = []
    system = other_services.clinic.system_actor()
    elsewhere = case_service(other_services)
    elsewhere.import_file(system, write_case(doctored, "doctored.json"))
    assert elsewhere.export_document(system, mrn)["course"] == exported["course"]


def test_a_file_from_before_the_course_block_still_imports(
    cases: CaseService, actor: Actor
) -> None:
    document = article()
    assert "course" not in document
    cases.import_file(actor, ARTICLE_CASE)
    assert "course" in cases.export_document(actor, document["patient"]["mrn"])


def test_importing_a_patient_already_registered_under_another_mrn_warns_with_that_mrn(
    services: Services, cases: CaseService, actor: Actor, write_case: Callable[[Any, str], Path]
) -> None:
    document = article()
    patient = document["patient"]
    already = services.patients.register(
        actor,
        PatientInput(
            family_name=patient["family_name"].upper(),
            given_name=patient["given_name"],
            date_of_birth=dt.date.fromisoformat(patient["date_of_birth"]),
            mrn="BC-777",
        ),
    )

    result = cases.import_file(actor, write_case(document, "again.json"))

    lines = result.describe().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("Warning: CASE-0045 may be a duplicate: BC-777 (")
    [entry] = audits(services, "import")
    assert entry.details["possible_duplicates"] == [already.mrn]
