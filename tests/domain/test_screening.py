from __future__ import annotations

import pytest

from backclinic.domain.protocol import Protocol
from backclinic.domain.screening import (
    FlagAnswer,
    ScreeningOutcome,
    evaluate_red_flags,
    red_flags_from_case,
)


def answers(protocol: Protocol, *present: str) -> dict[str, FlagAnswer]:
    result = red_flags_from_case(list(present), protocol)
    assert result is not None
    return result


def test_never_screened_blocks_planning(protocol: Protocol) -> None:
    screening = evaluate_red_flags(None, protocol, None)
    assert screening.outcome == ScreeningOutcome.NOT_SCREENED
    assert screening.blocks_planning
    assert screening.message == "Red flags have not been screened; unknown is not none."


def test_screened_with_none_present_is_clear(protocol: Protocol) -> None:
    screening = evaluate_red_flags(answers(protocol), protocol, None)
    assert screening.outcome == ScreeningOutcome.CLEAR
    assert not screening.blocks_planning
    assert screening.present == () and screening.unasked == ()


@pytest.mark.parametrize(
    "sign",
    ["saddle_anaesthesia", "bladder_dysfunction", "bowel_incontinence",
     "progressive_leg_weakness", "bilateral_sciatica"],
)  # fmt: skip
def test_any_cauda_equina_sign_means_urgent_referral(protocol: Protocol, sign: str) -> None:
    screening = evaluate_red_flags(answers(protocol, sign), protocol, None)
    assert screening.outcome == ScreeningOutcome.URGENT_REFERRAL
    assert screening.blocks_planning
    assert screening.groups_present == ("cauda_equina",)
    assert "same-day referral" in screening.message
    assert "emergency department" in screening.message


def test_a_clearance_note_cannot_override_cauda_equina(protocol: Protocol) -> None:
    screening = evaluate_red_flags(
        answers(protocol, "saddle_anaesthesia"), protocol, "cleared by GP on 2026-01-03"
    )
    assert screening.outcome == ScreeningOutcome.URGENT_REFERRAL
    assert screening.blocks_planning


def test_cauda_equina_sign_is_urgent_even_on_an_unfinished_screen(protocol: Protocol) -> None:
    partial = {"bladder_dysfunction": FlagAnswer.PRESENT}
    screening = evaluate_red_flags(partial, protocol, None)
    assert screening.outcome == ScreeningOutcome.URGENT_REFERRAL


def test_other_red_flag_needs_a_clinician_clearance(protocol: Protocol) -> None:
    screening = evaluate_red_flags(answers(protocol, "night_pain"), protocol, None)
    assert screening.outcome == ScreeningOutcome.NEEDS_CLEARANCE
    assert screening.blocks_planning
    assert screening.present == ("night_pain",)
    assert screening.groups_present == ("malignancy",)


def test_blank_clearance_note_does_not_clear(protocol: Protocol) -> None:
    screening = evaluate_red_flags(answers(protocol, "fever"), protocol, "   ")
    assert screening.outcome == ScreeningOutcome.NEEDS_CLEARANCE


def test_recorded_clearance_lets_planning_go_ahead(protocol: Protocol) -> None:
    screening = evaluate_red_flags(
        answers(protocol, "major_trauma"), protocol, "cleared by GP on 2026-01-03"
    )
    assert screening.outcome == ScreeningOutcome.CLEARED
    assert not screening.blocks_planning
    assert "cleared by GP on 2026-01-03" in screening.message


def test_unasked_items_make_the_screen_incomplete_and_are_named(protocol: Protocol) -> None:
    partial = answers(protocol)
    partial["fever"] = FlagAnswer.NOT_ASKED
    del partial["night_pain"]
    screening = evaluate_red_flags(partial, protocol, None)
    assert screening.outcome == ScreeningOutcome.NOT_SCREENED
    assert screening.blocks_planning
    assert set(screening.unasked) == {"fever", "night_pain"}
    assert "fever" in screening.message and "severe night or rest pain" in screening.message


def test_unknown_red_flag_code_is_refused(protocol: Protocol) -> None:
    with pytest.raises(ValueError, match="'headache'"):
        evaluate_red_flags({"headache": FlagAnswer.PRESENT}, protocol, None)


def test_case_file_without_red_flags_means_not_screened(protocol: Protocol) -> None:
    assert red_flags_from_case(None, protocol) is None


def test_case_file_list_marks_the_rest_absent(protocol: Protocol) -> None:
    result = red_flags_from_case(["fever"], protocol)
    assert result is not None
    assert result["fever"] == FlagAnswer.PRESENT
    assert set(result) == set(protocol.red_flag_items())
    assert all(v == FlagAnswer.ABSENT for k, v in result.items() if k != "fever")


def test_case_file_unknown_red_flag_is_named(protocol: Protocol) -> None:
    with pytest.raises(ValueError, match="'back_ache'"):
        red_flags_from_case(["back_ache"], protocol)


def test_screening_messages_name_red_flags_in_words_not_codes(protocol: Protocol) -> None:
    from backclinic.domain.screening import FlagAnswer, evaluate_red_flags

    answers = {item: FlagAnswer.ABSENT for item in protocol.red_flag_items()}
    urgent = evaluate_red_flags(
        {**answers, "saddle_anaesthesia": FlagAnswer.PRESENT}, protocol, None
    )
    assert "saddle anaesthesia" in urgent.message and "saddle_anaesthesia" not in urgent.message
    flagged = evaluate_red_flags({**answers, "cancer_history": FlagAnswer.PRESENT}, protocol, None)
    assert "history of cancer" in flagged.message and "cancer_history" not in flagged.message
    partial = dict(answers)
    del partial["night_pain"]
    unasked = evaluate_red_flags(partial, protocol, None)
    assert "severe night or rest pain" in unasked.message and "night_pain" not in unasked.message


def test_an_unrecorded_onset_keeps_the_age_flag_and_says_recording_it_may_settle_it(
    protocol: Protocol,
) -> None:
    import datetime as dt

    from backclinic.domain.screening import age_flag_refusal, derive_age_flag

    born, seen = dt.date(1955, 6, 1), dt.date(2026, 1, 5)
    unknown = derive_age_flag(born, seen, None, False, protocol)
    assert unknown is not None
    assert "(70 now, onset not recorded, not a recurrence)" in unknown.text
    refusal = age_flag_refusal(unknown, {}, None)
    assert refusal is not None
    assert "may apply. The onset is not recorded, so the pain is taken as new" in refusal
    assert "settles it if that was more than 12 weeks ago." in refusal
    assert refusal.endswith("before a plan can be made.")
    neither = derive_age_flag(born, seen, None, None, protocol)
    assert neither is not None and "as does recording that this episode is a recurrence" in (
        neither.unsettled
    )
    # Recording the onset settles it one way or the other.
    assert derive_age_flag(born, seen, 20, False, protocol) is None
    recorded = derive_age_flag(born, seen, 3, False, protocol)
    assert recorded is not None and recorded.unsettled == ""
    assert "applies from the date of birth and the onset" in (
        age_flag_refusal(recorded, {}, None) or ""
    )
