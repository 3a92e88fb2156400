"""Keywords are contextual: fields and payload keys named `plan`, `segment`, `changes`, `since`,
`at`, `from`, `to` and `becomes` check, format and run beside the triggers and steps that use
those words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dsl import ir
from dsl.checker import check
from dsl.formatter import format_source
from dsl.lowering import lower
from dsl.parser import parse
from engine.records import StartJourney
from engine.routing.router import Router
from engine.store import Store

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)

SOURCE = """\
account fields:
    plan: one of basic, gold
    segment: one of smb, enterprise
    changes: number
    since: date
    at: text
    from: boolean
    to: number
    becomes: boolean
    csm: owner

events:
    signed: at text, since number

playbook counted "Counted":
    trigger: changes changes from 1 to 2
    audience: segment is smb and from and to >= 1
    day 1 at 10:00:
        create task "Changes {{ account.changes }}" for csm

playbook gold "Gold":
    trigger: plan changes to gold
    if changes >= 1 and at == "x" and at least 1 of (from, becomes):
        create task "Gold" for csm

playbook became "Became":
    trigger: becomes becomes true
    create task "Became" for csm

playbook moved "Moved":
    trigger: since changes
    create task "Since" for csm

playbook renamed "Renamed":
    trigger: at changes to "y"
    create task "At" for csm

playbook signed "Signed":
    trigger: event signed where at == "x" and since > 2
    create task "Signed" for csm

playbook enterprise "Enterprise":
    trigger: segment becomes enterprise
    create task "Enterprise" for csm
"""


def test_fields_named_like_keywords_check_and_format_unchanged() -> None:
    assert check([parse(SOURCE, "keywords.play")], {}) == []
    assert format_source(SOURCE, "keywords.play") == SOURCE


def test_fields_named_like_keywords_run(store: Store) -> None:
    bundle: ir.Bundle = lower([parse(SOURCE, "keywords.play")], {})
    router = Router(store, bundle)
    count = 0

    def feed(when: datetime, traits: dict[str, Any], event: str | None = None,
             data: dict[str, Any] | None = None) -> list[str]:
        nonlocal count
        count += 1
        change = store.add_change("acme", when, event=event, data=data or {}, traits=traits, event_id=f"e-{count}")
        assert change is not None
        return sorted(i.playbook for i in router.route(change).intents if isinstance(i, StartJourney))

    hour = timedelta(hours=1)
    assert feed(T0, {"plan": "basic", "segment": "smb", "changes": 1, "since": "2026-01-01", "at": "x",
                     "from": True, "to": 3, "becomes": True,
                     "csm": {"email": "sam@vendor.example", "name": "Sam"}}) == ["became"]
    assert feed(T0 + hour, {"changes": 2}) == ["counted"]
    assert feed(T0 + 2 * hour, {"plan": "gold", "since": "2026-02-01"}) == ["gold", "moved"]
    assert feed(T0 + 3 * hour, {"at": "y", "segment": "enterprise"}) == ["enterprise", "renamed"]
    assert feed(T0 + 4 * hour, {}, event="signed", data={"at": "x", "since": 3}) == ["signed"]
