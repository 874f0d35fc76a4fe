from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from backclinic.db import migrate
from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.engine import DatabaseUnavailable, check_connection, create_database_engine
from backclinic.db.migrate import current_revision, downgrade, head_revision, upgrade
from backclinic.db.models import Base
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from tests.services.test_plans import START, grace


def test_models_and_migrations_agree(database: OpenDatabase) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_recorded_head_matches_the_migration_scripts() -> None:
    assert head_revision() == migrate.HEAD_REVISION


def test_upgrade_downgrade_upgrade_round_trips(database: OpenDatabase) -> None:
    downgrade(database.engine, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    upgrade(database.engine)
    assert current_revision(database.engine) == head_revision()
    assert "patient" in inspect(database.engine).get_table_names()


def test_the_database_refuses_a_pain_score_above_ten(database: OpenDatabase) -> None:
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO treatment_session (patient_id, performed_at, modalities, pain_before,"
                " acupoints, electro, technique, interventions, adverse_events,"
                " adverse_event_note, subjective, objective, assessment_note, plan_note, notes,"
                " superseded, version, created_at, updated_at)"
                " VALUES (1, '2026-01-05 10:00:00', '[]', 15, '[]', false, '', '[]', '[]', '',"
                " '', '', '', '', '', false, 1, '2026-01-05', '2026-01-05')"
            )
        )


def test_sqlite_connections_carry_the_safety_pragmas(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'a.db'}")
    safety = check_connection(engine)
    assert safety is not None
    assert (safety.journal_mode, safety.synchronous, safety.foreign_keys) == ("wal", 2, 1)
    assert safety.busy_timeout_ms >= 5000


def test_an_existing_sqlite_file_is_backed_up_before_an_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clinic.db"
    opened = open_database(f"sqlite:///{path}")
    with opened.engine.begin() as connection:
        connection.execute(text("CREATE TABLE keepsake (note TEXT)"))
        connection.execute(text("INSERT INTO keepsake VALUES ('before the upgrade')"))
    upgrades: list[str] = []
    # A release whose head is one revision ahead of this file.
    monkeypatch.setattr(migrate, "HEAD_REVISION", "9999")
    monkeypatch.setattr(migrate, "head_revision", lambda: "9999")
    monkeypatch.setattr(migrate, "upgrade", lambda engine, target="head": upgrades.append(target))
    result = migrate.migrate_to_head(opened.engine)
    assert upgrades == ["head"]
    assert result.backup_path is not None
    with sqlite3.connect(result.backup_path) as copy:
        assert copy.execute("SELECT note FROM keepsake").fetchall() == [("before the upgrade",)]
    assert result.backup_path.stat().st_mode & 0o777 == 0o600


def test_a_database_from_a_newer_release_is_refused(
    database: OpenDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    with pytest.raises(migrate.SchemaTooNew, match="newer than this version"):
        migrate.migrate_to_head(database.engine)


def test_an_unopenable_database_is_named_with_its_password_masked() -> None:
    engine = create_database_engine("postgresql+psycopg://nurse:s3cret@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable) as failure:
        check_connection(engine)
    message = str(failure.value)
    assert "s3cret" not in message
    assert "postgresql+psycopg://nurse:***@127.0.0.1:1/none" in message


def test_assessments_before_0010_keep_their_precautions_asked_unless_nothing_was_screened(
    database: OpenDatabase,
) -> None:
    """0010 adds "not asked" to precautions: an existing assessment was recorded by a form
    that asked every one, except one that screened no red flags and listed no precaution."""
    downgrade(database.engine, "0006_safety_records")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO patient (mrn, family_name, given_name, date_of_birth, sex, "
                "occupation, phone, email, address, archived, family_key, given_key, version, "
                "created_at, updated_at) VALUES ('M1', 'Old', 'Record', '1960-01-01', 'female', "
                "'', '', '', '', false, 'old', 'record', 1, '2026-01-05', '2026-01-05')"
            )
        )
        for red_flags, precautions in (
            ("NULL", "'[]'"),
            ("'{}'", "'[\"pregnancy\"]'"),
            ("NULL", "'[\"pacemaker\"]'"),
        ):
            connection.execute(
                text(
                    "INSERT INTO assessment (patient_id, kind, assessed_on, aggravated_by, "
                    "contributing_factors, red_flags, precautions, goals, notes, version, "
                    f"created_at, updated_at) SELECT id, 'intake', '2026-01-05', '[]', '[]', "
                    f"{red_flags}, {precautions}, '[]', '', 1, '2026-01-05', '2026-01-05' "
                    "FROM patient"
                )
            )
    upgrade(database.engine)
    with database.engine.connect() as connection:
        rows = (
            connection.execute(text("SELECT precautions_not_asked FROM assessment ORDER BY id"))
            .scalars()
            .all()
        )
    import json

    decoded = [json.loads(r) if isinstance(r, str) else r for r in rows]
    assert "pregnancy" in decoded[0] and len(decoded[0]) == 7
    assert decoded[1:] == [[], []]


def test_a_clinic_with_plans_upgrades_with_its_foreign_keys_enforced_before_and_after(
    database: OpenDatabase, database_url: str, services: Services, actor: Actor
) -> None:
    """A later migration rebuilds the assessment table, which plans refer to: the upgrade
    of a real clinic's file (foreign keys on, as every connection has them) must not fail,
    must lose nothing and must leave every reference intact and enforced."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite rebuilds a table to alter it; PostgreSQL alters it in place")
    patient_id = grace(services, actor)
    services.plans.create_recommended(actor, "CASE-0045", start=START)
    counts = "SELECT (SELECT count(*) FROM assessment), (SELECT count(*) FROM plan)"
    with database.engine.connect() as connection:
        before = connection.execute(text(counts)).one()
    database.engine.dispose()
    # Back to the schema of an earlier release (foreign keys off, as only a test does this).
    plain = create_engine(database_url)
    downgrade(plain, "0007_visit_times")
    plain.dispose()

    reopened = open_database(database_url)
    try:
        assert current_revision(reopened.engine) == head_revision()
        with reopened.engine.connect() as connection:
            assert connection.execute(text(counts)).one() == before
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert services_on(reopened).plans.active_plan(actor, patient_id) is not None
    finally:
        reopened.engine.dispose()


def services_on(opened: OpenDatabase) -> Services:
    return build_services(opened.session_factory)
