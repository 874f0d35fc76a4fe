"""The discharge summary, for clinicians: what was done, what changed, and what next.

Outcomes arrive already judged and worded (domain.outcomes, with the protocol's rules);
this module only lays them out. An episode that has not ended prints as an
interim summary, and says so in its title.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from backclinic.reports.content import ChartPoint, DischargeSummary, RenderedPdf, discharge_title
from backclinic.reports.frame import (
    CONTENT_WIDTH,
    INK,
    Styles,
    bullets,
    day,
    escape,
    number,
    render,
)
from backclinic.reports.pain_chart import pain_chart

NOT_RECORDED = "–"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _episode(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    weeks = (summary.end_date - summary.start_date).days // 7 + 1
    att = summary.attendance
    share = "" if att.percent is None else f" ({att.percent:.0f} %)"
    rows = [
        [
            "Episode",
            f"{day(summary.start_date)} to {day(summary.end_date)} ({_count(weeks, 'week')})",
        ],
        [
            "Attendance",
            f"{att.attended} of {_count(att.scheduled, 'scheduled visit')} attended{share}; "
            f"{att.missed} missed, {att.not_held} not held",
        ],
        ["Sessions recorded", str(att.sessions)],
    ]
    if summary.ended:
        reason = summary.end_reason or "not given"
        rows.append(["Discharged", f"{day(summary.end_date)}; reason: {reason}"])
    else:
        rows.append(["Status", f"Plan still active; summary to {day(summary.end_date)}"])
    if summary.end_note.strip():
        rows.append(["Note", summary.end_note.strip()])
    body = [
        [Paragraph(label, styles.cell_bold), Paragraph(escape(text), styles.cell)]
        for label, text in rows
    ]
    table = Table(
        body,
        colWidths=[38 * mm, CONTENT_WIDTH - 38 * mm],
        style=styles.table(header=False, zebra=False),
    )
    return [Paragraph("Episode of care", styles.heading), table]


def _value(value: float | None, unit: str) -> str:
    return NOT_RECORDED if value is None else f"{number(value)}{unit}"


def _outcomes(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    rows: list[list[object]] = [["Measure", "Baseline", "Final", "Change", "Verdict"]]
    notes: list[str] = []
    for outcome in (summary.nprs, summary.odi, *summary.more_outcomes):
        change = outcome.change
        baseline = _value(outcome.baseline, outcome.unit)
        final = _value(outcome.final, outcome.unit)
        if outcome.baseline_on:
            baseline += f"\n{day(outcome.baseline_on)}"
        if outcome.final_on:
            final += f"\n{day(outcome.final_on)}"
        if change is None:
            rows.append(
                [
                    outcome.measure,
                    baseline,
                    final,
                    NOT_RECORDED,
                    "Not enough measurements to judge",
                ]
            )
            continue
        # The domain words the change and its verdict; the page only lays them out.
        rows.append(
            [
                outcome.measure,
                baseline,
                final,
                Paragraph(escape(change.change_text), styles.cell),
                Paragraph(escape(change.verdict_text), styles.cell),
            ]
        )
        notes.append(f"<b>{escape(outcome.measure)}:</b> {escape(change.text)}")
    widths = [34 * mm, 26 * mm, 26 * mm, 34 * mm]
    widths.append(CONTENT_WIDTH - sum(widths))
    story: list[Flowable] = [
        Paragraph("Outcomes", styles.heading),
        Table(rows, colWidths=widths, style=styles.table(zebra=False)),
        Spacer(1, 1.5 * mm),
        *[Paragraph(note, styles.small) for note in notes],
    ]
    if summary.mean_immediate_drop is not None:
        story.append(
            Paragraph(
                f"<b>Immediate response:</b> {_immediate(summary.mean_immediate_drop)}",
                styles.small,
            )
        )
    return story


def _immediate(mean_drop: float) -> str:
    size = abs(round(mean_drop, 1))
    if size == 0:
        return "pain did not change within a session on average (before → after)."
    points = f"{size:g} point{'' if size == 1 else 's'}"
    moved = "fell" if mean_drop > 0 else "rose"
    return f"pain {moved} by {points} on average within a session (before → after)."


def _chart(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    points = [ChartPoint(s.when, s.pain_before, s.pain_after) for s in summary.sessions]
    if not any(p.before is not None or p.after is not None for p in points):
        return []
    drawing = pain_chart(
        points,
        summary.phases,
        width=CONTENT_WIDTH,
        height=62 * mm,
        first_day=summary.start_date,
        last_day=max(summary.end_date, max(p.when for p in points)),
    )
    return [KeepTogether([Paragraph("Pain over the episode (NPRS 0–10)", styles.heading), drawing])]


def _pain(value: int | None) -> str:
    return NOT_RECORDED if value is None else str(value)


def _sessions(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    story: list[Flowable] = [Paragraph("Sessions", styles.heading)]
    if not summary.sessions:
        return [*story, Paragraph("No sessions were recorded.", styles.body)]
    rows: list[list[object]] = [["Date", "Ph.", "Modalities", "Pain", "Points", "Interventions"]]
    for s in summary.sessions:
        rows.append(
            [
                day(s.when),
                NOT_RECORDED if s.phase_number is None else str(s.phase_number),
                Paragraph(escape(", ".join(s.modalities)), styles.cell),
                f"{_pain(s.pain_before)} → {_pain(s.pain_after)}",
                Paragraph(escape(" ".join(s.acupoints)) or NOT_RECORDED, styles.cell),
                Paragraph(escape(", ".join(s.interventions)) or NOT_RECORDED, styles.cell),
            ]
        )
    widths = [21 * mm, 8 * mm, 49 * mm, 14 * mm, 30 * mm]
    widths.append(CONTENT_WIDTH - sum(widths))
    story.append(Table(rows, colWidths=widths, repeatRows=1, style=styles.table()))
    return story


def _adverse_events(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    items = []
    for s in summary.sessions:
        if not s.adverse_events and not s.adverse_event_note.strip():
            continue
        events = ", ".join(s.adverse_events) or "Note"
        note = f": {escape(s.adverse_event_note.strip())}" if s.adverse_event_note.strip() else ""
        items.append(f"<b>{day(s.when)}</b> — {escape(events)}{note}")
    story: list[Flowable] = [Paragraph("Adverse events", styles.heading)]
    if not items:
        return [*story, Paragraph("None recorded.", styles.body)]
    return story + bullets(items, styles.bullet)


def _safety_records(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    if not summary.safety_records:
        return []
    return [
        Paragraph("Red-flag clearances and referral outcomes", styles.heading),
        *bullets([escape(line) for line in summary.safety_records], styles.bullet),
    ]


def _headline(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    if not summary.headline:
        return []
    return [Paragraph(f"<b>{escape(summary.headline)}</b>", styles.body), Spacer(1, 2 * mm)]


def _home_programme(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    story: list[Flowable] = [Paragraph("Home programme to continue", styles.heading)]
    if not summary.home_programme:
        return [*story, Paragraph("None prescribed.", styles.body)]
    items = [
        f"<b>{escape(e.label)}</b> ({escape(e.dosage)}): {escape(e.instructions)}"
        for e in summary.home_programme
    ]
    return story + bullets(items, styles.bullet)


def _recommendations(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    return [
        Paragraph("Recommendations", styles.heading),
        *bullets([escape(r) for r in summary.recommendations], styles.bullet),
    ]


def _evidence(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    """The guidelines side by side, each with its source, and no verdict of ours."""
    if not summary.evidence:
        return []
    width = CONTENT_WIDTH / len(summary.evidence)
    cells = [
        [
            Paragraph(f"<b>{escape(p.guideline)}</b>", styles.cell),
            Paragraph(escape(p.position), styles.cell),
            Paragraph(f"Source: {escape(p.source)}", styles.small),
        ]
        for p in summary.evidence
    ]
    return [
        KeepTogether(
            [
                Paragraph("What the guidelines say about acupuncture", styles.heading),
                Table(
                    [cells],
                    colWidths=[width] * len(cells),
                    style=styles.table(header=False, zebra=False),
                ),
                Paragraph(
                    "The guidelines are shown as they state their positions; the clinic decides.",
                    styles.small,
                ),
            ]
        )
    ]


def _signed_by(clinician: str | None) -> str:
    # Printed without a clinician signed in (the command line): the line is left for the
    # one who signs it by hand, never an operating-system account.
    return f"Signed: {clinician}" if clinician else "Signed"


def _signature(summary: DischargeSummary, styles: Styles) -> list[Flowable]:
    line = Table(
        [["", "", ""], [_signed_by(summary.frame.printed_by), "", "Date"]],
        colWidths=[95 * mm, 10 * mm, 45 * mm],
        rowHeights=[14 * mm, None],
        hAlign="LEFT",
        style=[
            ("LINEBELOW", (0, 0), (0, 0), 0.6, INK),
            ("LINEBELOW", (2, 0), (2, 0), 0.6, INK),
            ("FONT", (0, 1), (-1, 1), styles.small.fontName, 8),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ],
    )
    return [KeepTogether([Spacer(1, 6 * mm), line])]


def render_discharge_summary(summary: DischargeSummary) -> RenderedPdf:
    styles = Styles()
    title = discharge_title(summary.ended)
    subtitle = (
        f"Acupuncture and physical therapy for low back pain, {day(summary.start_date)} to "
        f"{day(summary.end_date)}. {escape(summary.frame.prepared)}."
    )
    if not summary.ended:
        subtitle += " The plan is still active: this is not a discharge."
    story: list[Flowable] = [
        Paragraph(title, styles.title),
        Paragraph(subtitle, styles.subtitle),
        *_headline(summary, styles),
        *_episode(summary, styles),
        *_outcomes(summary, styles),
        *_chart(summary, styles),
        *_sessions(summary, styles),
        *_adverse_events(summary, styles),
        *_safety_records(summary, styles),
        *_home_programme(summary, styles),
        *_recommendations(summary, styles),
        *_evidence(summary, styles),
        *_signature(summary, styles),
    ]
    return render(summary.frame, story)
