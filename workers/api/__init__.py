"""The HTTP API of the running product: events in, accounts, tasks and the action log out.

`create_app(settings, store, bundle, starter)` builds the FastAPI application; the `playbook api`
command (`workers/commands/api.py`) serves it with uvicorn. One module per concept: `auth`,
`limits`, `errors`, `routing` (store and answer, then route and start journeys in the background),
and the endpoints in `events`, `segment_routes`, `accounts`, `tasks`, `log`, `unsubscribe`.
"""

from __future__ import annotations

from workers.api.app import create_app

__all__ = ["create_app"]
