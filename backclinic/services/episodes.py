"""The episode's course for screens and documents: the one adapter from stored plans,
assessments and sessions to ``domain.episode.course``, so the Progress tab and every
printed summary read the same course."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from backclinic.domain.episode import (
    AssessmentKind,
    EpisodeAssessment,
    EpisodeDischarge,
    EpisodePlan,
    EpisodeVisit,
    VisitStatus,
    course,
)

# Course is re-exported for the views that show it, which take the episode's types from
# here rather than from the domain's rule module.
from backclinic.domain.episode import Course as Course
from backclinic.domain.outcomes import MEASURES, Measure, OutcomeChange, judge, measure_rule
from backclinic.domain.protocol import OutcomeThresholds
from backclinic.domain.safety import UNSCREENED, SafetyStatus
from backclinic.domain.scoring import score_odi
from backclinic.services.assessments import Assessment, AssessmentService
from backclinic.services.context import Actor, ServiceContext
from backclinic.services.permissions import Permission
from backclinic.services.plans import PlanService, PlanView
from backclinic.services.safety import SafetyService
from backclinic.services.sessions import SessionRecord, SessionService
from backclinic.services.use_case import use_case

_KINDS: dict[str, AssessmentKind] = {
    "intake": "intake",
    "reassessment": "reassessment",
    "discharge": "discharge",
}
_STATUSES: dict[str, VisitStatus] = {
    "planned": "planned",
    "done": "done",
    "missed": "missed",
    "cancelled": "cancelled",
}


def _scores(assessment: Assessment) -> EpisodeAssessment:
    return EpisodeAssessment(
        on=assessment.assessed_on,
        kind=_KINDS.get(assessment.kind, "reassessment"),
        nprs=assessment.intake.nprs_current,
        odi_percent=assessment.odi.percent if assessment.odi else None,
        psfs_mean=assessment.psfs_mean,
        rmdq=assessment.rmdq_score,
    )


STARTBACK_SOURCE = "STarT Back risk groups (Hill et al. 2008): low, medium, high."
_RISK_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class MeasureComparison:
    """One measure before and after, and the verdict on the change (None when either
    value is missing)."""

    measure: Measure
    name: str
    unit: str
    before: float | None
    after: float | None
    change: OutcomeChange | None


@dataclass(frozen=True)
class RiskComparison:
    """The STarT Back risk group before and after; ``step`` below 0 is lower risk, None
    when either is missing."""

    before: str | None
    after: str | None
    step: int | None
    text: str
    source: str = STARTBACK_SOURCE


@dataclass(frozen=True)
class Comparison:
    """A reassessment (or discharge assessment) beside the intake it is compared with."""

    intake: Assessment
    later: Assessment
    measures: tuple[MeasureComparison, ...]
    risk: RiskComparison

    def measure(self, measure: Measure) -> MeasureComparison:
        return next(m for m in self.measures if m.measure == measure)


@dataclass(frozen=True)
class FinalComparison:
    """The discharge's final pain and ODI beside the plan's baseline, judged as typed.
    ``odi_incomplete`` when answers were given but too many sections were skipped."""

    pain: MeasureComparison
    odi: MeasureComparison
    odi_incomplete: bool


def _compared(
    measure: Measure, before: float | None, after: float | None, thresholds: OutcomeThresholds
) -> MeasureComparison:
    rule = measure_rule(measure, thresholds)
    change = None
    if before is not None and after is not None:
        change = judge(measure, before, after, thresholds)
    return MeasureComparison(measure, rule.name, rule.unit, before, after, change)


def _values(assessment: Assessment) -> dict[Measure, float | None]:
    return {
        "nprs": assessment.intake.nprs_current,
        "odi": assessment.odi.percent if assessment.odi else None,
        "psfs": assessment.psfs_mean,
        "rmdq": assessment.rmdq_score,
    }


def _risk(intake: Assessment, later: Assessment) -> RiskComparison:
    before = intake.startback.risk if intake.startback else None
    after = later.startback.risk if later.startback else None
    if before is None or after is None:
        return RiskComparison(before, after, None, "")
    step = _RISK_ORDER[after] - _RISK_ORDER[before]
    words = "Risk lower" if step < 0 else "Risk higher" if step > 0 else "Risk unchanged"
    return RiskComparison(before, after, step, words)


def compare(intake: Assessment, later: Assessment, thresholds: OutcomeThresholds) -> Comparison:
    """Every measure of ``later`` beside ``intake``'s, judged by the one outcome rule."""
    before, after = _values(intake), _values(later)
    return Comparison(
        intake,
        later,
        tuple(_compared(m, before[m], after[m], thresholds) for m in MEASURES),
        _risk(intake, later),
    )


def intake_for(assessments: Sequence[Assessment], later: Assessment) -> Assessment | None:
    """The intake a reassessment is compared with: the latest one on or before it."""
    intakes = [
        a
        for a in assessments
        if a.kind == "intake" and (a.assessed_on, a.id) <= (later.assessed_on, later.id)
    ]
    return intakes[-1] if intakes else None


def baseline_intake(plan: PlanView, assessments: Sequence[Assessment]) -> Assessment | None:
    """The intake a plan was built on: the latest on or before its start, else the first."""
    intakes = [a for a in assessments if a.kind == "intake"]
    before = [a for a in intakes if a.assessed_on <= plan.start_date]
    if before:
        return before[-1]
    return intakes[0] if intakes else None


