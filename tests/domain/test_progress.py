from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from backclinic.domain.outcomes import OutcomeChange, judge
from backclinic.domain.progress import (
    ProgressReport,
    VisitCounts,
    pain_trend,
    progress,
)
from backclinic.domain.protocol import OutcomeThresholds, Protocol
from backclinic.domain.session import HeldSession
from tests.plan_phases import phase_weeks

START = dt.date(2026, 1, 5)  # a Monday: week 1 of the plan
PHASES = (
    phase_weeks(1, "Calm and correct", 1, 2),
    phase_weeks(2, "Stabilise", 3, 5),
    phase_weeks(3, "Strengthen and prevent", 6, 9),
)
NO_VISITS = VisitCounts(0, 0, 0)


@pytest.fixture
def thresholds(protocol: Protocol) -> OutcomeThresholds:
    return protocol.thresholds


def nprs(baseline: int, latest: int, t: OutcomeThresholds) -> OutcomeChange:
    return judge("nprs", baseline, latest, t)


def sessions(*before: int, after_drop: int = 2, every_days: int = 3) -> list[HeldSession]:
    return [
        HeldSession(START + dt.timedelta(days=every_days * i), b, max(b - after_drop, 0))
        for i, b in enumerate(before)
    ]


def report(
    points: list[HeldSession],
    t: OutcomeThresholds,
    *,
    today: dt.date,
    intake_nprs: int | None = None,
    odi: tuple[tuple[dt.date, float], ...] = (),
    visits: VisitCounts = NO_VISITS,
    last_assessed_on: dt.date | None = START,
) -> ProgressReport:
    return progress(
        points,
        odi,
        phases=PHASES,
        plan_start=START,
        visits=visits,
        thresholds=t,
        today=today,
        intake_nprs=intake_nprs,
        last_assessed_on=last_assessed_on,
    )


def kinds(result: ProgressReport) -> list[str]:
    return [s.kind for s in result.suggestions]


# --- the verdict, threshold by threshold -------------------------------------------------


def test_a_fall_of_the_mcid_points_is_meaningful(thresholds: OutcomeThresholds) -> None:
    change = nprs(9, 9 - thresholds.nprs_mcid_points, thresholds)
    assert change.direction == "improved"
    assert change.improved and not change.within_error
    assert change.points == thresholds.nprs_mcid_points


def test_a_fall_of_exactly_the_mcid_percent_is_meaningful(thresholds: OutcomeThresholds) -> None:
    # 30 % of 10 is 3 points, and 3/10 must not lose to floating point (30.000000000000004).
    t = replace(thresholds, nprs_mcid_points=5)
    change = nprs(10, 7, t)
    assert change.improved
    assert change.percent == pytest.approx(t.nprs_mcid_percent)


def test_a_fall_just_under_both_mcids_is_an_improvement_but_not_meaningful(
    thresholds: OutcomeThresholds,
) -> None:
    t = replace(thresholds, nprs_mcid_points=3, nprs_mdc=2)
    change = nprs(10, 8, t)  # 2 points, 20 %
    assert change.direction == "improved"
    assert not change.improved and not change.within_error
    assert "less than a clinically meaningful change" in change.text


def test_a_change_smaller_than_the_mdc_is_within_measurement_error(
    thresholds: OutcomeThresholds,
) -> None:
    # 3 → 2 is 33 % of baseline, above the percentage MCID, yet only 1 point: below the MDC.
    change = nprs(3, 2, thresholds)
    assert change.within_error
    assert change.direction == "no change"
    assert not change.improved
    assert "measurement error" in change.text
    rise = nprs(5, 5 + thresholds.nprs_mdc - 1, thresholds)
    assert rise.within_error and rise.direction == "no change"


def test_a_change_of_exactly_the_mdc_is_not_measurement_error(
    thresholds: OutcomeThresholds,
) -> None:
    change = nprs(6, 6 - thresholds.nprs_mdc, thresholds)
    assert not change.within_error


def test_rising_pain_is_a_meaningful_worsening_never_an_improvement(
    thresholds: OutcomeThresholds,
) -> None:
    change = nprs(4, 7, thresholds)
    assert change.direction == "worse"
    assert not change.improved
    assert change.points == -3
    assert change.percent == pytest.approx(-75)
    assert "3 points worse" in change.text


