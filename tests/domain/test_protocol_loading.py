from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from backclinic.domain.catalogue import Catalogue, CatalogueError, load_catalogue
from backclinic.domain.protocol import (
    Protocol,
    ProtocolError,
    default_protocol_path,
    load_protocol,
)
from backclinic.domain.resources import resources_dir

ORIGINAL = default_protocol_path().read_text(encoding="utf-8")
FILE = "integrative_lbp.v1.toml"


def load_changed(
    tmp_path: Path, catalogue: Catalogue, old: str, new: str, count: int = 1
) -> Protocol:
    assert old in ORIGINAL, f"test setup: {old!r} not in the protocol file"
    path = tmp_path / FILE
    path.write_text(ORIGINAL.replace(old, new, count), encoding="utf-8")
    return load_protocol(path, catalogue)


def test_the_shipped_protocol_is_the_articles_model(protocol: Protocol) -> None:
    assert (protocol.id, protocol.version) == ("integrative_lbp", 1)
    assert [(p.phase.name, p.phase.start_week, p.phase.end_week) for p in protocol.phases] == [
        ("Calm and correct", 1, 2),
        ("Stabilise", 3, 5),
        ("Strengthen and prevent", 6, 9),
    ]
    assert [
        (p.phase.acupuncture_per_week, p.phase.acupuncture_as_needed) for p in protocol.phases
    ] == [
        (2, False),
        (1, False),
        (None, True),
    ]
    assert protocol.phases[0].acupuncture_aims == (
        "reduce inflammation",
        "relax tight muscles",
        "calm nerve irritation",
    )
    assert [p.phase.pt_per_week for p in protocol.phases] == [2, 2, 1]
    assert protocol.phases[2].open_ended and not protocol.phases[1].open_ended
    assert protocol.clinic_defaults.clinic_days == frozenset(range(5))


def test_phase_aims_quote_the_article(protocol: Protocol) -> None:
    article = Path("/work/shared/source/integrative-back-pain-article.txt")
    if not article.exists():
        pytest.skip("the shared article is not available here")
    text = article.read_text(encoding="utf-8")
    for phase in protocol.phases:
        for sentence in re.split(r"(?<=\.) ", phase.phase.aim):
            assert sentence.rstrip(".") in text
    for indication in protocol.indications:
        assert indication.text in text


def test_thresholds_and_duration_come_with_sources(protocol: Protocol) -> None:
    t = protocol.thresholds
    assert (t.nprs_mcid_points, t.nprs_mcid_percent, t.nprs_mdc) == (2, 30, 2)
    assert (t.odi_mcid_points, t.odi_mcid_percent, t.odi_max_skipped) == (10, 30, 2)
    assert (t.non_response_sessions, t.non_response_percent, t.reassess_every_visits) == (6, 30, 10)
    assert "Ostelo" in t.sources["nprs_mcid"]
    assert (protocol.duration.acute_below_weeks, protocol.duration.chronic_above_weeks) == (4, 12)


def test_red_flag_groups_cover_the_design_codes(protocol: Protocol) -> None:
    groups = {g.code: g for g in protocol.red_flag_groups}
    assert set(groups) == {"cauda_equina", "fracture", "malignancy", "infection"}
    assert groups["cauda_equina"].urgent and not groups["fracture"].urgent
    assert len(protocol.red_flag_items()) == 16


def test_pregnancy_avoids_the_reference_points(protocol: Protocol) -> None:
    assert set(protocol.precautions["pregnancy"].avoid_points) == {"LI4", "SP6", "BL60", "BL67"}
    assert protocol.precautions["pacemaker"].no_electroacupuncture


