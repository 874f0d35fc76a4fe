"""The plan wizard: from the latest intake's proposal to a stored plan, page by page.

Every page starts from the model's recommendation (services.plans.propose) and shows why;
the clinician may change frequencies, durations, points, interventions and goals. Finish
hands the choices to services.plans.create, which checks everything again.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from typing import Protocol, cast

from PySide6.QtCore import (
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTime,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)
from shiboken6 import isValid

from backclinic.domain.wording import weekday_name
from backclinic.services.assessments import ScreeningOutcome
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ServiceError, ValidationFailed
from backclinic.services.plans import (
    InterventionDose,
    PhaseProposal,
    PlanChoices,
    PlanPhase,
    PlanProposal,
    PlanView,
    Reason,
    choices_from_proposal,
)
from backclinic.ui.acupoint_picker import AcupointPicker
from backclinic.ui.field_errors import ERROR_STYLE
from backclinic.ui.operations import Operations
from backclinic.ui.row_table import RowTableModel
from backclinic.ui.safety_records_dialog import ClearanceDialog
from backclinic.ui.wording import count_suffix

ModelIndex = QModelIndex | QPersistentModelIndex
NOTICE_STYLE = "color: #8a5a00;"
NOT_SET = "Not set"


class DatedVisit(Protocol):
    """A planned visit (VisitDraft) or a stored one (VisitView)."""

    @property
    def visit_date(self) -> dt.date: ...
    @property
    def phase_number(self) -> int: ...
    @property
    def modalities(self) -> tuple[str, ...]: ...


class VisitTableModel(RowTableModel[DatedVisit]):
    """Dated visits (planned drafts or stored visits), one row each, in date order."""

    def __init__(self, modality_label: Callable[[str], str], parent: QWidget | None = None) -> None:
        super().__init__(
            (
                ("Date", lambda v: f"{v.visit_date:%a} {v.visit_date.isoformat()}"),
                ("Phase", lambda v: str(v.phase_number)),
                ("Modalities", lambda v: " + ".join(modality_label(m) for m in v.modalities)),
                ("Status", lambda v: str(getattr(v, "status", "planned")).capitalize()),
            ),
            parent,
        )


def visit_table(
    services: Services, name: str, parent: QWidget
) -> tuple[VisitTableModel, QTableView]:
    """A read-only table of dated visits, named ``name``, and its model."""
    model = VisitTableModel(lambda code: services.catalogue.label("modalities", code), parent)
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return model, table


def reasons_html(reasons: Sequence[Reason]) -> str:
    """Each reason: the rule in words, then its source quoted, small."""
    items = "".join(
        f"<li>{html.escape(r.text)}<br><small><i>{html.escape(r.source)}</i></small></li>"
        for r in reasons
    )
    return f"<ul style='margin-left:-20px'>{items}</ul>" if items else ""


def error_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def show_error(label: QLabel, message: str) -> None:
    label.setText(message)
    label.setVisible(bool(message))


def reason_browser(reasons: Sequence[Reason], height: int = 110) -> QTextBrowser:
    browser = QTextBrowser()
    browser.setOpenExternalLinks(False)
    browser.setHtml(reasons_html(reasons))
    browser.setFixedHeight(height)
    return browser


def scrolled(content: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(content)
    return area


class ScreeningPage(QWizardPage):
    """Red flags first: cauda equina stops here for good; other flags need a clearance."""

    def __init__(
        self,
        services: Services,
        proposal: PlanProposal,
        clearance: str | None,
        record_clearance: Callable[[], PlanProposal | None] | None = None,
    ) -> None:
        super().__init__()
        self.setTitle("Red-flag screening")
        self._record_clearance = record_clearance
        screening = proposal.screening
        self.outcome = screening.outcome
        outcome_label = services.catalogue.label("screening_outcomes", str(screening.outcome))
        self.outcome_label = QLabel(outcome_label)
        self.outcome_label.setObjectName("screening_outcome")
        self.outcome_label.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.message = QLabel(screening.message)
        self.message.setObjectName("screening_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        present = ", ".join(services.catalogue.label("red_flags", c) for c in screening.present)
        self.present_label = QLabel(f"Present: {present}" if present else "")
        self.present_label.setWordWrap(True)
        self.clearance_note = QLineEdit(clearance or "")
        self.clearance_note.setObjectName("clearance_note")
        self.clearance_note.setPlaceholderText('e.g. "cleared by GP on 2026-01-03"')
        self.clearance_error = error_label("red_flag_clearance_error")
        layout = QVBoxLayout(self)
        layout.addWidget(self.outcome_label)
        layout.addWidget(self.message)
        layout.addWidget(self.present_label)
        # A flag cleared by a clearance on record (the message quotes it) needs no note; one
        # cleared by the intake's own note shows that note, to be corrected if need be.
        needs_note = self.outcome == ScreeningOutcome.NEEDS_CLEARANCE or (
            self.outcome == ScreeningOutcome.CLEARED and bool(clearance)
        )
        # The clearance as a record (who, when, which flags, how, why); a typed note is the
        # older way, still read from case files and still accepted here.
        self.record_button = QPushButton("Record clearance…")
        self.record_button.setObjectName("record_clearance")
        self.record_button.setToolTip(
            "Record who cleared which flags, when, how (letter, imaging, specialist review or "
            "clinical reasoning) and why."
        )
        self.note_label = QLabel("Or a clinician's note (who cleared the flags, and when):")
        if needs_note:
            if self.outcome == ScreeningOutcome.NEEDS_CLEARANCE and record_clearance:
                layout.addWidget(self.record_button, 0, Qt.AlignmentFlag.AlignLeft)
            else:
                self.note_label.setText("Clinician's clearance (who cleared the flags, and when):")
            layout.addWidget(self.note_label)
            layout.addWidget(self.clearance_note)
            layout.addWidget(self.clearance_error)
        else:
            self.clearance_note.hide()
        if screening.blocks_planning and not needs_note:
            self.message.setStyleSheet(ERROR_STYLE + " font-weight: 600;")
            stop = QLabel(
                "No plan can be made from this intake."
                + {
                    ScreeningOutcome.NOT_SCREENED: (
                        " Record a new intake with the whole red-flag screen."
                    ),
                    ScreeningOutcome.NEEDS_CONFIRMATION: (
                        " Record a new intake that confirms the flag or rules it out with a reason."
                    ),
                    ScreeningOutcome.PRECAUTIONS_NOT_ASKED: (
                        " Record a new intake that asks every acupuncture precaution."
                    ),
                }.get(self.outcome, "")
            )
            stop.setWordWrap(True)
            stop.setObjectName("screening_stop")
            layout.addWidget(stop)
        layout.addStretch(1)
        self.clearance_note.textChanged.connect(self._on_clearance_note_text_changed)
        self.record_button.clicked.connect(self._on_record_button_clicked)

    def _on_record_button_clicked(self) -> None:
        if self._record_clearance is None:
            return
        proposal = self._record_clearance()
        if proposal is None:
            return
        screening = proposal.screening
        self.outcome = screening.outcome
        self.message.setText(screening.message)
        if self.outcome == ScreeningOutcome.CLEARED:
            # Cleared by the record just made: the note is no longer asked for.
            for widget in (self.record_button, self.note_label, self.clearance_note):
                widget.hide()
            self.clearance_note.clear()
        self.completeChanged.emit()

    def clearance(self) -> str | None:
        if self.clearance_note.isHidden():
            return None
        return self.clearance_note.text().strip() or None

    def isComplete(self) -> bool:
        if self.outcome not in (
            ScreeningOutcome.CLEAR,
            ScreeningOutcome.NEEDS_CLEARANCE,
            ScreeningOutcome.CLEARED,
        ):
            return False
        if self.outcome == ScreeningOutcome.NEEDS_CLEARANCE:
            return self.clearance() is not None
        return True

    def validatePage(self) -> bool:
        # QWizard.next() does not ask isComplete(); a stop here must hold for it too.
        return self.isComplete()

    def _on_clearance_note_text_changed(self, _text: str) -> None:
        show_error(self.clearance_error, "")
        self.completeChanged.emit()


class SuitabilityPage(QWizardPage):
    """Who the article's model is for, matched against this intake; notices never block."""

    def __init__(self, services: Services, proposal: PlanProposal) -> None:
        super().__init__()
        self.setTitle("Suitability")
        suitability = proposal.suitability
        catalogue = services.catalogue
        duration = (
            catalogue.label("duration_classes", suitability.duration_class)
            if suitability.duration_class
            else "Onset not recorded"
        )
        self.duration_label = QLabel(f"Duration of this episode: {duration}")
        self.duration_label.setObjectName("duration_class")
        baseline = proposal.baseline
        facts = []
        if baseline.nprs_current is not None:
            band = catalogue.label("nprs_bands", baseline.nprs_band) if baseline.nprs_band else ""
            facts.append(f"pain {baseline.nprs_current}/10 ({band.lower()})")
        if baseline.odi is not None:
            facts.append(
                f"ODI {baseline.odi.percent:.1f} %"
                if baseline.odi.percent is not None
                else "ODI incomplete"
            )
        if baseline.startback is not None:
            facts.append(
                catalogue.label("startback_risks", baseline.startback.risk) + " (STarT Back)"
            )
        self.baseline_label = QLabel("Baseline: " + (", ".join(facts) or "none recorded"))
        self.indications = QTextBrowser()
        self.indications.setObjectName("indications")
        matched = "".join(
            f"<li><b>{html.escape(m.text)}</b><br>{html.escape(m.reason.text)}</li>"
            for m in suitability.indications
        )
        self.indications.setHtml(
            f"<p>Matched indications:</p><ul>{matched}</ul>"
            if matched
            else "<p>No indication of the model matched this intake.</p>"
        )
        self.notices = QLabel("<br>".join(f"⚠ {html.escape(n.text)}" for n in suitability.notices))
        self.notices.setObjectName("notices")
        self.notices.setStyleSheet(NOTICE_STYLE)
        self.notices.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.duration_label)
        layout.addWidget(self.baseline_label)
        layout.addWidget(self.indications, 1)
        layout.addWidget(self.notices)


