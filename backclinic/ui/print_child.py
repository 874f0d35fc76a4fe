"""The printing child process's Qt side: the system print dialog and the pages it prints.

Imported only inside the child that backclinic.ui.printing starts, never by the window:
this is where Qt's print support (its CUPS plugin and PDF print engine) and the pages
rasterised for the printer live, and they go back to the system when the child exits.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QRectF, QSize
from PySide6.QtGui import QPainter, QWindow
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import QApplication, QDialog

from backclinic.ui.pdf_pages import LoadedPdf
from backclinic.ui.printing import PrinterChoice

# Pages are rasterised for the printer; beyond 300 dpi the image only grows, not the print.
MAX_PRINT_DPI = 300
POINTS_PER_INCH = 72
# Platforms whose windows another process can name as a dialog's parent.
_FOREIGN_PARENTS = ("xcb", "windows", "cocoa")


def application(platform: str) -> QApplication:
    """This child's Qt, on the window's own platform (a print dialog shows where it does)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    arguments = [sys.argv[0] or "BackClinic"]
    if platform:
        arguments += ["-platform", platform]
    app = QApplication(arguments)
    app.setApplicationName("BackClinic")
    app.setApplicationDisplayName("BackClinic")
    app.setDesktopFileName("BackClinic")
    return app


def chosen_printer(
    title: str, pages: int, preset: PrinterChoice | None, parent_window: int | None
) -> QPrinter | None:
    """The printer to print on: the preset one, or the one chosen in the system dialog
    (shown above the window that asked); None when the dialog was cancelled."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(title)
    if preset is not None:
        if preset.output_file:
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(preset.output_file)
        elif preset.printer_name:
            if QPrinterInfo.printerInfo(preset.printer_name).isNull():
                raise OSError(f"there is no printer named {preset.printer_name}")
            printer.setPrinterName(preset.printer_name)
        printer.setCopyCount(preset.copies)
        return printer
    dialog = QPrintDialog(printer)
    dialog.setWindowTitle(f"Print {title}")
    dialog.setMinMax(1, max(pages, 1))
    _above(dialog, parent_window)
    return printer if dialog.exec() == QDialog.DialogCode.Accepted else None


def _above(dialog: QDialog, parent_window: int | None) -> None:
    # The dialog belongs to another process's window: name it as the transient parent, so
    # the window manager keeps the dialog above it and centred on it.
    if parent_window is None or QApplication.platformName() not in _FOREIGN_PARENTS:
        return
    foreign = QWindow.fromWinId(parent_window)
    dialog.winId()  # creates the dialog's native window, to set its parent on
    handle = dialog.windowHandle()
    if foreign is not None and handle is not None:
        handle.setTransientParent(foreign)


def destination(printer: QPrinter) -> str:
    """Where a configured printer sends its pages, in the words the Documents tab shows."""
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and printer.outputFileName():
        return f"PDF file {printer.outputFileName()}"
    return f"printer {printer.printerName() or 'default'}"


def print_pdf(pdf: bytes, printer: QPrinter) -> int:
    """Print the PDF's pages (or the range chosen in the dialog); returns the pages printed."""
    owner = QObject()
    loaded = LoadedPdf(pdf, owner)
    count = loaded.pages
    if count < 1:
        raise OSError("its pages could not be read for the printer")
    first, last = 1, count
    if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
        first, last = printer.fromPage(), min(printer.toPage() or count, count)
    dpi = min(printer.resolution(), MAX_PRINT_DPI)
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("the printer could not be opened")
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
