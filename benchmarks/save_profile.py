"""One workstation's session save, taken apart: round trips, wall time, Python time.

Runs on a new or demo database (it fills a new one with a small demo clinic), saves
``--saves`` sessions for one patient with a plan, and prints per save: the round trips to
the database by what they sent (on PostgreSQL psycopg's own BEGIN, the pool's pings and the
audit chain's pipelines included), the median wall time and client CPU, and the functions
that take the most Python time. ``--as-the-window-saves`` names the day's visit and the
clinician, as the session form does:

    python -m benchmarks.save_profile postgresql+psycopg://USER@127.0.0.1/backclinic_load
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import datetime as dt
import io
import os
import pstats
import statistics
import time
from collections.abc import Iterator
from typing import Any

DEMO_ADMIN = "sarah.whitfield"


def planned_visit(services: Any, actor: Any, patient_id: int) -> int:
    """A visit planned today for the patient's plan, as the day list offers one (added
    straight into the table: the profile measures the save, not the booking)."""
    from sqlalchemy import insert, select

    from backclinic.db.models import PlanRow, ScheduledVisitRow

    with services.context._session_factory.begin() as session:
        plan_id = session.scalar(
            select(PlanRow.id).where(PlanRow.patient_id == patient_id, PlanRow.status == "active")
        )
        now = services.context.clock.now()
        stamp = {"created_at": now, "updated_at": now, "created_by": None, "updated_by": None}
        return int(
            session.execute(
                insert(ScheduledVisitRow)
                .values(
                    plan_id=plan_id,
                    phase_number=1,
                    visit_date=services.context.clock.today(),
                    modalities=["pt"],
                    status="planned",
                    version=1,
                    **stamp,
                )
                .returning(ScheduledVisitRow.id)
            ).scalar_one()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--show", type=int, default=25, help="functions to list")
    parser.add_argument("--as-the-window-saves", action="store_true")
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

    if database.engine.dialect.name == "postgresql":
        import psycopg

        @event.listens_for(database.engine, "begin")
        def begun(_conn: Any) -> None:
            if counting:  # psycopg sends it on its own, before the first statement
                statements["BEGIN (psycopg, on its own)"] += 1

        pipeline = psycopg.Connection.pipeline

        @contextlib.contextmanager
        def counted_pipeline(self: Any) -> Iterator[Any]:
            if counting:
                statements["pipeline (audit chain)"] += 1
            with pipeline(self) as opened:
                yield opened

        psycopg.Connection.pipeline = counted_pipeline  # type: ignore[assignment,method-assign]
        ping = database.engine.dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            if counting:
                statements["ping (pool)"] += 1
            return ping(dbapi_connection)

        database.engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]
    visit_id = None
    performed_by = None
    if arguments.as_the_window_saves:
        performed_by = actor.clinician_id

    def data(turn: int) -> SessionInput:
        return SessionInput(
            performed_at=now - dt.timedelta(seconds=turn),
            modalities=("pt",),
            pain_before=6,
            pain_after=4,
            interventions=(("core_stabilization", "3 x 10"),),
            tolerance="good",
            subjective=f"profile save {turn}",
            performed_by=performed_by,
            visit_id=visit_id,
        )

    for turn in range(10):  # warm caches and the pool
        services.sessions.log(actor, patient_id, data(turn))
    counting = True
    walls = []
    cpus = []
    for turn in range(10, 10 + arguments.saves):
        if arguments.as_the_window_saves:
            counting = False  # the booking is not part of the save
            visit_id = planned_visit(services, actor, patient_id)
            counting = True
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
        if arguments.as_the_window_saves:
            counting = False  # the booking is not part of the save
            visit_id = planned_visit(services, actor, patient_id)
            counting = True
        began = time.perf_counter()
        profile.enable()
        services.sessions.log(actor, patient_id, data(turn))
        profile.disable()
        walls.append((time.perf_counter() - began) * 1000)
    counting = False
    total = sum(statements.values())
    print(f"{arguments.saves} saves, profiled; median wall {statistics.median(walls):.1f} ms")
    print(f"round trips per save: {total / arguments.saves:.1f}")
    for kind, number in statements.most_common():
        print(f"  {number / arguments.saves:5.1f}  {kind}")
    listing = io.StringIO()
    stats = pstats.Stats(profile, stream=listing)
    stats.sort_stats("tottime").print_stats(arguments.show)
    print(listing.getvalue())
    database.engine.dispose()


if __name__ == "__main__":
    main()
