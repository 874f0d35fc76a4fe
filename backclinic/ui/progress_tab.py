"""Progress against the plan: the pain chart, the figures the domain computed, the suggestions.

QtCharts is a large import; open this module only when a patient's workspace is built.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

from PySide6.QtCharts import (
    QAreaSeries,
    QChart,
    QChartView,
    QDateTimeAxis,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QDateTime, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.episodes import Course
from backclinic.services.errors import ServiceError, ValidationFailed
from backclinic.services.plans import PlanView
from backclinic.services.sessions import ProgressReport, SessionRecord, Suggestion
from backclinic.services.use_case import Change
from backclinic.ui.intake_form import IntakeForm
from backclinic.ui.operations import Operations
from backclinic.ui.patient_tab import PatientTab
from backclinic.ui.plan_tab import (
    ChangePhaseDialog,
    needling_advice,
    phases_ahead,
    precaution_notes,
)
from backclinic.ui.wording import counted

PAIN_BEFORE = "Pain before"
PAIN_AFTER = "Pain after"
BASELINE = "Baseline"
MEANINGFUL = "Meaningful improvement"
ODI = "ODI %"
# The figures and suggestions beside the chart: 360 px of text and room for a scroll bar.
SIDE_WIDTH = 380
PHASE_COLOURS = ("#e8f0fb", "#eaf6ea", "#fbf3e4", "#f3e8fb")
SUGGESTION_TITLES = {
    "advance": "Advance to the next phase",
    "hold": "Hold the current phase",
    "re-evaluate": "Re-evaluate the plan",
    "reassess": "Reassessment due",
    "discharge-or-extend": "The plan has ended",
    "recertify": "Recertify the plan of care",
}


@dataclass(frozen=True)
class ProgressRead:
    """Everything the tab shows, read together off the GUI thread."""

    today: dt.date
    report: ProgressReport
    course: Course
    records: list[SessionRecord]
    plan: PlanView | None
    odi: list[tuple[dt.date, float]]


def read_progress(services: Services, actor: Actor, patient_id: int) -> ProgressRead:
    today = services.patients.today()
    return ProgressRead(
        today=today,
        report=services.sessions.progress(actor, patient_id, today),
        # Verdicts, attendance and suggestions come from the episode's course, as on paper.
        course=services.episodes.course(actor, patient_id),
        records=services.sessions.history(actor, patient_id),
        plan=services.plans.active_plan(actor, patient_id),
        odi=[
            (a.assessed_on, a.odi.percent)
            for a in services.assessments.for_patient(actor, patient_id)
            if a.odi is not None and a.odi.percent is not None
        ],
    )


def _moment(day: dt.date) -> float:
    """Noon of ``day`` in local time, in milliseconds since the epoch (the chart's x)."""
    return dt.datetime(day.year, day.month, day.day, 12).timestamp() * 1000


def _day(msecs: float) -> dt.date:
    day = QDateTime.fromMSecsSinceEpoch(round(msecs)).date().toPython()
    assert isinstance(day, dt.date)
    return day


def _number(value: float | None, suffix: str = "") -> str:
    return "Not recorded" if value is None else f"{value:g}{suffix}"


class ProgressTab(PatientTab):
    """The workspace's "Progress" tab; `plan_requested` asks the workspace to show the plan."""

    shows = frozenset({Change.SESSIONS, Change.ASSESSMENTS, Change.PLAN, Change.SCHEDULE})
    reads_what = "The progress"

    plan_requested = Signal(int)
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
        self.chart = QChart()
        # Beside the plot, one entry a line: along the bottom, eight entries share one row
        # and Qt cuts their names short ("Phase 1: Calm and corr…").
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignRight)
        self.chart_view = QChartView(self.chart)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumSize(480, 320)
        self.figures = QFormLayout()
        self.figure_labels: dict[str, QLabel] = {}
        for key, title in (
            ("baseline", "Baseline pain"),
            ("latest", "Latest pain"),
            ("change", "Change"),
            ("percent", "% change"),
            ("verdict", "Verdict"),
            ("odi", "ODI"),
            ("trend", "Trend (last 3)"),
            ("immediate", "Immediate response"),
            ("adherence", "Adherence"),
        ):
            label = QLabel()
            label.setObjectName(f"figure_{key}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.figure_labels[key] = label
            self.figures.addRow(title, label)
        self.suggestions = QVBoxLayout()
        side = QVBoxLayout()
        side.addLayout(self.figures)
        heading = QLabel("Suggestions")
        heading.setStyleSheet("font-weight: 600; margin-top: 8px;")
        side.addWidget(heading)
        side.addLayout(self.suggestions)
        side.addStretch(1)
        holder = QWidget()
        holder.setLayout(side)
        # The figures and suggestions keep every wrapped line; a short window scrolls them.
        self.side = QScrollArea()
        self.side.setWidget(holder)
        self.side.setWidgetResizable(True)
        self.side.setFrameShape(QFrame.Shape.NoFrame)
        self.side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side.setFixedWidth(SIDE_WIDTH)
        layout = QHBoxLayout(self)
        layout.addWidget(self.chart_view, 1)
        layout.addWidget(self.side)
        self.action_buttons: dict[str, QPushButton] = {}
        self.reload()

    def reload(self) -> None:
        services, actor, patient_id = self._services, self._actor, self._patient_id
        self._read(lambda: read_progress(services, actor, patient_id), self._show)

    def _show(self, read: ProgressRead) -> None:
        self._draw(read)
        self._show_figures(read.report, read.course)
        self._show_suggestions(read.course.suggestions)

    def series_points(self, name: str) -> list[tuple[dt.date, int | float]]:
        """The (day, value) points a named series holds, as drawn."""
        for series in self.chart.series():
            named = series.name() == name or series.name().startswith(f"{name} (")
            if named and isinstance(series, QLineSeries):
                return [
                    (_day(p.x()), int(p.y()) if p.y().is_integer() else p.y())
                    for p in series.points()
                ]
        raise KeyError(name)

    def series_names(self) -> list[str]:
        return [series.name() for series in self.chart.series()]

    def _draw(self, read: ProgressRead) -> None:
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        report, records, plan, odi = read.report, read.records, read.plan, read.odi
        days = [r.performed_on for r in records] + [day for day, _ in odi]
        if plan is not None:
            days += [plan.phases[0].start_date, plan.phases[-1].end_date]
        if not days:
            days = [read.today]
        first, last = min(days), max(days)
        if first == last:
            last = first + dt.timedelta(days=1)

        axis_x = QDateTimeAxis()
        axis_x.setFormat("d MMM")
        axis_x.setTitleText("Date")
        axis_x.setRange(
            QDateTime.fromMSecsSinceEpoch(round(_moment(first))),
            QDateTime.fromMSecsSinceEpoch(round(_moment(last))),
        )
        axis_pain = QValueAxis()
        axis_pain.setRange(0, 10)
        axis_pain.setTickCount(11)
        axis_pain.setLabelFormat("%d")
        axis_pain.setTitleText("Pain (0–10)")
        axis_odi = QValueAxis()
        axis_odi.setRange(0, 100)
        axis_odi.setLabelFormat("%d")
        axis_odi.setTitleText("ODI %")
        self.chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(axis_pain, Qt.AlignmentFlag.AlignLeft)
        self.chart.addAxis(axis_odi, Qt.AlignmentFlag.AlignRight)

        def add(series: QLineSeries | QAreaSeries, y_axis: QValueAxis) -> None:
            self.chart.addSeries(series)
            series.attachAxis(axis_x)
            series.attachAxis(y_axis)

        if plan is not None:
            for position, phase in enumerate(plan.phases):
                upper = QLineSeries()
                lower = QLineSeries()
                for day in (phase.start_date, phase.end_date):
                    upper.append(_moment(day), 10)
                    lower.append(_moment(day), 0)
                band = QAreaSeries(upper, lower)
                # The area series only points at its edges: parent them to it, or Python
                # frees them when this method returns and the first paint reads freed memory.
                upper.setParent(band)
                lower.setParent(band)
                band.setName(f"Phase {phase.number}: {phase.name}")
                band.setColor(QColor(PHASE_COLOURS[position % len(PHASE_COLOURS)]))
                band.setBorderColor(QColor(PHASE_COLOURS[position % len(PHASE_COLOURS)]))
                add(band, axis_pain)

        if report.nprs_baseline is not None:
            add(
                _level(BASELINE, report.nprs_baseline, first, last, Qt.PenStyle.DashLine), axis_pain
            )
            target = report.nprs_target
            if target is not None:
                add(_level(MEANINGFUL, target, first, last, Qt.PenStyle.DotLine), axis_pain)
                axis_pain.setTitleText(f"Pain (0–10); meaningful at ≤ {target:g}")

        moments = {day: _moment(day) for day in {r.performed_on for r in records}}
        for name, field in ((PAIN_BEFORE, "pain_before"), (PAIN_AFTER, "pain_after")):
            series = QLineSeries()
            series.setName(name)
            series.setPointsVisible(True)
            # All points in one call: one by one, 200 sessions took tens of milliseconds.
            series.append(
                [
                    QPointF(moments[record.performed_on], value)
                    for record in records
                    if (value := getattr(record.data, field)) is not None
                ]
            )
            add(series, axis_pain)

        odi_series = QLineSeries()
        odi_series.setName(ODI)
        odi_series.setPointsVisible(True)
        odi_series.setPen(QPen(QColor("#7b3fa0"), 2, Qt.PenStyle.DashDotLine))
        for day, percent in odi:
            odi_series.append(QPointF(_moment(day), percent))
        add(odi_series, axis_odi)

    def _show_figures(self, report: ProgressReport, course: Course) -> None:
        labels = self.figure_labels
        pain = course.outcome("nprs")
        source = f" ({report.nprs_baseline_source})" if report.nprs_baseline_source else ""
        labels["baseline"].setText(_number(pain.baseline) + source)
        labels["latest"].setText(_number(pain.latest))
        change = pain.change
        if change is None:
            for key in ("change", "percent", "verdict"):
                labels[key].setText("Not enough pain scores yet")
        else:
            labels["change"].setText(change.change_text)
            if change.percent is None:
                share = "No percentage (baseline 0)"
            elif change.points == 0:
                share = "0 %"
            else:
                share = f"{abs(change.percent):.0f} % {'better' if change.points > 0 else 'worse'}"
            labels["percent"].setText(share)
            labels["verdict"].setText(change.verdict_text)
            labels["verdict"].setToolTip(change.text)
        odi_course = course.outcome("odi")
        if odi_course.change is not None:
            odi = odi_course.change
            labels["odi"].setText(
                f"{odi.baseline:g} % → {odi.latest:g} % ({odi.verdict_text.lower()})"
            )
            labels["odi"].setToolTip(odi.text)
        else:
            labels["odi"].setText(_number(odi_course.latest or odi_course.baseline, " %"))
        if course.trend is None:
            labels["trend"].setText("Needs three sessions")
        else:
            scores = ", ".join(str(s) for s in course.trend_scores)
            labels["trend"].setText(f"{course.trend} ({scores})")
        immediate = course.immediate
        labels["immediate"].setText(_immediate(immediate.mean_drop, immediate.sessions))
        labels["adherence"].setText(course.attendance.text)

    def _show_suggestions(self, suggestions: tuple[Suggestion, ...]) -> None:
        while self.suggestions.count():
            item = self.suggestions.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.action_buttons = {}
        if not suggestions:
            self.suggestions.addWidget(QLabel("No suggestions."))
        for suggestion in suggestions:
            card = QWidget()
            card.setObjectName(f"suggestion_{suggestion.kind}")
            column = QVBoxLayout(card)
            column.setContentsMargins(0, 4, 0, 4)
            title = QLabel(SUGGESTION_TITLES.get(suggestion.kind, suggestion.kind))
            title.setStyleSheet("font-weight: 600;")
            why = QLabel(suggestion.why)
            why.setToolTip(suggestion.rule)
            why.setWordWrap(True)
            column.addWidget(title)
            column.addWidget(why)
            button: QPushButton | None = None
            if suggestion.kind == "advance":
                button = QPushButton("Open plan")
                button.clicked.connect(self._on_open_plan_button_clicked)
            elif suggestion.kind == "reassess":
                button = QPushButton("Record reassessment…")
                button.clicked.connect(self._on_reassess_button_clicked)
            elif suggestion.kind == "hold" and suggestion.phase_number is not None:
                button = QPushButton(f"Extend phase {suggestion.phase_number} by a week…")
                button.clicked.connect(partial(self._extend_phase, suggestion.phase_number))
            elif suggestion.kind in ("re-evaluate", "discharge-or-extend"):
                button = QPushButton("Open plan to change it")
                button.clicked.connect(self._on_open_plan_button_clicked)
            if button is not None:
                self.action_buttons[suggestion.kind] = button
                column.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
            self.suggestions.addWidget(card)

    def _extend_phase(self, phase_number: int, _checked: bool = False) -> None:
        """Hold: one more week in this phase; later phases and future visits move on a week."""
        plan = self._services.plans.active_plan(self._actor, self._patient_id)
        phase = next((p for p in plan.phases if p.number == phase_number), None) if plan else None
        if plan is None or phase is None:
            return
        answer = QMessageBox.question(
            self,
            "Extend the phase",
            f"Extend phase {phase.number} ({phase.name}) to "
            f"{phase.end_week - phase.start_week + 2} weeks? Later phases and future visits "
            "move on by a week; past visits stay as they are.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            changed = self._operations.run(
                self._services.plans.change_phase,
                self._actor,
                plan.id,
                phase.number,
                weeks=phase.end_week - phase.start_week + 2,
                acupuncture_per_week=phase.acupuncture_per_week,
                acupuncture_as_needed=phase.acupuncture_as_needed,
                pt_per_week=phase.pt_per_week,
                expected_version=plan.version,
            )
        except ValidationFailed as error:
            if not any(item.field == "acupoints" for item in error.errors):
                QMessageBox.warning(self, "The phase was not extended", str(error))
                return
            # Points a precaution in force now rules out, or allows only acknowledged: the
            # change-phase dialog, set to this extension, shows why and asks to take them
            # out or acknowledge them.
            advice, electro = needling_advice(self._services, self._actor, self._patient_id)
            ahead = phases_ahead(plan.phases, self._services.patients.today())
            extended = ChangePhaseDialog.change(
                self,
                self._services,
                self._actor,
                plan,
                operations=self._operations,
                notes=precaution_notes(ahead, plan.acknowledged_points, advice, electro),
                phase_number=phase.number,
                weeks=phase.end_week - phase.start_week + 2,
                refusal=error,
            )
            if extended is None:
                return
            changed = extended
        except ServiceError as error:
            QMessageBox.warning(self, "The phase was not extended", str(error))
            return
        self.plan_requested.emit(changed.id)

    def _on_open_plan_button_clicked(self) -> None:
        self.plan_requested.emit(self._patient_id)

    def _on_reassess_button_clicked(self) -> None:
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


def _immediate(mean_drop: float | None, sessions: int) -> str:
    """The mean change within a session in plain words: "Pain fell by 2 points on average
    within 1 session"."""
    if mean_drop is None:
        return "Not recorded"
    within = f"within {counted(sessions, 'session', 'sessions')}"
    size = abs(round(mean_drop, 1))
    if size == 0:
        return f"No change in pain on average {within}"
    moved = "fell" if mean_drop > 0 else "rose"
    return f"Pain {moved} by {size:g} point{'' if size == 1 else 's'} on average {within}"


def _level(
    name: str, value: float, first: dt.date, last: dt.date, style: Qt.PenStyle
) -> QLineSeries:
    """A horizontal reference line across the chart."""
    line = QLineSeries()
    line.setName(f"{name} ({value:g})")
    line.setPen(QPen(QColor("#555555"), 1.5, style))
    line.append(_moment(first), value)
    line.append(_moment(last), value)
    return line
