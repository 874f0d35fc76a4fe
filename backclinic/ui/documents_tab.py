"""A patient's printed documents: draft a new summary to preview and print or save, and
preview, reprint or save a kept one."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.documents import DocumentInfo, DraftDocument
from backclinic.services.errors import ServiceError
from backclinic.services.permissions import Permission, allows
from backclinic.services.use_case import Change
from backclinic.ui.operations import Operations
from backclinic.ui.patient_tab import PatientTab
from backclinic.ui.printing import PrinterChoice
from backclinic.ui.row_table import RowTableModel, row_table_view

if TYPE_CHECKING:
    from backclinic.ui.print_preview import DocumentOutput, PrintPreview


def _load_preview() -> None:
    # QtPdf and its widgets take ~80 ms to load the first time: on a worker, not the window.
    import_module("backclinic.ui.print_preview")


class DocumentsModel(RowTableModel[DocumentInfo]):
    """Printed documents as rows, newest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            [
                ("Printed", lambda d: d.created_at.astimezone().strftime("%Y-%m-%d %H:%M")),
                ("Document", lambda d: d.title),
                ("Clinician", lambda d: d.clinician),
                ("Pages", lambda d: str(d.pages)),
                ("Sent to", lambda d: d.destination or "not recorded"),
            ],
            parent,
        )

    def set_documents(self, documents: list[DocumentInfo]) -> None:
        self.set_rows(documents)

    def document(self, row: int) -> DocumentInfo | None:
        return self.row(row)

    def row_of(self, document_id: int) -> int | None:
        return next((i for i, d in enumerate(self.rows()) if d.id == document_id), None)

    def extra(self, item: DocumentInfo, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.kind_label
        if role == Qt.ItemDataRole.TextAlignmentRole and self.columns[column][0] == "Pages":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class DocumentsTab(PatientTab):
    """The workspace's "Documents" tab.

    Rendering a new document runs off the GUI thread (``tasks``; tests make it synchronous)
    and opens its preview; ``document_printed(id)`` is emitted once the preview has sent it
    to a printer or a file and it is listed.
    """

    # A changed MRN changes the suggested file name.
    shows = frozenset({Change.DOCUMENTS, Change.PATIENTS})
    reads_what = "The documents"

    document_printed = Signal(int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(services, actor, patient_id, parent, operations=operations)
        self._documents = services.documents
        self.tasks = self._operations.tasks
        # A printer to print on without the system dialog (None: the dialog asks).
        self.printer: PrinterChoice | None = None
        self.preview: PrintPreview | None = None
        self._mrn = ""
        self.model = DocumentsModel(self)
        self.table = row_table_view(self.model)
        self.plan_button = QPushButton("Plan summary…")
        self.plan_button.setToolTip("Preview the plan summary, then print it or save it as PDF")
        self.discharge_button = QPushButton("Discharge summary…")
        self.discharge_button.setToolTip(
            "Preview the discharge summary, then print it or save it as PDF"
        )
        self.preview_button = QPushButton("Preview")
        self.reprint_button = QPushButton("Reprint…")
        self.save_button = QPushButton("Save as PDF…")
        may_print = allows(actor, Permission.PRINT)
        for button in (self.plan_button, self.discharge_button):
            button.setVisible(may_print)
        buttons = QHBoxLayout()
        for button in (self.plan_button, self.discharge_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.preview_button, self.reprint_button, self.save_button):
            buttons.addWidget(button)
        self.empty_label = QLabel(
            "No documents printed yet. A printed plan or discharge summary is kept here "
            "exactly as it was handed over, to reprint."
        )
        self.empty_label.setObjectName("empty_state")
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid);")
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table, 1)
        self.plan_button.clicked.connect(self._on_plan_button_clicked)
        self.discharge_button.clicked.connect(self._on_discharge_button_clicked)
        self.preview_button.clicked.connect(self._on_preview_button_clicked)
        self.reprint_button.clicked.connect(self._on_reprint_button_clicked)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.empty_label.hide()
        self._on_table_selection_changed()
        self.reload()

    def reload(self) -> None:
        documents, patients = self._documents, self._services.patients
        patient_id, actor = self._patient_id, self._actor

        def read() -> tuple[list[DocumentInfo], str]:
            return documents.documents(actor, patient_id), patients.get(actor, patient_id).mrn

        self._read(read, self._show_documents)

    def _show_documents(self, read: tuple[list[DocumentInfo], str]) -> None:
        documents, self._mrn = read
        self.model.set_documents(documents)
        self.empty_label.setVisible(not documents)
        self._on_table_selection_changed()

    def selected(self) -> DocumentInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.document(rows[0].row()) if rows else None

    def select(self, document_id: int) -> None:
        row = self.model.row_of(document_id)
        if row is not None:
            self.table.selectRow(row)

    def print_plan_summary(self) -> None:
        self._print(self._documents.draft_plan_summary)

    def print_discharge_summary(self) -> None:
        """Also what discharging a patient offers once the plan has ended."""
        self._print(self._documents.draft_discharge_summary)

    def _print(self, make: Callable[[Actor, int], DraftDocument]) -> None:
        self.plan_button.setEnabled(False)
        self.discharge_button.setEnabled(False)
        self.setCursor(Qt.CursorShape.BusyCursor)
        # The preview's modules load while the document renders (a no-op once loaded).
        self._operations.tasks.run(_load_preview, on_result=lambda _none: None)
        self._operations.submit(
            make,
            self._actor,
            self._patient_id,
            on_result=self._on_document_printed,
            on_error=self._on_print_failed,
            owner=self,
        )

    def _on_document_printed(self, draft: DraftDocument) -> None:
        from backclinic.ui.print_preview import DocumentOutput

        self.unsetCursor()
        self.plan_button.setEnabled(True)
        self.discharge_button.setEnabled(True)
        self._open_preview(
            DocumentOutput(
                self._documents,
                self._actor,
                title=draft.title,
                tasks=self.tasks,
                draft=draft,
                printer=self.printer,
                operations=self._operations,
            ),
            draft.title,
        )

    def _on_print_failed(self, error: Exception) -> None:
        self.unsetCursor()
        self.plan_button.setEnabled(True)
        self.discharge_button.setEnabled(True)
        if not isinstance(error, ServiceError):
            raise error
        QMessageBox.warning(self, "Not printed", str(error))

    def _output(self, document: DocumentInfo) -> DocumentOutput:
        # QtPdf loads when a document is first previewed or printed, not at start-up.
        from backclinic.ui.print_preview import DocumentOutput

        return DocumentOutput(
            self._documents,
            self._actor,
            title=document.title,
            tasks=self.tasks,
            document_id=document.id,
            pages=document.pages,
            printer=self.printer,
        )

    def _suggested_name(self, title: str) -> str:
        return f"{self._mrn} {title}.pdf".replace("/", "-").strip()

    def _open_preview(self, output: DocumentOutput, title: str) -> None:
        if self.preview is not None:
            self.preview.close()
        from backclinic.ui.print_preview import PrintPreview

        self.preview = PrintPreview(output, suggested_name=self._suggested_name(title), parent=self)
        self.preview.destroyed.connect(self._on_preview_destroyed)
        self.preview.sent.connect(lambda _where: self._on_preview_sent(output))
        self.preview.show()

    def _on_preview_sent(self, output: DocumentOutput) -> None:
        kept = output.document_id
        if kept is None:
            return

        def listed() -> None:
            self.select(kept)
            self.document_printed.emit(kept)

        # The keep's broadcast reloads the list; the document is selected once it is listed.
        self._after_reload(listed)

    def _on_preview_destroyed(self, *_args: object) -> None:
        self.preview = None

    def _on_table_selection_changed(self, *_args: object) -> None:
        chosen = self.selected() is not None
        may_print = allows(self._actor, Permission.PRINT)
        self.preview_button.setEnabled(chosen)
        self.reprint_button.setEnabled(chosen and may_print)
        self.save_button.setEnabled(chosen and may_print)

    def _on_plan_button_clicked(self) -> None:
        self.print_plan_summary()

    def _on_discharge_button_clicked(self) -> None:
        self.print_discharge_summary()

    def _on_preview_button_clicked(self) -> None:
        document = self.selected()
        if document is not None:
            self._open_preview(self._output(document), document.title)

    def _on_table_double_clicked(self, _index: QModelIndex) -> None:
        self._on_preview_button_clicked()

    def _on_reprint_button_clicked(self) -> None:
        document = self.selected()
        if document is not None:
            self.reprint_button.setEnabled(False)
            self._output(document).print_with_dialog(self, self._on_reprinted)

    def _on_reprinted(self, _sent: bool) -> None:
        self._on_table_selection_changed()

    def _on_save_button_clicked(self) -> None:
        document = self.selected()
        if document is not None:
            self._output(document).save_as_pdf(self, self._suggested_name(document.title))
