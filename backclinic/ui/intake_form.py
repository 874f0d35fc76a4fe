"""The intake (and reassessment) form, in sections the clinician moves between: history,
red flags, precautions, pain, questionnaires and goals, each showing how complete it is,
with live scores from the service. The same form shows a saved assessment read-only, and
amends it (with a reason; the original is kept) or marks it entered in error."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping
from typing import cast

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from backclinic.domain.intake import Intake
from backclinic.domain.questionnaire import ODI_FILE, STARTBACK_FILE, load_questionnaire
from backclinic.services.assessments import (
    Assessment,
    AssessmentInput,
    FlagAnswer,
    LiveScores,
    ScreeningOutcome,
    validate_assessment,
)
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import NotFound, ServiceError, ValidationFailed
from backclinic.ui.field_errors import ERROR_STYLE, FieldErrors, bring_into_view
from backclinic.ui.local_drafts import DraftKeeper, DraftKey, watch_edits
from backclinic.ui.operations import Operations
from backclinic.ui.psfs_editor import PsfsEditor
from backclinic.ui.unsaved_changes import discard_confirmed, in_use
from backclinic.ui.unusual_input import unusual_confirmed

NOT_RECORDED = "Not recorded"
UNKNOWN = "Unknown"
# Button ids of each red-flag item's three answers, in the order they are shown.
FLAG_STATES = (FlagAnswer.NOT_ASKED, FlagAnswer.ABSENT, FlagAnswer.PRESENT)
SKIPPED_ID = 99
SECTION_LIST_WIDTH = 190
FORM_WIDTH = 1120
FORM_HEIGHT = 660
MAX_FORM_HEIGHT = 720
SECTION_STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
_INDEXED = re.compile(r"^(.*)\[\d+\]$")


def yes_no_unknown() -> QComboBox:
    combo = QComboBox()
    combo.addItem(UNKNOWN, None)
    combo.addItem("Yes", True)
    combo.addItem("No", False)
    return combo


def score_spin(maximum: int) -> QSpinBox:
    """0..maximum with a "not recorded" value below zero: blank is not zero."""
    spin = QSpinBox()
    spin.setRange(-1, maximum)
    spin.setSpecialValueText(NOT_RECORDED)
    spin.setValue(-1)
    return spin


def spin_value(spin: QSpinBox) -> int | None:
    return None if spin.value() < 0 else spin.value()


class ScoreField(QWidget):
    """A 0..maximum score typed as text: what was typed stays, and a value out of range
    shows its rule beside the field instead of being coerced (a spin box turns 15 into 1).
    Blank is "not recorded", never zero."""

    valueChanged = Signal(int)

    def __init__(self, maximum: int, rule: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._maximum = maximum
        self.rule = rule
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(NOT_RECORDED)
        self.edit.setMaxLength(4)
        self.edit.setFixedWidth(110)
        self.rule_label = QLabel(rule)
        self.rule_label.setObjectName("score_rule")
        self.rule_label.setStyleSheet(ERROR_STYLE)
        self.rule_label.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit)
        row.addWidget(self.rule_label, 1)
        # With the rule hidden, the field keeps to the left rather than floating mid-row.
        row.addStretch(0)
        row.setAlignment(self.edit, Qt.AlignmentFlag.AlignLeft)
        self.setFocusProxy(self.edit)
        self.edit.textChanged.connect(self._on_edit_text_changed)

    def value(self) -> int:
        """The score, or -1 when blank or not a score (see ``problem``)."""
        text = self.edit.text().strip()
        if not text.isdigit() or int(text) > self._maximum:
            return -1
        return int(text)

    def setValue(self, value: int) -> None:
        self.edit.setText("" if value < 0 else str(value))

    def problem(self) -> str | None:
        """The rule when what was typed is not a score; None when blank or valid."""
        text = self.edit.text().strip()
        if not text or (text.isdigit() and int(text) <= self._maximum):
            return None
        return f"{self.rule}; {text} is not a score."

    def _on_edit_text_changed(self, _text: str) -> None:
        self.rule_label.setVisible(self.problem() is not None)
        self.valueChanged.emit(self.value())


def score_value(field: ScoreField) -> int | None:
    return None if field.value() < 0 else field.value()


class CodeChecks(QWidget):
    """Checkboxes for a catalogue code list, labelled, in catalogue order."""

    def __init__(
        self, labels: Mapping[str, str], columns: int = 2, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for position, (code, label) in enumerate(labels.items()):
            box = QCheckBox(label)
            box.setObjectName(f"check_{code}")
            self.boxes[code] = box
            grid.addWidget(box, position // columns, position % columns)

    def checked(self) -> tuple[str, ...]:
        return tuple(code for code, box in self.boxes.items() if box.isChecked())

    def set_checked(self, codes: tuple[str, ...]) -> None:
        for code, box in self.boxes.items():
            box.setChecked(code in codes)


class ChoiceQuestion(QWidget):
    """One questionnaire question: its text, every option as a radio button, and a
    "skipped" choice that is the default, so an untouched question is never scored 0."""

    def __init__(
        self, title: str, options: tuple[str, ...], blank: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.group = QButtonGroup(self)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 6)
        column.setSpacing(2)
        heading = QLabel(title)
        heading.setWordWrap(True)
        heading.setStyleSheet("font-weight: 600;")
        column.addWidget(heading)
        self.buttons: list[QRadioButton] = []
        for index, option in enumerate(options):
            button = QRadioButton(option)
            self.group.addButton(button, index)
            self.buttons.append(button)
            column.addWidget(button)
        self.blank = QRadioButton(blank)
        self.group.addButton(self.blank, SKIPPED_ID)
        column.addWidget(self.blank)
        self.blank.setChecked(True)

    def answer(self) -> int | None:
        chosen = self.group.checkedId()
        return None if chosen in (SKIPPED_ID, -1) else chosen

    def choose(self, answer: int | None) -> None:
        (self.blank if answer is None else self.buttons[answer]).setChecked(True)


class IntakeForm(QDialog):
    """Record an intake or a reassessment; stays open, input kept, until the service
    accepts it. Drive it in tests with ``show()``, fill, then ``save_button().click()``."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        *,
        kind: str = "intake",
        operations: Operations | None = None,
        viewing: Assessment | None = None,
    ) -> None:
        super().__init__(parent)
        if viewing is not None:
            kind = viewing.kind
        self._services = services
        self._actor = actor
        self._patient_id = patient_id
        self._kind = kind
        self._operations = operations or Operations(self)
        # The saved assessment shown (read-only until "Amend…"), or None for a new one.
        self.viewing = viewing
        self.amending = False
        self.assessment: Assessment | None = None
        catalogue = services.catalogue
        protocol = services.protocol
        patient = services.patients.get(actor, patient_id)
        kind_label = catalogue.label("assessment_kinds", kind)
        self._patient_name = patient.display_name
        self.setWindowTitle(f"{kind_label} — {patient.display_name}")
        self._forms: list[FieldErrors] = []
        self._editors: dict[str, QWidget] = {}
        self._editor_page: dict[str, int] = {}
        self._page_errors: set[int] = set()
        self.pages = QStackedWidget()
        self.pages.setObjectName("section_pages")
        self.section_list = QListWidget()
        self.section_list.setObjectName("section_list")
        self.section_list.setFixedWidth(SECTION_LIST_WIDTH)
        self.section_list.setWordWrap(True)
        self.section_list.setSpacing(2)
        # A light selection, so the entry's dark words stay readable on it.
        self.section_list.setStyleSheet(
            "QListWidget::item:selected { background: #d6e4f5; border-left: 3px solid #2b6cb0; }"
        )
        self.page_scrolls: list[QScrollArea] = []
        self.page_contents: list[QWidget] = []

        sections = self._page("History")

        # History
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        today = services.patients.today()
        self.date.setDate(QDate(today.year, today.month, today.day))
        self.onset_weeks = QSpinBox()
        self.onset_weeks.setRange(-1, 5200)
        self.onset_weeks.setSpecialValueText(NOT_RECORDED)
        self.onset_weeks.setSuffix(" weeks")
        self.onset_weeks.setValue(-1)
        self.recurrent = yes_no_unknown()
        self.radiating_present = QCheckBox("Pain radiates into the leg")
        self.radiating_side = QComboBox()
        self.radiating_side.addItem(NOT_RECORDED, None)
        for code, label in catalogue.codes["sides"].items():
            self.radiating_side.addItem(label, code)
        self.radiating_below_knee = yes_no_unknown()
        self.radiating_to = QLineEdit()
        self.radiating_to.setPlaceholderText("e.g. hip, thigh, calf, foot")
        self.aggravated_by = CodeChecks(catalogue.codes["aggravated_by"], columns=3)
        history = self._section(sections, "History")
        for field, label, editor in (
            ("date", "Date", self.date),
            ("onset_weeks", "Since onset", self.onset_weeks),
            ("recurrent", "Recurrent", self.recurrent),
            ("radiating_pain.present", "Radiating pain", self.radiating_present),
            ("radiating_pain.side", "Side", self.radiating_side),
            ("radiating_pain.below_knee", "Below the knee", self.radiating_below_knee),
            ("radiating_pain.to", "Radiates to", self.radiating_to),
            ("aggravated_by", "Aggravated by", self.aggravated_by),
        ):
            self._add_row(history, field, label, editor)

        # Contributing factors
        self.contributing_factors = CodeChecks(catalogue.codes["contributing_factors"])
        factors = self._section(sections, "Contributing factors")
        self._add_row(factors, "contributing_factors", "Present", self.contributing_factors)

        sections = self._page("Red flags")

        # Red flags: three states per item, because "not asked" is not "absent".
        self.red_flag_groups: dict[str, QButtonGroup] = {}
        flags_box = QGroupBox("Red-flag screen")
        flags_layout = QVBoxLayout(flags_box)
        hint = QLabel("Ask every item. “Not asked” is not “absent”: a plan needs the whole screen.")
        hint.setWordWrap(True)
        flags_layout.addWidget(hint)
        self.mark_all_absent = QPushButton("Mark all not present")
        self.mark_all_absent.setObjectName("mark_all_absent")
        self.mark_all_absent.setToolTip("You asked about every item and none is present.")
        flags_layout.addWidget(self.mark_all_absent, 0, Qt.AlignmentFlag.AlignLeft)
        state_words = [catalogue.label("flag_answers", str(state)) for state in FLAG_STATES]
        for group in protocol.red_flag_groups:
            box = QGroupBox(group.label + (" — urgent" if group.urgent else ""))
            box.setObjectName(f"red_flag_group_{group.code}")
            grid = QGridLayout(box)
            grid.setColumnStretch(0, 1)
            for row, code in enumerate(group.items):
                grid.addWidget(QLabel(catalogue.label("red_flags", code)), row, 0)
                buttons = QButtonGroup(self)
                for column, (state, words) in enumerate(zip(FLAG_STATES, state_words, strict=True)):
                    button = QRadioButton(words)
                    button.setObjectName(f"red_flag_{code}_{state}")
                    buttons.addButton(button, column)
                    grid.addWidget(button, row, column + 1)
                buttons.button(0).setChecked(True)
                buttons.idToggled.connect(self._on_red_flag_group_id_toggled)
                self.red_flag_groups[code] = buttons
            flags_layout.addWidget(box)
        flags_form = QFormLayout()
        flags_layout.addLayout(flags_form)
        self._forms.append(FieldErrors(flags_form))
        self.red_flag_clearance = QLineEdit()
        self.red_flag_clearance.setPlaceholderText('e.g. "cleared by GP on 2026-01-03"')
        self._add_row(
            self._forms[-1], "red_flag_clearance", "Clearance note", self.red_flag_clearance
        )
        self.screening_verdict = QLabel()
        self.screening_verdict.setObjectName("screening_verdict")
        self.screening_verdict.setWordWrap(True)
        self._add_row(self._forms[-1], "red_flags", "Screening", self.screening_verdict)
        sections.addWidget(flags_box)

        sections = self._page("Precautions")

        # Acupuncture precautions
        self.precautions = CodeChecks(catalogue.codes["precautions"])
        for code, check in self.precautions.boxes.items():
            rule = protocol.precautions.get(code)
            if rule is not None:
                check.setToolTip(rule.needling)
        cautions = self._section(sections, "Acupuncture precautions")
        self._add_row(cautions, "precautions", "Present", self.precautions)

        sections = self._page("Pain")

        # Pain
        self.nprs_current = ScoreField(10, "Pain is 0–10")
        self.nprs_worst = ScoreField(10, "Pain is 0–10")
        self.nprs_best = ScoreField(10, "Pain is 0–10")
        self.nprs_band = QLabel()
        self.nprs_band.setObjectName("nprs_band")
        pain = self._section(sections, "Pain now, at its worst and at its best (0–10, NPRS)")
        self._add_row(pain, "nprs.current", "Current", self.nprs_current)
        pain.add_row("nprs_band_row", "", self.nprs_band)
        self._add_row(pain, "nprs.worst", "Worst (last week)", self.nprs_worst)
        self._add_row(pain, "nprs.best", "Best (last week)", self.nprs_best)
        self.nprs_band.setObjectName("nprs_band")

        sections = self._page("Questionnaires")

        # Oswestry, in full
        odi = load_questionnaire(ODI_FILE)
        odi_box = QGroupBox(f"{odi.title} (ODI v{odi.version})")
        odi_layout = QVBoxLayout(odi_box)
        instructions = QLabel(odi.instructions)
        instructions.setWordWrap(True)
        odi_layout.addWidget(instructions)
        self.odi_score = QLabel()
        self.odi_score.setObjectName("odi_score")
        self.odi_score.setStyleSheet("font-weight: 600;")
        odi_layout.addWidget(self.odi_score)
        odi_form = QFormLayout()
        odi_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        odi_layout.addLayout(odi_form)
        odi_errors = FieldErrors(odi_form)
        self._forms.append(odi_errors)
        self.odi_sections: list[ChoiceQuestion] = []
        for index, question in enumerate(odi.questions):
            section = ChoiceQuestion(
                f"Section {question.number} – {question.text}", question.options, "Skipped"
            )
            section.group.idToggled.connect(self._on_odi_group_id_toggled)
            self.odi_sections.append(section)
            self._add_row(odi_errors, f"odi_answers[{index}]", "", section)
        self._editors["odi_answers"] = self.odi_sections[0]
        self._editor_page["odi_answers"] = len(self.page_scrolls) - 1
        sections.addWidget(odi_box)

        # STarT Back
        startback = load_questionnaire(STARTBACK_FILE)
        sb_box = QGroupBox(startback.title)
        sb_layout = QVBoxLayout(sb_box)
        sb_intro = QLabel(startback.instructions + " Leave all unanswered if not given.")
        sb_intro.setWordWrap(True)
        sb_layout.addWidget(sb_intro)
        self.startback_risk = QLabel()
        self.startback_risk.setObjectName("startback_risk")
        self.startback_risk.setStyleSheet("font-weight: 600;")
        sb_layout.addWidget(self.startback_risk)
        sb_form = QFormLayout()
        sb_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        sb_layout.addLayout(sb_form)
        sb_errors = FieldErrors(sb_form)
        self._forms.append(sb_errors)
        self.startback_items: list[ChoiceQuestion] = []
        for question in startback.questions:
            item = ChoiceQuestion(
                f"{question.number}. {question.text}", question.options, "Not answered"
            )
            item.group.idToggled.connect(self._on_startback_group_id_toggled)
            self.startback_items.append(item)
        holder = QWidget()
        items_layout = QVBoxLayout(holder)
        items_layout.setContentsMargins(0, 0, 0, 0)
        for item in self.startback_items:
            items_layout.addWidget(item)
        self._add_row(sb_errors, "startback_answers", "", holder)
        sb_copyright = QLabel(startback.copyright)
        sb_copyright.setObjectName("startback_copyright")
        sb_copyright.setWordWrap(True)
        sb_copyright.setStyleSheet("font-size: small;")
        sb_layout.addWidget(sb_copyright)
        sections.addWidget(sb_box)

        sections = self._page("Goals")

        # Goals and notes
        self.goals = QPlainTextEdit()
        self.goals.setPlaceholderText("One goal per line, in the patient's words")
        self.goals.setTabChangesFocus(True)
        self.goals.setFixedHeight(72)
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(72)
        self.psfs = PsfsEditor()
        ending = self._section(sections, "Goals and notes")
        self._add_row(ending, "goals", "Patient's goals", self.goals)
        self._add_row(ending, "psfs", "Functional scale (PSFS)", self.psfs)
        self._add_row(ending, "notes", "Notes", self.notes)
        for page_content in self.page_contents:
            page_column = page_content.layout()
            assert isinstance(page_column, QVBoxLayout)
            page_column.addStretch(1)

        # Shown on a saved assessment: what it is (amended, entered in error) and by whom.
        self.record_banner = QLabel()
        self.record_banner.setObjectName("record_banner")
        self.record_banner.setWordWrap(True)
        self.record_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.record_banner.hide()
        self.show_original_button = QPushButton("Show the original…")
        self.show_original_button.setObjectName("show_original")
        self.show_original_button.hide()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("What was wrong, and why it is corrected")
        self.reason.setMaxLength(500)
        reason_form = QFormLayout()
        reason_form.setContentsMargins(0, 0, 0, 0)
        self.reason_row = QWidget()
        self.reason_row.setLayout(reason_form)
        self._forms.append(FieldErrors(reason_form))
        self._forms[-1].add_row("reason", "Reason for amendment", self.reason)
        self._editors["reason"] = self.reason
        self.reason_row.hide()
        self.next_section_button = QPushButton("Next section")
        self.next_section_button.setObjectName("next_section")
        self.general_error = QLabel()
        self.general_error.setObjectName("general_error")
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.amend_button = self.buttons.addButton("Amend…", QDialogButtonBox.ButtonRole.ActionRole)
        self.amend_button.setObjectName("amend_assessment")
        self.error_button = self.buttons.addButton(
            "Mark entered in error…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.error_button.setObjectName("mark_entered_in_error")
        self.amend_button.hide()
        self.error_button.hide()
        banner_row = QHBoxLayout()
        banner_row.addWidget(self.record_banner, 1)
        banner_row.addWidget(self.show_original_button, 0, Qt.AlignmentFlag.AlignTop)
        middle = QHBoxLayout()
        middle.addWidget(self.section_list)
        middle.addWidget(self.pages, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.next_section_button)
        bottom.addWidget(self.buttons, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(banner_row)
        layout.addWidget(self.reason_row)
        layout.addLayout(middle, 1)
        layout.addWidget(self.general_error)
        layout.addLayout(bottom)
        # Fits a 1366×768 screen with its title bar and taskbar: every section scrolls
        # on its own page, and no page is wider than the dialog.
        self.resize(FORM_WIDTH, FORM_HEIGHT)
        self.setMaximumHeight(MAX_FORM_HEIGHT)

        self.buttons.accepted.connect(self._on_buttons_accepted)
        if viewing is not None:
            self._fill(viewing)
        elif kind != "intake":
            # The PSFS re-rates the same activities the patient named at intake.
            intake = services.assessments.latest_intake(actor, patient_id)
            if intake is not None and intake.psfs:
                self.psfs.set_activities(intake.psfs)
            earlier = services.assessments.for_patient(actor, patient_id)
            if earlier:
                self._prefill_history(earlier[-1].intake)
        self.buttons.rejected.connect(self.reject)
        self.mark_all_absent.clicked.connect(self._on_mark_all_absent_clicked)
        self.red_flag_clearance.textChanged.connect(self._on_red_flag_clearance_text_changed)
        self.radiating_present.toggled.connect(self._on_radiating_present_toggled)
        self.nprs_current.valueChanged.connect(self._on_nprs_current_value_changed)
        self._on_radiating_present_toggled(self.radiating_present.isChecked())
        self._show_screening()
        self._show_odi()
        self._show_startback()
        self._on_nprs_current_value_changed(self.nprs_current.value())
        self.section_list.currentRowChanged.connect(self._on_section_list_current_row_changed)
        self.next_section_button.clicked.connect(self._on_next_section_button_clicked)
        self.amend_button.clicked.connect(self._on_amend_button_clicked)
        self.error_button.clicked.connect(self._on_error_button_clicked)
        self.show_original_button.clicked.connect(self._on_show_original_button_clicked)
        self.section_list.setCurrentRow(0)
        if viewing is not None:
            self._show_record(viewing)
        self._as_opened = self._input()
        # A new form keeps a draft on this workstation, in case the app does not close.
        self.drafts: DraftKeeper | None = None
        if viewing is None and actor.clinician_id is not None:
            self.drafts = DraftKeeper(
                self,
                DraftKey(kind, services.clinic.database_identity(), actor.clinician_id, patient_id),
                patient.display_name,
                self.draft_data,
                self.has_changes,
            )
        for page_content in self.page_contents:
            watch_edits(page_content, self._on_form_edited)
        self._show_section_statuses()

    @classmethod
    def record(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        patient_id: int,
        kind: str = "intake",
        *,
        operations: Operations | None = None,
    ) -> Assessment | None:
        try:
            dialog = cls(services, actor, patient_id, parent, kind=kind, operations=operations)
        except NotFound as error:
            QMessageBox.warning(parent, "Patient not found", str(error))
            return None
        dialog.exec()
        return dialog.assessment

    @classmethod
    def open_saved(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        assessment: Assessment,
        *,
        operations: Operations | None = None,
    ) -> Assessment | None:
        """Show a saved assessment read-only; returns the amendment or the record marked
        entered in error, if the clinician did either."""
        dialog = cls(
            services,
            actor,
            assessment.patient_id,
            parent,
            operations=operations,
            viewing=assessment,
        )
        dialog.exec()
        return dialog.assessment

    def save_button(self) -> QAbstractButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def _prefill_history(self, latest: Intake) -> None:
        """A reassessment starts from the latest assessment's history, factors,
        precautions and goals; pain, questionnaires and red flags are asked afresh."""
        if latest.onset_weeks is not None:
            self.onset_weeks.setValue(int(latest.onset_weeks))
        self.recurrent.setCurrentIndex(max(0, self.recurrent.findData(latest.recurrent)))
        self.radiating_present.setChecked(latest.radiating_present)
        self.radiating_side.setCurrentIndex(
            max(0, self.radiating_side.findData(latest.radiating_side))
        )
        self.radiating_below_knee.setCurrentIndex(
            max(0, self.radiating_below_knee.findData(latest.radiating_below_knee))
        )
        self.radiating_to.setText(latest.radiating_to or "")
        self.aggravated_by.set_checked(latest.aggravated_by)
        self.contributing_factors.set_checked(latest.contributing_factors)
        self.precautions.set_checked(latest.precautions)
        self.goals.setPlainText("\n".join(latest.goals))

    def _fill(self, saved: Assessment) -> None:
        """Every answer of a saved assessment, as it was recorded."""
        self._fill_input(
            AssessmentInput(saved.kind, saved.intake, saved.psfs, saved.rmdq_score, saved.notes)
        )

    def _fill_input(self, saved: AssessmentInput) -> None:
        intake = saved.intake
        self.date.setDate(
            QDate(intake.assessed_on.year, intake.assessed_on.month, intake.assessed_on.day)
        )
        self._prefill_history(intake)
        if intake.red_flags is not None:
            for code, answer in intake.red_flags.items():
                if code in self.red_flag_groups:
                    self.set_flag(code, answer)
        self.red_flag_clearance.setText(intake.red_flag_clearance or "")
        for field, value in (
            (self.nprs_current, intake.nprs_current),
            (self.nprs_worst, intake.nprs_worst),
            (self.nprs_best, intake.nprs_best),
        ):
            field.setValue(-1 if value is None else value)
        if intake.odi_answers is not None:
            for section, odi_answer in zip(self.odi_sections, intake.odi_answers, strict=False):
                section.choose(odi_answer)
        if intake.startback_answers is not None:
            for item, sb_answer in zip(
                self.startback_items, intake.startback_answers, strict=False
            ):
                item.choose(sb_answer)
        self.psfs.set_activities(saved.psfs, with_ratings=True)
        self.notes.setPlainText(saved.notes)

    def _show_record(self, saved: Assessment) -> None:
        """Read-only, with what the record is and what can be done with it."""
        self._set_editable(False)
        self.save_button().hide()
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText("Close")
        kind = self._services.catalogue.label("assessment_kinds", saved.kind)
        self.setWindowTitle(
            f"{kind} of {saved.assessed_on.isoformat()} — {self._patient_name} (read-only)"
        )
        self.record_banner.setText(record_status_text(saved))
        self.record_banner.setVisible(True)
        style = "padding: 6px; border-radius: 3px;"
        if not saved.current:
            style += " background: #fdecea; color: #7a1c14; font-weight: 600;"
        else:
            style += " background: #eef3fb;"
        self.record_banner.setStyleSheet(style)
        self.show_original_button.setVisible(saved.amends_id is not None)
        self.amend_button.setVisible(saved.current)
        self.error_button.setVisible(saved.current)

    def _set_editable(self, editable: bool) -> None:
        """Read-only: the answers stay readable (not greyed) but take no input; the
        section list still moves between sections."""
        for content in self.page_contents:
            if not editable:
                palette = content.palette()
                for role in (
                    QPalette.ColorRole.WindowText,
                    QPalette.ColorRole.Text,
                    QPalette.ColorRole.ButtonText,
                ):
                    palette.setColor(
                        QPalette.ColorGroup.Disabled,
                        role,
                        palette.color(QPalette.ColorGroup.Active, role),
                    )
                content.setPalette(palette)
            content.setEnabled(editable)

    def is_read_only(self) -> bool:
        return not self.page_contents[0].isEnabled()

    def _on_amend_button_clicked(self) -> None:
        """Amend: the same answers, now editable, and a reason the save needs."""
        assert self.viewing is not None
        self.amending = True
        self._set_editable(True)
        self._on_radiating_present_toggled(self.radiating_present.isChecked())
        kind = self._services.catalogue.label("assessment_kinds", self._kind)
        self.setWindowTitle(
            f"Amend {kind.lower()} of {self.viewing.assessed_on.isoformat()} — {self._patient_name}"
        )
        self.record_banner.setText(
            "Amending: the record as it stands now is kept, marked as amended, and shown "
            "beside the correction."
        )
        self.show_original_button.hide()
        self.amend_button.hide()
        self.error_button.hide()
        self.reason_row.show()
        self.save_button().show()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Cancel")
        self.reason.setFocus()
        self._as_opened = self._input()

    def _on_error_button_clicked(self) -> None:
        assert self.viewing is not None
        marked = EnteredInErrorDialog.mark(
            self, self._services, self._actor, self.viewing, self._operations
        )
        if marked is not None:
            self.assessment = marked
            self.accept()

    def _on_show_original_button_clicked(self) -> None:
        assert self.viewing is not None and self.viewing.amends_id is not None
        original = self._services.assessments.get(self._actor, self.viewing.amends_id)
        IntakeForm.open_saved(
            self, self._services, self._actor, original, operations=self._operations
        )

    def _on_section_list_current_row_changed(self, row: int) -> None:
        if row >= 0:
            self.pages.setCurrentIndex(row)
        self.next_section_button.setEnabled(0 <= row < self.section_list.count() - 1)

    def _on_next_section_button_clicked(self) -> None:
        self.section_list.setCurrentRow(
            min(self.section_list.currentRow() + 1, self.section_list.count() - 1)
        )

    def _on_form_edited(self) -> None:
        self._show_section_statuses()
        if self.drafts is not None:
            self.drafts.changed()

    def draft_data(self) -> AssessmentInput:
        """What the form would save now: a draft holds this."""
        return self._input()[0]

    def restore_draft(self, data: AssessmentInput) -> None:
        """Put a draft's answers back in the form (they count as unsaved changes)."""
        self._fill_input(data)
        self._on_radiating_present_toggled(self.radiating_present.isChecked())

    def _show_section_statuses(self) -> None:
        data, _errors = self._input()
        statuses = section_statuses(self, data.intake)
        for row, title in enumerate(self.section_titles()):
            error = row in self._page_errors
            status = "Has an error – see the field" if error else statuses.get(title, "")
            self._show_entry(row, title, status, error=error)

    def has_changes(self) -> bool:
        return self._input() != self._as_opened

    def reject(self) -> None:
        # Escape, Cancel and the window's close button all come here.
        if self.viewing is not None and not self.amending:
            super().reject()
            return
        kind = self._services.catalogue.label("assessment_kinds", self._kind).lower()
        if in_use(self) and self.has_changes() and not discard_confirmed(self, f"{kind} form"):
            return
        super().reject()

    def set_flag(self, code: str, answer: FlagAnswer) -> None:
        self.red_flag_groups[code].button(FLAG_STATES.index(answer)).setChecked(True)

    def flag_answers(self) -> dict[str, FlagAnswer] | None:
        """None when no item was asked at all: the patient was not screened."""
        answers = {
            code: FLAG_STATES[group.checkedId()] for code, group in self.red_flag_groups.items()
        }
        if all(answer == FlagAnswer.NOT_ASKED for answer in answers.values()):
            return None
        return answers

    def odi_answers(self) -> tuple[int | None, ...] | None:
        answers = tuple(section.answer() for section in self.odi_sections)
        return None if all(a is None for a in answers) else answers

    def _page(self, title: str) -> QVBoxLayout:
        """A new section: a page of its own, scrolling vertically only, listed on the left."""
        content = QWidget()
        content.setObjectName(f"section_{len(self.page_scrolls)}")
        column = QVBoxLayout(content)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        self.page_scrolls.append(scroll)
        self.page_contents.append(content)
        self.pages.addWidget(scroll)
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, title)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, title)
        self.section_list.addItem(item)
        entry = QLabel()
        entry.setObjectName(f"section_entry_{len(self.page_scrolls) - 1}")
        entry.setWordWrap(True)
        entry.setTextFormat(Qt.TextFormat.RichText)
        entry.setContentsMargins(6, 4, 6, 4)
        entry.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.section_list.setItemWidget(item, entry)
        self._show_entry(len(self.page_scrolls) - 1, title, "", error=False)
        return column

    def _show_entry(self, row: int, title: str, status: str, *, error: bool) -> None:
        """A section's entry: its title, and under it how complete it is (or its error)."""
        item = self.section_list.item(row)
        item.setData(SECTION_STATUS_ROLE, status)
        entry = self.section_list.itemWidget(item)
        assert isinstance(entry, QLabel)
        colour = "#b00020" if error else "#555555"
        entry.setText(
            f"<b>{html.escape(title)}</b><br><span style='color: {colour};'>"
            f"{html.escape(status)}</span>"
        )
        entry.adjustSize()
        item.setSizeHint(entry.sizeHint())

    def section_titles(self) -> list[str]:
        return [
            str(self.section_list.item(n).data(Qt.ItemDataRole.UserRole))
            for n in range(self.section_list.count())
        ]

    def current_section(self) -> str:
        return self.section_titles()[self.pages.currentIndex()]

    def show_section(self, title: str) -> None:
        self.section_list.setCurrentRow(self.section_titles().index(title))

    def section_status(self, title: str) -> str:
        """The second line of a section's entry: how complete it is, or that it has an error."""
        item = self.section_list.item(self.section_titles().index(title))
        return str(item.data(SECTION_STATUS_ROLE) or "")

    def _section(self, sections: QVBoxLayout, title: str) -> FieldErrors:
        box = QGroupBox(title)
        form = QFormLayout(box)
        sections.addWidget(box)
        errors = FieldErrors(form)
        self._forms.append(errors)
        return errors

    def _add_row(self, form: FieldErrors, field: str, label: str, editor: QWidget) -> None:
        form.add_row(field, label, editor)
        self._editors[field] = editor
        self._editor_page[field] = len(self.page_scrolls) - 1

    def _startback_answers(self) -> tuple[tuple[int, ...] | None, int]:
        """The nine answers, or None; and how many items are unanswered."""
        answers = [item.answer() for item in self.startback_items]
        missing = sum(a is None for a in answers)
        if missing:
            return None, missing
        return tuple(a for a in answers if a is not None), 0

    def _input(self) -> tuple[AssessmentInput, dict[str, str]]:
        form_errors: dict[str, str] = {}
        startback, missing = self._startback_answers()
        if 0 < missing < len(self.startback_items):
            form_errors["startback_answers"] = (
                f"{missing} STarT Back items are unanswered: answer all nine, or leave them "
                "all blank."
            )
        present = self.radiating_present.isChecked()
        clearance = self.red_flag_clearance.text().strip()
        intake = Intake(
            assessed_on=cast(dt.date, self.date.date().toPython()),
            onset_weeks=spin_value(self.onset_weeks),
            recurrent=self.recurrent.currentData(),
            radiating_present=present,
            radiating_side=self.radiating_side.currentData() if present else None,
            radiating_below_knee=self.radiating_below_knee.currentData() if present else None,
            radiating_to=(self.radiating_to.text().strip() or None) if present else None,
            aggravated_by=self.aggravated_by.checked(),
            contributing_factors=self.contributing_factors.checked(),
            red_flags=self.flag_answers(),
            red_flag_clearance=clearance or None,
            precautions=self.precautions.checked(),
            nprs_current=score_value(self.nprs_current),
            nprs_worst=score_value(self.nprs_worst),
            nprs_best=score_value(self.nprs_best),
            odi_answers=self.odi_answers(),
            startback_answers=startback,
            goals=tuple(
                line.strip() for line in self.goals.toPlainText().splitlines() if line.strip()
            ),
        )
        for field, score in (
            ("nprs.current", self.nprs_current),
            ("nprs.worst", self.nprs_worst),
            ("nprs.best", self.nprs_best),
        ):
            problem = score.problem()
            if problem is not None:
                form_errors[field] = problem
        form_errors.update(self.psfs.errors())
        data = AssessmentInput(
            kind=self._kind,
            intake=intake,
            psfs=self.psfs.items(),
            notes=self.notes.toPlainText(),
        )
        return data, form_errors

    def _show_errors(self, by_field: Mapping[str, str]) -> None:
        # "contributing_factors[0]" belongs to the "contributing_factors" row.
        placed: dict[str, str] = {}
        for field, message in by_field.items():
            match = _INDEXED.match(field)
            key = field if field in self._editors or not match else match.group(1)
            placed.setdefault(key, message)
        leftover = dict(placed)
        for form in self._forms:
            unplaced = form.show(placed)
            leftover = {f: m for f, m in leftover.items() if f in unplaced}
        self._page_errors = {
            page for page in (self._page_of_field(f) for f in placed) if page is not None
        }
        first = next((f for f in self._editors if f in placed), None)
        if first is None:
            first = next((f for f in placed if self._page_of_field(f) is not None), None)
        page = self._page_of_field(first) if first is not None else None
        if page is not None:
            # The first error's section comes to the front, scrolled to the field.
            self.section_list.setCurrentRow(page)
        if first is not None and first in self._editors:
            editor = self._editors[first]
            editor.setFocus()
            bring_into_view(editor)
        self.general_error.setText(" ".join(leftover.values()))
        self.general_error.setVisible(bool(leftover))
        self._show_section_statuses()

    def _page_of_field(self, field: str) -> int | None:
        """The section holding ``field`` ("psfs[0].score" is in the PSFS's section)."""
        if field in self._editor_page:
            return self._editor_page[field]
        stem = re.split(r"[\[.]", field, maxsplit=1)[0]
        for known, page in self._editor_page.items():
            if re.split(r"[\[.]", known, maxsplit=1)[0] == stem:
                return page
        return None

    def unusual(self) -> list[str]:
        """What the clinician confirms before this form is saved."""
        findings = []
        answers = self.flag_answers()
        if answers is None:
            findings.append("The red-flag screen was not done; no plan can be made until it is.")
        else:
            unasked = sum(answer == FlagAnswer.NOT_ASKED for answer in answers.values())
            if unasked:
                were = "was" if unasked == 1 else "were"
                findings.append(
                    f"{unasked} of {len(answers)} red-flag items {were} not asked; no plan can "
                    "be made until the screen is complete."
                )
        odi = self.odi_answers()
        if odi is not None:
            skipped = sum(answer is None for answer in odi)
            if skipped:
                were = "was" if skipped == 1 else "were"
                findings.append(
                    f"{skipped} of {len(odi)} Oswestry sections {were} skipped; the score "
                    "counts only the answered ones."
                )
        return findings

    def _on_buttons_accepted(self) -> None:
        data, form_errors = self._input()
        if self.amending and not self.reason.text().strip():
            form_errors["reason"] = "Give the reason for the amendment."
        if not form_errors and in_use(self):
            rules = validate_assessment(
                data, self._services.catalogue, self._services.patients.today()
            )
            if not rules and not unusual_confirmed(self, self.unusual()):
                return
        if form_errors:
            # Show the service's rules too, so one Save tells the clinician everything.
            rules = validate_assessment(
                data, self._services.catalogue, self._services.patients.today()
            )
            self._show_errors({**{e.field: e.message for e in rules}, **form_errors})
            return
        try:
            if self.amending:
                assert self.viewing is not None
                self.assessment = self._operations.run(
                    self._services.assessments.amend,
                    self._actor,
                    self.viewing.id,
                    data,
                    self.reason.text(),
                    self.viewing.version,
                )
            else:
                self.assessment = self._operations.run(
                    self._services.assessments.record, self._actor, self._patient_id, data
                )
        except ValidationFailed as error:
            self._show_errors(error.by_field)
            return
        except ServiceError as error:
            self._show_errors({"": str(error)})
            return
        self.accept()

    def _live(self) -> LiveScores:
        return self._services.assessments.live_scores(self._input()[0].intake)

    def _show_screening(self) -> None:
        screening = self._live().screening
        label = self._services.catalogue.label("screening_outcomes", str(screening.outcome))
        self.screening_verdict.setText(f"{label}. {screening.message}")
        urgent = screening.outcome == ScreeningOutcome.URGENT_REFERRAL
        self.screening_verdict.setStyleSheet(ERROR_STYLE + " font-weight: 600;" if urgent else "")

    def _show_odi(self) -> None:
        answers = self.odi_answers()
        if answers is None:
            self.odi_score.setText("ODI: not answered")
            return
        result = self._live().odi
        if result is None or result.percent is None:
            count = sum(answer is None for answer in answers)
            self.odi_score.setText(f"ODI incomplete: {count} sections skipped")
            return
        skipped = f", {result.skipped} skipped" if result.skipped else ""
        self.odi_score.setText(
            f"ODI {result.percent:.1f} % ({result.band}) — {result.total} of "
            f"{5 * result.answered}{skipped}"
        )

    def _show_startback(self) -> None:
        answers, missing = self._startback_answers()
        if answers is None:
            self.startback_risk.setText(
                f"STarT Back: not scored ({missing} of {len(self.startback_items)} unanswered)"
            )
            return
        result = self._live().startback
        if result is None:
            return
        label = self._services.catalogue.label("startback_risks", result.risk)
        self.startback_risk.setText(
            f"STarT Back {label.lower()} (total {result.total}, psychosocial {result.psychosocial})"
        )

    def _on_red_flag_group_id_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self._show_screening()

    def _on_red_flag_clearance_text_changed(self, _text: str) -> None:
        self._show_screening()

    def _on_mark_all_absent_clicked(self) -> None:
        for code in self.red_flag_groups:
            self.set_flag(code, FlagAnswer.ABSENT)

    def _on_odi_group_id_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self._show_odi()

    def _on_startback_group_id_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self._show_startback()

    def _on_radiating_present_toggled(self, checked: bool) -> None:
        for editor in (self.radiating_side, self.radiating_below_knee, self.radiating_to):
            editor.setEnabled(checked)

    def _on_nprs_current_value_changed(self, value: int) -> None:
        if value < 0:
            self.nprs_band.setText("")
            return
        band = self._live().nprs_band
        self.nprs_band.setText(
            "" if band is None else self._services.catalogue.label("nprs_bands", band)
        )


