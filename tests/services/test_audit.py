from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import JSON, Connection, bindparam, text
from sqlalchemy.exc import DBAPIError

from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.engine import DatabaseUnavailable
from backclinic.services.audit import NOT_SIGNED_IN, AuditService
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.context import Actor
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
    assert result.describe().startswith("Audit trail intact: 0 entries, head ")


def test_an_untouched_trail_verifies_every_entry(
    trail: AuditService, database: OpenDatabase
) -> None:
    result = trail.verify(COMMAND_LINE)
    assert result.ok
    assert result.checked == len(_ids(database)) >= 7
    assert result.describe() == (
        f"Audit trail intact: {result.checked} entries, head {result.last_hash[:16]} "
        f"(matches the anchor of {result.checked} entries kept on this computer)."
    )


@contextmanager
def tampering(database: OpenDatabase) -> Iterator[Connection]:
    """Someone with the database's own rights: first they remove the append-only guard."""
    with database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))
        else:
            # The owner gave up these rights in migration 0005, but may take them back.
            connection.execute(text("GRANT UPDATE, DELETE ON audit_event TO CURRENT_USER"))
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
        # PostgreSQL: the role gave up the right (0005); behind that, the trigger (0003).
        refused = "append-only|permission denied"
        with pytest.raises(DBAPIError, match=refused), database.engine.begin() as c:
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
    assert "do not match its keyed MAC" in result.reason
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


def test_a_rewritten_entry_with_a_fresh_unkeyed_hash_is_found_at_itself(
    trail: AuditService, database: OpenDatabase
) -> None:
    ids = _ids(database)
    with tampering(database) as connection:
        row = connection.execute(
            text("SELECT previous_hash FROM audit_event WHERE id = :id"), {"id": ids[2]}
        ).one()
        forged = attackers_hash(row.previous_hash, START, "archive", {})
        connection.execute(
            text(
                "UPDATE audit_event SET occurred_at = :at, action = 'archive', details = :d, "
                "entry_hash = :h WHERE id = :id"
            ).bindparams(bindparam("d", type_=JSON)),
            {"at": START, "d": {}, "h": forged, "id": ids[2]},
        )
    result = trail.verify(COMMAND_LINE)
    assert result.first_broken_id == ids[2]


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


def attackers_hash(previous: str, at: dt.datetime, action: str, details: dict[str, object]) -> str:
    """What anyone can compute without the key: the plain SHA-256 chain of schema 0003."""
    payload = {
        "previous": previous,
        "at": at.astimezone(dt.UTC).isoformat(),
        "clinician": None,
        "action": action,
        "entity": "patient",
        "entity_id": None,
        "patient": None,
        "details": details,
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("removed", [1, 5])
def test_deleting_the_newest_entries_is_found_by_the_anchor(
    trail: AuditService, database: OpenDatabase, removed: int
) -> None:
    ids = _ids(database)
    assert trail.verify(COMMAND_LINE).ok
    with tampering(database) as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": ids[-removed]})

    result = trail.verify(COMMAND_LINE)

    assert not result.ok
    assert f"the newest {removed} were removed" in result.describe()


def test_deleting_every_entry_is_found_by_the_anchor(
    trail: AuditService, database: OpenDatabase
) -> None:
    count = len(_ids(database))
    with tampering(database) as connection:
        connection.execute(text("DELETE FROM audit_event"))

    result = trail.verify(COMMAND_LINE)

    assert not result.ok
    assert result.describe() == (
        f"Audit trail broken: it has 0 entries but this computer anchored {count}, so the "
        f"newest {count} were removed."
    )


def test_re_hashing_the_whole_chain_without_the_key_is_found(
    trail: AuditService, database: OpenDatabase
) -> None:
    ids = _ids(database)
    with tampering(database) as connection:
        previous = "0" * 64
        for row_id in ids:
            forged = attackers_hash(previous, START, "change", {"row": row_id})
            connection.execute(
                text(
                    "UPDATE audit_event SET occurred_at = :at, action = 'change', details = :d, "
                    "clinician_id = NULL, entity = 'patient', entity_id = NULL, "
                    "patient_id = NULL, previous_hash = :p, entry_hash = :h WHERE id = :id"
                ).bindparams(bindparam("d", type_=JSON)),
                {"at": START, "d": {"row": row_id}, "p": previous, "h": forged, "id": row_id},
            )
            previous = forged

    result = trail.verify(COMMAND_LINE)

    assert (result.ok, result.first_broken_id) == (False, ids[0])


def test_a_forged_row_appended_at_the_end_is_found(
    trail: AuditService, database: OpenDatabase
) -> None:
    count = len(_ids(database))
    with database.engine.begin() as connection:
        last = connection.execute(
            text("SELECT entry_hash FROM audit_event ORDER BY id DESC LIMIT 1")
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO audit_event (occurred_at, action, entity, details, previous_hash, "
                "entry_hash, chain_position) VALUES (:at, 'export', 'patient', '{}', :p, :h, "
                ":n)"
            ),
            {
                "at": START,
                "p": last,
                "h": attackers_hash(last, START, "export", {}),
                "n": count + 1,
            },
        )

    result = trail.verify(COMMAND_LINE)

    assert not result.ok
    assert "keyed MAC" in result.reason


def test_truncate_is_refused_on_postgresql(trail: AuditService, database: OpenDatabase) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE trigger is tested above")
    with pytest.raises(DBAPIError), database.engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_event CASCADE"))
    assert trail.verify(COMMAND_LINE).ok
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as connection:
        # Even with the privilege taken back, the statement trigger still refuses.
        connection.execute(text("GRANT TRUNCATE ON audit_event TO CURRENT_USER"))
        connection.execute(text("TRUNCATE audit_event CASCADE"))
    assert trail.verify(COMMAND_LINE).ok


def test_the_key_is_an_owner_only_file_outside_the_database(
    trail: AuditService, audit_key_folder: Path, database: OpenDatabase
) -> None:
    key_file = audit_key_folder / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(audit_key_folder.stat().st_mode) == 0o700
    key_text = key_file.read_text().strip()
    with database.engine.connect() as connection:
        for table in ("audit_event", "audit_chain"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                assert key_text not in " ".join(str(value) for value in row)


def test_a_database_whose_key_is_missing_is_refused_not_given_a_new_key(
    trail: AuditService, database_url: str, audit_key_folder: Path, database: OpenDatabase
) -> None:
    (audit_key_folder / "audit.key").unlink()
    database.engine.dispose()

    with pytest.raises(DatabaseUnavailable) as refused:
        open_database(database_url)

    message = str(refused.value)
    assert "audit key" in message and "is not on this computer" in message
    assert message.count(". ") == 0
    assert not (audit_key_folder / "audit.key").exists()
