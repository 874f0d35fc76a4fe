from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from backclinic.db.database import OpenDatabase
from backclinic.db.models import AuditEventRow
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.services.documents import DocumentService
from backclinic.services.patients import PatientInput
from backclinic.ui.documents_tab import DocumentsTab
from backclinic.ui.print_preview import print_pdf
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


def file_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_printing_a_plan_summary_lists_it_and_opens_its_preview(
    qtbot: QtBot, tab: DocumentsTab, services: Services, qtmodeltester: ModelTester
) -> None:
    assert tab.model.rowCount() == 0
    qtbot.mouseClick(tab.plan_button, Qt.MouseButton.LeftButton)
    assert tab.model.rowCount() == 1
    shown = [tab.model.index(0, c).data() for c in range(tab.model.columnCount())]
    assert shown[1:] == ["Plan summary", "Mei Lin", "2"]
    assert shown[0].startswith(NOW.astimezone().strftime("%Y-%m-%d"))
    assert tab.selected() is not None and tab.selected().title == "Plan summary"
    assert tab.preview is not None and tab.preview.isVisible()
    assert tab.preview.page_count == 2
    qtmodeltester.check(tab.model)
    assert document_audits(services) == ["print"]


def test_printing_off_the_gui_thread_lists_selects_and_previews_the_new_document(
    qtbot: QtBot, tab: DocumentsTab, services: Services
) -> None:
    tab.tasks.synchronous = False
    with qtbot.waitSignal(tab.document_printed, timeout=20_000):
        qtbot.mouseClick(tab.plan_button, Qt.MouseButton.LeftButton)
        assert not tab.plan_button.isEnabled() and not tab.discharge_button.isEnabled()
    assert tab.plan_button.isEnabled()
    assert tab.model.rowCount() == 1
    assert tab.selected() is not None and tab.selected().title == "Plan summary"
    assert tab.preview is not None and tab.preview.isVisible()
    assert document_audits(services) == ["print"]


def test_the_discharge_summary_prints_from_the_tab_too(
    qtbot: QtBot, tab: DocumentsTab, qtmodeltester: ModelTester
) -> None:
    tab.discharge_button.click()
    tab.plan_button.click()
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
    tab.plan_button.click()
    assert tab.preview is not None
    tab.preview.close()
    output = tmp_path / "printed.pdf"
    tab.printer_factory = lambda: file_printer(output)
    monkeypatch.setattr(QPrintDialog, "exec", lambda _self: QDialog.DialogCode.Accepted)
    assert tab.reprint_button.isEnabled()
    tab.reprint_button.click()
    assert len(PdfReader(output).pages) == 2
    assert document_audits(services) == ["print", "reprint"]


def test_printing_from_the_fresh_preview_is_not_a_reprint(
    tab: DocumentsTab, services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    output = tmp_path / "printed.pdf"
    tab.printer_factory = lambda: file_printer(output)
    monkeypatch.setattr(QPrintDialog, "exec", lambda _self: QDialog.DialogCode.Accepted)
    tab.plan_button.click()
    assert tab.preview is not None
    tab.preview.print_button.click()
    assert output.exists()
    assert document_audits(services) == ["print"]
    tab.preview.print_button.click()
    assert document_audits(services) == ["print", "reprint"]


def test_a_cancelled_print_dialog_prints_and_audits_nothing(
    tab: DocumentsTab, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab.plan_button.click()
    monkeypatch.setattr(QPrintDialog, "exec", lambda _self: QDialog.DialogCode.Rejected)
    tab.reprint_button.click()
    assert document_audits(services) == ["print"]


def test_save_as_pdf_writes_the_document_as_handed_over(
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
    tab.save_button.click()
    saved = tmp_path / "grace plan.pdf"
    document = tab.selected()
    assert document is not None
    assert saved.read_bytes() == documents.pdf(COMMAND_LINE, document.id)
    assert document_audits(services) == ["print", "export"]


def test_preview_shows_a_listed_document(qtbot: QtBot, tab: DocumentsTab) -> None:
    tab.discharge_button.click()
    assert tab.preview is not None
    tab.preview.close()
    qtbot.waitUntil(lambda: tab.preview is None)
    tab.preview_button.click()
    assert tab.preview is not None and tab.preview.page_count >= 1


def test_print_pdf_prints_every_page(
    documents: DocumentService, tab: DocumentsTab, tmp_path: Path
) -> None:
    tab.plan_button.click()
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
