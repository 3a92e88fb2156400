"""`hubspot.create_task`: one HubSpot task per playbook step.

    do hubspot.create_task subject="Call {{ account.name }}" owner_email=csm.email due_days=2

Two requests to HubSpot's CRM API (`HUBSPOT_API_URL`, default https://api.hubapi.com), with the
private-app token from the environment variable `token_env` (default `HUBSPOT_TOKEN`) as a
bearer token:

1. `GET /crm/v3/owners/?email=<owner_email>` finds the owner's id;
2. `POST /crm/v3/objects/tasks` creates the task, with the step's idempotency key in the
   `Idempotency-Key` header. A receiver that honours it (a gateway, HubSpot-like services, the
   tests' server) creates one task per step however often the engine retries.

Errors: a timeout, a connection error, HTTP 429 or 5xx is retried (`HubSpotUnavailable`);
any other 4xx, an unknown owner or a missing token is permanent (`HubSpotRejected`,
`HubSpotConfigError`) and the journey records the step as `failed` with the reason.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from activities.context import PluginCall

__all__ = [
    "DEFAULT_API_URL",
    "HubSpotConfigError",
    "HubSpotRejected",
    "HubSpotTaskParams",
    "HubSpotUnavailable",
    "create_task",
    "create_task_activity",
]

DEFAULT_API_URL = "https://api.hubapi.com"
PRIORITIES = ("LOW", "MEDIUM", "HIGH")


class HubSpotUnavailable(Exception):
    """HubSpot could not take the request now (timeout, 429, 5xx): the engine retries."""


class HubSpotRejected(Exception):
    """HubSpot refused the request (4xx, unknown owner): permanent."""


class HubSpotConfigError(Exception):
    """The plugin is not configured (no token): permanent."""


class HubSpotTaskParams(BaseModel):
    """Create a HubSpot task for an owner, due some days after the step."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=500, description="The task's subject; a template.")
    owner_email: str = Field(description="The HubSpot user who owns the task, e.g. csm.email.")
    due_days: int = Field(default=3, ge=0, le=365, description="Days after the step the task is due.")
    notes: str | None = Field(default=None, description="The task's body; a template.")
    priority: str = Field(default="MEDIUM", description="LOW, MEDIUM or HIGH.")
    token_env: str = Field(default="HUBSPOT_TOKEN", description="The environment variable holding the token.")

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: str) -> str:
        if value.upper() not in PRIORITIES:
            raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}, got {value!r}")
        return value.upper()

    @field_validator("owner_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError(f"owner_email is not an email address: {value!r}")
        return value.strip()


async def create_task_activity(params: HubSpotTaskParams, call: PluginCall) -> dict[str, Any]:
    """The registered activity: what the engine calls with the step's key and logical time."""
    return await create_task(params, key=call.key, at=call.at)


async def create_task(params: HubSpotTaskParams, *, key: str, at: datetime,
                      api_url: str | None = None, timeout: float = 10) -> dict[str, Any]:
    """Create the task; returns `{"id": <task id>, "owner_id": <owner id>}`."""
    token = os.environ.get(params.token_env, "")
    if not token:
        raise HubSpotConfigError(f"the environment variable {params.token_env} (the HubSpot token) is not set")
    base = (api_url or os.environ.get("HUBSPOT_API_URL") or DEFAULT_API_URL).rstrip("/")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=timeout) as client:
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
