"""Operator controls and revoked dashboard sessions.

`controls`: what the operator has stopped: a paused playbook (`playbook:<id>`) or every send
(`sends`), with when and why. `revoked_sessions`: dashboard sessions signed out before they expire.
`relay_sends`: when each message was handed to the relay lately, for the send-rate limit that
every worker shares.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "controls",
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_controls"),
    )
    op.create_table(
        "revoked_sessions",
        sa.Column("session", sa.String(64), nullable=False),
        sa.Column("expires", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("session", name="pk_revoked_sessions"),
    )


    op.create_table(
        "relay_sends",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_relay_sends"),
    )
    op.create_index("ix_relay_sends_at", "relay_sends", ["at"])


def downgrade() -> None:
    op.drop_index("ix_relay_sends_at", table_name="relay_sends")
    op.drop_table("relay_sends")
    op.drop_table("revoked_sessions")
    op.drop_table("controls")
