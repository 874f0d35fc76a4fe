"""A case file's JSON document → a Case, with the first problem worded as one sentence.

The schema is checked first; then the rules it cannot express (real dates not in the
future, known acupoints, contiguous plan phases, amendments with their reason…), in
document order. The record rules the app's own forms share (a patient's name and birth
date, an assessment's scores) are the caller's ``CaseChecks``, asked at the same place in
that order, so the first problem of the file is always the one reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from backclinic.domain.casefile.model import (
    DATE_ONLY_SESSION_TIME,
    Case,
    CaseAssessment,
    CaseFileProblem,
    CasePatient,
    CasePlan,
    CasePsfsItem,
    CaseSession,
    CaseVisit,
)
from backclinic.domain.casefile.schema import schema_problem
from backclinic.domain.catalogue import Catalogue
from backclinic.domain.intake import Intake
from backclinic.domain.json_input import JsonInputError, loads_strict, read_json_file
from backclinic.domain.plan import InterventionDose, PlanChoices, PlanPhase
from backclinic.domain.protocol import Protocol as ClinicalProtocol
from backclinic.domain.safety import (
    ViolationKind,
    acupuncture_violations,
    precaution_sex_refusal,
)
from backclinic.domain.screening import (
    FlagAnswer,
    age_flag_refusal,
    derive_age_flag,
    precautions_refusal,
    red_flags_from_case,
)
from backclinic.domain.session import SessionDetails


class CaseChecks(Protocol):
    """The record rules the forms share: the first broken one as (field, sentence), or None."""

    def patient(self, patient: CasePatient, today: dt.date) -> tuple[str, str] | None: ...

    def assessment(self, assessment: CaseAssessment, today: dt.date) -> tuple[str, str] | None: ...


def parse_case_text(text: str) -> Any:
    """The JSON value of a case file's text, read strictly (bounded depth and numbers, no
    NaN or Infinity, no control characters); CaseFileProblem naming the first problem."""
    try:
        return loads_strict(text, source="the case file")
    except JsonInputError as error:
        raise CaseFileProblem(error.location, _without_source(error.reason)) from None


def load_case_document(path: Path) -> Any:
    """The JSON value of the case file at ``path``, read strictly and never more than the
    size limit; one sentence naming the file, or the JSON path, if none."""
    try:
        return read_json_file(path)
    except JsonInputError as error:
        raise CaseFileProblem(error.location, error.reason) from None


def _without_source(reason: str) -> str:
    prefix = "the case file: "
    return reason[len(prefix) :] if reason.startswith(prefix) else reason


def read_case(
    document: Any,
    *,
    protocol: ClinicalProtocol,
    catalogue: Catalogue,
    now: dt.datetime,
    checks: CaseChecks,
    zone: dt.tzinfo | None = None,
) -> Case:
    """The case a JSON document describes; CaseFileProblem naming its first problem.

    Dates are the clinic's: ``zone`` is its time zone (None: this workstation's), so a
    date-only session is noon on the clinic's clock and "today" is the clinic's day.
    """
    problem = schema_problem(document)
    if problem is not None:
        raise problem
    return _CaseReader(document, protocol, catalogue, now, checks, zone).read()


class _CaseReader:
    """Turns a schema-valid document into service inputs, checking what the schema cannot."""

    def __init__(
        self,
        document: Mapping[str, Any],
        protocol: ClinicalProtocol,
        catalogue: Catalogue,
        now: dt.datetime,
        checks: CaseChecks,
        zone: dt.tzinfo | None = None,
    ) -> None:
        self._checks = checks
        self._document = document
        self._protocol = protocol
        self._catalogue = catalogue
        self._now = now
        self._zone = zone
        self._today = now.astimezone(zone).date()
        self.notices: list[str] = []

    def read(self) -> Case:
        patient = self._patient(self._document["patient"])
        assessments = tuple(
            self._assessment(f"assessments[{i}]", item, patient.date_of_birth, patient.sex)
            for i, item in enumerate(self._document.get("assessments") or [])
        )
        sessions = tuple(
            self._session(
                f"sessions[{i}]", item, _precautions_in_force(assessments, item["date"][:10])
            )
            for i, item in enumerate(self._document.get("sessions") or [])
        )
        plan_document = self._document.get("plan")
        plan = None
        if plan_document is not None:
            plan = self._plan(plan_document, _plan_precautions(assessments, plan_document))
            if plan.choices.status == "active":
                self._check_plan_screen(assessments, plan_document)
        earlier = tuple(
            self._plan(item, _plan_precautions(assessments, item), f"earlier_plans[{index}]")
            for index, item in enumerate(self._document.get("earlier_plans") or [])
        )
        if earlier and plan is None:
            raise CaseFileProblem("plan", "earlier plans need the current plan beside them")
        return Case(patient, assessments, plan, sessions, earlier, tuple(self.notices))

    def _check_plan_screen(
        self, assessments: Sequence[CaseAssessment], plan: Mapping[str, Any]
    ) -> None:
        """An active plan is a proposal still running: the derived "age over 50 with new
        pain" of its intake must be confirmed or ruled out, as for a plan made here; its
        precautions not asked are reported (earlier files did not record them)."""
        chosen = _plan_intake(assessments, plan.get("start_date", ""))
        if chosen is None:
            return
        position, assessment = chosen
        intake = assessment.intake
        flag = derive_age_flag(
            intake.date_of_birth,
            intake.assessed_on,
            intake.onset_weeks,
            intake.recurrent,
            self._protocol,
        )
        refusal = age_flag_refusal(flag, intake.red_flags, intake.age_flag_ruled_out)
        if refusal is not None:
            raise CaseFileProblem(
                f"assessments[{position}].red_flags",
                refusal[:1].lower() + refusal[1:-1] + " (add it to red_flags, or give "
                "age_flag_ruled_out)",
            )
        unasked = precautions_refusal(
            intake.precautions_not_asked, dict(self._catalogue.codes.get("precautions", {}))
        )
        if unasked is not None:
            self.notices.append(
                f"Plan of {plan.get('start_date', 'an unknown day')}: made with acupuncture "
                "precautions not asked; ask them at the next visit."
            )

    def _date(self, location: str, text: str, *, future: bool = False) -> dt.date:
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise CaseFileProblem(location, f"{text!r} is not a date (YYYY-MM-DD)") from None
        if not future and value > self._today:
            raise CaseFileProblem(location, f"{text} is in the future")
        return value

    def _patient(self, item: Mapping[str, Any]) -> CasePatient:
        data = CasePatient(
            family_name=item["family_name"],
            given_name=item["given_name"],
            date_of_birth=self._date("patient.date_of_birth", item["date_of_birth"]),
            mrn=item["mrn"],
            sex=item["sex"],
            occupation=item.get("occupation", ""),
            phone=item.get("phone", ""),
            email=item.get("email", ""),
            address=item.get("address", ""),
        )
        broken = self._checks.patient(data, self._today)
        if broken is not None:
            raise CaseFileProblem(f"patient.{broken[0]}", broken[1])
        return data

    def _assessment(
        self, where: str, item: Mapping[str, Any], born: dt.date, sex: str | None
    ) -> CaseAssessment:
        original = None
        if "amends" in item:
            if not (item.get("amendment_reason") or "").strip():
                raise CaseFileProblem(
                    f"{where}.amendment_reason", "an amendment needs the reason it was made"
                )
            original = self._assessment(f"{where}.amends", item["amends"], born, sex)
            if original.kind != item["kind"]:
                raise CaseFileProblem(
                    f"{where}.amends.kind", "an amendment corrects a record of its own kind"
                )
        elif "amendment_reason" in item:
            raise CaseFileProblem(
                f"{where}.amendment_reason", "needs `amends`, the assessment it corrected"
            )
        in_error = item.get("entered_in_error")
        if in_error is not None and not in_error.strip():
            raise CaseFileProblem(
                f"{where}.entered_in_error", "needs the reason it was entered in error"
            )
        assessed_on = self._date(f"{where}.date", item["date"])
        if assessed_on < born:
            raise CaseFileProblem(f"{where}.date", f"{item['date']} is before the date of birth")
        radiating = item.get("radiating_pain") or {}
        nprs = item.get("nprs") or {}
        red_flags = red_flags_from_case(item.get("red_flags"), self._protocol)
        not_asked = item.get("red_flags_not_asked") or []
        if not_asked:
            if red_flags is None:
                raise CaseFileProblem(
                    f"{where}.red_flags_not_asked", "needs red_flags (the items that were asked)"
                )
            for position, code in enumerate(not_asked):
                if red_flags.get(code) == FlagAnswer.PRESENT:
                    raise CaseFileProblem(
                        f"{where}.red_flags_not_asked[{position}]",
                        f"{code!r} is also listed as present",
                    )
                red_flags[code] = FlagAnswer.NOT_ASKED
        odi = item.get("odi_answers")
        startback = item.get("startback_answers")
        onset = item.get("onset_weeks")
        # An earlier file without "precautions" did not ask them: not asked, never none.
        known_precautions = tuple(self._catalogue.codes.get("precautions", {}))
        precautions = tuple(item.get("precautions") or ())
        if "precautions" not in item:
            precautions_not_asked = known_precautions
        else:
            precautions_not_asked = tuple(item.get("precautions_not_asked") or ())
            for position, code in enumerate(precautions_not_asked):
                if code in precautions:
                    raise CaseFileProblem(
                        f"{where}.precautions_not_asked[{position}]",
                        f"{code!r} is also listed as present",
                    )
        intake = Intake(
            assessed_on=assessed_on,
            onset_weeks=None if onset is None else float(onset),
            recurrent=item.get("recurrent"),
            radiating_present=bool(radiating.get("present", False)),
            radiating_side=radiating.get("side"),
            radiating_below_knee=radiating.get("below_knee"),
            radiating_to=radiating.get("to"),
            neurological_signs=radiating.get("neurological_signs"),
            aggravated_by=tuple(item.get("aggravated_by") or ()),
            contributing_factors=tuple(item.get("contributing_factors") or ()),
            red_flags=red_flags,
            red_flag_clearance=item.get("red_flag_clearance"),
            precautions=precautions,
            precautions_not_asked=precautions_not_asked,
            age_flag_ruled_out=item.get("age_flag_ruled_out"),
            pregnancy_weeks=item.get("pregnancy_weeks"),
            date_of_birth=born,
            nprs_current=nprs.get("current"),
            nprs_worst=nprs.get("worst"),
            nprs_best=nprs.get("best"),
            odi_answers=None if odi is None else tuple(odi),
            startback_answers=None if startback is None else tuple(startback),
            goals=tuple(item.get("goals") or ()),
        )
        data = CaseAssessment(
            kind=item["kind"],
            intake=intake,
            psfs=tuple(CasePsfsItem(p["activity"], p["score"]) for p in item.get("psfs") or ()),
            rmdq_score=item.get("rmdq_score"),
            notes=item.get("notes", ""),
            amendment_reason=item["amendment_reason"].strip() if original else None,
            amends=original,
            entered_in_error_reason=in_error.strip() if in_error is not None else None,
        )
        broken = self._checks.assessment(data, self._today)
        if broken is not None:
            raise CaseFileProblem(f"{where}.{broken[0]}", broken[1])
        for position, code in enumerate(data.intake.precautions):
            refusal = precaution_sex_refusal(code, sex, self._catalogue)
            if refusal is not None:
                raise CaseFileProblem(
                    f"{where}.precautions[{position}]", refusal[:1].lower() + refusal[1:-1]
                )
        return data

    def _session(self, where: str, item: Mapping[str, Any], precautions: set[str]) -> CaseSession:
        performed_at = self._when(f"{where}.date", item["date"])
        original = None
        if "amends" in item:
            if not (item.get("amendment_reason") or "").strip():
                raise CaseFileProblem(
                    f"{where}.amendment_reason", "an amendment needs the reason it was made"
                )
            original = self._session(f"{where}.amends", item["amends"], precautions)
        elif "amendment_reason" in item:
            raise CaseFileProblem(
                f"{where}.amendment_reason", "needs `amends`, the session it corrected"
            )
        acupoints = list(item.get("acupoints") or ())
        for position, code in enumerate(acupoints):
            self._acupoint(f"{where}.acupoints[{position}]", code)
        acknowledged = tuple(item.get("acknowledged_points") or ())
        self._check_precautions(
            where,
            precautions,
            performed_at.astimezone().date(),
            acupoints=acupoints,
            electro=bool(item.get("electro", False)),
            acknowledged=acknowledged,
        )
        details = SessionDetails(
            performed_at=performed_at,
            modalities=tuple(item["modalities"]),
            pain_before=item.get("pain_before"),
            pain_after=item.get("pain_after"),
            acupoints=tuple(item.get("acupoints") or ()),
            needle_count=item.get("needle_count"),
            retention_minutes=item.get("retention_minutes"),
            electro=item.get("electro", False),
            technique=item.get("technique", ""),
            interventions=self._exercises(where, item),
            tolerance=item.get("tolerance"),
            adverse_events=tuple(item.get("adverse_events") or ()),
            adverse_event_note=item.get("adverse_event_note", ""),
            subjective=item.get("subjective", ""),
            objective=item.get("objective", ""),
            assessment_note=item.get("assessment", ""),
            plan_note=item.get("plan_note", ""),
            acknowledged_points=acknowledged,
        )
        return CaseSession(
            details=details,
            notes=item.get("notes", ""),
            amendment_reason=item["amendment_reason"].strip() if original else None,
            amends=original,
        )

    def _exercises(self, where: str, item: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        codes = list(item.get("exercises") or ())
        dosed = item.get("interventions")
        if dosed is None:
            return tuple((code, "") for code in codes)
        if "exercises" in item and codes != [dose["code"] for dose in dosed]:
            raise CaseFileProblem(
                f"{where}.exercises", "must list the codes of interventions, in the same order"
            )
        return tuple((dose["code"], dose["dosage"]) for dose in dosed)

    def _when(self, location: str, text: str) -> dt.datetime:
        if "T" not in text:
            day = self._date(location, text)
            return self._at(day, DATE_ONLY_SESSION_TIME).astimezone(dt.UTC)
        try:
            stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CaseFileProblem(location, f"{text!r} is not a date or date-time") from None
        if stamp.tzinfo is None:
            stamp = self._at(stamp.date(), stamp.time())
        if stamp > self._now:
            raise CaseFileProblem(location, f"{text} is in the future")
        return stamp.astimezone(dt.UTC)

    def _at(self, day: dt.date, time: dt.time) -> dt.datetime:
        """The moment the clinic's wall clock reads ``time`` on ``day``."""
        if self._zone is not None:
            return dt.datetime.combine(day, time, tzinfo=self._zone)
        return dt.datetime.combine(day, time).astimezone()

    def _acupoint(self, location: str, code: str) -> None:
        if not self._catalogue.knows("acupoints", code):
            raise CaseFileProblem(location, f"{code!r} is not an acupoint in the catalogue")

    def _refuse_precautions(
        self,
        where: str,
        precautions: set[str],
        *,
        acupoints: list[str],
        acknowledged: Sequence[str] = (),
    ) -> None:
        """A plan is a proposal, not history: a point a precaution rules out refuses it. A
        point the precaution allows only with an acknowledgement the file does not give is
        reported (the plan was made; the clinician sees it on the Overview)."""
        violations = acupuncture_violations(
            precautions,
            self._protocol,
            self._catalogue,
            acupoints=acupoints,
            acknowledged=acknowledged,
        )
        refused = [v for v in violations if v.kind != ViolationKind.UNACKNOWLEDGED]
        if refused:
            first = refused[0]
            location = f"{where}.acupoints[{acupoints.index(first.subject)}]"
            raise CaseFileProblem(location, first.text)
        unacknowledged = [v for v in violations if v.kind == ViolationKind.UNACKNOWLEDGED]
        if unacknowledged:
            self.notices.append(
                f"Plan {where.split('.')[0]}: {', '.join(v.subject for v in unacknowledged)} "
                f"planned without the acknowledgement the precaution "
                f"'{unacknowledged[0].precaution_label}' asks for."
            )

    def _check_precautions(
        self,
        where: str,
        precautions: set[str],
        day: dt.date,
        *,
        acupoints: list[str],
        electro: bool = False,
        acknowledged: Sequence[str] = (),
    ) -> None:
        """History is imported because it happened: a session that broke a precaution in
        force on its date is kept, and reported in one sentence naming the date, the points
        or modality and the precautions."""
        violations = acupuncture_violations(
            precautions,
            self._protocol,
            self._catalogue,
            acupoints=acupoints,
            electro=electro,
            acknowledged=acknowledged,
        )
        if not violations or where.endswith(".amends"):
            return
        by_precaution: dict[str, list[str]] = {}
        for violation in violations:
            subject = (
                "electro-acupuncture"
                if violation.kind == ViolationKind.ELECTROACUPUNCTURE
                else violation.subject
            )
            by_precaution.setdefault(violation.precaution_label, []).append(subject)
        unacknowledged = [v.subject for v in violations if v.kind == ViolationKind.UNACKNOWLEDGED]
        for violation in violations:
            if violation.kind == ViolationKind.UNACKNOWLEDGED:
                by_precaution[violation.precaution_label].remove(violation.subject)
        parts = "; ".join(
            f"{', '.join(subjects)} despite the precaution '{label}'"
            for label, subjects in by_precaution.items()
            if subjects
        )
        if unacknowledged:
            label = next(
                v.precaution_label for v in violations if v.kind == ViolationKind.UNACKNOWLEDGED
            )
            parts = "; ".join(
                p
                for p in (
                    parts,
                    f"{', '.join(unacknowledged)} without the acknowledgement the precaution "
                    f"'{label}' asks for",
                )
                if p
            )
        self.notices.append(f"Session of {day.day} {day:%b} {day.year}: {parts}.")

    def _plan(
        self, item: Mapping[str, Any], precautions: set[str], where_plan: str = "plan"
    ) -> CasePlan:
        start = self._date(f"{where_plan}.start_date", item["start_date"], future=True)
        phases = []
        expected_start = 1
        for index, phase in enumerate(item["phases"]):
            where = f"{where_plan}.phases[{index}]"
            if phase["number"] != index + 1:
                raise CaseFileProblem(
                    f"{where}.number",
                    f"phases are numbered 1, 2, 3 … in order; expected {index + 1}",
                )
            if phase["start_week"] != expected_start:
                raise CaseFileProblem(
                    f"{where}.start_week",
                    f"{phase['start_week']} should be {expected_start}, right after the "
                    "previous phase",
                )
            if phase["end_week"] < phase["start_week"]:
                raise CaseFileProblem(
                    f"{where}.end_week", f"{phase['end_week']} is before the start week"
                )
            expected_start = phase["end_week"] + 1
            acupoints = list(phase.get("acupoints") or ())
            for position, code in enumerate(acupoints):
                self._acupoint(f"{where}.acupoints[{position}]", code)
            self._refuse_precautions(
                where,
                precautions,
                acupoints=acupoints,
                acknowledged=tuple(item.get("acknowledged_points") or ()),
            )
            phases.append(self._phase(where, phase))
        numbers = {phase.number for phase in phases}
        visits = None
        if "visits" in item:
            visits = []
            for index, visit in enumerate(item["visits"]):
                where = f"{where_plan}.visits[{index}]"
                day = self._date(f"{where}.date", visit["date"], future=True)
                if day < start:
                    raise CaseFileProblem(
                        f"{where}.date", f"{visit['date']} is before the plan start"
                    )
                if visit["phase"] not in numbers:
                    raise CaseFileProblem(f"{where}.phase", f"there is no phase {visit['phase']}")
                visit_time = visit.get("time")
                if visit_time is not None and not _is_clock_time(visit_time):
                    raise CaseFileProblem(
                        f"{where}.time", f"{visit_time!r} is not a time of day as HH:MM"
                    )
                visits.append(
                    CaseVisit(
                        visit_date=day,
                        phase_number=visit["phase"],
                        modalities=tuple(sorted(visit["modalities"])),
                        status=visit.get("status", "planned"),
                        visit_time=visit_time,
                        clinician=visit.get("clinician"),
                    )
                )
        clinic_days = item.get("clinic_days")
        status = item.get("status", "active")
        ended_on = None
        if "ended_on" in item:
            ended_on = self._date(f"{where_plan}.ended_on", item["ended_on"])
            if ended_on < start:
                raise CaseFileProblem(
                    f"{where_plan}.ended_on", f"{item['ended_on']} is before the plan start"
                )
        if status == "active":
            for name in ("ended_on", "end_reason"):
                if name in item:
                    raise CaseFileProblem(f"{where_plan}.{name}", "an active plan has not ended")
        choices = PlanChoices(
            start_date=start,
            clinic_days=frozenset(
                self._protocol.clinic_defaults.clinic_days if clinic_days is None else clinic_days
            ),
            phases=tuple(phases),
            target_pain=item.get("target_pain"),
            target_odi=item.get("target_odi"),
            functional_goals=tuple(item.get("functional_goals") or ()),
            red_flag_clearance=item.get("red_flag_clearance"),
            protocol_id=item["protocol"],
            protocol_version=item["protocol_version"],
            status=status,
            ended_on=ended_on,
            end_reason=item.get("end_reason"),
            end_note=item.get("end_note", ""),
            acknowledged_points=tuple(item.get("acknowledged_points") or ()),
        )
        return CasePlan(choices, None if visits is None else tuple(visits))

    def _phase(self, where: str, phase: Mapping[str, Any]) -> PlanPhase:
        focus = list(phase.get("pt_focus") or ())
        given = phase.get("pt_interventions")
        if given is None:
            doses = tuple(
                InterventionDose(code, self._catalogue.interventions[code].dosage) for code in focus
            )
        else:
            doses = tuple(
                InterventionDose(
                    dose["code"],
                    dose.get("dosage", self._catalogue.interventions[dose["code"]].dosage),
                )
                for dose in given
            )
            if "pt_focus" in phase and set(focus) != {dose.code for dose in doses}:
                raise CaseFileProblem(
                    f"{where}.pt_focus", "must list the same codes as pt_interventions"
                )
        template = next(
            (t.phase for t in self._protocol.phases if t.number == phase["number"]), None
        )
        acupuncture = phase["acupuncture"]
        pt_per_week = phase.get("pt_per_week")
        if pt_per_week is None:
            if template is None:
                raise CaseFileProblem(where, "`pt_per_week` is required")
            pt_per_week = template.pt_per_week
        return PlanPhase(
            number=phase["number"],
            name=phase.get("name") or (template.name if template else f"Phase {phase['number']}"),
            start_week=phase["start_week"],
            end_week=phase["end_week"],
            acupuncture_per_week=acupuncture.get("per_week"),
            acupuncture_as_needed=bool(acupuncture.get("as_needed", False)),
            pt_per_week=pt_per_week,
            pt_interventions=doses,
            acupoints=tuple(phase.get("acupoints") or ()),
            aim=phase.get("aim", ""),
        )


