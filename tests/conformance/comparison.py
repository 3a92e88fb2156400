"""What must be the same live and simulated: every action, compared on what the rules decide.

An action is compared on its moment, account, playbook, kind and its data, less what depends on
the run rather than on the rules: the real moment a late effect ran (`sent_at`), ids made of a
run id (a task's id), the values a decision read and its sentence (which may quote the real
moment), and the store's own counters.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from engine.records import ActionRecord

__all__ = ["differences", "shape"]

RUN_KEYS = frozenset({"sent_at", "task", "reads", "detail", "through_seq"})


def shape(action: ActionRecord) -> str:
    data: dict[str, Any] = {key: value for key, value in action.data.items() if key not in RUN_KEYS}
    return json.dumps({"at": action.at.isoformat(), "account": action.account, "playbook": action.playbook,
                       "kind": action.kind, **data}, sort_keys=True, default=str)


def differences(live: list[ActionRecord], simulated: list[ActionRecord]) -> list[str]:
    """Lines `only live: …` / `only simulated: …`, in time order; empty when they agree."""
    have, want = Counter(shape(a) for a in live), Counter(shape(a) for a in simulated)
    found = [(line, "only live") for line in (have - want).elements()]
    found += [(line, "only simulated") for line in (want - have).elements()]
    return [f"{side}: {line}" for line, side in sorted(found)]
