"""An account's timeline: one stream of what happened to it, newest first, a page at a time.

Four sources merged by time: the account's events (and field updates), its score recordings, its
action log, which holds the messages sent or suppressed, the work items opened, snoozed,
reassigned and closed, the journeys' decisions and their other effects, and the notes CSMs wrote.
Each item has a `kind`:

- `event`: an event or a field update the account sent (`what`: the event's name, or `update`);
- `score`: a score recorded (`what`: the score's name), from the score history, which holds every
  recording (the action log's `score` lines, which repeat some of them, are left out);
- `message`: an email or in-app message sent, held, suppressed or deferred, opened or clicked; an
  email drafted for review and what became of the draft;
- `work_item`: a work item opened (or found open and updated), snoozed, reassigned, overdue,
  escalated or completed (the `task_completed` event that closed it), a success plan's steps;
- `decision`: a journey's decision, entry or ending (`text`: the decision in words);
- `note`: what a CSM wrote about the account (`data`: `text`, `author`);
- `action`: any other effect (a field set, a score updated, a plugin called, a failure).

This is the one reader of an account's timeline: the API (`GET /v1/accounts/{id}/timeline`) and the
dashboard's account page read it, the page telling each item in the words of `playbook why`
(`engine.insight.story.action_lines`).

Each source is read by keyset on its `(account, at)` index, newest first, `limit + 1` rows at most,
so a page costs the same however long the account's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, exists, or_, select

from engine.read_model.cursors import BadQuery, check_limit, decode_cursor, encode_cursor
from engine.store import Store
from engine.store.schema import account_cards, account_notes, accounts, actions, events, score_history
from engine.store.types import to_utc

__all__ = ["DONE_EVENT", "KINDS", "TimelineItem", "TimelinePage", "account_exists", "account_timeline", "timeline_kind"]

Kind = Literal["event", "score", "message", "work_item", "decision", "note", "action"]
KINDS: tuple[Kind, ...] = ("event", "score", "message", "work_item", "decision", "note", "action")
_ACTION_KINDS: dict[str, tuple[str, ...]] = {
    "message": ("email", "in_app", "held", "suppressed", "deferred", "email_opened", "email_clicked",
                "email_drafted", "draft_approved", "draft_edited", "draft_discarded", "draft_dropped",
                "draft_withdrawn"),
    "work_item": ("task", "task_updated", "task_done", "task_snoozed", "task_reassigned", "task_overdue",
                  "task_escalated", "plan_started", "plan_status_changed", "plan_ended", "milestone_reached",
                  "milestone_late"),
    "decision": ("decided", "enrolled", "goal_reached", "exited", "completed"),
}
_REPEATED = "score"  # the action log's score lines: the score history holds each of them
DONE_EVENT = "task_completed"  # the event that closes a work item: a `work_item` of the timeline
_SOURCES = ("event", "score", "action", "note")  # their rank breaks ties of time


Source = Literal["event", "score", "action", "note"]


class TimelineItem(BaseModel):
    at: datetime
    kind: Kind
    source: Source  # where it was read: the events, the score history, the action log or the notes
    what: str  # the event's name, the score's name, the action's kind
    playbook: str | None = None
    text: str | None = None  # a decision in words
    key: str | None = None  # an action's key (the journey, run and statement it came from), an event's id
    data: dict[str, Any]


class TimelinePage(BaseModel):
    items: list[TimelineItem]
    next_cursor: str | None


def timeline_kind(action_kind: str) -> Kind:
    """The timeline's kind of a logged action's kind."""
    for kind, members in _ACTION_KINDS.items():
        if action_kind in members:
            return kind  # type: ignore[return-value]
    return "action"


def _event_scope(query: Select[Any], wanted: set[str]) -> Select[Any]:
    """The events of the kinds wanted: `task_completed` is a work item's, the others are events."""
    if "event" not in wanted:
        return query.where(events.c.name == DONE_EVENT)
    if "work_item" not in wanted:
        return query.where(or_(events.c.name.is_(None), events.c.name != DONE_EVENT))
    return query


def account_exists(store: Store, account: str) -> bool:
    """The store has the account's fields, or actions of it (an erased account may keep some): two index lookups."""
    query = select(or_(exists().where(accounts.c.id == account), exists().where(account_cards.c.account == account),
                       exists().where(actions.c.account == account)))
    with store.database.read() as conn:
        return bool(conn.execute(query).scalar())


