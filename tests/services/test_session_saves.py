"""What a session save checks before it stores anything, read in one statement with the
patient and plan; what happens when another workstation fulfils the visit meanwhile; and
how many statements (round trips to a server) a save makes, so a regression shows."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from backclinic.db.database import OpenDatabase
from backclinic.db.models import AuditEventRow, ScheduledVisitRow, TreatmentSessionRow
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.clinic import NewClinician
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.patients import PatientInput
from backclinic.services.sessions import SessionService
from tests.records import stored_records
from tests.services.test_plans import article_intake
from tests.services.test_sessions import planned, visit_input

# Round trips of one save, at most (see _counted): on PostgreSQL the transaction's BEGIN,
# one read of the patient, plan, phases, account and visit, one read of the rows behind the
# safety status, the session's INSERT, the visit's UPDATE, and the audit chain's two
# pipelines; SQLite reads and appends the chain in three plain statements instead. A save
# made 13 before (17 as the session form saves).
MOST_ROUND_TRIPS = {"postgresql": 7, "sqlite": 8}


def _stored(services: Services) -> tuple[int, int]:
    """How many sessions and audit entries are stored."""
    with stored_records(services) as session:
        sessions = session.scalar(select(func.count()).select_from(TreatmentSessionRow))
        entries = session.scalar(select(func.count()).select_from(AuditEventRow))
        return sessions or 0, entries or 0


def _visit(services: Services, visit_id: int) -> tuple[str, int | None]:
    with stored_records(services) as session:
        visit = session.get(ScheduledVisitRow, visit_id)
        assert visit is not None
        return visit.status, visit.session_id


def _refusal(error: pytest.ExceptionInfo[ValidationFailed], field: str) -> str:
    return " ".join(e.message for e in error.value.errors if e.field == field)


def test_a_visit_of_another_patient_or_none_at_all_is_refused_by_the_visit_field(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    other = services.patients.register(
        actor, PatientInput("Rivera", "Ana", dt.date(1975, 5, 1), mrn="CASE-0046")
    )
    services.assessments.record(
        actor, other.id, AssessmentInput("intake", article_intake(services))
    )
    first = plan.visits[0]
    for visit_id in (first.id, 999_999):
        with pytest.raises(ValidationFailed) as refused:
            services.sessions.log(actor, other.id, visit_input(first.visit_date, visit_id=visit_id))
        assert _refusal(refused, "visit_id") == "That visit is not one of this patient's visits."
    assert _visit(services, first.id) == ("planned", None)
    assert services.sessions.history(actor, patient_id) == []


def test_a_visit_already_logged_or_cancelled_is_refused_by_the_visit_field(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    first, second = plan.visits[0], plan.visits[1]
    services.sessions.log(actor, patient_id, visit_input(first.visit_date, visit_id=first.id))
    with pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(first.visit_date, visit_id=first.id))
    assert _refusal(refused, "visit_id") == "That visit already has a session logged."
    with stored_records(services) as session:
        session.execute(
            update(ScheduledVisitRow)
            .where(ScheduledVisitRow.id == second.id)
            .values(status="cancelled")
        )
    with pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(second.visit_date, visit_id=second.id))
    assert _refusal(refused, "visit_id") == "That visit was cancelled."
    assert len(services.sessions.history(actor, patient_id)) == 1


def test_only_an_active_treating_account_can_be_named_as_giving_the_session(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    therapist = services.accounts.create(
        actor, NewClinician("Aisha Okafor", "aisha", "physical_therapist", "therapist pass")
    )
    day = plan.visits[0].visit_date
    record = services.sessions.log(actor, patient_id, visit_input(day, performed_by=therapist.id))
    assert record.clinician_id == therapist.id
    # Deactivated since: the very next save sees it.
    services.accounts.deactivate(actor, therapist.id, expected_version=therapist.version)
    for giver in (therapist.id, 999_999):
        with pytest.raises(ValidationFailed) as refused:
            services.sessions.log(actor, patient_id, visit_input(day, performed_by=giver))
        assert "active acupuncturist, physical therapist or administrator" in _refusal(
            refused, "performed_by"
        )
    assert len(services.sessions.history(actor, patient_id)) == 1


@contextlib.contextmanager
def _meanwhile(change: Any) -> Iterator[None]:
    """Run ``change(session)`` in the save's own transaction right after its first read,
    as another workstation's committed change looks to the save's next statements."""
    original = SessionService._chart

    def read_then_changed(self: SessionService, session: Session, *args: Any) -> Any:
        chart = original(self, session, *args)
        change(session)
        return chart

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SessionService, "_chart", read_then_changed)
        yield


def test_a_visit_another_workstation_logged_after_the_check_refuses_the_save_whole(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    first, second = plan.visits[0], plan.visits[1]
    theirs = services.sessions.log(
        actor, patient_id, visit_input(second.visit_date, visit_id=second.id)
    )
    before = _stored(services)

    def logged_elsewhere(session: Session) -> None:
        session.execute(
            update(ScheduledVisitRow)
            .where(ScheduledVisitRow.id == first.id)
            .values(status="done", session_id=theirs.id, version=ScheduledVisitRow.version + 1)
        )

    with _meanwhile(logged_elsewhere), pytest.raises(ValidationFailed) as refused:
        services.sessions.log(actor, patient_id, visit_input(first.visit_date, visit_id=first.id))
    assert _refusal(refused, "visit_id") == "That visit already has a session logged."
    assert _stored(services) == before
    assert _visit(services, first.id) == ("planned", None)


def test_the_days_visit_fulfilled_meanwhile_is_left_alone_and_the_session_saved(
    services: Services, actor: Actor
) -> None:
    patient_id, plan = planned(services, actor)
    first, second = plan.visits[0], plan.visits[1]
    theirs = services.sessions.log(
        actor, patient_id, visit_input(second.visit_date, visit_id=second.id)
    )

    def fulfilled_elsewhere(session: Session) -> None:
        session.execute(
            update(ScheduledVisitRow)
            .where(ScheduledVisitRow.id == first.id)
            .values(status="done", session_id=theirs.id, version=ScheduledVisitRow.version + 1)
        )

    with _meanwhile(fulfilled_elsewhere):
        mine = services.sessions.log(actor, patient_id, visit_input(first.visit_date))
    assert mine.data.visit_id is None
    assert _visit(services, first.id) == ("done", theirs.id)


def _counted(database: OpenDatabase, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every round trip the engine makes from now on, by what it sent."""
    sent: list[str] = []
    engine = database.engine
    event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2].split()[0]))
    if engine.dialect.name == "postgresql":
        import psycopg

        # psycopg sends BEGIN on its own before a transaction's first statement.
        event.listen(engine, "begin", lambda *_: sent.append("BEGIN"))
        original = psycopg.Connection.pipeline

        @contextlib.contextmanager
        def pipeline(self: psycopg.Connection[Any]) -> Iterator[Any]:
            sent.append("PIPELINE")
            with original(self) as opened:
                yield opened

        monkeypatch.setattr(psycopg.Connection, "pipeline", pipeline)
    return sent


