"""Mutated case files fed to import: each imports whole or is refused in one sentence.

The mutations are what a broken exporter, a bad editor or an attacker produce: keys deleted,
values of the wrong type, huge and odd numbers, control characters and lone surrogates,
deep nesting, and files cut short. One database serves every example (a fresh one each
would cost more than the import); a refusal must leave every row count as it was.

BACKCLINIC_FUZZ_EXAMPLES sets the number of examples (5,000 by default, as CI runs it).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backclinic.db.audit_chain import KEY_FOLDER_VARIABLE
from backclinic.db.database import open_database
from backclinic.db.models import AssessmentRow, AuditEventRow, PatientRow, TreatmentSessionRow
from backclinic.services.bundle import Services, build_services
from backclinic.services.cases import CaseFileError
from backclinic.services.clinic import NewClinician
from backclinic.services.context import Actor
from backclinic.services.errors import ServiceError
from tests.conftest import PASSWORD, TEST_DATABASE_VARIABLE
from tests.records import stored_records

REPOSITORY = Path(__file__).resolve().parents[2]
BASE_CASES = [
    json.loads(path.read_text(encoding="utf-8"))
    for path in sorted((REPOSITORY / "tests" / "cases").glob("*.json"))
]
EXAMPLES = int(os.environ.get("BACKCLINIC_FUZZ_EXAMPLES", "5000"))
_MRNS = itertools.count(1)

# As they appear in a file: several are not JSON, or no float can hold them.
ODD_NUMBERS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e308",
    "1e400",
    "-1e400",
    "1" * 5000,
    "-9223372036854775808",
    "9007199254740993",
    "-0.0",
    "5e-324",
    "0.5",
    "-1",
    "11",
    "7.0",
]
ODD_TEXT = [
    "\x00",
    "Oka\x00for",
    "\x1b[2J\x1b[31mred",
    "\ud800",
    "tail\udfff",
    "\u202eevil",
    "\x7f",
    "",
    " ",
    "x" * 5000,
    "2026-02-30",
    "9999-12-31",
    "1899-12-31",
    "CASE-0045",
    "case-0045.",
    "BL23",
    "not_a_code",
]
WRONG_TYPES: list[Any] = [None, True, False, 0, 1, "", "text", [], {}, [None], {"": None}]


@pytest.fixture(scope="module")
def fuzz_services(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[Services, Actor]]:
    shared = os.environ.get(TEST_DATABASE_VARIABLE)
    # The module's own audit key for its whole life (the per-test folder changes each test).
    keys = pytest.MonkeyPatch()
    keys.setenv(KEY_FOLDER_VARIABLE, str(tmp_path_factory.mktemp("fuzz-keys")))
    if shared:
        request.getfixturevalue("postgres_template").fresh()
        url = shared
    else:
        # In memory-backed /dev/shm where there is one: thousands of commits, each fsynced.
        memory = Path("/dev/shm")
        folder = (
            Path(tempfile.mkdtemp(dir=memory))
            if memory.is_dir()
            else tmp_path_factory.mktemp("fuzz")
        )
        url = f"sqlite:///{folder / 'clinic.db'}"
    opened = open_database(url)
    services = build_services(opened.session_factory)
    clinician = services.clinic.set_up(
        clinic_name="Fuzz Clinic",
        first_clinician=NewClinician(
            full_name="Mei Lin", username="mei", role="acupuncturist", password=PASSWORD
        ),
    )
    yield services, clinician.as_actor()
    opened.engine.dispose()
    keys.undo()
    if not shared and folder.parent == memory:
        shutil.rmtree(folder)


def counts(services: Services) -> tuple[int, ...]:
    with stored_records(services) as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(row)) or 0)
            for row in (PatientRow, AssessmentRow, TreatmentSessionRow, AuditEventRow)
        )


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def replace_at(document: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = new
    return document


def delete_at(document: Any, path: tuple[str | int, ...]) -> Any:
    if not path:
        return document
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return document


RAW_MARK = "\u2063raw:"


@st.composite
def mutated_case_files(draw: st.DrawFn) -> str:
    document = json.loads(json.dumps(draw(st.sampled_from(BASE_CASES))))
    # A fresh MRN each time, of a fixed width: the text's length (which bounds the
    # truncation drawn below) must not change when an example is replayed.
    document["patient"]["mrn"] = f"FZ-{next(_MRNS):08d}"
    for _ in range(draw(st.integers(1, 3))):
        places = list(paths(document))
        place = draw(st.sampled_from(places))
        kind = draw(
            st.sampled_from(["delete", "wrong_type", "number", "text", "deep", "extra_key"])
        )
        if kind == "delete":
            document = delete_at(document, place)
        elif kind == "wrong_type":
            # A copy: the same list or object put in twice could be put inside itself.
            document = replace_at(
                document, place, copy.deepcopy(draw(st.sampled_from(WRONG_TYPES)))
            )
        elif kind == "number":
            raw = draw(st.sampled_from(ODD_NUMBERS))
            document = replace_at(document, place, f"{RAW_MARK}{raw}")
        elif kind == "text":
            document = replace_at(document, place, draw(st.sampled_from(ODD_TEXT)))
        elif kind == "deep":
            # Expanded in the text: a 50,000-deep list is too deep for json.dumps.
            depth = draw(st.sampled_from([17, 900, 50_000]))
            raw = "[" * depth + "1" + "]" * depth
            document = replace_at(document, place, f"{RAW_MARK}{raw}")
        elif isinstance(document, dict):
            document[draw(st.sampled_from(["x", "\x00", "\ud800", "patient"]))] = 1
    # ensure_ascii writes a lone surrogate as \ud800, as a hostile exporter would.
    text = json.dumps(document, ensure_ascii=True)
    text = re.sub(r'"\\u2063raw:([^"]*)"', lambda found: found.group(1), text)
    if draw(st.booleans()) and draw(st.booleans()):
        text = text[: draw(st.integers(0, max(0, len(text) - 1)))]
    return text


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=mutated_case_files())
def test_a_mutated_case_file_imports_whole_or_is_refused_in_one_sentence(
    fuzz_services: tuple[Services, Actor], tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    services, actor = fuzz_services
    path = tmp_path_factory.getbasetemp() / "mutated.json"
    path.write_text(text, encoding="utf-8")
    before = counts(services)

    try:
        result = services.cases.import_file(actor, path)
    except ServiceError as refused:
        message = str(refused)
        assert message and "\n" not in message and "Traceback" not in message
        if isinstance(refused, CaseFileError) and refused.location:
            assert f"{refused.location}: " in message
        assert counts(services) == before, message
        return
    patients, assessments, sessions, audits = counts(services)
    assert patients == before[0] + 1
    assert assessments == before[1] + result.assessments
    assert sessions >= before[2] + result.sessions
    assert audits > before[3]
