"""What every endpoint reaches: the store, the deployed bundle, the dispatcher, the limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from dsl import ir
from engine.clock import Clock
from engine.settings import Settings
from engine.store import Store
from workers.api.limits import Limits
from workers.api.routing import Dispatcher

__all__ = ["ApiState", "State", "api_state"]


@dataclass
class ApiState:
    settings: Settings
    store: Store
    bundle: ir.Bundle
    dispatcher: Dispatcher
    limits: Limits
    token: str | None  # None: no token configured, every request is accepted (the dev stack)
    unsubscribe_secret: str
    clock: Clock  # when input arrives: its stored arrival moment
    store_failure: dict[str, str] | None = None  # the last request the store could not take (for /healthz)

    def note_store_failure(self, reason: object) -> None:
        self.store_failure = {"at": datetime.now(UTC).isoformat(), "reason": " ".join(str(reason).split())[:200]}


def api_state(request: Request) -> ApiState:
    state = request.app.state.api
    assert isinstance(state, ApiState)
    return state


State = Annotated[ApiState, Depends(api_state)]
