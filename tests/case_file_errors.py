"""Broken case files and the one sentence each must be refused with, for the reader's
tests (no database) and the import's (nothing stored): one list, so the two agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Change = Callable[[dict[str, Any]], None]


def set_value(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        node: Any = document
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def _drop_mrn(document: dict[str, Any]) -> None:
    del document["patient"]["mrn"]


def _add_factor(document: dict[str, Any]) -> None:
    document["assessments"][0]["contributing_factors"].append("gravity")


def _nine_odi_answers(document: dict[str, Any]) -> None:
    document["assessments"][0]["odi_answers"].pop()


def _two_errors(document: dict[str, Any]) -> None:
    document["assessments"][0]["nprs"]["current"] = 11
    document["patient"]["sex"] = "f"


def _unknown_acupoint_in_session(document: dict[str, Any]) -> None:
    document["sessions"] = [
        {"date": "2026-01-06", "modalities": ["acupuncture"], "acupoints": ["BL23", "BL99"]}
    ]


def _unexpected_field(document: dict[str, Any]) -> None:
    document["patient"]["nickname"] = "Gee"


# Changes to the article's office worker (tests/cases/article-office-worker.json).
BROKEN_ARTICLE: list[tuple[Change, str]] = [
    (
        set_value(("assessments", 0, "nprs", "current"), 11),
        "assessments[0].nprs.current: 11 is above 10",
    ),
    (
        set_value(("assessments", 0, "odi_answers", 4), 6),
        "assessments[0].odi_answers[4]: 6 is above 5",
    ),
    (
        _add_factor,
        "assessments[0].contributing_factors[3]: 'gravity' is not one of 'muscle_imbalance'",
    ),
    (_drop_mrn, "patient: `mrn` is required"),
    (_nine_odi_answers, "assessments[0].odi_answers: has 9 items, expected exactly 10"),
    (_two_errors, "patient.sex: 'f' is not one of 'female', 'male', 'other', 'unknown'"),
    (
        set_value(("assessments", 0, "date"), "2026-02-30"),
        "assessments[0].date: '2026-02-30' is not a date (YYYY-MM-DD)",
    ),
    (
        set_value(("assessments", 0, "nprs", "worst"), "8"),
        "assessments[0].nprs.worst: expected a whole number or null, got '8'",
    ),
    (
        set_value(("assessments", 0, "date"), "2099-01-05"),
        "assessments[0].date: 2099-01-05 is in the future",
    ),
    (
        set_value(("format",), "backclinic-case/2"),
        "format: 'backclinic-case/2' is not 'backclinic-case/1'",
    ),
    (
        _unknown_acupoint_in_session,
        "sessions[0].acupoints[1]: 'BL99' is not an acupoint in the catalogue",
    ),
    (_unexpected_field, "patient: unexpected field 'nickname'"),
]

# The record rules the forms share, which the case service adds to the reader's own.
BROKEN_ARTICLE_RECORDS: list[tuple[Change, str]] = [
    (
        set_value(("assessments", 0, "nprs", "best"), 9),
        "assessments[0].nprs.best: best pain cannot be higher than worst pain",
    ),
]


def _amendment_without_reason(document: dict[str, Any]) -> None:
    document["sessions"][2].pop("amendment_reason")


def _reason_without_amends(document: dict[str, Any]) -> None:
    document["sessions"][0]["amendment_reason"] = "typo"


def _active_plan_with_an_end(document: dict[str, Any]) -> None:
    document["plan"]["status"] = "active"


def _ended_before_it_started(document: dict[str, Any]) -> None:
    document["plan"]["ended_on"] = "2026-01-01"


# Changes to the discharged course (tests/cases/discharged-with-amendments.json).
BROKEN_DISCHARGED_COURSE: list[tuple[Change, str]] = [
    (_amendment_without_reason, "sessions[2].amendment_reason: an amendment needs the reason"),
    (_reason_without_amends, "sessions[0].amendment_reason: needs `amends`"),
    (_active_plan_with_an_end, "plan.ended_on: an active plan has not ended"),
    (_ended_before_it_started, "plan.ended_on: 2026-01-01 is before the plan start"),
    (
        set_value(("plan", "end_reason"), "bored"),
        "plan.end_reason: 'bored' is not one of 'goals_met'",
    ),
]
