"""Password checks that tell an attacker nothing: sign-in and changing one's own password.

Three rules, shared by every place a password is checked:

- the work is the same whether the account exists or not (an unknown user name is checked
  against a dummy hash made with the same parameters), so timing does not say which;
- a wrong password is counted in the database by one atomic UPDATE, never read-modify-write,
  so thirty workstations failing at once count thirty and lock the account;
- what was typed is never kept: a password typed into the user-name field must not reach the
  append-only audit trail, so an unknown name is recorded as "unknown", not as typed.

The hash is verified outside any transaction: a quarter of a second of argon2 must not hold
SQLite's write lock or a PostgreSQL row lock.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, literal, or_, update
from sqlalchemy.orm import Session

from backclinic.db.models import ClinicianRow

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class FailedAttempt:
    """The outcome of counting one failure: which attempt it was, and a lock if it set one."""

    attempt: int
    locked_until: dt.datetime | None


class PasswordChecks:
    """Verifies passwords in constant work and counts failures atomically."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher

    @cached_property
    def _dummy_hash(self) -> str:
        # Made with this hasher's own parameters, so that it costs what a real one does.
        return self._hasher.hash(secrets.token_urlsafe(24))

    def matches(self, password_hash: str | None, password: str) -> bool:
        """Check ``password``; with no account (None) the dummy hash is checked instead."""
        try:
            matched = self._hasher.verify(password_hash or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and password_hash is not None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def is_locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    return locked_until is not None and _aware(locked_until) > now


def count_failure(session: Session, clinician_id: int, now: dt.datetime) -> FailedAttempt | None:
    """Add one failed attempt in a single UPDATE; the fifth locks the account.

    None when the account is locked at that moment (a parallel attempt locked it): the
    attempt is then a refusal of a locked account, and does not extend the lock.

    The database evaluates ``failed_sign_ins + 1`` on the row as it is at that moment (on
    PostgreSQL behind the row lock the UPDATE takes), so parallel failures never overwrite
    each other's count. The row's version is left alone: a failed attempt is not an edit,
    and must not turn an administrator's pending change to the account into a conflict.
    """
    reaches_limit = ClinicianRow.failed_sign_ins + 1 >= MAX_FAILED_ATTEMPTS
    stamp_type = ClinicianRow.__table__.c.locked_until.type
    locked_until = literal(now + LOCKOUT, type_=stamp_type)
    counted = session.execute(
        update(ClinicianRow)
        .where(
            ClinicianRow.id == clinician_id,
            or_(
                ClinicianRow.locked_until.is_(None),
                ClinicianRow.locked_until <= literal(now, type_=stamp_type),
            ),
        )
        .values(
            failed_sign_ins=case((reaches_limit, 0), else_=ClinicianRow.failed_sign_ins + 1),
            locked_until=case((reaches_limit, locked_until), else_=ClinicianRow.locked_until),
        )
        .returning(ClinicianRow.failed_sign_ins, ClinicianRow.locked_until)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if counted is None:
        return None
    if counted.failed_sign_ins == 0 and counted.locked_until is not None:
        return FailedAttempt(MAX_FAILED_ATTEMPTS, _aware(counted.locked_until))
    return FailedAttempt(counted.failed_sign_ins, None)


def clear_failures(session: Session, clinician_id: int) -> None:
    session.execute(
        update(ClinicianRow)
        .where(ClinicianRow.id == clinician_id)
        .values(failed_sign_ins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for what was stored as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
