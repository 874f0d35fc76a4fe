"""Several workstations: two independent app instances (engines, sessions, services) on one
database. A save that lost a race is refused naming who won and when, with both versions,
and nothing is overwritten; two writers to one SQLite file queue instead of failing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backclinic.db.database import OpenDatabase, open_database
from backclinic.services.accounts import Account
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.context import Actor
from backclinic.services.errors import ConflictError, StaleRecord
from backclinic.services.patients import Patient, PatientInput
from backclinic.services.sessions import SessionInput
from tests.actors import COMMAND_LINE
from tests.conftest import PASSWORD

HOLD_SECONDS = 0.6


@pytest.fixture
def second_database(database: OpenDatabase, database_url: str) -> Iterator[OpenDatabase]:
    """Another workstation: its own engine, pool and session factory on the same database."""
    other = open_database(database_url)
    yield other
    other.engine.dispose()


@pytest.fixture
def second_services(second_database: OpenDatabase) -> Services:
    return build_services(second_database.session_factory)


@pytest.fixture
def colleague(services: Services, clinician: Clinician) -> Account:
    return services.accounts.create(
        Actor(clinician.id, clinician.full_name, "admin"),
        NewClinician("Tomas Berg", "tomas", "physical_therapist", PASSWORD),
    )


@pytest.fixture
def patient(services: Services, actor: Actor) -> Patient:
    return services.patients.register(
        actor,
        PatientInput(
            family_name="Rivera",
            given_name="Ana",
            date_of_birth=dt.date(1980, 3, 14),
            phone="555-0100",
        ),
    )


def test_the_second_save_of_a_patient_is_refused_naming_who_changed_it_and_when(
    services: Services,
    second_services: Services,
    actor: Actor,
    colleague: Account,
    patient: Patient,
) -> None:
    # Both workstations open the same record.
    on_first = services.patients.get(actor, patient.id)
    on_second = second_services.patients.get(actor, patient.id)
    theirs = dataclasses.replace(on_first.as_input(), phone="555-0199")
    yours = dataclasses.replace(on_second.as_input(), occupation="teacher")

    saving = dt.datetime.now(dt.UTC)
    saved = services.patients.update(actor, patient.id, theirs, on_first.version)
    saved_by = dt.datetime.now(dt.UTC)
    with pytest.raises(ConflictError) as lost:
        second_services.patients.update(colleague.as_actor(), patient.id, yours, on_second.version)

    change = lost.value.change
    assert change.changed_by == "Mei Lin"
    assert saving <= change.changed_at <= saved_by
    assert change.theirs["phone"] == "555-0199"
    assert change.theirs["occupation"] == ""
    assert change.yours["occupation"] == "teacher"
    assert change.yours["phone"] == "555-0100"
    assert "Mei Lin" in str(lost.value) and "nothing was saved" in str(lost.value)
    # Nothing was overwritten: both workstations read the first save.
    for reader in (services, second_services):
        stored = reader.patients.get(actor, patient.id)
        assert (stored.phone, stored.occupation, stored.version) == (
            "555-0199",
            "",
            saved.version,
        )


def test_after_a_lost_race_the_user_can_save_again_on_the_fresh_version(
    services: Services,
    second_services: Services,
    actor: Actor,
    colleague: Account,
    patient: Patient,
) -> None:
    stale = second_services.patients.get(actor, patient.id)
    services.patients.update(
        actor, patient.id, dataclasses.replace(patient.as_input(), phone="1"), patient.version
    )
    yours = dataclasses.replace(stale.as_input(), occupation="teacher")
    with pytest.raises(ConflictError):
        second_services.patients.update(colleague.as_actor(), patient.id, yours, stale.version)

    fresh = second_services.patients.get(actor, patient.id)
    merged = dataclasses.replace(fresh.as_input(), occupation="teacher")
    second_services.patients.update(colleague.as_actor(), patient.id, merged, fresh.version)

    stored = services.patients.get(actor, patient.id)
    assert (stored.phone, stored.occupation) == ("1", "teacher")


def test_archiving_on_a_stale_version_is_refused_too(
    services: Services,
    second_services: Services,
    actor: Actor,
    colleague: Account,
    patient: Patient,
) -> None:
    services.patients.update(
        actor, patient.id, dataclasses.replace(patient.as_input(), phone="2"), patient.version
    )
    with pytest.raises(ConflictError):
        second_services.patients.archive(colleague.as_actor(), patient.id, patient.version)
    assert not services.patients.get(actor, patient.id).archived


def test_amending_a_session_another_workstation_amended_is_refused(
    services: Services,
    second_services: Services,
    actor: Actor,
    colleague: Account,
    patient: Patient,
) -> None:
    logged = services.sessions.log(
        actor,
        patient.id,
        SessionInput(
            performed_at=dt.datetime(2026, 1, 6, 10, 0, tzinfo=dt.UTC),
            modalities=("pt",),
            pain_before=6,
            pain_after=4,
        ),
    )
    first = dataclasses.replace(logged.data, pain_after=3)
    second = dataclasses.replace(logged.data, pain_after=5)
    services.sessions.amend(actor, logged.id, first, reason="typo", expected_version=logged.version)
    # Refused, not overwritten, naming who amended it and when, with both versions.
    with pytest.raises(StaleRecord) as lost:
        second_services.sessions.amend(
            colleague.as_actor(), logged.id, second, reason="typo", expected_version=logged.version
        )
    assert f"changed by {actor.name}" in str(lost.value)
    assert lost.value.change.theirs["superseded"] is True
    assert lost.value.change.yours == {"reason": "typo"}
    assert lost.value.expected_version == logged.version
    assert lost.value.current_version is not None
    assert lost.value.current_version > logged.version
    current = [r for r in services.sessions.history(actor, patient.id) if not r.superseded]
    assert [r.data.pain_after for r in current] == [3]


@pytest.mark.parametrize("write", ["update", "archive", "restore"])
def test_every_stale_patient_write_is_a_stale_record_naming_both_versions(
    services: Services,
    second_services: Services,
    actor: Actor,
    colleague: Clinician,
    patient: Patient,
    write: str,
) -> None:
    saved = services.patients.update(
        actor, patient.id, dataclasses.replace(patient.as_input(), phone="3"), patient.version
    )
    yours = dataclasses.replace(patient.as_input(), occupation="teacher")
    as_colleague = colleague.as_actor()
    with pytest.raises(StaleRecord) as lost:
        if write == "update":
            second_services.patients.update(as_colleague, patient.id, yours, patient.version)
        else:
            getattr(second_services.patients, write)(as_colleague, patient.id, patient.version)

    assert (lost.value.expected_version, lost.value.current_version) == (
        patient.version,
        saved.version,
    )
    assert lost.value.change.theirs["phone"] == "3"
    assert "Rivera" in str(lost.value) and "nothing was saved" in str(lost.value)


def test_two_writers_on_one_sqlite_file_queue_instead_of_failing(
    tmp_path: Path, actor_on: ActorFactory
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = open_database(url)
    second = open_database(url)
    try:
        first_services = build_services(first.session_factory)
        second_services = build_services(second.session_factory)
        admin = actor_on(first_services)
        holding = threading.Event()
        finished: list[float] = []
        errors: list[BaseException] = []

        def hold_the_write_lock() -> None:
            # A bare transaction, outside any use case, so that it can be held open.
            with first.session_factory.begin() as session:
                first_services.patients._insert(
                    session,
                    admin,
                    PatientInput(
                        family_name="First", given_name="A", date_of_birth=dt.date(1990, 1, 1)
                    ),
                )
                holding.set()
                time.sleep(HOLD_SECONDS)

        holder = threading.Thread(target=hold_the_write_lock)
        holder.start()
        assert holding.wait(5)
        started = time.monotonic()
        try:
            second_services.patients.register(
                admin,
                PatientInput(
                    family_name="Second", given_name="B", date_of_birth=dt.date(1990, 1, 2)
                ),
            )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finished.append(time.monotonic() - started)
        holder.join()

        assert errors == []
        # The second writer waited for the first one's commit rather than failing.
        assert finished[0] >= HOLD_SECONDS / 2
        names = {p.family_name for p in first_services.patients.search(COMMAND_LINE, "").rows}
        assert names == {"First", "Second"}
    finally:
        first.engine.dispose()
        second.engine.dispose()


class ActorFactory:
    def __call__(self, services: Services) -> Actor:
        clinician = services.clinic.set_up(
            clinic_name="Shared File Clinic",
            first_clinician=NewClinician("Ada Ng", "ada", "admin", PASSWORD),
        )
        return clinician.as_actor()


@pytest.fixture
def actor_on() -> ActorFactory:
    return ActorFactory()
