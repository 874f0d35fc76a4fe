"""The audit trail read back: checking its hash chain, and finding entries for an admin.

Entries are written by ServiceContext.audit inside each use case's own transaction; this
module never writes one, so reading the trail cannot change it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from backclinic.db import audit_chain
from backclinic.db.models import AuditEventRow, ClinicianRow, PatientRow
from backclinic.services.context import Actor, ServiceContext
from backclinic.services.permissions import Permission
from backclinic.services.use_case import use_case

# What the viewer offers to filter by, in the words an admin reads; any stored action
# can still be asked for by its code.
AUDIT_ACTIONS: dict[str, str] = {
    "create": "Created",
    "change": "Changed",
    "amend": "Amended",
    "archive": "Archived",
    "unarchive": "Restored from archive",
    "discharge": "Discharged",
    "print": "Printed",
    "export": "Exported",
    "import": "Imported",
    "sign_in": "Signed in",
    "sign_in_failed": "Failed sign-in",
    "sign_in_refused_locked": "Sign-in refused: account locked",
    "lock": "Screen locked",
    "unlock": "Screen unlocked",
    "deactivate": "Account deactivated",
    "reactivate": "Account reactivated",
    "password_reset": "Password reset",
    "password_change": "Password changed",
    "password_change_refused": "Password change refused",
    "password_change_refused_locked": "Password change refused: account locked",
    "backup": "Backup",
    "restore": "Restore",
    "lookalike_mrn": "Lookalike MRNs found at upgrade",
}

VERIFY_BATCH = 2000
NOT_SIGNED_IN = "not signed in"


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of recomputing the chain; reason is one sentence when it is broken."""

    ok: bool
    checked: int
    first_broken_id: int | None
    reason: str
    last_hash: str = ""
    # The anchor this computer had recorded before this check; None if it had none.
    anchor: audit_chain.ChainHead | None = None

    @property
    def head(self) -> audit_chain.ChainHead:
        return audit_chain.ChainHead(self.checked, self.last_hash)

    def describe(self) -> str:
        if not self.ok:
            if self.first_broken_id is None:
                return f"Audit trail broken: {self.reason}."
            return f"Audit trail broken at entry {self.first_broken_id}: {self.reason}."
        anchored = (
            "not anchored on this computer before, anchored now"
            if self.anchor is None
            else f"matches the anchor of {self.anchor.count} entries kept on this computer"
        )
        return (
            f"Audit trail intact: {self.checked} entries, head {self.last_hash[:16]} ({anchored})."
        )


@dataclass(frozen=True)
class AuditRecord:
    id: int
    occurred_at: dt.datetime
    who: str
    clinician_id: int | None
    action: str
    entity: str
    entity_id: int | None
    patient_id: int | None
    patient_name: str | None
    patient_mrn: str | None
    details: dict[str, Any]

    @property
    def action_label(self) -> str:
        return AUDIT_ACTIONS.get(self.action, self.action)

    @property
    def patient_label(self) -> str:
        if self.patient_id is None:
            return ""
        return f"{self.patient_name} ({self.patient_mrn})"


