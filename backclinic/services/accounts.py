"""Clinician accounts managed by an admin: create, deactivate, reactivate, reset a password.

Accounts are never deleted (the audit trail and every record's stamps point at them); an
account that should no longer sign in is deactivated. Audit details carry before/after
values, never a password or its hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from backclinic.db.models import ClinicianRow
from backclinic.services.clinic import (
    MIN_PASSWORD_LENGTH,
    Clinician,
    NewClinician,
    allowed_or_no_admin,
    insert_clinician,
    validate_clinician,
)
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import (
    FieldError,
    NotFound,
    ServiceError,
    ValidationFailed,
)
from backclinic.services.lockout import PasswordChecks, clear_failures, count_failure, is_locked
from backclinic.services.passwords import password_hasher
from backclinic.services.permissions import Permission
from backclinic.services.use_case import Change, use_case

PASSWORD_CHANGE_LOCKED = (
    "The account is locked for a few minutes after repeated wrong passwords; "
    "try again later or ask an administrator to reset it."
)


@dataclass(frozen=True)
class Account(Clinician):
    """One clinician account as an admin sees it; locked_until is set while locked out."""

    locked_until: dt.datetime | None
    version: int


def _account(row: ClinicianRow) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        role=row.role,
        active=row.active,
        locked_until=row.locked_until,
        version=row.version,
    )


def _public(account: Account) -> dict[str, object]:
    """What an audit entry may say about an account: never its password hash."""
    return {
        "username": account.username,
        "full_name": account.full_name,
        "role": account.role,
        "active": account.active,
    }


def _password_errors(field: str, password: str) -> list[FieldError]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [
            FieldError(field, f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.")
        ]
    return []


def _may_manage(service: AccountService, actor: Actor) -> bool:
    # While a clinic has no active admin, its clinicians manage its accounts.
    return service.may_manage(actor)


class AccountService:
    def __init__(self, context: ServiceContext, hasher: PasswordHasher | None = None) -> None:
        self._context = context
        self._hasher = hasher or password_hasher()
        self._checks = PasswordChecks(self._hasher)

    @use_case(None)
    def may_manage(self, actor: Actor) -> bool:
        """Admins manage accounts; while a clinic has no active admin, its clinicians do.

        A sole practitioner may have set the clinic up as an acupuncturist or physical
        therapist: without this, nobody could ever add a colleague or an administrator.
        """
        return allowed_or_no_admin(self._context, actor, Permission.MANAGE_ACCOUNTS)

    @use_case(Permission.MANAGE_ACCOUNTS, also_allowed=_may_manage)
    def accounts(self, actor: Actor) -> list[Account]:
        """Every account, active ones first, each group by name."""
        with self._context.reading() as session:
            rows = session.scalars(
                select(ClinicianRow).order_by(
                    ClinicianRow.active.desc(), ClinicianRow.full_name, ClinicianRow.id
                )
            )
            return [_account(row) for row in rows]

    @use_case(Permission.MANAGE_ACCOUNTS, changes={Change.ACCOUNTS}, also_allowed=_may_manage)
    def create(self, actor: Actor, new: NewClinician) -> Account:
        errors = validate_clinician(new)
        if errors:
            raise ValidationFailed(errors)
        with self._context.writing() as session:
            row = insert_clinician(self._context, self._hasher, session, new, actor)
            account = _account(row)
            self._context.audit(
                session,
                actor,
                AuditEntry("create", "clinician", row.id, details={"after": _public(account)}),
            )
            return account

    @use_case(Permission.MANAGE_ACCOUNTS, changes={Change.ACCOUNTS}, also_allowed=_may_manage)
    def deactivate(self, actor: Actor, clinician_id: int, *, expected_version: int) -> Account:
        """The account can no longer sign in; everything it wrote stays attributed to it."""
        if clinician_id == actor.clinician_id:
            raise ValidationFailed(
                [FieldError("active", "You cannot deactivate your own account.")]
            )
        with self._context.writing() as session:
            row = self._row(session, clinician_id, expected_version)
            if row.active and row.role == "admin" and self._other_active_admins(session, row) == 0:
                raise ValidationFailed(
                    [
                        FieldError(
                            "active",
                            f"{row.full_name} is the last active admin; "
                            "make another account admin first.",
                        )
                    ]
                )
            return self._set_active(session, actor, row, active=False)

    @use_case(Permission.MANAGE_ACCOUNTS, changes={Change.ACCOUNTS}, also_allowed=_may_manage)
    def reactivate(self, actor: Actor, clinician_id: int, *, expected_version: int) -> Account:
        with self._context.writing() as session:
            row = self._row(session, clinician_id, expected_version)
            return self._set_active(session, actor, row, active=True)

    @use_case(Permission.MANAGE_ACCOUNTS, changes={Change.ACCOUNTS}, also_allowed=_may_manage)
    def reset_password(
        self, actor: Actor, clinician_id: int, new_password: str, *, expected_version: int
    ) -> Account:
        """Set a new password for someone who forgot theirs; this also lifts a lockout."""
        errors = _password_errors("password", new_password)
        if errors:
            raise ValidationFailed(errors)
        with self._context.writing() as session:
            row = self._row(session, clinician_id, expected_version)
            was_locked = row.locked_until is not None
            row.password_hash = self._hasher.hash(new_password)
            row.failed_sign_ins = 0
            row.locked_until = None
            self._context.stamp_change(row, actor)
            session.flush()
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "password_reset",
                    "clinician",
                    row.id,
                    details={
                        "username": row.username,
                        "before": {"locked": was_locked},
                        "after": {"locked": False},
                    },
                ),
            )
            return _account(row)

    @use_case(None, changes={Change.ACCOUNTS})
    def change_own_password(self, actor: Actor, old_password: str, new_password: str) -> None:
        """A clinician's own change; the current password is checked like a sign-in.

        Wrong current passwords count towards the same lockout as failed sign-ins (an
        unlocked screen left alone must not become a way to guess the password), and a
        locked account cannot change its password until the lock ends.
        """
        if actor.clinician_id is None:
            raise ServiceError("The command line has no password of its own to change.")
        errors = _password_errors("new_password", new_password)
        if errors:
            raise ValidationFailed(errors)
        now = self._context.clock.now()
        with self._context.reading() as session:
            row = session.get(ClinicianRow, actor.clinician_id)
            if row is None:
                raise NotFound(f"Account {actor.clinician_id} does not exist.")
            locked = is_locked(row.locked_until, now)
        matched = self._checks.matches(row.password_hash, old_password)
        with self._context.writing() as session:
            current = session.get_one(ClinicianRow, row.id)
            if matched and not locked and not is_locked(current.locked_until, now):
                clear_failures(session, row.id)
                current.password_hash = self._checks.hash(new_password)
                self._context.stamp_change(current, actor)
                session.flush()
                self._context.audit(
                    session, actor, AuditEntry("password_change", "clinician", row.id)
                )
                return
            counted = None if matched or locked else count_failure(session, row.id, now)
            # Audited and committed; the refusal is raised once the entry is saved.
            if counted is None:
                self._context.audit(
                    session,
                    actor,
                    AuditEntry("password_change_refused_locked", "clinician", row.id),
                )
                refusal = ValidationFailed([FieldError("old_password", PASSWORD_CHANGE_LOCKED)])
            else:
                details: dict[str, object] = {"attempt": counted.attempt}
                if counted.locked_until is not None:
                    details["locked_until"] = counted.locked_until.isoformat()
                self._context.audit(
                    session,
                    actor,
                    AuditEntry("password_change_refused", "clinician", row.id, details=details),
                )
                refusal = ValidationFailed(
                    [FieldError("old_password", "The current password is not correct.")]
                )
        raise refusal

    @use_case(None)
    def record_lock(self, actor: Actor) -> None:
        """The screen locked itself after the clinic's idle time."""
        with self._context.writing() as session:
            self._context.audit(session, actor, AuditEntry("lock", "clinician", actor.clinician_id))

    @use_case(None)
    def record_unlock(self, actor: Actor, *, locked_for: Actor | None = None) -> None:
        """Someone signed in on a locked screen; locked_for names whose screen it was."""
        details: dict[str, object] = {}
        if locked_for is not None and locked_for.clinician_id != actor.clinician_id:
            details = {"locked_for": locked_for.clinician_id, "kept_as_draft": True}
        with self._context.writing() as session:
            self._context.audit(
                session,
                actor,
                AuditEntry("unlock", "clinician", actor.clinician_id, details=details),
            )

    def _row(self, session: Session, clinician_id: int, expected_version: int) -> ClinicianRow:
        return self._context.row_at_version(
            session,
            ClinicianRow,
            clinician_id,
            expected_version,
            noun="Account",
            record=lambda row: f"The account of {row.full_name}",
        )

    @staticmethod
    def _other_active_admins(session: Session, row: ClinicianRow) -> int:
        # Locked rows on PostgreSQL: two admins deactivating each other at the same moment
        # must not leave the clinic without one. (SQLite allows one writer at a time.)
        others = session.scalars(
            select(ClinicianRow.id)
            .where(
                ClinicianRow.role == "admin",
                ClinicianRow.active.is_(True),
                ClinicianRow.id != row.id,
            )
            .with_for_update()
        ).all()
        return len(others)

    def _set_active(
        self, session: Session, actor: Actor, row: ClinicianRow, *, active: bool
    ) -> Account:
        before = _account(row)
        if row.active == active:
            return before
        row.active = active
        self._context.stamp_change(row, actor)
        session.flush()
        after = _account(row)
        self._context.audit(
            session,
            actor,
            AuditEntry(
                "reactivate" if active else "deactivate",
                "clinician",
                row.id,
                details={"before": {"active": before.active}, "after": {"active": after.active}},
            ),
        )
        return after
