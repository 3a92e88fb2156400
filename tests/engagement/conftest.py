"""Sending a tracked email into a real store, for the engagement tests: a template with links in
both parts, the unsubscribe link, and one URL that needs escaping in HTML."""

from __future__ import annotations

from datetime import datetime

from activities.context import ActivityContext, CaptureMailer, OutgoingMail
from activities.sending import send_message
from activities.tracked_links import Tracking
from dsl import ir
from engine.store import Store
from engine.workflows.payloads import EmailParams
from tests.live_api import offline_starter

__all__ = ["ACCOUNT", "BASE", "KEY", "SECRET", "TEMPLATE", "UNSUBSCRIBE_SECRET", "send"]

SECRET = "engagement-test-secret"
UNSUBSCRIBE_SECRET = "unsubscribe-test-secret"
BASE = "https://t.acme.example"
ACCOUNT = "oak"
KEY = "journey/qbr_invite/oak/run-1/entry/0"
SOURCE = """{% block subject %}Pick a slot{% endblock %}
{% block text %}Hi {{ contact.name }},
pick a slot: https://calendar.acme.example/qbr?account=oak&week=2.
The agenda: https://docs.acme.example/agenda (draft)

Unsubscribe: {{ unsubscribe_url }}{% endblock %}
{% block html %}<html><body><p>Hi {{ contact.name }},
<a href="https://calendar.acme.example/qbr?account=oak&amp;week=2">pick a slot</a>,
<a class="x" HREF='https://docs.acme.example/agenda'>the agenda</a>,
<img src="https://cdn.acme.example/logo.png" alt="logo">
<a href="mailto:sam@acme.example">mail Sam</a></p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>{% endblock %}
"""
PART = ir.TemplateText(source=SOURCE, path="qbr_invite.email.jinja")
TEMPLATE = ir.Template(name="qbr_invite", channel="email", subject=PART, text=PART, html=PART)


async def send(store: Store, bundle: ir.Bundle, at: datetime, *, tracking: Tracking | None,
               key: str = KEY, account: str = ACCOUNT) -> OutgoingMail:
    """Send TEMPLATE to the account's primary contact (tracked with `tracking`): the mail handed over."""
    store.add_change(account, at, event=None, data={}, event_id=f"{key}-traits",
                     traits={"name": account.title(), "primary_contact": {"email": f"eve@{account}.example",
                                                                          "name": "Eve"}})
    mailer = CaptureMailer()
    extras: dict[str, object] = {"unsubscribe_secret": UNSUBSCRIBE_SECRET}
    if tracking is not None:
        extras["tracking"] = tracking
    context = ActivityContext(store=store, bundle=bundle, starter=await offline_starter(store), mailer=mailer,
                              public_url="https://api.acme.example", extras=extras)
    params = EmailParams(account=account, playbook="qbr_invite", workflow_id=f"journey/qbr_invite/{account}",
                         key=key, at=at, channel="email", template=TEMPLATE, to=["primary_contact"])
    assert await send_message(params, context) == "sent"
    (mail,) = mailer.outbox
    return mail
