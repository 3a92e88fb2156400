"""Playbook impact: entrants against comparable accounts of their cell, with the counts behind it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.insight.outcomes_impact import MIN_ACCOUNTS, playbook_impact
from engine.store import Store
from tests.outcome_history import enter, record, score

AS_OF = datetime(2026, 9, 1, tzinfo=UTC)


def _plant(store: Store) -> None:
    rows: list[tuple[str, str, str | None, dict[str, Any]]] = []
    for number in range(40):  # entrants: smb, green, 1,000 each; 4 churn within their 90 days
        rows.append((f"in-{number}", "2025-06-01", "signed", {"segment": "smb", "arr": 1000}))
        if number < 4:
            rows.append((f"in-{number}", "2026-03-01", "churned", {}))
    for number in range(40):  # comparable: the same cell, never entered; 8 churn, 2 double
        rows.append((f"out-{number}", "2025-06-01", "signed", {"segment": "smb", "arr": 1000}))
        if number < 8:
            rows.append((f"out-{number}", "2026-03-01", "churned", {}))
        elif number < 10:
            rows.append((f"out-{number}", "2026-04-01", None, {"arr": 2000}))
    for number in range(5):  # enterprise and red: no comparable account in that cell
        rows.append((f"big-{number}", "2025-06-01", "signed", {"segment": "enterprise", "arr": 50000}))
    rows += [("late", "2025-06-01", "signed", {"segment": "smb", "arr": 1000}),
             ("prospect", "2025-06-01", None, {"segment": "smb"})]
    record(store, rows)
    for number in range(40):
        score(store, f"in-{number}", "2025-06-01", "green")
        score(store, f"out-{number}", "2025-06-01", "green")
        enter(store, f"in-{number}", "nurture", "2026-02-10", "v1" if number < 30 else "v2",
              "a" if number % 2 else "b")
    for number in range(5):
        score(store, f"big-{number}", "2025-06-01", "red")
        enter(store, f"big-{number}", "nurture", "2026-02-10", "v1")
    enter(store, "late", "nurture", "2026-08-01", "v2")
    enter(store, "prospect", "nurture", "2026-02-10", "v2")


def test_entrants_are_compared_with_the_same_cell_standardised_to_them(store: Store) -> None:
    _plant(store)
    rows = {row.cohort: row for row in playbook_impact(store, "health", "nurture", AS_OF).rows}
    overall = rows["all"]
    assert (overall.entered, overall.too_recent, overall.not_customers, overall.unmatched) == (47, 1, 1, 5)
    assert (overall.entrants.accounts, overall.entrants.starting_arr, overall.entrants.churned_arr) == (40, 40000, 4000)
    assert (overall.entrants.nrr, overall.entrants.logo_churn) == (0.9, 0.1)
    # comparable: 8,000 churned and 2,000 expanded per 40,000, applied to the entrants' 40,000
    assert (overall.comparison.accounts, overall.comparison.measurements) == (40, 40)
    assert (overall.comparison.churned_arr, overall.comparison.expansion) == (8000, 2000)
    assert (overall.comparison.nrr, overall.comparison.grr, overall.comparison.logo_churn) == (0.85, 0.8, 0.2)
    assert (overall.nrr_difference, overall.grr_difference, overall.logo_churn_difference) == (5.0, 10.0, -10.0)
    assert overall.verdict == "entrants kept 5.0 points more net revenue than comparable accounts over 90 days"


def test_below_the_threshold_the_verdict_is_not_enough_data_with_the_counts(store: Store) -> None:
    _plant(store)
    rows = {row.cohort: row for row in playbook_impact(store, "health", "nurture", AS_OF).rows}
    assert list(rows) == ["all", "version v1", "version v2", "arm day 0/0: a", "arm day 0/0: b"]
    assert rows["version v1"].entrants.accounts == 30 and rows["version v1"].nrr_difference is not None
    arm = rows["arm day 0/0: a"]
    assert arm.entrants.accounts == 20 and arm.nrr_difference is None
    assert arm.verdict == (f"not enough data (20 entrants measured, 40 comparable measurements; "
                           f"{MIN_ACCOUNTS} of each needed)")
    assert rows["version v2"].verdict.startswith("not enough data (10 entrants measured")


def test_a_playbook_nobody_entered_has_nothing_to_compare(store: Store) -> None:
    _plant(store)
    (row,) = playbook_impact(store, "health", "unknown_playbook", AS_OF).rows
    assert (row.entered, row.entrants.accounts, row.comparison.measurements) == (0, 0, 0)
    assert row.verdict.startswith("not enough data (0 entrants measured, 0 comparable measurements")
