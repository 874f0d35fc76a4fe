"""Drawing a document in a child process: the same PDF, and a failure told in one sentence.

The ``draw`` stand-ins are module-level functions because the spawned child imports them by
name; each misbehaves the way a child can (raises, dies, hangs).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import multiprocessing
import os
import re
import signal
import sys
import time

import pytest
from pypdf import PdfReader

from backclinic.reports.content import (
    Attendance,
    DischargeSummary,
    DocumentFrame,
    Letterhead,
    Outcome,
    PatientLine,
    RenderedPdf,
    TreatedSession,
)
from backclinic.reports.renderer import (
    ChildProcessRenderer,
    InProcessRenderer,
    RenderFailed,
    Summary,
)

START = dt.date(2026, 1, 5)


def summary(*, ended: bool = True) -> DischargeSummary:
    frame = DocumentFrame(
        title="Discharge summary" if ended else "Interim treatment summary",
        letterhead=Letterhead("Harbour Back Clinic", address="12 Quay Street", phone="023 9200"),
        patient=PatientLine("Grace Okafor", dt.date(1980, 11, 2), "CASE-0045"),
        protocol_name="Integrative low back pain protocol",
        protocol_version=1,
        printed_on=dt.date(2026, 3, 2),
        printed_by="Mei Lin",
    )
    sessions = tuple(
        TreatedSession(
            when=START + dt.timedelta(days=3 * i),
            phase_number=1 + i // 10,
            modalities=("Acupuncture", "Physical therapy"),
            pain_before=6 - i // 8,
            pain_after=4 - i // 8,
            acupoints=("BL23", "BL25"),
            interventions=("Pelvic tilts",),
            adverse_events=(),
            adverse_event_note="",
            tolerance="well",
        )
        for i in range(30)
    )
    pain = Outcome("Pain (NPRS)", "/10", 6, START, 2, START + dt.timedelta(days=87), None)
    return DischargeSummary(
        frame=frame,
        ended=ended,
        start_date=START,
        end_date=START + dt.timedelta(days=90),
        end_reason="goals met" if ended else None,
        end_note="",
        phases=(),
        attendance=Attendance(30, 30, 0, 0, 30),
        nprs=pain,
        odi=Outcome("Disability (ODI)", "%", None, None, None, None, None),
        mean_immediate_drop=2.0,
        sessions=sessions,
        home_programme=(),
        recommendations=("Keep up the home programme.",),
    )


def pages_text(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def explodes(_summary: Summary) -> RenderedPdf:
    raise ValueError("the logo is not an image\nsecond line of detail")


def dies(_summary: Summary) -> RenderedPdf:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def hangs(_summary: Summary) -> RenderedPdf:
    time.sleep(60)
    raise AssertionError("unreachable")


def what_the_child_loaded(_summary: Summary) -> RenderedPdf:
    wanted = ("PySide6", "shiboken6", "sqlalchemy", "backclinic.services", "backclinic.ui")
    loaded = sorted(name for name in sys.modules if name.startswith(wanted))
    return RenderedPdf(json.dumps(loaded).encode(), 0)


def test_the_child_draws_the_same_pages_as_this_process() -> None:
    content = summary()
    apart = ChildProcessRenderer().render(content)
    here = InProcessRenderer().render(content)
    assert apart.pdf.startswith(b"%PDF")
    assert apart.pages == here.pages == len(PdfReader(io.BytesIO(apart.pdf)).pages) >= 2
    assert pages_text(apart.pdf) == pages_text(here.pdf)
    assert "Grace Okafor" in pages_text(apart.pdf)[0]


def test_the_child_loads_neither_qt_nor_the_services() -> None:
    rendered = ChildProcessRenderer(draw=what_the_child_loaded).render(summary())
    assert json.loads(rendered.pdf) == []


def test_an_error_in_the_child_comes_back_as_one_sentence(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(RenderFailed) as raised:
        ChildProcessRenderer(draw=explodes).render(summary())
    assert str(raised.value) == (
        "The discharge summary could not be drawn: the drawing stopped with an error "
        "(ValueError: the logo is not an image)."
    )
    # The whole story is for the log, not the clinician.
    assert "Traceback" in capfd.readouterr().err


def test_a_child_killed_while_drawing_is_said_in_one_sentence() -> None:
    with pytest.raises(RenderFailed) as raised:
        ChildProcessRenderer(draw=dies).render(summary(ended=False))
    assert str(raised.value) == (
        "The interim treatment summary could not be drawn: the drawing process ended before "
        "it finished."
    )


def test_a_child_that_hangs_is_stopped_at_the_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(RenderFailed) as raised:
        ChildProcessRenderer(timeout=1.5, draw=hangs).render(summary())
    assert time.monotonic() - started < 15
    assert str(raised.value) == (
        "The discharge summary could not be drawn: it took longer than 1.5 seconds, so the "
        "drawing was stopped."
    )


def test_a_drawing_whose_content_never_came_leaves_no_child_behind() -> None:
    with pytest.raises(LookupError), ChildProcessRenderer().drawing():
        # The caller failed while gathering the content (no plan to print, say).
        raise LookupError("no plan")
    assert multiprocessing.active_children() == []


def test_the_child_starts_before_the_content_and_draws_it_once_given() -> None:
    renderer = ChildProcessRenderer()
    with renderer.drawing() as drawing:
        time.sleep(0.2)  # the services reading the records
        apart = drawing.render(summary())
    assert pages_text(apart.pdf) == pages_text(InProcessRenderer().render(summary()).pdf)
    assert multiprocessing.active_children() == []
