"""One course behind every screen and document (issue 10): for generated episodes, the
Progress tab, the exported case file's ``course`` block and the printed summary give the
same verdicts, because each reads the one course."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.domain.intake import Intake
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.ui.progress_tab import ProgressTab
from tests.services.test_documents import (
    TODAY,
    document_service,
    one_line,
    set_up_clinic,
    treated_patient,
)

NOW = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 16, tzinfo=dt.UTC)
NOT_ENOUGH = "Not enough pain scores yet"

scores = st.integers(min_value=0, max_value=10)
episodes = st.fixed_dictionaries(
    {
        "intake_pain": scores,
        "pain": st.lists(st.tuples(scores, scores), max_size=8),
        "reassess": st.booleans(),
        "discharge": st.sampled_from([None, "goals_met", "referred"]),
        "final_pain": st.one_of(st.none(), scores),
    }
)


def _spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(episode=episodes)
def test_the_progress_tab_the_export_and_the_pdf_give_the_same_verdicts(
    qtbot: QtBot, database: OpenDatabase, episode: dict[str, object]
) -> None:
    services, actor, mrn = _next_patient(database)
    patient_id = treated_patient(
        services,
        actor,
        mrn=mrn,
        # A different person each time, so no duplicate check takes them for one.
        family_name="Okafor-" + "".join(chr(ord("a") + int(d)) for d in mrn[4:]).title(),
        pain=episode["pain"],  # type: ignore[arg-type]
        reassess=bool(episode["reassess"]),
        nprs_current=episode["intake_pain"],
    )
    if episode["discharge"] is not None:
        plan = services.plans.active_plan(actor, patient_id)
        assert plan is not None
        final = episode["final_pain"]
        services.plans.discharge(
            actor,
            plan.id,
            reason=str(episode["discharge"]),
            note="Referred to the spinal clinic." if episode["discharge"] == "referred" else "",
            final_assessment=None
            if final is None
            else AssessmentInput("discharge", Intake(assessed_on=TODAY, nprs_current=final)),  # type: ignore[arg-type]
            expected_version=plan.version,
        )
    course = services.episodes.course(actor, patient_id)

    tab = ProgressTab(services, actor, patient_id)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: not tab.loading)
    exported = {
        v["measure"]: v for v in services.cases.export_document(actor, mrn)["course"]["verdicts"]
    }
    text = one_line(document_service(services).print_discharge_summary(actor, patient_id).pdf)

    for measure in ("nprs", "odi"):
        change = course.outcome(measure).change
        verdict = exported[measure]
        if change is None:
            assert verdict["verdict"] is None
            continue
        assert verdict["verdict"] == str(change.verdict)
        assert verdict["text"] == change.text
        assert _spaced(change.text) in text
        assert change.verdict_text in text
    pain = course.outcome("nprs").change
    shown = tab.figure_labels["verdict"].text()
    assert shown == (NOT_ENOUGH if pain is None else pain.verdict_text)
    odi = course.outcome("odi").change
    if odi is not None:
        assert f"({odi.verdict_text.lower()})" in tab.figure_labels["odi"].text()
    if course.discharge is None:
        for suggestion in course.suggestions:
            assert _spaced(suggestion.why) in text


_numbers = itertools.count(1)
_clinics: dict[int, tuple[Services, Actor]] = {}


def _next_patient(database: OpenDatabase) -> tuple[Services, Actor, str]:
    """The clinic of this test's database (set up once), and a new MRN for each example."""
    key = id(database)
    if key not in _clinics:
        services = build_services(database.session_factory, clock=lambda: NOW)
        _clinics.clear()
        _clinics[key] = (services, set_up_clinic(services))
    services, actor = _clinics[key]
    return services, actor, f"GEN-{next(_numbers):04d}"
