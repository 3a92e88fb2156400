"""Sending an email or an in-app message: render, apply the send policy, record, deliver.

The store decides atomically whether a message may go (suppression list, frequency cap) and
records it under the step's idempotency key, so a retried activity never sends twice: a second
attempt finds the first outcome and only re-delivers what was recorded as sent but not yet
handed to the mail server.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from activities.context import ActivityContext, OutgoingMail
from activities.rendering import RenderError, render_block, render_off_loop, template_context
from activities.send_gate import held_reason, hold_if_stopped, take_relay_slot
from activities.sender_identity import SenderIdentity, sender_identity
from activities.smtp_mailer import PermanentDeliveryError, plain_display_name
from activities.tracked_links import Tracked, Tracking, track_links
from dsl import ir
from engine.records import ActionRecord, DraftRecord, Snapshot
from engine.store.engagement import TrackedMessage
from engine.store.snapshots import build_snapshot
from engine.workflows.payloads import EmailParams, deferred_result

__all__ = ["ComposedMessage", "NoRecipient", "compose_message", "send_message", "unsubscribe_token", "unsubscribe_url"]

# How a draft that went out was reviewed, as its `email` action says (`review`).
REVIEWED = {"approved": "approved", "edited": "edited", "sent_unreviewed": "unreviewed"}


def unsubscribe_token(secret: str, email: str) -> str:
    return hmac.new(secret.encode(), email.lower().encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe_url(public_url: str, secret: str, email: str) -> str:
    return f"{public_url}/v1/unsubscribe?" + urlencode({"email": email, "token": unsubscribe_token(secret, email)})


def _recipient(fields: dict[str, Any], path: list[str]) -> dict[str, Any] | None:
    value: Any = fields
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, dict) and value.get("email"):
        return value
    return None


@dataclass(frozen=True)
class ComposedMessage:
    """A message rendered for one account, exactly as `send_message` records and delivers it."""

    channel: str
    template: str
    to: str | None  # the recipient's address (emails only)
    to_name: str
    subject: str
    text: str
    html: str | None
    unsubscribe_url: str | None
    tracked: Tracked | None = None  # with engagement tracking: the message's reference and links


@dataclass(frozen=True)
class NoRecipient:
    """An email whose contact field has no address: it is suppressed, not rendered."""

    reason: str


def compose_message(
    bundle: ir.Bundle, snap: Snapshot, template: ir.Template, *, channel: str, to: list[str], playbook: str,
    playbook_title: str, public_url: str, unsubscribe_secret: str, event: str | None = None,
    data: dict[str, Any] | None = None, tracking: Tracking | None = None, key: str = "",
) -> ComposedMessage | NoRecipient:
    """Render `template` for the account of `snap`: the one rendering of every email and in-app
    message (`send_message` sends it; `playbook preview` shows it). Raises `RenderError`.

    With `tracking` (engagement on), an email's links go through the signed redirect and its HTML
    part carries the open pixel, for the message sent under `key` (`activities.tracked_links`)."""
    contact: dict[str, Any] | None = None
    unsubscribe: str | None = None
    if channel == "email":
        contact = _recipient(snap.fields, to)
        if contact is None:
            return NoRecipient(f"no recipient: {'.'.join(to)} has no email address")
        unsubscribe = unsubscribe_url(public_url, unsubscribe_secret, str(contact["email"]))
    else:
        # An in-app message is read by the account's users: its `contact` is the primary contact.
        contact = _recipient(snap.fields, ["primary_contact"]) or {"name": "", "email": None}
    context = template_context(bundle, snap, playbook=playbook, playbook_title=playbook_title,
                               contact=contact, unsubscribe_url=unsubscribe, event=event, data=data)
    subject = render_block(template.subject, "subject", context).strip()
    if "\n" in subject or "\r" in subject:
        raise RenderError(f"{template.name}: the subject holds a line break")
    text = render_block(template.text, "text", context).strip() + "\n"
    html = render_block(template.html, "html", context, html=True) if template.html else None
    address = str(contact["email"]) if contact and channel == "email" else ""
    name = plain_display_name(str(contact.get("name") or "")) if contact else ""  # no line break reaches a header
    tracked = None
    if tracking is not None and channel == "email":
        tracked = track_links(tracking, key, text, html, unsubscribe)
        text, html = tracked.text, tracked.html
    return ComposedMessage(channel=channel, template=template.name, to=address or None, to_name=name,
                           subject=subject, text=text, html=html, unsubscribe_url=unsubscribe, tracked=tracked)


async def send_message(p: EmailParams, ctx: ActivityContext) -> str:
    # the journey's own snapshot as of the send, when this worker read it and nothing changed since
    snap = ctx.snapshots.get(p.snapshot, p.account, p.at) or build_snapshot(ctx.reads, ctx.bundle, p.account, p.at)
    moment = p.sent_at or p.at  # the cap is judged, and the message kept, at the moment it really goes
    draft = None
    if p.draft is not None:  # reviewed: as the reviewer left it, or by its policy when nobody answered
        hold_if_stopped(ctx, p)  # the brakes first: a draft waits out a pause unsettled
        draft = ctx.store.settle_draft(p.draft, moment)
        if draft is None or not draft.goes_out:
            return _dropped_draft(ctx, p, draft)
        composed: ComposedMessage | NoRecipient = _from_draft(draft, ctx)
    else:
        try:
            composed = await render_off_loop(  # CPU-bound: a thread, so the worker's other journeys keep going
                compose_message, ctx.bundle, snap, p.template, channel=p.channel, to=p.to, playbook=p.playbook,
                playbook_title=p.playbook_title, public_url=ctx.public_url,
                unsubscribe_secret=str(ctx.extras.get("unsubscribe_secret", "playbook")), event=p.event,
                data=p.data, tracking=_tracking(ctx), key=p.key)
        except RenderError:
            hold_if_stopped(ctx, p)  # while the brakes hold, a step is held, not failed
            raise
    if isinstance(composed, NoRecipient):
        with ctx.store.database.batch():  # the brakes and the record in one transaction (SQLite)
            held = held_reason(ctx, p)
            if held is None:
                return _suppressed(ctx, p, composed.reason, None)
        raise held
    to = composed.to or ""
    subject, text, html = composed.subject, composed.text, composed.html

    def logged(status: str, reason: str | None) -> ActionRecord:
        if status == "deferred":  # over the cap, `over the cap: defer`: the store adds `until`
            return ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="deferred",
                                data={"template": p.template.name, "channel": p.channel, "reason": reason or "",
                                      **({"to": to} if to else {})}, key=f"{p.key}/deferred/{moment.isoformat()}")
        if status != "sent":
            return _suppressed_action(p, reason or "suppressed", to or None)
        data: dict[str, Any] = {"template": p.template.name}
        if p.channel == "email":
            data.update(to=to, subject=subject)
            if sender is not None and sender.address is not None:
                data["from"] = sender.address
            elif sender is not None:
                data["reply_to"] = sender.reply_to
        else:
            data.update(title=subject)
        if p.sent_at is not None:
            data["sent_at"] = p.sent_at
        if draft is not None:
            data.update(draft=draft.id, review=REVIEWED.get(draft.state, draft.state))
        return ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind=p.channel, data=data, key=p.key)

    sender = _sender(p, snap, ctx)
    # The operator's brakes, then the send decided and recorded: one transaction on SQLite, so a
    # pause committed before it holds the send, and nothing is recorded while they hold.
    with ctx.store.database.batch():
        held = held_reason(ctx, p)
        if held is None:
            status, _reason, delivered, free_at = ctx.store.record_message_logged(
                account=p.account, playbook=p.playbook, channel=p.channel, template=p.template.name,
                to=to or None, subject=subject, text=text, html=html, at=moment, key=p.key,
                cap_count=p.cap_count, cap_seconds=p.cap_seconds, logged=logged, defer=p.defer_over_cap,
                tracked=_tracked_links(composed.tracked, p.template.name))
    if held is not None:
        raise held
    if free_at is not None:
        return deferred_result(free_at)
    if status != "sent":
        return "suppressed"
    if p.channel == "email" and to and not delivered:
        take_relay_slot(ctx, p)  # the relay's send-rate limit, shared by every worker
        await _deliver(ctx, p.key, OutgoingMail(
            key=p.key, to=to, to_name=composed.to_name, subject=subject, text=text, html=html,
            unsubscribe_url=composed.unsubscribe_url, at=p.at,
            from_address=sender.address if sender is not None else None,
            from_name=sender.name if sender is not None and sender.address is not None else "",
            reply_to=sender.reply_to if sender is not None else None))
    return "sent"


def _from_draft(draft: DraftRecord, ctx: ActivityContext) -> ComposedMessage:
    """The message a decided draft sends: as the reviewer left it (an edited text goes as plain text)."""
    secret = str(ctx.extras.get("unsubscribe_secret", "playbook"))
    return ComposedMessage(channel="email", template=draft.template, to=draft.to, to_name=draft.to_name,
                           subject=draft.subject, text=draft.text, html=draft.html,
                           unsubscribe_url=unsubscribe_url(ctx.public_url, secret, draft.to))


def _dropped_draft(ctx: ActivityContext, p: EmailParams, draft: DraftRecord | None) -> str:
    """A draft discarded, withdrawn, or dropped by its policy: nothing goes out; the drop is logged
    (a person's discard was logged when they answered)."""
    if draft is not None and draft.state == "dropped_unreviewed":
        ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="draft_dropped",
                                          data={"draft": draft.id, "template": draft.template, "to": draft.to,
                                                "reason": "not reviewed in time"}, key=p.key))
    return "dropped"


