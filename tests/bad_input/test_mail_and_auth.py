"""Header injection through a contact's name or a subject, against a real SMTP server (aiosmtpd),
and requests without the right credentials: refused, with nothing stored or suppressed."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from activities.context import ActivityContext, OutgoingMail
from activities.rendering import RenderError
from activities.sending import send_message, unsubscribe_token
from activities.smtp_mailer import SmtpMailer, UnsafeHeaderError
from dsl import ir
from engine.settings import Settings
from engine.store import Store
from engine.workflows.payloads import EmailParams
from tests.bad_input.conftest import (
    NDJSON,
    UNSUBSCRIBE_SECRET,
    asgi_client,
    count_rows,
    offline_app,
    offline_starter,
)

INJECTION = "Ana\r\nBcc: evil@attacker.example"
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Transcript:
    """What the SMTP server saw: every RCPT TO and every message it took."""

    rcpts: list[str] = field(default_factory=list)
    received: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        self.rcpts.append(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def relay() -> Iterator[tuple[Transcript, int]]:
    transcript = Transcript()
    controller = Controller(transcript, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield transcript, controller.port
    finally:
        controller.stop()


def _mailer(port: int) -> SmtpMailer:
    return SmtpMailer(Settings(smtp_host="127.0.0.1", smtp_port=port,
                               mail_from="Customer Success <success@acme.example>"))


def _mail(**changes: Any) -> OutgoingMail:
    values: dict[str, Any] = dict(key="wf/run/day-0/send", to="ana@techcorp.example", to_name="Ana",
                                  subject="Welcome", text="Hi\n", html=None, unsubscribe_url=None, at=AT)
    values.update(changes)
    return OutgoingMail(**values)


@pytest.mark.parametrize("changes", [
    {"to_name": INJECTION},
    {"to_name": "Ana\nBcc: evil@attacker.example"},
    {"to_name": "Ana\u2028Bcc: evil@attacker.example"},
    {"subject": "Welcome\r\nBcc: evil@attacker.example"},
    {"subject": "Welcome\rBcc: evil@attacker.example"},
    {"to": "ana@techcorp.example\r\nBcc: evil@attacker.example"},
    {"to": "ana@techcorp.example, evil@attacker.example"},
    {"unsubscribe_url": "http://x.example/u\r\nBcc: evil@attacker.example"},
], ids=["name-crlf", "name-lf", "name-u2028", "subject-crlf", "subject-cr", "to-crlf", "to-two-addresses",
        "unsubscribe-crlf"])
async def test_a_header_value_that_would_inject_bcc_is_refused_and_nothing_is_sent(
        relay: tuple[Transcript, int], changes: dict[str, Any]) -> None:
    transcript, port = relay
    with pytest.raises(UnsafeHeaderError if "to" not in changes else Exception):
        await _mailer(port).deliver(_mail(**changes))
    assert transcript.rcpts == [] and transcript.received == []


def _template(subject: str) -> ir.Template:
    source = ("{% block subject %}" + subject + "{% endblock %}{% block text %}Hi {{ contact.name }}{% endblock %}"
              "{% block html %}<p>Hi {{ contact.name }}</p>{% endblock %}")
    text = ir.TemplateText(source=source, path="welcome.email.jinja")
    return ir.Template(name="welcome", channel="email", subject=text, text=text, html=text)


def _params(template: ir.Template) -> EmailParams:
    return EmailParams(account="techcorp", playbook="onboarding", workflow_id="wf-1", key="wf-1/run/day-0/send",
                       at=AT, channel="email", template=template, to=["primary_contact"])


@pytest.fixture
def injected_account(store: Store) -> Store:
    contact = {"email": "ana@techcorp.example", "name": INJECTION}
    store.add_change("techcorp", AT, event=None, data={}, traits={"name": "TechCorp", "primary_contact": contact},
                     event_id="t-1")
    return store


async def test_a_contact_name_carrying_bcc_goes_out_to_one_recipient_with_no_bcc_header(
        injected_account: Store, relay: tuple[Transcript, int], minimal_bundle: ir.Bundle) -> None:
    transcript, port = relay
    context = ActivityContext(store=injected_account, bundle=minimal_bundle,
                              starter=await offline_starter(injected_account), mailer=_mailer(port),
                              public_url="http://api.test", extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET})
    assert await send_message(_params(_template("Welcome to Acme")), context) == "sent"
    assert transcript.rcpts == ["ana@techcorp.example"]
    assert len(transcript.received) == 1 and transcript.received[0].rcpt_tos == ["ana@techcorp.example"]
    raw = transcript.received[0].original_content or b""
    message = message_from_bytes(raw, policy=default_policy)
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert message["Bcc"] is None and b"\nBcc:" not in headers
    assert "evil@attacker.example" not in str(message["To"].addresses[0].addr_spec)
    assert [a.addr_spec for a in message["To"].addresses] == ["ana@techcorp.example"]


async def test_a_subject_that_renders_a_line_break_is_refused_before_anything_is_sent(
        injected_account: Store, relay: tuple[Transcript, int], minimal_bundle: ir.Bundle) -> None:
    transcript, port = relay
    context = ActivityContext(store=injected_account, bundle=minimal_bundle,
                              starter=await offline_starter(injected_account), mailer=_mailer(port),
                              public_url="http://api.test", extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET})
    with pytest.raises((RenderError, UnsafeHeaderError)):
        await send_message(_params(_template("Welcome, {{ contact.name }}")), context)
    assert transcript.rcpts == [] and transcript.received == []


async def test_a_template_cannot_change_the_address_a_message_goes_to(
        store: Store, relay: tuple[Transcript, int], minimal_bundle: ir.Bundle) -> None:
    """The recipient is read from the same snapshot the template sees: a template that could call
    `.update()` on it would redirect the message (fixed with the immutable sandbox)."""
    transcript, port = relay
    store.add_change("techcorp", AT, event=None, data={}, event_id="t-1",
                     traits={"primary_contact": {"email": "ana@techcorp.example", "name": "Ana"}})
    context = ActivityContext(store=store, bundle=minimal_bundle, starter=await offline_starter(store),
                              mailer=_mailer(port), public_url="http://api.test",
                              extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET})
    hijack = "{% set _ = account.primary_contact.update({'email': 'evil@attacker.example'}) %}Welcome"
    with pytest.raises(RenderError):
        await send_message(_params(_template(hijack)), context)
    assert "evil@attacker.example" not in transcript.rcpts
    assert transcript.received == []


# --------------------------------------------------------------------------- credentials

EVENTS = "\n".join(json.dumps({"id": f"auth-{i}", "account": f"acct-{i}", "traits": {"name": f"A{i}"}})
                   for i in range(3))


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": "Bearer "},
    {"Authorization": "bad-input-api-token"},
    {"Authorization": "Basic d3Jvbmctd3JpdGUta2V5Og=="},  # a wrong Segment write key
    {"Authorization": "Bearer bad-input-api-token\r\nX: y"},
    {"Authorization": "Bearer bad-input-api-tokeN"},
], ids=["none", "wrong", "empty", "no-scheme", "basic", "crlf", "case"])
async def test_no_or_a_wrong_token_is_401_and_nothing_is_stored(
        store: Store, db_path: Path, minimal_bundle: ir.Bundle, headers: dict[str, str]) -> None:
    app = await offline_app(store, minimal_bundle)
    async with asgi_client(app, headers={}) as api:
        try:
            response = await api.post("/v1/events", content=EVENTS, headers={**NDJSON, **headers})
        except Exception as error:  # the HTTP client itself may refuse a header with a line break
            assert "crlf" in str(headers) or "\r" in str(headers), error
            response = None
        segment = await api.post("/v1/batch", json={"batch": [{"type": "identify", "userId": "u",
                                                              "traits": {"name": "x"}}]}, headers=headers)
    if response is not None:
        assert response.status_code == 401, response.text
    assert segment.status_code == 401
    assert count_rows(db_path, "events") == 0
    assert count_rows(db_path, "accounts") == 0


@pytest.mark.parametrize("query", [
    "email=ana%40techcorp.example&token=" + "0" * 32,
    "email=ana%40techcorp.example&token=" + unsubscribe_token("change-me", "ana@techcorp.example"),
    "email=ana%40techcorp.example&token=" + unsubscribe_token(UNSUBSCRIBE_SECRET, "bob@techcorp.example"),
    "email=ana%40techcorp.example&token=" + unsubscribe_token(UNSUBSCRIBE_SECRET, "ana@techcorp.example")[:31],
    "email=ana%40techcorp.example&token=",
    "email=ana%40techcorp.example",
    "email=" + quote("ana@techcorp.example\r\n") + "&token=" + unsubscribe_token(UNSUBSCRIBE_SECRET,
                                                                               "ana@techcorp.example"),
], ids=["zeros", "default-secret", "other-address", "truncated", "empty-token", "no-token", "crlf-address"])
async def test_a_forged_unsubscribe_link_is_refused_and_nothing_is_suppressed(
        store: Store, db_path: Path, minimal_bundle: ir.Bundle, query: str) -> None:
    app = await offline_app(store, minimal_bundle)
    async with asgi_client(app, headers={}) as api:
        opened = await api.get(f"/v1/unsubscribe?{query}")
        clicked = await api.post(f"/v1/unsubscribe?{query}", content="List-Unsubscribe=One-Click")
    assert opened.status_code in (400, 403), opened.text
    assert clicked.status_code in (400, 403), clicked.text
    assert count_rows(db_path, "suppressions") == 0
    assert store.suppression("ana@techcorp.example") is None


async def test_the_genuine_unsubscribe_link_still_works(
        store: Store, db_path: Path, minimal_bundle: ir.Bundle) -> None:
    token = unsubscribe_token(UNSUBSCRIBE_SECRET, "ana@techcorp.example")
    async with asgi_client(await offline_app(store, minimal_bundle), headers={}) as api:
        response = await api.post(f"/v1/unsubscribe?email=ana%40techcorp.example&token={token}",
                                  content="List-Unsubscribe=One-Click")
    assert response.status_code == 200
    assert count_rows(db_path, "suppressions") == 1
