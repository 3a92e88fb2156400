"""The index of each account's next time-trigger instant (`next_due`), and a leaner store per event.

- `next_due`: one row per account, the earliest moment its time triggers may fire (a lower
  bound, `engine/store/next_due.py`); the scheduler reads the accounts due through its index on
  `at` instead of every account. Filled on first use (every account due at once).
- `events`: the index on (account, at) goes (every read by account also names events, and the
  index on (account, name, at) serves it); the index of unrouted events keeps only those
  (a partial index on `seq` where `routed_at` is NULL) instead of every event.
- `trait_history`: the index on (account, field, at) goes (the one on (account, at) serves the
  reads by account; a late value's lookup by field scans one account's history from `at` back),
  and so does `source` (the event's, found by the row's `seq`).
- `accounts.traits_at` is written packed from now on (`engine/store/batch_statements.py`); rows
  written before read as they are.
- `condition_state` on SQLite: a table without rowid, kept in its key's order, so the key is not
  stored twice (in the table and in the index of its primary key).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)
UNROUTED = sa.text("routed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "next_due",
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("at", WHEN, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account", name="pk_next_due"),
    )
    op.create_index("ix_next_due_at", "next_due", ["at"])
    op.drop_index("ix_events_account_at", table_name="events")
    op.drop_index("ix_events_unrouted", table_name="events")
    op.create_index("ix_events_unrouted", "events", ["seq"], sqlite_where=UNROUTED, postgresql_where=UNROUTED)
    op.drop_index("ix_trait_history_account_field_at", table_name="trait_history")
    with op.batch_alter_table("trait_history") as batch:
        batch.drop_column("source")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("condition_state", recreate="always",
                                  table_kwargs={"sqlite_with_rowid": False}):
            pass


def downgrade() -> None:
    with op.batch_alter_table("trait_history") as batch:
        batch.add_column(sa.Column("source", sa.String(200), nullable=False, server_default="ingest"))
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("condition_state", recreate="always", table_kwargs={"sqlite_with_rowid": True}):
            pass
    op.create_index("ix_trait_history_account_field_at", "trait_history", ["account", "field", "at"])
    op.drop_index("ix_events_unrouted", table_name="events")
    op.create_index("ix_events_unrouted", "events", ["routed_at", "seq"])
    op.create_index("ix_events_account_at", "events", ["account", "at"])
    op.drop_index("ix_next_due_at", table_name="next_due")
    op.drop_table("next_due")
