"""correctable assessments: amendments that keep the original, and entered in error

Revision ID: 0009_correctable_assessments
Revises: 0007_visit_times
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_correctable_assessments"
down_revision: str | None = "0007_visit_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amends_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("superseded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("amendment_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("entered_in_error_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_assessment_amends_id_assessment"), "assessment", ["amends_id"], ["id"]
        )
    # The default was only for the rows already there; the model sets it on every insert.
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.alter_column("superseded", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_assessment_amends_id_assessment"), type_="foreignkey"
        )
        batch_op.drop_column("entered_in_error_reason")
        batch_op.drop_column("amendment_reason")
        batch_op.drop_column("superseded")
        batch_op.drop_column("amends_id")
