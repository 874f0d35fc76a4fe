"""The phased treatment model, loaded from ``resources/protocols/*.toml`` and validated.

A protocol file is clinical data a clinic may copy and edit, so the loader trusts nothing:
every key is typed and range-checked, unknown keys are refused, phases must follow each
other week by week, and every code and point must exist in the catalogues. Each failure
is a ProtocolError naming file, key and reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from backclinic.domain.catalogue import Catalogue, load_catalogue
from backclinic.domain.datafile import DataFileError, Table, read_toml
from backclinic.domain.plan import InterventionDose, PlanPhase
from backclinic.domain.resources import resources_dir

DEFAULT_PROTOCOL_FILE = "integrative_lbp.v1.toml"
MAX_SESSIONS_PER_WEEK = 7
MAX_PLAN_WEEKS = 52
MEANINGFUL_CHANGE_RULES = ("either", "both")
MeaningfulChangeRule = Literal["either", "both"]
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ProtocolError(DataFileError):
    """A protocol file is unreadable or invalid; the message names file, key and reason."""


@dataclass(frozen=True)
class PhaseTemplate:
    """One phase of the model: the plan phase it proposes (its PT focus at the catalogue's
    dosages, its PT frequency from the clinic defaults) and what only the model says of it.
    ``open_ended`` marks a phase the source leaves open ("week 6+") whose ``end_week``
    therefore comes from the clinic defaults."""

    phase: PlanPhase
    acupuncture_aims: tuple[str, ...]
    acupoints_source: str
    open_ended: bool

    @property
    def number(self) -> int:
        return self.phase.number


@dataclass(frozen=True)
class Indication:
    """Who the model is for, in the source's words, with the facts that match a case."""

    code: str
    text: str
    when_duration: tuple[str, ...]
    when_recurrent: bool
    when_factors: tuple[str, ...]
    when_radiating_below_knee: bool
    when_aggravated_by: tuple[str, ...]
    when_occupation_mentions: tuple[str, ...]
    when_goals_mention: tuple[str, ...]


@dataclass(frozen=True)
class FactorAddition:
    """What a contributing factor adds to the listed phases."""

    phases: tuple[int, ...]
    interventions: tuple[str, ...]
    acupoints: tuple[str, ...]
    acupuncture_aims: tuple[str, ...]


@dataclass(frozen=True)
class FactorRule:
    code: str
    label: str
    rule: str
    source: str
    caution: str | None
    also_when_radiating_pain: bool
    adds: tuple[FactorAddition, ...]


@dataclass(frozen=True)
class RedFlagGroup:
    """One serious pathology; ``urgent`` groups (cauda equina) stop planning outright."""

    code: str
    label: str
    urgent: bool
    action: str
    source: str
    items: tuple[str, ...]
    # The catalogue's words for each item, for messages ("history of cancer").
    item_labels: Mapping[str, str] = field(default_factory=dict)

    def item_label(self, item: str) -> str:
        label = self.item_labels.get(item, item.replace("_", " "))
        return label[:1].lower() + label[1:]


@dataclass(frozen=True)
class Precaution:
    code: str
    label: str
    needling: str
    avoid_points: tuple[str, ...]
    no_electroacupuncture: bool
    source: str
    # Points needled under this precaution only with the clinician's explicit
    # acknowledgement (pregnancy: lumbosacral and lower abdominal points), and what it says.
    acknowledge_points: tuple[str, ...] = ()
    acknowledgement: str = ""
    # Gestation in weeks after which exercises lying on the back are adapted (pregnancy).
    adapt_supine_after_weeks: int | None = None


@dataclass(frozen=True)
class AgeFlagRule:
    """How "age over 50 with new pain" is derived (REFERENCE.md, During care)."""

    code: str
    age_over: int
    onset_within_weeks: int
    source: str


@dataclass(frozen=True)
class OutcomeThresholds:
    nprs_mcid_points: int
    nprs_mcid_percent: int
    nprs_mdc: int
    odi_mcid_points: int
    odi_mcid_percent: int
    odi_max_skipped: int
    non_response_sessions: int
    non_response_percent: int
    reassess_every_visits: int
    psfs_mcid_points: int
    psfs_mdc: int
    rmdq_mcid_points: int
    rmdq_mcid_percent: int
    rmdq_mdc: int
    # "either": a change passing the points OR the percentage threshold is meaningful;
    # "both": it must pass both. The plan's targets use the same rule.
    meaningful_change_rule: MeaningfulChangeRule
    # Advance to the next phase only when at least this share of the phase's due visits
    # was attended.
    advance_attended_percent: int
    # A plan of care is recertified within this many days of its start (or last review).
    recertify_after_days: int
    # Citation per rule: one per THRESHOLD_SOURCE_KEYS entry.
    sources: Mapping[str, str]


