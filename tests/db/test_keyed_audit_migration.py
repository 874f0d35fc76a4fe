"""Migration 0005: an existing unkeyed chain is checked, re-chained under the key and audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import bindparam, text
from sqlalchemy.types import JSON

from backclinic.db.database import OpenDatabase
from backclinic.db.migrate import downgrade, upgrade
from backclinic.services.audit import AuditService
from backclinic.services.bundle import build_services
from tests.actors import COMMAND_LINE

AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _plain_hash(previous: str, action: str, details: dict[str, object]) -> str:
    payload = {
        "previous": previous,
        "at": AT.isoformat(),
        "clinician": None,
        "action": action,
        "entity": "patient",
        "entity_id": None,
        "patient": None,
        "details": details,
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _old_trail(database: OpenDatabase, actions: list[str]) -> None:
    """A database at schema 0003 holding a plain SHA-256 chain, as the old release wrote it."""
    downgrade(database.engine, "0003")
    previous = "0" * 64
    with database.engine.begin() as connection:
        for number, action in enumerate(actions):
            details = {"n": number}
            entry = _plain_hash(previous, action, details)
            connection.execute(
                text(
                    "INSERT INTO audit_event (occurred_at, action, entity, details, "
                    "previous_hash, entry_hash) VALUES (:at, :a, 'patient', :d, :p, :h)"
                ).bindparams(bindparam("d", type_=JSON)),
                {"at": AT, "a": action, "d": details, "p": previous, "h": entry},
            )
            previous = entry


def _events(database: OpenDatabase) -> list[tuple[str, dict[str, object]]]:
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT action, details FROM audit_event ORDER BY id").columns(details=JSON)
        )
        return [(row.action, row.details) for row in rows]


def test_an_old_intact_chain_is_re_chained_under_the_key_and_the_change_audited(
    database: OpenDatabase,
) -> None:
    _old_trail(database, ["create", "change", "export"])

    upgrade(database.engine)

    events = _events(database)
    assert [action for action, _ in events] == ["create", "change", "export", "rekey"]
    assert events[-1][1]["previous_chain"] == "intact"
    assert events[-1][1]["entries"] == 3
    result = AuditService(build_services(database.session_factory).context).verify(COMMAND_LINE)
    assert result.ok and result.checked == 4
    assert result.anchor is not None and result.anchor.count == 4


def test_an_old_broken_chain_is_re_chained_but_the_break_is_recorded(
    database: OpenDatabase,
) -> None:
    _old_trail(database, ["create", "change", "export"])
    with database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            connection.execute(
                text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
            )
        second = connection.execute(
            text("SELECT id FROM audit_event ORDER BY id LIMIT 1 OFFSET 1")
        ).scalar_one()
        connection.execute(
            text("UPDATE audit_event SET action = 'archive' WHERE id = :id"), {"id": second}
        )

    upgrade(database.engine)

    assert _events(database)[-1][1]["previous_chain"] == f"broken at entry {second}"
