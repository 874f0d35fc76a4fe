from __future__ import annotations

import pytest

from backclinic.domain.catalogue import Catalogue, load_catalogue
from backclinic.domain.protocol import Protocol
from backclinic.domain.questionnaire import ODI_FILE, STARTBACK_FILE, load_questionnaire

# The code lists of DESIGN.md ("Codes"), copied here so a catalogue edit that drops one fails.
DESIGN_CODES = {
    "contributing_factors": [
        "muscle_imbalance", "posture", "disc", "radiculopathy", "sedentary", "stress",
    ],
    "aggravated_by": ["sitting", "standing", "bending", "lifting", "walking", "posture", "sleep"],
    "red_flags": [
        "saddle_anaesthesia", "bladder_dysfunction", "bowel_incontinence",
        "progressive_leg_weakness", "bilateral_sciatica", "major_trauma",
        "minor_trauma_osteoporosis", "prolonged_steroids", "cancer_history",
        "unexplained_weight_loss", "age_over_50_new_pain", "night_pain", "fever", "iv_drug_use",
        "immunosuppression", "recent_infection",
    ],
    "precautions": [
        "anticoagulants", "pregnancy", "pacemaker", "epilepsy", "skin_lesion", "needle_phobia",
        "immunosuppression",
    ],
    "modalities": ["acupuncture", "pt"],
    "interventions": [
        "posture_correction", "myofascial_release", "joint_mobilization", "stretching",
        "core_stabilization", "glute_activation", "spinal_mobility", "neuromuscular_retraining",
        "functional_strength", "ergonomic_retraining",
    ],
    "acupoints": [
        "BL23", "BL25", "BL40", "BL60", "BL62", "BL52", "BL20", "BL32", "GB30", "GB34", "GB41",
        "GV3", "GV4", "GV14", "GV20", "KI3", "KI7", "SI3", "LR3", "LI4", "SP6", "BL67", "EX-B2",
        "ASHI",
    ],
    "visit_statuses": ["done"],
    "plan_statuses": ["active"],
}  # fmt: skip
CODE_PAIRS = [(kind, code) for kind, codes in DESIGN_CODES.items() for code in codes]


@pytest.mark.parametrize(("kind", "code"), CODE_PAIRS)
def test_every_design_code_has_a_label(catalogue: Catalogue, kind: str, code: str) -> None:
    label = catalogue.label(kind, code)
    assert label.strip() and label != code


@pytest.mark.parametrize("kind", ["sides", "assessment_kinds", "plan_statuses", "visit_statuses"])
def test_every_code_list_of_the_design_is_in_codes_toml(catalogue: Catalogue, kind: str) -> None:
    assert catalogue.codes[kind]


def test_unknown_code_has_no_label(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError, match="headache"):
        catalogue.label("red_flags", "headache")


def test_interventions_have_plain_instructions_and_a_dosage(catalogue: Catalogue) -> None:
    core = catalogue.interventions["core_stabilization"]
    assert core.dosage == "3 sets of 10, hold 10 seconds, daily"
    assert all(len(i.instructions) > 40 and i.dosage for i in catalogue.interventions.values())


def test_points_contraindicated_in_pregnancy_are_cautioned(catalogue: Catalogue) -> None:
    cautioned = {p.code for p in catalogue.acupoints.values() if "pregnancy" in p.cautions}
    assert {"LI4", "SP6", "BL60", "BL67"} <= cautioned
    assert "BL23" not in cautioned


def test_protocol_red_flag_labels_agree_with_the_catalogue(
    protocol: Protocol, catalogue: Catalogue
) -> None:
    for group in protocol.red_flag_groups:
        assert catalogue.label("red_flag_groups", group.code) == group.label


def test_oswestry_has_ten_sections_of_six_statements() -> None:
    odi = load_questionnaire(ODI_FILE)
    assert odi.version == "2.1a"
    assert [len(q.options) for q in odi.questions] == [6] * 10
    assert [q.text for q in odi.questions][7] == "Sex life (if applicable)"
    assert odi.questions[0].options[5] == "The pain is the worst imaginable at the moment"


def test_startback_has_nine_items_and_five_bothersomeness_options() -> None:
    startback = load_questionnaire(STARTBACK_FILE)
    assert len(startback.questions) == 9
    assert startback.questions[8].options == (
        "Not at all", "Slightly", "Moderately", "Very much", "Extremely",
    )  # fmt: skip
    assert [q.number for q in startback.questions if q.psychosocial] == [5, 6, 7, 8, 9]


def test_start_back_item_five_follows_the_keele_text_and_carries_its_copyright() -> None:
    startback = load_questionnaire(STARTBACK_FILE)
    assert startback.questions[4].text == (
        "It's not really safe for a person with a condition like mine to be physically active"
    )
    assert "© Keele University" in startback.copyright


TRIAL_POINTS = (
    *(f"BL{n}" for n in range(20, 35)),
    *(f"BL{n}" for n in range(50, 55)),
    *(f"GV{n}" for n in range(3, 7)),
    "GV14", "GV20", "ST36", "KI3", "KI7", "SI3", "BL40", "BL60", "BL62",
    "GB30", "GB31", "GB34", "GB41", "LR3", "EX-B2",
)  # fmt: skip


def test_the_catalogue_holds_every_point_of_the_trials_with_its_who_name() -> None:
    catalogue = load_catalogue()
    missing = [code for code in TRIAL_POINTS if code not in catalogue.acupoints]
    assert missing == []
    assert catalogue.acupoints["ST36"].name == "Zusanli"
    assert catalogue.acupoints["BL50"].name == "Weicang"
    assert {"BL33", "BL34"} <= {
        c for c, p in catalogue.acupoints.items() if "pregnancy" in p.cautions
    }
