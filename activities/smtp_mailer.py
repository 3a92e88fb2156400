"""Hand rendered messages to an SMTP relay: the production `Mailer`.

Each message is multipart/alternative (text, then HTML when the template has one) with a
`Message-ID` derived from the step's idempotency key: an activity retried after the relay took
the message sends a byte-identical copy that a relay or mailbox can recognise as a duplicate.

Templates are untrusted (architecture decision 8): every header value is checked for line
breaks and control characters before it is set, the envelope names exactly one recipient (never
taken from the headers), and a message that fails the check is refused with `UnsafeHeaderError`.
A value is checked as the mail library will read it, RFC 2047 encoded words decoded
(`=?utf-8?q?Ana=0D=0AReply-To:...?=` is a line break once decoded), and the bytes that go to the
relay are checked once more: exactly the headers this module set, each on its own line, then the
body. A message that would read otherwise on the wire is never handed to the relay.

The errors, for the activity registry:

    DeliveryError                  the relay did not take the message
    ├── TemporaryDeliveryError     retry: refused connection, timeout, 4xx, the relay's own setup
    └── PermanentDeliveryError     do not retry: 5xx to the sender, recipient or content
        └── UnsafeHeaderError      a header value holds a line break or control character

A 5xx during the session's setup (greeting, EHLO, STARTTLS, AUTH), or a 530 to MAIL FROM
("authenticate first", "STARTTLS first"), says nothing about the message but a lot about the
relay's configuration, which an operator can fix while the activity backs off: it is temporary.
"""

from __future__ import annotations

import hashlib
import ssl
import unicodedata
from datetime import UTC
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from email.utils import format_datetime, parseaddr
from typing import cast

import aiosmtplib
from aiosmtplib.email import flatten_message

from activities.context import OutgoingMail
from engine.settings import Settings

__all__ = [
    "DeliveryError",
    "PermanentDeliveryError",
    "SmtpMailer",
    "TemporaryDeliveryError",
    "UnsafeHeaderError",
    "build_message",
    "message_id",
    "plain_display_name",
    "wire_bytes",
]

DEFAULT_TIMEOUT = 30.0  # seconds, for the connection and for each SMTP command
_MAX_LINE = 998  # RFC 5322 §2.1.1: the hard limit of a line, CRLF excluded
_SESSION_REFUSED = 530  # to MAIL FROM: "authentication required" or "STARTTLS first" (RFC 4954, 3207)
_MAX_DECODINGS = 4  # encoded words inside encoded words: refused past this depth
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