def record_status_text(saved: Assessment) -> str:
    """One paragraph on what a saved assessment is: its status, who changed it and why."""
    recorded = ""
    if saved.recorded_at is not None:
        by = f" by {saved.recorded_by}" if saved.recorded_by else ""
        recorded = f"Recorded {saved.recorded_at:%Y-%m-%d %H:%M}{by}."
    when = ""
    if saved.corrected_at is not None:
        by = f" by {saved.corrected_by}" if saved.corrected_by else ""
        when = f" on {saved.corrected_at:%Y-%m-%d %H:%M}{by}"
    if saved.entered_in_error_reason is not None:
        return (
            f"ENTERED IN ERROR{when}: {saved.entered_in_error_reason}. Kept for the record; "
            f"not counted in scores, the course, progress or reports. {recorded}"
        )
    if saved.superseded:
        return (
            f"AMENDED{when}: this is the record as it stood before; the correction replaces "
            f"it everywhere. {recorded}"
        )
    if saved.amends_id is not None:
        return (
            f"This is an amendment: {saved.amendment_reason}. {recorded} The original is kept "
            "and can be shown."
        )
    return f"{recorded} Read-only: amend it to correct it, or mark it entered in error."


def section_statuses(form: IntakeForm, intake: Intake) -> dict[str, str]:
    """How complete each section is, in a few words."""
    history = sum(value is not None for value in (intake.onset_weeks, intake.recurrent))
    answers = form.flag_answers()
    if answers is None:
        flags = "Not asked yet"
    else:
        unasked = sum(answer == FlagAnswer.NOT_ASKED for answer in answers.values())
        present = sum(answer == FlagAnswer.PRESENT for answer in answers.values())
        if unasked:
            flags = f"{unasked} of {len(answers)} not asked"
        elif present:
            flags = f"Complete – {present} present"
        else:
            flags = "Complete – none present"
    marked = len(intake.precautions)
    pain = sum(
        value is not None for value in (intake.nprs_current, intake.nprs_worst, intake.nprs_best)
    )
    odi = sum(section.answer() is not None for section in form.odi_sections)
    startback = sum(item.answer() is not None for item in form.startback_items)
    goals = len(intake.goals)
    return {
        "History": "Complete" if history == 2 else f"{history} of 2 answered",
        "Red flags": flags,
        "Precautions": "None marked" if not marked else plural(marked, "marked", "marked"),
        "Pain": "Complete" if pain == 3 else f"{pain} of 3 recorded",
        "Questionnaires": (
            f"Oswestry {odi} of {len(form.odi_sections)}, "
            f"STarT Back {startback} of {len(form.startback_items)}"
        ),
        "Goals": "No goals yet" if not goals else plural(goals, "goal", "goals"),
    }


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


