"""The cockpit's reads in the read model: every page walk yields every item once, in order, and
stays right when accounts arrive meanwhile; filters and totals match a count by hand; the account
cards follow the fields, the scores and erasure; the action tallies match the log; a cursor that
the read did not hand out is refused."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.read_model import BadQuery, account_page, account_timeline, account_totals, work_page
from engine.read_model.account_pages import SORTS
from engine.read_model.cursors import BadCursor, decode_cursor
from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store import Store
from engine.store.account_cards import rebuild_cards
from engine.store.action_tallies import GROUPS, action_groups
from engine.store.card_totals import band_totals, fold, settle
from engine.store.schema import account_cards, card_total_changes
from tests.stores import NO_POSTGRES, POSTGRES_URL, sqlite_url, wipe

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on SQLite, then on PostgreSQL when `PLAYBOOK_TEST_POSTGRES_URL` is set."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip(NO_POSTGRES)
        wipe(POSTGRES_URL)
    opened = Store.open(POSTGRES_URL if request.param == "postgresql" else sqlite_url(tmp_path / "store.db"))
    yield opened
    opened.close()
CSMS = ("ana@example.com", "bo@example.com", None)


def _account(store: Store, number: int, rng: random.Random) -> dict[str, Any]:
    traits: dict[str, Any] = {"name": rng.choice(["Acme", "acme", "Beta", "Zeta", None]),
                              "segment": rng.choice(["smb", "enterprise"]),
                              "arr": rng.choice([None, 1000.0, 2500.0, 9000.0]),
                              "renewal_date": rng.choice([None, "2026-06-20", "2026-07-15", "2027-01-01"])}
    owner = rng.choice(CSMS)
    if owner is not None:
        traits["csm"] = {"email": owner, "manager": {"email": "max@example.com"}}
    traits = {key: value for key, value in traits.items() if value is not None}
    store.add_change(f"acct-{number:03d}", NOW - timedelta(days=40), event=None, data={}, event_id=None,
                     traits=traits)
    band = rng.choice(["red", "yellow", "green", None])
    if band is not None:
        store.record_score(f"acct-{number:03d}", ScoreState(name="health", value=float(rng.randint(0, 100)),
                                                            band=band), NOW - timedelta(days=2))
    return {"id": f"acct-{number:03d}", "band": band, **traits}


def _seeded(store: Store, count: int = 40) -> list[dict[str, Any]]:
    rng = random.Random(11)
    return [_account(store, number, rng) for number in range(count)]


def _walk(store: Store, size: int, between: Any = None, **filters: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = account_page(store, None, NOW, cursor=cursor, limit=size, **filters)
        seen += [item.id for item in page.items]
        if page.next_cursor is None:
            return seen
        if between is not None:
            between()
        cursor = page.next_cursor


def _expected(accounts: list[dict[str, Any]], sort: str) -> list[str]:
    key = sort.lstrip("-")
    field = {"name": "name", "arr": "arr", "renewal": "renewal_date", "score": "score"}[key]

    def value(account: dict[str, Any]) -> Any:
        return (account.get("name") or account["id"]).lower() if key == "name" else account.get(field)

    valued = sorted((a for a in accounts if value(a) is not None), key=lambda a: (value(a), a["id"]),
                    reverse=sort.startswith("-"))
    return [a["id"] for a in valued] + sorted(a["id"] for a in accounts if value(a) is None)


@pytest.mark.parametrize("sort", [s for s in SORTS if "score" not in s])
def test_walking_every_page_yields_every_account_once_in_the_sorts_order(store: Store, sort: str) -> None:
    accounts = _seeded(store)
    for size in (1, 7, 200):
        assert _walk(store, size, sort=sort) == _expected(accounts, sort)


def test_filters_keep_the_accounts_a_hand_count_keeps(store: Store) -> None:
    accounts = _seeded(store)
    for filters in ({"band": "red"}, {"csm": "ANA@example.com"}, {"segment": "smb", "band": "green"},
                    {"q": "acme"}, {"q": "acct-01"}, {"csm": "bo@example.com", "q": "z"}):
        def kept(account: dict[str, Any], filters: dict[str, str] = filters) -> bool:
            name = (account.get("name") or account["id"]).lower()
            return (filters.get("band") in (None, account["band"])
                    and filters.get("csm", "").lower() in ("", (account.get("csm") or {}).get("email"))
                    and filters.get("segment") in (None, account.get("segment"))
                    and (not filters.get("q") or name.startswith(filters["q"].lower())
                         or account["id"].startswith(filters["q"])))
        assert _walk(store, 3, **filters) == [a["id"] for a in sorted(filter(kept, accounts),
                                                                      key=lambda a: ((a.get("name") or a["id"]).lower(),
                                                                                     a["id"]))], filters


def test_a_walk_stays_right_while_accounts_arrive(store: Store) -> None:
    accounts = _seeded(store, 20)
    rng = random.Random(5)
    added = iter(range(100, 200))

    def arrive() -> None:
        _account(store, next(added), rng)

    seen = _walk(store, 4, between=arrive, sort="-arr")
    assert len(seen) == len(set(seen))  # none twice
    assert {a["id"] for a in accounts} <= set(seen)  # none of those there at the start missed
    ordered = _expected([a for a in accounts], "-arr")
    assert [account for account in seen if account in set(ordered)] == ordered


def test_totals_match_a_count_by_hand(store: Store) -> None:
    accounts = _seeded(store, 60)
    totals = account_totals(store, None, NOW)
    for band in ("red", "yellow", "green", None):
        members = [a for a in accounts if a["band"] == band]
        found = next((t for t in totals.by_band if t.band == band), None)
        assert (found.accounts if found else 0) == len(members)
        assert (found.arr if found else 0.0) == sum(a.get("arr", 0.0) for a in members)
    horizon = (NOW + timedelta(days=90)).date()
    risky = [a for a in accounts if a["band"] in ("red", "yellow") and a.get("renewal_date")
             and NOW.date() <= date.fromisoformat(a["renewal_date"]) <= horizon]
    assert (totals.accounts_at_risk, totals.arr_at_risk) == (len(risky), sum(a.get("arr", 0.0) for a in risky))
    assert totals.accounts == len(accounts)
    mine = account_totals(store, None, NOW, csm="ana@example.com", band="red")
    assert mine.accounts == sum(1 for a in accounts if a["band"] == "red"
                                and (a.get("csm") or {}).get("email") == "ana@example.com")


def test_the_cards_follow_fields_scores_and_erasure_and_a_rebuild_changes_nothing(store: Store) -> None:
    _seeded(store, 10)
    store.add_change("acct-001", NOW, event=None, data={}, event_id=None,
                     traits={"name": "Renamed", "arr": 123.0, "csm": {"email": "Cy@Example.com", "name": "Cy"}})
    store.record_score("acct-001", ScoreState(name="adoption", value=1.0, band="red"), NOW)  # not the card's
    store.record_score("acct-001", ScoreState(name="health", value=99.0, band="green"), NOW)
    store.forget_account("acct-002", NOW)
    with store.database.read() as conn:
        before = {row.account: row._asdict() for row in conn.execute(select(account_cards))}
    with store.database.write() as conn:
        rebuild_cards(conn)
    with store.database.read() as conn:
        after = {row.account: row._asdict() for row in conn.execute(select(account_cards))}
    assert before == after
    card = after["acct-001"]
    assert (card["name"], card["arr"], card["csm_email"]) == ("Renamed", 123.0, "cy@example.com")
    assert card["csm_name"] == "Cy"
    assert (card["score_name"], card["band"], card["score"]) == ("health", "green", 99.0)
    assert "acct-002" not in after


def _counted(store: Store) -> dict[str | None, tuple[int, float]]:
    with store.database.read() as conn:
        rows = conn.execute(select(account_cards.c.band, account_cards.c.arr)).all()
    found: dict[str | None, tuple[int, float]] = {}
    for band, arr in rows:
        n, total = found.get(band, (0, 0.0))
        found[band] = (n + 1, total + (arr or 0.0))
    return found


def _kept(store: Store) -> dict[str | None, tuple[int, float]]:
    with store.database.read() as conn:
        return band_totals(conn)


def _changes(store: Store) -> int:
    with store.database.read() as conn:
        return len(conn.execute(select(card_total_changes.c.seq)).all())


def test_the_totals_kept_on_write_equal_a_count_of_the_cards_through_changes_folds_erasure_and_a_rebuild(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    _seeded(store, 30)
    assert _kept(store) == _counted(store) and _changes(store) > 0
    for round_number in range(3):
        for number in rng.sample(range(30), 8):
            store.add_change(f"acct-{number:03d}", NOW, event=None, data={}, event_id=None,
                             traits={"arr": rng.choice([500.0, 7000.0])})
            store.record_score(f"acct-{number:03d}", ScoreState(name="health", value=1.0, band=rng.choice(
                ["red", "green"])), NOW + timedelta(minutes=round_number))
        store.forget_account(f"acct-{round_number:03d}", NOW)
        assert _kept(store) == _counted(store)
        with store.database.write() as conn:
            assert fold(conn) > 0
        assert _changes(store) == 0 and _kept(store) == _counted(store)
    with store.database.write() as conn:
        rebuild_cards(conn)
    monkeypatch.setattr("engine.store.card_totals.FOLD_AT", 10_000)
    settle(store.database)  # fewer changes than that: nothing folded
    assert _changes(store) > 0 and _kept(store) == _counted(store)
    monkeypatch.setattr("engine.store.card_totals.FOLD_AT", 5)
    settle(store.database)
    assert _changes(store) == 0 and _kept(store) == _counted(store)
    assert account_totals(store, None, NOW).accounts == sum(n for n, _ in _counted(store).values())


def _direct(store: Store) -> list[tuple[Any, ...]]:
    with store.database.read() as conn:
        return sorted(((*tuple(getattr(row, name) for name in GROUPS), int(row.n))
                       for row in conn.execute(action_groups(store.dialect, []))), key=repr)


def _tallied(store: Store) -> list[tuple[Any, ...]]:
    return sorted(((*tuple(getattr(row, name) for name in GROUPS), int(row.n)) for row in store.tallied_actions()),
                  key=repr)


def test_the_tallies_match_the_log_as_actions_come_and_accounts_are_erased(store: Store) -> None:
    def log(account: str, number: int, kind: str, data: dict[str, Any], path: str) -> None:
        store.log_action(ActionRecord(at=NOW, account=account, playbook="renewal", kind=kind, data=data,
                                      key=f"journey/renewal/{account}/run/{path}"))

    for number, account in enumerate(("a/1", "b", "c")):
        log(account, number, "email", {"template": "t", "to": f"{account}@example.com"}, "day 0/0")
        log(account, number, "decided", {"what": "branch", "outcome": "true", "block": "then"}, "day 1/0/branch/0")
    assert _tallied(store) == _direct(store)
    log("d", 9, "suppressed", {"reason": "unsubscribed"}, "day 0/0")
    assert _tallied(store) == _direct(store)  # folded in at the next read
    store.forget_account("b", NOW)
    store.forget_email("c@example.com", NOW)
    assert _tallied(store) == _direct(store)


def test_overdue_work_leaves_out_snoozed_and_done_items(store: Store) -> None:
    for number, (due, snoozed) in enumerate([(NOW - timedelta(days=1), None),
                                             (NOW - timedelta(days=1), NOW + timedelta(days=1)),
                                             (NOW - timedelta(days=2), None)]):
        store.create_task(TaskRecord(id=f"t{number}", account="a", playbook="p", title="T", owner="ana@example.com",
                                     due=due, priority="normal", created_at=NOW, snoozed_until=snoozed),
                          f"journey/p/a/r/{number}", "journey/p/a")
    store.complete_tasks("a", NOW, task_id="t2")
    assert [item.id for item in work_page(store, NOW, overdue=True).items] == ["t0"]
    assert [item.id for item in work_page(store, NOW, owner="ana@example.com").items] == ["t0", "t1"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda raw: raw.hex()))
def test_any_text_as_a_cursor_is_refused_or_read_never_an_error_of_another_kind(raw: str) -> None:
    with contextlib.suppress(BadCursor):
        decode_cursor(raw, "accounts:name", (int, (str, type(None)), str))


def test_a_bad_sort_or_limit_is_refused(store: Store) -> None:
    for wrong in ({"sort": "password"}, {"limit": 0}, {"limit": 201}, {"q": "x" * 201}):
        with pytest.raises(BadQuery):
            account_page(store, None, NOW, **wrong)


def test_an_accounts_timeline_pages_through_events_scores_actions_and_notes_once_newest_first(store: Store) -> None:
    store.add_change("acme", NOW, event="login", data={"user": "bill"}, event_id="e-1", traits={"name": "Acme"})
    store.record_score("acme", ScoreState(name="health", value=20.0, band="red"), NOW + timedelta(hours=1))
    key = "journey/p/acme/r"
    store.log_action(ActionRecord(at=NOW + timedelta(hours=2), account="acme", playbook="p", kind="decided",
                                  data={"what": "branch", "outcome": "true", "block": "then"}, key=f"{key}/day 0/0"))
    store.log_action(ActionRecord(at=NOW + timedelta(hours=2), account="acme", playbook="p", kind="task",
                                  data={"task": "t-1", "title": "Call"}, key=f"{key}/day 0/0/then/0"))
    store.log_action(ActionRecord(at=NOW + timedelta(hours=3), account="acme", playbook="p", kind="plan_started",
                                  data={"plan": "onboarding"}, key=f"{key}/day 0/1"))
    store.add_note("acme", "Called Bill", "sam@example.com", NOW + timedelta(hours=4))
    store.add_change("acme", NOW + timedelta(hours=5), event="task_completed", data={"task": "t-1"},
                     event_id="done-1", traits={})
    walked: list[tuple[str, str]] = []
    cursor = None
    while True:
        page = account_timeline(store, "acme", cursor=cursor, limit=2)
        walked += [(item.kind, item.what) for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert walked == [("work_item", "task_completed"), ("note", "note"), ("work_item", "plan_started"),
                      ("work_item", "task"), ("decision", "decided"), ("score", "health"), ("event", "login")]
    work = account_timeline(store, "acme", kind="work_item")
    events = account_timeline(store, "acme", kind="event,note")
    assert [item.what for item in work.items] == ["task_completed", "plan_started", "task"]
    assert [item.what for item in events.items] == ["note", "login"]
    assert {item.source for item in page.items} <= {"event", "score", "action", "note"}
