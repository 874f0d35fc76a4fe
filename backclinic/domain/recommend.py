"""From an intake to a proposed plan, with a reason for every choice.

The proposal is decision support for a licensed clinician: it starts from the protocol's
phases, lets each contributing factor add what the protocol says it adds, removes points
the patient's precautions rule out, and suggests goals from the protocol's thresholds.
Every phase, intervention, point, removal, notice and goal carries a Reason quoting the
article sentence or the citation behind it, so the clinician can see why and disagree.

A proposal is returned even when red-flag screening blocks planning, so the UI can show
what would be proposed and, above all, why it cannot be made yet (``blocked``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from backclinic.domain.catalogue import Catalogue
from backclinic.domain.episode import DurationClass, duration_class
from backclinic.domain.intake import Intake
from backclinic.domain.outcomes import target, target_text
from backclinic.domain.plan import InterventionDose, PlanPhase
from backclinic.domain.protocol import FactorRule, Indication, PhaseTemplate, Protocol
from backclinic.domain.safety import precaution_rule
from backclinic.domain.scoring import (
    NprsBand,
    OdiResult,
    StartBackResult,
    nprs_band,
    score_odi,
    score_startback,
)
from backclinic.domain.screening import Screening, derive_age_flag, planning_screen

CLINIC_DEFAULT_SOURCE = "Set by this clinic; the article gives no figure for it."


@dataclass(frozen=True)
class Reason:
    """Why a choice was made: the rule applied, in words, and its source (quoted)."""

    rule: str
    text: str
    source: str


@dataclass(frozen=True)
class InterventionChoice:
    code: str
    label: str
    dosage: str
    reasons: tuple[Reason, ...]

    @property
    def reason(self) -> Reason:
        """The first (founding) reason; ``reasons`` has every rule that asked for it."""
        return self.reasons[0]


@dataclass(frozen=True)
class PointChoice:
    code: str
    reasons: tuple[Reason, ...]

    @property
    def reason(self) -> Reason:
        return self.reasons[0]


@dataclass(frozen=True)
class IndicationMatch:
    code: str
    text: str
    reason: Reason


@dataclass(frozen=True)
class Notice:
    """Something the clinician should weigh; never a block."""

    code: str
    text: str
    reason: Reason


@dataclass(frozen=True)
class Suitability:
    duration_class: DurationClass | None
    indications: tuple[IndicationMatch, ...]
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class PhaseProposal:
    """The plan phase the model proposes, and why: the phase's reasons, and each of its
    interventions and points (in the phase's order) with the rules that asked for it."""

    phase: PlanPhase
    acupuncture_aims: tuple[str, ...]
    interventions: tuple[InterventionChoice, ...]
    points: tuple[PointChoice, ...]
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class RemovedPoint:
    code: str
    phase_number: int
    reason: Reason


@dataclass(frozen=True)
class PrecautionNote:
    """An acupuncture precaution the patient has, what it means, and what it removed."""

    code: str
    label: str
    needling: str
    no_electroacupuncture: bool
    removed_points: tuple[RemovedPoint, ...]
    reason: Reason


@dataclass(frozen=True)
class GoalSuggestion:
    """Targets that would count as a clinically meaningful improvement, and the patient's
    own goals. A target is None when its baseline was not recorded."""

    target_nprs: int | None
    target_nprs_reason: Reason | None
    target_odi_percent: float | None
    target_odi_reason: Reason | None
    patient_goals: tuple[str, ...]


@dataclass(frozen=True)
class Baseline:
    nprs_current: int | None
    nprs_band: NprsBand | None
    odi: OdiResult | None
    startback: StartBackResult | None


@dataclass(frozen=True)
class PlanProposal:
    protocol_id: str
    protocol_version: int
    screening: Screening
    suitability: Suitability
    phases: tuple[PhaseProposal, ...]
    precautions: tuple[PrecautionNote, ...]
    goals: GoalSuggestion
    baseline: Baseline
    blocked: bool
    blocked_reason: str | None

    def plan_phases(self) -> tuple[PlanPhase, ...]:
        """The proposed phases, as a plan (and ``schedule.build_schedule``) takes them."""
        return tuple(proposal.phase for proposal in self.phases)


def _quote(text: str) -> str:
    return f"“{text}”"


@dataclass
class _PhaseDraft:
    """Mutable while factor rules and precautions are applied; frozen at the end."""

    template: PhaseTemplate
    interventions: dict[str, list[Reason]] = field(default_factory=dict)
    points: dict[str, list[Reason]] = field(default_factory=dict)
    aims: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)


