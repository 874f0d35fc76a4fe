"""The safety parts of the intake form, embedded by ``intake_form.py``: acupuncture
precautions screened like red flags (not asked / absent / present, with the weeks of a
pregnancy), neurological signs in the leg, the derived "age over 50 with new pain" with
its rule-out reason, and the reassessment's re-screen pre-filled from the last answers,
each one confirmed.

The rules come from the services (``SafetyService.age_flag``), never from the domain's
rule modules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backclinic.services.assessments import FlagAnswer
from backclinic.services.bundle import Services

# Button ids of each item's three answers, in the order they are shown.
STATES = (FlagAnswer.NOT_ASKED, FlagAnswer.ABSENT, FlagAnswer.PRESENT)
PREFILLED_STYLE = "color: #8a5a00;"


def _day(day: dt.date | None) -> str:
    return f"{day.day} {day:%b} {day.year}" if day else "an earlier screen"


class ConfirmedAnswers:
    """Answers pre-filled from the last screen wait for the clinician to confirm each one
    (by clicking any of its answers, the same one included)."""

    def __init__(self) -> None:
        self.waiting: dict[str, str] = {}

    def prefill(self, code: str, label: QLabel, words: str, when: dt.date | None) -> None:
        self.waiting[code] = words
        label.setToolTip(f"Last answer, {_day(when)}: confirm it with the patient today.")
        label.setStyleSheet(PREFILLED_STYLE)
        label.setText(f"{words} (last answer {_day(when)}: confirm)")

    def confirm(self, code: str, label: QLabel) -> None:
        words = self.waiting.pop(code, None)
        if words is not None:
            label.setText(words)
            label.setStyleSheet("")
            label.setToolTip("")

    def unconfirmed(self) -> tuple[str, ...]:
        return tuple(self.waiting.values())


class PrecautionScreen(QWidget):
    """One row per precaution with its three answers; the weeks of pregnancy when it is
    present. ``boxes[code]`` is the "present" answer, as the checkboxes before it were."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        catalogue, protocol = services.catalogue, services.protocol
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        hint = QLabel("Ask every precaution. “Not asked” is not “absent”: a plan needs them all.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.mark_all_absent = QPushButton("Mark all not present")
        self.mark_all_absent.setObjectName("mark_all_precautions_absent")
        layout.addWidget(self.mark_all_absent)
        grid = QGridLayout()
        grid.setColumnStretch(0, 1)
        layout.addLayout(grid)
        words = [catalogue.label("flag_answers", str(state)) for state in STATES]
        self.groups: dict[str, QButtonGroup] = {}
        self.boxes: dict[str, QRadioButton] = {}
        self.labels: dict[str, QLabel] = {}
        self.confirmations = ConfirmedAnswers()
        for row, (code, text) in enumerate(catalogue.codes["precautions"].items()):
            label = QLabel(text)
            rule = protocol.precautions.get(code)
            if rule is not None:
                label.setToolTip(rule.needling)
            grid.addWidget(label, row, 0)
            self.labels[code] = label
            group = QButtonGroup(self)
            for column, (state, said) in enumerate(zip(STATES, words, strict=True)):
                button = QRadioButton(said)
                button.setObjectName(f"precaution_{code}_{state}")
                group.addButton(button, column)
                grid.addWidget(button, row, column + 1)
            group.button(0).setChecked(True)
            group.idClicked.connect(lambda _id, code=code: self._confirm(code))
            group.idToggled.connect(self._on_answer_toggled)
            self.groups[code] = group
            self.boxes[code] = group.button(STATES.index(FlagAnswer.PRESENT))  # type: ignore[assignment]
        self.pregnancy_weeks = QSpinBox()
        self.pregnancy_weeks.setObjectName("pregnancy_weeks")
        self.pregnancy_weeks.setRange(-1, 42)
        self.pregnancy_weeks.setSpecialValueText("Not recorded")
        self.pregnancy_weeks.setSuffix(" weeks of pregnancy today")
        self.pregnancy_weeks.setValue(-1)
        self.mark_all_absent.clicked.connect(self._on_mark_all_absent_clicked)
        self._on_answer_toggled(0, True)

    def answer(self, code: str) -> FlagAnswer:
        return STATES[self.groups[code].checkedId()]

    def set_answer(self, code: str, answer: FlagAnswer) -> None:
        self.groups[code].button(STATES.index(answer)).setChecked(True)

    def checked(self) -> tuple[str, ...]:
        return tuple(c for c in self.groups if self.answer(c) == FlagAnswer.PRESENT)

    def not_asked(self) -> tuple[str, ...]:
        return tuple(c for c in self.groups if self.answer(c) == FlagAnswer.NOT_ASKED)

    def set_checked(self, codes: Iterable[str]) -> None:
        present = set(codes)
        for code in self.groups:
            self.set_answer(code, FlagAnswer.PRESENT if code in present else FlagAnswer.ABSENT)

    def weeks(self) -> int | None:
        if "pregnancy" not in self.checked() or self.pregnancy_weeks.value() < 0:
            return None
        return self.pregnancy_weeks.value()

    def prefill(
        self, answers: Mapping[str, tuple[FlagAnswer, dt.date | None]], weeks: int | None
    ) -> None:
        """The last screen's answers, each waiting for the clinician's confirmation."""
        for code, (answer, when) in answers.items():
            if code not in self.groups or answer == FlagAnswer.NOT_ASKED:
                continue
            self.set_answer(code, answer)
            self.confirmations.prefill(code, self.labels[code], self._services_label(code), when)
        if weeks is not None:
            self.pregnancy_weeks.setValue(weeks)

    def _services_label(self, code: str) -> str:
        return self.labels[code].text().split(" (last answer")[0]

    def _confirm(self, code: str) -> None:
        self.confirmations.confirm(code, self.labels[code])

    def _on_mark_all_absent_clicked(self) -> None:
        for code in self.groups:
            self.set_answer(code, FlagAnswer.ABSENT)
            self._confirm(code)

    def _on_answer_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self.pregnancy_weeks.setVisible("pregnancy" in self.checked())


class AgeFlagRow(QWidget):
    """The derived "age over 50 with new pain", shown when it applies, with the reason to
    rule it out (confirming it is answering the red flag "present")."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.flag = QLabel()
        self.flag.setObjectName("age_flag")
        self.flag.setWordWrap(True)
        self.flag.setStyleSheet("background: #fff4ce; padding: 4px;")
        self.ruled_out = QLineEdit()
        self.ruled_out.setPlaceholderText(
            "To rule it out, say why: e.g. 'same pain as in 2019, imaging then normal'"
        )
        layout.addWidget(self.flag)
        layout.addWidget(self.ruled_out)
        self.applies = False

    def update_flag(
        self,
        date_of_birth: dt.date | None,
        assessed_on: dt.date,
        onset_weeks: float | None,
        recurrent: bool | None,
    ) -> None:
        text = self._services.safety.age_flag(date_of_birth, assessed_on, onset_weeks, recurrent)
        self.applies = text is not None
        self.flag.setText(
            f"{text} Confirm it (answer “present” above; a clearance is then needed) or rule "
            "it out with a reason."
            if text
            else ""
        )
        self.setVisible(self.applies)

    def reason(self) -> str | None:
        return (self.ruled_out.text().strip() or None) if self.applies else None


def neurological_signs_combo() -> QComboBox:
    combo = QComboBox()
    combo.setObjectName("neurological_signs")
    combo.addItem("Not recorded", None)
    combo.addItem("Yes: numbness, weakness or reflex change", True)
    combo.addItem("No", False)
    return combo