def course_of(
    plan: PlanView,
    assessments: Sequence[Assessment],
    records: Sequence[SessionRecord],
    *,
    thresholds: OutcomeThresholds,
    today: dt.date,
    safety: SafetyStatus = UNSCREENED,
    notices: Sequence[str] = (),
) -> Course:
    """The course of ``plan``'s episode on ``today``: ``records`` are the episode's current
    sessions; an ended plan is discharged on its end date (or its last session)."""
    intake = baseline_intake(plan, assessments)
    discharge = None
    if plan.status != "active":
        last = max((r.performed_on for r in records), default=plan.start_date)
        discharge = EpisodeDischarge(plan.ended_on or last, plan.end_reason or "", plan.end_note)
    end = discharge.on if discharge else today
    since = intake.assessed_on if intake else plan.start_date
    later = [a for a in assessments if a is not intake and since <= a.assessed_on <= end]
    return course(
        intake=_scores(intake) if intake else None,
        reassessments=tuple(_scores(a) for a in later),
        plan=EpisodePlan(
            start_date=plan.start_date,
            phases=plan.phases,
            target_pain=plan.target_pain,
            target_odi=plan.target_odi,
            functional_goals=plan.functional_goals,
        ),
        visits=tuple(
            EpisodeVisit(v.visit_date, v.phase_number, _STATUSES[v.status]) for v in plan.visits
        ),
        sessions=tuple(r.held(_phase_of(plan, r)) for r in records if r.performed_on <= end),
        discharge=discharge,
        thresholds=thresholds,
        today=today,
        safety=safety,
        notices=notices,
    )


def _phase_of(plan: PlanView, record: SessionRecord) -> int | None:
    """The phase a session was given in: the one it was logged against, else (a session
    logged against no plan, within its dates) the phase whose dates hold it, as a case
    import assigns it, so that a course reads the same before and after a round trip."""
    if record.phase_number is not None:
        return record.phase_number
    if record.plan_id is not None and record.plan_id != plan.id:
        return None
    return next(
        (p.number for p in plan.phases if p.start_date <= record.performed_on <= p.end_date),
        None,
    )


def in_episode(plan: PlanView, record: SessionRecord, end: dt.date) -> bool:
    """Does a session belong to ``plan``'s episode (logged against it, or, when logged
    against no plan, within its dates up to ``end``)?"""
    if record.plan_id is not None:
        return record.plan_id == plan.id
    return plan.start_date <= record.performed_on <= end


class EpisodeService:
    """The course of a patient's current (or latest) plan, for the Progress tab."""

    def __init__(
        self,
        context: ServiceContext,
        thresholds: OutcomeThresholds,
        plans: PlanService,
        assessments: AssessmentService,
        sessions: SessionService,
        *,
        safety: SafetyService | None = None,
    ) -> None:
        self._context = context
        self._thresholds = thresholds
        self._plans = plans
        self._assessments = assessments
        self._sessions = sessions
        self._safety = safety

    @use_case(Permission.VIEW_CLINICAL)
    def comparisons(self, actor: Actor, patient_id: int) -> tuple[Comparison, ...]:
        """Each reassessment and discharge assessment beside its intake, oldest first."""
        assessments = self._assessments.for_patient(actor, patient_id)
        result = []
        for later in assessments:
            if later.kind == "intake":
                continue
            intake = intake_for(assessments, later)
            if intake is not None:
                result.append(compare(intake, later, self._thresholds))
        return tuple(result)

    @use_case(Permission.VIEW_CLINICAL)
    def final_comparison(
        self,
        actor: Actor,
        plan_id: int,
        *,
        pain: int | None,
        odi_answers: Sequence[int | None] | None,
    ) -> FinalComparison:
        """A discharge's final pain and Oswestry answers beside the baseline of the
        intake the plan was built on, as the discharge dialog shows them while typed."""
        plan = self._plans.get(actor, plan_id)
        baseline = baseline_intake(plan, self._assessments.for_patient(actor, plan.patient_id))
        before = _values(baseline) if baseline else {m: None for m in MEASURES}
        odi = (
            score_odi(odi_answers, self._thresholds.odi_max_skipped).percent
            if odi_answers is not None
            else None
        )
        return FinalComparison(
            pain=_compared("nprs", before["nprs"], pain, self._thresholds),
            odi=_compared("odi", before["odi"], odi, self._thresholds),
            odi_incomplete=odi_answers is not None and odi is None,
        )

    @use_case(Permission.VIEW_CLINICAL)
    def course(self, actor: Actor, patient_id: int) -> Course:
        """The course today; without any plan, the outcomes of the assessments and
        sessions alone."""
        today = self._context.clock.today()
        assessments = self._assessments.for_patient(actor, patient_id)
        history = self._sessions.history(actor, patient_id)
        safety = self._safety.status(actor, patient_id) if self._safety else UNSCREENED
        notices = self._safety.import_notices(actor, patient_id) if self._safety else ()
        plan = self._plans.active_plan(actor, patient_id) or self._plans.latest_plan(
            actor, patient_id
        )
        if plan is None:
            intakes = [a for a in assessments if a.kind == "intake"]
            intake = intakes[-1] if intakes else None
            since = intake.assessed_on if intake else None
            return course(
                intake=_scores(intake) if intake else None,
                reassessments=tuple(
                    _scores(a)
                    for a in assessments
                    if a is not intake and (since is None or a.assessed_on >= since)
                ),
                plan=None,
                visits=(),
                sessions=tuple(r.held() for r in history),
                discharge=None,
                thresholds=self._thresholds,
                today=today,
                safety=safety,
                notices=notices,
            )
        end = plan.ended_on or today
        records = sorted(
            (r for r in history if in_episode(plan, r, end)), key=lambda r: r.data.performed_at
        )
        return course_of(
            plan,
            assessments,
            records,
            thresholds=self._thresholds,
            today=today,
            safety=safety,
            notices=notices,
        )
