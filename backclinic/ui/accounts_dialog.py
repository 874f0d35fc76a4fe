"""Clinician accounts, for admins: the list, adding one, deactivating, resetting a password."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.accounts import Account, AccountService
from backclinic.services.clinic import ROLE_LABELS, NewClinician
from backclinic.services.context import Actor
from backclinic.services.errors import ServiceError, ValidationFailed
from backclinic.ui.field_errors import ERROR_STYLE, FieldErrors
from backclinic.ui.row_table import Column, RowTableModel


def _status(account: Account) -> str:
    if not account.active:
        return "Deactivated"
    if account.locked_until is not None:
        return f"Locked until {account.locked_until.astimezone():%H:%M}"
    return "Active"


COLUMNS: tuple[Column, ...] = (
    ("Name", lambda a: a.full_name),
    ("User name", lambda a: a.username),
    ("Role", lambda a: a.role_label),
    ("Status", _status),
)


class AccountTableModel(RowTableModel[Account]):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)

    def row_of(self, account_id: int) -> int:
        return next((n for n, a in enumerate(self.rows()) if a.id == account_id), -1)


class AccountsDialog(QDialog):
    """Every change goes through the account service, which checks the admin's permission."""

    def __init__(
        self, accounts: AccountService, actor: Actor, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._accounts = accounts
        self._actor = actor
        self.setWindowTitle("Clinician accounts")
        self.resize(720, 620)

        self.model = AccountTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("accounts_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.toggle_button = QPushButton("Deactivate")
        self.toggle_button.setObjectName("toggle_active")
        self.new_password = QLineEdit()
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.reset_button = QPushButton("Reset password")
        self.reset_button.setObjectName("reset_password_button")
        reset_form = QFormLayout()
        self.reset_errors = FieldErrors(reset_form)
        self.reset_errors.add_row("reset_password", "New password", self.new_password)
        selected = QGroupBox("Selected account")
        selected_layout = QVBoxLayout(selected)
        selected_layout.addWidget(self.toggle_button)
        selected_layout.addLayout(reset_form)
        selected_layout.addWidget(self.reset_button)

        self.full_name = QLineEdit()
        self.username = QLineEdit()
        self.role = QComboBox()
        for code, label in ROLE_LABELS.items():
            self.role.addItem(label, code)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_button = QPushButton("Add account")
        self.add_button.setObjectName("add_account")
        add_form = QFormLayout()
        self.errors = FieldErrors(add_form)
        self.errors.add_row("full_name", "Full name", self.full_name)
        self.errors.add_row("username", "User name", self.username)
        self.errors.add_row("role", "Role", self.role)
        self.errors.add_row("password", "Password", self.password)
        adding = QGroupBox("New account")
        adding_layout = QVBoxLayout(adding)
        adding_layout.addLayout(add_form)
        adding_layout.addWidget(self.add_button)

        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        sides = QHBoxLayout()
        sides.addWidget(selected)
        sides.addWidget(adding)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(sides)
        layout.addWidget(self.message)
        layout.addWidget(close)

        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.toggle_button.clicked.connect(self._on_toggle_button_clicked)
        self.reset_button.clicked.connect(self._on_reset_button_clicked)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.reload()

    @classmethod
    def manage(cls, parent: QWidget | None, accounts: AccountService, actor: Actor) -> None:
        cls(accounts, actor, parent).exec()

    def reload(self, select_id: int | None = None) -> None:
        current = self.selected()
        keep = select_id if select_id is not None else (current.id if current else None)
        try:
            self.model.set_rows(self._accounts.accounts(self._actor))
        except ServiceError as error:
            self._say(str(error), error=True)
            for widget in (self.toggle_button, self.reset_button, self.add_button):
                widget.setEnabled(False)
            return
        row = self.model.row_of(keep) if keep is not None else -1
        self.table.selectRow(max(row, 0))
        self._on_table_current_row_changed()

    def selected(self) -> Account | None:
        return self.model.row(self.table.currentIndex().row())

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    def _on_table_current_row_changed(self, *_: object) -> None:
        account = self.selected()
        self.toggle_button.setEnabled(account is not None)
        self.reset_button.setEnabled(account is not None)
        self.toggle_button.setText("Reactivate" if account and not account.active else "Deactivate")

    def _on_toggle_button_clicked(self) -> None:
        account = self.selected()
        if account is None:
            return
        change = self._accounts.reactivate if not account.active else self._accounts.deactivate
        try:
            changed = change(self._actor, account.id, expected_version=account.version)
        except ServiceError as error:
            self._say(str(error), error=True)
            return
        state = "active" if changed.active else "deactivated"
        self._say(f"{changed.full_name} is now {state}.")
        self.reload(changed.id)

    def _on_reset_button_clicked(self) -> None:
        account = self.selected()
        if account is None:
            return
        try:
            changed = self._accounts.reset_password(
                self._actor,
                account.id,
                self.new_password.text(),
                expected_version=account.version,
            )
        except ValidationFailed as error:
            self.reset_errors.show({"reset_password": error.by_field.get("password", str(error))})
            return
        except ServiceError as error:
            self._say(str(error), error=True)
            return
        self.reset_errors.clear()
        self.new_password.clear()
        self._say(f"The password of {changed.full_name} was reset.")
        self.reload(changed.id)

    def _on_add_button_clicked(self) -> None:
        new = NewClinician(
            full_name=self.full_name.text(),
            username=self.username.text(),
            role=str(self.role.currentData()),
            password=self.password.text(),
        )
        try:
            created = self._accounts.create(self._actor, new)
        except ValidationFailed as error:
            unplaced = self.errors.show(error.by_field)
            if unplaced:
                self._say(" ".join(unplaced.values()), error=True)
            return
        except ServiceError as error:
            self._say(str(error), error=True)
            return
        self.errors.clear()
        for editor in (self.full_name, self.username, self.password):
            editor.clear()
        self._say(f"Account {created.username} added for {created.full_name}.")
        self.reload(created.id)
