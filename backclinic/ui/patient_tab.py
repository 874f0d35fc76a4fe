"""What every tab of a patient's workspace shares: whose record it shows, the window's
operations, and reloading itself when a use case changes a kind of record it shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from PySide6.QtWidgets import QWidget

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.use_case import Change
from backclinic.ui.operations import Changes, Operations
from backclinic.ui.tasks import LatestRead


class PatientTab(QWidget):
    """A workspace tab over one patient's records.

    A subclass names the kinds of record it ``shows`` and implements ``reload``; it then
    reloads on every change of those kinds to this patient, whichever view made it. Reads
    go through ``_reads`` (off the GUI thread, the newest shown); ``loading`` says when one
    is under way.
    """

    shows: ClassVar[frozenset[Change]] = frozenset()

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._patient_id = patient_id
        self._operations = operations or Operations(self)
        self._reads = LatestRead(self._operations.tasks, self)
        self._when_reloaded: list[Callable[[], None]] = []
        self._reads.settled.connect(self._on_reads_settled)
        self._operations.changed.connect(self._on_operations_changed)

    @property
    def loading(self) -> bool:
        """True while this tab's records are being read (off the GUI thread)."""
        return self._reads.loading

    def reload(self) -> None:
        raise NotImplementedError

    def _after_reload(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the reload under way is shown (now, if none is)."""
        if self._reads.loading:
            self._when_reloaded.append(action)
        else:
            action()

    def _on_reads_settled(self) -> None:
        actions, self._when_reloaded = self._when_reloaded, []
        for action in actions:
            action()

    def _on_operations_changed(self, changes: Changes) -> None:
        if changes.touches_patient(self._patient_id, *self.shows):
            self.reload()
