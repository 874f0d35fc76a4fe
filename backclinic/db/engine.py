"""Engines for the embedded SQLite file and for a shared PostgreSQL server.

SQLite gets the pragmas that make it safe for clinical records on every connection (WAL,
synchronous=FULL, foreign keys, a busy timeout), and SQLAlchemy's "pysqlite serializable"
recipe so that BEGIN and SAVEPOINT mean what they say.
"""

from __future__ import annotations

import os
import select
import sqlite3
import stat
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InvalidatePoolError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

# Re-exported: callers have always found these here; they live in location (stdlib only).
from backclinic.db.location import APP_NAME as APP_NAME
from backclinic.db.location import DATABASE_URL_VARIABLE as DATABASE_URL_VARIABLE
from backclinic.db.location import default_database_path as default_database_path
from backclinic.db.location import resolve_database_url as resolve_database_url

BUSY_TIMEOUT_MS = 10_000
# Execution option a unit of work sets when it only reads (see services.context.reading).
READ_ONLY_OPTION = "backclinic_read_only"
# Engine option set when the database file itself is read-only for this user.
READ_ONLY_DATABASE_OPTION = "backclinic_read_only_database"
SQLITE_MAGIC = b"SQLite format 3\x00"
# A pooled PostgreSQL connection idle longer than this is pinged before it is used again;
# one used more recently is pinged only if the server sent it something meanwhile.
PING_AFTER_IDLE_SECONDS = 30.0
_RETURNED_AT = "backclinic_returned_at"
# Windows has neither O_NOFOLLOW nor POSIX owners and modes; there the checks that need them
# are skipped and the file's ACL (inherited from the user's own folder) is what protects it.
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
NON_BLOCK = getattr(os, "O_NONBLOCK", 0)


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


def owned_by_this_user(status: os.stat_result) -> bool:
    getuid = getattr(os, "getuid", None)
    return getuid is None or status.st_uid == getuid()


def _restrict(path: Path) -> None:
    """Make an existing regular file of ours owner-only, never following a symbolic link.

    The mode is changed through a descriptor opened with O_NOFOLLOW, so a link swapped in
    after the checks still cannot redirect the change to another file.
    """
    if not hasattr(os, "fchmod"):
        return
    try:
        descriptor = os.open(path, os.O_RDONLY | NO_FOLLOW | NON_BLOCK)
    except OSError:
        return
    try:
        status = os.fstat(descriptor)
        ours = stat.S_ISREG(status.st_mode) and owned_by_this_user(status)
        if ours and stat.S_IMODE(status.st_mode) & 0o077:
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def _owner_only(path: Path) -> None:
    """Health records: the file and its -wal/-shm are readable by their owner alone.

    SQLite creates -wal and -shm with the database file's own mode, so restricting the
    file before WAL is switched on covers them; existing ones are restricted too.
    """
    for member in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        _restrict(member)


def _refuse(path: Path, why: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(f"The database file {path} {why}; nothing was opened or changed.")


def prepare_sqlite_file(path: Path) -> bool:
    """Check that ``path`` is a BackClinic database, or create an empty one; True if read-only.

    Nothing is opened, changed or chmodded before the checks: a symbolic link, a device, a
    folder, a file of someone else's or a file that is not a BackClinic database is refused.
    A new file is made with O_EXCL, 0600 from its first byte, in a 0700 folder.
    """
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
        elif folder == default_database_path().parent:
            _restrict_folder(folder)
    except OSError as error:
        raise _refuse(path, f"cannot be created: {error.strerror}") from error
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NO_FOLLOW, 0o600)
        except OSError as error:
            raise _refuse(path, f"cannot be created: {error.strerror}") from error
        os.close(descriptor)
        return False
    if stat.S_ISLNK(status.st_mode):
        raise _refuse(path, "is a symbolic link; give the real file's path instead")
    if not stat.S_ISREG(status.st_mode):
        raise _refuse(path, "is not a regular file (a folder, device or other special file)")
    if not owned_by_this_user(status):
        raise _refuse(path, "belongs to another user account")
    if status.st_size:
        try:
            with open(path, "rb") as handle:
                start = handle.read(len(SQLITE_MAGIC))
        except OSError as error:
            raise _refuse(path, f"cannot be read: {error.strerror}") from error
        if start != SQLITE_MAGIC:
            raise _refuse(path, "is not a BackClinic database (it is not a SQLite file)")
        if not _is_backclinic_schema(path):
            raise _refuse(path, "is a SQLite database of another program, not BackClinic's")
    # The owner's write bit too: root may write any file, but a 0400 database was made
    # read-only on purpose.
    return not status.st_mode & stat.S_IWUSR or not os.access(path, os.W_OK)


