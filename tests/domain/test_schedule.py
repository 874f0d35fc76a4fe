from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backclinic.domain.plan import PlanPhase
from backclinic.domain.schedule import (
    ScheduleError,
    VisitDraft,
    build_schedule,
    reschedule_from,
)
from tests.plan_phases import plan_phase

MONDAY = date(2026, 1, 5)
WEEKDAYS = frozenset(range(5))
ARTICLE_PHASES = (
    plan_phase(1, 1, 2, 2, False, 2),
    plan_phase(2, 3, 5, 1, False, 2),
    plan_phase(3, 6, 9, None, True, 1),
)


def dates_with(visits: list[VisitDraft], modality: str) -> list[date]:
    return [v.visit_date for v in visits if modality in v.modalities]


def test_twice_weekly_acupuncture_from_a_monday_falls_on_monday_and_thursday() -> None:
    visits = build_schedule([plan_phase(1, 1, 2, 2, False, 0)], MONDAY, WEEKDAYS)
    assert dates_with(visits, "acupuncture") == [
        date(2026, 1, 5),
        date(2026, 1, 8),
        date(2026, 1, 12),
        date(2026, 1, 15),
    ]


def test_article_plan_gives_4_then_3_acupuncture_visits_and_none_fixed_from_week_6() -> None:
    visits = build_schedule(ARTICLE_PHASES, MONDAY, WEEKDAYS)
    acupuncture = dates_with(visits, "acupuncture")
    assert len([d for d in acupuncture if d < MONDAY + timedelta(weeks=2)]) == 4
    assert (
        len(
            [
                d
                for d in acupuncture
                if MONDAY + timedelta(weeks=2) <= d < MONDAY + timedelta(weeks=5)
            ]
        )
        == 3
    )
    assert not [d for d in acupuncture if d >= MONDAY + timedelta(weeks=5)]


