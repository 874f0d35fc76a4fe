from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician
from backclinic.services.context import Actor
from backclinic.ui.clinic_settings_dialog import ClinicSettingsDialog
from tests.ui.conftest import ModalDriver


@pytest.fixture
def dialog(qtbot: QtBot, services: Services, actor: Actor) -> ClinicSettingsDialog:
    widget = ClinicSettingsDialog(services, actor)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_the_dialog_shows_the_current_settings(
    dialog: ClinicSettingsDialog, clinician: Clinician
) -> None:
    assert dialog.clinic_name.text() == "Harbour Back Clinic"
    assert dialog.clinic_days() == (0, 1, 2, 3, 4)
    assert dialog.idle_lock_minutes.minimum() == 1
    assert dialog.idle_lock_minutes.maximum() == 30


def test_saving_updates_the_letterhead_and_opening_days(
    qtbot: QtBot, dialog: ClinicSettingsDialog, services: Services
) -> None:
    dialog.clinic_name.setText("Harbour Back & Spine Clinic")
    dialog.address.setPlainText("12 Quay Street\nPortsmouth PO1 2AB")
    dialog.phone.setText("023 9200 1234")
    dialog.email.setText("hello@harbourback.example")
    dialog.idle_lock_minutes.setValue(10)
    dialog.day_boxes[5].setChecked(True)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() == dialog.DialogCode.Accepted
    settings = services.clinic.settings()
    assert settings.clinic_name == "Harbour Back & Spine Clinic"
    assert settings.address == "12 Quay Street\nPortsmouth PO1 2AB"
    assert (settings.phone, settings.email) == ("023 9200 1234", "hello@harbourback.example")
    assert settings.idle_lock_minutes == 10
    assert settings.clinic_days == (0, 1, 2, 3, 4, 5)
    assert dialog.saved == settings


def test_broken_rules_show_under_their_fields_and_nothing_is_saved(
    dialog: ClinicSettingsDialog, services: Services
) -> None:
    before = services.clinic.settings()
    dialog.clinic_name.setText("  ")
    for box in dialog.day_boxes:
        box.setChecked(False)
    assert not dialog.save()
    name_error = dialog.errors.label("clinic_name")
    days_error = dialog.errors.label("clinic_days")
    assert name_error.isVisible() and name_error.text() == "Clinic name is required."
    assert days_error.isVisible() and days_error.text() == "Choose at least one opening day."
    assert dialog.clinic_name.hasFocus()
    assert services.clinic.settings() == before
    dialog.clinic_name.setText("Harbour")
    dialog.day_boxes[0].setChecked(True)
    assert dialog.save()
    assert not name_error.isVisible()


def test_a_change_saved_elsewhere_is_not_overwritten(
    dialog: ClinicSettingsDialog, services: Services, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = services.clinic.settings()
    services.clinic.update_settings(
        actor,
        clinic_name="Renamed elsewhere",
        address="",
        phone="",
        email="",
        idle_lock_minutes=current.idle_lock_minutes,
        clinic_days=current.clinic_days,
        expected_version=current.version,
    )
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: warnings.append(text))
    dialog.clinic_name.setText("Mine")
    assert not dialog.save()
    assert warnings[0].startswith("The clinic's details was changed by Mei Lin at ")
    assert "nothing was saved" in warnings[0]
    assert services.clinic.settings().clinic_name == "Renamed elsewhere"


def test_edit_returns_the_saved_settings(
    services: Services, actor: Actor, modal: ModalDriver
) -> None:
    def change(widget: object) -> None:
        assert isinstance(widget, ClinicSettingsDialog)
        widget.phone.setText("0800 123")
        widget.buttons.accepted.emit()

    modal.then(change)
    saved = ClinicSettingsDialog.edit(None, services, actor)
    modal.check()
    assert saved is not None and saved.phone == "0800 123"


def test_opening_hours_and_closures_are_edited_in_the_dialog(
    qtbot: QtBot, dialog: ClinicSettingsDialog, services: Services
) -> None:

    assert dialog.opens_at.time().toString("HH:mm") == "08:00"
    dialog.opens_at.setTime(QTime(9, 0))
    dialog.closes_at.setTime(QTime(17, 30))
    dialog.closed_dates.setPlainText("2026-12-25\n2027-01-01\n")
    qtbot.keyClick(dialog, Qt.Key.Key_Return)

    assert dialog.result() == dialog.DialogCode.Accepted
    settings = services.clinic.settings()
    assert (settings.opens_at, settings.closes_at) == ("09:00", "17:30")
    assert settings.closed_dates == (dt.date(2026, 12, 25), dt.date(2027, 1, 1))


def test_a_closure_that_is_not_a_date_is_refused_under_its_field(
    qtbot: QtBot, dialog: ClinicSettingsDialog, services: Services
) -> None:
    dialog.closed_dates.setPlainText("25/12/2026")
    qtbot.keyClick(dialog, Qt.Key.Key_Return)

    assert dialog.result() != dialog.DialogCode.Accepted
    assert "'25/12/2026' is not one" in dialog.errors.label("closed_dates").text()
    assert services.clinic.settings().closed_dates == ()


def test_closing_before_opening_is_refused_under_the_hours(
    qtbot: QtBot, dialog: ClinicSettingsDialog, services: Services
) -> None:

    dialog.closes_at.setTime(QTime(7, 0))
    qtbot.keyClick(dialog, Qt.Key.Key_Return)

    assert dialog.result() != dialog.DialogCode.Accepted
    assert "close after it opens" in dialog.errors.label("hours").text()
    assert services.clinic.settings().closes_at == "18:00"