def _restrict_folder(folder: Path) -> None:
    """The user data folder holds every record: owner-only, if it is ours and no link."""
    status = folder.lstat()
    ours = stat.S_ISDIR(status.st_mode) and owned_by_this_user(status)
    if ours and stat.S_IMODE(status.st_mode) != 0o700:
        os.chmod(folder, 0o700)


def _is_backclinic_schema(path: Path) -> bool:
    """True for an empty schema or one that records a BackClinic (Alembic) revision."""
    try:
        with closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as db:
            names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error:
        return False
    return not names or "alembic_version" in names


def _configure_sqlite(engine: Engine, path: Path | None, *, read_only: bool) -> None:
    if path is not None and not read_only:
        # Once, before the engine's first connection, never while SQLite holds the files:
        # closing any descriptor of a file drops every POSIX lock this process has on it
        # (sqlite.org/howtocorrupt.html 2.2), and a program opening the database beside the
        # app would then checkpoint and delete the write-ahead log the app still writes
        # into. -wal and -shm made later take the database file's own mode.
        _owner_only(path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the documented serializable recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two workstations on one file queue
        # behind the busy timeout instead of failing half-way through a unit of work.
        # Reads begin DEFERRED: under WAL they never wait for a writer.
        reading = read_only or connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")


def create_database_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        path: Path | None = None
        read_only = False
        extra: dict[str, Any] = {}
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser().absolute()
            read_only = prepare_sqlite_file(path)
            if read_only:
                # SQLite's own read-only mode: nothing is written beside the file either.
                read_only_uri = f"{path.as_uri()}?mode=ro"
                extra["creator"] = lambda: sqlite3.connect(
                    read_only_uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
                )
        # hide_parameters: bound values are patient data; keep them out of logs and out of
        # the text of any database error that reaches a crash message.
        engine = create_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
            execution_options={READ_ONLY_DATABASE_OPTION: read_only},
            **extra,
        )
        _configure_sqlite(engine, path, read_only=read_only)
    else:
        engine = create_engine(parsed, echo=echo, hide_parameters=True)
        _ping_when_in_doubt(engine)
    return engine


def _ping_when_in_doubt(engine: Engine) -> None:
    """Check a pooled server connection before it is lent out, without a round trip when
    it is plainly alive.

    SQLAlchemy's pre-ping costs one round trip per unit of work (a save makes a handful).
    A server that ends a connection (a restart, an administrator, an idle timeout) first
    tells the client so, or closes the socket: either way the socket has something to read.
    So a connection is pinged when its socket is readable, or when it sat in the pool long
    enough for the server's computer to have gone away without a word (a power cut, a
    network change); a failed ping discards every pooled connection, as pre-ping does, and
    the unit of work gets a new one.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle = time.monotonic() - record.info.get(_RETURNED_AT, 0.0)
        if idle < PING_AFTER_IDLE_SECONDS and not _has_something_to_read(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: this connection, and its pool, are gone
            raise InvalidatePoolError(f"the server connection was lost ({error})") from error


def _has_something_to_read(dbapi_connection: Any) -> bool:
    """True when the server sent an idle connection anything (a notice that it is ending
    the connection, or the end of the stream itself), or its socket cannot be asked."""
    try:
        ready, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except Exception:  # a closed or broken connection has no socket to ask
        return True
    return bool(ready)


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
        # Read-only: on SQLite it begins DEFERRED, so a start never waits behind a long write.
        with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection:
            if engine.dialect.name != "sqlite":
                connection.execute(text("SELECT 1"))
                return None
            if is_read_only(engine):
                # Nothing is written, so the durability pragmas do not apply.
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


def is_read_only(engine: Engine) -> bool:
    return bool(engine.get_execution_options().get(READ_ONLY_DATABASE_OPTION, False))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
