"""The web dashboard: today's figures, the accounts a page at a time, an account's page with its
timeline and notes, a CSM's work (drafted emails to review among it) and the team's overdue
work, playbook funnels, the brakes and, in dev, the outbox. Rendered on the server with Jinja2;
docs in docs/dashboard.md.

`install_dashboard(app)` adds its routes and its static files (`/static`) to an application;
`server.app.create_app` adds them to the HTTP API's. The pages read the store through
`engine.read_model` (and `engine.insight` for stories and funnels) and share with the API only
`server.web` (the process's state, the error answers, completing a task): this package imports
nothing of `server.api`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from server.dashboard import account_page, accounts_page, brakes_page, drafts_page, outcomes_page, routes, work_page
from server.dashboard.rendering import STATIC

__all__ = ["install_dashboard"]


def install_dashboard(app: FastAPI) -> None:
    for module in (routes, accounts_page, account_page, work_page, drafts_page, brakes_page, outcomes_page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
