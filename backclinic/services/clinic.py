"""First-run set-up, clinic settings, clinician accounts and sign-in."""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import asdict, dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backclinic.db.models import CLINICIAN_ROLES, ClinicianRow, ClinicSettingsRow
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import (
    AuthenticationFailed,
    FieldError,
    ValidationFailed,
)
from backclinic.services.permissions import Permission, allows
from backclinic.services.use_case import Change, before_sign_in, reads_no_records, use_case

ROLE_LABELS = {
    "admin": "Administrator",
    "acupuncturist": "Acupuncturist",
    "physical_therapist": "Physical therapist",
    "front_desk": "Front desk",
}
MIN_PASSWORD_LENGTH = 8
MAX_FAILED_SIGN_INS = 5
LOCKOUT = dt.timedelta(minutes=5)
WEEKDAYS_MON_TO_FRI = [0, 1, 2, 3, 4]
_WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SIGN_IN_FAILED = "The user name or password is not correct."
# Front desk cannot found a clinic: someone must be able to record care from the start.
FIRST_RUN_ROLES = ("acupuncturist", "physical_therapist", "admin")


@dataclass(frozen=True)
class ClinicSettings:
    clinic_name: str
    address: str
    phone: str
    email: str
    logo_path: str | None
    idle_lock_minutes: int
    clinic_days: tuple[int, ...]
    version: int
    opens_at: str = "08:00"
    closes_at: str = "18:00"
    closed_dates: tuple[dt.date, ...] = ()

    def describe(self) -> str:
        """The settings as ``clinic show`` prints them, one per line."""
        days = ", ".join(_WEEKDAY_CODES[day] for day in self.clinic_days)
        closed = ", ".join(day.isoformat() for day in self.closed_dates) or "none"
        return "\n".join(
            (
                f"Name: {self.clinic_name}",
                f"Address: {self.address or '(none)'}",
                f"Phone: {self.phone or '(none)'}",
                f"Email: {self.email or '(none)'}",
                f"Open days: {days}",
                f"Hours: {self.opens_at}-{self.closes_at}",
                f"Closed: {closed}",
            )
        )


@dataclass(frozen=True)
class Clinician:
    id: int
    username: str
    full_name: str
    role: str
    active: bool

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def as_actor(self) -> Actor:
        return Actor(clinician_id=self.id, name=self.full_name, role=self.role)


@dataclass(frozen=True)
class NewClinician:
    full_name: str
    username: str
    role: str
    password: str


def _clinician(row: ClinicianRow) -> Clinician:
    return Clinician(row.id, row.username, row.full_name, row.role, row.active)


def _settings(row: ClinicSettingsRow) -> ClinicSettings:
    return ClinicSettings(
        clinic_name=row.clinic_name,
        address=row.address,
        phone=row.phone,
        email=row.email,
        logo_path=row.logo_path,
        idle_lock_minutes=row.idle_lock_minutes,
        clinic_days=tuple(row.clinic_days),
        version=row.version,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        closed_dates=tuple(dt.date.fromisoformat(day) for day in row.closed_dates),
    )


def weekday_numbers(codes: str) -> tuple[int, ...]:
    """``mon,tue,…`` as weekday numbers; ValueError naming the first unknown code."""
    days = []
    for code in (part.strip().casefold()[:3] for part in codes.split(",") if part.strip()):
        if code not in _WEEKDAY_CODES:
            raise ValueError(f"{code!r} is not a weekday; use mon, tue, wed, thu, fri, sat, sun")
        days.append(_WEEKDAY_CODES.index(code))
    return tuple(sorted(set(days)))


def _clock_time(text: str) -> dt.time | None:
    try:
        parsed = dt.time.fromisoformat(text)
    except ValueError:
        return None
    return parsed if len(text) == 5 and parsed.second == 0 else None


def _hours_errors(opens_at: str, closes_at: str) -> list[FieldError]:
    opens, closes = _clock_time(opens_at), _clock_time(closes_at)
    if opens is None or closes is None:
        wrong = opens_at if opens is None else closes_at
        return [FieldError("hours", f"Hours must be times as HH:MM, got {wrong!r}.")]
    if closes <= opens:
        return [
            FieldError("hours", f"The clinic must close after it opens ({opens_at}-{closes_at}).")
        ]
    return []


def validate_clinician(new: NewClinician, prefix: str = "") -> list[FieldError]:
    errors = []
    if not new.full_name.strip():
        errors.append(FieldError(f"{prefix}full_name", "Full name is required."))
    if not new.username.strip():
        errors.append(FieldError(f"{prefix}username", "User name is required."))
    elif any(ch.isspace() for ch in new.username.strip()):
        errors.append(FieldError(f"{prefix}username", "User name cannot contain spaces."))
    if new.role not in CLINICIAN_ROLES:
        errors.append(
            FieldError(f"{prefix}role", f"Role must be one of: {', '.join(ROLE_LABELS.values())}.")
        )
    if len(new.password) < MIN_PASSWORD_LENGTH:
        errors.append(
            FieldError(
                f"{prefix}password",
                f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            )
        )
    return errors


