"""Discharge: close the active plan with a reason, a note and a final NPRS and ODI, showing
the baseline beside the final scores with the meaningful-change verdict as they are typed.

The final assessment is a compact form (pain now and the ten Oswestry sections, every
option in full in its list) inside this dialog rather than the full intake form: the
intake form saves its own assessment, and a discharge must store the plan's end and the
final assessment in one transaction (PlanService.discharge).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from backclinic.domain.intake import Intake
from backclinic.domain.questionnaire import ODI_FILE, load_questionnaire
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.documents import DocumentService
from backclinic.services.errors import ServiceError, ValidationFailed
from backclinic.services.permissions import Permission, allows
from backclinic.services.plans import DISCHARGE_REASONS, PlanView
from backclinic.ui.field_errors import ERROR_STYLE, FieldErrors
from backclinic.ui.intake_form import score_spin, spin_value
from backclinic.ui.operations import Operations

if TYPE_CHECKING:
    from backclinic.ui.print_preview import PrintPreview

SKIPPED = "Skipped"
COMBO_MIN_CHARACTERS = 24


def fit_to_width(combo: QComboBox) -> None:
    """Let the closed box shrink to the form's width; the open list still shows each
    option whole (the list may be wider than the box)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(COMBO_MIN_CHARACTERS)
    widest = max(
        (combo.fontMetrics().horizontalAdvance(combo.itemText(i)) for i in range(combo.count())),
        default=0,
    )
    combo.view().setMinimumWidth(widest + 2 * combo.fontMetrics().averageCharWidth())


