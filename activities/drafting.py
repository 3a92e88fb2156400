"""Drafted emails: `send email check_in to primary_contact from csm review by csm within 1 business
day then send`.

`draft_message` renders the email as it would be sent at that moment (the one rendering,
`compose_message`) and keeps it for the reviewer (`email_drafted` in the log); the journey then
waits for the reviewer's answer or the deadline and sends it through `send_message`, which takes
the draft as decided instead of rendering again: an edited draft goes
out as edited. A draft is made only for a recipient who can be mailed (an address, not
suppressed); one whose journey ended before anyone answered is withdrawn.
"""

from __future__ import annotations

import hashlib

from activities.context import ActivityContext
from activities.owners import owner_address
from activities.rendering import render_off_loop
from activities.sending import NoRecipient, compose_message
from activities.tasks import OwnerMissing
from engine.records import ActionRecord, DraftRecord
from engine.store.snapshots import build_snapshot
from engine.workflows.payloads import DraftParams

__all__ = ["draft_id_for", "draft_message"]


def draft_id_for(key: str) -> str:
    return "d-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def _skipped(ctx: ActivityContext, p: DraftParams, reason: str, to: str | None) -> dict[str, str]:
    data = {"template": p.template.name, "channel": "email", "reason": reason, **({"to": to} if to else {})}
    ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="suppressed",
                                      data=data, key=p.key))
    return {"state": "suppressed"}


async def draft_message(p: DraftParams, ctx: ActivityContext) -> dict[str, str]:
    """Keep the email as a draft for its reviewer: `{"draft": id}`; `{"state": "suppressed"}` when
    the recipient cannot be mailed. With `withdraw`, take the draft back: `{"state": its state}`."""
    if p.withdraw:
        withdrawn = ctx.store.withdraw_draft(draft_id_for(p.key), p.at, p.reason or "the journey ended")
        return {"state": withdrawn.state if withdrawn is not None else "gone"}
    snap = build_snapshot(ctx.reads, ctx.bundle, p.account, p.at)
    reviewer = owner_address(snap.fields, p.reviewer)
    if reviewer is None:
        raise OwnerMissing(f"the account has no {'.'.join(p.reviewer)} with an email address to review the draft")
    composed = await render_off_loop(
        compose_message, ctx.bundle, snap, p.template, channel="email", to=p.to, playbook=p.playbook,
        playbook_title=p.playbook_title, public_url=ctx.public_url,
        unsubscribe_secret=str(ctx.extras.get("unsubscribe_secret", "playbook")), event=p.event, data=p.data)
    if isinstance(composed, NoRecipient):
        return _skipped(ctx, p, composed.reason, None)
    to = composed.to or ""
    if (suppressed := ctx.store.suppression(to)) is not None:
        return _skipped(ctx, p, f"suppressed: {suppressed}", to)
    draft = DraftRecord(id=draft_id_for(p.key), key=p.key, account=p.account, playbook=p.playbook,
                        journey=p.workflow_id, template=p.template.name, to=to, to_name=composed.to_name,
                        subject=composed.subject, text=composed.text, html=composed.html, reviewer=reviewer,
                        review_by=p.review_by, policy=p.policy, created_at=p.at)
    action = ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="email_drafted",
                          data={"template": p.template.name, "to": to, "subject": composed.subject, "draft": draft.id,
                                "reviewer": reviewer, "review_by": p.review_by.isoformat(), "then": p.policy},
                          key=f"{p.key}/draft")
    kept = ctx.store.keep_draft(draft, action)
    return {"draft": kept.id, "state": kept.state}

