"""The Patient-Specific Functional Scale: 3 to 5 activities the patient names, each rated
0 (unable) to 10 (as before the problem); the same activities are re-rated at every
reassessment."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QSpinBox, QWidget

from backclinic.services.assessments import PsfsItem
from backclinic.ui.field_errors import ERROR_STYLE

PSFS_MIN_ITEMS = 3
PSFS_MAX_ITEMS = 5
NOT_RATED = "Not rated"


class PsfsEditor(QWidget):
    """Patient-Specific Functional Scale: 3 to 5 activities, each rated 0 (unable) to 10 (as
    before the problem). Blank rows are left out; ``set_activities`` re-lists the intake's
    activities for re-rating, as the scale asks."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Activity the patient finds hard"), 0, 0)
        grid.addWidget(QLabel("Rating (0 unable – 10 as before)"), 0, 1)
        self.activities: list[QLineEdit] = []
        self.ratings: list[QSpinBox] = []
        for row in range(PSFS_MAX_ITEMS):
            activity = QLineEdit()
            activity.setObjectName(f"psfs_activity_{row}")
            activity.setPlaceholderText(
                "e.g. sitting for an hour" if row < PSFS_MIN_ITEMS else "(optional)"
            )
            activity.setMaxLength(200)
            rating = QSpinBox()
            rating.setObjectName(f"psfs_rating_{row}")
            rating.setRange(-1, 10)
            rating.setSpecialValueText(NOT_RATED)
            rating.setValue(-1)
            grid.addWidget(activity, row + 1, 0)
            grid.addWidget(rating, row + 1, 1)
            activity.textChanged.connect(self._on_activity_text_changed)
            rating.valueChanged.connect(self._on_rating_value_changed)
            self.activities.append(activity)
            self.ratings.append(rating)
        self.summary = QLabel()
        self.summary.setObjectName("psfs_summary")
        grid.addWidget(self.summary, PSFS_MAX_ITEMS + 1, 0, 1, 2)
        self.error = QLabel()
        self.error.setObjectName("psfs_error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        grid.addWidget(self.error, PSFS_MAX_ITEMS + 2, 0, 1, 2)
        self._show_summary()

    def set_activities(self, items: tuple[PsfsItem, ...], *, with_ratings: bool = False) -> None:
        for row, (activity, rating) in enumerate(zip(self.activities, self.ratings, strict=True)):
            item = items[row] if row < len(items) else None
            activity.setText(item.activity if item else "")
            rating.setValue(item.score if item and with_ratings else -1)

    def items(self) -> tuple[PsfsItem, ...]:
        """The filled rows (an activity with a rating), in order."""
        return tuple(
            PsfsItem(activity.text().strip(), rating.value())
            for activity, rating in zip(self.activities, self.ratings, strict=True)
            if activity.text().strip() and rating.value() >= 0
        )

    def mean(self) -> float | None:
        items = self.items()
        if not PSFS_MIN_ITEMS <= len(items) <= PSFS_MAX_ITEMS:
            return None
        return round(sum(item.score for item in items) / len(items), 1)

    def errors(self) -> dict[str, str]:
        """Problems by the service's field names (``psfs``, ``psfs[2].score``); {} if none.

        An editor left entirely blank is no PSFS at all, which is allowed."""
        problems: dict[str, str] = {}
        filled = 0
        for row, (activity, rating) in enumerate(zip(self.activities, self.ratings, strict=True)):
            named, rated = bool(activity.text().strip()), rating.value() >= 0
            if named and not rated:
                problems[f"psfs[{row}].score"] = f"Rate “{activity.text().strip()}” from 0 to 10."
            elif rated and not named:
                problems[f"psfs[{row}].activity"] = "Name the activity that was rated."
            filled += named
        if filled and not PSFS_MIN_ITEMS <= filled <= PSFS_MAX_ITEMS and "psfs" not in problems:
            problems["psfs"] = "The PSFS needs 3 to 5 activities."
        return problems

    def show_errors(self) -> bool:
        """Show the first problem under the editor; True when there was none."""
        problems = self.errors()
        self.error.setText(next(iter(problems.values()), ""))
        self.error.setVisible(bool(problems))
        return not problems

    def _show_summary(self) -> None:
        mean = self.mean()
        self.summary.setText(
            "Mean: not scored (3 to 5 rated activities)" if mean is None else f"Mean: {mean:g}"
        )

    def _on_activity_text_changed(self, _text: str) -> None:
        self._show_summary()
        self.changed.emit()

    def _on_rating_value_changed(self, _value: int) -> None:
        self._show_summary()
        self.changed.emit()
