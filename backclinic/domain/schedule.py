"""Turning a plan's weekly frequencies into dated visits on the clinic's open days.

Week k of a plan covers ``[start + 7(k−1), start + 7k)``, so weeks are counted from the
plan's start date, not from calendar Mondays. Within each week, sessions of one modality
are spread as evenly as the open days allow and are at least two days apart (a day of
rest between sessions, as in the trials' twice-weekly courses); PT goes on acupuncture
days first so the patient travels as little as possible, and a day with both becomes one
visit with both modalities.

A closed date (a holiday) is never booked: its visit moves to the nearest open day of the
same plan week that holds no visit yet, else to the first such day after that week.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations, pairwise

from backclinic.domain.plan import PlanPhase

ACUPUNCTURE = "acupuncture"
PT = "pt"
DAYS_PER_WEEK = 7
# Same-modality sessions within a week need a rest day between them when the week allows.
MIN_DAYS_BETWEEN_SESSIONS = 2


class ScheduleError(ValueError):
    """The frequencies cannot be fitted to the clinic's open days."""


@dataclass(frozen=True)
class VisitDraft:
    """One planned visit. ``modalities`` is sorted with acupuncture first."""

    visit_date: date
    phase_number: int
    modalities: tuple[str, ...]


def _fixed_acupuncture(phase: PlanPhase) -> int:
    """The phase's fixed acupuncture sessions a week: none when it is given as needed (a
    count left beside "as needed" is not booked, as the plan service does not store it)."""
    return 0 if phase.acupuncture_as_needed else phase.acupuncture_per_week or 0


def _check_phases(phases: Sequence[PlanPhase]) -> list[PlanPhase]:
    if not phases:
        raise ScheduleError("A plan needs at least one phase to be scheduled.")
    ordered = sorted(phases, key=lambda phase: phase.start_week)
    if ordered[0].start_week != 1:
        raise ScheduleError(f"Phase {ordered[0].number} must start in week 1.")
    for earlier, later in pairwise(ordered):
        if later.start_week != earlier.end_week + 1:
            raise ScheduleError(
                f"Phase {later.number} must start in week {earlier.end_week + 1}, right after "
                f"phase {earlier.number}, not in week {later.start_week}."
            )
    for phase in ordered:
        if phase.end_week < phase.start_week:
            raise ScheduleError(
                f"Phase {phase.number} ends (week {phase.end_week}) before it starts "
                f"(week {phase.start_week})."
            )
        for label, count in (
            ("acupuncture", _fixed_acupuncture(phase)),
            ("PT", phase.pt_per_week),
        ):
            if not 0 <= count <= DAYS_PER_WEEK:
                raise ScheduleError(
                    f"Phase {phase.number}: {label} must be 0 to 7 sessions a week, got {count}."
                )
    return ordered


def _spacing_penalty(days: Sequence[int], count: int) -> float:
    """How far the gaps (including the wrap into next week) are from an even 7/count."""
    ideal = DAYS_PER_WEEK / count
    gaps = [b - a for a, b in pairwise(days)]
    gaps.append(days[0] + DAYS_PER_WEEK - days[-1])
    return sum((gap - ideal) ** 2 for gap in gaps)


def _pick_days(
    open_days: Sequence[int], count: int, preferred: frozenset[int], what: str, week: int
) -> tuple[int, ...]:
    """Choose ``count`` of the week's open day offsets (0–6 from the week's first day).

    Order of preference: most days shared with ``preferred`` (acupuncture days, for PT),
    then the most even spread, then the earliest days. Sessions must be at least two days
    apart; for three or more a week that is often impossible (Mon–Fri holds only
    Mon/Wed/Fri), so there we accept consecutive days rather than refuse the plan.
    """
    if count == 0:
        return ()
    if len(open_days) < count:
        raise ScheduleError(
            f"Week {week} has {len(open_days)} clinic day(s) open but the plan asks for "
            f"{count} {what} sessions that week."
        )
    candidates = list(combinations(open_days, count))
    spaced = [
        combo
        for combo in candidates
        if all(b - a >= MIN_DAYS_BETWEEN_SESSIONS for a, b in pairwise(combo))
    ]
    if spaced:
        candidates = spaced
    elif count == 2:
        raise ScheduleError(
            f"Week {week} has no two clinic days at least {MIN_DAYS_BETWEEN_SESSIONS} days "
            f"apart for twice-weekly {what}."
        )
    best = min(
        candidates,
        key=lambda combo: (
            -len(preferred.intersection(combo)),
            _spacing_penalty(combo, count),
            combo,
        ),
    )
    return best


