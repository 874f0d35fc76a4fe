"""What every tab of a patient's workspace shares: whose record it shows, the window's
operations, and reloading itself when a use case changes a kind of record it shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.use_case import Change
from backclinic.ui.operations import Changes, Operations
from backclinic.ui.tasks import LOADING, LatestRead, expected_failure, read_failure

T = TypeVar("T")


class PatientTab(QWidget):
    """A workspace tab over one patient's records.

    A subclass names the kinds of record it ``shows`` and implements ``reload``; it then
    reloads on every change of those kinds to this patient, whichever view made it. Reads
    go through ``_read`` (off the GUI thread, the newest shown); ``loading`` says when one
    is under way. Until the first read is shown, "Loading…" covers the tab; a read that
    fails puts one sentence in place of the content.
    """

    shows: ClassVar[frozenset[Change]] = frozenset()
    # How the tab's failure sentence names what it could not read.
    reads_what: ClassVar[str] = "This part of the record"

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
        # Over the content, not in its layout: the same for every tab, whatever its layout.
        self.status = QLabel(LOADING, self)
        self.status.setObjectName("tab_status")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.setWordWrap(True)
        self.status.setAutoFillBackground(True)
        self.status.setMargin(24)
        self.status.hide()
        self._shown = False

    @property
    def loading(self) -> bool:
        """True while this tab's records are being read (off the GUI thread)."""
        return self._reads.loading

    def reload(self) -> None:
        raise NotImplementedError

    def _read(self, work: Callable[[], T], show: Callable[[T], None]) -> None:
        """Read with ``work`` off the GUI thread, then ``show`` it (unless a newer read or
        the tab's closing came first)."""
        if not self._shown:
            self._cover(LOADING)

        def shown(result: T) -> None:
            self._shown = True
            self.status.hide()
            show(result)

        self._reads.run(work, shown, self._on_read_failed)

    def _on_read_failed(self, error: Exception) -> None:
        self._cover(read_failure(error, self.reads_what))
        if not expected_failure(error):
            raise error

    def _cover(self, text: str) -> None:
        self.status.setText(text)
        self.status.setGeometry(self.rect())
        self.status.raise_()
        self.status.show()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.status.setGeometry(self.rect())

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
