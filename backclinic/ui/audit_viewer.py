"""The audit viewer, for admins: who did what and when, filtered by patient, clinician,
date and action, newest first, a page at a time."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.audit import AUDIT_ACTIONS, AuditRecord, AuditService
from backclinic.services.clinic import Clinician
from backclinic.services.context import Actor
from backclinic.services.errors import NotFound, PermissionDenied
from backclinic.services.patients import PatientService
from backclinic.services.permissions import ROLE_NAMES
from backclinic.ui.field_errors import ERROR_STYLE, FieldErrors
from backclinic.ui.row_table import Column, RowTableModel
from backclinic.ui.wording import counted

PAGE_SIZE = 200


def _in_words(value: object) -> object:
    """The details as recorded, with role codes ("front_desk") shown as their names."""
    if isinstance(value, dict):
        return {
            key: ROLE_NAMES.get(item, item)
            if key == "role" and isinstance(item, str)
            else _in_words(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_in_words(item) for item in value]
    return value


def _details(record: AuditRecord) -> str:
    if not record.details:
        return ""
    return json.dumps(_in_words(record.details), ensure_ascii=False, sort_keys=True)


COLUMNS: tuple[Column, ...] = (
    ("When", lambda r: r.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
    ("Who", lambda r: r.who),
    ("Action", lambda r: r.action_label),
    ("Record", lambda r: r.entity if r.entity_id is None else f"{r.entity} {r.entity_id}"),
    ("Patient", lambda r: r.patient_label),
    ("Details", _details),
)


class AuditTableModel(RowTableModel[AuditRecord]):
    """Audit records, newest first; later pages are appended below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)

    def append(self, records: list[AuditRecord]) -> None:
        if not records:
            return
        first = self.rowCount()
        self.beginInsertRows(QModelIndex(), first, first + len(records) - 1)
        self._rows.extend(records)
        self.endInsertRows()

    def extra(self, item: AuditRecord, column: int, role: int) -> Any:
        # The whole text on hover: a long details column is cut off in the table.
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[column][1](item)
        return None


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()).astimezone()


class AuditViewer(QDialog):
    """Filters on top, entries below; Load more fetches the next older page."""

    def __init__(
        self,
        audit: AuditService,
        patients: PatientService,
        clinicians: list[Clinician],
        actor: Actor,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._audit = audit
        self._patients = patients
        self._actor = actor
        self._filters: dict[str, Any] = {}
        self.setWindowTitle("Audit trail")
        self.resize(1000, 600)

        self.mrn = QLineEdit()
        self.mrn.setPlaceholderText("Any patient")
        self.clinician = QComboBox()
        self.clinician.addItem("Anyone", None)
        for clinician in clinicians:
            self.clinician.addItem(clinician.full_name, clinician.id)
        self.start = QLineEdit()
        self.start.setPlaceholderText("YYYY-MM-DD")
        self.end = QLineEdit()
        self.end.setPlaceholderText("YYYY-MM-DD")
        self.action = QComboBox()
        self.action.addItem("Any action", None)
        for code, label in AUDIT_ACTIONS.items():
            self.action.addItem(label, code)

        form = QFormLayout()
        self.errors = FieldErrors(form)
        self.errors.add_row("mrn", "Patient MRN", self.mrn)
        self.errors.add_row("clinician", "Clinician", self.clinician)
        self.errors.add_row("start", "From (date)", self.start)
        self.errors.add_row("end", "To (date)", self.end)
        self.errors.add_row("action", "Action", self.action)

        self.apply_button = QPushButton("Show")
        self.apply_button.setObjectName("apply")
        self.apply_button.setDefault(True)
        self.more_button = QPushButton("Load older entries")
        self.more_button.setObjectName("more")
        self.more_button.setEnabled(False)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)

        self.model = AuditTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("audit_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(
            len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch
        )

        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.more_button)
        buttons.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)

        self.apply_button.clicked.connect(self._on_apply_button_clicked)
        self.more_button.clicked.connect(self._on_more_button_clicked)
        self._on_apply_button_clicked()

    @classmethod
    def browse(
        cls,
        parent: QWidget | None,
        audit: AuditService,
        patients: PatientService,
        clinicians: list[Clinician],
        actor: Actor,
    ) -> None:
        cls(audit, patients, clinicians, actor, parent).exec()

    def _read_filters(self) -> dict[str, Any] | None:
        errors: dict[str, str] = {}
        filters: dict[str, Any] = {
            "clinician_id": self.clinician.currentData(),
            "action": self.action.currentData(),
        }
        mrn = self.mrn.text().strip()
        if mrn:
            try:
                filters["patient_id"] = self._patients.by_mrn(self._actor, mrn).id
            except NotFound as error:
                errors["mrn"] = str(error)
        days: dict[str, dt.date] = {}
        for field, editor in (("start", self.start), ("end", self.end)):
            text = editor.text().strip()
            if not text:
                continue
            try:
                days[field] = dt.date.fromisoformat(text)
            except ValueError:
                errors[field] = "Write the date as YYYY-MM-DD."
        if "start" in days:
            filters["start"] = _local_midnight(days["start"])
        if "end" in days:
            filters["end"] = _local_midnight(days["end"] + dt.timedelta(days=1))
        if "start" in days and "end" in days and days["end"] < days["start"]:
            errors["end"] = "The end date is before the start date."
        self.errors.show(errors)
        return None if errors else filters

    def _on_apply_button_clicked(self) -> None:
        filters = self._read_filters()
        if filters is None:
            return
        self._filters = filters
        page = self._page(before_id=None)
        if page is not None:
            self.model.set_rows(page)

    def _on_more_button_clicked(self) -> None:
        records = self.model.rows()
        if not records:
            return
        page = self._page(before_id=records[-1].id)
        if page is not None:
            self.model.append(page)

    def _page(self, *, before_id: int | None) -> list[AuditRecord] | None:
        try:
            page = self._audit.query(
                self._actor, **self._filters, limit=PAGE_SIZE, before_id=before_id
            )
        except PermissionDenied as error:
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(str(error))
            self.apply_button.setEnabled(False)
            return None
        self.more_button.setEnabled(len(page) == PAGE_SIZE)
        shown = self.model.rowCount() + len(page) if before_id is not None else len(page)
        self.message.setStyleSheet("")
        self.message.setText(f"{counted(shown, 'entry', 'entries')} shown, newest first.")
        return page
