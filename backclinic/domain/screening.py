"""Red-flag screening: may a plan be made, and if not, why not.

Unknown is not none: a red flag that was never asked about is different from one asked
and found absent, so the answers keep three states and a screen with gaps blocks planning
just as no screen at all does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from backclinic.domain.protocol import Protocol


class FlagAnswer(StrEnum):
    NOT_ASKED = "not_asked"
    ABSENT = "absent"
    PRESENT = "present"


class ScreeningOutcome(StrEnum):
    CLEAR = "clear"
    NEEDS_CLEARANCE = "needs_clearance"
    CLEARED = "cleared"
    URGENT_REFERRAL = "urgent_referral"
    NOT_SCREENED = "not_screened"
    NEEDS_CONFIRMATION = "needs_confirmation"
    PRECAUTIONS_NOT_ASKED = "precautions_not_asked"


@dataclass(frozen=True)
class Screening:
    """The result of a red-flag screen. ``present`` and ``unasked`` are item codes."""

    outcome: ScreeningOutcome
    present: tuple[str, ...]
    groups_present: tuple[str, ...]
    unasked: tuple[str, ...]
    message: str
    blocks_planning: bool


NOT_SCREENED_MESSAGE = "Red flags have not been screened; unknown is not none."


def evaluate_red_flags(
    answers: Mapping[str, FlagAnswer] | None,
    protocol: Protocol,
    clearance_note: str | None,
) -> Screening:
    """Decide what the red-flag answers allow.

    - ``None`` (never screened) → NOT_SCREENED, blocks.
    - Any urgent-group item (cauda equina) present → URGENT_REFERRAL, blocks, and no
      clearance note lifts it. This is checked first: a half-finished screen that already
      shows cauda equina signs must still say "refer now".
    - Any item not asked (or missing from ``answers``) → NOT_SCREENED, blocks, naming the
      unasked items: a partial screen cannot support "no red flags".
    - Other items present → NEEDS_CLEARANCE (blocks) unless a non-blank clearance note is
      recorded → CLEARED.
    - Otherwise CLEAR.
    """
    if answers is None:
        return Screening(ScreeningOutcome.NOT_SCREENED, (), (), (), NOT_SCREENED_MESSAGE, True)
    known = protocol.red_flag_items()
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise ValueError(f"Unknown red-flag code {unknown[0]!r}.")
    present = tuple(item for item in known if answers.get(item) == FlagAnswer.PRESENT)
    unasked = tuple(
        item for item in known if answers.get(item, FlagAnswer.NOT_ASKED) == FlagAnswer.NOT_ASKED
    )
    groups = tuple(g for g in protocol.red_flag_groups if set(g.items) & set(present))
    groups_present = tuple(g.code for g in groups)

    def outcome(kind: ScreeningOutcome, message: str, blocks: bool) -> Screening:
        return Screening(kind, present, groups_present, unasked, message, blocks)

    urgent = [g for g in groups if g.urgent]
    if urgent:
        signs = protocol.red_flag_words(i for g in urgent for i in g.items if i in present)
        return outcome(
            ScreeningOutcome.URGENT_REFERRAL,
            f"Possible {urgent[0].label.lower()} ({signs}). {urgent[0].action} "
            "This cannot be overridden.",
            True,
        )
    if unasked:
        missing = protocol.red_flag_words(unasked)
        return outcome(
            ScreeningOutcome.NOT_SCREENED,
            f"Red-flag screening is incomplete: not asked about {missing}. "
            "Unknown is not none; finish the screen before planning.",
            True,
        )
    if present:
        labels = ", ".join(g.label.lower() for g in groups)
        found = protocol.red_flag_words(present)
        if is_reason(clearance_note):
            return outcome(
                ScreeningOutcome.CLEARED,
                f"Red flags present ({found}; {labels}) and cleared by a "
                f"clinician: {(clearance_note or '').strip()}",
                False,
            )
        if clearance_note is not None and clearance_note.strip():
            return outcome(
                ScreeningOutcome.NEEDS_CLEARANCE,
                f"Red flags present ({found}; possible {labels}): the clearance must say in "
                f"at least {MIN_REASON_WORDS} words who cleared them and why (e.g. "
                '"cleared by GP on 2026-01-03").',
                True,
            )
        return outcome(
            ScreeningOutcome.NEEDS_CLEARANCE,
            f"Red flags present ({found}; possible {labels}): record a clinician's "
            'clearance (e.g. "cleared by GP on 2026-01-03") before a plan can be made.',
            True,
        )
    return outcome(ScreeningOutcome.CLEAR, "Red flags screened: none present.", False)


def red_flags_from_case(
    codes: list[str] | None, protocol: Protocol
) -> dict[str, FlagAnswer] | None:
    """Case-file red flags to answers: ``None`` → not screened; a list → those present,
    every other known item asked and absent (``[]`` means screened, none present)."""
    if codes is None:
        return None
    known = protocol.red_flag_items()
    for code in codes:
        if code not in known:
            raise ValueError(f"Unknown red-flag code {code!r}.")
    return {item: FlagAnswer.PRESENT if item in codes else FlagAnswer.ABSENT for item in known}


# A reason is a few words: "." or "ok" says nothing a later reader can check.
MIN_REASON_WORDS = 3


def is_reason(text: str | None) -> bool:
    """Whether ``text`` says why in at least a few words."""
    return (
        bool(text)
        and len((text or "").split()) >= MIN_REASON_WORDS
        and any(c.isalpha() for c in text or "")
    )


@dataclass(frozen=True)
class AgeFlag:
    """The derived "age over 50 with new pain": it applies to this assessment; ``text`` says
    why in words (age at onset, how long ago, not a recurrence)."""

    code: str
    age_at_onset: int
    onset_weeks: float | None
    text: str
    # What recording would settle it, in words, when the onset or the recurrence is not
    # recorded ("" when both are: then only the clinician's confirmation or ruling out).
    unsettled: str = ""


def _years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def derive_age_flag(
    date_of_birth: date | None,
    assessed_on: date,
    onset_weeks: float | None,
    recurrent: bool | None,
    protocol: Protocol,
) -> AgeFlag | None:
    """The derived flag when it applies: age at onset over the protocol's age, an episode
    not recorded as recurrent, and an onset within the protocol's weeks (an onset not
    recorded counts as new, so the clinician decides, and is told that recording the onset
    may settle it). None when it does not apply."""
    rule = protocol.age_flag
    if rule is None or date_of_birth is None or recurrent is True:
        return None
    if onset_weeks is not None and onset_weeks > rule.onset_within_weeks:
        return None
    onset = assessed_on - timedelta(weeks=onset_weeks or 0)
    age = _years(date_of_birth, onset)
    if age <= rule.age_over:
        return None
    weeks = f"{rule.onset_within_weeks:g} weeks"
    if onset_weeks is None:
        # Without an onset the age is today's, and the pain is taken as new.
        when = f"{age} now, onset not recorded"
        unsettled = (
            "The onset is not recorded, so the pain is taken as new: recording when it began "
            f"settles it if that was more than {weeks} ago"
            + (
                ", as does recording that this episode is a recurrence."
                if recurrent is None
                else "."
            )
        )
    else:
        when = f"{age} at onset, pain for {onset_weeks:g} week{'' if onset_weeks == 1 else 's'}"
        unsettled = (
            "Whether this episode is a recurrence is not recorded: recording that it is settles it."
            if recurrent is None
            else ""
        )
    episode = "not a recurrence" if recurrent is False else "recurrence not recorded"
    label = protocol.red_flag_words([rule.code])
    return AgeFlag(
        rule.code,
        age,
        onset_weeks,
        f"{label[:1].upper()}{label[1:]} ({when}, {episode})",
        unsettled,
    )


def age_flag_words(flag: AgeFlag) -> str:
    """Why the derived flag is shown: it applies, or it may apply until the onset (or the
    recurrence) is recorded."""
    if flag.unsettled:
        return f"{flag.text} may apply. {flag.unsettled}"
    return f"{flag.text} applies from the date of birth and the onset."


def age_flag_refusal(
    flag: AgeFlag | None,
    answers: Mapping[str, FlagAnswer] | None,
    ruled_out: str | None,
) -> str | None:
    """Why no plan can be made while the derived flag is neither confirmed nor ruled out."""
    if flag is None or answers is None:
        return None
    if answers.get(flag.code) == FlagAnswer.PRESENT or is_reason(ruled_out):
        return None
    settle = (
        f"{flag.text} may apply. {flag.unsettled} Until then, confirm"
        if flag.unsettled
        else f"{flag.text} applies from the date of birth and the onset: confirm"
    )
    return (
        f"{settle} it as a red flag (a clearance is then needed) or rule it out with a reason "
        "before a plan can be made."
    )


def precautions_refusal(not_asked: Iterable[str], labels: Mapping[str, str]) -> str | None:
    """Why no plan can be made while acupuncture precautions were not asked."""
    missing = [labels.get(code, code).lower() for code in not_asked]
    if not missing:
        return None
    return (
        f"Acupuncture precautions not asked: {', '.join(missing)}; unknown is not none. Ask "
        "each one (present or absent) before a plan can be made."
    )


def planning_screen(
    answers: Mapping[str, FlagAnswer] | None,
    protocol: Protocol,
    clearance_note: str | None,
    *,
    age_flag: AgeFlag | None = None,
    age_flag_ruled_out: str | None = None,
    precautions_not_asked: Iterable[str] = (),
    precaution_labels: Mapping[str, str] | None = None,
) -> Screening:
    """The red-flag screen as planning sees it: ``evaluate_red_flags``, then the derived
    age flag (neither confirmed nor ruled out blocks), then precautions not asked (block).
    An urgent referral or an incomplete red-flag screen is said first."""
    screening = evaluate_red_flags(answers, protocol, clearance_note)
    if screening.outcome in (ScreeningOutcome.URGENT_REFERRAL, ScreeningOutcome.NOT_SCREENED):
        return screening
    age = age_flag_refusal(age_flag, answers, age_flag_ruled_out)
    if age is not None:
        return replace(
            screening,
            outcome=ScreeningOutcome.NEEDS_CONFIRMATION,
            message=age,
            blocks_planning=True,
        )
    unasked = precautions_refusal(precautions_not_asked, precaution_labels or {})
    if unasked is not None:
        return replace(
            screening,
            outcome=ScreeningOutcome.PRECAUTIONS_NOT_ASKED,
            message=unasked,
            blocks_planning=True,
        )
    return screening
