"""Each account's number of stored changes (`accounts.changes`), kept by the store's change insert:
live routing checks the histories it keeps against it with one read by primary key per account,
instead of counting each account's events (a scan as long as its history).

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as table:
        table.add_column(sa.Column("changes", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE accounts SET changes = (SELECT count(*) FROM events WHERE events.account = accounts.id)")


def downgrade() -> None:
    with op.batch_alter_table("accounts") as table:
        table.drop_column("changes")
