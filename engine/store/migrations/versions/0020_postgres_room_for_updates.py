"""PostgreSQL: room on each page of the tables updated in place, so their updates stay on the page.

An account's row (`accounts`: its traits and their times) is rewritten by every change of that
account. PostgreSQL writes a new version of the row on each update; when the page has room and no
indexed column changed (a HOT update) the new version stays on its page, no index entry is added,
and the page drops the old versions by itself. With pages filled to the brim (the default), the
new version goes to another page and the table grows by a whole row per update until a vacuum.
`fillfactor = 50` keeps half of each page for the next versions of its rows. SQLite rewrites a row
in place: unchanged there.

Existing pages keep their fill until the table is rewritten (`VACUUM FULL accounts`); new pages
follow the setting.

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision: str = "0020"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None

FILLFACTOR = {"accounts": 50}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, percent in FILLFACTOR.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILLFACTOR:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
