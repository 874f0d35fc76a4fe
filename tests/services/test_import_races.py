"""Two workstations importing the same case file at the same moment, on either engine: each
ends in the one sentence SQLite gives, or the conflict sentence naming who won."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.models import AuditEventRow, PatientRow
from backclinic.services.bundle import Services, build_services
from backclinic.services.cases import CaseService
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.context import Actor
from backclinic.services.errors import ServiceError, StaleRecord
from backclinic.services.patients import PatientService
from tests.actors import COMMAND_LINE
from tests.conftest import PASSWORD
from tests.records import stored_records

REPOSITORY = Path(__file__).resolve().parents[2]
ARTICLE_CASE = REPOSITORY / "tests" / "cases" / "article-office-worker.json"
# Long enough for the other thread to reach the same point on PostgreSQL; on SQLite the
# other thread is queued behind the write lock, so the wait simply runs out.
MEETING_SECONDS = 3


@pytest.fixture
def second_services(database_url: str, database: OpenDatabase) -> Iterator[Services]:
    other = open_database(database_url)
    yield build_services(other.session_factory)
    other.engine.dispose()


@pytest.fixture
def colleague(services: Services, clinician: Clinician) -> Actor:
    added = services.accounts.create(
        Actor(clinician.id, clinician.full_name, "admin"),
        NewClinician("Tomas Berg", "tomas", "physical_therapist", PASSWORD),
    )
    return added.as_actor()


def meet_before(
    monkeypatch: pytest.MonkeyPatch, owner: type[Any], method: str
) -> threading.Barrier:
    """Both threads pause at ``owner.method`` until the other is there too (or time is up)."""
    barrier = threading.Barrier(2)
    original = getattr(owner, method)

    def paused(self: Any, *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=MEETING_SECONDS)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, method, paused)
    return barrier


def side_by_side(*calls: Callable[[], object]) -> list[object]:
    outcomes: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            outcomes[index] = calls[index]()
        except Exception as error:  # the outcome under test, whatever it is
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def patients(services: Services) -> int:
    with stored_records(services) as session:
        return int(session.scalar(select(func.count()).select_from(PatientRow)) or 0)


def test_two_simultaneous_imports_of_a_new_patient_store_one_and_refuse_the_other(
    monkeypatch: pytest.MonkeyPatch,
    services: Services,
    second_services: Services,
    actor: Actor,
    colleague: Actor,
) -> None:
    meet_before(monkeypatch, PatientService, "_insert")

    outcomes = side_by_side(
        lambda: services.cases.import_file(actor, ARTICLE_CASE),
        lambda: second_services.cases.import_file(colleague, ARTICLE_CASE),
    )

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1, outcomes
    assert type(refused[0]) is ServiceError
    assert str(refused[0]) == "MRN CASE-0045 already exists; use --update to replace its record."
    assert patients(services) == 1


def test_two_simultaneous_updates_end_in_one_update_and_one_conflict_naming_the_winner(
    monkeypatch: pytest.MonkeyPatch,
    services: Services,
    second_services: Services,
    actor: Actor,
    colleague: Actor,
    database_url: str,
    tmp_path: Path,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time: the second update reads the first")
    services.cases.import_file(actor, ARTICLE_CASE)
    document = json.loads(ARTICLE_CASE.read_text("utf-8"))
    mine, theirs = tmp_path / "mine.json", tmp_path / "theirs.json"
    document["patient"]["occupation"] = "teacher"
    mine.write_text(json.dumps(document), encoding="utf-8")
    document["patient"]["occupation"] = "nurse"
    theirs.write_text(json.dumps(document), encoding="utf-8")
    meet_before(monkeypatch, CaseService, "_update_demographics")

    outcomes = side_by_side(
        lambda: services.cases.import_file(actor, mine, update=True),
        lambda: second_services.cases.import_file(colleague, theirs, update=True),
    )

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1, outcomes
    assert isinstance(refused[0], StaleRecord)
    winner = "Mei Lin" if refused[0] is outcomes[1] else "Tomas Berg"
    assert str(refused[0]).startswith(f"The record of MRN CASE-0045 was changed by {winner} at ")


def test_an_update_audits_the_demographics_before_and_after(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    services.cases.import_file(actor, ARTICLE_CASE)
    document = json.loads(ARTICLE_CASE.read_text("utf-8"))
    document["patient"]["family_name"] = "Okafor-Reid"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")

    services.cases.import_file(actor, changed, update=True)

    with stored_records(services) as session:
        entry = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action == "import")
            .order_by(AuditEventRow.id.desc())
        ).first()
    assert entry is not None
    assert entry.details["before"] == {"family_name": "Okafor"}
    assert entry.details["after"] == {"family_name": "Okafor-Reid"}


def exported_with(
    services: Services, actor: Actor, tmp_path: Path, name: str, **details: str
) -> Path:
    path = services.cases.export_file(actor, "CASE-0045", tmp_path / name)
    document = json.loads(path.read_text("utf-8"))
    document["patient"].update(details)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_an_update_from_a_file_exported_before_a_colleagues_change_is_refused_naming_them(
    services: Services, actor: Actor, colleague: Actor, tmp_path: Path
) -> None:
    services.cases.import_file(actor, ARTICLE_CASE)
    mine = exported_with(services, actor, tmp_path, "mine.json", occupation="teacher")
    theirs = exported_with(services, actor, tmp_path, "theirs.json", occupation="nurse")
    services.cases.import_file(colleague, theirs, update=True)

    with pytest.raises(ServiceError) as refused:
        services.cases.import_file(actor, mine, update=True)

    assert str(refused.value).startswith(
        "The details of MRN CASE-0045 were changed by Tomas Berg at "
    )
    assert str(refused.value).endswith(
        "after this file was exported; nothing was stored. Export the patient again, or use "
        "--force to replace their changes."
    )
    assert services.patients.by_mrn(COMMAND_LINE, "CASE-0045").occupation == "nurse"
    services.cases.import_file(actor, mine, update=True, force=True)
    assert services.patients.by_mrn(COMMAND_LINE, "CASE-0045").occupation == "teacher"


def test_an_update_from_a_freshly_exported_and_edited_file_goes_through(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    services.cases.import_file(actor, ARTICLE_CASE)
    edited = exported_with(services, actor, tmp_path, "edited.json", phone="555-0199")

    result = services.cases.import_file(actor, edited, update=True)

    assert result.updated
    assert services.patients.by_mrn(COMMAND_LINE, "CASE-0045").phone == "555-0199"
