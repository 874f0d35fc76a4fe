"""A Case → the case file's JSON document, in a fixed order, so export → import → export is exact.

Lists are written in a stable order (plan phases by number, visits by date), present red
flags in the protocol's screening order, and each assessment with its derived scores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from backclinic.domain.casefile.model import (
    CASE_FORMAT,
    DATE_ONLY_SESSION_TIME,
    Case,
    CaseAssessment,
    CasePatient,
    CasePlan,
    CaseSession,
    CaseVisit,
)
from backclinic.domain.episode import Course, MeasureCourse
from backclinic.domain.intake import Intake
from backclinic.domain.plan import PlanPhase
from backclinic.domain.screening import FlagAnswer


def case_document(
    case: Case,
    red_flag_order: Sequence[str],
    zone: dt.tzinfo | None = None,
    course: Course | None = None,
) -> dict[str, Any]:
    """The whole case file; ``earlier_plans`` only when there are any, after ``plan``;
    the derived ``course`` last, when given (import ignores it, export regenerates it).

    Session times are written on the clinic's clock (``zone``; None: this workstation's).
    """
    document: dict[str, Any] = {
        "format": CASE_FORMAT,
        "patient": patient_document(case.patient),
        "assessments": [assessment_document(a, red_flag_order) for a in case.assessments],
        "plan": None if case.plan is None else plan_document(case.plan),
    }
    if case.earlier_plans:
        document["earlier_plans"] = [plan_document(plan) for plan in case.earlier_plans]
    document["sessions"] = [session_document(item, zone) for item in case.sessions]
    if course is not None:
        document["course"] = course_document(course)
    return document


def course_document(course: Course) -> dict[str, Any]:
    """The episode's course as every screen and document shows it: derived, never read."""
    att = course.attendance
    return {
        "on": course.today.isoformat(),
        "status": course.status,
        "week": course.week,
        "weeks_planned": course.weeks_planned,
        "phase": course.current_phase,
        "phases_reached": list(course.phases_reached),
        "plan_ended": course.plan_ended,
        "attendance": {
            "planned": att.planned,
            "due": att.due,
            "attended": att.attended,
            "missed": att.missed,
            "not_held": att.not_held,
            "cancelled": att.cancelled,
            "upcoming": att.upcoming,
        },
        "sessions": course.sessions,
        "verdicts": [_verdict_document(o) for o in course.outcomes],
        "targets": [
            {"measure": t.measure, "target": _number(t.target), "met": t.met, "text": t.text}
            for t in course.targets
        ],
        "suggestions": [
            {"kind": s.kind, "phase": s.phase_number, "text": s.why, "rule": s.rule}
            for s in course.suggestions
        ],
    }


def _verdict_document(outcome: MeasureCourse) -> dict[str, Any]:
    change = outcome.change
    document: dict[str, Any] = {
        "measure": outcome.measure,
        "baseline": _number(outcome.baseline),
        "baseline_on": outcome.baseline_on.isoformat() if outcome.baseline_on else None,
        "latest": _number(outcome.latest),
        "latest_on": outcome.latest_on.isoformat() if outcome.latest_on else None,
        "verdict": None if change is None else str(change.verdict),
    }
    if change is not None:
        rule = change.rule
        document.update(
            {
                "points_better": _number(round(change.points, 1)),
                "percent_better": None if change.percent is None else round(change.percent, 1),
                "within_measurement_error": change.within_error,
                "rule": rule.text,
                "thresholds": {
                    "meaningful_points": _number(rule.meaningful_points),
                    "meaningful_percent": _number(rule.meaningful_percent),
                    "measurement_error": _number(rule.measurement_error),
                    "either": rule.either,
                },
                "source": rule.source,
                "text": change.text,
            }
        )
    return document


