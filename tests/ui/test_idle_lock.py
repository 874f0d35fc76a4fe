from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QDialog,
    QLabel,
    QLineEdit,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from backclinic.services.accounts import AccountService
from backclinic.services.audit import AuditService
from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.patients import Patient
from backclinic.ui.idle_lock import DraftStore, IdleLock, WindowLock
from backclinic.ui.main_window import MainWindow
from tests.actors import COMMAND_LINE
from tests.conftest import PASSWORD
from tests.ui.conftest import ModalDriver

IDLE_MS = 150


def _visible_text() -> str:
    """Everything a person could read on screen: labels, fields, buttons, tabs, tables, titles."""
    parts: list[str] = []
    for widget in QApplication.allWidgets():
        if not widget.isVisible():
            continue
        if widget.isWindow():
            parts.append(widget.windowTitle())
        if isinstance(widget, QLabel | QLineEdit | QAbstractButton):
            parts.append(widget.text())
        elif isinstance(widget, QTabBar):
            parts += [widget.tabText(i) for i in range(widget.count())]
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            for row in range(model.rowCount(QModelIndex())):
                for column in range(model.columnCount(QModelIndex())):
                    parts.append(str(model.index(row, column).data() or ""))
    return "\n".join(parts)


def _window(qtbot: QtBot, services: Services, clinician: Clinician) -> MainWindow:
    window = MainWindow(services, clinician)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _lock(
    window: MainWindow, services: Services, clinician: Clinician, drafts: DraftStore
) -> tuple[IdleLock, WindowLock]:
    app = QApplication.instance()
    assert app is not None
    idle = IdleLock(app, interval_ms=IDLE_MS, parent=window)
    lock = WindowLock(
        window,
        clinician,
        clinic=services.clinic,
        accounts=AccountService(services.context),
        drafts=drafts,
        idle=idle,
    )
    return idle, lock


def _sign_in_on_lock_screen(qtbot: QtBot, lock: WindowLock, username: str) -> None:
    screen = lock.lock_screen
    assert screen is not None
    screen.username.setText(username)
    qtbot.keyClicks(screen.password, PASSWORD)
    qtbot.keyClick(screen.password, Qt.Key.Key_Return)


def _field(dialog: QWidget, name: str) -> QLineEdit:
    field = dialog.findChild(QLineEdit, name)
    assert field is not None
    return field


def test_after_the_idle_time_the_lock_screen_shows_and_no_patient_name_is_visible(
    qtbot: QtBot, services: Services, clinician: Clinician, registry: list[Patient]
) -> None:
    window = _window(qtbot, services, clinician)
    window.open_patient(registry[0].id)
    qtbot.waitUntil(lambda: "Rivera" in _visible_text())
    idle, lock = _lock(window, services, clinician, DraftStore())
    idle.start()
    qtbot.waitUntil(lambda: lock.is_locked)
    screen = lock.lock_screen
    assert screen is not None and screen.isVisible()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is screen)
    visible = _visible_text()
    for patient in registry:
        assert patient.family_name not in visible
    assert screen.username.text() == "mei"


def test_input_keeps_the_lock_away(qtbot: QtBot, services: Services, clinician: Clinician) -> None:
    window = _window(qtbot, services, clinician)
    idle, lock = _lock(window, services, clinician, DraftStore())
    idle.set_interval_ms(400)
    idle.start()
    typed = 0

    def type_a_key() -> bool:
        nonlocal typed
        qtbot.keyClick(window.patients, Qt.Key.Key_Shift)
        typed += 1
        return typed >= 12

    # Typing every ~50 ms for longer than the idle time: still unlocked.
    qtbot.waitUntil(type_a_key, timeout=5000)
    assert not lock.is_locked
    qtbot.waitUntil(lambda: lock.is_locked)


