"""A document on screen (QtPdf), and the two ways it leaves the app: the system print dialog
and Save as PDF. The preview records nothing; both ways out go through the document
service, which keeps and audits the document with where it went."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
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

# Pages are rasterised for the printer; beyond 300 dpi the image only grows, not the print.
MAX_PRINT_DPI = 300
POINTS_PER_INCH = 72


class LoadedPdf:
    """A QPdfDocument over bytes in memory; the buffer must live as long as the document."""

    def __init__(self, pdf: bytes, parent: QObject) -> None:
        self.buffer = QBuffer(parent)
        self.buffer.setData(QByteArray(pdf))
        self.buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(parent)
        self.document.load(self.buffer)

    @property
    def pages(self) -> int:
        return self.document.pageCount()


def print_pdf(pdf: bytes, printer: QPrinter) -> int:
    """Print the PDF's pages (or the range chosen in the dialog); returns the pages printed."""
    owner = QObject()
    loaded = LoadedPdf(pdf, owner)
    count = loaded.pages
    first, last = 1, count
    if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
        first, last = printer.fromPage(), min(printer.toPage() or count, count)
    dpi = min(printer.resolution(), MAX_PRINT_DPI)
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("The printer could not be opened.")
    printed = 0
    try:
        for page in range(first - 1, last):
            if printed:
                printer.newPage()
            size = loaded.document.pagePointSize(page)
            image = loaded.document.render(
                page,
                QSize(
                    round(size.width() * dpi / POINTS_PER_INCH),
                    round(size.height() * dpi / POINTS_PER_INCH),
                ),
            )
            target = QRectF(painter.viewport())
            scale = min(target.width() / image.width(), target.height() / image.height())
            width, height = image.width() * scale, image.height() * scale
            painter.drawImage(
                QRectF(
                    target.x() + (target.width() - width) / 2,
                    target.y() + (target.height() - height) / 2,
                    width,
                    height,
                ),
                image,
            )
            printed += 1
    finally:
        painter.end()
    return printed


def printer_destination(printer: QPrinter) -> str:
    """Where a configured printer sends its pages, in the words the Documents tab shows."""
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and printer.outputFileName():
        return f"PDF file {printer.outputFileName()}"
    return f"printer {printer.printerName() or 'default'}"


class DocumentOutput:
    """Print and save one document on behalf of a clinician; errors in a message box.

    The document is either a draft (rendered for the preview, stored by nobody) or one kept
    earlier. A draft is kept, and audited as printed with where it went, the first time it
    is sent to a printer or saved as a PDF; after that, and for a kept document, a print is
    a reprint. ``sent_to`` says where the last print or save went.
    """

    def __init__(
        self,
        documents: DocumentService,
        actor: Actor,
        *,
        title: str,
        document_id: int | None = None,
        draft: DraftDocument | None = None,
        printer_factory: Callable[[], QPrinter] | None = None,
        operations: Operations | None = None,
    ) -> None:
        if (document_id is None) == (draft is None):
            raise ValueError("a document output needs a kept document or a draft")
        self._documents = documents
        self.actor = actor
        self.document_id = document_id
        self.draft = draft
        self.title = title
        self.sent_to: str | None = None
        # Through the notifier, so the Documents tab lists what was just kept.
        self._operations = operations
        self.printer_factory = printer_factory or (
            lambda: QPrinter(QPrinter.PrinterMode.HighResolution)
        )

    def pdf(self) -> bytes:
        """The bytes on screen: the draft's, else the kept document's (not audited)."""
        if self.draft is not None:
            return self.draft.pdf
        assert self.document_id is not None
        return self._documents.pdf(self.actor, self.document_id)

    def print_with_dialog(self, parent: QWidget) -> bool:
        printer = self.printer_factory()
        printer.setDocName(self.title)
        dialog = QPrintDialog(printer, parent)
        dialog.setWindowTitle(f"Print {self.title}")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        try:
            self.send_to_printer(printer)
        except (ServiceError, OSError) as error:
            QMessageBox.warning(parent, "Not printed", str(error))
            return False
        return True

    def send_to_printer(self, printer: QPrinter) -> int:
        """Print on a configured printer (what Print… does once its dialog is accepted);
        returns the pages printed."""
        destination = printer_destination(printer)
        pdf = self._keep(destination) if self.draft is not None else self._reprint(destination)
        printed = print_pdf(pdf, printer)
        self.sent_to = destination
        return printed

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
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    @property
    def page_count(self) -> int:
        return self.pdf.pages

    def _on_print_button_clicked(self) -> None:
        if self.output.print_with_dialog(self):
            self._show_sent()

    def _on_save_button_clicked(self) -> None:
        if self.output.save_as_pdf(self, self._suggested_name) is not None:
            self._show_sent()

    def _show_sent(self) -> None:
        where = self.output.sent_to or ""
        self.status.setText(f"Sent to {where}; kept in the patient's Documents tab.")
        self.sent.emit(where)
