"""`playbook backtest` of a trigger rewritten as a field change: `trigger: not exec_sponsor` gave
a "sponsor gone" task to an account first seen without a sponsor; `exec_sponsor changes from
true to false` gives it only where a known sponsor left, and the backtest names the task it drops."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cli.main import main
from dsl.project import compile_folder
from engine.intake.ingestion import Ingestor
from engine.store import Store

MODEL = """\
account fields:
    name: text
    csm: owner
    exec_sponsor: boolean

playbook sponsor_gone "Sponsor gone":
    trigger: {trigger}
    create task "Find a new sponsor at {{{{ account.name }}}}" for csm
"""
SAM = {"email": "sam@vendor.example", "name": "Sam"}
HISTORY: list[dict[str, Any]] = [
    {"id": "h-1", "account": "never", "at": "2026-01-05T09:00:00Z",
     "traits": {"name": "Never", "csm": SAM, "exec_sponsor": False}},
    {"id": "h-2", "account": "lost", "at": "2026-01-05T09:00:00Z",
     "traits": {"name": "Lost", "csm": SAM, "exec_sponsor": True}},
    {"id": "h-3", "account": "lost", "at": "2026-01-07T09:00:00Z", "traits": {"exec_sponsor": False}},
]


def _folder(root: Path, trigger: str) -> Path:
    root.mkdir(parents=True)
    (root / "sponsor.play").write_text(MODEL.format(trigger=trigger))
    return root


def test_the_backtest_of_a_change_trigger_drops_the_task_of_the_account_first_seen_without_a_sponsor(
        tmp_path: Path) -> None:
    base = _folder(tmp_path / "base", "not exec_sponsor")
    head = _folder(tmp_path / "head", "exec_sponsor changes from true to false")
    bundle = compile_folder(base).bundle
    assert bundle is not None
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.open(url)
    try:
        for line in HISTORY:
            result = Ingestor(store, bundle.model).ingest(json.dumps(line), now=datetime.fromisoformat(line["at"]))
            assert not result.rejected and not result.backfill
    finally:
        store.close()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["backtest", "--base", str(base), "--head", str(head), "--database-url", url,
                     "--since", "2026-01-05", "--until", "2026-01-10", "--json"])
    assert code == 0, err.getvalue()
    differences = json.loads(out.getvalue())["differences"]
    found = sorted((d["account"], d["change"], d["what"], d["at"][:16]) for d in differences)
    assert found == [
        ("lost", "changed", "enrolled", "2026-01-07T09:00"),  # the same entry, for the reason of the change
        ("never", "removed", "enrolled", "2026-01-05T09:00"),
        ("never", "removed", "journey end", "2026-01-05T09:00"),
        ("never", "removed", 'task "Find a new sponsor at Never"', "2026-01-05T09:00"),
    ]
    [lost] = [d for d in differences if d["account"] == "lost"]
    assert lost["head"]["reason"] == "exec_sponsor changes from true to false (exec_sponsor was true, now false)"
    assert {why for d in differences for why in d["why"]} == {
        "no decision differs: the trigger of sponsor_gone changed from `not exec_sponsor` to "
        "`exec_sponsor changes from true to false`"}
