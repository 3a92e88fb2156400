"""What must be the same live and simulated: every action, compared on what the rules decide.

An action is compared on its moment, account, playbook, kind and its data, less what depends on
the run rather than on the rules: the real moment a late effect ran (`sent_at`), ids made of a
run id (a task's or a draft's id), the values a decision read and its sentence (which may quote the real
moment), and the store's own counters.

One race is the rules' own: journeys of one account sending at the same moment compete for the
last slot of the frequency cap, and which of them gets it is not a rule (the store lets exactly
one through). At such a moment the sends and cap suppressions are compared as counts, and the
journeys involved as a set. Another: journeys of one account opening a work item deduped by
type and reason at the same moment compete to open it, and which of them opens it (the others
update it) is not a rule (the store keeps exactly one open): there the `task` and `task_updated`
actions are compared on their type and reason only.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from engine.records import ActionRecord

__all__ = ["differences", "shape"]

RUN_KEYS = frozenset({"sent_at", "task", "draft", "reads", "detail", "through_seq"})


def _capped(action: ActionRecord) -> bool:
    return action.kind == "suppressed" and str(action.data.get("reason", "")).startswith("frequency cap")


def _races(*logs: list[ActionRecord]) -> set[tuple[str, Any]]:
    """(account, moment) where a send lost the cap's last slot, in either log."""
    return {(a.account, a.at) for log in logs for a in log if _capped(a)}


_ITEM_KINDS = frozenset({"task", "task_updated"})


def _item(action: ActionRecord) -> tuple[str, Any, Any, Any]:
    return action.account, action.at, action.data.get("type"), action.data.get("reason")


def _item_races(*logs: list[ActionRecord]) -> set[tuple[str, Any, Any, Any]]:
    """(account, moment, type, reason) where a deduped work item was opened and updated at once."""
    updated = {_item(a) for log in logs for a in log if a.kind == "task_updated"}
    return {_item(a) for log in logs for a in log if a.kind == "task" and _item(a) in updated}


def shape(action: ActionRecord, races: set[tuple[str, Any]] | None = None,
          item_races: set[tuple[str, Any, Any, Any]] | None = None) -> str:
    if races and (action.account, action.at) in races and (action.kind == "email" or _capped(action)):
        return json.dumps({"at": action.at.isoformat(), "account": action.account, "kind": action.kind,
                           "race": "which journey got the cap's last slot"}, sort_keys=True)
    if item_races and action.kind in _ITEM_KINDS and _item(action) in item_races:
        return json.dumps({"at": action.at.isoformat(), "account": action.account, "kind": action.kind,
                           "type": action.data.get("type"), "reason": action.data.get("reason"),
                           "race": "which journey opened the deduped work item"}, sort_keys=True)
    data: dict[str, Any] = {key: value for key, value in action.data.items() if key not in RUN_KEYS}
    return json.dumps({"at": action.at.isoformat(), "account": action.account, "playbook": action.playbook,
                       "kind": action.kind, **data}, sort_keys=True, default=str)


def _racers(log: list[ActionRecord], races: set[tuple[str, Any]]) -> Counter[str]:
    return Counter(json.dumps([a.at.isoformat(), a.account, a.playbook]) for a in log
                   if (a.account, a.at) in races and (a.kind == "email" or _capped(a)))


def differences(live: list[ActionRecord], simulated: list[ActionRecord]) -> list[str]:
    """Lines `only live: …` / `only simulated: …`, in time order; empty when they agree."""
    races, items = _races(live, simulated), _item_races(live, simulated)
    have, want = Counter(shape(a, races, items) for a in live), Counter(shape(a, races, items) for a in simulated)
    have.update(f"journeys in a cap race: {key}" for key in _racers(live, races).elements())
    want.update(f"journeys in a cap race: {key}" for key in _racers(simulated, races).elements())
    found = [(line, "only live") for line in (have - want).elements()]
    found += [(line, "only simulated") for line in (want - have).elements()]
    return [f"{side}: {line}" for line, side in sorted(found)]
