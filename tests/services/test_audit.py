from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import JSON, Connection, bindparam, text
from sqlalchemy.exc import DBAPIError

from backclinic.db.database import OpenDatabase
from backclinic.services.audit import NOT_SIGNED_IN, AuditService
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.context import Actor, entry_hash
from backclinic.services.errors import AuthenticationFailed, PermissionDenied
from backclinic.services.patients import PatientInput
from tests.actors import COMMAND_LINE
from tests.conftest import PASSWORD


class SteppingClock:
    """A clock the test moves by hand, so entries land at known times."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


# Well before the real clock, which stamps the fixture clinic's set-up.
START = dt.datetime(2021, 3, 1, 9, 0, tzinfo=dt.UTC)


def _patient(family: str, mrn: str) -> PatientInput:
    return PatientInput(
        family_name=family, given_name="Ana", date_of_birth=dt.date(1980, 3, 14), mrn=mrn
    )


def _add_admin(services: Services) -> Actor:
    admin = services.accounts.create(
        services.clinic.system_actor(),
        NewClinician(full_name="Sarah Admin", username="sarah", role="admin", password=PASSWORD),
    )
    return admin.as_actor()


def _ids(database: OpenDatabase) -> list[int]:
    with database.engine.connect() as connection:
        return list(connection.execute(text("SELECT id FROM audit_event ORDER BY id")).scalars())


@pytest.fixture
def trail(services: Services, actor: Actor) -> AuditService:
    """A trail of a dozen entries: set-up, registrations, sign-ins and a failed one."""
    for n in range(4):
        services.patients.register(actor, _patient(f"Family{n}", f"A-{n}"))
    services.clinic.sign_in("mei", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        services.clinic.sign_in("mei", "wrong password")
    return AuditService(services.context)


def test_an_empty_trail_verifies_with_nothing_checked(services: Services) -> None:
    result = AuditService(services.context).verify(COMMAND_LINE)
    assert (result.ok, result.checked, result.first_broken_id) == (True, 0, None)
    assert result.describe() == "Audit trail intact: 0 entries."


def test_an_untouched_trail_verifies_every_entry(
    trail: AuditService, database: OpenDatabase
) -> None:
    result = trail.verify(COMMAND_LINE)
    assert result.ok
    assert result.checked == len(_ids(database)) >= 7
    assert result.describe() == f"Audit trail intact: {result.checked} entries."


@contextmanager
def tampering(database: OpenDatabase) -> Iterator[Connection]:
    """Someone with the database's own rights: first they remove the append-only guard."""
    with database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))
        else:
            connection.execute(
                text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
            )
        yield connection


def test_the_database_itself_refuses_to_change_or_delete_an_audit_entry(
    trail: AuditService, database: OpenDatabase
) -> None:
    target = _ids(database)[0]
    for statement in (
        "UPDATE audit_event SET action = 'forged' WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as c:
            c.execute(text(statement), {"id": target})
    assert target in _ids(database)


def test_changed_details_break_the_chain_at_the_changed_entry(
    trail: AuditService, database: OpenDatabase
) -> None:
    target = _ids(database)[3]
    with tampering(database) as connection:
        connection.execute(
            text("UPDATE audit_event SET details = :details WHERE id = :id").bindparams(
                bindparam("details", type_=JSON)
            ),
            {"details": {"mrn": "forged"}, "id": target},
        )
    result = trail.verify(COMMAND_LINE)
    assert not result.ok
    assert result.first_broken_id == target
    assert "do not match its hash" in result.reason
    assert result.describe().startswith(f"Audit trail broken at entry {target}: ")


def test_a_deleted_middle_entry_breaks_the_chain_at_the_entry_after_it(
    trail: AuditService, database: OpenDatabase
) -> None:
    ids = _ids(database)
    with tampering(database) as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[4]})
    result = trail.verify(COMMAND_LINE)
    assert (result.ok, result.first_broken_id) == (False, ids[5])
    assert f"does not follow entry {ids[3]}" in result.reason


def test_deleting_the_first_entry_is_found_too(trail: AuditService, database: OpenDatabase) -> None:
    ids = _ids(database)
    with tampering(database) as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[0]})
    result = trail.verify(COMMAND_LINE)
    assert result.first_broken_id == ids[1]
    assert "entries before it were removed" in result.reason


