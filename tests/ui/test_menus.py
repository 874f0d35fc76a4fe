"""The menu bar as a clinician meets it: the clinic's own work apart from the patient's."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget
from pytestqt.qtbot import QtBot

from backclinic import __version__
from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.ui.help_dialogs import AboutDialog, ShortcutsDialog
from backclinic.ui.main_window import MainWindow
from tests.conftest import PASSWORD
from tests.ui.conftest import ModalDriver


def open_window(qtbot: QtBot, services: Services, clinician: Clinician) -> MainWindow:
    window = MainWindow(services, clinician, database_label="sqlite:///clinic.db")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def menus(window: MainWindow) -> dict[str, QMenu]:
    found: dict[str, QMenu] = {}
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.isVisible():
            found[action.text().replace("&", "")] = menu
    return found


def entries(menu: QMenu) -> list[str]:
    return [
        action.text().replace("&", "")
        for action in menu.actions()
        if not action.isSeparator() and action.isVisible()
    ]


def sign_in_admin(services: Services, clinician: Clinician) -> Clinician:
    services.accounts.create(
        services.clinic.system_actor(), NewClinician("Sarah Okafor", "sarah", "admin", PASSWORD)
    )
    return services.clinic.sign_in("sarah", PASSWORD)


def test_the_clinic_menu_holds_settings_accounts_audit_and_backups(
    qtbot: QtBot, services: Services, clinician: Clinician
) -> None:
    window = open_window(qtbot, services, sign_in_admin(services, clinician))
    bar = menus(window)
    assert list(bar) == ["Patient", "Clinic", "Help"]
    assert entries(bar["Clinic"]) == [
        "Clinic settings…",
        "Clinician accounts…",
        "Audit trail…",
        "Back up now…",
        "Restore…",
    ]
    assert not any("settings" in entry.lower() for entry in entries(bar["Patient"]))


def test_a_clinician_without_clinic_rights_has_no_clinic_menu_but_still_has_help(
    qtbot: QtBot, services: Services, clinician: Clinician
) -> None:
    services.accounts.create(
        services.clinic.system_actor(), NewClinician("Sarah Okafor", "sarah", "admin", PASSWORD)
    )
    window = open_window(qtbot, services, clinician)
    assert list(menus(window)) == ["Patient", "Help"]


def test_help_lists_the_windows_keyboard_shortcuts(
    qtbot: QtBot, services: Services, clinician: Clinician, modal: ModalDriver
) -> None:
    window = open_window(qtbot, services, clinician)
    seen: list[str] = []

    def read_shortcuts(dialog: QWidget) -> None:
        assert isinstance(dialog, ShortcutsDialog)
        seen.extend(dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount()))
        seen.extend(dialog.table.item(row, 1).text() for row in range(dialog.table.rowCount()))
        dialog.accept()

    modal.then(read_shortcuts)
    action = next(a for a in menus(window)["Help"].actions() if "shortcuts" in a.text())
    assert isinstance(action, QAction)
    action.trigger()
    modal.check()
    assert "New patient" in seen
    assert "Ctrl+N" in seen
    assert "Find patient" in seen
    assert "Ctrl+F" in seen


def test_about_names_the_version_the_database_and_the_licences(
    qtbot: QtBot, services: Services, clinician: Clinician, modal: ModalDriver
) -> None:
    window = open_window(qtbot, services, clinician)
    shown: list[str] = []

    def read_about(dialog: QWidget) -> None:
        assert isinstance(dialog, AboutDialog)
        shown.append(dialog.text.toPlainText())
        dialog.accept()

    modal.then(read_about)
    action = next(a for a in menus(window)["Help"].actions() if "About" in a.text())
    action.trigger()
    modal.check()
    text = shown[0]
    assert f"Version {__version__}" in text
    assert "sqlite:///clinic.db" in text
    assert "DejaVu" in text
    assert "Keele STarT Back" in text
    assert "Qt for Python" in text