def _sender(p: EmailParams, snap: Snapshot, ctx: ActivityContext) -> SenderIdentity | None:
    """`send email X from csm`: the owner it goes out from, as the sender domains allow."""
    if not p.sender or p.channel != "email":
        return None
    allowed = ctx.extras.get("sender_domains", ())
    return sender_identity(snap.fields, p.sender, allowed if isinstance(allowed, tuple | list) else ())


def _tracking(ctx: ActivityContext) -> Tracking | None:
    tracking = ctx.extras.get("tracking")
    return tracking if isinstance(tracking, Tracking) else None


def _tracked_links(tracked: Tracked | None, template: str) -> TrackedMessage | None:
    if tracked is None:
        return None
    return TrackedMessage(ref=tracked.ref, template=template, links=tracked.links)


async def _deliver(ctx: ActivityContext, key: str, mail: OutgoingMail) -> None:
    """Hand the message to the mail server once; a retry after a refusal for good is recorded."""
    try:
        await ctx.mailer.deliver(mail)
    except PermanentDeliveryError as error:
        ctx.store.mark_failed(key, str(error))
        raise
    ctx.store.mark_delivered(key, datetime.now(UTC))


def _suppressed_action(p: EmailParams, reason: str, to: str | None) -> ActionRecord:
    data: dict[str, Any] = {"template": p.template.name, "channel": p.channel, "reason": reason}
    if p.sent_at is not None:
        data["sent_at"] = p.sent_at
    if to:
        data["to"] = to
    return ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="suppressed", data=data, key=p.key)


def _suppressed(ctx: ActivityContext, p: EmailParams, reason: str, to: str | None) -> str:
    ctx.store.log_action(_suppressed_action(p, reason, to))
    return "suppressed"
