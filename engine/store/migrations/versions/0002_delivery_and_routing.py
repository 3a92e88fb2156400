"""Delivery and routing marks: when a message was handed to the mail server, when an event was routed.

A retried send delivers only what was not handed over yet; events stored but not routed (the
engine was down between the two) are found and routed again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("delivered_at", WHEN, nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("routed_at", WHEN, nullable=True))
        batch.create_index("ix_events_unrouted", ["routed_at", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_unrouted")
        batch.drop_column("routed_at")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("delivered_at")
