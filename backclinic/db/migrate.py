"""Schema migrations, applied automatically at start, with a safety copy taken first.

Before an existing SQLite file is upgraded, it is copied with SQLite's online backup API
(never a file copy, which can tear a WAL database) next to the database.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from backclinic.db.engine import NO_FOLLOW, READ_ONLY_OPTION, owned_by_this_user

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions. Kept here so that an up-to-date database
# opens without importing Alembic at all (a noticeable part of start-up time);
# tests/db/test_migrations.py checks it against the scripts.
HEAD_REVISION = "0012_visit_session_index"


class SchemaTooNew(RuntimeError):
    """The database was written by a newer BackClinic than this one."""


@dataclass(frozen=True)
class MigrationResult:
    previous_revision: str | None
    current_revision: str
    backup_path: Path | None


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The head according to the migration scripts themselves (imports Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    # Read-only: on SQLite it begins DEFERRED, so a start never waits behind a long write.
    with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


class ForeignKeysBroken(RuntimeError):
    """A migration would leave rows referring to rows that are not there."""


def _run(engine: Engine, action: str, target: str) -> None:
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by rebuilding it (create, copy, drop, rename), and with
            # foreign keys enforced, dropping a table that plans or sessions refer to fails.
            # SQLite's own procedure for this: keys off outside the transaction, the rebuild,
            # then foreign_key_check before the commit; keys back on for the pooled connection.
            connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                "PRAGMA foreign_keys = OFF"
            )
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                if action == "upgrade":
                    command.upgrade(config, target)
                else:
                    command.downgrade(config, target)
                if sqlite and (
                    broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                ):
                    table, row, parent = broken[0][0], broken[0][1], broken[0][2]
                    raise ForeignKeysBroken(
                        f"The {action} to {target} was undone: {len(broken)} row(s) would "
                        f"refer to missing rows (first: {table} row {row} to {parent})."
                    )
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA foreign_keys = ON"
                )


def upgrade(engine: Engine, target: str = "head") -> None:
    _run(engine, "upgrade", target)


def downgrade(engine: Engine, target: str) -> None:
    _run(engine, "downgrade", target)


def sqlite_file(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def private_folder(folder: Path) -> None:
    """A folder of ours that holds patient data is 0700; one we did not make is left alone."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = folder.lstat()
    is_folder = stat.S_ISDIR(status.st_mode)
    if is_folder and owned_by_this_user(status) and stat.S_IMODE(status.st_mode) != 0o700:
        os.chmod(folder, 0o700)


def backup_sqlite(source: Path, destination: Path) -> Path:
    """Copy a live SQLite database with the online backup API; readable by its owner only.

    The copy is created (O_EXCL, 0600) before a byte of data goes in, in a 0700 folder, so
    no other account can open it while it is being written.
    """
    private_folder(destination.parent)
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NO_FOLLOW, 0o600)
    os.close(descriptor)
    with sqlite3.connect(source) as origin, sqlite3.connect(destination) as copy:
        origin.backup(copy)
    copy.close()
    origin.close()
    return destination


def migrate_to_head(engine: Engine) -> MigrationResult:
    """Bring the schema to this release's head, backing up an existing SQLite file first."""
    before = current_revision(engine)
    if before == HEAD_REVISION:
        return MigrationResult(before, HEAD_REVISION, None)
    from alembic.script import ScriptDirectory

    head = head_revision()
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if before is not None and before not in known:
        raise SchemaTooNew(
            f"The database schema {before} is newer than this version of BackClinic "
            "understands; install the newer BackClinic instead."
        )
    backup_path = None
    database_file = sqlite_file(engine)
    if before is not None and database_file is not None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        backup_path = backup_sqlite(
            database_file,
            database_file.parent / "backups" / f"{database_file.stem}-before-{head}-{stamp}.db",
        )
    upgrade(engine)
    return MigrationResult(before, head, backup_path)
