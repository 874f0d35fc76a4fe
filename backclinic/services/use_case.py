"""Service entry points declared where they are defined: the permission each needs and what
each write changes, so that no entry point forgets its check and views know what to reload.

A method decorated with ``@use_case(...)`` takes the acting ``Actor`` as its first argument
after ``self``; the check runs before the body, and the declared changes are what the UI's
notifier broadcasts when the call succeeds. Only the body of a declared entry point may open
a unit of work (``ServiceContext.reading()``/``writing()`` refuse elsewhere).

Two other declarations are explicit rather than silent exemptions:
``@before_sign_in`` for what must work before anyone has signed in (sign-in itself, first-run
set-up, the clinic's name for a title), and ``@reads_no_records`` for public helpers that
open no unit of work at all (the clinic's date, a preview computed from the caller's input).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

from backclinic.services.context import Actor, inside_entry_point
from backclinic.services.permissions import Permission, allows, require

P = ParamSpec("P")
R = TypeVar("R")


class Change(StrEnum):
    """A kind of record a write use case changed; views reload on the kinds they show."""

    PATIENTS = "patients"
    ASSESSMENTS = "assessments"
    PLAN = "plan"
    SESSIONS = "sessions"
    SCHEDULE = "schedule"
    DOCUMENTS = "documents"
    ACCOUNTS = "accounts"
    SETTINGS = "settings"


class Access(StrEnum):
    """Who may call an entry point: a signed-in actor, anyone before sign-in, or no records."""

    SIGNED_IN = "signed in"
    BEFORE_SIGN_IN = "before sign-in"
    NO_RECORDS = "reads no records"


@dataclass(frozen=True)
class EntryPoint:
    """What a public service method declares: who may call it and what it changes."""

    name: str
    permission: Permission | None
    changes: frozenset[Change]
    access: Access = Access.SIGNED_IN


# An alternative way to hold the permission, asked of the service only when the actor's role
# lacks it (a sole practitioner runs their clinic until it has an administrator).
AlsoAllowed = Callable[[Any, Actor], bool]

_ENTRY_ATTRIBUTE = "__backclinic_entry_point__"

# The actor of the use case running in this thread (or task), for nested service calls.
_current_actor: ContextVar[Actor | None] = ContextVar("backclinic_current_actor", default=None)


def current_actor() -> Actor | None:
    """The actor of the use case now running, or None outside any."""
    return _current_actor.get()


def use_case(
    permission: Permission | None,
    *,
    changes: Iterable[Change] = (),
    also_allowed: AlsoAllowed | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a service method as an entry point needing ``permission`` (None: any actor).

    ``also_allowed(service, actor)`` is asked only when the actor's role lacks the
    permission; if it answers True the call goes ahead.
    """

    def declare(method: Callable[P, R]) -> Callable[P, R]:
        entry = EntryPoint(method.__qualname__, permission, frozenset(changes))

        @functools.wraps(method)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            actor = kwargs.get("actor", args[1] if len(args) > 1 else None)
            if not isinstance(actor, Actor):
                raise TypeError(f"{entry.name} must be called with the acting Actor")
            token = _current_actor.set(actor)
            try:
                with inside_entry_point(entry.name):
                    if (
                        permission is not None
                        and not allows(actor, permission)
                        and (also_allowed is None or not also_allowed(args[0], actor))
                    ):
                        require(actor, permission)
                    return method(*args, **kwargs)
            finally:
                _current_actor.reset(token)

        setattr(checked, _ENTRY_ATTRIBUTE, entry)
        return checked

    return declare


def before_sign_in(*, changes: Iterable[Change] = ()) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare an entry point that must work before anyone signs in, so takes no actor."""

    def declare(method: Callable[P, R]) -> Callable[P, R]:
        entry = EntryPoint(method.__qualname__, None, frozenset(changes), Access.BEFORE_SIGN_IN)

        @functools.wraps(method)
        def unchecked(*args: P.args, **kwargs: P.kwargs) -> R:
            with inside_entry_point(entry.name):
                return method(*args, **kwargs)

        setattr(unchecked, _ENTRY_ATTRIBUTE, entry)
        return unchecked

    return declare


def reads_no_records(method: Callable[P, R]) -> Callable[P, R]:
    """Declare a public helper that opens no unit of work (it would be refused if it did)."""
    setattr(
        method,
        _ENTRY_ATTRIBUTE,
        EntryPoint(method.__qualname__, None, frozenset(), Access.NO_RECORDS),
    )
    return method


def entry_point_of(function: Any) -> EntryPoint | None:
    """The declaration of a service method (bound or not, or a property), or None."""
    if isinstance(function, property):
        function = function.fget
    return getattr(getattr(function, "__func__", function), _ENTRY_ATTRIBUTE, None)


def changes_of(function: Any) -> frozenset[Change]:
    """What a call to ``function`` changes when it succeeds (empty for reads)."""
    entry = entry_point_of(function)
    return entry.changes if entry is not None else frozenset()
