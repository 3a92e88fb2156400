"""`playbook backtest --format markdown`: the backtest of a changed playbook as a pull-request
comment. The change is the one of `test_backtest_cli.py`: the frequency cap raised from 3 to 4
emails per 7 days and the task threshold lowered from 10 to 5, on three accounts."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from dsl import ir
from dsl.project import compile_folder
from simulation.backtest import Window
from simulation.backtest_markdown import to_markdown
from simulation.backtest_report import Backtest, run_backtest
from tests.backtest.conftest import build_store, write_folder

SINCE, UNTIL = "2026-01-05", "2026-01-31"


def _bundle(folder: Path) -> ir.Bundle:
    bundle = compile_folder(folder).bundle
    assert bundle is not None
    return bundle


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("backtest-markdown")
    base = write_folder(root / "base", cap=3, threshold=10)
    head = write_folder(root / "head", cap=4, threshold=5)
    (root / "live").mkdir()
    url = build_store(root / "live" / "store.db", base)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["backtest", "--base", str(base), "--head", str(head), "--database-url", url,
                     "--since", SINCE, "--until", UNTIL, "--format", "markdown"])
    assert code == 0, err.getvalue()
    return {"comment": out.getvalue(), "base": base, "head": head, "url": url}


@pytest.fixture(scope="module")
async def result(backtest: dict[str, Any]) -> Backtest:
    window = Window(since=datetime(2026, 1, 5, tzinfo=UTC), until=datetime(2026, 2, 1, tzinfo=UTC))
    return await run_backtest(_bundle(backtest["base"]), _bundle(backtest["head"]), backtest["url"], window,
                              base_label=str(backtest["base"]), head_label=str(backtest["head"]))


def test_the_comment_opens_with_a_title_the_history_and_what_changed(backtest: dict[str, Any]) -> None:
    lines = backtest["comment"].splitlines()
    assert lines[0] == f"### Playbook backtest: `{backtest['head']}` (head) against `{backtest['base']}` (base)"
    assert lines[2] == ("Replayed 6 stored objects of 3 accounts from 2026-01-05 to 2026-01-31. Changed: playbook "
                        "signup (changed), the send policy (quiet hours, frequency caps).")


def test_each_playbook_has_a_table_of_before_after_and_the_change(backtest: dict[str, Any]) -> None:
    comment = backtest["comment"]
    assert "#### `signup`" in comment
    assert ("signup: the head version would have sent 3 more emails to 3 accounts and opened 1 more task for "
            "1 account from 2026-01-05 to 2026-01-31.") in comment
    table = "\n".join([
        "| | before (base) | after (head) | change |",
        "| --- | ---: | ---: | ---: |",
        "| entered | 3 | 3 | 0 |",
        "| emails | 9 | 12 | +3 |",
        "| tasks | 1 | 2 | +1 |",
        "| sends suppressed | 3 | 0 | -3 |",
        "| completed | 3 | 3 | 0 |",
    ])
    assert table in comment


def test_the_accounts_come_with_the_reasons_the_backtest_found(backtest: dict[str, Any]) -> None:
    rows = {line.split(" | ")[0].strip("| `"): line for line in backtest["comment"].splitlines()
            if line.startswith("| `")}
    assert list(rows) == ["acme", "globex", "initech"]  # acme differs twice, so it comes first
    acme = rows["acme"]
    assert 'task "Check in: Acme": opened for sam@vendor.example' in acme
    assert "branch `if tasks_completed >= 5` in head is true (tasks_completed = 7)" in acme
    assert "suppressed in base: frequency cap: at most 3 emails per 7 days" in rows["globex"]
    assert "<details>" not in backtest["comment"]


def test_the_text_report_stays_the_default(backtest: dict[str, Any]) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["backtest", "--base", str(backtest["base"]), "--head", str(backtest["head"]),
                     "--database-url", backtest["url"], "--since", SINCE, "--until", UNTIL])
    assert code == 0
    assert out.getvalue().startswith(f"Backtest of {backtest['head']} (head) against {backtest['base']} (base)\n")


def test_the_comment_is_the_markdown_of_the_backtest(backtest: dict[str, Any], result: Backtest) -> None:
    assert to_markdown(result) == backtest["comment"]


def test_accounts_past_the_first_ones_fold_into_details(result: Backtest) -> None:
    comment = to_markdown(result, accounts_shown=1)
    shown, folded = comment.split("<details>")
    assert "| `acme` |" in shown and "| `globex` |" not in shown
    assert folded.startswith("\n<summary>2 more accounts</summary>\n")
    assert "| `globex` |" in folded and "| `initech` |" in folded
    assert folded.rstrip().endswith("</details>")


def test_a_comment_too_long_for_github_leaves_the_folded_accounts_out(result: Backtest) -> None:
    comment = to_markdown(result, accounts_shown=1, max_characters=500)
    assert "<details>" not in comment and "| `globex` |" not in comment
    assert "2 more accounts are left out to keep this comment within GitHub's limit" in comment


def test_json_and_markdown_at_once_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--base", ".", "--json", "--format", "markdown"]) == 2
    assert "--json and --format markdown ask for two reports" in capsys.readouterr().err
