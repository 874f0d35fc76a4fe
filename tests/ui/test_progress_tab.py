"""The Progress tab draws exactly what was logged and says what the domain concluded."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.plans import choices_from_proposal
from backclinic.ui.progress_tab import (
    BASELINE,
    MEANINGFUL,
    ODI,
    PAIN_AFTER,
    PAIN_BEFORE,
    ProgressTab,
)
from tests.actors import COMMAND_LINE
from tests.services.test_plans import MON_TO_FRI, START, article_intake, grace
from tests.services.test_sessions import visit_input
from tests.ui.conftest import ModalDriver

NOW = dt.datetime(START.year, START.month, START.day, 18, tzinfo=dt.UTC) + dt.timedelta(weeks=3)


@pytest.fixture
def clinic(database: OpenDatabase, services: Services) -> Services:
    return build_services(database.session_factory, clock=lambda: NOW)


def test_the_chart_holds_exactly_the_logged_pain_scores(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id = grace(clinic, actor)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    scores = [(6, 4), (5, None), (4, 2)]
    days = [v.visit_date for v in plan.visits[:3]]
    for day, (before, after) in zip(days, scores, strict=True):
        clinic.sessions.log(
            actor, patient_id, visit_input(day, pain_before=before, pain_after=after)
        )
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    assert tab.series_points(PAIN_BEFORE) == [(d, s[0]) for d, s in zip(days, scores, strict=True)]
    assert tab.series_points(PAIN_AFTER) == [(days[0], 4), (days[2], 2)]
    report = clinic.sessions.progress(actor, patient_id, NOW.date())
    assert report.nprs_baseline is not None
    assert {value for _, value in tab.series_points(BASELINE)} == {report.nprs_baseline}
    meaningful = {value for _, value in tab.series_points(MEANINGFUL)}
    assert len(meaningful) == 1 and meaningful.pop() < report.nprs_baseline
    odi = tab.series_points(ODI)
    assert [day for day, _ in odi] == [START]
    phases = [name for name in tab.series_names() if name.startswith("Phase ")]
    assert len(phases) == len(plan.phases)
    assert tab.figure_labels["baseline"].text().startswith(str(report.nprs_baseline))
    assert "attended" in tab.figure_labels["adherence"].text()


def test_suggestions_show_their_reason_and_advance_offers_the_plan(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id = grace(clinic, actor)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    for visit, score in zip(plan.visits[:4], (6, 5, 5, 4), strict=False):
        clinic.sessions.log(actor, patient_id, visit_input(visit.visit_date, pain_before=score))
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    report = clinic.episodes.course(actor, patient_id)
    shown = {s.kind for s in report.suggestions}
    texts = {label.text() for label in tab.findChildren(QLabel)}
    assert report.suggestions
    assert all(suggestion.why in texts for suggestion in report.suggestions)
    if "advance" in shown:
        with qtbot.waitSignal(tab.plan_requested) as asked:
            tab.action_buttons["advance"].click()
        assert asked.args == [patient_id]
    assert set(tab.action_buttons) <= {
        "advance",
        "reassess",
        "hold",
        "re-evaluate",
        "discharge-or-extend",
    }


def test_the_chart_with_phase_bands_paints_and_repaints(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    # Regression: the phase bands' edge series were freed after drawing, and the first
    # paint of a plan's chart crashed the process.
    patient_id = grace(clinic, actor)
    clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    tab.resize(900, 600)
    tab.show()
    qtbot.waitExposed(tab)
    first = tab.grab()
    tab.reload()
    qtbot.waitUntil(lambda: not tab.loading)
    second = tab.grab()
    assert not first.isNull() and not second.isNull()
    assert first.size() == second.size()


def test_holding_extends_the_current_phase_by_a_week_after_asking(
    qtbot: QtBot, clinic: Services, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    patient_id = grace(clinic, actor)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    # Pain before treatment rising over the last three sessions: the model says hold.
    for visit, score in zip(plan.visits[:5], (5, 5, 6, 7, 8), strict=False):
        clinic.sessions.log(actor, patient_id, visit_input(visit.visit_date, pain_before=score))
    report = clinic.episodes.course(actor, patient_id)
    [hold] = [s for s in report.suggestions if s.kind == "hold"]
    assert hold.phase_number is not None
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    asked: list[str] = []

    def answer_yes(*args: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer_yes)
    before = next(p for p in plan.phases if p.number == hold.phase_number)
    with qtbot.waitSignal(tab.plan_requested):
        tab.action_buttons["hold"].click()
    assert asked and "past visits stay as they are" in asked[0]
    after = clinic.plans.active_plan(COMMAND_LINE, patient_id)
    assert after is not None
    extended = next(p for p in after.phases if p.number == hold.phase_number)
    assert extended.end_week == before.end_week + 1


def test_the_progress_tab_and_the_interim_summary_tell_the_same_course(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    import re

    from tests.services.test_documents import document_service, one_line

    clinic.clinic.update_settings(
        actor,
        clinic_name="Harbour Back Clinic",
        address="",
        phone="",
        email="",
        idle_lock_minutes=clinic.clinic.settings().idle_lock_minutes,
        clinic_days=clinic.clinic.settings().clinic_days,
        expected_version=clinic.clinic.settings().version,
    )
    patient_id = grace(clinic, actor, nprs_current=7)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    for visit, (before, after) in zip(plan.visits[:3], ((7, 5), (6, 4), (5, 3)), strict=False):
        clinic.sessions.log(
            actor, patient_id, visit_input(visit.visit_date, pain_before=before, pain_after=after)
        )
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    course = clinic.episodes.course(actor, patient_id)
    pain = course.outcome("nprs").change
    assert pain is not None
    assert tab.figure_labels["verdict"].text() == pain.verdict_text
    shown = {label.text() for label in tab.findChildren(QLabel)}
    assert course.suggestions
    assert all(s.why in shown for s in course.suggestions)
    text = one_line(document_service(clinic).print_discharge_summary(actor, patient_id).pdf)
    assert pain.verdict_text in text
    for suggestion in course.suggestions:
        assert re.sub(r"\s+", " ", suggestion.why) in text


def test_the_chart_legend_has_room_for_every_name_whole_in_a_1366_wide_window(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFontMetricsF

    patient_id = grace(clinic, actor)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    clinic.sessions.log(
        actor, patient_id, visit_input(plan.visits[0].visit_date, pain_before=6, pain_after=4)
    )
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    tab.resize(1340, 560)  # the workspace's page in a maximised 1366×768 window
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    legend = tab.chart.legend()
    labels = [marker.label() for marker in legend.markers() if marker.isVisible()]
    assert any(label.startswith("Phase 1: Calm and correct") for label in labels)
    metrics = QFontMetricsF(legend.font())
    # Each entry is its marker (about a line high), a gap, and the label's text.
    entries = [metrics.horizontalAdvance(label) + 2 * metrics.height() for label in labels]
    qtbot.waitUntil(lambda: legend.geometry().width() > 0)
    room = legend.geometry().width()
    if legend.alignment() in (Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight):
        assert max(entries) <= room, (labels, room)
    else:
        assert sum(entries) <= room, (labels, room)


def test_one_session_reads_singular_and_the_immediate_response_in_words(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id = grace(clinic, actor)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    clinic.sessions.log(
        actor, patient_id, visit_input(plan.visits[0].visit_date, pain_before=6, pain_after=4)
    )
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    assert tab.figure_labels["immediate"].text() == (
        "Pain fell by 2 points on average within 1 session"
    )


def test_the_progress_tab_reads_off_the_gui_thread_and_says_so_until_shown(
    qtbot: QtBot, clinic: Services, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id = grace(clinic, actor)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    clinic.sessions.log(actor, patient_id, visit_input(plan.visits[0].visit_date, pain_before=6))
    read_on: list[threading.Thread] = []
    release = threading.Event()
    course = clinic.episodes.course

    def slow_course(*args: object, **kwargs: object) -> object:
        read_on.append(threading.current_thread())
        release.wait(5)
        return course(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(clinic.episodes, "course", slow_course)
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    # The window goes on while the course is read: the tab says it is loading meanwhile.
    assert tab.loading
    assert tab.figure_labels["latest"].text() == ""
    release.set()
    qtbot.waitUntil(lambda: not tab.loading)
    assert read_on and read_on[0] is not threading.main_thread()
    assert tab.figure_labels["latest"].text() == "6"


def test_extending_a_phase_after_a_pregnancy_asks_to_take_points_out_and_acknowledge_others(
    qtbot: QtBot,
    clinic: Services,
    actor: Actor,
    monkeypatch: pytest.MonkeyPatch,
    modal: ModalDriver,
) -> None:
    """A plan with SP6 and LI4 in its later phases; a reassessment today records a
    pregnancy. 'Extend phase … by a week…' is refused for the points planned, and offers the
    change-phase dialog's tick boxes: tick them, save, and the phase is extended."""
    from PySide6.QtWidgets import QMessageBox

    from backclinic.ui.plan_tab import ChangePhaseDialog

    patient_id = grace(clinic, actor)
    choices = choices_from_proposal(
        clinic.plans.propose(actor, patient_id), start=START, clinic_days=MON_TO_FRI
    )
    phases = tuple(
        replace(p, acupoints=(*p.acupoints, "SP6", "LI4")) if p.number > 1 else p
        for p in choices.phases
    )
    plan = clinic.plans.create(actor, patient_id, replace(choices, phases=phases))
    for visit, score in zip(plan.visits[:5], (5, 5, 6, 7, 8), strict=False):
        clinic.sessions.log(actor, patient_id, visit_input(visit.visit_date, pain_before=score))
    clinic.assessments.record(
        actor,
        patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(
                clinic, assessed_on=NOW.date(), nprs_current=8, precautions=("pregnancy",)
            ),
        ),
    )
    plan = clinic.plans.get(actor, plan.id)
    [hold] = [s for s in clinic.episodes.course(actor, patient_id).suggestions if s.kind == "hold"]
    assert hold.phase_number is not None
    before = next(p for p in plan.phases if p.number == hold.phase_number)
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitUntil(lambda: not tab.loading)
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warned.append(str(a[2])))
    seen: dict[str, str] = {}

    def tick_and_save(dialog: ChangePhaseDialog) -> None:
        seen["phase"] = str(dialog.phase.currentData())
        seen["weeks"] = str(dialog.weeks.value())
        refusal = dialog.errors.label("acupoints")
        seen["refusal"] = refusal.text() if refusal.isVisible() else ""
        seen["boxes"] = str(dialog.withdraw.isVisible() and dialog.acknowledge.isVisible())
        seen["withdraw"] = dialog.withdraw.text()
        dialog.withdraw.click()
        dialog.acknowledge.click()
        dialog.save_button().click()

    modal.then(tick_and_save)  # type: ignore[arg-type]
    with qtbot.waitSignal(tab.plan_requested):
        tab.action_buttons["hold"].click()
    modal.check()

    assert warned == []
    assert seen["phase"] == str(hold.phase_number)
    assert seen["weeks"] == str(before.end_week - before.start_week + 2)
    assert seen["refusal"].startswith("SP6 and LI4 are not offered")
    assert "because of the precaution 'Pregnancy' in force now" in seen["refusal"]
    assert seen["boxes"] == "True"
    assert seen["withdraw"] == "Take SP6 and LI4 out of the plan's phases from today"
    after = clinic.plans.get(actor, plan.id)
    extended = next(p for p in after.phases if p.number == hold.phase_number)
    assert extended.end_week == before.end_week + 1
    ahead = [p for p in after.phases if p.end_date >= NOW.date()]
    assert all("SP6" not in p.acupoints and "LI4" not in p.acupoints for p in ahead)
    assert after.acknowledged_points


def test_the_figures_and_suggestions_are_never_cut_off_in_a_short_window(
    qtbot: QtBot, clinic: Services, actor: Actor
) -> None:
    patient_id = grace(clinic, actor)
    plan = clinic.plans.create_recommended(actor, "CASE-0045", start=START)
    for visit, score in zip(plan.visits[:5], (5, 5, 6, 7, 8), strict=False):
        clinic.sessions.log(actor, patient_id, visit_input(visit.visit_date, pain_before=score))
    tab = ProgressTab(clinic, actor, patient_id)
    qtbot.addWidget(tab)
    tab.resize(1080, 400)  # a window not maximised, or a small screen
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    assert tab.action_buttons, "the rising pain offers an action"

    def wrapped() -> list[QLabel]:
        return [
            label
            for label in tab.findChildren(QLabel)
            if label.wordWrap() and label.isVisible() and label.text()
        ]

    def cut() -> list[str]:
        return [
            label.text()
            for label in wrapped()
            if label.height() < label.heightForWidth(label.width())
        ]

    assert wrapped()
    # Each sentence gets the height its wrapped lines need, once the layout has settled;
    # the column scrolls instead.
    qtbot.waitUntil(lambda: not cut(), timeout=2000)
