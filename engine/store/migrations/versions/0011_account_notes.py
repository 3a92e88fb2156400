"""Account notes: what a CSM writes about an account, shown on its page and in its story
(`engine/store/notes.py`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account_notes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(320), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_account_notes"),
    )
    op.create_index("ix_account_notes_account_at", "account_notes", ["account", "at"])


def downgrade() -> None:
    op.drop_index("ix_account_notes_account_at", table_name="account_notes")
    op.drop_table("account_notes")