def point_list(
    services: Services, proposed: PhaseProposal, refusals: dict[str, str]
) -> AcupointPicker:
    """A phase's proposed points, each with its reasons; precaution refusals come along."""
    points = AcupointPicker(
        services.catalogue,
        refusals=refusals,
        name=f"points_{proposed.phase.number}",
        list_height=120,
        remove_text="Remove",
    )
    points.set_points({p.code: " ".join(r.text for r in p.reasons) for p in proposed.points})
    return points


class AcupuncturePhaseBox(QGroupBox):
    """One phase's acupuncture: frequency or "as needed", weeks, points, and why."""

    def __init__(
        self,
        services: Services,
        proposed: PhaseProposal,
        refusals: dict[str, str],
        *,
        previous_aims: tuple[str, ...] = (),
    ) -> None:
        phase = proposed.phase
        super().__init__(f"Phase {phase.number}: {phase.name}")
        self.setObjectName(f"acupuncture_phase_{phase.number}")
        self.per_week = QSpinBox()
        self.per_week.setRange(1, 7)
        self.per_week.setSuffix(" per week")
        self.per_week.setValue(phase.acupuncture_per_week or 1)
        self.as_needed = QCheckBox("As needed (no fixed sessions)")
        self.as_needed.setChecked(phase.acupuncture_as_needed)
        self.weeks = QSpinBox()
        self.weeks.setRange(1, 52)
        self.weeks.setValue(phase.end_week - phase.start_week + 1)
        count_suffix(self.weeks, "week", "weeks")
        self.points = point_list(services, proposed, refusals)
        # The phase's own aim, in the protocol's (the article's) words; the needling aims
        # only where this phase's differ from the phase before, so no line repeats itself.
        self.aim_label = QLabel(phase.aim)
        self.aim_label.setObjectName(f"aim_{phase.number}")
        self.aim_label.setWordWrap(True)
        aims = "; ".join(proposed.acupuncture_aims)
        frequency = QHBoxLayout()
        frequency.addWidget(self.per_week)
        frequency.addWidget(self.as_needed)
        frequency.addStretch(1)
        form = QFormLayout(self)
        form.addRow("Frequency", frequency)
        form.addRow("Duration", self.weeks)
        form.addRow("Aim", self.aim_label)
        if aims and proposed.acupuncture_aims != previous_aims:
            needling_aims = QLabel(aims)
            needling_aims.setWordWrap(True)
            form.addRow("Needling aims", needling_aims)
        form.addRow("Why", reason_browser(proposed.reasons))
        form.addRow("Points", self.points)
        self.as_needed.toggled.connect(self._on_as_needed_toggled)
        self._on_as_needed_toggled(self.as_needed.isChecked())

    def _on_as_needed_toggled(self, checked: bool) -> None:
        self.per_week.setEnabled(not checked)