@dataclass(frozen=True)
class DurationClasses:
    """Acute below ``acute_below_weeks``; chronic above ``chronic_above_weeks``."""

    acute_below_weeks: float
    chronic_above_weeks: float
    source: str


@dataclass(frozen=True)
class ClinicDefaults:
    """Settings that are the clinic's choice, not the source's."""

    pt_per_week: tuple[int, ...]
    last_phase_weeks: int
    clinic_days: frozenset[int]


@dataclass(frozen=True)
class EvidencePosition:
    """What one guideline says about acupuncture for low back pain, with its source: shown
    beside the others, neutrally, so the clinic decides."""

    guideline: str
    position: str
    source: str


@dataclass(frozen=True)
class Protocol:
    id: str
    version: int
    name: str
    source: str
    phases: tuple[PhaseTemplate, ...]
    indications: tuple[Indication, ...]
    factors: Mapping[str, FactorRule]
    red_flag_groups: tuple[RedFlagGroup, ...]
    precautions: Mapping[str, Precaution]
    thresholds: OutcomeThresholds
    duration: DurationClasses
    clinic_defaults: ClinicDefaults
    evidence: tuple[EvidencePosition, ...] = ()
    age_flag: AgeFlagRule | None = None

    def phase(self, number: int) -> PhaseTemplate:
        return next(p for p in self.phases if p.number == number)

    def red_flag_items(self) -> tuple[str, ...]:
        """Every red-flag item code, in the order the screening form asks them."""
        return tuple(item for group in self.red_flag_groups for item in group.items)

    def red_flag_words(self, items: Iterable[str]) -> str:
        """Red-flag items in words, comma-separated: "saddle anaesthesia, fever"."""
        labels = {i: g.item_label(i) for g in self.red_flag_groups for i in g.items}
        return ", ".join(labels.get(item, item.replace("_", " ")) for item in items)


THRESHOLD_SOURCE_KEYS = (
    "nprs_mcid",
    "nprs_mdc",
    "odi_mcid",
    "odi_max_skipped",
    "non_response",
    "reassess_every_visits",
    "psfs",
    "rmdq",
    "meaningful_change_rule",
    "advance",
    "recertification",
)


def default_protocol_path() -> Path:
    return resources_dir() / "protocols" / DEFAULT_PROTOCOL_FILE


def _codes_known(
    table: Table, key: str, codes: tuple[str, ...], known: Mapping[str, object], what: str
) -> None:
    for code in codes:
        if code not in known:
            raise table.fail(key, f"unknown {what} code {code!r}")


def _read_phase(
    table: Table, catalogue: Catalogue, *, index: int, is_last: bool, defaults: ClinicDefaults
) -> PhaseTemplate:
    number = table.integer("number", 1, 20)
    if number != index + 1:
        raise table.fail(
            "number",
            f"phases must be numbered 1, 2, 3 … in order; expected {index + 1}, got {number}",
        )
    start_week = table.integer("start_week", 1, MAX_PLAN_WEEKS)
    end_week = table.optional_integer("end_week", 1, MAX_PLAN_WEEKS)
    open_ended = end_week is None
    if end_week is None:
        if not is_last:
            raise table.fail(
                "end_week", "is required but missing (only the last phase may be open-ended)"
            )
        # The source leaves the last phase open ("week 6+"); its length is a clinic default.
        end_week = start_week + defaults.last_phase_weeks - 1
    if end_week < start_week:
        raise table.fail(
            "end_week", f"must not be before start_week ({start_week}), got {end_week}"
        )
    pt_focus = table.text_list("pt_focus", allow_empty=False)
    _codes_known(table, "pt_focus", pt_focus, catalogue.interventions, "PT intervention")
    acupoints = table.text_list("acupoints")
    _codes_known(table, "acupoints", acupoints, catalogue.acupoints, "acupoint")
    acupuncture = table.table("acupuncture")
    per_week = acupuncture.optional_integer("per_week", 1, MAX_SESSIONS_PER_WEEK)
    as_needed = acupuncture.flag("as_needed", default=False)
    if per_week is None and not as_needed:
        raise acupuncture.fail("per_week", "is required unless as_needed = true")
    if per_week is not None and as_needed:
        raise acupuncture.fail("as_needed", "cannot be true together with per_week")
    # Read in the file's order of checks, so the first problem named stays the same.
    name = table.text("name")
    aims = acupuncture.text_list("aims")
    aim = table.text("aim")
    acupoints_source = table.text("acupoints_source")
    phase = PhaseTemplate(
        PlanPhase(
            number=number,
            name=name,
            start_week=start_week,
            end_week=end_week,
            acupuncture_per_week=per_week,
            acupuncture_as_needed=as_needed,
            pt_per_week=defaults.pt_per_week[index],
            pt_interventions=tuple(
                InterventionDose(code, catalogue.interventions[code].dosage) for code in pt_focus
            ),
            acupoints=acupoints,
            aim=aim,
        ),
        acupuncture_aims=aims,
        acupoints_source=acupoints_source,
        open_ended=open_ended,
    )
    acupuncture.finish()
    table.finish()
    return phase


