"""Errors a service raises for a person to read: one clear sentence, naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ServiceError(Exception):
    """Base for errors whose message is fit to show a clinician as it is."""


class ValidationFailed(ServiceError):
    """Input broke a rule; every broken field is listed, the first one in the message."""

    def __init__(self, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one FieldError")
        self.errors = errors
        super().__init__(errors[0].message)

    @property
    def by_field(self) -> dict[str, str]:
        return {error.field: error.message for error in self.errors}


class NotFound(ServiceError):
    pass


class AuthenticationFailed(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


@dataclass(frozen=True)
class ConcurrentChange:
    """What another workstation saved while this one was editing."""

    changed_by: str
    changed_at: dt.datetime
    theirs: Mapping[str, Any] = field(default_factory=dict)
    yours: Mapping[str, Any] = field(default_factory=dict)


class ConflictError(ServiceError):
    """A save lost a race: nothing was written and the caller keeps the user's input."""

    def __init__(self, record: str, change: ConcurrentChange) -> None:
        self.change = change
        when = change.changed_at.astimezone().strftime("%Y-%m-%d %H:%M")
        super().__init__(
            f"{record} was changed by {change.changed_by} at {when} while you were editing; "
            "nothing was saved. Review their version and save again."
        )


class StaleRecord(ConflictError):
    """A record changed since it was read: who changed it, when, and both versions.

    ``expected_version`` is the version the editor read, ``current_version`` the one stored
    now (None when the row has gone, or the race was only seen at flush time).
    """

    def __init__(
        self,
        record: str,
        change: ConcurrentChange,
        *,
        expected_version: int | None = None,
        current_version: int | None = None,
    ) -> None:
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(record, change)
