"""The signed tokens of email engagement: which message, which of its links, and nothing else.

A sent message is named by its reference: the first 96 bits of an HMAC of its idempotency key
(`message_ref`), so a token says nothing of the account, the playbook or the key, and no reference
can be guessed from them. A click token is `<ref>.<index>.<mac>` (the index of the link among the
message's links, as stored with it), an open token `<ref>.o.<mac>`; the MAC is an HMAC of the rest,
so a token altered in any part (another index, another message) is refused. Where a token leads
is never in the token: the redirect goes to the link stored with the message under that index.

Tokens are short (at most `MAX_TOKEN_LENGTH` characters) and made of `[0-9a-f.o]` only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

__all__ = ["MAX_LINKS", "MAX_TOKEN_LENGTH", "OPEN", "ReadToken", "TokenError", "click_token", "message_ref",
           "open_token", "read_token"]

MAX_LINKS = 50  # links of one message rewritten; any beyond are left as written
MAX_TOKEN_LENGTH = 64
OPEN = -1  # the index an open token stands for
_REF_CHARS = 24
_MAC_CHARS = 24
_TOKEN = re.compile(r"([0-9a-f]{24})\.(o|[0-9]{1,3})\.([0-9a-f]{24})")


class TokenError(ValueError):
    """A token the engine did not write, or wrote for something else: the reason says which."""


@dataclass(frozen=True)
class ReadToken:
    ref: str  # the message
    index: int  # the link, or OPEN


def _mac(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:_MAC_CHARS]


def message_ref(secret: str, key: str) -> str:
    """The reference of the message sent under `key`: what its tokens name."""
    return hmac.new(secret.encode(), b"message\0" + key.encode(), hashlib.sha256).hexdigest()[:_REF_CHARS]


def click_token(secret: str, ref: str, index: int) -> str:
    body = f"{ref}.{index}"
    return f"{body}.{_mac(secret, 'click.' + body)}"


def open_token(secret: str, ref: str) -> str:
    body = f"{ref}.o"
    return f"{body}.{_mac(secret, 'open.' + body)}"


def read_token(secret: str, token: str, *, click: bool) -> ReadToken:
    """The message and link a token names, once its signature holds; `TokenError` otherwise."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenError(f"the token is longer than {MAX_TOKEN_LENGTH} characters")
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise TokenError("the token is malformed: it is not one the engine writes")
    ref, part, mac = match.groups()
    if click == (part == "o"):
        raise TokenError("the token is for " + ("an open, not a click" if click else "a click, not an open"))
    body = f"{ref}.{part}"
    expected = _mac(secret, ("click." if click else "open.") + body)
    if not hmac.compare_digest(expected, mac):
        raise TokenError("the token's signature does not match: it was altered or not written by the engine")
    index = OPEN if part == "o" else int(part)
    if index >= MAX_LINKS:
        raise TokenError(f"the token names link {index}, and a message has at most {MAX_LINKS}")
    return ReadToken(ref=ref, index=index)
