"""The acupuncture precaution rule, in one place: which points and which modality the
precautions in force rule out, and why, in words.

A point is ruled out under a precaution when the protocol's ``avoid_points`` for that
precaution lists it, or when the acupoint catalogue cautions it for that precaution (a
clinic may extend either file). Electro-acupuncture is ruled out under any precaution the
protocol marks ``no_electroacupuncture``. The recommendation, the plan wizard, plan
creation and change, session save and case import all ask this module, so a clinic that
edits its protocol changes every one of them at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol
from backclinic.domain.screening import FlagAnswer, is_reason
from backclinic.domain.wording import continued

ELECTROACUPUNCTURE = "electro-acupuncture"


class ViolationKind(StrEnum):
    ACUPOINT = "acupoint"
    ELECTROACUPUNCTURE = "electroacupuncture"
    # A point needled under the precaution only with the clinician's acknowledgement.
    UNACKNOWLEDGED = "unacknowledged"


@dataclass(frozen=True)
class PrecautionRule:
    """What one precaution the patient has means for needling."""

    code: str
    label: str
    needling: str
    avoid_points: frozenset[str]
    no_electroacupuncture: bool
    source: str
    acknowledge_points: frozenset[str] = frozenset()
    acknowledgement: str = ""


@dataclass(frozen=True)
class Violation:
    """One proposed point (or electro-acupuncture) that a precaution in force rules out.

    ``subject`` is the acupoint code, or ``ELECTROACUPUNCTURE``; ``text`` is the sentence to
    show, naming the point or modality and the precaution in words.
    """

    kind: ViolationKind
    subject: str
    precaution: str
    precaution_label: str
    text: str
    source: str


def precaution_rule(code: str, protocol: Protocol, catalogue: Catalogue) -> PrecautionRule:
    """The needling rule for precaution ``code``; ValueError for a code no catalogue knows."""
    if not catalogue.knows("precautions", code):
        raise ValueError(f"Unknown precaution code {code!r}.")
    precaution = protocol.precautions.get(code)
    avoid = set(precaution.avoid_points if precaution else ())
    avoid |= {point.code for point in catalogue.acupoints.values() if code in point.cautions}
    return PrecautionRule(
        code=code,
        label=precaution.label if precaution else catalogue.label("precautions", code),
        needling=precaution.needling if precaution else "Note it and needle with care.",
        avoid_points=frozenset(avoid),
        no_electroacupuncture=precaution.no_electroacupuncture if precaution else False,
        source=precaution.source if precaution else "Acupoint catalogue cautions.",
        acknowledge_points=frozenset(precaution.acknowledge_points if precaution else ())
        - frozenset(avoid),
        acknowledgement=precaution.acknowledgement if precaution else "",
    )


def precaution_rules(
    precautions: Iterable[str], protocol: Protocol, catalogue: Catalogue
) -> tuple[PrecautionRule, ...]:
    """The rules of the precautions in force, in a stable order (sorted by code)."""
    return tuple(precaution_rule(code, protocol, catalogue) for code in sorted(set(precautions)))


def _point_violation(point: str, rule: PrecautionRule) -> Violation:
    return Violation(
        kind=ViolationKind.ACUPOINT,
        subject=point,
        precaution=rule.code,
        precaution_label=rule.label,
        text=f"{point} is not offered because of the precaution '{rule.label}'. {rule.needling}",
        source=rule.source,
    )


def _electro_violation(rule: PrecautionRule) -> Violation:
    return Violation(
        kind=ViolationKind.ELECTROACUPUNCTURE,
        subject=ELECTROACUPUNCTURE,
        precaution=rule.code,
        precaution_label=rule.label,
        text="Electro-acupuncture is not offered because of the precaution "
        f"'{rule.label}': {continued(rule.needling)}",
        source=rule.source,
    )


def _acknowledgement_violation(point: str, rule: PrecautionRule) -> Violation:
    return Violation(
        kind=ViolationKind.UNACKNOWLEDGED,
        subject=point,
        precaution=rule.code,
        precaution_label=rule.label,
        text=f"{point} needs your acknowledgement because of the precaution '{rule.label}'. "
        f"{rule.acknowledgement}",
        source=rule.source,
    )


def acknowledgement_points(
    precautions: Iterable[str], protocol: Protocol, catalogue: Catalogue
) -> Mapping[str, str]:
    """Every point the precautions in force allow only with the clinician's explicit
    acknowledgement, each with the sentence that says why."""
    needed: dict[str, str] = {}
    for rule in precaution_rules(precautions, protocol, catalogue):
        for point in sorted(rule.acknowledge_points):
            needed.setdefault(point, _acknowledgement_violation(point, rule).text)
    return needed


def forbidden_points(
    precautions: Iterable[str], protocol: Protocol, catalogue: Catalogue
) -> Mapping[str, Violation]:
    """Every catalogue point the precautions in force rule out, each with its first
    violation (by precaution code): what a point picker must not offer."""
    forbidden: dict[str, Violation] = {}
    for rule in precaution_rules(precautions, protocol, catalogue):
        for point in sorted(rule.avoid_points):
            forbidden.setdefault(point, _point_violation(point, rule))
    return forbidden


def acupuncture_violations(
    precautions: Iterable[str],
    protocol: Protocol,
    catalogue: Catalogue,
    *,
    acupoints: Iterable[str],
    electro: bool = False,
    acknowledged: Iterable[str] = (),
) -> tuple[Violation, ...]:
    """What the precautions in force rule out of the proposed ``acupoints`` and ``electro``.

    One violation per ruled-out point (the first precaution by code), in the order the
    points were given, or per point the precaution allows only with an acknowledgement
    that is not among ``acknowledged``; then one for electro-acupuncture if it was proposed
    and a precaution forbids it, or if it was proposed with points that need an
    acknowledgement (never electrical stimulation there). Points the catalogue does not
    know are not this rule's concern.
    """
    rules = precaution_rules(precautions, protocol, catalogue)
    given = set(acknowledged)
    violations: list[Violation] = []
    seen: set[str] = set()
    careful: list[tuple[str, PrecautionRule]] = []
    for point in acupoints:
        if point in seen:
            continue
        seen.add(point)
        rule = next((r for r in rules if point in r.avoid_points), None)
        if rule is not None:
            violations.append(_point_violation(point, rule))
            continue
        rule = next((r for r in rules if point in r.acknowledge_points), None)
        if rule is not None:
            careful.append((point, rule))
            if point not in given:
                violations.append(_acknowledgement_violation(point, rule))
    if electro:
        refusing = next((r for r in rules if r.no_electroacupuncture), None)
        if refusing is not None:
            violations.append(_electro_violation(refusing))
        elif careful:
            point, rule = careful[0]
            violations.append(
                Violation(
                    kind=ViolationKind.ELECTROACUPUNCTURE,
                    subject=ELECTROACUPUNCTURE,
                    precaution=rule.code,
                    precaution_label=rule.label,
                    text="Electro-acupuncture is not offered with "
                    f"{', '.join(p for p, _ in careful)} because of the precaution "
                    f"'{rule.label}': {rule.acknowledgement}",
                    source=rule.source,
                )
            )
    return tuple(violations)


# --- the safety status of an episode ------------------------------------------------------


class SafetyEventKind(StrEnum):
    NEUROLOGICAL_WARNING = "neurological_warning"
    CLEARANCE = "clearance"
    REFERRAL_OUTCOME = "referral_outcome"


@dataclass(frozen=True)
class SafetyScreen:
    """One assessment's screen: ``red_flags`` or ``precautions`` None when not screened
    there; a mapping holds one answer per item asked (a missing item was not asked)."""

    on: date
    by: str | None
    source: str
    red_flags: Mapping[str, FlagAnswer] | None
    precautions: Mapping[str, FlagAnswer] | None
    clearance_note: str | None = None
    # The instant the screen was recorded: orders it against events of the same day.
    at: datetime | None = None


@dataclass(frozen=True)
class SafetyEvent:
    """Something that happened to the patient's safety between screens: a session's
    neurological warning sign, a clinician's clearance of flags, or the recorded outcome of
    an urgent referral. ``items`` are the warning signs or the flags it clears."""

    on: date
    by: str | None
    kind: SafetyEventKind
    items: tuple[str, ...] = ()
    text: str = ""
    # The instant it was recorded (a session: when it was given).
    at: datetime | None = None


@dataclass(frozen=True)
class SafetyItem:
    """The current answer for one red flag or precaution, and the screen that gave it."""

    code: str
    label: str
    answer: FlagAnswer
    on: date | None
    by: str | None
    cleared: bool = False
    at: datetime | None = None


@dataclass(frozen=True)
class SafetyStatus:
    """Red flags and precautions as of the latest screen or safety event.

    ``on_hold`` means no session may be given: a cauda-equina sign, or a neurological
    warning sign at a session, with no referral outcome recorded since; ``message`` says
    why in words. ``uncleared`` are present non-urgent flags that need a clearance before
    the next session.
    """

    red_flags: tuple[SafetyItem, ...]
    precautions: tuple[SafetyItem, ...]
    on_hold: bool
    uncleared: tuple[SafetyItem, ...]
    message: str

    @property
    def precautions_in_force(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.precautions if i.answer == FlagAnswer.PRESENT)

    @property
    def red_flags_present(self) -> tuple[SafetyItem, ...]:
        return tuple(i for i in self.red_flags if i.answer == FlagAnswer.PRESENT)

    @property
    def blocks_sessions(self) -> bool:
        return self.on_hold or bool(self.uncleared)

    @property
    def session_refusal(self) -> str | None:
        """The one sentence a refused session shows, or None when a session may be given."""
        return self.message if self.blocks_sessions else None


UNSCREENED = SafetyStatus((), (), False, (), "Red flags and precautions have not been screened.")


def _latest_answers(
    screens: Sequence[SafetyScreen],
    codes: Sequence[str],
    labels: Mapping[str, str],
    answers_of: Callable[[SafetyScreen], Mapping[str, FlagAnswer] | None],
) -> list[SafetyItem]:
    """For each code, the latest screen that asked it gives its answer."""
    newest_first = [(s, answers) for s in reversed(screens) if (answers := answers_of(s))]
    items = []
    for code in codes:
        found = SafetyItem(code, labels.get(code, code), FlagAnswer.NOT_ASKED, None, None)
        for screen, answers in newest_first:
            answer = answers.get(code, FlagAnswer.NOT_ASKED)
            if answer != FlagAnswer.NOT_ASKED:
                found = SafetyItem(code, found.label, answer, screen.on, screen.by, at=screen.at)
                break
        items.append(found)
    return items


def came_after(
    later_on: date, later_at: datetime | None, earlier_on: date, earlier_at: datetime | None
) -> bool:
    """Whether a record of ``later_on`` (recorded at ``later_at``) answers one of
    ``earlier_on``: a later day does; on the same day only an instant recorded strictly
    after it. Two records of the same instant, or of one day with no instant to order them
    by, are not taken as ordered (the sign stands until an outcome or clearance recorded
    after it)."""
    if later_on != earlier_on:
        return later_on > earlier_on
    return later_at is not None and earlier_at is not None and later_at > earlier_at


def _day(day: date | None) -> str:
    return f"{day.day} {day:%b} {day.year}" if day else "on an unknown day"


def _words(items: Iterable[SafetyItem]) -> str:
    return ", ".join(i.label[:1].lower() + i.label[1:] for i in items)


def safety_status(
    screens: Sequence[SafetyScreen],
    events: Sequence[SafetyEvent],
    protocol: Protocol,
    catalogue: Catalogue,
    *,
    as_of: date,
) -> SafetyStatus:
    """The episode's safety status on ``as_of`` from its screens and events up to that day.

    Each red flag and precaution takes its answer from the latest screen that asked it. A
    cauda-equina sign present, or a neurological warning sign at a session, puts treatment
    on hold (urgent referral) until a referral outcome is recorded after it; a present
    non-urgent flag needs a clearance (a clearance event naming it, or the screen's own
    clearance note) recorded after the screen that found it. "After" is by day, and on the
    same day by the instant each was recorded (``came_after``).
    """
    ordered = sorted((s for s in screens if s.on <= as_of), key=lambda s: s.on)
    happened = sorted((e for e in events if e.on <= as_of), key=lambda e: e.on)
    if not ordered and not happened:
        return UNSCREENED
    red_labels = dict(catalogue.codes.get("red_flags", {}))
    urgent = {i for g in protocol.red_flag_groups if g.urgent for i in g.items}
    red = _latest_answers(ordered, protocol.red_flag_items(), red_labels, lambda s: s.red_flags)
    precautions = _latest_answers(
        ordered,
        tuple(catalogue.codes.get("precautions", {})),
        dict(catalogue.codes.get("precautions", {})),
        lambda s: s.precautions,
    )
    outcomes = [e for e in happened if e.kind == SafetyEventKind.REFERRAL_OUTCOME]

    def referred_since(day: date, at: datetime | None) -> bool:
        return any(came_after(outcome.on, outcome.at, day, at) for outcome in outcomes)

    urgent_signs = [
        i
        for i in red
        if i.code in urgent
        and i.answer == FlagAnswer.PRESENT
        and not referred_since(i.on or as_of, i.at)
    ]
    warning_events = [
        e
        for e in happened
        if e.kind == SafetyEventKind.NEUROLOGICAL_WARNING and not referred_since(e.on, e.at)
    ]

    def cleared(item: SafetyItem) -> bool:
        day = item.on or as_of
        note = next((s.clearance_note for s in ordered if s.on == day and s.by == item.by), None)
        return is_reason(note) or any(
            e.kind == SafetyEventKind.CLEARANCE
            and item.code in e.items
            and came_after(e.on, e.at, day, item.at)
            for e in happened
        )

    red = [
        replace(i, cleared=cleared(i))
        if i.answer == FlagAnswer.PRESENT and i.code not in urgent
        else i
        for i in red
    ]
    uncleared = tuple(
        i for i in red if i.answer == FlagAnswer.PRESENT and i.code not in urgent and not i.cleared
    )
    if urgent_signs:
        message = (
            f"Urgent referral: possible cauda equina syndrome ({_words(urgent_signs)}, "
            f"recorded {_day(urgent_signs[0].on)}); no session can be logged until a clinician "
            "records the outcome of the referral."
        )
    elif warning_events:
        event = warning_events[-1]
        signs = ", ".join(catalogue.label("adverse_events", s).lower() for s in event.items)
        message = (
            f"Urgent referral: a neurological warning sign at the session of {_day(event.on)} "
            f"({signs}); stop treatment, re-screen red flags and refer; no session can be "
            "logged until a clinician records the outcome of the referral."
        )
    elif uncleared:
        message = (
            f"Red flags present ({_words(uncleared)}): record a clinician's clearance "
            "before the next session."
        )
    else:
        # Cauda-equina signs are referred (an outcome answers them), never "cleared".
        present = [i for i in red if i.answer == FlagAnswer.PRESENT]
        referred = [i for i in present if i.code in urgent]
        cleared_flags = [i for i in present if i.code not in urgent]
        parts = []
        if referred:
            parts.append(
                f"Referred for possible cauda equina syndrome, outcome recorded: {_words(referred)}"
            )
        if cleared_flags:
            parts.append(f"red flags present and cleared: {_words(cleared_flags)}")
        said = "; ".join(parts)
        message = (
            f"{said[:1].upper()}{said[1:]}."
            if said
            else "No red flag present at the latest screen."
        )
    return SafetyStatus(
        red_flags=tuple(red),
        precautions=tuple(precautions),
        on_hold=bool(urgent_signs or warning_events),
        uncleared=uncleared,
        message=message,
    )


# Precautions that only a body able to carry a pregnancy can have, and the recorded sexes
# that rule it out (REFERENCE.md: "Pregnancy applies only where the recorded sex allows it").
SEX_LIMITED_PRECAUTIONS = {"pregnancy": frozenset({"male"})}


def precaution_sex_refusal(code: str, sex: str | None, catalogue: Catalogue) -> str | None:
    """Why ``code`` cannot be recorded for a patient of recorded ``sex``, or None."""
    if sex is not None and sex in SEX_LIMITED_PRECAUTIONS.get(code, frozenset()):
        return (
            f"{catalogue.label('precautions', code)} cannot be recorded for a patient whose "
            f"recorded sex is {catalogue.label('sexes', sex).lower()}; correct the sex on the "
            "patient's record first if it is wrong."
        )
    return None


def supine_adaptation(
    precautions: Iterable[str],
    protocol: Protocol,
    *,
    on: date,
    weeks_at_screen: int | None = None,
    screened_on: date | None = None,
) -> str | None:
    """When exercises lying on the back are adapted (side-lying or inclined) under the
    precautions in force on ``on``, in words; None when no precaution asks for it.

    From the weeks of gestation recorded at a screen, the first trimester ends
    ``adapt_supine_after_weeks`` weeks in; without them, the clinician is told to adapt once
    it is over (REFERENCE.md, "Pregnancy, in detail")."""
    for code in sorted(set(precautions)):
        rule = protocol.precautions.get(code)
        after = rule.adapt_supine_after_weeks if rule else None
        if rule is None or after is None:
            continue
        if weeks_at_screen is None or screened_on is None:
            return (
                "Exercises lying on the back: adapt them (lying on the side or propped up) once "
                "the first trimester is over; weeks of pregnancy not recorded."
            )
        ends = screened_on + timedelta(weeks=after - weeks_at_screen)
        if ends <= on:
            weeks_now = weeks_at_screen + (on - screened_on).days // 7
            return (
                f"Exercises lying on the back: adapt them (lying on the side or propped up) "
                f"now; the first trimester is over (week {weeks_now} of pregnancy)."
            )
        return (
            f"Exercises lying on the back: adapt them (lying on the side or propped up) from "
            f"{_day(ends)}, when the first trimester ends."
        )
    return None
