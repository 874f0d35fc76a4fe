"""MRNs are unique after case and punctuation folding by a constraint of the database, not
only by a check: two workstations registering "CASE-0045" and "case-0045." at the same
moment end with one patient and one sentence; an older database that already holds such a
pair is migrated, and the pair reported in one sentence naming both MRNs."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.migrate import downgrade, upgrade
from backclinic.db.models import PatientRow
from backclinic.services.audit import AuditService
from backclinic.services.bundle import Services, build_services
from backclinic.services.clock import utc_now
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.patients import PatientInput, PatientService
from tests.actors import COMMAND_LINE
from tests.records import stored_records

MEETING_SECONDS = 3


@pytest.fixture
def second_services(database_url: str, database: OpenDatabase) -> Iterator[Services]:
    other = open_database(database_url)
    yield build_services(other.session_factory)
    other.engine.dispose()


def grace(mrn: str, family: str = "Okafor") -> PatientInput:
    return PatientInput(family, "Grace", dt.date(1980, 1, 1), mrn=mrn)


def patients_stored(services: Services) -> list[str]:
    with stored_records(services) as session:
        return sorted(session.scalars(select(PatientRow.mrn)))


def test_lookalike_mrns_registered_at_the_same_moment_end_in_one_sentence(
    services: Services,
    second_services: Services,
    actor: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Both workstations have checked that no lookalike is on record before either stores.
    barrier = threading.Barrier(2)
    original = PatientService._refuse_lookalike_mrn

    def checked_then_meet(self: PatientService, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=MEETING_SECONDS)

    monkeypatch.setattr(PatientService, "_refuse_lookalike_mrn", checked_then_meet)
    outcomes: dict[str, object] = {}

    def register(mrn: str, where: Services) -> None:
        try:
            outcomes[mrn] = where.patients.register(actor, grace(mrn))
        except Exception as error:  # the outcome under test, whatever it is
            outcomes[mrn] = error

    threads = [
        threading.Thread(target=register, args=("CASE-0045", services)),
        threading.Thread(target=register, args=("case-0045.", second_services)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    stored = patients_stored(services)
    assert len(stored) == 1
    (winner,) = stored
    loser = "case-0045." if winner == "CASE-0045" else "CASE-0045"
    refusal = outcomes[loser]
    assert isinstance(refusal, ValidationFailed), refusal
    assert refusal.by_field == {
        "mrn": f"MRN {loser} differs from {winner}, which belongs to another patient, only "
        "in case or punctuation."
    }
    assert AuditService(services.context).verify(COMMAND_LINE).ok


def test_changing_an_mrn_into_a_lookalike_is_refused_in_one_sentence(
    services: Services, actor: Actor
) -> None:
    services.patients.register(actor, grace("CASE-0045"))
    other = services.patients.register(actor, grace("CASE-0046", "Berg"))

    with pytest.raises(ValidationFailed) as refused:
        services.patients.update(
            actor,
            other.id,
            PatientInput(**{**other.as_input().__dict__, "mrn": "Case/0045"}),
            other.version,
        )

    assert refused.value.by_field == {
        "mrn": "MRN Case/0045 differs from CASE-0045, which belongs to another patient, only "
        "in case or punctuation."
    }
    assert patients_stored(services) == ["CASE-0045", "CASE-0046"]


def test_the_database_itself_refuses_a_second_lookalike(
    services: Services, actor: Actor, database: OpenDatabase
) -> None:
    services.patients.register(actor, grace("CASE-0045"))
    now = utc_now()
    row = {
        "mrn": "case-0045.",
        "mrn_key": "case0045",
        "family_name": "Okafor",
        "given_name": "Grace",
        "family_key": "okafor",
        "given_key": "grace",
        "date_of_birth": dt.date(1980, 1, 1),
        "occupation": "",
        "phone": "",
        "email": "",
        "address": "",
        "archived": False,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(insert(PatientRow.__table__), row)


def test_an_old_database_holding_a_lookalike_pair_is_migrated_and_the_pair_reported(
    services: Services,
    actor: Actor,
    database: OpenDatabase,
    capfd: pytest.CaptureFixture[str],
) -> None:
    downgrade(database.engine, "0009_correctable_assessments")
    now = utc_now()
    with database.engine.begin() as connection:
        for mrn in ("CASE-0045", "case-0045.", "BC-000007"):
            connection.execute(
                text(
                    "INSERT INTO patient (mrn, family_name, given_name, family_key, given_key, "
                    "date_of_birth, occupation, phone, email, address, archived, version, "
                    "created_at, updated_at) VALUES (:mrn, 'Okafor', 'Grace', 'okafor', "
                    "'grace', :born, '', '', '', '', false, 1, :now, :now)"
                ),
                {"mrn": mrn, "born": dt.date(1980, 1, 1), "now": now},
            )
    capfd.readouterr()

    upgrade(database.engine)

    reported = capfd.readouterr().err.strip().splitlines()
    assert reported == [
        "MRNs CASE-0045 and case-0045. belong to two patients but differ only in case or "
        "punctuation; both were kept, a new MRN like them is refused, and one of the two "
        "should be merged or given another MRN."
    ]
    migrated = build_services(database.session_factory)
    assert AuditService(migrated.context).verify(COMMAND_LINE).ok
    entries = AuditService(migrated.context).query(COMMAND_LINE, action="lookalike_mrn")
    assert [entry.details["problem"] for entry in entries] == reported
    assert [entry.action_label for entry in entries] == ["Lookalike MRNs found at upgrade"]
    with pytest.raises(ValidationFailed, match="differs from CASE-0045, which belongs"):
        migrated.patients.register(actor, grace("Case/0045"))
    # Both patients of the pair stay editable; a new patient gets the next number.
    with stored_records(migrated) as session:
        second_id = session.scalar(select(PatientRow.id).where(PatientRow.mrn == "case-0045."))
        assert session.scalar(select(func.count()).select_from(PatientRow)) == 3
    assert second_id is not None
    second = migrated.patients.get(actor, second_id)
    changed = migrated.patients.update(
        actor,
        second_id,
        PatientInput(**{**second.as_input().__dict__, "phone": "555-0101"}),
        second.version,
    )
    assert changed.phone == "555-0101"
    assert migrated.patients.register(actor, grace("", "Berg")).mrn == "BC-000008"


def test_two_registrations_at_the_same_moment_without_an_mrn_both_get_one(
    services: Services,
    second_services: Services,
    actor: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Both workstations have worked out the next number before either stores it.
    barrier = threading.Barrier(2)
    original = PatientService._next_mrn

    def numbered_then_meet(self: PatientService, *args: Any, **kwargs: Any) -> str:
        number = original(self, *args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=MEETING_SECONDS)
        return number

    monkeypatch.setattr(PatientService, "_next_mrn", numbered_then_meet)
    outcomes: list[object] = [None, None]

    def register(index: int, where: Services) -> None:
        try:
            outcomes[index] = where.patients.register(actor, grace("", f"Family{index}"))
        except Exception as error:  # the outcome under test, whatever it is
            outcomes[index] = error

    threads = [
        threading.Thread(target=register, args=(0, services)),
        threading.Thread(target=register, args=(1, second_services)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert patients_stored(services) == ["BC-000001", "BC-000002"]
