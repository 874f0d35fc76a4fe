"""Outcome verdicts, in one place: has a measure changed by a clinically meaningful amount?

NPRS (pain), ODI (Oswestry disability), PSFS (patient-specific function) and RMDQ
(Roland-Morris disability) are each judged by one rule read from the protocol's
``[thresholds]`` (clinical/REFERENCE.md gives the sources):

- a change smaller than the measure's measurement error (the MDC) is within measurement
  error: no meaningful change, in either direction;
- otherwise a change of at least the meaningful points, or (rule "either") of at least the
  meaningful percentage of the baseline, is clinically meaningful: improved or worse by the
  scale's direction; with rule "both" it must pass both;
- anything smaller is no meaningful change.

The plan's target is the same threshold: ``target`` returns the worst score that the
verdict would still call improved, so "target met" and "improved" never disagree. Every
verdict carries its sentence, worded for a patient's record ("pain is 3 points worse
(6 → 9), beyond the 2-point measurement error"): screens and documents show these words
and never re-derive them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from backclinic.domain.protocol import OutcomeThresholds

Measure = Literal["nprs", "odi", "psfs", "rmdq"]
MEASURES: tuple[Measure, ...] = ("nprs", "odi", "psfs", "rmdq")
Direction = Literal["improved", "worse", "no change"]
# Arithmetic on scores (44.4 − 34.4) must not lose to floating point.
_PRECISION = 6


class Verdict(StrEnum):
    IMPROVED = "improved"
    NO_MEANINGFUL_CHANGE = "no meaningful change"
    WORSE = "worse"


VERDICT_TEXT = {
    Verdict.IMPROVED: "Clinically meaningful improvement",
    Verdict.NO_MEANINGFUL_CHANGE: "No meaningful change",
    Verdict.WORSE: "Clinically meaningful worsening",
}


@dataclass(frozen=True)
class MeasureRule:
    """How one measure is judged: its scale, its thresholds from the protocol, and where
    they come from. ``meaningful_percent`` is None for a measure with no percentage rule
    (PSFS); ``measurement_error`` None when the protocol gives no MDC (ODI)."""

    measure: Measure
    name: str
    subject: str
    lower_is_better: bool
    minimum: float
    maximum: float
    integer: bool
    unit: str
    meaningful_points: float
    meaningful_percent: float | None
    measurement_error: float | None
    either: bool
    source: str

    @property
    def text(self) -> str:
        """The rule in words: "a change of at least 2 points or 30 % of baseline, beyond
        the 2-point measurement error"."""
        amount = _points(self.meaningful_points)
        if self.meaningful_percent is not None:
            joint = "or" if self.either else "and"
            amount += f" {joint} {_number(self.meaningful_percent)} % of baseline"
        text = f"a change of at least {amount}"
        if self.measurement_error is not None:
            text += f", beyond the {_number(self.measurement_error)}-point measurement error"
        return text


@dataclass(frozen=True)
class OutcomeChange:
    """A baseline-to-latest change of one measure and its verdict.

    ``points`` and ``percent`` are the improvement: positive means better whichever way the
    scale runs; ``percent`` is None when the baseline is 0. ``direction`` is the direction
    of a change beyond measurement error, whether or not it is meaningful. ``text`` is the
    sentence to show; ``verdict_text`` the verdict in a few words; ``change_text`` the
    change in plain words ("3 points better (43 %)").
    """

    measure: Measure
    baseline: float
    latest: float
    points: float
    percent: float | None
    verdict: Verdict
    within_error: bool
    direction: Direction
    rule: MeasureRule
    text: str
    change_text: str

    @property
    def improved(self) -> bool:
        return self.verdict == Verdict.IMPROVED

    @property
    def worse(self) -> bool:
        return self.verdict == Verdict.WORSE

    @property
    def verdict_text(self) -> str:
        if self.within_error:
            return f"{VERDICT_TEXT[self.verdict]} (within measurement error)"
        return VERDICT_TEXT[self.verdict]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number(value: float) -> str:
    return f"{round(value, 1):g}"


def _points(value: float) -> str:
    return f"{_number(value)} point{'' if round(value, 1) == 1 else 's'}"


def measure_rule(measure: Measure, thresholds: OutcomeThresholds) -> MeasureRule:
    """The protocol's rule for ``measure``."""
    t = thresholds
    either = t.meaningful_change_rule == "either"
    if measure == "nprs":
        return MeasureRule(
            measure="nprs",
            name="Pain (NPRS 0–10)",
            subject="pain",
            lower_is_better=True,
            minimum=0,
            maximum=10,
            integer=True,
            unit="",
            meaningful_points=t.nprs_mcid_points,
            meaningful_percent=t.nprs_mcid_percent,
            measurement_error=t.nprs_mdc,
            either=either,
            source=f"{t.sources['nprs_mcid']} {t.sources['nprs_mdc']}",
        )
    if measure == "odi":
        return MeasureRule(
            measure="odi",
            name="Disability (ODI)",
            subject="disability (Oswestry)",
            lower_is_better=True,
            minimum=0,
            maximum=100,
            integer=False,
            unit=" %",
            meaningful_points=t.odi_mcid_points,
            meaningful_percent=t.odi_mcid_percent,
            measurement_error=None,
            either=either,
            source=t.sources["odi_mcid"],
        )
    if measure == "psfs":
        return MeasureRule(
            measure="psfs",
            name="Function (PSFS mean)",
            subject="function (PSFS)",
            lower_is_better=False,
            minimum=0,
            maximum=10,
            integer=False,
            unit="",
            meaningful_points=t.psfs_mcid_points,
            meaningful_percent=None,
            measurement_error=t.psfs_mdc,
            either=either,
            source=t.sources["psfs"],
        )
    return MeasureRule(
        measure="rmdq",
        name="Disability (RMDQ-24)",
        subject="disability (Roland-Morris)",
        lower_is_better=True,
        minimum=0,
        maximum=24,
        integer=True,
        unit="",
        meaningful_points=t.rmdq_mcid_points,
        meaningful_percent=t.rmdq_mcid_percent,
        measurement_error=t.rmdq_mdc,
        either=either,
        source=t.sources["rmdq"],
    )


