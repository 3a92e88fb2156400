"""A large timeline with 1% bad lines, through `POST /v1/events` and through `playbook ingest`:
exactly the good objects are stored (rows counted in the database), every bad line is reported
with its line number and a reason of its kind, and nothing answers 500.

Bad lines come in five kinds, in equal shares: not JSON, no account, a declared trait of the
wrong type, an undeclared event, and a line over the API's 64 KB limit for one event. The API
refuses a batch holding an oversize line whole (413, naming the line: server/api/limits.py); a
client drops that line and sends the rest again, which is what `playbook ingest` does by halving.

The model declares no playbook, so routing starts no journey and the run measures ingestion.
100,000 events each way, in every run: the API answers each batch once it is stored (in one
transaction, set-based: engine/store/accounts.py) and routes in the background, so a batch costs
a fraction of a millisecond per event. The API test also waits until every stored change is routed.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cli.main import main
from dsl import ir
from engine.store import Store
from tests.bad_input.conftest import NDJSON, TOKEN, asgi_client, count_rows, drained, offline_app, served

API_EVENTS = 100_000
CLI_EVENTS = 100_000
API_BATCH = 5_000
OVERSIZE = "x" * (70 * 1024)  # over the default 64 KB for one event

# kind -> what its reason must say
REASONS = {
    "json": re.compile(r"^not JSON"),
    "account": re.compile(r"account"),
    "type": re.compile(r"seats"),
    "event": re.compile(r"logn|unknown event|not declared|undeclared", re.IGNORECASE),
    "oversize": re.compile(r"too large|limit", re.IGNORECASE),
}
KINDS = tuple(REASONS)


@dataclass
class Timeline:
    lines: list[str] = field(default_factory=list)
    good: int = 0
    bad: dict[int, str] = field(default_factory=dict)  # line number (1-based) -> kind


def _good(i: int) -> dict[str, object]:
    account = f"acct-{i % 97}"
    at = f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
    match i % 4:
        case 0:
            return {"id": f"e-{i}", "account": account, "at": at,
                    "traits": {"name": f"Account {i % 97}", "seats": i % 500, "arr": 1000 + i, "active": i % 2 == 0}}
        case 1:
            return {"id": f"e-{i}", "account": account, "at": at, "event": "login"}
        case 2:
            return {"id": f"e-{i}", "account": account, "at": at, "event": "payment_failed", "data": {"amount": i}}
        case _:
            return {"id": f"e-{i}", "account": account, "at": at, "event": "signed",
                    "traits": {"renewal_date": "2026-12-01"}}


def _bad(i: int, kind: str) -> str:
    match kind:
        case "json":
            return f'{{"id": "b-{i}", "account": "acct-1", "event": "login"'  # cut before its closing brace
        case "account":
            return json.dumps({"id": f"b-{i}", "event": "login"})
        case "type":
            return json.dumps({"id": f"b-{i}", "account": "acct-2", "traits": {"seats": "a great many"}})
        case "event":
            return json.dumps({"id": f"b-{i}", "account": "acct-3", "event": "logn"})
        case _:
            return json.dumps({"id": f"b-{i}", "account": "acct-4", "traits": {"name": OVERSIZE}})


@functools.lru_cache(maxsize=2)
def timeline(total: int) -> Timeline:
    """`total` lines; one in a hundred is bad, the kinds in turn (made once: both tests read it)."""
    result = Timeline()
    for i in range(total):
        number = i + 1
        if i % 100 == 50:
            kind = KINDS[(i // 100) % len(KINDS)]
            result.lines.append(_bad(i, kind))
            result.bad[number] = kind
        else:
            result.lines.append(json.dumps(_good(i), separators=(",", ":")))
            result.good += 1
    return result


def _check_reports(reported: dict[int, str], expected: dict[int, str]) -> None:
    assert sorted(reported) == sorted(expected), "every bad line reported once, and only the bad ones"
    wrong = {line: (expected[line], reason) for line, reason in reported.items()
             if not REASONS[expected[line]].search(reason)}
    assert not wrong, f"reasons that do not say what is wrong: {list(wrong.items())[:5]}"


async def test_the_api_stores_exactly_the_good_lines_and_reports_every_bad_one(
        store: Store, db_path: Path, minimal_bundle: ir.Bundle) -> None:
    data = timeline(API_EVENTS)
    assert len(data.bad) == API_EVENTS // 100
    assert set(data.bad.values()) == set(KINDS)
    numbered = list(enumerate(data.lines, start=1))
    reported: dict[int, str] = {}
    statuses: list[int] = []
    accepted = 0
    started = time.monotonic()
    app = await offline_app(store, minimal_bundle)
    async with asgi_client(app) as api:
        for start in range(0, len(numbered), API_BATCH):
            batch = numbered[start:start + API_BATCH]
            while batch:
                body = "\n".join(text for _, text in batch) + "\n"
                response = await api.post("/v1/events", content=body, headers=NDJSON)
                statuses.append(response.status_code)
                if response.status_code == 413:  # refused whole, listing the lines: drop them and send again
                    answer = response.json()
                    assert re.match(r"line (\d+) is", answer["detail"]), answer["detail"]
                    dropped = {item["line"] - 1 for item in answer["oversize"]}
                    for index in dropped:
                        reported[batch[index][0]] = f"line {index + 1} is too large: {answer['detail']}"
                    batch = [entry for index, entry in enumerate(batch) if index not in dropped]
                    continue
                assert response.status_code == 202, response.text
                answer = response.json()
                accepted += answer["accepted"]
                assert answer["duplicates"] == 0
                for rejection in answer["rejected"]:
                    line = batch[rejection["line"] - 1][0]
                    assert line not in reported
                    reported[line] = rejection["reason"]
                break
        elapsed = time.monotonic() - started
        await drained(app, timeout=120)
        routed = time.monotonic() - started
    print(f"\nPOST /v1/events: {API_EVENTS:,} lines in {elapsed:.1f} s "
          f"({API_EVENTS / elapsed:,.0f} lines/s), {len(statuses)} requests; all routed after {routed:.1f} s")
    assert set(statuses) <= {202, 413}, "nothing answers 500"
    assert accepted == data.good
    assert count_rows(db_path, "events") == data.good
    _check_reports(reported, data.bad)
    assert store.unrouted(limit=10) == []  # every stored change went through routing


async def test_playbook_ingest_stores_exactly_the_good_lines_and_reports_every_bad_one_by_file_line(
        store: Store, db_path: Path, minimal_bundle: ir.Bundle, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    data = timeline(CLI_EVENTS)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(data.lines) + "\n", encoding="utf-8")
    started = time.monotonic()
    async with served(await offline_app(store, minimal_bundle)) as url:
        status = await asyncio.to_thread(main, ["ingest", str(path), "--batch", "5000", "--url", url,
                                                "--token", TOKEN])
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    with capsys.disabled():
        print(f"\nplaybook ingest: {CLI_EVENTS:,} lines in {elapsed:.1f} s ({CLI_EVENTS / elapsed:,.0f} lines/s)")
    assert status == 1  # some lines were rejected
    reported: dict[int, str] = {}
    for line in captured.err.splitlines():
        match = re.match(re.escape(str(path)) + r":(\d+): (.*)", line)
        assert match, f"not a FILE:LINE: reason report: {line[:200]}"
        reported[int(match.group(1))] = match.group(2)
    _check_reports(reported, data.bad)
    assert captured.out.strip().endswith(f"{data.good:,} accepted, 0 duplicates, {len(data.bad):,} rejected")
    assert count_rows(db_path, "events") == data.good
