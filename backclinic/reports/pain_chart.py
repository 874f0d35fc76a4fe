"""The discharge summary's pain chart: pain before and after each session over the episode,
with the plan's phases shaded behind them (reportlab graphics, drawn into the PDF as
vectors)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from backclinic.reports.content import ChartPhase, ChartPoint
from backclinic.reports.frame import ACCENT, FONT, FONT_BOLD, INK, MUTED, RULE, register_fonts

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
    """Pain (0–10, lower is better) against the date, one dot per recorded score."""
    register_fonts()
    drawing = Drawing(width, height)
    left, right, bottom, top = 26.0, width - 6.0, 30.0, height - 16.0
    span = max((last_day - first_day).days, 1)

    def x(day: dt.date) -> float:
        return left + (right - left) * (day - first_day).days / span

    def y(pain: float) -> float:
        return bottom + (top - bottom) * pain / PAIN_MAX

    for index, phase in enumerate(sorted(phases, key=lambda p: p.number)):
        start = max(phase.start_date, first_day)
        # A phase runs to the end of its last day.
        end = min(phase.end_date + dt.timedelta(days=1), last_day)
        if end <= start:
            continue
        fill = PHASE_FILLS[index % len(PHASE_FILLS)]
        drawing.add(
            Rect(
                x(start), bottom, x(end) - x(start), top - bottom, fillColor=fill, strokeColor=None
            )
        )
        label = f"Phase {phase.number}: {phase.name}"
        room = x(end) - x(start) - 4
        if stringWidth(label, FONT, 6.5) > room:
            label = f"Phase {phase.number}"
        drawing.add(
            String(x(start) + 3, top + 4, label, fontName=FONT, fontSize=6.5, fillColor=MUTED)
        )
    for pain in range(0, PAIN_MAX + 1, 2):
        drawing.add(Line(left, y(pain), right, y(pain), strokeColor=RULE, strokeWidth=0.3))
        drawing.add(
            String(
                left - 4,
                y(pain) - 2.5,
                str(pain),
                fontName=FONT,
                fontSize=7,
                fillColor=MUTED,
                textAnchor="end",
            )
        )
    drawing.add(Line(left, bottom, right, bottom, strokeColor=MUTED, strokeWidth=0.6))
    for tick in _date_ticks(first_day, last_day):
        drawing.add(Line(x(tick), bottom, x(tick), bottom - 3, strokeColor=MUTED, strokeWidth=0.5))
        drawing.add(
            String(
                x(tick),
                bottom - 11,
                f"{tick.day}/{tick.month}",
                fontName=FONT,
                fontSize=6.5,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
    ordered = sorted(points, key=lambda p: p.when)
    for attribute, colour, dashed in (("after", AFTER, True), ("before", BEFORE, False)):
        series = [
            (x(p.when), y(value)) for p in ordered if (value := getattr(p, attribute)) is not None
        ]
        if len(series) > 1:
            drawing.add(
                PolyLine(
                    [coordinate for pair in series for coordinate in pair],
                    strokeColor=colour,
                    strokeWidth=1.1,
                    strokeDashArray=[3, 2] if dashed else None,
                )
            )
        for px, py in series:
            drawing.add(Circle(px, py, 1.6, fillColor=colour, strokeColor=None))
    _legend(drawing, left, bottom - 26)
    return drawing


def _legend(drawing: Drawing, left: float, baseline: float) -> None:
    entries = (("Pain before the session", BEFORE, False), ("Pain after", AFTER, True))
    cursor = left
    for label, colour, dashed in entries:
        drawing.add(
            Line(
                cursor,
                baseline + 3,
                cursor + 16,
                baseline + 3,
                strokeColor=colour,
                strokeWidth=1.2,
                strokeDashArray=[3, 2] if dashed else None,
            )
        )
        drawing.add(Circle(cursor + 8, baseline + 3, 1.6, fillColor=colour, strokeColor=None))
        drawing.add(
            String(
                cursor + 20,
                baseline,
                label,
                fontName=FONT_BOLD if not dashed else FONT,
                fontSize=7,
                fillColor=INK,
            )
        )
        cursor += 130


def _date_ticks(first: dt.date, last: dt.date) -> list[dt.date]:
    """Mondays, thinned to at most about ten labels."""
    span = (last - first).days
    step_weeks = max(1, -(-span // 70))
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    ticks = []
    while monday <= last:
        ticks.append(monday)
        monday += dt.timedelta(weeks=step_weeks)
    return ticks
