"""Discharge dialog: reason, note, final NPRS and ODI beside the baseline with the verdict;
one click closes the plan and stores the final assessment. Also the reassessment view."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QLabel, QMessageBox, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.services.assessments import AssessmentInput, PsfsItem
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.episodes import FinalComparison, MeasureComparison
from backclinic.services.plans import PlanView
from backclinic.ui.discharge_dialog import DischargeDialog
from backclinic.ui.psfs_editor import PsfsEditor
from backclinic.ui.reassessment_view import ReassessmentView
from tests.actors import COMMAND_LINE
from tests.services.test_plans import START, article_intake, grace
from tests.ui.conftest import ModalDriver

NOW = dt.datetime(2026, 2, 9, 17, tzinfo=dt.UTC)  # week 6 of a plan started on START
# Baseline ODI of the article intake is 44.4 %; these answers give 8 of 45 = 17.8 %.
FINAL_ODI = (1, 0, 1, 1, 1, 1, 1, None, 1, 1)


@pytest.fixture
def clinic(database: OpenDatabase, services: Services) -> Services:
    return build_services(database.session_factory, clock=lambda: NOW)


@pytest.fixture
def planned(clinic: Services, actor: Actor) -> tuple[int, PlanView]:
    patient_id = grace(clinic, actor)
    return patient_id, clinic.plans.create_recommended(actor, "CASE-0045", start=START)


def dialog(
    qtbot: QtBot,
    clinic: Services,
    actor: Actor,
    planned: tuple[int, PlanView],
    printed: list[int] | None = None,
) -> DischargeDialog:
    patient_id, plan = planned
    widget = DischargeDialog(
        clinic, actor, patient_id, plan, print_summary=None if printed is None else printed.append
    )
    qtbot.addWidget(widget)
    widget.show()
    return widget


def fill_final(widget: DischargeDialog, pain: int, odi: tuple[int | None, ...]) -> None:
    widget.nprs.setValue(pain)
    for combo, answer in zip(widget.odi_sections, odi, strict=True):
        combo.setCurrentIndex(combo.findData(answer) if answer is not None else 0)


def test_the_dialog_shows_baseline_and_final_with_the_verdict_as_they_are_entered(
    qtbot: QtBot, clinic: Services, actor: Actor, planned: tuple[int, PlanView]
) -> None:
    widget = dialog(qtbot, clinic, actor, planned)
    assert "Baseline 6, final not recorded" in widget.nprs_comparison.text()

    fill_final(widget, 5, FINAL_ODI)
    assert widget.nprs_comparison.text() == (
        "Baseline 6, final 5: No meaningful change (within measurement error)."
    )
    assert widget.odi_comparison.text() == (
        "Baseline 44.4 %, final 17.8 %: Clinically meaningful improvement."
    )
    widget.nprs.setValue(2)
    assert widget.nprs_comparison.text() == (
        "Baseline 6, final 2: Clinically meaningful improvement."
    )
    widget.nprs.setValue(9)
    assert widget.nprs_comparison.text() == (
        "Baseline 6, final 9: Clinically meaningful worsening."
    )
    assert "Pain is 3 points worse (6 → 9" in widget.nprs_comparison.toolTip()
    widget.nprs.setValue(2)
    assert "clinically meaningful" in widget.nprs_comparison.toolTip()


def answer(button: QMessageBox.StandardButton) -> Callable[[QWidget], None]:
    def press(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        assert "discharge summary" in box.text()
        box.button(button).click()

    return press


def test_discharging_closes_the_plan_with_the_final_assessment_and_signals_it(
    qtbot: QtBot,
    clinic: Services,
    actor: Actor,
    planned: tuple[int, PlanView],
    modal: ModalDriver,
) -> None:
    patient_id, plan = planned
    printed: list[int] = []
    widget = dialog(qtbot, clinic, actor, planned, printed)
    modal.then(answer(QMessageBox.StandardButton.Yes))
    widget.reason.setCurrentIndex(widget.reason.findData("goals_met"))
    widget.note.setPlainText("Back at work; home programme continues.")
    fill_final(widget, 2, FINAL_ODI)

    with qtbot.waitSignal(widget.discharged) as signal:
        widget.discharge_button().click()

    modal.check()
    assert signal.args == [plan.id]
    assert printed == [patient_id]
    assert widget.result() == DischargeDialog.DialogCode.Accepted
    closed = clinic.plans.get(actor, plan.id)
    assert (closed.status, closed.end_reason, closed.ended_on) == (
        "discharged",
        "goals_met",
        NOW.date(),
    )
    assert closed.end_note == "Back at work; home programme continues."
    final = clinic.assessments.for_patient(actor, patient_id)[-1]
    assert final.kind == "discharge" and final.intake.nprs_current == 2
    assert final.odi is not None and final.odi.percent == 17.8
    assert all(v.visit_date <= NOW.date() for v in closed.visits)


def test_a_stale_plan_is_refused_in_the_dialog_and_the_input_kept(
    qtbot: QtBot,
    database: OpenDatabase,
    clinic: Services,
    actor: Actor,
    planned: tuple[int, PlanView],
) -> None:
    _patient_id, plan = planned
    widget = dialog(qtbot, clinic, actor, planned)
    # Someone at another workstation changes the plan a minute later.
    elsewhere = build_services(
        database.session_factory, clock=lambda: NOW + dt.timedelta(minutes=1)
    )
    elsewhere.plans.change_phase(
        actor,
        plan.id,
        3,
        weeks=5,
        acupuncture_per_week=None,
        acupuncture_as_needed=True,
        pt_per_week=1,
        expected_version=plan.version,
    )
    fill_final(widget, 3, FINAL_ODI)
    widget.discharge_button().click()

    assert widget.isVisible()
    assert "This plan was changed by Mei Lin at " in widget.general_error.text()
    assert widget.nprs.value() == 3
    assert clinic.plans.get(actor, plan.id).status == "active"


def test_the_entry_point_returns_the_closed_plan_or_none(
    qtbot: QtBot,
    clinic: Services,
    actor: Actor,
    planned: tuple[int, PlanView],
    modal: ModalDriver,
) -> None:
    patient_id, plan = planned

    def discharge(widget: object) -> None:
        assert isinstance(widget, DischargeDialog)
        widget.reason.setCurrentIndex(widget.reason.findData("stopped_attending"))
        widget.discharge_button().click()

    modal.then(discharge).then(answer(QMessageBox.StandardButton.No))
    closed = DischargeDialog.discharge(None, clinic, actor, patient_id)
    modal.check()
    assert closed is not None and closed.end_reason == "stopped_attending"
    assert [a.kind for a in clinic.assessments.for_patient(actor, patient_id)] == ["intake"]

    modal.then(lambda box: box.accept() if isinstance(box, QMessageBox) else None)
    assert DischargeDialog.discharge(None, clinic, actor, patient_id) is None
    modal.check()
    assert plan.id == closed.id


def test_the_reassessment_view_compares_each_measure_with_the_intake(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id = grace(clinic, actor)
    psfs = (PsfsItem("sitting", 3), PsfsItem("socks", 4), PsfsItem("driving", 5))
    intake = clinic.assessments.latest_intake(actor, patient_id)
    assert intake is not None
    # A second intake with PSFS and STarT Back, so every measure has a baseline.
    baseline = replace(article_intake(clinic), startback_answers=(1, 1, 0, 1, 1, 1, 1, 1, 3))
    clinic.assessments.record(
        actor,
        patient_id,
        AssessmentInput("intake", replace(baseline, assessed_on=START), psfs=psfs),
    )
    later = replace(
        baseline,
        assessed_on=START + dt.timedelta(weeks=5),
        nprs_current=5,
        odi_answers=FINAL_ODI,
        startback_answers=(0, 0, 0, 0, 0, 1, 0, 0, 1),
    )
    rated = (PsfsItem("sitting", 7), PsfsItem("socks", 7), PsfsItem("driving", 7))
    reassessment = clinic.assessments.record(
        actor, patient_id, AssessmentInput("reassessment", later, psfs=rated)
    )

    view = ReassessmentView(clinic, actor, patient_id)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.loading)

    rows = view.rows_for(reassessment.id)
    assert [(r.intake, r.now, r.verdict) for r in rows] == [
        ("6", "5", "No meaningful change (within measurement error)"),
        ("44.4 %", "17.8 %", "Clinically meaningful improvement"),
        ("high", "low", "Risk lower"),
        ("4", "7", "Clinically meaningful improvement"),
        ("Not recorded", "Not recorded", "—"),
    ]
    assert rows[1].change == "26.6 points better (60 %)"
    assert "inf" not in rows[3].explanation
    assert view.empty.isHidden()


def test_the_psfs_editor_collects_three_to_five_rated_activities(qtbot: QtBot) -> None:
    editor = PsfsEditor()
    qtbot.addWidget(editor)
    assert editor.items() == () and editor.errors() == {} and editor.mean() is None

    editor.set_activities((PsfsItem("sitting", 3), PsfsItem("socks", 4)))
    assert editor.errors() == {
        "psfs[0].score": "Rate “sitting” from 0 to 10.",
        "psfs[1].score": "Rate “socks” from 0 to 10.",
        "psfs": "The PSFS needs 3 to 5 activities.",
    }
    editor.ratings[0].setValue(6)
    editor.ratings[1].setValue(7)
    assert editor.errors() == {"psfs": "The PSFS needs 3 to 5 activities."}
    assert not editor.show_errors() and not editor.error.isHidden()
    editor.activities[2].setText("driving")
    editor.ratings[2].setValue(8)
    assert editor.show_errors()
    assert editor.items() == (PsfsItem("sitting", 6), PsfsItem("socks", 7), PsfsItem("driving", 8))
    assert editor.mean() == 7.0
    assert editor.summary.text() == "Mean: 7"


def test_the_plan_tab_discharges_and_then_shows_the_closed_plan_with_new_plan_offered(
    qtbot: QtBot,
    clinic: Services,
    actor: Actor,
    planned: tuple[int, PlanView],
    modal: ModalDriver,
) -> None:
    from backclinic.ui.plan_tab import PlanTab

    patient_id, plan = planned
    tab = PlanTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    tab.show()
    assert tab.discharge_button.isVisible() and not tab.new_plan_button.isVisible()

    def discharge(window: QWidget) -> None:
        assert isinstance(window, DischargeDialog)
        window.print_summary = lambda _patient_id: None
        modal.then(answer(QMessageBox.StandardButton.No))
        window.reason.setCurrentIndex(window.reason.findData("plateau"))
        fill_final(window, 5, FINAL_ODI)
        window.discharge_button().click()

    modal.then(discharge)
    with qtbot.waitSignal(tab.plan_changed):
        tab.discharge_button.click()
    modal.check()
    assert clinic.plans.get(COMMAND_LINE, plan.id).status == "discharged"
    assert "discharged" in tab.header.text()
    assert tab.new_plan_button.isVisible() and not tab.discharge_button.isVisible()


def test_a_change_of_one_point_reads_in_the_singular(clinic: Services) -> None:
    from backclinic.domain.outcomes import judge

    thresholds = clinic.protocol.thresholds
    assert judge("nprs", 5, 4, thresholds).change_text == "1 point better (20 %)"
    assert judge("nprs", 6, 4, thresholds).change_text.startswith("2 points better")


def test_the_dialog_counts_the_visits_in_the_episodes_words(
    qtbot: QtBot, clinic: Services, actor: Actor, planned: tuple[int, PlanView]
) -> None:
    widget = dialog(qtbot, clinic, actor, planned)
    attendance = clinic.episodes.course(actor, planned[0]).attendance
    text = widget.findChild(QLabel, "plan_summary").text()
    assert attendance.text in text
    assert "of 10 due visits attended" in text


def test_discharge_previews_the_summary_and_never_says_printed_when_nothing_was_printed(
    qtbot: QtBot,
    clinic: Services,
    actor: Actor,
    planned: tuple[int, PlanView],
    modal: ModalDriver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient_id, _plan = planned
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text, *a: told.append(text))
    widget = dialog(qtbot, clinic, actor, planned)
    seen: list[str] = []

    def close_the_preview(window: QWidget) -> None:
        from backclinic.ui.print_preview import PrintPreview

        assert isinstance(window, PrintPreview)
        seen.append(window.status.text())
        window.reject()

    modal.then(answer(QMessageBox.StandardButton.Yes)).then(close_the_preview)
    widget.reason.setCurrentIndex(widget.reason.findData("goals_met"))
    fill_final(widget, 2, FINAL_ODI)
    with qtbot.waitSignal(widget.discharged):
        widget.discharge_button().click()

    modal.check()
    assert seen and seen[0].startswith("Preview only")
    assert not any("printed" in text for text in told)
    assert widget.summary_document_id is None
    assert clinic.documents.documents(actor, patient_id) == []


def test_the_dialog_fits_a_1366_by_768_screen_without_scrolling_sideways(
    qtbot: QtBot, clinic: Services, actor: Actor, planned: tuple[int, PlanView]
) -> None:
    widget = dialog(qtbot, clinic, actor, planned)
    qtbot.waitExposed(widget)
    assert widget.width() <= 1366 and widget.height() <= 700
    scroll = widget.findChild(QScrollArea)
    assert scroll is not None
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0)
    assert scroll.horizontalScrollBar().maximum() == 0
    viewport = scroll.viewport()
    for combo in [widget.reason, *widget.odi_sections]:
        right = combo.mapTo(viewport, combo.rect().topRight()).x()
        assert right <= viewport.width(), combo.objectName()
    # Every option still reads in full in the open list.
    longest = max(widget.odi_sections[0].itemText(i) for i in range(7))
    view = widget.odi_sections[0].view()
    assert view.fontMetrics().horizontalAdvance(longest) <= view.minimumWidth()


def _judged_as(verdict_text: str) -> Callable[[MeasureComparison], MeasureComparison]:
    """A measure the episode service judged with ``verdict_text``: a stand-in verdict no
    rule would give, so that a view working it out itself is caught."""

    def swap(compared: MeasureComparison) -> MeasureComparison:
        if compared.change is None:
            return compared
        change = replace(compared.change, text=f"{verdict_text}, as the service said.")
        return replace(compared, change=change)

    return swap


def test_the_outcomes_tab_shows_the_verdicts_the_episode_service_gives(
    qtbot: QtBot, clinic: Services, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id = grace(clinic, actor)
    later = replace(
        article_intake(clinic), assessed_on=START + dt.timedelta(weeks=5), nprs_current=2
    )
    clinic.assessments.record(actor, patient_id, AssessmentInput("reassessment", later))
    judged = clinic.episodes.comparisons(actor, patient_id)
    swap = _judged_as("Judged once")
    given = tuple(replace(c, measures=tuple(swap(m) for m in c.measures)) for c in judged)
    monkeypatch.setattr(clinic.episodes, "comparisons", lambda _actor, _patient: given)

    view = ReassessmentView(clinic, actor, patient_id)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.loading)

    pain = view.rows_for(given[0].later.id)[0]
    assert pain.explanation == "Judged once, as the service said."
    assert pain.verdict == "Clinically meaningful improvement"


def test_the_discharge_dialog_shows_the_verdict_the_episode_service_gives(
    qtbot: QtBot,
    clinic: Services,
    actor: Actor,
    planned: tuple[int, PlanView],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    judge = clinic.episodes.final_comparison
    swap = _judged_as("Judged once")

    def final(*args: object, **kwargs: object) -> FinalComparison:
        compared = judge(*args, **kwargs)  # type: ignore[arg-type]
        return replace(compared, pain=swap(compared.pain), odi=swap(compared.odi))

    monkeypatch.setattr(clinic.episodes, "final_comparison", final)
    widget = dialog(qtbot, clinic, actor, planned)
    widget.nprs.setValue(2)
    assert widget.nprs_comparison.toolTip() == "Judged once, as the service said."
    assert (
        widget.nprs_comparison.text() == "Baseline 6, final 2: Clinically meaningful improvement."
    )


def test_the_outcomes_tab_reads_off_the_gui_thread(
    qtbot: QtBot, clinic: Services, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id = grace(clinic, actor)
    read_on: list[threading.Thread] = []
    release = threading.Event()

    def slow_comparisons(*_args: object) -> tuple[()]:
        read_on.append(threading.current_thread())
        release.wait(5)
        return ()

    monkeypatch.setattr(clinic.episodes, "comparisons", slow_comparisons)
    view = ReassessmentView(clinic, actor, patient_id)
    qtbot.addWidget(view)
    assert view.loading
    release.set()
    qtbot.waitUntil(lambda: not view.loading)
    assert read_on and read_on[0] is not threading.main_thread()
    assert not view.empty.isHidden()


def test_the_empty_outcomes_tab_says_what_to_record_next_instead_of_a_grey_box(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    from backclinic.services.patients import PatientInput

    newcomer = clinic.patients.register(
        actor, PatientInput("Nguyen", "Lan", dt.date(1975, 5, 1), mrn="NEW-1")
    )
    view = ReassessmentView(clinic, actor, newcomer.id)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading)
    assert view.empty.isVisible() and not view.findChild(QScrollArea).isVisible()  # type: ignore[union-attr]
    assert view.empty.text().startswith("No outcomes yet: record the intake first")
    assert not view.record_button.isEnabled()

    patient_id = grace(clinic, actor)
    view = ReassessmentView(clinic, actor, patient_id)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading)
    assert view.empty.text().startswith("No outcomes yet: record a reassessment")
    assert view.record_button.isEnabled()
