"""`playbook tasks`, `accounts`, `score` and `log` against a real API (uvicorn on a free port) and,
for operators, against the store itself: the same answers either way, exact JSON for `--json`,
readable tables otherwise, and one-line errors when the engine cannot be reached."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.commands import view_sources
from cli.commands.tasks import relative_due
from cli.main import main
from dsl import ir
from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.semantics.scores import score_data
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.live_api import as_routed, free_port, offline_starter, served

TOKEN = "views-api-token"
ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
SAM = "sam@vendor.example"


@asynccontextmanager
async def offline_engine(store: Store, bundle: ir.Bundle) -> AsyncIterator[str]:
    """The API on `store`, with a Temporal client that reaches nothing (no journey runs)."""
    settings = Settings(api_token=TOKEN, unsubscribe_secret="views-secret", public_url="http://api.test")
    app = create_app(settings, store, bundle, await offline_starter(store), Limits(routing_timeout_seconds=2))
    async with served(app) as url:
        yield url


async def playbook(*argv: str) -> int:
    """`playbook ARGV…` run as the command line runs it, off the event loop that serves the API."""
    return await asyncio.to_thread(main, list(argv))


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


# --------------------------------------------------------------------------- known content

NOW = datetime.now(UTC).replace(microsecond=0)
LATE_DUE = NOW - timedelta(hours=3, minutes=5)
SOON_DUE = NOW + timedelta(days=2, hours=1)


def _task(store: Store, id: str, owner: str, due: datetime | None, created: datetime,
          playbook: str = "health_red") -> None:
    store.create_task(TaskRecord(id=id, account="techcorp", playbook=playbook, title=f"Call [{id}] TechCorp",
                                 owner=owner, due=due, priority="high", created_at=created),
                      key=f"key-{id}", journey=None)


def _tasks(store: Store) -> None:
    _task(store, "soon", SAM, SOON_DUE, T0)
    _task(store, "late", SAM, LATE_DUE, T0 + timedelta(hours=1))
    _task(store, "lee", "lee@vendor.example", None, T0 + timedelta(hours=2), playbook="renewal")
    _task(store, "done", SAM, None, T0 + timedelta(hours=3))
    store.complete_tasks("techcorp", T0 + timedelta(days=1), task_id="done")


def _score(store: Store, account: str, at: datetime, value: float | None, band: str | None,
           breakdown: dict[str, float] | None = None, missing: list[str] | None = None) -> None:
    """A score change as the engine records it: a history row and a `score` action."""
    state = ScoreState(name="health", value=value, band=band, breakdown=breakdown or {}, missing=missing or [])
    store.record_score(account, state, at)
    store.log_action(ActionRecord(at=at, account=account, playbook=None, kind="score", data=score_data(state)))


def _accounts(store: Store) -> None:
    for account, name, segment in (("techcorp", "TechCorp", "smb"), ("globex", "Globex", "enterprise"),
                                   ("initech", "Initech", "mid_market"), ("hooli", "Hooli", "smb")):
        store.add_change(account, T0, event=None, data={}, event_id=None, traits={"name": name, "segment": segment})
    as_routed(store)  # known content: an API started on it takes over no routing of it
    _score(store, "techcorp", T0, 69, "yellow", {"product_usage": 40, "support": 29})
    _score(store, "techcorp", T0 + timedelta(days=2), 41, "red", {"product_usage": 12, "support": 29})
    _score(store, "initech", T0, 85, "green", {"product_usage": 50, "support": 35})
    _score(store, "hooli", T0, 30, "red", {"product_usage": 0, "support": 30})
    _score(store, "globex", T0, None, None, missing=["dau_pct", "nps"])


def _log(store: Store) -> None:
    store.log_action(ActionRecord(at=T0, account="techcorp", playbook="smb_onboarding", kind="enrolled"))
    store.log_action(ActionRecord(at=T0, account="techcorp", playbook="smb_onboarding", kind="email",
                                  data={"template": "welcome", "to": "ana@techcorp.example",
                                        "subject": "Welcome to Acme, Ana"}))
    store.log_action(ActionRecord(at=T0 + timedelta(days=3), account="techcorp", playbook="smb_onboarding",
                                  kind="in_app", data={"template": "core_workflows_tutorial"}))
    store.log_action(ActionRecord(at=T0 + timedelta(days=4), account="globex", playbook="renewal", kind="task",
                                  data={"title": "Renewal call", "owner": SAM, "priority": "high",
                                        "due": T0 + timedelta(days=6)}))


def _content(store: Store) -> None:
    _accounts(store)
    _tasks(store)
    _log(store)


# --------------------------------------------------------------------------- tasks


def _task_json(id: str, due: datetime | None, created: datetime, *, overdue: bool = False, owner: str = SAM,
               playbook: str = "health_red") -> dict[str, Any]:
    def text(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    return {"id": id, "account": "techcorp", "playbook": playbook, "title": f"Call [{id}] TechCorp", "owner": owner,
            "due": text(due), "priority": "high", "status": "open", "overdue": overdue, "created_at": text(created),
            "completed_at": None, "task_type": None, "reason": None, "description": None, "checklist": [],
            "outcome": None, "bound": [], "team": None, "snoozed_until": None, "snooze_reason": None,
            "escalated_to": None, "escalated_at": None}


EXPECTED_OPEN_TASKS = [
    _task_json("late", LATE_DUE, T0 + timedelta(hours=1), overdue=True),
    _task_json("soon", SOON_DUE, T0),
    _task_json("lee", None, T0 + timedelta(hours=2), owner="lee@vendor.example", playbook="renewal"),
]


async def test_tasks_json_lists_the_open_tasks_overdue_first_in_the_shape_of_the_api(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        status = await playbook("tasks", "--json", "--url", url, "--token", TOKEN)
    out = capsys.readouterr().out
    assert status == 0
    assert out.splitlines() == [json.dumps(task) for task in EXPECTED_OPEN_TASKS]


async def test_tasks_filter_by_owner_and_overdue_and_all_shows_the_done_ones_last(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        await playbook("tasks", "--json", "--owner", "lee@vendor.example", "--url", url, "--token", TOKEN)
        lees = _lines(capsys.readouterr().out)
        await playbook("tasks", "--json", "--overdue", "--url", url, "--token", TOKEN)
        overdue = _lines(capsys.readouterr().out)
        await playbook("tasks", "--json", "--all", "--url", url, "--token", TOKEN)
        every = _lines(capsys.readouterr().out)
    assert [t["id"] for t in lees] == ["lee"]
    assert [t["id"] for t in overdue] == ["late"]
    assert [(t["id"], t["status"]) for t in every] == [("late", "open"), ("soon", "open"), ("lee", "open"),
                                                       ("done", "done")]


async def test_tasks_table_shows_due_times_relative_to_now(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        status = await playbook("tasks", "--url", url, "--token", TOKEN)
    out = capsys.readouterr().out
    assert status == 0
    rows = [line for line in out.splitlines() if "TechCorp" in line]
    assert [row.split()[1] for row in rows] == ["late", "soon", "lee"]
    assert "3 hours overdue" in rows[0]
    assert "in 2 days" in rows[1]
    assert "Call [late] TechCorp" in rows[0]  # titles are shown as written, not read as markup
    assert out.splitlines()[-1] == "3 open tasks (1 overdue)"


@pytest.mark.parametrize(("delta", "shown"), [
    (timedelta(days=2, hours=1), "in 2 days"),
    (timedelta(hours=5, minutes=10), "in 5 hours"),
    (timedelta(minutes=12, seconds=30), "in 12 minutes"),
    (timedelta(seconds=20), "due now"),
    (-timedelta(hours=3, minutes=5), "3 hours overdue"),
    (-timedelta(hours=1), "1 hour overdue"),
    (-timedelta(days=4), "4 days overdue"),
])
def test_a_due_time_reads_as_a_span_from_now(delta: timedelta, shown: str) -> None:
    assert relative_due(NOW + delta, NOW) == shown


async def test_tasks_complete_marks_the_task_done_through_the_api(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        first = await playbook("tasks", "--complete", "late", "--url", url, "--token", TOKEN)
        again = await playbook("tasks", "--complete", "late", "--url", url, "--token", TOKEN)
        unknown = await playbook("tasks", "--complete", "nope", "--url", url, "--token", TOKEN)
    captured = capsys.readouterr()
    assert (first, again, unknown) == (0, 0, 1)
    assert captured.out.splitlines() == ["late: done: Call [late] TechCorp (techcorp)",
                                         "late: already done: Call [late] TechCorp (techcorp)"]
    assert captured.err == "playbook tasks: no task 'nope'\n"
    task = store.task("late")
    assert task is not None and task.status == "done"


# --------------------------------------------------------------------------- accounts


EXPECTED_ACCOUNTS = [
    {"id": "hooli", "name": "Hooli", "segment": "smb", "score": 30.0, "band": "red", "updated": "2026-01-05T09:00:00Z"},
    {"id": "techcorp", "name": "TechCorp", "segment": "smb", "score": 41.0, "band": "red",
     "updated": "2026-01-07T09:00:00Z"},
    {"id": "initech", "name": "Initech", "segment": "mid_market", "score": 85.0, "band": "green",
     "updated": "2026-01-05T09:00:00Z"},
    {"id": "globex", "name": "Globex", "segment": "enterprise", "score": None, "band": None,
     "updated": "2026-01-05T09:00:00Z"},
]


async def test_accounts_json_lists_every_account_red_first_then_unscored(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        status = await playbook("accounts", "--json", "--url", url, "--token", TOKEN)
        everyone = capsys.readouterr().out
        await playbook("accounts", "--json", "--band", "red", "--url", url, "--token", TOKEN)
        red = _lines(capsys.readouterr().out)
    assert status == 0
    assert everyone.splitlines() == [json.dumps(account) for account in EXPECTED_ACCOUNTS]
    assert [a["id"] for a in red] == ["hooli", "techcorp"]


async def test_accounts_reads_the_api_a_page_at_a_time_and_lists_every_account_once(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _content(store)
    monkeypatch.setattr(view_sources, "ACCOUNT_PAGE", 2)
    async with offline_engine(store, bundle) as url:
        status = await playbook("accounts", "--json", "--url", url, "--token", TOKEN)
    assert status == 0
    assert capsys.readouterr().out.splitlines() == [json.dumps(account) for account in EXPECTED_ACCOUNTS]


async def test_accounts_table_shows_score_and_band_with_a_count_per_band(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        await playbook("accounts", "--url", url, "--token", TOKEN)
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("│")]
    assert [row[1] for row in rows] == ["hooli", "techcorp", "initech", "globex"]
    assert rows[1][7:11] == ["41", "│", "red", "│"]
    assert "unscored" in rows[3]
    assert out.splitlines()[-1] == "4 accounts: 2 red, 1 green, 1 unscored"


# --------------------------------------------------------------------------- score


EXPECTED_TECHCORP_SCORE = {"account": "techcorp", "scores": [{
    "name": "health", "value": 41.0, "band": "red", "breakdown": {"product_usage": 12.0, "support": 29.0},
    "missing": [], "at": "2026-01-07T09:00:00Z",
    "history": [
        {"at": "2026-01-05T09:00:00Z", "value": 69.0, "band": "yellow",
         "breakdown": {"product_usage": 40, "support": 29}, "missing": None, "changed": {}},
        {"at": "2026-01-07T09:00:00Z", "value": 41.0, "band": "red",
         "breakdown": {"product_usage": 12, "support": 29}, "missing": None,
         "changed": {"product_usage": [40, 12]}},
    ]}]}


async def test_score_json_gives_the_history_with_each_breakdown_and_what_changed(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        status = await playbook("score", "techcorp", "--json", "--url", url, "--token", TOKEN)
    out = capsys.readouterr().out
    assert status == 0
    assert out == json.dumps(EXPECTED_TECHCORP_SCORE) + "\n"


async def test_score_table_says_when_and_why_it_changed_and_what_an_unscored_account_lacks(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        await playbook("score", "techcorp", "--url", url, "--token", TOKEN)
        techcorp = capsys.readouterr().out
        await playbook("score", "globex", "--url", url, "--token", TOKEN)
        globex = capsys.readouterr().out
        unknown = await playbook("score", "nobody", "--url", url, "--token", TOKEN)
        error = capsys.readouterr().err
    assert techcorp.splitlines()[0] == "health: 41 red (since 2026-01-07 09:00 UTC)"
    changed = next(line for line in techcorp.splitlines() if "2026-01-07 09:00" in line and "│" in line)
    assert "product_usage 40 → 12" in changed
    assert "first scored" in techcorp
    assert globex.splitlines()[:2] == ["health: unscored", "  missing inputs: dau_pct, nps"]
    assert "unscored: missing dau_pct, nps" in globex
    assert (unknown, error) == (1, "playbook score: no account 'nobody'\n")


# --------------------------------------------------------------------------- log


EXPECTED_LOG = [
    '{"at": "2026-01-05T09:00:00+00:00", "account": "techcorp", "playbook": null, "kind": "score", '
    '"score": "health", "value": 69, "band": "yellow", "breakdown": {"product_usage": 40, "support": 29}}',
    '{"at": "2026-01-05T09:00:00+00:00", "account": "initech", "playbook": null, "kind": "score", '
    '"score": "health", "value": 85, "band": "green", "breakdown": {"product_usage": 50, "support": 35}}',
    '{"at": "2026-01-05T09:00:00+00:00", "account": "hooli", "playbook": null, "kind": "score", '
    '"score": "health", "value": 30, "band": "red", "breakdown": {"product_usage": 0, "support": 30}}',
    '{"at": "2026-01-05T09:00:00+00:00", "account": "globex", "playbook": null, "kind": "score", '
    '"score": "health", "value": null, "band": null, "missing": ["dau_pct", "nps"]}',
    '{"at": "2026-01-05T09:00:00+00:00", "account": "techcorp", "playbook": "smb_onboarding", "kind": "enrolled"}',
    '{"at": "2026-01-05T09:00:00+00:00", "account": "techcorp", "playbook": "smb_onboarding", "kind": "email", '
    '"template": "welcome", "to": "ana@techcorp.example", "subject": "Welcome to Acme, Ana"}',
    '{"at": "2026-01-07T09:00:00+00:00", "account": "techcorp", "playbook": null, "kind": "score", '
    '"score": "health", "value": 41, "band": "red", "breakdown": {"product_usage": 12, "support": 29}}',
    '{"at": "2026-01-08T09:00:00+00:00", "account": "techcorp", "playbook": "smb_onboarding", "kind": "in_app", '
    '"template": "core_workflows_tutorial"}',
    '{"at": "2026-01-09T09:00:00+00:00", "account": "globex", "playbook": "renewal", "kind": "task", '
    '"title": "Renewal call", "owner": "sam@vendor.example", "priority": "high", "due": "2026-01-11T09:00:00+00:00"}',
]


async def test_log_json_prints_exactly_the_contract_lines_ordered_by_time(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        status = await playbook("log", "--json", "--url", url, "--token", TOKEN)
    assert status == 0
    assert capsys.readouterr().out.splitlines() == EXPECTED_LOG


async def test_log_filters_by_account_playbook_and_since(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        await playbook("log", "--json", "--account", "techcorp", "--since", "2026-01-06", "--url", url,
                       "--token", TOKEN)
        techcorp = _lines(capsys.readouterr().out)
        await playbook("log", "--json", "--playbook", "smb_onboarding", "--since", "2026-01-05T09:00:00Z",
                       "--url", url, "--token", TOKEN)
        onboarding = _lines(capsys.readouterr().out)
    assert [(line["at"][:10], line["kind"]) for line in techcorp] == [("2026-01-07", "score"),
                                                                      ("2026-01-08", "in_app")]
    assert [line["kind"] for line in onboarding] == ["enrolled", "email", "in_app"]


async def test_log_table_says_what_each_action_was(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per action
    _content(store)
    async with offline_engine(store, bundle) as url:
        status = await playbook("log", "--url", url, "--token", TOKEN)
    out = capsys.readouterr().out
    assert status == 0
    assert "welcome to ana@techcorp.example: Welcome to Acme, Ana" in out
    assert "Renewal call for sam@vendor.example, due 2026-01-11 09:00, high" in out
    assert "health 41 (red): product_usage 12, support 29" in out
    assert "health unscored, missing dau_pct, nps" in out
    assert out.splitlines()[-1] == "9 actions"


async def test_a_since_that_is_no_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status = await playbook("log", "--since", "last tuesday", "--url", f"http://127.0.0.1:{free_port()}")
    assert status == 2
    assert capsys.readouterr().err.startswith("playbook: --since: expected an ISO date")


# --------------------------------------------------------------------------- the store, directly


@pytest.mark.parametrize("view", [
    ("tasks", "--json", "--all"),
    ("accounts", "--json"),
    ("score", "techcorp", "--json"),
    ("score", "globex", "--json"),
    ("log", "--json", "--account", "techcorp"),
])
async def test_reading_the_store_directly_answers_as_the_api_does(
        view: tuple[str, ...], store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        await playbook(*view, "--url", url, "--token", TOKEN)
        through_api = capsys.readouterr().out
    status = await playbook(*view, "--database-url", store.url)
    direct = capsys.readouterr()
    assert (status, direct.err) == (0, "")
    assert through_api and direct.out == through_api


@pytest.mark.parametrize(("recorded", "primary"), [
    ([("adoption", 12.0, "red"), ("engagement", 90.0, "green")], (None, None)),  # no health yet: unscored
    ([("adoption", 12.0, "red"), ("health", 81.0, "green"), ("zeta", 5.0, "red")], (81.0, "green")),
])
async def test_the_cli_and_the_api_give_the_same_primary_score_for_an_account_with_several_scores(
        recorded: list[tuple[str, float, str]], primary: tuple[float | None, str | None], store: Store,
        bundle: ir.Bundle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Scores of earlier playbooks stay recorded; the primary one is the deployed bundle's, read either way.
    monkeypatch.setenv("PLAYBOOK_PLAYBOOKS", str(ROOT / "playbooks"))
    store.add_change("techcorp", T0, event=None, data={}, event_id=None, traits={"name": "TechCorp"})
    as_routed(store)
    for name, value, band in recorded:
        store.record_score("techcorp", ScoreState(name=name, value=value, band=band), T0)
    answers: dict[str, str] = {}
    async with offline_engine(store, bundle) as url:
        for view in ("accounts", "score"):
            await playbook(view, *(["techcorp"] if view == "score" else []), "--json", "--url", url, "--token", TOKEN)
            answers[view] = capsys.readouterr().out
    for view in ("accounts", "score"):
        status = await playbook(view, *(["techcorp"] if view == "score" else []), "--json", "--database-url",
                                store.url)
        direct = capsys.readouterr()
        assert (status, direct.err) == (0, "")
        assert direct.out == answers[view]
    [account] = _lines(answers["accounts"])
    assert (account["score"], account["band"]) == primary
    assert [score["name"] for score in json.loads(answers["score"])["scores"]] == ["health"]


async def test_reading_the_store_with_playbooks_that_do_not_compile_says_the_scores_are_as_recorded(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "playbooks"
    broken.mkdir()
    (broken / "model.play").write_text("account model:\n  field x: nope\n", encoding="utf-8")
    monkeypatch.setenv("PLAYBOOK_PLAYBOOKS", str(broken))
    store.add_change("techcorp", T0, event=None, data={}, event_id=None, traits={"name": "TechCorp"})
    store.record_score("techcorp", ScoreState(name="health", value=81.0, band="green"), T0)
    status = await playbook("accounts", "--json", "--database-url", store.url)
    shown = capsys.readouterr()
    assert status == 0
    assert [(a["score"], a["band"]) for a in _lines(shown.out)] == [(81, "green")]
    assert shown.err == (f"playbook: the playbooks in {broken} do not compile (`playbook check {broken}` says why); "
                         "scores are shown as the store recorded them\n")


async def test_reading_a_store_that_does_not_exist_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = await playbook("accounts", "--database-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert status == 1
    assert capsys.readouterr().err.startswith("playbook accounts: no store at sqlite:///")
    assert not (tmp_path / "none.db").exists()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("command", ["tasks", "accounts", "log", "score"])
async def test_with_no_engine_listening_every_view_says_to_start_one(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    argv = [command, "techcorp"] if command == "score" else [command]
    status = await playbook(*argv, "--url", url)
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err == f"playbook {command}: no engine at {url}: start it with `playbook dev`\n"
    assert captured.out == ""


async def test_a_missing_or_wrong_token_is_explained_in_one_line(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAYBOOK_API_TOKEN", raising=False)
    async with offline_engine(store, bundle) as url:
        missing = await playbook("accounts", "--url", url)
        missing_err = capsys.readouterr().err
        wrong = await playbook("accounts", "--url", url, "--token", "not-it")
        wrong_err = capsys.readouterr().err
    assert (missing, wrong) == (1, 1)
    assert missing_err == (f"playbook accounts: the engine at {url} needs an API token: set PLAYBOOK_API_TOKEN "
                           "(or pass --token) to the token the engine was started with\n")
    assert wrong_err.startswith(f"playbook accounts: the engine at {url} did not accept the API token")


async def test_the_token_and_url_come_from_the_settings_when_not_given(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        monkeypatch.setenv("PLAYBOOK_API_TOKEN", TOKEN)
        monkeypatch.setenv("PLAYBOOK_PUBLIC_URL", url)
        status = await playbook("accounts", "--json")
    assert status == 0
    assert [a["id"] for a in _lines(capsys.readouterr().out)] == ["hooli", "techcorp", "initech", "globex"]


# --------------------------------------------------------------------------- what people read


async def test_an_unscored_account_shows_no_time_it_was_scored_at(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _content(store)
    async with offline_engine(store, bundle) as url:
        await playbook("accounts", "--url", url, "--token", TOKEN)
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("│")]
    globex = next(row for row in rows if "globex" in row)
    assert "unscored" in globex
    assert "2026-01-05" not in globex
    assert "2026-01-05 09:00" in next(row for row in rows if "initech" in row)


async def test_at_the_default_width_addresses_and_ids_are_never_cut_mid_word(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    _content(store)
    async with offline_engine(store, bundle) as url:
        await playbook("tasks", "--url", url, "--token", TOKEN)
        tasks = capsys.readouterr().out
        await playbook("log", "--url", url, "--token", TOKEN)
        log = capsys.readouterr().out
    assert tasks.count(SAM) == 2
    assert "lee@vendor.example" in tasks
    assert "smb_onboarding" in log


async def test_the_log_prints_a_decisions_reads_as_key_value_pairs_not_python(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    store.log_action(ActionRecord(at=T0, account="techcorp", playbook="smb_onboarding", kind="decided",
                                  data={"what": "quiet_hours", "detail": "send email welcome: quiet hours",
                                        "reads": {"timezone": "Europe/Paris"}}))
    async with offline_engine(store, bundle) as url:
        await playbook("log", "--url", url, "--token", TOKEN)
    out = capsys.readouterr().out
    assert "quiet_hours: send email welcome: quiet hours (read timezone=Europe/Paris)" in out
    assert "{" not in out


# --------------------------------------------------------------------------- stats


async def test_stats_against_the_running_api_print_what_the_store_says(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.commands.stats import report
    from engine.insight.analytics import playbook_stats

    _content(store)
    expected = playbook_stats(store, bundle, "smb_onboarding", None)
    async with offline_engine(store, bundle) as url:
        table_status = await playbook("stats", "smb_onboarding", "--url", url, "--token", TOKEN)
        table = capsys.readouterr()
        json_status = await playbook("stats", "--json", "--url", url, "--token", TOKEN)
        everything = json.loads(capsys.readouterr().out)
        since_status = await playbook("stats", "--since", "2026-01-06", "--json", "--url", url, "--token", TOKEN)
        since = json.loads(capsys.readouterr().out)
    assert (table_status, json_status, since_status) == (0, 0, 0), table.err
    assert table.out == report(expected)
    assert "smb_onboarding" in [playbook["id"] for playbook in everything["playbooks"]]
    assert "since" not in everything
    assert since["since"].startswith("2026-01-06T00:00:00")
