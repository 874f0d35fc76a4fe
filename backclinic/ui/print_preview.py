"""A document on screen (QtPdf), and the two ways it leaves the app: the system print dialog
and Save as PDF. The preview records nothing; both ways out go through the document
service, which keeps and audits the document with where it went. Printing itself happens
in a child process (backclinic.ui.printing), so Qt's print support never loads here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.context import Actor
from backclinic.services.documents import DocumentService, DraftDocument
from backclinic.services.errors import ServiceError
from backclinic.services.files import check_output
from backclinic.ui.operations import Operations
from backclinic.ui.pdf_pages import LoadedPdf
from backclinic.ui.printing import PrinterChoice, PrintFailed, PrintJob, recorded_unprinted
from backclinic.ui.tasks import TaskRunner, expected_failure


class DocumentOutput:
    """Print and save one document on behalf of a clinician; errors in a message box.

    The document is either a draft (rendered for the preview, stored by nobody) or one kept
    earlier. A draft is kept, and audited as printed with where it went, the first time it
    is sent to a printer or saved as a PDF; after that, and for a kept document, a print is
    a reprint. ``sent_to`` says where the last print or save went. ``printer``, when set,
    is printed on without the system dialog. ``tasks`` (else the operations') runs the
    waits for the printing process.
    """

    def __init__(
        self,
        documents: DocumentService,
        actor: Actor,
        *,
        title: str,
        tasks: TaskRunner | None = None,
        document_id: int | None = None,
        pages: int = 0,
        draft: DraftDocument | None = None,
        printer: PrinterChoice | None = None,
        operations: Operations | None = None,
    ) -> None:
        if (document_id is None) == (draft is None):
            raise ValueError("a document output needs a kept document or a draft")
        self._documents = documents
        # Printing waits for the printing process off the GUI thread.
        self._tasks = tasks or (operations.tasks if operations is not None else TaskRunner())
        self.actor = actor
        self.document_id = document_id
        self.draft = draft
        self.title = title
        self.pages = draft.pages if draft is not None else pages
        self.printer = printer
        self.sent_to: str | None = None
        self._job: PrintJob | None = None
        # Through the notifier, so the Documents tab lists what was just kept.
        self._operations = operations

    def pdf(self) -> bytes:
        """The bytes on screen: the draft's, else the kept document's (not audited)."""
        if self.draft is not None:
            return self.draft.pdf
        assert self.document_id is not None
        return self._documents.pdf(self.actor, self.document_id)

    def print_with_dialog(self, parent: QWidget, on_done: Callable[[bool], None]) -> None:
        """Print through the system dialog, shown by the printing process above ``parent``.

        Returns at once; the window keeps working. Once a printer is chosen the document is
        kept (or its reprint recorded) with where it went, then printed. ``on_done(sent)``
        follows on the GUI thread when it has printed, was cancelled or failed (told in a
        message box). A job whose ``parent`` closes meanwhile is stopped.
        """
        if self._job is not None:
            return
        job = PrintJob(
            self.title,
            self.pages,
            preset=self.printer,
            platform=QGuiApplication.platformName(),
            parent_window=int(parent.window().winId()),
        )
        self._job = job
        parent.destroyed.connect(job.close)
        recorded: list[str] = []

        def failed(error: Exception) -> None:
            self._end_job()
            if not (isinstance(error, PrintFailed) or expected_failure(error)):
                raise error
            message = (
                recorded_unprinted(error, recorded[0])
                if recorded and isinstance(error, PrintFailed)
                else str(error)
            )
            QMessageBox.warning(parent, "Not printed", message)
            on_done(False)

        def chosen(destination: str | None) -> None:
            if destination is None:
                self._end_job()
                on_done(False)
                return
            try:
                pdf = self._hand_over(destination)
            except ServiceError as error:
                failed(error)
                return
            recorded.append(destination)
            self._tasks.run(
                lambda: job.print(pdf),
                on_result=lambda _pages: printed(destination),
                on_error=failed,
                owner=parent,
            )

        def printed(destination: str) -> None:
            self._end_job()
            self.sent_to = destination
            on_done(True)

        self._tasks.run(job.choose, on_result=chosen, on_error=failed, owner=parent)

    def send_to_printer(self, printer: PrinterChoice) -> int:
        """Print on a named printer without the dialog and wait for it (what Print… does
        once a printer is chosen); returns the pages printed."""
        job = PrintJob(self.title, self.pages, preset=printer)
        try:
            destination = job.choose()
            assert destination is not None, "a named printer has no dialog to cancel"
            printed = job.print(self._hand_over(destination))
        finally:
            job.close()
        self.sent_to = destination
        return printed

    def cancel_printing(self) -> None:
        """Stop a print still choosing its printer or printing (its preview has closed)."""
        if self._job is not None:
            self._job.close()

    def _end_job(self) -> None:
        if self._job is not None:
            self._job.close()
            self._job = None

    def _hand_over(self, destination: str) -> bytes:
        """Keep the draft (or record the reprint) as sent to ``destination``; its bytes."""
        return self._keep(destination) if self.draft is not None else self._reprint(destination)

    def save_as_pdf(self, parent: QWidget, suggested_name: str) -> Path | None:
        chosen, _filter = QFileDialog.getSaveFileName(
            parent, "Save as PDF", str(Path.home() / suggested_name), "PDF files (*.pdf)"
        )
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        try:
            # The dialog asked before overwriting the name it returned, not one we extended.
            confirmed = path == Path(chosen)
            if self.draft is not None:
                # Checked first, so a file that cannot be written leaves nothing kept.
                check_output(path, force=confirmed, protected=self._documents.protected_files())
                self._keep(f"PDF file {path}")
            assert self.document_id is not None
            self._documents.write_pdf(self.actor, self.document_id, path, force=confirmed)
        except (ServiceError, OSError) as error:
            QMessageBox.warning(parent, "Not saved", str(error))
            return None
        self.sent_to = f"PDF file {path}"
        return path

    def _keep(self, destination: str) -> bytes:
        assert self.draft is not None
        keep = self._documents.keep_printed
        stored = (
            self._operations.run(keep, self.actor, self.draft, destination=destination)
            if self._operations is not None
            else keep(self.actor, self.draft, destination=destination)
        )
        self.document_id = stored.id
        self.draft = None
        return stored.pdf

    def _reprint(self, destination: str) -> bytes:
        assert self.document_id is not None
        return self._documents.reprint(self.actor, self.document_id, destination=destination)


class PrintPreview(QDialog):
    """A document's pages, with Print… and Save as PDF…; only those two record anything."""

    sent = Signal(str)

    def __init__(
        self,
        output: DocumentOutput,
        *,
        suggested_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.output = output
        self._suggested_name = suggested_name
        self._status_before = ""
        self.setWindowTitle(f"Preview — {output.title}")
        # Fits a 1366×768 screen; the pages scroll inside the view.
        self.resize(760, 680)
        self.setMaximumHeight(720)
        self.pdf = LoadedPdf(output.pdf(), self)
        self.view = QPdfView(self)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setDocument(self.pdf.document)
        self.status = QLabel(
            "Preview only: nothing is recorded as printed until you print it or save it as PDF."
            if output.draft is not None
            else "A kept document, exactly as it was handed over."
        )
        self.status.setObjectName("print_status")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.print_button = QPushButton("Print…")
        self.save_button = QPushButton("Save as PDF…")
        buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        buttons.rejected.connect(self.reject)
        self.print_button.clicked.connect(self._on_print_button_clicked)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        # Closing the preview stops a print whose dialog is still open.
        self.finished.connect(lambda _result: output.cancel_printing())
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    @property
    def page_count(self) -> int:
        return self.pdf.pages

    def _on_print_button_clicked(self) -> None:
        self._set_printing(True)
        self.output.print_with_dialog(self, self._on_printed)

    def _on_printed(self, sent: bool) -> None:
        self._set_printing(False)
        if sent:
            self._show_sent()

    def _set_printing(self, printing: bool) -> None:
        self.print_button.setEnabled(not printing)
        self.save_button.setEnabled(not printing)
        if printing:
            self._status_before = self.status.text()
            self.status.setText("Printing: choose the printer in the print dialog…")
        else:
            self.status.setText(self._status_before)

    def _on_save_button_clicked(self) -> None:
        if self.output.save_as_pdf(self, self._suggested_name) is not None:
            self._show_sent()

    def _show_sent(self) -> None:
        where = self.output.sent_to or ""
        self.status.setText(f"Sent to {where}; kept in the patient's Documents tab.")
        self.sent.emit(where)
