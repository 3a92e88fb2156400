"""Who may call the API: `Authorization: Bearer <token>`, compared with the configured token.

Segment's tracking API sends its write key as the username of HTTP basic auth, so the Segment
endpoints take that too (`require_write_key`). A missing or wrong credential is answered 401
with a JSON reason before the body is read, so nothing is stored.

With no token configured (`PLAYBOOK_API_TOKEN` unset: the embedded dev stack) every request is
accepted; `create_app` says so in the log when it starts.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.web.errors import ApiError
from server.web.state import State

__all__ = ["require_token", "require_write_key"]

# Declared for the OpenAPI document (the "Authorize" button of /docs); checked by hand below.
_bearer = HTTPBearer(auto_error=False, description="The API token (PLAYBOOK_API_TOKEN).")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="playbook"'}


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _unauthorized(detail: str, challenge: dict[str, str] = _CHALLENGE) -> ApiError:
    return ApiError(401, "unauthorized", detail, headers=challenge)


def _bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _basic_username(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0]


def require_token(
    request: Request, state: State, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    expected = state.token
    if expected is None:
        return
    given = _bearer_token(request)
    if given is None:
        raise _unauthorized("send the API token as 'Authorization: Bearer <token>'")
    if not _same(given, expected):
        raise _unauthorized("the API token is not valid")


def require_write_key(request: Request, state: State) -> None:
    """Segment's write key as the basic-auth username (or the usual bearer token)."""
    expected = state.token
    if expected is None:
        return
    given = _basic_username(request)
    if given is None:
        given = _bearer_token(request)
    challenge = {"WWW-Authenticate": 'Basic realm="playbook"'}
    if given is None:
        raise _unauthorized("send the write key as the username of HTTP basic auth (Segment's form) "
                            "or the API token as 'Authorization: Bearer <token>'", challenge)
    if not _same(given, expected):
        raise _unauthorized("the write key is not valid", challenge)
