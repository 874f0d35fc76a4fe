"""visit times, clinic hours and closures, where a document went

Clinic settings gain opening and closing times ("HH:MM", default 08:00–18:00) and a list of
closed dates; a scheduled visit gains its time of day and its clinician; a kept document
gains where it was sent (a printer's name or a file's path). ``booked_with`` keeps the user
name an imported case file gave when no account here has it, so the file exports unchanged. Existing visits keep no time
and no clinician: nobody can say now when they were booked for.

Revision ID: 0007_visit_times
Revises: 0006_safety_records
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_visit_times"
down_revision: str | None = "0006_safety_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinic_settings") as batch_op:
        batch_op.add_column(
            sa.Column("opens_at", sa.String(5), nullable=False, server_default="08:00")
        )
        batch_op.add_column(
            sa.Column("closes_at", sa.String(5), nullable=False, server_default="18:00")
        )
        batch_op.add_column(
            sa.Column("closed_dates", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("scheduled_visit") as batch_op:
        batch_op.add_column(sa.Column("visit_time", sa.String(5), nullable=True))
        batch_op.add_column(sa.Column("clinician_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("booked_with", sa.String(100), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_scheduled_visit_clinician_id_clinician"),
            "clinician",
            ["clinician_id"],
            ["id"],
        )
    op.add_column("document", sa.Column("destination", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("document", "destination")
    with op.batch_alter_table("scheduled_visit") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_scheduled_visit_clinician_id_clinician"), type_="foreignkey"
        )
        batch_op.drop_column("booked_with")
        batch_op.drop_column("clinician_id")
        batch_op.drop_column("visit_time")
    with op.batch_alter_table("clinic_settings") as batch_op:
        batch_op.drop_column("closed_dates")
        batch_op.drop_column("closes_at")
        batch_op.drop_column("opens_at")
