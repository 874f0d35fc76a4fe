"""printed documents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:51:21.209274
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backclinic.db.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('plan_summary', 'discharge_summary')", name=op.f("ck_document_kind_known")
        ),
        sa.CheckConstraint("pages >= 1", name=op.f("ck_document_pages_positive")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_document_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_document_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_document_plan_id_plan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index("ix_document_patient", ["patient_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index("ix_document_patient")

    op.drop_table("document")
