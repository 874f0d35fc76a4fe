"""Open a database for use: connect, check its safety pragmas, migrate, hand out sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backclinic.db.audit_chain import AuditKeyError, key_for, read_identity
from backclinic.db.engine import (
    READ_ONLY_OPTION,
    DatabaseUnavailable,
    check_connection,
    create_database_engine,
    is_read_only,
    make_session_factory,
    masked,
)
from backclinic.db.leftovers import remove_leftovers
from backclinic.db.migrate import (
    HEAD_REVISION,
    MigrationResult,
    SchemaTooNew,
    current_revision,
    migrate_to_head,
    sqlite_file,
)


@dataclass(frozen=True)
class OpenDatabase:
    engine: Engine
    session_factory: sessionmaker[Session]
    migration: MigrationResult

    @property
    def display_url(self) -> str:
        return masked(self.engine.url)

    @property
    def read_only(self) -> bool:
        """The file is read-only for this user: it was opened for reading, and says so."""
        return is_read_only(self.engine)

    def describe_access(self) -> str:
        if not self.read_only:
            return ""
        return (
            f"The database {self.display_url} is read-only for this user account: opened for "
            "reading only, and every change will be refused."
        )


def open_database(url: str) -> OpenDatabase:
    """Raises DatabaseUnavailable (password masked) when the URL cannot be used."""
    try:
        engine = create_database_engine(url)
        check_connection(engine)
        if is_read_only(engine):
            revision = current_revision(engine)
            if revision != HEAD_REVISION:
                engine.dispose()
                raise DatabaseUnavailable(
                    f"The database {masked(engine.url)} is read-only for this user account "
                    f"and at schema {revision}, so it cannot be brought up to schema "
                    f"{HEAD_REVISION}."
                )
        migration = migrate_to_head(engine)
        _check_audit_key(engine)
        database_file = sqlite_file(engine)
        if database_file is not None and not is_read_only(engine):
            remove_leftovers(database_file)
    except (DatabaseUnavailable, SchemaTooNew):
        raise
    except (SQLAlchemyError, ImportError, ValueError) as error:
        # A file that is not a database, a driver that is not installed, a host that is no
        # host: one sentence, never a traceback, and never the password.
        raise DatabaseUnavailable(
            f"The database {_shown(url)} cannot be used: {_reason(error)}."
        ) from error
    return OpenDatabase(engine, make_session_factory(engine), migration)


def _check_audit_key(engine: Engine) -> None:
    """A database chained under a key this computer lacks is refused, never given a new key."""
    # Read-only (DEFERRED on SQLite): opening never waits behind another workstation's write.
    with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection:
        identity = read_identity(connection)
    if identity is None:
        return
    try:
        key_for(identity)
    except AuditKeyError as error:
        engine.dispose()
        raise DatabaseUnavailable(str(error)) from error


def _shown(url: str) -> str:
    try:
        return masked(url)
    except ValueError:
        return "<unparseable database URL>"


def _reason(error: Exception) -> str:
    if isinstance(error, ImportError):
        return f"its driver ({error.name or 'a module'}) is not installed"
    if isinstance(error, SQLAlchemyError):
        original = getattr(error, "orig", None)
        text = str(original if original is not None else error).strip()
        first_line = text.splitlines()[0] if text else "it could not be read"
        return first_line.rstrip(".")
    # The parser's own words may quote a piece of the URL, password included.
    return "the URL is malformed (check its host, port and punctuation)"
