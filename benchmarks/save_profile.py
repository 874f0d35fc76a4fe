"""One workstation's session save, taken apart: statements sent, wall time, Python time.

Runs on a new or demo database (it fills a new one with a small demo clinic), saves
``--saves`` sessions for one patient with a plan, and prints per save: the SQL statements
(by kind), the median wall time, and the functions that take the most Python time:

    python -m benchmarks.save_profile postgresql+psycopg://USER@127.0.0.1/backclinic_load
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import datetime as dt
import io
import os
import pstats
import statistics
import time
from typing import Any

DEMO_ADMIN = "sarah.whitfield"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--show", type=int, default=25, help="functions to list")
    arguments = parser.parse_args()

    from sqlalchemy import event

    from backclinic.db.database import open_database
    from backclinic.services.bundle import build_services
    from backclinic.services.demo import DEMO_CLINIC_NAME, DEMO_PASSWORD
    from backclinic.services.sessions import SessionInput
    from benchmarks.sessions import patient_with_plan

    database = open_database(arguments.url)
    services = build_services(database.session_factory)
    if not services.clinic.is_set_up():
        services.demo.fill(services.clinic.system_actor(), patients=200, seed=3)
    elif services.clinic.settings().clinic_name != DEMO_CLINIC_NAME:
        parser.error("this database holds a clinic of its own; give a new database")
    actor = services.clinic.sign_in(DEMO_ADMIN, DEMO_PASSWORD).as_actor()
    patient_id = patient_with_plan(services, actor, weeks_ago=4)
    now = services.context.clock.now()
    statements: collections.Counter[str] = collections.Counter()
    counting = False

    @event.listens_for(database.engine, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if counting:
            words = statement.split()
            kind = " ".join(words[:3]) if words[0] in {"SELECT", "INSERT", "UPDATE"} else words[0]
            statements[kind[:60]] += 1

    def data(turn: int) -> SessionInput:
        return SessionInput(
            performed_at=now - dt.timedelta(seconds=turn),
            modalities=("pt",),
            pain_before=6,
            pain_after=4,
            interventions=(("core_stabilization", "3 x 10"),),
            tolerance="good",
            subjective=f"profile save {turn}",
        )

    for turn in range(10):  # warm caches and the pool
        services.sessions.log(actor, patient_id, data(turn))
    counting = True
    walls = []
    cpus = []
    for turn in range(10, 10 + arguments.saves):
        began, cpu = time.perf_counter(), time.process_time()
        services.sessions.log(actor, patient_id, data(turn))
        walls.append((time.perf_counter() - began) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    print(
        f"{arguments.saves} saves, unprofiled: median wall {statistics.median(walls):.1f} ms, "
        f"median Python (client CPU) {statistics.median(cpus):.1f} ms, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    statements.clear()
    walls = []
    profile = cProfile.Profile()
    for turn in range(10 + arguments.saves, 10 + 2 * arguments.saves):
        began = time.perf_counter()
        profile.enable()
        services.sessions.log(actor, patient_id, data(turn))
        profile.disable()
        walls.append((time.perf_counter() - began) * 1000)
    counting = False
    total = sum(statements.values())
    print(f"{arguments.saves} saves, profiled; median wall {statistics.median(walls):.1f} ms")
    print(f"statements per save: {total / arguments.saves:.1f}")
    for kind, number in statements.most_common():
        print(f"  {number / arguments.saves:5.1f}  {kind}")
    listing = io.StringIO()
    stats = pstats.Stats(profile, stream=listing)
    stats.sort_stats("tottime").print_stats(arguments.show)
    print(listing.getvalue())
    database.engine.dispose()


if __name__ == "__main__":
    main()
