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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol

ELECTROACUPUNCTURE = "electro-acupuncture"


class ViolationKind(StrEnum):
    ACUPOINT = "acupoint"
    ELECTROACUPUNCTURE = "electroacupuncture"


@dataclass(frozen=True)
class PrecautionRule:
    """What one precaution the patient has means for needling."""

    code: str
    label: str
    needling: str
    avoid_points: frozenset[str]
    no_electroacupuncture: bool
    source: str


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
        f"'{rule.label}': {rule.needling}",
        source=rule.source,
    )


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
) -> tuple[Violation, ...]:
    """What the precautions in force rule out of the proposed ``acupoints`` and ``electro``.

    One violation per ruled-out point (the first precaution by code), in the order the
    points were given, then one for electro-acupuncture if it was proposed and a
    precaution forbids it. Points the catalogue does not know are not this rule's concern.
    """
    rules = precaution_rules(precautions, protocol, catalogue)
    violations: list[Violation] = []
    seen: set[str] = set()
    for point in acupoints:
        if point in seen:
            continue
        seen.add(point)
        rule = next((r for r in rules if point in r.avoid_points), None)
        if rule is not None:
            violations.append(_point_violation(point, rule))
    if electro:
        refusing = next((r for r in rules if r.no_electroacupuncture), None)
        if refusing is not None:
            violations.append(_electro_violation(refusing))
    return tuple(violations)
