"""`playbook ingest FILE` against a real API (uvicorn on a free port) and real journeys (Temporal's
time-skipping server with a worker): bad lines are reported with the file's line numbers, good
ones are stored, a re-run counts duplicates, and an engine that cannot take a batch yet (its
routing backlog is full while Temporal is away: 503, nothing stored) is waited out."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.commands.ingest import read_events
from cli.main import main
from dsl import ir
from engine.records import Rejection
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.live_api import drained, free_port, offline_starter, routing_held, served, temporal

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ingest-api-token"

TECHCORP = {"name": "TechCorp", "segment": "smb", "primary_contact": {"email": "ana@techcorp.example", "name": "Ana"},
            "csm": {"email": "sam@vendor.example", "manager": {"email": "lee@vendor.example"}}}

RECENT = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()  # live input: within the trigger horizon

# line numbers of the file: 1 good, 2 blank, 3 not JSON, 4 good, 5 no account, 6 wrong type,
# 7 undeclared event, 8 good (an event that starts onboarding), 9 a list, 10 good
LINES = [
    json.dumps({"id": "tc-1", "account": "techcorp", "at": RECENT, "traits": TECHCORP}),
    "",
    "{not json",
    json.dumps({"id": "gx-1", "account": "globex", "traits": {"name": "Globex", "utm_source": "ads"}}),
    json.dumps({"id": "nx-1", "traits": {"name": "No account"}}),
    json.dumps({"id": "tc-2", "account": "techcorp", "traits": {"arr": "lots"}}),
    json.dumps({"id": "tc-3", "account": "techcorp", "event": "signd"}),
    json.dumps({"id": "tc-4", "account": "techcorp", "at": RECENT, "event": "signed"}),
    "[1, 2]",
    json.dumps({"id": "gx-2", "account": "globex", "traits": {"segment": "enterprise"}}),
]


def _settings() -> Settings:
    return Settings(api_token=TOKEN, unsubscribe_secret="ingest-secret", public_url="http://api.test")


async def playbook(*argv: str) -> int:
    """`playbook ARGV…` run as the command line runs it, off the event loop that serves the API."""
    return await asyncio.to_thread(main, list(argv))


def _file(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_bad_lines_are_reported_with_their_file_line_numbers_and_the_good_ones_stored_and_a_rerun_counts_duplicates(  # noqa: E501
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, LINES)
    async with temporal(store, bundle) as running:
        app = create_app(_settings(), store, bundle, running.starter)
        async with served(app) as url:
            first = await playbook("ingest", str(path), "--batch", "2", "--url", url, "--token", TOKEN)
            first_out = capsys.readouterr()
            again = await playbook("ingest", str(path), "--batch", "3", "--url", url, "--token", TOKEN)
            again_out = capsys.readouterr()
            await drained(app)
    assert (first, again) == (1, 1)
    rejected = first_out.err.splitlines()
    assert [line.split(": ", 1)[0] for line in rejected] == [f"{path}:{n}" for n in (3, 5, 6, 7, 9)]
    assert rejected[0].startswith(f"{path}:3: not JSON")
    assert "account" in rejected[1]
    assert "arr" in rejected[2]
    assert "did you mean 'signed'" in rejected[3]
    assert rejected[4] == f"{path}:9: expected a JSON object, got a list"
    assert first_out.out.startswith(f"{path}: 9 lines sent in ")
    assert first_out.out.endswith(": 4 accepted, 0 duplicates, 5 rejected\n")
    assert again_out.err.splitlines() == rejected
    assert again_out.out.endswith(": 0 accepted, 4 duplicates, 5 rejected\n")
    assert store.current_fields("globex") == {"name": "Globex", "utm_source": "ads", "segment": "enterprise"}
    assert store.current_fields("techcorp")["segment"] == "smb"
    signed = [name for name, _, _ in store.events_until("techcorp", datetime.now(UTC))]
    assert signed == ["signed"]
    assert store.unrouted(limit=10) == []  # every stored change reached the journeys


async def test_a_file_of_good_lines_exits_zero(
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, [LINES[3], LINES[9]])
    async with temporal(store, bundle) as running, \
            served(create_app(_settings(), store, bundle, running.starter)) as url:
        status = await playbook("ingest", str(path), "--url", url, "--token", TOKEN)
    captured = capsys.readouterr()
    assert (status, captured.err) == (0, "")
    assert captured.out.endswith(": 2 accepted, 0 duplicates, 0 rejected\n")


async def test_wait_returns_once_every_stored_event_is_routed(
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, [LINES[0], LINES[7], LINES[3]])  # techcorp signs up: onboarding starts
    async with temporal(store, bundle) as running, \
            served(create_app(_settings(), store, bundle, running.starter)) as url:
        status = await playbook("ingest", str(path), "--wait", "--url", url, "--token", TOKEN)
        unrouted = store.unrouted(limit=10)  # read before anything else could route them
        started = [row.playbook for row in store.journeys(account="techcorp")]
    captured = capsys.readouterr()
    assert (status, captured.err) == (0, "")
    assert captured.out.endswith("routed: every stored event has reached its journeys\n")
    assert unrouted == []
    assert "smb_onboarding" in started


async def test_wait_gives_up_after_its_seconds_and_says_the_events_are_stored(
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, [LINES[0], LINES[7]])  # a sign-up, while Temporal is away
    app = create_app(_settings(), store, bundle, await offline_starter(store))
    async with served(app) as url:
        status = await playbook("ingest", str(path), "--wait", "1", "--url", url, "--token", TOKEN)
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out.endswith(": 2 accepted, 0 duplicates, 0 rejected\n")
    assert captured.err.startswith("still draining after 1 s: every stored event is routed, 1 journey start ")
    assert "they are committed and will be carried out (the drain is retrying" in captured.err
    assert store.current_fields("techcorp")["name"] == "TechCorp"


def test_a_negative_wait_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(_file(tmp_path, [LINES[0]])), "--wait", "-1"]) == 2
    assert "--wait: give 0 or more seconds" in capsys.readouterr().err


# The routing backlog holds one change: while routing cannot commit (the store refuses it), the
# next batch is refused with 503 before anything of it is stored.
BUSY = Limits(routing_timeout_seconds=1, retry_min_seconds=0.1, retry_max_seconds=0.3, max_routing_backlog=1)
STUCK = [LINES[0], LINES[7], LINES[3]]  # techcorp's traits and sign-up in one batch, then globex's traits


async def test_a_busy_engine_is_waited_out_and_the_batch_sent_again(
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, STUCK)
    starter = await offline_starter(store)
    app = create_app(_settings(), store, bundle, starter, BUSY)
    async with served(app) as url:
        with routing_held(store):
            ingest = asyncio.create_task(playbook("ingest", str(path), "--batch", "2", "--retry-wait", "0.2",
                                                  "--url", url, "--token", TOKEN))
            while app.state.api.dispatcher.status()["refused"] < 1:  # the second batch was refused
                assert not ingest.done(), capsys.readouterr()
                await asyncio.sleep(0.05)
            assert "globex" not in store.account_ids()  # refused before storing
        async with temporal(store, bundle) as running:
            starter.client, starter.task_queue = running.client, running.task_queue  # Temporal is back
            status = await asyncio.wait_for(ingest, 60)
            await drained(app)
    captured = capsys.readouterr()
    assert status == 0
    assert "the engine cannot take the batch yet" in captured.err
    assert captured.out.endswith(": 3 accepted, 0 duplicates, 0 rejected\n")
    assert store.current_fields("globex")["name"] == "Globex"
    assert store.unrouted(limit=10) == []  # routed once Temporal was back


async def test_when_the_retries_run_out_it_says_to_run_it_again(
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, STUCK)
    app = create_app(_settings(), store, bundle, await offline_starter(store), BUSY)
    async with served(app) as url:
        with routing_held(store):  # the first batch stays in the backlog: the second is refused
            status = await playbook("ingest", str(path), "--batch", "2", "--retries", "0", "--url", url,
                                    "--token", TOKEN)
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.startswith(f"playbook ingest: the engine at {url} cannot take the request yet")
    assert captured.err.endswith("Run the same command again later: it is safe\n")
    assert captured.out.endswith("2 accepted, 0 duplicates, 0 rejected before it stopped\n")
    assert store.current_fields("techcorp")["name"] == "TechCorp"
    assert "globex" not in store.account_ids()


async def test_with_no_engine_listening_it_says_to_start_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status = await playbook("ingest", str(_file(tmp_path, LINES)), "--url", url)
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err == f"playbook ingest: no engine at {url}: start it with `playbook dev`\n"


async def test_a_missing_token_names_the_setting(
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAYBOOK_API_TOKEN", raising=False)
    app = create_app(_settings(), store, bundle, await offline_starter(store))
    async with served(app) as url:
        status = await playbook("ingest", str(_file(tmp_path, LINES)), "--url", url)
    assert status == 1
    assert "PLAYBOOK_API_TOKEN" in capsys.readouterr().err
    assert store.account_ids() == []


def test_a_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(tmp_path / "nope.jsonl")]) == 2
    assert capsys.readouterr().err == f"playbook: no such file: {tmp_path / 'nope.jsonl'}\n"


def _numbers(entries: list[Any]) -> list[tuple[int, bool]]:
    return [(e.line, False) if isinstance(e, Rejection) else (e[0], True) for e in entries]


def test_lines_are_split_on_newlines_only_so_numbers_match_the_file() -> None:
    text = '{"account": "a", "traits": {"note": "one\u2028two\x85three"}}\r\n\n{"account": "b"}\nnope\n'
    assert _numbers(read_events(text)) == [(1, True), (3, True), (4, False)]


def test_a_file_that_is_one_json_array_is_read_as_its_objects() -> None:
    text = '[\n  {"account": "a"},\n  {"account": "b"},\n  3\n]\n'
    assert _numbers(read_events(text)) == [(2, True), (3, True), (4, False)]


async def test_backfill_stores_the_history_says_so_and_starts_no_journey(
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, [LINES[0], LINES[7]])  # a recent sign-up, sent as history
    async with temporal(store, bundle) as running, \
            served(create_app(_settings(), store, bundle, running.starter)) as url:
        status = await playbook("ingest", str(path), "--backfill", "--wait", "--url", url, "--token", TOKEN)
        started = store.journeys(account="techcorp")
    captured = capsys.readouterr()
    assert (status, captured.err) == (0, "")
    assert "2 of the accepted lines stored as history" in captured.out
    assert ": 2 accepted, 0 duplicates, 0 rejected\n" in captured.out
    assert started == []
    [decision] = [a for a in store.actions(account="techcorp") if a.data.get("what") == "backfill"]
    assert (decision.playbook, decision.data["count"]) == ("smb_onboarding", 1)


async def test_an_old_line_is_history_unless_the_horizon_takes_it(
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    old = [json.dumps({**json.loads(line), "at": two_days_ago}) for line in (LINES[0], LINES[7])]
    async with temporal(store, bundle) as running, \
            served(create_app(_settings(), store, bundle, running.starter)) as url:
        assert await playbook("ingest", str(_file(tmp_path, old)), "--wait", "--url", url, "--token", TOKEN) == 0
        assert store.journeys(account="techcorp") == []
        other = [line.replace("techcorp", "latecorp").replace('"tc-', '"lc-') for line in old]
        status = await playbook("ingest", str(_file(tmp_path, other)), "--horizon", "72h", "--wait", "--url", url,
                                "--token", TOKEN)
        started = [row.playbook for row in store.journeys(account="latecorp")]
    assert status == 0
    assert "smb_onboarding" in started
    assert "2 of the accepted lines stored as history" in capsys.readouterr().out


def test_a_horizon_that_is_no_duration_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(_file(tmp_path, [LINES[0]])), "--horizon", "soon"]) == 2
    assert "--horizon: 'soon' is not a duration" in capsys.readouterr().err


async def test_a_year_of_history_sends_nothing_and_why_tells_each_would_be_trigger(
        store: Store, bundle: ir.Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import generate_timeline

    year = generate_timeline.generate(12, 365, 3, datetime.now(UTC) - timedelta(days=400))
    flagged = [json.dumps(obj) for obj in year[: len(year) // 2]]
    dated = [json.dumps(obj) for obj in year[len(year) // 2:]]  # old `at`s alone make them history
    # no Temporal at all: history never reaches it, so an engine that cannot start a journey will do
    app = create_app(_settings(), store, bundle, await offline_starter(store))
    async with served(app) as url:
        assert await playbook("ingest", str(_file(tmp_path, flagged)), "--backfill", "--wait", "--url", url,
                              "--token", TOKEN) == 0
        assert await playbook("ingest", str(_file(tmp_path, dated)), "--wait", "--url", url, "--token", TOKEN) == 0
    out = capsys.readouterr().out
    assert f"{len(flagged):,} of the accepted lines stored as history" in out
    assert f"{len(dated):,} of the accepted lines stored as history" in out
    assert store.journeys() == [] and store.messages() == []
    counted = [a for a in store.actions() if a.data.get("what") == "backfill"]
    assert counted and len(counted) == len({(a.account, a.playbook) for a in counted})  # one line per pair
    account = counted[0].account
    assert main(["why", account, "--database-url", store.database.url, "--playbooks", str(ROOT / "playbooks")]) == 0
    story = capsys.readouterr().out
    assert story.count("the input arrived as history") == sum(1 for a in counted if a.account == account)


def test_ingest_reads_and_sends_without_loading_the_store(tmp_path: Path) -> None:
    """`playbook ingest` only reads JSON and talks HTTP: the store (SQLAlchemy, migrations) is not
    loaded, so the client starts in a fraction of the time and the engine gets its first batch sooner."""
    events = tmp_path / "events.jsonl"
    events.write_text('{"account": "acme", "event": "login"}\nnot json\n', encoding="utf-8")
    probe = (
        "import sys\n"
        "from cli.main import main\n"
        f"status = main(['ingest', {str(events)!r}, '--url', 'http://127.0.0.1:9', '--retries', '0'])\n"
        "heavy = [m for m in ('sqlalchemy', 'alembic', 'engine.store', 'temporalio') if m in sys.modules]\n"
        "print(status, heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "1 []", result.stderr
