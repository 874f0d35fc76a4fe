"""A PDF held in memory as a QtPdf document: what the preview shows and the printer prints.

Shared by the window's preview and the printing child process, so it imports only QtCore
and QtPdf (no services, no print support)."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject
from PySide6.QtPdf import QPdfDocument


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
