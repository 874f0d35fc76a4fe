from __future__ import annotations

import pytest

from backclinic.domain.episode import duration_class
from backclinic.domain.protocol import Protocol
from backclinic.domain.scoring import (
    nprs_band,
    odi_band,
    score_odi,
    score_psfs,
    score_rmdq,
    score_startback,
)


@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "none"), (1, "mild"), (3, "mild"), (4, "moderate"), (6, "moderate"), (7, "severe"),
     (10, "severe")],
)  # fmt: skip
def test_pain_scores_fall_into_the_reference_bands(score: int, band: str) -> None:
    assert nprs_band(score) == band


@pytest.mark.parametrize("score", [-1, 11])
def test_pain_score_outside_0_to_10_is_refused(score: int) -> None:
    with pytest.raises(ValueError, match="0 to 10"):
        nprs_band(score)


def test_odi_of_16_out_of_50_is_32_percent() -> None:
    result = score_odi([2, 2, 2, 2, 2, 2, 1, 1, 1, 1])
    assert (result.total, result.answered, result.percent) == (16, 10, 32.0)
    assert result.complete and result.band == "moderate"


def test_skipped_odi_section_shrinks_the_denominator() -> None:
    result = score_odi([2, 2, 2, 2, 2, 2, 1, 1, 2, None])
    assert (result.total, result.answered, result.skipped) == (16, 9, 1)
    assert result.percent == 35.6


def test_article_case_odi_is_20_of_45() -> None:
    result = score_odi([3, 1, 2, 1, 4, 2, 2, None, 2, 3])
    assert (result.total, result.answered, result.percent, result.band) == (20, 9, 44.4, "severe")


def test_two_skipped_odi_sections_still_score() -> None:
    result = score_odi([5, 5, 5, 5, 5, 5, 5, 5, None, None])
    assert result.complete and result.percent == 100.0 and result.band == "bed-bound"


def test_three_skipped_odi_sections_are_incomplete() -> None:
    result = score_odi([2, 2, 2, 2, 2, 2, 2, None, None, None])
    assert not result.complete
    assert result.percent is None and result.band is None
    assert result.skipped == 3


def test_clinic_may_allow_more_skipped_odi_sections() -> None:
    result = score_odi([2, 2, 2, 2, 2, 2, 2, None, None, None], max_skipped=3)
    assert result.complete and result.percent == 40.0


@pytest.mark.parametrize(
    ("percent", "band"),
    [(0, "minimal"), (20, "minimal"), (20.9, "minimal"), (21, "moderate"), (40, "moderate"),
     (41, "severe"), (60, "severe"), (61, "crippling"), (80, "crippling"), (81, "bed-bound"),
     (100, "bed-bound")],
)  # fmt: skip
def test_odi_band_boundaries_follow_the_reference(percent: float, band: str) -> None:
    assert odi_band(percent) == band


def test_odi_needs_exactly_ten_answers() -> None:
    with pytest.raises(ValueError, match="10 sections, got 9"):
        score_odi([1] * 9)


def test_odi_answer_out_of_range_names_the_section() -> None:
    with pytest.raises(ValueError, match=r"section 5 \(sitting\)"):
        score_odi([1, 1, 1, 1, 6, 1, 1, 1, 1, 1])


def test_startback_total_of_3_with_low_subscale_is_low_risk() -> None:
    result = score_startback([1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert (result.total, result.psychosocial, result.risk) == (3, 0, "low")


def test_startback_total_of_4_with_subscale_3_is_medium_risk() -> None:
    result = score_startback([1, 0, 0, 0, 1, 1, 1, 0, 0])
    assert (result.total, result.psychosocial, result.risk) == (4, 3, "medium")


def test_startback_subscale_of_4_is_high_risk() -> None:
    result = score_startback([0, 0, 0, 0, 1, 1, 1, 0, 3])
    assert (result.total, result.psychosocial, result.risk) == (4, 4, "high")


@pytest.mark.parametrize(("option", "scores"), [(0, 0), (1, 0), (2, 0), (3, 1), (4, 1)])
def test_bothersomeness_scores_only_for_very_much_or_extremely(option: int, scores: int) -> None:
    assert score_startback([0, 0, 0, 0, 0, 0, 0, 0, option]).total == scores


def test_startback_rejects_a_sixth_bothersomeness_option() -> None:
    with pytest.raises(ValueError, match="item 9"):
        score_startback([0, 0, 0, 0, 0, 0, 0, 0, 5])


def test_startback_rejects_a_two_on_an_agree_item() -> None:
    with pytest.raises(ValueError, match="item 2"):
        score_startback([0, 2, 0, 0, 0, 0, 0, 0, 0])


def test_rmdq_counts_the_endorsed_statements() -> None:
    assert score_rmdq([True] * 7 + [False] * 17) == 7


def test_rmdq_needs_24_answers() -> None:
    with pytest.raises(ValueError, match="24"):
        score_rmdq([True] * 23)


def test_psfs_is_the_mean_rating_to_one_decimal() -> None:
    assert score_psfs([3, 4, 4]) == 3.7


@pytest.mark.parametrize("ratings", [[5, 5], [1, 2, 3, 4, 5, 6], [3, 11, 4]])
def test_psfs_refuses_wrong_counts_and_ratings(ratings: list[int]) -> None:
    with pytest.raises(ValueError, match="PSFS"):
        score_psfs(ratings)


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [(0, "acute"), (3.9, "acute"), (4, "subacute"), (12, "subacute"), (12.1, "chronic"),
     (30, "chronic")],
)  # fmt: skip
def test_episode_duration_classes_follow_acp_2017(
    protocol: Protocol, weeks: float, expected: str
) -> None:
    assert duration_class(weeks, protocol.duration) == expected


def test_negative_onset_is_refused(protocol: Protocol) -> None:
    with pytest.raises(ValueError, match="negative"):
        duration_class(-1, protocol.duration)
