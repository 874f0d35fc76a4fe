"""The process the crash test kills: imports case files and logs sessions in a loop.

It is started with ``python -c "from tests.crash.worker import main; main()" URL RUN DIR``,
prints ``READY`` once loaded, waits for ``GO`` on stdin, then works until it is killed. An
``ACK`` line is printed (and flushed) only after the commit it acknowledges has returned,
so every ACK the parent reads is a save the app told its user was done.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from backclinic.db.database import open_database
from backclinic.services.bundle import build_services
from backclinic.services.sessions import SessionInput

TEMPLATE = Path(__file__).resolve().parents[1] / "cases" / "acute-lifter.json"
ANCHOR_MRN = "ANCHOR-1"
SESSIONS_PER_CASE = 6
ASSESSMENTS_PER_CASE = 1


def case_document(mrn: str) -> dict[str, Any]:
    """A valid case file with one intake and SESSIONS_PER_CASE sessions on distinct days."""
    document: dict[str, Any] = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    document["patient"]["mrn"] = mrn
    document["patient"]["family_name"] = f"Crash{mrn.replace('-', '')}"
    patterns = document["sessions"]
    sessions = []
    for number in range(SESSIONS_PER_CASE):
        session = copy.deepcopy(patterns[number % len(patterns)])
        session["date"] = (dt.date(2026, 2, 3) + dt.timedelta(days=number)).isoformat()
        sessions.append(session)
    document["sessions"] = sessions
    return document


def main(argv: list[str] | None = None) -> None:
    url, run, folder = (argv if argv is not None else sys.argv[1:])[:3]
    database = open_database(url)
    services = build_services(database.session_factory)
    actor = services.clinic.system_actor()
    anchor = services.patients.by_mrn(actor, ANCHOR_MRN).id
    cases = Path(folder)
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return
    number = 0
    while True:
        number += 1
        if number % 2:
            mrn = f"C{int(run):03d}-{number:05d}"
            path = cases / f"{mrn}.json"
            path.write_text(json.dumps(case_document(mrn)), encoding="utf-8")
            services.cases.import_file(actor, path)
            print(f"ACK import {mrn}", flush=True)
        else:
            record = services.sessions.log(
                actor,
                anchor,
                SessionInput(
                    performed_at=dt.datetime.now(dt.UTC),
                    modalities=("pt",),
                    pain_before=6,
                    pain_after=4,
                    subjective=f"run {run} step {number}",
                ),
            )
            print(f"ACK session {record.id}", flush=True)
