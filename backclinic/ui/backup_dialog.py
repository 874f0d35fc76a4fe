"""Back up now… and Restore…: an administrator's two database actions, each one dialog away.

The service does the work and enforces who may; this module only asks where, asks before
replacing data, and shows the service's one-sentence answer. The copy itself runs off the GUI
thread (``tasks``) while the window waits, painted but disabled, under a wait cursor.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.backups import BackupResult, BackupService, RestoreResult
from backclinic.services.context import Actor
from backclinic.services.errors import ServiceError
from backclinic.services.permissions import Permission, allows
from backclinic.ui.tasks import TaskRunner

BACKUP_FILTERS = "BackClinic backups (*.db *.dump.gz);;All files (*)"


def may_back_up(actor: Actor) -> bool:
    """Whether the menu shows the backup actions at all (admins only)."""
    return allows(actor, Permission.BACKUP)


class RestoreConfirmDialog(QDialog):
    """States plainly that a restore replaces every record; Cancel is the default."""

    def __init__(
        self, backups: BackupService, file_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Restore a backup")
        self.message = QLabel(
            f"Restoring <b>{escape(file_name)}</b> replaces <b>all data</b> in "
            f"{escape(backups.database_label)} with the backup's: every patient, session and "
            "account saved since that backup will be gone.<br><br>Ask everyone else to "
            "close BackClinic first. After the restore you will be signed out."
        )
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        restore = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        restore.setText("Replace all data")
        restore.setAutoDefault(False)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        cancel.setFocus()
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)


class BackupActions:
    """Entry points the main window's Database menu calls."""

    @classmethod
    def back_up(
        cls,
        parent: QWidget | None,
        backups: BackupService,
        actor: Actor,
        *,
        tasks: TaskRunner | None = None,
    ) -> BackupResult | None:
        """Ask where, write a checked backup there, and say where it went."""
        path, _ = QFileDialog.getSaveFileName(
            parent, "Back up now", str(backups.suggested_path()), BACKUP_FILTERS
        )
        if not path:
            return None
        runner = tasks or TaskRunner()
        try:
            # The save dialog has already asked before replacing an existing file.
            result = runner.result_of(
                lambda: backups.backup(actor, path, force=True), window=parent
            )
        except ServiceError as error:
            QMessageBox.warning(parent, "Not backed up", str(error))
            return None
        QMessageBox.information(parent, "Backed up", result.describe())
        return result

    @classmethod
    def restore(
        cls,
        parent: QWidget | None,
        backups: BackupService,
        actor: Actor,
        *,
        tasks: TaskRunner | None = None,
    ) -> RestoreResult | None:
        """Ask which backup, ask again before replacing everything, then restore.

        A returned result means the data changed under the window: the caller signs out.
        """
        path, _ = QFileDialog.getOpenFileName(
            parent, "Restore a backup", str(backups.backup_dir), BACKUP_FILTERS
        )
        if not path:
            return None
        try:
            backups.backup_revision(path)  # refuses a stray file before asking anything
        except ServiceError as error:
            QMessageBox.warning(parent, "Not restored", str(error))
            return None
        confirm = RestoreConfirmDialog(backups, Path(path).name, parent)
        if confirm.exec() != QDialog.DialogCode.Accepted:
            return None
        runner = tasks or TaskRunner()
        try:
            result = runner.result_of(
                lambda: backups.restore(actor, path, confirm=True), window=parent
            )
        except ServiceError as error:
            QMessageBox.warning(parent, "Not restored", str(error))
            return None
        QMessageBox.information(parent, "Restored", result.describe())
        return result
