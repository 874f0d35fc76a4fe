"""Recording a clearance and a referral outcome from the Overview tab, as a clinician would:
the signed-in clinician and the clinic's date are shown, not typed; a reason of "." or one
word is refused under the field; a saved record lifts the stop and the Overview reloads."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from backclinic.domain.screening import FlagAnswer
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.ui.safety_records_dialog import ClearanceDialog, ReferralOutcomeDialog
from tests.services.test_plans import START, article_intake, grace, no_red_flags
from tests.ui.conftest import ModalDriver
from tests.ui.test_overview_tab import shown


def reassessed(services: Services, actor: Actor, **present: FlagAnswer) -> int:
    patient_id = grace(services, actor)
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    services.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(
                services,
                assessed_on=START + dt.timedelta(days=7),
                red_flags=no_red_flags(services, **present),
            ),
        ),
    )
    return patient_id


def texts(widget: QWidget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel)]


def test_a_clearance_is_recorded_from_the_overview_and_lifts_the_block(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient_id = reassessed(services, actor, cancer_history=FlagAnswer.PRESENT)
    tab = shown(qtbot, services, actor, patient_id)
    assert tab.clearance_button.isVisibleTo(tab)
    assert not tab.referral_button.isVisibleTo(tab)
    today = services.context.clock.today()

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, ClearanceDialog)
        shown_texts = texts(dialog)
        assert actor.name in shown_texts
        assert f"{today.day} {today:%b} {today.year}" in shown_texts
        box = dialog.flag_boxes["cancer_history"]
        assert box.text() == "History of cancer" and box.isChecked()
        for weak in (".", "cleared"):
            dialog.method.setCurrentIndex(dialog.method.findData("physician_letter"))
            dialog.reason.setPlainText(weak)
            dialog.save_button().click()
            assert dialog.isVisible()
            assert "at least 3 words" in dialog.errors.label("reason").text()
        dialog.method.setCurrentIndex(0)
        dialog.reason.setPlainText("Oncologist letter of 2 Jan: in remission since 2019")
        dialog.save_button().click()
        assert "physician letter" in dialog.errors.label("method").text()
        dialog.method.setCurrentIndex(dialog.method.findData("physician_letter"))
        dialog.save_button().click()
        qtbot.waitUntil(lambda: not dialog.isVisible())

    modal.then(fill)
    qtbot.mouseClick(tab.clearance_button, Qt.MouseButton.LeftButton)
    modal.check()
    (record,) = services.safety.records(actor, patient_id)
    assert (record.kind, record.flags, record.method) == (
        "clearance",
        ("cancer_history",),
        "physician_letter",
    )
    assert record.clinician == actor.name and record.recorded_on == today
    assert not services.safety.status(actor, patient_id).blocks_sessions
    qtbot.waitUntil(lambda: "cleared" in tab.safety.text())


def test_a_referral_outcome_is_recorded_from_the_overview_and_lifts_the_hold(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient_id = reassessed(services, actor, saddle_anaesthesia=FlagAnswer.PRESENT)
    tab = shown(qtbot, services, actor, patient_id)
    assert tab.referral_button.isVisibleTo(tab)
    assert not tab.clearance_button.isVisibleTo(tab)

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, ReferralOutcomeDialog)
        assert dialog.summary.text().startswith("Urgent referral")
        dialog.reason.setPlainText("seen")
        dialog.save_button().click()
        assert "at least 3 words" in dialog.errors.label("reason").text()
        dialog.reason.setPlainText("Emergency MRI on 13 Jan: no cauda equina compression")
        dialog.save_button().click()
        qtbot.waitUntil(lambda: not dialog.isVisible())

    modal.then(fill)
    qtbot.mouseClick(tab.referral_button, Qt.MouseButton.LeftButton)
    modal.check()
    assert not services.safety.status(actor, patient_id).on_hold
    qtbot.waitUntil(lambda: not tab.referral_button.isVisibleTo(tab))


def test_a_clearance_cannot_be_made_of_a_cauda_equina_sign(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient_id = reassessed(
        services,
        actor,
        saddle_anaesthesia=FlagAnswer.PRESENT,
        cancer_history=FlagAnswer.PRESENT,
    )
    status = services.safety.status(actor, patient_id)
    dialog = ClearanceDialog(services, actor, patient_id, status)
    qtbot.addWidget(dialog)
    assert set(dialog.flag_boxes) == {"cancer_history"}


def test_the_intake_tab_shows_the_clearance_with_who_when_how_and_why(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from backclinic.services.safety import ClearanceInput
    from backclinic.ui.intake_tab import IntakeTab

    patient_id = reassessed(services, actor, cancer_history=FlagAnswer.PRESENT)
    services.safety.record_clearance(
        actor,
        patient_id,
        ClearanceInput(
            ("cancer_history",), "specialist_review", "Oncology review: in remission since 2019"
        ),
    )
    tab = IntakeTab(services, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    today = services.context.clock.today()
    text = tab.safety_records.text()
    assert f"Clearance recorded {today.day} {today:%b} {today.year} by {actor.name}" in text
    assert "of history of cancer, by specialist review: Oncology review" in text
    assert "cancer_history" not in text and "specialist_review" not in text
