"""The unit of work every service uses: one session, one transaction, one audit entry.

The session's life is kept here, outside the functions that use it (SQLAlchemy's advice);
repositories receive the session, services open it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from backclinic.db import audit_chain
from backclinic.db.engine import READ_ONLY_OPTION, is_read_only, masked
from backclinic.db.migrate import sqlite_file
from backclinic.db.models import AuditEventRow, ClinicianRow
from backclinic.services.clock import ClinicClock
from backclinic.services.errors import ConcurrentChange, NotFound, ServiceError, StaleRecord
from backclinic.services.files import database_files

RowT = TypeVar("RowT")

# Where a unit of work keeps the head its audit entry made, to anchor once it commits.
_HEAD_PENDING = "backclinic_audit_head"
# Where a unit of work keeps the audit entries it asked for, chained just before it commits.
_ENTRIES_PENDING = "backclinic_audit_entries"
# The PostgreSQL advisory lock that keeps two workstations from forking the chain.
_CHAIN_LOCK = 804201


# The declared service entry point running in this thread (or task), by qualified name: a
# unit of work opened outside one would have no declared permission behind it.
_running_entry_point: ContextVar[str | None] = ContextVar(
    "backclinic_running_entry_point", default=None
)


class OutsideEntryPoint(RuntimeError):
    """A programming error: a unit of work was opened outside a declared entry point."""


@contextmanager
def inside_entry_point(name: str) -> Iterator[None]:
    """Mark the code of the entry point ``name`` as allowed to open units of work."""
    token = _running_entry_point.set(name)
    try:
        yield
    finally:
        _running_entry_point.reset(token)


def running_entry_point() -> str | None:
    """The qualified name of the entry point now running, or None outside any."""
    return _running_entry_point.get()


def _require_entry_point(opening: str) -> None:
    if _running_entry_point.get() is None:
        raise OutsideEntryPoint(
            f"ServiceContext.{opening}() was called outside a declared service entry point; "
            "open units of work only in a method declared with @use_case or @before_sign_in."
        )


# Never shown as "their version": secrets, bulky blobs and bookkeeping.
_NOT_SHOWN = frozenset({"password_hash", "pdf", "created_at", "created_by", "updated_by"})


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


@dataclass(frozen=True)
class Actor:
    """The signed-in clinician on whose behalf a service writes.

    Headless commands run as the operating-system user, with no clinician id.
    """

    clinician_id: int | None
    name: str
    role: str


@dataclass(frozen=True)
class AuditEntry:
    action: str
    entity: str
    entity_id: int | None = None
    patient_id: int | None = None
    details: dict[str, Any] | None = None


class DatabaseIsReadOnly(ServiceError):
    """A change was asked of a database file that is read-only for this user account."""


def _link(
    rows: list[AuditEventRow],
    key: bytes,
    identity: audit_chain.ChainIdentity,
    last: tuple[str, int] | None,
) -> None:
    """Number and MAC ``rows`` in order, after the newest entry ``last`` (MAC, number)."""
    previous_mac, position = last or (audit_chain.genesis(key, identity.database_id), 0)
    for row in rows:
        position += 1
        row.previous_hash = previous_mac
        row.chain_position = position
        row.entry_hash = previous_mac = audit_chain.entry_mac(
            key, previous_mac, position=position, **audit_chain.fields_of(row)
        )


class ServiceContext:
    """Opens units of work and writes their audit entries; shared by every service."""

    def __init__(
        self, session_factory: sessionmaker[Session], clock: ClinicClock | None = None
    ) -> None:
        self._session_factory = session_factory
        self.clock = clock or ClinicClock()
        self._keys: dict[str, bytes] = {}

    def database_identity(self) -> str:
        """A short tag naming this database (its URL without the password, hashed), for
        what a workstation keeps per database, such as unsaved-form drafts."""
        bind = self._session_factory.kw.get("bind")
        url = bind.url.render_as_string(hide_password=True) if isinstance(bind, Engine) else ""
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]

    def database_files(self) -> tuple[Path, ...]:
        """The live SQLite file and its companions, which no output may overwrite."""
        bind = self._session_factory.kw.get("bind")
        if not isinstance(bind, Engine):
            return ()
        return database_files(sqlite_file(bind))

    def chain_key(self, session: Session) -> tuple[bytes, audit_chain.ChainIdentity]:
        """The key and identity of the chain in ``session``'s database.

        Raises AuditKeyError (one sentence) when this computer lacks the database's key; the
        identity is read each time, since a restore may bring in another database's.
        """
        identity = audit_chain.read_identity(session.connection(), migrated=True)
        key = self._key_of(identity)
        assert identity is not None
        return key, identity

    def _key_of(self, identity: audit_chain.ChainIdentity | None) -> bytes:
        if identity is None:
            raise audit_chain.AuditKeyError(
                "This database has no audit chain identity; it was not migrated by BackClinic."
            )
        key = self._keys.get(identity.key_id)
        if key is None:
            key = audit_chain.key_for(identity)
            self._keys[identity.key_id] = key
        return key

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that only reads: on SQLite it never waits behind another writer."""
        _require_entry_point("reading")
        with self._session_factory() as session:
            session.connection(execution_options={READ_ONLY_OPTION: True})
            yield session
            if session.info.get(_ENTRIES_PENDING):
                raise OutsideEntryPoint("An audit entry was asked for in a reading session.")

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error.

        The audit entries asked for are chained and inserted as its last statements, so
        the chain's lock (PostgreSQL) is held for those inserts and the commit only.
        Raises DatabaseIsReadOnly (one sentence) on a database opened read-only.
        """
        _require_entry_point("writing")
        bind = self._session_factory.kw.get("bind")
        if isinstance(bind, Engine) and is_read_only(bind):
            raise DatabaseIsReadOnly(
                f"The database {masked(bind.url)} is read-only for this user account, so "
                "nothing can be changed in it; ask for write access or work on a copy."
            )
        with self._session_factory() as session:
            with session.begin():
                yield session
                self._chain_pending(session)
            # After the commit only: an anchor must never be ahead of what was stored.
            pending = session.info.pop(_HEAD_PENDING, None)
            if pending is not None:
                database_id, head = pending
                audit_chain.record_head(database_id, head)

    def audit(self, session: Session, actor: Actor | None, entry: AuditEntry) -> None:
        """Record an audit entry for the caller's transaction.

        It is stamped now and chained to the last entry when the transaction is about to
        commit (writing()), so no other workstation waits on the chain meanwhile.
        """
        details = dict(entry.details or {})
        if actor is not None and actor.clinician_id is None:
            details["actor"] = actor.name
        row = AuditEventRow(
            occurred_at=self.clock.now(),
            clinician_id=actor.clinician_id if actor else None,
            action=entry.action,
            entity=entry.entity,
            entity_id=entry.entity_id,
            patient_id=entry.patient_id,
            details=details,
            previous_hash="",
            entry_hash="",
            chain_position=0,
        )
        session.info.setdefault(_ENTRIES_PENDING, []).append(row)

    def _chain_pending(self, session: Session) -> None:
        """Insert the transaction's audit entries, chained after the newest one stored."""
        rows: list[AuditEventRow] = session.info.pop(_ENTRIES_PENDING, [])
        if not rows:
            return
        # The record's own statements first, before the chain's lock is taken.
        session.flush()
        if session.get_bind().dialect.name == "postgresql":
            head = self._chain_on_postgresql(session, rows)
        else:
            # SQLite: this transaction already holds the file's write lock (BEGIN
            # IMMEDIATE), so no other writer can come between the read and the insert.
            key, identity = self.chain_key(session)
            last = session.execute(
                select(AuditEventRow.entry_hash, AuditEventRow.chain_position)
                .order_by(AuditEventRow.id.desc())
                .limit(1)
            ).one_or_none()
            _link(rows, key, identity, None if last is None else (last[0], last[1]))
            session.add_all(rows)
            session.flush()
            head = (
                identity.database_id,
                audit_chain.ChainHead(rows[-1].chain_position, rows[-1].entry_hash),
            )
        session.info[_HEAD_PENDING] = head

    def _chain_on_postgresql(
        self, session: Session, rows: list[AuditEventRow]
    ) -> tuple[str, audit_chain.ChainHead]:
        """Lock the chain, link ``rows`` after its newest entry, insert them and commit.

        An advisory lock keeps two workstations from forking the chain; it is held until
        the commit. Under load every round trip made while holding it is a wait for all
        the others (each one also waits for a CPU), so this takes two: one pipeline that
        reads the chain's identity, takes the lock and reads the newest entry; another
        that inserts the entries and commits. The commit is sent here, in the same
        pipeline, so SQLAlchemy's own commit that follows finds nothing left to do (psycopg
        skips COMMIT outside a transaction); on any error the pipeline raises before it, and
        the block's rollback undoes everything.
        """
        # Imported here: a workstation on SQLite never loads the PostgreSQL driver.
        import psycopg
        from psycopg.types.json import Json

        driver = session.connection().connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with driver.pipeline():
            identity_cursor = driver.execute("SELECT database_id, key_id FROM audit_chain")
            driver.execute("SELECT pg_advisory_xact_lock(%s)", (_CHAIN_LOCK,))
            last_cursor = driver.execute(
                "SELECT entry_hash, chain_position FROM audit_event ORDER BY id DESC LIMIT 1"
            )
            found = identity_cursor.fetchone()
            last = last_cursor.fetchone()
        identity = (
            None if found is None else audit_chain.ChainIdentity(str(found[0]), str(found[1]))
        )
        key = self._key_of(identity)
        assert identity is not None
        _link(rows, key, identity, None if last is None else (str(last[0]), int(last[1])))
        with driver.pipeline(), driver.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO audit_event (occurred_at, clinician_id, action, entity, "
                "entity_id, patient_id, details, previous_hash, entry_hash, chain_position) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        row.occurred_at.astimezone(dt.UTC),
                        row.clinician_id,
                        row.action,
                        row.entity,
                        row.entity_id,
                        row.patient_id,
                        Json(row.details),
                        row.previous_hash,
                        row.entry_hash,
                        row.chain_position,
                    )
                    for row in rows
                ],
            )
            cursor.execute("COMMIT")
        return identity.database_id, audit_chain.ChainHead(
            rows[-1].chain_position, rows[-1].entry_hash
        )

    def concurrent_change(
        self, session: Session, row: Any, yours: Mapping[str, Any] | None = None
    ) -> ConcurrentChange:
        """What another workstation saved on ``row`` (current in ``session``), beside yours."""
        who = session.get(ClinicianRow, row.updated_by) if row.updated_by else None
        theirs = {
            column.key: _plain(getattr(row, column.key))
            for column in row.__table__.columns
            if column.key not in _NOT_SHOWN
        }
        return ConcurrentChange(
            changed_by=who.full_name if who else "another user",
            changed_at=row.updated_at,
            theirs=theirs,
            yours={key: _plain(value) for key, value in (yours or {}).items()},
        )

    def row_at_version(
        self,
        session: Session,
        row_type: type[RowT],
        row_id: int,
        expected_version: int,
        *,
        noun: str,
        record: str | Callable[[RowT], str],
        yours: Mapping[str, Any] | None = None,
    ) -> RowT:
        """The row a write changes, as the editor read it.

        NotFound ("<noun> <id> does not exist.") when it is gone; StaleRecord with who
        changed it, their version and ``yours``, and both version numbers, when its version
        is no longer ``expected_version``.
        """
        row = session.get(row_type, row_id)
        if row is None:
            raise NotFound(f"{noun} {row_id} does not exist.")
        self.check_version(session, row, expected_version, record=record, yours=yours)
        return row

    @contextmanager
    def updating(
        self,
        row_type: type[RowT],
        row_id: int,
        expected_version: int,
        *,
        noun: str,
        record: str | Callable[[RowT], str],
        yours: Mapping[str, Any] | None = None,
    ) -> Iterator[tuple[Session, RowT]]:
        """The unit of work of a write to one versioned row: the transaction, and the row
        as the editor read it (``row_at_version``). A save that loses its race at flush or
        commit time ends in the same StaleRecord, read afresh (``stale``)."""
        try:
            with self.writing() as session:
                yield (
                    session,
                    self.row_at_version(
                        session,
                        row_type,
                        row_id,
                        expected_version,
                        noun=noun,
                        record=record,
                        yours=yours,
                    ),
                )
        except StaleDataError as error:
            raise self.stale(
                record, row_type, row_id, yours, expected_version=expected_version
            ) from error

    def check_version(
        self,
        session: Session,
        row: RowT,
        expected_version: int,
        *,
        record: str | Callable[[RowT], str],
        yours: Mapping[str, Any] | None = None,
    ) -> None:
        """Raise StaleRecord (both versions) unless ``row`` is still at ``expected_version``."""
        current: int = row.version  # type: ignore[attr-defined]
        if current != expected_version:
            raise StaleRecord(
                record if isinstance(record, str) else record(row),
                self.concurrent_change(session, row, yours),
                expected_version=expected_version,
                current_version=current,
            )

    def stale(
        self,
        record: str | Callable[[Any], str],
        row_type: type[Any],
        row_id: int,
        yours: Mapping[str, Any] | None = None,
        *,
        expected_version: int | None = None,
    ) -> StaleRecord:
        """The error for a save that lost its race at flush time, read afresh."""
        with self.reading() as session:
            row = session.get(row_type, row_id)
            if row is None:
                return StaleRecord(
                    record if isinstance(record, str) else "This record",
                    ConcurrentChange("another user", self.clock.now(), {}, dict(yours or {})),
                    expected_version=expected_version,
                )
            return StaleRecord(
                record if isinstance(record, str) else record(row),
                self.concurrent_change(session, row, yours),
                expected_version=expected_version,
                current_version=row.version,
            )

    def stamp_new(self, row: Any, actor: Actor | None) -> None:
        now = self.clock.now()
        row.created_at = now
        row.updated_at = now
        row.created_by = actor.clinician_id if actor else None
        row.updated_by = actor.clinician_id if actor else None

    def stamp_change(self, row: Any, actor: Actor | None) -> None:
        row.updated_at = self.clock.now()
        row.updated_by = actor.clinician_id if actor else None
