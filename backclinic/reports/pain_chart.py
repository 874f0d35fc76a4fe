"""The discharge summary's pain chart: pain before and after each session over the episode,
with the plan's phases shaded behind them (reportlab's line plot on a date axis, drawn into
the PDF as vectors)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reportlab.graphics.charts.axes import NormalDateXValueAxis
from reportlab.graphics.charts.legends import Legend, LineLegend, LineSwatch
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.normalDate import NormalDate
from reportlab.pdfbase.pdfmetrics import stringWidth

from backclinic.reports.content import ChartPhase, ChartPoint
from backclinic.reports.frame import ACCENT, FONT, INK, MUTED, RULE, register_fonts

PAIN_MAX = 10
BEFORE = colors.HexColor("#b3412e")
AFTER = ACCENT
PHASE_FILLS = (
    colors.HexColor("#f6ecd9"),
    colors.HexColor("#e3eef0"),
    colors.HexColor("#e6efe0"),
    colors.HexColor("#ece6f2"),
)


def pain_chart(
    points: Sequence[ChartPoint],
    phases: Sequence[ChartPhase],
    *,
    width: float,
    height: float,
    first_day: dt.date,
    last_day: dt.date,
) -> Drawing:
    """Pain (0–10, lower is better) against the date, one marker per recorded score.

    reportlab's own line plot on a date axis draws the series, the dated labels and the
    legend; the phases are shaded behind it on the axis' own scale.
    """
    register_fonts()
    # A one-day episode still needs an axis with some length.
    last_day = max(last_day, first_day + dt.timedelta(days=1))
    drawing = Drawing(width, height)
    ordered = sorted(points, key=lambda p: p.when)
    plot = LinePlot()
    plot.x, plot.y = 26.0, 40.0
    plot.width, plot.height = width - 32.0, height - 40.0 - 16.0
    series: list[list[tuple[int, int]]] = []
    styles: list[tuple[colors.Color, bool]] = []
    for attribute, colour, dashed in (("before", BEFORE, False), ("after", AFTER, True)):
        values = [
            (_day_number(p.when), value)
            for p in ordered
            if (value := getattr(p, attribute)) is not None
        ]
        if values:
            series.append(values)
            styles.append((colour, dashed))
    # An unseen line over the whole episode: reportlab's date axis needs two distinct dates
    # in the data to lay out its labels, and an episode may hold a single session.
    series.append([(_day_number(first_day), 0), (_day_number(last_day), 0)])
    plot.data = series
    for index, (colour, dashed) in enumerate(styles):
        line = plot.lines[index]
        line.strokeColor = colour
        line.strokeWidth = 1.1
        line.strokeDashArray = [3, 2] if dashed else None
        line.symbol = makeMarker("FilledCircle", size=3.2, fillColor=colour, strokeColor=colour)
    axis = NormalDateXValueAxis()
    axis.valueMin = _day_number(first_day)
    axis.valueMax = _day_number(last_day)
    # Ticks on Mondays, chosen here: the axis' own choice depends on the data's dates and
    # fails for a single one.
    axis.specifiedTickDates = [
        NormalDate(_day_number(day)) for day in _mondays(first_day, last_day)
    ]
    axis.xLabelFormat = "{d} {mmm}"
    axis.monthName = list(_MONTHS)
    axis.niceMonth = 0
    axis.labels.fontName = FONT
    axis.labels.fontSize = 6.5
    axis.labels.fillColor = MUTED
    axis.strokeColor = MUTED
    plot.xValueAxis = axis
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 10, 2
    plot.yValueAxis.labels.fontName = FONT
    plot.yValueAxis.labels.fontSize = 7
    plot.yValueAxis.labels.fillColor = MUTED
    plot.yValueAxis.strokeColor = MUTED
    plot.yValueAxis.visibleGrid = 1
    plot.yValueAxis.gridStrokeColor = RULE
    plot.yValueAxis.gridStrokeWidth = 0.3
    plot.lines[len(series) - 1].strokeColor = None
    plot.lines[len(series) - 1].strokeWidth = 0
    # Drawn once here only to lay out the axes, so the phases can be shaded on their scale;
    # the plot itself goes into the drawing, which draws it when the page is rendered
    # (its labels look their style up on the live plot).
    plot.draw()
    scale = plot.xValueAxis.scale
    top = plot.y + plot.height
    for index, phase in enumerate(sorted(phases, key=lambda p: p.number)):
        start = max(phase.start_date, first_day)
        # A phase runs to the end of its last day.
        end = min(phase.end_date + dt.timedelta(days=1), last_day)
        if end <= start:
            continue
        left, right = scale(_day_number(start)), scale(_day_number(end))
        drawing.add(
            Rect(
                left,
                plot.y,
                right - left,
                plot.height,
                fillColor=PHASE_FILLS[index % len(PHASE_FILLS)],
                strokeColor=None,
            )
        )
        label = f"Phase {phase.number}: {phase.name}"
        if stringWidth(label, FONT, 6.5) > right - left - 4:
            label = f"Phase {phase.number}"
        drawing.add(String(left + 3, top + 4, label, fontName=FONT, fontSize=6.5, fillColor=MUTED))
    drawing.add(plot)
    drawing.add(_legend(plot, styles, width))
    return drawing


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LABELS = {BEFORE: "Pain before the session", AFTER: "Pain after"}


def _day_number(day: dt.date) -> int:
    """The date as the yyyymmdd number reportlab's date axis reads."""
    return day.year * 10000 + day.month * 100 + day.day


def _legend(plot: LinePlot, styles: Sequence[tuple[colors.Color, bool]], width: float) -> Legend:
    legend = LineLegend()
    legend.x, legend.y = plot.x, 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = width / 2.5
    legend.dx, legend.dy = 16, 2
    legend.fontName = FONT
    legend.fontSize = 7
    legend.fillColor = INK
    # Each sample drawn as its series is (dashed for pain after), not as a plain colour.
    legend.colorNamePairs = [
        (_swatch(colour, dashed), _LABELS[colour]) for colour, dashed in styles
    ]
    return legend


def _swatch(colour: colors.Color, dashed: bool) -> LineSwatch:
    swatch = LineSwatch()
    swatch.strokeColor = colour
    swatch.strokeWidth = 1.1
    swatch.strokeDashArray = [3, 2] if dashed else None
    return swatch


def _mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    """Mondays, thinned to at most about ten labels."""
    span = (last - first).days
    step_weeks = max(1, -(-span // 70))
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    ticks = []
    while monday <= last:
        ticks.append(monday)
        monday += dt.timedelta(weeks=step_weeks)
    return ticks or [first]
