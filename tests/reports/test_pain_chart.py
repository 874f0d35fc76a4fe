from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader
from reportlab.graphics import renderPDF
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Line

from backclinic.reports.pain_chart import AFTER, BEFORE, ChartPhase, ChartPoint, pain_chart

START = dt.date(2026, 1, 5)
PHASES = (
    ChartPhase(1, "Calm and correct", START, START + dt.timedelta(days=13)),
    ChartPhase(2, "Stabilise", START + dt.timedelta(days=14), START + dt.timedelta(days=34)),
)
POINTS = [ChartPoint(START + dt.timedelta(days=3 * i), 7 - i // 2, 5 - i // 2) for i in range(10)]


def chart_text() -> str:
    drawing = pain_chart(
        POINTS, PHASES, width=480, height=175, first_day=START, last_day=START + dt.timedelta(35)
    )
    buffer = io.BytesIO()
    renderPDF.drawToFile(drawing, buffer)
    return " ".join(PdfReader(io.BytesIO(buffer.getvalue())).pages[0].extract_text().split())


def test_the_pain_chart_labels_its_x_axis_with_dates() -> None:
    text = chart_text()
    assert "12 Jan" in text and "26 Jan" in text and "2 Feb" in text


def test_the_pain_chart_legend_and_phase_names_are_whole() -> None:
    text = chart_text()
    assert "Pain before the session" in text and "Pain after" in text
    assert "Phase 1: Calm and correct" in text


def test_an_episode_of_one_session_still_charts_with_a_dated_axis() -> None:
    drawing = pain_chart(
        [ChartPoint(START, 7, None)], (), width=480, height=175, first_day=START, last_day=START
    )
    buffer = io.BytesIO()
    renderPDF.drawToFile(drawing, buffer)
    text = " ".join(PdfReader(io.BytesIO(buffer.getvalue())).pages[0].extract_text().split())
    assert "5 Jan" in text and "Pain before the session" in text


def _legend_lines(drawing: Drawing) -> list[Line]:
    [legend] = [item for item in drawing.contents if isinstance(item, Legend)]
    found: list[Line] = []

    def walk(shape: object) -> None:
        if isinstance(shape, Line):
            found.append(shape)
        for child in getattr(shape, "contents", ()):
            walk(child)

    walk(legend.draw().expandUserNodes())
    return found


def test_the_legend_draws_pain_after_dashed_as_its_line_is() -> None:
    drawing = pain_chart(
        POINTS, PHASES, width=480, height=175, first_day=START, last_day=START + dt.timedelta(35)
    )
    lines = _legend_lines(drawing)
    after = [line for line in lines if line.strokeColor == AFTER]
    before = [line for line in lines if line.strokeColor == BEFORE]
    assert after and all(line.strokeDashArray for line in after)
    assert before and not any(line.strokeDashArray for line in before)