def test_input_in_an_open_dialog_survives_the_same_clinicians_unlock(
    qtbot: QtBot,
    services: Services,
    clinician: Clinician,
    registry: list[Patient],
    modal: ModalDriver,
) -> None:
    window = _window(qtbot, services, clinician)
    window.open_patient(registry[0].id)
    idle, lock = _lock(window, services, clinician, DraftStore())
    seen: dict[str, Any] = {}

    def type_then_lock_then_unlock(dialog: QWidget) -> None:
        qtbot.keyClicks(_field(dialog, "family_name"), "Okonkwo")
        idle.start()
        qtbot.waitUntil(lambda: lock.is_locked)
        seen["while_locked"] = _visible_text()
        _sign_in_on_lock_screen(qtbot, lock, "mei")
        qtbot.waitUntil(lambda: not lock.is_locked)
        seen["dialog_visible"] = dialog.isVisible()
        seen["typed"] = _field(dialog, "family_name").text()
        seen["field_visible"] = _field(dialog, "family_name").isVisible()
        seen["tabs_visible"] = window.tabs.isVisible()
        assert isinstance(dialog, QDialog)
        dialog.reject()

    with qtbot.waitSignal(lock.resumed):
        modal.then(type_then_lock_then_unlock)
        window.new_patient_action.trigger()
    modal.check()
    assert "Okonkwo" not in seen["while_locked"]
    assert "Rivera" not in seen["while_locked"]
    assert seen["dialog_visible"] and seen["field_visible"] and seen["tabs_visible"]
    assert seen["typed"] == "Okonkwo"
    assert window.workspace(registry[0].id) is not None


def test_another_clinician_gets_a_clean_window_and_the_draft_returns_to_the_first_later(
    qtbot: QtBot,
    services: Services,
    clinician: Clinician,
    registry: list[Patient],
    modal: ModalDriver,
) -> None:
    colleague = services.accounts.create(
        services.clinic.system_actor(),
        NewClinician("Tomas Berg", "tomas", "physical_therapist", PASSWORD),
    )
    drafts = DraftStore()
    window = _window(qtbot, services, clinician)
    window.open_patient(registry[0].id)
    idle, lock = _lock(window, services, clinician, drafts)
    windows: dict[int, MainWindow] = {}

    def give_a_clean_window(newcomer: Clinician) -> None:
        # What the launcher does on `switched`: a new window, the old one retired.
        windows[newcomer.id] = _window(qtbot, services, newcomer)
        window.hide()

    lock.switched.connect(give_a_clean_window)

    def type_then_hand_over(dialog: QWidget) -> None:
        qtbot.keyClicks(_field(dialog, "family_name"), "Okonkwo")
        qtbot.keyClicks(_field(dialog, "given_name"), "Ada")
        qtbot.keyClicks(_field(dialog, "date_of_birth"), "1970-05-06")
        idle.start()
        qtbot.waitUntil(lambda: lock.is_locked)
        _sign_in_on_lock_screen(qtbot, lock, "tomas")

    modal.then(type_then_hand_over)
    window.new_patient_action.trigger()  # returns once the dialog is set aside
    modal.check()

    clean = windows[colleague.id]
    assert clean.clinician.id == colleague.id
    assert clean.workspaces() == []
    visible = _visible_text()
    assert "Okonkwo" not in visible and "Rivera" not in visible
    assert drafts.count(clinician.id) == 1

    # Later, Mei signs in again in this app instance: her draft comes back as she left it.
    again = _window(qtbot, services, clinician)
    [draft] = drafts.restore(clinician.id, again)
    qtbot.waitUntil(draft.isVisible)
    assert _field(draft, "family_name").text() == "Okonkwo"
    assert drafts.count(clinician.id) == 0
    with qtbot.waitSignal(draft.accepted):
        qtbot.keyClick(_field(draft, "family_name"), Qt.Key.Key_Return)
    [found] = services.patients.search(COMMAND_LINE, "Okonkwo").rows
    created = AuditService(services.context).query(
        services.clinic.system_actor(), patient_id=found.id, action="create"
    )
    assert [r.clinician_id for r in created] == [clinician.id]


def test_a_lock_and_each_unlock_are_in_the_audit_trail(
    qtbot: QtBot, services: Services, clinician: Clinician
) -> None:
    window = _window(qtbot, services, clinician)
    idle, lock = _lock(window, services, clinician, DraftStore())
    idle.start()
    qtbot.waitUntil(lambda: lock.is_locked)
    screen = lock.lock_screen
    assert screen is not None
    screen.password.setText("wrong password")
    qtbot.keyClick(screen.password, Qt.Key.Key_Return)
    assert lock.is_locked
    assert "not correct" in screen.message.text()
    with qtbot.waitSignal(lock.resumed):
        _sign_in_on_lock_screen(qtbot, lock, "mei")
    admin = services.clinic.system_actor()
    actions = [r.action for r in AuditService(services.context).query(admin, limit=4)]
    assert actions == ["unlock", "sign_in", "sign_in_failed", "lock"]