def _read_phases(
    root: Table, catalogue: Catalogue, defaults: ClinicDefaults
) -> tuple[PhaseTemplate, ...]:
    tables = root.tables("phases")
    if len(defaults.pt_per_week) != len(tables):
        raise root.fail(
            "clinic_defaults.pt_per_week",
            f"must give one PT frequency per phase ({len(tables)}), "
            f"got {len(defaults.pt_per_week)}",
        )
    phases: list[PhaseTemplate] = []
    expected_start = 1
    for index, table in enumerate(tables):
        phase = _read_phase(
            table, catalogue, index=index, is_last=index == len(tables) - 1, defaults=defaults
        )
        weeks = phase.phase
        if weeks.start_week != expected_start:
            reason = (
                "it overlaps the previous phase"
                if weeks.start_week < expected_start
                else "it leaves a gap after the previous phase"
            )
            raise table.fail(
                "start_week", f"must be {expected_start}; {reason}; got {weeks.start_week}"
            )
        phases.append(phase)
        expected_start = weeks.end_week + 1
    return tuple(phases)


def _read_indications(root: Table, catalogue: Catalogue) -> tuple[Indication, ...]:
    result = []
    seen: set[str] = set()
    for table in root.tables("indications"):
        code = table.text("code")
        if code in seen:
            raise table.fail("code", f"{code!r} is used twice")
        seen.add(code)
        when_duration = table.text_list("when_duration")
        _codes_known(
            table,
            "when_duration",
            when_duration,
            catalogue.codes["duration_classes"],
            "duration class",
        )
        when_factors = table.text_list("when_factors")
        _codes_known(
            table,
            "when_factors",
            when_factors,
            catalogue.codes["contributing_factors"],
            "contributing factor",
        )
        when_aggravated = table.text_list("when_aggravated_by")
        _codes_known(
            table,
            "when_aggravated_by",
            when_aggravated,
            catalogue.codes["aggravated_by"],
            "aggravated-by",
        )
        indication = Indication(
            code=code,
            text=table.text("text"),
            when_duration=when_duration,
            when_recurrent=table.flag("when_recurrent", default=False),
            when_factors=when_factors,
            when_radiating_below_knee=table.flag("when_radiating_below_knee", default=False),
            when_aggravated_by=when_aggravated,
            when_occupation_mentions=tuple(
                w.lower() for w in table.text_list("when_occupation_mentions")
            ),
            when_goals_mention=tuple(w.lower() for w in table.text_list("when_goals_mention")),
        )
        table.finish()
        result.append(indication)
    return tuple(result)


def _read_factors(
    root: Table, catalogue: Catalogue, phase_numbers: set[int]
) -> Mapping[str, FactorRule]:
    factors: dict[str, FactorRule] = {}
    for code, table in root.table("factors").subtables():
        if code not in catalogue.codes["contributing_factors"]:
            raise table.fail("", f"unknown contributing factor code {code!r}")
        additions = []
        if table.has("adds"):
            for add in table.tables("adds"):
                phases = add.integer_list("phases", 1, 20)
                for number in phases:
                    if number not in phase_numbers:
                        raise add.fail("phases", f"there is no phase {number}")
                interventions = add.text_list("interventions")
                _codes_known(
                    add, "interventions", interventions, catalogue.interventions, "PT intervention"
                )
                points = add.text_list("acupoints")
                _codes_known(add, "acupoints", points, catalogue.acupoints, "acupoint")
                additions.append(
                    FactorAddition(phases, interventions, points, add.text_list("acupuncture_aims"))
                )
                add.finish()
        factors[code] = FactorRule(
            code=code,
            label=table.text("label"),
            rule=table.text("rule"),
            source=table.text("source"),
            caution=table.optional_text("caution"),
            also_when_radiating_pain=table.flag("also_when_radiating_pain", default=False),
            adds=tuple(additions),
        )
        table.finish()
    return MappingProxyType(factors)