def _plan_precautions(assessments: Sequence[CaseAssessment], plan: Mapping[str, Any]) -> set[str]:
    """Precautions of the intake the plan will be attached to (latest by its start)."""
    return _precautions_in_force(assessments, plan.get("start_date", ""))


def _plan_intake(
    assessments: Sequence[CaseAssessment], day: str
) -> tuple[int, CaseAssessment] | None:
    """The intake (with its position in the file) a plan starting on ``day`` is made from."""
    intakes = [(i, a) for i, a in enumerate(assessments) if a.kind == "intake"]
    before = [(i, a) for i, a in intakes if a.intake.assessed_on.isoformat() <= day] or intakes
    if not before:
        return None
    return max(before, key=lambda pair: (pair[1].intake.assessed_on, pair[0]))


def _precautions_in_force(assessments: Sequence[CaseAssessment], day: str) -> set[str]:
    """Precautions of the latest intake on or before ``day`` (an ISO date), else of the
    latest intake of all."""
    intakes = [a for a in assessments if a.kind == "intake" and a.entered_in_error_reason is None]
    before = [a for a in intakes if a.intake.assessed_on.isoformat() <= day] or intakes
    if not before:
        return set()
    chosen = max(enumerate(before), key=lambda pair: (pair[1].intake.assessed_on, pair[0]))[1]
    return set(chosen.intake.precautions)


def _is_clock_time(text: object) -> bool:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        return False
    hours, minutes = text[:2], text[3:]
    return hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60
