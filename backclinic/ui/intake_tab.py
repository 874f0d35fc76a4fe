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
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.domain.catalogue import Catalogue
from backclinic.domain.protocol import Protocol
from backclinic.domain.screening import evaluate_red_flags
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


def _screening(a: Assessment, catalogue: Catalogue, protocol: Protocol) -> str:
    screening = evaluate_red_flags(a.intake.red_flags, protocol, a.intake.red_flag_clearance)
    return catalogue.label("screening_outcomes", str(screening.outcome))


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


NO_INTAKE = "No intake recorded yet."


class IntakeTab(PatientTab):
    """Lists assessments; "Record intake…" and "Reassess…" open the intake form."""

    shows = frozenset({Change.ASSESSMENTS, Change.PLAN})

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
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.reassess_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.safety_records)
        self.record_button.clicked.connect(self._on_record_button_clicked)
        self.reassess_button.clicked.connect(self._on_reassess_button_clicked)
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
            return assessments.for_patient(actor, patient_id), safety.record_lines(
                actor, patient_id
            )

        self._reads.run(read, self._show_all)

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
        has_intake = any(a.kind == "intake" for a in assessments)
        self.empty_label.setVisible(not assessments)
        self.table.setVisible(bool(assessments))
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
