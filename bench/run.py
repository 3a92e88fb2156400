"""Every benchmark figure in one run, side by side: a table of figure, value, goal, met.

    .venv/bin/python bench/run.py [--quick] [--only NAME,…]

Runs the scripts of `bench/` one after the other (never at once: the machine has few cores),
each in its own process, reads the JSON object each prints last, prints the table, writes it
to `bench/results.md` with the machine (cores, memory, Python, load average at the start, date)
and the size each figure used, and prints one JSON object of the figures as its last line.
`--quick` uses smaller sizes (under 5 minutes in all); the simulation's 1,000-account time is
then extrapolated linearly from 100 accounts and labelled so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulation.shards import auto_shards

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FULL_TIMELINE_LINES = 22_038  # `generate_timeline.py`: 1,000 accounts, 30 days, seed 7

SIZES = {
    "full": {"check": ["--files", "1000", "--repeat", "3"],
             "journeys": ["--journeys", "300", "--warmup", "20"],
             "ingest": ["--accounts", "1000"],
             "simulate": ["--accounts", "1000", "--days", "30", "--timeout", "900"],
             "welcome": ["--accounts", "1000", "--burst", "1000", "--timeout", "900"],
             "rss": ["--counts", "1000,10000"],
             "lsp": ["--lines", "1000", "--keystrokes", "60"],
             "cockpit": ["--samples", "20"],
             "scale": ["--accounts", "1000,10000"]},
    "quick": {"check": ["--files", "1000", "--repeat", "1"],
              "journeys": ["--journeys", "60", "--warmup", "10"],
              "ingest": ["--accounts", "150"],
              # as many processes as `playbook simulate` gives the full-size timeline
              "simulate": ["--accounts", "200", "--days", "30", "--timeout", "100",
                           "--processes", str(auto_shards(FULL_TIMELINE_LINES))],
              "welcome": ["--accounts", "100", "--burst", "200", "--timeout", "120"],
              # The cache scaled down with the counts: both counts exceed it, as 1,000 and 10,000
              # exceed the full run's cache of 1,000, so "flat" means the same thing in both modes.
              "rss": ["--counts", "500,2000", "--cache", "200"],
              "lsp": ["--lines", "1000", "--keystrokes", "20"],
              "cockpit": ["--quick", "--samples", "10"],
              "scale": ["--quick"]},
}
SCRIPTS = {"check": "check_speed.py", "journeys": "journeys_vs_bare.py", "ingest": "ingest_speed.py",
           "simulate": "simulate_speed.py", "welcome": "welcome_latency.py", "rss": "sleeping_rss.py",
           "lsp": "lsp_keystroke.py", "cockpit": "cockpit.py", "scale": "scale.py"}
ORDER = ("check", "lsp", "journeys", "ingest", "simulate", "welcome", "rss", "cockpit", "scale")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_script(name: str, args: list[str]) -> dict[str, Any]:
    """Run one script, echoing its output indented; its last JSON line, wall and CPU seconds."""
    command = [sys.executable, str(HERE / SCRIPTS[name]), *args]
    print(f"\n== {SCRIPTS[name]} {' '.join(args)}", flush=True)
    cpu, began = children_cpu(), time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        print("   " + line.rstrip("\n"), flush=True)
    process.wait()
    out: dict[str, Any] = {"exit": process.returncode, "wall_s": round(time.perf_counter() - began, 1),
                           "cpu_s": round(children_cpu() - cpu, 1), "lines": lines}
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                out["json"] = json.loads(line)
                break
            except ValueError:
                continue
    return out


def check_figures(lines: list[str]) -> dict[str, Any]:
    """check_speed.py prints no JSON: its `lines/second: N wall, M CPU` line."""
    for line in lines:
        found = re.match(r"lines/second:\s*([\d,]+) wall, ([\d,]+) CPU", line)
        if found:
            return {"wall": int(found.group(1).replace(",", "")), "cpu": int(found.group(2).replace(",", ""))}
    return {}


def machine() -> dict[str, Any]:
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory": memory, "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "platform": platform.platform()}


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under 5 minutes in all")
    parser.add_argument("--only", help="comma-separated subset of " + ",".join(ORDER))
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    sizes = SIZES[mode]
    wanted = [n for n in ORDER if not args.only or n in args.only.split(",")]
    about = machine()
    began = time.perf_counter()
    runs: dict[str, dict[str, Any]] = {}
    for name in wanted:
        extra = list(sizes[name])
        if name == "welcome":
            rate = runs.get("journeys", {}).get("json", {}).get("engine_journeys_per_second")
            extra += ["--rate", f"{max(0.5, rate / 2):.2f}" if rate else "5"]
        runs[name] = run_script(name, extra)

    rows: list[tuple[str, str, str, str, str, str]] = []  # figure, value, goal, met, size, cost
    figures: dict[str, Any] = {"mode": mode}

    def cost(name: str) -> str:
        return f"{runs[name]['wall_s']:.0f} s wall, {runs[name]['cpu_s']:.0f} s CPU"

    if "check" in runs:
        c = check_figures(runs["check"]["lines"])
        figures["check_lines_per_s"] = c.get("wall")
        figures["check_lines_per_s_cpu"] = c.get("cpu")
        met = c.get("wall", 0) >= 10_000
        rows.append(("`playbook check` lines/s (wall; CPU)", f"{fmt(c.get('wall'))} ; {fmt(c.get('cpu'))}",
                     "≥ 10,000", "yes" if met else "NO", "1,000 playbooks", cost("check")))
    if "lsp" in runs:
        k = runs["lsp"].get("json", {})
        figures["lsp_keystroke_median_ms"] = k.get("stdio_median_ms")
        figures["lsp_keystroke_p95_ms"] = k.get("stdio_p95_ms")
        rows.append(("`playbook lsp`: keystroke to diagnostics, median (p95)",
                     f"{fmt(k.get('stdio_median_ms'), 1)} ms ({fmt(k.get('stdio_p95_ms'), 1)} ms)", "< 100 ms",
                     "yes" if k.get("goal_met") else "NO",
                     f"{fmt(k.get('file_lines'))}-line file, {k.get('keystrokes')} keystrokes", cost("lsp")))
    if "journeys" in runs:
        j = runs["journeys"].get("json", {})
        figures["journeys_vs_bare"] = j.get("ratio")
        figures["engine_journeys_per_s"] = j.get("engine_journeys_per_second")
        figures["bare_journeys_per_s"] = j.get("bare_journeys_per_second")
        rows.append(("journeys/s engine vs bare Temporal",
                     f"{fmt(j.get('ratio'))} ({fmt(j.get('engine_journeys_per_second'), 1)}"
                     f" vs {fmt(j.get('bare_journeys_per_second'), 1)}/s)", "≥ 1.0",
                     "yes" if j.get("goal_met") else "NO",
                     f"{(j.get('journeys') or 0) * (j.get('rounds') or 1)} journeys/side", cost("journeys")))
    if "ingest" in runs:
        i = runs["ingest"].get("json", {})
        sq = i.get("sqlite", {})
        figures["ingest_vs_sqlite"] = sq.get("api_vs_raw")
        figures["ingest_cli_vs_sqlite"] = sq.get("ingest_vs_raw")
        figures["ingest_api_events_per_s"] = sq.get("api", {}).get("events_per_second")
        figures["ingest_raw_sqlite_events_per_s"] = sq.get("raw", {}).get("events_per_second")
        size = f"{fmt(sq.get('events'))} events ({i.get('accounts')} accounts x 30 d)"
        for label, key in (("POST /v1/events", "api"), ("`playbook ingest`", "ingest")):
            ratio = sq.get(f"{key}_vs_raw")
            rows.append((f"{label} vs raw executemany, SQLite",
                         f"{fmt(ratio, 4)} ({fmt(sq.get(key, {}).get('events_per_second'), 0)} vs "
                         f"{fmt(sq.get('raw', {}).get('events_per_second'), 0)} ev/s)", "≥ 0.5",
                         "yes" if ratio is not None and ratio >= 0.5 else "NO", size, cost("ingest")))
        pg = i.get("postgresql", {})
        if "skipped" in pg:
            figures["ingest_vs_postgresql"] = None
            rows.append(("ingest vs raw, PostgreSQL", "skipped", "≥ 0.5", "—", pg["skipped"], ""))
        elif pg:
            figures["ingest_vs_postgresql"] = pg.get("api_vs_raw")
            figures["ingest_cli_vs_postgresql"] = pg.get("ingest_vs_raw")
            for label, key in (("POST /v1/events", "api"), ("`playbook ingest`", "ingest")):
                ratio = pg.get(f"{key}_vs_raw")
                rows.append((f"{label} vs raw executemany, PostgreSQL",
                             f"{fmt(ratio, 4)} ({fmt(pg.get(key, {}).get('events_per_second'), 0)} vs "
                             f"{fmt(pg.get('raw', {}).get('events_per_second'), 0)} ev/s)", "≥ 0.5",
                             "yes" if ratio is not None and ratio >= 0.5 else "NO", size, ""))
    if "simulate" in runs:
        s = runs["simulate"].get("json", {})
        accounts = s.get("accounts", 0)
        measured = s.get("wall_seconds") if s.get("finished") else s.get("projected_wall_seconds")
        if accounts and accounts != 1000 and measured is not None:
            value = measured * 1000 / accounts
            label = (f"{value:,.0f} s EXTRAPOLATED (x{1000 / accounts:g} from {measured:.0f} s "
                     f"{'measured' if s.get('finished') else 'projected'} at {accounts} accounts)")
        else:
            value = measured
            label = f"{fmt(value, 1)} s" + ("" if s.get("finished") else " (projected: stopped at the timeout)")
        figures["simulate_1k_30d_s"] = round(value, 1) if value is not None else None
        figures["simulate_1k_30d_extrapolated"] = accounts != 1000 or not s.get("finished")
        figures["simulate_measured_s"] = measured
        rows.append(("`simulate` 1,000 accounts x 30 days", label, "< 120 s",
                     "yes" if value is not None and value < 120 else "NO", f"{accounts} accounts x 30 days",
                     cost("simulate")))
    if "welcome" in runs:
        w = runs["welcome"].get("json", {})
        st, bu = w.get("steady", {}), w.get("burst", {})
        figures["welcome_p50_s"] = st.get("p50_s")
        figures["welcome_p99_s"] = st.get("p99_s")
        figures["burst_drain_s"] = bu.get("drain_s")
        size = f"{st.get('accounts')} sign-ups at {st.get('rate_per_second')}/s"
        rows.append(("signed → welcome email at SMTP, p50", f"{fmt(st.get('p50_s'), 3)} s", "—", "—", size,
                     cost("welcome")))
        rows.append(("signed → welcome email at SMTP, p99", f"{fmt(st.get('p99_s'), 3)} s", "< 2 s",
                     "yes" if w.get("goal_met") else "NO", size, ""))
        if bu:
            rows.append(("burst of sign-ups drained",
                         f"{fmt(bu.get('drain_s'), 1)} s ({fmt(bu.get('drain_per_second'), 1)}/s;"
                         f" request answered 503 {bu.get('answers_503')}x)", "—", "—",
                         f"{bu.get('accounts')} sign-ups in one request", ""))
    if "rss" in runs:
        r = runs["rss"].get("json", {})
        rss_rows = [row for row in r.get("rows", []) if row["journeys"]]
        if len(rss_rows) >= 2:
            figures["rss_mb_1k"] = rss_rows[0]["rss_mib"]
            figures["rss_mb_10k"] = rss_rows[-1]["rss_mib"]
            figures["rss_counts"] = [rss_rows[0]["journeys"], rss_rows[-1]["journeys"]]
            figures["rss_growth"] = r.get("growth")
            rows.append((f"worker RSS, {rss_rows[0]['journeys']:,} → {rss_rows[-1]['journeys']:,} sleeping journeys",
                         f"{rss_rows[0]['rss_mib']:.0f} → {rss_rows[-1]['rss_mib']:.0f} MiB "
                         f"({r.get('growth', 0) * 100:+.0f}%)",
                         f"flat (≤ +25%), cache {r.get('cache', 1000):,}", "yes" if r.get("goal_met") else "NO",
                         f"{rss_rows[0]['journeys']:,} and {rss_rows[-1]['journeys']:,}", cost("rss")))
        else:
            figures["rss_mb_1k"] = figures["rss_mb_10k"] = None
    if "cockpit" in runs:
        k = runs["cockpit"].get("json", {})
        figures["cockpit_slowest_p99_ms"] = k.get("slowest_p99_ms")
        figures["cockpit_slowest_route"] = k.get("route")
        rows.append(("cockpit: slowest p99 of the paged API routes and pages",
                     f"{fmt(k.get('slowest_p99_ms'), 1)} ms ({k.get('route')})", "< 200 ms",
                     "yes" if k.get("goal_met") else "NO",
                     f"{k.get('accounts', 0):,} accounts, {k.get('actions', 0):,} actions", cost("cockpit")))
    if "scale" in runs:
        sc = runs["scale"].get("json", {})
        for key in ("routed_events_per_s", "routed_vs_raw", "ingest_routed_vs_raw", "core_routed_vs_raw",
                    "drain_starts_per_s", "route_ms_history_0", "route_ms_history_3000", "scheduler_ms_per_due_account",
                    "scheduler_pass_s", "accounts_measured", "bytes_per_event"):
            figures[key] = sc.get(key)
        routed, first, last = sc.get("routed_vs_raw"), sc.get("route_ms_history_0"), sc.get("route_ms_history_3000")
        rows.append(("events routed (API, until routed) vs raw executemany, SQLite",
                     f"{fmt(routed, 4)} ({fmt(sc.get('routed_events_per_s'), 0)} ev/s)", "≥ 0.5",
                     "yes" if routed is not None and routed >= 0.5 else "NO", f"{fmt(sc.get('api_events'))} events",
                     cost("scale")))
        rows.append(("route one change: 3,000 past changes vs none", f"{fmt(last)} vs {fmt(first)} ms", "≤ x1.5",
                     "yes" if first and last is not None and last <= 1.5 * first else "NO", "one account", ""))
        rows.append(("drain: journey starts/s on the dev server", fmt(sc.get("drain_starts_per_s"), 1), "—", "—",
                     "one by one", ""))
        rows.append(("store bytes per event, SQLite", fmt(sc.get("bytes_per_event"), 0), "≤ 600",
                     "yes" if (sc.get("bytes_per_event") or 1e9) <= 600 else "NO",
                     f"{fmt(sc.get('accounts_measured'))} accounts", ""))
    for key in ("journeys_vs_bare", "ingest_vs_sqlite", "check_lines_per_s", "lsp_keystroke_median_ms", "simulate_1k_30d_s", "welcome_p99_s",
                "rss_mb_1k", "rss_mb_10k"):
        figures.setdefault(key, None)
    figures["exit_codes"] = {name: run["exit"] for name, run in runs.items()}
    figures["total_wall_s"] = round(time.perf_counter() - began, 1)
    figures["machine"] = about

    header = ("figure", "value", "goal", "met", "size", "cost")
    table = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    print("\n" + "\n".join(table))
    text = [f"# Benchmark results ({mode})", "",
            f"{about['date']}; {about['cores']} cores, {about['memory']} memory, Python {about['python']}, "
            f"load average at start {about['load_average_at_start']}; {about['platform']}.",
            f"Total {figures['total_wall_s']:.0f} s. "
            f"Produced by `python bench/run.py{' --quick' if args.quick else ''}`; "
            "`cost` is the wall and CPU time of the script (its children included).", "", *table, ""]
    if figures.get("simulate_1k_30d_extrapolated"):
        text.append("The simulation figure is extrapolated (linear in accounts), not measured at 1,000 accounts.")
        text.append("")
    args.out.write_text("\n".join(text), encoding="utf-8")
    print(f"\nwritten: {args.out}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