def test_a_baseline_of_zero_gives_no_percentage_and_no_division(
    thresholds: OutcomeThresholds,
) -> None:
    change = nprs(0, 3, thresholds)
    assert change.percent is None
    assert change.direction == "worse"
    assert "baseline is 0" in change.text
    steady = nprs(0, 0, thresholds)
    assert steady.percent is None and steady.direction == "no change"


def test_odi_uses_its_own_mcid_in_points_or_percent(thresholds: OutcomeThresholds) -> None:
    def odi(baseline: float, latest: float) -> OutcomeChange:
        return judge("odi", baseline, latest, thresholds)

    assert odi(60, 60 - thresholds.odi_mcid_points).improved  # 10 points, 17 %
    assert odi(20, 14).improved  # 6 points but 30 %
    assert not odi(60, 52).improved  # 8 points, 13 %
    assert odi(40, 44).direction == "worse"


def test_higher_is_better_scales_count_a_rise_as_improvement(
    thresholds: OutcomeThresholds,
) -> None:
    change = judge("psfs", 3, 6, thresholds)
    assert change.direction == "improved" and change.improved and change.points == 3


# --- trend, immediate response, adherence ----------------------------------------------------


def test_the_trend_reads_the_last_three_sessions_only() -> None:
    assert pain_trend([9, 3, 6, 5, 4]) == "falling"
    assert pain_trend([2, 4, 5, 5, 5]) == "flat"
    assert pain_trend([8, 7, 4, 5, 6]) == "rising"
    assert pain_trend([7, 6]) is None


def test_the_immediate_response_is_shown_apart_from_the_trend(
    thresholds: OutcomeThresholds,
) -> None:
    points = [*sessions(7, 7, 7, after_drop=3), HeldSession(START + dt.timedelta(days=10), 7, None)]
    result = report(points, thresholds, today=START + dt.timedelta(days=10))
    assert result.immediate.mean_drop == 3
    assert result.immediate.sessions == 3
    assert result.trend == "flat"
    # Like with like: the latest is the pain *before* the last session.
    assert result.nprs_latest == 7


def test_adherence_is_attended_over_scheduled_so_far(thresholds: OutcomeThresholds) -> None:
    result = report(
        sessions(7, 6), thresholds, today=START + dt.timedelta(days=6), visits=VisitCounts(4, 3, 1)
    )
    assert result.adherence.percent == 75
    assert (result.adherence.attended, result.adherence.missed) == (3, 1)
    empty = report([], thresholds, today=START, visits=VisitCounts(0, 0, 0))
    assert empty.adherence.percent is None


# --- patients over a course ------------------------------------------------------------------


def test_a_responder_improves_meaningfully_and_is_not_flagged(
    thresholds: OutcomeThresholds,
) -> None:
    result = report(sessions(7, 6, 6, 5, 4, 3), thresholds, today=START + dt.timedelta(days=16))
    assert result.nprs_baseline == 7 and result.nprs_baseline_source == "first session"
    assert result.nprs_change is not None and result.nprs_change.improved
    assert result.trend == "falling"
    assert "re-evaluate" not in kinds(result) and "hold" not in kinds(result)


def test_a_partial_responder_is_meaningful_but_still_re_evaluated_under_the_threshold(
    thresholds: OutcomeThresholds,
) -> None:
    # 8 → 6 is the 2-point MCID, but only 25 %: less than the 30 % non-response threshold.
    result = report(sessions(8, 8, 7, 7, 6, 6), thresholds, today=START + dt.timedelta(days=16))
    assert result.nprs_change is not None and result.nprs_change.improved
    assert "re-evaluate" in kinds(result)


def test_a_non_responder_after_six_sessions_is_re_evaluated_with_the_reason(
    thresholds: OutcomeThresholds,
) -> None:
    points = sessions(*([7] * thresholds.non_response_sessions))
    result = report(points, thresholds, today=START + dt.timedelta(days=16))
    assert result.nprs_change is not None and result.nprs_change.direction == "no change"
    [suggestion] = [s for s in result.suggestions if s.kind == "re-evaluate"]
    assert f"After {thresholds.non_response_sessions} sessions" in suggestion.why
    assert f"{thresholds.non_response_percent} %" in suggestion.why


