"""Asking the clinician to confirm what is unusual in a form before it is saved, so
nothing odd is stored without a word."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QMessageBox, QWidget

SAVE_ANYWAY = "Save anyway"
GO_BACK = "Go back"


def unusual_confirmed(parent: QWidget, findings: Sequence[str]) -> bool:
    """True when there is nothing unusual, or the clinician saves it as it is."""
    if not findings:
        return True
    box = QMessageBox(parent)
    box.setObjectName("unusual_input_message")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Please confirm")
    box.setText("Before saving, please confirm:")
    box.setInformativeText("\n".join(f"• {finding}" for finding in findings))
    save = box.addButton(SAVE_ANYWAY, QMessageBox.ButtonRole.AcceptRole)
    back = box.addButton(GO_BACK, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(back)
    box.setEscapeButton(back)
    box.exec()
    return box.clickedButton() is save
