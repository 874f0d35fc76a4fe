"""Service entry points declared where they are defined: the permission each needs and what
each write changes, so that no entry point forgets its check and views know what to reload.

A method decorated with ``@use_case(...)`` takes the acting ``Actor`` as its first argument
after ``self``; the check runs before the body, and the declared changes are what the UI's
notifier broadcasts when the call succeeds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

from backclinic.services.context import Actor
from backclinic.services.permissions import Permission, require

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


@dataclass(frozen=True)
class EntryPoint:
    """What a public service method declares: who may call it and what it changes."""

    name: str
    permission: Permission | None
    changes: frozenset[Change]


_ENTRY_ATTRIBUTE = "__backclinic_entry_point__"

# The actor of the use case running in this thread (or task), for nested service calls.
_current_actor: ContextVar[Actor | None] = ContextVar("backclinic_current_actor", default=None)


def current_actor() -> Actor | None:
    """The actor of the use case now running, or None outside any."""
    return _current_actor.get()


def use_case(
    permission: Permission | None, *, changes: Iterable[Change] = ()
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a service method as an entry point needing ``permission`` (None: any actor)."""

    def declare(method: Callable[P, R]) -> Callable[P, R]:
        entry = EntryPoint(method.__qualname__, permission, frozenset(changes))

        @functools.wraps(method)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            actor = kwargs.get("actor", args[1] if len(args) > 1 else None)
            if not isinstance(actor, Actor):
                raise TypeError(f"{entry.name} must be called with the acting Actor")
            if permission is not None:
                require(actor, permission)
            token = _current_actor.set(actor)
            try:
                return method(*args, **kwargs)
            finally:
                _current_actor.reset(token)

        setattr(checked, _ENTRY_ATTRIBUTE, entry)
        return checked

    return declare


def entry_point_of(function: Any) -> EntryPoint | None:
    """The declaration of a service method (bound or not), or None if it declares nothing."""
    return getattr(getattr(function, "__func__", function), _ENTRY_ATTRIBUTE, None)


def changes_of(function: Any) -> frozenset[Change]:
    """What a call to ``function`` changes when it succeeds (empty for reads)."""
    entry = entry_point_of(function)
    return entry.changes if entry is not None else frozenset()
