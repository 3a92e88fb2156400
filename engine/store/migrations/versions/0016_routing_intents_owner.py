"""The process that committed each routing intent (`routing_intents.owner`): a single router's
drain carries out its own intents and those committed before it started, not those of another
API process routing beside it on the same database (`server/api/routing_drain.py`).

Revision ID: 0016
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("routing_intents") as table:
        table.add_column(sa.Column("owner", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_intents") as table:
        table.drop_column("owner")