class EnteredInErrorDialog(QDialog):
    """Ask the reason an assessment was entered in error, and mark it so."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        saved: Assessment,
        operations: Operations,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._saved = saved
        self._operations = operations
        self.marked: Assessment | None = None
        kind = services.catalogue.label("assessment_kinds", saved.kind).lower()
        self.setWindowTitle("Mark entered in error")
        explain = QLabel(
            f"The {kind} of {saved.assessed_on.isoformat()} stays on record, struck through "
            "with your reason, and no longer counts in scores, the course, progress or "
            "reports. This cannot be undone."
        )
        explain.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("e.g. recorded for the wrong patient")
        self.reason.setMaxLength(500)
        form = QFormLayout()
        self.errors = FieldErrors(form)
        self.errors.add_row("reason", "Reason", self.reason)
        self.general_error = QLabel()
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button = self.buttons.addButton(
            "Mark entered in error", QDialogButtonBox.ButtonRole.AcceptRole
        )
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

    @classmethod
    def mark(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        saved: Assessment,
        operations: Operations,
    ) -> Assessment | None:
        dialog = cls(services, actor, saved, operations, parent)
        dialog.exec()
        return dialog.marked

    def _on_buttons_accepted(self) -> None:
        try:
            self.marked = self._operations.run(
                self._services.assessments.mark_entered_in_error,
                self._actor,
                self._saved.id,
                self.reason.text(),
                self._saved.version,
            )
        except ValidationFailed as error:
            unplaced = self.errors.show(error.by_field)
            self.general_error.setText(" ".join(unplaced.values()))
            self.general_error.setVisible(bool(unplaced))
            return
        except ServiceError as error:
            self.general_error.setText(str(error))
            self.general_error.show()
            return
        self.accept()
