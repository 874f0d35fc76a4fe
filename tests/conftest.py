"""Shared fixtures: a freshly migrated database per test (SQLite, or PostgreSQL when
BACKCLINIC_TEST_DATABASE_URL names one), services over it, and a set-up clinic."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from backclinic.db.audit_chain import KEY_FOLDER_VARIABLE
from backclinic.db.database import OpenDatabase, open_database
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.context import Actor

TEST_DATABASE_VARIABLE = "BACKCLINIC_TEST_DATABASE_URL"
PASSWORD = "correct horse battery"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(autouse=True)
def audit_key_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's audit key and anchors in its own folder, never the user's config folder."""
    folder = tmp_path / "audit-keys"
    monkeypatch.setenv(KEY_FOLDER_VARIABLE, str(folder))
    return folder


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    shared = os.environ.get(TEST_DATABASE_VARIABLE)
    if shared:
        _reset_postgres(shared)
        return shared
    return f"sqlite:///{tmp_path / 'clinic.db'}"


@pytest.fixture
def database(database_url: str) -> Iterator[OpenDatabase]:
    opened = open_database(database_url)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def services(database: OpenDatabase) -> Services:
    return build_services(database.session_factory)


@pytest.fixture
def clinician(services: Services) -> Clinician:
    return services.clinic.set_up(
        clinic_name="Harbour Back Clinic",
        first_clinician=NewClinician(
            full_name="Mei Lin", username="mei", role="acupuncturist", password=PASSWORD
        ),
    )


@pytest.fixture
def actor(clinician: Clinician) -> Actor:
    return clinician.as_actor()
