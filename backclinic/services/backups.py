"""Backup and restore of the whole database, by command or from the app, and the daily copy.

SQLite is copied with the online backup API (never a file copy, which can tear a WAL
database) and checked with integrity_check and foreign_key_check; PostgreSQL is written as
a logical dump (backclinic.db.transfer) that restores into either engine. A restore is
staged in a private temporary SQLite file, migrated to this release's schema and checked
there, and only then put in place in one step, so a bad backup never touches live data.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Integer, MetaData, Table, select, text
from sqlalchemy.orm import Session

from backclinic.db import audit_chain
from backclinic.db.engine import (
    BUSY_TIMEOUT_MS,
    create_database_engine,
    default_database_path,
    make_session_factory,
    masked,
)
from backclinic.db.migrate import (
    HEAD_REVISION,
    alembic_config,
    current_revision,
    migrate_to_head,
    sqlite_file,
    upgrade,
)
from backclinic.db.models import AuditEventRow, Base, ClinicianRow
from backclinic.db.transfer import (
    DumpError,
    is_dump,
    load_rows,
    read_header,
    read_rows,
    table_rows,
    write_dump,
)
from backclinic.services.audit import check_chain
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import ServiceError
from backclinic.services.files import OutputRefused, check_output, database_files, place
from backclinic.services.permissions import Permission
from backclinic.services.use_case import Change, before_sign_in, reads_no_records, use_case

KEEP_DAILY_BACKUPS = 14
SQLITE_MAGIC = b"SQLite format 3\x00"
DAILY_BACKUP = re.compile(r"^backclinic-(\d{4}-\d{2}-\d{2})\.(?:db|dump\.gz)$")
DAILY_ACTOR = Actor(clinician_id=None, name="automatic daily backup", role="system")


class BackupError(ServiceError):
    """A backup could not be written or read; nothing live was changed."""


class RestoreNeedsConfirmation(ServiceError):
    """Restore replaces every record; the caller must say so explicitly."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str  # "sqlite" (a database file) or "dump" (a logical dump)
    revision: str
    database: str  # the masked URL that was backed up

    def describe(self) -> str:
        what = (
            "SQLite copy, integrity and foreign keys checked"
            if self.kind == "sqlite"
            else ("logical dump, every row read back")
        )
        return f"Backed up {self.database} to {self.path} ({what}; schema {self.revision})."


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    kind: str
    backup_revision: str
    revision: str
    database: str

    @property
    def migrated(self) -> bool:
        return self.backup_revision != self.revision

    def describe(self) -> str:
        migrated = (
            f"; brought from schema {self.backup_revision} to {self.revision}"
            if self.migrated
            else ""
        )
        return f"Restored {self.path} into {self.database}{migrated}."


