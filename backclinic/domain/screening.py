"""Red-flag screening: may a plan be made, and if not, why not.

Unknown is not none: a red flag that was never asked about is different from one asked
and found absent, so the answers keep three states and a screen with gaps blocks planning
just as no screen at all does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
        if clearance_note is not None and clearance_note.strip():
            return outcome(
                ScreeningOutcome.CLEARED,
                f"Red flags present ({found}; {labels}) and cleared by a "
                f"clinician: {clearance_note.strip()}",
                False,
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
