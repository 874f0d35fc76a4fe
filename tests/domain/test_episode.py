"""The course of an episode, derived once: phase by treatment and response, attendance,
verdicts, targets, goals, the plan's end and the suggestions (issue 10)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backclinic.domain.episode import (
    Course,
    EpisodeAssessment,
    EpisodeDischarge,
    EpisodePlan,
    EpisodeVisit,
    VisitStatus,
    count,
    course,
)
from backclinic.domain.outcomes import MEASURES, Verdict, judge
from backclinic.domain.protocol import OutcomeThresholds, Protocol, load_default_protocol
from backclinic.domain.session import HeldSession
from tests.plan_phases import phase_weeks

START = dt.date(2026, 1, 5)  # a Monday: week 1
PHASES = (
    phase_weeks(1, "Calm and correct", 1, 2),
    phase_weeks(2, "Stabilise", 3, 5),
    phase_weeks(3, "Strengthen and prevent", 6, 9),
)
PLAN = EpisodePlan(START, PHASES, target_pain=5, target_odi=34.4, functional_goals=("sit",))
THRESHOLDS = load_default_protocol().thresholds


@pytest.fixture
def thresholds(protocol: Protocol) -> OutcomeThresholds:
    return protocol.thresholds


def day(week: int, weekday: int = 0) -> dt.date:
    return START + dt.timedelta(weeks=week - 1, days=weekday)


def schedule() -> list[EpisodeVisit]:
    """The article's rhythm: phase 1 twice a week, phase 2 weekly, phase 3 weekly."""
    visits = []
    for phase in PHASES:
        for week in range(phase.start_week, phase.end_week + 1):
            weekdays = (0, 3) if phase.number == 1 else (0,)
            visits += [EpisodeVisit(day(week, d), phase.number, "planned") for d in weekdays]
    return visits


def attend(
    visits: list[EpisodeVisit], pains: list[int], *, missed: Collection[int] = ()
) -> tuple[list[EpisodeVisit], list[HeldSession]]:
    """The first len(pains) visits held (or missed at the given indexes) with those pains."""
    held: list[EpisodeVisit] = []
    sessions: list[HeldSession] = []
    for index, visit in enumerate(visits):
        if index < len(pains):
            if index in missed:
                held.append(replace(visit, status="missed"))
                continue
            held.append(replace(visit, status="done"))
            sessions.append(HeldSession(visit.on, pains[index], None, visit.phase_number))
        else:
            held.append(visit)
    return held, sessions


def intake(nprs: int = 7, odi: float | None = 44.4, **more: object) -> EpisodeAssessment:
    return EpisodeAssessment(START, "intake", nprs=nprs, odi_percent=odi, **more)  # type: ignore[arg-type]


def run(
    visits: list[EpisodeVisit],
    sessions: list[HeldSession],
    today: dt.date,
    *,
    baseline: EpisodeAssessment | None = None,
    reassessments: tuple[EpisodeAssessment, ...] = (),
    discharge: EpisodeDischarge | None = None,
    plan: EpisodePlan | None = PLAN,
) -> Course:
    return course(
        intake=baseline or intake(),
        reassessments=reassessments,
        plan=plan,
        visits=visits,
        sessions=sessions,
        discharge=discharge,
        thresholds=THRESHOLDS,
        today=today,
    )


def kinds(result: Course) -> list[str]:
    return [s.kind for s in result.suggestions]


def test_with_no_session_logged_the_patient_is_in_phase_one_not_started() -> None:
    result = run(schedule(), [], day(7))
    assert result.status == "not started"
    assert result.current_phase == 1 and result.phases_reached == ()
    [hold] = [s for s in result.suggestions if s.kind == "hold"]
    assert "Only 0 of 4 phase-1 visits attended (100 % needed to advance)" in hold.why
    assert "advance" not in kinds(result)


def test_one_session_in_week_three_inside_the_error_never_advances() -> None:
    visits, sessions = attend(schedule(), [9])
    visits = [
        replace(v, status="missed") if v.phase_number == 1 and v.status == "planned" else v
        for v in visits
    ]
    result = run(visits, sessions, day(3, 1), baseline=intake(nprs=10))
    assert result.current_phase == 1
    assert "advance" not in kinds(result)
    assert any("Only 1 of 4 phase-1 visits attended" in s.why for s in result.suggestions)


