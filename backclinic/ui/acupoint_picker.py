"""Choosing acupoints from the catalogue: the one picker the session form and the plan wizard
both use.

A list of the chosen points, and below it an editable box that completes on any part of a
point's code, name or region, with Add and Remove. A point typed by its code (in any case)
wins over the last highlighted item. A refused point (not in the catalogue, already listed,
or ruled out by the caller's ``refusals``) is not added and the reason shows under the box.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backclinic.domain.catalogue import Catalogue
from backclinic.ui.field_errors import ERROR_STYLE

ADDED_BY_CLINICIAN = "Added by the clinician."


class AcupointPicker(QWidget):
    """The chosen points (``codes()``), addable from the catalogue and removable."""

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        refusals: Mapping[str, str] | None = None,
        name: str = "points",
        list_height: int = 90,
        remove_text: str = "Remove point",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._catalogue = catalogue
        self._refusals = dict(refusals or {})
        self.list = QListWidget()
        self.list.setObjectName(name)
        self.list.setFixedHeight(list_height)
        self.picker = QComboBox()
        self.picker.setObjectName(f"{name}_picker")
        self.picker.setEditable(True)
        self.picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self._offer()
        completer = QCompleter(self.picker.model(), self.picker)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.picker.setCompleter(completer)
        self.add_button = QPushButton("Add point")
        self.remove_button = QPushButton(remove_text)
        self.error = QLabel()
        self.error.setObjectName(f"{name}_error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        row = QHBoxLayout()
        row.addWidget(self.picker, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)

    def _offer(self) -> None:
        self.picker.clear()
        for code, point in self._catalogue.acupoints.items():
            # A point the caller rules out is not offered; typed in, it is refused with why.
            if code not in self._refusals:
                self.picker.addItem(f"{code} {point.name} — {point.region}", code)
        self.picker.setCurrentIndex(-1)

    def set_refusals(self, refusals: Mapping[str, str]) -> None:
        """Rule out these points (code → why) from now on: not offered, refused if typed."""
        self._refusals = dict(refusals)
        self._offer()

    def codes(self) -> tuple[str, ...]:
        return tuple(
            self.list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.list.count())
        )

    def set_points(self, points: Mapping[str, str]) -> None:
        """Show exactly these points (code → why), as proposed or recorded: none refused."""
        self.list.clear()
        self._say("")
        for code, why in points.items():
            self._add_item(code, why)

    def add(self, code: str, why: str = ADDED_BY_CLINICIAN) -> bool:
        """Add a catalogue point; False (and the reason shown) when it is refused."""
        if code not in self._catalogue.acupoints:
            self._say(f"{code!r} is not in the acupoint catalogue.")
            return False
        if code in self._refusals:
            self._say(self._refusals[code])
            return False
        if code in self.codes():
            self._say(f"{code} is already listed.")
            return False
        self._say("")
        self._add_item(code, why)
        return True

    def typed_code(self) -> str | None:
        """The point the box names: a typed code first, else the highlighted item's."""
        typed = self.picker.currentText().strip()
        first_word = typed.split(" ")[0].upper()
        if first_word in self._catalogue.acupoints:
            return first_word
        index = self.picker.findText(typed)
        if index >= 0:
            code = self.picker.itemData(index)
            return str(code)
        return typed.upper() or None

    def _add_item(self, code: str, why: str) -> None:
        point = self._catalogue.acupoints.get(code)
        item = QListWidgetItem(self._catalogue.label("acupoints", code) if point else code)
        item.setData(Qt.ItemDataRole.UserRole, code)
        if why:
            item.setToolTip(why)
        self.list.addItem(item)

    def say(self, message: str) -> None:
        """Show ``message`` under the box (a point left out, say); "" hides it."""
        self._say(message)

    def _say(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _on_add_button_clicked(self) -> None:
        code = self.typed_code()
        if code is not None and self.add(code):
            self.picker.setCurrentIndex(-1)
            self.picker.clearEditText()

    def _on_remove_button_clicked(self) -> None:
        row = self.list.currentRow()
        for item in self.list.selectedItems() or ([self.list.item(row)] if row >= 0 else []):
            self.list.takeItem(self.list.row(item))
