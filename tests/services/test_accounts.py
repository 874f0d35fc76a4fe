from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select, text

from backclinic.db.database import OpenDatabase
from backclinic.db.models import AuditEventRow, ClinicianRow
from backclinic.services import passwords
from backclinic.services.accounts import Account, AccountService
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import SIGN_IN_FAILED, Clinician, NewClinician
from backclinic.services.context import Actor
from backclinic.services.errors import (
    AuthenticationFailed,
    PermissionDenied,
    StaleRecord,
    ValidationFailed,
)
from backclinic.services.patients import PatientInput
from tests.conftest import PASSWORD
from tests.services.test_plans import article_intake

NEW_PASSWORD = "a different long one"


@pytest.fixture
def accounts(services: Services) -> AccountService:
    return AccountService(services.context)


@pytest.fixture
def admin(services: Services, clinician: Clinician, accounts: AccountService) -> Actor:
    """An admin account, created from the command line (which may do anything)."""
    created = accounts.create(
        services.clinic.system_actor(),
        NewClinician(full_name="Sarah Okafor", username="sarah", role="admin", password=PASSWORD),
    )
    return Actor(created.id, created.full_name, created.role)


def _account(accounts: AccountService, admin: Actor, username: str) -> Account:
    return next(a for a in accounts.accounts(admin) if a.username == username)


def _audit(database: OpenDatabase) -> list[tuple[str, int | None, dict[str, Any]]]:
    with database.session_factory() as session:
        rows = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id))
        return [(row.action, row.entity_id, row.details) for row in rows]


def _desk(accounts: AccountService, admin: Actor) -> Account:
    return accounts.create(
        admin,
        NewClinician(
            full_name="Priya Nair", username="priya", role="front_desk", password=PASSWORD
        ),
    )


def test_an_admin_creates_an_account_for_each_role_and_it_can_sign_in(
    services: Services, accounts: AccountService, admin: Actor
) -> None:
    for role in ("admin", "acupuncturist", "physical_therapist", "front_desk"):
        accounts.create(
            admin, NewClinician(f"Person {role}", f"user_{role}", role, password=PASSWORD)
        )
    assert services.clinic.sign_in("user_front_desk", PASSWORD).role == "front_desk"
    assert [a.role for a in accounts.accounts(admin) if a.username.startswith("user_")] == [
        "acupuncturist",
        "admin",
        "front_desk",
        "physical_therapist",
    ]


def test_once_the_clinic_has_an_admin_only_admins_may_list_or_create_accounts(
    accounts: AccountService, actor: Actor, admin: Actor
) -> None:
    assert not accounts.may_manage(actor)
    with pytest.raises(PermissionDenied, match="acupuncturist account cannot manage"):
        accounts.accounts(actor)
    with pytest.raises(PermissionDenied):
        accounts.create(actor, NewClinician("Ken", "ken", "admin", PASSWORD))


def test_a_clinic_founded_by_a_clinician_lets_clinicians_add_accounts_until_it_has_an_admin(
    services: Services, accounts: AccountService, actor: Actor
) -> None:
    assert accounts.may_manage(actor)
    created = accounts.create(actor, NewClinician("Sarah Okafor", "sarah", "admin", PASSWORD))
    assert created.role == "admin"
    assert not accounts.may_manage(actor)
    desk = Actor(None, "desk", "front_desk")
    assert not accounts.may_manage(desk)


