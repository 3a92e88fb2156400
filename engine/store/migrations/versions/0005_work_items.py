"""Work items: a task's type, reason, description and checklist; its outcome when closed; the
key of the one open item per account, type and reason (`open_key`, unique, emptied when the item
closes) and the journeys bound to an item another journey opened (`bound`); the team a task was
assigned among (`team`) and, per team, the turn of its round robin (`team_turns`); until when
it is snoozed, and why (`snoozed_until`, `snooze_reason`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("task_type", sa.String(100), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch.add_column(sa.Column("checklist", JSON, nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(100), nullable=True))
        batch.add_column(sa.Column("open_key", sa.String(600), nullable=True))
        batch.add_column(sa.Column("bound", JSON, nullable=True))
        batch.add_column(sa.Column("team", sa.String(200), nullable=True))
        batch.add_column(sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("snooze_reason", sa.Text(), nullable=True))
        batch.create_index("ix_tasks_open_key", ["open_key"], unique=True)
    op.create_table(
        "team_turns",
        sa.Column("team", sa.String(200), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team", name="pk_team_turns"),
    )


def downgrade() -> None:
    op.drop_table("team_turns")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("snooze_reason")
        batch.drop_column("snoozed_until")
        batch.drop_column("team")
        batch.drop_index("ix_tasks_open_key")
        batch.drop_column("bound")
        batch.drop_column("open_key")
        batch.drop_column("outcome")
        batch.drop_column("checklist")
        batch.drop_column("description")
        batch.drop_column("reason")
        batch.drop_column("task_type")
