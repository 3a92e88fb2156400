"""`playbook outcomes [--by GROUP] [--since DATE] [--until DATE] [--forecast] [--impact PLAYBOOK] [--json]`:
revenue retention (NRR, GRR, logo churn) of the accounts present at the window's start, in total
and per cohort; with `--forecast`, the renewals of the next 180 days with their probabilities and
the calibration; with `--impact PLAYBOOK`, the playbook's entrants against comparable accounts.

By default it asks the running engine's API (`GET /v1/outcomes`, `/v1/outcomes/forecast`,
`/v1/outcomes/impact/{playbook}`); with `--database-url` or `--store` it reads the store directly,
with the score of the playbooks in `--playbooks DIR`. The definitions: docs/outcomes.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from cli.commands import UsageError
from cli.commands.api_client import EngineError, api_from_args, failing_cleanly, parse_when
from cli.commands.stats import add_source_options, local_bundle, local_store, reads_store
from engine.insight.forecast import Forecast, forecast
from engine.insight.outcomes import GROUPINGS, Outcomes, Retention, WindowError, outcomes, score_bands, window
from engine.insight.outcomes_impact import Impact, playbook_impact

__all__ = ["forecast_report", "impact_report", "outcomes_report", "register", "run"]


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _retention_line(figures: Retention, width: int) -> str:
    return (f"  {figures.group.ljust(width)}  {figures.accounts:>6}  {_money(figures.starting_arr):>14}  "
            f"{_money(figures.expansion):>12}  {_money(figures.contraction):>12}  {_money(figures.churned_arr):>12}  "
            f"{_percent(figures.nrr):>7}  {_percent(figures.grr):>7}  {_percent(figures.logo_churn):>7}")


def outcomes_report(result: Outcomes) -> str:
    rows = [result.total, *result.groups]
    width = max(len(row.group) for row in rows)
    lines = [f"retention from {result.since:%Y-%m-%d %H:%M} to {result.until:%Y-%m-%d %H:%M} UTC"
             + (f", by {result.by}" + (f" (score {result.score})" if result.by == "band" else "") if result.by else ""),
             "",
             f"  {'cohort'.ljust(width)}  {'logos':>6}  {'starting ARR':>14}  {'expansion':>12}  {'contraction':>12}  "
             f"{'churned ARR':>12}  {'NRR':>7}  {'GRR':>7}  {'churn':>7}",
             _retention_line(result.total, width)]
    lines += [_retention_line(row, width) for row in result.groups]
    if result.curves and result.curves[0].points:
        lines += ["", "  NRR / GRR of the whole cohort since the start, month by month:"]
        lines += [f"    {point.at:%Y-%m-%d}  {_percent(point.nrr):>7}  {_percent(point.grr):>7}"
                  for point in result.curves[0].points]
    return "\n".join(lines) + "\n"


def forecast_report(result: Forecast) -> str:
    lines = [f"renewal forecast as of {result.as_of:%Y-%m-%d %H:%M} UTC (score {result.score or 'none'}); "
             f"{result.past_renewals} past renewals in the store", "", "  calibration per band:"]
    for band in result.calibration:
        seen = (f"{band.renewed} of {band.renewals} renewed ({_percent(band.observed_rate)}, 95% CI "
                f"{_percent(band.low)} to {_percent(band.high)})" if band.renewals else "no past renewals")
        lines.append(f"    {band.band:<10} {seen}; uses {_percent(band.rate)} ({band.source}"
                     + ("" if band.source == "history" else f": fewer than {result.min_renewals}") + ")")
    lines.append("")
    for span in result.windows:
        lines.append(f"  next {span.days} days: {span.renewals} renewals, ARR {_money(span.arr)}, expected "
                     f"{_money(span.expected_arr)}; at risk (below {_percent(result.at_risk_below)}): "
                     f"{span.at_risk}, ARR {_money(span.at_risk_arr)}")
    lines += ["", "  by month:"]
    lines += [f"    {month.month}  {month.renewals:>5} renewals  ARR {_money(month.arr):>12}  expected "
              f"{_money(month.expected_arr):>12}  at risk {month.at_risk:>4} ({_money(month.at_risk_arr)})"
              for month in result.months]
    risky = [renewal for renewal in result.renewals if renewal.at_risk]
    if risky:
        lines += ["", "  at risk, soonest first:"]
        for renewal in risky:
            reasons = "; ".join(factor.reason for factor in renewal.factors)
            lines.append(f"    {renewal.renewal_date}  {renewal.account}  ARR {_money(renewal.arr)}  "
                         f"{_percent(renewal.probability)}  ({reasons})")
    return "\n".join(lines) + "\n"


def impact_report(result: Impact) -> str:
    lines = [f"impact of {result.playbook}: {result.horizon_days} days after entry, against comparable accounts "
             f"(same segment and {result.score or 'score'} band, no entry)"]
    for row in result.rows:
        lines += ["", f"  {row.cohort}: entered {row.entered} (too recent {row.too_recent}, not customers "
                      f"{row.not_customers}, unmatched {row.unmatched})",
                  f"    entrants    {row.entrants.accounts:>6} accounts  NRR {_percent(row.entrants.nrr):>7}  "
                  f"GRR {_percent(row.entrants.grr):>7}  logo churn {_percent(row.entrants.logo_churn):>7}",
                  f"    comparable  {row.comparison.accounts:>6} accounts  NRR {_percent(row.comparison.nrr):>7}  "
                  f"GRR {_percent(row.comparison.grr):>7}  logo churn {_percent(row.comparison.logo_churn):>7}  "
                  f"({row.comparison.measurements} measurements)",
                  f"    {row.verdict}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the command


def _from_api(args: argparse.Namespace) -> BaseModel:
    model: type[BaseModel]
    if args.forecast:
        path, model, params = "/v1/outcomes/forecast", Forecast, {"days": str(args.days), "limit": "100000"}
    elif args.impact:
        path, model = f"/v1/outcomes/impact/{urllib.parse.quote(args.impact, safe='')}", Impact
        params = {"horizon_days": str(args.horizon_days)}
    else:
        path, model = "/v1/outcomes", Outcomes
        params = {key: value for key, value in (("since", args.since), ("until", args.until), ("by", args.by))
                  if value}
    with api_from_args(args) as api:
        body: Any = api.json("GET", path, params=params or None)
    try:
        return model.model_validate(body)
    except ValueError:
        raise EngineError(f"the engine at {api.url} answered {path} with something else than outcomes") from None


def _from_store(args: argparse.Namespace) -> BaseModel:
    bundle = local_bundle(args.playbooks)
    if args.impact and args.impact not in bundle.playbooks:
        raise UsageError(f"no playbook '{args.impact}' in {args.playbooks}")
    score, bands = score_bands(bundle)
    store = local_store(args)
    try:
        if args.forecast:
            return forecast(store, score, bands, horizon_days=args.days)
        if args.impact:
            return playbook_impact(store, score, args.impact, horizon_days=args.horizon_days)
        since = parse_when(args.since, "--since") if args.since else None
        until = parse_when(args.until, "--until") if args.until else None
        return outcomes(store, score, since, until, args.by)
    finally:
        store.close()


def _run(args: argparse.Namespace) -> int:
    if args.forecast and args.impact:
        raise UsageError("--forecast and --impact are two reports: give one of them")
    since = parse_when(args.since, "--since") if args.since else None
    until = parse_when(args.until, "--until") if args.until else None
    try:
        window(since, until, datetime.now(UTC))
    except WindowError as error:
        raise UsageError(f"--since, --until: {error}") from None
    result = _from_store(args) if reads_store(args) else _from_api(args)
    if args.json:
        sys.stdout.write(json.dumps(result.model_dump(mode="json", exclude_none=True), ensure_ascii=False,
                                    indent=2) + "\n")
    elif isinstance(result, Forecast):
        sys.stdout.write(forecast_report(result))
    elif isinstance(result, Impact):
        sys.stdout.write(impact_report(result))
    else:
        assert isinstance(result, Outcomes)
        sys.stdout.write(outcomes_report(result))
    return 0


run = failing_cleanly("outcomes", _run)


def _days(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {raw!r}") from None
    if not 1 <= value <= 730:
        raise argparse.ArgumentTypeError(f"expected 1 to 730 days, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "outcomes",
        help="revenue retention (NRR, GRR, churn), the renewal forecast, a playbook's impact",
        description="Net and gross revenue retention and logo churn of the accounts present at the window's "
                    "start, in total and per cohort; the renewal forecast (--forecast); the retention of a "
                    "playbook's entrants against comparable accounts (--impact). Definitions: docs/outcomes.md.",
    )
    parser.add_argument("--by", choices=GROUPINGS, default=None, help="one line per cohort of this kind")
    parser.add_argument("--since", metavar="DATE", default=None,
                        help="the window's start (ISO date or date and time; default: a year before its end)")
    parser.add_argument("--until", metavar="DATE", default=None, help="the window's end (default: now)")
    parser.add_argument("--forecast", action="store_true", help="the renewals due in the next --days days")
    parser.add_argument("--days", type=_days, default=180, help="with --forecast: how far ahead (default: 180)")
    parser.add_argument("--impact", metavar="PLAYBOOK", default=None,
                        help="the playbook's entrants against comparable accounts, per version and arm")
    parser.add_argument("--horizon-days", type=_days, default=90,
                        help="with --impact: the days measured after each entry (default: 90)")
    parser.add_argument("--json", action="store_true", help="the figures as JSON (the API's shape)")
    add_source_options(parser)
    parser.set_defaults(handler=run)