def test_creating_an_account_refuses_each_bad_field_by_name(
    accounts: AccountService, admin: Actor
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        accounts.create(admin, NewClinician("", "two words", "surgeon", "short"))
    assert set(refused.value.by_field) == {"full_name", "username", "role", "password"}
    with pytest.raises(ValidationFailed, match="User name mei is taken"):
        accounts.create(admin, NewClinician("Mei Again", "mei", "acupuncturist", PASSWORD))


def test_audit_entries_carry_before_and_after_but_never_the_password_hash(
    accounts: AccountService, admin: Actor, database: OpenDatabase
) -> None:
    desk = _desk(accounts, admin)
    desk = accounts.deactivate(admin, desk.id, expected_version=desk.version)
    accounts.reset_password(admin, desk.id, NEW_PASSWORD, expected_version=desk.version)
    entries = [e for e in _audit(database) if e[1] == desk.id]
    assert [e[0] for e in entries] == ["create", "deactivate", "password_reset"]
    assert entries[0][2]["after"]["role"] == "front_desk"
    assert (entries[1][2]["before"], entries[1][2]["after"]) == (
        {"active": True},
        {"active": False},
    )
    with database.engine.connect() as connection:
        stored_hash = connection.execute(
            text("SELECT password_hash FROM clinician WHERE id = :id"), {"id": desk.id}
        ).scalar_one()
    flattened = repr(entries)
    assert stored_hash not in flattened
    assert NEW_PASSWORD not in flattened and PASSWORD not in flattened


def test_a_deactivated_account_cannot_sign_in_until_reactivated_and_is_never_deleted(
    services: Services, accounts: AccountService, admin: Actor
) -> None:
    desk = _desk(accounts, admin)
    desk = accounts.deactivate(admin, desk.id, expected_version=desk.version)
    with pytest.raises(AuthenticationFailed, match=SIGN_IN_FAILED):
        services.clinic.sign_in("priya", PASSWORD)
    assert not _account(accounts, admin, "priya").active
    accounts.reactivate(admin, desk.id, expected_version=desk.version)
    assert services.clinic.sign_in("priya", PASSWORD).id == desk.id


def test_an_admin_cannot_deactivate_their_own_account(
    accounts: AccountService, admin: Actor
) -> None:
    own = _account(accounts, admin, "sarah")
    with pytest.raises(ValidationFailed, match="your own account"):
        accounts.deactivate(admin, own.id, expected_version=own.version)


def test_the_last_active_admin_cannot_be_deactivated(
    services: Services, accounts: AccountService, admin: Actor
) -> None:
    sarah = _account(accounts, admin, "sarah")
    command_line = services.clinic.system_actor()
    with pytest.raises(ValidationFailed, match="Sarah Okafor is the last active admin"):
        accounts.deactivate(command_line, sarah.id, expected_version=sarah.version)
    second = accounts.create(admin, NewClinician("Ken Admin", "ken", "admin", PASSWORD))
    assert not accounts.deactivate(command_line, sarah.id, expected_version=sarah.version).active
    with pytest.raises(ValidationFailed, match="Ken Admin is the last active admin"):
        accounts.deactivate(command_line, second.id, expected_version=second.version)


def test_a_change_made_elsewhere_since_the_list_was_read_is_not_overwritten(
    accounts: AccountService, admin: Actor
) -> None:
    desk = _desk(accounts, admin)
    accounts.deactivate(admin, desk.id, expected_version=desk.version)
    with pytest.raises(StaleRecord):
        accounts.reset_password(admin, desk.id, NEW_PASSWORD, expected_version=desk.version)


def test_a_password_reset_keeps_the_length_rule_and_lifts_a_lockout(
    database: OpenDatabase, accounts: AccountService, admin: Actor
) -> None:
    desk = _desk(accounts, admin)
    with pytest.raises(ValidationFailed, match="at least 8 characters") as refused:
        accounts.reset_password(admin, desk.id, "short", expected_version=desk.version)
    assert set(refused.value.by_field) == {"password"}
    services = build_services(database.session_factory)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            services.clinic.sign_in("priya", "wrong")
    locked = _account(accounts, admin, "priya")
    assert locked.locked_until is not None
    accounts.reset_password(admin, desk.id, NEW_PASSWORD, expected_version=locked.version)
    assert services.clinic.sign_in("priya", NEW_PASSWORD).id == desk.id


def test_changing_your_own_password_needs_the_current_one(
    services: Services, accounts: AccountService, actor: Actor, database: OpenDatabase
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        accounts.change_own_password(actor, "not it", NEW_PASSWORD)
    assert refused.value.by_field == {"old_password": "The current password is not correct."}
    with pytest.raises(ValidationFailed) as short:
        accounts.change_own_password(actor, PASSWORD, "short")
    assert set(short.value.by_field) == {"new_password"}
    accounts.change_own_password(actor, PASSWORD, NEW_PASSWORD)
    assert services.clinic.sign_in("mei", NEW_PASSWORD).id == actor.clinician_id
    actions = [e[0] for e in _audit(database)]
    assert actions[-3:] == ["password_change_refused", "password_change", "sign_in"]


def test_a_hash_made_with_weaker_parameters_is_rehashed_after_a_successful_sign_in(
    services: Services,
    clinician: Clinician,
    database: OpenDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The production parameters, not the suite's cheap ones, are what a weak hash rises to.
    monkeypatch.setattr(passwords, "HASH_PARAMETERS", passwords.PRODUCTION_PARAMETERS)
    services = build_services(database.session_factory)
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE clinician SET password_hash = :h WHERE id = :id"),
            {"h": weak.hash(PASSWORD), "id": clinician.id},
        )
    services.clinic.sign_in("mei", PASSWORD)
    with database.session_factory() as session:
        stored = session.get_one(ClinicianRow, clinician.id).password_hash
    defaults = PasswordHasher()
    assert stored.startswith("$argon2id$")
    assert extract_parameters(stored) == extract_parameters(defaults.hash("x"))
    assert not defaults.check_needs_rehash(stored)


def test_five_failures_lock_the_account_with_audited_attempts_and_a_locked_message(
    database: OpenDatabase, clinician: Clinician
) -> None:
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    services = build_services(database.session_factory, clock=lambda: now)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed, match=SIGN_IN_FAILED):
            services.clinic.sign_in("mei", "wrong")
    with pytest.raises(AuthenticationFailed) as right_password:
        services.clinic.sign_in("mei", PASSWORD)
    with pytest.raises(AuthenticationFailed) as wrong_password:
        services.clinic.sign_in("mei", "still wrong")
    # Locked: the message is the sign-in failure, whether or not the password was right.
    assert str(right_password.value) == str(wrong_password.value) == SIGN_IN_FAILED

    entries = [e for e in _audit(database) if e[1] == clinician.id and e[0] != "create"]
    assert [e[0] for e in entries] == ["sign_in_failed"] * 5 + ["sign_in_refused_locked"] * 2
    assert [e[2]["attempt"] for e in entries[:5]] == [1, 2, 3, 4, 5]
    assert dt.datetime.fromisoformat(entries[4][2]["locked_until"]) == now + dt.timedelta(minutes=5)


def test_lock_and_unlock_are_audited_and_a_takeover_names_whose_screen_it_was(
    accounts: AccountService, actor: Actor, admin: Actor, database: OpenDatabase
) -> None:
    accounts.record_lock(actor)
    accounts.record_unlock(actor, locked_for=actor)
    accounts.record_lock(actor)
    accounts.record_unlock(admin, locked_for=actor)
    entries = _audit(database)[-4:]
    assert [(e[0], e[1]) for e in entries] == [
        ("lock", actor.clinician_id),
        ("unlock", actor.clinician_id),
        ("lock", actor.clinician_id),
        ("unlock", admin.clinician_id),
    ]
    assert entries[3][2] == {"locked_for": actor.clinician_id, "kept_as_draft": True}


def test_front_desk_registers_patients_but_cannot_record_or_read_an_assessment(
    services: Services, accounts: AccountService, admin: Actor, actor: Actor
) -> None:
    desk = _desk(accounts, admin)
    front_desk = Actor(desk.id, desk.full_name, desk.role)
    patient = services.patients.register(
        front_desk,
        PatientInput(family_name="Rivera", given_name="Ana", date_of_birth=dt.date(1980, 3, 14)),
    )
    intake = AssessmentInput("intake", article_intake(services))
    with pytest.raises(PermissionDenied, match="front desk account cannot record clinical care"):
        services.assessments.record(front_desk, patient.id, intake)
    recorded = services.assessments.record(actor, patient.id, intake)
    with pytest.raises(PermissionDenied, match="cannot see clinical records"):
        services.assessments.for_patient(front_desk, patient.id)
    with pytest.raises(PermissionDenied):
        services.assessments.get(front_desk, recorded.id)
    assert services.assessments.latest_intake(actor, patient.id) == recorded
