"""The difference between two action logs of the same history: base and head versions.

**The same action.** Two actions are the same when they have the same account, playbook and
subject — an email's or in-app message's template (a suppressed email shares its email's
subject), a task's title, a plugin call's activity, a `set`'s field, a score's name, or the
journey event itself (`enrolled`; `completed`, `exited` and `goal_reached` share "how the
journey ended") — and happen at the same time. They are paired in three passes, each over what
the previous one left:

1. identical: same time, same kind, same content (recipient and subject, owner, due and
   priority, reason, value …): no difference;
2. same time, something else differs: `changed` (`suppressed` in base, `email` in head when a
   cap changed; another subject line; another due time);
3. the same subject within `match_within` (default 7 days) of each other: `moved`, nearest pairs
   first (a step moved from day 7 to day 10, an email that waited for quiet hours).

What is left is `added` (only in head) or `removed` (only in base). Counts per kind follow from
this: a `changed` or `moved` pair whose kinds differ removes one kind and adds the other, so a
raised cap counts as emails added and suppressions removed.

**Why it differs.** Each difference is explained by the decisions (`decided` actions) of the
same account and playbook that differ between the runs, up to the moment of the difference: the
latest of them, side by side ("true in head, false in base") with the values they read. A
difference in sending is explained by the suppression's reason; and when no decision differs,
by the playbook's own change (a step added, removed or moved) or, for an unchanged playbook, by
a knock-on effect of another playbook's change (a shared frequency cap, a field it sets).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from engine.records import STRUCTURED_FIELDS, ActionRecord

__all__ = [
    "COUNTED_KINDS",
    "DEFAULT_MATCH_WITHIN",
    "Comparison",
    "Counts",
    "Difference",
    "compare",
    "subject_of",
]

Change = Literal["added", "removed", "changed", "moved"]

DEFAULT_MATCH_WITHIN = timedelta(days=7)
COUNTED_KINDS: tuple[str, ...] = ("email", "task", "in_app")
COMPARED_KINDS = frozenset({"enrolled", "email", "in_app", "task", "suppressed", "call", "set", "score",
                            "goal_reached", "exited", "completed", "failed", "deferred"})
_ENDINGS = frozenset({"completed", "exited", "goal_reached"})
_IGNORED_DATA = frozenset({"version", "task"})  # a task id is made per journey run
SCORES = "(scores)"  # the playbook column of score actions, which belong to no playbook


def subject_of(action: ActionRecord) -> tuple[str, str]:
    """What an action is about, whatever its outcome (see the module's rule)."""
    data, kind = action.data, action.kind
    if kind in ("email", "in_app"):
        return (f"message:{kind}", str(data.get("template")))
    if kind == "suppressed":
        return (f"message:{data.get('channel') or 'email'}", str(data.get("template")))
    if kind == "deferred":  # a send the cap deferred: beside the send it delays
        return ("deferred", str(data.get("template")))
    if kind == "task":
        return ("task", str(data.get("title")))
    if kind == "call":
        return ("call", str(data.get("activity")))
    if kind == "set":
        return ("set", str(data.get("field")))
    if kind == "score":
        return ("score", str(data.get("score")))
    if kind in _ENDINGS:
        return ("journey", "end")
    return ("journey", kind)


def _content(action: ActionRecord) -> tuple[str, str]:
    data = {key: value for key, value in action.data.items() if key not in _IGNORED_DATA}
    return (action.kind, repr(sorted(data.items(), key=lambda item: item[0])))


def _playbook(action: ActionRecord) -> str:
    return action.playbook if action.playbook is not None else SCORES


@dataclass
class Difference:
    change: Change
    account: str
    playbook: str
    base: ActionRecord | None
    head: ActionRecord | None
    why: list[str] = field(default_factory=list)

    @property
    def at(self) -> datetime:
        times = [a.at for a in (self.base, self.head) if a is not None]
        return min(times)

    @property
    def label(self) -> str:
        """`email welcome`, `task "Onboarding rescue: TechCorp"`, `enrolled` …"""
        action = self.head or self.base
        assert action is not None
        group, name = subject_of(action)
        if group.startswith("message:"):
            return f"{group.removeprefix('message:')} {name}"
        if group == "task":
            return f'task "{name}"'
        if group == "journey":
            return "journey end" if name == "end" else name
        return f"{group} {name}"

    def outcome(self) -> str:
        """What happened, in a few words: `sent in head, suppressed in base: cap …`."""
        base, head = self.base, self.head
        if base is None and head is not None:
            return f"{_outcome(head)} in head only"
        if head is None and base is not None:
            return f"{_outcome(base)} in base only"
        assert base is not None and head is not None
        if self.change == "moved":
            return (f"{_outcome(head)} at {_when(head.at)} in head, {_outcome(base)} at {_when(base.at)} in base")
        return f"{_outcome(head)} in head, {_outcome(base)} in base"

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "account": self.account, "playbook": self.playbook,
                "at": self.at.isoformat(), "what": self.label, "outcome": self.outcome(),
                "base": None if self.base is None else self.base.to_contract(),
                "head": None if self.head is None else self.head.to_contract(), "why": self.why}


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _outcome(action: ActionRecord) -> str:
    data = action.data
    if action.kind == "email":
        return f"sent to {data.get('to')}" if data.get("to") else "sent"
    if action.kind == "in_app":
        return "shown"
    if action.kind == "suppressed":
        return f"suppressed ({data.get('reason')})"
    if action.kind == "task":
        due = data.get("due")
        return f"opened for {data.get('owner')}" + (f", due {str(due)[:16].replace('T', ' ')}" if due else "") + \
            (f", {data.get('priority')} priority" if data.get("priority") else "")
    if action.kind == "score":
        return f"{data.get('value')} {data.get('band') or '(unscored)'}"
    if action.kind == "set":
        return f"set to {data.get('value')!r}"
    if action.kind == "call":
        return "called"
    if action.kind in ("exited", "goal_reached"):
        return f"{action.kind} ({data.get('reason')})"
    if action.kind == "failed":
        return f"failed ({data.get('error')})"
    if action.kind == "deferred":
        return f"deferred until {str(data.get('until'))[:16].replace('T', ' ')} ({data.get('reason')})"
    return action.kind


