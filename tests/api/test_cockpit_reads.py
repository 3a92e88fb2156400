"""The cockpit's reads over HTTP: pages by cursor with their headers, totals, an account's
timeline, work items, a playbook's funnel, and a 400 with the reason for whatever is bad."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dsl import ir
from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store import Store
from server.api import accounts as accounts_api
from tests.api.conftest import offline_api

NOW = datetime.now(UTC).replace(microsecond=0)


def _seed(store: Store, count: int = 7) -> None:
    for number in range(count):
        account = f"acct-{number}"
        store.add_change(account, NOW - timedelta(days=40), event=None, data={}, event_id=None, traits={
            "name": f"Account {number}", "segment": "smb" if number % 2 else "enterprise", "arr": 1000.0 * number,
            "renewal_date": (NOW + timedelta(days=30 * number)).date().isoformat(),
            "csm": {"email": "ana@example.com", "name": "Ana Lima", "manager": {"email": "max@example.com"}}
            if number % 3 else {"email": "bo.berg@example.com"}})
        store.record_score(account, ScoreState(name="health", value=80, band="green"), NOW - timedelta(days=35))
        band = ("red", "yellow", "green")[number % 3]
        store.record_score(account, ScoreState(name="health", value=10.0 * number, band=band), NOW - timedelta(days=1))


async def _walk(api: Any, path: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    while True:
        response = await api.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        items += body["items"]
        cursor = body["next_cursor"]
        assert response.headers.get("x-next-cursor") == cursor
        if cursor is None:
            return items, pages


async def test_the_cockpit_account_list_pages_through_every_account_once_in_order_with_totals(
        store: Store, bundle: ir.Bundle) -> None:
    _seed(store)
    async with offline_api(store, bundle) as api:
        items, pages = await _walk(api, "/v1/cockpit/accounts", {"sort": "-arr", "limit": 3})
        first = (await api.get("/v1/cockpit/accounts", params={"limit": 3})).json()
        csms = (await api.get("/v1/cockpit/csms")).json()
    assert csms == [{"email": "ana@example.com", "name": "Ana Lima"},
                    {"email": "bo.berg@example.com", "name": "bo.berg"}]
    assert [item["id"] for item in items] == [f"acct-{n}" for n in range(6, -1, -1)]
    assert pages == 3
    assert items[0]["csm"] == "bo.berg"  # no name: the address's local part, never the address
    assert (items[0]["band"], items[0]["band_30d"], items[0]["trend_30d"]) == ("red", "green", "down")
    assert (items[1]["csm"], items[1]["band"], items[1]["trend_7d"]) == ("Ana Lima", "green", "same")
    totals = first["totals"]
    assert totals["accounts"] == 7
    assert [(t["band"], t["accounts"], t["arr"]) for t in totals["by_band"]] == [
        ("red", 3, 9000.0), ("yellow", 2, 5000.0), ("green", 2, 7000.0)]
    # red or yellow, renewing within 90 days: acct-0 (today), acct-1 (in 30 days), acct-3 (in 90 days)
    assert (totals["accounts_at_risk"], totals["arr_at_risk"]) == (3, 4000.0)


async def test_the_account_list_keeps_its_shape_and_pages_by_header_when_asked(store: Store, bundle: ir.Bundle) -> None:
    _seed(store)
    async with offline_api(store, bundle) as api:
        everyone = await api.get("/v1/accounts")
        page = await api.get("/v1/accounts", params={"band": "red", "limit": 2})
        rest = await api.get("/v1/accounts", params={"band": "red", "limit": 2,
                                                     "cursor": page.headers["x-next-cursor"]})
        mine = await api.get("/v1/accounts", params={"csm": "ANA@example.com", "q": "account"})
    assert len(everyone.json()) == 7 and "x-next-cursor" not in everyone.headers
    assert set(everyone.json()[0]) == {"id", "name", "segment", "score", "band", "updated"}
    assert [a["id"] for a in page.json()] == ["acct-0", "acct-3"]
    assert 'rel="next"' in page.headers["link"] and "cursor=" in page.headers["link"]
    assert [a["id"] for a in rest.json()] == ["acct-6"] and "x-next-cursor" not in rest.headers
    assert [a["id"] for a in mine.json()] == ["acct-1", "acct-2", "acct-4", "acct-5"]


async def test_the_account_list_without_paging_answers_a_thousand_at_a_time_linked_to_the_next(
        store: Store, bundle: ir.Bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(store)
    monkeypatch.setattr(accounts_api, "WHOLE_PAGE", 3)  # seven accounts: three answers
    seen: list[str] = []
    async with offline_api(store, bundle) as api:
        url: str | None = "/v1/accounts"
        answers = 0
        while url is not None:
            response = await api.get(url)
            assert response.status_code == 200, response.text
            answers += 1
            seen += [account["id"] for account in response.json()]
            link = response.headers.get("link")
            url = link[link.index("<") + 1:link.index(">")] if link else None
            assert ("x-next-cursor" in response.headers) == (url is not None)
        big = await api.get("/v1/accounts", params={"segment": "enterprise"})
        big_rest = await api.get("/v1/accounts", params={"segment": "enterprise",
                                                         "cursor": big.headers["x-next-cursor"]})
        red = await api.get("/v1/accounts", params={"band": "red"})  # three: one answer
    assert seen == [f"acct-{n}" for n in range(7)] and answers == 3
    assert [a["id"] for a in big.json()] == ["acct-0", "acct-2", "acct-4"]
    assert [a["id"] for a in big_rest.json()] == ["acct-6"] and "link" not in big_rest.headers
    assert [a["id"] for a in red.json()] == ["acct-0", "acct-3", "acct-6"] and "link" not in red.headers


def _token(value: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "not base64 at all!", "", _token(["accounts:name", 0, "x"]), _token(["accounts:-arr", 0, "a", "b"]),
    _token(["timeline", "yesterday", 0, 1]), _token(["timeline", "2026-01-01T00:00:00+00:00", 7, 1]), _token({"a": 1}),  # type: ignore[arg-type]
    _token(["accounts:name", 0, {"$gt": ""}, "a"]), _token(["accounts:name", True, "a", "a"]),
    "A" * 5000, base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
async def test_a_hostile_cursor_is_refused_with_the_reason_never_a_traceback(
        store: Store, bundle: ir.Bundle, cursor: str) -> None:
    _seed(store, 2)
    async with offline_api(store, bundle) as api:
        for path in ("/v1/cockpit/accounts", "/v1/accounts", "/v1/work", "/v1/accounts/acct-1/timeline"):
            response = await api.get(path, params={"cursor": cursor})
            assert response.status_code in (400, 422), (path, response.text)
            assert "cursor" in json.dumps(response.json()["detail"])


async def test_bad_sorts_limits_and_kinds_answer_400_with_the_reason(store: Store, bundle: ir.Bundle) -> None:
    _seed(store, 2)
    async with offline_api(store, bundle) as api:
        sort = await api.get("/v1/cockpit/accounts", params={"sort": "password"})
        limit = await api.get("/v1/cockpit/accounts", params={"limit": 201})
        kind = await api.get("/v1/accounts/acct-1/timeline", params={"kind": "gossip"})
        both = await api.get("/v1/work", params={"owner": "a@b.c", "manager": "d@e.f"})
        unknown = await api.get("/v1/accounts/nobody/timeline")
    assert sort.status_code == 400 and "sort must be one of" in sort.json()["detail"]
    assert limit.status_code == 400 and "between 1 and 200" in limit.json()["detail"]
    assert kind.status_code == 400 and "not a kind of the timeline" in kind.json()["detail"]
    assert both.status_code == 400
    assert unknown.status_code == 404


async def test_an_accounts_timeline_merges_events_scores_and_actions_newest_first(
        store: Store, bundle: ir.Bundle) -> None:
    _seed(store, 2)
    store.log_action(ActionRecord(at=NOW - timedelta(hours=5), account="acct-1", playbook="renewal", kind="decided",
                                  data={"what": "branch", "detail": "the condition held: ran then"}, key="d/1"))
    store.log_action(ActionRecord(at=NOW - timedelta(hours=4), account="acct-1", playbook="renewal", kind="email",
                                  data={"template": "renewal_notice"}, key="e/1"))
    async with offline_api(store, bundle) as api:
        items, _ = await _walk(api, "/v1/accounts/acct-1/timeline", {"limit": 2})
        decisions = (await api.get("/v1/accounts/acct-1/timeline", params={"kind": "decision"})).json()["items"]
    assert [(item["kind"], item["what"]) for item in items] == [
        ("message", "email"), ("decision", "decided"), ("score", "health"), ("score", "health"), ("event", "update")]
    assert [item["text"] for item in decisions] == ["the condition held: ran then"]


async def test_work_lists_a_csms_open_items_by_due_date_and_a_managers_overdue_team(
        store: Store, bundle: ir.Bundle) -> None:
    _seed(store, 3)
    for number, (owner, due) in enumerate([("ana@example.com", NOW - timedelta(days=2)),
                                           ("ana@example.com", NOW + timedelta(days=1)),
                                           ("bo.berg@example.com", NOW - timedelta(days=1)),
                                           ("ana@example.com", None)]):
        store.create_task(TaskRecord(id=f"t{number}", account="acct-1", playbook="renewal", title=f"Call {number}",
                                     owner=owner, due=due, priority="normal", created_at=NOW),
                          f"journey/renewal/acct-1/run/day 0/{number}", "journey/renewal/acct-1")
    async with offline_api(store, bundle) as api:
        mine, _ = await _walk(api, "/v1/work", {"owner": "ana@example.com", "limit": 1})
        team = (await api.get("/v1/work", params={"manager": "max@example.com", "overdue": "true"})).json()
        everyone = (await api.get("/v1/work", params={"overdue": "true"})).json()
    assert [item["id"] for item in mine] == ["t0", "t1", "t3"]
    assert mine[0]["owner_name"] == "Ana Lima" and mine[0]["account_name"] == "Account 1"
    assert mine[0]["opened_by"] == "journey/renewal/acct-1/run/day 0/0"
    assert [item["id"] for item in team["items"]] == ["t0"]
    assert [item["id"] for item in everyone["items"]] == ["t0", "t2"]


async def test_a_playbooks_funnel_nests_statements_and_answers_404_for_an_unknown_playbook(
        store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as api:
        known = await api.get("/v1/playbooks/renewal/funnel")
        unknown = await api.get("/v1/playbooks/nope/funnel")
    assert known.status_code == 200, known.text
    statements = [s for step in known.json()["steps"] for s in step["statements"]]
    nested = [s for s in statements if s.get("parent")]
    assert nested and all(s["depth"] >= 1 and s["path"].startswith(s["parent"] + "/") for s in nested)
    assert unknown.status_code == 404


async def test_the_log_pages_by_cursor_when_asked_and_answers_everything_otherwise(
        store: Store, bundle: ir.Bundle) -> None:
    for number in range(5):
        store.log_action(ActionRecord(at=NOW + timedelta(minutes=number // 2), account="acct-1", playbook="renewal",
                                      kind="enrolled", data={"n": number}, key=f"k/{number}"))
    async with offline_api(store, bundle) as api:
        everything = (await api.get("/v1/log", headers={"Accept": "application/json"})).json()
        seen: list[int] = []
        cursor: str | None = None
        while True:
            response = await api.get("/v1/log", params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                                     headers={"Accept": "application/json"})
            seen += [line["n"] for line in response.json()]
            cursor = response.headers.get("x-next-cursor")
            if cursor is None:
                break
        bad = await api.get("/v1/log", params={"cursor": "e30"})
    assert [line["n"] for line in everything] == seen == [0, 1, 2, 3, 4]
    assert bad.status_code == 400 and "cursor" in bad.json()["detail"]