def _start_phase(template: PhaseTemplate, catalogue: Catalogue) -> _PhaseDraft:
    phase = template.phase
    draft = _PhaseDraft(template, aims=list(template.acupuncture_aims))
    source = _quote(phase.aim)
    for code in phase.pt_focus:
        draft.interventions[code] = [
            Reason(
                rule=f"phase_{phase.number}_focus",
                text=f"Phase {phase.number} ({phase.name}) focuses on "
                f"{catalogue.interventions[code].label.lower()}.",
                source=source,
            )
        ]
    for code in phase.acupoints:
        draft.points[code] = [
            Reason(
                rule=f"phase_{phase.number}_points",
                text=f"Default point for phase {phase.number} ({phase.name}).",
                source=template.acupoints_source,
            )
        ]
    weeks = f"Weeks {phase.start_week}–{phase.end_week}"
    if phase.acupuncture_as_needed:
        acupuncture = "acupuncture as needed (no fixed sessions)"
    else:
        acupuncture = f"acupuncture {phase.acupuncture_per_week} per week"
    draft.reasons.append(
        Reason(
            rule=f"phase_{phase.number}",
            text=f"{weeks}: {phase.name}, {acupuncture}.",
            source=source,
        )
    )
    draft.reasons.append(
        Reason(
            rule="clinic_default_pt_per_week",
            text=f"PT {phase.pt_per_week} per week: the article gives no PT frequency.",
            source=CLINIC_DEFAULT_SOURCE,
        )
    )
    if template.open_ended:
        draft.reasons.append(
            Reason(
                rule="clinic_default_last_phase_weeks",
                text=f"The article leaves this phase open (week {phase.start_week}+); it "
                f"ends at week {phase.end_week} by clinic default, then reassess.",
                source=CLINIC_DEFAULT_SOURCE,
            )
        )
    return draft


def is_radicular(intake: Intake) -> bool:
    """Radiating pain below the knee, or with neurological signs recorded, is radicular;
    pain to the buttock, hip or thigh alone is referred pain (Bogduk 2009)."""
    return intake.radiating_present and bool(
        intake.radiating_below_knee or intake.neurological_signs
    )


def _active_factors(intake: Intake, protocol: Protocol) -> list[tuple[FactorRule, str]]:
    """Factor rules that apply, each with a note on why it applies."""
    active: list[tuple[FactorRule, str]] = []
    for code in intake.contributing_factors:
        if code in protocol.factors:
            active.append((protocol.factors[code], "recorded as a contributing factor"))
    if is_radicular(intake):
        where = f" into the {intake.radiating_to}" if intake.radiating_to else ""
        why = (
            f"radiating pain{where} counts as nerve involvement"
            if intake.radiating_below_knee
            else f"radiating pain{where} with neurological signs counts as nerve involvement"
        )
        for rule in protocol.factors.values():
            if rule.also_when_radiating_pain and rule.code not in intake.contributing_factors:
                active.append((rule, why))
    return active


def _apply_factor(drafts: dict[int, _PhaseDraft], rule: FactorRule, why: str) -> None:
    text = f"{rule.label} ({why}): {rule.rule}"
    if rule.caution:
        text = f"{text} Caution: {rule.caution}"
    reason = Reason(rule=f"factor_{rule.code}", text=text, source=rule.source)
    for addition in rule.adds:
        for number in addition.phases:
            draft = drafts[number]
            for code in addition.interventions:
                draft.interventions.setdefault(code, []).append(reason)
            for code in addition.acupoints:
                draft.points.setdefault(code, []).append(reason)
            for aim in addition.acupuncture_aims:
                if aim not in draft.aims:
                    draft.aims.append(aim)
            if addition.acupuncture_aims:
                draft.reasons.append(reason)


def _apply_precautions(
    drafts: dict[int, _PhaseDraft], intake: Intake, protocol: Protocol, catalogue: Catalogue
) -> tuple[PrecautionNote, ...]:
    notes = []
    for code in intake.precautions:
        rule = precaution_rule(code, protocol, catalogue)
        removed = []
        for number, draft in drafts.items():
            for point in [p for p in draft.points if p in rule.avoid_points]:
                del draft.points[point]
                removed.append(
                    RemovedPoint(
                        code=point,
                        phase_number=number,
                        reason=Reason(
                            rule=f"precaution_{code}",
                            text=f"{point} removed from phase {number}: {rule.label}. "
                            f"{rule.needling}",
                            source=rule.source,
                        ),
                    )
                )
        notes.append(
            PrecautionNote(
                code=code,
                label=rule.label,
                needling=rule.needling,
                no_electroacupuncture=rule.no_electroacupuncture,
                removed_points=tuple(removed),
                reason=Reason(
                    rule=f"precaution_{code}",
                    text=f"{rule.label}: {rule.needling}",
                    source=rule.source,
                ),
            )
        )
    return tuple(notes)