@dataclass
class Counts:
    """Per playbook and kind: how many actions head adds and removes, and for how many accounts."""

    added: int = 0
    removed: int = 0
    changed: int = 0
    moved: int = 0
    added_accounts: set[str] = field(default_factory=set)
    removed_accounts: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, int]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed, "moved": self.moved,
                "added_accounts": len(self.added_accounts), "removed_accounts": len(self.removed_accounts)}


@dataclass
class Comparison:
    differences: list[Difference]
    counts: dict[str, dict[str, Counts]]  # playbook -> kind -> counts
    compared: tuple[int, int]  # how many actions of the compared kinds each run had (base, head)

    def accounts(self) -> dict[str, list[Difference]]:
        by_account: dict[str, list[Difference]] = defaultdict(list)
        for difference in self.differences:
            by_account[difference.account].append(difference)
        return dict(sorted(by_account.items()))

    def playbooks(self) -> list[str]:
        return sorted(self.counts)


# --------------------------------------------------------------------------- matching


def _pair(base: list[ActionRecord], head: list[ActionRecord],
          within: timedelta) -> tuple[list[tuple[Change, ActionRecord, ActionRecord]], list[ActionRecord],
                                      list[ActionRecord]]:
    """The pairs of one (account, playbook, subject) group, and what is left on each side."""
    pairs: list[tuple[Change, ActionRecord, ActionRecord]] = []
    left_base = list(base)
    left_head = list(head)

    def take(match: Any, change: Change | None) -> None:
        for b in list(left_base):
            for h in left_head:
                if match(b, h):
                    left_base.remove(b)
                    left_head.remove(h)
                    if change is not None:
                        pairs.append((change, b, h))
                    break

    take(lambda b, h: b.at == h.at and _content(b) == _content(h), None)
    take(lambda b, h: b.at == h.at, "changed")
    candidates = sorted(((abs(h.at - b.at), b.at, h.at, i, j) for i, b in enumerate(left_base)
                         for j, h in enumerate(left_head) if abs(h.at - b.at) <= within),
                        key=lambda c: c[:3])
    used_base: set[int] = set()
    used_head: set[int] = set()
    for _, _, _, i, j in candidates:
        if i in used_base or j in used_head:
            continue
        used_base.add(i)
        used_head.add(j)
        pairs.append(("moved", left_base[i], left_head[j]))
    rest_base = [b for i, b in enumerate(left_base) if i not in used_base]
    rest_head = [h for j, h in enumerate(left_head) if j not in used_head]
    return pairs, rest_base, rest_head


