"""The action log as the readers show it: the contract's JSON lines (docs/events-and-actions.md,
"Actions out"), ordered by time, filtered by account, playbook, moment and kind.

`last` keeps only the newest lines (still oldest first): an account's recent actions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.store import Store

__all__ = ["action_log"]


def action_log(store: Store, *, account: str | None = None, playbook: str | None = None,
               since: datetime | None = None, kind: str | None = None,
               last: int | None = None) -> list[dict[str, Any]]:
    """The logged actions, oldest first; `since` includes its own instant; `last`: the newest N only."""
    actions = [action for action in store.actions(account=account, playbook=playbook, since=since)
               if kind in (None, action.kind)]
    if last is not None:
        actions = actions[-last:] if last > 0 else []
    return [action.to_contract() for action in actions]
