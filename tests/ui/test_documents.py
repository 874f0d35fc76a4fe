from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from backclinic.db.database import OpenDatabase
from backclinic.db.models import AuditEventRow
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.documents import DocumentService
from backclinic.services.patients import PatientInput
from backclinic.ui import print_preview
from backclinic.ui.documents_tab import DocumentsTab
from backclinic.ui.print_child import print_pdf
from backclinic.ui.printing import PrinterChoice
from tests.actors import COMMAND_LINE
from tests.records import stored_records
from tests.services.test_documents import NOW, document_service, set_up_clinic, treated_patient


@pytest.fixture
def services(database: OpenDatabase) -> Services:
    return build_services(database.session_factory, clock=lambda: NOW)


@pytest.fixture
def actor(services: Services) -> Actor:
    return set_up_clinic(services)


@pytest.fixture
def documents(services: Services) -> DocumentService:
    return document_service(services)


@pytest.fixture
def tab(qtbot: QtBot, services: Services, actor: Actor, documents: DocumentService) -> DocumentsTab:
    patient_id = treated_patient(services, actor)
    widget = DocumentsTab(services, actor, patient_id)
    widget.tasks.synchronous = True
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: not widget.loading)
    return widget


def document_audits(services: Services) -> list[str]:
    with stored_records(services) as session:
        return list(
            session.scalars(
                select(AuditEventRow.action)
                .where(AuditEventRow.entity == "document")
                .order_by(AuditEventRow.id)
            )
        )


def audit_details(services: Services, action: str) -> list[dict[str, object]]:
    with stored_records(services) as session:
        return list(
            session.scalars(
                select(AuditEventRow.details).where(
                    AuditEventRow.entity == "document", AuditEventRow.action == action
                )
            )
        )


def file_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def printed_from_preview(tab: DocumentsTab, output: Path, button: str = "plan") -> None:
    """Draft a summary, then print it from its preview to ``output`` (in the printing
    process, with a PDF file for the printer the dialog would have chosen)."""
    tab.printer = PrinterChoice(output_file=str(output))
    getattr(tab, f"{button}_button").click()
    assert tab.preview is not None
    tab.preview.print_button.click()


def test_opening_the_preview_records_nothing_as_printed(
    qtbot: QtBot, tab: DocumentsTab, services: Services
) -> None:
    qtbot.mouseClick(tab.plan_button, Qt.MouseButton.LeftButton)

    assert tab.preview is not None and tab.preview.isVisible()
    assert tab.preview.page_count == 2
    assert "Preview only" in tab.preview.status.text()
    assert tab.model.rowCount() == 0
    assert document_audits(services) == []


