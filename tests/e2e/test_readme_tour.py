"""The README's tour, run as a newcomer runs it: `playbook dev`, then the tour's commands.

The tour's example (`examples/first-hour.jsonl`) is shifted to now, so the live engine acts on it
whatever day the suite runs; the month-long example, sent as it is, is history and sends nothing.
Each command's output is checked for what the README says it shows.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import ROOT, TOKEN, DevProcess, playbook_command


async def tour(stack: DevProcess, *args: str) -> str:
    """`playbook ARGS` against the running stack, as the README runs it; its standard output."""
    env = {**stack.env(), "PLAYBOOK_API_TOKEN": TOKEN, "PLAYBOOK_STATE_DIR": str(stack.state), "COLUMNS": "200"}
    done = await asyncio.to_thread(subprocess.run, [*playbook_command(), *args], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"playbook {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


async def test_the_tour_prints_what_the_readme_says(dev_stack: Callable[..., DevProcess]) -> None:
    stack = dev_stack()
    await stack.start()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "playbook ingest examples/first-hour.jsonl --shift-to-now --wait" in readme

    sent = await tour(stack, "ingest", "examples/first-hour.jsonl", "--shift-to-now", "--wait")
    assert "so that the last event happens now" in sent
    assert ": 8 accepted, 0 duplicates, 0 rejected" in sent and "history" not in sent

    tasks = await tour(stack, "tasks")
    [outreach] = [line for line in tasks.splitlines() if "Outreach: Globex" in line]
    assert "in 2 days" in outreach and "urgent" in outreach
    assert tasks.count("Check-in:") == 3

    accounts = await tour(stack, "accounts")
    assert "1 red, 3 yellow" in accounts

    why = await tour(stack, "why", "globex")
    assert "health_red" in why and "Outreach: Globex" in why

    # three welcome emails: those of accounts where it is daytime are in the sink now, the others
    # are held for their quiet hours, and the log says until when
    log = await tour(stack, "log", "--json")
    welcomes = log.count('"template": "welcome"')
    held = log.count("quiet hours in")
    assert welcomes + held == 3 and welcomes >= 1

    history = await tour(stack, "ingest", "examples/onboarding.jsonl", "--wait")
    assert "38 of the accepted lines stored as history" in history
    story = await tour(stack, "why", "techcorp")
    assert "Not started on event payment_failed" in story


def test_the_examples_exist() -> None:
    for name in ("first-hour.jsonl", "onboarding.jsonl"):
        assert (Path(ROOT) / "examples" / name).is_file()
