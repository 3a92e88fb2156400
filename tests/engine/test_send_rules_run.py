"""The send rules run by the journey workflow: an email deferred over the cap holds only itself,
tries again at its slot (a recipient already mailed is not mailed twice), and `over the cap: drop`
keeps today's behaviour; a transactional playbook's email skips the window and the cap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dsl import ir
from dsl.project import compile_folder
from engine.records import ActionRecord
from simulation.simulate import simulate

MODEL = """\
account fields:
    name: text
    timezone: text
    primary_contact: contact
    billing_contact: contact
    csm: owner

events:
    signed
    nudge

policy:
    send on weekdays 09:00 to 17:00 account time
    at most 1 email per account per 1 day
    over the cap: {over_cap}
"""

PLAYBOOKS = """\
playbook welcome:
    trigger: event signed
    send email note to primary_contact, billing_contact
    create task "Call {{ account.name }}" for csm

playbook receipt:
    trigger: event nudge
    send policy: transactional
    send email note to primary_contact
"""

ACCOUNT = {"account": "acme", "at": "2026-03-02T10:00:00Z", "traits": {
    "name": "Acme", "timezone": "UTC", "primary_contact": {"email": "ana@acme.example", "name": "Ana"},
    "billing_contact": {"email": "bill@acme.example", "name": "Bill"},
    "csm": {"email": "sam@vendor.example", "name": "Sam"}}}


async def _run(root: Path, over_cap: str, lines: list[dict[str, Any]]) -> list[ActionRecord]:
    folder = root / "playbooks"
    (folder / "templates").mkdir(parents=True)
    (folder / "model.play").write_text(MODEL.format(over_cap=over_cap))
    (folder / "journeys.play").write_text(PLAYBOOKS)
    (folder / "templates" / "note.email.jinja").write_text(
        "{% block subject %}Hello{% endblock %}\n{% block text %}Hello {{ unsubscribe_url }}{% endblock %}\n"
        '{% block html %}<p>Hello <a href="{{ unsubscribe_url }}">unsubscribe</a></p>{% endblock %}\n')
    compilation = compile_folder(folder)
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    bundle: ir.Bundle = compilation.bundle
    events = root / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in [ACCOUNT, *lines]))
    return (await simulate(bundle, events, days=7)).actions


def _sends(actions: list[ActionRecord]) -> list[tuple[str, str, str, str]]:
    return [(a.at.isoformat(), str(a.playbook), a.kind, str(a.data.get("to", a.data.get("title", ""))))
            for a in actions if a.kind in ("email", "suppressed", "deferred", "task")]


async def test_a_deferred_recipient_waits_for_the_slot_and_the_one_mailed_is_not_mailed_again(tmp_path: Path) -> None:
    actions = await _run(tmp_path, "defer", [{"account": "acme", "at": "2026-03-02T10:00:00Z", "event": "signed"}])
    assert _sends(actions) == [
        ("2026-03-02T10:00:00+00:00", "welcome", "email", "ana@acme.example"),
        ("2026-03-02T10:00:00+00:00", "welcome", "deferred", "bill@acme.example"),
        # the journey goes on: the task does not wait for the deferred email
        ("2026-03-02T10:00:00+00:00", "welcome", "task", "Call Acme"),
        # the next slot, a day after the first email, one minute later for a playbook of normal priority
        ("2026-03-03T10:01:00+00:00", "welcome", "email", "bill@acme.example"),
    ]
    deferred = next(a for a in actions if a.kind == "deferred")
    assert deferred.data["until"] == "2026-03-03T10:00:00+00:00"
    assert deferred.data["reason"] == "frequency cap: at most 1 email per 1 day"


async def test_over_the_cap_drop_suppresses_as_before(tmp_path: Path) -> None:
    actions = await _run(tmp_path, "drop", [{"account": "acme", "at": "2026-03-02T10:00:00Z", "event": "signed"}])
    assert [(kind, to) for _, _, kind, to in _sends(actions)] == [
        ("email", "ana@acme.example"), ("suppressed", "bill@acme.example"), ("task", "Call Acme")]


async def test_a_transactional_email_skips_the_window_and_the_cap(tmp_path: Path) -> None:
    saturday_night = "2026-03-07T23:00:00Z"
    actions = await _run(tmp_path, "defer", [{"account": "acme", "at": "2026-03-07T22:00:00Z", "event": "nudge"},
                                             {"account": "acme", "at": saturday_night, "event": "nudge"}])
    assert _sends(actions) == [
        ("2026-03-07T22:00:00+00:00", "receipt", "email", "ana@acme.example"),
        ("2026-03-07T23:00:00+00:00", "receipt", "email", "ana@acme.example"),
    ]
    assert not [a for a in actions if a.kind == "decided" and a.data.get("what") == "send_window"]
