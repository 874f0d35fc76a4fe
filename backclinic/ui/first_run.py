"""The first start of a new installation: name the clinic and create the first account."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.errors import ValidationFailed
from backclinic.ui.field_errors import FieldErrors

# The roles a clinic's first account can take, in the order a clinic is likely to pick.
FIRST_RUN_ROLES = (
    ("acupuncturist", "Acupuncturist"),
    ("physical_therapist", "Physical therapist"),
    ("admin", "Administrator"),
)


class FirstRunDialog(QDialog):
    """Asks for the clinic's name and its first clinician, then sets the clinic up."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.clinician: Clinician | None = None
        self.setWindowTitle("Set up BackClinic")

        intro = QLabel(
            "Welcome. Enter your clinic's details as every printed page's letterhead should "
            "show them (the logo is optional; all of it can be changed later under Clinic › "
            "Clinic settings), then create the first clinician account: you will sign in "
            "with it next."
        )
        intro.setWordWrap(True)
        self.clinic_name = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setObjectName("address")
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(60)
        self.phone = QLineEdit()
        self.phone.setObjectName("phone")
        self.logo_path = QLineEdit()
        self.logo_path.setObjectName("logo_path")
        self.logo_path.setPlaceholderText("Optional: a PNG or JPEG for the letterhead")
        self.browse_button = QPushButton("Browse…")
        logo = QWidget()
        logo_row = QHBoxLayout(logo)
        logo_row.setContentsMargins(0, 0, 0, 0)
        logo_row.addWidget(self.logo_path, 1)
        logo_row.addWidget(self.browse_button)
        self.full_name = QLineEdit()
        self.username = QLineEdit()
        self.role = QComboBox()
        for code, label in FIRST_RUN_ROLES:
            self.role.addItem(label, code)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_confirm = QLineEdit()
        self.password_confirm.setEchoMode(QLineEdit.EchoMode.Password)

        form = QFormLayout()
        self.errors = FieldErrors(form)
        self.errors.add_row("clinic_name", "Clinic name", self.clinic_name)
        self.errors.add_row("address", "Address", self.address)
        self.errors.add_row("phone", "Phone", self.phone)
        self.errors.add_row("logo_path", "Logo", logo)
        self.errors.add_row("full_name", "Your full name", self.full_name)
        self.errors.add_row("username", "User name", self.username)
        self.errors.add_row("role", "Role", self.role)
        self.errors.add_row("password", "Password", self.password)
        self.errors.add_row("password_confirm", "Confirm password", self.password_confirm)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Set up clinic")
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.browse_button.clicked.connect(self._on_browse_button_clicked)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)

    @classmethod
    def run(cls, parent: QWidget | None, services: Services) -> Clinician | None:
        dialog = cls(services, parent)
        dialog.exec()
        return dialog.clinician

    def _on_buttons_accepted(self) -> None:
        if self.password.text() != self.password_confirm.text():
            # Checked first: set-up cannot be undone, so a mistyped password never reaches it.
            self.errors.show({"password_confirm": "The two passwords do not match."})
            return
        try:
            self.clinician = self._services.clinic.set_up(
                clinic_name=self.clinic_name.text(),
                address=self.address.toPlainText(),
                phone=self.phone.text(),
                logo_path=self.logo_path.text().strip() or None,
                first_clinician=NewClinician(
                    full_name=self.full_name.text(),
                    username=self.username.text(),
                    role=str(self.role.currentData()),
                    password=self.password.text(),
                ),
            )
        except ValidationFailed as error:
            self.errors.show(error.by_field)
            return
        self.accept()

    def _on_browse_button_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Clinic logo", "", "Images (*.png *.jpg *.jpeg)"
        )
        if path:
            self.logo_path.setText(path)
