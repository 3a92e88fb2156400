"""Counts of the journeys kept as they change (`engine/store/playbook_tallies.py`): `journey_counts`,
journeys by playbook, version, status and reason; `arm_counts`, the split decisions of journeys
by arm and their journey's status (`engine/store/playbook_tallies.py`); `task_counts` and
`task_durations`, the journeys' tasks by statement, status and outcome and their times to
complete (`engine/store/task_tallies.py`). Filled from the journeys, the action log and the tasks.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.playbook_tallies import recount
from engine.store.task_tallies import recount_tasks

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "journey_counts",
        sa.Column("playbook", sa.String(200), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("playbook", "version", "status", "reason", name="pk_journey_counts"),
    )
    op.create_table(
        "arm_counts",
        sa.Column("playbook", sa.String(200), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("playbook", "path", "label", "status", name="pk_arm_counts"),
    )
    op.create_table(
        "task_counts",
        sa.Column("playbook", sa.String(200), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("playbook", "path", "status", "outcome", name="pk_task_counts"),
    )
    op.create_table(
        "task_durations",
        sa.Column("playbook", sa.String(200), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("task", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("playbook", "path", "seconds", "task", name="pk_task_durations"),
    )
    op.create_index("ix_task_durations_task", "task_durations", ["task"])
    recount(op.get_bind())
    recount_tasks(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_task_durations_task", table_name="task_durations")
    op.drop_table("task_durations")
    op.drop_table("task_counts")
    op.drop_table("arm_counts")
    op.drop_table("journey_counts")
