"""The plan summary a patient takes home: plain language, second person, no clinical codes.

It says what happens when (phases, how often, the dated visits), why (each phase's aim in
the article's words), what to do at home now, what the plan aims for, what the clinic keeps
in mind for this patient, and how to reach the clinic.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from backclinic.reports.content import PlanPhase, PlanSummary, RenderedPdf
from backclinic.reports.frame import (
    CONTENT_WIDTH,
    Styles,
    bullets,
    day,
    escape,
    number,
    render,
    weekday_day,
)

VISIT_STATUS_WORDS = {"done": "attended", "missed": "missed"}


def _joined(labels: tuple[str, ...]) -> str:
    """ "Acupuncture and physical therapy": labels after the first continue the sentence."""
    return " and ".join([*labels[:1], *(label[:1].lower() + label[1:] for label in labels[1:])])


def _weeks(phase: PlanPhase) -> str:
    if phase.start_week == phase.end_week:
        return f"week {phase.start_week}"
    return f"weeks {phase.start_week}–{phase.end_week}"


def _phases(summary: PlanSummary, styles: Styles) -> list[Flowable]:
    story: list[Flowable] = [Paragraph("Your plan, phase by phase", styles.heading)]
    for phase in summary.phases:
        now = ""
        if phase.number == summary.current_phase:
            now = " — <b>not started</b>" if summary.not_started else " — <b>you are here</b>"
        block: list[Flowable] = [
            Paragraph(
                f"Phase {phase.number}: {escape(phase.name)}{now}",
                styles.subheading,
            ),
            Paragraph(
                f"{day(phase.start_date)} to {day(phase.end_date)} ({_weeks(phase)})",
                styles.muted,
            ),
            Paragraph(
                f"<b>Acupuncture:</b> {escape(phase.acupuncture)} · "
                f"<b>Physical therapy:</b> {escape(phase.physical_therapy)}",
                styles.body,
            ),
            Paragraph(f"<b>What this phase aims for:</b> {escape(phase.aim)}", styles.body),
        ]
        if phase.focus:
            block.append(
                Paragraph(
                    f"<b>Physical therapy works on:</b> {escape(', '.join(phase.focus))}.",
                    styles.body,
                )
            )
        story.append(KeepTogether(block))
    return story


def _home_programme(summary: PlanSummary, styles: Styles) -> list[Flowable]:
    phase = next((p for p in summary.phases if p.number == summary.current_phase), None)
    when = f" (phase {phase.number}: {escape(phase.name)})" if phase else ""
    story: list[Flowable] = [Paragraph(f"Your home programme now{when}", styles.heading)]
    if not summary.home_programme:
        story.append(Paragraph("No home exercises for this phase.", styles.body))
        return story
    story.append(
        Paragraph(
            "Do these between visits. Move slowly and stop any exercise that brings on sharp "
            "pain or pain spreading down your leg, and tell us at your next visit.",
            styles.body,
        )
    )
    for exercise in summary.home_programme:
        story.append(
            KeepTogether(
                [
                    Paragraph(escape(exercise.label), styles.subheading),
                    Paragraph(escape(exercise.instructions), styles.body),
                    Paragraph(f"<b>How much:</b> {escape(exercise.dosage)}", styles.body),
                ]
            )
        )
    return story


def _goals(summary: PlanSummary, styles: Styles) -> list[Flowable]:
    goals = [escape(goal[:1].upper() + goal[1:]) for goal in summary.functional_goals]
    if summary.target_pain is not None:
        goals.append(f"Pain at or below {summary.target_pain} out of 10.")
    if summary.target_odi is not None:
        goals.append(
            "Back pain getting in the way of daily life much less: an Oswestry "
            f"questionnaire score of {number(summary.target_odi)} % or lower."
        )
    story: list[Flowable] = [Paragraph("What we are aiming for", styles.heading)]
    if not goals:
        return [*story, Paragraph("We will agree your goals at your next visit.", styles.body)]
    return story + bullets(goals, styles.bullet)


def _precautions(summary: PlanSummary, styles: Styles) -> list[Flowable]:
    if not summary.precautions:
        return []
    items = [
        f"<b>{escape(p.label)}.</b> We adapt your acupuncture: "
        f"{escape(p.how_treatment_adapts[:1].lower() + p.how_treatment_adapts[1:])}"
        for p in summary.precautions
    ]
    return [
        Paragraph("Taking care with your treatment", styles.heading),
        Paragraph(
            "You told us about the following. Please tell us at any visit if something "
            "changes, for example a new medicine or a pregnancy.",
            styles.body,
        ),
        *bullets(items, styles.bullet),
    ]


def _visits(summary: PlanSummary, styles: Styles) -> list[Flowable]:
    story: list[Flowable] = [Paragraph("Your visits", styles.heading)]
    if not summary.visits:
        return [*story, Paragraph("No visits are booked yet.", styles.body)]
    rows: list[list[str]] = [["Date", "Time", "Phase", "Visit", "With", ""]]
    for visit in summary.visits:
        rows.append(
            [
                weekday_day(visit.when),
                visit.time or "",
                str(visit.phase_number),
                _joined(visit.modalities),
                visit.clinician or "",
                VISIT_STATUS_WORDS.get(visit.status, ""),
            ]
        )
    fixed = [36 * mm, 13 * mm, 13 * mm, 38 * mm, 18 * mm]
    widths = [*fixed[:3], CONTENT_WIDTH - sum(fixed), *fixed[3:]]
    table = Table(rows, colWidths=widths, repeatRows=1, style=styles.table())
    story.append(table)
    return story


def _contact(summary: PlanSummary, styles: Styles) -> list[Flowable]:
    clinic = summary.frame.letterhead
    lines = [f"<b>{escape(clinic.clinic_name)}</b>"]
    lines += [escape(line.strip()) for line in clinic.address.splitlines() if line.strip()]
    if clinic.phone:
        lines.append(f"Phone: {escape(clinic.phone)}")
    if clinic.email:
        lines.append(f"Email: {escape(clinic.email)}")
    return [
        KeepTogether(
            [
                Paragraph("How to reach us", styles.heading),
                Paragraph("<br/>".join(lines), styles.body),
                Spacer(1, 2 * mm),
                Paragraph(
                    "Call us if you cannot make a visit, or if your pain gets worse. If you "
                    "notice numbness between your legs, trouble passing urine or controlling "
                    "your bladder or bowel, or weakness in your legs that is getting worse, "
                    "seek emergency care at once.",
                    styles.body,
                ),
            ]
        )
    ]


def _referral(text: str, styles: Styles) -> list[Flowable]:
    """In place of the programme: treatment stops until the referral's outcome is known."""
    return [
        Paragraph(
            '<font color="#b00020">Urgent referral: treatment is on hold</font>', styles.heading
        ),
        Paragraph(escape(text), styles.body),
        Paragraph(
            "Please go to the emergency department or the service you have been referred to "
            "today. Your programme resumes only once a clinician has recorded the outcome.",
            styles.body,
        ),
    ]


def render_plan_summary(summary: PlanSummary) -> RenderedPdf:
    styles = Styles()
    frame = summary.frame
    first = summary.phases[0].start_date if summary.phases else None
    last = summary.phases[-1].end_date if summary.phases else None
    span = f" from {day(first)} to {day(last)}" if first and last else ""
    story: list[Flowable] = [
        Paragraph("Your treatment plan", styles.title),
        Paragraph(
            f"For {escape(frame.patient.name)}: acupuncture and physical therapy for your "
            f"back{span}. {escape(frame.prepared)} on {day(frame.printed_on)}.",
            styles.subtitle,
        ),
        *([Paragraph(f"<b>{escape(summary.ended)}</b>", styles.body)] if summary.ended else []),
        *(
            _referral(summary.urgent_referral, styles)
            if summary.urgent_referral
            else [
                *_phases(summary, styles),
                *_home_programme(summary, styles),
                *_goals(summary, styles),
            ]
        ),
        *_precautions(summary, styles),
        *([] if summary.urgent_referral else _visits(summary, styles)),
        *_contact(summary, styles),
    ]
    return render(frame, story)
