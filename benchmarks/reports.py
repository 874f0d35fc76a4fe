"""Warm render time of the printed documents (goals: discharge summary with 60 sessions and its
chart ≤ 300 ms; plan summary ≤ 150 ms).

Renders the reports' plain inputs directly (no database), once to warm up (font loading,
imports), then ``--runs`` times, and prints the median, the fastest and the page count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable

from backclinic.domain.catalogue import load_catalogue
from backclinic.domain.outcomes import judge
from backclinic.domain.protocol import default_protocol_path, load_protocol
from backclinic.reports.content import (
    Attendance,
    ChartPhase,
    DischargeSummary,
    DocumentFrame,
    HomeExercise,
    Letterhead,
    Outcome,
    PatientLine,
    PatientPrecaution,
    PlannedVisit,
    PlanPhase,
    PlanSummary,
    RenderedPdf,
    TreatedSession,
)
from backclinic.reports.discharge_summary import render_discharge_summary
from backclinic.reports.plan_summary import render_plan_summary

DISCHARGE_GOAL_MS = 300.0
PLAN_GOAL_MS = 150.0
SESSIONS = 60
START = dt.date(2026, 1, 5)


def frame(title: str) -> DocumentFrame:
    return DocumentFrame(
        title=title,
        letterhead=Letterhead(
            "Harbour Back Clinic",
            "12 Quay Street\nPortsmouth PO1 2AB",
            "023 9200 1234",
            "hello@harbourback.example",
        ),
        patient=PatientLine("Nguyễn, Thị Hương", dt.date(1980, 11, 2), "BC-004512"),
        protocol_name="Integrative low back pain (acupuncture + PT)",
        protocol_version=1,
        printed_on=START + dt.timedelta(weeks=30),
        printed_by="Mei Lin",
    )


def inputs() -> tuple[PlanSummary, DischargeSummary]:
    catalogue = load_catalogue()
    protocol = load_protocol(default_protocol_path(), catalogue)
    phases: list[PlanPhase] = []
    for template in protocol.phases:
        phase = template.phase
        phases.append(
            PlanPhase(
                number=phase.number,
                name=phase.name,
                start_week=phase.start_week,
                end_week=phase.end_week,
                start_date=START + dt.timedelta(weeks=phase.start_week - 1),
                end_date=START + dt.timedelta(weeks=phase.end_week, days=-1),
                acupuncture="as needed" if phase.acupuncture_as_needed else "twice a week",
                physical_therapy="twice a week",
                aim=phase.aim,
                focus=tuple(catalogue.label("interventions", c) for c in phase.pt_focus),
            )
        )
    visits = tuple(
        PlannedVisit(
            START + dt.timedelta(days=3 * i + (i % 2)),
            min(3, 1 + i // 5),
            ("Acupuncture", "Physical therapy"),
            "done" if i < 8 else "planned",
        )
        for i in range(22)
    )
    programme = tuple(
        HomeExercise(
            catalogue.interventions[c].label,
            catalogue.interventions[c].instructions,
            catalogue.interventions[c].dosage,
        )
        for c in protocol.phases[-1].phase.pt_focus
    )
    plan = PlanSummary(
        frame=frame("Plan summary"),
        phases=tuple(phases),
        visits=visits,
        current_phase=2,
        home_programme=programme,
        target_pain=3,
        target_odi=22.0,
        functional_goals=("sit through a working day without pain", "avoid NSAIDs"),
        precautions=(
            PatientPrecaution(
                "Anticoagulants or bleeding disorder",
                protocol.precautions["anticoagulants"].needling,
            ),
        ),
    )
    t = protocol.thresholds
    sessions = []
    for i in range(SESSIONS):
        before = max(1, 8 - i // 8)
        sessions.append(
            TreatedSession(
                when=START + dt.timedelta(days=3 * i),
                phase_number=min(3, 1 + i // 10),
                modalities=("Acupuncture", "Physical therapy"),
                pain_before=before,
                pain_after=max(0, before - 2),
                acupoints=("BL23", "BL25", "BL40", "GV3", "EX-B2", "ASHI"),
                interventions=("Posture correction", "Myofascial release", "Core stabilisation"),
                adverse_events=("Bruising",) if i % 17 == 5 else (),
                adverse_event_note="small bruise, resolved" if i % 17 == 5 else "",
                tolerance="Tolerated well",
            )
        )
    end = sessions[-1].when
    discharge = DischargeSummary(
        frame=frame("Discharge summary"),
        ended=True,
        start_date=START,
        end_date=end,
        end_reason="goals met",
        end_note="Back at work full time.",
        phases=tuple(ChartPhase(p.number, p.name, p.start_date, p.end_date) for p in phases),
        attendance=Attendance(64, 60, 3, 1, SESSIONS),
        nprs=Outcome(
            "Pain (NPRS 0–10)",
            "",
            8,
            START,
            1,
            end,
            judge("nprs", 8, 1, t),
        ),
        odi=Outcome(
            "Disability (ODI)",
            " %",
            48.0,
            START,
            12.0,
            end,
            judge("odi", 48.0, 12.0, t),
        ),
        mean_immediate_drop=2.0,
        sessions=tuple(sessions),
        home_programme=programme,
        recommendations=(
            f"Maintenance: {protocol.phases[-1].phase.aim}",
            "Continue the home programme above.",
        ),
        clinician="Mei Lin",
    )
    return plan, discharge


def measure(render: Callable[[], RenderedPdf], runs: int) -> tuple[float, float, int]:
    pages = render().pages  # warm-up: fonts, imports, caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        render()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples), pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    plan, discharge = inputs()
    for name, render, goal in (
        (
            f"discharge summary, {SESSIONS} sessions + chart",
            lambda: render_discharge_summary(discharge),
            DISCHARGE_GOAL_MS,
        ),
        ("plan summary", lambda: render_plan_summary(plan), PLAN_GOAL_MS),
    ):
        median, fastest, pages = measure(render, args.runs)
        verdict = "meets" if median <= goal else "MISSES"
        print(
            f"{name}: median {median:.0f} ms, fastest {fastest:.0f} ms, {pages} pages "
            f"({verdict} the goal of {goal:.0f} ms)"
        )


if __name__ == "__main__":
    main()
