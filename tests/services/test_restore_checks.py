"""Restore checks what a backup brings in before it replaces anything (issue 12, item 4).

Each attack is refused in one sentence and the live data stays as it was: schema objects
dropped or planted, audit entries deleted, a byte flipped, the manifest taken away.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from backclinic.db.database import OpenDatabase
from backclinic.db.migrate import downgrade
from backclinic.db.models import Base
from backclinic.services.backups import BackupError, BackupService, manifest_path
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.patients import PatientInput
from tests.actors import COMMAND_LINE
from tests.services.test_audit import tampering

REPOSITORY = Path(__file__).resolve().parents[2]
ARTICLE_CASE = REPOSITORY / "tests" / "cases" / "article-office-worker.json"


@pytest.fixture
def system(services: Services) -> Actor:
    return services.clinic.system_actor()


@pytest.fixture
def backups(services: Services, database: OpenDatabase, tmp_path: Path) -> BackupService:
    return BackupService(services.context, database.engine, backup_dir=tmp_path / "daily")


@pytest.fixture
def filled(services: Services, system: Actor) -> Services:
    services.cases.import_file(system, ARTICLE_CASE)
    for family in ("Rivera", "Okafor", "Lindqvist"):
        services.patients.register(
            system,
            PatientInput(family_name=family, given_name="Test", date_of_birth=dt.date(1970, 1, 1)),
        )
    return services


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(select(table))]
            for table in Base.metadata.sorted_tables
        }


def refused(backups: BackupService, system: Actor, database: OpenDatabase, backup: Path) -> str:
    before = snapshot(database.engine)
    with pytest.raises(BackupError) as refusal:
        backups.restore(system, backup, confirm=True)
    assert snapshot(database.engine) == before
    message = str(refusal.value)
    assert message.count(". ") == 0 and message.endswith(".")
    return message


def sqlite_only(database: OpenDatabase) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL backups are dumps: their schema is rebuilt by our migrations")


def test_a_backup_whose_append_only_triggers_were_dropped_is_refused(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    sqlite_only(database)
    with database.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))
    backup = backups.backup(system, tmp_path / "backup.db").path

    message = refused(backups, system, database, backup)

    assert "missing" in message and "trigger audit_event_no_delete" in message


def test_a_backup_with_a_planted_trigger_and_table_is_refused(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    sqlite_only(database)
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE copied (family_name TEXT)"))
        connection.execute(
            text(
                "CREATE TRIGGER copy_every_patient AFTER INSERT ON patient "
                "BEGIN INSERT INTO copied VALUES (NEW.family_name); END"
            )
        )
    backup = backups.backup(system, tmp_path / "backup.db").path

    message = refused(backups, system, database, backup)

    assert "do not belong there" in message
    assert "table copied" in message and "trigger copy_every_patient" in message


def test_a_backup_with_a_rewritten_trigger_is_refused(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    sqlite_only(database)
    with database.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))
        connection.execute(
            text(
                "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
                "WHEN 0 BEGIN SELECT RAISE(ABORT, 'never'); END"
            )
        )
    backup = backups.backup(system, tmp_path / "backup.db").path

    message = refused(backups, system, database, backup)

    assert "definition was changed" in message and "audit_event_no_delete" in message


def test_a_backup_missing_audit_entries_is_refused(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    with tampering(database) as connection:
        connection.execute(
            text("DELETE FROM audit_event WHERE id IN (SELECT id FROM audit_event LIMIT 2)")
        )
        if connection.dialect.name == "sqlite":
            # Put the guard back, so that only the missing entries give it away.
            for event in ("UPDATE", "DELETE"):
                connection.execute(
                    text(
                        f"CREATE TRIGGER audit_event_no_{event.lower()} BEFORE {event} ON "
                        "audit_event BEGIN SELECT RAISE(ABORT, 'the audit trail is "
                        "append-only'); END"
                    )
                )
    backup = backups.backup(system, tmp_path / "backup.db").path

    message = refused(backups, system, database, backup)

    assert "audit trail is broken" in message


def test_a_backup_with_one_flipped_byte_is_refused_by_its_checksum(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    backup = backups.backup(system, tmp_path / "backup.db").path
    if database.engine.dialect.name == "sqlite":
        with sqlite3.connect(backup) as copy:
            copy.execute("UPDATE patient SET family_name = 'Riverb' WHERE family_name = 'Rivera'")
        copy.close()
    else:
        # In the compressed header line itself: the file then cannot even say its revision,
        # and is still refused by its checksum, not as unreadable.
        data = bytearray(backup.read_bytes())
        data[20] ^= 0x01
        backup.write_bytes(bytes(data))

    message = refused(backups, system, database, backup)

    assert "does not match the checksum recorded when it was written" in message


def test_a_backup_whose_audit_rows_were_deleted_afterwards_is_refused(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    sqlite_only(database)
    backup = backups.backup(system, tmp_path / "backup.db").path
    with sqlite3.connect(backup) as copy:
        copy.execute("DROP TRIGGER audit_event_no_delete")
        copy.execute("DELETE FROM audit_event WHERE id > 3")
        copy.execute(
            "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
        )
    copy.close()

    message = refused(backups, system, database, backup)

    assert "checksum" in message


def test_a_backup_without_its_manifest_is_refused(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    backup = backups.backup(system, tmp_path / "backup.db").path
    manifest_path(backup).unlink()

    message = refused(backups, system, database, backup)

    assert "has no manifest" in message


def test_an_old_backup_whose_unkeyed_chain_was_broken_is_refused(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    sqlite_only(database)
    backup = backups.backup(system, tmp_path / "backup.db").path
    manifest_path(backup).unlink()
    from backclinic.db.engine import create_database_engine

    # As schema 0003 would hold it: the old chain, then a middle entry taken out.
    engine = create_database_engine(f"sqlite:///{backup}")
    downgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))
        connection.execute(text("DELETE FROM audit_event WHERE id = 2"))
        connection.execute(
            text(
                "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
            )
        )
    engine.dispose()

    message = refused(backups, system, database, backup)

    assert "before it was re-keyed" in message


def test_a_sound_backup_still_restores_and_the_anchor_follows_it(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    backup = backups.backup(system, tmp_path / "backup.db").path
    filled.patients.register(
        system,
        PatientInput(family_name="After", given_name="Backup", date_of_birth=dt.date(1970, 1, 1)),
    )

    backups.restore(system, backup, confirm=True)

    verification = filled.audit.verify(COMMAND_LINE)
    assert verification.ok, verification.describe()
