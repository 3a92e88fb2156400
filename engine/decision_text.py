"""A decision as one sentence: the `detail` of a `decided` action, rendered here and only here.

A decision is structured data (`engine.records.Decision`: `what`, `path`, `outcome`, `block`,
`subject`, `until`, `reason`, `reads`); whoever logs one asks this module for its sentence, and
programs (`why`, `stats`, `backtest`) read the fields, never the sentence. A few sentences quote
a fact that is no field of the decision (the trigger horizon, a wait's timeout): the writer hands
it over here as a keyword.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from engine.records import Decision
from engine.semantics.time_rules import describe_lateness
from engine.semantics.values import quote_value

__all__ = ["backfill_detail", "decided", "detail", "failure_text", "reentry_rule"]


_WINDOW_CLOSED = {"closed": "outside the send window's hours", "weekend": "a weekend day",
                  "holiday": "a holiday of the account"}


def decided(decision: Decision, **facts: Any) -> Decision:
    """`decision` with its sentence (`detail`)."""
    return decision.model_copy(update={"detail": detail(decision, **facts)})


def detail(decision: Decision, *, trigger: str = "", horizon: timedelta | None = None, within: str = "",
           behind: str = "", ended_at: datetime | None = None) -> str:
    """The sentence of a decision (the facts it quotes that are no field of it as keywords)."""
    d = decision
    subject, outcome = d.subject or "", d.outcome or ""
    if d.what == "assigned":
        return f"{subject}: assigned to {outcome}"
    if d.what == "branch":
        ran = {"then": "ran", "none": "neither branch ran"}.get(d.block or "", "skipped")
        return f"{subject}: {outcome} ({ran})"
    if d.what == "split":
        return subject
    if d.what == "quiet_hours":
        if outcome == "behind_held":
            return f"send email {subject}: waits behind the journey's held email ({behind})"
        return (f"send email {subject}: quiet hours in {d.reads.get('timezone')}, waits until "
                f"{_iso(d.until)}; the journey goes on")
    if d.what == "send_window":
        closed = _WINDOW_CLOSED.get(outcome, "outside the send window")
        return (f"send email {subject}: {closed} ({d.reads.get('window', 'the send window')}, "
                f"{d.reads.get('timezone')}), waits until {_iso(d.until)}; the journey goes on")
    if d.what == "send_dropped":
        why = f"the journey ended ({d.reason}) at {_iso(ended_at)}" if ended_at is not None else "the journey ended"
        return f"send email {subject}: held until {_iso(d.until)}; {why} before it could go"
    if d.what == "late":
        planned = str(d.reads.get("planned"))
        if outcome == "after_previous":
            return f"{d.path}: runs at {d.at.isoformat()}, after the statements before it (written for {planned})"
        reached = str(d.reads.get("reached"))
        return f"{d.path}: runs {_lateness(reached, planned)} late, at {reached} (planned {planned})"
    if d.what == "step_skipped":
        if outcome == "missing":
            return f"{d.path}: {subject} is missing"
        planned, reached = str(d.reads.get("planned")), str(d.reads.get("reached"))
        limit = describe_lateness(horizon) if horizon is not None else "?"
        return (f"{d.path}: its moment {planned} had passed by {_lateness(reached, planned)} when the journey "
                f"reached it (more than the trigger horizon, {limit})")
    if d.what == "wait_ended":
        if outcome == "task":
            return "task done"
        if outcome == "event":
            event, at = d.reads.get("event"), d.reads.get("at")
            if event and at and str(at) < d.at.isoformat():
                return f"event {event} had already arrived since entry, at {at}"
            return f"event {event} arrived" if event else "event arrived"
        if outcome == "condition":
            return f"{d.reads.get('condition')}: true at {d.at.isoformat()}"
        return f"no {subject} within {within}"
    if d.what == "send_skipped":
        return (f"send email {subject} to {d.reads.get('recipient')}: the same address as {d.reason} "
                f"({d.reads.get('to')}), sent once")
    if d.what == "set_skipped":
        return f"set {subject}: the value is unknown"
    if d.what == "not_admitted":
        return f"audience: {d.reason}"
    if d.what == "paused":
        return f"{trigger}: playbook {d.playbook} is paused: no new entries"
    if d.what == "intent_parked":
        return (f"{subject} parked after {d.reads.get('attempts')} refusal(s) by Temporal: {d.reason}; "
                f"retry or drop it: playbook intents retry|drop {d.reads.get('intent')}")
    if d.what == "playbook_not_loaded":
        if outcome == "not_started":
            return f"{subject}: not started: playbook {d.playbook} is no longer loaded"
        return (f"{subject}: playbook {d.playbook} is no longer loaded; told to its running journey, which "
                "keeps the version it entered with")
    if d.what == "already_active":
        if outcome == "running":
            return f"{trigger}: a journey is already running"
        return f"{trigger}: already in {d.playbook} since {d.reads.get('entered_at')}"
    if d.what == "reentry_blocked":
        return f"{trigger}: {reentry_rule(d)}"
    return d.reason or ""


def reentry_rule(decision: Decision) -> str:
    """The re-entry rule that refused an entry, with its moments: `reentry: never (entered …)`."""
    last = decision.reads.get("last_entry")
    if decision.outcome == "never":
        return f"reentry: never (entered {last})"
    return f"reentry: {decision.subject} (last entry {last}, allowed from {_iso(decision.until)})"


def failure_text(data: Mapping[str, Any]) -> str:
    """A `failed` action's reason in words: `hubspot.create_task failed after 3 attempts: ...`."""
    activity, attempts, error = data.get("activity"), data.get("attempts"), str(data.get("error", ""))
    if not activity:
        return error
    tries = f" after {attempts} attempt{'' if attempts == 1 else 's'}" if isinstance(attempts, int) else ""
    return f"{activity} failed{tries}: {error}"


def backfill_detail(at: datetime, received: datetime | None) -> str:
    """The sentence of a trigger that history (back-fill) would have fired."""
    arrived = received.isoformat() if received is not None else "?"
    return ("back-fill: history updates fields and scores but starts no journey and sends nothing "
            f"(dated {at.isoformat()}, arrived {arrived})")


def field_change_reason(trigger: str, field: str, before: Any, after: Any) -> str:
    """The reason of a journey a field-change trigger started: the trigger and the change it saw
    (an owner or a contact by its email)."""
    return f"{trigger} ({field} was {_field_value(before)}, now {_field_value(after)})"


def _field_value(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("email"), str):
        return quote_value(value["email"])
    return quote_value(value)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "?"


def _lateness(reached: str, planned: str) -> str:
    return describe_lateness(datetime.fromisoformat(reached) - datetime.fromisoformat(planned))
