"""The plan wizard and the Plan tab, driven page by page as a clinician would."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTime
from PySide6.QtWidgets import QLabel, QTextBrowser, QWizard
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.domain.screening import FlagAnswer, ScreeningOutcome
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.patients import Patient
from backclinic.ui.intake_form import IntakeForm
from backclinic.ui.plan_tab import ChangePhaseDialog, PlanTab
from backclinic.ui.plan_wizard import PlanWizard
from tests.protocol_copies import (
    AVOIDED_POINT,
    AVOIDING_LABEL,
    AVOIDING_PRECAUTION,
    protocol_avoiding,
)
from tests.ui.conftest import ModalDriver
from tests.ui.test_intake_form import fill_article_intake, grace, open_form

START = dt.date(2026, 1, 5)


def record_intake(
    qtbot: QtBot,
    services: Services,
    actor: Actor,
    patient: Patient,
    *,
    flags: dict[str, FlagAnswer] | None = None,
    precautions: tuple[str, ...] = (),
) -> None:
    form = open_form(qtbot, services, actor, patient.id)
    fill_article_intake(form)
    for code, answer in (flags or {}).items():
        form.set_flag(code, answer)
    for code in precautions:
        form.precautions.boxes[code].click()
    form.save_button().click()
    qtbot.waitUntil(lambda: not form.isVisible())
    assert isinstance(form, IntakeForm) and form.assessment is not None


def open_wizard(qtbot: QtBot, services: Services, actor: Actor, patient: Patient) -> PlanWizard:
    wizard = PlanWizard(services, actor, patient.id)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    return wizard


def next_enabled(wizard: PlanWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def to_review(wizard: PlanWizard) -> None:
    while wizard.currentPage() is not wizard.review_page:
        assert next_enabled(wizard), wizard.currentPage().title()
        wizard.next()


def week_of(day: dt.date) -> int:
    return (day - START).days // 7 + 1


def test_the_article_office_worker_gets_the_articles_plan_through_wizard_and_plan_tab(
    qtbot: QtBot,
    services: Services,
    actor: Actor,
    modal: ModalDriver,
    qtmodeltester: ModelTester,
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    tab = PlanTab(services, actor, patient.id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    assert tab.build_button.isEnabled()
    pages: list[str] = []

    def drive(wizard: PlanWizard) -> None:  # type: ignore[override]
        assert "none present" in wizard.screening_page.message.text()
        while wizard.currentPage() is not wizard.review_page:
            pages.append(wizard.currentPage().title())
            assert next_enabled(wizard)
            wizard.next()
        wizard.review_page.start_date.setDate(QDate(2026, 1, 5))
        for day, box in enumerate(wizard.review_page.day_boxes):
            box.setChecked(day < 5)
        assert wizard.review_page.summary.text().startswith("14 visits: 7 with acupuncture")
        qtmodeltester.check(wizard.review_page.visits)
        wizard.button(QWizard.WizardButton.FinishButton).click()

    modal.then(drive)  # type: ignore[arg-type]
    with qtbot.waitSignal(tab.plan_changed):
        tab.build_button.click()
    modal.check()
    assert pages == [
        "Red-flag screening",
        "Suitability",
        "Acupuncture per phase",
        "Physical therapy per phase",
        "Goals",
    ]
    assert tab.plan is not None
    assert [p.name for p in tab.plan.phases] == [
        "Calm and correct",
        "Stabilise",
        "Strengthen and prevent",
    ]
    assert tab.phases.toPlainText().count("Phase ") == 3
    assert "Acupuncture twice a week" in tab.phases.toPlainText()
    qtmodeltester.check(tab.visits)
    visits = [tab.visits.row(row) for row in range(tab.visits.rowCount())]
    acupuncture = Counter(week_of(v.visit_date) for v in visits if "acupuncture" in v.modalities)
    pt_weeks = {week_of(v.visit_date) for v in visits if "pt" in v.modalities}
    assert sum(acupuncture[w] for w in (1, 2)) == 4
    assert sum(acupuncture[w] for w in (3, 4, 5)) == 3
    assert not any(week >= 6 for week in acupuncture)
    assert {1, 2, 3, 4, 5} <= pt_weeks
    assert tab.plan.start_date == START


def test_saddle_anaesthesia_stops_the_wizard_on_the_first_page_with_the_referral(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient, flags={"saddle_anaesthesia": FlagAnswer.PRESENT})
    wizard = open_wizard(qtbot, services, actor, patient)
    message = wizard.screening_page.message.text()
    assert "Urgent referral" in wizard.screening_page.outcome_label.text()
    assert "cannot be overridden" in message
    assert wizard.screening_page.clearance_note.isHidden()
    assert not next_enabled(wizard)
    wizard.next()
    assert wizard.currentPage() is wizard.screening_page


def test_a_non_urgent_red_flag_needs_a_clearance_note_before_next(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient, flags={"major_trauma": FlagAnswer.PRESENT})
    wizard = open_wizard(qtbot, services, actor, patient)
    assert not next_enabled(wizard)
    qtbot.keyClicks(wizard.screening_page.clearance_note, "cleared by GP on 2026-01-03")
    assert next_enabled(wizard)
    to_review(wizard)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wizard.plan is not None)
    assert wizard.plan is not None
    assert wizard.plan.red_flag_clearance == "cleared by GP on 2026-01-03"


def test_a_schedule_the_clinic_days_cannot_hold_shows_why_and_disables_finish(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    wizard = open_wizard(qtbot, services, actor, patient)
    to_review(wizard)
    for day, box in enumerate(wizard.review_page.day_boxes):
        box.setChecked(day == 0)
    error = wizard.findChild(QLabel, "clinic_days_error")
    assert error.isVisible() and error.text()
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    wizard.review_page.day_boxes[2].setChecked(True)
    assert not error.isVisible()
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()


def test_a_point_ruled_out_by_pregnancy_is_refused_with_the_reason(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient, precautions=("pregnancy",))
    wizard = open_wizard(qtbot, services, actor, patient)
    points = wizard.acupuncture_page.phases[0].points
    assert not points.add("SP6")
    assert "SP6" not in points.codes()
    assert "Pregnancy" in points.error.text()
    assert points.add("GV3") or "GV3" in points.codes()


def test_edited_frequencies_and_weeks_reach_the_stored_plan(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    wizard = open_wizard(qtbot, services, actor, patient)
    first = wizard.acupuncture_page.phases[0]
    first.weeks.setValue(3)
    first.per_week.setValue(3)
    wizard.pt_page.phases[2].per_week.setValue(2)
    to_review(wizard)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wizard.plan is not None)
    assert wizard.plan is not None
    phases = wizard.plan.phases
    assert (phases[0].end_week, phases[0].acupuncture_per_week) == (3, 3)
    assert (phases[1].start_week, phases[1].end_week) == (4, 6)
    assert phases[2].pt_per_week == 2


def test_the_plan_tab_without_an_intake_says_why_the_plan_cannot_be_built(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    tab = PlanTab(services, actor, grace(services, actor).id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    assert not tab.build_button.isEnabled()
    assert "Record an intake first" in tab.build_reason.text()


def test_changing_a_phase_from_the_plan_tab_reschedules_and_says_only_future_visits_move(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    wizard = open_wizard(qtbot, services, actor, patient)
    to_review(wizard)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wizard.plan is not None)
    tab = PlanTab(services, actor, patient.id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    notes: list[str] = []

    def change(dialog: ChangePhaseDialog) -> None:  # type: ignore[override]
        notes.extend(label.text() for label in dialog.findChildren(QLabel))
        dialog.phase.setCurrentIndex(2)
        dialog.pt_per_week.setValue(2)
        dialog.save_button().click()

    modal.then(change)  # type: ignore[arg-type]
    with qtbot.waitSignal(tab.plan_changed):
        tab.change_button.click()
    modal.check()
    assert any("Only visits from today on are rescheduled" in note for note in notes)
    assert tab.plan is not None and tab.plan.phases[2].pt_per_week == 2


def test_a_point_the_clinics_protocol_copy_avoids_is_neither_offered_nor_accepted(
    qtbot: QtBot, database: OpenDatabase, actor: Actor, tmp_path: Path
) -> None:
    edited = build_services(database.session_factory, protocol=protocol_avoiding(tmp_path))
    patient = grace(edited, actor)
    record_intake(qtbot, edited, actor, patient, precautions=(AVOIDING_PRECAUTION,))
    wizard = open_wizard(qtbot, edited, actor, patient)
    for box in wizard.acupuncture_page.phases:
        points = box.points
        assert AVOIDED_POINT not in points.codes()
        offered = {points.picker.itemData(i) for i in range(points.picker.count())}
        assert AVOIDED_POINT not in offered and "BL23" in offered
        assert not points.add(AVOIDED_POINT)
        assert AVOIDED_POINT not in points.codes()
        assert f"{AVOIDED_POINT} is not offered" in points.error.text()
        assert AVOIDING_LABEL in points.error.text()


def test_the_wizards_dated_schedule_skips_the_clinics_closures_and_says_when_and_with_whom(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    settings = services.clinic.settings()
    services.clinic.update_settings(
        actor,
        clinic_name=settings.clinic_name,
        address=settings.address,
        phone=settings.phone,
        email=settings.email,
        idle_lock_minutes=settings.idle_lock_minutes,
        clinic_days=settings.clinic_days,
        expected_version=settings.version,
        closed_dates=(dt.date(2026, 12, 24),),
    )
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    wizard = open_wizard(qtbot, services, actor, patient)
    to_review(wizard)
    wizard.review_page.start_date.setDate(QDate(2026, 12, 21))

    model = wizard.review_page.visits
    dates = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert "Thu 2026-12-24" not in dates
    assert "Wed 2026-12-23" in dates
    summary = wizard.review_page.summary.text()
    assert f"Each visit is booked at 08:00 with {actor.name}." in summary


def test_frequencies_and_durations_read_in_the_singular_for_one(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    wizard = open_wizard(qtbot, services, actor, patient)
    pt = wizard.pt_page.phases[2].per_week
    pt.setValue(1)
    assert pt.text() == "1 visit per week"
    pt.setValue(2)
    assert pt.text() == "2 visits per week"
    weeks = wizard.acupuncture_page.phases[0].weeks
    weeks.setValue(1)
    assert weeks.text() == "1 week"
    weeks.setValue(3)
    assert weeks.text() == "3 weeks"


def test_each_acupuncture_phase_shows_its_own_aim_in_plain_words(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    wizard = open_wizard(qtbot, services, actor, patient)
    aims = [box.aim_label.text() for box in wizard.acupuncture_page.phases]
    assert len(set(aims)) == 3, aims
    assert aims[1].startswith("Continue acupuncture weekly")
    words = " ".join(
        browser.toPlainText() for browser in wizard.findChildren(QTextBrowser)
    ) + " ".join(label.text() for label in wizard.findChildren(QLabel))
    assert "[clinic_defaults]" not in words
    assert "protocol file" not in words
    assert "Set by this clinic" in words


def test_the_wizard_fits_a_1366_by_768_screen_and_never_scrolls_sideways(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from PySide6.QtWidgets import QScrollArea

    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    wizard = open_wizard(qtbot, services, actor, patient)
    assert wizard.width() <= 1366 and wizard.height() <= 700
    while wizard.currentPage() is not wizard.review_page:
        for area in wizard.currentPage().findChildren(QScrollArea):
            assert area.horizontalScrollBar().maximum() == 0, wizard.currentPage().title()
        wizard.next()


def test_the_acupuncture_page_sets_acp_and_nice_side_by_side_with_their_sources(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    wizard = open_wizard(qtbot, services, actor, patient)
    columns = wizard.acupuncture_page.evidence
    texts = [label.text() for label in columns]
    assert len(texts) == 2
    acp, nice = texts
    assert "ACP 2017" in acp and "recommended for acute and chronic low back pain" in acp
    assert "Ann Intern Med 2017;166:514" in acp
    assert "NICE NG59 (2016)" in nice and "Do not offer acupuncture" in nice
    assert "NICE guideline NG59" in nice
    # Side by side: the same row, one beside the other.
    assert columns[0].parentWidget() is columns[1].parentWidget()


def test_lumbosacral_points_in_pregnancy_need_the_acknowledgement_before_the_next_page(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient, precautions=("pregnancy",))
    wizard = open_wizard(qtbot, services, actor, patient)
    page = wizard.acupuncture_page
    while wizard.currentPage() is not page:
        wizard.next()
    assert "BL23" in page.needs_acknowledgement()
    assert page.acknowledgement.isVisible() and "BL23" in page.acknowledgement.text()
    assert "never with strong or electrical stimulation" in page.acknowledgement_advice.text()
    assert not next_enabled(wizard)
    page.acknowledgement.click()
    assert next_enabled(wizard)
    to_review(wizard)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wizard.plan is not None)
    assert wizard.plan is not None and "BL23" in wizard.plan.acknowledged_points


def test_the_wizard_says_an_unrecorded_onset_may_settle_the_age_flag(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from backclinic.services.assessments import AssessmentInput
    from backclinic.services.patients import PatientInput
    from tests.services.test_plans import article_intake

    patient = services.patients.register(
        actor, PatientInput("Nakamura", "Hiro", dt.date(1955, 6, 1), mrn="CASE-0070")
    )
    services.assessments.record(
        actor,
        patient.id,
        AssessmentInput("intake", article_intake(services, onset_weeks=None, recurrent=False)),
    )
    wizard = open_wizard(qtbot, services, actor, patient)
    message = wizard.screening_page.message.text()
    assert "Age over 50 with new back pain (70 now, onset not recorded" in message
    assert "The onset is not recorded, so the pain is taken as new" in message
    assert "more than 12 weeks ago" in message
    assert not next_enabled(wizard)


def test_the_wizard_stops_at_the_screen_for_an_unsettled_age_flag_and_says_why(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from backclinic.services.assessments import AssessmentInput
    from backclinic.services.patients import PatientInput
    from tests.services.test_plans import article_intake

    patient = services.patients.register(
        actor, PatientInput("Nakamura", "Hiro", dt.date(1955, 6, 1), mrn="CASE-0070")
    )
    services.assessments.record(
        actor,
        patient.id,
        AssessmentInput("intake", article_intake(services, onset_weeks=3, recurrent=False)),
    )
    wizard = open_wizard(qtbot, services, actor, patient)
    page = wizard.screening_page
    assert "Age over 50 with new back pain (70 at onset" in page.message.text()
    assert page.outcome_label.text() == "Age over 50 with new pain: confirm it or rule it out"
    assert not next_enabled(wizard)


def test_the_plan_tab_flags_supine_exercises_for_adaptation_in_pregnancy(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from dataclasses import replace

    from backclinic.services.assessments import AssessmentInput
    from backclinic.services.plans import choices_from_proposal
    from tests.services.test_plans import MON_TO_FRI, article_intake

    patient = grace(services, actor)
    today = services.context.clock.today()
    intake = article_intake(
        services, assessed_on=today, precautions=("pregnancy",), pregnancy_weeks=20
    )
    services.assessments.record(actor, patient.id, AssessmentInput("intake", intake))
    choices = choices_from_proposal(
        services.plans.propose(actor, patient.id), start=today, clinic_days=MON_TO_FRI
    )
    planned = tuple({p for ph in choices.phases for p in ph.acupoints})
    services.plans.create(actor, patient.id, replace(choices, acknowledged_points=planned))
    tab = PlanTab(services, actor, patient.id)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitUntil(lambda: not tab.loading)
    text = tab.adaptation.text()
    assert tab.adaptation.isVisible()
    assert "Core stabilisation" in text and "first trimester is over (week 20" in text


def test_the_clinician_picks_the_visit_time_within_opening_hours_and_the_plan_keeps_it(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient)
    wizard = open_wizard(qtbot, services, actor, patient)
    to_review(wizard)
    review = wizard.review_page
    assert review.visit_time.time() == QTime(8, 0)
    assert (review.visit_time.minimumTime(), review.visit_time.maximumTime()) == (
        QTime(8, 0),
        QTime(17, 59),
    )

    review.visit_time.setTime(QTime(15, 45))

    assert f"Each visit is booked at 15:45 with {actor.name}." in review.summary.text()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.plan is not None
    assert {v.visit_time for v in wizard.plan.visits} == {"15:45"}


def test_with_a_clearance_on_record_the_wizard_plans_without_a_typed_note(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from backclinic.services.safety import ClearanceInput

    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient, flags={"major_trauma": FlagAnswer.PRESENT})
    services.safety.record_clearance(
        actor,
        patient.id,
        ClearanceInput(("major_trauma",), "imaging", "X-ray shows no fracture or instability"),
    )
    wizard = open_wizard(qtbot, services, actor, patient)

    page = wizard.screening_page
    assert "X-ray shows no fracture or instability" in page.message.text()
    assert next_enabled(wizard)
    to_review(wizard)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wizard.plan is not None)
    assert wizard.plan is not None
    assert "by imaging: X-ray shows no fracture" in (wizard.plan.red_flag_clearance or "")


def test_the_screening_page_records_the_clearance_itself_and_then_lets_the_plan_be_made(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver
) -> None:
    from PySide6.QtWidgets import QWidget

    from backclinic.ui.safety_records_dialog import ClearanceDialog

    patient = grace(services, actor)
    record_intake(qtbot, services, actor, patient, flags={"major_trauma": FlagAnswer.PRESENT})
    wizard = open_wizard(qtbot, services, actor, patient)
    page = wizard.screening_page
    assert not next_enabled(wizard) and page.record_button.isVisible()

    def fill_and_save(dialog: QWidget) -> None:
        assert isinstance(dialog, ClearanceDialog)
        dialog.flag_boxes["major_trauma"].setChecked(True)
        dialog.method.setCurrentIndex(dialog.method.findData("imaging"))
        dialog.reason.setPlainText("X-ray shows no fracture or instability")
        dialog.save_button().click()

    modal.then(fill_and_save)
    qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
    modal.check()

    assert page.outcome == ScreeningOutcome.CLEARED and next_enabled(wizard)
    assert not page.clearance_note.isVisible() and not page.record_button.isVisible()
    assert [r.reason for r in services.safety.records(actor, patient.id)] == [
        "X-ray shows no fracture or instability"
    ]
