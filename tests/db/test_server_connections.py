"""A workstation's pooled connections to a PostgreSQL server: checked before use without a
round trip each time, and replaced when the server has ended them."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import text

from backclinic.db import engine as engine_module
from backclinic.db.database import OpenDatabase, open_database
from backclinic.services.bundle import build_services
from backclinic.services.patients import PatientInput
from tests.actors import COMMAND_LINE


@pytest.fixture
def server(database: OpenDatabase) -> OpenDatabase:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("pooled server connections are PostgreSQL's")
    return database


@pytest.fixture
def pings(server: OpenDatabase, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every ping sent before a pooled connection was lent out."""
    sent: list[Any] = []
    original = server.engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        sent.append(dbapi_connection)
        return original(dbapi_connection)

    monkeypatch.setattr(server.engine.dialect, "do_ping", counted)
    return sent


def _backend(database: OpenDatabase) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_the_server_ended_while_idle_is_replaced_before_a_save(
    server: OpenDatabase, database_url: str, pings: list[Any]
) -> None:
    services = build_services(server.session_factory)
    ended = _backend(server)
    # An administrator (or a server restart) ends the workstation's idle connection.
    other = open_database(database_url)
    with other.engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": ended})
    other.engine.dispose()
    time.sleep(0.2)

    registered = services.patients.register(
        COMMAND_LINE, PatientInput("Rivera", "Ana", dt.date(1980, 3, 14))
    )

    assert services.patients.get(COMMAND_LINE, registered.id).family_name == "Rivera"
    assert len(pings) == 1
    assert _backend(server) != ended


def test_a_connection_used_moments_ago_is_lent_again_without_a_ping(
    server: OpenDatabase, pings: list[Any]
) -> None:
    services = build_services(server.session_factory)
    services.patients.search(COMMAND_LINE, "ri", limit=5)
    services.patients.search(COMMAND_LINE, "ri", limit=5)
    assert pings == []


def test_a_connection_idle_for_long_is_pinged_first(
    server: OpenDatabase, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = build_services(server.session_factory)
    services.patients.search(COMMAND_LINE, "ri", limit=5)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    services.patients.search(COMMAND_LINE, "ri", limit=5)
    assert len(pings) == 1
