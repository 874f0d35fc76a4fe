"""The intake form: filled like a clinician would, errors by their fields, live scores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backclinic.domain.screening import FlagAnswer
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.patients import Patient
from backclinic.ui.intake_form import IntakeForm
from backclinic.ui.intake_tab import IntakeTab
from tests.ui.conftest import ModalDriver, person

ODI_ANSWERS = (3, 1, 2, 1, 4, 2, 2, None, 2, 3)


def grace(services: Services, actor: Actor) -> Patient:
    return services.patients.register(
        actor,
        person(
            family_name="Okafor",
            given_name="Grace",
            date_of_birth=dt.date(1980, 11, 2),
            mrn="CASE-0045",
            occupation="office worker",
        ),
    )


def open_form(
    qtbot: QtBot, services: Services, actor: Actor, patient_id: int, **kw: str
) -> IntakeForm:
    form = IntakeForm(services, actor, patient_id, **kw)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    return form


def fill_article_intake(form: IntakeForm) -> None:
    """The article's office worker, as a clinician enters her."""
    form.date.setDate(QDate(2026, 1, 5))
    form.onset_weeks.setValue(30)
    form.recurrent.setCurrentIndex(form.recurrent.findText("Yes"))
    form.radiating_present.setChecked(True)
    form.radiating_side.setCurrentIndex(form.radiating_side.findText("Left"))
    form.radiating_below_knee.setCurrentIndex(form.radiating_below_knee.findText("No"))
    form.radiating_to.setText("hip")
    for code in ("sitting", "posture"):
        form.aggravated_by.boxes[code].click()
    for code in ("posture", "muscle_imbalance", "sedentary"):
        form.contributing_factors.boxes[code].click()
    form.mark_all_absent.click()
    form.precautions.mark_all_absent.click()
    form.nprs_current.setValue(6)
    form.nprs_worst.setValue(8)
    form.nprs_best.setValue(3)
    for section, answer in zip(form.odi_sections, ODI_ANSWERS, strict=True):
        (section.blank if answer is None else section.buttons[answer]).click()
    form.goals.setPlainText("sit through a working day without pain\navoid long-term NSAIDs")


