"""Backup and restore: checked, owner-only copies; restore into either engine, all or nothing."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, func, select

from backclinic.db.audit_chain import LEGACY_GENESIS, legacy_entry_hash
from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.engine import create_database_engine, make_session_factory
from backclinic.db.migrate import HEAD_REVISION, downgrade, upgrade
from backclinic.db.models import AuditEventRow, Base, DocumentRow, PatientRow
from backclinic.db.transfer import write_dump
from backclinic.services.backups import (
    BackupError,
    BackupService,
    RestoreNeedsConfirmation,
    sqlite_problems,
)
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import NewClinician
from backclinic.services.clock import utc_now
from backclinic.services.context import Actor
from backclinic.services.errors import PermissionDenied
from backclinic.services.patients import PatientInput
from tests.records import stored_records

REPOSITORY = Path(__file__).resolve().parents[2]
ARTICLE_CASE = REPOSITORY / "tests" / "cases" / "article-office-worker.json"
PDF_BYTES = b"%PDF-1.4\x00\xff\xfe binary \x01"


@pytest.fixture
def system(services: Services) -> Actor:
    return services.clinic.system_actor()


@pytest.fixture
def backups(services: Services, database: OpenDatabase, tmp_path: Path) -> BackupService:
    return BackupService(services.context, database.engine, backup_dir=tmp_path / "daily")


@pytest.fixture
def filled(services: Services, actor: Actor, system: Actor) -> Services:
    """A clinic with a whole imported case (dates, times, JSON) and a stored PDF (bytes)."""
    result = services.cases.import_file(system, ARTICLE_CASE)
    patient = services.patients.by_mrn(actor, result.mrn)
    with stored_records(services) as session:
        session.add(
            DocumentRow(
                patient_id=patient.id,
                kind="plan_summary",
                title="Plan summary",
                created_at=utc_now(),
                created_by=actor.clinician_id,
                pages=1,
                sha256="0" * 64,
                pdf=PDF_BYTES,
            )
        )
    return services


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def register(services: Services, actor: Actor, family_name: str) -> int:
    patient = services.patients.register(
        actor,
        PatientInput(family_name=family_name, given_name="Test", date_of_birth=dt.date(1970, 1, 1)),
    )
    return patient.id


def audit_actions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(AuditEventRow.action).order_by(AuditEventRow.id)).scalars()
        )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_backup_is_owner_only_checked_and_audited(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    result = backups.backup(system, tmp_path / "out" / "clinic-backup")

    assert result.path.exists()
    assert mode(result.path) == 0o600
    assert not list((tmp_path / "out").glob("*.partial"))
    assert result.revision == HEAD_REVISION
    if database.engine.dialect.name == "sqlite":
        assert result.kind == "sqlite"
        assert sqlite_problems(result.path) == []
        with sqlite3.connect(result.path) as copy:
            assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            assert copy.execute("SELECT count(*) FROM patient").fetchone()[0] == 1
    else:
        assert result.kind == "dump"
    assert audit_actions(database.engine)[-1] == "backup"
    assert str(result.path) in result.describe()


def test_a_clinician_without_the_backup_permission_is_refused(
    backups: BackupService, actor: Actor, tmp_path: Path
) -> None:
    with pytest.raises(PermissionDenied, match="cannot back up or restore"):
        backups.backup(actor, tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


def test_restore_brings_back_every_row_and_audits_into_the_restored_data(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    result = backups.backup(system, tmp_path / "backup")
    before = snapshot(database.engine)
    register(filled, system, "Afterwards")

    restored = backups.restore(system, result.path, confirm=True)

    after = snapshot(database.engine)
    assert {name: rows for name, rows in after.items() if name != "audit_event"} == {
        name: rows for name, rows in before.items() if name != "audit_event"
    }
    # The backup's own audit entry is written after the copy, so the copy does not hold it.
    assert [row[3] for row in before["audit_event"]][-1] == "backup"
    assert after["audit_event"][:-1] == before["audit_event"][:-1]
    assert audit_actions(database.engine)[-1] == "restore"
    assert not restored.migrated
    with database.engine.connect() as connection:
        assert connection.execute(select(DocumentRow.pdf)).scalar_one() == PDF_BYTES
    # Keys carry on after the restored ones (PostgreSQL sequences are reset).
    assert register(filled, system, "Later") > max(row[0] for row in before["patient"])


def test_restore_asks_first_and_changes_nothing_without_confirmation(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    result = backups.backup(system, tmp_path / "backup")
    register(filled, system, "Kept")
    before = snapshot(database.engine)

    with pytest.raises(RestoreNeedsConfirmation) as refused:
        backups.restore(system, result.path, confirm=False)

    assert str(refused.value) == (
        f"Restoring replaces all data in {database.display_url}; run again with --yes."
    )
    assert "Kept" in [row.family_name for row in _patients(database.engine)]
    assert snapshot(database.engine) == before


def test_a_backup_from_a_newer_schema_is_refused_naming_both_revisions(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    result = backups.backup(system, tmp_path / "backup")
    if result.kind == "sqlite":
        with sqlite3.connect(result.path) as copy:
            copy.execute("UPDATE alembic_version SET version_num = '0099'")
        copy.close()
    else:
        _rewrite_dump_revision(result.path, "0099")
    before = snapshot(database.engine)

    with pytest.raises(BackupError) as refused:
        backups.restore(system, result.path, confirm=True)

    message = str(refused.value)
    assert "0099" in message and HEAD_REVISION in message
    assert message.count(". ") == 0
    assert snapshot(database.engine) == before


def test_a_damaged_dump_is_refused_and_live_data_stays(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    dump = backups.backup(system, tmp_path / "clinic.dump.gz", portable=True).path
    lines = gzip.decompress(dump.read_bytes()).splitlines()
    with gzip.open(dump, "wb") as handle:  # cut off: no end marker
        handle.write(b"\n".join(lines[:-3]) + b"\n")
    before = snapshot(database.engine)

    with pytest.raises(BackupError, match="does not match the checksum"):
        backups.restore(system, dump, confirm=True)

    assert snapshot(database.engine) == before


def test_a_file_that_is_no_backup_is_refused(
    backups: BackupService, system: Actor, tmp_path: Path
) -> None:
    stray = tmp_path / "notes.txt"
    stray.write_text("not a backup")
    with pytest.raises(BackupError, match=r"notes\.txt is not a BackClinic backup"):
        backups.restore(system, stray, confirm=True)
    with pytest.raises(BackupError, match="does not exist"):
        backups.restore(system, tmp_path / "missing.db", confirm=True)


def test_an_older_sqlite_backup_is_restored_then_migrated(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    old = _old_clinic(tmp_path / "old.db", "Old Harbour Clinic")

    restored = backups.restore(system, old, confirm=True)

    assert restored.migrated and restored.backup_revision == "0001"
    assert restored.revision == HEAD_REVISION
    assert build_services(database.session_factory).clinic.settings().clinic_name == (
        "Old Harbour Clinic"
    )
    assert _patients(database.engine) == []
    assert audit_actions(database.engine)[-1] == "restore"


def test_an_older_logical_dump_is_restored_then_migrated(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    old = _old_clinic(tmp_path / "old.db", "Dumped Old Clinic")
    engine = create_database_engine(f"sqlite:///{old}")
    dump = tmp_path / "old.dump.gz"
    # Schema 0002 added the document table, 0005 the audit chain's identity.
    on_disk = MetaData()
    on_disk.reflect(bind=engine)
    # The model's tables (with their column types) cut down to the columns 0001 had.
    old = MetaData()
    ordered = [
        Table(
            table.name,
            old,
            *(
                column._copy()
                for column in table.columns
                if column.name in on_disk.tables[table.name].c
            ),
        )
        for table in Base.metadata.sorted_tables
        if table.name in on_disk.tables
    ]
    with engine.connect() as connection, connection.begin():
        write_dump(connection, ordered, dump, revision="0001", created_at=utc_now())
    engine.dispose()

    restored = backups.restore(system, dump, confirm=True)

    assert restored.kind == "dump" and restored.migrated
    assert build_services(database.session_factory).clinic.settings().clinic_name == (
        "Dumped Old Clinic"
    )


def test_a_backup_restores_into_the_other_engine(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    """A PostgreSQL dump restores into SQLite; on SQLite, a dump of it into a fresh file."""
    source = backups.backup(system, tmp_path / "clinic.dump.gz", portable=True).path
    before = snapshot(database.engine)
    other = open_database(f"sqlite:///{tmp_path / 'other' / 'clinic.db'}")
    try:
        other_services = build_services(other.session_factory)
        other_backups = BackupService(other_services.context, other.engine)

        other_backups.restore(other_services.clinic.system_actor(), source, confirm=True)

        after = snapshot(other.engine)
        assert after["patient"] == before["patient"]
        assert after["treatment_session"] == before["treatment_session"]
        assert after["assessment"] == before["assessment"]
        assert after["document"] == before["document"]
        assert sqlite_problems(Path(tmp_path / "other" / "clinic.db")) == []
    finally:
        other.engine.dispose()


def test_a_sqlite_backup_restores_into_postgresql(
    filled: Services, backups: BackupService, database: OpenDatabase, system: Actor, tmp_path: Path
) -> None:
    """On SQLite runs this restores into a second SQLite file, the same logical path."""
    origin = open_database(f"sqlite:///{tmp_path / 'origin' / 'clinic.db'}")
    try:
        origin_services = build_services(origin.session_factory)
        origin_services.clinic.set_up(
            clinic_name="Origin Clinic",
            first_clinician=NewClinician("Ada Ng", "ada", "admin", "correct horse battery"),
        )
        origin_services.cases.import_file(origin_services.clinic.system_actor(), ARTICLE_CASE)
        copy = BackupService(origin_services.context, origin.engine).backup(
            origin_services.clinic.system_actor(), tmp_path / "origin.db"
        )
        expected = snapshot(origin.engine)
    finally:
        origin.engine.dispose()

    backups.restore(system, copy.path, confirm=True)

    after = snapshot(database.engine)
    for table in ("clinician", "patient", "assessment", "treatment_session", "plan"):
        assert after[table] == expected[table]
    assert build_services(database.session_factory).clinic.settings().clinic_name == (
        "Origin Clinic"
    )


def test_the_daily_backup_runs_once_a_day_and_keeps_the_last_fourteen(
    filled: Services, backups: BackupService, database: OpenDatabase
) -> None:
    first_day = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC).astimezone()
    written = backups.automatic_daily_backup(first_day)

    assert written is not None
    extension = ".db" if database.engine.dialect.name == "sqlite" else ".dump.gz"
    assert written.name == f"backclinic-{first_day.date().isoformat()}{extension}"
    assert mode(written) == 0o600
    assert backups.automatic_daily_backup(first_day + dt.timedelta(hours=3)) is None

    for day in range(1, 17):
        assert backups.automatic_daily_backup(first_day + dt.timedelta(days=day)) is not None

    names = {path.name for path in backups.backup_dir.iterdir()}
    kept = sorted(name for name in names if not name.endswith(".manifest"))
    assert names - set(kept) == {f"{name}.manifest" for name in kept}
    assert len(kept) == 14
    assert kept[0] == f"backclinic-{(first_day + dt.timedelta(days=3)).date()}{extension}"
    assert kept[-1] == f"backclinic-{(first_day + dt.timedelta(days=16)).date()}{extension}"


def _patients(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(PatientRow.family_name)))


def _old_clinic(path: Path, clinic_name: str) -> Path:
    """A clinic database at schema 0001, as an older BackClinic left it.

    Today's services write today's schema, so the clinic is set up at head and the schema
    then taken back down to 0001 (each downgrade keeps the rows of the tables it keeps).
    """
    engine = create_database_engine(f"sqlite:///{path}")
    upgrade(engine)
    services = build_services(make_session_factory(engine))
    services.clinic.set_up(
        clinic_name=clinic_name,
        first_clinician=NewClinician("Old Admin", "old", "admin", "correct horse battery"),
    )
    downgrade(engine, "0001")
    _rechain_unkeyed(engine)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(AuditEventRow)).scalar()
    engine.dispose()
    os.chmod(path, 0o600)
    return path


def _rechain_unkeyed(engine: Engine) -> None:
    """The plain SHA-256 chain an older release wrote (schema 0001 has no guard triggers)."""
    events = Table("audit_event", MetaData(), autoload_with=engine)
    previous = LEGACY_GENESIS
    with engine.begin() as connection:
        for row in connection.execute(select(events).order_by(events.c.id)).all():
            entry = legacy_entry_hash(
                previous,
                occurred_at=AuditEventRow.__table__.c.occurred_at.type.process_result_value(
                    row.occurred_at, engine.dialect
                ),
                clinician_id=row.clinician_id,
                action=row.action,
                entity=row.entity,
                entity_id=row.entity_id,
                patient_id=row.patient_id,
                details=json.loads(row.details) if isinstance(row.details, str) else row.details,
            )
            connection.execute(
                events.update()
                .where(events.c.id == row.id)
                .values(previous_hash=previous, entry_hash=entry)
            )
            previous = entry


def _rewrite_dump_revision(path: Path, revision: str) -> None:
    lines = gzip.decompress(path.read_bytes()).split(b"\n")
    header = json.loads(lines[0])
    header["revision"] = revision
    lines[0] = json.dumps(header).encode()
    path.write_bytes(gzip.compress(b"\n".join(lines)))
