"""The audit trail read back: checking its hash chain, and finding entries for an admin.

Entries are written by ServiceContext.audit inside each use case's own transaction; this
module never writes one, so reading the trail cannot change it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from backclinic.db.models import AuditEventRow, ClinicianRow, PatientRow
from backclinic.services.context import GENESIS_HASH, Actor, ServiceContext, entry_hash
from backclinic.services.permissions import Permission, require

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
    last_hash: str = GENESIS_HASH

    def describe(self) -> str:
        if self.ok:
            return f"Audit trail intact: {self.checked} entries."
        return f"Audit trail broken at entry {self.first_broken_id}: {self.reason}."


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

    def verify(self) -> AuditVerification:
        """Recompute every entry's hash and its link to the entry before, in id order.

        Streams the trail in batches, so a million entries never sit in memory at once.
        A hash chain shows that entries were changed, removed or inserted in the middle;
        it cannot show that the newest entries were cut off, hence last_hash to note down.
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
        ).order_by(AuditEventRow.id)
        checked = 0
        expected_previous = GENESIS_HASH
        previous_id: int | None = None
        with (
            self._context.reading() as session,
            # Closed on every return: an early one must not leave PostgreSQL's cursor open.
            session.execute(columns.execution_options(yield_per=self._batch_size)) as rows,
        ):
            for row in rows:
                checked += 1
                if row.previous_hash != expected_previous:
                    reason = (
                        "it does not start the chain, so entries before it were removed"
                        if previous_id is None
                        else f"it does not follow entry {previous_id}, so an entry between "
                        "them was removed or inserted, or that entry was rewritten"
                    )
                    return AuditVerification(False, checked, row.id, reason, expected_previous)
                recomputed = entry_hash(
                    row.previous_hash,
                    occurred_at=row.occurred_at,
                    clinician_id=row.clinician_id,
                    action=row.action,
                    entity=row.entity,
                    entity_id=row.entity_id,
                    patient_id=row.patient_id,
                    details=row.details,
                )
                if recomputed != row.entry_hash:
                    reason = "its stored fields do not match its hash, so it was changed"
                    return AuditVerification(False, checked, row.id, reason, expected_previous)
                expected_previous = row.entry_hash
                previous_id = row.id
        return AuditVerification(True, checked, None, "", expected_previous)

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
        require(actor, Permission.VIEW_AUDIT)
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
