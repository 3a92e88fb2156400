"""`webhook.post`: send a signed JSON body to any HTTP endpoint, once per step.

    do webhook.post url="https://hooks.example.com/cs" secret_env="PLAYBOOK_SECRET_CS_HOOK"
        body="{\\"account\\": {{ account.id|tojson }}, \\"band\\": {{ health.band|tojson }}}"

Every request carries three headers a receiver uses:

- `Idempotency-Key`: the step's key (workflow id, run and step path). Every attempt of one step
  sends the same key, so a receiver that keeps the keys it has handled acts once per step even
  when an attempt timed out after the receiver got it and the engine tried again.
- `X-Playbook-Timestamp`: Unix seconds when this attempt was sent.
- `X-Playbook-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the secret, of
  `"<timestamp>.<body>"` (the exact bytes sent). Sent when a secret is configured.

What happens on failure (the journey records a `failed` action for a permanent error and goes on
with its next step; a retryable one is tried again with backoff):

    WebhookError
     ├── WebhookUnavailable   retryable: timeout, connection error, 5xx, 408, 429
     └── WebhookRejected      permanent: any other non-2xx status (4xx, 3xx)
    │   └── WebhookForbidden  permanent: the outbound policy refuses the URL (activities/egress.py)
    WebhookConfigError        permanent: a missing secret variable, a body that is not an object

Where a request may go is the outbound policy's (`activities/egress.py`): public addresses, or
the hosts on `PLAYBOOK_WEBHOOK_ALLOWED_HOSTS`; a URL taken from account data (`url=hook`) or
rendered from a template only for an allowed host. `secret_env` names a variable starting with
`PLAYBOOK_SECRET_`: a playbook cannot sign with (and so leak) any other variable of the worker,
`PLAYBOOK_API_TOKEN` included.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from activities.egress import EgressPolicy, EgressRefused
from dsl import ir
from engine.semantics.ir_walk import walk

if TYPE_CHECKING:
    from activities.context import PluginCall

__all__ = [
    "RETRYABLE_STATUSES",
    "WebhookConfigError",
    "WebhookError",
    "WebhookForbidden",
    "WebhookParams",
    "WebhookRejected",
    "WebhookUnavailable",
    "post_json",
    "post_webhook",
    "sign",
    "written_in_playbook",
]

# Statuses that say "try again later" rather than "this request is wrong".
RETRYABLE_STATUSES = frozenset({408, 425, 429})
SECRET_ENV_PREFIX = "PLAYBOOK_SECRET_"  # the only variables `secret_env` may name
SECRET_ENV_PATTERN = f"^{SECRET_ENV_PREFIX}[A-Za-z0-9_]+$"  # for `check`, through the JSON schema
USER_AGENT = "playbook-webhook/1"


class WebhookError(Exception):
    """A delivery that did not succeed."""


class WebhookUnavailable(WebhookError):
    """The receiver could not take the request now: retried."""


class WebhookRejected(WebhookError):
    """The receiver refused the request: not retried, recorded as `failed`."""


class WebhookForbidden(WebhookRejected):
    """The outbound policy does not allow the URL: not sent, not retried, recorded as `failed`."""


class WebhookConfigError(ValueError):
    """The step cannot be sent as configured: not retried, recorded as `failed`."""


class WebhookParams(BaseModel):
    """POST a JSON object to a URL, signed with HMAC-SHA256 and carrying the step's idempotency key."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="The endpoint, http:// or https://.")
    body: dict[str, Any] = Field(
        description="A JSON object (written as text in a playbook); insert values with {{ x|tojson }}.",
    )
    secret: SecretStr | None = Field(default=None, description="The HMAC key itself (prefer secret_env).")
    secret_env: str | None = Field(
        default=None, description="The environment variable that holds the HMAC key (PLAYBOOK_SECRET_...).",
        json_schema_extra={"pattern": SECRET_ENV_PATTERN})
    timeout_seconds: float = Field(default=10, gt=0, le=60, description="How long one attempt may take.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {url!r}")
        return url

    @field_validator("secret_env")
    @classmethod
    def _secret_variable(cls, name: str | None) -> str | None:
        if name is not None and (not name.startswith(SECRET_ENV_PREFIX) or name == SECRET_ENV_PREFIX):
            raise ValueError(f"secret_env must name a variable starting with {SECRET_ENV_PREFIX} (got {name!r}): "
                             "a playbook may not read the worker's other variables")
        return name

    @field_validator("body", mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"body is not valid JSON ({error.msg} at column {error.colno}); "
                    "insert values with {{ value|tojson }}"
                ) from error
        if not isinstance(value, dict):
            raise ValueError("body must be a JSON object ({...})")
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookParams:
        if self.secret is not None and self.secret_env is not None:
            raise ValueError("give secret or secret_env, not both")
        return self

    def secret_value(self) -> bytes | None:
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        if self.secret_env is None:
            return None
        value = os.environ.get(self.secret_env)
        if not value:
            raise WebhookConfigError(f"the environment variable {self.secret_env} (secret_env) is not set")
        return value.encode()


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The `X-Playbook-Signature` value: `sha256=<hex HMAC-SHA256 of "timestamp.body">`."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def written_in_playbook(call: PluginCall, activity: str, name: str, value: str) -> bool:
    """Whether `value` is the text the playbook itself gives parameter `name` of `activity` (not
    a field of the account, not a rendered template)."""
    spec = call.context.bundle.playbooks.get(call.playbook)
    if spec is None:
        return False
    for step in spec.steps:
        for _path, statement in walk(step.body, ""):
            if isinstance(statement, ir.Do) and statement.activity == activity:
                param = statement.params.get(name)
                if param is not None and param.kind == "literal" and param.value == value and "{" not in value:
                    return True
    return False


async def post_json(url: str, payload: bytes, headers: dict[str, str], timeout: float, *,
                    policy: EgressPolicy, from_account_data: bool) -> httpx.Response:
    """One POST where the outbound policy allows it; raises `WebhookUnavailable` (retry) or
    `WebhookRejected` (do not) unless it succeeded."""
    try:
        target = await policy.target(url, from_account_data=from_account_data)
    except EgressRefused as error:
        raise WebhookForbidden(f"POST {url}: refused by the outbound policy: {error}") from error
    except ConnectionError as error:
        raise WebhookUnavailable(f"POST {url}: {error}") from error
    sent = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    if target.host_header is not None:
        sent["Host"] = target.host_header
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = await client.post(target.url, content=payload, headers=sent, extensions=extensions)
    except httpx.TimeoutException as error:
        raise WebhookUnavailable(f"POST {url}: no answer within {timeout:g}s") from error
    except httpx.TransportError as error:
        raise WebhookUnavailable(f"POST {url}: {type(error).__name__}: {error}") from error
    status = response.status_code
    if 200 <= status < 300:
        return response
    detail = f"POST {url}: HTTP {status} {_snippet(response)}".rstrip()
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise WebhookUnavailable(detail)
    raise WebhookRejected(detail)


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = " ".join(response.text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def post_webhook(params: WebhookParams, call: PluginCall) -> dict[str, Any]:
    payload = json.dumps(params.body, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {"Idempotency-Key": call.key, "X-Playbook-Timestamp": timestamp}
    secret = params.secret_value()
    if secret is not None:
        headers["X-Playbook-Signature"] = sign(secret, timestamp, payload)
    literal = written_in_playbook(call, "webhook.post", "url", params.url)
    response = await post_json(params.url, payload, headers, params.timeout_seconds,
                               policy=call.context.egress, from_account_data=not literal)
    return {"status": response.status_code}
