"""safety screens: precautions not asked, neurological signs, the derived age flag ruled
out, weeks of gestation, and points acknowledged under a precaution

Revision ID: 0010_safety_screens
Revises: 0009_correctable_assessments
Create Date: 2026-12-02

Existing assessments were recorded by a form that asked every precaution, so they keep
"asked" (nothing not asked), except an assessment that screened no red flags and listed no
precaution: nothing shows it asked them, so every precaution is "not asked" there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_safety_screens"
down_revision: str | None = "0009_correctable_assessments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The precautions of the catalogue when this revision was written.
PRECAUTIONS = (
    "anticoagulants",
    "pregnancy",
    "pacemaker",
    "epilepsy",
    "skin_lesion",
    "needle_phobia",
    "immunosuppression",
)


def upgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("precautions_not_asked", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("neurological_signs", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("age_flag_ruled_out", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pregnancy_weeks", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_assessment_pregnancy_weeks_range"),
            "pregnancy_weeks IS NULL OR pregnancy_weeks BETWEEN 0 AND 42",
        )
    for table in ("treatment_session", "plan"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("acknowledged_points", sa.JSON(), nullable=False, server_default="[]")
            )
    assessment = sa.table(
        "assessment",
        sa.column("id", sa.Integer()),
        sa.column("red_flags", sa.JSON()),
        sa.column("precautions", sa.JSON()),
        sa.column("precautions_not_asked", sa.JSON()),
    )
    connection = op.get_bind()
    unscreened = [
        row.id
        for row in connection.execute(
            sa.select(assessment.c.id, assessment.c.precautions).where(
                assessment.c.red_flags.is_(None)
            )
        )
        if not row.precautions
    ]
    if unscreened:
        connection.execute(
            assessment.update()
            .where(assessment.c.id.in_(unscreened))
            .values(precautions_not_asked=list(PRECAUTIONS))
        )


def downgrade() -> None:
    for table in ("plan", "treatment_session"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("acknowledged_points")
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_assessment_pregnancy_weeks_range"), type_="check")
        batch_op.drop_column("pregnancy_weeks")
        batch_op.drop_column("age_flag_ruled_out")
        batch_op.drop_column("neurological_signs")
        batch_op.drop_column("precautions_not_asked")
