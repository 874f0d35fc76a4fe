"""Open a database for use: connect, check its safety pragmas, migrate, hand out sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backclinic.db.engine import (
    DatabaseUnavailable,
    check_connection,
    create_database_engine,
    make_session_factory,
    masked,
)
from backclinic.db.leftovers import remove_leftovers
from backclinic.db.migrate import MigrationResult, SchemaTooNew, migrate_to_head, sqlite_file


@dataclass(frozen=True)
class OpenDatabase:
    engine: Engine
    session_factory: sessionmaker[Session]
    migration: MigrationResult

    @property
    def display_url(self) -> str:
        return masked(self.engine.url)


def open_database(url: str) -> OpenDatabase:
    """Raises DatabaseUnavailable (password masked) when the URL cannot be used."""
    try:
        engine = create_database_engine(url)
        check_connection(engine)
        migration = migrate_to_head(engine)
        database_file = sqlite_file(engine)
        if database_file is not None:
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