def _plain(values: dict[str, object]) -> dict[str, object]:
    """Dates as ISO text, so the audit entry's details stay JSON."""
    return {
        key: [day.isoformat() for day in value]
        if key == "closed_dates" and isinstance(value, tuple)
        else value
        for key, value in values.items()
    }


def _settings_changes(before: ClinicSettings, after: ClinicSettings) -> dict[str, object]:
    old, new = _plain(asdict(before)), _plain(asdict(after))
    changed = [key for key in old if key != "version" and old[key] != new[key]]
    return {
        "before": {key: old[key] for key in changed},
        "after": {key: new[key] for key in changed},
    }


def active_admin_exists(session: Session) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(ClinicianRow)
            .where(ClinicianRow.role == "admin", ClinicianRow.active.is_(True))
        )
    )


def insert_clinician(
    context: ServiceContext,
    hasher: PasswordHasher,
    session: Session,
    new: NewClinician,
    actor: Actor | None,
) -> ClinicianRow:
    """The one way an account is stored (first-run set-up and the Accounts dialog): the
    user name must be free, and only the password's hash is kept."""
    username = new.username.strip()
    taken = session.scalar(
        select(func.count()).select_from(ClinicianRow).where(ClinicianRow.username == username)
    )
    if taken:
        raise ValidationFailed([FieldError("username", f"User name {username} is taken.")])
    row = ClinicianRow(
        username=username,
        full_name=new.full_name.strip(),
        role=new.role,
        password_hash=hasher.hash(new.password),
        active=True,
        failed_sign_ins=0,
    )
    context.stamp_new(row, actor)
    session.add(row)
    session.flush()
    return row


def _may_administer(service: ClinicService, actor: Actor) -> bool:
    return service.may_administer(actor)