class BackupService:
    """Backs up and restores the database behind ``engine``, the one ``context`` writes to."""

    def __init__(
        self,
        context: ServiceContext,
        engine: Engine,
        *,
        backup_dir: Path | None = None,
        keep: int = KEEP_DAILY_BACKUPS,
    ) -> None:
        self._context = context
        self._engine = engine
        self._live_file = sqlite_file(engine)
        if engine.dialect.name == "sqlite" and self._live_file is None:
            raise ValueError("an in-memory SQLite database cannot be backed up")
        if backup_dir is None:
            home = self._live_file.parent if self._live_file else default_database_path().parent
            backup_dir = home / "backups"
        self.backup_dir = backup_dir
        self._keep = keep

    @property
    @reads_no_records
    def database_label(self) -> str:
        return masked(self._engine.url)

    @property
    @reads_no_records
    def is_sqlite(self) -> bool:
        return self._live_file is not None

    @reads_no_records
    def suggested_path(self) -> Path:
        """Where a backup taken now might go: the backup folder, named by the minute.

        The minute keeps it apart from the daily backups, which are pruned by date.
        """
        now = self._context.clock.now()
        return self.backup_dir / f"backclinic-{now:%Y-%m-%d-%H%M}{self._extension}"

    @property
    def _extension(self) -> str:
        return ".db" if self.is_sqlite else ".dump.gz"

    @use_case(Permission.BACKUP)
    def backup(
        self,
        actor: Actor,
        path: str | os.PathLike[str],
        *,
        force: bool = False,
        portable: bool = False,
    ) -> BackupResult:
        """Write a checked backup to ``path`` (owner-only) and its manifest, then audit it.

        An existing file is replaced only with ``force``. ``portable`` writes a logical
        dump even from SQLite (the form that also restores into PostgreSQL).
        """
        result = self._write_backup(Path(path), force=force, portable=portable)
        self._audit_backup(actor, result, automatic=False)
        return result

    # Runs as the app starts, before anyone signs in; audited as the daily backup.
    @before_sign_in()
    def automatic_daily_backup(self, now: dt.datetime) -> Path | None:
        """At the first start of a day, back up into the backup folder and keep the last 14.

        Returns the new file, or None when today's backup already exists.
        """
        today = self._context.clock.date_of(now)
        if any(day == today for day, _ in self._daily_backups()):
            return None
        target = self.backup_dir / f"backclinic-{today.isoformat()}{self._extension}"
        result = self._write_backup(target, force=True)
        self._audit_backup(DAILY_ACTOR, result, automatic=True)
        for _, old in self._daily_backups()[: -self._keep]:
            old.unlink(missing_ok=True)
            manifest_path(old).unlink(missing_ok=True)
        return target

    def _daily_backups(self) -> list[tuple[dt.date, Path]]:
        if not self.backup_dir.is_dir():
            return []
        found = []
        for entry in self.backup_dir.iterdir():
            match = DAILY_BACKUP.match(entry.name)
            if match:
                found.append((dt.date.fromisoformat(match.group(1)), entry))
        return sorted(found)

    def _write_backup(
        self, destination: Path, *, force: bool, portable: bool = False
    ) -> BackupResult:
        destination = destination.expanduser().absolute()
        _private_directory(destination.parent)
        try:
            destination = check_output(
                destination,
                force=force,
                protected=database_files(self._live_file),
            )
        except OutputRefused as error:
            raise BackupError(f"No backup was written: {error}") from error
        revision = current_revision(self._engine) or "none"
        # Read before the copy: entries written meanwhile only extend the chain it names.
        key, identity, head = self._live_head()
        # Written beside the target (0600 from its first byte) and renamed into place once
        # checked, so a file with the backup's name is always a whole, verified backup.
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
        )
        os.close(descriptor)
        partial = Path(temporary)
        sealed = manifest_path(partial)
        try:
            if self._live_file is not None and not portable:
                with (
                    closing(_connect(self._live_file)) as origin,
                    closing(sqlite3.connect(partial)) as copy,
                ):
                    origin.backup(copy)
                    # One self-contained file: no -wal beside it to lose.
                    copy.execute("PRAGMA journal_mode = DELETE")
                problems = sqlite_problems(partial)
                if problems:
                    raise BackupError(
                        f"The backup written to {destination} failed its check: {problems[0]}."
                    )
                kind = "sqlite"
            else:
                with self._engine.connect() as connection:
                    isolation = "SERIALIZABLE" if self._live_file else "REPEATABLE READ"
                    snapshot = connection.execution_options(isolation_level=isolation)
                    with snapshot.begin():
                        write_dump(
                            snapshot,
                            Base.metadata.sorted_tables,
                            partial,
                            revision=revision,
                            created_at=self._context.clock.now(),
                        )
                for _ in read_rows(partial):
                    pass
                kind = "dump"
            _write_manifest(sealed, partial, key, identity, head, revision, destination.name)
            place(partial, destination, force=force)
            os.replace(sealed, manifest_path(destination))
        except OSError as error:
            raise BackupError(
                f"The backup could not be written to {destination}: {error.strerror or error}."
            ) from error
        except OutputRefused as error:
            raise BackupError(f"No backup was written: {error}") from error
        except DumpError as error:
            raise BackupError(
                f"The backup written to {destination} is unreadable: {error}"
            ) from error
        finally:
            partial.unlink(missing_ok=True)
            sealed.unlink(missing_ok=True)
        return BackupResult(destination, kind, revision, self.database_label)

    def _live_head(self) -> tuple[bytes, audit_chain.ChainIdentity, audit_chain.ChainHead]:
        with self._context.reading() as session:
            key, identity = self._context.chain_key(session)
            return key, identity, _head_in(session, key, identity)

    def _audit_backup(self, actor: Actor, result: BackupResult, *, automatic: bool) -> None:
        with self._context.writing() as session:
            self._context.audit(
                session,
                actor,
                AuditEntry(
                    "backup",
                    "database",
                    details={
                        "file": str(result.path),
                        "format": result.kind,
                        "revision": result.revision,
                        "automatic": automatic,
                    },
                ),
            )

    @reads_no_records
    def backup_revision(self, path: str | os.PathLike[str]) -> str:
        """The schema revision a backup was written at; BackupError if it is no backup."""
        source = Path(path)
        kind = _kind_of(source)
        if kind == "dump":
            try:
                return read_header(source).revision
            except (DumpError, OSError, EOFError) as error:
                raise BackupError(f"The backup {source.name} cannot be read: {error}") from error
        try:
            with closing(sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)) as db:
                row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error as error:
            raise BackupError(
                f"{source.name} is not a BackClinic backup: it has no schema revision ({error})."
            ) from error
        if row is None:
            raise BackupError(f"{source.name} is not a BackClinic backup: its schema is empty.")
        return str(row[0])

    @use_case(Permission.BACKUP, changes=set(Change))
    def restore(
        self, actor: Actor, path: str | os.PathLike[str], *, confirm: bool
    ) -> RestoreResult:
        """Replace every record with the backup's, migrating an older backup; audited after.

        Refuses a backup from a newer schema, and refuses to act without ``confirm``.
        """
        source = Path(path).expanduser()
        kind = _kind_of(source)
        try:
            revision = self.backup_revision(source)
        except BackupError:
            # A file too damaged to name its revision: its checksum says so, if it has one.
            self._checked_manifest(source)
            raise
        if revision not in _known_revisions():
            raise BackupError(
                f"The backup {source.name} is from database schema {revision}, newer than this "
                f"BackClinic's schema {HEAD_REVISION}; install the newer BackClinic to restore it."
            )
        anchor, sealed_revision = self._checked_manifest(source)
        if sealed_revision is None and revision in _keyed_revisions():
            raise BackupError(
                f"The backup {source.name} has no manifest ({manifest_path(source).name}) "
                "recording its checksum and audit head, so it cannot be checked; nothing was "
                "restored."
            )
        if sealed_revision is not None and sealed_revision != revision:
            raise BackupError(
                f"The backup {source.name} does not match the checksum recorded when it was "
                "written, so it was changed or damaged; nothing was restored."
            )
        if kind == "sqlite":
            _check_schema_objects(source, revision)
        if not confirm:
            raise RestoreNeedsConfirmation(
                f"Restoring replaces all data in {self.database_label}; run again with --yes."
            )
        result = RestoreResult(source, kind, revision, HEAD_REVISION, self.database_label)
        entry = AuditEntry(
            "restore",
            "database",
            details={"file": str(source.absolute()), "format": kind, "from_revision": revision},
        )
        with self._staging() as stage:
            self._stage(source, kind, revision, stage, anchor)
            if self._live_file is not None:
                self._swap_sqlite(actor, stage, entry)
            else:
                self._replace_postgres(actor, stage, entry)
        self._reanchor()
        return result

    def _checked_manifest(self, source: Path) -> tuple[audit_chain.ChainHead | None, str | None]:
        """The audit head and schema revision the backup's manifest vouches for, after
        checking the manifest's seal and the file's checksum; (None, None) without one.

        Backups from before the keyed chain (schema 0003 and older) have no manifest; their
        chain is re-keyed by migration 0005 once restored. Any newer backup must have one
        (the caller checks, once it knows the backup's revision).
        """
        sealed = manifest_path(source)
        if not sealed.exists():
            return None, None
        try:
            stored = json.loads(sealed.read_text(encoding="utf-8"))
            fields = {name: stored[name] for name in MANIFEST_FIELDS}
            identity = audit_chain.ChainIdentity(str(fields["database_id"]), str(fields["key_id"]))
            head = audit_chain.ChainHead(
                int(fields["audit_head"]["count"]), str(fields["audit_head"]["mac"])
            )
            mac = str(stored["mac"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise BackupError(
                f"The manifest {sealed.name} of the backup {source.name} is unreadable "
                f"({error}); nothing was restored."
            ) from error
        try:
            key = audit_chain.key_for(identity)
        except audit_chain.AuditKeyError as error:
            raise BackupError(f"The backup {source.name} cannot be checked: {error}") from error
        if not hmac.compare_digest(mac, _manifest_mac(key, fields)):
            raise BackupError(
                f"The manifest of the backup {source.name} was changed (its keyed MAC does not "
                "match); nothing was restored."
            )
        if fields["sha256"] != _file_sha256(source):
            raise BackupError(
                f"The backup {source.name} does not match the checksum recorded when it was "
                "written, so it was changed or damaged; nothing was restored."
            )
        return head, str(fields["revision"])

    def _reanchor(self) -> None:
        """A restore is the one sanctioned rewrite of the chain: the anchor follows it."""
        with self._context.reading() as session:
            key, identity = self._context.chain_key(session)
            head = _head_in(session, key, identity)
        audit_chain.record_head(identity.database_id, head, replace=True)

    @contextmanager
    def _staging(self) -> Iterator[Path]:
        parent = self._live_file.parent if self._live_file else None
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        # mkdtemp makes the folder 0700: the staged copy holds every patient's record.
        with tempfile.TemporaryDirectory(prefix=".backclinic-restore-", dir=parent) as folder:
            yield Path(folder) / "restore.db"

    def _stage(
        self,
        source: Path,
        kind: str,
        revision: str,
        stage: Path,
        anchor: audit_chain.ChainHead | None,
    ) -> None:
        """Build the backup's data at this release's schema in ``stage``, and check it."""
        _create_private(stage)
        if kind == "sqlite":
            uri = f"{source.absolute().as_uri()}?mode=ro"
            with (
                closing(sqlite3.connect(uri, uri=True)) as origin,
                closing(sqlite3.connect(stage)) as copy,
            ):
                origin.backup(copy)
        engine = create_database_engine(f"sqlite:///{stage}")
        try:
            if kind == "dump":
                upgrade(engine, revision)
                tables = MetaData()
                tables.reflect(bind=engine)
                _check_dump_tables(source, set(tables.tables) - {"alembic_version"})
                with engine.begin() as connection:
                    # The dump brings its own chain identity; the one the empty schema made
                    # would collide with it.
                    if "audit_chain" in tables.tables:
                        connection.execute(tables.tables["audit_chain"].delete())
                try:
                    with engine.begin() as connection:
                        load_rows(connection, read_rows(source), tables.tables)
                except DumpError as error:
                    raise BackupError(
                        f"The backup {source.name} cannot be restored: {error}"
                    ) from error
            migrate_to_head(engine)
            self._check_staged_chain(source, engine, anchor)
        finally:
            engine.dispose()
        problems = sqlite_problems(stage)
        if problems:
            raise BackupError(
                f"The backup {source.name} is damaged ({problems[0]}); nothing was restored."
            )

    def _check_staged_chain(
        self, source: Path, engine: Engine, anchor: audit_chain.ChainHead | None
    ) -> None:
        context = ServiceContext(make_session_factory(engine), self._context.clock)
        try:
            with context.reading() as session:
                key, identity = context.chain_key(session)
                result = check_chain(session, key, identity, anchor=anchor)
        except audit_chain.AuditKeyError as error:
            raise BackupError(f"The backup {source.name} cannot be checked: {error}") from error
        if result.ok and anchor is None:
            # A backup from before the keyed chain was re-keyed by migration 0005 just now,
            # which recorded whether its old unkeyed chain was intact.
            verdict = _legacy_chain_verdict(engine)
            if verdict not in (None, "intact"):
                raise BackupError(
                    f"The backup {source.name} is refused: its audit trail was {verdict} "
                    "before it was re-keyed; nothing was restored."
                )
        if result.ok:
            return
        where = f" at entry {result.first_broken_id}" if result.first_broken_id else ""
        raise BackupError(
            f"The backup {source.name} is refused: its audit trail is broken{where} "
            f"({result.reason}); nothing was restored."
        )

    def _swap_sqlite(self, actor: Actor, stage: Path, entry: AuditEntry) -> None:
        # The audit entry goes into the restored data before it is put in place, so the
        # restore and its record arrive together or not at all.
        engine = create_database_engine(f"sqlite:///{stage}")
        try:
            context = ServiceContext(make_session_factory(engine), self._context.clock)
            with context.writing() as session:
                context.audit(session, _actor_in(session, actor), entry)
        finally:
            engine.dispose()
        assert self._live_file is not None
        self._engine.dispose()
        with (
            closing(sqlite3.connect(stage)) as origin,
            closing(_connect(self._live_file)) as live,
        ):
            # One backup step over the live file: other connections see the old data or
            # the new, never a mixture.
            origin.backup(live)
        self._engine.dispose()
        os.chmod(self._live_file, 0o600)

    def _replace_postgres(self, actor: Actor, stage: Path, entry: AuditEntry) -> None:
        tables = Base.metadata.sorted_tables
        engine = create_database_engine(f"sqlite:///{stage}")
        try:
            with engine.connect() as source, self._context.writing() as session:
                target = session.connection()
                # Replacing everything is the one sanctioned rewrite of the audit trail
                # (itself audited below); the trigger comes back in the same transaction.
                with audit_chain.guard_lifted(target, "rewrite"):
                    for table in reversed(tables):
                        target.execute(table.delete())
                    load_rows(target, table_rows(source, tables), {t.name: t for t in tables})
                    _reset_sequences(target, tables)
                self._context.audit(session, _actor_in(session, actor), entry)
        finally:
            engine.dispose()


def sqlite_problems(path: Path) -> list[str]:
    """What integrity_check and foreign_key_check find wrong in a SQLite file; [] if sound."""
    try:
        with closing(sqlite3.connect(path)) as db:
            integrity = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
            dangling = db.execute("PRAGMA foreign_key_check").fetchall()
    except sqlite3.Error as error:
        return [f"it cannot be opened ({error})"]
    problems = [] if integrity == ["ok"] else [f"integrity_check: {line}" for line in integrity]
    problems += [f"row {row[1]} of {row[0]} refers to a missing {row[2]}" for row in dangling]
    return problems


def _kind_of(source: Path) -> str:
    try:
        with open(source, "rb") as handle:
            start = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"The backup {source} does not exist.") from None
    except OSError as error:
        raise BackupError(f"The backup {source} cannot be read: {error.strerror}.") from error
    if start == SQLITE_MAGIC:
        return "sqlite"
    if is_dump(source):
        return "dump"
    raise BackupError(
        f"{source.name} is not a BackClinic backup (neither a SQLite database nor a dump)."
    )


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _actor_in(session: Session, actor: Actor) -> Actor:
    """The actor as the restored data knows them: an account id only if it is theirs there."""
    if actor.clinician_id is None:
        return actor
    row = session.get(ClinicianRow, actor.clinician_id)
    if row is not None and row.full_name == actor.name:
        return actor
    return Actor(clinician_id=None, name=actor.name, role=actor.role)


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        key = keys[0].name
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :key), "
                f"COALESCE((SELECT MAX({quote(key)}) FROM {quote(table.name)}), 0) + 1, false)"
            ),
            {"table": table.name, "key": key},
        )


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)


