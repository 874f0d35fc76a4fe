"""An index on the session each scheduled visit is fulfilled by

Reading a session finds the visit it fulfils by scheduled_visit.session_id (the session's
page, a patient's history, every amendment). Without an index that is a scan of every
visit in the clinic: 100 ms per session at 600,000 visits, so a history of fifty sessions
took five seconds.

Revision ID: 0012_visit_session_index
Revises: 0011_mrn_fold
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_visit_session_index"
down_revision: str | None = "0011_mrn_fold"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Created in place on SQLite too: an index needs no rebuilt table.
    op.create_index(
        op.f("ix_scheduled_visit_session"), "scheduled_visit", ["session_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_scheduled_visit_session"), table_name="scheduled_visit")
