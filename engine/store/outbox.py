"""The outbox: every email and in-app message, sent or suppressed, and the suppression list.

`record_message` decides and records in one write transaction, so two sends for the same
account at the same moment (threads or processes) cannot both slip under a frequency cap.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, select, update

from engine.records import ActionRecord
from engine.store.actions import insert_action
from engine.store.database import StoreSection, upsert
from engine.store.driver import Driver
from engine.store.engagement import TrackedMessage, insert_tracked
from engine.store.rows import MessageRow
from engine.store.schema import messages, suppressions
from engine.store.types import to_utc

__all__ = ["MessageSection", "SendOutcome", "add_suppression", "describe_cap", "hashed_address"]

# A send's statements, on the driver's cursor (`engine.store.driver`).
_SEEN_SQL = "SELECT status, reason, delivered_at FROM messages WHERE key = ?"
# an address erased (`playbook forget --email`) stays suppressed as its hash: both forms are looked up
_LISTED_SQL = "SELECT reason FROM suppressions WHERE email IN (?, ?)"
_SENT_WITHIN_SQL = ("SELECT count(*) FROM messages WHERE account = ? AND channel = ? AND status = 'sent' "
                    "AND at > ? AND at <= ?")
# the send whose leaving the cap's window frees a slot: the (sent - count + 1)th oldest within it
_FREES_SLOT_SQL = ("SELECT at FROM messages WHERE account = ? AND channel = ? AND status = 'sent' "
                   "AND at > ? AND at <= ? ORDER BY at LIMIT 1 OFFSET ?")
_INSERT_SQL = ("INSERT INTO messages (id, account, playbook, channel, template, to_addr, subject, text, html, at, "
               "status, reason, key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

_CHANNEL_WORDS = {"email": ("email", "emails"), "in_app": ("in-app message", "in-app messages")}
_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"))  # "7 days", not "1 week", as people write caps


def _span(seconds: int) -> str:
    for size, unit in _UNITS:
        if seconds % size == 0:
            amount = seconds // size
            return f"{amount} {unit}" + ("" if amount == 1 else "s")
    return f"{seconds} seconds"


def describe_cap(channel: str, count: int, seconds: int) -> str:
    """`frequency cap: at most 3 emails per 7 days`."""
    one, many = _CHANNEL_WORDS.get(channel, (channel, channel))
    return f"frequency cap: at most {count} {one if count == 1 else many} per {_span(seconds)}"


def hashed_address(email: str) -> str:
    """How an erased address stays on the suppression list: `sha256:` and the hex of the address."""
    return "sha256:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def add_suppression(conn: Connection, email: str, reason: str, at: datetime) -> None:
    values = {"email": email.strip().lower(), "reason": reason, "at": to_utc(at)}
    upsert(conn, suppressions, values, ["email"])


def _row(row: Any) -> MessageRow:
    values = row._asdict()
    values["to"] = values.pop("to_addr")
    return MessageRow.model_validate(values)


class SendOutcome(NamedTuple):
    """What the store decided for a send: `sent`, `suppressed` or (over the cap, with `defer`)
    `deferred` until `free_at`, the moment the cap next allows one; whether it was delivered already."""

    status: str
    reason: str | None
    delivered: bool
    free_at: datetime | None = None


def _decide_and_record(
    driver: Driver, *, account: str, playbook: str | None, channel: str, template: str, to: str | None,
    subject: str | None, text: str | None, html: str | None, at: datetime, key: str, cap_count: int | None,
    cap_seconds: int | None, defer: bool = False,
) -> SendOutcome:
    """The send's outcome (the first one, for a key already recorded) and whether it was delivered
    already; a new send is recorded, unless it is deferred (`defer`: over the cap it waits for the
    next slot, and records nothing under its key, so the same step may try again then). Runs inside
    the caller's write transaction, on the driver's cursor (a journey's every send comes here)."""
    seen = driver.execute(_SEEN_SQL, (key,)).fetchone()
    if seen is not None:
        return SendOutcome(seen[0], seen[1], seen[2] is not None)
    status, reason = "sent", None
    listed = None if not to else driver.execute(_LISTED_SQL, (to.strip().lower(), hashed_address(to))).fetchone()
    if listed is not None:
        status, reason = "suppressed", listed[0]
    elif cap_count is not None and cap_seconds is not None:
        window = timedelta(seconds=cap_seconds)
        since, until = driver.time(at - window), driver.time(at)
        sent = driver.execute(_SENT_WITHIN_SQL, (account, channel, since, until)).fetchone()[0]
        if sent >= cap_count:
            reason = describe_cap(channel, cap_count, cap_seconds)
            if defer:
                oldest = driver.execute(_FREES_SLOT_SQL, (account, channel, since, until, sent - cap_count)).fetchone()
                return SendOutcome("deferred", reason, False, driver.read_time(oldest[0]) + window)
            status = "suppressed"
    driver.execute(_INSERT_SQL, (uuid.uuid4().hex, account, playbook, channel, template, to, subject, text, html,
                                 driver.time(at), status, reason, key))
    return SendOutcome(status, reason, False)


class MessageSection(StoreSection):
    def record_message(
        self,
        *,
        account: str,
        playbook: str | None,
        channel: str,
        template: str,
        to: str | None,
        subject: str | None,
        text: str | None,
        html: str | None,
        at: datetime,
        key: str,
        cap_count: int | None,
        cap_seconds: int | None,
    ) -> tuple[str, str | None]:
        """Decide and record a send: ("sent", None) or ("suppressed", reason).

        A key already recorded returns its first outcome. Otherwise an address on the
        suppression list, then the cap (`cap_count` sent messages of the channel within
        `(at - cap_seconds, at]`), suppress it.
        """
        with self._db.write(account) as conn:
            outcome = _decide_and_record(
                Driver(conn), account=account, playbook=playbook, channel=channel, template=template, to=to,
                subject=subject, text=text, html=html, at=to_utc(at), key=key, cap_count=cap_count,
                cap_seconds=cap_seconds)
        return outcome.status, outcome.reason

    def record_message_logged(
        self,
        *,
        account: str,
        playbook: str | None,
        channel: str,
        template: str,
        to: str | None,
        subject: str | None,
        text: str | None,
        html: str | None,
        at: datetime,
        key: str,
        cap_count: int | None,
        cap_seconds: int | None,
        logged: Callable[[str, str | None], ActionRecord],
        defer: bool = False,
        tracked: TrackedMessage | None = None,
    ) -> SendOutcome:
        """`record_message`, then `log_action(logged(status, reason))`, in one write transaction;
        also whether the message was delivered already (a retry of a step that sent it). With
        `defer`, a send over the cap is `deferred` (nothing recorded under its key) and its action
        says until when (`until` in its data). A message sent with engagement tracking keeps its
        links (`tracked`) in the same transaction."""
        with self._db.write(account) as conn:
            driver = Driver(conn)
            outcome = _decide_and_record(
                driver, account=account, playbook=playbook, channel=channel, template=template, to=to,
                subject=subject, text=text, html=html, at=to_utc(at), key=key, cap_count=cap_count,
                cap_seconds=cap_seconds, defer=defer)
            action = logged(outcome.status, outcome.reason)
            if outcome.free_at is not None:
                action = action.model_copy(update={"data": {**action.data, "until": outcome.free_at.isoformat()}})
            insert_action(driver, action)
            if tracked is not None and outcome.status == "sent":
                insert_tracked(driver, tracked, key=key, account=account, playbook=playbook, at=to_utc(at))
        return outcome

    def messages(self, account: str | None = None) -> list[MessageRow]:
        """The outbox, oldest first."""
        query = select(messages).order_by(messages.c.at, messages.c.key)
        if account is not None:
            query = query.where(messages.c.account == account)
        with self._db.read() as conn:
            return [_row(row) for row in conn.execute(query)]

    def delivered(self, key: str) -> bool:
        """True once the message recorded under `key` was handed to the mail server."""
        with self._db.read() as conn:
            return conn.execute(select(messages.c.delivered_at).where(messages.c.key == key)).scalar() is not None

    def mark_delivered(self, key: str, at: datetime) -> None:
        with self._db.write() as conn:
            conn.execute(update(messages).where(messages.c.key == key).values(delivered_at=to_utc(at)))

    def mark_failed(self, key: str, reason: str) -> None:
        """The mail server refused the message for good: it no longer counts against the cap."""
        with self._db.write() as conn:
            conn.execute(update(messages).where(messages.c.key == key).values(status="failed", reason=reason))

    def suppress(self, email: str, reason: str, at: datetime) -> None:
        """Put an address on the suppression list (addresses compare without case)."""
        with self._db.write() as conn:
            add_suppression(conn, email, reason, at)

    def suppression(self, email: str) -> str | None:
        """Why the address gets no email, or None."""
        with self._db.read() as conn:
            return conn.execute(
                select(suppressions.c.reason).where(
                    suppressions.c.email.in_([email.strip().lower(), hashed_address(email)]))
            ).scalar()
