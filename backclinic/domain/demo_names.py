"""The demo clinic's name pools and contact details, read and checked from ``resources/demo``.

The generator (``services/demo.py``) draws from these with one seeded random generator;
the data lives in ``names.toml`` so that it can be read, reviewed and extended as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from backclinic.domain.datafile import DataFileError, Table, read_toml
from backclinic.domain.resources import resources_dir

NAMES_FILE = "names.toml"
SUPPORTED_VERSION = 1
_MAX_WEIGHT = 1_000


class DemoNamesError(DataFileError):
    """The demo names file is missing or does not hold what the generator draws from."""


@dataclass(frozen=True)
class NameCulture:
    """Name pools of one naming tradition; ``family_female`` holds sex-specific forms,
    position for position with ``family`` (empty where the tradition has none)."""

    weight: int
    family: tuple[str, ...]
    female: tuple[str, ...]
    male: tuple[str, ...]
    family_female: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoNames:
    cultures: tuple[NameCulture, ...]
    occupations: tuple[tuple[str, int], ...]
    streets: tuple[str, ...]
    towns: tuple[tuple[str, str], ...]
    postcode_letters: str
    mobile_stem: str
    landline_stems: tuple[str, ...]
    email_domains: tuple[str, ...]
    # How a letter outside a-z is spelt in an e-mail address ("ø" -> "o", "ъ" -> "").
    email_letters: Mapping[str, str]
    # Names spelt whole for an e-mail address (Korean: syllables have no letter spelling).
    email_names: Mapping[str, str]


@cache
def load_demo_names(path: Path | None = None) -> DemoNames:
    """Read and check the demo names; DemoNamesError names the file, the key and the rule."""
    source = path or resources_dir() / "demo" / NAMES_FILE
    root = Table(read_toml(source, DemoNamesError), file=source.name, path="", error=DemoNamesError)
    root.integer("version", SUPPORTED_VERSION, SUPPORTED_VERSION)
    cultures = tuple(_culture(table) for table in root.tables("cultures"))
    people = root.table("people")
    occupations = tuple(_occupation(item) for item in people.tables("occupations"))
    people.finish()
    addresses = root.table("addresses")
    streets = addresses.text_list("streets", allow_empty=False)
    towns = tuple(_town(item) for item in addresses.tables("towns"))
    postcode_letters = addresses.text("postcode_letters")
    if not postcode_letters.isascii() or not postcode_letters.isupper():
        raise addresses.fail("postcode_letters", "must be capital letters A-Z")
    addresses.finish()
    phones = root.table("phones")
    mobile_stem = phones.text("mobile_stem")
    landline_stems = phones.text_list("landline_stems", allow_empty=False)
    phones.finish()
    email = root.table("email")
    domains = email.text_list("domains", allow_empty=False)
    letters = _spellings(email.table("letters"), single_letters=True)
    names = _spellings(email.table("names"), single_letters=False)
    email.finish()
    root.finish()
    return DemoNames(
        cultures=cultures,
        occupations=occupations,
        streets=streets,
        towns=towns,
        postcode_letters=postcode_letters,
        mobile_stem=mobile_stem,
        landline_stems=landline_stems,
        email_domains=domains,
        email_letters=letters,
        email_names=names,
    )


def _culture(table: Table) -> NameCulture:
    family = table.text_list("family", allow_empty=False)
    family_female = table.text_list("family_female")
    if family_female and len(family_female) != len(family):
        raise table.fail(
            "family_female",
            f"must give the female form of each of the {len(family)} family names, "
            f"got {len(family_female)}",
        )
    culture = NameCulture(
        weight=table.integer("weight", 1, _MAX_WEIGHT),
        family=family,
        female=table.text_list("female", allow_empty=False),
        male=table.text_list("male", allow_empty=False),
        family_female=family_female,
    )
    table.finish()
    return culture


def _occupation(table: Table) -> tuple[str, int]:
    occupation = (table.text("name"), table.integer("weight", 1, _MAX_WEIGHT))
    table.finish()
    return occupation


def _town(table: Table) -> tuple[str, str]:
    town = (table.text("town"), table.text("district"))
    table.finish()
    return town


def _spellings(table: Table, *, single_letters: bool) -> dict[str, str]:
    spellings: dict[str, str] = {}
    for key in table.names():
        value = table.text_or_empty(key)
        if single_letters and len(key) != 1:
            raise table.fail(key, "must be a single letter")
        if not all("a" <= ch <= "z" for ch in value) or (not single_letters and not value):
            raise table.fail(key, f"must be spelt in letters a-z, got {value!r}")
        spellings[key] = value
    table.finish()
    return spellings
