"""Admission: whether a fired trigger starts a journey, and the logged decision when it does not.

In order: the playbook must not be paused (`playbook pause`: a trigger of a paused playbook is
refused as `paused`, and stays refused after the resume); the audience must be true on the
snapshot at the entry time (unknown never admits);
no journey of the playbook may be active for the account; the re-entry rule must allow it
(`never`: the account never entered; `after D`: D since the last entry; default: the previous
journey ended, which the active check covers).

Every refusal is logged once as a `decided` action (`what`: `paused`, `not_admitted`,
`already_active`, `reentry_blocked`) under a key made of the playbook, the account and the trigger's origin (a
change's sequence number or a time trigger's instant), so routing the same input twice logs
nothing new. A trigger whose journey already entered at this very entry time (the same input
routed again) yields nothing at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from dsl import ir
from dsl.ir_text import describe_duration
from engine import decision_text
from engine.records import ActionRecord, Decision, Snapshot, StartJourney
from engine.semantics import calendar
from engine.semantics.evaluator import evaluate_with_reads, truthy, why_not

if TYPE_CHECKING:
    from engine.store.reads import RoutingReads

__all__ = ["Admission", "Admitted", "decision_action"]


def decision_action(decision: Decision, key: str, **extra: Any) -> ActionRecord:
    """A decision as a line of the action log (kind `decided`)."""
    data = decision.logged()
    data.update(extra)
    return ActionRecord(at=decision.at, account=decision.account, playbook=decision.playbook, kind="decided",
                        data=data, key=key)


class Admitted:
    """The outcome of one admission: a start, a logged refusal, or nothing (already handled)."""

    def __init__(self, start: StartJourney | None = None, decision: ActionRecord | None = None,
                 logged: bool = False) -> None:
        self.start = start
        self.decision = decision
        self.logged = logged  # the decision was written now (not by an earlier routing)


class Admission:
    def __init__(self, store: RoutingReads, bundle: ir.Bundle) -> None:
        self.store = store
        self.bundle = bundle

    def admit(
        self,
        playbook: ir.Playbook,
        snap: Snapshot,
        *,
        reason: str,
        origin: str,
        event: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Admitted:
        """Decide on a trigger of `playbook` that fired at `snap.at` (the entry time)."""
        account, entry_at = snap.account, snap.at

        def refuse(what: str, reads: dict[str, Any], **fields: Any) -> Admitted:
            decision = decision_text.decided(
                Decision(at=entry_at, account=account, playbook=playbook.id, what=what, reads=reads, **fields),
                trigger=reason)
            action = decision_action(decision, f"decided/{playbook.id}/{account}/{origin}", trigger=reason)
            return Admitted(decision=action, logged=self.store.log_action(action))

        if playbook.id in self.store.paused_playbooks():
            return refuse("paused", {}, outcome="paused")
        if playbook.audience is not None:
            context: dict[str, Any] = {"event_data": data, "bundle_scores": self.bundle.scores}
            value, reads = evaluate_with_reads(playbook.audience, snap, **context)
            if not truthy(value):
                return refuse("not_admitted", reads, outcome="audience",
                              reason=why_not(playbook.audience, snap, **context))

        last = self.store.last_entry(playbook.id, account)
        if last is not None and last == entry_at:
            return Admitted()  # this very trigger already started its journey
        active = self.store.active_journey(playbook.id, account)
        if active is not None:
            return refuse("already_active", {"entered_at": active.entered_at.isoformat()}, outcome="active")
        blocked = self._reentry_blocked(playbook, last, entry_at, snap.timezone)
        if blocked is not None:
            assert last is not None
            return refuse("reentry_blocked", {"last_entry": last.isoformat()}, **blocked)
        start = StartJourney(playbook=playbook.id, account=account, entry_at=entry_at, reason=reason,
                             event=event, data=dict(data or {}))
        return Admitted(start=start)

    @staticmethod
    def _reentry_blocked(playbook: ir.Playbook, last: datetime | None, at: datetime,
                         tz: str) -> dict[str, Any] | None:
        """The decision's fields when the re-entry rule refuses an entry at `at`; None when it allows it."""
        rule = playbook.reentry
        if last is None:
            return None
        if rule.mode == "never":
            return {"outcome": "never", "subject": "never"}
        if rule.mode == "after" and rule.after is not None:
            allowed = calendar.add_duration(last, rule.after, tz)
            if at < allowed:
                return {"outcome": "after", "subject": f"after {describe_duration(rule.after)}", "until": allowed}
        return None