class AcupuncturePage(QWizardPage):
    def __init__(self, services: Services, proposal: PlanProposal) -> None:
        super().__init__()
        self.setTitle("Acupuncture per phase")
        self.setSubTitle("The model's recommendation, with its reasons; change what you need.")
        refusals = point_refusals(services, proposal)
        previous: list[tuple[str, ...]] = [(), *(p.acupuncture_aims for p in proposal.phases)]
        self.phases = [
            AcupuncturePhaseBox(services, phase, refusals, previous_aims=before)
            for phase, before in zip(proposal.phases, previous, strict=False)
        ]
        content = QWidget()
        column = QVBoxLayout(content)
        # The guidelines first, before the clinician settles the needling.
        column.addWidget(self._evidence(services))
        for box in self.phases:
            column.addWidget(box)
        precautions = QGroupBox("Precautions")
        precautions.setObjectName("precautions")
        notes = QVBoxLayout(precautions)
        for note in proposal.precautions:
            removed = ", ".join(f"{r.code} (phase {r.phase_number})" for r in note.removed_points)
            text = f"<b>{html.escape(note.label)}</b>: {html.escape(note.needling)}"
            if note.no_electroacupuncture:
                text += " No electro-acupuncture."
            if removed:
                text += f"<br>Removed: {html.escape(removed)}"
            label = QLabel(text)
            label.setWordWrap(True)
            label.setStyleSheet(NOTICE_STYLE)
            notes.addWidget(label)
        if not proposal.precautions:
            notes.addWidget(QLabel("None recorded at intake."))
        # Pregnancy: lumbosacral and lower abdominal points only with an explicit
        # acknowledgement; the page is not complete while one is planned unacknowledged.
        self._needling = services.safety.needling([note.code for note in proposal.precautions])
        self.acknowledgement = QCheckBox()
        self.acknowledgement.setObjectName("acknowledge_points")
        self.acknowledgement_advice = QLabel(self._needling.acknowledgement)
        self.acknowledgement_advice.setWordWrap(True)
        notes.addWidget(self.acknowledgement)
        notes.addWidget(self.acknowledgement_advice)
        self.acknowledgement.toggled.connect(self._on_acknowledgement_toggled)
        for box in self.phases:
            model = box.points.list.model()
            model.rowsInserted.connect(lambda *_: self._points_changed())
            model.rowsRemoved.connect(lambda *_: self._points_changed())
            model.modelReset.connect(lambda *_: self._points_changed())
        self._points_changed()
        notes.addStretch(1)
        precautions.setMaximumWidth(280)
        row = QHBoxLayout(self)
        row.addWidget(scrolled(content), 1)
        row.addWidget(precautions)

    def needs_acknowledgement(self) -> tuple[str, ...]:
        """The planned points the precautions allow only when acknowledged, in order."""
        planned = [code for box in self.phases for code in box.points.codes()]
        return tuple(dict.fromkeys(c for c in planned if c in self._needling.acknowledge))

    def acknowledged_points(self) -> tuple[str, ...]:
        return self.needs_acknowledgement() if self.acknowledgement.isChecked() else ()

    def _points_changed(self) -> None:
        # Connected through a lambda: the list's model signals while the form is destroyed.
        if not (isValid(self) and isValid(self.acknowledgement)):
            return
        needed = self.needs_acknowledgement()
        for widget in (self.acknowledgement, self.acknowledgement_advice):
            widget.setVisible(bool(needed))
        self.acknowledgement.setText(
            f"I acknowledge planning {', '.join(needed)} under the precaution in force"
        )
        self.completeChanged.emit()

    def _on_acknowledgement_toggled(self, _checked: bool) -> None:
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.needs_acknowledgement() or self.acknowledgement.isChecked()

    def _evidence(self, services: Services) -> QGroupBox:
        """The guidelines' positions side by side, from the protocol, with no verdict:
        the clinic decides."""
        box = QGroupBox("What the guidelines say about acupuncture (the clinic decides)")
        box.setObjectName("guideline_evidence")
        row = QHBoxLayout(box)
        self.evidence: list[QLabel] = []
        for position in services.protocol.evidence:
            label = QLabel(
                f"<b>{html.escape(position.guideline)}</b><br>{html.escape(position.position)}"
                f"<br><small>Source: {html.escape(position.source)}</small>"
            )
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            row.addWidget(label, 1)
            self.evidence.append(label)
        box.setVisible(bool(self.evidence))
        return box


