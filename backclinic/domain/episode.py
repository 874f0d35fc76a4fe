"""The episode of back pain: how long it has lasted, and its course under a plan of care.

``course`` is the one pure function over an episode's records (intake, reassessments,
plan, visits, sessions, discharge) that says where the patient is and what to do next:
the phase treatment has reached, attendance, outcome verdicts from ``outcomes``, targets
and goals, whether the plan has ended, and suggestions that each name their rule and
numbers. Screens and documents read it rather than working any of it out themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from backclinic.domain.outcomes import MEASURES, Measure, OutcomeChange, judge
from backclinic.domain.progress import (
    TREND_SESSIONS,
    ImmediateResponse,
    PhaseWeeks,
    Suggestion,
    Trend,
    immediate_response,
    non_response,
    pain_trend,
    plan_week,
    reassessment_due,
    rising_pain_hold,
)
from backclinic.domain.protocol import DurationClasses, OutcomeThresholds
from backclinic.domain.safety import UNSCREENED, SafetyStatus
from backclinic.domain.session import HeldSession

DurationClass = Literal["acute", "subacute", "chronic"]


def duration_class(onset_weeks: float, thresholds: DurationClasses) -> DurationClass:
    """Acute below ``acute_below_weeks``, chronic above ``chronic_above_weeks``, else subacute.

    With the ACP 2017 defaults: < 4 weeks acute, 4–12 subacute, > 12 chronic (so exactly 4
    and exactly 12 weeks are subacute).
    """
    if onset_weeks < 0:
        raise ValueError(f"Weeks since onset cannot be negative, got {onset_weeks}.")
    if onset_weeks < thresholds.acute_below_weeks:
        return "acute"
    if onset_weeks > thresholds.chronic_above_weeks:
        return "chronic"
    return "subacute"


# --- the course of an episode of care -----------------------------------------------------

VisitStatus = Literal["planned", "done", "missed", "cancelled"]
AssessmentKind = Literal["intake", "reassessment", "discharge"]
CourseStatus = Literal["no plan", "not started", "in treatment", "plan ended", "discharged"]


@dataclass(frozen=True)
class EpisodeVisit:
    """A scheduled visit of the plan and what became of it."""

    on: dt.date
    phase_number: int
    status: VisitStatus


@dataclass(frozen=True)
class EpisodeAssessment:
    """The scores of an intake, reassessment or discharge assessment; None = not recorded."""

    on: dt.date
    kind: AssessmentKind
    nprs: int | None = None
    odi_percent: float | None = None
    psfs_mean: float | None = None
    rmdq: int | None = None


@dataclass(frozen=True)
class EpisodePlan:
    """The plan of care: its phases in weeks from ``start_date``, its targets and goals."""

    start_date: dt.date
    phases: tuple[PhaseWeeks, ...]
    target_pain: int | None = None
    target_odi: float | None = None
    functional_goals: tuple[str, ...] = ()


@dataclass(frozen=True)
class EpisodeDischarge:
    on: dt.date
    reason: str
    note: str = ""


@dataclass(frozen=True)
class Attendance:
    """The plan's visits: ``planned`` counts every visit not cancelled; ``due`` those up to
    yesterday (and any already held or missed); ``not_held`` due visits still marked
    planned."""

    planned: int
    due: int
    attended: int
    missed: int
    not_held: int
    cancelled: int
    upcoming: int

    @property
    def text(self) -> str:
        if self.due == 0:
            return f"No visit due yet; {count(self.upcoming, 'visit')} planned."
        text = f"{self.attended} of {count(self.due, 'due visit')} attended"
        if self.missed:
            text += f", {self.missed} missed"
        if self.not_held:
            text += f", {self.not_held} not recorded"
        return text + "."


@dataclass(frozen=True)
class PhaseCourse:
    """One phase of the plan as it went: its visits and whether treatment reached it."""

    phase: PhaseWeeks
    planned: int
    attended: int
    missed: int
    remaining: int
    reached: bool

    @property
    def number(self) -> int:
        return self.phase.number

    @property
    def name(self) -> str:
        return self.phase.name


@dataclass(frozen=True)
class MeasureCourse:
    """A measure's baseline and latest value in the episode, and the verdict on the change
    (None with fewer than two measurements)."""

    measure: Measure
    baseline: float | None
    baseline_on: dt.date | None
    latest: float | None
    latest_on: dt.date | None
    change: OutcomeChange | None


@dataclass(frozen=True)
class TargetAttainment:
    """A target of the plan against the latest value; ``met`` None when not yet measured."""

    measure: Measure
    target: float
    latest: float | None
    met: bool | None
    text: str


@dataclass(frozen=True)
class GoalAttainment:
    """One of the patient's own goals; ``met`` None when nothing records it yet."""

    goal: str
    met: bool | None
    text: str


