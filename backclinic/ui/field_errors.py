"""Form rows that carry their own error label, so a rule broken shows next to its field."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

ERROR_STYLE = "color: #b00020;"


class FieldErrors:
    """The error labels of one form, in form order, keyed by the service's field names.

    Each field gets a red QLabel under it named "<field>_error"; showing errors focuses the
    first bad field in the order the rows were added, which is the order a person reads.
    """

    def __init__(self, form: QFormLayout) -> None:
        self._form = form
        self._rows: dict[str, tuple[QWidget, QLabel]] = {}

    def add_row(self, field: str, label: str, editor: QWidget) -> QLabel:
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(editor)
        error = QLabel()
        error.setObjectName(f"{field}_error")
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.hide()
        column.addWidget(error)
        editor.setObjectName(field)
        self._form.addRow(label, holder)
        self._rows[field] = (editor, error)
        return error

    def label(self, field: str) -> QLabel:
        return self._rows[field][1]

    def clear(self) -> None:
        for _editor, error in self._rows.values():
            error.clear()
            error.hide()

    def show(self, by_field: Mapping[str, str]) -> dict[str, str]:
        """Show each message under its field and focus the first; returns the unplaced ones."""
        self.clear()
        first: QWidget | None = None
        for field, (editor, error) in self._rows.items():
            message = by_field.get(field)
            if message:
                error.setText(message)
                error.show()
                first = first or editor
        if first is not None:
            first.setFocus()
        return {field: text for field, text in by_field.items() if field not in self._rows}
