"""Engines for the embedded SQLite file and for a shared PostgreSQL server.

SQLite gets the pragmas that make it safe for clinical records on every connection (WAL,
synchronous=FULL, foreign keys, a busy timeout), and SQLAlchemy's "pysqlite serializable"
recipe so that BEGIN and SAVEPOINT mean what they say.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

# Re-exported: callers have always found these here; they live in location (stdlib only).
from backclinic.db.location import APP_NAME as APP_NAME
from backclinic.db.location import DATABASE_URL_VARIABLE as DATABASE_URL_VARIABLE
from backclinic.db.location import default_database_path as default_database_path
from backclinic.db.location import resolve_database_url as resolve_database_url

BUSY_TIMEOUT_MS = 10_000
# Execution option a unit of work sets when it only reads (see services.context.reading).
READ_ONLY_OPTION = "backclinic_read_only"


class DatabaseUnavailable(RuntimeError):
    """The database named by a URL cannot be opened; the message masks any password."""


def masked(url: str | URL) -> str:
    """The URL as it may be shown to a person or written to a log: password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def parse_database_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DatabaseUnavailable(
            f"The database URL {masked(url)!s} is not a valid URL (expected e.g. "
            "sqlite:///path/clinic.db or postgresql+psycopg://user:pass@host/db)."
        ) from error
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"The database URL {masked(parsed)} uses {backend!r}; BackClinic supports "
            "sqlite and postgresql."
        )
    if backend == "postgresql" and parsed.get_driver_name() in ("psycopg2", "default"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _owner_only(path: Path) -> None:
    """Health records: the file and its -wal/-shm are readable by their owner alone.

    SQLite creates -wal and -shm with the database file's own mode, so restricting the
    file before WAL is switched on covers them; existing ones are restricted too.
    """
    for member in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if member.exists():
            os.chmod(member, 0o600)


def _configure_sqlite(engine: Engine, path: Path | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        if path is not None:
            _owner_only(path)
        # Hand transaction control to SQLAlchemy (the documented serializable recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two workstations on one file queue
        # behind the busy timeout instead of failing half-way through a unit of work.
        # Reads begin DEFERRED: under WAL they never wait for a writer.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def create_database_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        path: Path | None = None
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseUnavailable(
                    f"The database {masked(parsed)} cannot be created: {error.strerror}."
                ) from error
        # hide_parameters: bound values are patient data; keep them out of logs and out of
        # the text of any database error that reaches a crash message.
        engine = create_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine, path)
    else:
        engine = create_engine(parsed, echo=echo, hide_parameters=True, pool_pre_ping=True)
    return engine


@dataclass(frozen=True)
class SqliteSafety:
    journal_mode: str
    synchronous: int
    foreign_keys: int
    busy_timeout_ms: int

    @property
    def problems(self) -> list[str]:
        found = []
        if self.journal_mode.lower() != "wal":
            found.append(f"journal_mode is {self.journal_mode}, expected wal")
        if self.synchronous != 2:
            found.append(f"synchronous is {self.synchronous}, expected 2 (FULL)")
        if self.foreign_keys != 1:
            found.append("foreign_keys is off")
        if self.busy_timeout_ms < 5000:
            found.append(f"busy_timeout is {self.busy_timeout_ms} ms, expected at least 5000")
        return found


def check_connection(engine: Engine) -> SqliteSafety | None:
    """Open one connection, proving the database is reachable, and read SQLite's pragmas.

    Raises DatabaseUnavailable naming the (masked) URL when it cannot be opened, or when a
    SQLite connection came up without the pragmas the records depend on.
    """
    try:
        with engine.connect() as connection:
            if engine.dialect.name != "sqlite":
                connection.execute(text("SELECT 1"))
                return None
            safety = SqliteSafety(
                journal_mode=str(connection.exec_driver_sql("PRAGMA journal_mode").scalar()),
                synchronous=int(connection.exec_driver_sql("PRAGMA synchronous").scalar() or 0),
                foreign_keys=int(connection.exec_driver_sql("PRAGMA foreign_keys").scalar() or 0),
                busy_timeout_ms=int(
                    connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0
                ),
            )
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else "connection failed"
        raise DatabaseUnavailable(
            f"The database {masked(engine.url)} cannot be opened: {reason}."
        ) from error
    if safety.problems:
        raise DatabaseUnavailable(
            f"The database {masked(engine.url)} is not safe to use: {'; '.join(safety.problems)}."
        )
    return safety


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
