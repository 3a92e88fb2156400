"""RFC 2047 encoded words carrying a line break, in a contact's name or a rendered subject: checked
as the mail library decodes them, and on the bytes the SMTP server (aiosmtpd) receives."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import pytest

from activities.context import ActivityContext, OutgoingMail
from activities.sending import send_message
from activities.smtp_mailer import SmtpMailer, UnsafeHeaderError
from dsl import ir
from engine.settings import Settings
from engine.store import Store
from engine.workflows.payloads import EmailParams
from tests.bad_input.conftest import UNSUBSCRIBE_SECRET, offline_starter
from tests.bad_input.test_mail_and_auth import Transcript, relay

__all__ = ["relay"]

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENCODED_BREAK = "=?utf-8?q?Ana=0D=0AReply-To:_x@evil.example=0D=0A=0D=0AYour_invoice_is_overdue?="
NESTED_BREAK = "=?utf-8?q?=3D=3Futf-8=3Fq=3FAna=3D0D=3D0AReply-To:_x@evil.example=3F=3D?="
BASE64_BREAK = "=?utf-8?b?QW5hDQpSZXBseS1UbzogeEBldmlsLmV4YW1wbGU=?="


def _mailer(port: int) -> SmtpMailer:
    return SmtpMailer(Settings(smtp_host="127.0.0.1", smtp_port=port,
                               mail_from="Customer Success <success@acme.example>"))


def _mail(**changes: Any) -> OutgoingMail:
    values: dict[str, Any] = dict(key="wf/run/day-0/send", to="ana@techcorp.example", to_name="Ana",
                                  subject="Welcome", text="Hi\n", html=None, unsubscribe_url=None, at=AT)
    values.update(changes)
    return OutgoingMail(**values)


def _headers(raw: bytes) -> list[bytes]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    return [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n") if line[:1] not in (b" ", b"\t")]


@pytest.mark.parametrize("field", ["to_name", "subject"])
@pytest.mark.parametrize("value", [ENCODED_BREAK, NESTED_BREAK, BASE64_BREAK], ids=["q", "nested", "base64"])
async def test_an_encoded_line_break_in_a_header_value_is_refused_and_nothing_reaches_the_relay(
        relay: tuple[Transcript, int], field: str, value: str) -> None:
    transcript, port = relay
    with pytest.raises(UnsafeHeaderError, match="line break"):
        await _mailer(port).deliver(_mail(**{field: value}))
    assert transcript.rcpts == [] and transcript.received == []


async def test_a_harmless_encoded_word_goes_out_decoded_with_only_the_headers_the_mailer_sets(
        relay: tuple[Transcript, int]) -> None:
    transcript, port = relay
    await _mailer(port).deliver(_mail(to_name="=?utf-8?q?Ana_Mar=C3=ADa?=", subject="=?utf-8?q?Hola?="))
    raw = transcript.received[0].original_content or b""
    assert _headers(raw) == [b"from", b"to", b"subject", b"date", b"message-id", b"content-type",
                             b"content-transfer-encoding", b"mime-version"]
    message = message_from_bytes(raw, policy=default_policy)
    assert message["To"].addresses[0].display_name == "Ana María"
    assert str(message["Subject"]) == "Hola"


@pytest.mark.parametrize("name", [ENCODED_BREAK, NESTED_BREAK, BASE64_BREAK], ids=["q", "nested", "base64"])
async def test_a_contact_name_with_an_encoded_line_break_goes_out_as_plain_text_in_the_to_header(
        store: Store, relay: tuple[Transcript, int], minimal_bundle: ir.Bundle, name: str) -> None:
    transcript, port = relay
    store.add_change("techcorp", AT, event=None, data={}, event_id="t-1",
                     traits={"name": "TechCorp", "primary_contact": {"email": "ana@techcorp.example", "name": name}})
    context = ActivityContext(store=store, bundle=minimal_bundle, starter=await offline_starter(store),
                              mailer=_mailer(port), public_url="http://api.test",
                              extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET})
    source = ("{% block subject %}Welcome{% endblock %}{% block text %}The real body{% endblock %}"
              "{% block html %}<p>The real body</p>{% endblock %}")
    part = ir.TemplateText(source=source, path="welcome.email.jinja")
    template = ir.Template(name="welcome", channel="email", subject=part, text=part, html=part)
    params = EmailParams(account="techcorp", playbook="onboarding", workflow_id="wf-1", key="wf-1/run/day-0/send",
                         at=AT, channel="email", template=template, to=["primary_contact"])
    assert await send_message(params, context) == "sent"
    assert transcript.rcpts == ["ana@techcorp.example"]
    raw = transcript.received[0].original_content or b""
    assert b"reply-to" not in _headers(raw)
    message = message_from_bytes(raw, policy=default_policy)
    assert message["Reply-To"] is None
    display = message["To"].addresses[0].display_name
    assert "\r" not in display and "\n" not in display and display.startswith("Ana")
    assert [a.addr_spec for a in message["To"].addresses] == ["ana@techcorp.example"]
    body = message.get_body(("plain",))
    assert body is not None and body.get_content().strip() == "The real body"
