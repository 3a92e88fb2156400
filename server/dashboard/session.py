"""Signing in to the dashboard: the API token once, then a signed session cookie.

The cookie carries when it expires, a random session id (two sign-ins never share a cookie) and an
HMAC-SHA256 of both, keyed by an HMAC of the API token (`session_key`): it holds no secret, a
forged or edited one fails the check, and changing the token signs everybody out. Signing out
revokes the session id in the store (`Store.revoke_session`), so a copied cookie stops working too.
Forms that change something carry a second HMAC of the cookie
(`form_token`), so another site cannot post them with the user's cookie.

With no token configured (the local dev stack) there is no sign-in: every request may read and act.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

__all__ = [
    "COOKIE",
    "SESSION_SECONDS",
    "form_token",
    "new_session",
    "session_expiry",
    "session_id",
    "same_secret",
    "session_key",
    "valid_form_token",
    "valid_session",
]

COOKIE = "playbook_session"
SESSION_SECONDS = 12 * 3600  # a working day; then the token is asked for again
_VERSION = "v2"


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def session_key(token: str) -> bytes:
    """The key that signs sessions: an HMAC of the API token, never the token itself."""
    return hmac.new(token.encode(), b"playbook dashboard session", hashlib.sha256).digest()


def _signature(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def new_session(token: str, now: float | None = None, seconds: int = SESSION_SECONDS) -> str:
    """A cookie value: `v2.<expires, unix seconds>.<session id>.<signature>`."""
    expires = int(now if now is not None else time.time()) + seconds
    payload = f"{_VERSION}.{expires}.{secrets.token_hex(16)}"
    return f"{payload}.{_signature(session_key(token), payload)}"


def _parts(value: str) -> tuple[str, str, str, str]:
    version, _, rest = value.partition(".")
    expires, _, rest = rest.partition(".")
    session, _, signature = rest.partition(".")
    return version, expires, session, signature


def session_id(value: str) -> str:
    """The random id of a cookie (what signing out revokes)."""
    return _parts(value)[2]


def session_expiry(value: str) -> int:
    """When a cookie `valid_session` accepted expires, in Unix seconds."""
    return int(_parts(value)[1])


def valid_session(value: str | None, token: str, now: float | None = None) -> bool:
    if not value:
        return False
    version, expires, session, signature = _parts(value)
    if version != _VERSION or not expires.isdigit() or len(session) != 32 or not signature:
        return False
    if not hmac.compare_digest(signature, _signature(session_key(token), f"{version}.{expires}.{session}")):
        return False
    return int(expires) > (now if now is not None else time.time())


def form_token(session: str, token: str) -> str:
    """What a form of this session posts back to show it came from the dashboard's own page."""
    return _signature(session_key(token), f"form:{session}")


def valid_form_token(given: str | None, session: str, token: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given), form_token(session, token))
