"""Progress against the plan: is the change clinically meaningful, and what to do next.

Pure rules over plain values; every threshold comes from the protocol's OutcomeThresholds
(clinical/REFERENCE.md gives the sources). Pain is compared like with like: the pain
recorded *before* each session makes the trend, and the before→after drop within a
session is reported separately as the immediate response.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from backclinic.domain.outcomes import OutcomeChange, judge, target
from backclinic.domain.protocol import OutcomeThresholds
from backclinic.domain.session import HeldSession
from backclinic.domain.wording import counted

Trend = Literal["falling", "flat", "rising"]
SuggestionKind = Literal[
    "advance", "hold", "re-evaluate", "reassess", "discharge-or-extend", "recertify"
]
BaselineSource = Literal["intake", "first session"]

TREND_SESSIONS = 3


class PhaseWeeks(Protocol):
    """What progress reads of a plan phase: the domain's ``PlanPhase`` (or its stored row,
    read as it is), not a type of its own."""

    @property
    def number(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def start_week(self) -> int: ...
    @property
    def end_week(self) -> int: ...


_Phase = TypeVar("_Phase", bound=PhaseWeeks)


@dataclass(frozen=True)
class VisitCounts:
    """Scheduled visits due so far (done, missed, or planned before today), attended, missed."""

    scheduled: int
    attended: int
    missed: int


@dataclass(frozen=True)
class Adherence:
    scheduled: int
    attended: int
    missed: int
    percent: float | None


@dataclass(frozen=True)
class ImmediateResponse:
    """Mean within-session drop (before − after) over the sessions that recorded both."""

    mean_drop: float | None
    sessions: int


@dataclass(frozen=True)
class Suggestion:
    """What to do next and why, with the numbers; ``rule`` names the protocol rule (and
    its source) the suggestion applies."""

    kind: SuggestionKind
    why: str
    phase_number: int | None = None
    rule: str = ""


@dataclass(frozen=True)
class ProgressReport:
    today: dt.date
    week: int | None
    current_phase: int | None
    sessions: int
    nprs_baseline: int | None
    nprs_baseline_source: BaselineSource | None
    nprs_latest: int | None
    nprs_change: OutcomeChange | None
    # The plan's target on this baseline: the worst score the verdict calls improved.
    nprs_target: float | None
    odi_baseline: float | None
    odi_latest: float | None
    odi_change: OutcomeChange | None
    trend: Trend | None
    trend_scores: tuple[int, ...]
    immediate: ImmediateResponse
    adherence: Adherence
    suggestions: tuple[Suggestion, ...]


def plan_week(plan_start: dt.date, day: dt.date) -> int:
    """Week number of ``day`` in a plan starting on ``plan_start`` (week 1 = days 0–6)."""
    return (day - plan_start).days // 7 + 1


def phase_for_week(phases: Sequence[_Phase], week: int) -> _Phase | None:
    """The phase holding ``week``; past the end, the last phase; before week 1, none."""
    if week < 1 or not phases:
        return None
    ordered = sorted(phases, key=lambda p: p.number)
    for phase in ordered:
        if phase.start_week <= week <= phase.end_week:
            return phase
    return ordered[-1] if week > ordered[-1].end_week else None


def pain_trend(scores: Sequence[int]) -> Trend | None:
    """Direction of the last three before-session scores (None with fewer than three).

    Over three equally spaced sessions the least-squares slope is (last − first) / 2, so
    its sign is the sign of last − first.
    """
    if len(scores) < TREND_SESSIONS:
        return None
    window = scores[-TREND_SESSIONS:]
    delta = window[-1] - window[0]
    if delta < 0:
        return "falling"
    if delta > 0:
        return "rising"
    return "flat"


def immediate_response(sessions: Sequence[HeldSession]) -> ImmediateResponse:
    drops = [
        s.pain_before - s.pain_after
        for s in sessions
        if s.pain_before is not None and s.pain_after is not None
    ]
    if not drops:
        return ImmediateResponse(None, 0)
    return ImmediateResponse(sum(drops) / len(drops), len(drops))


def adherence(counts: VisitCounts) -> Adherence:
    percent = None if counts.scheduled == 0 else counts.attended / counts.scheduled * 100
    return Adherence(counts.scheduled, counts.attended, counts.missed, percent)


def progress(
    sessions: Sequence[HeldSession],
    odi: Sequence[tuple[dt.date, float]],
    *,
    phases: Sequence[PhaseWeeks],
    plan_start: dt.date | None,
    visits: VisitCounts,
    thresholds: OutcomeThresholds,
    today: dt.date,
    intake_nprs: int | None = None,
    last_assessed_on: dt.date | None = None,
) -> ProgressReport:
    """The progress figures and suggestions for one patient on ``today``.

    ``sessions`` are the patient's current (non-superseded) sessions and ``odi`` the scored
    Oswestry results, each oldest first. The NPRS baseline is ``intake_nprs`` when given,
    otherwise the first session's pain before. ``last_assessed_on`` is the date of the last
    intake or reassessment: sessions after it count towards the periodic reassessment.
    """
    ordered = sorted(sessions, key=lambda s: s.on)
    before = [s.pain_before for s in ordered if s.pain_before is not None]
    t = thresholds

    baseline_source: BaselineSource | None
    if intake_nprs is not None:
        nprs_baseline: int | None = intake_nprs
        baseline_source = "intake"
        comparable = bool(before)
    elif before:
        nprs_baseline = before[0]
        baseline_source = "first session"
        comparable = len(before) > 1
    else:
        nprs_baseline, baseline_source, comparable = None, None, False
    nprs_latest = before[-1] if before else None
    nprs_change = None
    if comparable and nprs_baseline is not None and nprs_latest is not None:
        nprs_change = judge("nprs", nprs_baseline, nprs_latest, t)
    nprs_target = target("nprs", nprs_baseline, t) if nprs_baseline is not None else None

    odi_ordered = sorted(odi, key=lambda item: item[0])
    odi_baseline = odi_ordered[0][1] if odi_ordered else None
    odi_latest = odi_ordered[-1][1] if odi_ordered else None
    odi_change = None
    if len(odi_ordered) > 1 and odi_baseline is not None and odi_latest is not None:
        odi_change = judge("odi", odi_baseline, odi_latest, t)

    trend = pain_trend(before)
    trend_scores = tuple(before[-TREND_SESSIONS:]) if trend is not None else ()

    week = plan_week(plan_start, today) if plan_start is not None else None
    current_phase = None
    if plan_start is not None and ordered:
        # Where the patient is: the phase of the latest session (treatment follows visits).
        current_phase = phase_for_week(phases, plan_week(plan_start, ordered[-1].on))
    elif week is not None:
        current_phase = phase_for_week(phases, week)
    if current_phase is None and phases and week is not None and week >= 1:
        current_phase = min(phases, key=lambda p: p.number)

    phase_number = current_phase.number if current_phase else None
    suggestions: list[Suggestion] = []
    hold = rising_pain_hold(trend, trend_scores, phase_number)
    if hold is not None:
        suggestions.append(hold)
    # Advancing is judged by attendance and response, never by the calendar: that rule is
    # domain.episode.course's, which the Progress tab and the documents read.
    not_responding = non_response(before, nprs_baseline, t, phase_number)
    if not_responding is not None:
        suggestions.append(not_responding)
    since = [s for s in ordered if last_assessed_on is None or s.on > last_assessed_on]
    reassess = reassessment_due(week, phases, len(since), t, phase_number)
    if reassess is not None:
        suggestions.append(reassess)

    return ProgressReport(
        today=today,
        week=week,
        current_phase=current_phase.number if current_phase else None,
        sessions=len(ordered),
        nprs_baseline=nprs_baseline,
        nprs_baseline_source=baseline_source,
        nprs_latest=nprs_latest,
        nprs_change=nprs_change,
        nprs_target=nprs_target,
        odi_baseline=odi_baseline,
        odi_latest=odi_latest,
        odi_change=odi_change,
        trend=trend,
        trend_scores=trend_scores,
        immediate=immediate_response(ordered),
        adherence=adherence(visits),
        suggestions=tuple(suggestions),
    )


def rising_pain_hold(
    trend: Trend | None, trend_scores: Sequence[int], phase_number: int | None
) -> Suggestion | None:
    """Hold the phase when pain before treatment rose over the last three sessions."""
    if trend != "rising":
        return None
    scores = " → ".join(str(s) for s in trend_scores)
    where = f" in phase {phase_number}" if phase_number is not None else ""
    return Suggestion(
        "hold",
        f"Pain before treatment has risen over the last {TREND_SESSIONS} sessions "
        f"({scores}); stay{where} rather than progressing the load.",
        phase_number,
        rule=f"Rising pain over the last {TREND_SESSIONS} sessions holds the phase.",
    )


def non_response(
    before: Sequence[int],
    nprs_baseline: int | None,
    thresholds: OutcomeThresholds,
    phase_number: int | None,
) -> Suggestion | None:
    """Re-evaluate when, after the protocol's number of sessions, pain before treatment
    has fallen by less than the protocol's percentage of the baseline."""
    t = thresholds
    if len(before) < t.non_response_sessions or nprs_baseline is None:
        return None
    latest = before[-1]
    too_little = (
        latest > nprs_baseline
        if nprs_baseline == 0
        else (nprs_baseline - latest) * 100 < t.non_response_percent * nprs_baseline
    )
    if not too_little:
        return None
    change = judge("nprs", nprs_baseline, latest, t)
    amount = change.text.rstrip(".")
    amount = amount[:1].lower() + amount[1:]
    return Suggestion(
        "re-evaluate",
        f"After {counted(len(before), 'session', 'sessions')} {amount}; that is less than the "
        f"{t.non_response_percent} % expected after {t.non_response_sessions}: "
        "re-evaluate (extend, change approach, or refer).",
        phase_number,
        rule=t.sources["non_response"],
    )


def reassessment_due(
    week: int | None,
    phases: Sequence[PhaseWeeks],
    visits_since_assessment: int,
    thresholds: OutcomeThresholds,
    phase_number: int | None,
) -> Suggestion | None:
    """Reassess in the last week of each phase and at least every so many visits."""
    t = thresholds
    reasons: list[str] = []
    if week is not None:
        ending = phase_for_week(phases, week)
        if ending is not None and week == ending.end_week:
            reasons.append(
                f"Phase {ending.number} ({ending.name}) ends this week (week {week}): "
                "reassess pain and function (NPRS and ODI) at each phase end."
            )
    if visits_since_assessment >= t.reassess_every_visits:
        reasons.append(
            f"{visits_since_assessment} visits since the last assessment: reassess at least "
            f"every {t.reassess_every_visits} visits."
        )
    if not reasons:
        return None
    return Suggestion(
        "reassess", " ".join(reasons), phase_number, rule=t.sources["reassess_every_visits"]
    )
