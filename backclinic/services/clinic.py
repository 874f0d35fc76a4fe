"""First-run set-up, clinic settings, clinician accounts and sign-in."""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import asdict, dataclass
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backclinic.db.models import CLINICIAN_ROLES, ClinicianRow, ClinicSettingsRow
from backclinic.services.clock import TIME_ZONE_FIELD, time_zone_problem, workstation_zone_name
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import (
    AuthenticationFailed,
    FieldError,
    ValidationFailed,
)
from backclinic.services.lockout import PasswordChecks, clear_failures, count_failure, is_locked
from backclinic.services.passwords import password_hasher
from backclinic.services.permissions import Permission, allows
from backclinic.services.use_case import Change, before_sign_in, reads_no_records, use_case

ROLE_LABELS = {
    "admin": "Administrator",
    "acupuncturist": "Acupuncturist",
    "physical_therapist": "Physical therapist",
    "front_desk": "Front desk",
}
MIN_PASSWORD_LENGTH = 8
WEEKDAYS_MON_TO_FRI = [0, 1, 2, 3, 4]
_WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# One message for a wrong name, a wrong password and a locked account: which of them it was
# would tell an attacker that the account exists.
SIGN_IN_FAILED = (
    "The user name or password is not correct, or the account is locked for a few minutes "
    "after repeated failures."
)
# Front desk cannot found a clinic: someone must be able to record care from the start.
FIRST_RUN_ROLES = ("acupuncturist", "physical_therapist", "admin")


LOGO_RULE = "The logo must be an existing PNG or JPEG file."


