"""The worked example of docs/outcomes.md holds: its inputs stored as written, its figures computed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.insight.outcomes import outcomes
from engine.store import Store
from tests.outcome_history import record

DOC = Path(__file__).resolve().parents[2] / "docs" / "outcomes.md"


def _tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table of the text: its rows (header first, the ruler left out) of cells."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= {"-", ":"} for cell in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def _example() -> tuple[list[list[str]], dict[str, str]]:
    section = DOC.read_text().split("### Worked example", 1)[1].split("\n## ", 1)[0]
    inputs, figures = _tables(section)
    assert inputs[0] == ["account", "date", "event", "arr"] and figures[0] == ["figure", "value"]
    return inputs[1:], {name: value for name, value in figures[1:]}


def _percent(text: str) -> float:
    return round(float(text.removesuffix("%")) / 100, 4)


def test_the_worked_example_of_the_docs_gives_the_figures_the_docs_state(store: Store) -> None:
    inputs, stated = _example()
    rows: list[tuple[str, str, str | None, dict[str, Any]]] = [
        (account, day, event or None, {"arr": float(arr)} if arr else {}) for account, day, event, arr in inputs]
    record(store, rows)
    figures = outcomes(store, None, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)).total
    assert figures.accounts == int(stated["accounts at the start"])
    assert figures.starting_arr == float(stated["starting ARR"])
    assert figures.expansion == float(stated["expansion"])
    assert figures.contraction == float(stated["contraction"])
    assert figures.churned_arr == float(stated["churned ARR"])
    assert figures.nrr == _percent(stated["NRR"])
    assert figures.grr == _percent(stated["GRR"])
    assert figures.logo_churn == _percent(stated["logo churn"])
