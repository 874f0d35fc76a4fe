"""The Overview tab: the patient's safety status, plan and phase, next visit, latest pain
and import notices, first in the workspace and reloaded on changes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pytestqt.qtbot import QtBot

from backclinic.domain.screening import FlagAnswer
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.ui.overview_tab import OverviewTab
from backclinic.ui.patient_workspace import PatientWorkspace
from tests.services.test_cases import ARTICLE_CASE
from tests.services.test_plans import START, article_intake, grace, no_red_flags

KEPT: list[PatientWorkspace] = []


def shown(qtbot: QtBot, services: Services, actor: Actor, patient_id: int) -> OverviewTab:
    workspace = PatientWorkspace(services, actor, patient_id)
    # The test holds the workspace, as the main window does, for as long as the tab is used.
    KEPT[:] = [workspace]
    qtbot.addWidget(workspace)
    assert workspace.tabs.tabText(0) == "Overview"
    tab = workspace.tabs.widget(0)
    assert isinstance(tab, OverviewTab)
    qtbot.waitUntil(lambda: not tab.loading)
    return tab


def test_the_overview_shows_the_plan_phase_and_the_precautions(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor, precautions=("pacemaker",))
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    tab = shown(qtbot, services, actor, patient_id)
    assert "Cardiac pacemaker or implanted device" in tab.safety.text()
    assert "Phase 1" in tab.plan.text()
    assert tab.next_visit.text()
    assert "6" in tab.pain.text()


def test_the_overview_turns_red_with_urgent_referral_when_a_reassessment_finds_ces(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient_id = grace(services, actor)
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    tab = shown(qtbot, services, actor, patient_id)
    assert "urgent referral" not in tab.safety.text().lower()
    operations = tab._operations
    operations.run(
        services.assessments.record,
        actor,
        patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(
                services,
                assessed_on=START + dt.timedelta(days=7),
                red_flags=no_red_flags(services, bowel_incontinence=FlagAnswer.PRESENT),
            ),
        ),
    )
    qtbot.waitUntil(lambda: tab.safety.text().startswith("Urgent referral"))
    assert "b00020" in tab.safety.styleSheet()


def test_the_overview_shows_the_notices_of_imported_history(
    qtbot: QtBot, services: Services, actor: Actor, tmp_path: Path
) -> None:
    document = json.loads(ARTICLE_CASE.read_text(encoding="utf-8"))
    document["assessments"][0]["precautions"] = ["pregnancy"]
    document["sessions"] = [
        {"date": "2026-01-06", "modalities": ["acupuncture"], "acupoints": ["SP6"]}
    ]
    path = tmp_path / "her.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    services.cases.import_file(actor, path)
    patient = services.patients.by_mrn(actor, document["patient"]["mrn"])
    tab = shown(qtbot, services, actor, patient.id)
    assert "Session of 6 Jan 2026: SP6 despite the precaution 'Pregnancy'" in tab.notices.text()
