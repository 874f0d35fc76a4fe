"""The screens take "today" and the time zone from the clinic clock, not the workstation."""

from __future__ import annotations

import datetime as dt

from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.ui.clinic_settings_dialog import ClinicSettingsDialog
from backclinic.ui.day_view import DayView
from tests.services.test_clinic_clock import HONOLULU, MONDAY, clinic_at


def test_the_day_view_titles_the_clinic_day_in_honolulu_after_utc_midnight(
    qtbot: QtBot, database: OpenDatabase, services: Services, actor: Actor
) -> None:
    # 23:59 on Monday in Honolulu is already 09:59 on Tuesday in UTC.
    clinic = clinic_at(database, services, actor, HONOLULU, dt.datetime(2026, 12, 14, 23, 59))
    widget = DayView(clinic, actor, schedule=clinic.schedule)
    qtbot.addWidget(widget)
    # The day's visits are read off the GUI thread; the title follows them.
    qtbot.waitUntil(lambda: widget.title.text().startswith("Monday 14 December 2026"))
    assert clinic.schedule.today() == MONDAY


def test_the_settings_dialog_shows_and_saves_the_time_zone_and_names_a_bad_one(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    dialog = ClinicSettingsDialog(services, actor)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.time_zone.text() == (services.clinic.settings().time_zone or "")
    dialog.time_zone.setText("Honolulu")
    assert not dialog.save()
    assert "Time zone must be an IANA time zone name" in dialog.errors.label("time_zone").text()
    assert services.clinic.settings().time_zone != "Honolulu"
    dialog.time_zone.setText(HONOLULU)
    assert dialog.save()
    assert services.clinic.settings().time_zone == HONOLULU
    assert services.schedule.today() == services.context.clock.now().date()
    assert services.context.clock.now().utcoffset() == dt.timedelta(hours=-10)