def _group(actions: list[ActionRecord]) -> dict[tuple[str, str, tuple[str, str]], list[ActionRecord]]:
    groups: dict[tuple[str, str, tuple[str, str]], list[ActionRecord]] = defaultdict(list)
    for action in actions:
        if action.kind in COMPARED_KINDS:
            groups[(action.account, _playbook(action), subject_of(action))].append(action)
    return groups


def _count(counts: dict[str, dict[str, Counts]], difference: Difference) -> None:
    kinds = counts[difference.playbook]
    base, head = difference.base, difference.head
    if base is not None and head is not None and base.kind == head.kind:
        entry = kinds.setdefault(head.kind, Counts())
        if difference.change == "moved":
            entry.moved += 1
        else:
            entry.changed += 1
        return
    if head is not None:
        entry = kinds.setdefault(head.kind, Counts())
        entry.added += 1
        entry.added_accounts.add(difference.account)
    if base is not None:
        entry = kinds.setdefault(base.kind, Counts())
        entry.removed += 1
        entry.removed_accounts.add(difference.account)


def compare(base: list[ActionRecord], head: list[ActionRecord], *, since: datetime | None = None,
            until: datetime | None = None, match_within: timedelta = DEFAULT_MATCH_WITHIN,
            changed_playbooks: set[str] | None = None,
            changed_triggers: dict[str, tuple[str, str]] | None = None) -> Comparison:
    """Pair the actions of two runs over the same history and explain what differs.

    Only actions from `since` to `until` (exclusive) are compared. `changed_playbooks` (the ids
    whose compiled version differs) and `changed_triggers` (the playbooks whose trigger differs:
    base and head as written) sharpen the explanations of differences no decision explains.
    """

    def inside(action: ActionRecord) -> bool:
        return (since is None or action.at >= since) and (until is None or action.at < until)

    base = [a for a in base if inside(a)]
    head = [a for a in head if inside(a)]
    base_groups, head_groups = _group(base), _group(head)
    differences: list[Difference] = []
    for key in sorted(set(base_groups) | set(head_groups)):
        account, playbook, _ = key
        pairs, removed, added = _pair(base_groups.get(key, []), head_groups.get(key, []), match_within)
        differences.extend(Difference(change, account, playbook, b, h) for change, b, h in pairs)
        differences.extend(Difference("removed", account, playbook, b, None) for b in removed)
        differences.extend(Difference("added", account, playbook, None, h) for h in added)
    differences.sort(key=lambda d: (d.account, d.at, d.playbook, d.label))
    counts: dict[str, dict[str, Counts]] = defaultdict(dict)
    for difference in differences:
        _count(counts, difference)
    explainer = _Explainer(base, head, changed_playbooks, changed_triggers or {})
    for difference in differences:
        difference.why = explainer.why(difference)
    compared = (sum(len(group) for group in base_groups.values()), sum(len(group) for group in head_groups.values()))
    return Comparison(differences=differences, counts=dict(counts), compared=compared)


# --------------------------------------------------------------------------- explaining

def _decision_key(action: ActionRecord) -> tuple[datetime, str, str]:
    """Where a decision was taken: its time, kind and the step path in its idempotency key."""
    what = str(action.data.get("what"))
    key = action.key or ""
    marker = f"/{what}/"
    path = ""
    if marker in key:
        head = key[: key.rindex(marker)]
        parts = head.split("/")
        # journey/<playbook>/<account>/<run>/<path...>: drop the run id, which differs per replay
        path = "/".join(parts[4:]) if len(parts) > 4 else ""
    return (action.at, what, path)