class AuditService:
    def __init__(self, context: ServiceContext, *, batch_size: int = VERIFY_BATCH) -> None:
        self._context = context
        self._batch_size = batch_size

    @use_case(Permission.VIEW_AUDIT)
    def verify(self, actor: Actor) -> AuditVerification:
        """Recompute every entry's keyed MAC, its link and its number, then check the anchor.

        The keyed chain shows entries changed, inserted, removed or re-hashed (without the
        key no one can make a valid MAC); the anchor kept beside the key, outside the
        database, shows entries cut off at the end, or every entry removed. A sound trail
        moves the anchor forward.
        """
        with self._context.reading() as session:
            key, identity = self._context.chain_key(session)
            anchor = audit_chain.read_head(identity.database_id)
            result = check_chain(session, key, identity, anchor=anchor, batch_size=self._batch_size)
        if result.ok and result.checked:
            audit_chain.record_head(identity.database_id, result.head)
        return result

    @use_case(Permission.VIEW_AUDIT)
    def query(
        self,
        actor: Actor,
        *,
        patient_id: int | None = None,
        clinician_id: int | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        action: str | None = None,
        limit: int = 500,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        """Entries newest first; the next page is asked for with before_id=last record's id.

        start is inclusive and end exclusive, both timezone-aware.
        """
        statement = self._filtered(
            patient_id=patient_id,
            clinician_id=clinician_id,
            start=start,
            end=end,
            action=action,
            before_id=before_id,
        )
        with self._context.reading() as session:
            rows = session.execute(statement.order_by(AuditEventRow.id.desc()).limit(limit))
            return [
                AuditRecord(
                    id=event.id,
                    occurred_at=event.occurred_at,
                    who=_who(event, clinician_name),
                    clinician_id=event.clinician_id,
                    action=event.action,
                    entity=event.entity,
                    entity_id=event.entity_id,
                    patient_id=event.patient_id,
                    patient_name=None if family is None else f"{family}, {given}",
                    patient_mrn=mrn,
                    details=dict(event.details or {}),
                )
                for event, clinician_name, family, given, mrn in rows
            ]

    @staticmethod
    def _filtered(
        *,
        patient_id: int | None,
        clinician_id: int | None,
        start: dt.datetime | None,
        end: dt.datetime | None,
        action: str | None,
        before_id: int | None,
    ) -> Select[Any]:
        clinician = aliased(ClinicianRow)
        patient = aliased(PatientRow)
        # Outer joins: the names are None where an entry has no clinician or patient.
        statement = (
            select(
                AuditEventRow,
                clinician.full_name,
                patient.family_name,
                patient.given_name,
                patient.mrn,
            )
            .outerjoin(clinician, clinician.id == AuditEventRow.clinician_id)
            .outerjoin(patient, patient.id == AuditEventRow.patient_id)
        )
        if patient_id is not None:
            statement = statement.where(AuditEventRow.patient_id == patient_id)
        if clinician_id is not None:
            statement = statement.where(AuditEventRow.clinician_id == clinician_id)
        if start is not None:
            statement = statement.where(AuditEventRow.occurred_at >= start)
        if end is not None:
            statement = statement.where(AuditEventRow.occurred_at < end)
        if action:
            statement = statement.where(AuditEventRow.action == action)
        if before_id is not None:
            statement = statement.where(AuditEventRow.id < before_id)
        return statement


def _who(event: AuditEventRow, clinician_name: str | None) -> str:
    if clinician_name is not None:
        return clinician_name
    actor = (event.details or {}).get("actor")
    return str(actor) if actor else NOT_SIGNED_IN


def check_chain(
    session: Session,
    key: bytes,
    identity: audit_chain.ChainIdentity,
    *,
    anchor: audit_chain.ChainHead | None,
    batch_size: int = VERIFY_BATCH,
) -> AuditVerification:
    """Walk the trail in ``session`` in id order against ``key`` and an expected head.

    Streams the trail in batches, so a million entries never sit in memory at once. Used
    for the live trail (anchor: the one kept on this computer) and for a backup being
    restored (anchor: the head recorded when it was written).
    """
    columns = select(
        AuditEventRow.id,
        AuditEventRow.occurred_at,
        AuditEventRow.clinician_id,
        AuditEventRow.action,
        AuditEventRow.entity,
        AuditEventRow.entity_id,
        AuditEventRow.patient_id,
        AuditEventRow.details,
        AuditEventRow.previous_hash,
        AuditEventRow.entry_hash,
        AuditEventRow.chain_position,
    ).order_by(AuditEventRow.id)
    checked = 0
    previous_id: int | None = None
    expected_previous = audit_chain.genesis(key, identity.database_id)

    def broken(row_id: int | None, reason: str) -> AuditVerification:
        return AuditVerification(False, checked, row_id, reason, expected_previous, anchor)

    # Closed on every return: an early one must not leave PostgreSQL's cursor open.
    with session.execute(columns.execution_options(yield_per=batch_size)) as rows:
        for row in rows:
            checked += 1
            if row.previous_hash != expected_previous:
                return broken(
                    row.id,
                    "it does not start the chain, so entries before it were removed"
                    if previous_id is None
                    else f"it does not follow entry {previous_id}, so an entry between "
                    "them was removed or inserted, or that entry was rewritten",
                )
            if row.chain_position != checked:
                return broken(
                    row.id,
                    f"it is numbered {row.chain_position} where {checked} was expected, "
                    "so entries before it were removed or inserted",
                )
            recomputed = audit_chain.entry_mac(
                key, row.previous_hash, position=row.chain_position, **audit_chain.fields_of(row)
            )
            if recomputed != row.entry_hash:
                return broken(
                    row.id,
                    "its stored fields do not match its keyed MAC, so it was changed or forged",
                )
            if anchor is not None and checked == anchor.count and (row.entry_hash != anchor.mac):
                return broken(
                    row.id,
                    f"it is not the entry {anchor.count} anchored on this computer, so "
                    "the trail was rewritten",
                )
            expected_previous = row.entry_hash
            previous_id = row.id
    if anchor is not None and checked < anchor.count:
        return broken(
            None,
            f"it has {checked} entries but this computer anchored {anchor.count}, so the "
            f"newest {anchor.count - checked} were removed",
        )
    return AuditVerification(True, checked, None, "", expected_previous, anchor)
