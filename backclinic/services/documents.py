"""Printed documents: build the plan and discharge summaries, keep each one as handed over.

A document is first drafted (rendered from the services' views, converted here into the
reports' plain inputs) for the preview, which records nothing. Only when it is sent to a
printer or saved as a PDF are the exact bytes stored with their hash and where they went,
with one "print" audit entry in the same transaction. Reprints and exports hand back those
stored bytes, never a fresh rendering, so a reprint is what the patient was given, byte
for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backclinic.db.models import ClinicianRow, DocumentRow, PlanRow
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.episode import MeasureCourse, count
from backclinic.domain.outcomes import MEASURES, OutcomeChange, measure_rule
from backclinic.domain.progress import immediate_response
from backclinic.domain.protocol import Protocol
from backclinic.reports.content import (
    Attendance,
    ChartPhase,
    DischargeSummary,
    DocumentFrame,
    HomeExercise,
    Letterhead,
    Outcome,
    PatientLine,
    PatientPrecaution,
    PlannedVisit,
    PlanPhase,
    PlanSummary,
    RenderedPdf,
    TreatedSession,
    discharge_title,
)
from backclinic.reports.renderer import (
    DocumentRenderer,
    Drawing,
    InProcessRenderer,
    RenderFailed,
    Summary,
)
from backclinic.services.assessments import AssessmentService, FlagAnswer
from backclinic.services.clinic import ClinicService
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.episodes import course_of, in_episode
from backclinic.services.errors import FieldError, NotFound, ServiceError, ValidationFailed
from backclinic.services.files import check_output, write_atomically
from backclinic.services.patients import Patient, PatientService
from backclinic.services.permissions import Permission
from backclinic.services.plans import InterventionDose, PhaseView, PlanService, PlanView
from backclinic.services.safety import records_in_words, status_on, supine_note_on
from backclinic.services.sessions import SessionRecord, SessionService
from backclinic.services.use_case import Change as Changed
from backclinic.services.use_case import reads_no_records, use_case

PLAN_SUMMARY = "plan_summary"
DISCHARGE_SUMMARY = "discharge_summary"
PLAN_SUMMARY_TITLE = "Plan summary"
KIND_LABELS = {PLAN_SUMMARY: "Plan summary", DISCHARGE_SUMMARY: "Discharge summary"}
COMMAND_LINE = "Command line"


class DocumentNotDrawn(ServiceError):
    """The PDF could not be drawn (the drawing failed, died or took too long)."""


@dataclass(frozen=True)
class DocumentInfo:
    """A row of the Documents tab."""

    id: int
    kind: str
    title: str
    created_at: dt.datetime
    clinician: str
    pages: int
    destination: str | None = None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class DraftDocument:
    """A rendered document not yet handed over: what the preview shows, stored by nobody."""

    patient_id: int
    plan_id: int | None
    kind: str
    title: str
    pages: int
    pdf: bytes


@dataclass(frozen=True)
class StoredDocument:
    id: int
    patient_id: int
    plan_id: int | None
    kind: str
    title: str
    created_at: dt.datetime
    pages: int
    sha256: str
    pdf: bytes
    destination: str | None = None


class DocumentService:
    def __init__(
        self,
        context: ServiceContext,
        protocol: Protocol,
        catalogue: Catalogue,
        clinic: ClinicService,
        patients: PatientService,
        plans: PlanService,
        assessments: AssessmentService,
        sessions: SessionService,
        *,
        renderer: DocumentRenderer | None = None,
    ) -> None:
        """``renderer`` draws the PDFs: in this process unless told otherwise (the window
        draws in a child process, so that reportlab never stays in its memory)."""
        self._context = context
        self._renderer = renderer or InProcessRenderer()
        self._protocol = protocol
        self._catalogue = catalogue
        self._clinic = clinic
        self._patients = patients
        self._plans = plans
        self._assessments = assessments
        self._sessions = sessions

    # ------------------------------------------------------------------------- printing

    @use_case(Permission.PRINT)
    def draft_plan_summary(self, actor: Actor, patient_id: int) -> DraftDocument:
        """Render the patient's plan summary for the preview; nothing is stored or audited."""
        with self._renderer.drawing() as drawing:
            summary = self.plan_summary(actor, patient_id)
            rendered = self._render(drawing, summary)
        plan = self._plan_to_print(actor, patient_id, "plan summary")
        return DraftDocument(
            patient_id, plan.id, PLAN_SUMMARY, summary.frame.title, rendered.pages, rendered.pdf
        )

    @use_case(Permission.PRINT)
    def draft_discharge_summary(self, actor: Actor, patient_id: int) -> DraftDocument:
        """Render the discharge summary (an interim one while the plan is active)."""
        with self._renderer.drawing() as drawing:
            summary = self.discharge_summary(actor, patient_id)
            rendered = self._render(drawing, summary)
        plan = self._plan_to_print(actor, patient_id, "discharge summary")
        return DraftDocument(
            patient_id,
            plan.id,
            DISCHARGE_SUMMARY,
            summary.frame.title,
            rendered.pages,
            rendered.pdf,
        )

    @staticmethod
    def _render(drawing: Drawing, summary: Summary) -> RenderedPdf:
        # reportlab loads on the first print, not at start-up (it is a large import); a
        # child-process renderer loads it while the content above is gathered.
        try:
            return drawing.render(summary)
        except RenderFailed as error:
            raise DocumentNotDrawn(str(error)) from error

    @use_case(Permission.PRINT, changes={Changed.DOCUMENTS})
    def keep_printed(
        self, actor: Actor, draft: DraftDocument, *, destination: str
    ) -> StoredDocument:
        """Keep a draft as handed over to ``destination`` (a printer or a file), audited."""
        if not destination.strip():
            raise ValidationFailed(
                [FieldError("destination", "Say where the document was sent: a printer or file.")]
            )
        return self._store(actor, draft, destination.strip())

    @use_case(Permission.PRINT, changes={Changed.DOCUMENTS})
    def print_plan_summary(
        self, actor: Actor, patient_id: int, *, destination: str = "a PDF file"
    ) -> StoredDocument:
        """Render the plan summary and keep it as sent to ``destination`` in one step."""
        return self.keep_printed(
            actor, self.draft_plan_summary(actor, patient_id), destination=destination
        )

    @use_case(Permission.PRINT, changes={Changed.DOCUMENTS})
    def print_discharge_summary(
        self, actor: Actor, patient_id: int, *, destination: str = "a PDF file"
    ) -> StoredDocument:
        """Render the discharge summary and keep it as sent to ``destination``."""
        return self.keep_printed(
            actor, self.draft_discharge_summary(actor, patient_id), destination=destination
        )

    @use_case(Permission.VIEW_CLINICAL)
    def documents(self, actor: Actor, patient_id: int) -> list[DocumentInfo]:
        """The patient's printed documents, newest first, without their bytes."""
        with self._context.reading() as session:
            rows = session.execute(
                select(
                    DocumentRow.id,
                    DocumentRow.kind,
                    DocumentRow.title,
                    DocumentRow.created_at,
                    DocumentRow.pages,
                    DocumentRow.destination,
                    ClinicianRow.full_name,
                )
                .outerjoin(ClinicianRow, ClinicianRow.id == DocumentRow.created_by)
                .where(DocumentRow.patient_id == patient_id)
                .order_by(DocumentRow.id.desc())
            ).all()
            return [
                DocumentInfo(
                    id=row.id,
                    kind=row.kind,
                    title=row.title,
                    created_at=row.created_at,
                    clinician=row.full_name or COMMAND_LINE,
                    pages=row.pages,
                    destination=row.destination,
                )
                for row in rows
            ]

    @use_case(Permission.VIEW_CLINICAL)
    def pdf(self, actor: Actor, document_id: int) -> bytes:
        """The stored bytes, for a preview on screen (not audited: nothing leaves the app)."""
        with self._context.reading() as session:
            return self._row(session, document_id).pdf

    @use_case(Permission.PRINT)
    def reprint(self, actor: Actor, document_id: int, *, destination: str = "") -> bytes:
        """The stored bytes, exactly as first handed over, for printing again; audited with
        the printer it goes to."""
        with self._context.writing() as session:
            row = self._row(session, document_id)
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "reprint",
                    "document",
                    row.id,
                    row.patient_id,
                    {
                        "kind": row.kind,
                        "title": row.title,
                        "sha256": row.sha256,
                        "destination": destination,
                    },
                ),
            )
            return row.pdf

    @reads_no_records
    def protected_files(self) -> tuple[Path, ...]:
        """The live database's files, which no saved document may replace."""
        return tuple(self._context.database_files())

    @use_case(Permission.PRINT)
    def write_pdf(self, actor: Actor, document_id: int, path: Path, *, force: bool = False) -> None:
        """Save a stored document as a PDF file (Save as PDF, the command line); audited.

        The file appears whole or not at all, and only if the audit entry is written; an
        existing file is replaced only with ``force``, the live database never.
        """
        protected = self._context.database_files()
        target = check_output(path, force=force, protected=protected)
        with self._context.writing() as session:
            row = self._row(session, document_id)
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "export",
                    "document",
                    row.id,
                    row.patient_id,
                    {"kind": row.kind, "path": str(target), "sha256": row.sha256},
                ),
            )
            write_atomically(target, row.pdf, force=force, protected=protected)

    @use_case(Permission.VIEW_CLINICAL)
    def plan_summary(self, actor: Actor, patient_id: int) -> PlanSummary:
        """The plan summary's content for the patient's current (or latest) plan."""
        patient = self._patients.get(actor, patient_id)
        plan = self._plan_to_print(actor, patient_id, "plan summary")
        today = self._today()
        records = self._episode_sessions(actor, patient_id, plan, plan.ended_on or today)
        episode = course_of(
            plan,
            self._assessments.for_patient(actor, patient_id),
            records,
            thresholds=self._protocol.thresholds,
            today=today,
        )
        # Where treatment has reached, not where the calendar stands; none after discharge.
        current = next((p for p in plan.phases if p.number == episode.current_phase), None)
        with self._context.reading() as session:
            supine = supine_note_on(session, patient_id, self._protocol, self._catalogue, today)
            status = status_on(session, patient_id, self._protocol, self._catalogue, today)
        # As of the latest screen that asked them: a precaution recorded after the plan was
        # made (a pregnancy at a reassessment) is on the patient's page, one since ruled
        # out is not; without such a screen, the plan's own.
        asked = any(item.answer != FlagAnswer.NOT_ASKED for item in status.precautions)
        precaution_codes = status.precautions_in_force if asked else plan.precautions
        return PlanSummary(
            frame=self._frame(PLAN_SUMMARY_TITLE, patient, plan, actor, today),
            phases=tuple(
                PlanPhase(
                    number=p.number,
                    name=p.name,
                    start_week=p.start_week,
                    end_week=p.end_week,
                    start_date=p.start_date,
                    end_date=p.end_date,
                    acupuncture=p.acupuncture_words,
                    physical_therapy=p.pt_words,
                    aim=p.aim,
                    focus=tuple(self._intervention_label(c) for c in p.pt_focus),
                )
                for p in plan.phases
            ),
            visits=tuple(
                PlannedVisit(
                    when=v.visit_date,
                    phase_number=v.phase_number,
                    modalities=tuple(self._label("modalities", m) for m in v.modalities),
                    status=v.status,
                    time=v.visit_time,
                    clinician=v.clinician_name,
                )
                for v in plan.visits
            ),
            current_phase=current.number if current else None,
            home_programme=self._home_programme(
                current.pt_interventions
                if current
                else _reached_doses([p for p in plan.phases if p.number in episode.phases_reached]),
                supine=supine,
            ),
            target_pain=plan.target_pain,
            target_odi=plan.target_odi,
            functional_goals=plan.functional_goals,
            precautions=tuple(self._precaution(code) for code in precaution_codes),
            # Never treated, whatever the calendar says (even past the plan's last week).
            not_started=episode.discharge is None and not episode.phases_reached,
            ended=self._ended_words(plan),
            urgent_referral=self._hold(patient_id, today),
        )

    def _hold(self, patient_id: int, today: dt.date) -> str | None:
        """Why treatment is on hold for an urgent referral, or None."""
        with self._context.reading() as session:
            status = status_on(session, patient_id, self._protocol, self._catalogue, today)
        return status.message if status.on_hold else None

    @use_case(Permission.VIEW_CLINICAL)
    def discharge_summary(self, actor: Actor, patient_id: int) -> DischargeSummary:
        """The discharge summary's content for the latest plan, ended or not."""
        patient = self._patients.get(actor, patient_id)
        plan = self._plan_to_print(actor, patient_id, "discharge summary")
        today = self._today()
        with self._context.reading() as session:
            row = session.get(PlanRow, plan.id)
            assert row is not None
            ended_on, end_reason, end_note = row.ended_on, row.end_reason, row.end_note or ""
            safety_records = records_in_words(session, patient_id, self._catalogue)
        ended = plan.status != "active"
        records = self._episode_sessions(actor, patient_id, plan, ended_on or today)
        if ended and ended_on is None:
            ended_on = records[-1].performed_on if records else today
        end = ended_on if ended and ended_on is not None else today
        assessments = self._assessments.for_patient(actor, patient_id)
        episode = course_of(
            plan, assessments, records, thresholds=self._protocol.thresholds, today=end
        )
        nprs, odi, psfs, rmdq = (self._outcome(episode.outcome(m)) for m in MEASURES)
        # The home programme holds what the patient was taught: the phases reached.
        reached = [p for p in plan.phases if p.number in episode.phases_reached]
        last_phase = reached[-1] if reached else None
        headline, recommendations = self._recommendations(
            last_phase, nprs.change, end_reason, end_note, ended_on=end if ended else None
        )
        if not ended:
            if not episode.sessions:
                weeks = count((end - plan.start_date).days // 7 + 1, "week")
                headline = headline or (
                    f"Treatment has not started: no session is recorded in the {weeks} "
                    f"since the plan began on {_day(plan.start_date)}."
                )
            # An interim summary says what the Progress tab says next, rule and numbers.
            recommendations = tuple(s.why for s in episode.suggestions) + recommendations
        points = [r.held() for r in records]
        return DischargeSummary(
            frame=self._frame(discharge_title(ended), patient, plan, actor, today),
            ended=ended,
            start_date=plan.start_date,
            end_date=end,
            end_reason=self._end_reason(end_reason) if end_reason else None,
            end_note=end_note,
            phases=tuple(
                ChartPhase(p.number, p.name, p.start_date, p.end_date) for p in plan.phases
            ),
            attendance=_attendance(plan, end, len(records)),
            nprs=nprs,
            odi=odi,
            more_outcomes=tuple(o for o in (psfs, rmdq) if o.baseline is not None),
            mean_immediate_drop=immediate_response(points).mean_drop,
            sessions=tuple(self._treated(r) for r in records),
            home_programme=self._home_programme(_reached_doses(reached)),
            recommendations=recommendations,
            headline=headline,
            evidence=self._protocol.evidence,
            safety_records=safety_records,
        )

    def _today(self) -> dt.date:
        return self._context.clock.today()

    def _plan_to_print(self, actor: Actor, patient_id: int, what: str) -> PlanView:
        plan = self._plans.active_plan(actor, patient_id) or self._plans.latest_plan(
            actor, patient_id
        )
        if plan is None:
            raise ValidationFailed(
                [
                    FieldError(
                        "plan",
                        f"This patient has no treatment plan, so there is no {what} to print.",
                    )
                ]
            )
        return plan

    def _frame(
        self, title: str, patient: Patient, plan: PlanView, actor: Actor, today: dt.date
    ) -> DocumentFrame:
        try:
            settings = self._clinic.settings()
        except LookupError:
            raise ValidationFailed(
                [
                    FieldError(
                        "clinic",
                        "Set up the clinic before printing documents: open BackClinic once "
                        "and enter the clinic's name for the letterhead.",
                    )
                ]
            ) from None
        protocol_name = (
            self._protocol.name if plan.protocol_id == self._protocol.id else plan.protocol_id
        )
        return DocumentFrame(
            title=title,
            letterhead=Letterhead(
                clinic_name=settings.clinic_name,
                address=settings.address,
                phone=settings.phone,
                email=settings.email,
                logo_path=Path(settings.logo_path) if settings.logo_path else None,
            ),
            patient=PatientLine(patient.display_name, patient.date_of_birth, patient.mrn),
            protocol_name=protocol_name,
            protocol_version=plan.protocol_version,
            printed_on=today,
            # A document names a signed-in clinician, never an operating-system account.
            printed_by=actor.name if actor.clinician_id is not None else None,
        )

    def _label(self, kind: str, code: str) -> str:
        try:
            return self._catalogue.label(kind, code)
        except KeyError:
            return code.replace("_", " ").capitalize()

    def _intervention_label(self, code: str) -> str:
        return self._label("interventions", code)

    def _home_programme(
        self, doses: tuple[InterventionDose, ...], *, supine: str | None = None
    ) -> tuple[HomeExercise, ...]:
        programme = []
        for dose in doses:
            item = self._catalogue.interventions.get(dose.code)
            if item is None:
                programme.append(HomeExercise(self._intervention_label(dose.code), "", dose.dosage))
                continue
            # The therapist's dosage for this plan wins over the catalogue's default.
            programme.append(
                HomeExercise(
                    item.label,
                    item.instructions,
                    dose.dosage or item.dosage,
                    adaptation=supine if supine and item.supine else "",
                )
            )
        return tuple(programme)

    def _precaution(self, code: str) -> PatientPrecaution:
        rule = self._protocol.precautions.get(code)
        if rule is None:
            return PatientPrecaution(self._label("precautions", code), "")
        return PatientPrecaution(rule.label, rule.needling)

    def _ended_words(self, plan: PlanView) -> str:
        """ "This plan ended on 21 Jan 2026 (referred)." for a plan no longer active."""
        if plan.status == "active":
            return ""
        when = f" on {_day(plan.ended_on)}" if plan.ended_on else ""
        why = f" ({self._end_reason(plan.end_reason).lower()})" if plan.end_reason else ""
        return (
            f"This plan ended{when}{why}: the visits below that were not held will not take place."
        )

    def _end_reason(self, code: str) -> str:
        kinds = ("end_reasons", "discharge_reasons")
        for kind in kinds:
            if self._catalogue.knows(kind, code):
                return self._catalogue.label(kind, code)
        return code.replace("_", " ")

    def _episode_sessions(
        self, actor: Actor, patient_id: int, plan: PlanView, end: dt.date
    ) -> list[SessionRecord]:
        records = [r for r in self._sessions.history(actor, patient_id) if in_episode(plan, r, end)]
        return sorted(records, key=lambda r: r.data.performed_at)

    def _outcome(self, course: MeasureCourse) -> Outcome:
        """A measure as the course judged it, laid out for the page."""
        rule = measure_rule(course.measure, self._protocol.thresholds)
        return Outcome(
            measure=rule.name,
            unit=rule.unit,
            baseline=course.baseline,
            baseline_on=course.baseline_on,
            final=course.latest,
            final_on=course.latest_on,
            change=course.change,
        )

    def _treated(self, record: SessionRecord) -> TreatedSession:
        data = record.data
        return TreatedSession(
            when=record.performed_on,
            phase_number=record.phase_number,
            modalities=tuple(self._label("modalities", m) for m in data.modalities),
            pain_before=data.pain_before,
            pain_after=data.pain_after,
            acupoints=data.acupoints,
            interventions=tuple(self._intervention_label(code) for code, _ in data.interventions),
            adverse_events=tuple(self._label("adverse_events", e) for e in data.adverse_events),
            adverse_event_note=data.adverse_event_note,
            tolerance=self._label("tolerances", data.tolerance) if data.tolerance else None,
        )

    def _recommendations(
        self,
        last: PhaseView | None,
        pain: OutcomeChange | None,
        end_reason: str | None,
        end_note: str,
        *,
        ended_on: dt.date | None,
    ) -> tuple[str, tuple[str, ...]]:
        """What the summary says first (for a referred or worsening patient), and the
        advice: maintenance and progression only for a patient who improved or held."""
        referred = end_reason == "referred"
        worse = pain is not None and pain.worse
        if referred or worse:
            parts = []
            if referred:
                why = end_note.strip() or "no reason was recorded."
                when = f" {_day(ended_on)}" if ended_on else ""
                parts.append(f"Referred on{when}: {why}")
            if pain is not None and worse:
                parts.append(pain.text)
            advice = []
            if referred:
                advice.append(
                    "Treatment here has stopped for the referral; resume only when the "
                    "referral has been answered and red flags re-screened."
                )
            if worse:
                advice.append(
                    "Pain is worse beyond measurement error: re-screen red flags and "
                    "re-evaluate before any further treatment."
                )
            return " ".join(parts), tuple(advice)
        advice = []
        improved = pain is not None and pain.improved
        if ended_on is None:
            # An interim summary: the course's suggestions lead; no discharge advice yet.
            if last is not None:
                advice.append("Continue the home programme above.")
            return "", tuple(advice)
        if last is not None:
            advice.append(f"Maintenance, as in phase {last.number} ({last.name}): {last.aim}")
            advice.append(
                "Continue the home programme above, progressing the load as it becomes easy."
                if improved
                else "Continue the home programme above."
            )
        if pain is not None and not improved:
            advice.append(
                f"{pain.text} Pain did not improve by a clinically meaningful amount: "
                "re-evaluate (extend, change approach, or refer) rather than simply continue."
            )
        if improved:
            advice.append(
                "If pain returns, reassess pain (NPRS) and function (ODI) against this "
                "episode's baseline before restarting treatment."
            )
        return "", tuple(advice)

    def _row(self, session: Session, document_id: int) -> DocumentRow:
        row = session.get(DocumentRow, document_id)
        if row is None:
            raise NotFound(f"Document {document_id} does not exist.")
        return row

    def _store(self, actor: Actor, draft: DraftDocument, destination: str) -> StoredDocument:
        digest = hashlib.sha256(draft.pdf).hexdigest()
        with self._context.writing() as session:
            row = DocumentRow(
                patient_id=draft.patient_id,
                plan_id=draft.plan_id,
                kind=draft.kind,
                title=draft.title,
                created_at=self._context.clock.now(),
                created_by=actor.clinician_id,
                pages=draft.pages,
                sha256=digest,
                pdf=draft.pdf,
                destination=destination,
            )
            session.add(row)
            session.flush()
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "print",
                    "document",
                    row.id,
                    draft.patient_id,
                    {
                        "kind": draft.kind,
                        "title": draft.title,
                        "plan_id": draft.plan_id,
                        "pages": draft.pages,
                        "sha256": digest,
                        "destination": destination,
                    },
                ),
            )
            return StoredDocument(
                row.id,
                draft.patient_id,
                draft.plan_id,
                draft.kind,
                draft.title,
                row.created_at,
                draft.pages,
                digest,
                draft.pdf,
                destination,
            )


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b} {day.year}"


def _reached_doses(reached: list[PhaseView]) -> tuple[InterventionDose, ...]:
    """The interventions of the phases treatment reached, each once, the later phase's
    dosage winning: what the patient has actually learned."""
    doses: dict[str, InterventionDose] = {}
    for phase in reached:
        for dose in phase.pt_interventions:
            doses.pop(dose.code, None)
            doses[dose.code] = dose
    return tuple(doses.values())


def _attendance(plan: PlanView, end: dt.date, sessions: int) -> Attendance:
    attended = sum(v.status == "done" for v in plan.visits)
    missed = sum(v.status == "missed" for v in plan.visits)
    # A visit still planned before the end of the episode never happened.
    not_held = sum(v.status == "planned" and v.visit_date < end for v in plan.visits)
    return Attendance(attended + missed + not_held, attended, missed, not_held, sessions)
