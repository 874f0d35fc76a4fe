"""A patient's sessions, newest last, with logging and amending one a click away."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.plans import PlanView
from backclinic.services.sessions import SessionRecord
from backclinic.services.use_case import Change
from backclinic.ui.operations import Operations
from backclinic.ui.patient_tab import PatientTab
from backclinic.ui.row_table import RowTableModel, row_table_view
from backclinic.ui.session_dialog import SessionDialog

NOT_ASKED = "–"


def _pain(record: SessionRecord) -> str:
    before = record.data.pain_before
    after = record.data.pain_after
    return f"{NOT_ASKED if before is None else before} → {NOT_ASKED if after is None else after}"


class SessionsModel(RowTableModel[SessionRecord]):
    """Session records as rows; an amended one explains why in its tooltip."""

    def __init__(
        self,
        labels: Callable[[str, str], str],
        parent: QWidget | None = None,
    ) -> None:
        # Filled with each read, before its rows: who gave each session.
        clinicians: dict[int, str] = {}
        self.clinicians = clinicians
        super().__init__(
            [
                ("Date", lambda r: r.data.performed_at.strftime("%Y-%m-%d %H:%M")),
                ("Clinician", lambda r: clinicians.get(r.clinician_id or -1, "")),
                (
                    "Modalities",
                    lambda r: ", ".join(labels("modalities", m) for m in r.data.modalities),
                ),
                ("Pain", _pain),
                ("Points", lambda r: " ".join(r.data.acupoints)),
                (
                    "Interventions",
                    lambda r: ", ".join(
                        labels("interventions", code) for code, _ in r.data.interventions
                    ),
                ),
                ("Amended", lambda r: "amended" if r.amends_id is not None else ""),
            ],
            parent,
        )

    def set_records(self, records: list[SessionRecord], clinicians: dict[int, str]) -> None:
        self.clinicians.clear()
        self.clinicians.update(clinicians)
        self.set_rows(records)

    def record(self, row: int) -> SessionRecord | None:
        return self.row(row)

    def extra(self, item: SessionRecord, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and item.amendment_reason:
            return f"Amended: {item.amendment_reason}"
        return None


NO_SESSIONS = (
    "No sessions logged yet: after each treatment, log it with “Log session…” (pain before "
    "and after, what was done). The progress chart and the course are built from them."
)


@dataclass(frozen=True)
class SessionsRead:
    """What the tab shows, read together off the GUI thread."""

    records: list[SessionRecord]
    clinicians: dict[int, str]
    # What "Log session…" fulfils: today's planned visit, or else the oldest overdue one.
    next_due_visit: int | None


def next_due_visit(plan: PlanView | None, today: dt.date) -> int | None:
    """Today's planned visit of ``plan``, or else its oldest overdue one."""
    if plan is None:
        return None
    due = [v for v in plan.visits if v.status == "planned" and v.visit_date <= today]
    todays = [v for v in due if v.visit_date == today]
    chosen = todays[0] if todays else (due[0] if due else None)
    return chosen.id if chosen else None


class SessionsTab(PatientTab):
    """The workspace's "Sessions" tab."""

    # Plan and schedule changes move the visit that the next session fulfils.
    shows = frozenset({Change.SESSIONS, Change.PLAN, Change.SCHEDULE})
    reads_what = "The sessions"

    session_saved = Signal(int)

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
        self.model = SessionsModel(services.catalogue.label, self)
        self._next_due_visit: int | None = None
        self.table = row_table_view(self.model)
        self.log_button = QPushButton("Log session…")
        self.amend_button = QPushButton("Amend…")
        buttons = QHBoxLayout()
        buttons.addWidget(self.log_button)
        buttons.addWidget(self.amend_button)
        buttons.addStretch(1)
        self.empty_label = QLabel(NO_SESSIONS)
        self.empty_label.setObjectName("empty_state")
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table, 1)
        self.log_button.clicked.connect(self._on_log_button_clicked)
        self.amend_button.clicked.connect(self._on_amend_button_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self._on_table_selection_changed()
        # Until the first read is in, there is no visit to log against.
        self.log_button.setEnabled(False)
        self.reload()

    def reload(self) -> None:
        services, patient_id, actor = self._services, self._patient_id, self._actor

        def read() -> SessionsRead:
            return SessionsRead(
                records=services.sessions.history(actor, patient_id),
                clinicians={c.id: c.full_name for c in services.clinic.clinicians(actor)},
                next_due_visit=next_due_visit(
                    services.plans.active_plan(actor, patient_id), services.patients.today()
                ),
            )

        self._read(read, self._show_records)

    def _show_records(self, read: SessionsRead) -> None:
        records = read.records
        self._next_due_visit = read.next_due_visit
        self.log_button.setEnabled(True)
        self.model.set_records(records, read.clinicians)
        self.empty_label.setVisible(not records)
        self.table.setVisible(bool(records))
        self._on_table_selection_changed()

    def selected(self) -> SessionRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def next_due_visit(self) -> int | None:
        """Today's planned visit, or else the oldest overdue one (as of the last read)."""
        return self._next_due_visit

    def _on_table_selection_changed(self, *_args: object) -> None:
        self.amend_button.setEnabled(self.selected() is not None)

    def _on_log_button_clicked(self) -> None:
        saved = SessionDialog.log(
            self,
            self._services,
            self._actor,
            self._patient_id,
            self.next_due_visit(),
            operations=self._operations,
        )
        if saved is not None:
            self.session_saved.emit(saved.id)

    def _on_amend_button_clicked(self) -> None:
        record = self.selected()
        if record is None:
            return
        saved = SessionDialog.amend(
            self, self._services, self._actor, record, operations=self._operations
        )
        if saved is not None:
            self.session_saved.emit(saved.id)