def test_printing_from_the_preview_lists_the_document_with_its_printer(
    qtbot: QtBot,
    tab: DocumentsTab,
    services: Services,
    qtmodeltester: ModelTester,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    output = tmp_path / "printed.pdf"
    with qtbot.waitSignal(tab.document_printed):
        printed_from_preview(tab, output)

    assert len(PdfReader(output).pages) == 2
    assert tab.model.rowCount() == 1
    shown = [tab.model.index(0, c).data() for c in range(tab.model.columnCount())]
    assert shown[1:] == ["Plan summary", "Mei Lin", "2", f"PDF file {output}"]
    assert shown[0].startswith(NOW.astimezone().strftime("%Y-%m-%d"))
    assert tab.selected() is not None and tab.selected().title == "Plan summary"
    assert tab.preview is not None and str(output) in tab.preview.status.text()
    qtmodeltester.check(tab.model)
    assert document_audits(services) == ["print"]
    [details] = audit_details(services, "print")
    assert details["destination"] == f"PDF file {output}"


def test_drafting_off_the_gui_thread_opens_the_preview_and_records_nothing(
    qtbot: QtBot, tab: DocumentsTab, services: Services
) -> None:
    tab.tasks.synchronous = False
    qtbot.mouseClick(tab.plan_button, Qt.MouseButton.LeftButton)
    assert not tab.plan_button.isEnabled() and not tab.discharge_button.isEnabled()
    qtbot.waitUntil(lambda: tab.preview is not None and tab.preview.isVisible(), timeout=20_000)
    assert tab.plan_button.isEnabled()
    assert tab.model.rowCount() == 0
    assert document_audits(services) == []


def test_the_discharge_summary_prints_from_the_tab_too(
    qtbot: QtBot,
    tab: DocumentsTab,
    qtmodeltester: ModelTester,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    printed_from_preview(tab, tmp_path / "discharge.pdf", "discharge")
    printed_from_preview(tab, tmp_path / "plan.pdf", "plan")
    titles = [tab.model.index(r, 1).data() for r in range(tab.model.rowCount())]
    assert titles == ["Plan summary", "Interim treatment summary"]
    qtmodeltester.check(tab.model)


def test_a_patient_without_a_plan_is_told_so(
    qtbot: QtBot,
    services: Services,
    actor: Actor,
    documents: DocumentService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient = services.patients.register(actor, PatientInput("Rivera", "Ana", NOW.date()))
    widget = DocumentsTab(services, actor, patient.id)
    widget.tasks.synchronous = True
    qtbot.addWidget(widget)
    warnings: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text, *a: warnings.append(text)
    )
    widget.plan_button.click()
    assert warnings == ["This patient has no treatment plan, so there is no plan summary to print."]
    assert widget.model.rowCount() == 0 and widget.plan_button.isEnabled()


def test_reprint_sends_the_stored_pages_to_the_printer_and_is_audited(
    tab: DocumentsTab, services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    printed_from_preview(tab, tmp_path / "first.pdf")
    assert tab.preview is not None
    tab.preview.close()
    output = tmp_path / "printed.pdf"
    tab.printer = PrinterChoice(output_file=str(output))
    assert tab.reprint_button.isEnabled()
    tab.reprint_button.click()
    assert len(PdfReader(output).pages) == 2
    assert document_audits(services) == ["print", "reprint"]
    [details] = audit_details(services, "reprint")
    assert details["destination"] == f"PDF file {output}"


def test_printing_from_the_fresh_preview_is_not_a_reprint(
    tab: DocumentsTab, services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    output = tmp_path / "printed.pdf"
    printed_from_preview(tab, output)
    assert output.exists()
    assert document_audits(services) == ["print"]
    assert tab.preview is not None
    tab.preview.print_button.click()
    assert document_audits(services) == ["print", "reprint"]


class CancelledDialog:
    """A print job whose system dialog the clinician cancels."""

    closed = 0

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        pass

    def choose(self) -> None:
        return None

    def print(self, pdf: bytes) -> int:
        raise AssertionError("a cancelled dialog prints nothing")

    def close(self) -> None:
        CancelledDialog.closed += 1


def test_a_cancelled_print_dialog_prints_and_audits_nothing(
    tab: DocumentsTab, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab.plan_button.click()
    monkeypatch.setattr(print_preview, "PrintJob", CancelledDialog)
    CancelledDialog.closed = 0
    assert tab.preview is not None
    status = tab.preview.status.text()
    tab.preview.print_button.click()
    assert document_audits(services) == []
    assert tab.model.rowCount() == 0
    assert CancelledDialog.closed == 1
    assert tab.preview.print_button.isEnabled() and tab.preview.save_button.isEnabled()
    assert tab.preview.status.text() == status


def test_save_as_pdf_from_the_preview_keeps_the_document_as_handed_over(
    tab: DocumentsTab,
    services: Services,
    documents: DocumentService,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    tab.plan_button.click()
    chosen = tmp_path / "grace plan"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(chosen), "PDF files (*.pdf)")
    )
    assert tab.preview is not None
    tab.preview.save_button.click()
    saved = tmp_path / "grace plan.pdf"
    document = tab.selected()
    assert document is not None
    assert document.destination == f"PDF file {saved}"
    assert saved.read_bytes() == documents.pdf(COMMAND_LINE, document.id)
    assert document_audits(services) == ["print", "export"]


def test_preview_shows_a_listed_document(
    qtbot: QtBot, tab: DocumentsTab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    printed_from_preview(tab, tmp_path / "discharge.pdf", "discharge")
    assert tab.preview is not None
    tab.preview.close()
    qtbot.waitUntil(lambda: tab.preview is None)
    tab.preview_button.click()
    assert tab.preview is not None and tab.preview.page_count >= 1
    assert "Preview only" not in tab.preview.status.text()


def test_print_pdf_prints_every_page(
    documents: DocumentService, tab: DocumentsTab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    printed_from_preview(tab, tmp_path / "first.pdf")
    document = tab.selected()
    assert document is not None
    output = tmp_path / "all.pdf"
    assert (
        print_pdf(documents.pdf(COMMAND_LINE, document.id), file_printer(output)) == document.pages
    )
    assert len(PdfReader(output).pages) == document.pages


def test_an_empty_documents_tab_says_so_until_something_is_printed(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    from tests.services.test_plans import grace

    patient_id = grace(services, actor)
    widget = DocumentsTab(services, actor, patient_id)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(widget.empty_label.isVisible)
    assert widget.empty_label.text().startswith("No documents printed yet.")


def test_the_preview_fits_a_1366_by_768_screen(qtbot: QtBot, tab: DocumentsTab) -> None:
    tab.discharge_button.click()
    preview = tab.preview
    assert preview is not None
    qtbot.waitExposed(preview)
    assert preview.height() <= 720 and preview.width() <= 1366
    assert preview.sizeHint().height() <= 720
    preview.close()


def test_a_print_that_fails_after_the_keep_says_it_was_recorded(
    tab: DocumentsTab, services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no such folder" / "plan.pdf"
    warnings: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text, *a: warnings.append(text)
    )
    printed_from_preview(tab, missing)
    assert warnings == [
        "The plan summary was not printed: the printer could not be opened. It is recorded "
        f"as sent to PDF file {missing}: reprint it from the patient's Documents tab."
    ]
    # Kept before printing: a document handed over is never left unrecorded.
    assert document_audits(services) == ["print"]
    assert tab.preview is not None and tab.preview.print_button.isEnabled()
    assert "Sent to" not in tab.preview.status.text()