class ClinicService:
    def __init__(self, context: ServiceContext, hasher: PasswordHasher | None = None) -> None:
        self._context = context
        self._hasher = hasher or PasswordHasher()

    @reads_no_records
    def system_actor(self) -> Actor:
        """Whom headless commands act as: the operating-system user, named in the audit."""
        return Actor(clinician_id=None, name=f"command line ({getpass.getuser()})", role="system")

    @use_case(None)
    def may_administer(self, actor: Actor) -> bool:
        """Admins run the clinic's settings; while it has no active admin, its clinicians do.

        A sole practitioner may have set the clinic up as an acupuncturist or physical
        therapist: without this, nobody could ever change the letterhead or add a colleague.
        """
        if allows(actor, Permission.CHANGE_SETTINGS):
            return True
        if not allows(actor, Permission.WRITE_CLINICAL):
            return False
        with self._context.reading() as session:
            return not active_admin_exists(session)

    @before_sign_in()
    def is_set_up(self) -> bool:
        with self._context.reading() as session:
            return session.get(ClinicSettingsRow, 1) is not None

    @before_sign_in()
    def settings(self) -> ClinicSettings:
        with self._context.reading() as session:
            row = session.get(ClinicSettingsRow, 1)
            if row is None:
                raise LookupError("the clinic has not been set up")
            return _settings(row)

    @before_sign_in(changes={Change.SETTINGS, Change.ACCOUNTS})
    def set_up(self, *, clinic_name: str, first_clinician: NewClinician) -> Clinician:
        """Create the clinic and its first account in one transaction (first start only)."""
        errors = []
        if not clinic_name.strip():
            errors.append(FieldError("clinic_name", "Clinic name is required."))
        errors += validate_clinician(first_clinician)
        if first_clinician.role in CLINICIAN_ROLES and first_clinician.role not in FIRST_RUN_ROLES:
            errors.append(
                FieldError(
                    "role", "The first account is an acupuncturist, physical therapist or admin."
                )
            )
        if errors:
            raise ValidationFailed(errors)
        with self._context.writing() as session:
            if session.get(ClinicSettingsRow, 1) is not None:
                raise ValidationFailed(
                    [FieldError("clinic_name", "This clinic has already been set up.")]
                )
            clinician = insert_clinician(
                self._context, self._hasher, session, first_clinician, actor=None
            )
            actor = _clinician(clinician).as_actor()
            settings = ClinicSettingsRow(
                id=1, clinic_name=clinic_name.strip(), clinic_days=WEEKDAYS_MON_TO_FRI
            )
            self._context.stamp_new(settings, actor)
            session.add(settings)
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "create",
                    "clinic",
                    1,
                    details={"clinic_name": clinic_name.strip(), "first_clinician": clinician.id},
                ),
            )
            return _clinician(clinician)

    @use_case(Permission.CHANGE_SETTINGS, changes={Change.SETTINGS}, also_allowed=_may_administer)
    def update_settings(
        self,
        actor: Actor,
        *,
        clinic_name: str,
        address: str,
        phone: str,
        email: str,
        idle_lock_minutes: int,
        clinic_days: tuple[int, ...],
        expected_version: int,
        logo_path: str | None = None,
        opens_at: str | None = None,
        closes_at: str | None = None,
        closed_dates: tuple[dt.date, ...] | None = None,
    ) -> ClinicSettings:
        """Change what letterheads and schedules use; admins (and the command line) only.

        Hours and closures left as None stay as they are.
        """
        current = self.settings()
        opens_at = current.opens_at if opens_at is None else opens_at.strip()
        closes_at = current.closes_at if closes_at is None else closes_at.strip()
        closed = sorted(set(current.closed_dates if closed_dates is None else closed_dates))
        errors = _hours_errors(opens_at, closes_at)
        if not clinic_name.strip():
            errors.append(FieldError("clinic_name", "Clinic name is required."))
        if not 1 <= idle_lock_minutes <= 30:
            errors.append(
                FieldError("idle_lock_minutes", "Idle lock must be between 1 and 30 minutes.")
            )
        if not clinic_days or any(day not in range(7) for day in clinic_days):
            errors.append(FieldError("clinic_days", "Choose at least one opening day."))
        logo = (logo_path or "").strip() or None
        if logo is not None and not (
            Path(logo).is_file() and Path(logo).suffix.lower() in (".png", ".jpg", ".jpeg")
        ):
            errors.append(FieldError("logo_path", "The logo must be an existing PNG or JPEG file."))
        if errors:
            raise ValidationFailed(errors)
        with self._context.writing() as session:
            row = session.get(ClinicSettingsRow, 1)
            if row is None:
                raise LookupError("the clinic has not been set up")
            self._context.check_version(
                session,
                row,
                expected_version,
                record="The clinic's details",
                yours={
                    "clinic_name": clinic_name,
                    "address": address,
                    "phone": phone,
                    "email": email,
                    "idle_lock_minutes": idle_lock_minutes,
                    "clinic_days": sorted(set(clinic_days)),
                    "logo_path": logo_path,
                    "hours": f"{opens_at}-{closes_at}",
                    "closed_dates": [day.isoformat() for day in closed],
                },
            )
            before = _settings(row)
            row.clinic_name = clinic_name.strip()
            row.address = address.strip()
            row.phone = phone.strip()
            row.email = email.strip()
            row.idle_lock_minutes = idle_lock_minutes
            row.clinic_days = sorted(set(clinic_days))
            row.logo_path = logo
            row.opens_at = opens_at
            row.closes_at = closes_at
            row.closed_dates = [day.isoformat() for day in closed]
            self._context.stamp_change(row, actor)
            session.flush()
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "change",
                    "clinic",
                    1,
                    details=_settings_changes(before, _settings(row)),
                ),
            )
            return _settings(row)

    @use_case(None)
    def clinicians(self, actor: Actor) -> list[Clinician]:
        with self._context.reading() as session:
            rows = session.scalars(select(ClinicianRow).order_by(ClinicianRow.full_name))
            return [_clinician(row) for row in rows]

    @before_sign_in(changes={Change.ACCOUNTS})
    def sign_in(self, username: str, password: str) -> Clinician:
        """Check a password; the failure message never says which part was wrong."""
        now = self._context.clock()
        with self._context.writing() as session:
            row = session.scalars(
                select(ClinicianRow).where(ClinicianRow.username == username.strip())
            ).one_or_none()
            if row is None or not row.active:
                self._context.audit(
                    session,
                    None,
                    AuditEntry("sign_in_failed", "clinician", details={"username": username}),
                )
                failure: Exception = AuthenticationFailed(SIGN_IN_FAILED)
            elif row.locked_until is not None and row.locked_until > now:
                minutes = max(1, round((row.locked_until - now).total_seconds() / 60))
                self._context.audit(
                    session, None, AuditEntry("sign_in_refused_locked", "clinician", row.id)
                )
                failure = AuthenticationFailed(
                    f"This account is locked after repeated failed sign-ins; "
                    f"try again in {minutes} minute{'s' if minutes != 1 else ''}."
                )
            elif self._password_matches(row, password):
                row.failed_sign_ins = 0
                row.locked_until = None
                if self._hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = self._hasher.hash(password)
                actor = _clinician(row).as_actor()
                self._context.audit(session, actor, AuditEntry("sign_in", "clinician", row.id))
                return _clinician(row)
            else:
                row.failed_sign_ins += 1
                details: dict[str, object] = {"attempt": row.failed_sign_ins}
                if row.failed_sign_ins >= MAX_FAILED_SIGN_INS:
                    row.locked_until = now + LOCKOUT
                    row.failed_sign_ins = 0
                    details["locked_until"] = row.locked_until.isoformat()
                self._context.audit(
                    session,
                    None,
                    AuditEntry("sign_in_failed", "clinician", row.id, details=details),
                )
                failure = AuthenticationFailed(SIGN_IN_FAILED)
        raise failure

    def _password_matches(self, row: ClinicianRow, password: str) -> bool:
        try:
            return self._hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
