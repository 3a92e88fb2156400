"""The shared routing queue (PostgreSQL, several routers): `routing_partitions`, the rows a router
claims (`FOR UPDATE SKIP LOCKED`) to route the accounts hashed to them, and `routing_intents`, the
journeys' starts and signals a routed change produced, committed with its routing and drained to
Temporal after (`engine/store/routing_queue.py`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
PARTITIONS = 64  # as `engine.store.routing_queue.PARTITIONS`


def upgrade() -> None:
    partitions = op.create_table(
        "routing_partitions",
        sa.Column("partition", sa.Integer(), nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("partition", name="pk_routing_partitions"),
    )
    op.bulk_insert(partitions, [{"partition": number} for number in range(PARTITIONS)])
    op.create_table(
        "routing_intents",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("intent", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("drained_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_routing_intents"),
        sa.UniqueConstraint("change", "position", name="uq_routing_intents_change_position"),
    )
    op.create_index("ix_routing_intents_undrained", "routing_intents", ["drained_at", "partition", "id"])
    op.create_index("ix_routing_intents_account_id", "routing_intents", ["account", "id"])


def downgrade() -> None:
    op.drop_index("ix_routing_intents_account_id", table_name="routing_intents")
    op.drop_index("ix_routing_intents_undrained", table_name="routing_intents")
    op.drop_table("routing_intents")
    op.drop_table("routing_partitions")
