"""One precaution rule at every entry: a clinic's protocol copy that adds one avoided
point is honoured by the recommendation, plan creation, plan change, session save and
case import (the wizard's share is in tests/ui/test_plan_wizard.py)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest

from backclinic.db.database import OpenDatabase
from backclinic.services.bundle import Services, build_services
from backclinic.services.cases import CaseFileError
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.plans import choices_from_proposal
from backclinic.services.sessions import SessionInput
from tests.protocol_copies import (
    AVOIDED_POINT,
    AVOIDING_LABEL,
    AVOIDING_PRECAUTION,
    protocol_avoiding,
)
from tests.services.test_plans import MON_TO_FRI, START, grace

REPOSITORY = Path(__file__).resolve().parents[2]
REFUSAL = rf"{AVOIDED_POINT} is not offered because of the precaution '{AVOIDING_LABEL}'"


@pytest.fixture
def edited(database: OpenDatabase, tmp_path: Path) -> Services:
    """Services over the clinic's copy of the protocol."""
    return build_services(database.session_factory, protocol=protocol_avoiding(tmp_path))


def test_the_shipped_protocol_offers_the_point_the_copy_avoids(
    services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor, precautions=(AVOIDING_PRECAUTION,))
    proposal = services.plans.propose(actor, patient_id)
    assert all(AVOIDED_POINT in {p.code for p in phase.points} for phase in proposal.phases)


def test_the_recommendation_leaves_out_the_avoided_point_and_says_why(
    edited: Services, actor: Actor
) -> None:
    patient_id = grace(edited, actor, precautions=(AVOIDING_PRECAUTION,))
    proposal = edited.plans.propose(actor, patient_id)
    assert all(AVOIDED_POINT not in {p.code for p in phase.points} for phase in proposal.phases)
    (note,) = proposal.precautions
    assert {r.code for r in note.removed_points} == {AVOIDED_POINT}
    assert AVOIDING_LABEL in note.removed_points[0].reason.text


def test_creating_a_plan_with_the_avoided_point_is_refused_naming_point_and_precaution(
    edited: Services, actor: Actor
) -> None:
    patient_id = grace(edited, actor, precautions=(AVOIDING_PRECAUTION,))
    choices = choices_from_proposal(
        edited.plans.propose(actor, patient_id), start=START, clinic_days=MON_TO_FRI
    )
    phases = list(choices.phases)
    phases[1] = replace(phases[1], acupoints=(*phases[1].acupoints, AVOIDED_POINT))
    with pytest.raises(ValidationFailed, match=REFUSAL) as refused:
        edited.plans.create(actor, patient_id, replace(choices, phases=tuple(phases)))
    assert "phases[2].acupoints" in refused.value.by_field
    assert edited.plans.active_plan(actor, patient_id) is None


def test_changing_a_plan_that_needles_the_avoided_point_is_refused(
    services: Services, edited: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor, precautions=(AVOIDING_PRECAUTION,))
    plan = services.plans.create_recommended(actor, "CASE-0045", start=START)
    with pytest.raises(ValidationFailed, match=REFUSAL):
        edited.plans.change_phase(
            actor,
            plan.id,
            2,
            weeks=4,
            acupuncture_per_week=1,
            acupuncture_as_needed=False,
            pt_per_week=2,
            expected_version=plan.version,
            effective_from=dt.date(2026, 1, 19),
        )
    assert edited.plans.active_plan(actor, patient_id) == plan


def test_saving_a_session_with_the_avoided_point_is_refused(edited: Services, actor: Actor) -> None:
    patient_id = grace(edited, actor, precautions=(AVOIDING_PRECAUTION,))
    data = SessionInput(
        performed_at=dt.datetime(2026, 1, 6, 10, tzinfo=dt.UTC),
        modalities=("acupuncture",),
        pain_before=6,
        acupoints=("BL23", AVOIDED_POINT),
    )
    with pytest.raises(ValidationFailed, match=REFUSAL) as refused:
        edited.sessions.log(actor, patient_id, data)
    assert "acupoints[1]" in refused.value.by_field
    assert edited.sessions.history(actor, patient_id) == []


def case_file(folder: Path, precaution: str = AVOIDING_PRECAUTION, **parts: object) -> Path:
    """A shipped case with ``precaution`` at intake and ``parts`` (plan, sessions) added."""
    document: dict[str, object] = json.loads(
        (REPOSITORY / "tests" / "cases" / "pregnancy-precaution.json").read_text("utf-8")
    )
    assessments = document["assessments"]
    assert isinstance(assessments, list)
    assessments[0]["precautions"] = [precaution]
    document.update(parts)
    path = folder / "case.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_importing_a_plan_with_the_avoided_point_is_refused(
    edited: Services, actor: Actor, tmp_path: Path
) -> None:
    plan = {
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
                "acupoints": ["BL23", AVOIDED_POINT],
            }
        ],
    }
    path = case_file(tmp_path, plan=plan)
    with pytest.raises(CaseFileError, match=rf"plan\.phases\[0\]\.acupoints\[1\]: {REFUSAL}"):
        edited.cases.import_file(actor, path)


def test_importing_a_session_with_the_avoided_point_imports_it_and_reports_it(
    edited: Services, actor: Actor, tmp_path: Path
) -> None:
    session = {
        "date": "2026-04-07",
        "modalities": ["acupuncture"],
        "pain_before": 5,
        "acupoints": ["BL23", AVOIDED_POINT],
    }
    path = case_file(tmp_path, sessions=[session])
    result = edited.cases.import_file(actor, path)
    assert result.sessions == 1
    (notice,) = result.notices
    assert notice.startswith("Session of 7 Apr 2026:")
    assert AVOIDED_POINT in notice and AVOIDING_LABEL in notice


def test_importing_an_electro_session_under_a_pacemaker_imports_it_and_reports_it(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    session = {"date": "2026-04-07", "modalities": ["acupuncture"], "electro": True}
    path = case_file(tmp_path, "pacemaker", sessions=[session])
    result = services.cases.import_file(actor, path)
    (notice,) = result.notices
    assert "electro-acupuncture" in notice
    assert "Cardiac pacemaker or implanted device" in notice
