"""Several workstations under load: client processes against one PostgreSQL server.

Each client is a process of its own, as a workstation is: it opens the database, signs in
with its own account, then for ``--duration`` seconds searches the registry and logs
sessions for its patient, and now and then edits the details of one patient every client
shares (which is where optimistic locking has to say "changed by … while you were
editing"). Afterwards every session a client was told was saved is looked up again.

Prints throughput, the p95 time of a session save (goal <= 50 ms), conflicts reported and
records lost (goal 0). Runs on a loopback server only, and only on a database that is new
or a demo one (it fills a new one with the demo clinic):

    su postgres -c "createdb -O USER backclinic_load"
    python -m benchmarks.load_pg postgresql+psycopg://USER@127.0.0.1/backclinic_load
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import multiprocessing
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

GOAL_P95_MS = 50.0
DEMO_ADMIN = "sarah.whitfield"
CLIENT_PASSWORD = "load-benchmark-password"
SEARCHES = ("ri", "ok", "ana", "lin", "ng", "mar", "BC-0001", "19")
# Every this many iterations a client edits the shared patient's phone number.
EDIT_EVERY = 5
LOOPBACK_NAMES = ("localhost", "")


@dataclass
class ClientReport:
    client: int
    saves_ms: list[float] = field(default_factory=list)
    searches_ms: list[float] = field(default_factory=list)
    saved_ids: list[int] = field(default_factory=list)
    save_cpu_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    edits: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)


def _is_loopback(host: str | None) -> bool:
    if host is None or host in LOOPBACK_NAMES or host.startswith("/"):
        return True  # no host: the local Unix socket
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _prepare(url: str, clients: int, patients: int) -> tuple[list[int], int]:
    """The demo registry, one account and one patient with a plan per client, and the
    patient they all edit; returns (patient ids by client, shared patient id)."""
    from sqlalchemy import func, select

    from backclinic.db.database import open_database
    from backclinic.db.models import PatientRow
    from backclinic.services.bundle import build_services
    from backclinic.services.clinic import NewClinician
    from backclinic.services.demo import DEMO_CLINIC_NAME, DEMO_PASSWORD
    from benchmarks.sessions import patient_with_plan

    database = open_database(url)
    services = build_services(database.session_factory)
    if services.clinic.is_set_up() and services.clinic.settings().clinic_name != DEMO_CLINIC_NAME:
        sys.exit(f"{url}: this database holds a clinic of its own; give a new database.")
    if not services.clinic.is_set_up():
        services.demo.fill(services.clinic.system_actor(), patients=patients, seed=3)
    admin = services.clinic.sign_in(DEMO_ADMIN, DEMO_PASSWORD).as_actor()
    existing = {account.username for account in services.accounts.accounts(admin)}
    for client in range(clients):
        username = f"client{client:02d}"
        if username not in existing:
            services.accounts.create(
                admin,
                NewClinician(
                    f"Client {client:02d}", username, "physical_therapist", CLIENT_PASSWORD
                ),
            )
    own = [patient_with_plan(services, admin, weeks_ago=4) for _ in range(clients)]
    shared = patient_with_plan(services, admin, weeks_ago=4)
    with database.session_factory() as session:
        registry = session.scalar(select(func.count()).select_from(PatientRow))
    print(f"database ready: {registry:,} patients, {clients} client accounts")
    database.engine.dispose()
    return own, shared


def _client(
    url: str,
    client: int,
    patient_id: int,
    shared_id: int,
    duration: float,
    think: float,
    start: Any,
    results: Any,
) -> None:
    from backclinic.db.database import open_database
    from backclinic.services.bundle import build_services
    from backclinic.services.errors import ConflictError, ServiceError
    from backclinic.services.sessions import SessionInput

    report = ClientReport(client)
    database = open_database(url)
    services = build_services(database.session_factory)
    actor = services.clinic.sign_in(f"client{client:02d}", CLIENT_PASSWORD).as_actor()
    start.wait()
    cpu_at_start = time.process_time()
    deadline = time.monotonic() + duration
    now = services.context.clock.now()
    iteration = 0
    # Bounded as well as timed: a client that never blocks still stops.
    while time.monotonic() < deadline and iteration < 1_000_000:
        iteration += 1
        began = time.perf_counter()
        services.patients.search(actor, SEARCHES[iteration % len(SEARCHES)], limit=50)
        report.searches_ms.append((time.perf_counter() - began) * 1000)
        data = SessionInput(
            performed_at=now - dt.timedelta(seconds=iteration),
            modalities=("pt",),
            pain_before=6,
            pain_after=4,
            interventions=(("core_stabilization", "3 x 10"),),
            tolerance="good",
            subjective=f"load client {client} iteration {iteration}",
        )
        began, cpu = time.perf_counter(), time.process_time()
        try:
            saved = services.sessions.log(actor, patient_id, data)
        except ServiceError as refused:
            report.errors.append(str(refused))
            continue
        report.saves_ms.append((time.perf_counter() - began) * 1000)
        report.save_cpu_ms.append((time.process_time() - cpu) * 1000)
        report.saved_ids.append(saved.id)
        if iteration % EDIT_EVERY == 0:
            shared = services.patients.get(actor, shared_id)
            edited = replace(shared.as_input(), phone=f"555-{client:02d}{iteration:04d}")
            try:
                services.patients.update(actor, shared_id, edited, shared.version)
                report.edits += 1
            except ConflictError:
                report.conflicts += 1
            except ServiceError as refused:
                report.errors.append(str(refused))
        if think:
            # A clinician between two sessions: the workstation is idle meanwhile.
            time.sleep(think)
    report.cpu_seconds = time.process_time() - cpu_at_start
    database.engine.dispose()
    results.put(report)


# What each client's server session is doing, sampled during the run: where the time goes.
_ACTIVITY = """
SELECT CASE
    WHEN state = 'active' AND wait_event = 'advisory' THEN 'waiting for the audit chain lock'
    WHEN state = 'active' AND wait_event_type = 'Lock' THEN 'waiting for a row or table lock'
    WHEN state = 'active' AND wait_event_type IN ('IO', 'LWLock') THEN 'writing or flushing WAL'
    WHEN state = 'active' THEN 'running a statement'
    WHEN state = 'idle in transaction' THEN 'in a transaction, client working'
    ELSE 'between transactions, client working'