def _modalities(
    day: int, acupuncture_days: Iterable[int], pt_days: Iterable[int]
) -> tuple[str, ...]:
    result = []
    if day in acupuncture_days:
        result.append(ACUPUNCTURE)
    if day in pt_days:
        result.append(PT)
    return tuple(result)


def build_schedule(
    phases: Sequence[PlanPhase],
    start: date,
    clinic_days: frozenset[int],
    closed_dates: frozenset[date] = frozenset(),
) -> list[VisitDraft]:
    """Date every fixed visit of the plan; "as needed" acupuncture gets no fixed visits.

    ``clinic_days`` are ``date.weekday()`` numbers (0 = Monday); no visit falls on one of
    ``closed_dates``. Raises ScheduleError with one sentence when a week cannot hold the
    asked frequency on the open days.
    """
    if not clinic_days:
        raise ScheduleError("The clinic has no open days, so no visit can be scheduled.")
    unknown_days = sorted(d for d in clinic_days if not 0 <= d < DAYS_PER_WEEK)
    if unknown_days:
        raise ScheduleError(f"Clinic days must be weekday numbers 0–6, got {unknown_days}.")
    visits: list[VisitDraft] = []
    for phase in _check_phases(phases):
        acupuncture_count = _fixed_acupuncture(phase)
        for week in range(phase.start_week, phase.end_week + 1):
            week_start = start + timedelta(days=DAYS_PER_WEEK * (week - 1))
            open_days = [
                offset
                for offset in range(DAYS_PER_WEEK)
                if (week_start + timedelta(days=offset)).weekday() in clinic_days
            ]
            acupuncture_days = _pick_days(
                open_days, acupuncture_count, frozenset(), "acupuncture", week
            )
            pt_days = _pick_days(
                open_days, phase.pt_per_week, frozenset(acupuncture_days), "PT", week
            )
            for day in sorted(set(acupuncture_days) | set(pt_days)):
                visits.append(
                    VisitDraft(
                        visit_date=week_start + timedelta(days=day),
                        phase_number=phase.number,
                        modalities=_modalities(day, acupuncture_days, pt_days),
                    )
                )
    return _avoid_closures(visits, start, clinic_days, closed_dates)


def _avoid_closures(
    visits: list[VisitDraft],
    start: date,
    clinic_days: frozenset[int],
    closed_dates: frozenset[date],
) -> list[VisitDraft]:
    taken = {visit.visit_date for visit in visits}

    def free(day: date) -> bool:
        return day.weekday() in clinic_days and day not in closed_dates and day not in taken

    moved: list[VisitDraft] = []
    for visit in visits:
        if visit.visit_date not in closed_dates:
            moved.append(visit)
            continue
        week_start = start + timedelta(
            days=(visit.visit_date - start).days // DAYS_PER_WEEK * DAYS_PER_WEEK
        )
        same_week = sorted(
            (
                week_start + timedelta(days=offset)
                for offset in range(DAYS_PER_WEEK)
                if free(week_start + timedelta(days=offset))
            ),
            key=lambda day: (abs((day - visit.visit_date).days), day),
        )
        if same_week:
            new_date = same_week[0]
        else:
            new_date = week_start + timedelta(days=DAYS_PER_WEEK)
            while not free(new_date):
                new_date += timedelta(days=1)
        taken.discard(visit.visit_date)
        taken.add(new_date)
        moved.append(
            VisitDraft(
                visit_date=new_date,
                phase_number=visit.phase_number,
                modalities=visit.modalities,
            )
        )
    return sorted(moved, key=lambda visit: visit.visit_date)


def reschedule_from(
    existing: Sequence[VisitDraft],
    phases: Sequence[PlanPhase],
    start: date,
    clinic_days: frozenset[int],
    from_date: date,
    closed_dates: frozenset[date] = frozenset(),
) -> list[VisitDraft]:
    """Keep visits before ``from_date``; regenerate those on or after it from ``phases``.

    Changing an active plan must never rewrite the past: visits already held or missed
    stay as they were, and only the future follows the new frequencies.
    """
    kept = [visit for visit in existing if visit.visit_date < from_date]
    regenerated = [
        visit
        for visit in build_schedule(phases, start, clinic_days, closed_dates)
        if visit.visit_date >= from_date
    ]
    return sorted([*kept, *regenerated], key=lambda visit: visit.visit_date)
