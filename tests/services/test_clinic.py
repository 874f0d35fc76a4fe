from __future__ import annotations

import datetime as dt

import pytest

from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import SIGN_IN_FAILED, Clinician, NewClinician
from backclinic.services.errors import AuthenticationFailed, ValidationFailed
from tests.conftest import PASSWORD
from tests.records import stored_records


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

    with stored_records(services) as session:
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


def _settings_change(services: Services, actor: object, **changes: object) -> object:
    current = services.clinic.settings()
    values: dict[str, object] = {
        "clinic_name": current.clinic_name,
        "address": current.address,
        "phone": current.phone,
        "email": current.email,
        "idle_lock_minutes": current.idle_lock_minutes,
        "clinic_days": current.clinic_days,
        "expected_version": current.version,
    }
    values.update(changes)
    return services.clinic.update_settings(actor, **values)  # type: ignore[arg-type]


def test_a_logo_must_be_an_existing_image_and_is_saved_for_the_letterhead(
    services: Services, clinician: Clinician, tmp_path: object
) -> None:
    from pathlib import Path

    actor = clinician.as_actor()
    with pytest.raises(ValidationFailed) as refused:
        _settings_change(services, actor, logo_path="/no/such/logo.png")
    assert refused.value.by_field == {"logo_path": "The logo must be an existing PNG or JPEG file."}
    logo = Path(str(tmp_path)) / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    _settings_change(services, actor, logo_path=str(logo))
    assert services.clinic.settings().logo_path == str(logo)


def test_once_the_clinic_has_an_admin_only_admins_change_its_settings(
    services: Services, clinician: Clinician
) -> None:
    from backclinic.services.context import Actor
    from backclinic.services.errors import PermissionDenied

    actor = clinician.as_actor()
    assert services.clinic.may_administer(actor)
    services.accounts.create(actor, NewClinician("Sarah Okafor", "sarah", "admin", PASSWORD))
    assert not services.clinic.may_administer(actor)
    with pytest.raises(PermissionDenied):
        _settings_change(services, actor, clinic_name="Renamed")
    assert not services.clinic.may_administer(Actor(None, "desk", "front_desk"))