def _usable_logo(path: str) -> bool:
    return Path(path).is_file() and Path(path).suffix.lower() in (".png", ".jpg", ".jpeg")


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
    # IANA name of the zone whose calendar is the clinic's "today"; None: the workstation's.
    time_zone: str | None = None
    opens_at: str = "08:00"
    closes_at: str = "18:00"
    closed_dates: tuple[dt.date, ...] = ()

    def describe(self) -> str:
        """The settings as ``clinic show`` prints them, one per line."""
        days = ", ".join(_WEEKDAY_CODES[day] for day in self.clinic_days)
        closed = ", ".join(day.isoformat() for day in self.closed_dates) or "none"
        zone = self.time_zone or "this computer's own"
        return "\n".join(
            (
                f"Name: {self.clinic_name}",
                f"Address: {self.address or '(none)'}",
                f"Phone: {self.phone or '(none)'}",
                f"Email: {self.email or '(none)'}",
                f"Open days: {days}",
                f"Hours: {self.opens_at}-{self.closes_at}",
                f"Closed: {closed}",
                f"Time zone: {zone}",
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
        time_zone=row.time_zone,
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


def visit_time_errors(visit_time: str, opens_at: str, closes_at: str) -> list[FieldError]:
    """A visit is booked at a clock time when the clinic is open (it opens at or before it
    and closes after it)."""
    at = _clock_time(visit_time)
    if at is None:
        return [
            FieldError("visit_time", f"Visit time must be a time as HH:MM, got {visit_time!r}.")
        ]
    opens, closes = _clock_time(opens_at), _clock_time(closes_at)
    if opens is not None and closes is not None and not opens <= at < closes:
        return [
            FieldError(
                "visit_time",
                f"Visit time {visit_time} must be between {opens_at} and {closes_at}, "
                "when the clinic is open.",
            )
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


@before_sign_in()
def load_clock_zone(context: ServiceContext) -> None:
    """Set the clinic clock to the stored time zone (none yet: the workstation's); read
    when the services are built, before anyone signs in."""
    with context.reading() as session:
        row = session.get(ClinicSettingsRow, 1)
        context.clock.set_zone(row.time_zone if row is not None else None)


def active_admin_exists(session: Session) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(ClinicianRow)
            .where(ClinicianRow.role == "admin", ClinicianRow.active.is_(True))
        )
    )


def allowed_or_no_admin(context: ServiceContext, actor: Actor, permission: Permission) -> bool:
    """Whether ``actor`` holds ``permission``, or, while the clinic has no active admin, is
    one of its clinicians (writes clinical records)."""
    if allows(actor, permission):
        return True
    if not allows(actor, Permission.WRITE_CLINICAL):
        return False
    with context.reading() as session:
        return not active_admin_exists(session)


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
        self._hasher = hasher or password_hasher()
        self._checks = PasswordChecks(self._hasher)

    @reads_no_records
    def database_identity(self) -> str:
        """A tag naming the database these services run on; another database has another."""
        return self._context.database_identity()

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
        return allowed_or_no_admin(self._context, actor, Permission.CHANGE_SETTINGS)

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
            settings = _settings(row)
        # Each read also picks up a time zone another workstation has changed.
        self._context.clock.set_zone(settings.time_zone)
        return settings

    @before_sign_in(changes={Change.SETTINGS, Change.ACCOUNTS})
    def set_up(
        self,
        *,
        clinic_name: str,
        first_clinician: NewClinician,
        address: str = "",
        phone: str = "",
        logo_path: str | None = None,
    ) -> Clinician:
        """Create the clinic and its first account in one transaction (first start only)."""
        errors = []
        if not clinic_name.strip():
            errors.append(FieldError("clinic_name", "Clinic name is required."))
        logo = (logo_path or "").strip() or None
        if logo is not None and not _usable_logo(logo):
            errors.append(FieldError("logo_path", LOGO_RULE))
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
                id=1,
                clinic_name=clinic_name.strip(),
                address=address.strip(),
                phone=phone.strip(),
                logo_path=logo,
                clinic_days=WEEKDAYS_MON_TO_FRI,
                time_zone=workstation_zone_name(),
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
            created = _clinician(clinician)
        self._context.clock.set_zone(settings.time_zone)
        return created

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
        time_zone: str | None = None,
    ) -> ClinicSettings:
        """Change what letterheads and schedules use; admins (and the command line) only.

        Hours and closures left as None stay as they are. ``time_zone`` is an IANA name, or ""
        for the workstation's own zone; None keeps it.
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
        if logo is not None and not _usable_logo(logo):
            errors.append(FieldError("logo_path", LOGO_RULE))
        zone = time_zone.strip() if time_zone is not None else None
        zone_problem = time_zone_problem(zone) if zone else None
        if zone_problem is not None:
            errors.append(FieldError(TIME_ZONE_FIELD, zone_problem))
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
                    "time_zone": time_zone,
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
            if zone is not None:
                row.time_zone = zone or None
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
            after = _settings(row)
        self._context.clock.set_zone(after.time_zone)
        return after

    @use_case(None)
    def clinicians(self, actor: Actor) -> list[Clinician]:
        with self._context.reading() as session:
            rows = session.scalars(select(ClinicianRow).order_by(ClinicianRow.full_name))
            return [_clinician(row) for row in rows]

    @before_sign_in(changes={Change.ACCOUNTS})
    def sign_in(self, username: str, password: str) -> Clinician:
        """Check a password; every refusal reads the same and costs the same.

        A wrong name, a wrong password, a deactivated and a locked account all get
        SIGN_IN_FAILED after one argon2 verification (see services.lockout).
        """
        now = self._context.clock.now()
        with self._context.reading() as session:
            row = session.scalars(
                select(ClinicianRow).where(ClinicianRow.username == username.strip())
            ).one_or_none()
            account = None if row is None or not row.active else row
            password_hash = account.password_hash if account else None
            locked = account is not None and is_locked(account.locked_until, now)
        matched = self._checks.matches(password_hash, password)
        with self._context.writing() as session:
            if account is None:
                # What was typed is not kept: it may be a password in the wrong field.
                self._context.audit(
                    session,
                    None,
                    AuditEntry("sign_in_failed", "clinician", details={"account": "unknown"}),
                )
            elif locked:
                self._context.audit(
                    session, None, AuditEntry("sign_in_refused_locked", "clinician", account.id)
                )
            elif matched:
                current = session.get_one(ClinicianRow, account.id)
                if is_locked(current.locked_until, now):
                    # Another workstation's failures locked it while this one was hashing.
                    self._context.audit(
                        session, None, AuditEntry("sign_in_refused_locked", "clinician", current.id)
                    )
                else:
                    clear_failures(session, current.id)
                    if self._checks.needs_rehash(current.password_hash):
                        current.password_hash = self._checks.hash(password)
                    signed_in = _clinician(current)
                    self._context.audit(
                        session,
                        signed_in.as_actor(),
                        AuditEntry("sign_in", "clinician", current.id),
                    )
                    return signed_in
            else:
                counted = count_failure(session, account.id, now)
                if counted is None:
                    entry = AuditEntry("sign_in_refused_locked", "clinician", account.id)
                else:
                    details: dict[str, object] = {"attempt": counted.attempt}
                    if counted.locked_until is not None:
                        details["locked_until"] = counted.locked_until.isoformat()
                    entry = AuditEntry("sign_in_failed", "clinician", account.id, details=details)
                self._context.audit(session, None, entry)
        raise AuthenticationFailed(SIGN_IN_FAILED)
