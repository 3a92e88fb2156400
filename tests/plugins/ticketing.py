"""A second plugin, for the project's tests only: `tickets.create` opens a ticket in a ticketing system.

It uses what an author has: a `Literal` priority, a list of tags, a nested object, a declared
configuration with a secret token, the call's journey, run and step, and HTTP errors classified
as retryable or permanent. `registry()` is the engine's own activities plus this one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import httpx
from pydantic import BaseModel, Field, SecretStr

from activities.context import PluginCall
from activities.registry import ActivityFn, ActivitySpec, PluginOrigin, Registry, load_registry

__all__ = ["TicketParams", "TicketingConfig", "registry"]


class TicketingConfig(BaseModel):
    """`[plugins.tickets]`: where the ticketing system is, and the token it wants."""

    base_url: str
    token: SecretStr


class Requester(BaseModel):
    email: str
    name: str = ""


class TicketParams(BaseModel):
    """Open a ticket for the account."""

    title: str = Field(max_length=40, description="The ticket's title; a template.")
    priority: Literal["low", "normal", "high", "urgent"] = Field(default="normal", description="How urgent.")
    tags: list[str] = Field(default_factory=list, description="Labels on the ticket.")
    requester: Requester | None = None


class TicketUnavailable(Exception):
    """Retried."""


class TicketRejected(Exception):
    """Permanent."""


async def create_ticket(params: TicketParams, call: PluginCall) -> dict[str, str]:
    config = call.config
    assert isinstance(config, TicketingConfig)
    body = {**params.model_dump(mode="json"), "account": call.account, "journey": call.journey_id,
            "run": call.run_id, "step": call.step, "attempt": call.attempt}
    headers = {"Idempotency-Key": call.key, "Authorization": f"Bearer {config.token.get_secret_value()}"}
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            response = await client.post(f"{config.base_url}/tickets", json=body, headers=headers)
        except httpx.TransportError as error:
            raise TicketUnavailable(f"{type(error).__name__}: {error}") from error
    if response.status_code >= 500:
        raise TicketUnavailable(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise TicketRejected(f"HTTP {response.status_code}: {response.text[:100]}")
    return {"id": str(response.json().get("id", ""))}


def spec(fn: ActivityFn = create_ticket, heartbeat: timedelta | None = None) -> ActivitySpec:
    return ActivitySpec(name="tickets.create", fn=fn, params=TicketParams,
                        description="Open a ticket in the ticketing system.", timeout=timedelta(seconds=30),
                        permanent_errors=(TicketRejected,), config=TicketingConfig, max_attempts=3,
                        heartbeat=heartbeat)


def registry(fn: ActivityFn = create_ticket, heartbeat: timedelta | None = None) -> Registry:
    """The engine's activities and `tickets.create` (run by `fn`, with `heartbeat`)."""
    activities = load_registry(only={"builtin"})
    activities.add(spec(fn, heartbeat))
    activities.origins["tickets.create"] = PluginOrigin("tickets")
    return activities
