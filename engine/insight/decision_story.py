"""How `why` tells a decision: one line of the story per `decided` action, from its fields.

A decision is told from its structured fields (`outcome`, `block`, `subject`, `until`, `reason`,
`reads`): which block of an `if` ran, which arm a split chose, how a wait ended, until when quiet
hours held an email. Its sentence (`detail`) is quoted where it only explains (a late step, a
dropped email), never read for what happened. A decision logged by an older release, without
those fields, is shown with its sentence as it was logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dsl import ir
from engine.decision_text import detail, reentry_rule
from engine.insight.analytics import describe_statement
from engine.insight.story_values import read_values, shown_time
from engine.records import STRUCTURED_FIELDS, ActionRecord, Decision
from engine.semantics.time_rules import describe_lateness

__all__ = ["DecisionTeller", "decision_of", "waits_until"]

# The kinds told from their structured fields alone (the others quote their sentence).
_STRUCTURED_KINDS = frozenset({"branch", "split", "quiet_hours", "send_window", "wait_ended", "not_admitted",
                               "reentry_blocked"})
_WINDOW_CLOSED = {"closed": "outside its hours", "weekend": "a weekend day", "holiday": "a holiday of the account"}
_BLOCK_RESULT = {"then": "so its block ran", "else": "so its else block ran",
                 "none": "so neither its block nor its else block ran", "skipped": "so its block was skipped"}


def decision_of(action: ActionRecord) -> Decision | None:
    """The structured decision of a `decided` action; None for one logged without the fields."""
    data = action.data
    if action.kind != "decided" or "outcome" not in data:
        return None
    fields = {name: data[name] for name in STRUCTURED_FIELDS if data.get(name) is not None}
    return Decision(at=action.at, account=action.account, playbook=action.playbook, what=str(data.get("what")),
                    detail=str(data.get("detail") or ""), reads=dict(data.get("reads") or {}), **fields)


def waits_until(action: ActionRecord) -> datetime | None:
    """When an email held for quiet hours or the send window goes, for a decision that says so."""
    decision = decision_of(action)
    return decision.until if decision is not None and decision.what in ("quiet_hours", "send_window") else None


@dataclass
class DecisionTeller:
    bundle: ir.Bundle
    tz: str

    def with_reads(self, text: str, reads: dict[str, Any]) -> str:
        return f"{text} (read {read_values(reads, self.bundle.model)})" if reads else text

    def tell(self, action: ActionRecord, what: str, statement: ir.Statement | None, where: str) -> str:
        """The story's sentence of a `decided` action (`where`: its step, `day 7: `)."""
        data = action.data
        pb = action.playbook or ""
        detail = str(data.get("detail") or "")
        reads = dict(data.get("reads") or {})
        trigger = str(data.get("trigger") or "its trigger")
        decision = decision_of(action)
        if what == "already_active":
            since = reads.get("entered_at")
            when = f" (since {shown_time(datetime.fromisoformat(since), self.tz)})" if isinstance(since, str) else ""
            return f"{trigger} fired for {pb} again, but the account was already in it{when}: nothing new started."
        if what == "backfill":
            return self.backfill(data, trigger)
        if decision is None:
            if what in _STRUCTURED_KINDS:  # logged by an older release: its sentence as it is
                return self.with_reads(f"{where}{what}: {detail}", reads) + "."
        elif what in _STRUCTURED_KINDS:
            return self.structured(decision, statement, where, trigger)
        if what == "late" and decision is not None:
            return self.late(decision, where)
        if what in ("late", "send_dropped"):
            return f"{where}{detail}."
        if what == "step_skipped":
            return self.with_reads(f"step {detail}, so it was skipped", reads) + "."
        if what == "set_skipped":
            return self.with_reads(f"{where}{detail}, so nothing was set", reads) + "."
        return self.with_reads(f"{where}{what}: {detail}", reads) + "."

    def late(self, d: Decision, where: str) -> str:
        """A step run late: when it was due and when it ran, in the account's time."""
        planned, reached = _moment(d.reads.get("planned")), _moment(d.reads.get("reached"))
        if planned is None:
            return f"{where}ran late."
        due = shown_time(planned, self.tz)
        if d.outcome == "after_previous":
            return f"{where}ran after the statements before it: written for {due}, ran at {shown_time(d.at, self.tz)}."
        if reached is None:
            return f"{where}ran late (due {due})."
        ran = shown_time(reached, self.tz)
        return f"{where}ran {describe_lateness(reached - planned)} late: due {due}, ran at {ran}."

    def structured(self, decision: Decision, statement: ir.Statement | None, where: str, trigger: str) -> str:
        d, pb = decision, decision.playbook or ""
        if d.what == "not_admitted":
            return self.with_reads(f"not admitted to {pb} on {trigger}: the audience was not met, {d.reason}",
                                   d.reads) + "."
        if d.what == "reentry_blocked":
            return f"not admitted to {pb} again on {trigger}: {reentry_rule(d)}."
        if d.what == "branch":
            shown = "unknown (a value it reads is missing)" if d.outcome == "unknown" else d.outcome
            result = _BLOCK_RESULT.get(d.block or "", "so its block was skipped")
            return self.with_reads(f"{where}`{d.subject}` was {shown}, {result}", d.reads) + "."
        if d.what == "split":
            return f"{where}the split put the account in {d.subject}."
        if d.what == "quiet_hours":
            label = describe_statement(statement) if statement is not None else f"send email {d.subject}"
            end = shown_time(d.until, self.tz) if d.until is not None else "their end"
            return f"{where}{label} was due in quiet hours ({self.tz}): it waited until {end}."
        if d.what == "send_window":
            label = describe_statement(statement) if statement is not None else f"send email {d.subject}"
            end = shown_time(d.until, self.tz) if d.until is not None else "its opening"
            closed = _WINDOW_CLOSED.get(d.outcome or "", "outside its hours")
            return (f"{where}{label} was due outside the send window ({d.reads.get('window', 'the send window')}: "
                    f"{closed}): it waited until {end}.")
        label = f"`{describe_statement(statement)}`" if statement is not None else "the wait"  # wait_ended
        if d.outcome == "event":
            return f"{where}{label} ended: {detail(d) if d.reads.get('event') else 'the event arrived'}."
        if d.outcome == "condition":
            return f"{where}{label} ended: {detail(d)}."
        if d.outcome == "task":
            return f"{where}{label} ended: the task was done."
        return f"{where}{label} ran out of time: {d.detail}."

    def backfill(self, data: dict[str, Any], trigger: str) -> str:
        count = int(data.get("count") or 1)
        first, last = data.get("first_at"), data.get("last_at")
        span = ""
        if isinstance(first, str) and isinstance(last, str):
            span = f", dated {shown_time(datetime.fromisoformat(first), self.tz)}" + (
                f" to {shown_time(datetime.fromisoformat(last), self.tz)}" if last != first else "")
        times = "" if count == 1 else f" ({count} times)"
        return (f"not started on {trigger}{times}: the input arrived as history (back-fill: older than the "
                f"trigger horizon when it arrived, or sent as back-fill){span}. History updates fields and "
                "scores but starts no journey and sends nothing.")


def _moment(value: Any) -> datetime | None:
    """An ISO moment read back from a decision's values (None when it is not one)."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
