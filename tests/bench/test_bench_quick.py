"""The benchmark scripts still run: each at its tiniest size (a few seconds each)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run(script: str, *args: str, timeout: float = 60) -> dict:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=BENCH.parent)
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    return json.loads(last) if last.startswith("{") else {"last": last}


def test_check_speed() -> None:
    assert "lines/second" in run("check_speed.py", "--files", "20", "--repeat", "1")["last"]


def test_lsp_keystroke() -> None:
    figures = run("lsp_keystroke.py", "--lines", "100", "--keystrokes", "4")
    assert figures["keystrokes"] == 4
    assert figures["typos_reported"] == 2  # each letter typed into a field's name was reported


def test_generate_timeline(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    import generate_timeline

    summary = generate_timeline.write(tmp_path / "e.jsonl", accounts=3, days=3, seed=7)
    assert summary.events > 0


def test_journeys_vs_bare() -> None:
    figures = run("journeys_vs_bare.py", "--journeys", "3", "--warmup", "0")
    assert figures["engine_journeys_per_second"] > 0 and figures["bare_journeys_per_second"] > 0


def test_simulate_speed() -> None:
    figures = run("simulate_speed.py", "--accounts", "3", "--days", "3")
    assert figures["finished"] and figures["share_done"] == 1.0 and figures["processes"] == 1


def test_simulate_speed_in_two_processes() -> None:
    figures = run("simulate_speed.py", "--accounts", "6", "--days", "3", "--processes", "2")
    assert figures["finished"] and figures["processes"] == 2 and figures["actions"] > 0


def test_ingest_speed() -> None:
    figures = run("ingest_speed.py", "--accounts", "2", "--days", "3", "--no-postgres")
    assert figures["sqlite"]["api"]["stored"] == figures["sqlite"]["raw"]["stored"] > 0


def test_welcome_latency() -> None:
    figures = run("welcome_latency.py", "--accounts", "3", "--rate", "5", "--burst", "3", "--timeout", "30")
    assert figures["steady"]["arrived"] == 3 and figures["burst"]["arrived"] == 3


def test_scale_scheduler() -> None:
    figures = run("scale_scheduler.py", "--quick", "--accounts", "5", "--proportional-accounts", "200")["5"]
    assert figures["due_accounts"] == figures["accounts_measured"] == 5  # every account's Monday trend check
    assert figures["bytes_per_event"] > 0
    assert (figures["proportional"]["small_due"], figures["proportional"]["large_due"]) == (2, 20)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_sleeping_rss() -> None:
    figures = run("sleeping_rss.py", "--counts", "5,10", "--cache", "5")
    assert [row["journeys"] for row in figures["rows"]] == [0, 5, 10]


def test_run_reads_the_figures() -> None:
    sys.path.insert(0, str(BENCH))
    import run as bench_run

    assert bench_run.check_figures(["lines/second: 9,832 wall, 9,835 CPU (goal 10,000)"]) == {"wall": 9832,
                                                                                           "cpu": 9835}
    assert set(bench_run.SIZES["quick"]) == set(bench_run.ORDER) == set(bench_run.SIZES["full"])


def test_route_history() -> None:
    figures = run("route_history.py", "--histories", "0,30", "--changes", "3")
    assert set(figures) == {"route_ms_history_0", "route_ms_history_30", "route_update_ms_history_0",
                            "route_update_ms_history_30"}


def test_drain_speed() -> None:
    assert run("drain_speed.py", "--starts", "8")["drain_starts_per_s"] > 0


def test_outcomes_speed() -> None:
    figures = run("outcomes_speed.py", "--accounts", "60")
    assert figures["accounts"] == 60 and figures["page_read_ms"] >= 0


def test_routing_speed_inserts_every_written_row_raw(tmp_path: Path) -> None:
    code = ("import json, pathlib, sys; sys.path.insert(0, 'bench'); import routing_speed; "
            "print(json.dumps(routing_speed.measure('sqlite', 3, 3, pathlib.Path(sys.argv[1]))))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120,
                          cwd=BENCH.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["events"] > 0 and sum(figures["written_rows"].values()) > figures["events"]


def test_intake_floor_reads_lines_and_inserts_the_same_rows_as_raw() -> None:
    figures = run("intake_floor.py", "--accounts", "2", "--days", "3")
    (curve,) = figures["curves"]
    assert curve["events"] > 0 and curve["raw_events_per_s"] > 0 and curve["parse_insert_events_per_s"] > 0
    assert figures["parse_insert_vs_raw"] == curve["parse_insert_vs_raw"] > 0
