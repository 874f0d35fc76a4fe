"""Resident memory of BackClinic idling on 100,000 patients after real use (goal <= 150 MB).

Each run is a fresh `python main.py` (benchmarks.backclinic_sign_in): sign in, open the
patient with 200 sessions (workspace, Progress tab and its chart), print their discharge
summary, then let the event loop idle and read VmRSS (and the peak, VmHWM) from
/proc/self/status. The bare Qt window is shown for scale. Linux only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.clinic_db import database_argument, ensure, sqlite_url
from benchmarks.startup import child_environment, launch

GOAL_MB = 150.0
SESSIONS = 200


def patient_with_sessions(path: Path, sessions: int = SESSIONS) -> int:
    """The id of a patient with `sessions` sessions in the database, added if none has."""
    from backclinic.db.database import open_database
    from backclinic.services.bundle import build_services
    from benchmarks.sessions import clinician, log_sessions, patient_with_plan

    database = open_database(sqlite_url(path))
    try:
        services = build_services(database.session_factory)
        actor = clinician(services)
        for summary in services.patients.search(actor, "Rivera Ana", limit=50).rows:
            if len(services.sessions.history(actor, summary.id)) >= sessions:
                return summary.id
        print(f"adding a patient with {sessions} sessions to {path} ...", flush=True)
        patient_id = patient_with_plan(services, actor, weeks_ago=9)
        log_sessions(services, actor, patient_id, sessions, hours_apart=7)
        return patient_id
    finally:
        database.engine.dispose()


def open_patient_and_print(window: Any, patient_id: int) -> None:
    """In the child: what the clinician does (open the patient, print the discharge summary)."""
    workspace = window.open_patient(patient_id)
    window.repaint()
    workspace.tabs.setCurrentWidget(workspace.progress_tab)
    workspace.repaint()
    services, actor = window._services, window.clinician.as_actor()
    stored = services.documents.print_discharge_summary(actor, patient_id)
    workspace.documents_tab.reload()
    if stored.pages < 1:
        raise RuntimeError("the discharge summary printed no page")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    database_argument(parser)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading")
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    path = ensure(arguments.database)
    patient_id = patient_with_sessions(path)
    environment = child_environment()
    bare = [sys.executable, "-m", "benchmarks.bare_window"]
    backclinic = [
        sys.executable,
        "-m",
        "benchmarks.backclinic_sign_in",
        sqlite_url(path),
        "--idle",
        str(arguments.idle),
        "--open-patient",
        str(patient_id),
    ]
    bare_reports = [launch(bare, environment)[1] for _ in range(arguments.runs)]
    shown = statistics.median(r["rss_kib"] for r in bare_reports) / 1024
    print(f"{'bare QMainWindow + QTableView':<34} RSS when shown {shown:6.1f} MB")
    reports = [launch(backclinic, environment)[1] for _ in range(arguments.runs)]
    at_sign_in = statistics.median(r["rss_at_sign_in_kib"] for r in reports) / 1024
    shown = statistics.median(r["rss_kib"] for r in reports) / 1024
    idle = statistics.median(r["idle_rss_kib"] for r in reports) / 1024
    peak = statistics.median(r["peak_rss_kib"] for r in reports) / 1024
    verdict = "met" if idle <= GOAL_MB else "MISSED"
    print(
        f"{'BackClinic (100k patients)':<34} RSS at sign-in {at_sign_in:6.1f} MB, "
        f"main window {shown:6.1f} MB"
    )
    print(
        f"  after opening a patient with {SESSIONS} sessions and printing a discharge summary,"
        f" idle {arguments.idle:g} s: {idle:6.1f} MB (peak {peak:6.1f} MB)"
        f"  goal <= {GOAL_MB:.0f} MB: {verdict}"
    )


if __name__ == "__main__":
    main()
