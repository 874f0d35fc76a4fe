"""What ships hashes with the production argon2 parameters; only the tests swap them."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import select

from backclinic.db.database import OpenDatabase
from backclinic.db.models import ClinicianRow
from backclinic.services import passwords
from backclinic.services.bundle import build_services
from backclinic.services.clinic import NewClinician
from tests.conftest import PASSWORD


@pytest.fixture
def production_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASH_PARAMETERS", passwords.PRODUCTION_PARAMETERS)


def test_the_production_parameters_are_rfc_9106_low_memory_argon2id() -> None:
    assert passwords.PRODUCTION_PARAMETERS == RFC_9106_LOW_MEMORY
    assert (
        RFC_9106_LOW_MEMORY.time_cost,
        RFC_9106_LOW_MEMORY.memory_cost,
        RFC_9106_LOW_MEMORY.parallelism,
    ) == (3, 65536, 4)


def test_a_clinic_set_up_outside_the_tests_stores_production_strength_hashes(
    production_hashing: None, database: OpenDatabase
) -> None:
    services = build_services(database.session_factory)
    services.clinic.set_up(
        clinic_name="Harbour Back Clinic",
        first_clinician=NewClinician("Mei Lin", "mei", "acupuncturist", PASSWORD),
    )
    with database.session_factory() as session:
        stored = session.scalars(select(ClinicianRow.password_hash)).one()
    assert extract_parameters(stored) == passwords.PRODUCTION_PARAMETERS
