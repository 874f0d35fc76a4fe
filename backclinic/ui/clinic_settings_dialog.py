"""The clinic's own details: the letterhead of every printed document, the idle lock, the
opening days, hours and closures the plan schedule uses, and the time zone whose calendar is
the clinic's today."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.clinic import ClinicSettings
from backclinic.services.clock import TIME_ZONE_FIELD, known_time_zones, workstation_zone_name
from backclinic.services.context import Actor
from backclinic.services.errors import ServiceError, StaleRecord, ValidationFailed
from backclinic.ui.field_errors import FieldErrors

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The idle lock's bounds are the service's rule; the spin box only keeps typing within them.
IDLE_LOCK_RANGE = (1, 30)


class ClinicSettingsDialog(QDialog):
    """Name, address, phone, email, logo, idle lock, opening days and time zone; errors by
    the field."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self.saved: ClinicSettings | None = None
        self.setWindowTitle("Clinic settings")
        self.clinic_name = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(70)
        self.phone = QLineEdit()
        self.email = QLineEdit()
        self.logo_path = QLineEdit()
        self.logo_path.setPlaceholderText("No logo: the letterhead shows the clinic name only")
        self.browse_button = QPushButton("Browse…")
        logo = QWidget()
        logo_row = QHBoxLayout(logo)
        logo_row.setContentsMargins(0, 0, 0, 0)
        logo_row.addWidget(self.logo_path, 1)
        logo_row.addWidget(self.browse_button)
        self.idle_lock_minutes = QSpinBox()
        self.idle_lock_minutes.setRange(*IDLE_LOCK_RANGE)
        self.idle_lock_minutes.setSuffix(" minutes")
        self.day_boxes = [QCheckBox(name) for name in WEEKDAY_NAMES]
        days = QWidget()
        days_row = QHBoxLayout(days)
        days_row.setContentsMargins(0, 0, 0, 0)
        for box in self.day_boxes:
            days_row.addWidget(box)
        days_row.addStretch(1)
        self.opens_at = QTimeEdit()
        self.closes_at = QTimeEdit()
        for edit in (self.opens_at, self.closes_at):
            edit.setDisplayFormat("HH:mm")
        hours = QWidget()
        hours_row = QHBoxLayout(hours)
        hours_row.setContentsMargins(0, 0, 0, 0)
        hours_row.addWidget(self.opens_at)
        hours_row.addWidget(QLabel("to"))
        hours_row.addWidget(self.closes_at)
        hours_row.addStretch(1)
        self.closed_dates = QPlainTextEdit()
        self.closed_dates.setObjectName("closed_dates")
        self.closed_dates.setTabChangesFocus(True)
        self.closed_dates.setFixedHeight(70)
        self.closed_dates.setPlaceholderText("One date a line, e.g. 2026-12-25")
        self.time_zone = QLineEdit()
        workstation = workstation_zone_name() or "as the operating system sets it"
        self.time_zone.setPlaceholderText(f"This computer's time zone ({workstation})")
        zones = QCompleter(known_time_zones(), self.time_zone)
        zones.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        zones.setFilterMode(Qt.MatchFlag.MatchContains)
        self.time_zone.setCompleter(zones)

        form = QFormLayout()
        self.errors = FieldErrors(form)
        self.errors.add_row("clinic_name", "Clinic &name", self.clinic_name)
        self.errors.add_row("address", "&Address", self.address)
        self.errors.add_row("phone", "&Phone", self.phone)
        self.errors.add_row("email", "&Email", self.email)
        self.errors.add_row("logo_path", "&Logo", logo)
        self.errors.add_row("idle_lock_minutes", "&Lock when idle for", self.idle_lock_minutes)
        self.errors.add_row("clinic_days", "Opening &days", days)
        self.errors.add_row("hours", "Opening &hours", hours)
        self.errors.add_row("closed_dates", "&Closed on (holidays)", self.closed_dates)
        self.errors.add_row(TIME_ZONE_FIELD, "&Time zone", self.time_zone)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.browse_button.clicked.connect(self._on_browse_button_clicked)
        self._load(services.clinic.settings())

    @classmethod
    def edit(
        cls, parent: QWidget | None, services: Services, actor: Actor
    ) -> ClinicSettings | None:
        dialog = cls(services, actor, parent)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            return dialog.saved
        return None

    def _load(self, settings: ClinicSettings) -> None:
        self._version = settings.version
        self.clinic_name.setText(settings.clinic_name)
        self.address.setPlainText(settings.address)
        self.phone.setText(settings.phone)
        self.email.setText(settings.email)
        self.logo_path.setText(settings.logo_path or "")
        self.idle_lock_minutes.setValue(settings.idle_lock_minutes)
        for day, box in enumerate(self.day_boxes):
            box.setChecked(day in settings.clinic_days)
        self.opens_at.setTime(QTime.fromString(settings.opens_at, "HH:mm"))
        self.closes_at.setTime(QTime.fromString(settings.closes_at, "HH:mm"))
        self.closed_dates.setPlainText("\n".join(d.isoformat() for d in settings.closed_dates))
        self.time_zone.setText(settings.time_zone or "")

    def clinic_days(self) -> tuple[int, ...]:
        return tuple(day for day, box in enumerate(self.day_boxes) if box.isChecked())

    def closures(self) -> tuple[dt.date, ...]:
        """The typed closures; ValueError naming the first line that is not a date."""
        days = []
        for line in self.closed_dates.toPlainText().splitlines():
            if not line.strip():
                continue
            try:
                days.append(dt.date.fromisoformat(line.strip()))
            except ValueError:
                raise ValueError(
                    f"Closures are dates as YYYY-MM-DD, one a line; {line.strip()!r} is not one."
                ) from None
        return tuple(days)

    def save(self) -> bool:
        """Save through the clinic service; on a broken rule, show it under its field."""
        try:
            closures = self.closures()
        except ValueError as error:
            self.errors.show({"closed_dates": str(error)})
            return False
        fields: dict[str, object] = {
            "clinic_name": self.clinic_name.text(),
            "address": self.address.toPlainText(),
            "phone": self.phone.text(),
            "email": self.email.text(),
            "idle_lock_minutes": self.idle_lock_minutes.value(),
            "clinic_days": self.clinic_days(),
            "expected_version": self._version,
            "logo_path": self.logo_path.text().strip() or None,
            "opens_at": self.opens_at.time().toString("HH:mm"),
            "closes_at": self.closes_at.time().toString("HH:mm"),
            "closed_dates": closures,
            "time_zone": self.time_zone.text().strip(),
        }
        try:
            self.saved = self._services.clinic.update_settings(self._actor, **fields)  # type: ignore[arg-type]
        except ValidationFailed as error:
            unplaced = self.errors.show(error.by_field)
            if unplaced:
                QMessageBox.warning(self, "Not saved", next(iter(unplaced.values())))
            return False
        except StaleRecord as error:
            QMessageBox.warning(self, "Changed elsewhere", str(error))
            return False
        except ServiceError as error:
            QMessageBox.warning(self, "Not saved", str(error))
            return False
        self.errors.clear()
        return True

    def _on_buttons_accepted(self) -> None:
        if self.save():
            self.accept()

    def _on_browse_button_clicked(self) -> None:
        start = self.logo_path.text() or str(Path.home())
        chosen, _filter = QFileDialog.getOpenFileName(
            self, "Clinic logo", start, "Images (*.png *.jpg *.jpeg)"
        )
        if chosen:
            self.logo_path.setText(chosen)
