from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from backclinic.domain.catalogue import Catalogue
from backclinic.domain.intake import Intake
from backclinic.domain.protocol import Protocol
from backclinic.domain.recommend import PhaseProposal, PlanProposal, Reason, recommend
from backclinic.domain.schedule import build_schedule
from backclinic.domain.screening import ScreeningOutcome, red_flags_from_case

START = date(2026, 1, 5)


def codes(phase: PhaseProposal) -> set[str]:
    return {choice.code for choice in phase.interventions}


def points(phase: PhaseProposal) -> set[str]:
    return {choice.code for choice in phase.points}


def all_reasons(proposal: PlanProposal) -> list[Reason]:
    reasons: list[Reason] = []
    for phase in proposal.phases:
        reasons += phase.reasons
        for choice in phase.interventions:
            reasons += choice.reasons
        for point in phase.points:
            reasons += point.reasons
    for note in proposal.precautions:
        reasons.append(note.reason)
        reasons += [removed.reason for removed in note.removed_points]
    reasons += [match.reason for match in proposal.suitability.indications]
    reasons += [notice.reason for notice in proposal.suitability.notices]
    return reasons


def test_office_worker_gets_the_articles_phases(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    proposal = recommend(office_worker, protocol, catalogue)
    assert not proposal.blocked and proposal.blocked_reason is None
    assert (proposal.protocol_id, proposal.protocol_version) == ("integrative_lbp", 1)
    one, two, three = proposal.phases
    assert (one.phase.start_week, one.phase.end_week, one.phase.acupuncture_per_week) == (1, 2, 2)
    assert {"posture_correction", "myofascial_release"} <= codes(one)
    assert (two.phase.start_week, two.phase.end_week, two.phase.acupuncture_per_week) == (3, 5, 1)
    assert {"core_stabilization", "glute_activation", "spinal_mobility"} <= codes(two)
    assert three.phase.start_week == 6 and three.phase.acupuncture_as_needed
    assert three.phase.acupuncture_per_week is None
    assert {"functional_strength", "ergonomic_retraining"} <= codes(three)


def test_office_worker_schedule_has_4_then_3_acupuncture_visits_and_weekly_pt(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    proposal = recommend(office_worker, protocol, catalogue)
    visits = build_schedule(proposal.plan_phases(), START, protocol.clinic_defaults.clinic_days)
    acupuncture = [v.visit_date for v in visits if "acupuncture" in v.modalities]
    weeks = [(d - START).days // 7 + 1 for d in acupuncture]
    assert weeks == [1, 1, 2, 2, 3, 4, 5]
    pt_weeks = {(v.visit_date - START).days // 7 + 1 for v in visits if "pt" in v.modalities}
    assert set(range(1, 6)) <= pt_weeks
    assert acupuncture[:4] == [START + timedelta(days=n) for n in (0, 3, 7, 10)]


def test_office_worker_is_chronic_and_matches_the_articles_indications(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    suitability = recommend(office_worker, protocol, catalogue).suitability
    assert suitability.duration_class == "chronic"
    matched = {m.code for m in suitability.indications}
    assert {"chronic_or_recurrent", "postural_strain", "non_surgical_non_opioid"} <= matched
    assert "disc_or_sciatica" not in matched
    assert suitability.notices == ()


def test_pain_below_the_knee_counts_as_nerve_involvement_and_adds_distal_points(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    assert "radiculopathy" not in office_worker.contributing_factors
    radicular = replace(office_worker, radiating_below_knee=True, radiating_to="calf")
    proposal = recommend(radicular, protocol, catalogue)
    for phase in proposal.phases:
        assert {"BL40", "BL60", "GB30", "GB34"} <= points(phase)
        assert "calm nerve irritation" in phase.acupuncture_aims
    bl60 = next(p for p in proposal.phases[0].points if p.code == "BL60")
    assert "radiating pain into the calf counts as nerve involvement" in bl60.reason.text


def test_hip_only_radiating_pain_is_referred_pain_and_adds_no_sciatic_points(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    assert office_worker.radiating_below_knee is False
    proposal = recommend(office_worker, protocol, catalogue)
    for phase in proposal.phases:
        assert not {"BL60", "GB30", "GB34"} & points(phase)


def test_hip_pain_with_neurological_signs_recorded_counts_as_radicular(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    signs = replace(office_worker, neurological_signs=True)
    proposal = recommend(signs, protocol, catalogue)
    assert "BL60" in points(proposal.phases[0])
    bl60 = next(p for p in proposal.phases[0].points if p.code == "BL60")
    assert "neurological signs" in bl60.reason.text


def test_without_radiating_pain_or_radiculopathy_there_are_no_distal_points(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(office_worker, radiating_present=False, radiating_to=None)
    proposal = recommend(intake, protocol, catalogue)
    assert "BL60" not in points(proposal.phases[0])


def test_posture_and_sedentary_factors_give_their_reasons_to_existing_choices(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    proposal = recommend(office_worker, protocol, catalogue)
    posture = next(c for c in proposal.phases[0].interventions if c.code == "posture_correction")
    rules = [r.rule for r in posture.reasons]
    assert rules == ["phase_1_focus", "factor_posture", "factor_sedentary"]
    ergonomic = next(
        c for c in proposal.phases[2].interventions if c.code == "ergonomic_retraining"
    )
    assert {"factor_posture", "factor_sedentary"} <= {r.rule for r in ergonomic.reasons}
    assert ergonomic.dosage == catalogue.interventions["ergonomic_retraining"].dosage


def test_disc_factor_adds_neuromuscular_retraining_with_care(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(office_worker, contributing_factors=("disc",))
    phase_two = recommend(intake, protocol, catalogue).phases[1]
    added = next(c for c in phase_two.interventions if c.code == "neuromuscular_retraining")
    assert added.reason.rule == "factor_disc"
    assert "Caution" in added.reason.text


def test_stress_adds_points_for_tension(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(office_worker, contributing_factors=("stress",))
    proposal = recommend(intake, protocol, catalogue)
    assert {"GV20", "LR3"} <= points(proposal.phases[0])


def test_every_choice_has_a_reason_with_a_source(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(
        office_worker,
        precautions=("pregnancy", "pacemaker"),
        onset_weeks=2,
        recurrent=False,
        contributing_factors=("disc", "stress", "posture"),
    )
    proposal = recommend(intake, protocol, catalogue)
    for phase in proposal.phases:
        assert phase.reasons
        assert all(choice.reasons for choice in phase.interventions)
        assert all(point.reasons for point in phase.points)
    reasons = all_reasons(proposal)
    assert len(reasons) > 30
    assert all(r.rule and r.text and r.source for r in reasons)
    assert proposal.goals.target_nprs_reason is not None
    assert proposal.goals.target_odi_reason is not None


def test_phase_reasons_quote_the_article(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    phase = recommend(office_worker, protocol, catalogue).phases[0]
    focus = next(c for c in phase.interventions if c.code == "myofascial_release")
    assert focus.reason.source.startswith("“Acupuncture twice per week to reduce inflammation")


def test_pregnancy_removes_contraindicated_points_from_every_phase(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(
        office_worker,
        precautions=("pregnancy",),
        contributing_factors=("stress",),
        radiating_below_knee=True,
    )
    proposal = recommend(intake, protocol, catalogue)
    for phase in proposal.phases:
        assert not points(phase) & {"LI4", "SP6", "BL60", "BL67", "BL32"}
        assert {"BL40", "GB30"} <= points(phase)
    (note,) = proposal.precautions
    assert note.code == "pregnancy"
    removed = {(r.code, r.phase_number) for r in note.removed_points}
    assert removed == {("BL60", 1), ("BL60", 2), ("BL60", 3)}
    assert all("Pregnancy" in r.reason.text for r in note.removed_points)


def test_pacemaker_means_no_electro_acupuncture(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(office_worker, precautions=("pacemaker",))
    (note,) = recommend(intake, protocol, catalogue).precautions
    assert note.no_electroacupuncture and note.removed_points == ()


def test_acute_case_gets_a_notice_not_a_block(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(office_worker, onset_weeks=2, recurrent=False)
    proposal = recommend(intake, protocol, catalogue)
    assert proposal.suitability.duration_class == "acute"
    assert not proposal.blocked
    assert [n.code for n in proposal.suitability.notices] == ["acute_episode"]
    assert len(proposal.phases) == 3


def test_unscreened_patient_still_gets_a_proposal_but_it_is_blocked(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    proposal = recommend(replace(office_worker, red_flags=None), protocol, catalogue)
    assert proposal.blocked
    assert proposal.screening.outcome == ScreeningOutcome.NOT_SCREENED
    assert proposal.blocked_reason == "Red flags have not been screened; unknown is not none."
    assert len(proposal.phases) == 3


def test_cauda_equina_blocks_the_plan_whatever_the_clearance(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(
        office_worker,
        red_flags=red_flags_from_case(["saddle_anaesthesia"], protocol),
        red_flag_clearance="seen by GP",
    )
    proposal = recommend(intake, protocol, catalogue)
    assert proposal.blocked
    assert proposal.blocked_reason is not None and "same-day" in proposal.blocked_reason


def test_cleared_red_flag_lets_the_plan_go_ahead(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(
        office_worker,
        red_flags=red_flags_from_case(["night_pain"], protocol),
        red_flag_clearance="cleared by GP on 2026-01-03",
    )
    proposal = recommend(intake, protocol, catalogue)
    assert proposal.screening.outcome == ScreeningOutcome.CLEARED and not proposal.blocked


def test_goal_targets_are_the_threshold_the_verdict_tests(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    # One rule (the protocol's meaningful_change_rule, "either"): the points OR the
    # percentage, never below the 2-point measurement error.
    goals = recommend(office_worker, protocol, catalogue).goals
    assert goals.target_nprs == 4  # 6 − max(2 error, min(2, 1.8))
    assert goals.target_odi_percent == 34.4  # 44.4 − min(10, 13.32)
    assert goals.patient_goals == office_worker.goals


def test_high_pain_needs_the_two_point_fall_either_rule_allows(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    goals = recommend(replace(office_worker, nprs_current=9), protocol, catalogue).goals
    assert goals.target_nprs == 7  # 9 − min(2, 2.7)


def test_low_pain_gets_no_target_the_verdict_could_never_call_improved(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    # 1 → 0 is within the 2-point measurement error: no score would be a meaningful fall.
    goals = recommend(replace(office_worker, nprs_current=1), protocol, catalogue).goals
    assert goals.target_nprs is None and goals.target_nprs_reason is None
    assert (
        recommend(replace(office_worker, nprs_current=2), protocol, catalogue).goals.target_nprs
        == 0
    )


def test_missing_baselines_give_no_targets_and_an_incomplete_odi_notice(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(
        office_worker, nprs_current=None, odi_answers=(1, 1, 1, 1, 1, 1, 1, None, None, None)
    )
    proposal = recommend(intake, protocol, catalogue)
    assert proposal.goals.target_nprs is None and proposal.goals.target_odi_percent is None
    assert "odi_incomplete" in [n.code for n in proposal.suitability.notices]
    assert proposal.baseline.odi is not None and not proposal.baseline.odi.complete


def test_high_startback_risk_is_a_notice(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    intake = replace(office_worker, startback_answers=(1, 0, 0, 0, 1, 1, 1, 1, 4))
    proposal = recommend(intake, protocol, catalogue)
    assert proposal.baseline.startback is not None
    assert proposal.baseline.startback.risk == "high"
    assert "startback_high" in [n.code for n in proposal.suitability.notices]


def test_unknown_precaution_code_is_refused(
    office_worker: Intake, protocol: Protocol, catalogue: Catalogue
) -> None:
    with pytest.raises(ValueError, match="'asthma'"):
        recommend(replace(office_worker, precautions=("asthma",)), protocol, catalogue)
