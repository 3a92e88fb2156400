"""The HTTP API of the running product: events in, accounts, tasks and the action log out.

`create_api(settings, store, bundle, starter)` (`app`) builds the FastAPI application with the
API's endpoints; `server.app.create_app` adds the dashboard and is what `playbook api` serves
with uvicorn. One module per concept: `auth`, `limits`, `routing` (store and answer, then route
and start journeys in the background), and the endpoints in `events`, `segment_routes`,
`accounts`, `tasks`, `log`, `unsubscribe`, `engagement`. What the API shares with the dashboard (the error
answers, the process's state, completing a task) is in `server.web`; what both read of the
store is `engine.read_model`. This package imports nothing of `server.dashboard`.
"""

from __future__ import annotations

from server.api.app import create_api

__all__ = ["create_api"]
