"""keyed, anchored audit chain

Re-chains every existing audit entry with HMAC-SHA-256 under this computer's audit key (made
now, 0600, if there is none yet), numbers the entries, records the database's id and the
key's fingerprint in audit_chain, and appends one entry that says so and whether the old
unkeyed chain was intact. The new head is anchored beside the key.

On PostgreSQL a BEFORE TRUNCATE trigger joins the row triggers of 0003, and the role that
owns the tables gives up its own UPDATE, DELETE and TRUNCATE rights on audit_event.

Revision ID: 0005_keyed_audit_chain
Revises: 0003
Create Date: 2026-12-01
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backclinic.db import audit_chain

revision: str = "0005_keyed_audit_chain"
down_revision: str | None = "0004_clinic_time_zone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "the audit trail is append-only"
BATCH = 2000

events = audit_chain.EVENTS


def _guard(on: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            name = f"audit_event_no_{event.lower()}"
            if on:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {event} ON audit_event "
                    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
                )
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        action = "ENABLE" if on else "DISABLE"
        op.execute(f"ALTER TABLE audit_event {action} TRIGGER audit_event_append_only")


def _rechain(key: bytes, identity: audit_chain.ChainIdentity) -> audit_chain.ChainHead | None:
    """Check the old chain, re-chain it under the key, and append the entry that records it."""
    connection = op.get_bind()
    old_previous = audit_chain.LEGACY_GENESIS
    new_previous = audit_chain.genesis(key, identity.database_id)
    old_verdict = "intact"
    position = 0
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(events).where(events.c.id > last_id).order_by(events.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        updates = []
        for row in rows:
            position += 1
            fields = audit_chain.fields_of(row)
            if old_verdict == "intact" and (
                row.previous_hash != old_previous
                or audit_chain.legacy_entry_hash(row.previous_hash, **fields) != row.entry_hash
            ):
                old_verdict = f"broken at entry {row.id}"
            old_previous = row.entry_hash
            mac = audit_chain.entry_mac(key, new_previous, position=position, **fields)
            updates.append(
                {"row_id": row.id, "previous": new_previous, "mac": mac, "position": position}
            )
            new_previous = mac
            last_id = row.id
        connection.execute(
            events.update()
            .where(events.c.id == sa.bindparam("row_id"))
            .values(
                previous_hash=sa.bindparam("previous"),
                entry_hash=sa.bindparam("mac"),
                chain_position=sa.bindparam("position"),
            ),
            updates,
        )
    if position == 0:
        return None
    fields = {
        "occurred_at": dt.datetime.now(dt.UTC),
        "clinician_id": None,
        "action": "rekey",
        "entity": "audit_trail",
        "entity_id": None,
        "patient_id": None,
        "details": {
            "actor": f"migration {revision}",
            "entries": position,
            "previous_chain": old_verdict,
            "key": identity.key_id,
        },
    }
    position += 1
    mac = audit_chain.entry_mac(key, new_previous, position=position, **fields)
    connection.execute(
        events.insert().values(
            previous_hash=new_previous, entry_hash=mac, chain_position=position, **fields
        )
    )
    return audit_chain.ChainHead(position, mac)


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("database_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.add_column(
        "audit_event",
        sa.Column("chain_position", sa.Integer(), nullable=False, server_default="0"),
    )
    key = audit_chain.local_key(create=True)
    assert key is not None
    identity = audit_chain.new_identity(key)
    op.execute(
        sa.text("INSERT INTO audit_chain (id, database_id, key_id) VALUES (1, :d, :k)").bindparams(
            d=identity.database_id, k=identity.key_id
        )
    )
    _guard(False)
    head = _rechain(key, identity)
    _guard(True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()"
        )
        op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM PUBLIC, CURRENT_USER")
    if head is not None:
        audit_chain.record_head(identity.database_id, head, replace=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("GRANT UPDATE, DELETE, TRUNCATE ON audit_event TO CURRENT_USER")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
    # The keyed MACs stay: schema 0003's unkeyed verification will report them as changed,
    # which is true; a downgrade is for developers, never for a clinic's data.
    _guard(False)
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("chain_position")
    _guard(True)
    op.drop_table("audit_chain")
