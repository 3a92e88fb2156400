"""The web process's application: the HTTP API (`server.api`) with the dashboard's pages
(`server.dashboard`) on it, what `playbook api` and `playbook dev` serve with uvicorn.

`create_app(settings, store, bundle, starter)` builds the API's application (its state, its
router in the background, its endpoints under `/v1`, `/healthz`, `/metrics`, the docs) and adds
the dashboard at `/` and its static files at `/static`. The API and the dashboard do not import
each other; they meet here, and share only `server.web` (pyproject.toml, `[tool.importlinter]`).
`server_config` is the uvicorn configuration to serve it with (`server.api.connection_limits`).
"""

from __future__ import annotations

from fastapi import FastAPI

from dsl import ir
from engine.clock import Clock
from engine.routing.starter import JourneyStarter
from engine.settings import Settings
from engine.store import Store
from server.api.app import UnsafeConfiguration, create_api
from server.api.connection_limits import server_config
from server.dashboard import install_dashboard
from server.web.limits import Limits

__all__ = ["UnsafeConfiguration", "create_app", "server_config"]


def create_app(settings: Settings, store: Store, bundle: ir.Bundle, starter: JourneyStarter,
               limits: Limits | None = None, clock: Clock | None = None, *, local_dev: bool = False) -> FastAPI:
    """The API with the dashboard; `local_dev`: the embedded dev stack (`playbook dev`), where an
    empty token is allowed. `UnsafeConfiguration` when it would start open to anyone."""
    app = create_api(settings, store, bundle, starter, limits, clock, local_dev=local_dev)
    install_dashboard(app)  # the web pages at `/` (docs/dashboard.md)
    return app
