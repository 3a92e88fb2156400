"""The initial schema: accounts and their history, events, scores, journeys, tasks, messages,
suppressions and the action log.

Revision ID: 0001
Revises:
Create Date: 2026-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String(200)
WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", ID, nullable=False),
        sa.Column("traits", JSON, nullable=False),
        sa.Column("traits_at", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(200), nullable=True),
        sa.Column("account", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("traits", JSON, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
        sa.UniqueConstraint("id", name="uq_events_id"),
    )
    op.create_index("ix_events_account_name_at", "events", ["account", "name", "at"])
    op.create_index("ix_events_account_at", "events", ["account", "at"])
    op.create_table(
        "trait_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account", ID, nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("value", JSON, nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trait_history"),
    )
    op.create_index("ix_trait_history_account_at", "trait_history", ["account", "at"])
    op.create_index("ix_trait_history_account_field_at", "trait_history", ["account", "field", "at"])
    op.create_table(
        "score_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account", ID, nullable=False),
        sa.Column("score", sa.String(200), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("band", sa.String(200), nullable=True),
        sa.Column("breakdown", JSON, nullable=False),
        sa.Column("missing", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_score_history"),
    )
    op.create_index("ix_score_history_account_score_at", "score_history", ["account", "score", "at"])
    op.create_table(
        "condition_state",
        sa.Column("account", ID, nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("account", "key", name="pk_condition_state"),
    )
    op.create_table(
        "journeys",
        sa.Column("workflow_id", sa.String(500), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("playbook", sa.String(200), nullable=False),
        sa.Column("account", ID, nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("entered_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("workflow_id", "run_id", name="pk_journeys"),
    )
    op.create_index("ix_journeys_playbook_account_status", "journeys", ["playbook", "account", "status"])
    op.create_index("ix_journeys_account_status", "journeys", ["account", "status"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("account", ID, nullable=False),
        sa.Column("playbook", sa.String(200), nullable=True),
        sa.Column("journey", sa.String(500), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("due", WHEN, nullable=True),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.UniqueConstraint("key", name="uq_tasks_key"),
    )
    op.create_index("ix_tasks_account_status", "tasks", ["account", "status"])
    op.create_index("ix_tasks_owner_status", "tasks", ["owner", "status"])
    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("account", ID, nullable=False),
        sa.Column("playbook", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("template", sa.String(200), nullable=False),
        sa.Column("to_addr", sa.String(320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("key", name="uq_messages_key"),
    )
    op.create_index(
        "ix_messages_account_channel_status_at", "messages", ["account", "channel", "status", "at"]
    )
    op.create_table(
        "suppressions",
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("email", name="pk_suppressions"),
    )
    op.create_table(
        "actions",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("account", ID, nullable=False),
        sa.Column("playbook", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("key", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_actions"),
        sa.UniqueConstraint("key", name="uq_actions_key"),
    )
    op.create_index("ix_actions_account_at", "actions", ["account", "at"])
    op.create_index("ix_actions_playbook_at", "actions", ["playbook", "at"])
    op.create_index("ix_actions_at", "actions", ["at"])


def downgrade() -> None:
    for table in ("actions", "suppressions", "messages", "tasks", "journeys", "condition_state",
                  "score_history", "trait_history", "events", "accounts"):
        op.drop_table(table)
