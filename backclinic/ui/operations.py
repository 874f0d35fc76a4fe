"""The one way the UI runs a use case: call it, then tell every view what it changed.

A write use case declares the kinds of record it changes (``@use_case(..., changes=...)``);
``Operations.run`` broadcasts them in ``changed`` once the call succeeds, and each view decides
for itself whether that is something it shows. No view reloads another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal
from shiboken6 import isValid

from backclinic.services.patients import Patient
from backclinic.services.use_case import Change, changes_of, entry_point_of
from backclinic.ui.tasks import TaskRunner

R = TypeVar("R")


@dataclass(frozen=True)
class Changes:
    """What one successful use case changed, and whose record (None: possibly anyone's)."""

    kinds: frozenset[Change]
    patient_id: int | None = None

    def touches(self, *kinds: Change) -> bool:
        return not self.kinds.isdisjoint(kinds)

    def concerns(self, patient_id: int) -> bool:
        return self.patient_id is None or self.patient_id == patient_id

    def touches_patient(self, patient_id: int, *kinds: Change) -> bool:
        return self.concerns(patient_id) and self.touches(*kinds)


def _patient_of(result: object) -> int | None:
    if isinstance(result, Patient):
        return result.id
    patient_id = getattr(result, "patient_id", None)
    return patient_id if isinstance(patient_id, int) else None


class Operations(QObject):
    """Runs use cases for the views of one window and broadcasts what each changed.

    ``tasks`` runs the long ones off the GUI thread; tests set ``tasks.synchronous``.
    """

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None, *, tasks: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks or TaskRunner(self)

    def run(
        self, use_case: Callable[..., R], *args: Any, patient_id: int | None = None, **kwargs: Any
    ) -> R:
        """Call a declared use case on the GUI thread; on success broadcast its changes.

        The patient is the one given, or else the one the result belongs to.
        """
        _require_declared(use_case)
        result = use_case(*args, **kwargs)
        self.announce(changes_of(use_case), patient_id or _patient_of(result))
        return result

    def submit(
        self,
        use_case: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None],
        on_error: Callable[[Exception], None] | None = None,
        owner: QObject | None = None,
        patient_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Call a declared use case off the GUI thread; its changes go out before on_result.

        The changes go out even when ``owner`` has gone meanwhile: the records changed.
        """
        _require_declared(use_case)

        def finished(result: Any) -> None:
            self.announce(changes_of(use_case), patient_id or _patient_of(result))
            if owner is None or isValid(owner):
                on_result(result)

        def failed(error: Exception) -> None:
            if on_error is None:
                raise error
            if owner is None or isValid(owner):
                on_error(error)

        self.tasks.run(lambda: use_case(*args, **kwargs), on_result=finished, on_error=failed)

    def announce(self, kinds: Iterable[Change], patient_id: int | None = None) -> None:
        """Tell the views about a change made outside ``run`` (a restore, an import)."""
        changes = Changes(frozenset(kinds), patient_id)
        if changes.kinds:
            self.changed.emit(changes)


def _require_declared(use_case: Callable[..., Any]) -> None:
    # An undeclared write would change records without any view hearing of it.
    if entry_point_of(use_case) is None:
        name = getattr(use_case, "__qualname__", repr(use_case))
        raise TypeError(f"{name} is not a declared use case (@use_case)")
