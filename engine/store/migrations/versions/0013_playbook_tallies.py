"""Counts of the journeys kept as they change (`engine/store/playbook_tallies.py`): `journey_counts`,
journeys by playbook, version, status and reason; `arm_counts`, the split decisions of journeys
by arm and their journey's status. Filled from the journeys and the action log.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.playbook_tallies import recount

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
    recount(op.get_bind())


def downgrade() -> None:
    op.drop_table("arm_counts")
    op.drop_table("journey_counts")
