"""Issue 11, what remained: the derived "age over 50 with new pain", precautions asked
(present / absent / not asked), the pregnancy acknowledgement of lumbosacral and lower
abdominal points, and neurological signs kept with the intake; at the service and the case
import, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest

from backclinic.domain.screening import FlagAnswer
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.cases import CaseFileError
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.patients import PatientInput
from backclinic.services.plans import choices_from_proposal
from tests.services.test_plans import MON_TO_FRI, START, article_intake, grace, no_red_flags
from tests.services.test_sessions import visit_input

CASES = Path(__file__).parents[1] / "cases"


def elder(services: Services, actor: Actor, **changes: object) -> int:
    """A 70-year-old with three weeks of new pain and every red flag answered absent."""
    patient = services.patients.register(
        actor, PatientInput("Nakamura", "Hiro", dt.date(1955, 6, 1), mrn="CASE-0070")
    )
    values: dict[str, object] = {"onset_weeks": 3, "recurrent": False}
    values.update(changes)
    services.assessments.record(
        actor, patient.id, AssessmentInput("intake", article_intake(services, **values))
    )
    return patient.id


# ------------------------------------------------------------ age over 50 with new pain


def test_a_70_year_old_with_three_weeks_of_new_pain_gets_no_plan_until_the_flag_is_settled(
    services: Services, actor: Actor
) -> None:
    patient_id = elder(services, actor)
    proposal = services.plans.propose(actor, patient_id)
    assert proposal.blocked
    reason = proposal.blocked_reason or ""
    assert "Age over 50 with new back pain (70 at onset, pain for 3 weeks" in reason
    assert "confirm it" in reason and "rule it out with a reason" in reason
    assert "age_over_50" not in reason
    with pytest.raises(ValidationFailed) as refused:
        services.plans.create_recommended(actor, "CASE-0070", start=START)
    assert "rule it out" in refused.value.by_field["red_flags"]


def test_the_age_flag_ruled_out_with_a_reason_allows_the_plan(
    services: Services, actor: Actor
) -> None:
    elder(services, actor, age_flag_ruled_out="Same pain as in 2019, imaging then was normal")
    assert services.plans.create_recommended(actor, "CASE-0070", start=START).visits


def test_the_age_flag_ruled_out_without_a_reason_is_refused_under_the_field(
    services: Services, actor: Actor
) -> None:
    patient_id = elder(services, actor)
    for reason in (".", "fine"):
        intake = article_intake(services, onset_weeks=3, recurrent=False, age_flag_ruled_out=reason)
        with pytest.raises(ValidationFailed) as refused:
            services.assessments.record(actor, patient_id, AssessmentInput("intake", intake))
        assert "reason of at least 3 words" in refused.value.by_field["age_flag_ruled_out"]


def test_the_age_flag_confirmed_needs_a_clearance_like_any_non_cauda_equina_flag(
    services: Services, actor: Actor
) -> None:
    patient_id = elder(
        services,
        actor,
        red_flags=no_red_flags(services, age_over_50_new_pain=FlagAnswer.PRESENT),
    )
    proposal = services.plans.propose(actor, patient_id)
    assert proposal.blocked and "clearance" in (proposal.blocked_reason or "")
    choices = choices_from_proposal(proposal, start=START, clinic_days=MON_TO_FRI)
    cleared = replace(choices, red_flag_clearance="Cleared by GP letter of 2 Jan, bloods normal")
    assert services.plans.create(actor, patient_id, cleared).visits


def test_a_recurrence_or_an_old_onset_does_not_raise_the_age_flag(
    services: Services, actor: Actor
) -> None:
    elder(services, actor, recurrent=True)
    assert services.plans.create_recommended(actor, "CASE-0070", start=START).visits


def test_a_case_file_of_a_70_year_old_with_new_pain_and_an_active_plan_is_refused(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    document = json.loads((CASES / "discharged-with-amendments.json").read_text("utf-8"))
    document["patient"]["date_of_birth"] = "1950-01-01"
    intake = document["assessments"][0]
    intake.update({"onset_weeks": 3, "recurrent": False, "red_flags": []})
    document["plan"]["status"] = "active"
    for key in ("ended_on", "end_reason", "end_note"):
        document["plan"].pop(key, None)
    path = tmp_path / "elder.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CaseFileError) as refused:
        services.cases.import_file(actor, path)
    message = str(refused.value)
    assert "assessments[0].red_flags" in message and "rule it out" in message
    intake["age_flag_ruled_out"] = "Known degenerative disc since 2015, same pattern"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert services.cases.import_file(actor, path).plan_visits


# ------------------------------------------------------------ precautions asked


def test_precautions_not_asked_block_the_plan_with_the_rule(
    services: Services, actor: Actor
) -> None:
    grace(services, actor, precautions_not_asked=("pregnancy", "pacemaker"))
    with pytest.raises(ValidationFailed) as refused:
        services.plans.create_recommended(actor, "CASE-0045", start=START)
    message = refused.value.by_field["red_flags"]
    assert "precautions not asked: pregnancy, cardiac pacemaker" in message
    assert "unknown is not none" in message


def test_a_precaution_both_present_and_not_asked_is_refused(
    services: Services, actor: Actor
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        grace(services, actor, precautions=("pregnancy",), precautions_not_asked=("pregnancy",))
    assert "Pregnancy" in refused.value.by_field["precautions_not_asked[0]"]


def test_an_earlier_case_file_without_precautions_imports_as_not_asked_and_gets_no_plan(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    document = json.loads((CASES / "article-office-worker.json").read_text("utf-8"))
    del document["assessments"][0]["precautions"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    services.cases.import_file(actor, path)
    mrn = document["patient"]["mrn"]
    patient = services.patients.by_mrn(actor, mrn)
    status = services.safety.status(actor, patient.id)
    assert {i.answer for i in status.precautions} == {FlagAnswer.NOT_ASKED}
    with pytest.raises(ValidationFailed, match="precautions not asked"):
        services.plans.create_recommended(actor, mrn, start=START)
    exported = services.cases.export_document(actor, mrn)
    assert len(exported["assessments"][0]["precautions_not_asked"]) == 7


def test_neurological_signs_are_kept_with_the_intake_and_exported(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor, neurological_signs=True)
    intake = services.assessments.latest_intake(actor, patient_id)
    assert intake is not None and intake.intake.neurological_signs is True
    proposal = services.plans.propose(actor, patient_id)
    points = {p.code for phase in proposal.phases for p in phase.points}
    assert {"BL60", "GB30"} & points
    exported = services.cases.export_document(actor, "CASE-0045")
    assert exported["assessments"][0]["radiating_pain"]["neurological_signs"] is True


# ------------------------------------------------------------ pregnancy acknowledgement


def pregnant_plan(services: Services, actor: Actor) -> tuple[int, object]:
    patient_id = grace(services, actor, precautions=("pregnancy",), pregnancy_weeks=10)
    proposal = services.plans.propose(actor, patient_id)
    choices = choices_from_proposal(proposal, start=START, clinic_days=MON_TO_FRI)
    return patient_id, choices


def test_a_plan_with_lumbosacral_points_in_pregnancy_needs_the_acknowledgement(
    services: Services, actor: Actor
) -> None:
    patient_id, choices = pregnant_plan(services, actor)
    planned = {p for phase in choices.phases for p in phase.acupoints}  # type: ignore[attr-defined]
    assert "BL23" in planned
    with pytest.raises(ValidationFailed) as refused:
        services.plans.create(actor, patient_id, choices)  # type: ignore[arg-type]
    text = " ".join(refused.value.by_field.values())
    assert "BL23 needs your acknowledgement because of the precaution 'Pregnancy'" in text
    acknowledged = replace(choices, acknowledged_points=tuple(sorted(planned)))  # type: ignore[type-var]
    plan = services.plans.create(actor, patient_id, acknowledged)
    assert "BL23" in plan.acknowledged_points


def test_a_session_with_bl23_in_pregnancy_needs_the_acknowledgement_and_no_electro(
    services: Services, actor: Actor
) -> None:
    patient_id, choices = pregnant_plan(services, actor)
    planned = tuple(sorted({p for phase in choices.phases for p in phase.acupoints}))  # type: ignore[attr-defined]
    plan = services.plans.create(
        actor,
        patient_id,
        replace(choices, acknowledged_points=planned),  # type: ignore[type-var]
    )
    day = plan.visits[0].visit_date
    with pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(day, acupoints=("BL23", "BL40")))
    assert "acknowledgement" in refused.value.by_field["acupoints[0]"]
    with pytest.raises(ValidationFailed) as electro:
        services.sessions.log(
            actor,
            patient_id,
            visit_input(day, acupoints=("BL23",), acknowledged_points=("BL23",), electro=True),
        )
    assert "never with strong or electrical stimulation" in electro.value.by_field["electro"]
    logged = services.sessions.log(
        actor,
        patient_id,
        visit_input(day, acupoints=("BL23", "BL40"), acknowledged_points=("BL23",)),
    )
    assert logged.id


def test_a_plans_acknowledged_points_leave_in_its_case_file_and_come_back_unreported(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    patient_id, choices = pregnant_plan(services, actor)
    planned = tuple(sorted({p for phase in choices.phases for p in phase.acupoints}))  # type: ignore[attr-defined]
    services.plans.create(
        actor,
        patient_id,
        replace(choices, acknowledged_points=planned),  # type: ignore[type-var]
    )
    mrn = services.patients.get(actor, patient_id).mrn
    assert mrn is not None
    document = services.cases.export_document(actor, mrn)
    assert document["plan"]["acknowledged_points"] == list(planned)
    path = tmp_path / "her.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = services.cases.import_file(actor, path, update=True)
    assert result.notices == ()
    plan = services.plans.active_plan(actor, patient_id)
    assert plan is not None and plan.acknowledged_points == planned


def test_an_imported_session_with_bl23_in_pregnancy_without_acknowledgement_is_reported(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    document = json.loads((CASES / "article-office-worker.json").read_text("utf-8"))
    document["assessments"][0]["precautions"] = ["pregnancy"]
    document["sessions"] = [
        {"date": "2026-01-08", "modalities": ["acupuncture"], "acupoints": ["BL23", "CV4"]},
        {
            "date": "2026-01-09",
            "modalities": ["acupuncture"],
            "acupoints": ["BL23"],
            "acknowledged_points": ["BL23"],
        },
    ]
    path = tmp_path / "her.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = services.cases.import_file(actor, path)
    (notice,) = result.notices
    assert notice.startswith("Session of 8 Jan 2026: BL23, CV4 without the acknowledgement")
    assert "'Pregnancy'" in notice


def test_a_clearance_note_of_a_dot_or_one_word_does_not_lift_the_plan_block(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(
        services, actor, red_flags=no_red_flags(services, cancer_history=FlagAnswer.PRESENT)
    )
    proposal = services.plans.propose(actor, patient_id)
    choices = choices_from_proposal(proposal, start=START, clinic_days=MON_TO_FRI)
    for weak in (".", "ok"):
        with pytest.raises(ValidationFailed) as refused:
            services.plans.create(actor, patient_id, replace(choices, red_flag_clearance=weak))
        assert "at least 3 words" in refused.value.by_field["red_flag_clearance"]
    cleared = replace(choices, red_flag_clearance="Oncologist letter: in remission since 2019")
    assert services.plans.create(actor, patient_id, cleared).visits