@dataclass(frozen=True)
class Course:
    """The episode as it happened, judged once: what every screen and document shows."""

    today: dt.date
    status: CourseStatus
    week: int | None
    weeks_planned: int | None
    current_phase: int | None
    phases: tuple[PhaseCourse, ...]
    attendance: Attendance
    sessions: int
    outcomes: tuple[MeasureCourse, ...]
    trend: Trend | None
    trend_scores: tuple[int, ...]
    immediate: ImmediateResponse
    targets: tuple[TargetAttainment, ...]
    goals: tuple[GoalAttainment, ...]
    plan_ended: bool
    discharge: EpisodeDischarge | None
    suggestions: tuple[Suggestion, ...]
    safety: SafetyStatus = UNSCREENED
    next_visit: dt.date | None = None
    # Imported history that broke a precaution in force on its date, one sentence each.
    notices: tuple[str, ...] = ()

    @property
    def phases_reached(self) -> tuple[int, ...]:
        """The phases treatment actually reached: whose exercises a home programme holds."""
        return tuple(p.number for p in self.phases if p.reached)

    def outcome(self, measure: Measure) -> MeasureCourse:
        return next(o for o in self.outcomes if o.measure == measure)


def count(number: int, noun: str) -> str:
    """``1 visit``, ``2 visits``: singular and plural right."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _weeks(number: int) -> str:
    return count(number, "week")


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b} {day.year}"


def _attendance(visits: Sequence[EpisodeVisit], today: dt.date) -> Attendance:
    kept = [v for v in visits if v.status != "cancelled"]
    attended = sum(v.status == "done" for v in kept)
    missed = sum(v.status == "missed" for v in kept)
    # A visit planned for today is not yet overdue; earlier planned ones are due.
    not_held = sum(v.status == "planned" and v.on < today for v in kept)
    upcoming = sum(v.status == "planned" and v.on >= today for v in kept)
    return Attendance(
        planned=len(kept),
        due=attended + missed + not_held,
        attended=attended,
        missed=missed,
        not_held=not_held,
        cancelled=len(visits) - len(kept),
        upcoming=upcoming,
    )


def _phase_courses(
    plan: EpisodePlan,
    visits: Sequence[EpisodeVisit],
    sessions: Sequence[HeldSession],
    today: dt.date,
) -> tuple[PhaseCourse, ...]:
    treated = {s.phase_number for s in sessions if s.phase_number is not None}
    treated |= {v.phase_number for v in visits if v.status == "done"}
    courses = []
    for phase in sorted(plan.phases, key=lambda p: p.number):
        own = [v for v in visits if v.phase_number == phase.number and v.status != "cancelled"]
        courses.append(
            PhaseCourse(
                phase=phase,
                planned=len(own),
                attended=sum(v.status == "done" for v in own),
                missed=sum(v.status == "missed" for v in own),
                remaining=sum(v.status == "planned" and v.on >= today for v in own),
                reached=phase.number in treated,
            )
        )
    return tuple(courses)


def _series(
    measure: Measure,
    intake: EpisodeAssessment | None,
    later: Sequence[EpisodeAssessment],
    sessions: Sequence[HeldSession],
    thresholds: OutcomeThresholds,
) -> MeasureCourse:
    """Baseline from the intake; latest from the latest later measurement. Pain compares
    like with like: the intake's pain now, then each session's pain before treatment."""
    field = {"nprs": "nprs", "odi": "odi_percent", "psfs": "psfs_mean", "rmdq": "rmdq"}[measure]
    points: list[tuple[dt.date, float]] = [
        (a.on, float(value)) for a in later if (value := getattr(a, field)) is not None
    ]
    if measure == "nprs":
        points += [(s.on, float(s.pain_before)) for s in sessions if s.pain_before is not None]
    points.sort(key=lambda item: item[0])
    base_value = getattr(intake, field) if intake is not None else None
    base: tuple[dt.date, float] | None = None
    if intake is not None and base_value is not None:
        base = (intake.on, float(base_value))
    elif measure == "nprs" and points:
        base = points.pop(0)
    latest = points[-1] if points else None
    change = judge(measure, base[1], latest[1], thresholds) if base and latest else None
    return MeasureCourse(
        measure=measure,
        baseline=base[1] if base else None,
        baseline_on=base[0] if base else None,
        latest=latest[1] if latest else None,
        latest_on=latest[0] if latest else None,
        change=change,
    )


def _targets(plan: EpisodePlan, outcomes: Sequence[MeasureCourse]) -> tuple[TargetAttainment, ...]:
    result = []
    wanted: tuple[tuple[Measure, float | None, str], ...] = (
        ("nprs", plan.target_pain, ""),
        ("odi", plan.target_odi, " %"),
    )
    for measure, goal, unit in wanted:
        if goal is None:
            continue
        course = next(o for o in outcomes if o.measure == measure)
        name = "Pain" if measure == "nprs" else "Disability (Oswestry)"
        if course.latest is None or course.change is None:
            met = None
            text = f"{name} target {goal:g}{unit} or less: not measured since the baseline yet."
        else:
            met = course.latest <= goal
            text = (
                f"{name} target {goal:g}{unit} or less: {'met' if met else 'not met'} "
                f"(latest {course.latest:g}{unit} on {_day(course.latest_on or plan.start_date)})."
            )
        result.append(TargetAttainment(measure, goal, course.latest, met, text))
    return tuple(result)


def _goals(
    plan: EpisodePlan, discharge: EpisodeDischarge | None, psfs: MeasureCourse
) -> tuple[GoalAttainment, ...]:
    """The patient's own goals are free text: met when the clinician discharged with goals
    met; otherwise the PSFS (the patient's own activities) is the measure beside them."""
    result = []
    for goal in plan.functional_goals:
        if discharge is not None and discharge.reason == "goals_met":
            result.append(
                GoalAttainment(
                    goal, True, f"Met: discharged with goals met on {_day(discharge.on)}."
                )
            )
        elif psfs.change is not None:
            result.append(
                GoalAttainment(
                    goal, None, f"Not judged yet; the patient's activities: {psfs.change.text}"
                )
            )
        else:
            result.append(GoalAttainment(goal, None, "Not judged yet: no measure records it."))
    return tuple(result)


def _response_suggestion(
    phase: PhaseCourse,
    following: PhaseWeeks | None,
    week: int,
    pain: OutcomeChange | None,
    thresholds: OutcomeThresholds,
) -> Suggestion | None:
    """Advance, hold or re-evaluate at a phase's end, by attendance and response."""
    t = thresholds
    rule = t.sources["advance"]
    needed = t.advance_attended_percent
    attended_enough = phase.planned > 0 and phase.attended * 100 >= needed * phase.planned
    phase_over = phase.remaining == 0 or (following is not None and week >= following.start_week)
    if not phase_over:
        return None
    visits = f"{phase.attended} of {count(phase.planned, f'phase-{phase.number} visit')} attended"
    if pain is not None and pain.worse:
        return Suggestion(
            "re-evaluate",
            f"{pain.text} Re-evaluate before going on: re-screen red flags, change approach "
            "or refer.",
            phase.number,
            rule=t.sources["meaningful_change_rule"],
        )
    if not attended_enough:
        return Suggestion(
            "hold",
            f"Only {visits} ({needed} % needed to advance): hold phase {phase.number} "
            f"({phase.name}) and make up the missed visits.",
            phase.number,
            rule=rule,
        )
    if following is None:
        return None
    if pain is None:
        return Suggestion(
            "hold",
            f"{visits.capitalize()}, but no pain score since the baseline to judge the "
            f"response: hold phase {phase.number} and record pain before treatment.",
            phase.number,
            rule=rule,
        )
    if pain.improved:
        return Suggestion(
            "advance",
            f"{visits.capitalize()} and {pain.text[:1].lower()}{pain.text[1:-1]}: advance to "
            f"phase {following.number} ({following.name}).",
            following.number,
            rule=rule,
        )
    return Suggestion(
        "hold",
        f"{visits.capitalize()}, but {pain.text[:1].lower()}{pain.text[1:-1]}: hold phase "
        f"{phase.number} ({phase.name}) rather than advance.",
        phase.number,
        rule=rule,
    )


def _recertification(
    plan: EpisodePlan, later: Sequence[EpisodeAssessment], today: dt.date, days: int, source: str
) -> Suggestion | None:
    """Prompt in the last week before the plan of care's recertification falls due (its
    start, or the latest reassessment, plus the protocol's interval), and after."""
    reviewed = max([plan.start_date, *(a.on for a in later if a.kind == "reassessment")])
    due = reviewed + dt.timedelta(days=days)
    if today < due - dt.timedelta(weeks=1):
        return None
    since = (today - reviewed).days
    state = "is overdue" if today > due else "falls due"
    return Suggestion(
        "recertify",
        f"Recertification of the plan of care {state} on {_day(due)}: {count(since, 'day')} "
        f"since {_day(reviewed)}, recertify within {count(days, 'day')}.",
        rule=source,
    )


@dataclass(frozen=True)
class _PlanState:
    """The part of a course that needs a plan."""

    status: CourseStatus
    week: int | None
    weeks_planned: int | None
    current_phase: int | None
    phases: tuple[PhaseCourse, ...]
    targets: tuple[TargetAttainment, ...]
    goals: tuple[GoalAttainment, ...]
    plan_ended: bool
    suggestions: tuple[Suggestion, ...]

    @classmethod
    def none(cls, discharge: EpisodeDischarge | None) -> _PlanState:
        status: CourseStatus = "discharged" if discharge else "no plan"
        return cls(status, None, None, None, (), (), (), discharge is not None, ())


def _plan_state(
    plan: EpisodePlan,
    *,
    intake: EpisodeAssessment | None,
    later: Sequence[EpisodeAssessment],
    visits: Sequence[EpisodeVisit],
    ordered: Sequence[HeldSession],
    discharge: EpisodeDischarge | None,
    outcomes: tuple[MeasureCourse, ...],
    before: Sequence[int],
    trend: Trend | None,
    trend_scores: tuple[int, ...],
    t: OutcomeThresholds,
    today: dt.date,
) -> _PlanState:
    """Phase, attendance by phase, targets, goals and suggestions under ``plan``."""
    phases = _phase_courses(plan, visits, ordered, today)
    spans = sorted(plan.phases, key=lambda p: p.number)
    weeks_planned = max((p.end_week for p in spans), default=0)
    week = plan_week(plan.start_date, min(today, discharge.on) if discharge else today)
    reached = [p for p in phases if p.reached]
    current = reached[-1] if reached else (phases[0] if phases else None)
    past_last_week = week > weeks_planned
    if discharge is not None:
        status: CourseStatus = "discharged"
    elif past_last_week:
        status = "plan ended"
    elif not reached:
        status = "not started"
    else:
        status = "in treatment"
    pain = next(o for o in outcomes if o.measure == "nprs").change
    psfs = next(o for o in outcomes if o.measure == "psfs")

    suggestions: list[Suggestion] = []
    if discharge is None:
        if past_last_week:
            suggestions.append(
                Suggestion(
                    "discharge-or-extend",
                    f"The plan has ended: week {week} of a {weeks_planned}-week plan. "
                    "Discharge or extend.",
                    current.number if current else None,
                    rule=f"The plan's last phase ends in week {weeks_planned}.",
                )
            )
        if current is not None and week >= 1:
            following = next((p for p in spans if p.number == current.number + 1), None)
            response = _response_suggestion(current, following, week, pain, t)
            if response is not None and not (past_last_week and response.kind != "re-evaluate"):
                suggestions.append(response)
        phase_number = current.number if current else None
        kinds = {s.kind for s in suggestions}
        hold = rising_pain_hold(trend, trend_scores, phase_number)
        if hold is not None and not kinds & {"hold", "re-evaluate"}:
            suggestions.append(hold)
        kinds = {s.kind for s in suggestions}
        baseline = outcomes[0].baseline
        not_responding = non_response(
            before, int(baseline) if baseline is not None else None, t, phase_number
        )
        if not_responding is not None and "re-evaluate" not in kinds:
            suggestions.append(not_responding)
        assessed = max([a.on for a in later] + ([intake.on] if intake else []), default=None)
        since = [s for s in ordered if assessed is None or s.on > assessed]
        reassess = reassessment_due(
            week if not past_last_week else None, spans, len(since), t, phase_number
        )
        if reassess is not None:
            suggestions.append(reassess)
        recertify = _recertification(
            plan, later, today, t.recertify_after_days, t.sources["recertification"]
        )
        if recertify is not None:
            suggestions.append(recertify)

    return _PlanState(
        status=status,
        week=week,
        weeks_planned=weeks_planned,
        current_phase=None if discharge else (current.number if current else None),
        phases=phases,
        targets=_targets(plan, outcomes),
        goals=_goals(plan, discharge, psfs),
        plan_ended=discharge is not None or past_last_week,
        suggestions=tuple(suggestions),
    )


def course(
    *,
    intake: EpisodeAssessment | None,
    reassessments: Sequence[EpisodeAssessment],
    plan: EpisodePlan | None,
    visits: Sequence[EpisodeVisit],
    sessions: Sequence[HeldSession],
    discharge: EpisodeDischarge | None,
    thresholds: OutcomeThresholds,
    today: dt.date,
    safety: SafetyStatus = UNSCREENED,
    notices: Sequence[str] = (),
) -> Course:
    """The course of one episode of care on ``today``: see ``Course``; ``safety`` is the
    episode's safety status (``safety.safety_status``) as of today.

    The phase the patient is in is the latest phase treatment reached (a session logged in
    it, or a visit of it attended); with no treatment yet it is the first phase, not
    started. The calendar only schedules: it never moves the patient on, and suggestions
    to advance come from attendance and response (``[thresholds] advance``).
    """
    t = thresholds
    ordered = sorted(sessions, key=lambda s: s.on)
    later = sorted(
        (a for a in reassessments if intake is None or a.on >= intake.on), key=lambda a: a.on
    )
    outcomes = tuple(_series(m, intake, later, ordered, t) for m in MEASURES)
    before = [s.pain_before for s in ordered if s.pain_before is not None]
    trend = pain_trend(before)
    trend_scores = tuple(before[-TREND_SESSIONS:]) if trend is not None else ()
    immediate = immediate_response(ordered)
    attendance = _attendance(visits, today)
    state = (
        _PlanState.none(discharge)
        if plan is None
        else _plan_state(
            plan,
            intake=intake,
            later=later,
            visits=visits,
            ordered=ordered,
            discharge=discharge,
            outcomes=outcomes,
            before=before,
            trend=trend,
            trend_scores=trend_scores,
            t=t,
            today=today,
        )
    )
    return Course(
        today=today,
        status=state.status,
        week=state.week,
        weeks_planned=state.weeks_planned,
        current_phase=state.current_phase,
        phases=state.phases,
        attendance=attendance,
        sessions=len(ordered),
        outcomes=outcomes,
        trend=trend,
        trend_scores=trend_scores,
        immediate=immediate,
        targets=state.targets,
        goals=state.goals,
        plan_ended=state.plan_ended,
        discharge=discharge,
        suggestions=state.suggestions,
        safety=safety,
        next_visit=min(
            (v.on for v in visits if v.status == "planned" and v.on >= today), default=None
        )
        if discharge is None
        else None,
        notices=tuple(notices),
    )
