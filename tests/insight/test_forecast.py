"""The renewal forecast: its calibration finds the renewal rates planted per band, and each
probability is the sum of its stated factors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.insight.forecast import forecast
from engine.insight.forecast_calibration import MIN_RENEWALS
from engine.records import ActionRecord
from engine.store import Store
from engine.store.schema import tasks
from tests.outcome_history import CALL_ARM_SAVES, RENEWAL_RATES, generate_year, record, score

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
BANDS = ["green", "yellow", "red"]
PLANTED = {"green": (40, 38), "yellow": (30, 24), "red": (20, 10)}  # past renewals, renewed


def _plant(store: Store) -> None:
    rows: list[tuple[str, str, str | None, dict[str, Any]]] = []
    for band, (renewals, renewed) in PLANTED.items():
        for number in range(renewals):
            account = f"{band}-{number}"
            rows.append((account, "2025-01-01", "signed", {"arr": 1000, "renewal_date": "2026-03-01"}))
            if number >= renewed:
                rows.append((account, "2026-02-20", "churned", {}))
            score(store, account, "2025-01-01", band)
    rows += [("soon-green", "2025-07-15", "signed", {"arr": 10000, "renewal_date": "2026-07-15", "name": "Soon"}),
             ("soon-red", "2025-08-10", "signed", {"arr": 20000, "renewal_date": "2026-08-10"}),
             ("far", "2025-01-01", "signed", {"arr": 5000, "renewal_date": "2027-03-01"})]
    record(store, rows)
    score(store, "soon-green", "2025-07-15", "green")
    score(store, "soon-red", "2026-05-01", "yellow", 70)
    score(store, "soon-red", "2026-05-25", "red", 40)  # fell 30 points in the last 30 days
    with store.database.write() as conn:
        conn.execute(tasks.insert(), [{"id": "t1", "account": "soon-red", "title": "Outreach", "owner": "x@y.z",
                                       "priority": "urgent", "status": "open", "created_at": AS_OF, "key": "t1"}])


def test_the_calibration_finds_the_planted_rates_and_keeps_the_default_below_the_threshold(store: Store) -> None:
    _plant(store)
    result = forecast(store, "health", BANDS, AS_OF)
    bands = {entry.band: entry for entry in result.calibration}
    assert result.past_renewals == 90 and result.min_renewals == MIN_RENEWALS == 30
    assert (bands["green"].renewals, bands["green"].renewed, bands["green"].rate, bands["green"].source) == (
        40, 38, 0.95, "history")
    assert (bands["yellow"].rate, bands["yellow"].source) == (0.8, "history")
    assert (bands["red"].observed_rate, bands["red"].rate, bands["red"].source) == (0.5, 0.6, "default")
    assert bands["unscored"].renewals == 0 and bands["unscored"].source == "default"


def test_each_probability_is_the_sum_of_its_factors_with_their_reasons(store: Store) -> None:
    _plant(store)
    result = forecast(store, "health", BANDS, AS_OF)
    renewals = {renewal.account: renewal for renewal in result.renewals}
    assert list(renewals) == ["soon-green", "soon-red"]  # `far` is beyond 180 days; the past ones are past
    green, red = renewals["soon-green"], renewals["soon-red"]
    assert (green.probability, green.at_risk, green.expected_arr, green.name) == (0.95, False, 9500, "Soon")
    assert green.factors[0].reason == "green: 38 of 40 past renewals of green accounts renewed (95%)"
    assert [(factor.name, factor.effect) for factor in red.factors] == [("band", 0.6), ("trend", -0.1),
                                                                         ("risk_items", -0.05)]
    assert "fewer than the 30 needed" in red.factors[0].reason
    assert red.factors[1].reason == "score fell 30 points in 30 days"
    assert (red.probability, red.at_risk) == (0.45, True)
    months = {month.month: month for month in result.months}
    assert list(months) == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert (months["2026-07"].arr, months["2026-07"].expected_arr) == (10000, 9500)
    assert (months["2026-08"].at_risk, months["2026-08"].at_risk_arr) == (1, 20000)
    quarter, half = result.windows
    assert (quarter.days, quarter.renewals, quarter.at_risk_arr, half.days) == (90, 2, 20000, 180)


def test_the_calibration_on_a_generated_year_finds_the_rates_planted_in_it(store: Store) -> None:
    year = generate_year(store, accounts=1000)
    result = forecast(store, "health", BANDS, year.end)
    for entry in result.calibration[:3]:
        # half the renewals are in arm `call`, which halves the loss: the planted rate of the band
        planted = 1 - (1 - RENEWAL_RATES[entry.band]) * (1 + CALL_ARM_SAVES) / 2
        assert entry.source == "history" and entry.renewals >= MIN_RENEWALS
        assert entry.low is not None and entry.high is not None
        assert entry.low <= planted <= entry.high, (entry, planted)


def test_a_success_plan_behind_or_stuck_lowers_the_probability_by_its_latest_status(store: Store) -> None:
    _plant(store)
    for status, at in (("behind", datetime(2026, 5, 2, tzinfo=UTC)), ("stuck", datetime(2026, 5, 20, tzinfo=UTC))):
        store.log_action(ActionRecord(at=at, account="soon-green", playbook="kickoff", kind="plan_status_changed",
                                      data={"plan": "onboarding", "status": status, "previous": "on_track"}))
    renewals = {renewal.account: renewal for renewal in forecast(store, "health", BANDS, AS_OF).renewals}
    green = renewals["soon-green"]
    assert [(factor.name, factor.effect, factor.reason) for factor in green.factors[1:]] == [
        ("plan_status", -0.1, "success plan onboarding is stuck")]
    assert green.probability == 0.85
    assert [factor.name for factor in renewals["soon-red"].factors] == ["band", "trend", "risk_items"]
