"""The account page's timeline: a page of the account's one timeline (`engine.read_model.timeline`),
newest first, filtered by kind, each item told in the words of `playbook why`
(`engine.insight.story.action_lines`): a journey's decisions with what they read, the work items
opened with their type, reason and owner, the messages, the scores, the customer's events and the
notes. A page is `PAGE_LINES` items; "Older" carries the read's cursor to the next one.

An opening line of a work item carries the item's id (`task`), where My work's "why" link lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from dsl import ir
from engine.insight.story import action_lines
from engine.read_model.timeline import DONE_EVENT, KINDS, TimelineItem, account_timeline
from engine.records import ActionRecord
from engine.store import Store
from server.dashboard.formatting import plain

__all__ = ["KINDS", "PAGE_LINES", "TimelineLine", "TimelineView", "timeline_view"]

PAGE_LINES = 50
MAX_TEXT = 500


@dataclass
class TimelineLine:
    at: datetime
    kind: str  # one of `KINDS`
    playbook: str | None
    label: str  # the action's or event's own name: `email`, `decided: branch`, `signed`
    text: str
    step: str | None = None  # the statement's path in the playbook, for journey lines
    task: str | None = None  # the work item an opening line is about


@dataclass
class TimelineView:
    lines: list[TimelineLine]
    kinds: list[str]  # the kinds shown (every kind when none was asked for)
    older_link: str | None  # the next page, older entries
    newest_link: str | None  # back to the newest entries, from an older page


def _told(item: TimelineItem, titles: dict[str, str]) -> TimelineLine:
    """An event's, a score's or a note's line."""
    if item.source == "score":
        value = item.data.get("value")
        shown = "unscored" if value is None else f"{value:g}"
        band = f" ({item.data['band']})" if item.data.get("band") else ""
        return TimelineLine(at=item.at, kind="score", playbook=None, label=item.what,
                            text=f"{item.what[:1].upper()}{item.what[1:]} score is now {shown}{band}.")
    if item.source == "note":
        author = item.data.get("author")
        words = " ".join(str(item.data.get("text") or "").split())
        return TimelineLine(at=item.at, kind="note", playbook=None, label="note",
                            text=f'Note{f" by {author}" if author else ""}: "{words}"')
    data = dict(item.data.get("data") or {})
    if item.what == DONE_EVENT:
        task = str(data.get("task") or "")
        outcome = f" ({data['outcome']})" if data.get("outcome") else ""
        return TimelineLine(at=item.at, kind=item.kind, playbook=None, label="task done",
                            text=f'Task "{titles.get(task, task)}" was marked done{outcome}.')
    if item.what == "update":
        return TimelineLine(at=item.at, kind="event", playbook=None, label="update",
                            text=f"Fields updated: {plain(dict(item.data.get('fields') or {}))}"[:MAX_TEXT])
    shown = plain(data)
    return TimelineLine(at=item.at, kind="event", playbook=None, label=item.what,
                        text=f"{item.what}{f' ({shown})' if shown else ''}"[:MAX_TEXT])


def _link(account: str, kinds: list[str], cursor: str | None) -> str:
    query = urlencode([("kind", kind) for kind in kinds] + ([("cursor", cursor)] if cursor else []))
    return f"/accounts/{quote(account, safe='')}" + (f"?{query}" if query else "") + "#timeline"


def timeline_view(store: Store, bundle: ir.Bundle, account: str, tz: str, kinds: set[str] | None = None,
                  cursor: str | None = None) -> TimelineView:
    """A page of the account's timeline (only `kinds` when given), told for people in the time zone
    `tz`; `BadQuery` for a cursor the read did not hand out."""
    order: list[str] = list(KINDS)
    asked = sorted({kind for kind in kinds or set() if kind in order}, key=order.index)
    page = account_timeline(store, account, kind=",".join(asked) or None, cursor=cursor, limit=PAGE_LINES)
    logged = [item for item in page.items if item.source == "action"]
    records = [ActionRecord(at=item.at, account=account, playbook=item.playbook, kind=item.what, data=item.data,
                            key=item.key) for item in logged]
    told = dict(zip((id(item) for item in logged), action_lines(store, bundle, account, records, tz), strict=True))
    done = {str(item.data.get("data", {}).get("task")) for item in page.items if item.what == DONE_EVENT}
    titles = {task: record.title for task in sorted(done) if (record := store.task(task)) is not None}
    lines: list[TimelineLine] = []
    for item in page.items:
        if item.source != "action":
            lines.append(_told(item, titles))
            continue
        line = told[id(item)]
        if line is None:
            continue
        opened = item.data.get("task") if item.what == "task" and isinstance(item.data.get("task"), str) else None
        lines.append(TimelineLine(at=item.at, kind=item.kind, playbook=item.playbook,
                                  label=f"{line.kind}: {line.what}" if line.what else line.kind.replace("_", " "),
                                  text=line.text, step=line.step, task=opened))
    return TimelineView(lines=lines, kinds=asked or order,
                        older_link=_link(account, asked, page.next_cursor) if page.next_cursor else None,
                        newest_link=_link(account, asked, None) if cursor else None)
