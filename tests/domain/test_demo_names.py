"""The demo clinic's names are data in resources/demo/names.toml, read and checked strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from backclinic.domain.demo_names import DemoNamesError, load_demo_names
from backclinic.domain.resources import resources_dir

SHIPPED = resources_dir() / "demo" / "names.toml"


def test_the_shipped_names_cover_many_traditions_with_female_family_forms_in_step() -> None:
    names = load_demo_names()

    assert len(names.cultures) >= 10
    for culture in names.cultures:
        assert culture.weight >= 1 and culture.female and culture.male
        assert not culture.family_female or len(culture.family_female) == len(culture.family)
    assert ("office worker", 16) in names.occupations
    assert names.mobile_stem == "07700 900"
    assert all(domain.startswith("example.") for domain in names.email_domains)
    assert names.email_letters["ø"] == "o" and names.email_letters["ъ"] == ""
    assert names.email_names["김"] == "kim"


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "names.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '"Kowalska", ',
            "",
            r"names\.toml: cultures\[6\]\.family_female: must give the female form of each of "
            r"the 12 family names, got 11",
        ),
        ("weight = 34", "weight = 0", r"cultures\[0\]\.weight: must be an integer from 1"),
        ("weight = 34", "weight = 34\nnicknames = []", r"cultures\[0\]\.nicknames: is not a known"),
        ('"ø" = "o"', '"ø" = "Ø"', r"email\.letters\.ø: must be spelt in letters a-z, got 'Ø'"),
        ('"ø" = "o"', '"øø" = "o"', r"email\.letters\.øø: must be a single letter"),
        ("version = 1", "version = 2", r"version: must be an integer from 1 to 1, got 2"),
    ],
)
def test_a_broken_names_file_is_refused_naming_the_key_and_the_rule(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(DemoNamesError, match=message):
        load_demo_names(_copy(tmp_path, old, new))
