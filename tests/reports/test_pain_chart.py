from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader
from reportlab.graphics import renderPDF

from backclinic.reports.pain_chart import ChartPhase, ChartPoint, pain_chart

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