def test_a_phase_attended_in_full_with_a_meaningful_fall_advances_naming_rule_and_numbers() -> None:
    visits, sessions = attend(schedule(), [7, 6, 5, 4])
    result = run(visits, sessions, day(3))
    [advance] = [s for s in result.suggestions if s.kind == "advance"]
    assert advance.phase_number == 2
    assert advance.why.startswith(
        "4 of 4 phase-1 visits attended and pain is 3 points better (7 → 4"
    )
    assert "advance to phase 2 (Stabilise)" in advance.why
    assert advance.rule == THRESHOLDS.sources["advance"]


def test_a_phase_attended_in_full_inside_the_measurement_error_holds() -> None:
    visits, sessions = attend(schedule(), [7, 7, 6, 6])
    result = run(visits, sessions, day(3))
    [hold] = [s for s in result.suggestions if s.kind == "hold"]
    assert "within the 2-point measurement error" in hold.why
    assert "hold phase 1 (Calm and correct) rather than advance" in hold.why
    assert "advance" not in kinds(result)


def test_worsening_pain_is_re_evaluated_worded_as_worsening() -> None:
    visits, sessions = attend(schedule(), [6, 7, 8, 9])
    result = run(visits, sessions, day(3), baseline=intake(nprs=6))
    [again] = [s for s in result.suggestions if s.kind == "re-evaluate"]
    assert "Pain is 3 points worse (6 → 9, 50 % of baseline)" in again.why
    assert "beyond the 2-point measurement error" in again.why
    assert "improved by" not in again.why
    assert result.outcome("nprs").change is not None
    assert result.outcome("nprs").change.verdict == Verdict.WORSE


def test_after_the_plans_last_week_the_plan_has_ended_discharge_or_extend() -> None:
    visits, sessions = attend(schedule(), [7, 6, 5, 4, 4, 3, 3, 3, 3, 3, 3, 3])
    result = run(visits, sessions, day(12))
    assert result.status == "plan ended" and result.plan_ended
    [ended] = [s for s in result.suggestions if s.kind == "discharge-or-extend"]
    assert ended.why == "The plan has ended: week 12 of a 9-week plan. Discharge or extend."
    assert "advance" not in kinds(result)


def test_after_discharge_no_phase_is_current_and_nothing_is_suggested() -> None:
    visits, sessions = attend(schedule(), [7, 6, 5, 4, 4, 3])
    result = run(
        visits, sessions, day(8), discharge=EpisodeDischarge(day(5), "goals_met", "back at work")
    )
    assert result.status == "discharged" and result.current_phase is None
    assert result.suggestions == ()
    assert result.week == 5
    assert result.goals[0].met is True


def test_an_early_discharge_reached_only_the_phases_treated() -> None:
    visits, sessions = attend(schedule(), [7, 6, 5, 4, 4])
    result = run(visits, sessions, day(5), discharge=EpisodeDischarge(day(3, 1), "referred"))
    assert result.phases_reached == (1, 2)


def test_attendance_counts_each_visit_once_in_the_right_words() -> None:
    visits, sessions = attend(schedule(), [7, 6, 5, 4], missed={1})
    visits[5] = replace(visits[5], status="cancelled")
    result = run(visits, sessions, day(3, 1))
    a = result.attendance
    assert (a.planned, a.attended, a.missed, a.cancelled) == (10, 3, 1, 1)
    assert a.due == 5 and a.not_held == 1
    assert a.text == "3 of 5 due visits attended, 1 missed, 1 not recorded."
    assert count(1, "visit") == "1 visit" and count(3, "week") == "3 weeks"


def test_targets_are_met_or_not_with_the_latest_value() -> None:
    visits, sessions = attend(schedule(), [7, 6, 5, 4])
    later = (EpisodeAssessment(day(3), "reassessment", nprs=4, odi_percent=36.0, rmdq=6),)
    result = run(visits, sessions, day(3, 1), baseline=intake(rmdq=12), reassessments=later)
    pain, odi = result.targets
    assert pain.met is True and pain.text.startswith("Pain target 5 or less: met (latest 4")
    assert odi.met is False and "not met (latest 36 %" in odi.text
    rmdq = result.outcome("rmdq").change
    assert rmdq is not None and rmdq.verdict == Verdict.IMPROVED


