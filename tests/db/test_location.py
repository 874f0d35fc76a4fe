"""A first look at the clinic's database with the standard library, before SQLAlchemy loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from backclinic.db.database import open_database
from backclinic.db.location import existing_clinic_name, resolve_database_url, sqlite_file
from backclinic.services.bundle import build_services
from backclinic.services.clinic import NewClinician
from tests.conftest import PASSWORD


def test_the_clinic_name_of_a_set_up_sqlite_clinic_is_read_without_changing_the_file(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    database = open_database(url)
    build_services(database.session_factory).clinic.set_up(
        clinic_name="Harbour Back Clinic",
        first_clinician=NewClinician(
            full_name="Mei Lin", username="mei", role="acupuncturist", password=PASSWORD
        ),
    )
    database.engine.dispose()
    before = (tmp_path / "clinic.db").read_bytes()
    assert existing_clinic_name(url) == "Harbour Back Clinic"
    assert (tmp_path / "clinic.db").read_bytes() == before


def test_no_clinic_name_is_known_for_a_missing_empty_or_foreign_database(tmp_path: Path) -> None:
    assert existing_clinic_name(f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert not (tmp_path / "missing.db").exists(), "looking does not create the file"
    migrated = f"sqlite:///{tmp_path / 'new.db'}"
    open_database(migrated).engine.dispose()
    assert existing_clinic_name(migrated) is None
    (tmp_path / "notes.txt").write_text("not a database")
    assert existing_clinic_name(f"sqlite:///{tmp_path / 'notes.txt'}") is None
    assert existing_clinic_name("postgresql+psycopg://clinic@db/backclinic") is None


def test_only_a_sqlite_url_of_a_file_names_a_file(tmp_path: Path) -> None:
    assert sqlite_file(f"sqlite:///{tmp_path}/clinic.db?timeout=5") == tmp_path / "clinic.db"
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("postgresql://x@y/z") is None


def test_the_command_line_url_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BACKCLINIC_DATABASE_URL", "sqlite:///from-environment.db")
    assert resolve_database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"
    assert resolve_database_url(None) == "sqlite:///from-environment.db"