def point_refusals(services: Services, proposal: PlanProposal) -> dict[str, str]:
    """Every point this patient's precautions rule out (the domain's one rule, which the
    recommendation applied and the plan service applies on save), with the sentence to
    show when the clinician asks for it anyway."""
    return dict(services.safety.needling([note.code for note in proposal.precautions]).forbidden)


class PtPhaseBox(QGroupBox):
    """One phase's PT: interventions with editable dosage, and visits per week."""

    def __init__(self, services: Services, proposed: PhaseProposal) -> None:
        phase = proposed.phase
        super().__init__(f"Phase {phase.number}: {phase.name}")
        self.setObjectName(f"pt_phase_{phase.number}")
        self._catalogue = services.catalogue
        self.error = error_label(f"interventions_{phase.number}_error")
        self.per_week = QSpinBox()
        self.per_week.setRange(0, 7)
        self.per_week.setValue(phase.pt_per_week)
        count_suffix(self.per_week, "visit per week", "visits per week")
        self.table = QTableWidget(0, 2)
        self.table.setObjectName(f"interventions_{phase.number}")
        self.table.setHorizontalHeaderLabels(["Intervention", "Dosage (double-click to edit)"])
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setFixedHeight(150)
        for choice in proposed.interventions:
            self.add(choice.code, choice.dosage, " ".join(r.text for r in choice.reasons))
        self.picker = QComboBox()
        self.picker.setObjectName(f"intervention_picker_{phase.number}")
        for code, intervention in self._catalogue.interventions.items():
            self.picker.addItem(intervention.label, code)
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        row = QHBoxLayout()
        row.addWidget(self.picker, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        form = QFormLayout(self)
        form.addRow("PT visits", self.per_week)
        form.addRow("Interventions", self.table)
        form.addRow("", row)
        form.addRow("", self.error)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)

    def add(
        self, code: str, dosage: str | None = None, why: str = "Added by the clinician."
    ) -> bool:
        if code in [dose.code for dose in self.doses()]:
            show_error(self.error, f"{self._catalogue.label('interventions', code)} is listed.")
            return False
        show_error(self.error, "")
        intervention = self._catalogue.interventions[code]
        row = self.table.rowCount()
        self.table.insertRow(row)
        name = QTableWidgetItem(intervention.label)
        name.setData(Qt.ItemDataRole.UserRole, code)
        name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
        name.setToolTip(f"{why}\n\n{intervention.instructions}")
        self.table.setItem(row, 0, name)
        self.table.setItem(row, 1, QTableWidgetItem(dosage or intervention.dosage))
        return True

    def doses(self) -> tuple[InterventionDose, ...]:
        doses = []
        for row in range(self.table.rowCount()):
            name, dosage = self.table.item(row, 0), self.table.item(row, 1)
            if name is None:
                continue
            doses.append(
                InterventionDose(
                    name.data(Qt.ItemDataRole.UserRole), dosage.text().strip() if dosage else ""
                )
            )
        return tuple(doses)

    def _on_add_button_clicked(self) -> None:
        code = self.picker.currentData()
        if code:
            self.add(code)

    def _on_remove_button_clicked(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)