class DeliveryError(Exception):
    """The relay did not take the message."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryDeliveryError(DeliveryError):
    """Worth another attempt later: the relay is down, busy, or answered 4xx."""


class PermanentDeliveryError(DeliveryError):
    """Another attempt would fail the same way: the relay answered 5xx to this message."""


class UnsafeHeaderError(PermanentDeliveryError):
    """A header value would break out of its header (a line break, a control character)."""


class _VerbatimHeader(UnstructuredHeader):
    """An ASCII header written as is: email's folder would RFC 2047-encode a URL longer than a
    line, which no mail client reads back as a URL (RFC 2369 wants `<url>` intact)."""

    name: str  # from BaseHeader, which the registry mixes in

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _policy() -> EmailPolicy[EmailMessage]:
    registry = HeaderRegistry()
    registry.map_to_type("list-unsubscribe", cast("type[BaseHeader]", _VerbatimHeader))
    # 7bit: non-ASCII bodies go quoted-printable or base64, so no relay needs 8BITMIME.
    return EmailPolicy(header_factory=registry, linesep="\r\n", cte_type="7bit")


_POLICY = _policy()


def _check_plain(field: str, value: str, shown: str) -> None:
    for char in value:
        if char in _LINE_BREAKS or (unicodedata.category(char) == "Cc" and char != "\t"):
            raise UnsafeHeaderError(f"{field}: the value holds a line break or control character "
                                    f"({char!r}) and would inject a header: {shown!r}")


def _decoded(value: str) -> str:
    """`value` as the mail library reads it back: RFC 2047 encoded words decoded."""
    return str(_POLICY.header_factory("subject", value))


def plain_display_name(name: str) -> str:
    """A contact's name as a header may carry it: encoded words decoded (a trait never becomes one),
    every run of white space or control characters one space."""
    current = name
    for _ in range(_MAX_DECODINGS):
        if "=?" not in current:
            break
        try:
            decoded = _decoded(current)
        except Exception:  # a malformed encoded word stays text
            break
        if decoded == current:
            break
        current = decoded
    words = "".join(" " if char in _LINE_BREAKS or unicodedata.category(char) == "Cc" else char for char in current)
    return " ".join(words.split()).replace("=?", "= ?")


def _safe(field: str, value: str) -> str:
    """`value` itself, once checked as written and as decoded (until decoding changes nothing)."""
    _check_plain(field, value, value)
    current = value
    for _ in range(_MAX_DECODINGS):
        if "=?" not in current:
            return value
        try:
            decoded = _decoded(current)
        except Exception as error:  # a malformed encoded word: the parser's own errors vary
            raise UnsafeHeaderError(f"{field}: the value holds a malformed encoded word: {value!r}") from error
        _check_plain(field, decoded, value)
        if decoded == current:
            return value
        current = decoded
    raise UnsafeHeaderError(f"{field}: the value holds encoded words nested too deep: {value!r}")


def _address(field: str, addr_spec: str, display_name: str = "") -> Address:
    _safe(field, display_name)
    _safe(field, addr_spec)
    try:
        address = Address(display_name=display_name, addr_spec=addr_spec.strip())
    except Exception as error:  # email raises ValueError, HeaderParseError or a defect class
        raise PermanentDeliveryError(f"{field}: not one email address: {addr_spec!r} ({error})") from error
    if not address.username or not address.domain:
        raise PermanentDeliveryError(f"{field}: not one email address: {addr_spec!r}")
    return address


def _sender(mail_from: str) -> Address:
    name, addr_spec = parseaddr(_safe("From", mail_from))
    if "@" not in addr_spec:
        raise PermanentDeliveryError(f"mail_from: no email address in {mail_from!r}")
    return _address("From", addr_spec, name)


def message_id(key: str, mail_from: str) -> str:
    """`<sha256(key)[:32]@domain-of-mail_from>`: the same key always gives the same Message-ID."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "playbook.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _unsubscribe(url: str) -> str:
    _safe("List-Unsubscribe", url)
    if not url.isascii() or any(char in url for char in " <>\t"):
        raise UnsafeHeaderError(f"List-Unsubscribe: the URL must be ASCII without spaces or angle brackets: {url!r}")
    value = f"<{url}>"
    if len("List-Unsubscribe: ") + len(value) > _MAX_LINE:
        raise PermanentDeliveryError(f"List-Unsubscribe: the URL is longer than a mail header line: {url[:80]}...")
    return value


def build_message(mail: OutgoingMail, mail_from: str) -> EmailMessage:
    """The message as it goes on the wire; raises `UnsafeHeaderError` rather than inject a header."""
    sender = _sender(mail_from)
    message = EmailMessage(policy=_POLICY)
    # an owner of the account as the From, when the sender domains allowed it (activities.sender_identity)
    message["From"] = _address("From", mail.from_address, mail.from_name) if mail.from_address else sender
    message["To"] = _address("To", mail.to, mail.to_name)
    message["Subject"] = _safe("Subject", mail.subject)
    at = mail.at if mail.at.tzinfo else mail.at.replace(tzinfo=UTC)
    message["Date"] = format_datetime(at)  # the step's own time: a re-sent copy is identical
    message["Message-ID"] = message_id(mail.key, mail_from)
    if mail.reply_to:
        message["Reply-To"] = _address("Reply-To", mail.reply_to)
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = _unsubscribe(mail.unsubscribe_url)
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    for name, value in message.items():  # as the library parsed each one, encoded words included
        _safe(name, str(value))
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
        # A boundary from the key, not a random one: a re-sent copy is byte for byte the same.
        message.set_boundary("=_" + hashlib.sha256(f"boundary:{mail.key}".encode()).hexdigest()[:40])
    return message


