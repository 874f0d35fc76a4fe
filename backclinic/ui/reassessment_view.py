"""Reassessment against the intake: NPRS, ODI, STarT Back risk and PSFS mean, each with its
change and whether it is clinically meaningful (the domain's change_verdict, thresholds
from the protocol).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

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

from backclinic.domain.progress import Change, change_verdict
from backclinic.domain.protocol import OutcomeThresholds
from backclinic.services.assessments import Assessment
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.use_case import Change as RecordKind
from backclinic.ui.intake_form import IntakeForm
from backclinic.ui.operations import Operations
from backclinic.ui.patient_tab import PatientTab

NOT_RECORDED = "Not recorded"
# PSFS (clinical/REFERENCE.md): MDC 2 points on the mean, MCID about 2; no percentage rule.
# The protocol file has no PSFS thresholds yet, so they live here until it does.
MEASURES = ("NPRS (pain now)", "ODI %", "STarT Back risk", "PSFS mean")
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


def _change_words(change: Change, unit: str) -> str:
    if change.direction == "no change" and change.points == 0:
        return "No change"
    size = abs(change.points)
    amount = f"{size:g} {unit.removesuffix('s') if size == 1 else unit}"
    share = "" if change.percent is None else f" ({abs(change.percent):.0f} %)"
    return f"{amount} {'better' if change.points > 0 else 'worse'}{share}"


def verdict_words(change: Change) -> str:
    if change.within_error:
        return "Within measurement error"
    if change.meaningful:
        return "Meaningful improvement"
    if change.direction == "improved":
        return "Improved, below the meaningful change"
    if change.direction == "worse":
        return "Worse"
    return "No change"


def _judged(
    measure: str,
    before: float | None,
    after: float | None,
    unit: str,
    judge: Change | None,
    suffix: str = "",
) -> MeasureRow:
    if before is None or after is None or judge is None:
        return MeasureRow(measure, _value(before, suffix), _value(after, suffix), "—", "—")
    return MeasureRow(
        measure,
        _value(before, suffix),
        _value(after, suffix),
        _change_words(judge, unit),
        verdict_words(judge),
        judge.explanation,
        judge.meaningful,
    )


def compare(
    intake: Assessment, later: Assessment, thresholds: OutcomeThresholds
) -> list[MeasureRow]:
    """The four measures of ``later`` beside the intake's, judged with the protocol's rules."""
    t = thresholds
    rows: list[MeasureRow] = []
    nprs_before, nprs_after = intake.intake.nprs_current, later.intake.nprs_current
    nprs = None
    if nprs_before is not None and nprs_after is not None:
        nprs = change_verdict(
            nprs_before,
            nprs_after,
            mcid_points=t.nprs_mcid_points,
            mcid_percent=t.nprs_mcid_percent,
            mdc=t.nprs_mdc,
        )
    rows.append(_judged(MEASURES[0], nprs_before, nprs_after, "points", nprs))

    odi_before = intake.odi.percent if intake.odi else None
    odi_after = later.odi.percent if later.odi else None
    odi = None
    if odi_before is not None and odi_after is not None:
        # The protocol sets no MDC for the ODI; only the MCID applies.
        odi = change_verdict(
            odi_before,
            odi_after,
            mcid_points=t.odi_mcid_points,
            mcid_percent=t.odi_mcid_percent,
            mdc=None,
        )
    rows.append(_judged(MEASURES[1], odi_before, odi_after, "points", odi, " %"))

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

    psfs_before, psfs_after = intake.psfs_mean, later.psfs_mean
    psfs = None
    if psfs_before is not None and psfs_after is not None:
        psfs = change_verdict(
            psfs_before,
            psfs_after,
            mcid_points=t.psfs_mcid_points,
            mcid_percent=math.inf,  # the PSFS has no percentage rule
            mdc=t.psfs_mdc,
            lower_is_better=False,
        )
        psfs = replace(psfs, explanation=psfs.explanation.replace(" or inf %", ""))
    rows.append(_judged(MEASURES[3], psfs_before, psfs_after, "points", psfs))
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
        assessments = self._services.assessments.for_patient(self._patient_id)
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
