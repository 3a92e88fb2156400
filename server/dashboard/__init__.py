"""The web dashboard: accounts by band, an account's page, the task board, playbook funnels and,
in dev, the outbox. Rendered on the server with Jinja2; docs in docs/dashboard.md.

`install_dashboard(app)` adds its routes and its static files (`/static`) to an application;
`server.app.create_app` adds them to the HTTP API's. The pages read the store through
`engine.read_model` and share with the API only `server.web` (the process's state, the error
answers, completing a task): this package imports nothing of `server.api`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from server.dashboard.brakes_page import router as brakes_router
from server.dashboard.outcomes_page import router as outcomes_router
from server.dashboard.routes import STATIC, router

__all__ = ["install_dashboard"]


def install_dashboard(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(brakes_router)
    app.include_router(outcomes_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