class DischargeDialog(QDialog):
    """Discharge the patient's active plan. ``discharged(plan_id)`` is emitted once it is
    stored; ``plan`` then holds the closed plan. The dialog then offers the discharge
    summary: ``print_summary(patient_id)`` drafts it when the caller gives one (the
    workspace's Documents tab, which previews it), else the dialog previews it itself; it
    is kept as printed only once the preview prints it or saves it as PDF."""

    discharged = Signal(int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        plan: PlanView,
        parent: QWidget | None = None,
        *,
        print_summary: Callable[[int], None] | None = None,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self.print_summary = print_summary
        self._operations = operations or Operations(self)
        self._services = services
        self._actor = actor
        self._patient_id = patient_id
        self._open_plan = plan
        self.plan: PlanView | None = None
        self.summary_document_id: int | None = None
        self.summary_preview: PrintPreview | None = None
        patient = services.patients.get(actor, patient_id)
        self.setWindowTitle(f"Discharge — {patient.display_name}")

        attendance = services.episodes.course(actor, patient_id).attendance
        summary = QLabel(
            f"Plan of {plan.start_date.isoformat()}: {attendance.text} "
            "Visits planned after today will be cancelled."
        )
        summary.setObjectName("plan_summary")
        summary.setWordWrap(True)

        # Why and how it ends.
        self.reason = QComboBox()
        for code, label in DISCHARGE_REASONS.items():
            self.reason.addItem(label, code)
        fit_to_width(self.reason)
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(64)
        self.note.setPlaceholderText("e.g. back at work full days; home programme continues")
        ending_box = QGroupBox("Discharge")
        ending_form = QFormLayout(ending_box)
        self._ending = FieldErrors(ending_form)
        self._ending.add_row("reason", "Reason", self.reason)
        self._ending.add_row("note", "Note", self.note)

        # The final assessment, compact: pain now and the ten ODI sections.
        self.nprs = score_spin(10)
        self.odi_sections: list[QComboBox] = []
        odi = load_questionnaire(ODI_FILE)
        final_box = QGroupBox("Final assessment (pain now and the Oswestry questionnaire)")
        final_form = QFormLayout(final_box)
        # Each question above its answer, across the box: the sections' long wording and
        # options would otherwise push the combo boxes past the dialog's right edge.
        final_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self._final = FieldErrors(final_form)
        self._final.add_row("final_assessment.nprs.current", "Pain now (0–10)", self.nprs)
        for index, question in enumerate(odi.questions):
            combo = QComboBox()
            combo.addItem(SKIPPED, None)
            for score, option in enumerate(question.options):
                combo.addItem(f"{score} – {option}", score)
            combo.setToolTip(question.text)
            fit_to_width(combo)
            combo.currentIndexChanged.connect(self._on_odi_current_index_changed)
            self.odi_sections.append(combo)
            self._final.add_row(
                f"final_assessment.odi_answers[{index}]",
                f"{question.number}. {question.text}",
                combo,
            )

        # Baseline beside final, judged as the values change.
        self.nprs_comparison = QLabel()
        self.nprs_comparison.setObjectName("nprs_comparison")
        self.nprs_comparison.setWordWrap(True)
        self.odi_comparison = QLabel()
        self.odi_comparison.setObjectName("odi_comparison")
        self.odi_comparison.setWordWrap(True)
        compare_box = QGroupBox("Baseline and final")
        compare_form = QFormLayout(compare_box)
        compare_form.addRow("Pain (NPRS)", self.nprs_comparison)
        compare_form.addRow("Disability (ODI)", self.odi_comparison)

        body = QWidget()
        sections = QVBoxLayout(body)
        sections.addWidget(summary)
        sections.addWidget(ending_box)
        sections.addWidget(compare_box)
        sections.addWidget(final_box)
        sections.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.general_error = QLabel()
        self.general_error.setObjectName("general_error")
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self._discharge_button = self.buttons.addButton(
            "Discharge", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self._discharge_button.setObjectName("discharge_button")
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        # Fits a 1366×768 screen with its title bar and taskbar; the body scrolls down only.
        self.resize(760, 660)

        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.nprs.valueChanged.connect(self._on_nprs_value_changed)
        self._show_comparison()

    @classmethod
    def discharge(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        patient_id: int,
        *,
        print_summary: Callable[[int], None] | None = None,
        operations: Operations | None = None,
    ) -> PlanView | None:
        """Discharge the patient's active plan; the closed plan, or None if cancelled."""
        plan = services.plans.active_plan(actor, patient_id)
        if plan is None:
            QMessageBox.information(parent, "Discharge", "This patient has no active plan.")
            return None
        dialog = cls(
            services,
            actor,
            patient_id,
            plan,
            parent,
            print_summary=print_summary,
            operations=operations,
        )
        dialog.exec()
        return dialog.plan

    def discharge_button(self) -> QAbstractButton:
        return self._discharge_button

    def odi_answers(self) -> tuple[int | None, ...] | None:
        answers = tuple(combo.currentData() for combo in self.odi_sections)
        return None if all(a is None for a in answers) else answers

    def final_assessment(self) -> AssessmentInput | None:
        """What the form records, or None when neither pain nor ODI was entered."""
        pain = spin_value(self.nprs)
        odi = self.odi_answers()
        if pain is None and odi is None:
            return None
        today = self._services.patients.today()
        return AssessmentInput(
            "discharge", Intake(assessed_on=today, nprs_current=pain, odi_answers=odi)
        )

    def _show_comparison(self) -> None:
        """Baseline beside final as the episode service judges them; nothing judged here."""
        answers = self.odi_answers()
        compared = self._services.episodes.final_comparison(
            self._actor, self._open_plan.id, pain=spin_value(self.nprs), odi_answers=answers
        )
        pain = compared.pain
        if pain.change is None:
            self.nprs_comparison.setText(
                f"Baseline {_shown(pain.before)}, final {_shown(pain.after)}."
            )
            self.nprs_comparison.setToolTip("")
        else:
            self.nprs_comparison.setText(
                f"Baseline {pain.before:g}, final {pain.after:g}: {pain.change.verdict_text}."
            )
            self.nprs_comparison.setToolTip(pain.change.text)
        odi = compared.odi
        if odi.change is None:
            incomplete = "incomplete (too many sections skipped)"
            final = incomplete if compared.odi_incomplete else _shown(odi.after, " %")
            self.odi_comparison.setText(f"Baseline {_shown(odi.before, ' %')}, final {final}.")
            self.odi_comparison.setToolTip("")
        else:
            self.odi_comparison.setText(
                f"Baseline {odi.before:g} %, final {odi.after:g} %: {odi.change.verdict_text}."
            )
            self.odi_comparison.setToolTip(odi.change.text)

    def _show_errors(self, by_field: dict[str, str]) -> None:
        leftover = self._ending.show(by_field)
        leftover = self._final.show(leftover)
        self.general_error.setText(" ".join(leftover.values()))
        self.general_error.setVisible(bool(leftover))

    def _on_buttons_accepted(self) -> None:
        try:
            self.plan = self._operations.run(
                self._services.plans.discharge,
                self._actor,
                self._open_plan.id,
                reason=str(self.reason.currentData()),
                note=self.note.toPlainText(),
                final_assessment=self.final_assessment(),
                expected_version=self._open_plan.version,
            )
        except ValidationFailed as error:
            self._show_errors(error.by_field)
            return
        except ServiceError as error:
            self._show_errors({"": str(error)})
            return
        self.discharged.emit(self.plan.id)
        self._offer_summary()
        self.accept()

    def _offer_summary(self) -> None:
        """Offer the discharge summary, when this account may print and a service can."""
        documents = getattr(self._services, "documents", None)
        if not isinstance(documents, DocumentService) or not allows(self._actor, Permission.PRINT):
            return
        answer = QMessageBox.question(
            self,
            "Discharge summary",
            "The plan is closed. Print the discharge summary for the patient now?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        if self.print_summary is not None:
            self.print_summary(self._patient_id)
            return
        try:
            draft = documents.draft_discharge_summary(self._actor, self._patient_id)
        except ServiceError as error:
            QMessageBox.warning(self, "Discharge summary", str(error))
            return
        # QtPdf loads when a document is first previewed or printed, not at start-up.
        from backclinic.ui.print_preview import DocumentOutput, PrintPreview

        # Only the preview's Print… or Save as PDF… hand it over, and they say where it went.
        output = DocumentOutput(
            documents, self._actor, title=draft.title, draft=draft, operations=self._operations
        )
        patient = self._services.patients.get(self._actor, self._patient_id)
        self.summary_preview = PrintPreview(
            output, suggested_name=f"{patient.mrn} {draft.title}.pdf".replace("/", "-"), parent=self
        )
        self.summary_preview.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.summary_preview.exec()
        self.summary_document_id = output.document_id

    def _on_nprs_value_changed(self, _value: int) -> None:
        self._show_comparison()

    def _on_odi_current_index_changed(self, _index: int) -> None:
        self._show_comparison()


def _shown(value: float | None, suffix: str = "") -> str:
    return "not recorded" if value is None else f"{value:g}{suffix}"
