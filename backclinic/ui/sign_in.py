"""Sign-in: a user name and password checked by the clinic service.

The dialog is the app's first window, shown while the services are still loading in the
background, so at runtime it imports only Qt widgets and the services' plain error types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.errors import AuthenticationFailed
from backclinic.ui.field_errors import ERROR_STYLE
from backclinic.ui.workstation import WorkstationMemory

if TYPE_CHECKING:
    from backclinic.services.bundle import Services
    from backclinic.services.clinic import Clinician

GENERIC_CLINIC_NAME = "BackClinic"
STILL_LOADING = "Opening the clinic's records…"


class SignInDialog(QDialog):
    """Shows the service's refusal as it is: it never says which of the two was wrong.

    Made without services (``attach`` hands them over once loaded), it takes the user name
    and password all the same; a sign-in asked for before then is checked on arrival.
    Without a user name given, it offers the last one signed in on this workstation, so the
    cursor starts in the password field and a password is never typed into the open field.
    """

    def __init__(
        self,
        services: Services | None,
        parent: QWidget | None = None,
        *,
        username: str = "",
        clinic_name: str | None = None,
        memory: WorkstationMemory | None = None,
    ) -> None:
        super().__init__(parent)
        self._services: Services | None = None
        self._waiting_for_services = False
        self._memory = memory or WorkstationMemory()
        username = username or self._memory.last_user_name()
        self.clinician: Clinician | None = None

        self.heading = QLabel()
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

        self._column = layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(360)
        self._show_clinic_name(clinic_name or GENERIC_CLINIC_NAME)
        (self.password if username else self.username).setFocus()
        if services is not None:
            self.attach(services)

    @classmethod
    def sign_in(
        cls, parent: QWidget | None, services: Services, *, username: str = ""
    ) -> Clinician | None:
        dialog = cls(services, parent, username=username)
        dialog.exec()
        return dialog.clinician

    @property
    def attached(self) -> bool:
        return self._services is not None

    def attach(self, services: Services) -> None:
        """The services have loaded: name the clinic, and check a sign-in already asked for."""
        self._services = services
        if services.clinic.is_set_up():
            self._show_clinic_name(services.clinic.settings().clinic_name)
        if self._waiting_for_services:
            self._waiting_for_services = False
            self._set_inputs_enabled(True)
            self.message.hide()
            self._check_password()

    def _say(self, text: str) -> None:
        """Show ``text`` under the fields, with the dialog grown to every wrapped line."""
        self.message.setText(text)
        self.message.show()
        self._column.activate()
        width = self.width()
        self.resize(width, max(self.height(), self._column.totalHeightForWidth(width)))

    def _show_clinic_name(self, clinic_name: str) -> None:
        self.setWindowTitle(f"Sign in — {clinic_name}")
        self.heading.setText(f"<b>{clinic_name}</b>")

    def _set_inputs_enabled(self, enabled: bool) -> None:
        self.username.setEnabled(enabled)
        self.password.setEnabled(enabled)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(enabled)

    def _on_buttons_accepted(self) -> None:
        if self._services is None:
            self._waiting_for_services = True
            self._set_inputs_enabled(False)
            self._say(STILL_LOADING)
            return
        self._check_password()

    def _check_password(self) -> None:
        assert self._services is not None, "checked only once the services are attached"
        try:
            self.clinician = self._services.clinic.sign_in(
                self.username.text(), self.password.text()
            )
        except AuthenticationFailed as error:
            self._say(str(error))
            self.password.clear()
            self.password.setFocus()
            return
        self._memory.remember_user_name(self.clinician.username)
        self.accept()
