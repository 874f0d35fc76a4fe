from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backclinic.services.accounts import AccountService
from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.context import Actor
from backclinic.ui.accounts_dialog import AccountsDialog
from tests.conftest import PASSWORD


@pytest.fixture
def accounts(services: Services) -> AccountService:
    return AccountService(services.context)


@pytest.fixture
def admin(services: Services, clinician: Clinician, accounts: AccountService) -> Actor:
    created = accounts.create(
        services.clinic.system_actor(),
        NewClinician("Sarah Okafor", "sarah", "admin", PASSWORD),
    )
    return Actor(created.id, created.full_name, created.role)


def _dialog(qtbot: QtBot, accounts: AccountService, actor: Actor) -> AccountsDialog:
    dialog = AccountsDialog(accounts, actor)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _select(dialog: AccountsDialog, username: str) -> None:
    for row in range(dialog.model.rowCount()):
        account = dialog.model.row(row)
        if account is not None and account.username == username:
            dialog.table.selectRow(row)
            return
    raise AssertionError(f"{username} is not listed")


def _names(dialog: AccountsDialog) -> list[str]:
    model = dialog.model
    return [str(model.index(row, 1).data()) for row in range(model.rowCount())]


def test_the_account_table_model_passes_qtmodeltester(
    qtbot: QtBot, qtmodeltester: ModelTester, accounts: AccountService, admin: Actor
) -> None:
    dialog = _dialog(qtbot, accounts, admin)
    assert _names(dialog) == ["mei", "sarah"]
    qtmodeltester.check(dialog.model)


def test_an_admin_adds_an_account_and_it_appears_selected(
    qtbot: QtBot, services: Services, accounts: AccountService, admin: Actor
) -> None:
    dialog = _dialog(qtbot, accounts, admin)
    qtbot.keyClicks(dialog.full_name, "Priya Nair")
    qtbot.keyClicks(dialog.username, "priya")
    dialog.role.setCurrentIndex(dialog.role.findData("front_desk"))
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert "priya" in _names(dialog)
    selected = dialog.selected()
    assert selected is not None and selected.username == "priya"
    assert dialog.model.index(dialog.table.currentIndex().row(), 2).data() == "Front desk"
    assert services.clinic.sign_in("priya", PASSWORD).role == "front_desk"


def test_bad_input_shows_each_error_under_its_field_with_focus_on_the_first(
    qtbot: QtBot, accounts: AccountService, admin: Actor
) -> None:
    dialog = _dialog(qtbot, accounts, admin)
    qtbot.keyClicks(dialog.username, "two words")
    qtbot.keyClicks(dialog.password, "short")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert dialog.errors.label("full_name").text() == "Full name is required."
    assert "spaces" in dialog.errors.label("username").text()
    assert "at least 8" in dialog.errors.label("password").text()
    assert dialog.errors.label("role").isHidden()
    qtbot.waitUntil(dialog.full_name.hasFocus)
    assert _names(dialog) == ["mei", "sarah"]


def test_deactivating_and_reactivating_toggles_the_status_and_the_button(
    qtbot: QtBot, accounts: AccountService, admin: Actor
) -> None:
    dialog = _dialog(qtbot, accounts, admin)
    _select(dialog, "mei")
    assert dialog.toggle_button.text() == "Deactivate"
    qtbot.mouseClick(dialog.toggle_button, Qt.MouseButton.LeftButton)
    row = dialog.table.currentIndex().row()
    assert dialog.model.index(row, 3).data() == "Deactivated"
    assert dialog.toggle_button.text() == "Reactivate"
    assert dialog.message.text() == "Mei Lin is now deactivated."
    qtbot.mouseClick(dialog.toggle_button, Qt.MouseButton.LeftButton)
    assert dialog.model.index(dialog.table.currentIndex().row(), 3).data() == "Active"


def test_deactivating_your_own_account_is_refused_in_words(
    qtbot: QtBot, accounts: AccountService, admin: Actor
) -> None:
    dialog = _dialog(qtbot, accounts, admin)
    _select(dialog, "sarah")
    qtbot.mouseClick(dialog.toggle_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "You cannot deactivate your own account."


def test_a_password_reset_checks_the_length_by_the_field_then_works(
    qtbot: QtBot, services: Services, accounts: AccountService, admin: Actor
) -> None:
    dialog = _dialog(qtbot, accounts, admin)
    _select(dialog, "mei")
    qtbot.keyClicks(dialog.new_password, "short")
    qtbot.mouseClick(dialog.reset_button, Qt.MouseButton.LeftButton)
    assert "at least 8" in dialog.reset_errors.label("reset_password").text()
    dialog.new_password.clear()
    qtbot.keyClicks(dialog.new_password, "a brand new password")
    qtbot.mouseClick(dialog.reset_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "The password of Mei Lin was reset."
    assert dialog.new_password.text() == ""
    assert services.clinic.sign_in("mei", "a brand new password").username == "mei"


def test_a_clinician_who_is_not_an_admin_sees_the_refusal_and_no_accounts(
    qtbot: QtBot, accounts: AccountService, actor: Actor, admin: Actor
) -> None:
    dialog = _dialog(qtbot, accounts, actor)
    assert dialog.model.rowCount() == 0
    assert "cannot manage clinician accounts" in dialog.message.text()
    assert not dialog.add_button.isEnabled()