END, count(*)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
GROUP BY 1
"""


_BACKENDS = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


def _cpu_seconds(pid: int) -> float | None:
    """A local process's user + system CPU so far (Linux /proc), or None if unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        fields = stat.rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sample_activity(
    url: str, stop: Any, tally: dict[str, int], server_cpu: dict[int, float]
) -> None:
    """Until ``stop`` is set, every 0.1 s, count the client sessions by what they do, and
    note each server process's CPU (readable when the server runs on this computer)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        while not stop.wait(0.1):
            for what, number in connection.execute(text(_ACTIVITY)):
                tally[what] = tally.get(what, 0) + number
            for (pid,) in connection.execute(text(_BACKENDS)):
                used = _cpu_seconds(pid)
                if used is not None:
                    server_cpu[pid] = used
            connection.rollback()
    engine.dispose()


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[round(fraction * (len(ordered) - 1))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "url",
        nargs="?",
        default=os.environ.get("BACKCLINIC_DATABASE_URL"),
        help="postgresql+psycopg URL of a new database on this computer "
        "(default: $BACKCLINIC_DATABASE_URL)",
    )
    parser.add_argument("--clients", type=int, default=20, choices=range(1, 101), metavar="N")
    parser.add_argument("--duration", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="pause after each search and save, as a person would (default 0: flat out)",
    )
    parser.add_argument("--patients", type=int, default=2_000, metavar="N")
    arguments = parser.parse_args()
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    if not arguments.url:
        parser.error("give the database URL (or set BACKCLINIC_DATABASE_URL)")
    parsed = make_url(arguments.url)
    if parsed.get_backend_name() != "postgresql":
        parser.error("the load benchmark runs against PostgreSQL")
    if not _is_loopback(parsed.host):
        parser.error(f"{parsed.host} is not this computer; the benchmark runs on loopback only")
    if not 1 <= arguments.duration <= 3600:
        parser.error("--duration must be between 1 and 3600 seconds")

    own, shared = _prepare(arguments.url, arguments.clients, arguments.patients)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(arguments.clients + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=_client,
            args=(
                arguments.url,
                n,
                own[n],
                shared,
                arguments.duration,
                arguments.think,
                start,
                results,
            ),
        )
        for n in range(arguments.clients)
    ]
    for process in processes:
        process.start()
    load_before = os.getloadavg()
    start.wait()
    began = time.monotonic()
    stop = threading.Event()
    tally: dict[str, int] = {}
    server_cpu: dict[int, float] = {}
    sampler = threading.Thread(
        target=_sample_activity, args=(arguments.url, stop, tally, server_cpu)
    )
    sampler.start()
    reports = [results.get(timeout=arguments.duration + 600) for _ in processes]
    elapsed = time.monotonic() - began
    stop.set()
    sampler.join(timeout=30)
    load_after = os.getloadavg()
    for process in processes:
        process.join(timeout=60)

    from backclinic.db.database import open_database
    from backclinic.db.models import TreatmentSessionRow

    claimed = [saved for report in reports for saved in report.saved_ids]
    database = open_database(arguments.url)
    with database.session_factory() as session:
        found = 0
        for offset in range(0, len(claimed), 5_000):
            chunk = claimed[offset : offset + 5_000]
            found += (
                session.scalar(
                    select(func.count())
                    .select_from(TreatmentSessionRow)
                    .where(TreatmentSessionRow.id.in_(chunk))
                )
                or 0
            )
    database.engine.dispose()

    saves = [ms for report in reports for ms in report.saves_ms]
    searches = [ms for report in reports for ms in report.searches_ms]
    conflicts = sum(report.conflicts for report in reports)
    edits = sum(report.edits for report in reports)
    errors = [error for report in reports for error in report.errors]
    lost = len(claimed) - found
    p95 = _percentile(saves, 0.95)
    shown = parsed.render_as_string(hide_password=True)
    print(
        f"{arguments.clients} clients for {elapsed:.0f} s on {shown}"
        + (f", pausing {arguments.think:g} s after each save" if arguments.think else "")
    )
    print(
        f"throughput: {len(saves) / elapsed:.1f} session saves/s, "
        f"{len(searches) / elapsed:.1f} searches/s, {edits / elapsed:.1f} shared edits/s"
    )
    print(
        f"session save: p50 {statistics.median(saves):.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(saves):.1f} ms; search p95 {_percentile(searches, 0.95):.1f} ms"
    )
    print(f"conflicts reported: {conflicts} (of {conflicts + edits} edits of the shared patient)")
    print(f"other refusals: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(f"records lost: {lost} of {len(claimed)} saved")
    print(
        f"load average: {load_before[0]:.1f} before, {load_after[0]:.1f} at the end "
        f"(1 minute), on {os.cpu_count()} cores"
    )
    client_cpu = sum(report.cpu_seconds for report in reports)
    save_cpu = [ms for report in reports for ms in report.save_cpu_ms]
    print(
        f"client CPU: {client_cpu:.0f} s in {elapsed:.0f} s ({client_cpu / elapsed:.2f} cores); "
        f"a save's own client CPU: median {statistics.median(save_cpu):.1f} ms"
    )
    if server_cpu:
        # The server processes were started when the clients connected, before the run.
        print(
            f"server CPU (the clients' PostgreSQL processes, sign-in included): "
            f"{sum(server_cpu.values()):.0f} s"
        )
    sampled = sum(tally.values()) or 1
    print("what the clients' server sessions were doing (share of samples):")
    for what, number in sorted(tally.items(), key=lambda item: -item[1]):
        print(f"  {100 * number / sampled:5.1f}%  {what}")
    verdict = "met" if p95 <= GOAL_P95_MS and lost == 0 else "MISSED"
    print(f"goal p95 <= {GOAL_P95_MS:.0f} ms and 0 lost: {verdict}")


if __name__ == "__main__":
    main()
