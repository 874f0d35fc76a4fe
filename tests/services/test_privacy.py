"""Privacy hygiene: the SQLite file, its -wal/-shm and every backup are the owner's alone, and
patient data reaches neither log records nor the text of a database error."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from backclinic import cli
from backclinic.db.database import open_database
from backclinic.db.models import PatientRow
from backclinic.services.backups import BackupService
from backclinic.services.bundle import build_services
from backclinic.services.clinic import NewClinician
from backclinic.services.clock import utc_now
from backclinic.services.patients import PatientInput

REPOSITORY = Path(__file__).resolve().parents[2]
ARTICLE_CASE = REPOSITORY / "tests" / "cases" / "article-office-worker.json"
DISTINCTIVE = "Zyxwquorthian"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> object:
    """The common desktop umask, under which new files are world-readable by default."""
    previous = os.umask(0o022)
    yield None
    os.umask(previous)


def test_the_sqlite_file_and_its_wal_and_shm_are_readable_by_the_owner_only(
    tmp_path: Path, loose_umask: object
) -> None:
    path = tmp_path / "data" / "clinic.db"
    database = open_database(f"sqlite:///{path}")
    try:
        services = build_services(database.session_factory)
        founder = services.clinic.set_up(
            clinic_name="Private Clinic",
            first_clinician=NewClinician("Ada Ng", "ada", "admin", "correct horse battery"),
        )
        services.patients.register(
            founder.as_actor(),
            PatientInput(family_name="Quiet", given_name="Q", date_of_birth=dt.date(1970, 1, 1)),
        )
        # While the app runs the write-ahead log and shared memory files exist beside it.
        companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(companion.exists() for companion in companions)
        assert {p.name: mode(p) for p in [path, *companions]} == {
            p.name: 0o600 for p in [path, *companions]
        }
    finally:
        database.engine.dispose()


def test_backups_are_readable_by_the_owner_only(tmp_path: Path, loose_umask: object) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'clinic.db'}")
    try:
        services = build_services(database.session_factory)
        backups = BackupService(services.context, database.engine)
        by_hand = backups.backup(services.clinic.system_actor(), tmp_path / "copy.db")
        daily = backups.automatic_daily_backup(utc_now())
        assert daily is not None
        assert mode(by_hand.path) == 0o600
        assert mode(daily) == 0o600
        assert mode(backups.backup_dir) == 0o700
    finally:
        database.engine.dispose()


def test_a_command_line_import_logs_no_patient_data_even_at_debug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(ARTICLE_CASE.read_text(encoding="utf-8"))
    document["patient"]["family_name"] = DISTINCTIVE
    document["patient"]["given_name"] = DISTINCTIVE + "a"
    case = tmp_path / "case.json"
    case.write_text(json.dumps(document), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    caplog.set_level(logging.DEBUG)

    status = cli.main(["--database", url, "import", str(case)])

    assert status == cli.EXIT_OK
    assert caplog.records, "DEBUG logging captured nothing; the test would prove nothing"
    assert DISTINCTIVE not in caplog.text
    assert DISTINCTIVE not in capsys.readouterr().err


def test_a_database_error_does_not_carry_patient_data_in_its_message(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'clinic.db'}")
    try:
        now = utc_now()
        row = {
            "mrn": "X-1",
            "family_name": DISTINCTIVE,
            "given_name": DISTINCTIVE,
            "mrn_key": "x1",
            "family_key": DISTINCTIVE.lower(),
            "given_key": DISTINCTIVE.lower(),
            "date_of_birth": dt.date(1970, 1, 1),
            "occupation": "",
            "phone": "",
            "email": "",
            "address": "",
            "archived": False,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        with database.engine.begin() as connection:
            connection.execute(insert(PatientRow.__table__), row)
        with pytest.raises(IntegrityError) as duplicate, database.engine.begin() as connection:
            connection.execute(insert(PatientRow.__table__), row)
        assert DISTINCTIVE not in str(duplicate.value)
    finally:
        database.engine.dispose()