class PtPage(QWizardPage):
    def __init__(self, services: Services, proposal: PlanProposal) -> None:
        super().__init__()
        self.setTitle("Physical therapy per phase")
        self.setSubTitle("Interventions and dosage from the model; hover a row to see why.")
        self.phases = [PtPhaseBox(services, phase) for phase in proposal.phases]
        content = QWidget()
        column = QVBoxLayout(content)
        for box in self.phases:
            column.addWidget(box)
        layout = QVBoxLayout(self)
        layout.addWidget(scrolled(content))


class GoalsPage(QWizardPage):
    def __init__(self, proposal: PlanProposal) -> None:
        super().__init__()
        self.setTitle("Goals")
        goals = proposal.goals
        self.target_pain = QSpinBox()
        self.target_pain.setObjectName("target_pain")
        self.target_pain.setRange(-1, 10)
        self.target_pain.setSpecialValueText(NOT_SET)
        self.target_pain.setValue(-1 if goals.target_nprs is None else goals.target_nprs)
        self.target_odi = QDoubleSpinBox()
        self.target_odi.setObjectName("target_odi")
        self.target_odi.setRange(-1, 100)
        self.target_odi.setDecimals(1)
        self.target_odi.setSuffix(" %")
        self.target_odi.setSpecialValueText(NOT_SET)
        self.target_odi.setValue(
            -1 if goals.target_odi_percent is None else goals.target_odi_percent
        )
        self.functional_goals = QPlainTextEdit("\n".join(goals.patient_goals))
        self.functional_goals.setObjectName("functional_goals")
        self.functional_goals.setPlaceholderText("One goal per line, in the patient's words")
        self.functional_goals.setTabChangesFocus(True)
        self.error = error_label("goals_error")
        form = QFormLayout(self)
        form.addRow("Target pain (0–10)", self.target_pain)
        if goals.target_nprs_reason:
            form.addRow("", reason_browser([goals.target_nprs_reason], 64))
        form.addRow("Target ODI", self.target_odi)
        if goals.target_odi_reason:
            form.addRow("", reason_browser([goals.target_odi_reason], 64))
        form.addRow("Patient's goals", self.functional_goals)
        form.addRow("", self.error)

    def pain(self) -> int | None:
        return None if self.target_pain.value() < 0 else self.target_pain.value()

    def odi(self) -> float | None:
        return None if self.target_odi.value() < 0 else round(self.target_odi.value(), 1)

    def goal_lines(self) -> tuple[str, ...]:
        lines = self.functional_goals.toPlainText().splitlines()
        return tuple(line.strip() for line in lines if line.strip())