def test_the_article_intake_saves_with_a_live_oswestry_of_44_4_percent(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    fill_article_intake(form)
    assert form.odi_score.text().startswith("ODI 44.4 % (severe)")
    assert form.screening_verdict.text().startswith("No red flags")
    form.save_button().click()
    qtbot.waitUntil(lambda: not form.isVisible())
    saved = services.assessments.latest_intake(actor, patient.id)
    assert saved is not None and saved.odi is not None
    assert saved.odi.percent == 44.4
    assert saved.intake.radiating_side == "left"
    assert saved.intake.goals == (
        "sit through a working day without pain",
        "avoid long-term NSAIDs",
    )


def test_best_pain_above_worst_pain_is_shown_by_the_field_and_nothing_is_saved(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    fill_article_intake(form)
    form.nprs_worst.setValue(3)
    form.nprs_best.setValue(8)
    form.save_button().click()
    error = form.findChild(QLabel, "nprs.best_error")
    assert error.text() == "Best pain cannot be higher than worst pain."
    assert error.isVisible()
    assert form.isVisible()
    assert form.focusWidget() is form.nprs_best.edit
    assert services.assessments.for_patient(actor, patient.id) == []


def test_three_skipped_oswestry_sections_say_incomplete_instead_of_a_score(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    form = open_form(qtbot, services, actor, grace(services, actor).id)
    for section, answer in zip(
        form.odi_sections, (3, 1, 2, None, 4, 2, None, None, 2, 3), strict=True
    ):
        (section.blank if answer is None else section.buttons[answer]).click()
    assert form.odi_score.text() == "ODI incomplete: 3 sections skipped"


def test_every_oswestry_section_shows_its_six_statements_and_a_skip(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    form = open_form(qtbot, services, actor, grace(services, actor).id)
    assert len(form.odi_sections) == 10
    assert all(len(section.buttons) == 6 for section in form.odi_sections)
    assert form.odi_sections[0].buttons[0].text() == "I have no pain at the moment"


def test_saddle_anaesthesia_present_shows_the_urgent_referral_in_red(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    form = open_form(qtbot, services, actor, grace(services, actor).id)
    form.mark_all_absent.click()
    form.set_flag("saddle_anaesthesia", FlagAnswer.PRESENT)
    assert "Urgent referral" in form.screening_verdict.text()
    assert "cannot be overridden" in form.screening_verdict.text()
    assert "#b00020" in form.screening_verdict.styleSheet()


def test_an_untouched_red_flag_screen_is_saved_as_not_screened(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    assert form.screening_verdict.text().startswith("Red flags not (fully) screened")
    form.save_button().click()
    qtbot.waitUntil(lambda: not form.isVisible())
    saved = services.assessments.latest_intake(actor, patient.id)
    assert saved is not None and saved.intake.red_flags is None
    assert saved.odi is None


def test_a_half_answered_start_back_is_refused_by_its_field(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    form.startback_items[0].buttons[1].click()
    assert "not scored (8 of 9 unanswered)" in form.startback_risk.text()
    form.save_button().click()
    assert (
        "8 STarT Back items are unanswered"
        in form.findChild(QLabel, "startback_answers_error").text()
    )
    assert services.assessments.for_patient(actor, patient.id) == []


def test_all_start_back_items_answered_show_the_risk_group_live(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    form = open_form(qtbot, services, actor, grace(services, actor).id)
    for item, answer in zip(form.startback_items, (1, 1, 1, 1, 1, 1, 1, 1, 4), strict=True):
        item.buttons[answer].click()
    assert form.startback_risk.text().startswith("STarT Back high risk")


def test_a_reassessment_says_so_in_its_title(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    form = open_form(qtbot, services, actor, grace(services, actor).id, kind="reassessment")
    assert form.windowTitle().startswith("Reassessment")


def test_the_intake_tab_records_an_intake_through_the_form_and_lists_it(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver, qtmodeltester: ModelTester
) -> None:
    patient = grace(services, actor)
    tab = IntakeTab(services, actor, patient.id)
    qtbot.addWidget(tab)
    assert not tab.reassess_button.isEnabled()

    def save_anyway(box: QWidget) -> None:
        # Her Oswestry has section 8 skipped: the clinician confirms it.
        assert isinstance(box, QMessageBox)
        assert "1 of 10 Oswestry sections was skipped" in box.informativeText()
        next(b for b in box.buttons() if b.text() == "Save anyway").click()

    def fill_and_save(form: IntakeForm) -> None:  # type: ignore[override]
        fill_article_intake(form)
        modal.then(save_anyway)
        form.save_button().click()

    modal.then(fill_and_save)  # type: ignore[arg-type]
    with qtbot.waitSignal(tab.assessment_saved):
        tab.record_button.click()
    modal.check()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)
    qtmodeltester.check(tab.model)
    row = [tab.model.index(0, c).data() for c in range(tab.model.columnCount())]
    assert row == [
        "2026-01-05",
        "Intake",
        "6 (worst 8, best 3)",
        "44.4 %",
        "—",
        "No red flags",
        "",
    ]
    assert tab.reassess_button.isEnabled()


def error_text(form: QWidget, field: str) -> str:
    return " ".join(
        label.text()
        for label in form.findChildren(QLabel)
        if label.objectName() == f"{field}_error"
    )


def confirm_carried_answers(form: IntakeForm) -> None:
    """Click each answer carried over from the last screen, as a clinician confirms it."""
    for group in (*form.red_flag_groups.values(), *form.precautions.groups.values()):
        checked = group.checkedButton()
        if checked is not None:
            checked.click()


def test_a_reassessment_rerates_the_psfs_activities_named_at_intake(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from backclinic.services.assessments import AssessmentInput, PsfsItem
    from tests.services.test_plans import article_intake, grace

    patient_id = grace(services, actor)
    first = services.assessments.for_patient(actor, patient_id)[0]
    assert first.psfs == ()
    named = (PsfsItem("sitting an hour", 3), PsfsItem("lifting a bag", 4), PsfsItem("walking", 6))
    services.assessments.record(
        actor,
        patient_id,
        AssessmentInput("intake", article_intake(services), psfs=named),
    )
    form = IntakeForm(services, actor, patient_id, kind="reassessment")
    qtbot.addWidget(form)
    assert [a.text() for a in form.psfs.activities[:3]] == [p.activity for p in named]
    for rating, value in zip(form.psfs.ratings, (6, 7, 8), strict=False):
        rating.setValue(value)
    confirm_carried_answers(form)
    form.save_button().click()
    assert form.assessment is not None
    assert [p.score for p in form.assessment.psfs] == [6, 7, 8]
    assert form.assessment.psfs_mean == 7.0


def test_the_start_back_section_shows_the_keele_copyright_notice(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    form = open_form(qtbot, services, actor, grace(services, actor).id)
    notice = form.findChild(QLabel, "startback_copyright")
    assert notice is not None
    assert "© Keele University" in notice.text()
    heading = form.startback_items[4].findChild(QLabel)
    assert heading is not None
    assert heading.text() == (
        "5. It's not really safe for a person with a condition like mine to be physically active"
    )


def test_closing_a_filled_intake_form_asks_and_keep_editing_keeps_the_input(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient = grace(services, actor)
    seen: list[str] = []
    kept: list[bool] = []

    def answer(button: str) -> Callable[[QWidget], None]:
        def click(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            seen.append(box.text())
            next(b for b in box.buttons() if b.text() == button).click()

        return click

    def fill_then_close(form: QWidget) -> None:
        assert isinstance(form, IntakeForm)
        fill_article_intake(form)
        modal.then(answer("Keep editing"))
        form.close()
        kept.append(form.isVisible() and form.odi_score.text().startswith("ODI 44.4"))
        modal.then(answer("Discard"))
        qtbot.keyClick(form, Qt.Key.Key_Escape)

    modal.then(fill_then_close)
    saved = IntakeForm.record(None, services, actor, patient.id)
    modal.check()
    assert seen == ["This intake form has changes that are not saved."] * 2
    assert kept == [True]
    assert saved is None and services.assessments.latest_intake(actor, patient.id) is None


def test_fifteen_typed_into_a_pain_field_stays_fifteen_with_the_rule_and_is_refused(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    fill_article_intake(form)
    form.show_section("Pain")
    form.nprs_current.edit.clear()
    qtbot.keyClicks(form.nprs_current.edit, "15")
    assert form.nprs_current.edit.text() == "15", "what was typed is kept, not coerced to 1"
    assert form.nprs_current.rule_label.isVisible()
    assert form.nprs_current.rule_label.text() == "Pain is 0–10"
    form.save_button().click()
    assert form.isVisible()
    error = form.findChild(QLabel, "nprs.current_error")
    assert error is not None and error.text() == "Pain is 0–10; 15 is not a score."
    assert services.assessments.latest_intake(actor, patient.id) is None
    form.nprs_current.edit.setText("5")
    assert not form.nprs_current.rule_label.isVisible()


def test_saving_an_intake_with_unasked_red_flags_and_a_skipped_odi_section_asks_first(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient = grace(services, actor)
    asked: list[str] = []
    still_open: list[bool] = []

    def answer(button: str) -> Callable[[QWidget], None]:
        def click(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            asked.append(box.informativeText())
            next(b for b in box.buttons() if b.text() == button).click()

        return click

    def fill_and_save(form: QWidget) -> None:
        assert isinstance(form, IntakeForm)
        fill_article_intake(form)
        form.set_flag("night_pain", FlagAnswer.NOT_ASKED)
        modal.then(answer("Go back"))
        form.save_button().click()
        still_open.append(form.isVisible())
        modal.then(answer("Save anyway"))
        form.save_button().click()

    modal.then(fill_and_save)
    saved = IntakeForm.record(None, services, actor, patient.id)
    modal.check()
    assert still_open == [True], "going back saves nothing and keeps the form"
    assert "1 of 16 red-flag items was not asked" in asked[0]
    assert "1 of 10 Oswestry sections was skipped" in asked[0]
    assert len(asked) == 2
    assert saved is not None and services.assessments.latest_intake(actor, patient.id) is not None


def test_reassess_starts_from_the_latest_assessments_history_but_asks_pain_afresh(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    fill_article_intake(form)
    form.precautions.boxes["anticoagulants"].click()
    form.save_button().click()
    qtbot.waitUntil(lambda: not form.isVisible())

    again = open_form(qtbot, services, actor, patient.id, kind="reassessment")

    assert again.onset_weeks.value() == 30
    assert again.radiating_side.currentText() == "Left"
    assert again.radiating_to.text() == "hip"
    assert again.aggravated_by.checked() == ("sitting", "posture")
    assert set(again.contributing_factors.checked()) == {"posture", "muscle_imbalance", "sedentary"}
    assert again.precautions.checked() == ("anticoagulants",)
    assert again.goals.toPlainText().startswith("sit through a working day")
    assert again.nprs_current.edit.text() == "", "pain is measured again, not copied"
    assert again.odi_answers() is None


def test_a_reassessment_re_screens_every_red_flag_and_precaution_each_one_confirmed(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from backclinic.domain.screening import FlagAnswer as Answer

    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    fill_article_intake(form)
    form.precautions.boxes["pregnancy"].click()
    form.precautions.pregnancy_weeks.setValue(10)
    form.set_flag("night_pain", Answer.PRESENT)
    form.red_flag_clearance.setText("Night pain from turning in bed, GP saw her on 2 Jan")
    form.save_button().click()
    qtbot.waitUntil(lambda: not form.isVisible())

    again = open_form(qtbot, services, actor, patient.id, kind="reassessment")
    # Pre-filled from the last answers, each waiting to be confirmed.
    assert again.flag_answers() is not None
    assert again.flag_answers()["night_pain"] == Answer.PRESENT  # type: ignore[index]
    assert again.precautions.answer("pregnancy") == Answer.PRESENT
    assert again.precautions.answer("pacemaker") == Answer.ABSENT
    assert again.precautions.pregnancy_weeks.value() == 10
    assert "confirm" in again.red_flag_labels["fever"].text()
    again.nprs_current.setValue(4)
    again.save_button().click()
    assert again.assessment is None
    shown = error_text(again, "red_flags")
    assert "Confirm each answer carried over" in shown and "fever" in shown
    again.red_flag_groups["fever"].checkedButton().click()
    assert "confirm" not in again.red_flag_labels["fever"].text()
    confirm_carried_answers(again)
    again.save_button().click()
    assert again.assessment is not None
    assert again.assessment.intake.precautions == ("pregnancy",)
    assert again.assessment.intake.precautions_not_asked == ()


def test_the_intake_shows_the_derived_age_flag_and_takes_a_reason_to_rule_it_out(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from backclinic.services.patients import PatientInput

    elder = services.patients.register(
        actor, PatientInput("Nakamura", "Hiro", dt.date(1955, 6, 1), mrn="CASE-0070")
    )
    form = open_form(qtbot, services, actor, elder.id)
    fill_article_intake(form)
    assert form.age_flag.isHidden()
    form.onset_weeks.setValue(3)
    form.recurrent.setCurrentIndex(form.recurrent.findText("No"))
    assert not form.age_flag.isHidden()
    assert "Age over 50 with new back pain (70 at onset, pain for 3 weeks" in (
        form.age_flag.flag.text()
    )
    form.age_flag.ruled_out.setText("ok")
    form.save_button().click()
    assert form.assessment is None
    assert "reason of at least 3 words" in error_text(form, "age_flag_ruled_out")
    form.age_flag.ruled_out.setText("Same pattern as in 2019, imaging then normal")
    form.save_button().click()
    assert form.assessment is not None
    assert (
        form.assessment.intake.age_flag_ruled_out == "Same pattern as in 2019, imaging then normal"
    )


def test_an_unrecorded_onset_shows_the_age_flag_until_the_onset_is_recorded(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from backclinic.services.patients import PatientInput

    elder = services.patients.register(
        actor, PatientInput("Nakamura", "Hiro", dt.date(1955, 6, 1), mrn="CASE-0070")
    )
    form = open_form(qtbot, services, actor, elder.id)
    fill_article_intake(form)
    form.recurrent.setCurrentIndex(form.recurrent.findText("No"))
    form.onset_weeks.setValue(-1)  # "Not recorded"

    text = form.age_flag.flag.text()
    assert not form.age_flag.isHidden()
    assert "onset not recorded" in text
    assert "The onset is not recorded, so the pain is taken as new" in text
    assert "recording when it began settles it if that was more than 12 weeks ago" in text

    form.onset_weeks.setValue(20)
    assert form.age_flag.isHidden()
    form.save_button().click()
    assert form.assessment is not None and form.assessment.intake.age_flag_ruled_out is None


def test_the_form_is_in_sections_each_saying_how_complete_it_is(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    assert form.section_titles() == [
        "History",
        "Red flags",
        "Precautions",
        "Pain",
        "Questionnaires",
        "Goals",
    ]
    assert form.section_status("Red flags") == "Not asked yet"
    assert form.section_status("Pain") == "0 of 3 recorded"
    form.section_list.setCurrentRow(3)
    assert form.current_section() == "Pain"
    assert form.nprs_current.isVisible() and not form.mark_all_absent.isVisible()
    form.next_section_button.click()
    assert form.current_section() == "Questionnaires"
    fill_article_intake(form)
    assert form.section_status("History") == "Complete"
    assert form.section_status("Red flags") == "Complete – none present"
    assert form.section_status("Pain") == "Complete"
    assert form.section_status("Questionnaires") == "Oswestry 9 of 10, STarT Back 0 of 9"
    assert form.section_status("Goals") == "2 goals"


def test_an_error_on_save_brings_its_section_forward_and_focuses_the_field(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    fill_article_intake(form)
    form.nprs_best.setValue(9)  # above the worst, 8
    form.show_section("Goals")
    form.save_button().click()
    assert form.current_section() == "Pain"
    assert form.section_status("Pain") == "Has an error – see the field"
    error = form.findChild(QLabel, "nprs.best_error")
    assert error is not None and error.isVisible()
    assert form.focusWidget() is form.nprs_best.edit


def test_the_form_fits_a_1366_by_768_screen_and_never_scrolls_sideways(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    form = open_form(qtbot, services, actor, patient.id)
    assert form.width() <= 1366 and form.height() <= 720
    assert form.sizeHint().height() <= 720 and form.minimumSizeHint().width() <= 1366
    for title in form.section_titles():
        form.show_section(title)
        scroll = form.page_scrolls[form.pages.currentIndex()]
        qtbot.wait(10)
        assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width(), title
        assert scroll.horizontalScrollBar().maximum() == 0, title