def _finish_phase(draft: _PhaseDraft, catalogue: Catalogue) -> PhaseProposal:
    interventions = tuple(
        InterventionChoice(
            code=code,
            label=catalogue.interventions[code].label,
            dosage=catalogue.interventions[code].dosage,
            reasons=tuple(reasons),
        )
        for code, reasons in draft.interventions.items()
    )
    return PhaseProposal(
        phase=replace(
            draft.template.phase,
            pt_interventions=tuple(InterventionDose(i.code, i.dosage) for i in interventions),
            acupoints=tuple(draft.points),
        ),
        acupuncture_aims=tuple(draft.aims),
        interventions=interventions,
        points=tuple(PointChoice(code, tuple(reasons)) for code, reasons in draft.points.items()),
        reasons=tuple(draft.reasons),
    )


def _mentions(text: str | None, words: Iterable[str]) -> str | None:
    lowered = (text or "").lower()
    return next((word for word in words if word in lowered), None)


def _indication_evidence(
    indication: Indication, intake: Intake, duration: DurationClass | None
) -> str | None:
    """The fact that matches the case to an indication, or None."""
    if duration is not None and duration in indication.when_duration:
        return f"the episode is {duration}"
    if indication.when_recurrent and intake.recurrent:
        return "the pain is recurrent"
    factor = next((f for f in intake.contributing_factors if f in indication.when_factors), None)
    if factor:
        return f"contributing factor: {factor}"
    if indication.when_radiating_below_knee and intake.radiating_below_knee:
        return "pain radiates below the knee"
    aggravator = next((a for a in intake.aggravated_by if a in indication.when_aggravated_by), None)
    if aggravator:
        return f"aggravated by {aggravator}"
    if _mentions(intake.occupation, indication.when_occupation_mentions):
        return f"occupation: {intake.occupation}"
    for goal in intake.goals:
        if _mentions(goal, indication.when_goals_mention):
            return f"goal: {goal}"
    return None


def _suitability(
    intake: Intake, protocol: Protocol, baseline: Baseline, catalogue: Catalogue
) -> Suitability:
    duration = (
        duration_class(intake.onset_weeks, protocol.duration)
        if intake.onset_weeks is not None
        else None
    )
    matches = []
    for indication in protocol.indications:
        evidence = _indication_evidence(indication, intake, duration)
        if evidence:
            matches.append(
                IndicationMatch(
                    indication.code,
                    indication.text,
                    Reason(
                        rule=f"indication_{indication.code}",
                        text=f"Matches “{indication.text}”: {evidence}.",
                        source=_quote(indication.text),
                    ),
                )
            )
    notices = []
    chronic_text = protocol.indications[0].text if protocol.indications else protocol.source
    if duration is None:
        notices.append(
            Notice(
                "onset_unknown",
                "Onset not recorded: whether the episode is acute, subacute or chronic is unknown.",
                Reason(
                    "duration_unknown",
                    "The model is meant for chronic or recurrent pain.",
                    protocol.duration.source,
                ),
            )
        )
    elif duration == "acute" and not intake.recurrent:
        notices.append(
            Notice(
                "acute_episode",
                "This episode is acute; the article's model is meant for chronic or recurrent "
                "back pain. Consider whether the phased plan fits before going ahead.",
                Reason(
                    "duration_acute",
                    f"Acute: under {protocol.duration.acute_below_weeks:g} weeks since onset.",
                    f"{_quote(chronic_text)}; {protocol.duration.source}",
                ),
            )
        )
    if not matches:
        notices.append(
            Notice(
                "no_indication",
                "None of the groups the model is meant for matches this intake.",
                Reason(
                    "indications", "The article names who the plan is ideal for.", protocol.source
                ),
            )
        )
    if baseline.startback is not None and baseline.startback.risk == "high":
        notices.append(
            Notice(
                "startback_high",
                "STarT Back high risk: consider psychologically informed physiotherapy.",
                Reason(
                    "startback_high",
                    "Psychosocial subscale of 4 or more.",
                    "Hill et al. 2008 (Keele STarT Back)",
                ),
            )
        )
    if baseline.odi is not None and not baseline.odi.complete:
        notices.append(
            Notice(
                "odi_incomplete",
                f"Oswestry incomplete ({baseline.odi.skipped} sections skipped): no baseline "
                "score, so no functional target.",
                Reason(
                    "odi_max_skipped",
                    "Too many skipped sections to score.",
                    protocol.thresholds.sources["odi_max_skipped"],
                ),
            )
        )
    for code in intake.contributing_factors:
        if code not in protocol.factors:
            if code not in catalogue.codes["contributing_factors"]:
                raise ValueError(f"Unknown contributing factor code {code!r}.")
            notices.append(
                Notice(
                    f"factor_without_rule_{code}",
                    f"{catalogue.label('contributing_factors', code)}: this protocol has no "
                    "rule for it; adjust the plan by hand if needed.",
                    Reason(
                        "factor_without_rule", "The protocol adds nothing for it.", protocol.source
                    ),
                )
            )
    return Suitability(duration, tuple(matches), tuple(notices))


