"""A leaner store per event: the trait history kept in the order of its key, integer bookkeeping times.

`trait_history` loses its `id` and its index on (account, at): the primary key (account, at,
seq, field) is that index, and on SQLite the table is one without rowid, so its rows are kept in
that order and nothing is stored twice. Rows at the same time are ordered by `seq` (the order
they were stored in) instead of `id`. A change sets a field once, so the key is unique; should a
store hold two rows with one key, the one stored last is kept.

On SQLite, `events.received_at` and `events.routed_at` become integer microseconds since the
epoch (`engine.store.types.UtcMicros`: 8 bytes instead of 26 of text); PostgreSQL's
`timestamp with time zone` is 8 bytes already and stays.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
COLUMNS = "account, at, seq, field, value"


def _keyed_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("value", JSON, nullable=True),
        sa.PrimaryKeyConstraint("account", "at", "seq", "field", name=f"pk_{name}"),
        sqlite_with_rowid=False,
    )


UNROUTED = sa.text("routed_at IS NULL")
# SQLAlchemy's text on SQLite, `YYYY-MM-DD HH:MM:SS.ffffff`, as whole microseconds, exactly
_MICROS = ("CAST(strftime('%s', {c}) AS INTEGER) * 1000000 + "
           "CASE WHEN length({c}) >= 26 THEN CAST(substr({c}, 21, 6) AS INTEGER) ELSE 0 END")
_TEXT = "strftime('%Y-%m-%d %H:%M:%S', {c} / 1000000, 'unixepoch') || '.' || printf('%06d', {c} % 1000000)"


def _event_times(kind: sa.BigInteger | sa.DateTime, convert: str) -> None:
    """SQLite: `received_at` and `routed_at` declared as `kind` and converted in place. The table is
    copied with a cast to the new type, which keeps an integer and would make text a number: the
    values are integers during the copy (converted before it on the way up, after it on the way down)."""
    update = "UPDATE events SET " + ", ".join(
        f"{c} = CASE WHEN {c} IS NULL THEN NULL ELSE {convert.format(c=c)} END" for c in ("received_at", "routed_at"))
    if isinstance(kind, sa.BigInteger):
        op.execute(update)
    op.drop_index("ix_events_unrouted", table_name="events")
    op.drop_index("ix_events_account_name_at", table_name="events")
    with op.batch_alter_table("events", recreate="always") as batch:
        batch.alter_column("received_at", type_=kind, existing_nullable=False)
        batch.alter_column("routed_at", type_=kind, existing_nullable=True)
    op.create_index("ix_events_account_name_at", "events", ["account", "name", "at"])
    op.create_index("ix_events_unrouted", "events", ["seq"], sqlite_where=UNROUTED)
    if not isinstance(kind, sa.BigInteger):
        op.execute(update)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _event_times(sa.BigInteger(), _MICROS)
    _keyed_table("trait_history_keyed")
    if sqlite:  # in `id` order: a later row with the same key replaces an earlier one
        op.execute(f"INSERT OR REPLACE INTO trait_history_keyed ({COLUMNS}) "
                   f"SELECT {COLUMNS} FROM trait_history ORDER BY id")
    else:
        op.execute(f"INSERT INTO trait_history_keyed ({COLUMNS}) SELECT DISTINCT ON (account, at, seq, field) "
                   f"{COLUMNS} FROM trait_history ORDER BY account, at, seq, field, id DESC")
    op.drop_index("ix_trait_history_account_at", table_name="trait_history")
    op.drop_table("trait_history")
    op.rename_table("trait_history_keyed", "trait_history")
    if not sqlite:  # SQLite names a table's primary key by the table it is in
        op.execute("ALTER INDEX pk_trait_history_keyed RENAME TO pk_trait_history")


def downgrade() -> None:
    op.create_table(
        "trait_history_with_id",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("value", JSON, nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trait_history_with_id"),
    )
    op.execute(f"INSERT INTO trait_history_with_id ({COLUMNS}) SELECT {COLUMNS} FROM trait_history "
               "ORDER BY at, seq, account, field")
    op.drop_table("trait_history")
    op.rename_table("trait_history_with_id", "trait_history")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER INDEX pk_trait_history_with_id RENAME TO pk_trait_history")
    op.create_index("ix_trait_history_account_at", "trait_history", ["account", "at"])
    if op.get_bind().dialect.name == "sqlite":
        _event_times(WHEN, _TEXT)
