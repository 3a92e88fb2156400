"""Time triggers through the router: date fields, schedules and weekly trend checks, per account zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dsl import ir
from engine.records import RouteResult, StartJourney
from engine.routing.router import Router
from engine.store import Store

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
STEPS = (ir.Step(name="day 0", body=(ir.SendEmail(template="hello"),)),)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


SMB_SIGNED_LONG_AGO = ir.Logic(
    op="and",
    args=(
        ir.Compare(op="==", left=ir.FieldRef(path=("segment",)), right=ir.Literal_(type="text", value="smb")),
        ir.Seen(event="signed", older_than=ir.Duration(amount=30, unit="days")),
    ),
)

PLAYBOOKS = [
    ir.Playbook(id="renewal", trigger=ir.DateTrigger(field="renewal_date", offset_days=-90), steps=STEPS),
    ir.Playbook(
        id="spotlight", trigger=ir.ScheduleTrigger(every="month"), audience=SMB_SIGNED_LONG_AGO, steps=STEPS
    ),
    ir.Playbook(id="review", trigger=ir.ScheduleTrigger(every="quarter"), steps=STEPS),
    ir.Playbook(
        id="login_drop",
        steps=STEPS,
        trigger=ir.TrendTrigger(metric="weekly_logins", direction="down", percent=40, weeks=3),
    ),
]

BUNDLE = ir.Bundle(
    model=ir.Model(
        metrics={
            "weekly_logins": ir.MetricDef(
                name="weekly_logins", event="login", window=ir.Duration(amount=7, unit="days")
            )
        }
    ),
    playbooks={pb.id: pb for pb in PLAYBOOKS},
)


def exact_router(store: Store, bundle: ir.Bundle) -> Router:
    """A router whose schedules fire at their instants exactly (no spread: see test_schedule_spread.py)."""
    return Router(store, bundle, spread=timedelta(0))


def only(playbook: str) -> ir.Bundle:
    return BUNDLE.model_copy(update={"playbooks": {playbook: BUNDLE.playbooks[playbook]}})


def add(store: Store, at: datetime, account: str = "acme", event: str | None = None, **traits: Any) -> None:
    store.add_change(account, at, event=event, data={}, traits=traits, event_id=None)


def starts(result: RouteResult) -> list[tuple[str, str, datetime]]:
    return [(i.playbook, i.account, i.entry_at) for i in result.intents if isinstance(i, StartJourney)]


# ------------------------------------------------------------------ date fields


def test_date_trigger_fires_at_0900_account_time_on_the_shifted_date(store: Store) -> None:
    add(store, T0, "initech", renewal_date="2026-04-15", timezone="UTC")
    add(store, T0, "tokyo_co", renewal_date="2026-04-15", timezone="Asia/Tokyo")
    router = exact_router(store, only("renewal"))
    result = router.due(T0, T0 + 30 * DAY)
    assert starts(result) == [
        ("renewal", "tokyo_co", utc(2026, 1, 15, 0)),
        ("renewal", "initech", utc(2026, 1, 15, 9)),
    ]
    [start, _] = [i for i in result.intents if isinstance(i, StartJourney)]
    assert start.reason == "90 days before renewal_date"


def test_date_trigger_entry_is_the_instant_not_the_end_of_the_window(store: Store) -> None:
    add(store, T0, renewal_date="2026-04-15")
    assert starts(exact_router(store, only("renewal")).due(utc(2026, 1, 15, 8), utc(2026, 2, 1))) == [
        ("renewal", "acme", utc(2026, 1, 15, 9))
    ]
    assert starts(exact_router(store, only("renewal")).due(utc(2026, 1, 15, 9), utc(2026, 2, 1))) == []


def test_date_trigger_follows_dst_in_the_account_zone(store: Store) -> None:
    # 90 days before 2026-06-29 is 2026-03-31, summer time in Berlin: 09:00 is 07:00 UTC
    add(store, T0, renewal_date="2026-06-29", timezone="Europe/Berlin")
    assert starts(exact_router(store, only("renewal")).due(T0, utc(2026, 4, 30))) == [
        ("renewal", "acme", utc(2026, 3, 31, 7))
    ]


def test_date_set_after_its_instant_never_fires(store: Store) -> None:
    add(store, utc(2026, 1, 20), renewal_date="2026-04-15")
    assert starts(exact_router(store, only("renewal")).due(T0, utc(2026, 3, 1))) == []


def test_date_moved_before_its_instant_fires_on_the_new_date(store: Store) -> None:
    add(store, T0, renewal_date="2026-04-15")
    add(store, utc(2026, 1, 10), renewal_date="2026-05-15")
    assert starts(exact_router(store, only("renewal")).due(T0, utc(2026, 3, 1))) == [
        ("renewal", "acme", utc(2026, 2, 14, 9))
    ]


# ------------------------------------------------------------------ schedules


def test_every_month_on_the_first_at_1000_local_with_audience(store: Store) -> None:
    add(store, T0, "berlin_co", event="signed", segment="smb", timezone="Europe/Berlin")
    router = exact_router(store, only("spotlight"))
    result = router.due(T0, utc(2026, 4, 5))
    # February 1st is only 27 days after signing: refused, and the refusal is logged
    assert starts(result) == [
        ("spotlight", "berlin_co", utc(2026, 3, 1, 9)),
        ("spotlight", "berlin_co", utc(2026, 4, 1, 8)),
    ]
    [decided] = result.actions
    assert decided.at == utc(2026, 2, 1, 9)
    assert decided.data["what"] == "not_admitted"
    assert decided.data["reads"] == {"segment": "smb", "seen signed more than 30 days ago": False}


def test_every_quarter_and_accounts_created_after_an_instant(store: Store) -> None:
    add(store, T0, "early", segment="smb")
    add(store, utc(2026, 5, 1), "late", segment="smb")
    result = exact_router(store, only("review")).due(T0, utc(2026, 12, 31))
    assert starts(result) == [
        ("review", "early", utc(2026, 4, 1, 10)),
        ("review", "early", utc(2026, 7, 1, 10)),
        ("review", "late", utc(2026, 7, 1, 10)),
        ("review", "early", utc(2026, 10, 1, 10)),
        ("review", "late", utc(2026, 10, 1, 10)),
    ]


def test_due_twice_logs_decisions_once_and_starts_nothing_after_entry(store: Store) -> None:
    add(store, T0, "acme", event="signed", segment="smb")
    router = exact_router(store, only("spotlight"))
    first = router.due(T0, utc(2026, 3, 5))
    assert len(first.actions) == 1 and len(starts(first)) == 1
    store.journey_entered("journey/spotlight/acme", "r1", "spotlight", "acme", "v1", utc(2026, 3, 1, 10))
    again = router.due(T0, utc(2026, 3, 5))
    assert again == RouteResult()


# ------------------------------------------------------------------ trends


def logins(store: Store, weekly: list[int], first_check: datetime) -> None:
    """`weekly[i]` logins in the week before the check `first_check + i weeks`."""
    for week, amount in enumerate(weekly):
        end = first_check + timedelta(weeks=week)
        for hour in range(amount):
            add(store, end - timedelta(hours=hour + 1), event="login")


def test_trend_fires_when_it_starts_holding_and_rearms_after_it_stops(store: Store) -> None:
    # checks on Mondays from T0: 100, 60, 36, 21 (holds), 12 (still holds), 12 (stops), 7, 4, 2 (holds again)
    logins(store, [100, 60, 36, 21, 12, 12, 7, 4, 2], T0)
    router = exact_router(store, only("login_drop"))
    result = router.due(T0 - DAY, T0 + timedelta(weeks=9))
    assert starts(result) == [
        ("login_drop", "acme", T0 + timedelta(weeks=3)),
        ("login_drop", "acme", T0 + timedelta(weeks=8)),
    ]
    # the same answer week by week
    weekly = [starts(router.due(T0 + timedelta(weeks=w), T0 + timedelta(weeks=w + 1))) for w in range(9)]
    assert [w for w, found in enumerate(weekly) if found] == [2, 7]


def test_trend_checks_are_monday_0900_account_time(store: Store) -> None:
    add(store, T0 - 30 * DAY, timezone="America/New_York")
    first_check = utc(2026, 1, 5, 14)  # Monday 09:00 in New York
    logins(store, [100, 60, 36, 21], first_check)
    result = exact_router(store, only("login_drop")).due(T0, T0 + timedelta(weeks=4))
    assert starts(result) == [("login_drop", "acme", first_check + timedelta(weeks=3))]


# ------------------------------------------------------------------ next_due


def test_next_due_is_the_earliest_instant_across_accounts(store: Store) -> None:
    add(store, T0, "initech", renewal_date="2026-04-15")
    add(store, T0, "tokyo_co", timezone="Asia/Tokyo")
    assert exact_router(store, only("renewal")).next_due(T0) == utc(2026, 1, 15, 9)
    assert exact_router(store, only("renewal")).next_due(utc(2026, 1, 15, 9)) is None
    assert exact_router(store, only("spotlight")).next_due(T0) == utc(2026, 2, 1, 1)  # 10:00 in Tokyo
    assert exact_router(store, only("login_drop")).next_due(T0) == utc(2026, 1, 12, 0)  # Monday 09:00 in Tokyo
    assert exact_router(store, BUNDLE).next_due(T0) == utc(2026, 1, 12, 0)


def test_next_due_without_time_triggers_or_accounts_is_none(store: Store) -> None:
    assert exact_router(store, BUNDLE).next_due(T0) is None
    add(store, T0)
    assert exact_router(store, BUNDLE.model_copy(update={"playbooks": {}})).next_due(T0) is None
