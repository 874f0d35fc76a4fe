"""The session form: keyboard-only logging, refusals shown by the field, amendments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.plans import PlanView
from backclinic.ui.plan_wizard import PlanWizard
from backclinic.ui.session_dialog import SessionDialog
from backclinic.ui.sessions_tab import SessionsTab
from tests.services.test_plans import START, grace
from tests.ui.conftest import ModalDriver

# The afternoon of the plan's first visit, so "now" falls on a planned visit.
NOW = dt.datetime(START.year, START.month, START.day, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def clinic(database: OpenDatabase, services: Services) -> Services:
    """Services whose clock stands still on the plan's first visit day."""
    return build_services(database.session_factory, clock=lambda: NOW)


def planned(services: Services, actor: Actor, **changes: object) -> tuple[int, PlanView]:
    patient_id = grace(services, actor, **changes)
    return patient_id, services.plans.create_recommended(actor, "CASE-0045", start=START)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def opened(qtbot: QtBot, dialog: SessionDialog) -> SessionDialog:
    """Shown, and its records read (off the GUI thread), as a clinician sees it."""
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.loaded)
    return dialog


def test_a_whole_session_can_be_logged_with_the_keyboard_alone(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, plan = planned(clinic, actor)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    qtbot.waitUntil(lambda: dialog.pain_before.hasFocus())
    qtbot.keyClick(focused(), Qt.Key.Key_7)
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClick(focused(), Qt.Key.Key_5)
    qtbot.keyClick(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.record is not None)
    record = dialog.record
    assert record is not None
    first = plan.visits[0]
    assert (record.data.pain_before, record.data.pain_after) == (7, 5)
    assert record.data.visit_id == first.id
    assert record.data.modalities == first.modalities
    assert record.data.acupoints == plan.phases[0].acupoints
    assert [r.id for r in clinic.sessions.history(actor, patient_id)] == [record.id]
    assert dialog.result() == SessionDialog.DialogCode.Accepted


def test_ctrl_enter_on_the_keypad_saves_too(qtbot: QtBot, clinic: Services, actor: Actor) -> None:
    patient_id, _ = planned(clinic, actor)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    qtbot.waitUntil(lambda: dialog.pain_before.hasFocus())
    qtbot.keyClicks(focused(), "4")
    qtbot.keyClick(focused(), Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.record is not None)
    assert dialog.record is not None and dialog.record.data.pain_before == 4


def test_one_then_zero_gives_ten_and_end_gives_ten_too(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, _ = planned(clinic, actor)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    qtbot.waitUntil(lambda: dialog.pain_before.hasFocus())
    qtbot.keyClicks(dialog.pain_before, "10")
    assert dialog.pain_before.value() == 10
    assert dialog.pain_before.button(10).isChecked()
    qtbot.keyClick(dialog.pain_after, Qt.Key.Key_End)
    assert dialog.pain_after.value() == 10
    qtbot.keyClick(dialog.pain_after, Qt.Key.Key_Left)
    assert dialog.pain_after.value() == 9
    qtbot.keyClick(dialog.pain_after, Qt.Key.Key_Delete)
    assert dialog.pain_after.value() is None


def test_a_pacemaker_disables_electro_acupuncture_with_the_reason_beside_it(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, _ = planned(clinic, actor, precautions=("pacemaker",))
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    dialog.modality_boxes["acupuncture"].setChecked(True)
    dialog.pain_before.set_value(6)
    assert not dialog.electro.isEnabled() and not dialog.electro.isChecked()
    assert "pacemaker" in dialog.electro_reason.text().lower()
    dialog.electro.setChecked(True)
    qtbot.mouseClick(dialog.save_button(), Qt.MouseButton.LeftButton)
    assert dialog.record is not None and dialog.record.data.electro is False


def test_points_are_added_from_the_catalogue_by_typing_and_removed(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, _ = planned(clinic, actor)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    before = dialog.point_codes()
    extra = next(code for code in clinic.catalogue.acupoints if code not in before)
    dialog.point_picker.setEditText(extra.lower())
    dialog.add_point_button.click()
    assert dialog.point_codes() == (*before, extra)
    dialog.acupoints.setCurrentRow(dialog.acupoints.count() - 1)
    dialog.remove_point_button.click()
    assert dialog.point_codes() == before


def test_pt_interventions_come_from_the_phase_with_editable_dosage(
    qtbot, qtmodeltester, clinic: Services, actor: Actor
) -> None:
    patient_id, plan = planned(clinic, actor)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    model = dialog.interventions_model
    qtmodeltester.check(model)
    expected = tuple((d.code, d.dosage) for d in plan.phases[0].pt_interventions)
    assert model.rows() == expected
    if expected:
        assert model.setData(model.index(0, 1), "3 x 10", Qt.ItemDataRole.EditRole)
        assert model.rows()[0] == (expected[0][0], "3 x 10")
    qtmodeltester.check(model)


def test_an_amendment_needs_a_reason_and_keeps_the_original(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, _ = planned(clinic, actor)
    logger = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    logger.pain_before.set_value(6)
    logger.pain_after.set_value(4)
    qtbot.mouseClick(logger.save_button(), Qt.MouseButton.LeftButton)
    original = logger.record
    assert original is not None

    original = clinic.sessions.get(actor, original.id)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id, amending=original))
    assert dialog.pain_before.value() == 6
    dialog.pain_after.set_value(3)
    qtbot.mouseClick(dialog.save_button(), Qt.MouseButton.LeftButton)
    assert dialog.errors.label("reason").isVisible()
    assert dialog.record is None
    dialog.reason.setText("After was 3, not 4.")
    qtbot.mouseClick(dialog.save_button(), Qt.MouseButton.LeftButton)
    assert dialog.record is not None and dialog.record.amends_id == original.id
    history = clinic.sessions.history(actor, patient_id, include_superseded=True)
    assert [(r.data.pain_after, r.superseded) for r in history] == [(4, True), (3, False)]


def test_the_log_entry_point_returns_the_saved_session(
    qtbot: QtBot, clinic: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient_id, _ = planned(clinic, actor)

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, SessionDialog)
        qtbot.waitUntil(lambda: dialog.loaded)
        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow)
        qtbot.keyClicks(dialog.pain_before, "3")
        dialog.pain_after.set_value(2)
        qtbot.keyClick(dialog.pain_before, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: not dialog.isVisible())

    modal.then(fill)
    record = SessionDialog.log(None, clinic, actor, patient_id)
    modal.check()
    assert record is not None and record.data.pain_before == 3


def test_the_sessions_tab_lists_sessions_and_logs_the_next_due_visit(
    qtbot: QtBot, qtmodeltester, clinic: Services, actor: Actor, monkeypatch
) -> None:
    patient_id, plan = planned(clinic, actor)
    tab = SessionsTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    qtmodeltester.check(tab.model)
    assert tab.model.rowCount() == 0 and not tab.amend_button.isEnabled()
    # An empty list says what to do next.
    assert tab.empty_label.text().startswith("No sessions logged yet: after each treatment")
    assert not tab.empty_label.isHidden() and tab.table.isHidden()
    opened_for: list[int | None] = []

    def log(parent, services, actor_, patient, visit_id=None, *, operations):
        opened_for.append(visit_id)
        data = services.sessions.prefill(actor_, patient, NOW)
        changed = replace(data, pain_before=6, pain_after=4)
        return operations.run(services.sessions.log, actor_, patient, changed)

    monkeypatch.setattr(SessionDialog, "log", log)
    with qtbot.waitSignal(tab.session_saved) as saved:
        qtbot.mouseClick(tab.log_button, Qt.MouseButton.LeftButton)
    assert opened_for == [plan.visits[0].id]
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)
    qtmodeltester.check(tab.model)
    texts = [tab.model.index(0, c).data() for c in range(tab.model.columnCount())]
    assert texts[1] == "Mei Lin" and texts[3] == "6 → 4" and texts[-1] == ""
    tab.table.selectRow(0)
    assert tab.amend_button.isEnabled()
    assert tab.selected() is not None and tab.selected().id == saved.args[0]


def test_logging_an_overdue_visit_offers_what_that_visit_planned(
    qtbot: QtBot, database: OpenDatabase, services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    # Seven weeks later the plan is in its "as needed" phase, but the first visit
    # (acupuncture and PT) was never logged.
    later = build_services(database.session_factory, clock=lambda: NOW + dt.timedelta(weeks=7))
    first = plan.visits[0]
    dialog = opened(qtbot, SessionDialog(later, actor, patient_id, visit_id=first.id))
    ticked = {code for code, box in dialog.modality_boxes.items() if box.isChecked()}
    assert ticked == set(first.modalities) == {"acupuncture", "pt"}


def test_a_session_can_be_recorded_as_given_by_a_colleague(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    from backclinic.services.clinic import NewClinician

    colleague = clinic.accounts.create(
        actor, NewClinician("Aisha Okafor", "aisha", "physical_therapist", "colleague pass")
    )
    patient_id, _ = planned(clinic, actor)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    assert dialog.performed_by.currentData() == actor.clinician_id
    dialog.performed_by.setCurrentIndex(dialog.performed_by.findData(colleague.id))
    dialog.pain_before.set_value(5)
    dialog.save_button().click()
    assert dialog.record is not None
    assert dialog.record.clinician_id == colleague.id
    assert dialog.record.data.performed_by == colleague.id


def test_a_point_not_in_the_catalogue_is_refused_with_the_reason_under_the_picker(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, _ = planned(clinic, actor)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    before = dialog.point_codes()
    dialog.point_picker.setEditText("XX99")
    dialog.add_point_button.click()
    assert dialog.point_codes() == before
    assert dialog.points_box.error.isVisible()
    assert dialog.points_box.error.text() == "'XX99' is not in the acupoint catalogue."


def test_the_session_form_and_the_plan_wizard_pick_points_with_the_same_widget(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, _ = planned(clinic, actor)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    wizard = PlanWizard(clinic, actor, patient_id)
    qtbot.addWidget(wizard)
    phase_points = wizard.acupuncture_page.phases[0].points
    assert type(phase_points) is type(dialog.points_box)
    extra = next(code for code in clinic.catalogue.acupoints if code not in phase_points.codes())
    phase_points.picker.setEditText(extra.lower())
    phase_points.add_button.click()
    assert phase_points.codes()[-1] == extra


def test_the_sessions_tab_names_interventions_by_their_labels_not_their_codes(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, _ = planned(clinic, actor)
    data = clinic.sessions.prefill(actor, patient_id, NOW)
    assert [code for code, _ in data.interventions][:2] == [
        "posture_correction",
        "myofascial_release",
    ]
    clinic.sessions.log(actor, patient_id, replace(data, pain_before=6, pain_after=4))
    tab = SessionsTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)
    headers = [tab.model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)]
    shown = tab.model.index(0, headers.index("Interventions")).data()
    assert shown.startswith("Posture correction, Myofascial release")
    assert "_" not in shown


def test_a_missing_amendment_reason_is_scrolled_into_view_and_focused(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, _ = planned(clinic, actor)
    data = clinic.sessions.prefill(actor, patient_id, NOW)
    saved = clinic.sessions.log(actor, patient_id, replace(data, pain_before=6, pain_after=4))
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id, amending=saved))
    dialog.resize(780, 600)  # a 1366×768 screen, less the title bar and the taskbar
    scroll = dialog.findChild(QScrollArea)
    assert scroll is not None
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum())
    dialog.plan_note.setFocus()
    qtbot.mouseClick(dialog.save_button(), Qt.MouseButton.LeftButton)
    error = dialog.errors.label("reason")
    assert error.text()
    qtbot.waitUntil(lambda: not error.visibleRegion().isEmpty())
    assert not dialog.reason.visibleRegion().isEmpty()
    assert dialog.focusWidget() is dialog.reason


def _answer_discard_question(button: str, seen: list[str]) -> Callable[[QWidget], None]:
    def answer(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == button).click()

    return answer


def test_escape_on_a_filled_session_form_asks_before_discarding_it(
    qtbot: QtBot, clinic: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient_id, _ = planned(clinic, actor)
    seen: list[str] = []
    after_keep: list[bool] = []

    def fill_then_escape(dialog: QWidget) -> None:
        assert isinstance(dialog, SessionDialog)
        qtbot.waitUntil(lambda: dialog.loaded)
        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow)
        qtbot.keyClicks(dialog.pain_before, "6")
        modal.then(_answer_discard_question("Keep editing", seen))
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        after_keep.append(dialog.isVisible() and dialog.pain_before.value() == 6)
        modal.then(_answer_discard_question("Discard", seen))
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    modal.then(fill_then_escape)
    record = SessionDialog.log(None, clinic, actor, patient_id)
    modal.check()
    assert seen == ["This session form has changes that are not saved."] * 2
    assert after_keep == [True], "keep editing keeps the form and what was typed"
    assert record is None and clinic.sessions.history(actor, patient_id) == []


def test_escape_on_an_untouched_session_form_closes_it_without_asking(
    qtbot: QtBot, clinic: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient_id, _ = planned(clinic, actor)

    def escape(dialog: QWidget) -> None:
        assert isinstance(dialog, SessionDialog)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    modal.then(escape)
    assert SessionDialog.log(None, clinic, actor, patient_id) is None
    modal.check()
    assert modal.pending == 0


def test_a_session_without_pain_after_on_a_day_with_one_already_asks_before_saving(
    qtbot: QtBot, clinic: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient_id, _ = planned(clinic, actor)
    first = SessionDialog(clinic, actor, patient_id)
    qtbot.waitUntil(lambda: first.loaded)
    clinic.sessions.log(actor, patient_id, replace(first.data(), pain_before=6, pain_after=4))
    first.deleteLater()
    asked: list[str] = []

    def save_anyway(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.informativeText())
        next(b for b in box.buttons() if b.text() == "Save anyway").click()

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, SessionDialog)
        qtbot.waitUntil(lambda: dialog.loaded)
        dialog.pain_before.set_value(5)
        dialog.pain_after.set_value(None)
        modal.then(save_anyway)
        dialog.save_button().click()

    modal.then(fill)
    record = SessionDialog.log(None, clinic, actor, patient_id)
    modal.check()
    assert record is not None and record.data.pain_after is None
    assert len(clinic.sessions.history(actor, patient_id)) == 2
    [findings] = asked
    assert "Pain after the session is not recorded." in findings
    assert f"Okafor, Grace already has 1 session on {START.isoformat()}" in findings


def test_the_form_shows_the_precautions_first_and_will_not_offer_what_they_rule_out(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id = grace(clinic, actor, precautions=("pregnancy", "pacemaker"))
    clinic.plans.create_recommended(actor, "CASE-0045", start=START, acknowledge=True)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    panel = dialog.safety_panel.text()
    assert dialog.safety_panel.isVisible()
    assert "Pregnancy" in panel and "Cardiac pacemaker or implanted device" in panel
    assert "pacemaker" not in panel.replace("Cardiac pacemaker", "")
    dialog.modality_boxes["acupuncture"].setChecked(True)
    assert not dialog.electro.isEnabled()
    assert "pacemaker" in dialog.electro_reason.text().lower()
    assert dialog.electro_reason.isVisible()
    offered = {dialog.point_picker.itemData(i) for i in range(dialog.point_picker.count())}
    assert not offered & {"SP6", "LI4", "BL67", "BL60"}
    dialog.point_picker.setEditText("SP6")
    dialog.add_point_button.click()
    assert "SP6" not in dialog.point_codes()
    assert "Pregnancy" in dialog.points_box.error.text()


def test_a_patient_on_hold_shows_urgent_referral_and_no_session_can_be_saved(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    from backclinic.domain.screening import FlagAnswer
    from backclinic.services.assessments import AssessmentInput
    from tests.services.test_plans import article_intake, no_red_flags

    patient_id, _ = planned(clinic, actor)
    clinic.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(
                clinic, red_flags=no_red_flags(clinic, saddle_anaesthesia=FlagAnswer.PRESENT)
            ),
        ),
    )
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    assert dialog.safety_panel.text().startswith("Urgent referral")
    assert "saddle anaesthesia" in dialog.safety_panel.text()
    assert not dialog.save_button().isEnabled()


def test_lumbosacral_points_in_pregnancy_ask_for_the_acknowledgement_before_saving(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id = grace(clinic, actor, precautions=("pregnancy", "pacemaker"))
    clinic.plans.create_recommended(actor, "CASE-0045", start=START, acknowledge=True)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    dialog.modality_boxes["acupuncture"].setChecked(True)
    dialog.modality_boxes["pt"].setChecked(False)
    dialog.points_box.set_points({})
    assert not dialog.acknowledgement.isVisible()
    dialog.point_picker.setEditText("BL23")
    dialog.add_point_button.click()
    assert dialog.point_codes() == ("BL23",)
    assert dialog.acknowledgement.isVisible()
    assert "BL23" in dialog.acknowledgement.text()
    assert "never with strong or electrical stimulation" in dialog.acknowledgement_advice.text()
    dialog.pain_before.set_value(5)
    dialog.save_button().click()
    assert dialog.record is None
    assert "acknowledgement" in dialog.errors.label("acupoints").text()
    qtbot.mouseClick(dialog.acknowledgement, Qt.MouseButton.LeftButton)
    assert dialog.acknowledgement.isChecked()
    dialog.save_button().click()
    assert dialog.record is not None
    assert dialog.record.data.acknowledged_points == ("BL23",)


def test_save_disabled_by_a_needed_clearance_says_where_to_record_it(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    from backclinic.domain.screening import FlagAnswer
    from backclinic.services.assessments import AssessmentInput
    from tests.services.test_plans import article_intake, no_red_flags

    patient_id, _ = planned(clinic, actor)
    clinic.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(
                clinic, red_flags=no_red_flags(clinic, cancer_history=FlagAnswer.PRESENT)
            ),
        ),
    )
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    assert not dialog.save_button().isEnabled()
    for text in (dialog.safety_panel.text(), dialog.save_button().toolTip()):
        assert "history of cancer" in text
        assert "Overview tab (Record clearance…)" in text


def test_the_session_dialog_fits_a_1366_by_768_screen_and_never_scrolls_sideways(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id, _ = planned(clinic, actor)
    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))
    assert dialog.height() <= 720 and dialog.width() <= 1366
    assert dialog.sizeHint().height() <= 720
    scroll = dialog.findChild(QScrollArea)
    assert scroll is not None
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)  # the rest is a scroll away, not off-screen
    assert scroll.horizontalScrollBar().maximum() == 0


def test_planned_points_a_later_pregnancy_rules_out_are_not_prefilled_and_the_form_says_why(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    """A plan made at intake with SP6 and LI4, then a pregnancy and a pacemaker recorded at
    a reassessment the same day: the form proposes the plan's points without them, says
    so beside the points, and keeps electro-acupuncture off."""
    from backclinic.services.assessments import AssessmentInput
    from backclinic.services.plans import choices_from_proposal
    from tests.services.test_plans import MON_TO_FRI, article_intake

    patient_id = grace(clinic, actor)
    choices = choices_from_proposal(
        clinic.plans.propose(actor, patient_id), start=START, clinic_days=MON_TO_FRI
    )
    phases = tuple(replace(p, acupoints=(*p.acupoints, "SP6", "LI4")) for p in choices.phases)
    plan = clinic.plans.create(actor, patient_id, replace(choices, phases=phases))
    clinic.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment", article_intake(clinic, precautions=("pregnancy", "pacemaker"))
        ),
    )

    dialog = opened(qtbot, SessionDialog(clinic, actor, patient_id))

    proposed = dialog.points_box.codes()
    assert "SP6" not in proposed and "LI4" not in proposed
    assert proposed == tuple(c for c in plan.phases[0].acupoints if c not in ("SP6", "LI4"))
    said = dialog.points_box.error.text()
    assert dialog.points_box.error.isVisibleTo(dialog)
    assert said.startswith("SP6 and LI4 are in the plan but not offered")
    assert "because of the precaution 'Pregnancy'" in said
    assert not dialog.electro.isEnabled()
