"""The day view: today's and overdue visits, opened, logged or marked missed from the list."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.plans import PlanView
from backclinic.services.schedule_view import DayScheduleService
from backclinic.ui.day_view import DayView
from tests.services.test_plans import START, grace


@pytest.fixture
def plan(services: Services, actor: Actor) -> PlanView:
    grace(services, actor)
    return services.plans.create_recommended(actor, "CASE-0045", start=START)


@pytest.fixture
def clinic(database: OpenDatabase, plan: PlanView) -> Services:
    """Services whose clock stands on the plan's third visit, two visits overdue."""
    day = plan.visits[2].visit_date
    now = dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC)
    return build_services(database.session_factory, clock=lambda: now)


def view(qtbot: QtBot, clinic: Services, actor: Actor) -> DayView:
    widget = DayView(clinic, actor, schedule=DayScheduleService(clinic.context))
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: not widget.loading)
    return widget


def cells(widget: DayView, row: int) -> list[str]:
    model = widget.model
    return [model.index(row, column).data() for column in range(model.columnCount())]


def test_todays_and_overdue_visits_are_listed_in_date_order(
    qtbot: QtBot, qtmodeltester, clinic: Services, actor: Actor, plan: PlanView
) -> None:
    widget = view(qtbot, clinic, actor)
    qtmodeltester.check(widget.model)
    assert widget.model.rowCount() == 3
    assert [widget.model.visit(r).visit_id for r in range(3)] == [v.id for v in plan.visits[:3]]
    first = cells(widget, 0)
    assert first[2:6] == [
        "Okafor, Grace",
        "CASE-0045",
        actor.name,
        str(plan.visits[0].phase_number),
    ]
    assert first[1] == "08:00", "a visit is booked at the clinic's opening time"
    assert [cells(widget, r)[-1] for r in range(3)] == ["Overdue", "Overdue", "Planned"]
    assert "1 today, 2 overdue" in widget.title.text()
    assert not widget.open_button.isEnabled()


def test_open_and_log_ask_for_the_selected_patient_and_visit(
    qtbot: QtBot, clinic: Services, actor: Actor, plan: PlanView
) -> None:
    widget = view(qtbot, clinic, actor)
    widget.table.selectRow(2)
    patient_id = widget.model.visit(2).patient_id
    with qtbot.waitSignal(widget.patient_opened) as opened:
        qtbot.mouseClick(widget.open_button, Qt.MouseButton.LeftButton)
    assert opened.args == [patient_id]
    with qtbot.waitSignal(widget.session_requested) as requested:
        qtbot.mouseClick(widget.log_button, Qt.MouseButton.LeftButton)
    assert requested.args == [patient_id, plan.visits[2].id]


def test_marking_a_visit_missed_marks_it_in_the_list(
    qtbot: QtBot, qtmodeltester, clinic: Services, actor: Actor, plan: PlanView
) -> None:
    widget = view(qtbot, clinic, actor)
    widget.table.selectRow(0)
    qtbot.mouseClick(widget.missed_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: cells(widget, 0)[-1] == "Missed")
    qtmodeltester.check(widget.model)
    assert widget.model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert not widget.missed_button.isEnabled()
    assert "1 overdue" in widget.title.text()


def test_a_missed_visit_is_rescheduled_and_a_closed_day_is_refused_by_the_date(
    qtbot: QtBot, clinic: Services, actor: Actor, plan: PlanView
) -> None:
    from PySide6.QtCore import QDate

    from backclinic.ui.day_view import RescheduleDialog

    widget = view(qtbot, clinic, actor)
    widget.table.selectRow(0)
    qtbot.mouseClick(widget.missed_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: cells(widget, 0)[-1] == "Missed")
    missed = widget.selected()
    assert missed is not None and widget.reschedule_button.isEnabled()
    today = clinic.schedule.today()
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7)
    dialog = RescheduleDialog(clinic, actor, missed)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.visit_date.setDate(QDate(saturday.year, saturday.month, saturday.day))
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    refusal = dialog.findChild(QLabel, "visit_date_error")
    assert refusal is not None and refusal.isVisible() and refusal.text()
    assert dialog.moved is None
    friday_next_week = today + dt.timedelta(days=(4 - today.weekday()) % 7 + 7)
    dialog.visit_date.setDate(
        QDate(friday_next_week.year, friday_next_week.month, friday_next_week.day)
    )
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert dialog.moved is not None
    assert (dialog.moved.visit_date, dialog.moved.status) == (friday_next_week, "planned")


