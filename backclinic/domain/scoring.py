"""Outcome-measure scoring: NPRS bands, Oswestry (ODI v2.1a), STarT Back, RMDQ-24, PSFS.

The rules are those of the instruments' published scoring sheets (see
``clinical/REFERENCE.md``); they are properties of the instruments, not clinic settings,
which is why they live here rather than in a protocol file. Clinic-configurable limits
(how many ODI sections may be skipped) are parameters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ODI_SECTIONS = (
    "pain intensity",
    "personal care",
    "lifting",
    "walking",
    "sitting",
    "standing",
    "sleeping",
    "sex life",
    "social life",
    "travelling",
)
ODI_SECTION_MAX = 5
STARTBACK_ITEMS = 9
STARTBACK_BOTHERSOME_OPTIONS = 5
RMDQ_ITEMS = 24

NprsBand = Literal["none", "mild", "moderate", "severe"]
OdiBand = Literal["minimal", "moderate", "severe", "crippling", "bed-bound"]
StartBackRisk = Literal["low", "medium", "high"]

# Upper bound (inclusive) of each band on the instrument's own scale, from REFERENCE.md.
_NPRS_BANDS: tuple[tuple[int, NprsBand], ...] = (
    (0, "none"),
    (3, "mild"),
    (6, "moderate"),
    (10, "severe"),
)
_ODI_BANDS: tuple[tuple[float, OdiBand], ...] = (
    (20, "minimal"),
    (40, "moderate"),
    (60, "severe"),
    (80, "crippling"),
    (100, "bed-bound"),
)


def nprs_band(score: int) -> NprsBand:
    """Display band of a 0–10 pain score: 0 none, 1–3 mild, 4–6 moderate, 7–10 severe."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValueError(f"A pain score must be an integer from 0 to 10, got {score!r}.")
    return next(band for upper, band in _NPRS_BANDS if score <= upper)


def odi_band(percent: float) -> OdiBand:
    """Band of an ODI percentage: 0–20 minimal, 21–40 moderate, 41–60 severe, 61–80
    crippling, 81–100 bed-bound."""
    if not 0 <= percent <= 100:
        raise ValueError(f"An ODI score must be from 0 to 100 %, got {percent!r}.")
    # Bands are published on whole percentages (0–20, 21–40 …) but a skipped section gives
    # fractions; like the common scoring calculators, 20.9 is still "minimal" and 21.0 is
    # "moderate" (the band of the whole-number part).
    whole = math.floor(percent)
    return next(band for upper, band in _ODI_BANDS if whole <= upper)


@dataclass(frozen=True)
class OdiResult:
    """A scored Oswestry questionnaire. ``percent`` is None when too many sections were skipped."""

    total: int
    answered: int
    skipped: int
    percent: float | None
    complete: bool
    band: OdiBand | None


def score_odi(answers: Sequence[int | None], max_skipped: int = 2) -> OdiResult:
    """Score ODI v2.1a: sum ÷ (5 × sections answered) × 100, to one decimal.

    Each skipped section (None) takes 5 off the denominator rather than counting as 0 —
    dividing by 50 regardless is a known bug in a public sample. With more than
    ``max_skipped`` sections skipped the result is incomplete and has no percentage.
    """
    if len(answers) != len(ODI_SECTIONS):
        raise ValueError(
            f"The Oswestry questionnaire has {len(ODI_SECTIONS)} sections, got {len(answers)} "
            "answers."
        )
    for number, (section, answer) in enumerate(zip(ODI_SECTIONS, answers, strict=True), 1):
        if answer is None:
            continue
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= 5:
            raise ValueError(
                f"Oswestry section {number} ({section}) must be 0 to 5 or skipped, got {answer!r}."
            )
    given = [a for a in answers if a is not None]
    total = sum(given)
    answered = len(given)
    skipped = len(answers) - answered
    if skipped > max_skipped or answered == 0:
        return OdiResult(total, answered, skipped, None, False, None)
    percent = round(total / (ODI_SECTION_MAX * answered) * 100, 1)
    return OdiResult(total, answered, skipped, percent, True, odi_band(percent))


@dataclass(frozen=True)
class StartBackResult:
    """Keele STarT Back: total 0–9, psychosocial subscale (items 5–9) 0–5, risk group."""

    total: int
    psychosocial: int
    risk: StartBackRisk


def score_startback(answers: Sequence[int]) -> StartBackResult:
    """Score STarT Back (Hill et al. 2008).

    Items 1–8 are 0 (disagree) or 1 (agree). Item 9 is the index 0–4 of its five options
    (not at all … extremely) and scores 1 only for "very much" (3) or "extremely" (4).
    Subscale ≥ 4 → high; otherwise total ≤ 3 → low, else medium.
    """
    if len(answers) != STARTBACK_ITEMS:
        raise ValueError(f"STarT Back has {STARTBACK_ITEMS} items, got {len(answers)} answers.")
    item_scores: list[int] = []
    for number, answer in enumerate(answers, 1):
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise ValueError(f"STarT Back item {number} must be an integer, got {answer!r}.")
        if number < STARTBACK_ITEMS:
            if answer not in (0, 1):
                raise ValueError(
                    f"STarT Back item {number} must be 0 (disagree) or 1 (agree), got {answer}."
                )
            item_scores.append(answer)
        else:
            if not 0 <= answer < STARTBACK_BOTHERSOME_OPTIONS:
                raise ValueError(
                    f"STarT Back item 9 must be an option from 0 (not at all) to 4 "
                    f"(extremely), got {answer}."
                )
            item_scores.append(1 if answer >= 3 else 0)
    total = sum(item_scores)
    psychosocial = sum(item_scores[4:])
    risk: StartBackRisk
    if psychosocial >= 4:
        risk = "high"
    elif total <= 3:
        risk = "low"
    else:
        risk = "medium"
    return StartBackResult(total, psychosocial, risk)


def score_rmdq(answers: Sequence[bool]) -> int:
    """Roland-Morris (RMDQ-24): the number of the 24 statements the patient endorses."""
    if len(answers) != RMDQ_ITEMS:
        raise ValueError(f"RMDQ-24 has {RMDQ_ITEMS} statements, got {len(answers)} answers.")
    for number, answer in enumerate(answers, 1):
        if not isinstance(answer, bool):
            raise ValueError(f"RMDQ statement {number} must be yes or no, got {answer!r}.")
    return sum(answers)


def score_psfs(ratings: Sequence[int]) -> float:
    """Patient-Specific Functional Scale: mean of 3–5 activity ratings (0–10), one decimal."""
    if not 3 <= len(ratings) <= 5:
        raise ValueError(f"PSFS needs 3 to 5 activity ratings, got {len(ratings)}.")
    for number, rating in enumerate(ratings, 1):
        if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= 10:
            raise ValueError(f"PSFS activity {number} must be rated 0 to 10, got {rating!r}.")
    return round(sum(ratings) / len(ratings), 1)
