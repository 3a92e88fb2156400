"""`hubspot.create_task`: one HubSpot task per playbook step.

    do hubspot.create_task subject="Call {{ account.name }}" owner_email=csm.email due_days=2

Two requests to HubSpot's CRM API (`api_url` of the plugin's configuration, default
https://api.hubapi.com), with the private-app `token` of its configuration as a bearer token. The
configuration is `[plugins.hubspot]` in playbook.toml, or `PLAYBOOK_PLUGIN_HUBSPOT_TOKEN` and
`PLAYBOOK_PLUGIN_HUBSPOT_API_URL`; a worker whose playbooks call the activity does not start
without a token.

1. `GET /crm/v3/owners/?email=<owner_email>` finds the owner's id;
2. `POST /crm/v3/objects/tasks` creates the task, with the step's idempotency key in the
   `Idempotency-Key` header. A receiver that honours it (a gateway, HubSpot-like services, the
   tests' server) creates one task per step however often the engine retries.

Errors: a timeout, a connection error, HTTP 429 or 5xx is retried (`HubSpotUnavailable`);
any other 4xx or an unknown owner is permanent (`HubSpotRejected`) and the journey records the
step as `failed` with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

if TYPE_CHECKING:
    from activities.context import PluginCall

__all__ = [
    "DEFAULT_API_URL",
    "HubSpotConfig",
    "HubSpotConfigError",
    "HubSpotRejected",
    "HubSpotTaskParams",
    "HubSpotUnavailable",
    "create_task",
    "create_task_activity",
]

DEFAULT_API_URL = "https://api.hubapi.com"


class HubSpotUnavailable(Exception):
    """HubSpot could not take the request now (timeout, 429, 5xx): the engine retries."""


class HubSpotRejected(Exception):
    """HubSpot refused the request (4xx, unknown owner): permanent."""


class HubSpotConfigError(Exception):
    """The plugin is not configured (no token): permanent."""


class HubSpotConfig(BaseModel):
    """`[plugins.hubspot]` in playbook.toml (or `PLAYBOOK_PLUGIN_HUBSPOT_<KEY>`)."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr = Field(description="A private app's access token (create tasks, read owners).")
    api_url: str = Field(default=DEFAULT_API_URL, description="The API's base URL.")
    timeout_seconds: float = Field(default=10, gt=0, le=50, description="How long one request may take.")


class HubSpotTaskParams(BaseModel):
    """Create a HubSpot task for an owner, due some days after the step."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=500, description="The task's subject; a template.")
    owner_email: str = Field(description="The HubSpot user who owns the task, e.g. csm.email.")
    due_days: int = Field(default=3, ge=0, le=365, description="Days after the step the task is due.")
    notes: str | None = Field(default=None, description="The task's body; a template.")
    priority: Literal["LOW", "MEDIUM", "HIGH"] = Field(default="MEDIUM", description="The task's priority.")

    @field_validator("owner_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError(f"owner_email is not an email address: {value!r}")
        return value.strip()


async def create_task_activity(params: HubSpotTaskParams, call: PluginCall) -> dict[str, Any]:
    """The registered activity: what the engine calls with the step's key, time and configuration."""
    if not isinstance(call.config, HubSpotConfig):
        raise HubSpotConfigError("the hubspot plugin is not configured: set [plugins.hubspot] token")
    return await create_task(params, call.config, key=call.key, at=call.at)


async def create_task(params: HubSpotTaskParams, config: HubSpotConfig, *, key: str, at: datetime) -> dict[str, Any]:
    """Create the task; returns `{"id": <task id>, "owner_id": <owner id>}`."""
    headers = {"Authorization": f"Bearer {config.token.get_secret_value()}", "Accept": "application/json"}
    base = config.api_url.rstrip("/")
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=config.timeout_seconds) as client:
        owners = await _send(client, "GET", "/crm/v3/owners/", params={"email": params.owner_email, "limit": 1})
        found = owners.get("results") or []
        if not found:
            raise HubSpotRejected(f"no HubSpot owner with the email {params.owner_email}")
        owner_id = str(found[0]["id"])
        due = (at + timedelta(days=params.due_days)).astimezone(UTC)
        properties = {
            "hs_task_subject": params.subject,
            "hs_task_body": params.notes or "",
            "hs_timestamp": due.isoformat().replace("+00:00", "Z"),
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": params.priority,
            "hubspot_owner_id": owner_id,
        }
        created = await _send(client, "POST", "/crm/v3/objects/tasks", json={"properties": properties},
                              headers={"Idempotency-Key": key})
    return {"id": str(created.get("id", "")), "owner_id": owner_id}


async def _send(client: httpx.AsyncClient, method: str, path: str, **options: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, path, **options)
    except httpx.TimeoutException as error:
        raise HubSpotUnavailable(f"{method} {path}: no answer in time") from error
    except httpx.TransportError as error:
        raise HubSpotUnavailable(f"{method} {path}: {type(error).__name__}: {error}") from error
    status = response.status_code
    if status == 429 or status >= 500:
        raise HubSpotUnavailable(f"{method} {path}: HTTP {status}")
    if status >= 300:
        message = _message(response)
        raise HubSpotRejected(f"{method} {path}: HTTP {status}{': ' + message if message else ''}")
    body = response.json() if response.content else {}
    return body if isinstance(body, dict) else {}


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200]
    return str(body.get("message", ""))[:200] if isinstance(body, dict) else ""