def test_the_day_is_read_off_the_gui_thread_with_refresh_disabled_meanwhile(
    qtbot: QtBot, clinic: Services, actor: Actor, plan: PlanView, monkeypatch
) -> None:
    schedule = DayScheduleService(clinic.context)
    read_on: list[threading.Thread] = []
    release = threading.Event()
    due = schedule.due

    def slow_due(*args, **kwargs):
        read_on.append(threading.current_thread())
        release.wait(2)
        return due(*args, **kwargs)

    monkeypatch.setattr(schedule, "due", slow_due)
    widget = DayView(clinic, actor, schedule=schedule)
    qtbot.addWidget(widget)
    assert not widget.refresh_button.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 3)
    assert widget.refresh_button.isEnabled()
    assert read_on and threading.main_thread() not in read_on


def colleague(services: Services, actor: Actor) -> Actor:
    from backclinic.services.clinic import NewClinician

    created = services.accounts.create(
        actor, NewClinician("Linh Tran", "linh", "physical_therapist", "linh password 1")
    )
    return Actor(clinician_id=created.id, name=created.full_name, role=created.role)


def test_a_clinician_sees_only_their_own_visits_until_they_untick_my_visits(
    qtbot: QtBot, clinic: Services, actor: Actor, plan: PlanView
) -> None:
    other = colleague(clinic, actor)
    widget = view(qtbot, clinic, other)

    assert widget.mine_only.isVisible() or widget.mine_only.isChecked()
    assert widget.mine_only.isChecked()
    assert widget.model.rowCount() == 0
    assert widget.empty_label.text().startswith("Nothing scheduled for you today. 3 visits")
    assert "untick" in widget.empty_label.text()

    widget.mine_only.click()

    assert widget.model.rowCount() == 3
    assert cells(widget, 0)[4] == actor.name


def test_the_front_desk_sees_everyones_visits(
    qtbot: QtBot, clinic: Services, actor: Actor, plan: PlanView
) -> None:
    from backclinic.services.clinic import NewClinician

    desk = clinic.accounts.create(
        actor, NewClinician("Sam Desk", "sam", "front_desk", "front desk pw 1")
    )
    widget = view(qtbot, clinic, Actor(clinician_id=desk.id, name=desk.full_name, role=desk.role))
    assert not widget.mine_only.isChecked()
    assert widget.model.rowCount() == 3


def test_an_empty_day_says_nothing_is_scheduled_and_what_to_do(
    qtbot: QtBot, database: OpenDatabase, actor: Actor
) -> None:
    empty = build_services(database.session_factory)
    widget = view(qtbot, empty, actor)
    widget.show()
    assert widget.empty_label.isVisible()
    assert widget.empty_label.text().startswith("Nothing scheduled today.")
    assert "plan wizard" in widget.empty_label.text()


def test_missed_and_overdue_visits_older_than_a_week_are_not_on_todays_list(
    qtbot: QtBot, database: OpenDatabase, services: Services, actor: Actor, plan: PlanView
) -> None:
    services.sessions.mark_missed(actor, plan.visits[0].id)
    day = plan.visits[1].visit_date + dt.timedelta(days=8)
    later = build_services(
        database.session_factory,
        clock=lambda: dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC),
    )
    widget = view(qtbot, later, actor)
    shown = [widget.model.visit(r).visit_id for r in range(widget.model.rowCount())]
    assert plan.visits[0].id not in shown, "missed more than a week ago"
    assert plan.visits[1].id not in shown, "overdue more than a week ago"
    assert all(
        widget.model.visit(r).visit_date >= day - dt.timedelta(days=7) for r in range(len(shown))
    )


def test_a_patient_on_hold_is_marked_in_red_with_urgent_referral(
    qtbot: QtBot, clinic: Services, actor: Actor, plan: PlanView
) -> None:
    from backclinic.domain.screening import FlagAnswer
    from backclinic.services.assessments import AssessmentInput
    from backclinic.ui.day_view import MISSED_COLOUR
    from tests.services.test_plans import article_intake, no_red_flags

    clinic.assessments.record(
        actor,
        plan.patient_id,
        AssessmentInput(
            "reassessment",
            article_intake(
                clinic,
                assessed_on=plan.visits[1].visit_date,
                red_flags=no_red_flags(clinic, bladder_dysfunction=FlagAnswer.PRESENT),
            ),
        ),
    )
    widget = DayView(clinic, actor)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: not widget.loading)
    assert [cells(widget, r)[-1] for r in range(3)] == ["Urgent referral"] * 3
    colour = widget.model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole)
    assert colour == MISSED_COLOUR
