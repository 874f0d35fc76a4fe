"""MRNs unique after case and punctuation folding, by a constraint

Adds patient.mrn_key, the MRN in lower case without '-', '/' and '.', back-fills it and
gives it a UNIQUE index, so that "case-0045" or "CASE-0045." can never be stored beside
"CASE-0045", not even by two workstations at the same moment.

An older database may already hold such a pair. The migration does not stop there: the
first-registered patient keeps the plain folded MRN (so a new lookalike is still refused),
each later one gets it with "~" and its own number appended, and each pair is reported in
one sentence naming both MRNs, on standard error and as an entry in the audit trail.

Revision ID: 0011_mrn_fold
Revises: 0010_safety_screens
Create Date: 2026-12-02
"""

import datetime as dt
import sys
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backclinic.db import audit_chain

revision: str = "0011_mrn_fold"
down_revision: str | None = "0010_safety_screens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same folding as backclinic.services.patients.mrn_key; MRN_PATTERN allows only ASCII
# letters, digits and these three marks, so lower() agrees on every engine.
FOLDED = "lower(replace(replace(replace(trim(mrn), '-', ''), '/', ''), '.', ''))"

events = audit_chain.EVENTS


def lookalike_sentence(kept: str, other: str) -> str:
    return (
        f"MRNs {kept} and {other} belong to two patients but differ only in case or "
        f"punctuation; both were kept, a new MRN like them is refused, and one of the two "
        "should be merged or given another MRN."
    )


def upgrade() -> None:
    # Added in place, never by rebuilding the table (SQLite's batch mode would drop a table
    # that every record refers to): NOT NULL with an empty default, then back-filled.
    op.add_column(
        "patient", sa.Column("mrn_key", sa.String(length=60), nullable=False, server_default="")
    )
    op.execute(f"UPDATE patient SET mrn_key = {FOLDED}")
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, mrn, mrn_key FROM patient WHERE mrn_key IN "
            "(SELECT mrn_key FROM patient GROUP BY mrn_key HAVING count(*) > 1) "
            "ORDER BY mrn_key, id"
        )
    ).all()
    kept: dict[str, str] = {}
    sentences = []
    for row in rows:
        if row.mrn_key not in kept:
            kept[row.mrn_key] = row.mrn
            continue
        connection.execute(
            sa.text("UPDATE patient SET mrn_key = :key WHERE id = :id"),
            {"key": f"{row.mrn_key}~{row.id}", "id": row.id},
        )
        sentence = lookalike_sentence(kept[row.mrn_key], row.mrn)
        sentences.append(sentence)
        print(sentence, file=sys.stderr)
        _audit(connection, sentence, row.id)
    if connection.dialect.name == "postgresql":
        op.alter_column("patient", "mrn_key", server_default=None)
    op.create_index(op.f("uq_patient_mrn_key"), "patient", ["mrn_key"], unique=True)


def _audit(connection: sa.Connection, sentence: str, patient_id: int) -> None:
    """One entry in the trail, chained under this computer's key, saying what was found."""
    identity = audit_chain.read_identity(connection)
    if identity is None:
        return
    key = audit_chain.key_for(identity)
    last = connection.execute(
        sa.select(events.c.entry_hash, events.c.chain_position)
        .order_by(events.c.id.desc())
        .limit(1)
    ).first()
    previous = audit_chain.genesis(key, identity.database_id) if last is None else last[0]
    position = 1 if last is None else last[1] + 1
    fields: audit_chain.EntryFields = {
        "occurred_at": dt.datetime.now(dt.UTC),
        "clinician_id": None,
        "action": "lookalike_mrn",
        "entity": "patient",
        "entity_id": patient_id,
        "patient_id": patient_id,
        "details": {"actor": f"migration {revision}", "problem": sentence},
    }
    mac = audit_chain.entry_mac(key, previous, position=position, **fields)
    connection.execute(
        events.insert().values(
            previous_hash=previous, entry_hash=mac, chain_position=position, **fields
        )
    )


def downgrade() -> None:
    op.drop_index(op.f("uq_patient_mrn_key"), table_name="patient")
    # In place on SQLite too (3.35 and later): rebuilding the table would drop the one every
    # record refers to.
    op.execute("ALTER TABLE patient DROP COLUMN mrn_key")