def test_article_plan_has_pt_every_week_on_acupuncture_days_first() -> None:
    visits = build_schedule(ARTICLE_PHASES, MONDAY, WEEKDAYS)
    pt_weeks = {(d - MONDAY).days // 7 + 1 for d in dates_with(visits, "pt")}
    assert pt_weeks == set(range(1, 10))
    acupuncture_days = set(dates_with(visits, "acupuncture"))
    assert acupuncture_days <= set(dates_with(visits, "pt"))
    assert all(
        v.modalities == ("acupuncture", "pt") for v in visits if v.visit_date in acupuncture_days
    )


def test_same_day_acupuncture_and_pt_are_one_visit() -> None:
    visits = build_schedule(ARTICLE_PHASES, MONDAY, WEEKDAYS)
    assert len({v.visit_date for v in visits}) == len(visits)


def test_as_needed_acupuncture_has_no_fixed_visits() -> None:
    visits = build_schedule([plan_phase(1, 1, 3, None, True, 1)], MONDAY, WEEKDAYS)
    assert visits and all(v.modalities == ("pt",) for v in visits)


def test_twice_weekly_with_one_clinic_day_is_refused_with_a_sentence() -> None:
    with pytest.raises(ScheduleError, match="1 clinic day"):
        build_schedule([plan_phase(1, 1, 1, 2, False, 0)], MONDAY, frozenset({2}))


def test_twice_weekly_on_adjacent_days_only_is_refused() -> None:
    with pytest.raises(ScheduleError, match="at least 2 days apart"):
        build_schedule([plan_phase(1, 1, 1, 2, False, 0)], MONDAY, frozenset({0, 1}))


def test_no_clinic_days_is_refused() -> None:
    with pytest.raises(ScheduleError, match="no open days"):
        build_schedule(ARTICLE_PHASES, MONDAY, frozenset())


def test_overlapping_phases_are_refused() -> None:
    phases = [plan_phase(1, 1, 3, 1, False, 1), plan_phase(2, 3, 5, 1, False, 1)]
    with pytest.raises(ScheduleError, match="must start in week 4"):
        build_schedule(phases, MONDAY, WEEKDAYS)


def test_weeks_count_from_the_start_date_not_from_mondays() -> None:
    wednesday = date(2026, 1, 7)
    visits = build_schedule([plan_phase(1, 1, 1, 1, False, 0)], wednesday, WEEKDAYS)
    assert [v.visit_date for v in visits] == [wednesday]


def test_rescheduling_keeps_the_past_and_regenerates_the_future() -> None:
    original = build_schedule(ARTICLE_PHASES, MONDAY, WEEKDAYS)
    changed = (
        plan_phase(1, 1, 2, 2, False, 2),
        plan_phase(2, 3, 5, 2, False, 2),
        plan_phase(3, 6, 9, None, True, 1),
    )
    cutoff = date(2026, 1, 19)
    result = reschedule_from(original, changed, MONDAY, WEEKDAYS, cutoff)
    assert [v for v in result if v.visit_date < cutoff] == [
        v for v in original if v.visit_date < cutoff
    ]
    assert [v for v in result if v.visit_date >= cutoff] == [
        v for v in build_schedule(changed, MONDAY, WEEKDAYS) if v.visit_date >= cutoff
    ]
    assert len(dates_with(result, "acupuncture")) == 4 + 6


def test_rescheduling_never_rewrites_a_past_visit_even_when_it_differs() -> None:
    held = VisitDraft(date(2026, 1, 6), 1, ("acupuncture",))
    result = reschedule_from([held], ARTICLE_PHASES, MONDAY, WEEKDAYS, date(2026, 1, 7))
    assert result[0] == held
    assert all(v.visit_date >= date(2026, 1, 7) for v in result[1:])


@st.composite
def phase_plans(draw: st.DrawFn) -> list[PlanPhase]:
    phases = []
    week = 1
    for number in range(1, draw(st.integers(1, 3)) + 1):
        length = draw(st.integers(1, 3))
        as_needed = draw(st.booleans())
        acupuncture = None if as_needed else draw(st.integers(0, 3))
        pt = draw(st.integers(0, 3))
        phases.append(plan_phase(number, week, week + length - 1, acupuncture, as_needed, pt))
        week += length
    return phases


def feasible(phases: list[PlanPhase], start: date, days: frozenset[int]) -> bool:
    """Independent feasibility: every window of 7 days holds each open weekday once."""
    offsets = sorted((d - start.weekday()) % 7 for d in days)
    for phase in phases:
        for count in (phase.acupuncture_per_week or 0, phase.pt_per_week):
            if count > len(offsets):
                return False
            if count == 2 and offsets[-1] - offsets[0] < 2:
                return False
    return True


@given(
    phases=phase_plans(),
    start=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    days=st.frozensets(st.integers(0, 6), min_size=1),
)
def test_schedule_properties_hold_for_any_feasible_plan(
    phases: list[PlanPhase], start: date, days: frozenset[int]
) -> None:
    if not feasible(phases, start, days):
        with pytest.raises(ScheduleError):
            build_schedule(phases, start, days)
        return
    visits = build_schedule(phases, start, days)
    assert all(v.visit_date >= start for v in visits)
    assert all(v.visit_date.weekday() in days for v in visits)
    assert len({v.visit_date for v in visits}) == len(visits)
    assert [v.visit_date for v in visits] == sorted(v.visit_date for v in visits)
    by_number = {p.number: p for p in phases}
    for visit in visits:
        week = (visit.visit_date - start).days // 7 + 1
        phase = by_number[visit.phase_number]
        assert phase.start_week <= week <= phase.end_week
        assert visit.modalities in (("acupuncture",), ("pt",), ("acupuncture", "pt"))
    for modality in ("acupuncture", "pt"):
        per_week = Counter((d - start).days // 7 + 1 for d in dates_with(visits, modality))
        for phase in phases:
            wanted = phase.pt_per_week if modality == "pt" else phase.acupuncture_per_week or 0
            for week in range(phase.start_week, phase.end_week + 1):
                assert per_week[week] == wanted
            if wanted == 2:
                for week in range(phase.start_week, phase.end_week + 1):
                    pair = [
                        d for d in dates_with(visits, modality) if (d - start).days // 7 + 1 == week
                    ]
                    assert (pair[1] - pair[0]).days >= 2
    last_week = max(p.end_week for p in phases)
    assert all(v.visit_date < start + timedelta(weeks=last_week) for v in visits)


CHRISTMAS = date(2026, 12, 25)
NEW_YEAR = date(2027, 1, 1)


def test_no_visit_is_booked_on_a_closed_day() -> None:
    # From Tuesday 22 December the default spread books every Friday of the plan.
    visits = build_schedule(
        ARTICLE_PHASES, date(2026, 12, 22), WEEKDAYS, frozenset({CHRISTMAS, NEW_YEAR})
    )
    unclosed = build_schedule(ARTICLE_PHASES, date(2026, 12, 22), WEEKDAYS)
    assert CHRISTMAS in {v.visit_date for v in unclosed}
    booked = {v.visit_date for v in visits}
    assert CHRISTMAS not in booked
    assert NEW_YEAR not in booked
    assert len(visits) == len(unclosed)


def test_a_visit_on_a_closed_day_moves_to_the_nearest_open_day_of_its_week() -> None:
    visits = build_schedule(
        [plan_phase(1, 1, 1, 2, False, 0)],
        date(2026, 12, 21),
        WEEKDAYS,
        frozenset({date(2026, 12, 24)}),
    )
    assert [v.visit_date for v in visits] == [date(2026, 12, 21), date(2026, 12, 23)]


def test_a_week_closed_throughout_moves_its_visits_to_the_next_open_days() -> None:
    closed_week = frozenset(date(2026, 12, 21) + timedelta(days=d) for d in range(7))
    visits = build_schedule(
        [plan_phase(1, 1, 1, 1, False, 0)], date(2026, 12, 21), WEEKDAYS, closed_week
    )
    assert [v.visit_date for v in visits] == [date(2026, 12, 28)]
