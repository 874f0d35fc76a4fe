"""Assessments are corrected, never overwritten: an amendment keeps the original and a
record entered in error is kept with its reason, and neither counts any more."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backclinic.db.database import open_database
from backclinic.db.models import AssessmentRow, AuditEventRow, PlanRow
from backclinic.domain.screening import FlagAnswer
from backclinic.services.assessments import Assessment, AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.errors import StaleRecord, ValidationFailed
from tests.records import stored_records
from tests.services.test_plans import START, article_intake, grace


def as_input(assessment: Assessment, **changes: object) -> AssessmentInput:
    return AssessmentInput(
        assessment.kind,
        replace(assessment.intake, **changes),  # type: ignore[arg-type]
        assessment.psfs,
        assessment.rmdq_score,
        assessment.notes,
    )


def audit_entries(services: Services, action: str) -> list[AuditEventRow]:
    with stored_records(services) as session:
        return list(
            session.scalars(
                select(AuditEventRow).where(
                    AuditEventRow.action == action, AuditEventRow.entity == "assessment"
                )
            )
        )


def test_an_amended_intake_keeps_the_original_and_audits_before_and_after(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    (original,) = services.assessments.for_patient(actor, patient_id)
    amended = services.assessments.amend(
        actor,
        original.id,
        as_input(original, nprs_current=7),
        "Patient said 7, not 6",
        expected_version=original.version,
    )
    assert amended.amends_id == original.id
    assert amended.amendment_reason == "Patient said 7, not 6"
    assert amended.intake.nprs_current == 7
    kept = services.assessments.get(actor, original.id)
    assert kept.superseded and kept.intake.nprs_current == 6
    # What counts is the amendment; the intake tab's history keeps both.
    assert [a.id for a in services.assessments.for_patient(actor, patient_id)] == [amended.id]
    assert [a.id for a in services.assessments.history(actor, patient_id)] == [
        original.id,
        amended.id,
    ]
    assert services.assessments.latest_intake(actor, patient_id).id == amended.id  # type: ignore[union-attr]
    (entry,) = audit_entries(services, "amend")
    assert entry.details["reason"] == "Patient said 7, not 6"
    assert entry.details["before"] == {"nprs_current": 6}
    assert entry.details["after"] == {"nprs_current": 7}
    with stored_records(services) as session:
        assert session.scalar(select(func.count()).select_from(AssessmentRow)) == 2


def test_a_plan_follows_the_amended_intake(services: Services, actor: Actor) -> None:
    patient_id = grace(services, actor)
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    (original,) = services.assessments.for_patient(actor, patient_id)
    amended = services.assessments.amend(
        actor, original.id, as_input(original, nprs_current=5), "typo", original.version
    )
    with stored_records(services) as session:
        stored = session.get(PlanRow, plan.id)
        assert stored is not None and stored.intake_id == amended.id
    course = services.episodes.course(actor, patient_id)
    assert course.outcome("nprs").baseline == 5


def test_an_amendment_needs_a_reason_the_current_version_and_the_latest_record(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    (original,) = services.assessments.for_patient(actor, patient_id)
    with pytest.raises(ValidationFailed) as refused:
        services.assessments.amend(actor, original.id, as_input(original), "  ", original.version)
    assert "reason" in refused.value.by_field
    with pytest.raises(ValidationFailed) as refused:
        services.assessments.amend(
            actor, original.id, as_input(original, nprs_current=15), "typo", original.version
        )
    assert set(refused.value.by_field) == {"nprs.current"}
    services.assessments.amend(actor, original.id, as_input(original), "typo", original.version)
    with pytest.raises(StaleRecord):
        services.assessments.amend(actor, original.id, as_input(original), "again", 1)
    kept = services.assessments.get(actor, original.id)
    with pytest.raises(ValidationFailed) as refused:
        services.assessments.amend(actor, original.id, as_input(kept), "again", kept.version)
    assert "already been amended" in refused.value.by_field["assessment"]


def test_an_intake_entered_in_error_is_kept_but_counts_nowhere(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    (right,) = services.assessments.for_patient(actor, patient_id)
    wrong = services.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "intake",
            article_intake(services, assessed_on=START + dt.timedelta(days=1), nprs_current=2),
        ),
    )
    assert services.assessments.latest_intake(actor, patient_id).id == wrong.id  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed) as refused:
        services.assessments.mark_entered_in_error(actor, wrong.id, " ", wrong.version)
    assert "reason" in refused.value.by_field
    marked = services.assessments.mark_entered_in_error(
        actor, wrong.id, "Another patient's form", wrong.version
    )
    assert marked.entered_in_error and not marked.current
    assert marked.entered_in_error_reason == "Another patient's form"
    assert [a.id for a in services.assessments.for_patient(actor, patient_id)] == [right.id]
    assert [a.id for a in services.assessments.history(actor, patient_id)] == [right.id, wrong.id]
    assert services.assessments.latest_intake(actor, patient_id).id == right.id  # type: ignore[union-attr]
    # Scores, the course and the plan read only the right intake.
    assert services.episodes.course(actor, patient_id).outcome("nprs").baseline == 6
    assert services.plans.propose(actor, patient_id) is not None
    (entry,) = audit_entries(services, "entered_in_error")
    assert entry.details["reason"] == "Another patient's form"
    assert entry.details["before"] == {"status": "current"}
    assert entry.details["after"] == {"status": "entered in error"}
    with pytest.raises(ValidationFailed) as refused:
        services.assessments.amend(
            actor, wrong.id, as_input(marked), "fix it after all", marked.version
        )
    assert "entered in error" in refused.value.by_field["assessment"]


def test_red_flags_of_an_assessment_entered_in_error_do_not_hold_the_patient(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    flags = dict(article_intake(services).red_flags or {})
    flags["saddle_anaesthesia"] = FlagAnswer.PRESENT
    wrong = services.assessments.record(
        actor,
        patient_id,
        AssessmentInput("reassessment", article_intake(services, red_flags=flags)),
    )
    assert services.safety.status(actor, patient_id).on_hold
    services.assessments.mark_entered_in_error(actor, wrong.id, "wrong patient", wrong.version)
    assert not services.safety.status(actor, patient_id).on_hold


def test_the_case_file_carries_corrections_and_round_trips(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    patient_id = grace(services, actor)
    (original,) = services.assessments.for_patient(actor, patient_id)
    services.assessments.amend(
        actor, original.id, as_input(original, nprs_current=7), "Patient said 7", original.version
    )
    wrong = services.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(services, assessed_on=START + dt.timedelta(days=2), nprs_current=1),
        ),
    )
    services.assessments.mark_entered_in_error(actor, wrong.id, "wrong patient", wrong.version)

    first = services.cases.export_file(actor, "CASE-0045", tmp_path / "first.json")
    document = json.loads(first.read_text("utf-8"))
    amended, in_error = document["assessments"]
    assert amended["nprs"]["current"] == 7
    assert amended["amendment_reason"] == "Patient said 7"
    assert amended["amends"]["nprs"]["current"] == 6
    assert in_error["entered_in_error"] == "wrong patient"
    assert "odi_percent" not in in_error
    # The derived course counts only the amended intake.
    nprs = next(m for m in document["course"]["verdicts"] if m["measure"] == "nprs")
    assert nprs["baseline"] == 7 and nprs["latest"] in (None, 7)

    opened = open_database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other = build_services(opened.session_factory)
        system = other.clinic.system_actor()
        other.cases.import_file(system, first)
        second = other.cases.export_file(system, "CASE-0045", tmp_path / "second.json")
        assert second.read_text("utf-8") == first.read_text("utf-8")
        other_id = other.patients.by_mrn(system, "CASE-0045").id
        kinds = [
            (a.kind, a.superseded, a.entered_in_error)
            for a in other.assessments.history(system, other_id)
        ]
        assert kinds == [
            ("intake", True, False),
            ("intake", False, False),
            ("reassessment", False, True),
        ]
    finally:
        opened.engine.dispose()


def test_a_precaution_from_an_assessment_entered_in_error_no_longer_guides_treatment(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    wrong = services.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(
                services, assessed_on=START + dt.timedelta(days=1), precautions=("pregnancy",)
            ),
        ),
    )

    def present_precautions() -> list[str]:
        # What the session form, the Overview and the course read as in force.
        status = services.safety.status(actor, patient_id)
        return [p.label for p in status.precautions if p.answer == FlagAnswer.PRESENT]

    assert present_precautions() == ["Pregnancy"]
    services.assessments.mark_entered_in_error(actor, wrong.id, "wrong patient", wrong.version)
    assert present_precautions() == []
    summary = services.documents.plan_summary(actor, patient_id)
    assert [p.label for p in summary.precautions] == []
