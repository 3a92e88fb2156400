"""`playbook why` for a field-change trigger and for a day step at a time of day: the change
that started the journey, and the step's next moment on the account's clock."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from textwrap import dedent

from dsl.lowering import lower
from dsl.parser import parse
from engine.insight.story import tell
from engine.store import Store
from simulation.simulate import simulate

SOURCE = """\
account fields:
    name: text
    timezone: text
    csm: owner
    exec_sponsor: boolean

events:
    trial_started

playbook champion_left "Executive sponsor left":
    trigger: exec_sponsor changes from true to false
    create task "Find a new executive sponsor" for csm

playbook trial_conversion "Trial conversion":
    trigger: event trial_started
    day 3 at 10:00:
        create task "Check on the trial" for csm
"""
SAM = {"email": "sam@vendor.example", "name": "Sam"}
EVENTS = [
    {"id": "w-1", "account": "lostco", "at": "2026-02-02T09:00:00Z",
     "traits": {"name": "Lostco", "timezone": "UTC", "csm": SAM, "exec_sponsor": True}},
    {"id": "w-2", "account": "lostco", "at": "2026-02-03T15:00:00Z", "traits": {"exec_sponsor": False}},
    {"id": "w-3", "account": "nyc", "at": "2026-02-02T09:00:00Z",
     "traits": {"name": "Nyc", "timezone": "America/New_York", "csm": SAM}},
    {"id": "w-4", "account": "nyc", "at": "2026-02-03T07:00:00Z", "event": "trial_started", "data": {}},
]


async def test_why_tells_the_change_that_started_the_journey_and_the_next_timed_step(
        tmp_path: Path, store: Store) -> None:
    bundle = lower([parse(dedent(SOURCE), "why.play")], {})
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in EVENTS))
    result = await simulate(bundle, events, days=3, store=store)
    lost = tell(store, bundle, "lostco", now=result.end)
    assert lost.lines[0].text == (
        'Entered champion_left ("Executive sponsor left") on exec_sponsor changes from true to false '
        "(exec_sponsor was true, now false); the trigger read exec_sponsor = false.")
    nyc = tell(store, bundle, "nyc", "trial_conversion", now=result.end)
    assert [f"{line.at.astimezone(UTC):%m-%d %H:%M} {line.text}" for line in nyc.lines][-1] == (
        "02-06 15:00 Next in trial_conversion, at 2026-02-06 15:00 UTC (2026-02-06 10:00 America/New_York): "
        'day 3 at 10:00: create task "Check on the trial" for csm.')
