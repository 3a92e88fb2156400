"""Cursors: how far periodic work has gone, so it resumes from there after a stop.

The scheduler of time triggers keeps the moment up to which it has fired them: a scheduler
started after downtime (or for the first time on a store that holds data) catches up from it
instead of from "now".

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cursors")