def test_a_rewritten_entry_with_a_fresh_hash_breaks_the_link_of_the_next_one(
    trail: AuditService, database: OpenDatabase
) -> None:
    ids = _ids(database)
    with tampering(database) as connection:
        row = connection.execute(
            text(
                "SELECT occurred_at, clinician_id, action, entity, entity_id, patient_id, "
                "details, previous_hash FROM audit_event WHERE id = :id"
            ),
            {"id": ids[2]},
        ).one()
        forged = entry_hash(
            row.previous_hash,
            occurred_at=START,
            clinician_id=row.clinician_id,
            action="archive",
            entity=row.entity,
            entity_id=row.entity_id,
            patient_id=row.patient_id,
            details={},
        )
        connection.execute(
            text(
                "UPDATE audit_event SET occurred_at = :at, action = 'archive', details = :d, "
                "entry_hash = :h WHERE id = :id"
            ).bindparams(bindparam("d", type_=JSON)),
            {"at": START, "d": {}, "h": forged, "id": ids[2]},
        )
    result = trail.verify(COMMAND_LINE)
    assert result.first_broken_id == ids[3]


def test_verification_streams_the_trail_in_batches_and_still_finds_the_break(
    trail: AuditService, services: Services, database: OpenDatabase
) -> None:
    ids = _ids(database)
    small_batches = AuditService(services.context, batch_size=2)
    assert small_batches.verify(COMMAND_LINE).checked == len(ids)
    with tampering(database) as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[-2]})
    assert small_batches.verify(COMMAND_LINE).first_broken_id == ids[-1]


def test_only_admins_may_read_the_audit_trail(trail: AuditService, actor: Actor) -> None:
    with pytest.raises(PermissionDenied, match="cannot view the audit trail"):
        trail.query(actor)


def test_query_names_who_did_what_to_which_patient_newest_first(
    trail: AuditService, services: Services, clinician: Clinician
) -> None:
    admin = _add_admin(services)
    records = trail.query(admin)
    assert [r.id for r in records] == sorted((r.id for r in records), reverse=True)
    created = [r for r in records if r.action == "create" and r.entity == "patient"]
    assert [r.patient_label for r in created] == [
        f"Family{n}, Ana (A-{n})" for n in reversed(range(4))
    ]
    assert {r.who for r in created} == {clinician.full_name}
    failed = next(r for r in records if r.action == "sign_in_failed")
    assert failed.who == NOT_SIGNED_IN
    assert failed.action_label == "Failed sign-in"
    account = next(r for r in records if r.entity == "clinician" and r.action == "create")
    assert account.who.startswith("command line (")


def test_query_filters_by_patient_clinician_action_and_time(
    database: OpenDatabase, clinician: Clinician
) -> None:
    clock = SteppingClock(START)
    services = build_services(database.session_factory, clock=clock)
    admin = _add_admin(services)
    actor = clinician.as_actor()
    first = services.patients.register(actor, _patient("Rivera", "A-1"))
    clock.now = START + dt.timedelta(days=1)
    second = services.patients.register(admin, _patient("Okafor", "A-2"))
    clock.now = START + dt.timedelta(days=2)
    services.patients.archive(actor, first.id, first.version)
    audit = AuditService(services.context)

    assert [r.action for r in audit.query(admin, patient_id=first.id)] == ["archive", "create"]
    assert [r.patient_id for r in audit.query(admin, clinician_id=admin.clinician_id)] == [
        second.id
    ]
    assert [r.patient_id for r in audit.query(admin, action="archive")] == [first.id]
    day_two = audit.query(
        admin, start=START + dt.timedelta(days=1), end=START + dt.timedelta(days=2)
    )
    assert [r.patient_id for r in day_two] == [second.id]


def test_query_pages_by_id_without_repeating_or_skipping(
    trail: AuditService, services: Services
) -> None:
    admin = _add_admin(services)
    everything = [r.id for r in trail.query(admin)]
    pages: list[int] = []
    before: int | None = None
    while page := trail.query(admin, limit=3, before_id=before):
        pages += [r.id for r in page]
        before = page[-1].id
    assert pages == everything
