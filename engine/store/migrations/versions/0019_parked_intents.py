"""Intents the drain could not carry out (`routing_intents.attempts`, `last_error`, `parked_at`): an
intent Temporal refuses for a reason that is not an outage is tried a bounded number of times, then
parked (kept with its error, not tried again) so that its account's later intents go on; an operator
lists, retries or drops the parked ones (`server/api/intents.py`).

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0020"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("routing_intents") as table:
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        table.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_intents") as table:
        table.drop_column("parked_at")
        table.drop_column("last_error")
        table.drop_column("attempts")