def case_text(document: dict[str, Any]) -> str:
    """The file's text: UTF-8 characters as they are, indented, with a trailing newline."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def patient_document(patient: CasePatient) -> dict[str, Any]:
    document: dict[str, Any] = {
        "mrn": patient.mrn,
        "family_name": patient.family_name,
        "given_name": patient.given_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "occupation": patient.occupation,
    }
    for name, value in (
        ("phone", patient.phone),
        ("email", patient.email),
        ("address", patient.address),
    ):
        if value:
            document[name] = value
    if patient.exported_details is not None:
        document["exported_details"] = patient.exported_details
    return document


def details_fingerprint(patient: CasePatient) -> str:
    """What the patient's details were: written on export, compared by import --update."""
    details = patient_document(replace(patient, exported_details=None))
    canonical = json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def assessment_record(assessment: CaseAssessment, red_flag_order: Sequence[str]) -> dict[str, Any]:
    """An assessment as the case file holds it, without the derived scores.

    ``red_flag_order`` is the protocol's screening order: present flags are listed in it.
    """
    intake = assessment.intake
    return {
        "kind": assessment.kind,
        "date": intake.assessed_on.isoformat(),
        "onset_weeks": _number(intake.onset_weeks),
        "recurrent": intake.recurrent,
        "radiating_pain": {
            "present": intake.radiating_present,
            "side": intake.radiating_side,
            "below_knee": intake.radiating_below_knee,
            "to": intake.radiating_to,
        },
        "aggravated_by": list(intake.aggravated_by),
        "contributing_factors": list(intake.contributing_factors),
        **_red_flag_fields(intake, red_flag_order),
        "red_flag_clearance": intake.red_flag_clearance,
        "precautions": list(intake.precautions),
        "nprs": {
            "current": intake.nprs_current,
            "worst": intake.nprs_worst,
            "best": intake.nprs_best,
        },
        "odi_answers": None if intake.odi_answers is None else list(intake.odi_answers),
        "startback_answers": (
            None if intake.startback_answers is None else list(intake.startback_answers)
        ),
        "psfs": [{"activity": item.activity, "score": item.score} for item in assessment.psfs],
        "rmdq_score": assessment.rmdq_score,
        "goals": list(intake.goals),
        "notes": assessment.notes,
    }


def assessment_document(
    assessment: CaseAssessment, red_flag_order: Sequence[str]
) -> dict[str, Any]:
    """The record, its correction (the original it amends, or the reason it was entered
    in error) and, where the assessment carries them, its derived scores."""
    document = assessment_record(assessment, red_flag_order)
    scores = assessment.scores
    if scores is not None and assessment.entered_in_error_reason is None:
        document["odi_percent"] = scores.odi_percent
        document["odi_complete"] = scores.odi_complete
        if scores.startback_risk is not None:
            document["startback_risk"] = scores.startback_risk
        document["duration_class"] = scores.duration_class
    return {**document, **assessment_correction(assessment, red_flag_order)}


def assessment_correction(
    assessment: CaseAssessment, red_flag_order: Sequence[str]
) -> dict[str, Any]:
    """The amendment (its reason and the original, as recorded) or the entered-in-error
    reason; empty for an assessment never corrected."""
    fields: dict[str, Any] = {}
    if assessment.amends is not None:
        fields["amendment_reason"] = assessment.amendment_reason or ""
        fields["amends"] = {
            **assessment_record(assessment.amends, red_flag_order),
            **assessment_correction(assessment.amends, red_flag_order),
        }
    if assessment.entered_in_error_reason is not None:
        fields["entered_in_error"] = assessment.entered_in_error_reason
    return fields


def _visit_document(visit: CaseVisit) -> dict[str, Any]:
    document: dict[str, Any] = {
        "date": visit.visit_date.isoformat(),
        "phase": visit.phase_number,
        "modalities": sorted(visit.modalities),
        "status": visit.status,
    }
    # Optional, so files written before visits had times still import unchanged.
    if visit.visit_time is not None:
        document["time"] = visit.visit_time
    if visit.clinician is not None:
        document["clinician"] = visit.clinician
    return document


