"""The home page (`/`): today in a few figures (ARR by band, the ARR at risk renewing within 90
days, my open and overdue work, the team's overdue work) and the accounts at risk renewing soonest;
and the account list (`/accounts`): search, sort, filters and totals, a page at a time.

Every figure is an aggregate and every list a page, read by `engine.read_model.account_pages`
over the account cards and their indexes, so a page costs the same with a hundred accounts or a
hundred thousand. The list's filters: my accounts (`csm=` the CSM the visitor works as) or any
CSM's, segment, band, and `q` (the start of a name or id); its sorts: name, ARR, renewal, score.

Pages are cursor-paginated forward (`cursor`, handed out by the read); the way back is the
`trail` of the cursors that led here, carried in the links (the last `MAX_TRAIL`; from deeper,
"previous" comes back to the first page after that many steps).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dsl import ir
from engine.read_model.account_pages import (
    AT_RISK_DAYS,
    SORTS,
    AccountPage,
    AccountTotals,
    CsmOut,
    account_page,
    account_totals,
    band_order,
    csm_list,
)
from engine.read_model.cursors import BadQuery
from engine.read_model.renewals import Renewal, renewing_soon
from engine.read_model.work_counts import open_work_count
from engine.store import Store
from server.dashboard.rendering import me, problem, render, to_signin, visitor
from server.web.state import State

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_TRAIL = 10
FIRST = "-"  # the first page, in a trail
RENEWING_SOON = 10  # accounts at risk renewing soonest, on the home page
COUNT_CAP = 200  # work items counted on the home page before it says "200+"


@dataclass
class Listing:
    page: AccountPage
    totals: AccountTotals
    csms: list[CsmOut]
    segments: list[str]
    bands: list[str]
    filters: dict[str, str]  # the filters and sort as asked: `q`, `csm`, `segment`, `band`, `sort`
    next_link: str | None
    previous_link: str | None


def _segments(bundle: ir.Bundle) -> list[str]:
    kind = bundle.model.fields.get("segment")
    return list(kind.values) if kind is not None and kind.type == "enum" else []


def _link(filters: dict[str, str], **more: str) -> str:
    query = {key: value for key, value in {**filters, **more}.items() if value}
    return "/accounts" + (f"?{urlencode(query)}" if query else "")


def listing(store: Store, bundle: ir.Bundle, now: datetime, filters: dict[str, str], cursor: str | None,
            trail: list[str]) -> Listing:
    """One page of the account list with its totals; `BadQuery` for a bad sort or cursor."""
    band, csm, segment, q = (filters.get(key) or None for key in ("band", "csm", "segment", "q"))
    sort = filters.get("sort") or "name"
    found = account_page(store, bundle, now, sort=sort, cursor=cursor, limit=PAGE_SIZE, band=band, csm=csm,
                         segment=segment, q=q, totals=True)
    totals = found.totals or account_totals(store, bundle, now, band=band, csm=csm, segment=segment, q=q)
    next_link = None
    if found.next_cursor is not None:
        deeper = [*trail, cursor or FIRST][-MAX_TRAIL:]
        next_link = _link(filters, cursor=found.next_cursor, trail=",".join(deeper))
    previous_link = None
    if cursor is not None:
        back = trail[-1] if trail else FIRST
        previous_link = _link(filters, cursor="" if back == FIRST else back, trail=",".join(trail[:-1]))
    return Listing(page=found, totals=totals, csms=csm_list(store), segments=_segments(bundle),
                   bands=band_order(bundle), filters={**filters, "sort": sort}, next_link=next_link,
                   previous_link=previous_link)


@dataclass
class Today:
    totals: AccountTotals
    worst: str | None  # the worst band of the primary score: `red`
    renewing: list[Renewal]  # accounts in the worst band renewing within 90 days, soonest first
    my_open: int | None  # None: the visitor chose no CSM to work as
    my_overdue: int | None
    team_overdue: int
    me: str | None


def today(store: Store, bundle: ir.Bundle, now: datetime, who: str | None) -> Today:
    bands = band_order(bundle)
    worst = bands[0] if bands else None
    renewing = renewing_soon(store, worst, now.date(), days=AT_RISK_DAYS, limit=RENEWING_SOON) if worst else []
    return Today(totals=account_totals(store, bundle, now), worst=worst, renewing=renewing,
                 my_open=open_work_count(store, now, owner=who, cap=COUNT_CAP) if who else None,
                 my_overdue=open_work_count(store, now, owner=who, overdue=True, cap=COUNT_CAP) if who else None,
                 team_overdue=open_work_count(store, now, overdue=True, cap=COUNT_CAP), me=who)


@router.get("/")
async def home_page(request: Request, state: State) -> Response:
    who = visitor(request, state)
    if who is None:
        return to_signin(request)
    view = await asyncio.to_thread(today, state.store, state.bundle, datetime.now(UTC), me(request))
    return render(request, state, "home.html", who, section="home", today=view, cap=COUNT_CAP,
                  at_risk_days=AT_RISK_DAYS)


@router.get("/accounts")
async def accounts_page(request: Request, state: State, q: str = "", csm: str = "", segment: str = "",
                        band: str = "", sort: str = "", cursor: str = "", trail: str = "") -> Response:
    who = visitor(request, state)
    if who is None:
        return to_signin(request)
    if csm == "me":
        csm = me(request) or ""
    filters = {"q": q.strip()[:200], "csm": csm.strip().lower()[:320], "segment": segment[:200],
               "band": band[:200], "sort": sort if sort in SORTS else ""}
    path = [part for part in trail.split(",") if part][-MAX_TRAIL:]
    try:
        view = await asyncio.to_thread(listing, state.store, state.bundle, datetime.now(UTC), filters,
                                       cursor or None, path)
    except BadQuery as error:
        return problem(request, state, who, 400, "That page cannot be shown", f"{str(error).capitalize()}.",
                       "/accounts")
    return render(request, state, "accounts.html", who, section="accounts", view=view, sorts=SORTS,
                  today=date.today(), at_risk_days=AT_RISK_DAYS, link=_link)
