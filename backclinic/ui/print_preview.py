"""A stored document on screen (QtPdf), and the two ways it leaves the app: the system print
dialog and Save as PDF. Both go through the document service, which audits them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.context import Actor
from backclinic.services.documents import DocumentService
from backclinic.services.errors import ServiceError

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


class DocumentOutput:
    """Print and save one stored document on behalf of a clinician; errors in a message box.

    ``just_printed`` marks a document created a moment ago (its "print" is already audited),
    so sending it to the printer then is not counted as a reprint.
    """

    def __init__(
        self,
        documents: DocumentService,
        actor: Actor,
        document_id: int,
        *,
        title: str,
        just_printed: bool = False,
        printer_factory: Callable[[], QPrinter] | None = None,
    ) -> None:
        self._documents = documents
        self.actor = actor
        self.document_id = document_id
        self.title = title
        self.just_printed = just_printed
        self.printer_factory = printer_factory or (
            lambda: QPrinter(QPrinter.PrinterMode.HighResolution)
        )

    def print_with_dialog(self, parent: QWidget) -> bool:
        printer = self.printer_factory()
        printer.setDocName(self.title)
        dialog = QPrintDialog(printer, parent)
        dialog.setWindowTitle(f"Print {self.title}")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        try:
            if self.just_printed:
                pdf = self._documents.pdf(self.actor, self.document_id)
                self.just_printed = False
            else:
                pdf = self._documents.reprint(self.actor, self.document_id)
            print_pdf(pdf, printer)
        except (ServiceError, OSError) as error:
            QMessageBox.warning(parent, "Not printed", str(error))
            return False
        return True

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
            self._documents.write_pdf(self.actor, self.document_id, path, force=confirmed)
        except (ServiceError, OSError) as error:
            QMessageBox.warning(parent, "Not saved", str(error))
            return None
        return path


class PrintPreview(QDialog):
    """The document's pages as they were handed over, with Print… and Save as PDF…."""

    def __init__(
        self,
        documents: DocumentService,
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
        self.pdf = LoadedPdf(documents.pdf(output.actor, output.document_id), self)
        self.view = QPdfView(self)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setDocument(self.pdf.document)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.print_button = QPushButton("Print…")
        self.save_button = QPushButton("Save as PDF…")
        buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        buttons.rejected.connect(self.reject)
        self.print_button.clicked.connect(self._on_print_button_clicked)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    @property
    def page_count(self) -> int:
        return self.pdf.pages

    def _on_print_button_clicked(self) -> None:
        self.output.print_with_dialog(self)

    def _on_save_button_clicked(self) -> None:
        self.output.save_as_pdf(self, self._suggested_name)
