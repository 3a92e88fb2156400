"""Work items' SLA and drafted emails: the escalation of an overdue task (`escalated_to`,
`escalated_at`) and the table `drafts` (emails kept for a person's review before they go).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("escalated_to", sa.String(320), nullable=True))
        batch.add_column(sa.Column("escalated_at", WHEN, nullable=True))
    op.create_table(
        "drafts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("playbook", sa.String(200), nullable=True),
        sa.Column("journey", sa.String(500), nullable=True),
        sa.Column("template", sa.String(200), nullable=False),
        sa.Column("to", sa.String(320), nullable=False),
        sa.Column("to_name", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(320), nullable=False),
        sa.Column("review_by", WHEN, nullable=False),
        sa.Column("policy", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decided_by", sa.String(320), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_drafts"),
        sa.UniqueConstraint("key", name="uq_drafts_key"),
    )
    op.create_index("ix_drafts_state_reviewer", "drafts", ["state", "reviewer"])
    op.create_index("ix_drafts_account", "drafts", ["account"])


def downgrade() -> None:
    op.drop_index("ix_drafts_account", table_name="drafts")
    op.drop_index("ix_drafts_state_reviewer", table_name="drafts")
    op.drop_table("drafts")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("escalated_to")