def _goals(intake: Intake, protocol: Protocol, baseline: Baseline) -> GoalSuggestion:
    """Targets a clinically meaningful improvement would reach: the very threshold the
    outcome verdict tests (domain.outcomes), so a target met is an improvement judged."""
    thresholds = protocol.thresholds
    rule_source = thresholds.sources["meaningful_change_rule"]
    target_nprs = nprs_reason = None
    if intake.nprs_current is not None:
        score = target("nprs", intake.nprs_current, thresholds)
        words = target_text("nprs", intake.nprs_current, thresholds)
        if score is not None and words is not None:
            target_nprs = int(score)
            nprs_reason = Reason(
                "nprs_mcid", words, f"{thresholds.sources['nprs_mcid']} {rule_source}"
            )
    target_odi = odi_reason = None
    if baseline.odi is not None and baseline.odi.percent is not None:
        score = target("odi", baseline.odi.percent, thresholds)
        words = target_text("odi", baseline.odi.percent, thresholds)
        if score is not None and words is not None:
            target_odi = score
            odi_reason = Reason(
                "odi_mcid", words, f"{thresholds.sources['odi_mcid']} {rule_source}"
            )
    return GoalSuggestion(target_nprs, nprs_reason, target_odi, odi_reason, intake.goals)


def _baseline(intake: Intake, protocol: Protocol) -> Baseline:
    odi = (
        score_odi(intake.odi_answers, protocol.thresholds.odi_max_skipped)
        if intake.odi_answers is not None
        else None
    )
    startback = (
        score_startback(intake.startback_answers) if intake.startback_answers is not None else None
    )
    band = nprs_band(intake.nprs_current) if intake.nprs_current is not None else None
    return Baseline(intake.nprs_current, band, odi, startback)


def screen_intake(
    intake: Intake, protocol: Protocol, catalogue: Catalogue, clearance_note: str | None = None
) -> Screening:
    """The screen a plan from ``intake`` needs: red flags (with the derived age flag) and
    every precaution asked. ``clearance_note`` overrides the intake's own note."""
    return planning_screen(
        intake.red_flags,
        protocol,
        clearance_note if clearance_note is not None else intake.red_flag_clearance,
        age_flag=derive_age_flag(
            intake.date_of_birth,
            intake.assessed_on,
            intake.onset_weeks,
            intake.recurrent,
            protocol,
        ),
        age_flag_ruled_out=intake.age_flag_ruled_out,
        precautions_not_asked=intake.precautions_not_asked,
        precaution_labels=dict(catalogue.codes.get("precautions", {})),
    )


def recommend(intake: Intake, protocol: Protocol, catalogue: Catalogue) -> PlanProposal:
    """Propose a plan for ``intake`` from ``protocol``; see the module docstring."""
    screening = screen_intake(intake, protocol, catalogue)
    baseline = _baseline(intake, protocol)
    suitability = _suitability(intake, protocol, baseline, catalogue)
    drafts = {phase.number: _start_phase(phase, catalogue) for phase in protocol.phases}
    for rule, why in _active_factors(intake, protocol):
        _apply_factor(drafts, rule, why)
    # After the factors, so a point a factor added (BL60 for radiating pain) is still
    # removed when a precaution (pregnancy) rules it out.
    precautions = _apply_precautions(drafts, intake, protocol, catalogue)
    phases = tuple(_finish_phase(drafts[phase.number], catalogue) for phase in protocol.phases)
    return PlanProposal(
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        screening=screening,
        suitability=suitability,
        phases=phases,
        precautions=precautions,
        goals=_goals(intake, protocol, baseline),
        baseline=baseline,
        blocked=screening.blocks_planning,
        blocked_reason=screening.message if screening.blocks_planning else None,
    )