def _passes(rule: MeasureRule, size: float, baseline: float) -> bool:
    """Does a change of ``size`` (positive) pass the meaningful rule on ``baseline``?"""
    by_points = size >= rule.meaningful_points
    if rule.meaningful_percent is None:
        return by_points
    # In points × 100 rather than a rounded percentage: 3 of 10 is exactly 30 %.
    by_percent = baseline != 0 and round(size * 100, _PRECISION) >= round(
        rule.meaningful_percent * baseline, _PRECISION
    )
    return by_points or by_percent if rule.either else by_points and by_percent


def judge(
    measure: Measure, baseline: float, latest: float, thresholds: OutcomeThresholds
) -> OutcomeChange:
    """The verdict on a change of ``measure`` from ``baseline`` to ``latest``."""
    rule = measure_rule(measure, thresholds)
    points = round(baseline - latest if rule.lower_is_better else latest - baseline, _PRECISION)
    percent = None if baseline == 0 else points / baseline * 100
    size = abs(points)
    within_error = rule.measurement_error is not None and size < rule.measurement_error
    direction: Direction
    if within_error or points == 0:
        direction = "no change"
    else:
        direction = "improved" if points > 0 else "worse"
    meaningful = direction != "no change" and _passes(rule, size, baseline)
    if meaningful:
        verdict = Verdict.IMPROVED if direction == "improved" else Verdict.WORSE
    else:
        verdict = Verdict.NO_MEANINGFUL_CHANGE

    values = f"{_number(baseline)}{rule.unit} → {_number(latest)}{rule.unit}"
    if points == 0:
        change_text = "No change"
        text = f"{_sentence(rule.subject)} is unchanged ({values})."
    else:
        word = "better" if points > 0 else "worse"
        change_text = f"{_points(size)} {word}"
        if percent is not None:
            change_text += f" ({abs(percent):.0f} %)"
        share = "" if percent is None else f", {abs(percent):.0f} % of baseline"
        head = f"{_sentence(rule.subject)} is {_points(size)} {word} ({values}{share})"
        if within_error:
            text = f"{head}, within the {_number(rule.measurement_error or 0)}-point "
            text += "measurement error."
        elif meaningful:
            text = f"{head}: a clinically meaningful {'improvement' if points > 0 else 'worsening'}"
            text += f" ({rule.text})."
        else:
            text = f"{head}, less than a clinically meaningful change ({rule.text})."
        if percent is None:
            text += " No percentage is given because the baseline is 0."
    return OutcomeChange(
        measure=measure,
        baseline=baseline,
        latest=latest,
        points=points,
        percent=percent,
        verdict=verdict,
        within_error=within_error,
        direction=direction,
        rule=rule,
        text=text,
        change_text=change_text,
    )


def target(measure: Measure, baseline: float, thresholds: OutcomeThresholds) -> float | None:
    """The worst score that ``judge`` still calls improved from ``baseline``: the plan's
    target. None when no score on the scale would be a meaningful improvement."""
    rule = measure_rule(measure, thresholds)
    by_points = rule.meaningful_points
    if rule.meaningful_percent is None or baseline == 0:
        needed = by_points
    else:
        by_percent = rule.meaningful_percent * baseline / 100
        needed = min(by_points, by_percent) if rule.either else max(by_points, by_percent)
    needed = max(needed, rule.measurement_error or 0)
    step = 1 if rule.integer else 0.1
    # Round away from the baseline onto the scale's step, so the target passes the rule.
    if rule.lower_is_better:
        score = math.floor(round((baseline - needed) / step, _PRECISION)) * step
    else:
        score = math.ceil(round((baseline + needed) / step, _PRECISION)) * step
    score = round(score, 1)
    if not rule.minimum <= score <= rule.maximum:
        return None
    return score


def target_text(measure: Measure, baseline: float, thresholds: OutcomeThresholds) -> str | None:
    """The target in words, with the rule it comes from; None when there is none."""
    score = target(measure, baseline, thresholds)
    if score is None:
        return None
    rule = measure_rule(measure, thresholds)
    bound = "or less" if rule.lower_is_better else "or more"
    return (
        f"{_sentence(rule.subject)} {_number(baseline)}{rule.unit} → "
        f"{_number(score)}{rule.unit} {bound}: {rule.text} is clinically meaningful."
    )
