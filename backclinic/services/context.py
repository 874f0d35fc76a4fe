"""The unit of work every service uses: one session, one transaction, one audit entry.

The session's life is kept here, outside the functions that use it (SQLAlchemy's advice);
repositories receive the session, services open it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from backclinic.db.engine import READ_ONLY_OPTION
from backclinic.db.models import AuditEventRow, ClinicianRow
from backclinic.services.clock import ClinicClock
from backclinic.services.errors import ConcurrentChange, StaleRecord

GENESIS_HASH = "0" * 64


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


def entry_hash(
    previous_hash: str,
    *,
    occurred_at: dt.datetime,
    clinician_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    patient_id: int | None,
    details: dict[str, Any],
) -> str:
    """The SHA-256 of one audit entry's stored fields and the hash of the entry before it.

    Public so that the audit service recomputes exactly what was written here.
    """
    payload = json.dumps(
        {
            "previous": previous_hash,
            "at": occurred_at.astimezone(dt.UTC).isoformat(),
            "clinician": clinician_id,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "patient": patient_id,
            "details": details,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ServiceContext:
    """Opens units of work and writes their audit entries; shared by every service."""

    def __init__(
        self, session_factory: sessionmaker[Session], clock: ClinicClock | None = None
    ) -> None:
        self._session_factory = session_factory
        self.clock = clock or ClinicClock()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that only reads: on SQLite it never waits behind another writer."""
        with self._session_factory() as session:
            session.connection(execution_options={READ_ONLY_OPTION: True})
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self._session_factory() as session, session.begin():
            yield session

    def audit(self, session: Session, actor: Actor | None, entry: AuditEntry) -> None:
        """Append an audit entry inside the caller's transaction, chained to the last one."""
        if session.get_bind().dialect.name == "postgresql":
            # Serialise writers on the chain so two workstations cannot fork it.
            session.execute(text("SELECT pg_advisory_xact_lock(804201)"))
        previous = session.execute(
            select(AuditEventRow.entry_hash).order_by(AuditEventRow.id.desc()).limit(1)
        ).scalar_one_or_none()
        previous_hash = previous or GENESIS_HASH
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
            previous_hash=previous_hash,
            entry_hash="",
        )
        row.entry_hash = entry_hash(
            previous_hash,
            occurred_at=row.occurred_at,
            clinician_id=row.clinician_id,
            action=row.action,
            entity=row.entity,
            entity_id=row.entity_id,
            patient_id=row.patient_id,
            details=row.details,
        )
        session.add(row)
        session.flush()

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

    def stale(
        self, record: str, row_type: type[Any], row_id: int, yours: Mapping[str, Any] | None = None
    ) -> StaleRecord:
        """The error for a save that lost its race at flush time, read afresh."""
        with self.reading() as session:
            row = session.get(row_type, row_id)
            if row is None:
                return StaleRecord(
                    record,
                    ConcurrentChange("another user", self.clock.now(), {}, dict(yours or {})),
                )
            return StaleRecord(record, self.concurrent_change(session, row, yours))

    def stamp_new(self, row: Any, actor: Actor | None) -> None:
        now = self.clock.now()
        row.created_at = now
        row.updated_at = now
        row.created_by = actor.clinician_id if actor else None
        row.updated_by = actor.clinician_id if actor else None

    def stamp_change(self, row: Any, actor: Actor | None) -> None:
        row.updated_at = self.clock.now()
        row.updated_by = actor.clinician_id if actor else None
