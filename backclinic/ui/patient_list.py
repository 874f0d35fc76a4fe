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
from backclinic.services.patient_status import PatientStatus
from backclinic.services.patients import PatientSummary, SearchPage, age_on
from backclinic.services.use_case import Change
from backclinic.ui.operations import Changes, Operations
from backclinic.ui.tasks import TaskRunner

PAGE_SIZE = 100
# Empty lists say what to do next.
NO_PATIENTS_YET = "No patients registered yet: add the first with Patient › New patient (Ctrl+N)."
NO_MATCH = "No patients match: check the spelling, or search by MRN or date of birth."
SEARCH_DEBOUNCE_MS = 150
ModelIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class ListedPatient:
    """A row of the list: the patient and where they stand today."""

    patient: PatientSummary
    status: PatientStatus | None


@dataclass(frozen=True)
class ReadPage:
    page: SearchPage
    statuses: dict[int, PatientStatus]
    today: dt.date
    # Every match over all pages; read with the first page only.
    total: int | None


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[ListedPatient, dt.date], object]
    alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft


PLAN_ENDINGS = {
    "discharged": "Discharged",
    "completed": "Plan completed",
    "cancelled": "Plan cancelled",
}


def status_words(status: PatientStatus | None) -> str:
    """One short phrase a receptionist can scan down a column."""
    if status is None:
        return ""
    if status.archived:
        return "Archived"
    if status.plan == "active":
        if status.plan_starts is not None:
            return f"Plan starts {status.plan_starts.isoformat()}"
        if status.phase_number is None:
            return "Active plan"
        return f"Phase {status.phase_number}: {status.phase_name}"
    if status.plan in PLAN_ENDINGS:
        ended = f" {status.ended_on.isoformat()}" if status.ended_on else ""
        return f"{PLAN_ENDINGS[status.plan]}{ended}"
    return "No plan yet"


def next_visit_words(status: PatientStatus | None) -> str:
    if status is None or status.next_visit is None:
        return ""
    return status.next_visit.isoformat()


COLUMNS = (
    Column("Family name", lambda p, _today: p.patient.family_name),
    Column("Given name", lambda p, _today: p.patient.given_name),
    Column("Date of birth", lambda p, _today: p.patient.date_of_birth.isoformat()),
    Column(
        "Age",
        lambda p, today: age_on(p.patient.date_of_birth, today),
        Qt.AlignmentFlag.AlignRight,
    ),
    Column("MRN", lambda p, _today: p.patient.mrn),
    Column("Status", lambda p, _today: status_words(p.status)),
    Column("Next visit", lambda p, _today: next_visit_words(p.status)),
)


