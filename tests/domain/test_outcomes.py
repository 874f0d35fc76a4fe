"""Outcome verdicts and targets: one rule per measure, worded once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backclinic.domain.outcomes import MEASURES, Measure, Verdict, judge, measure_rule, target
from backclinic.domain.protocol import OutcomeThresholds, Protocol, load_default_protocol

THRESHOLDS = load_default_protocol().thresholds


@pytest.fixture
def thresholds(protocol: Protocol) -> OutcomeThresholds:
    return protocol.thresholds


def test_worsening_is_worded_as_worsening_beyond_the_measurement_error(
    thresholds: OutcomeThresholds,
) -> None:
    change = judge("nprs", 6, 9, thresholds)
    assert change.verdict == Verdict.WORSE
    assert change.text.startswith(
        "Pain is 3 points worse (6 → 9, 50 % of baseline): a clinically meaningful worsening"
    )
    assert "beyond the 2-point measurement error" in change.text
    assert change.change_text == "3 points worse (50 %)"
    assert change.verdict_text == "Clinically meaningful worsening"
    assert "+" not in change.text and "improved by" not in change.text
    assert " -" not in change.text


def test_one_point_is_singular_and_within_the_measurement_error(
    thresholds: OutcomeThresholds,
) -> None:
    change = judge("nprs", 7, 6, thresholds)
    assert change.verdict == Verdict.NO_MEANINGFUL_CHANGE and change.within_error
    assert change.change_text == "1 point better (14 %)"
    assert "within the 2-point measurement error" in change.text
    assert change.verdict_text == "No meaningful change (within measurement error)"


def test_the_odi_verdict_and_target_use_the_same_threshold(thresholds: OutcomeThresholds) -> None:
    # Issue 10: the target used the larger threshold (44.4 → 31.1) while the verdict
    # accepted either (44.4 → 34.4 is meaningful). Now both use the protocol's one rule.
    assert thresholds.meaningful_change_rule == "either"
    assert target("odi", 44.4, thresholds) == 34.4
    assert judge("odi", 44.4, 34.4, thresholds).verdict == Verdict.IMPROVED
    assert judge("odi", 44.4, 34.5, thresholds).verdict == Verdict.NO_MEANINGFUL_CHANGE


def test_rule_both_needs_the_points_and_the_percentage(thresholds: OutcomeThresholds) -> None:
    both = replace(thresholds, meaningful_change_rule="both")
    assert target("odi", 44.4, both) == 31.0
    assert judge("odi", 44.4, 34.4, both).verdict == Verdict.NO_MEANINGFUL_CHANGE
    assert judge("odi", 44.4, 31.0, both).verdict == Verdict.IMPROVED


def test_the_rmdq_is_judged_by_five_points_or_thirty_percent(
    thresholds: OutcomeThresholds,
) -> None:
    assert judge("rmdq", 16, 11, thresholds).verdict == Verdict.IMPROVED
    assert judge("rmdq", 10, 7, thresholds).within_error
    assert judge("rmdq", 13, 9, thresholds).verdict == Verdict.IMPROVED  # 4 ≥ 30 % of 13
    assert judge("rmdq", 14, 10, thresholds).verdict == Verdict.NO_MEANINGFUL_CHANGE
    assert judge("rmdq", 8, 14, thresholds).verdict == Verdict.WORSE
    assert "Roland-Morris" in judge("rmdq", 16, 11, thresholds).text


def test_the_psfs_runs_upwards_and_has_no_percentage_rule(thresholds: OutcomeThresholds) -> None:
    better = judge("psfs", 3, 6, thresholds)
    assert better.verdict == Verdict.IMPROVED and better.points == 3
    assert "%" not in measure_rule("psfs", thresholds).text
    assert judge("psfs", 6, 3, thresholds).verdict == Verdict.WORSE
    assert target("psfs", 3, thresholds) == 5


def test_a_baseline_of_zero_gives_no_percentage(thresholds: OutcomeThresholds) -> None:
    change = judge("nprs", 0, 3, thresholds)
    assert change.percent is None and change.verdict == Verdict.WORSE
    assert "baseline is 0" in change.text
    assert target("nprs", 0, thresholds) is None


def test_no_change_reads_unchanged(thresholds: OutcomeThresholds) -> None:
    change = judge("odi", 30, 30, thresholds)
    assert change.text == "Disability (Oswestry) is unchanged (30 % → 30 %)."
    assert change.change_text == "No change"


def _score(measure: Measure) -> st.SearchStrategy[float]:
    rule = measure_rule(measure, THRESHOLDS)
    if rule.integer:
        return st.integers(int(rule.minimum), int(rule.maximum)).map(float)
    return st.integers(int(rule.minimum * 10), int(rule.maximum * 10)).map(lambda v: v / 10)


@st.composite
def measured(draw: st.DrawFn) -> tuple[Measure, float, float]:
    measure = draw(st.sampled_from(MEASURES))
    return measure, draw(_score(measure)), draw(_score(measure))


@given(measured())
def test_the_verdict_follows_the_direction_and_never_contradicts_itself(
    case: tuple[Measure, float, float],
) -> None:
    measure, baseline, latest = case
    change = judge(measure, baseline, latest, THRESHOLDS)
    lower = measure_rule(measure, THRESHOLDS).lower_is_better
    better = latest < baseline if lower else latest > baseline
    worse = latest > baseline if lower else latest < baseline
    if change.verdict == Verdict.IMPROVED:
        assert better and "better" in change.text
    if change.verdict == Verdict.WORSE:
        assert worse and "worse" in change.text
    if change.within_error:
        assert change.verdict == Verdict.NO_MEANINGFUL_CHANGE
    assert "-" not in change.change_text


@given(measured())
def test_the_target_is_exactly_the_threshold_the_verdict_tests(
    case: tuple[Measure, float, float],
) -> None:
    measure, baseline, latest = case
    goal = target(measure, baseline, THRESHOLDS)
    improved = judge(measure, baseline, latest, THRESHOLDS).verdict == Verdict.IMPROVED
    if goal is None:
        assert not improved
        return
    lower = measure_rule(measure, THRESHOLDS).lower_is_better
    reached = latest <= goal if lower else latest >= goal
    assert reached == improved
