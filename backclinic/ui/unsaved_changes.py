"""Asking before a form with changes is closed, so nothing typed is thrown away silently."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

DISCARD = "Discard"
KEEP_EDITING = "Keep editing"


def discard_confirmed(parent: QWidget, what: str) -> bool:
    """Ask whether to throw away the unsaved `what`; keeping is the default and Escape."""
    box = QMessageBox(parent)
    box.setObjectName("discard_changes_message")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"This {what} has changes that are not saved.")
    box.setInformativeText("Discard them, or keep editing?")
    discard = box.addButton(DISCARD, QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton(KEEP_EDITING, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    return box.clickedButton() is discard


def in_use(dialog: QDialog) -> bool:
    """A form the clinician is working in: one running modally (exec(), as every entry
    point opens it). Only such a form asks before discarding or saving what is unusual;
    one closed by the program after it has finished, or driven directly, does not."""
    return dialog.isVisible() and dialog.isModal()