@pytest.mark.parametrize("as_the_window_saves", [False, True])
def test_a_session_save_makes_at_most_a_handful_of_round_trips(
    services: Services,
    actor: Actor,
    database: OpenDatabase,
    monkeypatch: pytest.MonkeyPatch,
    as_the_window_saves: bool,
) -> None:
    patient_id, plan = planned(services, actor)
    first = plan.visits[0]
    # The session form names the visit and the clinician; a bare call names neither.
    named: dict[str, object] = (
        {"visit_id": first.id, "performed_by": actor.clinician_id} if as_the_window_saves else {}
    )
    services.sessions.log(actor, patient_id, visit_input(first.visit_date - dt.timedelta(1)))
    sent = _counted(database, monkeypatch)
    record = services.sessions.log(actor, patient_id, visit_input(first.visit_date, **named))
    assert record.data.visit_id == first.id
    assert len(sent) <= MOST_ROUND_TRIPS[database.engine.dialect.name], sent


# Tables that grow with the clinic's work; a save or a session's page must never scan one.
GROWING = ("patient", "assessment", "plan", "plan_phase", "scheduled_visit", "treatment_session")


def test_saving_and_reading_sessions_search_every_growing_table_by_index(
    services: Services, actor: Actor, database: OpenDatabase
) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's (PostgreSQL's plans depend on the size)")
    patient_id, plan = planned(services, actor)
    first, second = plan.visits[0], plan.visits[1]
    sent: list[tuple[str, Any]] = []

    def keep(_c: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.split()[0] in ("SELECT", "UPDATE"):
            sent.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", keep)
    logged = services.sessions.log(actor, patient_id, visit_input(first.visit_date))
    services.sessions.log(
        actor,
        patient_id,
        visit_input(second.visit_date, visit_id=second.id, performed_by=actor.clinician_id),
    )
    services.sessions.history(actor, patient_id)
    services.sessions.amend(
        actor, logged.id, visit_input(first.visit_date, pain_after=3), "typo", logged.version
    )
    event.remove(database.engine, "before_cursor_execute", keep)
    scans = []
    with database.engine.connect() as connection:
        for statement, parameters in sent:
            steps = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            scans += [
                (step[-1], statement)
                for step in steps
                if any(str(step[-1]).startswith(f"SCAN {table}") for table in GROWING)
            ]
    assert scans == []
