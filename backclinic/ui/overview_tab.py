"""The Overview tab, first in a patient's workspace: safety first (red "urgent referral"
when treatment is on hold), then the plan and its phase, the next visit, the latest pain
and its trend, notices of imported history, and the contact details.

Everything clinical comes from the episode course (services/episodes.py), as on paper.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from backclinic.services.assessments import FlagAnswer
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.episodes import Course
from backclinic.services.patients import Patient
from backclinic.services.permissions import Permission, allows
from backclinic.services.use_case import Change
from backclinic.ui.operations import Operations
from backclinic.ui.patient_tab import PatientTab
from backclinic.ui.safety_records_dialog import ClearanceDialog, ReferralOutcomeDialog

URGENT_STYLE = "color: white; background: #b00020; padding: 6px; font-weight: bold;"
CAUTION_STYLE = "background: #fff4ce; padding: 6px;"
CLEAR_STYLE = "padding: 6px;"
TRENDS = {"falling": "falling", "flat": "flat", "rising": "rising"}


def _day(day: dt.date | None) -> str:
    return f"{day.day} {day:%b} {day.year}" if day else "an unknown day"


def safety_text(course: Course) -> str:
    status = course.safety
    lines = [status.message]
    present = [i for i in status.precautions if i.answer == FlagAnswer.PRESENT]
    if present:
        lines.append(
            "Precautions: "
            + "; ".join(
                f"{i.label} (recorded {_day(i.on)}{f' by {i.by}' if i.by else ''})" for i in present
            )
        )
    elif status.precautions:
        lines.append("No acupuncture precaution recorded at the latest screen.")
    return "\n".join(lines)


class OverviewTab(PatientTab):
    """The patient at a glance; front desk sees the contact details only."""

    shows = frozenset({Change.ASSESSMENTS, Change.PLAN, Change.SESSIONS, Change.SCHEDULE})
    reads_what = "The patient's overview"

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(services, actor, patient_id, parent, operations=operations)
        self._clinical = allows(actor, Permission.VIEW_CLINICAL)
        self.safety = self._label("overview_safety")
        self.plan = self._label("overview_plan")
        self.next_visit = self._label("overview_next_visit")
        self.pain = self._label("overview_pain")
        self.notices = self._label("overview_notices")
        self._values: dict[str, QLabel] = {}
        self._course: Course | None = None
        # What lifts a stop is recorded here; the session form's Save says to come here.
        self.clearance_button = QPushButton("Record clearance…")
        self.clearance_button.setObjectName("record_clearance")
        self.referral_button = QPushButton("Record referral outcome…")
        self.referral_button.setObjectName("record_referral_outcome")
        self._writes = allows(actor, Permission.WRITE_CLINICAL)
        for button in (self.clearance_button, self.referral_button):
            button.hide()
        self.clearance_button.clicked.connect(self._on_clearance_button_clicked)
        self.referral_button.clicked.connect(self._on_referral_button_clicked)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        if self._clinical:
            layout.addWidget(self.safety)
            actions = QHBoxLayout()
            actions.addWidget(self.clearance_button)
            actions.addWidget(self.referral_button)
            actions.addStretch(1)
            layout.addLayout(actions)
            form.addRow("Plan", self.plan)
            form.addRow("Next visit", self.next_visit)
            form.addRow("Latest pain", self.pain)
            form.addRow("Import notices", self.notices)
        for key, label in (
            ("sex", "Sex"),
            ("phone", "Phone"),
            ("email", "Email"),
            ("address", "Address"),
        ):
            value = self._label(f"overview_{key}")
            self._values[key] = value
            form.addRow(label, value)
        layout.addLayout(form)
        layout.addStretch(1)
        if self._clinical:
            self.reload()

    def _label(self, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def show_patient(self, patient: Patient) -> None:
        shown = {
            "sex": (patient.sex or "").capitalize(),
            "phone": patient.phone,
            "email": patient.email,
            "address": patient.address,
        }
        for key, text in shown.items():
            self._values[key].setText(text or "Not recorded")

    def reload(self) -> None:
        if not self._clinical:
            return
        episodes, actor, patient_id = self._services.episodes, self._actor, self._patient_id
        self._read(lambda: episodes.course(actor, patient_id), self._show_course)

    def _on_clearance_button_clicked(self) -> None:
        if self._course is None:
            return
        ClearanceDialog(
            self._services,
            self._actor,
            self._patient_id,
            self._course.safety,
            self,
            operations=self._operations,
        ).exec()

    def _on_referral_button_clicked(self) -> None:
        if self._course is None:
            return
        ReferralOutcomeDialog(
            self._services,
            self._actor,
            self._patient_id,
            self._course.safety,
            self,
            operations=self._operations,
        ).exec()

    def _show_course(self, course: Course) -> None:
        self._course = course
        status = course.safety
        urgent = {i for g in self._services.protocol.red_flag_groups if g.urgent for i in g.items}
        clearable = [i for i in status.red_flags_present if i.code not in urgent]
        self.clearance_button.setVisible(self._writes and bool(clearable))
        self.referral_button.setVisible(self._writes and status.on_hold)
        self.safety.setText(safety_text(course))
        self.safety.setStyleSheet(
            URGENT_STYLE
            if status.on_hold
            else CAUTION_STYLE
            if status.uncleared or status.precautions_in_force
            else CLEAR_STYLE
        )
        phase = next((p for p in course.phases if p.number == course.current_phase), None)
        if phase is not None and course.week is not None:
            self.plan.setText(
                f"{course.status.capitalize()}: Phase {phase.number} ({phase.name}), week "
                f"{course.week} of {course.weeks_planned}."
            )
        else:
            self.plan.setText(course.status.capitalize() + ".")
        self.next_visit.setText(_day(course.next_visit) if course.next_visit else "None planned")
        pain = course.outcome("nprs")
        trend = f", trend {TRENDS[course.trend]}" if course.trend else ""
        if pain.latest is not None:
            self.pain.setText(f"{pain.latest:g} of 10 on {_day(pain.latest_on)}{trend}")
        elif pain.baseline is not None:
            self.pain.setText(
                f"{pain.baseline:g} of 10 at the baseline on {_day(pain.baseline_on)}"
            )
        else:
            self.pain.setText("Not recorded")
        self.notices.setText("\n".join(course.notices) if course.notices else "None")
