"""Retention figures against a small history computed by hand (the sums are in the comments)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from engine.insight import outcomes_cache
from engine.insight.outcomes import Outcomes, Retention, outcomes
from engine.store import Store
from tests.outcome_history import enter, record, score

SINCE, UNTIL = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
SAM, KIM = {"email": "sam@vendor.example"}, {"email": "kim@vendor.example"}


@pytest.fixture
def history(store: Store) -> Store:
    return _plant(store)


def _plant(store: Store) -> Store:
    record(store, [
        ("a1", "2025-03-01", "signed", {"segment": "smb", "csm": SAM, "arr": 10000}),
        ("a2", "2025-04-01", "signed", {"segment": "smb", "csm": SAM, "arr": 20000}),
        ("a3", "2025-05-01", "signed", {"segment": "enterprise", "csm": KIM, "arr": 100000}),
        ("a4", "2025-06-01", "signed", {"segment": "enterprise", "csm": KIM, "arr": 50000}),
        ("a5", "2025-07-01", "signed", {"segment": "smb", "csm": KIM, "arr": 7000}),
        ("a6", "2025-07-01", None, {"segment": "smb", "csm": KIM}),  # no ARR: never a customer
        ("a5", "2025-10-01", "churned", {}),
        ("a4", "2025-11-01", "churned", {}),  # churned before the window: not in the cohort
        ("a5", "2025-12-01", "signed", {"arr": 5000}),  # back before the window: in the cohort
        ("a4", "2026-02-01", "signed", {"arr": 40000}),  # back during the window: new business
        ("a1", "2026-03-15", None, {"arr": 15000}),  # expansion 5,000
        ("a2", "2026-03-20", None, {"arr": 12000}),  # not contraction: a2 churns, at its 20,000
        ("a2", "2026-04-10", "churned", {}),
        ("a3", "2026-05-20", None, {"arr": 80000}),  # contraction 20,000
    ])
    for account, band in (("a1", "green"), ("a2", "red"), ("a3", "yellow"), ("a5", "green")):
        score(store, account, "2025-12-01", band)
    score(store, "a3", "2026-03-01", "red")  # the band at the start groups: a3 stays yellow
    enter(store, "a1", "renewal", "2026-02-01", "v1", "call")
    enter(store, "a2", "health_red", "2025-12-20", "v1")
    enter(store, "a2", "renewal", "2026-03-01", "v2", "email")
    enter(store, "a3", "renewal", "2026-07-02", "v2", "call")  # after the window: not counted
    return store


def _read(store: Store, by: str | None = None) -> Outcomes:
    return outcomes(store, "health", SINCE, UNTIL, by)


def _groups(result: Outcomes) -> dict[str, Retention]:
    return {group.group: group for group in result.groups}


def test_the_cohort_is_the_customers_at_the_start_and_churn_counts_at_the_starting_arr(history: Store) -> None:
    total = _read(history).total
    # a1 10,000 + a2 20,000 + a3 100,000 + a5 5,000; a4 churned before, a6 had no ARR
    assert (total.accounts, total.starting_arr) == (4, 135000)
    assert (total.expansion, total.contraction, total.churned_arr) == (5000, 20000, 20000)
    assert total.ending_arr == 100000
    assert (total.expanded_accounts, total.contracted_accounts, total.churned_accounts) == (1, 1, 1)
    assert total.nrr == round(100000 / 135000, 4)  # 0.7407
    assert total.grr == round(95000 / 135000, 4)  # 0.7037
    assert total.logo_churn == 0.25


def test_cohorts_by_segment_csm_and_band_are_taken_at_the_start(history: Store) -> None:
    segments = _groups(_read(history, "segment"))
    assert segments["smb"].starting_arr == 35000 and segments["smb"].nrr == round(20000 / 35000, 4)
    assert segments["smb"].grr == round(15000 / 35000, 4) and segments["smb"].logo_churn == round(1 / 3, 4)
    assert segments["enterprise"].nrr == 0.8 and segments["enterprise"].grr == 0.8
    assert [group.group for group in _read(history, "segment").groups] == ["enterprise", "smb"]  # by ARR
    csms = _groups(_read(history, "csm"))
    assert (csms["sam@vendor.example"].starting_arr, csms["kim@vendor.example"].starting_arr) == (30000, 105000)
    bands = _groups(_read(history, "band"))
    assert {name: group.starting_arr for name, group in bands.items()} == {"green": 15000, "red": 20000,
                                                                          "yellow": 100000}


def test_cohorts_by_playbook_version_and_arm_hold_the_journeys_entered_by_the_end(history: Store) -> None:
    playbooks = _groups(_read(history, "playbook"))
    assert {name: group.accounts for name, group in playbooks.items()} == {"renewal": 2, "health_red": 1, "none": 2}
    assert playbooks["renewal"].nrr == round((30000 + 5000 - 20000) / 30000, 4)
    versions = _groups(_read(history, "version"))
    assert {name: group.accounts for name, group in versions.items()} == {
        "renewal v1": 1, "renewal v2": 1, "health_red v1": 1, "none": 2}
    arms = _groups(_read(history, "arm"))
    assert {name: group.starting_arr for name, group in arms.items()} == {
        "renewal day 0/0: call": 10000, "renewal day 0/0: email": 20000, "none": 105000}


def test_the_curve_follows_the_cohort_month_by_month(history: Store) -> None:
    curve = _read(history).curves[0]
    assert curve.group == "all"
    assert [point.at.strftime("%m-%d") for point in curve.points] == ["01-01", "02-01", "03-01", "04-01", "05-01",
                                                                      "06-01", "07-01"]
    # 04-01: a1 at 15,000 and a2 at 12,000 (before it churned); 05-01: a2 gone; 06-01: a3 at 80,000
    def share(*kept: int) -> list[float]:
        return [round(arr / 135000, 4) for arr in kept]

    assert [point.nrr for point in curve.points] == share(135000, 135000, 135000, 132000, 120000, 100000, 100000)
    assert [point.grr for point in curve.points] == share(135000, 135000, 135000, 127000, 115000, 95000, 95000)
    assert [point.logos_retained for point in curve.points] == [1.0, 1.0, 1.0, 1.0, 0.75, 0.75, 0.75]


def test_an_empty_cohort_has_no_ratios(store: Store) -> None:
    total = outcomes(store, None, SINCE, UNTIL).total
    assert (total.accounts, total.nrr, total.grr, total.logo_churn) == (0, None, None, None)


def test_a_new_change_in_the_store_is_read_and_a_stale_reader_is_answered_at_once(
        history: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    first = outcomes(history, "health", SINCE, UNTIL, stale_ok=True)
    record(history, [("a3", "2026-06-01", "churned", {})])
    assert outcomes(history, "health", SINCE, UNTIL, stale_ok=True) == first  # the ledger read a moment ago
    assert _read(history).total.churned_accounts == 2  # a fresh reader reads the change
    monkeypatch.setattr(outcomes_cache, "STALE_SECONDS", 0.0)
    record(history, [("a1", "2026-06-01", "churned", {})])
    outcomes(history, "health", SINCE, UNTIL, stale_ok=True)  # answered from the old ledger, refreshed behind
    for thread in threading.enumerate():
        if thread.name == "outcomes-ledger":
            thread.join()
    monkeypatch.setattr(outcomes_cache, "STALE_SECONDS", 3600.0)
    assert outcomes(history, "health", SINCE, UNTIL, stale_ok=True).total.churned_accounts == 3


def test_postgresql_gives_the_same_figures(pg_store: Store) -> None:
    _plant(pg_store)
    total = outcomes(pg_store, "health", SINCE, UNTIL).total
    assert (total.accounts, total.starting_arr, total.expansion, total.contraction, total.churned_arr) == (
        4, 135000, 5000, 20000, 20000)
    arms = _groups(outcomes(pg_store, "health", SINCE, UNTIL, "arm"))
    assert {name: group.starting_arr for name, group in arms.items()} == {
        "renewal day 0/0: call": 10000, "renewal day 0/0: email": 20000, "none": 105000}
    bands = _groups(outcomes(pg_store, "health", SINCE, UNTIL, "band"))
    assert set(bands) == {"green", "red", "yellow"}


def test_a_large_history_is_read_and_its_figures_computed_behind_the_page(
        history: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outcomes_cache, "LARGE_ACCOUNTS", 1)  # the planted store counts as large
    monkeypatch.setattr(outcomes_cache, "LARGE_WAIT_SECONDS", 0.0)
    release = threading.Event()
    computed: list[str] = []

    def slow(book: outcomes_cache.Ledger) -> str:
        release.wait(60)
        computed.append("once")
        return f"{len(book.accounts)} accounts"

    book = outcomes_cache.ledger(history, "health")
    with pytest.raises(outcomes_cache.HistoryNotReady, match="being computed"):
        outcomes_cache.figures(book, ("slow",), slow, stale_ok=True)
    with pytest.raises(outcomes_cache.HistoryNotReady):  # asked again while it runs: the same thread
        outcomes_cache.figures(book, ("slow",), slow, stale_ok=True)
    release.set()
    for thread in threading.enumerate():
        if thread.name == "outcomes-figures":
            thread.join()
    assert outcomes_cache.figures(book, ("slow",), slow, stale_ok=True) == f"{len(book.accounts)} accounts"
    assert computed == ["once"]


def test_figures_that_fail_behind_the_page_fail_in_front_of_the_next_reader(
        history: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outcomes_cache, "LARGE_ACCOUNTS", 1)
    monkeypatch.setattr(outcomes_cache, "LARGE_WAIT_SECONDS", 0.0)
    release = threading.Event()

    def broken(book: outcomes_cache.Ledger) -> str:
        release.wait(60)
        raise ValueError("no figures")

    book = outcomes_cache.ledger(history, "health")
    with pytest.raises(outcomes_cache.HistoryNotReady):
        outcomes_cache.figures(book, ("broken",), broken, stale_ok=True)
    release.set()
    for thread in threading.enumerate():
        if thread.name == "outcomes-figures":
            thread.join()
    with pytest.raises(ValueError, match="no figures"):
        outcomes_cache.figures(book, ("broken",), broken, stale_ok=True)


def test_a_small_history_is_computed_while_the_reader_waits(history: Store) -> None:
    book = outcomes_cache.ledger(history, "health")
    assert outcomes_cache.figures(book, ("quick",), lambda found: len(found.accounts), stale_ok=True) == len(
        book.accounts)
