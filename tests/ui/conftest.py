"""GUI fixtures: a patient registry to look at, and a driver for modal dialogs.

A dialog's classmethod entry point blocks in exec(); the driver acts on whichever modal
dialog opens next, from inside its event loop, exactly as a person at the keyboard would.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.patients import Patient, PatientInput
from backclinic.ui.local_drafts import DRAFTS_FOLDER_VARIABLE
from backclinic.ui.workstation import SETTINGS_FILE_VARIABLE

Handler = Callable[[QWidget], None]
POLL_MS = 10
WAIT_FOR_READS_MS = 10_000


class ModalDriver:
    """Runs queued handlers, one per modal dialog, in the order the dialogs open."""

    def __init__(self) -> None:
        self._handlers: deque[Handler] = deque()
        self._failure: BaseException | None = None
        self._running = False

    def then(self, handler: Handler) -> ModalDriver:
        self._handlers.append(handler)
        if not self._running:
            self._running = True
            QTimer.singleShot(POLL_MS, self._tick)
        return self

    @property
    def pending(self) -> int:
        return len(self._handlers)

    def check(self) -> None:
        """Re-raise a failed handler's assertion in the test itself."""
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def stop(self) -> None:
        self._handlers.clear()
        self._running = False

    def _tick(self) -> None:
        if not self._handlers:
            self._running = False
            return
        # Scheduled before handling: a handler may open a nested modal loop of its own.
        QTimer.singleShot(POLL_MS, self._tick)
        modal = QApplication.activeModalWidget()
        if modal is None or modal.property("driven") or not modal.isVisible():
            return
        modal.setProperty("driven", True)
        handler = self._handlers.popleft()
        try:
            handler(modal)
        except BaseException as failure:
            self._failure = self._failure or failure
            self._handlers.clear()
            if isinstance(modal, QDialog):
                modal.reject()
            else:
                modal.close()


@pytest.fixture(autouse=True)
def draft_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's unsaved-form drafts in its own folder, never the user's data folder."""
    path = tmp_path / "drafts"
    monkeypatch.setenv(DRAFTS_FOLDER_VARIABLE, str(path))
    return path


@pytest.fixture(autouse=True)
def workstation_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's remembered user name in its own file, never the user's config folder."""
    path = tmp_path / "workstation.ini"
    monkeypatch.setenv(SETTINGS_FILE_VARIABLE, str(path))
    return path


@pytest.fixture
def modal(qtbot: QtBot) -> Iterator[ModalDriver]:
    driver = ModalDriver()
    yield driver
    driver.stop()
    driver.check()


def person(**changes: object) -> PatientInput:
    values: dict[str, object] = {
        "family_name": "Rivera",
        "given_name": "Ana",
        "date_of_birth": dt.date(1980, 3, 14),
        "occupation": "office worker",
    }
    values.update(changes)
    return PatientInput(**values)  # type: ignore[arg-type]


@pytest.fixture
def registry(services: Services, actor: Actor) -> list[Patient]:
    """A small registry with shared name prefixes, so searches narrow visibly."""
    people = [
        person(mrn="A-1001"),
        person(family_name="Rivas", given_name="Tomás", mrn="A-1002", occupation="driver"),
        person(family_name="Nakamura", given_name="Ken", date_of_birth=dt.date(1975, 7, 2)),
        person(family_name="Okafor", given_name="Ada", date_of_birth=dt.date(1990, 1, 30)),
        person(family_name="Lee", given_name="Lee", date_of_birth=dt.date(1968, 11, 5)),
    ]
    return [services.patients.register(actor, data) for data in people]


@pytest.fixture(scope="session", autouse=True)
def garbage_collected_on_the_gui_thread() -> Iterator[None]:
    """As the app does (ui/garbage.py): no automatic collection, which could run on a worker
    thread and delete a widget there; the tests collect on the GUI thread after each test."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


@pytest.fixture(autouse=True)
def collect_after_each_test(garbage_collected_on_the_gui_thread: None) -> Iterator[None]:
    yield
    # A test's background reads finish before the next test starts, so none runs into
    # another test's widgets or database (or its reference counts).
    QThreadPool.globalInstance().waitForDone(WAIT_FOR_READS_MS)
    gc.collect()
    # What survived is moved out of the collector's sight: the next collection looks only at
    # what the next test made, not at every module and cache loaded so far (a full pass over
    # the whole suite's heap took over a second per test near the end of a run).
    gc.freeze()
