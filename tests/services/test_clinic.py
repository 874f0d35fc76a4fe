from __future__ import annotations

import datetime as dt

import pytest

from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import SIGN_IN_FAILED, Clinician, NewClinician
from backclinic.services.errors import AuthenticationFailed, ValidationFailed
from tests.conftest import PASSWORD


def test_a_new_database_is_not_set_up_until_the_first_clinician_exists(services: Services) -> None:
    assert not services.clinic.is_set_up()
    services.clinic.set_up(
        clinic_name="Harbour",
        first_clinician=NewClinician("Ann Physio", "ann", "physical_therapist", PASSWORD),
    )
    assert services.clinic.is_set_up()
    assert services.clinic.settings().clinic_name == "Harbour"


def test_set_up_refuses_a_short_password_and_saves_nothing(services: Services) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.clinic.set_up(
            clinic_name="Harbour", first_clinician=NewClinician("Ann", "ann", "admin", "short")
        )
    assert refused.value.by_field == {"password": "Password must be at least 8 characters long."}
    assert not services.clinic.is_set_up()


def test_passwords_are_stored_as_argon2id_hashes(services: Services, clinician: Clinician) -> None:
    from backclinic.db.models import ClinicianRow

    with services.context.reading() as session:
        stored = session.get(ClinicianRow, clinician.id)
        assert stored is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash


def test_a_wrong_password_and_an_unknown_user_get_the_same_message(
    services: Services, clinician: Clinician
) -> None:
    with pytest.raises(AuthenticationFailed) as wrong_password:
        services.clinic.sign_in("mei", "not the password")
    with pytest.raises(AuthenticationFailed) as unknown_user:
        services.clinic.sign_in("nobody", PASSWORD)
    assert str(wrong_password.value) == str(unknown_user.value) == SIGN_IN_FAILED
    assert services.clinic.sign_in("mei", PASSWORD).id == clinician.id


def test_five_wrong_passwords_lock_the_account_for_five_minutes(
    services: Services, clinician: Clinician, database: object
) -> None:
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    clock_services = build_services(database.session_factory, clock=lambda: now)  # type: ignore[attr-defined]
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            clock_services.clinic.sign_in("mei", "wrong")
    with pytest.raises(AuthenticationFailed, match="locked"):
        clock_services.clinic.sign_in("mei", PASSWORD)
    later = build_services(
        database.session_factory,  # type: ignore[attr-defined]
        clock=lambda: now + dt.timedelta(minutes=6),
    )
    assert later.clinic.sign_in("mei", PASSWORD).id == clinician.id
