"""Open a database for use: connect, check its safety pragmas, migrate, hand out sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backclinic.db.audit_chain import AuditKeyError, key_for, read_identity
from backclinic.db.engine import (
    DatabaseUnavailable,
    check_connection,
    create_database_engine,
    make_session_factory,
    masked,
)
from backclinic.db.migrate import MigrationResult, migrate_to_head


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
    engine = create_database_engine(url)
    check_connection(engine)
    migration = migrate_to_head(engine)
    _check_audit_key(engine)
    return OpenDatabase(engine, make_session_factory(engine), migration)


def _check_audit_key(engine: Engine) -> None:
    """A database chained under a key this computer lacks is refused, never given a new key."""
    with engine.connect() as connection:
        identity = read_identity(connection)
    if identity is None:
        return
    try:
        key_for(identity)
    except AuditKeyError as error:
        engine.dispose()
        raise DatabaseUnavailable(str(error)) from error