def _read_red_flag_groups(root: Table, catalogue: Catalogue) -> tuple[RedFlagGroup, ...]:
    groups = []
    seen_items: set[str] = set()
    for table in root.tables("red_flag_groups"):
        code = table.text("code")
        if code not in catalogue.codes.get("red_flag_groups", {}):
            raise table.fail("code", f"unknown red-flag group code {code!r}")
        items = table.text_list("items", allow_empty=False)
        _codes_known(table, "items", items, catalogue.codes["red_flags"], "red flag")
        for item in items:
            if item in seen_items:
                raise table.fail("items", f"red flag {item!r} is already in another group")
            seen_items.add(item)
        groups.append(
            RedFlagGroup(
                code=code,
                label=table.text("label"),
                urgent=table.flag("urgent"),
                action=table.text("action"),
                source=table.text("source"),
                items=items,
                item_labels={item: catalogue.codes["red_flags"][item] for item in items},
            )
        )
        table.finish()
    return tuple(groups)


def _read_precautions(root: Table, catalogue: Catalogue) -> Mapping[str, Precaution]:
    precautions: dict[str, Precaution] = {}
    for code, table in root.table("precautions").subtables():
        if code not in catalogue.codes["precautions"]:
            raise table.fail("", f"unknown precaution code {code!r}")
        avoid = table.text_list("avoid_points")
        _codes_known(table, "avoid_points", avoid, catalogue.acupoints, "acupoint")
        acknowledge = table.text_list("acknowledge_points")
        _codes_known(table, "acknowledge_points", acknowledge, catalogue.acupoints, "acupoint")
        acknowledgement = table.optional_text("acknowledgement") or ""
        if acknowledge and not acknowledgement:
            raise table.fail("acknowledgement", "is required with acknowledge_points")
        precautions[code] = Precaution(
            code=code,
            label=table.text("label"),
            needling=table.text("needling"),
            avoid_points=avoid,
            no_electroacupuncture=table.flag("no_electroacupuncture", default=False),
            source=table.text("source"),
            acknowledge_points=acknowledge,
            acknowledgement=acknowledgement,
            adapt_supine_after_weeks=table.optional_integer("adapt_supine_after_weeks", 1, 42),
        )
        table.finish()
    return MappingProxyType(precautions)


def _read_age_flag(root: Table, catalogue: Catalogue) -> AgeFlagRule | None:
    if not root.has("derived_red_flags"):
        return None
    derived = root.table("derived_red_flags")
    rule = None
    for code, table in derived.subtables():
        if code != "age_over_50_new_pain" or code not in catalogue.codes["red_flags"]:
            raise table.fail("", f"no derivation is known for the red flag {code!r}")
        rule = AgeFlagRule(
            code=code,
            age_over=table.integer("age_over", 1, 120),
            onset_within_weeks=table.integer("onset_within_weeks", 1, 520),
            source=table.text("source"),
        )
        table.finish()
    derived.finish()
    return rule


def _read_thresholds(root: Table) -> OutcomeThresholds:
    table = root.table("thresholds")
    sources_table = table.table("sources")
    sources = {key: sources_table.text(key) for key in THRESHOLD_SOURCE_KEYS}
    sources_table.finish()
    thresholds = OutcomeThresholds(
        nprs_mcid_points=table.integer("nprs_mcid_points", 1, 10),
        nprs_mcid_percent=table.integer("nprs_mcid_percent", 1, 100),
        nprs_mdc=table.integer("nprs_mdc", 1, 10),
        odi_mcid_points=table.integer("odi_mcid_points", 1, 100),
        odi_mcid_percent=table.integer("odi_mcid_percent", 1, 100),
        odi_max_skipped=table.integer("odi_max_skipped", 0, 9),
        non_response_sessions=table.integer("non_response_sessions", 1, 100),
        non_response_percent=table.integer("non_response_percent", 1, 100),
        reassess_every_visits=table.integer("reassess_every_visits", 1, 100),
        psfs_mcid_points=table.integer("psfs_mcid_points", 1, 10),
        psfs_mdc=table.integer("psfs_mdc", 1, 10),
        rmdq_mcid_points=table.integer("rmdq_mcid_points", 1, 24),
        rmdq_mcid_percent=table.integer("rmdq_mcid_percent", 1, 100),
        rmdq_mdc=table.integer("rmdq_mdc", 1, 24),
        meaningful_change_rule=_meaningful_change_rule(table),
        advance_attended_percent=table.integer("advance_attended_percent", 0, 100),
        recertify_after_days=table.integer("recertify_after_days", 1, 3650),
        sources=MappingProxyType(sources),
    )
    table.finish()
    return thresholds


