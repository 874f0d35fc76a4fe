"""The workspace's Intake tab: a patient's assessments, and buttons to record more."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol
from backclinic.services.assessments import Assessment
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.use_case import Change
from backclinic.ui.intake_form import IntakeForm
from backclinic.ui.operations import Operations
from backclinic.ui.patient_tab import PatientTab
from backclinic.ui.row_table import row_table_view

ModelIndex = QModelIndex | QPersistentModelIndex
NOT_RECORDED = "—"


@dataclass(frozen=True)
class AssessmentColumn:
    title: str
    value: Callable[[Assessment, Catalogue, Protocol], str]
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft


def _odi(a: Assessment, _c: Catalogue, _p: Protocol) -> str:
    if a.odi is None:
        return NOT_RECORDED
    if a.odi.percent is None:
        return f"incomplete ({a.odi.skipped} skipped)"
    return f"{a.odi.percent:.1f} %"


def _screening(a: Assessment, catalogue: Catalogue, _p: Protocol) -> str:
    if a.screening is None:
        return NOT_RECORDED
    return catalogue.label("screening_outcomes", str(a.screening.outcome))


def record_status(a: Assessment) -> str:
    """The record's standing, in words: blank for an ordinary current record."""
    if a.entered_in_error:
        return "Entered in error"
    if a.superseded:
        return "Amended (original)"
    if a.amends_id is not None:
        return "Amendment"
    return ""


def _pain(a: Assessment, _c: Catalogue, _p: Protocol) -> str:
    i = a.intake
    if i.nprs_current is None:
        return NOT_RECORDED
    rest = [
        f"{w} {v}" for w, v in (("worst", i.nprs_worst), ("best", i.nprs_best)) if v is not None
    ]
    return f"{i.nprs_current}" + (f" ({', '.join(rest)})" if rest else "")


COLUMNS = (
    AssessmentColumn("Date", lambda a, _c, _p: a.assessed_on.isoformat()),
    AssessmentColumn("Kind", lambda a, c, _p: c.label("assessment_kinds", a.kind)),
    AssessmentColumn("NPRS", _pain),
    AssessmentColumn("ODI", _odi, Qt.AlignmentFlag.AlignRight),
    AssessmentColumn(
        "STarT Back",
        lambda a, c, _p: c.label("startback_risks", a.startback.risk) if a.startback else "—",
    ),
    AssessmentColumn("Red-flag screen", _screening),
    AssessmentColumn("Record", lambda a, _c, _p: record_status(a)),
)


