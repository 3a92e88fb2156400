"""What every endpoint and page of the web process reaches: the store, the deployed bundle, the
router, the limits, the token.

`WebState` is kept on the application (`app.state.api`, set by `server.api.app.create_api`);
`State` is the FastAPI dependency that hands it to an endpoint or a page. The router is named by
what is asked of it (`Routing`, which `server.api.routing.Dispatcher` is), so that this module
needs nothing of the API.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from dsl import ir
from engine.clock import Clock
from engine.intake.ingestion import ParsedLine
from engine.records import IngestResult, JourneySignal
from engine.settings import Settings
from engine.store import Store
from server.web.limits import Limits

__all__ = ["Outcome", "Routing", "State", "WebState", "web_state"]


@dataclass
class Outcome:
    """What one batch came to: the ingestion result, and its place in the routing queue."""

    result: IngestResult
    ticket: int = 0  # routed once `Routing.wait_routed(ticket)` says so, carried out once `wait_drained`


class Routing(Protocol):
    """Store first and answer, route behind: the process's router (`server.api.routing`)."""

    @property
    def backlog(self) -> int: ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    def status(self) -> dict[str, Any]: ...

    def foreground(self) -> AbstractContextManager[None]: ...

    async def ingest(self, parsed: list[ParsedLine], now: datetime, *, horizon: timedelta | None = None,
                     backfill: bool = False) -> Outcome: ...

    async def wait_routed(self, ticket: int, timeout: float) -> bool: ...

    async def wait_drained(self, ticket: int, timeout: float) -> bool: ...

    async def tell(self, signal: JourneySignal) -> bool: ...

    def drain_again(self) -> None: ...


@dataclass
class WebState:
    settings: Settings
    store: Store
    bundle: ir.Bundle
    dispatcher: Routing
    limits: Limits
    token: str | None  # None: no token configured, every request is accepted (the dev stack)
    unsubscribe_secret: str
    clock: Clock  # when input arrives: its stored arrival moment
    store_failure: dict[str, str] | None = None  # the last request the store could not take (for /healthz)

    def note_store_failure(self, reason: object) -> None:
        self.store_failure = {"at": datetime.now(UTC).isoformat(), "reason": " ".join(str(reason).split())[:200]}


def web_state(request: Request) -> WebState:
    state = request.app.state.api
    assert isinstance(state, WebState)
    return state


State = Annotated[WebState, Depends(web_state)]
