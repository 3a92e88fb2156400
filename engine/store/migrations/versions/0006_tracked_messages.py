"""Tracked messages: the links of each email sent with engagement tracking on, and the bound on
the engagement events each may cause (`engine/store/engagement.py`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "tracked_messages",
        sa.Column("ref", sa.String(32), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("playbook", sa.String(200), nullable=True),
        sa.Column("template", sa.String(200), nullable=False),
        sa.Column("links", JSON, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("engagements", sa.Integer(), nullable=False),
        sa.Column("window_events", sa.Integer(), nullable=False),
        sa.Column("window_start", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("ref", name="pk_tracked_messages"),
    )
    op.create_index("ix_tracked_messages_account", "tracked_messages", ["account"])


def downgrade() -> None:
    op.drop_index("ix_tracked_messages_account", table_name="tracked_messages")
    op.drop_table("tracked_messages")
