"""The cockpit's remaining reads: a CSM's accounts by name (the account list the dashboard opens
on, "my accounts" sorted by name, with or without a band) read in the order of an index instead
of sorting every account of the CSM (`engine/read_model/account_pages.py`); and the account cards'
totals by band kept on write (`engine/store/card_totals.py`): the totals, the changes the cards'
triggers add, the triggers, and the totals counted from the cards there are.

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.card_totals import create_triggers, drop_triggers, recount

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None

INDEXES: dict[str, list[str]] = {
    "ix_account_cards_csm_email_band_name_key_account": ["csm_email", "band", "name_key", "account"],
    "ix_account_cards_csm_email_name_key_account": ["csm_email", "name_key", "account"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "account_cards", columns)
    op.create_table(
        "card_totals",
        sa.Column("band_key", sa.String(200), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("arr", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", name="pk_card_totals"),
    )
    op.create_table(
        "card_total_changes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("band_key", sa.String(200), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("arr", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_card_total_changes"),
    )
    create_triggers(op.get_bind())
    recount(op.get_bind())


def downgrade() -> None:
    drop_triggers(op.get_bind())
    op.drop_table("card_total_changes")
    op.drop_table("card_totals")
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="account_cards")