def test_recertification_is_prompted_in_the_week_before_the_protocols_interval() -> None:
    long_plan = replace(PLAN, phases=(*PHASES[:2], phase_weeks(3, "Strengthen and prevent", 6, 20)))
    visits, sessions = attend(schedule(), [7, 6, 5, 4])
    days = THRESHOLDS.recertify_after_days
    quiet = run(visits, sessions, START + dt.timedelta(days=days - 8), plan=long_plan)
    assert "recertify" not in kinds(quiet)
    due = run(visits, sessions, START + dt.timedelta(days=days - 3), plan=long_plan)
    [prompt] = [s for s in due.suggestions if s.kind == "recertify"]
    assert f"recertify within {days} days" in prompt.why
    assert prompt.rule == THRESHOLDS.sources["recertification"]


def test_without_a_plan_the_course_still_judges_the_outcomes() -> None:
    later = (EpisodeAssessment(day(4), "reassessment", nprs=3),)
    result = run([], [], day(5), plan=None, reassessments=later)
    assert result.status == "no plan" and result.current_phase is None
    change = result.outcome("nprs").change
    assert change is not None and change.verdict == Verdict.IMPROVED


# --- generated courses ----------------------------------------------------------------------

STATUSES: tuple[VisitStatus, ...] = ("planned", "done", "missed", "cancelled")
# A signed number ("-50 %", "+2 points"): signs are to be words.
SIGNED = re.compile(r"(?<![\w])[-+]\d")


@st.composite
def courses(draw: st.DrawFn) -> tuple[Course, list[EpisodeVisit], list[HeldSession]]:
    visits = [replace(v, status=draw(st.sampled_from(STATUSES))) for v in schedule()]
    sessions = [
        HeldSession(
            v.on, draw(st.integers(0, 10)), draw(st.none() | st.integers(0, 10)), v.phase_number
        )
        for v in visits
        if v.status == "done"
    ]
    today = START + dt.timedelta(days=draw(st.integers(0, 120)))
    discharged = draw(st.booleans())
    discharge = (
        EpisodeDischarge(today, draw(st.sampled_from(("goals_met", "plateau", "referred"))))
        if discharged
        else None
    )
    baseline = intake(
        nprs=draw(st.integers(0, 10)),
        odi=draw(st.none() | st.integers(0, 1000).map(lambda v: v / 10)),
    )
    result = run(visits, sessions, today, baseline=baseline, discharge=discharge)
    return result, visits, sessions


@settings(max_examples=150, deadline=None)
@given(courses())
def test_generated_courses_keep_every_invariant(
    generated: tuple[Course, list[EpisodeVisit], list[HeldSession]],
) -> None:
    result, visits, sessions = generated
    a = result.attendance
    assert a.planned + a.cancelled == len(visits)
    assert a.attended + a.missed + a.not_held == a.due <= a.planned
    assert a.due + a.upcoming == a.planned
    treated = {s.phase_number for s in sessions}
    assert set(result.phases_reached) == treated
    if result.discharge is not None:
        assert result.current_phase is None and result.suggestions == ()
    else:
        assert result.current_phase == (max(treated) if treated else 1)
    for suggestion in result.suggestions:
        assert suggestion.rule and any(ch.isdigit() for ch in suggestion.why)
        assert not SIGNED.search(suggestion.why), suggestion.why
    pain = result.outcome("nprs").change
    for suggestion in result.suggestions:
        if suggestion.kind == "advance":
            phase = next(p for p in result.phases if p.number == result.current_phase)
            assert phase.attended == phase.planned > 0
            assert pain is not None and pain.verdict == Verdict.IMPROVED
    if result.week is not None and result.weeks_planned is not None:
        ended = result.week > result.weeks_planned and result.discharge is None
        assert ended == ("discharge-or-extend" in kinds(result))
    for measure in MEASURES:
        outcome = result.outcome(measure)
        if outcome.change is not None:
            assert outcome.baseline is not None and outcome.latest is not None
            assert outcome.change == judge(measure, outcome.baseline, outcome.latest, THRESHOLDS)
