"""The one precaution × acupoint × electro-acupuncture rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol
from backclinic.domain.safety import (
    ELECTROACUPUNCTURE,
    SafetyEvent,
    SafetyEventKind,
    SafetyScreen,
    ViolationKind,
    acupuncture_violations,
    came_after,
    forbidden_points,
    safety_status,
)
from backclinic.domain.screening import FlagAnswer
from tests.protocol_copies import AVOIDED_POINT, AVOIDING_LABEL, protocol_avoiding


def test_no_precaution_rules_nothing_out(protocol: Protocol, catalogue: Catalogue) -> None:
    assert acupuncture_violations((), protocol, catalogue, acupoints=("SP6",), electro=True) == ()
    assert forbidden_points((), protocol, catalogue) == {}


def test_pregnancy_rules_out_the_protocols_points_and_the_catalogues_cautioned_ones(
    protocol: Protocol, catalogue: Catalogue
) -> None:
    forbidden = forbidden_points(("pregnancy",), protocol, catalogue)
    assert set(protocol.precautions["pregnancy"].avoid_points) <= set(forbidden)
    cautioned = {c for c, p in catalogue.acupoints.items() if "pregnancy" in p.cautions}
    assert cautioned <= set(forbidden)
    assert "BL23" not in forbidden


def test_each_violation_names_the_point_and_the_precaution_in_words(
    protocol: Protocol, catalogue: Catalogue
) -> None:
    (violation,) = acupuncture_violations(
        ("pregnancy",),
        protocol,
        catalogue,
        acupoints=("BL23", "SP6", "SP6"),
        acknowledged=("BL23",),
    )
    assert violation.kind == ViolationKind.ACUPOINT
    assert (violation.subject, violation.precaution) == ("SP6", "pregnancy")
    assert violation.text.startswith("SP6 is not offered because of the precaution 'Pregnancy'.")
    assert "pregnancy" not in violation.text.split("'")[0]


@pytest.mark.parametrize("precaution", ["pacemaker", "epilepsy"])
def test_electro_acupuncture_is_ruled_out_where_the_protocol_says_so(
    protocol: Protocol, catalogue: Catalogue, precaution: str
) -> None:
    (violation,) = acupuncture_violations(
        (precaution, "needle_phobia"), protocol, catalogue, acupoints=("BL23",), electro=True
    )
    assert violation.kind == ViolationKind.ELECTROACUPUNCTURE
    assert violation.subject == ELECTROACUPUNCTURE
    assert violation.text.startswith("Electro-acupuncture is not offered because of the")
    assert protocol.precautions[precaution].label in violation.text
    assert acupuncture_violations((precaution,), protocol, catalogue, acupoints=("BL23",)) == ()


def test_a_clinics_protocol_copy_that_adds_an_avoided_point_is_honoured(
    protocol: Protocol, catalogue: Catalogue, tmp_path: Path
) -> None:
    edited = protocol_avoiding(tmp_path)
    proposed = ("BL23", AVOIDED_POINT)
    assert (
        acupuncture_violations(("anticoagulants",), protocol, catalogue, acupoints=proposed) == ()
    )
    (violation,) = acupuncture_violations(
        ("anticoagulants",), edited, catalogue, acupoints=proposed
    )
    assert violation.subject == AVOIDED_POINT
    assert AVOIDING_LABEL in violation.text
    assert AVOIDED_POINT in forbidden_points(("anticoagulants",), edited, catalogue)


def test_an_unknown_precaution_code_is_an_error(protocol: Protocol, catalogue: Catalogue) -> None:
    with pytest.raises(ValueError, match="Unknown precaution code 'flying'"):
        acupuncture_violations(("flying",), protocol, catalogue, acupoints=())


def test_the_safety_status_takes_each_answer_from_the_latest_screen_that_asked_it(
    protocol: Protocol, catalogue: Catalogue
) -> None:
    absent = {item: FlagAnswer.ABSENT for item in protocol.red_flag_items()}
    intake = SafetyScreen(
        dt.date(2026, 1, 5), "Mei Lin", "intake", absent, {"pregnancy": FlagAnswer.PRESENT}
    )
    later = SafetyScreen(
        dt.date(2026, 1, 19), "Ann Roe", "reassessment", {"fever": FlagAnswer.PRESENT}, None
    )
    status = safety_status((intake, later), (), protocol, catalogue, as_of=dt.date(2026, 1, 20))
    fever = next(i for i in status.red_flags if i.code == "fever")
    saddle = next(i for i in status.red_flags if i.code == "saddle_anaesthesia")
    assert (fever.answer, fever.on, fever.by) == (
        FlagAnswer.PRESENT,
        dt.date(2026, 1, 19),
        "Ann Roe",
    )
    assert (saddle.answer, saddle.by) == (FlagAnswer.ABSENT, "Mei Lin")
    assert status.precautions_in_force == ("pregnancy",)
    epilepsy = next(i for i in status.precautions if i.code == "epilepsy")
    assert epilepsy.answer == FlagAnswer.NOT_ASKED
    assert [i.code for i in status.uncleared] == ["fever"] and not status.on_hold
    cleared = SafetyEvent(dt.date(2026, 1, 20), "Ann Roe", SafetyEventKind.CLEARANCE, ("fever",))
    assert (
        safety_status(
            (intake, later), (cleared,), protocol, catalogue, as_of=dt.date(2026, 1, 20)
        ).session_refusal
        is None
    )
    warning = SafetyEvent(
        dt.date(2026, 1, 21), None, SafetyEventKind.NEUROLOGICAL_WARNING, ("new_weakness",)
    )
    held = safety_status(
        (intake, later), (cleared, warning), protocol, catalogue, as_of=dt.date(2026, 1, 22)
    )
    assert held.on_hold and "new weakness" in held.message
    before = safety_status(
        (intake, later), (cleared, warning), protocol, catalogue, as_of=dt.date(2026, 1, 20)
    )
    assert not before.on_hold


def test_a_referral_outcome_answers_a_same_day_sign_only_when_recorded_after_it(
    protocol: Protocol, catalogue: Catalogue
) -> None:
    day = dt.date(2026, 1, 12)

    def at(hour: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour), dt.UTC)

    absent = {item: FlagAnswer.ABSENT for item in protocol.red_flag_items()}
    saddle = {**absent, "saddle_anaesthesia": FlagAnswer.PRESENT}
    screen = SafetyScreen(day, "Mei Lin", "reassessment", saddle, None, at=at(14))

    def outcome(hour: int | None) -> SafetyEvent:
        return SafetyEvent(
            day,
            "Mei Lin",
            SafetyEventKind.REFERRAL_OUTCOME,
            at=None if hour is None else at(hour),
        )

    def held(*events: SafetyEvent) -> bool:
        return safety_status((screen,), events, protocol, catalogue, as_of=day).on_hold

    assert held(outcome(10))  # recorded that morning, before the screen
    assert not held(outcome(15))  # recorded after it
    assert held(outcome(14))  # the same instant: not known to answer it
    assert held(outcome(None))  # the same day with no instant: not known either
    assert came_after(day + dt.timedelta(days=1), None, day, at(23))
    assert not came_after(day, at(9), day + dt.timedelta(days=1), None)


def test_the_electro_acupuncture_refusal_reads_as_one_sentence(
    protocol: Protocol, catalogue: Catalogue
) -> None:
    """The precaution's advice continues the sentence after its colon: no capital, and no
    second colon ("…device': Manual needling only: no …" read as two clauses glued)."""
    texts = {
        precaution: acupuncture_violations(
            (precaution,), protocol, catalogue, acupoints=(), electro=True
        )[0].text
        for precaution in ("pacemaker", "epilepsy")
    }
    assert texts["pacemaker"] == (
        "Electro-acupuncture is not offered because of the precaution 'Cardiac pacemaker or "
        "implanted device': manual needling only, no electro-acupuncture."
    )
    assert texts["epilepsy"] == (
        "Electro-acupuncture is not offered because of the precaution 'Epilepsy or seizure "
        "disorder': treat lying down, keep the patient observed, and avoid electro-acupuncture."
    )
    assert all(text.count(":") == 1 for text in texts.values())
