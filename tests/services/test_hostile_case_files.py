"""Hostile case files: each is refused in one sentence naming where, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backclinic.db.models import AuditEventRow, PatientRow
from backclinic.services.bundle import Services
from backclinic.services.cases import CaseFileError
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.patients import PatientInput
from tests.records import stored_records

REPOSITORY = Path(__file__).resolve().parents[2]
ARTICLE_CASE = REPOSITORY / "tests" / "cases" / "article-office-worker.json"
ARTICLE_TEXT = ARTICLE_CASE.read_text(encoding="utf-8")


def stored(services: Services) -> tuple[int, int]:
    with stored_records(services) as session:
        patients = session.scalar(select(func.count()).select_from(PatientRow)) or 0
        audits = session.scalar(select(func.count()).select_from(AuditEventRow)) or 0
        return patients, audits


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "hostile.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        return path

    return write


def article_with(old: str, new: str) -> str:
    assert old in ARTICLE_TEXT
    return ARTICLE_TEXT.replace(old, new, 1)


HOSTILE = {
    "nested 50,000 deep": (
        article_with('"patient": {', '"deep": ' + "[" * 50_000 + "]" * 50_000 + ', "patient": {'),
        "",
        "nested more than 16 levels deep",
    ),
    "a lone surrogate": (
        article_with('"given_name": "Grace"', '"given_name": "Grace\\udc80"'),
        "patient.given_name",
        "lone surrogate U+DC80",
    ),
    "1e400": (
        article_with('"current": 6', '"current": 1e400'),
        "assessments[0].nprs.current",
        "1e400 is out of range",
    ),
    "NaN": (
        article_with('"current": 6', '"current": NaN'),
        "assessments[0].nprs.current",
        "NaN is not a number JSON allows",
    ),
    "Infinity": (
        article_with('"worst": 8', '"worst": Infinity'),
        "assessments[0].nprs.worst",
        "Infinity is not a number JSON allows",
    ),
    "a NUL in a name": (
        article_with('"family_name": "Okafor"', '"family_name": "Oka\\u0000for"'),
        "patient.family_name",
        "control character U+0000 (NUL)",
    ),
    "an ANSI escape in a name": (
        article_with('"family_name": "Okafor"', '"family_name": "\\u001b[2JOkafor"'),
        "patient.family_name",
        "control character U+001B (ESCAPE)",
    ),
    "a repeated key": (
        article_with('"family_name": "Okafor"', '"family_name": "Okafor", "family_name": "X"'),
        "patient.family_name",
        "appears twice",
    ),
}


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_a_hostile_case_file_is_refused_at_its_path_and_stores_nothing(
    attack: str,
    services: Services,
    actor: Actor,
    write_text: Callable[[str], Path],
) -> None:
    text, location, reason = HOSTILE[attack]
    before = stored(services)

    with pytest.raises(CaseFileError) as refused:
        services.cases.import_file(actor, write_text(text))

    assert refused.value.location == location
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)
    assert stored(services) == before


def test_dev_zero_is_refused_at_once_instead_of_filling_memory(
    services: Services, actor: Actor
) -> None:
    with pytest.raises(CaseFileError, match="/dev/zero is not a regular file"):
        services.cases.import_file(actor, "/dev/zero")


def test_a_case_file_over_twenty_megabytes_is_refused(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    padded = tmp_path / "padded.json"
    padded.write_text(
        article_with('"patient": {', '"padding": "' + "x" * (21 * 1024 * 1024) + '", "patient": {'),
        encoding="utf-8",
    )
    with pytest.raises(CaseFileError, match="larger than 20 MB"):
        services.cases.import_file(actor, padded)


@pytest.mark.parametrize("lookalike", ["case-0045", "CASE-0045.", "CASE0045", "Case/0045"])
def test_an_mrn_differing_only_in_case_or_punctuation_is_refused(
    lookalike: str,
    services: Services,
    actor: Actor,
    write_text: Callable[[str], Path],
) -> None:
    services.cases.import_file(actor, ARTICLE_CASE)
    before = stored(services)

    with pytest.raises(CaseFileError) as refused:
        services.cases.import_file(
            actor, write_text(article_with('"mrn": "CASE-0045"', f'"mrn": "{lookalike}"'))
        )

    assert str(refused.value) == (
        f"hostile.json: patient.mrn: MRN {lookalike} differs from CASE-0045, which belongs to "
        "another patient, only in case or punctuation"
    )
    assert stored(services) == before


def test_the_patient_form_refuses_lookalike_mrns_and_control_characters_too(
    services: Services, actor: Actor
) -> None:
    import datetime as dt

    first = PatientInput(
        family_name="Okafor", given_name="Grace", date_of_birth=dt.date(1980, 1, 1), mrn="A-1"
    )
    services.patients.register(actor, first)
    with pytest.raises(ValidationFailed) as lookalike:
        services.patients.register(actor, PatientInput(**{**first.__dict__, "mrn": "a1"}))
    with pytest.raises(ValidationFailed) as escape:
        services.patients.register(
            actor, PatientInput(**{**first.__dict__, "mrn": "B-2", "given_name": "Gr\x1bace"})
        )

    assert set(lookalike.value.by_field) == {"mrn"}
    assert escape.value.by_field == {
        "given_name": "Given name cannot hold the control character U+001B (ESCAPE)."
    }
