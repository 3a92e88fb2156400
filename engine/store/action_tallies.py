"""Tallies of the action log: how many journey actions of each kind were logged at each statement
path, kept as counts so that `playbook stats` and a playbook's funnel read a few rows per
statement instead of every action.

`action_groups` is the one query that groups actions by what the stats tell apart (playbook, the
path cut out of the key, kind, a decision's `what`, outcome, block and subject, a suppression's
reason). The tallies hold its result over every action up to a mark (the last `seq` tallied);
`tallied_actions` first folds in the actions logged since (the same query over `seq > mark`),
then reads the tallies: a read costs what was logged since the last one.

The fold runs in a write transaction. On PostgreSQL it takes the actions table in SHARE mode for
that moment, so that no transaction still writing an action with a lower `seq` can commit after
the mark has passed it. Erasing actions (`playbook forget`) takes them out of the tallies too
(`untally`), in the transaction that deletes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, String, and_, case, delete, func, literal, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from engine.store.database import StoreSection
from engine.store.schema import action_tallies, actions, tally_marks

__all__ = ["GROUPS", "JOURNEY_PREFIX", "TallySection", "action_groups", "position", "untally"]

JOURNEY_PREFIX = "journey/"
GROUPS = ("playbook", "path", "kind", "what", "outcome", "block", "subject", "detail", "reason")
_MARK = "actions"
_LOCK = "action tallies"


def position(dialect: str, value: ColumnElement[Any], needle: str) -> ColumnElement[int]:
    """1-based position of `needle` in `value`, 0 when absent."""
    name = func.strpos if dialect == "postgresql" else func.instr
    result: ColumnElement[int] = name(value, needle)
    return result


def action_groups(dialect: str, where: list[Any]) -> Any:
    """The actions `where` keeps, counted by `GROUPS` (`n`): journey actions by the statement path
    cut out of their key, and admission decisions (no path)."""
    data = actions.c.data
    what = case((actions.c.kind == "decided", data["what"].as_string()), else_=literal(None, String))
    outcome_kind = and_(actions.c.kind == "decided",
                        data["what"].as_string().in_(("branch", "split", "wait_ended", "set_skipped")))
    journey_key = actions.c.key.like(JOURNEY_PREFIX + "%")
    # `journey/` + playbook + `/` + account + `/` is len(playbook) + len(account) + 10 characters
    rest = func.substr(actions.c.key, func.length(actions.c.playbook) + func.length(actions.c.account) + 11)
    logged = select(
        actions.c.playbook.label("playbook"),
        actions.c.kind.label("kind"),
        what.label("what"),
        case((outcome_kind, data["outcome"].as_string()), else_=literal(None, String)).label("outcome"),
        case((outcome_kind, data["block"].as_string()), else_=literal(None, String)).label("block"),
        case((outcome_kind, data["subject"].as_string()), else_=literal(None, String)).label("subject"),
        case((and_(outcome_kind, data["outcome"].as_string().is_(None)), data["detail"].as_string()),
             else_=literal(None, String)).label("detail"),
        case((actions.c.kind == "suppressed", data["reason"].as_string()), else_=literal(None, String)).label("reason"),
        case((journey_key, rest), else_=literal(None, String)).label("rest"),
    ).where(or_(journey_key, actions.c.key.like("decided/%")), actions.c.playbook.is_not(None), *where).subquery()
    slash = position(dialect, logged.c.rest, "/")
    path = func.substr(logged.c.rest, slash + 1).label("path")  # NULL for an admission decision
    grouped = (logged.c.playbook, path, logged.c.kind, logged.c.what, logged.c.outcome, logged.c.block,
               logged.c.subject, logged.c.detail, logged.c.reason)
    return (select(*grouped, func.count().label("n"))
            .where(or_(logged.c.rest.is_(None), slash > 0))
            .group_by(*grouped))


def _key(row: Any) -> str:
    return hashlib.sha256(json.dumps([getattr(row, name) for name in GROUPS]).encode()).hexdigest()


def _add(conn: Connection, rows: Sequence[Any], sign: int) -> None:
    """Add (`sign` 1) or take away (-1) grouped counts from the tallies; a tally down to 0 goes."""
    if not rows:
        return
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = module.insert(action_tallies)
    statement = statement.on_conflict_do_update(index_elements=["tally_key"],
                                                set_={"n": action_tallies.c.n + statement.excluded.n})
    values = [{"tally_key": _key(row), **{name: getattr(row, name) for name in GROUPS}, "n": sign * int(row.n)}
              for row in rows]
    for first in range(0, len(values), 500):
        conn.execute(statement, values[first:first + 500])
    if sign < 0:
        conn.execute(delete(action_tallies).where(action_tallies.c.n <= 0))


def _mark(conn: Connection) -> int:
    return int(conn.execute(select(tally_marks.c.seq).where(tally_marks.c.name == _MARK)).scalar() or 0)


def fold(conn: Connection) -> int:
    """Fold the actions logged since the mark into the tallies; how many actions that was. In the
    caller's write transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE actions IN SHARE MODE"))
    mark = _mark(conn)
    top = int(conn.execute(select(func.max(actions.c.seq))).scalar() or 0)
    if top <= mark:
        return 0
    rows = conn.execute(action_groups(conn.dialect.name, [actions.c.seq > mark, actions.c.seq <= top])).all()
    _add(conn, rows, 1)
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    upsert = module.insert(tally_marks).values(name=_MARK, seq=top)
    conn.execute(upsert.on_conflict_do_update(index_elements=["name"], set_={"seq": top}))
    return top - mark


def untally(conn: Connection, where: list[Any]) -> None:
    """Take the tallied actions `where` keeps out of the tallies, before they are deleted. On
    PostgreSQL it waits for a fold under way (the tallies' lock), so neither misses the other."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(_LOCK, 0))))
    mark = _mark(conn)
    if mark:
        _add(conn, conn.execute(action_groups(conn.dialect.name, [actions.c.seq <= mark, *where])).all(), -1)


class TallySection(StoreSection):
    def tallied_actions(self, playbooks: list[str] | None = None) -> list[Any]:
        """The tallies (rows of `GROUPS` and `n`) of these playbooks (all when None), the actions
        logged since the last read folded in first."""
        with self._db.read() as conn:
            behind = (conn.execute(select(func.max(actions.c.seq))).scalar() or 0) > _mark(conn)
        if behind:
            with self._db.write(_LOCK) as conn:
                fold(conn)
        query = select(*[action_tallies.c[name] for name in GROUPS], action_tallies.c.n)
        if playbooks is not None:
            query = query.where(action_tallies.c.playbook.in_(playbooks))
        with self._db.read() as conn:
            return list(conn.execute(query))
