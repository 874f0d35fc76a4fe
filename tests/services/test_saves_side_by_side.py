"""Several workstations saving at once on one database: the audit chain's lock is held only
for the audit entry's insert and the commit, so one workstation's save never waits for the
rest of another's; and however the saves interleave the chain stays one unbroken line."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from backclinic.db.database import OpenDatabase, open_database
from backclinic.services.audit import AuditService
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor, ServiceContext
from backclinic.services.patients import PatientInput
from tests.actors import COMMAND_LINE

# How long the slow workstation stays inside its save: the other one must finish well
# before that.
SLOW_SAVE_SECONDS = 8
QUICK_SAVE_SECONDS = 4


@pytest.fixture
def second_services(database_url: str, database: OpenDatabase) -> Iterator[Services]:
    other = open_database(database_url)
    yield build_services(other.session_factory)
    other.engine.dispose()


def someone(family: str) -> PatientInput:
    # Typed MRNs: two blank ones at the same moment would both be offered the next number.
    return PatientInput(family, "Ana", dt.date(1980, 3, 14), mrn=f"LOAD-{family.upper()}")


def test_a_slow_save_does_not_hold_up_another_workstations_save(
    services: Services,
    second_services: Services,
    actor: Actor,
    database: OpenDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("one SQLite file has one writer at a time by design")
    slow_thread_inside = threading.Event()
    let_it_finish = threading.Event()
    original = ServiceContext.audit

    def audit_then_dawdle(self: ServiceContext, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if threading.current_thread().name == "slow":
            # The rest of this save's work (reading back what it stored, and so on).
            slow_thread_inside.set()
            let_it_finish.wait(timeout=SLOW_SAVE_SECONDS)

    monkeypatch.setattr(ServiceContext, "audit", audit_then_dawdle)
    outcomes: dict[str, object] = {}

    def save(name: str, where: Services) -> None:
        try:
            outcomes[name] = where.patients.register(actor, someone(name.title()))
        except Exception as error:  # the outcome under test, whatever it is
            outcomes[name] = error

    slow = threading.Thread(target=save, args=("slow", services), name="slow")
    slow.start()
    assert slow_thread_inside.wait(timeout=SLOW_SAVE_SECONDS)
    quick = threading.Thread(target=save, args=("quick", second_services), name="quick")
    quick.start()
    quick.join(timeout=QUICK_SAVE_SECONDS)
    finished_while_the_other_was_busy = not quick.is_alive()
    let_it_finish.set()
    slow.join(timeout=30)
    quick.join(timeout=30)

    assert finished_while_the_other_was_busy
    assert not isinstance(outcomes["quick"], Exception), outcomes["quick"]
    assert not isinstance(outcomes["slow"], Exception), outcomes["slow"]
    assert AuditService(services.context).verify(COMMAND_LINE).ok


def test_saves_from_several_workstations_at_once_keep_one_unbroken_chain(
    services: Services, database_url: str, actor: Actor
) -> None:
    workstations = [open_database(database_url) for _ in range(4)]
    start = threading.Barrier(len(workstations))
    failures: list[BaseException] = []

    def work(number: int, where: OpenDatabase) -> None:
        there = build_services(where.session_factory)
        start.wait(timeout=30)
        try:
            for turn in range(8):
                there.patients.register(actor, someone(f"Worker{number}x{turn}"))
        except Exception as error:  # reported below
            failures.append(error)

    threads = [
        threading.Thread(target=work, args=(number, where))
        for number, where in enumerate(workstations)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for where in workstations:
        where.engine.dispose()

    assert failures == []
    verdict = AuditService(services.context).verify(COMMAND_LINE)
    assert verdict.ok, verdict.reason
    assert len(services.patients.search(actor, "Worker", limit=100).rows) == 32