def _decision_content(action: ActionRecord) -> tuple[str, str]:
    """What a decision decided: its structured fields (or, logged without them, its sentence)."""
    data = action.data
    decided = [(name, data.get(name)) for name in STRUCTURED_FIELDS] if "outcome" in data else data.get("detail")
    return (repr(decided), repr(sorted((data.get("reads") or {}).items())))


def _reads(action: ActionRecord) -> str:
    reads = action.data.get("reads") or {}
    if not isinstance(reads, dict) or not reads:
        return ""
    return " (" + ", ".join(f"{name} = {_value(value)}" for name, value in sorted(reads.items())) + ")"


def _value(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if not isinstance(value, str) else repr(value)


def _describe_pair(base: ActionRecord | None, head: ActionRecord | None) -> str:
    one = head or base
    assert one is not None
    what = str(one.data.get("what"))
    if base is not None and head is not None:
        b, h = base.data, head.data
        if what == "branch" and "outcome" in b and "outcome" in h:
            if b.get("subject") == h.get("subject"):
                reads = _reads(head) if _reads(head) == _reads(base) else \
                    f"; head read{_reads(head) or ' nothing'}, base read{_reads(base) or ' nothing'}"
                return f"branch `{h.get('subject')}`: {h['outcome']} in head, {b['outcome']} in base{reads}"
            return (f"branch `{h.get('subject')}` in head is {h['outcome']}{_reads(head)}; "
                    f"`{b.get('subject')}` in base is {b['outcome']}{_reads(base)}")
        return (f"{what}: head {head.data.get('detail')}{_reads(head)}; "
                f"base {base.data.get('detail')}{_reads(base)}")
    side = "head" if head is not None else "base"
    other = "base" if head is not None else "head"
    return f"{what} in {side} only: {one.data.get('detail')}{_reads(one)} (no such decision in {other})"


class _Explainer:
    def __init__(self, base: list[ActionRecord], head: list[ActionRecord], changed: set[str] | None,
                 triggers: dict[str, tuple[str, str]]) -> None:
        self.changed = changed
        self.triggers = triggers
        self.diverging: dict[tuple[str, str], list[tuple[datetime, ActionRecord | None, ActionRecord | None]]] = {}
        decisions: dict[tuple[str, str], tuple[list[ActionRecord], list[ActionRecord]]] = defaultdict(
            lambda: ([], []))
        for side, actions in enumerate((base, head)):
            for action in actions:
                if action.kind == "decided":
                    decisions[(action.account, _playbook(action))][side].append(action)
        for scope, (in_base, in_head) in decisions.items():
            by_base = {_decision_key(a): a for a in in_base}
            by_head = {_decision_key(a): a for a in in_head}
            found: list[tuple[datetime, ActionRecord | None, ActionRecord | None]] = []
            for key in sorted(set(by_base) | set(by_head)):
                b, h = by_base.get(key), by_head.get(key)
                if b is not None and h is not None and _decision_content(b) == _decision_content(h):
                    continue
                found.append((key[0], b, h))
            if found:
                self.diverging[scope] = found

    def why(self, difference: Difference) -> list[str]:
        reasons: list[str] = []
        for action, side in ((difference.base, "base"), (difference.head, "head")):
            if action is not None and action.kind == "suppressed":
                reasons.append(f"suppressed in {side}: {action.data.get('reason')}")
        moment = max(a.at for a in (difference.base, difference.head) if a is not None)
        earlier = [entry for entry in self.diverging.get((difference.account, difference.playbook), [])
                   if entry[0] <= moment]
        if earlier:
            latest = earlier[-1][0]
            reasons.extend(_describe_pair(b, h) for at, b, h in earlier if at == latest)
        if reasons:
            return reasons
        if difference.playbook in self.triggers:
            before, after = self.triggers[difference.playbook]
            return [f"no decision differs: the trigger of {difference.playbook} changed from `{before}` to `{after}`"]
        if self.changed is not None and difference.playbook in self.changed:
            return [f"no decision differs: the steps of {difference.playbook} changed"]
        if difference.playbook == SCORES:
            return ["the account's fields or the score definitions differ between the runs"]
        return ["no decision of this playbook differs: a knock-on effect of another playbook's change "
                "(a shared frequency cap, a field it sets, a task it opens)"]
