"""`SmtpMailer` against a real SMTP server (aiosmtpd on a free localhost port): what arrives, what
never gets injected, and which refusals are worth a retry."""

from __future__ import annotations

import hashlib
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from activities.context import OutgoingMail
from activities.smtp_mailer import (
    PermanentDeliveryError,
    SmtpMailer,
    TemporaryDeliveryError,
    UnsafeHeaderError,
    message_id,
)
from engine.settings import Settings
from tests.live_api import free_port

UNSUBSCRIBE = ("http://127.0.0.1:8000/v1/unsubscribe?email=ann.long-name%40example.com"
               "&token=0123456789abcdef0123456789abcdef")


@dataclass
class Relay:
    """An aiosmtpd handler that records every RCPT it is asked for and every message it takes."""

    rcpt_reply: str | None = None  # answer RCPT with this instead of accepting
    data_reply: str | None = None  # answer DATA with this instead of accepting
    rcpts: list[str] = field(default_factory=list)
    received: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        self.rcpts.append(address)
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.received.append(envelope)
        return "250 OK"

    def message(self, index: int = 0) -> EmailMessage:
        parsed = message_from_bytes(self.received[index].original_content or b"", policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def settings_for(port: int, **overrides: Any) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from="Customer Success <success@acme.example>",
                    **overrides)


def mail(key: str = "wf-1/run-1/day-0/send", **changes: Any) -> OutgoingMail:
    values: dict[str, Any] = dict(
        key=key, to="ann@example.com", to_name="Ann Example", subject="Welcome aboard, Acme",
        text="Hi Ann,\nwelcome.\n", html="<p>Hi Ann,</p><p>welcome.</p>", unsubscribe_url=UNSUBSCRIBE,
        at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )
    values.update(changes)
    return OutgoingMail(**values)


