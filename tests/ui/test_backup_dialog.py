"""Back up now… from the window: the copy runs off the GUI thread while the window waits."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician
from backclinic.ui.backup_dialog import BackupActions
from backclinic.ui.tasks import TaskRunner
from tests.ui.conftest import ModalDriver


def test_backing_up_runs_off_the_gui_thread_while_the_window_is_disabled(
    qtbot: QtBot,
    services: Services,
    clinician: Clinician,
    tmp_path: Path,
    monkeypatch,
    modal: ModalDriver,
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    target = tmp_path / "clinic-backup.db"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    backup = services.backups.backup
    worked_on: list[threading.Thread] = []
    window_enabled_meanwhile: list[bool] = []
    looked = threading.Event()

    def watched_backup(actor, path, **options):
        worked_on.append(threading.current_thread())
        looked.wait(5)
        return backup(actor, path, **options)

    monkeypatch.setattr(services.backups, "backup", watched_backup)

    def look() -> None:
        window_enabled_meanwhile.append(window.isEnabled())
        looked.set()

    QTimer.singleShot(50, look)
    told: list[str] = []

    def read(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        told.append(box.text())
        box.accept()

    modal.then(read)
    result = BackupActions.back_up(
        window, services.backups, services.clinic.system_actor(), tasks=TaskRunner()
    )
    modal.check()
    assert result is not None and result.path == target and target.exists()
    assert worked_on and worked_on[0] is not threading.main_thread()
    assert window_enabled_meanwhile == [False]
    assert window.isEnabled()
    assert told and told[0].startswith("Backed up")
