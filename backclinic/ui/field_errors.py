"""Form rows that carry their own error label, so a rule broken shows next to its field."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QFormLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

ERROR_STYLE = "color: #b00020;"


class FieldErrors:
    """The error labels of one form, in form order, keyed by the service's field names.

    Each field gets a red QLabel under it named "<field>_error"; showing errors focuses the
    first bad field in the order the rows were added, which is the order a person reads.
    """

    def __init__(self, form: QFormLayout) -> None:
        self._form = form
        self._rows: dict[str, tuple[QWidget, QLabel]] = {}
        self._holders: dict[str, QWidget] = {}

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
        self._holders[field] = holder
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
        first: str | None = None
        for field, (_editor, error) in self._rows.items():
            message = by_field.get(field)
            if message:
                error.setText(message)
                error.show()
                first = first or field
        if first is not None:
            bring_into_view(self._holders[first])
            self._rows[first][0].setFocus()
        return {field: text for field, text in by_field.items() if field not in self._rows}


def bring_into_view(widget: QWidget) -> None:
    """Scroll every scroll area holding ``widget`` until it shows: an error below the fold
    looks, to the person pressing Save, like a button that does nothing."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            content = parent.widget()
            layout = content.layout() if content is not None else None
            if layout is not None:
                # The error label was hidden until now: lay out again before measuring.
                layout.activate()
            parent.ensureWidgetVisible(widget)
        parent = parent.parentWidget()