MANIFEST_SUFFIX = ".manifest"
MANIFEST_FORMAT = "backclinic-backup-manifest/1"
MANIFEST_FIELDS = (
    "format",
    "file",
    "sha256",
    "revision",
    "database_id",
    "key_id",
    "audit_head",
)
# Every schema from this revision on has a keyed chain, so its backups carry a manifest.
KEYED_CHAIN_REVISION = "0005_keyed_audit_chain"


def manifest_path(backup: Path) -> Path:
    """The manifest beside a backup: its checksum and audit head, sealed with the key."""
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_mac(key: bytes, fields: dict[str, Any]) -> str:
    encoded = json.dumps(fields, sort_keys=True, ensure_ascii=True).encode("ascii")
    return hmac.new(key, encoded, hashlib.sha256).hexdigest()


def _write_manifest(
    sealed: Path,
    backup: Path,
    key: bytes,
    identity: audit_chain.ChainIdentity,
    head: audit_chain.ChainHead,
    revision: str,
    name: str,
) -> None:
    fields: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "file": name,
        "sha256": _file_sha256(backup),
        "revision": revision,
        "database_id": identity.database_id,
        "key_id": identity.key_id,
        "audit_head": {"count": head.count, "mac": head.mac},
    }
    descriptor = os.open(sealed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(descriptor, "w", encoding="utf-8") as handle:
        json.dump({**fields, "mac": _manifest_mac(key, fields)}, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _head_in(
    session: Session, key: bytes, identity: audit_chain.ChainIdentity
) -> audit_chain.ChainHead:
    last = session.execute(
        select(AuditEventRow.chain_position, AuditEventRow.entry_hash)
        .order_by(AuditEventRow.id.desc())
        .limit(1)
    ).one_or_none()
    if last is None:
        return audit_chain.ChainHead(0, audit_chain.genesis(key, identity.database_id))
    return audit_chain.ChainHead(last.chain_position, last.entry_hash)


def _legacy_chain_verdict(engine: Engine) -> str | None:
    with engine.connect() as connection:
        details = connection.execute(
            select(AuditEventRow.details)
            .where(AuditEventRow.action == "rekey", AuditEventRow.entity == "audit_trail")
            .order_by(AuditEventRow.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    if details is None:
        return None
    return str(details.get("previous_chain", "intact"))


def _keyed_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    older = {rev.revision for rev in scripts.iterate_revisions(KEYED_CHAIN_REVISION, "base")} - {
        KEYED_CHAIN_REVISION
    }
    return _known_revisions() - older


# SQLite's own bookkeeping tables, which no migration names.
_INTERNAL_TABLES = ("sqlite_sequence", "sqlite_stat1", "sqlite_stat4")


def _schema_objects(path: Path) -> dict[tuple[str, str], str | None]:
    """Each table, index, trigger and view by (type, name); the SQL of triggers and views.

    Triggers and views are where planted behaviour lives, so their text must match too.
    """
    uri = f"{path.absolute().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    objects: dict[tuple[str, str], str | None] = {}
    for kind, name, sql in rows:
        if name in _INTERNAL_TABLES or str(name).startswith("sqlite_autoindex_"):
            continue
        body = " ".join(str(sql).split()) if kind in ("trigger", "view") else None
        objects[(str(kind), str(name))] = body
    return objects


@functools.cache
def _expected_schema_objects(revision: str) -> dict[tuple[str, str], str | None]:
    """What this release's own migrations make at ``revision``, in a scratch database."""
    with tempfile.TemporaryDirectory(prefix=".backclinic-schema-") as folder:
        path = Path(folder) / "expected.db"
        engine = create_database_engine(f"sqlite:///{path}")
        try:
            upgrade(engine, revision)
        finally:
            engine.dispose()
        return _schema_objects(path)


def _check_schema_objects(source: Path, revision: str) -> None:
    try:
        found = _schema_objects(source)
    except sqlite3.Error as error:
        raise BackupError(f"The backup {source.name} cannot be read ({error}).") from error
    expected = _expected_schema_objects(revision)
    extra = sorted(key for key in found if key not in expected)
    missing = sorted(key for key in expected if key not in found)
    changed = sorted(key for key in found if key in expected and found[key] != expected[key])
    wording = (
        (extra, "schema objects that do not belong there"),
        (missing, "schema objects missing"),
        (changed, "schema objects whose definition was changed"),
    )
    for objects, what in wording:
        if objects:
            named = ", ".join(f"{kind} {name}" for kind, name in objects)
            raise BackupError(
                f"The backup {source.name} has {what} for schema {revision} ({named}); "
                "nothing was restored."
            )


def _check_dump_tables(source: Path, expected: set[str]) -> None:
    header = read_header(source)
    extra = sorted(set(header.tables) - expected)
    missing = sorted(expected - set(header.tables))
    if extra or missing:
        named = ", ".join(
            [f"extra table {t}" for t in extra] + [f"missing table {t}" for t in missing]
        )
        raise BackupError(
            f"The backup {source.name} does not have the tables of schema {header.revision} "
            f"({named}); nothing was restored."
        )


def _create_private(path: Path) -> None:
    """Create (or empty) a file readable by its owner only before any data goes in."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(descriptor)
    os.chmod(path, 0o600)


def _private_directory(path: Path) -> None:
    """A new folder for backups is the owner's alone; an existing one is left as it is."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
