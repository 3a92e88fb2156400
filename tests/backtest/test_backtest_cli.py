"""`playbook backtest` on a store with a known history and a change with a known effect: the
frequency cap raised from 3 to 4 emails per 7 days, and the task threshold lowered from 10 to 5
completed tasks. Each account gets four emails in four days, so base suppresses the fourth and
head sends it; acme (7 tasks) gets a task only in head, globex (12) in both, initech (3) in none."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from tests.backtest.conftest import build_store, write_folder

WINDOW = ["--since", "2026-01-05", "--until", "2026-01-31"]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _digest(folder: Path) -> dict[str, str]:
    """The database file, and any write-ahead log with something in it (a reader leaves an empty one)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.name == "store.db" or (p.name.endswith("-wal") and p.stat().st_size)}


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("backtest")
    base = write_folder(root / "base", cap=3, threshold=10)
    head = write_folder(root / "head", cap=4, threshold=5)
    (root / "live").mkdir()
    url = build_store(root / "live" / "store.db", base)
    before = _digest(root / "live")
    code, out, err = _run(["backtest", "--base", str(base), "--head", str(head), "--database-url", url, *WINDOW,
                           "--json"])
    assert code == 0, err
    return {"report": json.loads(out), "before": before, "after": _digest(root / "live")}


def test_the_diff_names_exactly_the_actions_head_adds_and_removes(backtest: dict[str, Any]) -> None:
    found = sorted(
        (d["account"], d["change"], d["what"], d["base"]["kind"] if d["base"] else None,
         d["head"]["kind"] if d["head"] else None, d["at"])
        for d in backtest["report"]["differences"])
    assert found == [
        ("acme", "added", 'task "Check in: Acme"', None, "task", "2026-01-09T09:00:00+00:00"),
        ("acme", "changed", "email tip_four", "suppressed", "email", "2026-01-08T09:00:00+00:00"),
        ("globex", "changed", "email tip_four", "suppressed", "email", "2026-01-09T10:00:00+00:00"),
        ("initech", "changed", "email tip_four", "suppressed", "email", "2026-01-10T11:00:00+00:00"),
    ]


def test_the_summary_leads_with_the_counts_per_playbook_and_their_distinct_accounts(backtest: dict[str, Any]) -> None:
    [playbook] = backtest["report"]["playbooks"]
    assert playbook["summary"] == ("signup: the head version would have sent 3 more emails to 3 accounts and "
                                   "opened 1 more task for 1 account from 2026-01-05 to 2026-01-31.")
    counts = playbook["counts"]
    assert counts["email"] == {"added": 3, "removed": 0, "changed": 0, "moved": 0,
                               "added_accounts": 3, "removed_accounts": 0}
    assert counts["suppressed"] == {"added": 0, "removed": 3, "changed": 0, "moved": 0,
                                    "added_accounts": 0, "removed_accounts": 3}
    assert counts["task"] == {"added": 1, "removed": 0, "changed": 0, "moved": 0,
                              "added_accounts": 1, "removed_accounts": 0}
    assert backtest["report"]["changed"] == ["playbook signup (changed)",
                                             "the send policy (quiet hours, frequency caps)"]
    assert backtest["report"]["history"] == {"objects": 6, "accounts": 3, "seeded": 0}


def test_each_difference_names_the_decision_or_the_cap_that_made_it_differ(backtest: dict[str, Any]) -> None:
    why = {(d["account"], d["what"]): d["why"] for d in backtest["report"]["differences"]}
    assert why[("acme", 'task "Check in: Acme"')] == [
        "branch `if tasks_completed >= 5` in head is true (tasks_completed = 7); "
        "`if tasks_completed >= 10` in base is false (tasks_completed = 7)"]
    assert why[("globex", "email tip_four")] == [
        "suppressed in base: frequency cap: at most 3 emails per 7 days"]


def test_the_live_store_is_only_read(backtest: dict[str, Any]) -> None:
    assert backtest["after"] == backtest["before"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
                   check=True, capture_output=True)


def test_a_git_revision_as_base_uses_that_revisions_copy_of_the_head_folder(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    folder = write_folder(repo / "cs" / "playbooks", cap=3)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "cap 3")
    (folder / "policies.play").write_text("policy:\n    at most 4 emails per account per 7 days\n")
    url = build_store(tmp_path / "store.db", folder)

    code, out, err = _run(["backtest", "--base", "main", "--head", str(folder), "--database-url", url, *WINDOW])

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"Backtest of {folder} (head) against main (")
    assert "Changed: the send policy (quiet hours, frequency caps)" in lines
    assert "signup: the head version would have sent 3 more emails to 3 accounts from 2026-01-05 to 2026-01-31." \
        in lines
    assert "    email       +3 (3 accounts)  -0 (0 accounts)" in lines


def test_a_base_that_is_neither_a_folder_nor_a_revision_is_a_usage_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    folder = write_folder(repo / "playbooks")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")

    code, _, err = _run(["backtest", "--base", "no-such-branch", "--head", str(folder),
                         "--database-url", f"sqlite:///{tmp_path / 'store.db'}"])

    assert code == 2
    assert "'no-such-branch' is neither a folder nor a git revision" in err


def test_a_base_revision_without_the_head_folder_is_a_usage_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_folder(repo / "old")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    shutil.copytree(repo / "old", repo / "new")

    code, _, err = _run(["backtest", "--base", "main", "--head", str(repo / "new"),
                         "--database-url", f"sqlite:///{tmp_path / 'store.db'}"])

    assert code == 2
    assert "main has no folder new" in err
