"""The Plan tab and the change-phase dialog for a plan made before a pregnancy and a
pacemaker were recorded at a reassessment (issue 11), driven as a clinician would."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.plans import PlanView, choices_from_proposal
from backclinic.ui.plan_tab import ChangePhaseDialog, PlanTab
from tests.services.test_plan_under_later_precautions import CASE
from tests.services.test_plans import MON_TO_FRI, article_intake
from tests.ui.conftest import ModalDriver
from tests.ui.test_intake_form import grace


def plan_then_pregnancy_and_pacemaker(services: Services, actor: Actor) -> tuple[int, PlanView]:
    """Grace's plan from today, made at intake with SP6 and LI4 in phases 2 and 3; then a
    reassessment the same day records a pregnancy and a pacemaker."""
    today = services.patients.today()
    patient = grace(services, actor)
    services.assessments.record(
        actor, patient.id, AssessmentInput("intake", article_intake(services, assessed_on=today))
    )
    choices = choices_from_proposal(
        services.plans.propose(actor, patient.id), start=today, clinic_days=MON_TO_FRI
    )
    phases = tuple(
        replace(p, acupoints=(*p.acupoints, "SP6", "LI4")) if p.number > 1 else p
        for p in choices.phases
    )
    plan = services.plans.create(actor, patient.id, replace(choices, phases=phases))
    services.assessments.record(
        actor,
        patient.id,
        AssessmentInput(
            "reassessment",
            article_intake(services, assessed_on=today, precautions=("pregnancy", "pacemaker")),
        ),
    )
    return patient.id, plan


def open_tab(qtbot: QtBot, services: Services, actor: Actor, patient_id: int) -> PlanTab:
    tab = PlanTab(services, actor, patient_id)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitUntil(lambda: not tab.loading)
    return tab


def test_the_plan_tab_marks_the_points_a_later_pregnancy_rules_out_and_says_why(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient_id, _plan = plan_then_pregnancy_and_pacemaker(services, actor)

    tab = open_tab(qtbot, services, actor, patient_id)

    notice = tab.precaution_notice.text()
    assert tab.precaution_notice.isVisible()
    assert "Pregnancy" in notice and "Cardiac pacemaker" in notice
    assert "SP6 and LI4 are planned but not offered because of the precaution 'Pregnancy'" in notice
    assert "BL23, BL25, GV3 and EX-B2 need your acknowledgement" in notice
    assert "Electro-acupuncture is not offered because of the precaution" in notice
    shown = tab.phases.toPlainText()
    assert "SP6 (not offered: pregnancy)" in shown
    assert "BL23 (needs your acknowledgement: pregnancy)" in shown
    assert "KI3" in shown and "KI3 (" not in shown


def test_a_plan_without_a_later_precaution_shows_no_notice(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    today = services.patients.today()
    patient = grace(services, actor)
    services.assessments.record(
        actor, patient.id, AssessmentInput("intake", article_intake(services, assessed_on=today))
    )
    services.plans.create_recommended(actor, patient.mrn, start=today)

    tab = open_tab(qtbot, services, actor, patient.id)

    assert not tab.precaution_notice.isVisible()
    assert "not offered" not in tab.phases.toPlainText()


def test_the_change_phase_dialog_asks_to_take_the_points_out_and_acknowledge_the_rest(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient_id, plan = plan_then_pregnancy_and_pacemaker(services, actor)
    tab = open_tab(qtbot, services, actor, patient_id)
    seen: dict[str, str] = {}

    def change(dialog: ChangePhaseDialog) -> None:  # type: ignore[override]
        assert dialog.withdraw.isVisible() and dialog.acknowledge.isVisible()
        seen["withdraw"] = dialog.withdraw.text()
        seen["acknowledge"] = dialog.acknowledge.text()
        seen["note"] = dialog.precaution_note.text()
        dialog.phase.setCurrentIndex(1)
        dialog.weeks.setValue(dialog.weeks.value() + 1)
        dialog.save_button().click()  # neither ticked: refused, with why, beside the points
        error = dialog.errors.label("acupoints")
        seen["refused"] = error.text() if error.isVisible() else ""
        seen["still_open"] = str(dialog.isVisible())
        dialog.withdraw.click()
        dialog.acknowledge.click()
        dialog.save_button().click()

    modal.then(change)  # type: ignore[arg-type]
    with qtbot.waitSignal(tab.plan_changed):
        tab.change_button.click()
    modal.check()

    assert seen["withdraw"] == "Take SP6 and LI4 out of the plan's phases from today"
    assert seen["acknowledge"].startswith("I acknowledge planning BL23, BL25, GV3 and EX-B2")
    assert "not offered because of the precaution 'Pregnancy'" in seen["note"]
    assert seen["refused"] == (
        "SP6 and LI4 are not offered and BL23, BL25, GV3 and EX-B2 need your acknowledgement "
        "because of the precaution 'Pregnancy' in force now: take those not offered out of "
        "the plan and acknowledge the others as you change the phase."
    )
    assert seen["still_open"] == "True"
    changed = services.plans.get(actor, plan.id)
    assert all("SP6" not in p.acupoints and "LI4" not in p.acupoints for p in changed.phases)
    assert changed.phases[1].end_week == plan.phases[1].end_week + 1
    assert {"BL23", "BL25", "GV3", "EX-B2"} <= set(changed.acknowledged_points)
    qtbot.waitUntil(lambda: not tab.loading)
    assert "not offered because of the precaution 'Pregnancy'" not in tab.precaution_notice.text()
    assert "need your acknowledgement" not in tab.precaution_notice.text()
    # The pacemaker still rules out electro-acupuncture, and the tab still says so.
    assert "Electro-acupuncture is not offered" in tab.precaution_notice.text()
    labels = [label.text() for label in tab.findChildren(QLabel) if label.isVisible()]
    assert any("Cardiac pacemaker" in text for text in labels)


def test_the_plan_tab_of_an_imported_case_marks_what_its_later_reassessment_rules_out(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    services.cases.import_file(actor, CASE)
    patient = services.patients.by_mrn(actor, "CASE-0111")

    tab = open_tab(qtbot, services, actor, patient.id)

    notice = tab.precaution_notice.text()
    assert "SP6 and LI4 are planned but not offered because of the precaution 'Pregnancy'" in (
        notice
    )
    assert "Electro-acupuncture is not offered" in notice
    assert "LI4 (not offered: pregnancy)" in tab.phases.toPlainText()