def test_non_response_is_not_judged_before_enough_sessions(thresholds: OutcomeThresholds) -> None:
    points = sessions(*([7] * (thresholds.non_response_sessions - 1)))
    result = report(points, thresholds, today=START + dt.timedelta(days=13))
    assert "re-evaluate" not in kinds(result)


def test_the_intake_score_is_the_baseline_when_given(thresholds: OutcomeThresholds) -> None:
    result = report(sessions(6), thresholds, today=START + dt.timedelta(days=1), intake_nprs=8)
    assert (result.nprs_baseline, result.nprs_baseline_source) == (8, "intake")
    assert result.nprs_change is not None and result.nprs_change.improved


def test_a_baseline_of_zero_that_rises_is_worse_and_re_evaluated(
    thresholds: OutcomeThresholds,
) -> None:
    points = sessions(0, 1, 2, 2, 3, 3)
    result = report(points, thresholds, today=START + dt.timedelta(days=16))
    assert result.nprs_change is not None
    assert result.nprs_change.percent is None and result.nprs_change.direction == "worse"
    [suggestion] = [s for s in result.suggestions if s.kind == "re-evaluate"]
    assert "pain is 3 points worse (0 → 3)" in suggestion.why


def test_rising_pain_holds_instead_of_advancing(thresholds: OutcomeThresholds) -> None:
    points = sessions(5, 6, 7)
    result = report(points, thresholds, today=START + dt.timedelta(weeks=2))  # week 3
    assert result.trend == "rising"
    assert "hold" in kinds(result) and "advance" not in kinds(result)
    [hold] = [s for s in result.suggestions if s.kind == "hold"]
    assert "5 → 6 → 7" in hold.why


def test_the_calendar_alone_never_suggests_advancing(thresholds: OutcomeThresholds) -> None:
    # Issue 10: "advance" was suggested when the calendar reached the next phase; the
    # episode's course now advances by attendance and response (tests/domain/test_episode.py).
    points = sessions(7, 6, 5)  # all in week 1–2: phase 1
    due = report(points, thresholds, today=START + dt.timedelta(weeks=2))  # week 3
    assert "advance" not in kinds(due)


def test_reassessment_is_due_in_the_last_week_of_a_phase(thresholds: OutcomeThresholds) -> None:
    in_week_2 = report(sessions(7, 6), thresholds, today=START + dt.timedelta(days=9))
    [reassess] = [s for s in in_week_2.suggestions if s.kind == "reassess"]
    assert "Phase 1" in reassess.why and "ends this week" in reassess.why
    in_week_1 = report(sessions(7), thresholds, today=START + dt.timedelta(days=2))
    assert "reassess" not in kinds(in_week_1)


def test_reassessment_is_due_every_so_many_visits_since_the_last_assessment(
    thresholds: OutcomeThresholds,
) -> None:
    n = thresholds.reassess_every_visits
    points = [HeldSession(START + dt.timedelta(days=2 * i + 1), 5, 4) for i in range(n)]
    today = START + dt.timedelta(days=2 * n + 1)
    # Pick a day that is not the last week of a phase so only the visit count speaks.
    today = today if (today - START).days // 7 + 1 not in {2, 5, 9} else today + dt.timedelta(7)
    due = report(points, thresholds, today=today)
    [reassess] = [s for s in due.suggestions if s.kind == "reassess"]
    assert f"every {n} visits" in reassess.why
    recent = report(points, thresholds, today=today, last_assessed_on=points[2].on)
    assert "reassess" not in kinds(recent)


def test_odi_reassessments_give_a_function_verdict(thresholds: OutcomeThresholds) -> None:
    result = report(
        sessions(7, 5),
        thresholds,
        today=START + dt.timedelta(days=4),
        odi=((START, 44.4), (START + dt.timedelta(days=3), 30.0)),
    )
    assert result.odi_change is not None and result.odi_change.improved
    assert (result.odi_baseline, result.odi_latest) == (44.4, 30.0)
    single = report(sessions(7), thresholds, today=START, odi=((START, 44.4),))
    assert single.odi_change is None
