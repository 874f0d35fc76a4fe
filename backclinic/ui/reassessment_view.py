"""Reassessment against the intake: NPRS, ODI, STarT Back risk, PSFS mean and RMDQ, each
with its change and verdict as the episode service judged and worded them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backclinic.domain.outcomes import Measure
from backclinic.services.assessments import Assessment
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.episodes import Comparison, MeasureComparison
from backclinic.services.use_case import Change as RecordKind
from backclinic.ui.intake_form import IntakeForm
from backclinic.ui.operations import Operations
from backclinic.ui.patient_tab import PatientTab

NOT_RECORDED = "Not recorded"
MEASURE_LABELS: dict[Measure, str] = {
    "nprs": "NPRS (pain now)",
    "odi": "ODI %",
    "psfs": "PSFS mean",
    "rmdq": "RMDQ",
}
RISK_LABEL = "STarT Back risk"
COLUMNS = ("Measure", "Intake", "Now", "Change", "Verdict")


@dataclass(frozen=True)
class MeasureRow:
    """One measure of a reassessment beside the intake's, as the table shows it."""

    measure: str
    intake: str
    now: str
    change: str
    verdict: str
    explanation: str = ""
    meaningful: bool = False


def _value(value: float | None, suffix: str = "") -> str:
    return NOT_RECORDED if value is None else f"{value:g}{suffix}"


def _judged(compared: MeasureComparison) -> MeasureRow:
    """The service's verdict laid out: this view judges nothing itself."""
    label = MEASURE_LABELS[compared.measure]
    unit = compared.unit
    before, after = _value(compared.before, unit), _value(compared.after, unit)
    change = compared.change
    if change is None:
        return MeasureRow(label, before, after, "—", "—")
    return MeasureRow(
        label, before, after, change.change_text, change.verdict_text, change.text, change.improved
    )


def comparison_rows(comparison: Comparison) -> list[MeasureRow]:
    """The rows of one comparison: NPRS, ODI, STarT Back risk, PSFS, RMDQ."""
    risk = comparison.risk
    if risk.step is None:
        risk_row = MeasureRow(
            RISK_LABEL, risk.before or NOT_RECORDED, risk.after or NOT_RECORDED, "—", "—"
        )
    else:
        risk_row = MeasureRow(
            RISK_LABEL,
            risk.before or "",
            risk.after or "",
            f"{risk.before} → {risk.after}",
            risk.text,
            risk.source,
            risk.step < 0,
        )
    return [
        _judged(comparison.measure("nprs")),
        _judged(comparison.measure("odi")),
        risk_row,
        _judged(comparison.measure("psfs")),
        _judged(comparison.measure("rmdq")),
    ]


NO_OUTCOMES = (
    "No outcomes yet: record a reassessment (“Record reassessment…”) at each phase end and "
    "every 10 visits. Its pain, Oswestry, STarT Back and PSFS are then compared here with "
    "the intake's, each with its verdict."
)
NO_INTAKE_FOR_OUTCOMES = (
    "No outcomes yet: record the intake first (Intake tab, “Record intake…”), then a "
    "reassessment at each phase end; the changes since the intake are shown here."
)


# The intake, the later assessment and the rows comparing them.
Compared = tuple[Assessment, Assessment, list[MeasureRow]]


class ReassessmentView(PatientTab):
    """Each reassessment (and discharge assessment) of a patient beside the intake, newest
    first; "Record reassessment…" opens the intake form as a reassessment."""

    shows = frozenset({RecordKind.ASSESSMENTS})
    reads_what = "The outcomes"

    reassessment_recorded = Signal(int)

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
        self.comparisons: list[Compared] = []
        self.record_button = QPushButton("Record reassessment…")
        self.record_button.setObjectName("record_reassessment")
        self.empty = QLabel(NO_OUTCOMES)
        self.empty.setObjectName("no_reassessment")
        self.empty.setWordWrap(True)
        self._body = QWidget()
        self._groups = QVBoxLayout(self._body)
        self._groups.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._body)
        self._scroll = scroll
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)
        # With nothing to compare, the words say what to do, not an empty grey box.
        layout.addStretch(0)
        self.record_button.clicked.connect(self._on_record_button_clicked)
        self.reload()

    def reload(self) -> None:
        services, actor, patient_id = self._services, self._actor, self._patient_id

        def read() -> tuple[list[Compared], bool]:
            compared = services.episodes.comparisons(actor, patient_id)
            rows = [(c.intake, c.later, comparison_rows(c)) for c in reversed(compared)]
            has_intake = bool(rows) or (
                services.assessments.latest_intake(actor, patient_id) is not None
            )
            return rows, has_intake

        self._read(read, self._show)

    def _show(self, read: tuple[list[Compared], bool]) -> None:
        comparisons, has_intake = read
        while self._groups.count():
            item = self._groups.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.comparisons = comparisons
        for intake, later, rows in self.comparisons:
            self._groups.addWidget(self._group(intake, later, rows))
        self.empty.setVisible(not self.comparisons)
        self._scroll.setVisible(bool(self.comparisons))
        if not self.comparisons:
            self.empty.setText(NO_OUTCOMES if has_intake else NO_INTAKE_FOR_OUTCOMES)
            self.record_button.setEnabled(has_intake)
            self.record_button.setToolTip("" if has_intake else "Record an intake first.")
        else:
            self.record_button.setEnabled(True)
            self.record_button.setToolTip("")

    def rows_for(self, assessment_id: int) -> list[MeasureRow]:
        return next(rows for _i, later, rows in self.comparisons if later.id == assessment_id)

    def _group(self, intake: Assessment, later: Assessment, rows: list[MeasureRow]) -> QGroupBox:
        label = self._services.catalogue.label("assessment_kinds", later.kind)
        box = QGroupBox(
            f"{label} of {_day(later.assessed_on)} against the intake of {_day(intake.assessed_on)}"
        )
        box.setObjectName(f"comparison_{later.id}")
        table = QTableWidget(len(rows), len(COLUMNS))
        table.setObjectName(f"comparison_table_{later.id}")
        table.setHorizontalHeaderLabels(list(COLUMNS))
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        for r, row in enumerate(rows):
            cells = (row.measure, row.intake, row.now, row.change, row.verdict)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if row.explanation:
                    item.setToolTip(row.explanation)
                if c == len(cells) - 1 and row.meaningful:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(r, c, item)
        table.setFixedHeight(
            table.horizontalHeader().height()
            + sum(table.rowHeight(r) for r in range(len(rows)))
            + 4
        )
        column = QVBoxLayout(box)
        column.addWidget(table)
        return box

    def _on_record_button_clicked(self) -> None:
        recorded = IntakeForm.record(
            self,
            self._services,
            self._actor,
            self._patient_id,
            kind="reassessment",
            operations=self._operations,
        )
        if recorded is not None:
            self.reassessment_recorded.emit(recorded.id)


def _day(day: dt.date) -> str:
    return day.isoformat()
