"""Snapshots read from the store are exact at any time: fields, computed scores, metrics, events, zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dsl import ir
from engine.records import ScoreState, TaskRecord
from engine.store import Store
from engine.store.snapshots import account_timezone, build_snapshot

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
DAY = timedelta(days=1)

USAGE = ir.ScoreModel(
    name="usage",
    components=(
        ir.Component(
            name="dau",
            max_points=100,
            inputs=("dau_pct",),
            rules=(
                ir.PointRule(
                    points=100,
                    when=ir.Compare(
                        op=">=",
                        left=ir.FieldRef(path=("dau_pct",)),
                        right=ir.Literal_(type="percent", value=50),
                    ),
                ),
                ir.PointRule(points=0),
            ),
        ),
    ),
    bands=(ir.Band(name="high", low=50, high=100), ir.Band(name="low", low=0, high=49)),
)

BUNDLE = ir.Bundle(
    model=ir.Model(
        metrics={
            "weekly_logins": ir.MetricDef(
                name="weekly_logins", event="login", window=ir.Duration(amount=7, unit="days")
            )
        }
    ),
    scores={"usage": USAGE},
)


def test_snapshot_shows_the_account_as_it_stood_then(store: Store) -> None:
    store.add_change(
        "acme",
        T0,
        event="signed",
        data={},
        traits={"dau_pct": 20, "timezone": "Europe/Berlin"},
        event_id="e-1",
    )
    store.add_change("acme", T0 + DAY, event="login", data={}, traits={}, event_id="e-2")
    store.add_change("acme", T0 + 2 * DAY, event="login", data={}, traits={"dau_pct": 70}, event_id="e-3")
    store.add_change("acme", T0 + 9 * DAY, event="login", data={}, traits={}, event_id="e-4")

    then = build_snapshot(store, BUNDLE, "acme", T0 + 2 * DAY)
    assert then.fields == {"dau_pct": 70, "timezone": "Europe/Berlin"}
    assert then.scores["usage"] == ScoreState(name="usage", value=100, band="high", breakdown={"dau": 100})
    assert then.metrics == {"weekly_logins": 2}
    assert then.events == [("signed", T0), ("login", T0 + DAY), ("login", T0 + 2 * DAY)]
    assert then.timezone == "Europe/Berlin"

    before = build_snapshot(store, BUNDLE, "acme", T0 + DAY)
    assert before.scores["usage"].band == "low"
    later = build_snapshot(store, BUNDLE, "acme", T0 + 9 * DAY)
    assert later.metrics == {"weekly_logins": 1}  # (day 2, day 9]: only day 9's login is in the window


def test_snapshot_of_an_unknown_account_is_empty_and_unscored(store: Store) -> None:
    snap = build_snapshot(store, BUNDLE, "nobody", T0)
    assert snap.fields == {} and snap.events == []
    assert snap.scores["usage"].missing == ["dau_pct"]
    assert snap.timezone == "UTC"


def test_snapshot_carries_the_given_tasks(store: Store) -> None:
    task = TaskRecord(
        id="t-1",
        account="acme",
        playbook="p",
        title="Call",
        owner="sam@vendor.example",
        due=None,
        priority="normal",
        created_at=T0,
    )
    assert build_snapshot(store, BUNDLE, "acme", T0, tasks={"t-1": task}).tasks == {"t-1": task}


def test_invalid_time_zone_falls_back_to_utc() -> None:
    assert account_timezone({"timezone": "Mars/Olympus"}) == "UTC"
    assert account_timezone({"timezone": 5}) == "UTC"
    assert account_timezone({"timezone": "Asia/Tokyo"}) == "Asia/Tokyo"
