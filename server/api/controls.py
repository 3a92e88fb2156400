"""The operator's brakes over HTTP: pause and resume a playbook, stop and resume every send.

    POST /v1/playbooks/{id}/pause     no new entries; its journeys' sends are held
    POST /v1/playbooks/{id}/resume
    POST /v1/sends/stop               every customer-facing send is held
    POST /v1/sends/resume
    GET  /v1/controls                 what is stopped now, since when and why

A JSON body `{"reason": "..."}` is optional; the reason shows in `held` actions and here. Each
takes effect at once for every worker and API process (the store holds it). Pausing twice keeps
the first reason; resuming what is not stopped answers 200 with `"changed": false`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request

from engine.store.controls import SENDS, playbook_control
from server.api.auth import require_token
from server.api.limits import read_body
from server.web.errors import ApiError
from server.web.state import State, WebState

__all__ = ["router"]

router = APIRouter(tags=["brakes"], dependencies=[Depends(require_token)])


async def _reason(request: Request, state: WebState) -> str:
    body = await read_body(request, state.limits)
    if not body.strip():
        return ""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, "bad request", 'the body must be JSON: {"reason": "..."}') from None
    reason = value.get("reason", "") if isinstance(value, dict) else None
    if not isinstance(reason, str):
        raise ApiError(400, "bad request", '"reason" must be text')
    return " ".join(reason.split())[:500]


def _known(state: WebState, playbook: str) -> None:
    if playbook not in state.bundle.playbooks:
        raise ApiError(404, "not found", f"no playbook {playbook!r} is deployed")


async def _set(state: WebState, name: str, reason: str) -> dict[str, Any]:
    changed = await asyncio.to_thread(state.store.set_control, name, reason, datetime.now(UTC))
    return {"changed": changed, "controls": await _controls(state)}


async def _clear(state: WebState, name: str) -> dict[str, Any]:
    changed = await asyncio.to_thread(state.store.clear_control, name)
    return {"changed": changed, "controls": await _controls(state)}


async def _controls(state: WebState) -> list[dict[str, Any]]:
    held = await asyncio.to_thread(state.store.controls)
    return [{"name": name, "reason": reason, "since": at.isoformat()} for name, (reason, at) in sorted(held.items())]


@router.post("/v1/playbooks/{playbook}/pause", summary="Pause a playbook: no new entries, its sends held")
async def pause_playbook(playbook: str, request: Request, state: State) -> dict[str, Any]:
    _known(state, playbook)
    return await _set(state, playbook_control(playbook), await _reason(request, state))


@router.post("/v1/playbooks/{playbook}/resume", summary="Resume a paused playbook")
async def resume_playbook(playbook: str, state: State) -> dict[str, Any]:
    _known(state, playbook)
    return await _clear(state, playbook_control(playbook))


@router.post("/v1/sends/stop", summary="Hold every customer-facing send of every playbook")
async def stop_sends(request: Request, state: State) -> dict[str, Any]:
    return await _set(state, SENDS, await _reason(request, state))


@router.post("/v1/sends/resume", summary="Let sends go again after a stop")
async def resume_sends(state: State) -> dict[str, Any]:
    return await _clear(state, SENDS)


@router.get("/v1/controls", summary="What the operator has stopped now")
async def list_controls(state: State) -> dict[str, Any]:
    return {"controls": await _controls(state)}
