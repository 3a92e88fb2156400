"""Tracked messages: what an email sent with engagement tracking linked to, and how much was heard of it.

A row per message sent with tracking on, written in the send's own transaction (`outbox`): the
message's reference (what its tokens name, `activities.tracking_tokens`), its key, account,
playbook and template, and its links in index order. The redirect of `GET /e/c/<token>` reads
the link from here, so it can only lead to a URL that was in the message.

The engagement events a message may cause are bounded: at most `MAX_EVENTS_PER_HOUR` in any
hour and `MAX_EVENTS_PER_MESSAGE` in all (a mail scanner following every link, a reload loop);
past them a click still redirects and an open still gets its pixel, but no event is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from engine.store.database import StoreSection
from engine.store.driver import Driver
from engine.store.schema import tracked_messages
from engine.store.types import to_utc

__all__ = ["MAX_EVENTS_PER_HOUR", "MAX_EVENTS_PER_MESSAGE", "EngagementSection", "TrackedMessage",
           "TrackedRow", "insert_tracked"]

MAX_EVENTS_PER_MESSAGE = 100
MAX_EVENTS_PER_HOUR = 20
_HOUR = timedelta(hours=1)
_INSERT_SQL = ("INSERT INTO tracked_messages (ref, key, account, playbook, template, links, at, engagements, "
               "window_events, window_start) VALUES (?, ?, ?, ?, ?, ?j, ?, 0, 0, ?)")


@dataclass(frozen=True)
class TrackedMessage:
    """What a send keeps of a tracked message: its reference, template and links."""

    ref: str
    template: str
    links: tuple[str, ...]


@dataclass(frozen=True)
class TrackedRow:
    """A tracked message as the redirect reads it."""

    ref: str
    key: str
    account: str
    playbook: str | None
    template: str
    links: tuple[str, ...]
    at: datetime


def insert_tracked(driver: Driver, message: TrackedMessage, *, key: str, account: str, playbook: str | None,
                   at: datetime) -> None:
    """Keep a tracked message's links, in the transaction that records the send (once per key)."""
    if driver.execute("SELECT 1 FROM tracked_messages WHERE ref = ?", (message.ref,)).fetchone() is not None:
        return
    driver.execute(_INSERT_SQL, (message.ref, key, account, playbook, message.template,
                                 driver.json(list(message.links)), driver.time(at), driver.time(at)))


class EngagementSection(StoreSection):
    def tracked_message(self, ref: str) -> TrackedRow | None:
        with self._db.read() as conn:
            row = conn.execute(select(tracked_messages).where(tracked_messages.c.ref == ref)).first()
        if row is None:
            return None
        return TrackedRow(ref=row.ref, key=row.key, account=row.account, playbook=row.playbook,
                          template=row.template, links=tuple(str(link) for link in row.links or ()), at=row.at)

    def note_engagement(self, ref: str, now: datetime) -> bool:
        """Count one engagement event of the message: True when it may be stored (within the bounds)."""
        now = to_utc(now)
        with self._db.write() as conn:
            row = conn.execute(select(tracked_messages.c.engagements, tracked_messages.c.window_events,
                                      tracked_messages.c.window_start)
                               .where(tracked_messages.c.ref == ref)).first()
            if row is None or row.engagements >= MAX_EVENTS_PER_MESSAGE:
                return False
            window_start, window_events = row.window_start, row.window_events
            if now - to_utc(window_start) >= _HOUR:
                window_start, window_events = now, 0
            if window_events >= MAX_EVENTS_PER_HOUR:
                return False
            conn.execute(update(tracked_messages).where(tracked_messages.c.ref == ref).values(
                engagements=row.engagements + 1, window_events=window_events + 1, window_start=window_start))
        return True
