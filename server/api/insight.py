"""Insight into what the playbooks do: per-step stats, an account's story, template previews.

- `GET /v1/stats` and `GET /v1/playbooks/{id}/stats` (`since`): per-step analytics (docs/stats.md).
- `GET /v1/accounts/{id}/why` (`playbook`, `at`): the account's story from the decision log
  (docs/why.md).
- `GET /v1/preview/{template}` (`account`, `playbook`, `at`): the template rendered exactly as it
  would be sent to that account now (or at `at`), with the engine's own unsubscribe link; with no
  account, for a sample account built from the model (docs/preview.md).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from activities.preview import preview, sample_snapshot, store_snapshot
from engine.insight.analytics import Stats, playbook_stats
from engine.insight.story import Story, tell
from engine.read_model import known_account
from server.api.auth import require_token
from server.api.log import parse_since
from server.web.errors import ApiError
from server.web.state import State

__all__ = ["router"]

router = APIRouter(tags=["insight"], dependencies=[Depends(require_token)])

_SINCE = Query(description="ISO date or date and time: count only what happened at or after it")
_AUDIENCE = Query(description="a named audience of the playbooks: count only the accounts in it now", max_length=200)


def _audience(state: State, audience: str | None) -> str | None:
    if audience is not None and audience not in state.bundle.audiences:
        known = ", ".join(sorted(state.bundle.audiences)) or "none is declared"
        raise ApiError(404, "not found", f"no audience '{audience}' is deployed (audiences: {known})")
    return audience
_AT = Query(description="ISO date or date and time: as of this moment instead of now")


def _at(raw: str | None) -> datetime:
    return parse_since(raw) if raw is not None else datetime.now(UTC)


@router.get("/v1/stats", response_model=Stats, response_model_exclude_none=True,
            summary="Per-step stats of every deployed playbook")
async def all_stats(state: State, since: Annotated[str | None, _SINCE] = None,
                    audience: Annotated[str | None, _AUDIENCE] = None) -> Stats:
    start = parse_since(since) if since is not None else None
    return await asyncio.to_thread(playbook_stats, state.store, state.bundle, None, start, _audience(state, audience))


@router.get("/v1/playbooks/{playbook}/stats", response_model=Stats, response_model_exclude_none=True,
            summary="Per-step stats of one playbook", responses={404: {"description": "No such playbook"}})
async def one_playbook_stats(playbook: str, state: State, since: Annotated[str | None, _SINCE] = None,
                             audience: Annotated[str | None, _AUDIENCE] = None) -> Stats:
    if playbook not in state.bundle.playbooks:
        raise ApiError(404, "not found", f"no playbook '{playbook}' is deployed")
    start = parse_since(since) if since is not None else None
    chosen = _audience(state, audience)
    return await asyncio.to_thread(playbook_stats, state.store, state.bundle, playbook, start, chosen)


@router.get("/v1/accounts/{account}/why", response_model=Story, summary="The account's story in the playbooks",
            responses={404: {"description": "No such account or playbook"}})
async def why(account: str, state: State,
              playbook: Annotated[str | None, Query(description="only this playbook's story")] = None,
              at: Annotated[str | None, _AT] = None) -> Story:
    now = _at(at)

    def read() -> Story | None:
        return tell(state.store, state.bundle, account, playbook, now) if known_account(state.store, account) else None

    if playbook is not None and playbook not in state.bundle.playbooks:
        raise ApiError(404, "not found", f"no playbook '{playbook}' is deployed")
    story = await asyncio.to_thread(read)
    if story is None:
        raise ApiError(404, "not found", f"no account '{account}'")
    return story


@router.get("/v1/preview/{template}", summary="A template rendered as it would be sent",
            responses={404: {"description": "No such template or account"}})
async def preview_template(
    template: str, state: State,
    account: Annotated[str | None, Query(description="render for this account (default: a sample account)")] = None,
    playbook: Annotated[str | None, Query(description="as sent by this playbook (default: the first that "
                                                      "sends it)")] = None,
    at: Annotated[str | None, _AT] = None,
) -> dict[str, Any]:
    if template not in state.bundle.templates:
        raise ApiError(404, "not found", f"no template '{template}' is deployed")
    if playbook is not None and playbook not in state.bundle.playbooks:
        raise ApiError(404, "not found", f"no playbook '{playbook}' is deployed")
    now = _at(at)
    settings = state.settings

    def render() -> dict[str, Any] | None:
        if account is None:
            snap = sample_snapshot(state.bundle, now)
        elif account in state.store.account_ids():
            snap = store_snapshot(state.store, state.bundle, account, now)
        else:
            return None
        return preview(state.bundle, snap, template, public_url=settings.base_url,
                       unsubscribe_secret=state.unsubscribe_secret, playbook=playbook,
                       store=state.store if account is not None else None).to_json()

    result = await asyncio.to_thread(render)
    if result is None:
        raise ApiError(404, "not found", f"no account '{account}'")
    return result