def _meaningful_change_rule(table: Table) -> MeaningfulChangeRule:
    rule = table.text("meaningful_change_rule")
    if rule == "either":
        return "either"
    if rule == "both":
        return "both"
    raise table.fail(
        "meaningful_change_rule",
        f"must be one of {', '.join(MEANINGFUL_CHANGE_RULES)}, got {rule!r}",
    )


def _read_duration(root: Table) -> DurationClasses:
    table = root.table("duration")
    acute = table.integer("acute_below_weeks", 1, 52)
    chronic = table.integer("chronic_above_weeks", 1, 520)
    if chronic < acute:
        raise table.fail(
            "chronic_above_weeks", f"must be at least acute_below_weeks ({acute}), got {chronic}"
        )
    duration = DurationClasses(acute, chronic, table.text("source"))
    table.finish()
    return duration


def _read_evidence(root: Table) -> tuple[EvidencePosition, ...]:
    """The guidelines' positions on acupuncture; a protocol copy made before they were
    added has none, and shows none."""
    if not root.has("evidence"):
        return ()
    positions: list[EvidencePosition] = []
    for table in root.tables("evidence"):
        guideline = table.text("guideline")
        if any(p.guideline == guideline for p in positions):
            raise table.fail("guideline", f"{guideline!r} is already given above")
        positions.append(EvidencePosition(guideline, table.text("position"), table.text("source")))
        table.finish()
    if len(positions) < 2:
        raise root.fail(
            "evidence", "must give at least two guidelines, so that they show side by side"
        )
    return tuple(positions)


def _read_clinic_defaults(root: Table) -> ClinicDefaults:
    table = root.table("clinic_defaults")
    pt_per_week = table.integer_list("pt_per_week", 0, MAX_SESSIONS_PER_WEEK)
    last_phase_weeks = table.integer("last_phase_weeks", 1, MAX_PLAN_WEEKS)
    day_names = table.text_list("clinic_days", allow_empty=False)
    for day in day_names:
        if day not in _WEEKDAYS:
            raise table.fail(
                "clinic_days", f"must name weekdays {', '.join(_WEEKDAYS)}, got {day!r}"
            )
    table.finish()
    return ClinicDefaults(
        pt_per_week=pt_per_week,
        last_phase_weeks=last_phase_weeks,
        clinic_days=frozenset(_WEEKDAYS.index(day) for day in day_names),
    )


def load_protocol(path: Path, catalogue: Catalogue | None = None) -> Protocol:
    """Load and validate a protocol file against the catalogues (the app's own by default)."""
    catalogue = catalogue or load_catalogue()
    root = Table(read_toml(path, ProtocolError), file=path.name, path="", error=ProtocolError)
    protocol_id = root.text("id")
    version = root.integer("version", 1, 10_000)
    name = root.text("name")
    source = root.text("source")
    # Read before the phases: the open-ended last phase takes its length from here.
    defaults = _read_clinic_defaults(root)
    phases = _read_phases(root, catalogue, defaults)
    protocol = Protocol(
        id=protocol_id,
        version=version,
        name=name,
        source=source,
        phases=phases,
        indications=_read_indications(root, catalogue),
        factors=_read_factors(root, catalogue, {p.number for p in phases}),
        red_flag_groups=_read_red_flag_groups(root, catalogue),
        precautions=_read_precautions(root, catalogue),
        thresholds=_read_thresholds(root),
        duration=_read_duration(root),
        clinic_defaults=defaults,
        evidence=_read_evidence(root),
        age_flag=_read_age_flag(root, catalogue),
    )
    if not any(group.urgent for group in protocol.red_flag_groups):
        raise root.fail(
            "red_flag_groups", "at least one group (cauda equina) must be urgent = true"
        )
    root.finish()
    return protocol


def load_default_protocol() -> Protocol:
    return load_protocol(default_protocol_path())