def plan_document(plan: CasePlan) -> dict[str, Any]:
    """A plan with its visits (cancelled ones left out) by date; a plan without visits has []."""
    choices = plan.choices
    document: dict[str, Any] = {
        "protocol": choices.protocol_id,
        "protocol_version": choices.protocol_version,
        "start_date": choices.start_date.isoformat(),
        "status": choices.status,
        "clinic_days": sorted(choices.clinic_days),
        "target_pain": choices.target_pain,
        "target_odi": _number(choices.target_odi),
        "functional_goals": list(choices.functional_goals),
        "phases": [
            phase_document(phase) for phase in sorted(choices.phases, key=lambda p: p.number)
        ],
        "visits": [
            _visit_document(visit)
            for visit in sorted(plan.visits or (), key=lambda v: v.visit_date)
            if visit.status != "cancelled"
        ],
    }
    if choices.red_flag_clearance:
        document["red_flag_clearance"] = choices.red_flag_clearance
    if choices.ended_on is not None:
        document["ended_on"] = choices.ended_on.isoformat()
    if choices.end_reason is not None:
        document["end_reason"] = choices.end_reason
    if choices.end_note:
        document["end_note"] = choices.end_note
    return document


def phase_document(phase: PlanPhase) -> dict[str, Any]:
    acupuncture: dict[str, Any] = (
        {"as_needed": True}
        if phase.acupuncture_as_needed or phase.acupuncture_per_week is None
        else {"per_week": phase.acupuncture_per_week}
    )
    return {
        "number": phase.number,
        "name": phase.name,
        "start_week": phase.start_week,
        "end_week": phase.end_week,
        "acupuncture": acupuncture,
        "pt_per_week": phase.pt_per_week,
        "pt_focus": list(phase.pt_focus),
        "pt_interventions": [
            {"code": dose.code, "dosage": dose.dosage} for dose in phase.pt_interventions
        ],
        "acupoints": list(phase.acupoints),
        "aim": phase.aim,
    }


def session_when(stamp: dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """A date alone for a date-only session (noon on the clinic's clock), else the clinic's
    date-time."""
    local = stamp.astimezone(zone)
    if local.time() == DATE_ONLY_SESSION_TIME:
        return local.date().isoformat()
    return local.isoformat()


def session_document(item: CaseSession, zone: dt.tzinfo | None = None) -> dict[str, Any]:
    """A session with its details; the visit it fulfils and who gave it are not written."""
    details = item.details
    document: dict[str, Any] = {
        "date": session_when(details.performed_at, zone),
        "modalities": sorted(details.modalities),
        "pain_before": details.pain_before,
        "pain_after": details.pain_after,
        "acupoints": list(details.acupoints),
        "exercises": [code for code, _dosage in details.interventions],
        "notes": item.notes,
    }
    if any(dosage for _code, dosage in details.interventions):
        document["interventions"] = [
            {"code": code, "dosage": dosage} for code, dosage in details.interventions
        ]
    optional: dict[str, Any] = {
        "needle_count": details.needle_count,
        "retention_minutes": details.retention_minutes,
        "electro": details.electro or None,
        "technique": details.technique,
        "tolerance": details.tolerance,
        "adverse_events": list(details.adverse_events),
        "adverse_event_note": details.adverse_event_note,
        "subjective": details.subjective,
        "objective": details.objective,
        "assessment": details.assessment_note,
        "plan_note": details.plan_note,
    }
    document.update({key: value for key, value in optional.items() if value not in (None, "", [])})
    if item.amends is not None:
        document["amendment_reason"] = item.amendment_reason or ""
        document["amends"] = session_document(item.amends, zone)
    return document


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _red_flag_fields(intake: Intake, protocol_order: Sequence[str]) -> dict[str, Any]:
    if intake.red_flags is None:
        return {"red_flags": None}
    answers = intake.red_flags
    order = list(protocol_order) + sorted(set(answers) - set(protocol_order))
    fields: dict[str, Any] = {
        "red_flags": [code for code in order if answers.get(code) == FlagAnswer.PRESENT]
    }
    unasked = [
        code
        for code in protocol_order
        if answers.get(code, FlagAnswer.NOT_ASKED) == FlagAnswer.NOT_ASKED
    ]
    if unasked:
        fields["red_flags_not_asked"] = unasked
    return fields
