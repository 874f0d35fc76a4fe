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
    is_read_only,
    make_session_factory,
    masked,
)
from backclinic.db.migrate import (
    HEAD_REVISION,
    MigrationResult,
    current_revision,
    migrate_to_head,
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
    engine = create_database_engine(url)
    check_connection(engine)
    if is_read_only(engine):
        revision = current_revision(engine)
        if revision != HEAD_REVISION:
            engine.dispose()
            raise DatabaseUnavailable(
                f"The database {masked(engine.url)} is read-only for this user account and "
                f"at schema {revision}, so it cannot be brought up to schema {HEAD_REVISION}."
            )
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
