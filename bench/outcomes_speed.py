"""How long the outcomes pages take to read, on a generated year of history.

    .venv/bin/python bench/outcomes_speed.py [--accounts 1000] [--store PATH]

Generates a year of history for N accounts (`tests/outcome_history.py`: expansion, contraction,
churn, scores, journeys with an A/B split) into a SQLite store (`--store` keeps it, and a store
already there is read as it is), then times, in the process:

- `ledger`: reading the history from the store (the first read, or the first after a change);
- `retention`, `forecast`, `impact`: computing each page's figures on a ledger already read;
- `page read`: the same page asked again, as the API and the dashboard ask (`stale_ok`): the figures
  remembered with the ledger. This is what a page read costs while the history is at most a minute
  old, and the figure the goal (< 200 ms at 100,000 accounts) is about;
- `unchanged check`: what a fresh reader (the command line) pays to learn the store has not changed;
- the process's peak memory (the generator's lists included when it generates).

The last line is one JSON object of the figures; the exit status is 0 when the page read meets the goal.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.insight import outcomes_cache  # noqa: E402
from engine.insight.forecast import forecast  # noqa: E402
from engine.insight.outcomes import outcomes  # noqa: E402
from engine.insight.outcomes_impact import playbook_impact  # noqa: E402
from engine.store import Store  # noqa: E402
from tests.outcome_history import generate_year  # noqa: E402

GOAL_SECONDS = 0.2
BANDS = ["green", "yellow", "red"]


def timed(what: Callable[[], Any]) -> float:
    started = time.perf_counter()
    what()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--store", type=Path, default=None, help="keep the store here (reused when it exists)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="outcomes-bench-"))
    path = args.store or folder / "store.db"
    fresh = not path.exists()
    store = Store.open(f"sqlite:///{path}")
    figures: dict[str, Any] = {"accounts": args.accounts}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    if fresh:
        started = time.perf_counter()
        generate_year(store, accounts=args.accounts, start=start)
        figures["generate_s"] = round(time.perf_counter() - started, 2)
    now = start + timedelta(days=365)
    figures["ledger_s"] = round(timed(lambda: outcomes_cache.ledger(store, "health")), 3)
    figures["retention_s"] = round(timed(lambda: outcomes(store, "health", None, None, "segment", now)), 3)
    figures["forecast_s"] = round(timed(lambda: forecast(store, "health", BANDS, now)), 3)
    figures["impact_s"] = round(timed(lambda: playbook_impact(store, "health", "renewal", now)), 3)
    outcomes(store, "health", None, None, "segment", stale_ok=True)
    forecast(store, "health", BANDS, stale_ok=True)
    reads = [timed(lambda: outcomes(store, "health", None, None, "segment", stale_ok=True)) for _ in range(5)]
    reads += [timed(lambda: forecast(store, "health", BANDS, stale_ok=True)) for _ in range(5)]
    figures["page_read_ms"] = round(max(reads) * 1000, 2)
    figures["unchanged_check_ms"] = round(timed(lambda: outcomes_cache.ledger(store, "health")) * 1000, 2)
    store.close()
    figures["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    met = max(reads) < GOAL_SECONDS
    print(f"{args.accounts:,} accounts: history read {figures['ledger_s']} s; computing retention "
          f"{figures['retention_s']} s, forecast {figures['forecast_s']} s, impact {figures['impact_s']} s; "
          f"a page read {figures['page_read_ms']} ms (goal < {GOAL_SECONDS * 1000:.0f} ms: "
          f"{'met' if met else 'NOT met'}); a fresh reader's unchanged check {figures['unchanged_check_ms']} ms; "
          f"peak memory {figures['max_rss_mib']} MiB")
    print(json.dumps(figures))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