class PatientTableModel(QAbstractTableModel):
    """Patients matching a search, fetched a page at a time as the view scrolls.

    Each page is read through ``tasks`` (off the GUI thread in the window; synchronous when
    none is given); a search typed over an unfinished one wins, and the older result is
    dropped. A patient can match on two terms (family and given name both starting "le"), so
    a later page may repeat someone already shown; those repeats are skipped.
    """

    searched = Signal()

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QObject | None = None,
        *,
        tasks: TaskRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._tasks = tasks or TaskRunner(self, synchronous=True)
        self._rows: list[ListedPatient] = []
        self._seen: set[int] = set()
        self._cursor: tuple[object, ...] | None = None
        self._text = ""
        self._include_archived = False
        self._today = services.patients.today()
        self._generation = 0
        self._fetching = False
        self._total: int | None = None
        self.page_size = PAGE_SIZE

    @property
    def busy(self) -> bool:
        """True while a search or a further page is being read."""
        return self._fetching

    def search(self, text: str, *, include_archived: bool = False) -> None:
        self._generation += 1
        generation = self._generation
        self._text = text
        self._include_archived = include_archived
        self._fetching = True
        read = self._reader(None)
        self._tasks.run(
            read,
            on_result=lambda result: self._on_search_read(generation, result),
            on_error=lambda error: self._on_read_failed(generation, error),
            owner=self,
        )

    def reload(self) -> None:
        self.search(self._text, include_archived=self._include_archived)

    def _reader(self, after: tuple[object, ...] | None) -> Callable[[], ReadPage]:
        # Everything the worker needs is copied now: it must not read the model later.
        patients, text, actor = self._services.patients, self._text, self._actor
        limit, include_archived = self.page_size, self._include_archived

        def read() -> ReadPage:
            page = patients.search(
                actor, text, after=after, limit=limit, include_archived=include_archived
            )
            statuses = patients.statuses(actor, [row.id for row in page.rows])
            # Counted only when there is more than this page: a full first page is its count.
            total = None
            if after is None:
                total = (
                    patients.count(actor, text=text, include_archived=include_archived)
                    if page.cursor is not None
                    else len({row.id for row in page.rows})
                )
            return ReadPage(page, statuses, patients.today(), total)

        return read

    def _on_search_read(self, generation: int, result: ReadPage) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self._fetching = False
        self._today = result.today
        self._total = result.total
        self._rows = []
        self._seen = set()
        self._cursor = result.page.cursor
        self._rows.extend(self._fresh(result))
        self.endResetModel()
        self.searched.emit()

    def _on_more_read(self, generation: int, result: ReadPage) -> None:
        if generation != self._generation:
            return
        self._fetching = False
        self._cursor = result.page.cursor
        fresh = self._fresh(result)
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()

    def _on_read_failed(self, generation: int, error: Exception) -> None:
        if generation == self._generation:
            self._fetching = False
            raise error

    @property
    def query(self) -> str:
        return self._text

    @property
    def total(self) -> int | None:
        """Every patient the current search matches, over all its pages."""
        return self._total

    def patient_at(self, row: int) -> PatientSummary:
        return self._rows[row].patient

    def status_at(self, row: int) -> PatientStatus | None:
        return self._rows[row].status

    def row_of(self, patient_id: int) -> int | None:
        for row, listed in enumerate(self._rows):
            if listed.patient.id == patient_id:
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
            return self._rows[index.row()].patient.id
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
        return not parent.isValid() and not self._fetching and self._cursor is not None

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._fetching or self._cursor is None:
            return
        generation = self._generation
        self._fetching = True
        self._tasks.run(
            self._reader(self._cursor),
            on_result=lambda result: self._on_more_read(generation, result),
            on_error=lambda error: self._on_read_failed(generation, error),
            owner=self,
        )

    def _fresh(self, result: ReadPage) -> list[ListedPatient]:
        fresh = []
        for patient in result.page.rows:
            if patient.id not in self._seen:
                self._seen.add(patient.id)
                fresh.append(ListedPatient(patient, result.statuses.get(patient.id)))
        return fresh


class PatientListView(QWidget):
    """Search box over the registry table; Down moves into the table, Enter opens.

    Searches run off the GUI thread; while one runs the count line says so, and a Down or
    Enter pressed meanwhile acts on its result when it arrives.
    """

    patient_opened = Signal(int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self._operations = operations or Operations(self)
        self.model = PatientTableModel(services, actor, self, tasks=self._operations.tasks)
        self._when_searched: Callable[[], None] | None = None

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
        for column, width in enumerate((170, 150, 100, 50, 110, 270)):
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
        self._operations.changed.connect(self._on_operations_changed)

        self.search("")

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def reload(self) -> None:
        self._debounce.stop()
        self.search(self.search_edit.text())

    def search(self, text: str) -> None:
        self.count_label.setText("Searching…")
        self.model.search(text, include_archived=self.include_archived.isChecked())

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

    def _when_search_done(self, action: Callable[[], None]) -> bool:
        """Defer ``action`` until the pending search has its result; True if deferred."""
        if self._debounce.isActive():
            self.reload()
        if not self.model.busy:
            return False
        self._when_searched = action
        return True

    def _enter_table(self) -> None:
        if self._when_search_done(self._enter_table):
            return
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
        if self._when_search_done(self._on_search_edit_return_pressed):
            return
        if self.model.rowCount() == 0:
            return
        if not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        self._open_current()

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        self.patient_opened.emit(self.model.patient_at(index.row()).id)

    def _on_operations_changed(self, changes: Changes) -> None:
        if changes.touches(Change.PATIENTS):
            self.reload()

    def _on_include_archived_toggled(self, _checked: bool) -> None:
        self.reload()

    def _on_debounce_timeout(self) -> None:
        self.reload()

    def _on_model_rows_inserted(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        self._show_count()

    def _on_model_searched(self) -> None:
        self._show_count()
        action, self._when_searched = self._when_searched, None
        if action is not None:
            action()

    def _no_match_text(self) -> str:
        if self.include_archived.isChecked():
            return NO_MATCH
        return f"{NO_MATCH[:-1]}, or tick Include archived."

    def _show_count(self) -> None:
        shown = self.model.rowCount()
        if shown == 0:
            self.count_label.setText(
                self._no_match_text() if self.model.query.strip() else NO_PATIENTS_YET
            )
            return
        total = self.model.total if self.model.total is not None else shown
        counted = f"{total:,} patient{'s' if total != 1 else ''}"
        if shown < total:
            self.count_label.setText(f"Showing {shown:,} of {counted}; scroll down for more.")
        else:
            self.count_label.setText(counted)