def test_wrong_type_names_file_key_and_value(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(ProtocolError) as error:
        load_changed(tmp_path, catalogue, "per_week = 2", 'per_week = "two"')
    assert str(error.value) == (
        f'{FILE}: phases[0].acupuncture.per_week: must be an integer from 1 to 7, got "two"'
    )


def test_out_of_range_frequency_is_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(ProtocolError, match=r"phases\[1\]\.acupuncture\.per_week: .* got 9"):
        load_changed(tmp_path, catalogue, "per_week = 1", "per_week = 9")


def test_unknown_intervention_code_is_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(
        ProtocolError, match=r"phases\[0\]\.pt_focus: unknown PT intervention code 'yoga'"
    ):
        load_changed(tmp_path, catalogue, '"myofascial_release"]', '"yoga"]')


def test_unknown_acupoint_is_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(
        ProtocolError, match=r"factors\.stress\.adds\[0\]\.acupoints: unknown acupoint code 'XX99'"
    ):
        load_changed(tmp_path, catalogue, '["GV20", "LR3"]', '["GV20", "XX99"]')


def test_unknown_red_flag_is_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(
        ProtocolError, match=r"red_flag_groups\[3\]\.items: unknown red flag code 'cough'"
    ):
        load_changed(tmp_path, catalogue, '"fever",', '"cough",')


def test_overlapping_phases_are_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(ProtocolError, match=r"phases\[1\]\.start_week: must be 3; it overlaps"):
        load_changed(tmp_path, catalogue, "start_week = 3", "start_week = 2")


def test_a_gap_between_phases_is_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(ProtocolError, match=r"phases\[2\]\.start_week: must be 6; it leaves a gap"):
        load_changed(tmp_path, catalogue, "start_week = 6", "start_week = 7")


def test_toml_syntax_error_names_file_and_line(tmp_path: Path, catalogue: Catalogue) -> None:
    line = ORIGINAL.splitlines().index("version = 1") + 1
    with pytest.raises(ProtocolError, match=rf"{re.escape(FILE)}: not valid TOML: .*line {line},"):
        load_changed(tmp_path, catalogue, "version = 1", "version = = 1")


def test_missing_key_is_named(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(ProtocolError, match=r"phases\[0\]\.name: is required but missing"):
        load_changed(tmp_path, catalogue, 'name = "Calm and correct"\n', "")


def test_unknown_key_is_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(
        ProtocolError, match=r"thresholds\.nprs_mcid_pionts: is not a known setting"
    ):
        load_changed(
            tmp_path,
            catalogue,
            "nprs_mcid_points = 2",
            "nprs_mcid_points = 2\nnprs_mcid_pionts = 3",
        )


def test_both_as_needed_and_weekly_acupuncture_is_refused(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    with pytest.raises(ProtocolError, match=r"phases\[2\]\.acupuncture\.as_needed: cannot be true"):
        load_changed(tmp_path, catalogue, "as_needed = true", "as_needed = true\nper_week = 1")


def test_pt_defaults_must_match_the_number_of_phases(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(ProtocolError, match=r"clinic_defaults\.pt_per_week: must give one"):
        load_changed(tmp_path, catalogue, "pt_per_week = [2, 2, 1]", "pt_per_week = [2, 2]")


def test_a_missing_file_is_a_protocol_error(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(ProtocolError, match=r"nothing\.toml: cannot be read"):
        load_protocol(tmp_path / "nothing.toml", catalogue)


def test_clinic_may_change_the_last_phase_length(tmp_path: Path, catalogue: Catalogue) -> None:
    changed = load_changed(tmp_path, catalogue, "last_phase_weeks = 4", "last_phase_weeks = 6")
    assert changed.phases[2].phase.end_week == 11


def test_catalogues_load_from_a_copied_resources_folder(tmp_path: Path) -> None:
    shutil.copytree(resources_dir() / "catalogues", tmp_path / "catalogues")
    assert "BL23" in load_catalogue(tmp_path).acupoints


def test_broken_catalogue_names_file_and_key(tmp_path: Path) -> None:
    shutil.copytree(resources_dir() / "catalogues", tmp_path / "catalogues")
    path = tmp_path / "catalogues" / "acupoints.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('cautions = ["pregnancy"]', 'cautions = ["diabetes"]', 1), encoding="utf-8"
    )
    with pytest.raises(
        CatalogueError,
        match=r"acupoints.toml: acupoints\.BL31\.cautions: unknown precaution code 'diabetes'",
    ):
        load_catalogue(tmp_path)


def test_the_guidelines_on_acupuncture_come_side_by_side_with_their_sources(
    protocol: Protocol,
) -> None:
    by_guideline = {p.guideline: p for p in protocol.evidence}
    assert set(by_guideline) == {"ACP 2017", "NICE NG59 (2016)"}
    assert "recommended for acute and chronic low back pain" in by_guideline["ACP 2017"].position
    assert "Ann Intern Med 2017;166:514" in by_guideline["ACP 2017"].source
    assert "Do not offer acupuncture" in by_guideline["NICE NG59 (2016)"].position
    assert "NICE guideline NG59" in by_guideline["NICE NG59 (2016)"].source


def test_a_guideline_without_its_source_is_named(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(
        ProtocolError, match=rf"{FILE}: evidence\[1\]\.source: is required but missing"
    ):
        load_changed(
            tmp_path,
            catalogue,
            'source = "National Institute for Health and Care Excellence.',
            'note = "National Institute for Health and Care Excellence.',
        )


def test_one_guideline_alone_is_not_evidence_side_by_side(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    start = ORIGINAL.index('[[evidence]]\nguideline = "NICE')
    end = ORIGINAL.index("# ----", start)
    with pytest.raises(ProtocolError, match=r"evidence: must give at least two guidelines"):
        load_changed(tmp_path, catalogue, ORIGINAL[start:end], "")


def test_a_protocol_copy_made_before_the_evidence_still_loads(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    start = ORIGINAL.index("[[evidence]]")
    end = ORIGINAL.index("# ----", ORIGINAL.index('[[evidence]]\nguideline = "NICE'))
    assert load_changed(tmp_path, catalogue, ORIGINAL[start:end], "").evidence == ()