def wire_bytes(message: EmailMessage, *, utf8: bool = False) -> bytes:
    """The bytes handed to the relay, checked: the headers `build_message` set, one each, then the
    body. Raises `UnsafeHeaderError` when the serialised message would read otherwise."""
    raw = flatten_message(message, utf8=utf8, cte_type="7bit")  # utf8: an address that is not ASCII
    head, blank, _body = raw.partition(b"\r\n\r\n")
    if not blank:
        raise UnsafeHeaderError("the message has no blank line between its headers and its body")
    expected = [name.lower() for name in message]
    seen: list[str] = []
    for line in head.split(b"\r\n"):
        if b"\r" in line or b"\n" in line or b"\0" in line:
            raise UnsafeHeaderError(f"a header line holds a bare line break or NUL: {line[:80]!r}")
        if line[:1] in (b" ", b"\t"):
            if not seen:
                raise UnsafeHeaderError("the message starts with a continuation line")
            continue  # a folded continuation of the header before
        name, colon, _ = line.partition(b":")
        if not colon:
            raise UnsafeHeaderError(f"a header line is not `Name: value`: {line[:80]!r}")
        seen.append(name.decode("ascii", "replace").strip().lower())
    if seen != expected:
        raise UnsafeHeaderError(f"the message would carry the headers {seen} instead of {expected}")
    return raw


def _classify(error: aiosmtplib.SMTPException) -> DeliveryError:
    """A temporary or permanent error, by the phase that failed and the reply code."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refusals = error.recipients
        code = min((refusal.code for refusal in refusals), default=None)
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refusals)
        kind: type[DeliveryError] = PermanentDeliveryError if code and 500 <= code < 600 else TemporaryDeliveryError
        return kind(f"the relay refused the recipient: {detail}", code)
    if isinstance(error, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        code = error.code
        if code == _SESSION_REFUSED:
            return TemporaryDeliveryError(f"the relay refused the session: {code} {error.message}", code)
        kind = PermanentDeliveryError if 500 <= code < 600 else TemporaryDeliveryError
        return kind(f"the relay refused the message: {code} {error.message}", code)
    if isinstance(error, aiosmtplib.SMTPResponseException):  # greeting, EHLO, STARTTLS, AUTH
        return TemporaryDeliveryError(f"the relay refused the session: {error.code} {error.message}", error.code)
    return TemporaryDeliveryError(f"the relay could not be reached: {type(error).__name__}: {error}")


class SmtpMailer:
    """A `Mailer` that hands each message to the relay of `settings` (one connection a message)."""

    def __init__(self, settings: Settings, *, timeout: float = DEFAULT_TIMEOUT,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.timeout = timeout
        self.tls_context = tls_context  # for a relay whose certificate a private CA signed
        _sender(settings.mail_from)  # a bad From fails at start-up, not on the first send

    async def deliver(self, mail: OutgoingMail) -> None:
        message = build_message(mail, self.settings.mail_from)
        sender = _sender(self.settings.mail_from).addr_spec
        recipient = _address("To", mail.to).addr_spec
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host, port=settings.smtp_port, timeout=self.timeout,
            start_tls=settings.smtp_starttls, tls_context=self.tls_context,
            username=settings.smtp_user or None, password=password if settings.smtp_user else None,
        )
        try:
            async with client:
                # The envelope names the one recipient: headers never add one (no Bcc, no Cc).
                utf8 = not f"{sender}{recipient}".isascii()
                raw = wire_bytes(message, utf8=utf8)  # checked once more, exactly as it goes out
                options = ["SMTPUTF8"] if utf8 else []
                await client.sendmail(sender, [recipient], raw, mail_options=options)
        except aiosmtplib.SMTPException as error:
            raise _classify(error) from error
        except OSError as error:  # refused, unreachable, reset: the network, not the message
            raise TemporaryDeliveryError(f"the relay could not be reached: {error}") from error
