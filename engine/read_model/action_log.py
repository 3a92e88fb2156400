"""The action log as the readers show it: the contract's JSON lines (docs/events-and-actions.md,
"Actions out"), ordered by time, filtered by account, playbook, moment and kind.

`last` keeps only the newest lines (still oldest first): an account's recent actions. An action
taken inside an arm of an A/B split carries that arm's label (`arm`), as the split's decision in
the same journey named it. `action_log_page` reads the same lines a page at a time, by cursor
(keyset on the time and the order of logging, on the `(account, at)`, `(playbook, at)` or `(at)` index).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from engine.read_model.cursors import BadQuery, check_limit, decode_cursor, encode_cursor
from engine.records import ActionRecord
from engine.store import Store
from engine.store.schema import actions as action_table
from engine.store.types import to_utc

__all__ = ["action_log", "action_log_page"]

_ARM = re.compile(r"/arm\d+(?=/)")


def action_log(store: Store, *, account: str | None = None, playbook: str | None = None,
               since: datetime | None = None, kind: str | None = None,
               last: int | None = None) -> list[dict[str, Any]]:
    """The logged actions, oldest first; `since` includes its own instant; `last`: the newest N only."""
    actions = [action for action in store.actions(account=account, playbook=playbook, since=since)
               if kind in (None, action.kind)]
    if last is not None:
        actions = actions[-last:] if last > 0 else []
    labels = _arm_labels(store, actions)
    lines = [action.to_contract() for action in actions]
    for action, line in zip(actions, lines, strict=True):
        if (arm := _arm_of(action.key, labels)) is not None and "arm" not in line:
            line["arm"] = arm
    return lines


def action_log_page(store: Store, *, account: str | None = None, playbook: str | None = None,
                    since: datetime | None = None, kind: str | None = None, cursor: str | None = None,
                    limit: int | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of `action_log`'s lines, oldest first, and the cursor of the next page (None: the last)."""
    size = check_limit(limit)
    t = action_table.c
    query = select(action_table)
    if account is not None:
        query = query.where(t.account == account)
    if playbook is not None:
        query = query.where(t.playbook == playbook)
    if since is not None:
        query = query.where(t.at >= to_utc(since))
    if kind is not None:
        query = query.where(t.kind == kind)
    if cursor is not None:
        raw_at, after = decode_cursor(cursor, "log", (str, int))
        try:
            moment = to_utc(datetime.fromisoformat(raw_at))
        except ValueError:
            raise BadQuery("cursor: not a cursor this API handed out (pass next_cursor back as it came)") from None
        query = query.where(t.at >= moment, or_(t.at > moment, t.seq > after))
    with store.database.read() as conn:
        rows = list(conn.execute(query.order_by(t.at, t.seq).limit(size + 1)))
    shown = rows[:size]
    found = [ActionRecord(at=row.at, account=row.account, playbook=row.playbook, kind=row.kind, data=dict(row.data),
                          key=row.key) for row in shown]
    labels = _arm_labels(store, found)
    lines = [action.to_contract() for action in found]
    for action, line in zip(found, lines, strict=True):
        if (arm := _arm_of(action.key, labels)) is not None and "arm" not in line:
            line["arm"] = arm
    next_cursor = encode_cursor("log", [to_utc(shown[-1].at).isoformat(), shown[-1].seq]) if len(rows) > size else None
    return lines, next_cursor


def _arm_labels(store: Store, actions: list[ActionRecord]) -> dict[str, str]:
    """The label of each split decision behind the actions that sit inside an arm, by the
    decision's `<journey run>/<split path>`: from the actions at hand, and the log of an account
    only where a decision is not among them (a filter left it out)."""
    labels = _split_labels(actions)
    missing = {action.account for action in actions
               if action.key and "/arm" in action.key and _arm_of(action.key, labels) is None}
    for account in sorted(missing):
        labels.update(_split_labels(store.actions(account=account)))
    return labels


def _split_labels(actions: list[ActionRecord]) -> dict[str, str]:
    return {decision.key.rsplit("/", 2)[0]: str(decision.data.get("outcome")) for decision in actions
            if decision.kind == "decided" and decision.data.get("what") == "split" and decision.key}


def _arm_of(key: str | None, labels: dict[str, str]) -> str | None:
    """The innermost arm a key's path runs in: `…/entry/0/arm2/1` is in the arm of `…/entry/0`."""
    found: str | None = None
    for match in _ARM.finditer(key or ""):
        found = labels.get((key or "")[:match.start()], found)
    return found
