"""A discharge summary printed through a real CUPS queue (a private cupsd with a cups-pdf
virtual printer) arrives whole and sharp: every page, with its text at printing
resolution. Skipped, with the reason, where Debian's cups and printer-driver-cups-pdf are
not installed."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinterInfo
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.services.bundle import build_services
from backclinic.ui.print_preview import DocumentOutput
from backclinic.ui.printing import PrinterChoice
from backclinic.ui.tasks import TaskRunner
from tests.cli.test_cli import run
from tests.cli.test_cli_print_and_backup import article_case_planned
from tests.printing.cups import (
    MIN_DPI,
    delivered,
    missing,
    private_cups_queue,
)
from tests.services.test_documents import NOW, document_service, set_up_clinic, treated_patient

pytestmark = pytest.mark.slow


@pytest.fixture
def cups_queue() -> Iterator[str]:
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    with private_cups_queue() as queue:
        yield queue


def test_a_discharge_summary_printed_to_a_cups_queue_arrives_whole_and_sharp(
    qtbot: QtBot, database: OpenDatabase, cups_queue: str
) -> None:
    services = build_services(database.session_factory, clock=lambda: NOW)
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    documents = document_service(services)
    draft = documents.draft_discharge_summary(actor, patient_id)
    assert cups_queue in [info.printerName() for info in QPrinterInfo.availablePrinters()]
    output = DocumentOutput(
        documents, actor, title=draft.title, tasks=TaskRunner(synchronous=True), draft=draft
    )
    started = time.time() - 1

    # Printed by the printing process, as the window prints (it reaches CUPS_SERVER too).
    printed = output.send_to_printer(PrinterChoice(printer_name=cups_queue))

    assert printed == draft.pages
    assert output.sent_to == f"printer {cups_queue}"
    [kept] = documents.documents(actor, patient_id)
    assert kept.destination == f"printer {cups_queue}"
    printout = delivered(started, draft.title)
    try:
        pages = PdfReader(printout).pages
        assert len(pages) == draft.pages
        assert all(_sharp(printout, number, page) for number, page in enumerate(pages, start=1))
    finally:
        printout.unlink()


def _sharp(pdf: Path, number: int, page: object) -> bool:
    """Vector text on the page, or its images at printing resolution or finer."""
    text = subprocess.run(
        ["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Discharge" in text or "summary" in text.lower():
        return True
    listing = subprocess.run(
        ["pdfimages", "-list", "-f", str(number), "-l", str(number), str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[2:]
    resolutions = [int(columns[12]) for line in listing if len(columns := line.split()) > 13]
    return bool(resolutions) and min(resolutions) >= MIN_DPI


def test_the_command_line_prints_on_a_cups_queue_the_way_the_window_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sqlite_template: Path, cups_queue: str
) -> None:
    planned_case = article_case_planned(capsys, tmp_path, sqlite_template)
    started = time.time() - 1

    status, printed, error = run(
        capsys, *planned_case, "print", "plan", "CASE-0045", "--printer", cups_queue
    )

    assert (status, error) == (0, "")
    assert printed == f"Printed the plan summary of CASE-0045 on printer {cups_queue} (2 pages).\n"
    printout = delivered(started, "Plan summary")
    try:
        assert len(PdfReader(printout).pages) == 2
    finally:
        printout.unlink()
