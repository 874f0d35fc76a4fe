"""The clinic's catalogues: PT interventions, acupoints and the labels of every stored code.

Loaded from ``resources/catalogues/*.toml`` and validated as strictly as protocols, because
a plan or a session refers to these codes for years.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from backclinic.domain.datafile import DataFileError, Table, read_toml
from backclinic.domain.resources import resources_dir

# The code lists DESIGN.md defines; codes.toml must label every one of them.
REQUIRED_CODE_KINDS = (
    "contributing_factors",
    "aggravated_by",
    "red_flags",
    "precautions",
    "modalities",
    "sides",
    "assessment_kinds",
    "plan_statuses",
    "visit_statuses",
)
INTERVENTION_BLOCKS = frozenset(
    {"manual_therapy", "corrective_exercise", "stretching", "neuromuscular_retraining", "education"}
)
# WHO alphanumeric codes (BL23, GV3, EX-B2) and ASHI for tender points.
_ACUPOINT_CODE = re.compile(r"^(?:[A-Z]{2}\d{1,2}|EX-[A-Z]{1,3}\d{1,2}|ASHI)$")
_CODE = re.compile(r"^[a-z][a-z0-9_-]*$")


class CatalogueError(DataFileError):
    """A catalogue file is missing or malformed; the message names file, key and reason."""


@dataclass(frozen=True)
class Intervention:
    """A PT intervention as the plan and the printed summary present it."""

    code: str
    label: str
    block: str
    instructions: str
    dosage: str
    # Done lying on the back: adapted after the first trimester of a pregnancy.
    supine: bool = False


@dataclass(frozen=True)
class Acupoint:
    """An acupoint; ``cautions`` are precaution codes under which it is not offered."""

    code: str
    name: str
    region: str
    cautions: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    interventions: Mapping[str, Intervention]
    acupoints: Mapping[str, Acupoint]
    codes: Mapping[str, Mapping[str, str]]

    def label(self, kind: str, code: str) -> str:
        """Human label of ``code`` in the code list ``kind``.

        ``kind`` is a table of codes.toml, or "interventions" / "acupoints". Unknown kinds
        and codes raise KeyError: showing a raw code silently would hide a data error.
        """
        if kind == "interventions":
            return self.interventions[code].label
        if kind == "acupoints":
            point = self.acupoints[code]
            return f"{point.code} ({point.name})"
        try:
            return self.codes[kind][code]
        except KeyError:
            raise KeyError(f"No label for code {code!r} in the {kind!r} list.") from None

    def knows(self, kind: str, code: str) -> bool:
        if kind == "interventions":
            return code in self.interventions
        if kind == "acupoints":
            return code in self.acupoints
        return code in self.codes.get(kind, {})


def _load_codes(path: Path) -> dict[str, Mapping[str, str]]:
    root = Table(read_toml(path, CatalogueError), file=path.name, path="", error=CatalogueError)
    codes: dict[str, Mapping[str, str]] = {}
    for kind in root.names():
        table = root.table(kind)
        labels: dict[str, str] = {}
        for code in table.names():
            if not _CODE.match(code):
                raise table.fail(code, "codes must be lower-case letters, digits, _ or -")
            labels[code] = table.text(code)
        table.finish()
        codes[kind] = MappingProxyType(labels)
    for kind in REQUIRED_CODE_KINDS:
        if kind not in codes:
            raise root.fail(kind, "is required but missing")
    return codes


def _load_acupoints(path: Path, precautions: Mapping[str, str]) -> dict[str, Acupoint]:
    root = Table(read_toml(path, CatalogueError), file=path.name, path="", error=CatalogueError)
    points: dict[str, Acupoint] = {}
    for code, entry in root.table("acupoints").subtables():
        if not _ACUPOINT_CODE.match(code):
            raise entry.fail("", f"{code!r} is not a WHO acupoint code (e.g. BL23, EX-B2) or ASHI")
        cautions = entry.text_list("cautions")
        for caution in cautions:
            if caution not in precautions:
                raise entry.fail("cautions", f"unknown precaution code {caution!r}")
        points[code] = Acupoint(code, entry.text("name"), entry.text("region"), cautions)
        entry.finish()
    root.finish()
    return points


def _load_interventions(path: Path) -> dict[str, Intervention]:
    root = Table(read_toml(path, CatalogueError), file=path.name, path="", error=CatalogueError)
    interventions: dict[str, Intervention] = {}
    for code, entry in root.table("interventions").subtables():
        if not _CODE.match(code):
            raise entry.fail("", "codes must be lower-case letters, digits, _ or -")
        block = entry.text("block")
        if block not in INTERVENTION_BLOCKS:
            raise entry.fail(
                "block", f"must be one of {sorted(INTERVENTION_BLOCKS)}, got {block!r}"
            )
        interventions[code] = Intervention(
            code=code,
            label=entry.text("label"),
            block=block,
            instructions=" ".join(entry.text("instructions").split()),
            dosage=entry.text("dosage"),
            supine=entry.flag("supine", default=False),
        )
        entry.finish()
    root.finish()
    return interventions


def load_catalogue(resources: Path | None = None) -> Catalogue:
    """Load and validate ``catalogues/{codes,acupoints,interventions}.toml``.

    ``resources`` defaults to the app's own resources folder; tests pass a copy.
    """
    folder = (resources or resources_dir()) / "catalogues"
    codes = _load_codes(folder / "codes.toml")
    acupoints = _load_acupoints(folder / "acupoints.toml", codes["precautions"])
    interventions = _load_interventions(folder / "interventions.toml")
    return Catalogue(
        interventions=MappingProxyType(interventions),
        acupoints=MappingProxyType(acupoints),
        codes=MappingProxyType(codes),
    )