class AssessmentTableModel(QAbstractTableModel):
    """A patient's assessments, newest first, one column per COLUMNS entry."""

    def __init__(
        self, catalogue: Catalogue, protocol: Protocol, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._catalogue = catalogue
        self._protocol = protocol
        self._rows: list[Assessment] = []

    def set_assessments(self, assessments: Sequence[Assessment]) -> None:
        self.beginResetModel()
        self._rows = sorted(assessments, key=lambda a: (a.assessed_on, a.id), reverse=True)
        self.endResetModel()

    def assessment_at(self, row: int) -> Assessment:
        return self._rows[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.value(self._rows[index.row()], self._catalogue, self._protocol)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(column.align | Qt.AlignmentFlag.AlignVCenter)
        item = self._rows[index.row()]
        if item.current:
            if role == Qt.ItemDataRole.ToolTipRole and item.amendment_reason:
                return f"Amended: {item.amendment_reason}. Open it to see the original."
            return None
        # Kept for the record, counted nowhere: struck through and greyed, with why.
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor("#7a1c14") if item.entered_in_error else QColor("#6b6b6b")
        if role == Qt.ItemDataRole.ToolTipRole:
            if item.entered_in_error:
                return f"Entered in error: {item.entered_in_error_reason}. Not counted."
            return "Amended since: the correction is the record that counts."
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section].title
        return None


NO_INTAKE = (
    "No intake recorded yet. Record one with “Record intake…”: a plan, the course and the "
    "outcomes start from it."
)
OPEN_HINT = (
    "Open a row (double-click, Enter or “Open…”) to read it, amend it or mark it entered in error."
)


class IntakeTab(PatientTab):
    """Lists every assessment on record (corrected ones struck through); "Record intake…"
    and "Reassess…" open the intake form, and a row opens read-only to amend or void."""

    shows = frozenset({Change.ASSESSMENTS, Change.PLAN})
    reads_what = "The assessments"

    assessment_saved = Signal(int)

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
        self.model = AssessmentTableModel(services.catalogue, services.protocol, self)
        self.table = row_table_view(self.model)
        self.empty_label = QLabel(NO_INTAKE)
        self.empty_label.setObjectName("empty_state")
        # Clearances of red flags and referral outcomes, beside the screens they answer.
        self.safety_records = QLabel()
        self.safety_records.setObjectName("safety_records")
        self.safety_records.setWordWrap(True)
        self.safety_records.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.safety_records.hide()
        self.record_button = QPushButton("Record intake…")
        self.reassess_button = QPushButton("Reassess…")
        self.open_button = QPushButton("Open…")
        self.open_button.setObjectName("open_assessment")
        self.hint = QLabel(OPEN_HINT)
        self.hint.setObjectName("open_hint")
        self.hint.setWordWrap(True)
        self.empty_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.reassess_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.safety_records)
        self.record_button.clicked.connect(self._on_record_button_clicked)
        self.reassess_button.clicked.connect(self._on_reassess_button_clicked)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.table.activated.connect(self._on_table_activated)
        self.table.doubleClicked.connect(self._on_table_activated)
        self._show([])
        self.empty_label.setText("Loading…")
        self.reload()

    def reload(self) -> None:
        assessments, patient_id, actor = (
            self._services.assessments,
            self._patient_id,
            self._actor,
        )
        safety = self._services.safety

        def read() -> tuple[list[Assessment], tuple[str, ...]]:
            return assessments.history(actor, patient_id), safety.record_lines(actor, patient_id)

        self._read(read, self._show_all)

    def _show_all(self, read: tuple[list[Assessment], tuple[str, ...]]) -> None:
        assessments, records = read
        self.safety_records.setText(
            "Clearances and referral outcomes:\n" + "\n".join(f"• {line}" for line in records)
        )
        self.safety_records.setVisible(bool(records))
        self._show(assessments)

    def _show(self, assessments: list[Assessment]) -> None:
        self.empty_label.setText(NO_INTAKE)
        self.model.set_assessments(assessments)
        has_intake = any(a.kind == "intake" and a.current for a in assessments)
        self.empty_label.setVisible(not assessments)
        self.table.setVisible(bool(assessments))
        self.hint.setVisible(bool(assessments))
        self.open_button.setEnabled(bool(assessments))
        self.reassess_button.setEnabled(has_intake)
        self.reassess_button.setToolTip("" if has_intake else "Record an intake first.")

    def _record(self, kind: str) -> None:
        saved = IntakeForm.record(
            self, self._services, self._actor, self._patient_id, kind, operations=self._operations
        )
        if saved is not None:
            self.assessment_saved.emit(saved.id)

    def _on_record_button_clicked(self) -> None:
        self._record("intake")

    def _on_reassess_button_clicked(self) -> None:
        self._record("reassessment")

    def open_row(self, row: int) -> None:
        """Open the assessment of ``row`` read-only (the clinician amends or voids it there)."""
        if not 0 <= row < self.model.rowCount():
            return
        changed = IntakeForm.open_saved(
            self,
            self._services,
            self._actor,
            self.model.assessment_at(row),
            operations=self._operations,
        )
        if changed is not None:
            self.assessment_saved.emit(changed.id)

    def _on_table_activated(self, index: QModelIndex) -> None:
        self.open_row(index.row())

    def _on_open_button_clicked(self) -> None:
        selected = self.table.selectionModel().selectedRows()
        self.open_row(selected[0].row() if selected else 0)
