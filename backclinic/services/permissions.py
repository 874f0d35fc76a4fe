"""Who may do what: each role's permissions, checked by services before they read or write.

The UI hides what a role cannot use, but the rule lives here so that no screen or command
can get around it.
"""

from __future__ import annotations

from enum import StrEnum

from backclinic.services.context import Actor
from backclinic.services.errors import PermissionDenied


class Permission(StrEnum):
    REGISTER_PATIENTS = "register patients"
    VIEW_SCHEDULE = "see the day's schedule"
    VIEW_CLINICAL = "see clinical records"
    WRITE_CLINICAL = "record clinical care"
    PRINT = "print or export records"
    MANAGE_ACCOUNTS = "manage clinician accounts"
    VIEW_AUDIT = "view the audit trail"
    BACKUP = "back up or restore the database"
    CHANGE_SETTINGS = "change clinic settings"


_CLINICIAN = frozenset(
    {
        Permission.REGISTER_PATIENTS,
        Permission.VIEW_SCHEDULE,
        Permission.VIEW_CLINICAL,
        Permission.WRITE_CLINICAL,
        Permission.PRINT,
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "acupuncturist": _CLINICIAN,
    "physical_therapist": _CLINICIAN,
    "front_desk": frozenset({Permission.REGISTER_PATIENTS, Permission.VIEW_SCHEDULE}),
    # Headless commands run by the operating-system user who owns the database.
    "system": frozenset(Permission),
}

ROLE_NAMES = {
    "admin": "Administrator",
    "acupuncturist": "Acupuncturist",
    "physical_therapist": "Physical therapist",
    "front_desk": "Front desk",
    "system": "Command line",
}


def allows(actor: Actor, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(actor.role, frozenset())


def require(actor: Actor, permission: Permission) -> None:
    """Raise PermissionDenied, in one sentence, unless the actor's role allows it."""
    if not allows(actor, permission):
        role = ROLE_NAMES.get(actor.role, actor.role).lower()
        article = "An" if role[:1] in "aeiou" else "A"
        raise PermissionDenied(f"{article} {role} account cannot {permission.value}.")
