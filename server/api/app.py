"""The composition of the HTTP API: state, routers, error handling, and the startup notes.

`create_api(settings, store, bundle, starter)` wires what the caller built (the store, the
compiled bundle, a `JourneyStarter` on a connected Temporal client) into a FastAPI application
with the API's endpoints; `server.app.create_app` adds the dashboard's pages to it.
The OpenAPI document is served at `/openapi.json` and the interactive docs at `/docs`; both are
open, like `GET /healthz` and the unsubscribe link. Everything else needs the API token.

The application's lifespan starts the background router (`server.api.routing.Dispatcher`) and
stops it; a server run without lifespan events starts it with the first request that stores
or asks for the status. `GET /healthz` and `GET /v1/status` say where routing stands.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from dsl import ir
from engine.clock import Clock
from engine.routing.starter import JourneyStarter
from engine.settings import Settings
from engine.store import Store
from server.api import (
    accounts,
    cockpit,
    controls,
    drafts,
    engagement,
    events,
    insight,
    intents,
    log,
    notes,
    operator_view,
    outcomes,
    segment_routes,
    tasks,
    unsubscribe,
)
from server.api.auth import require_token
from server.api.routing import Dispatcher
from server.web.errors import install_error_handlers
from server.web.limits import Limits
from server.web.state import WebState

__all__ = ["UnsafeConfiguration", "create_api"]

logger = logging.getLogger("playbook.api")

DEFAULT_UNSUBSCRIBE_SECRET = "change-me"

DESCRIPTION = """\
Events in, journeys out. Send events and trait updates to `POST /v1/events` (or Segment calls to
`/v1/track`, `/v1/identify`, `/v1/group`, `/v1/batch`); read accounts, tasks and the action log.

Every endpoint except `/healthz`, `/v1/unsubscribe`, the links of tracked email (`/e/c/…`,
`/e/o/…`) and these docs needs
`Authorization: Bearer <token>` (the Segment endpoints also take the token as the basic-auth
username, Segment's write key). Errors are JSON: `{"error": "...", "detail": ...}`.
"""


class UnsafeConfiguration(ValueError):
    """The API would start open to anyone where it must not: the message says what to set."""


def create_api(settings: Settings, store: Store, bundle: ir.Bundle, starter: JourneyStarter,
               limits: Limits | None = None, clock: Clock | None = None, *, local_dev: bool = False) -> FastAPI:
    """`local_dev`: the embedded dev stack (`playbook dev`), where an empty token is allowed."""
    limits = limits or Limits.from_settings(settings)
    clock = clock or Clock(settings.clock_offset_seconds)
    token = settings.api_token.get_secret_value() if settings.api_token is not None else None
    if token is not None and not token.strip() and not local_dev:
        raise UnsafeConfiguration("PLAYBOOK_API_TOKEN is set but empty: the API and the dashboard would accept "
                                  "anyone. Set a token (e.g. `openssl rand -hex 32`), or unset the variable for "
                                  "a local try-out")
    if not token or not token.strip():
        token = None
        logger.warning("no API token is configured (PLAYBOOK_API_TOKEN): the API accepts every request "
                       "without authentication. That suits the local dev stack only; set a token anywhere else.")
    secret = settings.unsubscribe_secret.get_secret_value()
    if secret == DEFAULT_UNSUBSCRIBE_SECRET:
        logger.warning("the unsubscribe secret is the default (PLAYBOOK_UNSUBSCRIBE_SECRET): anyone can forge "
                       "unsubscribe links. Set a secret of your own anywhere but the local dev stack.")
    if settings.track_engagement and not (settings.tracking_url or settings.public_url):
        logger.warning("engagement tracking is on, but neither PLAYBOOK_TRACKING_URL nor PLAYBOOK_PUBLIC_URL is set: "
                       "tracked links point at %s, which people reading email cannot reach",
                       settings.tracking_base_url)
    shared = settings.api_routing_shared and store.dialect == "postgresql"
    if settings.api_routing_shared and not shared:
        logger.warning("PLAYBOOK_API_ROUTING_SHARED is set, but the store is not PostgreSQL: this process routes "
                       "what it stores itself (run a single API process on SQLite)")
    dispatcher = Dispatcher(store, bundle, starter, limits, horizon=settings.trigger_horizon, shared=shared)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        dispatcher.start()  # takes over what an earlier process left unrouted, then routes what comes
        try:
            yield
        finally:
            await dispatcher.stop()

    app = FastAPI(title="playbook", summary="Customer-success playbooks on Temporal: the HTTP API",
                  description=DESCRIPTION, version="1", lifespan=lifespan)
    app.state.api = WebState(
        settings=settings, store=store, bundle=bundle, dispatcher=dispatcher,
        limits=limits, token=token, unsubscribe_secret=secret, clock=clock,
    )
    install_error_handlers(app)
    app.state.operator_view = view = operator_view.OperatorView(app.state.api)
    for module in (events, segment_routes, accounts, cockpit, notes, tasks, drafts, log, insight, unsubscribe,
                   engagement, controls, intents, operator_view, outcomes):
        app.include_router(module.router)

    @app.get("/healthz", tags=["health"], summary="The process is up, and where routing stands")
    async def healthz() -> dict[str, object]:
        dispatcher.start()
        routing = dispatcher.status()
        failure = routing.pop("last_failure")
        routing["last_failure_at"] = None if failure is None else failure["at"]
        return {"status": "ok", "pending_routing": routing["backlog"], "routing": routing,
                "store": {"last_failure": app.state.api.store_failure}, **await view.health()}

    @app.get("/v1/status", tags=["health"], summary="Routing in detail: backlog, last failure and its reason",
             dependencies=[Depends(require_token)])
    async def status() -> dict[str, Any]:
        dispatcher.start()
        return {"status": "ok", "routing": dispatcher.status()}

    return app
