"""Sign-in as an attacker probes it: nothing tells whether an account exists, nothing typed is
kept, and failures are counted atomically wherever a password is checked."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select

from backclinic.db.database import OpenDatabase
from backclinic.db.models import AuditEventRow, ClinicianRow
from backclinic.services import passwords
from backclinic.services.accounts import PASSWORD_CHANGE_LOCKED
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import SIGN_IN_FAILED, Clinician, ClinicService
from backclinic.services.context import Actor
from backclinic.services.errors import AuthenticationFailed, ValidationFailed
from tests.conftest import PASSWORD

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


class CountingHasher(PasswordHasher):
    """A real hasher, with the parameters account hashes are made with (the suite's cheap
    ones), that remembers which hashes it was asked to verify."""

    def __init__(self) -> None:
        parameters = passwords.HASH_PARAMETERS
        super().__init__(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost,
            parallelism=parameters.parallelism,
            hash_len=parameters.hash_len,
            salt_len=parameters.salt_len,
            type=parameters.type,
        )
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


def audit_texts(database: OpenDatabase) -> list[str]:
    with database.session_factory() as session:
        rows = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id))
        return [json.dumps(row.details, ensure_ascii=False) for row in rows]


def audit_actions(database: OpenDatabase, clinician_id: int) -> list[str]:
    with database.session_factory() as session:
        rows = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.entity == "clinician", AuditEventRow.entity_id == clinician_id)
            .order_by(AuditEventRow.id)
        )
        return [row.action for row in rows]


def test_an_unknown_user_name_costs_one_verification_with_real_parameters(
    database: OpenDatabase, clinician: Clinician
) -> None:
    hasher = CountingHasher()
    clinic = ClinicService(build_services(database.session_factory).context, hasher)
    with database.session_factory() as session:
        real_hash = session.get_one(ClinicianRow, clinician.id).password_hash

    with pytest.raises(AuthenticationFailed):
        clinic.sign_in("nobody", PASSWORD)

    assert len(hasher.verified) == 1
    assert extract_parameters(hasher.verified[0]) == extract_parameters(real_hash)


def test_a_password_typed_into_the_user_name_field_never_reaches_the_audit_trail(
    services: Services, database: OpenDatabase, clinician: Clinician
) -> None:
    with pytest.raises(AuthenticationFailed):
        services.clinic.sign_in(PASSWORD, "")

    assert not any(PASSWORD in text for text in audit_texts(database))
    assert any('"account": "unknown"' in text for text in audit_texts(database))


def test_wrong_name_wrong_password_and_locked_account_read_the_same(
    database: OpenDatabase, clinician: Clinician
) -> None:
    services = build_services(database.session_factory, clock=lambda: NOW)
    messages = set()
    for username, password in [("nobody", PASSWORD)] + [("mei", "wrong")] * 5 + [("mei", PASSWORD)]:
        with pytest.raises(AuthenticationFailed) as refused:
            services.clinic.sign_in(username, password)
        messages.add(str(refused.value))

    assert messages == {SIGN_IN_FAILED}
    assert audit_actions(database, clinician.id)[-1] == "sign_in_refused_locked"


def test_thirty_parallel_wrong_passwords_lock_the_account(
    database: OpenDatabase, clinician: Clinician
) -> None:
    services = build_services(database.session_factory, clock=lambda: NOW)

    def attempt(_: int) -> str:
        try:
            services.clinic.sign_in("mei", "wrong password")
        except AuthenticationFailed as refused:
            return str(refused)
        return "signed in"

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(attempt, range(30)))

    assert set(answers) == {SIGN_IN_FAILED}
    with database.session_factory() as session:
        row = session.get_one(ClinicianRow, clinician.id)
        assert row.locked_until is not None and row.locked_until > NOW
    actions = audit_actions(database, clinician.id)
    assert actions.count("sign_in_failed") + actions.count("sign_in_refused_locked") == 30
    assert actions.count("sign_in_failed") >= 5
    with pytest.raises(AuthenticationFailed):
        services.clinic.sign_in("mei", PASSWORD)


def test_wrong_current_passwords_lock_the_account_like_failed_sign_ins(
    database: OpenDatabase, clinician: Clinician, actor: Actor
) -> None:
    services = build_services(database.session_factory, clock=lambda: NOW)
    for _ in range(5):
        with pytest.raises(ValidationFailed, match="The current password is not correct"):
            services.accounts.change_own_password(actor, "a guess", "a brand new password")

    with pytest.raises(ValidationFailed) as locked:
        services.accounts.change_own_password(actor, PASSWORD, "a brand new password")
    assert locked.value.by_field == {"old_password": PASSWORD_CHANGE_LOCKED}
    with pytest.raises(AuthenticationFailed):
        services.clinic.sign_in("mei", PASSWORD)

    later = build_services(database.session_factory, clock=lambda: NOW + dt.timedelta(minutes=6))
    later.accounts.change_own_password(actor, PASSWORD, "a brand new password")
    assert later.clinic.sign_in("mei", "a brand new password").id == clinician.id


def test_a_successful_sign_in_clears_the_count_of_earlier_failures(
    database: OpenDatabase, clinician: Clinician
) -> None:
    services = build_services(database.session_factory, clock=lambda: NOW)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.clinic.sign_in("mei", "wrong")
    services.clinic.sign_in("mei", PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.clinic.sign_in("mei", "wrong")

    assert services.clinic.sign_in("mei", PASSWORD).id == clinician.id