def _kinds(raw: str | None) -> set[str]:
    if raw is None or not raw.strip():
        return set(KINDS)
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(wanted - set(KINDS))
    if unknown:
        raise BadQuery(f"kind: {unknown[0][:40]!r} is not a kind of the timeline ({', '.join(KINDS)})")
    return wanted


def _after(query: Select[Any], at: Any, tiebreak: Any, rank: int, cursor: tuple[datetime, int, int] | None) -> Any:
    """Only the rows after the cursor in the order (at, source, id), newest first."""
    if cursor is None:
        return query
    moment, source, last = cursor
    if rank < source:
        return query.where(at <= moment)
    if rank > source:
        return query.where(at < moment)
    return query.where(at <= moment, or_(at < moment, tiebreak < last))


def account_timeline(store: Store, account: str, *, kind: str | None = None, cursor: str | None = None,
                     limit: int | None = None) -> TimelinePage:
    """A page of the account's timeline, newest first; `BadQuery` for a bad kind, limit or cursor."""
    wanted = _kinds(kind)
    size = check_limit(limit)
    position: tuple[datetime, int, int] | None = None
    if cursor is not None:
        raw_at, source, last = decode_cursor(cursor, "timeline", (str, int, int))
        try:
            moment = to_utc(datetime.fromisoformat(raw_at))
        except ValueError:
            raise BadQuery("cursor: not a cursor this API handed out (pass next_cursor back as it came)") from None
        if source not in range(len(_SOURCES)):
            raise BadQuery("cursor: not a cursor this API handed out (pass next_cursor back as it came)")
        position = (moment, source, last)
    found: list[tuple[datetime, int, int, TimelineItem]] = []
    with store.database.read() as conn:
        if wanted & {"event", "work_item"}:
            query = _after(_event_scope(select(events).where(events.c.account == account), wanted), events.c.at,
                           events.c.seq, 0, position)
            for row in conn.execute(query.order_by(events.c.at.desc(), events.c.seq.desc()).limit(size + 1)):
                data = {"data": dict(row.data), "fields": dict(row.traits), "source": row.source}
                found.append((row.at, 0, row.seq, TimelineItem(
                    at=row.at, kind="work_item" if row.name == DONE_EVENT else "event", source="event",
                    what=row.name or "update", key=row.id, data=data)))
        if "score" in wanted:
            s = score_history.c
            query = _after(select(score_history).where(s.account == account), s.at, s.id, 1, position)
            for row in conn.execute(query.order_by(s.at.desc(), s.id.desc()).limit(size + 1)):
                data = {"value": row.value, "band": row.band, "breakdown": dict(row.breakdown),
                        "missing": list(row.missing)}
                found.append((row.at, 1, row.id, TimelineItem(at=row.at, kind="score", source="score",
                                                               what=row.score, data=data)))
        action_kinds = wanted - {"event", "score", "note"}
        if action_kinds:
            query = _after(select(actions).where(actions.c.account == account), actions.c.at, actions.c.seq, 2,
                           position)
            if "action" in action_kinds:
                unwanted = [name for group, members in _ACTION_KINDS.items() if group not in action_kinds
                            for name in members]
                query = query.where(actions.c.kind.not_in([*unwanted, _REPEATED]))
            else:
                query = query.where(actions.c.kind.in_([name for group in action_kinds
                                                        for name in _ACTION_KINDS.get(group, ())]))
            for row in conn.execute(query.order_by(actions.c.at.desc(), actions.c.seq.desc()).limit(size + 1)):
                data = dict(row.data)
                text = data.get("detail") if row.kind == "decided" and isinstance(data.get("detail"), str) else None
                found.append((row.at, 2, row.seq, TimelineItem(
                    at=row.at, kind=timeline_kind(row.kind), source="action", what=row.kind,
                    playbook=row.playbook, text=text, key=row.key, data=data)))
        if "note" in wanted:
            n = account_notes.c
            query = _after(select(account_notes).where(n.account == account), n.at, n.seq, 3, position)
            for row in conn.execute(query.order_by(n.at.desc(), n.seq.desc()).limit(size + 1)):
                found.append((row.at, 3, row.seq, TimelineItem(at=row.at, kind="note", source="note", what="note",
                                                               data={"text": row.text, "author": row.author})))
    found.sort(key=lambda entry: (entry[0], entry[1], entry[2]), reverse=True)
    page = found[:size]
    next_cursor = None
    if len(found) > size:
        at, source, last, _ = page[-1]
        next_cursor = encode_cursor("timeline", [to_utc(at).isoformat(), source, last])
    return TimelinePage(items=[entry[3] for entry in page], next_cursor=next_cursor)
