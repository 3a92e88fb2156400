"""The home page and the account list: totals, formatted numbers, search, sort, filters and pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dsl import ir
from engine.records import ScoreState, TaskRecord
from engine.store import Store
from tests.dashboard.conftest import dashboard, form_token_of, sign_in
from tests.live_api import as_routed

NOW = datetime.now(UTC).replace(microsecond=0)
SAM = {"email": "sam@vendor.example", "name": "Sam Rivera"}
PRIYA = {"email": "priya@vendor.example", "name": "Priya Nair"}


def _account(store: Store, id: str, name: str, arr: float, renewal_days: int, csm: dict[str, str], segment: str,
             bands: list[tuple[int, float, str]]) -> None:
    traits: dict[str, Any] = {"name": name, "arr": arr, "segment": segment, "csm": csm,
                              "renewal_date": (NOW + timedelta(days=renewal_days)).date().isoformat()}
    store.add_change(id, NOW - timedelta(days=40), event=None, data={}, event_id=None, traits=traits)
    for days_ago, value, band in bands:
        store.record_score(id, ScoreState(name="health", value=value, band=band), NOW - timedelta(days=days_ago))


def _book(store: Store) -> None:
    """Initech (red, was yellow, renews in 30 days), Globex (red, renews in a year), Hooli (green)."""
    _account(store, "initech", "Initech", 120_000, 30, SAM, "mid_market", [(20, 60, "yellow"), (1, 27, "red")])
    _account(store, "globex", "Globex", 1_250_000, 365, PRIYA, "enterprise", [(2, 30, "red")])
    _account(store, "hooli", "Hooli", 45_500, 60, SAM, "smb", [(3, 85, "green")])
    as_routed(store)


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="account [^"]*" data-account="([^"]+)"', page)


async def test_the_list_shows_arr_renewal_band_with_trend_csm_names_and_totals(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _book(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/accounts")).text
    assert _rows(page) == ["globex", "hooli", "initech"]  # by name
    initech = page[page.index('data-account="initech"'):]
    assert '<td class="num arr">$120,000</td>' in initech
    assert (NOW + timedelta(days=30)).date().isoformat() in initech
    assert 'class="trend down"' in initech  # yellow a week and more ago, red now
    assert ">Sam Rivera</a>" in initech and ">sam@vendor.example<" not in page
    assert '<td class="num arr">$1.2M</td>' in page
    red = page[page.index('data-band="red"'):]
    assert "$1.4M" in red[:300]  # 120,000 + 1,250,000 in red
    risk = page[page.index('data-tile="at-risk"'):]
    assert "$120,000" in risk[:300]  # only Initech renews within 90 days in red or yellow


async def test_filters_search_and_sort_are_applied_by_the_read(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _book(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        red = (await client.get("/accounts", params={"band": "red"})).text
        sams = (await client.get("/accounts", params={"csm": "sam@vendor.example"})).text
        smb = (await client.get("/accounts", params={"segment": "smb"})).text
        found = (await client.get("/accounts", params={"q": "GLO"})).text
        richest = (await client.get("/accounts", params={"sort": "-arr"})).text
        renewing = (await client.get("/accounts", params={"sort": "renewal", "band": "red"})).text
        bad = await client.get("/accounts", params={"cursor": "not-a-cursor"})
    assert _rows(red) == ["globex", "initech"]
    assert _rows(sams) == ["hooli", "initech"]
    assert _rows(smb) == ["hooli"]
    assert _rows(found) == ["globex"]
    assert _rows(richest) == ["globex", "initech", "hooli"]
    assert 'href="/accounts?sort=arr"' in richest  # the ARR header sorts the other way next
    assert _rows(renewing) == ["initech", "globex"]
    assert bad.status_code == 400 and "cursor" in bad.text


async def test_my_accounts_are_the_accounts_of_the_csm_i_work_as(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _book(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        token = form_token_of((await client.get("/accounts/globex")).text)  # its note form
        await client.post("/me", data={"form_token": token, "owner": "priya@vendor.example", "next": "/accounts"})
        mine = (await client.get("/accounts", params={"csm": "me", "band": "red"})).text
    assert _rows(mine) == ["globex"]
    assert '<option value="priya@vendor.example" selected>my accounts</option>' in mine


async def test_pages_follow_a_cursor_forward_and_come_back(store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    for number in range(60):
        store.add_change(f"acct{number:02d}", NOW, event=None, data={}, event_id=None,
                         traits={"name": f"Account {number:02d}"})
    as_routed(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        first = (await client.get("/accounts")).text
        following = re.search(r'href="([^"]+)" rel="next"', first)
        assert following is not None and 'rel="prev"' not in first
        second = (await client.get(following.group(1).replace("&amp;", "&"))).text
        back = re.search(r'href="([^"]+)" rel="prev"', second)
        assert back is not None
        again = (await client.get(back.group(1).replace("&amp;", "&"))).text
    assert _rows(first) == [f"acct{n:02d}" for n in range(50)]
    assert _rows(second) == [f"acct{n:02d}" for n in range(50, 60)]
    assert 'rel="next"' not in second
    assert _rows(again) == _rows(first)


async def test_the_home_page_is_a_summary_of_totals_my_work_and_red_accounts_renewing_soon(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _book(store)
    _account(store, "umbrella", "Umbrella", 10_000, -10, SAM, "smb", [(1, 20, "red")])  # its renewal has passed
    as_routed(store)
    for id, owner, due in (("a", "sam@vendor.example", NOW - timedelta(days=1)),
                           ("b", "sam@vendor.example", NOW + timedelta(days=1)),
                           ("c", "priya@vendor.example", NOW - timedelta(days=2))):
        item = TaskRecord(id=id, account="initech", playbook=None, title=f"Item {id}", owner=owner, due=due,
                          priority="normal", created_at=NOW - timedelta(days=3))
        store.create_task(item, key=f"k-{id}", journey=None)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        anonymous = (await client.get("/")).text
        token = form_token_of((await client.get("/tasks")).text)
        await client.post("/me", data={"form_token": token, "owner": "sam@vendor.example"})
        home = (await client.get("/")).text

    def figure(page: str, tile: str) -> str:
        found = re.search(rf'data-tile="{tile}">.*?<span class="figure">([^<]+)</span>', page, re.S)
        return found.group(1) if found else ""

    assert figure(anonymous, "team-overdue") == "2"
    assert "choose who you are" in anonymous
    assert figure(home, "my-work") == "2" and figure(home, "my-overdue") == "1"
    assert figure(home, "at-risk") == "$120,000"
    assert _rows(home) == ["initech"]  # red and renewing within 90 days: not Globex (a year), Hooli (green), Umbrella
