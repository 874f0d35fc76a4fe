"""Reassessment against the intake: NPRS, ODI, STarT Back risk, PSFS mean and RMDQ, each
with its change and verdict as the domain's outcome rules word them.
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

from backclinic.domain.outcomes import Measure, OutcomeChange, judge
from backclinic.domain.protocol import OutcomeThresholds
from backclinic.services.assessments import Assessment
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.use_case import Change as RecordKind
from backclinic.ui.intake_form import IntakeForm
from backclinic.ui.operations import Operations
from backclinic.ui.patient_tab import PatientTab

NOT_RECORDED = "Not recorded"
MEASURES = ("NPRS (pain now)", "ODI %", "STarT Back risk", "PSFS mean", "RMDQ")
COLUMNS = ("Measure", "Intake", "Now", "Change", "Verdict")
_RISK_ORDER = {"low": 0, "medium": 1, "high": 2}


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


def _judged(
    measure: str,
    before: float | None,
    after: float | None,
    judge_as: Measure,
    thresholds: OutcomeThresholds,
    suffix: str = "",
) -> MeasureRow:
    if before is None or after is None:
        return MeasureRow(measure, _value(before, suffix), _value(after, suffix), "—", "—")
    change: OutcomeChange = judge(judge_as, before, after, thresholds)
    return MeasureRow(
        measure,
        _value(before, suffix),
        _value(after, suffix),
        change.change_text,
        change.verdict_text,
        change.text,
        change.improved,
    )


def compare(
    intake: Assessment, later: Assessment, thresholds: OutcomeThresholds
) -> list[MeasureRow]:
    """The measures of ``later`` beside the intake's, judged by the domain's outcome rules."""
    rows = [
        _judged(
            MEASURES[0], intake.intake.nprs_current, later.intake.nprs_current, "nprs", thresholds
        ),
        _judged(
            MEASURES[1],
            intake.odi.percent if intake.odi else None,
            later.odi.percent if later.odi else None,
            "odi",
            thresholds,
            " %",
        ),
    ]
    risk_before = intake.startback.risk if intake.startback else None
    risk_after = later.startback.risk if later.startback else None
    if risk_before is None or risk_after is None:
        rows.append(
            MeasureRow(
                MEASURES[2], risk_before or NOT_RECORDED, risk_after or NOT_RECORDED, "—", "—"
            )
        )
    else:
        step = _RISK_ORDER[risk_after] - _RISK_ORDER[risk_before]
        words = "Risk lower" if step < 0 else "Risk higher" if step > 0 else "Risk unchanged"
        rows.append(
            MeasureRow(
                MEASURES[2],
                risk_before,
                risk_after,
                f"{risk_before} → {risk_after}",
                words,
                "STarT Back risk groups (Hill et al. 2008): low, medium, high.",
                step < 0,
            )
        )
    rows.append(_judged(MEASURES[3], intake.psfs_mean, later.psfs_mean, "psfs", thresholds))
    rows.append(_judged(MEASURES[4], intake.rmdq_score, later.rmdq_score, "rmdq", thresholds))
    return rows


def intake_for(assessments: list[Assessment], later: Assessment) -> Assessment | None:
    """The intake a reassessment is compared with: the latest one on or before it."""
    intakes = [
        a
        for a in assessments
        if a.kind == "intake" and (a.assessed_on, a.id) <= (later.assessed_on, later.id)
    ]
    return intakes[-1] if intakes else None


class ReassessmentView(PatientTab):
    """Each reassessment (and discharge assessment) of a patient beside the intake, newest
    first; "Record reassessment…" opens the intake form as a reassessment."""

    shows = frozenset({RecordKind.ASSESSMENTS})

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
        self.comparisons: list[tuple[Assessment, Assessment, list[MeasureRow]]] = []
        self.record_button = QPushButton("Record reassessment…")
        self.record_button.setObjectName("record_reassessment")
        self.empty = QLabel(
            "No reassessment yet: record one at each phase end and every 10 visits."
        )
        self.empty.setObjectName("no_reassessment")
        self.empty.setWordWrap(True)
        self._body = QWidget()
        self._groups = QVBoxLayout(self._body)
        self._groups.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._body)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)
        self.record_button.clicked.connect(self._on_record_button_clicked)
        self.reload()

    def reload(self) -> None:
        while self._groups.count():
            item = self._groups.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        assessments = self._services.assessments.for_patient(self._actor, self._patient_id)
        thresholds = self._services.protocol.thresholds
        self.comparisons = []
        for later in assessments:
            if later.kind == "intake":
                continue
            intake = intake_for(assessments, later)
            if intake is not None:
                self.comparisons.append((intake, later, compare(intake, later, thresholds)))
        self.comparisons.reverse()  # newest first
        for intake, later, rows in self.comparisons:
            self._groups.addWidget(self._group(intake, later, rows))
        self.empty.setVisible(not self.comparisons)

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