class ReviewPage(QWizardPage):
    """Start date and clinic days, the phase timeline and every dated visit, live."""

    def __init__(self, wizard: PlanWizard, services: Services, actor: Actor) -> None:
        super().__init__()
        self._wizard = wizard
        self._feasible = False
        self.setTitle("Review and schedule")
        clinic_days = services.plans.clinic_days(actor)
        self.closed_dates = services.plans.closed_dates(actor)
        self._booked_with = actor.name
        self.closed_note = " Clinic closures are skipped." if self.closed_dates else ""
        self.visit_time = QTimeEdit()
        self.visit_time.setObjectName("visit_time")
        self.visit_time.setDisplayFormat("HH:mm")
        try:
            settings = services.clinic.settings()
        except LookupError:
            opens, closes = QTime(8, 0), QTime(18, 0)
        else:
            opens = QTime.fromString(settings.opens_at, "HH:mm")
            closes = QTime.fromString(settings.closes_at, "HH:mm")
        # The last bookable minute is one before closing, as the service checks.
        self.visit_time.setTimeRange(opens, closes.addSecs(-60))
        self.visit_time.setTime(opens)
        self.visit_time.setToolTip("The time of day every new visit of this plan is booked at.")
        self.start_date = QDateEdit()
        self.start_date.setObjectName("start_date")
        self.start_date.setCalendarPopup(True)
        self.start_date.setDisplayFormat("ddd yyyy-MM-dd")
        first = first_clinic_day(services.patients.today(), clinic_days)
        self.start_date.setDate(QDate(first.year, first.month, first.day))
        self.day_boxes: list[QCheckBox] = []
        days = QHBoxLayout()
        for weekday in range(7):
            box = QCheckBox(weekday_name(weekday)[:3])
            box.setObjectName(f"clinic_day_{weekday}")
            box.setChecked(weekday in clinic_days)
            box.toggled.connect(self._on_clinic_day_toggled)
            self.day_boxes.append(box)
            days.addWidget(box)
        days.addStretch(1)
        self.schedule_error = error_label("clinic_days_error")
        self.timeline = QLabel()
        self.timeline.setObjectName("timeline")
        self.timeline.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setObjectName("visit_summary")
        self.visits, self.visit_table = visit_table(services, "visit_table", self)
        self.create_error = error_label("create_error")
        form = QFormLayout()
        form.addRow("Start date", self.start_date)
        form.addRow("Clinic days", days)
        form.addRow("Visit time", self.visit_time)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.schedule_error)
        layout.addWidget(self.timeline)
        layout.addWidget(self.summary)
        layout.addWidget(self.visit_table, 1)
        layout.addWidget(self.create_error)
        self.start_date.dateChanged.connect(self._on_start_date_date_changed)
        self.visit_time.timeChanged.connect(self._on_visit_time_time_changed)

    def booking(self) -> str:
        """When and with whom the new visits are booked (the service books them so)."""
        return (
            f"Each visit is booked at {self.chosen_time()} with {self._booked_with}."
            f"{self.closed_note}"
        )

    def chosen_time(self) -> str:
        return self.visit_time.time().toString("HH:mm")

    def clinic_days(self) -> frozenset[int]:
        return frozenset(day for day, box in enumerate(self.day_boxes) if box.isChecked())

    def initializePage(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Ask the service for the schedule these choices make, and show it or why not."""
        show_error(self.create_error, "")
        choices = self._wizard.choices()
        lines = []
        for phase in choices.phases:
            start = choices.start_date + dt.timedelta(weeks=phase.start_week - 1)
            end = choices.start_date + dt.timedelta(weeks=phase.end_week, days=-1)
            acupuncture_words = (
                "as needed"
                if phase.acupuncture_as_needed
                else f"{phase.acupuncture_per_week} per week"
            )
            lines.append(
                f"<b>Phase {phase.number} {html.escape(phase.name)}</b>, weeks "
                f"{phase.start_week}–{phase.end_week} ({start.isoformat()} to "
                f"{end.isoformat()}): acupuncture {acupuncture_words}, "
                f"PT {phase.pt_per_week} per week"
            )
        self.timeline.setText("<br>".join(lines))
        try:
            drafts = self._wizard.services.plans.preview(choices, closed_dates=self.closed_dates)
        except ValidationFailed as error:
            self._feasible = False
            show_error(self.schedule_error, error.by_field.get("clinic_days", str(error)))
            self.visits.set_rows([])
            self.summary.setText("")
        else:
            self._feasible = True
            show_error(self.schedule_error, "")
            self.visits.set_rows(drafts)
            acupuncture = sum("acupuncture" in d.modalities for d in drafts)
            pt = sum("pt" in d.modalities for d in drafts)
            self.summary.setText(
                f"{len(drafts)} visits: {acupuncture} with acupuncture, {pt} with PT. "
                f"{self.booking()}"
            )
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._feasible

    def validatePage(self) -> bool:
        return self._wizard.create_plan()

    def _on_start_date_date_changed(self, _date: QDate) -> None:
        self.reload()

    def _on_clinic_day_toggled(self, _checked: bool) -> None:
        self.reload()

    def _on_visit_time_time_changed(self, _time: QTime) -> None:
        self.reload()


def first_clinic_day(today: dt.date, clinic_days: frozenset[int]) -> dt.date:
    """Today if the clinic is open today, else the next open day."""
    for offset in range(7):
        day = today + dt.timedelta(days=offset)
        if day.weekday() in clinic_days:
            return day
    return today


class PlanWizard(QWizard):
    """Build a plan from the model's proposal; ``plan`` holds the stored PlanView."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        *,
        proposal: PlanProposal | None = None,
        operations: Operations | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self._actor = actor
        self._patient_id = patient_id
        self._operations = operations or Operations(self)
        self.plan: PlanView | None = None
        self.proposal = proposal or services.plans.propose(actor, patient_id)
        latest = services.assessments.latest_intake(actor, patient_id)
        patient = services.patients.get(actor, patient_id)
        self.setWindowTitle(f"Build plan — {patient.display_name}")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.screening_page = ScreeningPage(
            services,
            self.proposal,
            latest.intake.red_flag_clearance if latest else None,
            record_clearance=self._record_clearance,
        )
        self.suitability_page = SuitabilityPage(services, self.proposal)
        self.acupuncture_page = AcupuncturePage(services, self.proposal)
        self.pt_page = PtPage(services, self.proposal)
        self.goals_page = GoalsPage(self.proposal)
        self.review_page = ReviewPage(self, services, actor)
        for page in (
            self.screening_page,
            self.suitability_page,
            self.acupuncture_page,
            self.pt_page,
            self.goals_page,
            self.review_page,
        ):
            self.addPage(page)
        # Fits a 1366×768 screen with its title bar and taskbar; the pages scroll.
        self.resize(900, 660)

    @classmethod
    def build(
        cls,
        parent: QWidget | None,
        services: Services,
        actor: Actor,
        patient_id: int,
        *,
        proposal: PlanProposal | None = None,
        operations: Operations | None = None,
    ) -> PlanView | None:
        try:
            wizard = cls(
                services, actor, patient_id, parent, proposal=proposal, operations=operations
            )
        except ServiceError as error:
            QMessageBox.warning(parent, "No plan can be built", str(error))
            return None
        wizard.exec()
        return wizard.plan

    def _record_clearance(self) -> PlanProposal | None:
        """The clearance dialog over the wizard; the proposal anew once one is recorded."""
        status = self.services.safety.status(self._actor, self._patient_id)
        dialog = ClearanceDialog(
            self.services, self._actor, self._patient_id, status, self, operations=self._operations
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        self.proposal = self.services.plans.propose(self._actor, self._patient_id)
        return self.proposal

    def choices(self) -> PlanChoices:
        """The clinician's choices: the proposal's, with every page's edits applied."""
        review = self.review_page
        base = choices_from_proposal(
            self.proposal,
            start=cast(dt.date, review.start_date.date().toPython()),
            clinic_days=review.clinic_days(),
        )
        phases = []
        next_week = 1
        for proposed, acupuncture, pt in zip(
            base.phases, self.acupuncture_page.phases, self.pt_page.phases, strict=True
        ):
            weeks = acupuncture.weeks.value()
            as_needed = acupuncture.as_needed.isChecked()
            phases.append(
                PlanPhase(
                    number=proposed.number,
                    name=proposed.name,
                    start_week=next_week,
                    end_week=next_week + weeks - 1,
                    acupuncture_per_week=None if as_needed else acupuncture.per_week.value(),
                    acupuncture_as_needed=as_needed,
                    pt_per_week=pt.per_week.value(),
                    pt_interventions=pt.doses(),
                    acupoints=acupuncture.points.codes(),
                    aim=proposed.aim,
                )
            )
            next_week += weeks
        return PlanChoices(
            start_date=base.start_date,
            clinic_days=base.clinic_days,
            phases=tuple(phases),
            target_pain=self.goals_page.pain(),
            target_odi=self.goals_page.odi(),
            functional_goals=self.goals_page.goal_lines(),
            red_flag_clearance=self.screening_page.clearance(),
            protocol_id=base.protocol_id,
            protocol_version=base.protocol_version,
            reasons=base.reasons,
            acknowledged_points=self.acupuncture_page.acknowledged_points(),
            visit_time=review.chosen_time(),
        )

    def create_plan(self) -> bool:
        """Store the plan (one transaction); on refusal say why on the review page."""
        try:
            self.plan = self._operations.run(
                self.services.plans.create, self._actor, self._patient_id, self.choices()
            )
        except ValidationFailed as error:
            show_error(
                self.review_page.create_error,
                "Not saved: " + " ".join(dict.fromkeys(error.by_field.values())),
            )
            return False
        except ServiceError as error:
            show_error(self.review_page.create_error, f"Not saved: {error}")
            return False
        return True
