"""safety records: clearances of red flags and outcomes of urgent referrals

Revision ID: 0006_safety_records
Revises: 0005_keyed_audit_chain
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backclinic.db.models

revision: str = "0006_safety_records"
down_revision: str | None = "0005_keyed_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('clearance', 'referral_outcome')", name=op.f("ck_safety_record_kind_known")
        ),
        sa.CheckConstraint(
            "method IS NULL OR method IN ('physician_letter', 'imaging', 'specialist_review', "
            "'clinical_reasoning')",
            name=op.f("ck_safety_record_method_known"),
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["clinician.id"], name=op.f("fk_safety_record_clinician_id_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_safety_record_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_safety_record_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["clinician.id"], name=op.f("fk_safety_record_updated_by_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_record")),
    )
    with op.batch_alter_table("safety_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_safety_record_patient_date", ["patient_id", "recorded_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("safety_record", schema=None) as batch_op:
        batch_op.drop_index("ix_safety_record_patient_date")
    op.drop_table("safety_record")