async def test_a_message_arrives_as_multipart_text_and_html_with_its_headers(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    await SmtpMailer(settings_for(port)).deliver(mail())

    assert len(handler.received) == 1
    envelope = handler.received[0]
    assert envelope.mail_from == "success@acme.example"
    assert envelope.rcpt_tos == ["ann@example.com"]
    message = handler.message()
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and text.get_content().replace("\r\n", "\n") == "Hi Ann,\nwelcome.\n"
    assert html is not None and "<p>welcome.</p>" in html.get_content()
    assert message["From"] == "Customer Success <success@acme.example>"
    assert message["To"] == "Ann Example <ann@example.com>"
    assert message["Subject"] == "Welcome aboard, Acme"
    assert message["Date"] == "Mon, 02 Mar 2026 09:00:00 +0000"


async def test_the_message_id_is_derived_from_the_idempotency_key(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    mailer = SmtpMailer(settings_for(port))
    await mailer.deliver(mail(key="step-a"))
    await mailer.deliver(mail(key="step-a"))  # a retried activity
    await mailer.deliver(mail(key="step-b"))

    expected = f"<{hashlib.sha256(b'step-a').hexdigest()[:32]}@acme.example>"
    assert message_id("step-a", "Customer Success <success@acme.example>") == expected
    ids = [handler.message(index)["Message-ID"] for index in range(3)]
    assert ids[0] == ids[1] == expected
    assert ids[2] != expected


async def test_the_unsubscribe_headers_follow_rfc_8058_and_keep_a_long_url_intact(
        relay: tuple[Relay, int]) -> None:
    handler, port = relay
    await SmtpMailer(settings_for(port)).deliver(mail())

    raw = (handler.received[0].original_content or b"").decode()
    assert f"\r\nList-Unsubscribe: <{UNSUBSCRIBE}>\r\n" in raw  # one line, not RFC 2047-encoded
    assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw


async def test_a_message_without_html_or_unsubscribe_url_is_plain_text_without_list_headers(
        relay: tuple[Relay, int]) -> None:
    handler, port = relay
    await SmtpMailer(settings_for(port)).deliver(mail(html=None, unsubscribe_url=None))

    message = handler.message()
    assert message.get_content_type() == "text/plain"
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


async def test_a_name_with_accents_and_a_comma_is_encoded_as_one_recipient(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    await SmtpMailer(settings_for(port)).deliver(
        mail(to_name="Zoë O'Brien, CFO", subject="Grüße — your trial", text="Grüße, Zoë\n"))

    raw = handler.received[0].original_content or b""
    assert raw.isascii()  # headers RFC 2047-encoded, bodies quoted-printable: no 8BITMIME needed
    message = handler.message()
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [("Zoë O'Brien, CFO",
                                                                                   "ann@example.com")]
    assert message["Subject"] == "Grüße — your trial"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and text.get_content().replace("\r\n", "\n") == "Grüße, Zoë\n"
    assert handler.rcpts == ["ann@example.com"]


@pytest.mark.parametrize("changes", [
    {"subject": "Welcome\r\nBcc: spy@evil.example"},
    {"subject": "Welcome\nBcc: spy@evil.example"},
    {"to_name": "Ann\r\nBcc: spy@evil.example"},
    {"to_name": "Ann\u2028Bcc: spy@evil.example"},
    {"unsubscribe_url": "http://x.example/u\r\nBcc: spy@evil.example"},
], ids=["subject-crlf", "subject-lf", "name-crlf", "name-line-separator", "unsubscribe-url"])
async def test_a_line_break_in_a_header_is_refused_and_never_adds_a_recipient(
        relay: tuple[Relay, int], changes: dict[str, str]) -> None:
    handler, port = relay
    with pytest.raises(UnsafeHeaderError, match="line break"):
        await SmtpMailer(settings_for(port)).deliver(mail(**changes))

    assert handler.rcpts == []
    assert handler.received == []


async def test_an_address_that_is_not_exactly_one_address_is_refused_for_good(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    with pytest.raises(PermanentDeliveryError, match="not one email address"):
        await SmtpMailer(settings_for(port)).deliver(mail(to="ann@example.com, spy@evil.example"))
    assert handler.rcpts == []


async def test_a_recipient_answered_421_is_a_temporary_error(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    handler.rcpt_reply = "421 4.7.0 Too many messages, try again later"
    with pytest.raises(TemporaryDeliveryError) as caught:
        await SmtpMailer(settings_for(port)).deliver(mail())
    assert caught.value.code == 421
    assert not isinstance(caught.value, PermanentDeliveryError)


async def test_a_recipient_answered_550_is_a_permanent_error(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    handler.rcpt_reply = "550 5.1.1 No such user"
    with pytest.raises(PermanentDeliveryError, match="550") as caught:
        await SmtpMailer(settings_for(port)).deliver(mail())
    assert caught.value.code == 550


async def test_content_answered_451_is_temporary_and_554_is_permanent(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    mailer = SmtpMailer(settings_for(port))
    handler.data_reply = "451 4.3.0 Local error, try later"
    with pytest.raises(TemporaryDeliveryError):
        await mailer.deliver(mail())
    handler.data_reply = "554 5.7.1 Message rejected as spam"
    with pytest.raises(PermanentDeliveryError):
        await mailer.deliver(mail())


async def test_a_refused_connection_is_a_temporary_error() -> None:
    port = free_port()  # nothing listens there now
    with pytest.raises(TemporaryDeliveryError, match="could not be reached"):
        await SmtpMailer(settings_for(port), timeout=5).deliver(mail())


class Logins:
    def __init__(self, password: str) -> None:
        self.password = password
        self.seen: list[tuple[str, str]] = []

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.seen.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password.decode() == self.password, handled=False)


@pytest.fixture
def auth_relay() -> Iterator[tuple[Relay, Logins, int]]:
    handler, logins = Relay(), Logins("s3cret")
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=logins,
                            auth_require_tls=False)
    controller.start()
    try:
        yield handler, logins, controller.port
    finally:
        controller.stop()


async def test_the_mailer_logs_in_when_a_user_is_configured(auth_relay: tuple[Relay, Logins, int]) -> None:
    handler, logins, port = auth_relay
    await SmtpMailer(settings_for(port, smtp_user="playbook", smtp_password=SecretStr("s3cret"))).deliver(mail())
    assert logins.seen == [("playbook", "s3cret")]
    assert len(handler.received) == 1


async def test_a_rejected_login_is_temporary_so_a_fixed_password_still_sends(
        auth_relay: tuple[Relay, Logins, int]) -> None:
    handler, _, port = auth_relay
    with pytest.raises(TemporaryDeliveryError, match="refused the session"):
        await SmtpMailer(settings_for(port, smtp_user="playbook", smtp_password=SecretStr("wrong"))).deliver(mail())
    assert handler.received == []


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


async def test_starttls_upgrades_the_session_before_the_message_goes(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=server_tls,
                            require_starttls=True)
    controller.start()
    try:
        mailer = SmtpMailer(settings_for(controller.port, smtp_starttls=True), tls_context=client_tls)
        await mailer.deliver(mail())
        with pytest.raises(TemporaryDeliveryError):  # without STARTTLS this relay takes nothing
            await SmtpMailer(settings_for(controller.port, smtp_starttls=False)).deliver(mail())
    finally:
        controller.stop()
    assert len(handler.received) == 1


async def test_starttls_required_but_not_offered_is_a_temporary_error(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    with pytest.raises(TemporaryDeliveryError):
        await SmtpMailer(settings_for(port, smtp_starttls=True)).deliver(mail())
    assert handler.received == []


def test_a_mail_from_without_an_address_is_refused_at_start_up() -> None:
    with pytest.raises(PermanentDeliveryError, match="mail_from"):
        SmtpMailer(Settings(mail_from="Customer Success"))
