"""Saving a session with its audit entry (goal: p95 <= 30 ms).

Times SessionService.log, the call behind the session dialog's Save: validation, the
session row, the visit it fulfils and the chained audit entry, in one transaction. Runs on
a fresh SQLite file (or DB, an existing demo database to add a patient to), logging
`--sessions` sessions for one patient with an active plan.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from backclinic.db.database import open_database
from backclinic.domain.intake import Intake
from backclinic.domain.screening import FlagAnswer
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import NewClinician
from backclinic.services.context import Actor
from backclinic.services.patients import PatientInput
from backclinic.services.sessions import SessionInput
from benchmarks.clinic_db import sqlite_url

GOAL_P95_MS = 30.0


def clinician(services: Services) -> Actor:
    if not services.clinic.is_set_up():
        return services.clinic.set_up(
            clinic_name="Benchmark Clinic",
            first_clinician=NewClinician("Mei Lin", "mei", "acupuncturist", "bench-password"),
        ).as_actor()
    return services.clinic.system_actor()


def patient_with_plan(services: Services, actor: Actor, *, weeks_ago: int) -> int:
    """A registered patient with an intake and the recommended plan, started weeks ago."""
    today = services.patients.today()
    start = today - dt.timedelta(weeks=weeks_ago)
    patient = services.patients.register(
        actor, PatientInput("Rivera", "Ana", dt.date(1980, 3, 14), occupation="office worker")
    )
    intake = Intake(
        assessed_on=start,
        onset_weeks=30,
        red_flags={code: FlagAnswer.ABSENT for code in services.protocol.red_flag_items()},
        nprs_current=7,
        odi_answers=(3, 2, 3, 2, 3, 3, 2, None, 3, 2),
        contributing_factors=("posture",),
    )
    services.assessments.record(actor, patient.id, AssessmentInput("intake", intake))
    services.plans.create_recommended(actor, patient.mrn, start=start)
    return patient.id


def session_at(moment: dt.datetime, pain: int) -> SessionInput:
    return SessionInput(
        performed_at=moment,
        modalities=("acupuncture", "pt"),
        pain_before=pain,
        pain_after=max(0, pain - 2),
        acupoints=("BL23", "BL25", "BL40", "GV3"),
        needle_count=8,
        retention_minutes=20,
        interventions=(("posture_correction", "10 minutes"),),
        tolerance="good",
        subjective="Less stiff in the mornings",
    )


def log_sessions(
    services: Services, actor: Actor, patient_id: int, count: int, *, hours_apart: int = 1
) -> list[float]:
    """Log `count` sessions, `hours_apart` apart up to now; milliseconds per save."""
    now = services.context.clock.now()
    samples = []
    for n in range(count):
        moment = now - dt.timedelta(hours=(count - n) * hours_apart)
        data = session_at(moment, 7 - (n * 5) // count)
        started = time.perf_counter()
        services.sessions.log(actor, patient_id, data)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database", nargs="?", type=Path, help="SQLite file (default: new)")
    parser.add_argument("--sessions", type=int, default=200)
    arguments = parser.parse_args()
    path = arguments.database or Path(tempfile.mkdtemp(prefix="backclinic-bench-")) / "clinic.db"
    database = open_database(sqlite_url(path))
    services = build_services(database.session_factory)
    actor = clinician(services)
    patient_id = patient_with_plan(services, actor, weeks_ago=8)
    log_sessions(services, actor, patient_id, 5)  # warm up
    samples = sorted(log_sessions(services, actor, patient_id, arguments.sessions))
    p50 = statistics.median(samples)
    p95 = samples[round(0.95 * (len(samples) - 1))]
    verdict = "met" if p95 <= GOAL_P95_MS else "MISSED"
    print(f"{len(samples)} sessions saved with their audit entries on {path}")
    print(f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {samples[-1]:.1f} ms")
    print(f"goal p95 <= {GOAL_P95_MS:.0f} ms: {verdict}")
    database.engine.dispose()


if __name__ == "__main__":
    main()
