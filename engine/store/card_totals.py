"""The account cards counted by band: how many accounts and how much ARR each band of the primary
score holds (the home page's and the account list's totals), kept on write instead of counted
over every card.

Triggers on `account_cards` (created by migration 0017, `create_triggers`) add a row to
`card_total_changes` for every card that comes into a band or leaves it (inserted, deleted, its
band or ARR changed): `+1` and its ARR for the band it is in now, `-1` and its ARR for the one it
left. So the totals change in the same transaction as the cards, whichever code writes them, and
writers only ever insert: two transactions changing cards never wait on the same row.

`band_totals` reads the folded totals (`card_totals`) plus the changes since. `settle` folds the
changes into the totals, in a write transaction, once there are `FOLD_AT` of them: a read costs
a few rows per band and at most `FOLD_AT` changes, however many accounts there are. The fold
deletes the changes it adds (`DELETE … RETURNING`), so a change committed meanwhile is never
added twice or lost.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, delete, func, select, text, union_all
from sqlalchemy.dialects import postgresql, sqlite

from engine.store.database import Database
from engine.store.schema import account_cards, card_total_changes, card_totals

__all__ = ["FOLD_AT", "band_totals", "create_triggers", "drop_triggers", "fold", "recount", "settle"]

FOLD_AT = 2000
_LOCK = "card totals"

_SQLITE = [
    """CREATE TRIGGER card_totals_insert AFTER INSERT ON account_cards BEGIN
        INSERT INTO card_total_changes (band_key, accounts, arr)
        VALUES (coalesce(NEW.band, ''), 1, coalesce(NEW.arr, 0));
    END""",
    """CREATE TRIGGER card_totals_delete AFTER DELETE ON account_cards BEGIN
        INSERT INTO card_total_changes (band_key, accounts, arr)
        VALUES (coalesce(OLD.band, ''), -1, -coalesce(OLD.arr, 0));
    END""",
    """CREATE TRIGGER card_totals_update AFTER UPDATE OF band, arr ON account_cards
    WHEN OLD.band IS NOT NEW.band OR OLD.arr IS NOT NEW.arr BEGIN
        INSERT INTO card_total_changes (band_key, accounts, arr)
        VALUES (coalesce(OLD.band, ''), -1, -coalesce(OLD.arr, 0)), (coalesce(NEW.band, ''), 1, coalesce(NEW.arr, 0));
    END""",
]
_POSTGRESQL = [
    """CREATE FUNCTION card_totals_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO card_total_changes (band_key, accounts, arr)
            VALUES (coalesce(OLD.band, ''), -1, -coalesce(OLD.arr, 0));
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO card_total_changes (band_key, accounts, arr)
            VALUES (coalesce(NEW.band, ''), 1, coalesce(NEW.arr, 0));
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER card_totals_insert_delete AFTER INSERT OR DELETE ON account_cards
    FOR EACH ROW EXECUTE FUNCTION card_totals_change()""",
    """CREATE TRIGGER card_totals_update AFTER UPDATE OF band, arr ON account_cards FOR EACH ROW
    WHEN (OLD.band IS DISTINCT FROM NEW.band OR OLD.arr IS DISTINCT FROM NEW.arr)
    EXECUTE FUNCTION card_totals_change()""",
]


def create_triggers(conn: Connection) -> None:
    """The triggers that keep the totals in step with the cards (migration 0017)."""
    for statement in _POSTGRESQL if conn.dialect.name == "postgresql" else _SQLITE:
        conn.execute(text(statement))


def drop_triggers(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER IF EXISTS card_totals_update ON account_cards"))
        conn.execute(text("DROP TRIGGER IF EXISTS card_totals_insert_delete ON account_cards"))
        conn.execute(text("DROP FUNCTION IF EXISTS card_totals_change()"))
        return
    for name in ("card_totals_update", "card_totals_delete", "card_totals_insert"):
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def _add(conn: Connection, sums: dict[str, tuple[int, float]]) -> None:
    if not sums:
        return
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = module.insert(card_totals)
    statement = statement.on_conflict_do_update(
        index_elements=["band_key"], set_={"accounts": card_totals.c.accounts + statement.excluded.accounts,
                                           "arr": card_totals.c.arr + statement.excluded.arr})
    rows = [{"band_key": band, "accounts": n, "arr": arr} for band, (n, arr) in sorted(sums.items())]
    conn.execute(statement, rows)  # in band order: two folds take the rows in the same order


def fold(conn: Connection) -> int:
    """Add the changes into the totals and delete them, in the caller's write transaction; how many."""
    gone = conn.execute(delete(card_total_changes).returning(card_total_changes.c.band_key,
                                                              card_total_changes.c.accounts,
                                                              card_total_changes.c.arr)).all()
    sums: dict[str, tuple[int, float]] = defaultdict(lambda: (0, 0.0))
    for row in gone:
        n, arr = sums[row.band_key]
        sums[row.band_key] = (n + int(row.accounts), arr + float(row.arr))
    _add(conn, dict(sums))
    return len(gone)


def recount(conn: Connection) -> None:
    """The totals counted anew from the cards (migration 0017), the changes dropped."""
    conn.execute(delete(card_total_changes))
    conn.execute(delete(card_totals))
    band = func.coalesce(account_cards.c.band, "")
    counted = conn.execute(select(band.label("band_key"), func.count().label("n"),
                                  func.coalesce(func.sum(account_cards.c.arr), 0.0).label("arr")).group_by(band)).all()
    _add(conn, {row.band_key: (int(row.n), float(row.arr)) for row in counted})


def settle(database: Database) -> None:
    """Fold the changes into the totals when there are `FOLD_AT` of them or more."""
    pending = select(func.count()).select_from(select(card_total_changes.c.seq).limit(FOLD_AT).subquery())
    with database.read() as conn:
        if int(conn.execute(pending).scalar_one()) < FOLD_AT:
            return
    with database.write(_LOCK) as conn:
        fold(conn)


def band_totals(conn: Connection) -> dict[str | None, tuple[int, float]]:
    """Accounts and ARR by band (None: unscored), bands without an account left out."""
    both = union_all(select(card_totals.c.band_key, card_totals.c.accounts, card_totals.c.arr),
                     select(card_total_changes.c.band_key, card_total_changes.c.accounts,
                            card_total_changes.c.arr)).subquery()
    query = select(both.c.band_key, func.sum(both.c.accounts).label("n"), func.sum(both.c.arr).label("arr")) \
        .group_by(both.c.band_key)
    return {row.band_key or None: (int(row.n), float(row.arr)) for row in conn.execute(query) if int(row.n) > 0}
