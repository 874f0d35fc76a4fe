"""Open a database for use: connect, check its safety pragmas, migrate, hand out sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backclinic.db.engine import (
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
    return OpenDatabase(engine, make_session_factory(engine), migration)
