"""The patient registry: a paged table model and a search-as-you-type view over it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.patients import PatientSummary, age_on

PAGE_SIZE = 100
SEARCH_DEBOUNCE_MS = 150
ModelIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[PatientSummary, dt.date], object]
    alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft


COLUMNS = (
    Column("Family name", lambda p, _today: p.family_name),
    Column("Given name", lambda p, _today: p.given_name),
    Column("Date of birth", lambda p, _today: p.date_of_birth.isoformat()),
    Column("Age", lambda p, today: age_on(p.date_of_birth, today), Qt.AlignmentFlag.AlignRight),
    Column("MRN", lambda p, _today: p.mrn),
)


class PatientTableModel(QAbstractTableModel):
    """Patients matching a search, fetched a page at a time as the view scrolls.

    A patient can match on two terms (family and given name both starting "le"), so a later
    page may repeat someone already shown; those repeats are skipped.
    """

    searched = Signal()

    def __init__(self, services: Services, actor: Actor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._rows: list[PatientSummary] = []
        self._seen: set[int] = set()
        self._cursor: tuple[object, ...] | None = None
        self._text = ""
        self._include_archived = False
        self._today = services.patients.today()
        self.page_size = PAGE_SIZE

    def search(self, text: str, *, include_archived: bool = False) -> None:
        self.beginResetModel()
        self._text = text
        self._include_archived = include_archived
        self._today = self._services.patients.today()
        self._rows = []
        self._seen = set()
        self._cursor = None
        self._append(self._page(None))
        self.endResetModel()
        self.searched.emit()

    def refresh(self) -> None:
        self.search(self._text, include_archived=self._include_archived)

    @property
    def query(self) -> str:
        return self._text

    def patient_at(self, row: int) -> PatientSummary:
        return self._rows[row]

    def row_of(self, patient_id: int) -> int | None:
        for row, patient in enumerate(self._rows):
            if patient.id == patient_id:
                return row
        return None

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = column.value(self._rows[index.row()], self._today)
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(column.alignment | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return self._rows[index.row()].id
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section].header
        return None

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._cursor is not None

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._cursor is None:
            return
        fresh = self._fresh(self._page(self._cursor))
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()

    def _page(self, after: tuple[object, ...] | None) -> tuple[PatientSummary, ...]:
        page = self._services.patients.search(
            self._actor,
            self._text,
            after=after,
            limit=self.page_size,
            include_archived=self._include_archived,
        )
        self._cursor = page.cursor
        return page.rows

    def _fresh(self, rows: tuple[PatientSummary, ...]) -> list[PatientSummary]:
        fresh = []
        for patient in rows:
            if patient.id not in self._seen:
                self._seen.add(patient.id)
                fresh.append(patient)
        return fresh

    def _append(self, rows: tuple[PatientSummary, ...]) -> None:
        self._rows.extend(self._fresh(rows))


class PatientListView(QWidget):
    """Search box over the registry table; Down moves into the table, Enter opens."""

    patient_opened = Signal(int)

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PatientTableModel(services, actor, self)

        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("patient_search")
        self.search_edit.setPlaceholderText("Search by name, MRN or date of birth")
        self.search_edit.setClearButtonEnabled(True)
        self.include_archived = QCheckBox("Include archived")
        self.count_label = QLabel()
        self.count_label.setObjectName("patient_count")

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        # Dense rows: a registry is scanned, and more names on screen means less scrolling.
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((180, 160, 110, 60)):
            self.table.setColumnWidth(column, width)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)

        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.include_archived)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

        self.search_edit.textChanged.connect(self._on_search_edit_text_changed)
        self.search_edit.returnPressed.connect(self._on_search_edit_return_pressed)
        self.search_edit.installEventFilter(self)
        self.table.installEventFilter(self)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.include_archived.toggled.connect(self._on_include_archived_toggled)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.model.searched.connect(self._on_model_searched)
        self.model.rowsInserted.connect(self._on_model_rows_inserted)

        self.model.search("")

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def refresh(self) -> None:
        self._debounce.stop()
        self.model.search(
            self.search_edit.text(), include_archived=self.include_archived.isChecked()
        )

    def current_patient_id(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.patient_at(index.row()).id

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if watched is self.search_edit and key == Qt.Key.Key_Down:
                self._enter_table()
                return True
            if watched is self.table and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._open_current()
                return True
            if (
                watched is self.table
                and key == Qt.Key.Key_Up
                and self.table.currentIndex().row() <= 0
            ):
                self.search_edit.setFocus()
                return True
        return super().eventFilter(watched, event)

    def _enter_table(self) -> None:
        if self._debounce.isActive():
            self.refresh()
        if self.model.rowCount() == 0:
            return
        self.table.setFocus()
        if not self.table.currentIndex().isValid():
            self.table.selectRow(0)

    def _open_current(self) -> None:
        patient_id = self.current_patient_id()
        if patient_id is not None:
            self.patient_opened.emit(patient_id)

    def _on_search_edit_text_changed(self, _text: str) -> None:
        self._debounce.start()

    def _on_search_edit_return_pressed(self) -> None:
        if self._debounce.isActive():
            self.refresh()
        if self.model.rowCount() == 0:
            return
        if not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        self._open_current()

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        self.patient_opened.emit(self.model.patient_at(index.row()).id)

    def _on_include_archived_toggled(self, _checked: bool) -> None:
        self.refresh()

    def _on_debounce_timeout(self) -> None:
        self.refresh()

    def _on_model_rows_inserted(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        self._on_model_searched()

    def _on_model_searched(self) -> None:
        shown = self.model.rowCount()
        if shown == 0:
            self.count_label.setText(
                "No patients match." if self.model.query.strip() else "No patients registered yet."
            )
            return
        more = "+" if self.model.canFetchMore() else ""
        self.count_label.setText(f"{shown}{more} patient{'s' if shown != 1 else ''}")
