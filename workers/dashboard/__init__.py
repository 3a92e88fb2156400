"""The web dashboard: accounts by band, an account's page, the task board, playbook funnels and,
in dev, the outbox. Served by the HTTP API at `/`, rendered on the server with Jinja2; docs in
docs/dashboard.md.

`install_dashboard(app)` adds its routes and its static files (`/static`) to the API's app. The
routes are imported when it is called, not with this package: they use the API's modules, and
the API's `create_app` calls this.
"""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["install_dashboard"]


def install_dashboard(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles

    from workers.dashboard.brakes_page import router as brakes_router
    from workers.dashboard.routes import STATIC, router

    app.include_router(router)
    app.include_router(brakes_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
