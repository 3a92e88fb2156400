"""The cockpit's reads: account cards (one row per account with what the account list sorts and
filters by, `engine/store/account_cards.py`), filled from the accounts and their scores; the
tallies of the action log by statement path (`engine/store/action_tallies.py`), counted from the
log; and an index for each of the cockpit's reads: a CSM's work by due date, a team's overdue
items, an account's score changes in time order.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.account_cards import rebuild_cards
from engine.store.action_tallies import fold

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

CARD_INDEXES: dict[str, list[str]] = {
    "ix_account_cards_name_key_account": ["name_key", "account"],
    "ix_account_cards_arr_account": ["arr", "account"],
    "ix_account_cards_renewal_account": ["renewal", "account"],
    "ix_account_cards_score_account": ["score", "account"],
    "ix_account_cards_band_name_key_account": ["band", "name_key", "account"],
    "ix_account_cards_band_arr_account": ["band", "arr", "account"],
    "ix_account_cards_band_renewal_arr": ["band", "renewal", "arr"],
    "ix_account_cards_band_score_account": ["band", "score", "account"],
    "ix_account_cards_csm_email_band_arr_renewal": ["csm_email", "band", "arr", "renewal"],
    "ix_account_cards_segment_band_arr_renewal": ["segment", "band", "arr", "renewal"],
    "ix_account_cards_manager_email_csm_email": ["manager_email", "csm_email"],
    "ix_account_cards_csm_email_csm_name": ["csm_email", "csm_name"],
}


def upgrade() -> None:
    op.create_table(
        "account_cards",
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("segment", sa.String(200), nullable=True),
        sa.Column("arr", sa.Float(), nullable=True),
        sa.Column("renewal", sa.String(10), nullable=True),
        sa.Column("csm_email", sa.String(320), nullable=True),
        sa.Column("csm_name", sa.String(200), nullable=True),
        sa.Column("manager_email", sa.String(320), nullable=True),
        sa.Column("score_name", sa.String(200), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("band", sa.String(200), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account", name="pk_account_cards"),
    )
    for name, columns in CARD_INDEXES.items():
        op.create_index(name, "account_cards", columns)
    op.create_index("ix_tasks_owner_status_due_id", "tasks", ["owner", "status", "due", "id"])
    op.create_index("ix_tasks_status_due_id", "tasks", ["status", "due", "id"])
    op.create_index("ix_tasks_playbook_created_at", "tasks", ["playbook", "created_at"])
    op.create_index("ix_journeys_playbook_status_reason", "journeys", ["playbook", "status", "reason"])
    op.create_index("ix_score_history_account_at", "score_history", ["account", "at"])
    op.create_table(
        "action_tallies",
        sa.Column("tally_key", sa.String(64), nullable=False),
        sa.Column("playbook", sa.String(200), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("what", sa.String(200), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("block", sa.String(200), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tally_key", name="pk_action_tallies"),
    )
    op.create_index("ix_action_tallies_playbook", "action_tallies", ["playbook"])
    op.create_table(
        "tally_marks",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_tally_marks"),
    )
    rebuild_cards(op.get_bind())
    fold(op.get_bind())


def downgrade() -> None:
    op.drop_table("tally_marks")
    op.drop_index("ix_action_tallies_playbook", table_name="action_tallies")
    op.drop_table("action_tallies")
    op.drop_index("ix_score_history_account_at", table_name="score_history")
    op.drop_index("ix_journeys_playbook_status_reason", table_name="journeys")
    op.drop_index("ix_tasks_playbook_created_at", table_name="tasks")
    op.drop_index("ix_tasks_status_due_id", table_name="tasks")
    op.drop_index("ix_tasks_owner_status_due_id", table_name="tasks")
    for name in reversed(CARD_INDEXES):
        op.drop_index(name, table_name="account_cards")
    op.drop_table("account_cards")
