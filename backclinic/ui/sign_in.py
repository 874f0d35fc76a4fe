"""Sign-in: a user name and password checked by the clinic service."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician
from backclinic.services.errors import AuthenticationFailed
from backclinic.ui.field_errors import ERROR_STYLE
from backclinic.ui.workstation import WorkstationMemory


class SignInDialog(QDialog):
    """Shows the service's refusal as it is: it never says which of the two was wrong.

    Without a user name given, it offers the last one signed in on this workstation, so the
    cursor starts in the password field and a password is never typed into the open field.
    """

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        username: str = "",
        memory: WorkstationMemory | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._memory = memory or WorkstationMemory()
        username = username or self._memory.last_user_name()
        self.clinician: Clinician | None = None
        clinic_name = services.clinic.settings().clinic_name
        self.setWindowTitle(f"Sign in — {clinic_name}")

        heading = QLabel(f"<b>{clinic_name}</b>")
        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()

        form = QFormLayout()
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(360)
        (self.password if username else self.username).setFocus()

    @classmethod
    def sign_in(
        cls, parent: QWidget | None, services: Services, *, username: str = ""
    ) -> Clinician | None:
        dialog = cls(services, parent, username=username)
        dialog.exec()
        return dialog.clinician

    def _on_buttons_accepted(self) -> None:
        try:
            self.clinician = self._services.clinic.sign_in(
                self.username.text(), self.password.text()
            )
        except AuthenticationFailed as error:
            self.message.setText(str(error))
            self.message.show()
            self.password.clear()
            self.password.setFocus()
            return
        self._memory.remember_user_name(self.clinician.username)
        self.accept()
