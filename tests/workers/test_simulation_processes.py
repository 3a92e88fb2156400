"""A simulation split over several processes gives the actions one process gives, including an
unsubscribe that reaches another account through a shared address."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cli.main import EXIT_INTERRUPTED, main
from dsl import ir
from engine.records import ActionRecord
from simulation.processes import child_processes
from simulation.shards import account_groups, auto_shards, deal
from simulation.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
CSM = {"email": "sam@vendor.example", "name": "Sam", "manager": {"email": "lee@vendor.example", "name": "Lee"}}


def _account(name: str, contact: str, day: int, zone: str = "UTC") -> list[dict[str, Any]]:
    at = f"2026-01-0{day}T09:00:00Z"
    return [
        {"id": f"{name}-t", "account": name, "at": at, "traits": {
            "name": name.title(), "segment": "smb", "timezone": zone,
            "primary_contact": {"email": contact, "name": "Pat"}, "csm": CSM}},
        {"id": f"{name}-s", "account": name, "at": at, "event": "signed", "data": {}},
    ]


def _timeline(tmp_path: Path) -> Path:
    lines: list[dict[str, Any]] = []
    zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]
    for index in range(8):
        lines += _account(f"acct-{index}", f"pat{index}@acct{index}.example", 5 + index % 3, zones[index % 4])
    # Two accounts share a contact; one of them unsubscribes it: the other's email is suppressed too.
    lines += _account("shared-a", "Kim@Shared.example", 5)
    lines += _account("shared-b", "kim@shared.example", 6)
    lines.append({"id": "unsub", "account": "shared-a", "at": "2026-01-06T12:00:00Z", "event": "unsubscribed",
                  "data": {"email": "kim@shared.example"}})
    path = tmp_path / "timeline.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _comparable(actions: list[ActionRecord]) -> list[dict[str, Any]]:
    """The contract's view of each action, without task ids (they hash the journey's run id)."""
    return [{k: v for k, v in action.to_contract().items() if k != "task"} for action in actions]


async def test_two_processes_give_the_actions_of_one_in_the_same_order(tmp_path: Path, bundle: ir.Bundle) -> None:
    events = _timeline(tmp_path)
    one = await simulate(bundle, events, days=10, processes=1)
    two = await simulate(bundle, events, days=10, processes=2)
    assert _comparable(two.actions) == _comparable(one.actions)
    sent = [(action.at, action.data["to"], action.data["subject"]) for action in one.actions if action.kind == "email"]
    assert sorted((mail.at, mail.to, mail.subject) for mail in one.outbox) == sorted(sent)
    assert [(mail.at, mail.to, mail.subject) for mail in two.outbox] == \
        [(mail.at, mail.to, mail.subject) for mail in one.outbox]
    suppressed = [a for a in two.actions if a.kind == "suppressed" and a.account == "shared-b"]
    assert suppressed and all(a.data["reason"] == "unsubscribed" for a in suppressed)


async def test_two_simulations_in_one_process_give_the_same_actions_and_the_same_mail(
        tmp_path: Path, bundle: ir.Bundle) -> None:
    events = _timeline(tmp_path)
    first = await simulate(bundle, events, days=10, processes=1)
    second = await simulate(bundle, events, days=10, processes=1)
    assert _comparable(second.actions) == _comparable(first.actions)
    assert [(mail.at, mail.to, mail.subject) for mail in second.outbox] == \
        [(mail.at, mail.to, mail.subject) for mail in first.outbox]
    assert all(mail.at <= first.end for mail in first.outbox)


def test_accounts_without_a_shared_suppressed_address_are_groups_of_their_own() -> None:
    lines = {"a": ['{"account": "a"}'], "b": ['{"account": "b"}'], "c": ['{"account": "c"}']}
    assert account_groups(lines, {}, []) == [["a"], ["b"], ["c"]]


def test_an_account_mentioning_an_unsubscribed_address_joins_the_account_that_unsubscribed_it() -> None:
    unsub = json.dumps({"account": "a", "event": "unsubscribed", "data": {"email": " Kim@Shared.example "}})
    lines = {"a": [unsub], "b": ['{"traits": {"contact": {"email": "KIM@shared.EXAMPLE"}}}'], "c": ["{}"],
             "d": [json.dumps({"event": "bounced", "data": {"email": "kim@shared.example"}})]}
    reaching = {"a": [unsub], "d": lines["d"]}
    assert account_groups(lines, reaching, []) == [["a", "b", "d"], ["c"]]


def test_a_suppressed_address_written_in_the_playbooks_keeps_every_account_together(bundle: ir.Bundle) -> None:
    name, template = sorted(bundle.templates.items())[0]
    text = template.text.model_copy(update={"source": template.text.source + "\nWrite to Help@Acme.example."})
    signed = template.model_copy(update={"text": text})
    with_address = bundle.model_copy(update={"templates": {**bundle.templates, name: signed}})
    unsub = json.dumps({"event": "unsubscribed", "data": {"email": "help@acme.example"}})
    lines = {"a": [unsub], "b": ["{}"], "c": ["{}"]}
    assert account_groups(lines, {"a": [unsub]}, [bundle]) == [["a"], ["b"], ["c"]]
    assert account_groups(lines, {"a": [unsub]}, [bundle, with_address]) == [["a", "b", "c"]]


def test_groups_are_dealt_heaviest_first_to_the_lightest_process() -> None:
    groups = [["a"], ["b", "c"], ["d"], ["e"]]
    weight = {"a": 5, "b": 4, "c": 4, "d": 3, "e": 2}
    assert deal(groups, weight, 2) == [["b", "c", "e"], ["a", "d"]]  # 8 + 2 and 5 + 3
    assert deal(groups, weight, 1) == [["a", "b", "c", "d", "e"]]
    assert deal([["a"]], weight, 4) == [["a"]]


def test_small_timelines_stay_in_one_process_and_large_ones_take_two_per_core() -> None:
    assert auto_shards(500, cores=8) == 1
    assert auto_shards(4_000, cores=8) == 2
    assert auto_shards(22_000, cores=2) == 4
    assert auto_shards(100_000, cores=16) == 8
    assert auto_shards(100_000, cores=1) == 2


def test_processes_below_one_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["simulate", str(ROOT / "playbooks"), "--events", str(_timeline(tmp_path)), "--processes", "0"])
    assert status == 2
    assert "--processes: expected a number of processes, 1 or more" in capsys.readouterr().err


def test_a_bad_processes_setting_is_reported_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYBOOK_SIMULATE_PROCESSES", "none")
    status = main(["simulate", str(ROOT / "playbooks"), "--events", str(_timeline(tmp_path))])
    err = capsys.readouterr().err
    assert status == 2
    assert "simulate_processes" in err and "Traceback" not in err


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _simulating(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    """`playbook simulate` in two processes, once its split-off process runs its test server:
    the process, the split-off process and that test server."""
    sys.path.insert(0, str(ROOT / "bench"))
    import generate_timeline

    events = tmp_path / "events.jsonl"
    generate_timeline.write(events, accounts=300, days=30, seed=7)  # a part runs for half a minute
    playbook = Path(sys.executable).parent / "playbook"
    proc = subprocess.Popen([str(playbook), "simulate", str(ROOT / "playbooks"), "--events", str(events),
                             "--processes", "2", "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    split_off, server = None, None
    deadline = time.monotonic() + 60
    while server is None and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        # a part is a child of the fork server (or, spawned, of the simulating process)
        for child in child_processes(proc.pid):
            candidates = child_processes(child) if "forkserver" in _cmdline(child) else [child]
            for candidate in candidates:
                if "spawn_main" in _cmdline(candidate) or "forkserver" in _cmdline(candidate):
                    servers = [pid for pid in child_processes(candidate) if "temporal-test-server" in _cmdline(pid)]
                    if servers:
                        split_off, server = candidate, servers[0]
    if split_off is None or server is None:
        proc.kill()
        pytest.fail("the split-off process and its test server did not start")
    return proc, split_off, server


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_sigterm_stops_a_split_simulation_with_every_test_server(tmp_path: Path) -> None:
    proc, split_off, server = _simulating(tmp_path)
    helpers = child_processes(proc.pid)  # the fork server, this process's own test server, the resource tracker
    family = [split_off, server, *helpers, *(pid for helper in helpers for pid in child_processes(helper))]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED
    assert err.decode().strip() == "playbook: interrupted"
    deadline = time.monotonic() + 10
    while any(_alive(pid) and "resource_tracker" not in _cmdline(pid) for pid in family) \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in family if _alive(pid) and "resource_tracker" not in _cmdline(pid)] == []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_simulation_leaves_no_process_of_its_split_behind(tmp_path: Path) -> None:
    proc, split_off, server = _simulating(tmp_path)
    own: list[int] = []
    try:
        own = [child for child in child_processes(proc.pid) if child != split_off and "temporal" in _cmdline(child)]
        helpers = [child for child in child_processes(proc.pid) if child != split_off and child not in own]
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in (split_off, server, *helpers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in (split_off, server, *helpers) if _alive(pid)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in own:  # the killed process's own test server: nobody was left to stop it
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
